//! The part of a `[mcp_servers.NAME]` table the stdio transport reads.
//!
//! The host has already checked which fields may appear together; this module
//! checks the types of the fields it uses and reports a wrong one by its full
//! key path, so the user knows which line of `config.toml` to fix. Values are
//! never echoed: `env` values are often secrets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use codex_plugin_api::{PluginError, PluginResult};
use codex_sandbox::SandboxPolicy;
use serde_json::{Map, Value};

/// How to start one stdio MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioConfig {
    /// The program to run (a path, or a name looked up on the child's `PATH`).
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Literal environment variables; they win over everything inherited.
    pub env: BTreeMap<String, String>,
    /// Names of parent environment variables to pass through.
    pub env_vars: Vec<String>,
    /// The working directory; `None` inherits the host's.
    pub cwd: Option<PathBuf>,
    /// The sandbox to start it in (`sandbox`, `sandbox_writable_roots`,
    /// `sandbox_network`); `None` runs it unsandboxed, as Codex does.
    pub sandbox: Option<SandboxPolicy>,
}

impl StdioConfig {
    /// Reads the server `server`'s table from `config_json`.
    pub fn parse(server: &str, config_json: &str) -> PluginResult<StdioConfig> {
        let base = format!("mcp_servers.{server}");
        let value: Value = serde_json::from_str(config_json).map_err(|error| {
            PluginError::invalid_config(format!(
                "{base}: the server table handed to the stdio transport is not valid JSON ({error})"
            ))
        })?;
        let Value::Object(table) = value else {
            return Err(PluginError::invalid_config(format!(
                "{base}: expected a table, found {}",
                type_name(&value)
            )));
        };
        Ok(StdioConfig {
            command: command(&base, &table)?,
            args: args(&base, &table)?,
            env: env(&base, &table)?,
            env_vars: env_vars(&base, &table)?,
            cwd: cwd(&base, &table)?,
            sandbox: sandbox(server, &table)?,
        })
    }
}

fn sandbox(server: &str, table: &Map<String, Value>) -> PluginResult<Option<SandboxPolicy>> {
    // The policy's own reader names the keys (`mcp_servers.NAME.sandbox`...).
    SandboxPolicy::from_server_json(server, &Value::Object(table.clone()))
        .map_err(|error| PluginError::invalid_config(error.to_string()))
}

fn command(base: &str, table: &Map<String, Value>) -> PluginResult<String> {
    let key = format!("{base}.command");
    match table.get("command") {
        None | Some(Value::Null) => Err(PluginError::invalid_config(format!(
            "{key}: missing; set it to the program that starts the server"
        ))),
        Some(Value::String(command)) if command.is_empty() => Err(PluginError::invalid_config(
            format!("{key}: must not be empty; set it to the program that starts the server"),
        )),
        Some(Value::String(command)) => {
            reject_nul(&key, command)?;
            Ok(command.clone())
        }
        Some(other) => Err(PluginError::invalid_config(format!(
            "{key}: expected a string, found {}",
            type_name(other)
        ))),
    }
}

fn args(base: &str, table: &Map<String, Value>) -> PluginResult<Vec<String>> {
    let key = format!("{base}.args");
    let items = match table.get("args") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: expected an array of strings, found {}",
                type_name(other)
            )));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(arg) => {
                reject_nul(&format!("{key}[{index}]"), arg)?;
                Ok(arg.clone())
            }
            other => Err(PluginError::invalid_config(format!(
                "{key}: expected an array of strings, found {} at index {index}",
                type_name(other)
            ))),
        })
        .collect()
}

fn env(base: &str, table: &Map<String, Value>) -> PluginResult<BTreeMap<String, String>> {
    let key = format!("{base}.env");
    let entries = match table.get("env") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: expected a table of strings, found {}",
                type_name(other)
            )));
        }
    };
    let mut env = BTreeMap::new();
    for (name, value) in entries {
        check_variable_name(&key, name)?;
        let entry_key = format!("{key}.{name}");
        match value {
            Value::String(text) => {
                reject_nul(&entry_key, text)?;
                env.insert(name.clone(), text.clone());
            }
            other => {
                return Err(PluginError::invalid_config(format!(
                    "{entry_key}: expected a string, found {}",
                    type_name(other)
                )));
            }
        }
    }
    Ok(env)
}

fn env_vars(base: &str, table: &Map<String, Value>) -> PluginResult<Vec<String>> {
    let key = format!("{base}.env_vars");
    let items = match table.get("env_vars") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{key}: expected an array of variable names or {{ name, source }} tables, found {}",
                type_name(other)
            )));
        }
    };
    let mut names = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let item_key = format!("{key}[{index}]");
        let name = match item {
            Value::String(name) => name,
            Value::Object(entry) => env_var_entry(&item_key, entry)?,
            other => {
                return Err(PluginError::invalid_config(format!(
                    "{item_key}: expected a variable name or a {{ name, source }} table, found {}",
                    type_name(other)
                )));
            }
        };
        check_variable_name(&item_key, name)?;
        names.push(name.clone());
    }
    Ok(names)
}

/// One `{ name, source? }` entry of `env_vars`; returns its name.
fn env_var_entry<'a>(item_key: &str, entry: &'a Map<String, Value>) -> PluginResult<&'a String> {
    let name = match entry.get("name") {
        Some(Value::String(name)) => name,
        None | Some(Value::Null) => {
            return Err(PluginError::invalid_config(format!(
                "{item_key}.name: missing; set it to the variable to pass through"
            )));
        }
        Some(other) => {
            return Err(PluginError::invalid_config(format!(
                "{item_key}.name: expected a string, found {}",
                type_name(other)
            )));
        }
    };
    match entry.get("source") {
        None | Some(Value::Null) => Ok(name),
        Some(Value::String(source)) if source == "local" => Ok(name),
        Some(Value::String(source)) if source == "remote" => {
            Err(PluginError::invalid_config(format!(
                "{item_key}.source: env_vars source `remote` needs a remote executor, which this host does not have"
            )))
        }
        Some(Value::String(source)) => Err(PluginError::invalid_config(format!(
            "{item_key}.source: unsupported env_vars source `{}`; expected `local` or `remote`",
            source.escape_debug()
        ))),
        Some(other) => Err(PluginError::invalid_config(format!(
            "{item_key}.source: expected a string (`local` or `remote`), found {}",
            type_name(other)
        ))),
    }
}

fn cwd(base: &str, table: &Map<String, Value>) -> PluginResult<Option<PathBuf>> {
    let key = format!("{base}.cwd");
    match table.get("cwd") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(path)) if path.is_empty() => Err(PluginError::invalid_config(format!(
            "{key}: must not be empty; remove it to inherit the working directory"
        ))),
        Some(Value::String(path)) => {
            reject_nul(&key, path)?;
            Ok(Some(PathBuf::from(path)))
        }
        Some(other) => Err(PluginError::invalid_config(format!(
            "{key}: expected a string (a directory path), found {}",
            type_name(other)
        ))),
    }
}

/// A name the OS can carry in an environment block: non-empty, no `=`, no NUL.
fn check_variable_name(key: &str, name: &str) -> PluginResult<()> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(PluginError::invalid_config(format!(
            "{key}: `{}` is not a valid environment variable name (it must be non-empty and contain no `=` or NUL)",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// The OS cannot pass a NUL byte in an argument or variable; say so here
/// rather than let the spawn fail with a vague "invalid input".
fn reject_nul(key: &str, text: &str) -> PluginResult<()> {
    if text.contains('\0') {
        return Err(PluginError::invalid_config(format!(
            "{key}: contains a NUL byte, which cannot be passed to a process"
        )));
    }
    Ok(())
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

    fn parse(json: &str) -> PluginResult<StdioConfig> {
        StdioConfig::parse("demo", json)
    }

    fn error(json: &str) -> String {
        let error = parse(json).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig, "{error}");
        error.message.into_string()
    }

    #[test]
    fn reads_every_field_and_ignores_the_rest() {
        let config = parse(
            r#"{"command":"srv","args":["-v","x"],"env":{"A":"1"},
                "env_vars":["B",{"name":"C"},{"name":"D","source":"local"}],
                "cwd":"/tmp","startup_timeout_sec":5,"enabled":true}"#,
        )
        .unwrap();
        assert_eq!(config.command, "srv");
        assert_eq!(config.args, ["-v", "x"]);
        assert_eq!(config.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(config.env_vars, ["B", "C", "D"]);
        assert_eq!(config.cwd, Some(PathBuf::from("/tmp")));
    }

    #[test]
    fn optional_fields_default_to_empty() {
        let config = parse(r#"{"command":"srv"}"#).unwrap();
        assert!(config.args.is_empty() && config.env.is_empty() && config.env_vars.is_empty());
        assert_eq!(config.cwd, None);
    }

    #[test]
    fn wrong_types_name_the_key() {
        assert_eq!(
            error(r#"{"args":[]}"#),
            "mcp_servers.demo.command: missing; set it to the program that starts the server"
        );
        assert_eq!(
            error(r#"{"command":7}"#),
            "mcp_servers.demo.command: expected a string, found a number"
        );
        assert_eq!(
            error(r#"{"command":"x","args":"-v"}"#),
            "mcp_servers.demo.args: expected an array of strings, found a string"
        );
        assert_eq!(
            error(r#"{"command":"x","args":["a",1]}"#),
            "mcp_servers.demo.args: expected an array of strings, found a number at index 1"
        );
        assert_eq!(
            error(r#"{"command":"x","env":["A"]}"#),
            "mcp_servers.demo.env: expected a table of strings, found an array"
        );
        assert_eq!(
            error(r#"{"command":"x","env":{"TOKEN":5}}"#),
            "mcp_servers.demo.env.TOKEN: expected a string, found a number"
        );
        assert_eq!(
            error(r#"{"command":"x","env_vars":[true]}"#),
            "mcp_servers.demo.env_vars[0]: expected a variable name or a { name, source } table, found a boolean"
        );
        assert_eq!(
            error(r#"{"command":"x","env_vars":[{"source":"local"}]}"#),
            "mcp_servers.demo.env_vars[0].name: missing; set it to the variable to pass through"
        );
        assert_eq!(
            error(r#"{"command":"x","cwd":["/"]}"#),
            "mcp_servers.demo.cwd: expected a string (a directory path), found an array"
        );
        assert_eq!(
            error("[1]"),
            "mcp_servers.demo: expected a table, found an array"
        );
    }

    #[test]
    fn env_var_sources_follow_codex() {
        assert_eq!(
            error(r#"{"command":"x","env_vars":["A",{"name":"B","source":"remote"}]}"#),
            "mcp_servers.demo.env_vars[1].source: env_vars source `remote` needs a remote executor, which this host does not have"
        );
        assert_eq!(
            error(r#"{"command":"x","env_vars":[{"name":"B","source":"cloud"}]}"#),
            "mcp_servers.demo.env_vars[0].source: unsupported env_vars source `cloud`; expected `local` or `remote`"
        );
    }

    #[test]
    fn values_are_never_echoed() {
        let message = error(r#"{"command":"x","env":{"TOKEN":"sec\u0000ret"}}"#);
        assert_eq!(
            message,
            "mcp_servers.demo.env.TOKEN: contains a NUL byte, which cannot be passed to a process"
        );
        assert!(!message.contains("sec"));
    }

    #[test]
    fn bad_variable_names_are_refused() {
        assert!(
            error(r#"{"command":"x","env":{"A=B":"1"}}"#)
                .starts_with("mcp_servers.demo.env: `A=B`")
        );
        assert!(
            error(r#"{"command":"x","env_vars":[""]}"#)
                .starts_with("mcp_servers.demo.env_vars[0]: ``")
        );
    }

    #[test]
    fn invalid_json_is_reported_not_panicked_on() {
        assert!(error("{").starts_with("mcp_servers.demo: the server table"));
    }
}
