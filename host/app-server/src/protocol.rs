//! The wire: JSON-RPC 2.0 without the `"jsonrpc"` field, one JSON object
//! per line. What a line is (request, notification, response), the error
//! object, and Codex's error codes.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The request was not valid for this server: before `initialize`, a
/// second `initialize`, params of the wrong shape, an unknown method.
/// Codex answers all of these with -32600.
pub const INVALID_REQUEST: i64 = -32600;
/// A method Codex has and this host does not serve (the agent's).
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// Too many requests at once; the client should retry.
pub const OVERLOADED: i64 = -32001;

/// An error answer: `{code, message, data?}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(rename = "JSONRPCErrorError")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError::new(INTERNAL_ERROR, message)
    }

    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }
}

/// A request id: a string or an integer, sent back as it came.
pub type RequestId = Value;

/// The schema of [`RequestId`]: it stays a [`Value`] so that it goes back
/// exactly as it came.
pub struct RequestIdSchema;

impl JsonSchema for RequestIdSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RequestId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [{"type": "string"}, {"type": "integer", "format": "int64"}]
        })
    }
}

/// A successful answer.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "JSONRPCResponse")]
pub struct ResultMessage<'a> {
    #[schemars(with = "RequestIdSchema")]
    pub id: &'a RequestId,
    pub result: Value,
}

/// An answer that says the request failed.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "JSONRPCError")]
pub struct ErrorMessage<'a> {
    #[schemars(with = "RequestIdSchema")]
    pub id: &'a RequestId,
    pub error: &'a RpcError,
}

/// A message that expects no answer; ours carry the time they were sent.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "JSONRPCNotification")]
pub struct NotificationMessage<'a> {
    pub method: &'a str,
    /// A client's `initialized` has none.
    #[serde(default)]
    pub params: Value,
    /// Unix time in milliseconds when the server sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emitted_at_ms: Option<u64>,
}

/// A request that expects an answer; `params` may be left out.
#[derive(JsonSchema)]
#[schemars(rename = "JSONRPCRequest")]
#[allow(dead_code)]
pub struct RequestMessage {
    #[schemars(with = "RequestIdSchema")]
    id: RequestId,
    method: String,
    params: Option<Value>,
}

/// Any message on the wire, either way.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "JSONRPCMessage")]
#[allow(dead_code)]
pub enum AnyMessage {
    Request(RequestMessage),
    Notification(NotificationMessage<'static>),
    Result(ResultMessage<'static>),
    Error(ErrorMessage<'static>),
}

/// A typed result as the JSON that goes into the answer.
pub fn to_result<T: Serialize>(result: &T) -> Result<Value, RpcError> {
    serde_json::to_value(result)
        .map_err(|error| RpcError::internal(format!("cannot encode the result: {error}")))
}

/// One incoming line, classified.
#[derive(Debug)]
pub enum Incoming {
    Request {
        id: RequestId,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
    },
    /// An answer to a request of ours; this server sends none, so it is
    /// only logged.
    Response,
}

/// Classifies one line. The error is what the log says about a line that
/// is not a JSON-RPC message (Codex answers such lines with nothing).
pub fn parse_line(line: &[u8]) -> Result<Incoming, String> {
    let value: Value = serde_json::from_slice(line).map_err(|error| {
        format!(
            "not a JSON message (line 1, column {}): {}",
            error.column(),
            error_category(&error)
        )
    })?;
    let Value::Object(mut object) = value else {
        return Err("a message must be a JSON object".to_string());
    };
    let id = object.remove("id");
    let method = object.remove("method");
    let params = object.remove("params");
    match (id, method) {
        (Some(id), Some(Value::String(method))) if is_request_id(&id) => {
            Ok(Incoming::Request { id, method, params })
        }
        (Some(_), Some(Value::String(_))) => {
            Err("a request id must be a string or an integer".to_string())
        }
        (None, Some(Value::String(method))) => Ok(Incoming::Notification { method }),
        (Some(_), None) if object.contains_key("result") || object.contains_key("error") => {
            Ok(Incoming::Response)
        }
        _ => Err("neither a request, a notification nor a response".to_string()),
    }
}

/// What kind of JSON problem it was, without quoting the input (a line may
/// hold a secret).
fn error_category(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "the line ends inside a value",
    }
}

fn is_request_id(id: &Value) -> bool {
    id.is_string() || id.is_i64() || id.is_u64()
}

/// The params of a request as `T`, an absent `params` read as `{}`. A
/// mismatch is Codex's -32600 "Invalid request: ..." with serde's reason.
pub fn params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, RpcError> {
    let params = match params {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(params) => params,
    };
    serde_json::from_value(params)
        .map_err(|error| RpcError::invalid_request(format!("Invalid request: {error}")))
}

pub fn response(id: &RequestId, result: Value) -> Value {
    message(&ResultMessage { id, result })
}

pub fn error_response(id: &RequestId, error: &RpcError) -> Value {
    message(&ErrorMessage { id, error })
}

/// A notification, stamped with the time it was sent as Codex stamps its own.
pub fn notification(method: &str, params: impl Serialize) -> Value {
    let emitted = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0);
    let params = serde_json::to_value(params).unwrap_or(Value::Null);
    message(&NotificationMessage {
        method,
        params,
        emitted_at_ms: Some(emitted),
    })
}

/// Messages hold only strings, numbers and JSON values, which always encode.
fn message(message: &impl Serialize) -> Value {
    serde_json::to_value(message).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_are_classified() {
        assert!(matches!(
            parse_line(br#"{"id":1,"method":"account/read"}"#),
            Ok(Incoming::Request { method, params: None, .. }) if method == "account/read"
        ));
        assert!(matches!(
            parse_line(br#"{"method":"initialized"}"#),
            Ok(Incoming::Notification { method }) if method == "initialized"
        ));
        assert!(matches!(
            parse_line(br#"{"id":1,"result":{}}"#),
            Ok(Incoming::Response)
        ));
        assert!(parse_line(b"not json").is_err());
        assert!(parse_line(b"[1,2]").is_err());
        assert!(parse_line(br#"{"id":14}"#).is_err());
        assert!(parse_line(br#"{"id":1.5,"method":"x"}"#).is_err());
    }

    #[test]
    fn a_broken_line_is_described_without_its_text() {
        let error = parse_line(br#"{"apiKey": "sk-secret-value"#).unwrap_err();
        assert!(!error.contains("sk-secret"), "{error}");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct GetAccountParams {
        #[serde(default, rename = "refreshToken")]
        refresh_token: bool,
    }

    #[test]
    fn wrong_params_are_codexs_invalid_request() {
        let error = params::<GetAccountParams>(Some(json!(5))).unwrap_err();
        assert_eq!(error.code, INVALID_REQUEST);
        assert_eq!(
            error.message,
            "Invalid request: invalid type: integer `5`, expected struct GetAccountParams"
        );
        assert!(params::<GetAccountParams>(None).is_ok());
    }
}
