//! Just enough JSON-RPC to route messages: which outgoing message is a
//! request (and with which id), which incoming one answers it, and the error
//! response that fails a request the transport could not carry.
//!
//! Messages are passed on as the text they arrived as; they are only looked at.

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use codex_plugin_api::{ErrorKind, PluginError, PluginResult, RELATED_REQUEST_META};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// The header mirroring the JSON-RPC method.
pub const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// The header mirroring the tool, prompt or resource a request names.
pub const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// `value` as it may travel in a header: printable ASCII without edge
/// spaces as is, anything else (and anything that looks like the wrapper)
/// as `=?base64?...?=` of its UTF-8 bytes, as MCP 2026-07-28 asks.
pub fn header_safe(value: &str) -> String {
    let plain = value.bytes().all(|byte| (0x20..=0x7e).contains(&byte))
        && value == value.trim()
        && !(value.starts_with("=?base64?") && value.ends_with("?="));
    if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", BASE64_STANDARD.encode(value.as_bytes()))
    }
}

/// The JSON-RPC error code of a request the transport failed to deliver or
/// to get an answer for.
pub const TRANSPORT_ERROR_CODE: i64 = -32000;

/// What an outgoing message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Has a method and an id: the server answers it.
    Request,
    /// Has a method and no id.
    Notification,
    /// Answers a request of the server.
    Response,
}

/// One message from the host, with what routing needs to know about it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The text, sent as is.
    pub text: String,
    /// Request, notification or response.
    pub kind: Kind,
    /// The request id (for requests and responses).
    pub id: Option<Value>,
    /// The method (for requests and notifications).
    pub method: Option<String>,
    /// What a `tools/call`, `prompts/get` or `resources/read` names (its
    /// `params.name` or `params.uri`), for the `Mcp-Name` header.
    pub name: Option<String>,
    /// The protocol revision the message names in its own `_meta` (MCP
    /// 2026-07-28 messages carry it instead of a session having one).
    pub protocol_version: Option<String>,
}

/// Where a 2026-07-28 message names its protocol revision, inside `params._meta`.
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

/// The methods whose target is mirrored in `Mcp-Name`, and the parameter
/// holding it (MCP 2026-07-28).
const NAME_BEARING_METHODS: [(&str, &str); 3] = [
    ("tools/call", "name"),
    ("prompts/get", "name"),
    ("resources/read", "uri"),
];

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    result: Option<IgnoredAny>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

impl Outgoing {
    /// Reads `text` as one JSON-RPC message.
    pub fn parse(text: &str) -> PluginResult<Outgoing> {
        let probe: Probe = serde_json::from_str(text).map_err(|error| {
            PluginError::new(
                ErrorKind::Protocol,
                format!("cannot send a message that is not a JSON-RPC object ({error})"),
            )
        })?;
        let kind = match (&probe.method, &probe.id) {
            (Some(_), Some(_)) => Kind::Request,
            (Some(_), None) => Kind::Notification,
            (None, _) if probe.result.is_some() || probe.error.is_some() => Kind::Response,
            (None, _) => {
                return Err(PluginError::new(
                    ErrorKind::Protocol,
                    "cannot send a JSON-RPC message with neither a method nor a result or error",
                ));
            }
        };
        let name = probe.method.as_deref().and_then(|method| {
            let (_, key) = NAME_BEARING_METHODS
                .iter()
                .find(|(bearing, _)| *bearing == method)?;
            Some(probe.params.as_ref()?.get(key)?.as_str()?.to_owned())
        });
        let protocol_version = probe
            .params
            .as_ref()
            .and_then(|params| params.get("_meta")?.get(META_PROTOCOL_VERSION)?.as_str())
            .map(str::to_owned);
        Ok(Outgoing {
            text: text.to_owned(),
            kind,
            id: probe.id,
            method: probe.method,
            name,
            protocol_version,
        })
    }

    /// The `notifications/initialized` message.
    pub fn initialized_notification() -> Outgoing {
        Outgoing {
            text: r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
            kind: Kind::Notification,
            id: None,
            method: Some("notifications/initialized".to_owned()),
            name: None,
            protocol_version: None,
        }
    }

    /// The headers that mirror the message for intermediaries (MCP
    /// 2026-07-28; earlier servers ignore them): `Mcp-Method`, and `Mcp-Name`
    /// for the methods that name a tool, prompt or resource.
    pub fn routing_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = Vec::new();
        for (header, value) in [(MCP_METHOD, &self.method), (MCP_NAME, &self.name)] {
            if let Some(value) = value
                && let Ok(value) = HeaderValue::from_str(&header_safe(value))
            {
                headers.push((header, value));
            }
        }
        headers
    }

    /// Whether this is the `initialize` request.
    pub fn is_initialize(&self) -> bool {
        self.kind == Kind::Request && self.method.as_deref() == Some("initialize")
    }

    /// Whether this is `server/discover` (MCP 2026-07-28), which a client
    /// sends first to learn whether the server speaks that revision.
    pub fn is_discover(&self) -> bool {
        self.kind == Kind::Request && self.method.as_deref() == Some("server/discover")
    }

    /// Whether this is `notifications/initialized`.
    pub fn is_initialized_notification(&self) -> bool {
        self.kind == Kind::Notification
            && self.method.as_deref() == Some("notifications/initialized")
    }

    /// The id of the answer to wait for, if this is a request.
    pub fn awaited_id(&self) -> Option<&Value> {
        match self.kind {
            Kind::Request => self.id.as_ref(),
            _ => None,
        }
    }

    /// How messages name this one: `` `tools/call` `` or `a response`.
    pub fn label(&self) -> String {
        match (&self.method, &self.id) {
            (Some(method), _) => format!("`{method}`"),
            (None, Some(id)) => format!("the response to server request {id}"),
            (None, None) => "a message".to_owned(),
        }
    }

    /// A JSON-RPC error response failing this request with `message`, or
    /// `None` when this is not a request.
    pub fn error_response(&self, message: &str) -> Option<String> {
        let id = self.awaited_id()?;
        Some(
            json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": TRANSPORT_ERROR_CODE, "message": message },
            })
            .to_string(),
        )
    }
}

/// What routing needs from an incoming message.
#[derive(Debug, Default)]
pub struct Incoming {
    /// The id of a response (a message with an id and no method).
    pub response_to: Option<Value>,
}

/// Looks at `text`; `None` when it is not a JSON object.
pub fn inspect(text: &str) -> Option<Incoming> {
    let probe: Probe = serde_json::from_str(text).ok()?;
    Some(Incoming {
        response_to: match probe.method {
            None => probe.id,
            Some(_) => None,
        },
    })
}

/// `text` with `request` named as the request it came with, when it is a
/// server request or notification (see [`RELATED_REQUEST_META`]); as it
/// is otherwise (a response, or not an object with object params).
pub fn with_related_request(text: String, request: &Value) -> String {
    let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    if !message.contains_key("method") {
        return text;
    }
    let params = message
        .entry("params")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(params) = params.as_object_mut() else {
        return text;
    };
    let meta = params
        .entry("_meta")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return text;
    };
    meta.insert(RELATED_REQUEST_META.to_string(), request.clone());
    Value::Object(message).to_string()
}

/// Splits a JSON body into messages: an object is one message (its text kept
/// as is), an array is a batch. `None` when the body is not JSON.
pub fn split_batch(body: &str) -> Option<Vec<String>> {
    if body.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(body).ok()?;
        Some(items.iter().map(Value::to_string).collect())
    } else {
        serde_json::from_str::<IgnoredAny>(body).ok()?;
        Some(vec![body.to_owned()])
    }
}

/// The negotiated `protocolVersion` in an initialize response.
pub fn protocol_version(response: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct InitResponse {
        result: InitResult,
    }
    #[derive(Deserialize)]
    struct InitResult {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    serde_json::from_str::<InitResponse>(response)
        .ok()
        .map(|response| response.result.protocol_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_on_a_requests_stream_name_that_request() {
        let id = json!(7);
        let marked: Value = serde_json::from_str(&with_related_request(
            r#"{"jsonrpc":"2.0","id":"s1","method":"elicitation/create","params":{"message":"m","_meta":{"x":1}}}"#.into(),
            &id,
        ))
        .unwrap();
        assert_eq!(marked["params"]["_meta"][RELATED_REQUEST_META], 7);
        assert_eq!(marked["params"]["_meta"]["x"], 1, "other _meta keys stay");
        let bare: Value = serde_json::from_str(&with_related_request(
            r#"{"jsonrpc":"2.0","method":"notifications/message"}"#.into(),
            &id,
        ))
        .unwrap();
        assert_eq!(bare["params"]["_meta"][RELATED_REQUEST_META], 7);
        // Responses, odd params and text that is not JSON pass unchanged.
        for text in [
            r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":[1]}"#,
            "not json",
        ] {
            assert_eq!(with_related_request(text.to_string(), &id), text);
        }
    }

    fn routing(text: &str) -> Vec<(String, String)> {
        Outgoing::parse(text)
            .unwrap()
            .routing_headers()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn requests_mirror_their_method_and_what_they_name() {
        assert_eq!(
            routing(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#),
            [
                ("mcp-method".into(), "tools/call".into()),
                ("mcp-name".into(), "echo".into())
            ]
        );
        assert_eq!(
            routing(
                r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a b"}}"#
            )[1],
            ("mcp-name".into(), "file:///a b".into())
        );
        assert_eq!(
            routing(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"name":"x"}}"#),
            [("mcp-method".into(), "tools/list".into())]
        );
        assert_eq!(
            routing(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            [("mcp-method".into(), "notifications/initialized".into())]
        );
        assert!(routing(r#"{"jsonrpc":"2.0","id":4,"result":{}}"#).is_empty());
    }

    #[test]
    fn names_that_would_not_survive_a_header_are_base64_wrapped() {
        // printf '%s' 'café' | base64 → Y2Fmw6k=
        assert_eq!(header_safe("café"), "=?base64?Y2Fmw6k=?=");
        // printf '%s' ' x' | base64 → IHg=
        assert_eq!(header_safe(" x"), "=?base64?IHg=?=");
        // printf '%s' '=?base64?x?=' | base64 → PT9iYXNlNjQ/eD89
        assert_eq!(header_safe("=?base64?x?="), "=?base64?PT9iYXNlNjQ/eD89?=");
        assert_eq!(header_safe("get-sum"), "get-sum");
    }

    #[test]
    fn classifies_outgoing_messages() {
        let request = Outgoing::parse(r#"{"jsonrpc":"2.0","id":3,"method":"initialize"}"#).unwrap();
        assert_eq!(request.kind, Kind::Request);
        assert!(request.is_initialize());
        assert_eq!(request.awaited_id(), Some(&json!(3)));
        let note =
            Outgoing::parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(note.is_initialized_notification());
        assert_eq!(note.awaited_id(), None);
        let response = Outgoing::parse(r#"{"jsonrpc":"2.0","id":"s1","result":{}}"#).unwrap();
        assert_eq!(response.kind, Kind::Response);
        assert_eq!(response.label(), "the response to server request \"s1\"");
        assert_eq!(
            Outgoing::parse("[1]").unwrap_err().kind,
            ErrorKind::Protocol
        );
        assert_eq!(
            Outgoing::parse(r#"{"jsonrpc":"2.0","id":1}"#)
                .unwrap_err()
                .kind,
            ErrorKind::Protocol
        );
    }

    #[test]
    fn error_responses_carry_the_request_id() {
        let request =
            Outgoing::parse(r#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#).unwrap();
        let response: Value =
            serde_json::from_str(&request.error_response("boom").unwrap()).unwrap();
        assert_eq!(response["id"], "a");
        assert_eq!(response["error"]["code"], TRANSPORT_ERROR_CODE);
        assert_eq!(response["error"]["message"], "boom");
        assert!(
            Outgoing::initialized_notification()
                .error_response("x")
                .is_none()
        );
    }

    #[test]
    fn inspects_incoming_messages() {
        let response = inspect(r#"{"jsonrpc":"2.0","id":7,"result":{}}"#).unwrap();
        assert_eq!(response.response_to, Some(json!(7)));
        let request = inspect(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
        assert_eq!(request.response_to, None);
        assert!(inspect("not json").is_none());
    }

    #[test]
    fn splits_batches_and_keeps_single_messages_verbatim() {
        assert_eq!(split_batch(r#"{"id": 1}"#).unwrap(), [r#"{"id": 1}"#]);
        assert_eq!(
            split_batch(r#"[{"id":1},{"id":2}]"#).unwrap(),
            [r#"{"id":1}"#, r#"{"id":2}"#]
        );
        assert!(split_batch("<html>").is_none());
    }

    #[test]
    fn reads_the_negotiated_protocol_version() {
        assert_eq!(
            protocol_version(r#"{"id":1,"result":{"protocolVersion":"2025-06-18"}}"#).as_deref(),
            Some("2025-06-18")
        );
        assert_eq!(protocol_version(r#"{"id":1,"error":{"code":1}}"#), None);
    }
}
