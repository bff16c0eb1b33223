//! Policies with Codex's names and keys, and their resolution for a working
//! directory. Nothing here touches the kernel; this module compiles and
//! behaves the same on every OS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

use crate::SandboxError;

/// Codex's `sandbox_mode` values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Read everywhere, write nowhere (but `/dev/null` and the terminal).
    #[default]
    ReadOnly,
    /// Read everywhere, write in the working directory, the configured
    /// writable roots, `/tmp` and `$TMPDIR`; `.git` and `.codex` stay read-only.
    WorkspaceWrite,
    /// No sandbox at all.
    DangerFullAccess,
}

impl SandboxMode {
    /// Every mode, in the order error messages list them.
    pub const ALL: [SandboxMode; 3] = [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::DangerFullAccess,
    ];

    /// The name Codex uses in `config.toml` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }

    fn parse_for_key(value: &str, key: Option<&str>) -> Result<Self, SandboxError> {
        SandboxMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == value)
            .ok_or_else(|| SandboxError::UnknownMode {
                value: value.to_owned(),
                key: key.map(str::to_owned),
            })
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SandboxMode {
    type Err = SandboxError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        SandboxMode::parse_for_key(value, None)
    }
}

/// A sandbox policy: the mode plus Codex's `[sandbox_workspace_write]` keys.
/// The keys only matter for `workspace-write`, except `network_access`,
/// which `read-only` honours too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SandboxPolicy {
    /// `sandbox_mode`.
    pub mode: SandboxMode,
    /// `sandbox_workspace_write.writable_roots`; relative paths are taken
    /// from the working directory.
    pub writable_roots: Vec<PathBuf>,
    /// `sandbox_workspace_write.network_access`: IP sockets allowed.
    pub network_access: bool,
    /// `sandbox_workspace_write.exclude_tmpdir_env_var`: `$TMPDIR` is not writable.
    pub exclude_tmpdir_env_var: bool,
    /// `sandbox_workspace_write.exclude_slash_tmp`: `/tmp` is not writable.
    pub exclude_slash_tmp: bool,
}

/// Where a writable root came from, so that an error can name the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootOrigin {
    /// The working directory.
    WorkingDirectory,
    /// `writable_roots` (or `sandbox_writable_roots` of a server).
    Configured,
    /// `/tmp`.
    SlashTmp,
    /// `$TMPDIR`.
    TmpdirEnv,
}

impl RootOrigin {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            RootOrigin::WorkingDirectory => "the working directory",
            RootOrigin::Configured => "from writable_roots",
            RootOrigin::SlashTmp => "/tmp is writable unless exclude_slash_tmp is set",
            RootOrigin::TmpdirEnv => "from $TMPDIR",
        }
    }

    pub(crate) fn hint(self) -> &'static str {
        match self {
            RootOrigin::WorkingDirectory => "run from a directory that exists",
            RootOrigin::Configured => {
                "create it, or remove it from sandbox_workspace_write.writable_roots"
            }
            RootOrigin::SlashTmp => {
                "create /tmp, or set sandbox_workspace_write.exclude_slash_tmp = true"
            }
            RootOrigin::TmpdirEnv => {
                "point TMPDIR at a directory that exists, or set sandbox_workspace_write.exclude_tmpdir_env_var = true"
            }
        }
    }
}

/// A writable root after resolution: canonical (symbolic links resolved),
/// and known to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableRoot {
    /// The canonical path.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: RootOrigin,
}

/// A policy resolved for one working directory: what the kernel is asked to
/// enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPolicy {
    /// The mode.
    pub mode: SandboxMode,
    /// The canonical working directory.
    pub cwd: PathBuf,
    /// The effective writable roots (empty unless `workspace-write`), without
    /// duplicates, in the order: working directory, configured, `/tmp`, `$TMPDIR`.
    pub writable_roots: Vec<WritableRoot>,
    /// Whether IP sockets are allowed.
    pub network_access: bool,
}

impl SandboxPolicy {
    /// A policy of `mode` with Codex's defaults for the other keys.
    pub fn new(mode: SandboxMode) -> Self {
        SandboxPolicy {
            mode,
            ..SandboxPolicy::default()
        }
    }

    /// Resolves the effective writable roots for `cwd`: `cwd`, then
    /// `writable_roots` (relative ones taken from `cwd`), then `/tmp` unless
    /// `exclude_slash_tmp`, then `$TMPDIR` (when set and not empty) unless
    /// `exclude_tmpdir_env_var`. A root that does not exist is an error
    /// naming it and the setting it came from.
    pub fn resolve(&self, cwd: &Path) -> Result<ResolvedPolicy, SandboxError> {
        self.resolve_with_tmpdir(cwd, std::env::var_os("TMPDIR").map(PathBuf::from))
    }

    /// [`SandboxPolicy::resolve`] with `$TMPDIR` given instead of read from
    /// the environment (for callers that build a child's environment).
    pub fn resolve_with_tmpdir(
        &self,
        cwd: &Path,
        tmpdir: Option<PathBuf>,
    ) -> Result<ResolvedPolicy, SandboxError> {
        let canonical_cwd =
            cwd.canonicalize()
                .map_err(|source| SandboxError::WorkingDirectory {
                    path: cwd.to_path_buf(),
                    source,
                })?;
        let mut roots: Vec<WritableRoot> = Vec::new();
        if self.mode == SandboxMode::WorkspaceWrite {
            let mut wanted = vec![(canonical_cwd.clone(), RootOrigin::WorkingDirectory)];
            wanted.extend(
                self.writable_roots
                    .iter()
                    .map(|root| (canonical_cwd.join(root), RootOrigin::Configured)),
            );
            if !self.exclude_slash_tmp {
                wanted.push((PathBuf::from("/tmp"), RootOrigin::SlashTmp));
            }
            if !self.exclude_tmpdir_env_var
                && let Some(tmpdir) = tmpdir.filter(|dir| !dir.as_os_str().is_empty())
            {
                wanted.push((canonical_cwd.join(tmpdir), RootOrigin::TmpdirEnv));
            }
            for (path, origin) in wanted {
                let canonical =
                    path.canonicalize()
                        .map_err(|_| SandboxError::WritableRootMissing {
                            path: path.clone(),
                            origin,
                        })?;
                if !roots.iter().any(|root| root.path == canonical) {
                    roots.push(WritableRoot {
                        path: canonical,
                        origin,
                    });
                }
            }
        }
        Ok(ResolvedPolicy {
            mode: self.mode,
            cwd: canonical_cwd,
            writable_roots: roots,
            network_access: self.network_access,
        })
    }

    /// The policy of a stdio server from its config table as JSON: keys
    /// `sandbox` (a mode), `sandbox_writable_roots` (paths) and
    /// `sandbox_network` (bool). `Ok(None)` when `sandbox` is absent: the
    /// server runs unsandboxed, as Codex runs servers. Errors name the key
    /// path, `mcp_servers.NAME.KEY`.
    pub fn from_server_json(server: &str, config: &Value) -> Result<Option<Self>, SandboxError> {
        let key = |name: &str| format!("mcp_servers.{server}.{name}");
        let Some(table) = config.as_object() else {
            return Err(SandboxError::InvalidConfig {
                key: format!("mcp_servers.{server}"),
                message: format!("expected a table, found {}", json_kind(config)),
            });
        };
        let mode = match table.get("sandbox") {
            None => None,
            Some(Value::String(text)) => {
                Some(SandboxMode::parse_for_key(text, Some(&key("sandbox")))?)
            }
            Some(other) => {
                return Err(SandboxError::InvalidConfig {
                    key: key("sandbox"),
                    message: format!(
                        "expected one of \"read-only\", \"workspace-write\", \"danger-full-access\", found {}",
                        json_kind(other)
                    ),
                });
            }
        };
        let writable_roots = match table.get("sandbox_writable_roots") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(path) if !path.is_empty() => Ok(PathBuf::from(path)),
                    other => Err(SandboxError::InvalidConfig {
                        key: format!("{}[{index}]", key("sandbox_writable_roots")),
                        message: format!("expected a path, found {}", json_kind(other)),
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(SandboxError::InvalidConfig {
                    key: key("sandbox_writable_roots"),
                    message: format!("expected an array of paths, found {}", json_kind(other)),
                });
            }
        };
        let network_access = match table.get("sandbox_network") {
            None => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(other) => {
                return Err(SandboxError::InvalidConfig {
                    key: key("sandbox_network"),
                    message: format!("expected true or false, found {}", json_kind(other)),
                });
            }
        };
        let Some(mode) = mode else {
            // Settings without a mode would be silently ignored: say so instead.
            for name in ["sandbox_writable_roots", "sandbox_network"] {
                if table.contains_key(name) {
                    return Err(SandboxError::InvalidConfig {
                        key: key(name),
                        message: format!(
                            "set without {}; add sandbox = \"read-only\" or \"workspace-write\"",
                            key("sandbox")
                        ),
                    });
                }
            }
            return Ok(None);
        };
        if mode != SandboxMode::WorkspaceWrite && !writable_roots.is_empty() {
            return Err(SandboxError::InvalidConfig {
                key: key("sandbox_writable_roots"),
                message: format!(
                    "only used with sandbox = \"workspace-write\", and {} is \"{mode}\"",
                    key("sandbox")
                ),
            });
        }
        Ok(Some(SandboxPolicy {
            mode,
            writable_roots,
            network_access: network_access.unwrap_or(false),
            ..SandboxPolicy::default()
        }))
    }
}

fn json_kind(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(on) => on.to_string(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string {text:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "a table".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_parse_from_codex_names_and_unknown_ones_list_the_valid_values() {
        for mode in SandboxMode::ALL {
            assert_eq!(mode.as_str().parse::<SandboxMode>().unwrap(), mode);
        }
        let error = "workspace".parse::<SandboxMode>().unwrap_err().to_string();
        assert_eq!(
            error,
            "unknown sandbox mode `workspace`: expected one of `read-only`, `workspace-write`, `danger-full-access`"
        );
    }

    #[test]
    fn workspace_write_roots_are_cwd_configured_tmp_and_tmpdir() {
        let cwd = tempfile::tempdir().unwrap();
        let extra = tempfile::tempdir().unwrap();
        let tmpdir = tempfile::tempdir().unwrap();
        let mut policy = SandboxPolicy::new(SandboxMode::WorkspaceWrite);
        policy.writable_roots = vec![extra.path().to_path_buf()];
        let resolved = policy
            .resolve_with_tmpdir(cwd.path(), Some(tmpdir.path().to_path_buf()))
            .unwrap();
        let paths: Vec<_> = resolved
            .writable_roots
            .iter()
            .map(|root| (root.path.clone(), root.origin))
            .collect();
        assert_eq!(
            paths,
            vec![
                (
                    cwd.path().canonicalize().unwrap(),
                    RootOrigin::WorkingDirectory
                ),
                (extra.path().canonicalize().unwrap(), RootOrigin::Configured),
                (PathBuf::from("/tmp"), RootOrigin::SlashTmp),
                (tmpdir.path().canonicalize().unwrap(), RootOrigin::TmpdirEnv),
            ]
        );

        policy.exclude_slash_tmp = true;
        policy.exclude_tmpdir_env_var = true;
        let resolved = policy
            .resolve_with_tmpdir(cwd.path(), Some(tmpdir.path().to_path_buf()))
            .unwrap();
        assert_eq!(resolved.writable_roots.len(), 2);
    }

    #[test]
    fn read_only_has_no_writable_roots() {
        let cwd = tempfile::tempdir().unwrap();
        let resolved = SandboxPolicy::new(SandboxMode::ReadOnly)
            .resolve(cwd.path())
            .unwrap();
        assert!(resolved.writable_roots.is_empty());
    }

    #[test]
    fn a_missing_writable_root_is_an_error_naming_it_and_its_setting() {
        let cwd = tempfile::tempdir().unwrap();
        let mut policy = SandboxPolicy::new(SandboxMode::WorkspaceWrite);
        policy.writable_roots = vec![PathBuf::from("no-such-dir")];
        let error = policy.resolve(cwd.path()).unwrap_err().to_string();
        let missing = cwd.path().canonicalize().unwrap().join("no-such-dir");
        assert_eq!(
            error,
            format!(
                "writable root {} does not exist (from writable_roots); help: create it, or remove it from sandbox_workspace_write.writable_roots",
                missing.display()
            )
        );

        let policy = SandboxPolicy::new(SandboxMode::WorkspaceWrite);
        let error = policy
            .resolve_with_tmpdir(cwd.path(), Some(PathBuf::from("/no/such/tmpdir")))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("/no/such/tmpdir does not exist (from $TMPDIR)"),
            "{error}"
        );
        assert!(error.contains("exclude_tmpdir_env_var = true"), "{error}");
    }

    #[test]
    fn server_json_reads_the_three_keys() {
        let policy = SandboxPolicy::from_server_json(
            "docs",
            &json!({"command": "x", "sandbox": "workspace-write", "sandbox_writable_roots": ["/data"], "sandbox_network": true}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(policy.mode, SandboxMode::WorkspaceWrite);
        assert_eq!(policy.writable_roots, vec![PathBuf::from("/data")]);
        assert!(policy.network_access);

        let none = SandboxPolicy::from_server_json("docs", &json!({"command": "x"})).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn server_json_errors_name_the_key_path() {
        let cases = [
            (
                json!({"sandbox": "sandboxed"}),
                "mcp_servers.docs.sandbox: unknown sandbox mode `sandboxed`: expected one of `read-only`, `workspace-write`, `danger-full-access`",
            ),
            (
                json!({"sandbox": true}),
                "mcp_servers.docs.sandbox: expected one of \"read-only\", \"workspace-write\", \"danger-full-access\", found true",
            ),
            (
                json!({"sandbox": "workspace-write", "sandbox_writable_roots": ["/a", 3]}),
                "mcp_servers.docs.sandbox_writable_roots[1]: expected a path, found the number 3",
            ),
            (
                json!({"sandbox": "workspace-write", "sandbox_writable_roots": "/a"}),
                "mcp_servers.docs.sandbox_writable_roots: expected an array of paths, found the string \"/a\"",
            ),
            (
                json!({"sandbox": "read-only", "sandbox_network": "yes"}),
                "mcp_servers.docs.sandbox_network: expected true or false, found the string \"yes\"",
            ),
            (
                json!({"sandbox": "read-only", "sandbox_writable_roots": ["/a"]}),
                "mcp_servers.docs.sandbox_writable_roots: only used with sandbox = \"workspace-write\", and mcp_servers.docs.sandbox is \"read-only\"",
            ),
            (
                json!({"sandbox_network": true}),
                "mcp_servers.docs.sandbox_network: set without mcp_servers.docs.sandbox; add sandbox = \"read-only\" or \"workspace-write\"",
            ),
            (
                json!([1]),
                "mcp_servers.docs: expected a table, found an array",
            ),
        ];
        for (config, expected) in cases {
            let error = SandboxPolicy::from_server_json("docs", &config)
                .unwrap_err()
                .to_string();
            assert_eq!(error, expected, "for {config}");
        }
    }
}
