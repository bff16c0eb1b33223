//! Keeping secrets out of output: the mask and the rule for which keys hold
//! secrets.

/// What every secret value is replaced by in output (the same as Codex).
pub const MASK: &str = "*****";

/// Whether a key's value may be a secret and must never be printed.
///
/// The rule is deliberately broad (`env`, `headers`, `token`, `secret`,
/// `password`, `auth`, `key`-like names): masking a harmless value costs a
/// little clarity, printing a token costs a credential.
pub fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    const MARKERS: [&str; 9] = [
        "env",
        "header",
        "token",
        "secret",
        "password",
        "passwd",
        "credential",
        "auth",
        "api_key",
    ];
    MARKERS.iter().any(|marker| key.contains(marker)) || key == "key" || key.ends_with("apikey")
}

/// Keys whose values name environment variables or stores, never hold a
/// secret themselves: nothing at or below them is masked.
const NAMES_NOT_SECRETS: [&str; 6] = [
    "bearer_token_env_var",
    "env_vars",
    "env_http_headers",
    "mcp_oauth_credentials_store",
    "cli_auth_credentials_store",
    "credential_chain",
];

/// Tables whose keys are names the user chose (a server called `auth` is
/// not a secret): those keys are not judged by [`is_sensitive_key`].
const NAMED_COLLECTIONS: [&str; 7] = [
    "mcp_servers",
    "profiles",
    "projects",
    "feature_bundles",
    "model_features",
    "model_providers",
    "credential_backends",
];

/// Whether a string at `keys` (outermost first) may be a secret: some key on
/// the path is sensitive, before any key that only names variables
/// (`env_http_headers`, `bearer_token_env_var`, …). Names chosen by the user
/// under `mcp_servers`, `profiles` and the like are not judged.
pub fn is_secret_path<S: AsRef<str>>(keys: &[S]) -> bool {
    let mut previous: Option<&str> = None;
    for key in keys {
        let key = key.as_ref();
        let named = previous.is_some_and(|p| NAMED_COLLECTIONS.contains(&p));
        previous = Some(key);
        if named {
            continue;
        }
        if NAMES_NOT_SECRETS.contains(&key) {
            return false;
        }
        if is_sensitive_key(key) {
            return true;
        }
    }
    false
}

/// `value` (found at `keys`) with every string that may be a secret
/// replaced by [`MASK`]; booleans and numbers are never secrets.
pub fn mask_value(keys: &mut Vec<String>, value: &toml::Value) -> toml::Value {
    match value {
        toml::Value::Table(table) => toml::Value::Table(mask_table_at(keys, table)),
        toml::Value::Array(items) => {
            toml::Value::Array(items.iter().map(|item| mask_value(keys, item)).collect())
        }
        toml::Value::String(_) if is_secret_path(keys) => toml::Value::String(MASK.to_string()),
        other => other.clone(),
    }
}

/// A whole table with secrets masked (see [`mask_value`]).
pub fn mask_table(table: &toml::Table) -> toml::Table {
    mask_table_at(&mut Vec::new(), table)
}

fn mask_table_at(keys: &mut Vec<String>, table: &toml::Table) -> toml::Table {
    let mut out = toml::Table::new();
    for (key, value) in table {
        keys.push(key.clone());
        out.insert(key.clone(), mask_value(keys, value));
        keys.pop();
    }
    out
}

/// Whether a TOML value is, or contains, a value under a sensitive key.
pub(crate) fn value_contains_sensitive_key(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(table) => table
            .iter()
            .any(|(key, value)| is_sensitive_key(key) || value_contains_sensitive_key(value)),
        toml::Value::Array(items) => items.iter().any(value_contains_sensitive_key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys_are_sensitive() {
        for key in [
            "env",
            "http_headers",
            "env_http_headers",
            "bearer_token",
            "CLIENT_SECRET",
            "password",
            "Authorization",
            "api_key",
            "OPENAI_APIKEY",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in ["command", "args", "url", "model", "enabled", "keyring"] {
            assert!(!is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn secret_paths_skip_user_chosen_names_and_variable_names() {
        let secret = |path: &str| is_secret_path(&path.split('.').collect::<Vec<_>>());
        assert!(secret("mcp_servers.demo.env.TOKEN"));
        assert!(secret("mcp_servers.demo.http_headers.X-Api-Key"));
        assert!(secret("openai_api_key"));
        assert!(!secret("mcp_servers.auth.command"));
        assert!(!secret("mcp_servers.demo.bearer_token_env_var"));
        assert!(!secret("mcp_servers.demo.env_http_headers.Authorization"));
        assert!(!secret("mcp_servers.demo.env_vars"));
        assert!(!secret("mcp_oauth_credentials_store"));
        assert!(!secret("profiles.token.model"));
        assert!(!secret("model"));
    }

    #[test]
    fn masking_replaces_only_secret_strings() {
        let table: toml::Table = toml::from_str(
            "[mcp_servers.auth]\ncommand = 'srv'\nargs = ['a']\nenv = { TOKEN = 'hunter2', N = 1 }\n\
             env_http_headers = { Authorization = 'MY_VAR' }\n[features]\nauth_elicitation = true\n",
        )
        .unwrap();
        let masked = mask_table(&table);
        let server = &masked["mcp_servers"]["auth"];
        assert_eq!(server["command"].as_str(), Some("srv"));
        assert_eq!(server["env"]["TOKEN"].as_str(), Some(MASK));
        assert_eq!(server["env"]["N"].as_integer(), Some(1));
        assert_eq!(
            server["env_http_headers"]["Authorization"].as_str(),
            Some("MY_VAR")
        );
        assert_eq!(masked["features"]["auth_elicitation"].as_bool(), Some(true));
        assert!(!toml::to_string(&masked).unwrap().contains("hunter2"));
    }

    #[test]
    fn nested_sensitive_keys_are_found() {
        let value: toml::Value = toml::from_str::<toml::Table>("x = { a = { env = { T = 's' } } }")
            .map(|t| t["x"].clone())
            .unwrap();
        assert!(value_contains_sensitive_key(&value));
        let plain = toml::Value::Integer(1);
        assert!(!value_contains_sensitive_key(&plain));
    }
}
