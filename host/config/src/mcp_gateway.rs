//! `[mcp_gateway]`: the defaults of `codex mcp-server` (flags override
//! each key):
//!
//! ```toml
//! [mcp_gateway]
//! servers = ["docs", "github"]        # default: every enabled server
//! names = "plain"                     # or "qualified" (the default)
//! include_tools = ["github/*"]        # SERVER/TOOL globs; default: every tool
//! exclude_tools = ["*/delete_*"]      # applied after include_tools
//! idle_timeout_sec = 600              # stop a server unused this long
//! listen = "127.0.0.1:8765"           # serve streamable HTTP
//! token_env_var = "GATEWAY_TOKEN"     # the bearer token's variable
//! allow_origins = ["https://app.example"]
//! max_body_bytes = 4194304
//! max_concurrent = 256
//! instance_id = "east-1"              # before every HTTP session id
//! poll_after_sec = 30                 # close a longer call's SSE stream for the client to poll
//! ```
//!
//! Tool globs match `SERVER/TOOL` (the configured server's name and the
//! tool's own name) with `*` and `?` as in [`crate::glob`], after a server's
//! own `enabled_tools`/`disabled_tools`.

use crate::glob::glob_matches;
use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};

/// The table's name.
pub const GATEWAY_KEY: &str = "mcp_gateway";

/// The longest idle timeout: a week.
pub const MAX_IDLE_TIMEOUT_SECS: u64 = 7 * 24 * 3600;

const KEYS: &[&str] = &[
    "servers",
    "names",
    "include_tools",
    "exclude_tools",
    "idle_timeout_sec",
    "listen",
    "token_env_var",
    "allow_origins",
    "max_body_bytes",
    "max_concurrent",
    "instance_id",
    "poll_after_sec",
];

/// The longest `poll_after_sec`: an hour.
pub const MAX_POLL_AFTER_SECS: u64 = 3600;

/// `[mcp_gateway]`, types checked; `None` or empty where not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpGatewaySettings {
    /// `servers`: the configured servers to serve (valid server names).
    pub servers: Vec<String>,
    /// `names`: `"qualified"` or `"plain"`.
    pub names: Option<String>,
    /// `include_tools` and `exclude_tools`, each a valid `SERVER/TOOL` glob.
    pub tools: ToolGlobs,
    /// `idle_timeout_sec`: 1 to [`MAX_IDLE_TIMEOUT_SECS`].
    pub idle_timeout_secs: Option<u64>,
    /// `listen`: `ADDR:PORT` (checked by the gateway, as `--listen` is).
    pub listen: Option<String>,
    /// `token_env_var`: the variable that holds the bearer token.
    pub token_env_var: Option<String>,
    /// `allow_origins`: origins allowed beyond loopback ones.
    pub allow_origins: Vec<String>,
    /// `max_body_bytes`: at least 1.
    pub max_body_bytes: Option<usize>,
    /// `max_concurrent`: 1 to 65536.
    pub max_concurrent: Option<usize>,
    /// `instance_id`: checked by the gateway, as `--instance-id` is.
    pub instance_id: Option<String>,
    /// `poll_after_sec`: 1 to [`MAX_POLL_AFTER_SECS`].
    pub poll_after_secs: Option<u64>,
}

/// Which tools the gateway serves, by `SERVER/TOOL` globs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolGlobs {
    /// When not empty, only tools matching one of these.
    pub include: Vec<String>,
    /// Never tools matching one of these.
    pub exclude: Vec<String>,
}

impl ToolGlobs {
    /// Whether the tool `tool` of the server `server` is served.
    pub fn allows(&self, server: &str, tool: &str) -> bool {
        let name = format!("{server}/{tool}");
        (self.include.is_empty()
            || self
                .include
                .iter()
                .any(|pattern| glob_matches(pattern, &name)))
            && !self
                .exclude
                .iter()
                .any(|pattern| glob_matches(pattern, &name))
    }
}

/// Why a tool glob is not one: what to write instead.
pub fn check_tool_glob(pattern: &str) -> Result<(), String> {
    match pattern.split_once('/') {
        Some((server, tool)) if !server.is_empty() && !tool.is_empty() => Ok(()),
        _ => Err(format!(
            "tool pattern `{pattern}` is not SERVER/TOOL; write for example `{}/*` or `*/{}`",
            if pattern.is_empty() { "docs" } else { pattern },
            if pattern.is_empty() {
                "search"
            } else {
                pattern
            }
        )),
    }
}

/// Reads `[mcp_gateway]` from the merged configuration; an unknown key or
/// a bad value is an error at its place.
pub fn mcp_gateway_settings(config: &LoadedConfig) -> Result<McpGatewaySettings, ConfigError> {
    let table_path = KeyPath::from_keys([GATEWAY_KEY]);
    let Some(value) = config.get(&[GATEWAY_KEY]) else {
        return Ok(McpGatewaySettings::default());
    };
    let Some(table) = value.as_table() else {
        return Err(config.invalid(
            table_path,
            SpanTarget::Value,
            format!("expected a table, not {}", value.type_str()),
        ));
    };
    for key in table.keys() {
        if !KEYS.contains(&key.as_str()) {
            return Err(config.invalid(
                table_path.key(key),
                SpanTarget::Key,
                format!(
                    "unknown key `{GATEWAY_KEY}.{key}`; expected one of {}",
                    KEYS.join(", ")
                ),
            ));
        }
    }
    let reader = Reader { config };
    let names = reader.string("names")?;
    if let Some(names) = &names
        && names != "qualified"
        && names != "plain"
    {
        return Err(reader.bad(
            "names",
            format!("expected \"qualified\" or \"plain\", not \"{names}\""),
        ));
    }
    let include = reader.strings("include_tools")?;
    let exclude = reader.strings("exclude_tools")?;
    for (key, patterns) in [("include_tools", &include), ("exclude_tools", &exclude)] {
        for (index, pattern) in patterns.iter().enumerate() {
            if let Err(problem) = check_tool_glob(pattern) {
                return Err(config.invalid(
                    KeyPath::from_keys([GATEWAY_KEY, key]).index(index),
                    SpanTarget::Value,
                    problem,
                ));
            }
        }
    }
    let servers = reader.strings("servers")?;
    for (index, server) in servers.iter().enumerate() {
        if let Err(problem) = crate::validate_server_name(server) {
            return Err(config.invalid(
                KeyPath::from_keys([GATEWAY_KEY, "servers"]).index(index),
                SpanTarget::Value,
                problem.to_string(),
            ));
        }
    }
    Ok(McpGatewaySettings {
        servers,
        names,
        tools: ToolGlobs { include, exclude },
        idle_timeout_secs: reader.whole("idle_timeout_sec", 1, MAX_IDLE_TIMEOUT_SECS)?,
        listen: reader.string("listen")?,
        token_env_var: reader.string("token_env_var")?,
        allow_origins: reader.strings("allow_origins")?,
        max_body_bytes: reader
            .whole("max_body_bytes", 1, u64::from(u32::MAX))?
            .map(|bytes| bytes as usize),
        max_concurrent: reader
            .whole("max_concurrent", 1, 65536)?
            .map(|count| count as usize),
        instance_id: reader.string("instance_id")?,
        poll_after_secs: reader.whole("poll_after_sec", 1, MAX_POLL_AFTER_SECS)?,
    })
}

struct Reader<'a> {
    config: &'a LoadedConfig,
}

impl Reader<'_> {
    fn bad(&self, key: &str, message: String) -> ConfigError {
        self.config.invalid(
            KeyPath::from_keys([GATEWAY_KEY, key]),
            SpanTarget::Value,
            message,
        )
    }

    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.config.get(&[GATEWAY_KEY, key]) {
            None => Ok(None),
            Some(toml::Value::String(value)) => Ok(Some(value.clone())),
            Some(other) => {
                Err(self.bad(key, format!("expected a string, not {}", other.type_str())))
            }
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        let Some(value) = self.config.get(&[GATEWAY_KEY, key]) else {
            return Ok(Vec::new());
        };
        let Some(items) = value.as_array() else {
            return Err(self.bad(
                key,
                format!("expected an array of strings, not {}", value.type_str()),
            ));
        };
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let Some(text) = item.as_str() else {
                return Err(self.config.invalid(
                    KeyPath::from_keys([GATEWAY_KEY, key]).index(index),
                    SpanTarget::Value,
                    format!("expected a string, not {}", item.type_str()),
                ));
            };
            strings.push(text.to_string());
        }
        Ok(strings)
    }

    fn whole(&self, key: &str, least: u64, most: u64) -> Result<Option<u64>, ConfigError> {
        match self.config.get(&[GATEWAY_KEY, key]) {
            None => Ok(None),
            Some(toml::Value::Integer(number)) => match u64::try_from(*number) {
                Ok(number) if (least..=most).contains(&number) => Ok(Some(number)),
                _ => Err(self.bad(
                    key,
                    format!("`{number}` is out of range: expected {least} to {most}"),
                )),
            },
            Some(other) => Err(self.bad(
                key,
                format!("expected a whole number, not {}", other.type_str()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigLayer, ConfigPaths, LayerKind};

    fn settings(text: &str) -> Result<McpGatewaySettings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        mcp_gateway_settings(&LoadedConfig::from_layers(paths, vec![layer]))
    }

    #[test]
    fn every_key_is_read() {
        let read = settings(
            "[mcp_gateway]\nservers = [\"docs\"]\nnames = \"plain\"\ninclude_tools = [\"docs/*\"]\n\
             exclude_tools = [\"*/drop_*\"]\nidle_timeout_sec = 30\nlisten = \"127.0.0.1:0\"\n\
             token_env_var = \"T\"\nallow_origins = [\"https://a.example\"]\nmax_body_bytes = 1024\n\
             max_concurrent = 8\npoll_after_sec = 20\n",
        )
        .unwrap();
        assert_eq!(read.servers, ["docs"]);
        assert_eq!(read.names.as_deref(), Some("plain"));
        assert_eq!(read.idle_timeout_secs, Some(30));
        assert_eq!(read.listen.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(read.token_env_var.as_deref(), Some("T"));
        assert_eq!(read.allow_origins, ["https://a.example"]);
        assert_eq!(read.max_body_bytes, Some(1024));
        assert_eq!(read.max_concurrent, Some(8));
        assert_eq!(read.poll_after_secs, Some(20));
        assert!(read.tools.allows("docs", "search"));
        assert!(!read.tools.allows("docs", "drop_all"));
        assert!(!read.tools.allows("github", "search"));
        assert_eq!(settings("").unwrap(), McpGatewaySettings::default());
    }

    #[test]
    fn bad_values_are_errors_at_their_line() {
        for (text, line, said) in [
            (
                "[mcp_gateway]\nnames = \"short\"\n",
                2,
                "expected \"qualified\" or \"plain\"",
            ),
            ("[mcp_gateway]\n\nidle_timeout_sec = 0\n", 3, "out of range"),
            (
                "[mcp_gateway]\nidle_timeout_sec = \"1m\"\n",
                2,
                "whole number",
            ),
            (
                "[mcp_gateway]\ninclude_tools = [\"docs/*\", \"search\"]\n",
                2,
                "not SERVER/TOOL",
            ),
            ("[mcp_gateway]\nservers = [\"a b\"]\n", 2, "servers"),
            ("[mcp_gateway]\nlisten = 8765\n", 2, "expected a string"),
            (
                "[mcp_gateway]\nlisen = \"127.0.0.1:1\"\n",
                2,
                "unknown key `mcp_gateway.lisen`",
            ),
            ("mcp_gateway = 3\n", 1, "expected a table"),
        ] {
            let error = settings(text).unwrap_err().to_string();
            assert!(
                error.contains(&format!("config.toml:{line}:")),
                "{text}: {error}"
            );
            assert!(error.contains(said), "{text}: {error}");
        }
    }

    #[test]
    fn tool_globs_include_then_exclude() {
        let globs = ToolGlobs {
            include: vec!["alpha/*".into(), "beta/echo".into()],
            exclude: vec!["*/add".into()],
        };
        assert!(globs.allows("alpha", "echo"));
        assert!(!globs.allows("alpha", "add"));
        assert!(globs.allows("beta", "echo"));
        assert!(!globs.allows("beta", "add"));
        assert!(!globs.allows("gamma", "echo"));
        assert!(ToolGlobs::default().allows("any", "thing"));
        assert!(check_tool_glob("a/b").is_ok());
        assert!(check_tool_glob("ab").is_err());
        assert!(check_tool_glob("/b").is_err());
    }
}
