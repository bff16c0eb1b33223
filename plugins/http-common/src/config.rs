//! The part of a `[mcp_servers.NAME]` table the HTTP transports read, and the
//! headers it turns into.
//!
//! Header values and tokens are secrets: no message here ever contains one.
//! Errors name the key, the header or the environment variable instead.

use std::ffi::OsString;

use codex_plugin_api::{PluginError, PluginResult};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

/// How to reach one HTTP MCP server.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The MCP endpoint.
    pub url: Url,
    /// The environment variable holding a bearer token, read at connect time.
    pub bearer_token_env_var: Option<String>,
    /// Literal headers (name, value).
    pub http_headers: Vec<(String, String)>,
    /// Headers whose values come from environment variables (name, variable).
    pub env_http_headers: Vec<(String, String)>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.http_headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpConfig")
            .field("url", &display_url(&self.url))
            .field("bearer_token_env_var", &self.bearer_token_env_var)
            .field("http_headers", &header_names)
            .field("env_http_headers", &self.env_http_headers)
            .finish()
    }
}

/// The headers sent on every request, with what is needed to keep them out of
/// messages.
pub struct ResolvedHeaders {
    /// Configured headers plus `Authorization`, every value marked sensitive.
    pub headers: HeaderMap,
    /// The secret values, to scrub from server text before it is shown.
    pub secrets: Vec<String>,
    /// The variable the bearer token came from, for 401 messages.
    pub bearer_from: Option<String>,
    /// `env_http_headers` entries left out because their variable is unset or
    /// empty: (header, variable).
    pub omitted: Vec<(String, String)>,
}

impl HttpConfig {
    /// Reads the server `server`'s table from `config_json`.
    pub fn parse(server: &str, config_json: &str) -> PluginResult<HttpConfig> {
        let base = format!("mcp_servers.{server}");
        let value: Value = serde_json::from_str(config_json).map_err(|error| {
            PluginError::invalid_config(format!(
                "{base}: the server table handed to the HTTP transport is not valid JSON ({error})"
            ))
        })?;
        let Value::Object(table) = value else {
            return Err(PluginError::invalid_config(format!(
                "{base}: expected a table, found {}",
                type_name(&value)
            )));
        };
        Ok(HttpConfig {
            url: url(&base, &table)?,
            bearer_token_env_var: bearer_token_env_var(&base, &table)?,
            http_headers: header_table(&base, &table, "http_headers", "header values")?,
            env_http_headers: header_table(
                &base,
                &table,
                "env_http_headers",
                "environment variable names",
            )?,
        })
    }

    /// Builds the headers from the configuration and the environment `env`,
    /// as Codex does: the bearer variable must be set and non-empty; an
    /// `env_http_headers` variable that is unset or empty leaves its header out.
    pub fn resolve_headers(
        &self,
        server: &str,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> PluginResult<ResolvedHeaders> {
        let base = format!("mcp_servers.{server}");
        let mut resolved = ResolvedHeaders {
            headers: HeaderMap::new(),
            secrets: Vec::new(),
            bearer_from: None,
            omitted: Vec::new(),
        };
        for (name, value) in &self.http_headers {
            let key = format!("{base}.http_headers.{name}");
            let header = header_name(&format!("{base}.http_headers"), name)?;
            let value = header_value(value).ok_or_else(|| {
                PluginError::invalid_config(format!(
                    "{key}: the value cannot be sent in an HTTP header (it holds a line break or another control character)"
                ))
            })?;
            resolved.insert(header, value);
        }
        for (name, variable) in &self.env_http_headers {
            let header = header_name(&format!("{base}.env_http_headers"), name)?;
            let text = match env(variable) {
                None => {
                    resolved.omitted.push((name.clone(), variable.clone()));
                    continue;
                }
                Some(text) => text.into_string().map_err(|_| {
                    PluginError::invalid_config(format!(
                        "Environment variable {variable} for MCP server '{server}' contains invalid Unicode"
                    ))
                })?,
            };
            if text.is_empty() {
                resolved.omitted.push((name.clone(), variable.clone()));
                continue;
            }
            let value = header_value(&text).ok_or_else(|| {
                PluginError::invalid_config(format!(
                    "Environment variable {variable} for MCP server '{server}' (header `{name}` in {base}.env_http_headers) holds a value that cannot be sent in an HTTP header"
                ))
            })?;
            resolved.insert(header, value);
        }
        if let Some(variable) = &self.bearer_token_env_var {
            let token = match env(variable) {
                None => {
                    return Err(PluginError::invalid_config(format!(
                        "Environment variable {variable} for MCP server '{server}' is not set"
                    )));
                }
                Some(token) => token.into_string().map_err(|_| {
                    PluginError::invalid_config(format!(
                        "Environment variable {variable} for MCP server '{server}' contains invalid Unicode"
                    ))
                })?,
            };
            if token.is_empty() {
                return Err(PluginError::invalid_config(format!(
                    "Environment variable {variable} for MCP server '{server}' is empty"
                )));
            }
            let value = header_value(&format!("Bearer {token}")).ok_or_else(|| {
                PluginError::invalid_config(format!(
                    "Environment variable {variable} for MCP server '{server}' holds a token that cannot be sent in an HTTP header"
                ))
            })?;
            resolved.secrets.push(token);
            resolved.insert(AUTHORIZATION, value);
            resolved.bearer_from = Some(variable.clone());
        }
        Ok(resolved)
    }
}

impl ResolvedHeaders {
    fn insert(&mut self, name: HeaderName, mut value: HeaderValue) {
        if let Ok(text) = value.to_str()
            && !text.is_empty()
        {
            self.secrets.push(text.to_owned());
        }
        value.set_sensitive(true);
        // `insert` replaces: a header is sent once even if two entries name it.
        self.headers.insert(name, value);
    }
}

/// `url` without user info, query or fragment: what messages show, since a
/// token is sometimes put in a query string.
pub fn display_url(url: &Url) -> String {
    let mut shown = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        shown.push_str(host);
    }
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?…");
    }
    shown
}

fn url(base: &str, table: &Map<String, Value>) -> PluginResult<Url> {
    let key = format!("{base}.url");
    let text = match table.get("url") {
        None | Some(Value::Null) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: missing; set it to the server's MCP endpoint, e.g. http://127.0.0.1:8080/mcp"
            )));
        }
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: expected a string, found {}",
                type_name(other)
            )));
        }
    };
    let url = Url::parse(text.trim()).map_err(|error| {
        PluginError::invalid_config(format!(
            "{key}: not a valid URL ({error}); expected an absolute http:// or https:// URL"
        ))
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(PluginError::invalid_config(format!(
                "{key}: unsupported scheme `{other}`; expected http or https"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(PluginError::invalid_config(format!(
            "{key}: the URL has no host; expected e.g. http://127.0.0.1:8080/mcp"
        )));
    }
    Ok(url)
}

fn bearer_token_env_var(base: &str, table: &Map<String, Value>) -> PluginResult<Option<String>> {
    let key = format!("{base}.bearer_token_env_var");
    match table.get("bearer_token_env_var") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) if name.is_empty() || name.contains(['=', '\0']) => {
            Err(PluginError::invalid_config(format!(
                "{key}: `{}` is not a valid environment variable name",
                name.escape_debug()
            )))
        }
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(other) => Err(PluginError::invalid_config(format!(
            "{key}: expected the name of an environment variable, found {}",
            type_name(other)
        ))),
    }
}

/// A `{ name = "string" }` table, in its configured order.
fn header_table(
    base: &str,
    table: &Map<String, Value>,
    field: &str,
    what: &str,
) -> PluginResult<Vec<(String, String)>> {
    let key = format!("{base}.{field}");
    let entries = match table.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: expected a table of {what}, found {}",
                type_name(other)
            )));
        }
    };
    let mut pairs = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        header_name(&key, name)?;
        match value {
            Value::String(text) => pairs.push((name.clone(), text.clone())),
            other => {
                return Err(PluginError::invalid_config(format!(
                    "{key}.{name}: expected a string, found {}",
                    type_name(other)
                )));
            }
        }
    }
    Ok(pairs)
}

fn header_name(key: &str, name: &str) -> PluginResult<HeaderName> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        PluginError::invalid_config(format!(
            "{key}: `{}` is not a valid HTTP header name",
            name.escape_debug()
        ))
    })
}

fn header_value(text: &str) -> Option<HeaderValue> {
    // Visible ASCII, spaces and tabs only: `HeaderValue` also takes bytes
    // above 0x7f, which servers read in different encodings.
    if text
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        HeaderValue::from_str(text).ok()
    } else {
        None
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_plugin_api::ErrorKind;
    use std::collections::HashMap;

    fn parse(json: &str) -> PluginResult<HttpConfig> {
        HttpConfig::parse("web", json)
    }

    fn error(json: &str) -> String {
        let error = parse(json).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig, "{error}");
        error.message.into_string()
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).map(OsString::from)
    }

    #[test]
    fn reads_every_field_and_ignores_the_rest() {
        let config = parse(
            r#"{"url":"http://127.0.0.1:9/mcp","bearer_token_env_var":"TOK",
                "http_headers":{"X-A":"1"},"env_http_headers":{"X-B":"B_VAR"},
                "startup_timeout_sec":3,"transport":"sse"}"#,
        )
        .unwrap();
        assert_eq!(config.url.as_str(), "http://127.0.0.1:9/mcp");
        assert_eq!(config.bearer_token_env_var.as_deref(), Some("TOK"));
        assert_eq!(config.http_headers, [("X-A".into(), "1".into())]);
        assert_eq!(config.env_http_headers, [("X-B".into(), "B_VAR".into())]);
    }

    #[test]
    fn bad_fields_name_the_key_and_never_the_value() {
        assert_eq!(
            error(r#"{"command":"x"}"#),
            "mcp_servers.web.url: missing; set it to the server's MCP endpoint, e.g. http://127.0.0.1:8080/mcp"
        );
        assert_eq!(
            error(r#"{"url":"ws://h/x"}"#),
            "mcp_servers.web.url: unsupported scheme `ws`; expected http or https"
        );
        assert!(
            error(r#"{"url":"/relative"}"#).starts_with("mcp_servers.web.url: not a valid URL")
        );
        assert_eq!(
            error(r#"{"url":"http://h/","http_headers":{"X":1}}"#),
            "mcp_servers.web.http_headers.X: expected a string, found a number"
        );
        assert_eq!(
            error(r#"{"url":"http://h/","http_headers":{"Bad Name":"v"}}"#),
            "mcp_servers.web.http_headers: `Bad Name` is not a valid HTTP header name"
        );
        assert_eq!(
            error(r#"{"url":"http://h/","bearer_token_env_var":5}"#),
            "mcp_servers.web.bearer_token_env_var: expected the name of an environment variable, found a number"
        );
        let config = parse(r#"{"url":"http://h/","http_headers":{"X":"sec\nret"}}"#).unwrap();
        let message = config
            .resolve_headers("web", env(&[]))
            .err()
            .unwrap()
            .message
            .into_string();
        assert_eq!(
            message,
            "mcp_servers.web.http_headers.X: the value cannot be sent in an HTTP header (it holds a line break or another control character)"
        );
        assert!(!message.contains("sec"));
    }

    #[test]
    fn the_bearer_variable_must_be_set_and_non_empty() {
        let config = parse(r#"{"url":"http://h/","bearer_token_env_var":"TOK"}"#).unwrap();
        let unset = config.resolve_headers("web", env(&[])).err().unwrap();
        assert_eq!(unset.kind, ErrorKind::InvalidConfig);
        assert_eq!(
            unset.message.as_str(),
            "Environment variable TOK for MCP server 'web' is not set"
        );
        let empty = config
            .resolve_headers("web", env(&[("TOK", "")]))
            .err()
            .unwrap();
        assert_eq!(
            empty.message.as_str(),
            "Environment variable TOK for MCP server 'web' is empty"
        );
        let resolved = config
            .resolve_headers("web", env(&[("TOK", "s3cret")]))
            .unwrap();
        let value = resolved.headers.get(AUTHORIZATION).unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer s3cret");
        assert!(value.is_sensitive());
        assert_eq!(resolved.bearer_from.as_deref(), Some("TOK"));
        assert!(resolved.secrets.contains(&"s3cret".to_string()));
    }

    #[test]
    fn env_headers_with_unset_or_empty_variables_are_left_out() {
        let config = parse(
            r#"{"url":"http://h/","http_headers":{"X-Static":"a"},
                "env_http_headers":{"X-Set":"SET","X-Empty":"EMPTY","X-Unset":"UNSET"}}"#,
        )
        .unwrap();
        let resolved = config
            .resolve_headers("web", env(&[("SET", "v"), ("EMPTY", "")]))
            .unwrap();
        assert_eq!(resolved.headers.get("x-static").unwrap(), "a");
        assert_eq!(resolved.headers.get("x-set").unwrap(), "v");
        assert!(resolved.headers.get("x-empty").is_none());
        assert!(resolved.headers.get("x-unset").is_none());
        assert_eq!(
            resolved.omitted,
            [
                ("X-Empty".to_string(), "EMPTY".to_string()),
                ("X-Unset".to_string(), "UNSET".to_string())
            ]
        );
    }

    #[test]
    fn the_displayed_url_hides_credentials_and_queries() {
        let url = Url::parse("https://user:pw@example.com:8443/mcp?token=abc").unwrap();
        assert_eq!(display_url(&url), "https://example.com:8443/mcp?…");
        let config = HttpConfig {
            url,
            bearer_token_env_var: None,
            http_headers: vec![("X".into(), "secret-value".into())],
            env_http_headers: vec![],
        };
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("secret-value") && !debug.contains("abc"),
            "{debug}"
        );
    }
}
