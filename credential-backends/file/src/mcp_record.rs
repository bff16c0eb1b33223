//! MCP OAuth tokens in their two shapes: the JSON Codex keeps in the keyring
//! (what the host hands to `store` and gets from `load`) and the entry Codex
//! writes to `.credentials.json`.
//!
//! Both carry Codex 0.169's top-level `issuer` (the authorization server),
//! and may carry one more top-level field, `oauth`: an object with what
//! older versions of this host's oauth plugin kept for refresh and
//! revocation (endpoints, client credentials). Codex drops fields it does
//! not know when it rewrites the file, so the plugin now keeps that beside
//! the record (`MCP_CLIENT_SERVICE`); this backend still passes `oauth`
//! through as it is, in both directions.
//!
//! Both are read field by field from a `serde_json::Value` rather than through
//! derived deserializers: serde's messages quote offending values, and a
//! value here may be a token. Problems are described by field name only.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The keyring form:
/// `{"server_name","url","client_id","token_response":{...},"expires_at"?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyringRecord {
    pub server_name: String,
    pub url: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub access_token: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub expires_at: Option<u64>,
    pub oauth: Option<Map<String, Value>>,
}

/// One entry of `.credentials.json`:
/// `{"server_name","server_url","client_id","access_token","expires_at","refresh_token","scopes"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub server_name: String,
    pub server_url: String,
    pub issuer: Option<String>,
    pub client_id: String,
    pub access_token: String,
    pub expires_at: Option<u64>,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub oauth: Option<Map<String, Value>>,
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl KeyringRecord {
    /// Parses the keyring JSON. The error describes what is wrong by field
    /// name and position only, never by value.
    pub fn parse(secret: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(secret).map_err(|error| {
            format!(
                "it is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            )
        })?;
        let Value::Object(top) = value else {
            return Err(format!("it is {}, not a JSON object", kind_of(&value)));
        };
        let Some(Value::Object(response)) = top.get("token_response") else {
            return Err("field `token_response` is missing or not an object".to_owned());
        };
        required_str(response, "token_response.", "token_type")?;
        Ok(KeyringRecord {
            server_name: required_str(&top, "", "server_name")?,
            url: required_str(&top, "", "url")?,
            issuer: optional_str(&top, "", "issuer")?,
            client_id: required_str(&top, "", "client_id")?,
            access_token: required_str(response, "token_response.", "access_token")?,
            expires_in: optional_u64(response, "token_response.", "expires_in")?,
            refresh_token: optional_str(response, "token_response.", "refresh_token")?,
            scope: optional_str(response, "token_response.", "scope")?,
            expires_at: optional_u64(&top, "", "expires_at")?,
            oauth: optional_object(&top, "oauth")?,
        })
    }

    /// The `.credentials.json` entry Codex would write for these tokens. An
    /// absent `expires_at` is computed from `expires_in`, as Codex does.
    pub fn to_file_entry(&self, now_ms: u64) -> FileEntry {
        let expires_at = self.expires_at.or_else(|| {
            self.expires_in
                .map(|seconds| now_ms.saturating_add(seconds.saturating_mul(1000)))
        });
        let scopes = self
            .scope
            .as_deref()
            .map(|scope| {
                scope
                    .split(' ')
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        FileEntry {
            server_name: self.server_name.clone(),
            server_url: self.url.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            access_token: self.access_token.clone(),
            expires_at,
            refresh_token: self.refresh_token.clone(),
            scopes,
            oauth: self.oauth.clone(),
        }
    }
}

impl FileEntry {
    /// Interprets one value of the `.credentials.json` map, accepting what
    /// Codex's reader accepts (optional fields missing or `null`).
    pub fn parse(value: &Value) -> Result<Self, String> {
        let Value::Object(entry) = value else {
            return Err(format!("it is {}, not a JSON object", kind_of(value)));
        };
        let scopes = match entry.get("scopes") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| "field `scopes` has an item that is not a string".to_owned())?,
            Some(_) => return Err("field `scopes` is not an array of strings".to_owned()),
        };
        Ok(FileEntry {
            server_name: required_str(entry, "", "server_name")?,
            server_url: required_str(entry, "", "server_url")?,
            issuer: optional_str(entry, "", "issuer")?,
            client_id: required_str(entry, "", "client_id")?,
            access_token: required_str(entry, "", "access_token")?,
            expires_at: optional_u64(entry, "", "expires_at")?,
            refresh_token: optional_str(entry, "", "refresh_token")?,
            scopes,
            oauth: optional_object(entry, "oauth")?,
        })
    }

    /// The JSON Codex writes for this entry: every field present, absent
    /// options as `null`, in Codex's field order.
    pub fn to_value(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("server_name".into(), self.server_name.clone().into());
        entry.insert("server_url".into(), self.server_url.clone().into());
        if let Some(issuer) = &self.issuer {
            entry.insert("issuer".into(), issuer.clone().into());
        }
        entry.insert("client_id".into(), self.client_id.clone().into());
        entry.insert("access_token".into(), self.access_token.clone().into());
        entry.insert(
            "expires_at".into(),
            self.expires_at.map_or(Value::Null, Value::from),
        );
        entry.insert(
            "refresh_token".into(),
            self.refresh_token.clone().map_or(Value::Null, Value::from),
        );
        entry.insert(
            "scopes".into(),
            Value::Array(self.scopes.iter().cloned().map(Value::from).collect()),
        );
        if let Some(oauth) = &self.oauth {
            entry.insert("oauth".into(), Value::Object(oauth.clone()));
        }
        Value::Object(entry)
    }

    /// The keyring JSON for this entry, as Codex rebuilds it when reading the
    /// file: token type Bearer, scopes joined by spaces (omitted when none),
    /// `expires_in` the whole seconds left (omitted once expired).
    pub fn to_keyring_json(&self, now_ms: u64) -> String {
        let mut response = Map::new();
        response.insert("access_token".into(), self.access_token.clone().into());
        response.insert("token_type".into(), "Bearer".into());
        if let Some(expires_at) = self.expires_at
            && expires_at > now_ms
        {
            response.insert("expires_in".into(), ((expires_at - now_ms) / 1000).into());
        }
        if let Some(refresh_token) = &self.refresh_token {
            response.insert("refresh_token".into(), refresh_token.clone().into());
        }
        if !self.scopes.is_empty() {
            response.insert("scope".into(), self.scopes.join(" ").into());
        }
        let mut top = Map::new();
        top.insert("server_name".into(), self.server_name.clone().into());
        top.insert("url".into(), self.server_url.clone().into());
        if let Some(issuer) = &self.issuer {
            top.insert("issuer".into(), issuer.clone().into());
        }
        top.insert("client_id".into(), self.client_id.clone().into());
        top.insert("token_response".into(), Value::Object(response));
        if let Some(expires_at) = self.expires_at {
            top.insert("expires_at".into(), expires_at.into());
        }
        if let Some(oauth) = &self.oauth {
            top.insert("oauth".into(), Value::Object(oauth.clone()));
        }
        Value::Object(top).to_string()
    }
}

/// The optional object field `name` of `map`.
fn optional_object(
    map: &Map<String, Value>,
    name: &str,
) -> Result<Option<Map<String, Value>>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object.clone())),
        Some(other) => Err(format!(
            "field `{name}` is {}, not a JSON object",
            kind_of(other)
        )),
    }
}

/// The server name and URL of a map value, when it has them, even if the
/// rest of it cannot be interpreted.
pub(crate) fn name_and_url(value: &Value) -> Option<(&str, &str)> {
    Some((
        value.get("server_name")?.as_str()?,
        value.get("server_url")?.as_str()?,
    ))
}

/// "an array", "a string", ... for messages that must not quote the value.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required_str(map: &Map<String, Value>, prefix: &str, field: &str) -> Result<String, String> {
    match map.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!(
            "field `{prefix}{field}` is {}, not a string",
            kind_of(other)
        )),
        None => Err(format!("field `{prefix}{field}` is missing")),
    }
}

fn optional_str(
    map: &Map<String, Value>,
    prefix: &str,
    field: &str,
) -> Result<Option<String>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(format!(
            "field `{prefix}{field}` is {}, not a string",
            kind_of(other)
        )),
    }
}

fn optional_u64(
    map: &Map<String, Value>,
    prefix: &str,
    field: &str,
) -> Result<Option<u64>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("field `{prefix}{field}` is not a whole number of 0 or more")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;

    fn keyring_json() -> Value {
        json!({
            "server_name": "docs",
            "url": "https://example.com/mcp",
            "client_id": "client-1",
            "token_response": {
                "access_token": "at-secret",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": "rt-secret",
                "scope": "read write"
            },
            "expires_at": NOW + 3_600_000
        })
    }

    #[test]
    fn keyring_record_becomes_codex_file_entry() {
        let record = KeyringRecord::parse(&keyring_json().to_string()).unwrap();
        let entry = record.to_file_entry(NOW);
        assert_eq!(
            entry.to_value(),
            json!({
                "server_name": "docs",
                "server_url": "https://example.com/mcp",
                "client_id": "client-1",
                "access_token": "at-secret",
                "expires_at": NOW + 3_600_000,
                "refresh_token": "rt-secret",
                "scopes": ["read", "write"]
            })
        );
    }

    #[test]
    fn the_oauth_field_survives_both_conversions_and_must_be_an_object() {
        let oauth = json!({"issuer": "https://as.example", "client_secret": "cs-secret"});
        let mut secret = keyring_json();
        secret["oauth"] = oauth.clone();
        let entry = KeyringRecord::parse(&secret.to_string())
            .unwrap()
            .to_file_entry(NOW);
        assert_eq!(entry.to_value()["oauth"], oauth);
        let reread = FileEntry::parse(&entry.to_value()).unwrap();
        let back: Value = serde_json::from_str(&reread.to_keyring_json(NOW)).unwrap();
        assert_eq!(back["oauth"], oauth);

        secret["oauth"] = json!("cs-secret");
        let error = KeyringRecord::parse(&secret.to_string()).unwrap_err();
        assert_eq!(error, "field `oauth` is a string, not a JSON object");
        assert!(!error.contains("cs-secret"));
    }

    #[test]
    fn expires_at_is_computed_from_expires_in_when_absent() {
        let mut secret = keyring_json();
        secret.as_object_mut().unwrap().remove("expires_at");
        let record = KeyringRecord::parse(&secret.to_string()).unwrap();
        assert_eq!(record.to_file_entry(NOW).expires_at, Some(NOW + 3_600_000));
    }

    #[test]
    fn file_entry_becomes_keyring_json_with_remaining_seconds() {
        let entry = FileEntry::parse(&json!({
            "server_name": "docs",
            "server_url": "https://example.com/mcp",
            "client_id": "client-1",
            "access_token": "at-secret",
            "expires_at": NOW + 90_500,
            "refresh_token": null,
            "scopes": ["a", "b"]
        }))
        .unwrap();
        let keyring: Value = serde_json::from_str(&entry.to_keyring_json(NOW)).unwrap();
        assert_eq!(
            keyring,
            json!({
                "server_name": "docs",
                "url": "https://example.com/mcp",
                "client_id": "client-1",
                "token_response": {
                    "access_token": "at-secret",
                    "token_type": "Bearer",
                    "expires_in": 90,
                    "scope": "a b"
                },
                "expires_at": NOW + 90_500
            })
        );
    }

    #[test]
    fn expired_and_scopeless_entries_omit_expires_in_and_scope() {
        let entry = FileEntry::parse(&json!({
            "server_name": "docs",
            "server_url": "https://example.com/mcp",
            "client_id": "c",
            "access_token": "t",
            "expires_at": NOW - 1
        }))
        .unwrap();
        let keyring: Value = serde_json::from_str(&entry.to_keyring_json(NOW)).unwrap();
        let response = keyring["token_response"].as_object().unwrap();
        assert!(!response.contains_key("expires_in"));
        assert!(!response.contains_key("scope"));
        assert!(!response.contains_key("refresh_token"));
        assert_eq!(keyring["expires_at"], json!(NOW - 1));
    }

    #[test]
    fn parse_errors_name_the_field_and_never_the_value() {
        let mut secret = keyring_json();
        secret["token_response"]["access_token"] = json!(12345);
        let error = KeyringRecord::parse(&secret.to_string()).unwrap_err();
        assert_eq!(
            error,
            "field `token_response.access_token` is a number, not a string"
        );

        let error = KeyringRecord::parse("{\"server_name\": \"at-secret").unwrap_err();
        assert!(
            error.starts_with("it is not valid JSON (line 1, column"),
            "{error}"
        );
        assert!(!error.contains("at-secret"));

        let error = FileEntry::parse(&json!({"server_name": "x", "scopes": "a"})).unwrap_err();
        assert_eq!(error, "field `scopes` is not an array of strings");
    }
}
