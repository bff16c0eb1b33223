//! The environment a stdio server starts with.
//!
//! Like Codex, the child does not inherit the host's environment: it gets a
//! short whitelist of variables that programs need to run at all, then the
//! variables the user named in `env_vars`, then the literal `env` table. A
//! later source wins. Anything else in the host's environment (API keys,
//! tokens) stays out of the server unless the user passes it on purpose.

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::config::StdioConfig;

/// Variables copied from the host's environment when set (Codex's Unix list).
pub const INHERITED_VARIABLES: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "__CF_USER_TEXT_ENCODING",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
];

/// The complete environment for `config`, reading the host's variables
/// through `parent` (normally [`std::env::var_os`]).
pub fn child_environment(
    config: &StdioConfig,
    parent: impl Fn(&str) -> Option<OsString>,
) -> BTreeMap<OsString, OsString> {
    let mut environment = BTreeMap::new();
    let passed_through = INHERITED_VARIABLES
        .iter()
        .copied()
        .chain(config.env_vars.iter().map(String::as_str));
    for name in passed_through {
        if let Some(value) = parent(name) {
            environment.insert(OsString::from(name), value);
        }
    }
    for (name, value) in &config.env {
        environment.insert(OsString::from(name), OsString::from(value));
    }
    environment
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn lookup<'a>(environment: &'a BTreeMap<OsString, OsString>, name: &str) -> Option<&'a OsStr> {
        environment.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    fn config(env: &[(&str, &str)], env_vars: &[&str]) -> StdioConfig {
        StdioConfig {
            command: "srv".into(),
            args: Vec::new(),
            env: env
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            env_vars: env_vars.iter().map(|name| name.to_string()).collect(),
            cwd: None,
            sandbox: None,
        }
    }

    fn parent(name: &str) -> Option<OsString> {
        match name {
            "PATH" => Some("/bin".into()),
            "HOME" => Some("/home/u".into()),
            "SECRET_TOKEN" => Some("hunter2".into()),
            "FORWARDED" => Some("yes".into()),
            _ => None,
        }
    }

    #[test]
    fn only_the_whitelist_is_inherited() {
        let environment = child_environment(&config(&[], &[]), parent);
        assert_eq!(lookup(&environment, "PATH"), Some(OsStr::new("/bin")));
        assert_eq!(lookup(&environment, "HOME"), Some(OsStr::new("/home/u")));
        assert_eq!(lookup(&environment, "SECRET_TOKEN"), None);
        assert_eq!(environment.len(), 2);
    }

    #[test]
    fn env_vars_pass_named_variables_and_skip_unset_ones() {
        let environment = child_environment(&config(&[], &["FORWARDED", "UNSET"]), parent);
        assert_eq!(lookup(&environment, "FORWARDED"), Some(OsStr::new("yes")));
        assert_eq!(lookup(&environment, "UNSET"), None);
    }

    #[test]
    fn env_wins_over_everything_inherited() {
        let environment = child_environment(
            &config(&[("PATH", "/opt/bin"), ("FORWARDED", "no")], &["FORWARDED"]),
            parent,
        );
        assert_eq!(lookup(&environment, "PATH"), Some(OsStr::new("/opt/bin")));
        assert_eq!(lookup(&environment, "FORWARDED"), Some(OsStr::new("no")));
    }
}
