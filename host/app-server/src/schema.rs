//! `codex app-server generate-json-schema`: a draft-07 JSON Schema for
//! every method this server answers and every notification it sends, in
//! the layout and under the file names of Codex 0.169's bundle (`v1/`,
//! `v2/`, the unions at the top), derived from the serde types the
//! handlers read and answer with, so the schema cannot drift from the code.
//!
//! Fields Codex marks experimental carry `x-experimental` in their schema;
//! they are left out unless `--experimental` asks for them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use crate::protocol::{
    AnyMessage, ErrorMessage, NotificationMessage, RequestIdSchema, RequestMessage, ResultMessage,
    RpcError,
};
use crate::{
    account, auth_manager, command_exec, config_rpc, features_rpc, mcp_oauth_login, mcp_rpc, server,
};

/// The marker of a field that only `--experimental` describes.
const EXPERIMENTAL: &str = "x-experimental";

/// A type that has a schema: its name and how to make it.
#[derive(Clone, Copy)]
struct Type {
    name: fn() -> Cow<'static, str>,
    /// The schema as a file of its own, its definitions inside.
    root: fn(SchemaGenerator) -> Schema,
    /// A reference to it, its definitions added to the generator.
    reference: fn(&mut SchemaGenerator) -> Schema,
}

fn of<T: JsonSchema>() -> Type {
    Type {
        name: T::schema_name,
        root: |generator| generator.into_root_schema_for::<T>(),
        reference: |generator| generator.subschema_for::<T>(),
    }
}

/// Codex's directory for the type: `v1/` for the first protocol's, `v2/`
/// for the rest.
#[derive(Clone, Copy, PartialEq)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn dir(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// A method this server answers.
struct Method {
    name: &'static str,
    version: Version,
    /// None: the method takes no params (null or none).
    params: Option<Type>,
    result: Type,
    /// Whether its types get files: Codex's bundle no longer has files
    /// for `getAuthStatus`, which it still answers; it is in the union only.
    files: bool,
}

fn method(name: &'static str, params: Option<Type>, result: Type) -> Method {
    Method {
        name,
        version: Version::V2,
        params,
        result,
        files: true,
    }
}

/// Every method of `server::dispatch`, and `initialize`.
fn methods() -> Vec<Method> {
    vec![
        Method {
            version: Version::V1,
            ..method(
                "initialize",
                Some(of::<server::InitializeParams>()),
                of::<server::InitializeResponse>(),
            )
        },
        method(
            "account/read",
            Some(of::<account::GetAccountParams>()),
            of::<account::GetAccountResponse>(),
        ),
        method(
            "account/login/start",
            Some(of::<account::LoginAccountParams>()),
            of::<account::LoginAccountResponse>(),
        ),
        method(
            "account/login/cancel",
            Some(of::<account::CancelLoginAccountParams>()),
            of::<account::CancelLoginAccountResponse>(),
        ),
        method(
            "account/logout",
            None,
            of::<account::LogoutAccountResponse>(),
        ),
        Method {
            version: Version::V1,
            files: false,
            ..method(
                "getAuthStatus",
                Some(of::<account::GetAuthStatusParams>()),
                of::<account::GetAuthStatusResponse<'static>>(),
            )
        },
        method(
            "config/read",
            Some(of::<config_rpc::ConfigReadParams>()),
            of::<config_rpc::ConfigReadResponse>(),
        ),
        method(
            "config/value/write",
            Some(of::<config_rpc::ConfigValueWriteParams>()),
            of::<config_rpc::ConfigWriteResponse>(),
        ),
        method(
            "config/batchWrite",
            Some(of::<config_rpc::ConfigBatchWriteParams>()),
            of::<config_rpc::ConfigWriteResponse>(),
        ),
        method(
            "configRequirements/read",
            None,
            of::<config_rpc::ConfigRequirementsReadResponse>(),
        ),
        method(
            "experimentalFeature/list",
            Some(of::<features_rpc::ExperimentalFeatureListParams>()),
            of::<features_rpc::ExperimentalFeatureListResponse>(),
        ),
        method(
            "experimentalFeature/enablement/set",
            Some(of::<features_rpc::ExperimentalFeatureEnablementSetParams>()),
            of::<features_rpc::ExperimentalFeatureEnablementSetResponse>(),
        ),
        method(
            "mcpServerStatus/list",
            Some(of::<mcp_rpc::ListMcpServerStatusParams>()),
            of::<mcp_rpc::ListMcpServerStatusResponse>(),
        ),
        method(
            "config/mcpServer/reload",
            None,
            of::<mcp_rpc::McpServerRefreshResponse>(),
        ),
        method(
            "mcpServer/tool/call",
            Some(of::<mcp_rpc::McpServerToolCallParams>()),
            of::<mcp_rpc::McpServerToolCallResponse>(),
        ),
        method(
            "mcpServer/resource/read",
            Some(of::<mcp_rpc::McpResourceReadParams>()),
            of::<mcp_rpc::McpResourceReadResponse>(),
        ),
        method(
            "mcpServer/oauth/login",
            Some(of::<mcp_oauth_login::McpServerOauthLoginParams>()),
            of::<mcp_oauth_login::McpServerOauthLoginResponse>(),
        ),
        method(
            "command/exec",
            Some(of::<command_exec::CommandExecParams>()),
            of::<command_exec::CommandExecResponse>(),
        ),
        method(
            "command/exec/write",
            Some(of::<command_exec::CommandExecWriteParams>()),
            of::<command_exec::CommandExecWriteResponse>(),
        ),
        method(
            "command/exec/terminate",
            Some(of::<command_exec::CommandExecTerminateParams>()),
            of::<command_exec::CommandExecTerminateResponse>(),
        ),
        method(
            "command/exec/resize",
            Some(of::<command_exec::CommandExecResizeParams>()),
            of::<command_exec::CommandExecResizeResponse>(),
        ),
    ]
}

/// Every notification this server sends, and the type of its params.
fn notifications() -> Vec<(&'static str, Type)> {
    vec![
        (
            "account/updated",
            of::<auth_manager::AccountUpdatedNotification>(),
        ),
        (
            "account/login/completed",
            of::<account::AccountLoginCompletedNotification>(),
        ),
        (
            "mcpServer/startupStatus/updated",
            of::<mcp_rpc::McpServerStatusUpdatedNotification>(),
        ),
        (
            "mcpServer/oauthLogin/completed",
            of::<mcp_oauth_login::McpServerOauthLoginCompletedNotification>(),
        ),
        (
            "command/exec/outputDelta",
            of::<command_exec::CommandExecOutputDeltaNotification>(),
        ),
    ]
}

/// The wire types, at the top of the bundle.
fn wire_types() -> Vec<Type> {
    vec![
        of::<AnyMessage>(),
        of::<RequestMessage>(),
        of::<ResultMessage<'static>>(),
        of::<NotificationMessage<'static>>(),
        of::<ErrorMessage<'static>>(),
        of::<RpcError>(),
        of::<RequestIdSchema>(),
    ]
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft07().into_generator()
}

/// `account/read` → `Account/read`, as Codex titles a union's variants.
fn variant_title(method: &str) -> String {
    let mut chars = method.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A union of every request or notification: one variant per method,
/// the params by reference into the union's own definitions.
fn union(
    title: &str,
    description: &str,
    variants: Vec<Value>,
    mut generator: SchemaGenerator,
) -> Value {
    let definitions = generator.take_definitions(true);
    json!({
        "$schema": draft07(),
        "title": title,
        "description": description,
        "oneOf": variants,
        "definitions": definitions,
    })
}

fn draft07() -> &'static str {
    "http://json-schema.org/draft-07/schema#"
}

fn client_request(methods: &[Method]) -> Value {
    let mut generator = generator();
    let id = generator.subschema_for::<RequestIdSchema>();
    let variants = methods
        .iter()
        .map(|method| {
            let title = variant_title(method.name);
            // A method without params takes null or none, as Codex's.
            let (params, required) = match method.params {
                Some(params) => (
                    (params.reference)(&mut generator),
                    json!(["id", "method", "params"]),
                ),
                None => (
                    schemars::json_schema!({"type": "null"}),
                    json!(["id", "method"]),
                ),
            };
            json!({
                "type": "object",
                "title": format!("{title}Request"),
                "properties": {
                    "id": id,
                    "method": {
                        "type": "string",
                        "enum": [method.name],
                        "title": format!("{title}RequestMethod"),
                    },
                    "params": params,
                },
                "required": required,
            })
        })
        .collect();
    union(
        "ClientRequest",
        "A request from the client: the methods this server answers.",
        variants,
        generator,
    )
}

fn server_notification(notifications: &[(&str, Type)]) -> Value {
    let mut generator = generator();
    let variants = notifications
        .iter()
        .map(|(name, params)| {
            let title = variant_title(name);
            json!({
                "type": "object",
                "title": format!("{title}Notification"),
                "properties": {
                    "method": {
                        "type": "string",
                        "enum": [name],
                        "title": format!("{title}NotificationMethod"),
                    },
                    "params": (params.reference)(&mut generator),
                },
                "required": ["method", "params"],
            })
        })
        .collect();
    let mut union = union(
        "ServerNotification",
        "A notification from this server to the client.",
        variants,
        generator,
    );
    union["properties"] = json!({
        "emittedAtMs": {
            "description": "Unix time in milliseconds when the server sent it.",
            "type": "integer",
            "format": "uint64",
            "minimum": 0,
        }
    });
    union
}

/// The one notification a client sends.
fn client_notification() -> Value {
    json!({
        "$schema": draft07(),
        "title": "ClientNotification",
        "description": "A notification from the client; `initialized` follows the answer to `initialize`.",
        "oneOf": [{
            "type": "object",
            "title": "InitializedNotification",
            "properties": {
                "method": {"type": "string", "enum": ["initialized"], "title": "InitializedNotificationMethod"},
            },
            "required": ["method"],
        }],
    })
}

/// Every object's keys in order, as Codex writes its files, so that the
/// files diff well against its bundle and between runs.
fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(object).into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            for (key, mut child) in entries {
                sort_keys(&mut child);
                object.insert(key, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Leaves out (or, with `experimental`, keeps) the fields marked
/// experimental, and drops the marker.
fn filter_experimental(value: &mut Value, experimental: bool) {
    match value {
        Value::Object(object) => {
            object.remove(EXPERIMENTAL);
            if !experimental && let Some(Value::Object(properties)) = object.get_mut("properties") {
                let left_out: Vec<String> = properties
                    .iter()
                    .filter(|(_, schema)| schema.get(EXPERIMENTAL) == Some(&Value::Bool(true)))
                    .map(|(name, _)| name.clone())
                    .collect();
                for name in &left_out {
                    properties.remove(name);
                }
                if let Some(Value::Array(required)) = object.get_mut("required") {
                    required.retain(|name| !left_out.iter().any(|out| name == out.as_str()));
                }
            }
            for child in object.values_mut() {
                filter_experimental(child, experimental);
            }
        }
        Value::Array(items) => {
            for item in items {
                filter_experimental(item, experimental);
            }
        }
        _ => {}
    }
}

/// The bundle: each file's path under the output directory, and its schema.
pub fn bundle(experimental: bool) -> BTreeMap<PathBuf, Value> {
    let methods = methods();
    let notifications = notifications();
    let mut files = BTreeMap::new();
    let mut add = |dir: &str, schema_type: Type| {
        let path = Path::new(dir).join(format!("{}.json", (schema_type.name)()));
        files
            .entry(path)
            .or_insert_with(|| (schema_type.root)(generator()).to_value());
    };
    for method in methods.iter().filter(|method| method.files) {
        if let Some(params) = method.params {
            add(method.version.dir(), params);
        }
        add(method.version.dir(), method.result);
    }
    for (_, params) in &notifications {
        add(Version::V2.dir(), *params);
    }
    for wire in wire_types() {
        add("", wire);
    }
    files.insert(
        PathBuf::from("ClientRequest.json"),
        client_request(&methods),
    );
    files.insert(
        PathBuf::from("ServerNotification.json"),
        server_notification(&notifications),
    );
    files.insert(
        PathBuf::from("ClientNotification.json"),
        client_notification(),
    );
    for schema in files.values_mut() {
        filter_experimental(schema, experimental);
    }
    let (all, v2) = bundles(&files);
    files.insert(PathBuf::from("codex_app_server_protocol.schemas.json"), all);
    files.insert(
        PathBuf::from("codex_app_server_protocol.v2.schemas.json"),
        v2,
    );
    for schema in files.values_mut() {
        sort_keys(schema);
    }
    files
}

/// A file's schema and its definitions, each by name.
fn named_parts(schema: &Value) -> Vec<(String, Value)> {
    let mut root = schema.clone();
    let mut parts = Vec::new();
    if let Some(object) = root.as_object_mut() {
        object.remove("$schema");
        if let Some(Value::Object(definitions)) = object.remove("definitions") {
            parts.extend(definitions);
        }
    }
    if let Some(title) = schema["title"].as_str() {
        parts.push((title.to_owned(), root));
    }
    parts
}

/// Points every `#/definitions/NAME` of a v2 type at `#/definitions/v2/NAME`.
fn nest_refs(value: &mut Value, v2: &Map<String, Value>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref")
                && let Some(name) = reference.strip_prefix("#/definitions/")
                && v2.contains_key(name)
            {
                *reference = format!("#/definitions/v2/{name}");
            }
            object.values_mut().for_each(|child| nest_refs(child, v2));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| nest_refs(item, v2)),
        _ => {}
    }
}

/// Codex's two bundles of every type in one file: the v2 types side by
/// side, and everything with the v2 types under `definitions.v2`.
fn bundles(files: &BTreeMap<PathBuf, Value>) -> (Value, Value) {
    let in_v2 = |path: &Path| path.starts_with(Version::V2.dir());
    let mut v2 = Map::new();
    for (_, schema) in files.iter().filter(|(path, _)| in_v2(path)) {
        v2.extend(named_parts(schema));
    }
    let mut all = Map::new();
    for (_, schema) in files.iter().filter(|(path, _)| !in_v2(path)) {
        for (name, part) in named_parts(schema) {
            if !v2.contains_key(&name) {
                all.insert(name, part);
            }
        }
    }
    let mut nested = Value::Object(v2.clone());
    nest_refs(&mut nested, &v2);
    let mut all = Value::Object(all);
    nest_refs(&mut all, &v2);
    all["v2"] = nested;
    let bundle = |title: &str, definitions: Value| {
        json!({
            "$schema": draft07(),
            "title": title,
            "type": "object",
            "definitions": definitions,
        })
    };
    (
        bundle("CodexAppServerProtocol", all),
        bundle("CodexAppServerProtocolV2", Value::Object(v2)),
    )
}

/// Why the bundle could not be written: the path and the system's reason.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub action: &'static str,
    pub source: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for WriteError {}

/// Writes the bundle under `out` (created if missing; files of the same
/// name replaced). Returns how many files were written.
pub fn write_bundle(out: &Path, experimental: bool) -> Result<usize, WriteError> {
    let files = bundle(experimental);
    for (relative, schema) in &files {
        let path = out.join(relative);
        let dir = path.parent().unwrap_or(out);
        std::fs::create_dir_all(dir).map_err(|source| WriteError {
            path: dir.to_path_buf(),
            action: "create the directory",
            source,
        })?;
        let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| WriteError {
            path: path.clone(),
            action: "write",
            source,
        })?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_a_titled_draft07_schema() {
        let files = bundle(false);
        assert!(files.contains_key(Path::new("v1/InitializeParams.json")));
        assert!(files.contains_key(Path::new("v2/ConfigWriteResponse.json")));
        assert!(!files.contains_key(Path::new("v1/GetAuthStatusParams.json")));
        for (path, schema) in files.iter().filter(|(path, _)| !is_bundle(path)) {
            assert_eq!(schema["$schema"], draft07(), "{}", path.display());
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or_default();
            assert_eq!(schema["title"], stem, "{}", path.display());
        }
    }

    fn is_bundle(path: &Path) -> bool {
        path.to_string_lossy().ends_with(".schemas.json")
    }

    /// Every reference of a bundle resolves inside it.
    #[test]
    fn the_bundles_hold_every_definition_they_refer_to() {
        let files = bundle(false);
        for name in [
            "codex_app_server_protocol.schemas.json",
            "codex_app_server_protocol.v2.schemas.json",
        ] {
            let bundle = &files[Path::new(name)];
            let text = bundle.to_string();
            for reference in text.split("\"$ref\":\"#/").skip(1) {
                let pointer = reference.split('"').next().unwrap_or_default();
                assert!(
                    bundle.pointer(&format!("/{pointer}")).is_some(),
                    "{name}: #/{pointer} is not in the bundle"
                );
            }
        }
        let all = &files[Path::new("codex_app_server_protocol.schemas.json")];
        assert!(all["definitions"]["ClientRequest"].is_object());
        assert!(all["definitions"]["InitializeParams"].is_object());
        assert!(all["definitions"]["v2"]["ConfigReadParams"].is_object());
        assert!(all["definitions"].get("ConfigReadParams").is_none());
    }

    #[test]
    fn experimental_fields_only_when_asked() {
        let plain = &bundle(false)[Path::new("v2/GetAccountResponse.json")];
        assert!(
            plain["properties"].get("workspaceRouting").is_none(),
            "{plain:#}"
        );
        assert!(plain["properties"].get("account").is_some());
        let experimental = &bundle(true)[Path::new("v2/GetAccountResponse.json")];
        assert!(experimental["properties"].get("workspaceRouting").is_some());
        assert!(!experimental.to_string().contains(EXPERIMENTAL));
    }

    #[test]
    fn the_request_union_lists_the_served_methods() {
        let union = client_request(&methods());
        let names: Vec<&str> = union["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|variant| variant["properties"]["method"]["enum"][0].as_str())
            .collect();
        assert!(names.contains(&"command/exec/resize"));
        assert!(names.contains(&"getAuthStatus"));
        assert!(!names.contains(&"thread/start"));
        assert!(union["definitions"].get("GetAuthStatusParams").is_some());
    }
}
