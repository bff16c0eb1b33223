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
    fn nested_sensitive_keys_are_found() {
        let value: toml::Value = toml::from_str::<toml::Table>("x = { a = { env = { T = 's' } } }")
            .map(|t| t["x"].clone())
            .unwrap();
        assert!(value_contains_sensitive_key(&value));
        let plain = toml::Value::Integer(1);
        assert!(!value_contains_sensitive_key(&plain));
    }
}
