//! `config/read`, `config/value/write`, `config/batchWrite` and
//! `configRequirements/read`: the layers with their origins and versions,
//! and edits of the user's `config.toml` only, checked against the
//! version the client read, validated before anything is written, and
//! made through `toml_edit` so comments and order survive.

use std::path::{Path, PathBuf};

use codex_config::edit::{edit_config_file, user_config_path};
use codex_config::toml_value::{table_to_json, to_json};
use codex_config::{LayerKind, LoadedConfig, McpServerConfig};
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use toml_edit::{DocumentMut, Item, Table, TableLike};

use crate::config_version::version;
use crate::protocol::{RpcError, params, to_result};
use crate::server::{Answer, Server};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigReadParams {
    /// Also list every layer with its own values.
    #[serde(default)]
    include_layers: bool,
    /// Accepted; the project layers are those of the server's directory.
    #[serde(default)]
    #[allow(dead_code)]
    cwd: Option<String>,
}

#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum MergeStrategy {
    /// The value replaces what is there (null removes the key).
    Replace,
    /// Tables are merged key by key into what is there.
    Upsert,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigValueWriteParams {
    /// A dotted key (`mcp_servers.demo.enabled`; quote a key that holds dots).
    key_path: String,
    value: Value,
    merge_strategy: MergeStrategy,
    /// Only the user's config.toml may be written; the default.
    #[serde(default)]
    file_path: Option<String>,
    /// The `sha256:` version read before; a write over a newer file is refused.
    #[serde(default)]
    expected_version: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigEdit {
    key_path: String,
    value: Value,
    merge_strategy: MergeStrategy,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigBatchWriteParams {
    /// Applied in order, all or none.
    edits: Vec<ConfigEdit>,
    #[serde(default)]
    file_path: Option<String>,
    #[serde(default)]
    expected_version: Option<String>,
    /// Accepted; the config is read anew for every request anyway.
    #[serde(default)]
    #[allow(dead_code)]
    reload_user_config: Option<bool>,
}

/// Where a layer comes from, as Codex names it.
#[derive(Serialize, JsonSchema, Clone)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub(crate) enum ConfigLayerSource {
    System {
        file: Option<String>,
    },
    /// The user's config.toml, or a profile's file over it.
    User {
        file: Option<String>,
        profile: Option<String>,
    },
    Project {
        dot_codex_folder: Option<String>,
    },
    /// `-c` and the feature flags of the command line.
    SessionFlags {},
    LegacyManagedConfigTomlFromFile {
        file: Option<String>,
    },
}

/// The layer a value comes from, and that layer's version.
#[derive(Serialize, JsonSchema)]
pub(crate) struct ConfigLayerMetadata {
    name: ConfigLayerSource,
    version: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigLayer {
    name: ConfigLayerSource,
    version: String,
    /// The layer's own values, secrets masked.
    config: Value,
    /// Why the layer is not applied (an untrusted project, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigReadResponse {
    /// The merged config, secrets masked.
    config: Value,
    /// Each leaf's dotted path and the layer that set it.
    origins: BTreeMap<String, ConfigLayerMetadata>,
    /// With `includeLayers`: the layers, the highest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    layers: Option<Vec<ConfigLayer>>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum WriteStatus {
    Ok,
    /// Written, but a layer above the user's file sets the value.
    OkOverridden,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OverriddenMetadata {
    message: String,
    overriding_layer: ConfigLayerSource,
    effective_value: Value,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigWriteResponse {
    status: WriteStatus,
    /// The file's new version.
    version: String,
    file_path: String,
    overridden_metadata: Option<OverriddenMetadata>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigRequirementsReadResponse {
    supports_independent_speed_modes: bool,
    /// Always null: this host reads no requirements file.
    requirements: Option<Value>,
}

/// Codex's `config_write_error_code` values.
#[derive(Clone, Copy)]
enum WriteErrorCode {
    LayerReadonly,
    VersionConflict,
    ValidationError,
}

impl WriteErrorCode {
    fn wire_name(self) -> &'static str {
        match self {
            WriteErrorCode::LayerReadonly => "configLayerReadonly",
            WriteErrorCode::VersionConflict => "configVersionConflict",
            WriteErrorCode::ValidationError => "configValidationError",
        }
    }
}

fn write_error(code: WriteErrorCode, message: impl Into<String>) -> RpcError {
    RpcError::invalid_request(message)
        .with_data(json!({"config_write_error_code": code.wire_name()}))
}

/// A layer's source, as Codex names it (`ConfigLayerSource`).
fn layer_source(config: &LoadedConfig, layer: &codex_config::ConfigLayer) -> ConfigLayerSource {
    let file = layer.path().map(|path| path.display().to_string());
    match layer.kind() {
        LayerKind::System => ConfigLayerSource::System { file },
        LayerKind::User => ConfigLayerSource::User {
            file,
            profile: None,
        },
        LayerKind::Profile => ConfigLayerSource::User {
            file,
            profile: config.paths().profile.clone(),
        },
        LayerKind::Project => ConfigLayerSource::Project {
            dot_codex_folder: layer
                .path()
                .and_then(Path::parent)
                .map(|dir| dir.display().to_string()),
        },
        LayerKind::SessionFlags => ConfigLayerSource::SessionFlags {},
        LayerKind::Managed => ConfigLayerSource::LegacyManagedConfigTomlFromFile { file },
        _ => ConfigLayerSource::SessionFlags {},
    }
}

/// The layers Codex lists: the system and user files whether or not they
/// exist, and every other layer that holds something or is disabled.
fn listed(layer: &codex_config::ConfigLayer) -> bool {
    matches!(layer.kind(), LayerKind::System | LayerKind::User)
        || layer.exists()
        || layer.disabled_reason().is_some()
        || !layer.table().is_empty()
}

pub fn read(server: &Server, raw: Option<Value>) -> Answer {
    let asked: ConfigReadParams = params(raw)?;
    let config = &server
        .fresh_config()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    let mut origins = BTreeMap::new();
    for layer in config.layers() {
        if layer.disabled_reason().is_some() {
            continue;
        }
        let source = layer_source(config, layer);
        let layer_version = version(layer.table());
        let mut leaves = Vec::new();
        collect_leaves(
            &mut String::new(),
            &toml::Value::Table(layer.table().clone()),
            &mut leaves,
        );
        for leaf in leaves {
            // Later layers win: they are inserted over earlier ones.
            origins.insert(
                leaf,
                ConfigLayerMetadata {
                    name: source.clone(),
                    version: layer_version.clone(),
                },
            );
        }
    }
    let layers = asked.include_layers.then(|| {
        config
            .layers()
            .iter()
            .rev()
            .filter(|layer| listed(layer))
            .map(|layer| ConfigLayer {
                name: layer_source(config, layer),
                version: version(layer.table()),
                config: table_to_json(&codex_config::mask::mask_table(layer.table())),
                disabled_reason: layer.disabled_reason().map(str::to_owned),
            })
            .collect()
    });
    let answer = ConfigReadResponse {
        config: codex_config::show::merged_json(config),
        origins,
        layers,
    };
    Ok((to_result(&answer)?, Vec::new()))
}

/// Every leaf's dotted path (`mcp_servers.demo.args.0`), as Codex keys
/// `origins`.
fn collect_leaves(prefix: &mut String, value: &toml::Value, out: &mut Vec<String>) {
    let mut descend = |prefix: &mut String, key: &str, child: &toml::Value| {
        let length = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(key);
        collect_leaves(prefix, child, out);
        prefix.truncate(length);
    };
    match value {
        toml::Value::Table(table) => {
            for (key, child) in table {
                descend(prefix, key, child);
            }
        }
        toml::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                descend(prefix, &index.to_string(), child);
            }
        }
        _ => out.push(prefix.clone()),
    }
}

pub fn value_write(server: &Server, raw: Option<Value>) -> Answer {
    let asked: ConfigValueWriteParams = params(raw)?;
    let edits = vec![ConfigEdit {
        key_path: asked.key_path,
        value: asked.value,
        merge_strategy: asked.merge_strategy,
    }];
    write(server, edits, asked.file_path, asked.expected_version)
}

pub fn batch_write(server: &Server, raw: Option<Value>) -> Answer {
    let asked: ConfigBatchWriteParams = params(raw)?;
    write(server, asked.edits, asked.file_path, asked.expected_version)
}

fn write(
    server: &Server,
    edits: Vec<ConfigEdit>,
    file_path: Option<String>,
    expected_version: Option<String>,
) -> Answer {
    let app = server.app();
    let user_file = user_config_path(&app.codex_home);
    if let Some(given) = &file_path
        && !same_file(Path::new(given), &user_file)
    {
        return Err(write_error(
            WriteErrorCode::LayerReadonly,
            "Only writes to the user config are allowed",
        ));
    }
    let mut parsed = Vec::with_capacity(edits.len());
    for edit in &edits {
        let path = parse_key_path(&edit.key_path)
            .map_err(|message| write_error(WriteErrorCode::ValidationError, message))?;
        if let Some(first) = path.first()
            && (first == "profile" || first == "profiles")
        {
            return Err(write_error(
                WriteErrorCode::ValidationError,
                format!(
                    "`{first}` is a legacy config selector and can no longer be written; use \
                     `--profile <name>` with `<name>.config.toml` instead"
                ),
            ));
        }
        parsed.push((path, edit));
    }
    let outcome = edit_config_file(&user_file, |document| {
        let current: toml::Table = toml::from_str(&document.to_string()).unwrap_or_default();
        if let Some(expected) = &expected_version
            && *expected != version(&current)
        {
            return Ok(Err(write_error(
                WriteErrorCode::VersionConflict,
                "Configuration was modified since last read. Fetch latest version and retry.",
            )));
        }
        // Edited on a copy, so a refused edit leaves the file as it was.
        let mut edited = document.clone();
        for (path, edit) in &parsed {
            if let Err(message) = apply(&mut edited, path, &edit.value, edit.merge_strategy) {
                return Ok(Err(write_error(WriteErrorCode::ValidationError, message)));
            }
        }
        let new_table: toml::Table = match toml::from_str(&edited.to_string()) {
            Ok(table) => table,
            Err(error) => {
                return Ok(Err(write_error(
                    WriteErrorCode::ValidationError,
                    format!("Invalid configuration: {}", error.message()),
                )));
            }
        };
        if let Err(message) = validate(&new_table) {
            return Ok(Err(write_error(WriteErrorCode::ValidationError, message)));
        }
        *document = edited;
        Ok(Ok(version(&new_table)))
    });
    let new_version = match outcome {
        Ok(Ok(new_version)) => new_version,
        Ok(Err(refused)) => return Err(refused),
        Err(error) => {
            return Err(write_error(
                WriteErrorCode::ValidationError,
                format!("cannot edit {}: {error}", user_file.display()),
            ));
        }
    };
    let overridden = overriding_layer(server, &parsed);
    let overridden_metadata =
        overridden.map(
            |(overriding_layer, key, effective_value)| OverriddenMetadata {
                message: format!("`{key}` is set by a layer above the user config, which wins"),
                overriding_layer,
                effective_value,
            },
        );
    let answer = ConfigWriteResponse {
        status: if overridden_metadata.is_some() {
            WriteStatus::OkOverridden
        } else {
            WriteStatus::Ok
        },
        version: new_version,
        file_path: user_file.display().to_string(),
        overridden_metadata,
    };
    Ok((to_result(&answer)?, Vec::new()))
}

/// The first edited path that a layer above the user file also sets.
fn overriding_layer(
    server: &Server,
    parsed: &[(Vec<String>, &ConfigEdit)],
) -> Option<(ConfigLayerSource, String, Value)> {
    let config = &server.fresh_config().ok()?;
    for (path, _) in parsed {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        for layer in config.layers().iter().rev() {
            if layer.kind() <= LayerKind::Profile || layer.disabled_reason().is_some() {
                continue;
            }
            if let Some(value) = lookup(layer.table(), &keys) {
                return Some((layer_source(config, layer), path.join("."), to_json(value)));
            }
        }
    }
    None
}

fn lookup<'a>(table: &'a toml::Table, keys: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = keys.split_first()?;
    let value = table.get(*first)?;
    if rest.is_empty() {
        return Some(value);
    }
    lookup(value.as_table()?, rest)
}

fn same_file(given: &Path, user_file: &Path) -> bool {
    let canonical = |path: &Path| -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    };
    given == user_file || canonical(given) == canonical(user_file)
}

/// `a.b."c.d"` → `["a", "b", "c.d"]`.
fn parse_key_path(text: &str) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Err("keyPath must not be empty".to_string());
    }
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '.' if !quoted => segments.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    if quoted {
        return Err(format!("keyPath `{text}` has an unclosed quote"));
    }
    segments.push(current);
    if segments.iter().any(String::is_empty) {
        return Err(format!("keyPath `{text}` has an empty segment"));
    }
    Ok(segments)
}

/// One edit on the document: `null` removes, `replace` sets (creating the
/// tables on the way), `upsert` merges an object into a table.
fn apply(
    document: &mut DocumentMut,
    path: &[String],
    value: &Value,
    strategy: MergeStrategy,
) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("keyPath must not be empty".to_string());
    };
    let mut table: &mut dyn TableLike = document.as_table_mut();
    for key in parents {
        if table.get(key).is_none() {
            if value.is_null() {
                return Ok(());
            }
            let mut new = Table::new();
            new.set_implicit(true);
            table.insert(key, Item::Table(new));
        }
        table = match table.get_mut(key).and_then(Item::as_table_like_mut) {
            Some(inner) => inner,
            None => return Err("cannot set value on non-table parent".to_string()),
        };
    }
    if value.is_null() {
        table.remove(last);
        return Ok(());
    }
    if strategy == MergeStrategy::Upsert
        && let (Some(existing), Value::Object(object)) =
            (table.get_mut(last).and_then(Item::as_table_like_mut), value)
    {
        merge_object(existing, object)?;
        return Ok(());
    }
    let item = to_item(value)?;
    match (table.get_mut(last), item) {
        (Some(Item::Value(existing)), Item::Value(new)) => {
            let decor = existing.decor().clone();
            *existing = new;
            *existing.decor_mut() = decor;
        }
        (_, item) => {
            table.insert(last, item);
        }
    }
    Ok(())
}

fn merge_object(table: &mut dyn TableLike, object: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in object {
        if value.is_null() {
            table.remove(key);
            continue;
        }
        if let (Some(existing), Value::Object(inner)) =
            (table.get_mut(key).and_then(Item::as_table_like_mut), value)
        {
            merge_object(existing, inner)?;
            continue;
        }
        table.insert(key, to_item(value)?);
    }
    Ok(())
}

/// A JSON value as TOML: objects as tables, `null` members left out.
fn to_item(value: &Value) -> Result<Item, String> {
    match value {
        Value::Object(object) => {
            let mut table = Table::new();
            for (key, member) in object {
                if !member.is_null() {
                    table.insert(key, to_item(member)?);
                }
            }
            Ok(Item::Table(table))
        }
        other => to_value(other).map(Item::Value),
    }
}

fn to_value(value: &Value) -> Result<toml_edit::Value, String> {
    Ok(match value {
        Value::Bool(flag) => (*flag).into(),
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => integer.into(),
            (None, Some(float)) => float.into(),
            _ => return Err(format!("the number {number} does not fit in TOML")),
        },
        Value::String(text) => text.as_str().into(),
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(to_value(item)?);
            }
            toml_edit::Value::Array(array)
        }
        Value::Object(object) => {
            let mut table = toml_edit::InlineTable::new();
            for (key, member) in object {
                if !member.is_null() {
                    table.insert(key, to_value(member)?);
                }
            }
            toml_edit::Value::InlineTable(table)
        }
        Value::Null => return Err("null is only allowed as a whole value (to remove it)".into()),
    })
}

/// Keys whose values Codex reads as strings: a value of another type would
/// make the next start fail, so it is refused before it is written.
const STRING_KEYS: &[&str] = &[
    "model",
    "review_model",
    "model_provider",
    "approval_policy",
    "sandbox_mode",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "file_opener",
    "forced_login_method",
    "forced_chatgpt_workspace_id",
    "cli_auth_credentials_store",
    "mcp_oauth_credentials_store",
    "instructions",
    "developer_instructions",
    "experimental_compact_prompt_file",
    "model_instructions_file",
    "chatgpt_base_url",
    "openai_base_url",
];

/// Checks the new user file as a whole: the keys Codex types as strings,
/// `[features]` toggles, and every `[mcp_servers.NAME]` table by the same
/// rules the host loads them with. The message says what and where.
fn validate(table: &toml::Table) -> Result<(), String> {
    for key in STRING_KEYS {
        if let Some(value) = table.get(*key)
            && !value.is_str()
        {
            return Err(format!(
                "Invalid configuration: invalid type: {}, expected a string\nin `{key}`\n",
                unexpected(value)
            ));
        }
    }
    if let Some(features) = table.get("features") {
        let Some(features) = features.as_table() else {
            return Err(format!(
                "Invalid configuration: invalid type: {}, expected a map\nin `features`\n",
                unexpected(features)
            ));
        };
        for (key, value) in features {
            if !(value.is_bool() || value.is_table()) {
                return Err(format!(
                    "Invalid configuration: invalid type: {}, expected a boolean\nin `features.{key}`\n",
                    unexpected(value)
                ));
            }
        }
    }
    if let Some(servers) = table.get("mcp_servers") {
        let Some(servers) = servers.as_table() else {
            return Err(format!(
                "Invalid configuration: invalid type: {}, expected a map\nin `mcp_servers`\n",
                unexpected(servers)
            ));
        };
        for (name, server) in servers {
            McpServerConfig::from_toml(name, server)
                .map_err(|error| format!("Invalid configuration: {error}"))?;
        }
    }
    Ok(())
}

/// A value as serde's "invalid type" messages name it (Codex's wording).
fn unexpected(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => format!("string {text:?}"),
        toml::Value::Integer(integer) => format!("integer `{integer}`"),
        toml::Value::Float(float) => format!("floating point `{float}`"),
        toml::Value::Boolean(flag) => format!("boolean `{flag}`"),
        toml::Value::Datetime(_) => "datetime".to_string(),
        toml::Value::Array(_) => "sequence".to_string(),
        toml::Value::Table(_) => "map".to_string(),
    }
}

/// No requirements file is read by this host: `requirements` is null.
pub fn requirements_read() -> Answer {
    let answer = ConfigRequirementsReadResponse {
        supports_independent_speed_modes: true,
        requirements: None,
    };
    Ok((to_result(&answer)?, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_split_on_unquoted_dots() {
        assert_eq!(
            parse_key_path(r#"mcp_servers."a.b".command"#).unwrap(),
            vec!["mcp_servers", "a.b", "command"]
        );
        assert!(parse_key_path("").is_err());
        assert!(parse_key_path("a..b").is_err());
        assert!(parse_key_path(r#"a."b"#).is_err());
    }

    #[test]
    fn edits_keep_comments_and_merge() {
        let mut document: DocumentMut = "# top\nmodel = \"o3\" # mine\n[tui]\nx = 1\n"
            .parse()
            .unwrap();
        apply(
            &mut document,
            &["model".into()],
            &json!("o4"),
            MergeStrategy::Replace,
        )
        .unwrap();
        apply(
            &mut document,
            &["tui".into()],
            &json!({"y": 2}),
            MergeStrategy::Upsert,
        )
        .unwrap();
        let text = document.to_string();
        assert!(text.contains("model = \"o4\" # mine"), "{text}");
        assert!(text.contains("# top"), "{text}");
        assert!(text.contains("x = 1") && text.contains("y = 2"), "{text}");
        let error = apply(
            &mut document,
            &["model".into(), "sub".into()],
            &json!(1),
            MergeStrategy::Replace,
        )
        .unwrap_err();
        assert_eq!(error, "cannot set value on non-table parent");
    }

    #[test]
    fn a_mistyped_value_is_refused_with_its_path() {
        let table: toml::Table = toml::from_str("model = 5").unwrap();
        assert_eq!(
            validate(&table).unwrap_err(),
            "Invalid configuration: invalid type: integer `5`, expected a string\nin `model`\n"
        );
    }
}
