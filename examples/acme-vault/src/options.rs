//! The backend's options.
//!
//! The host hands over `[credential_backends.acme-vault]` from config.toml as
//! a JSON object. This example reads the few string options it has with a
//! small parser of its own so that it depends on nothing but the plugin API;
//! a real backend would use `serde_json`.

use std::path::PathBuf;

use codex_plugin_api::{PluginError, PluginResult};

/// `{"dir": "/path/to/vault"}`; every key optional.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Where the vault keeps its entries. Default: `$CODEX_HOME/acme-vault`.
    pub dir: Option<PathBuf>,
}

impl Options {
    /// Parses the options. Unknown keys and non-string values are errors
    /// naming the key, so a typo in config.toml is reported, not ignored.
    pub fn parse(json: &str) -> PluginResult<Options> {
        let mut options = Options::default();
        for (key, value) in parse_string_object(json)? {
            match key.as_str() {
                "dir" if !value.is_empty() => options.dir = Some(PathBuf::from(value)),
                "dir" => {
                    return Err(PluginError::invalid_config(
                        "credential_backends.acme-vault.dir: expected a directory, got an empty \
                         string",
                    ));
                }
                other => {
                    return Err(PluginError::invalid_config(format!(
                        "credential_backends.acme-vault.{other}: unknown option; the only option \
                         is `dir`"
                    )));
                }
            }
        }
        Ok(options)
    }
}

fn bad(what: &str) -> PluginError {
    PluginError::invalid_config(format!(
        "the options of credential backend `acme-vault` are not what it expects: {what} (every \
         option is a string)"
    ))
}

/// Parses a flat JSON object whose values are strings.
fn parse_string_object(json: &str) -> PluginResult<Vec<(String, String)>> {
    let mut chars = json.trim().chars().peekable();
    let mut pairs = Vec::new();
    if chars.peek().is_none() {
        return Ok(pairs);
    }
    if chars.next() != Some('{') {
        return Err(bad("expected a JSON object"));
    }
    loop {
        skip_space(&mut chars);
        match chars.peek() {
            Some('}') if pairs.is_empty() => {
                chars.next();
                break;
            }
            Some('"') => {}
            _ => return Err(bad("expected a key in double quotes")),
        }
        let key = parse_string(&mut chars)?;
        skip_space(&mut chars);
        if chars.next() != Some(':') {
            return Err(bad("expected ':' after a key"));
        }
        skip_space(&mut chars);
        if chars.peek() != Some(&'"') {
            return Err(bad(&format!("the value of `{key}` is not a string")));
        }
        let value = parse_string(&mut chars)?;
        pairs.push((key, value));
        skip_space(&mut chars);
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            _ => return Err(bad("expected ',' or '}'")),
        }
    }
    skip_space(&mut chars);
    if chars.next().is_some() {
        return Err(bad("text after the object"));
    }
    Ok(pairs)
}

fn skip_space(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

fn parse_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> PluginResult<String> {
    chars.next(); // the opening quote
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(bad("a string is not closed")),
            Some('"') => return Ok(out),
            Some('\\') => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .map_err(|_| bad("a \\u escape is not four hex digits"))?;
                    out.push(char::from_u32(code).ok_or_else(|| {
                        bad("a \\u escape is not a character (surrogate pairs are not supported)")
                    })?);
                }
                _ => return Err(bad("an unknown escape in a string")),
            },
            Some(c) => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dir_and_nothing_else() {
        assert_eq!(Options::parse("").unwrap(), Options::default());
        assert_eq!(Options::parse(" { } ").unwrap(), Options::default());
        assert_eq!(
            Options::parse(r#"{"dir": "/var/lib/acme \"vault\"\u00e9"}"#)
                .unwrap()
                .dir,
            Some(PathBuf::from("/var/lib/acme \"vault\"é"))
        );
        let error = Options::parse(r#"{"dri": "/x"}"#).unwrap_err();
        assert_eq!(
            error.message.as_str(),
            "credential_backends.acme-vault.dri: unknown option; the only option is `dir`"
        );
        assert!(Options::parse(r#"{"dir": 3}"#).is_err());
        assert!(Options::parse(r#"{"dir": "/x""#).is_err());
        assert!(Options::parse("[]").is_err());
    }
}
