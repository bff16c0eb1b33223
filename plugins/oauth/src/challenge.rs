//! `WWW-Authenticate` challenges (RFC 9110 section 11.6.1): what a 401 or
//! 403 tells a client about the authorization it needs (RFC 6750 section 3,
//! RFC 9728 section 5.1).
//!
//! One header value may hold several challenges (`Basic realm="x", Bearer
//! scope="a"`), and a response may carry several header values; only the
//! `Bearer` challenge matters here.

/// The parameters of a `Bearer` challenge that steer authorization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `resource_metadata`: where the protected-resource metadata is.
    pub resource_metadata: Option<String>,
    /// `scope`: the scopes the request needs, space-separated.
    pub scope: Option<String>,
    /// `error`: `invalid_token`, `insufficient_scope`, ...
    pub error: Option<String>,
}

impl BearerChallenge {
    /// The scopes of `scope`, in order, without duplicates.
    pub fn scopes(&self) -> Vec<String> {
        split_scopes(self.scope.as_deref().unwrap_or_default())
    }

    /// Whether the server said the token lacks scope (RFC 6750 section 3.1).
    pub fn insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }
}

/// The first `Bearer` challenge among `values` (each a `WWW-Authenticate`
/// header value); `None` when there is none.
pub fn bearer(values: &[String]) -> Option<BearerChallenge> {
    values
        .iter()
        .flat_map(|value| parse(value))
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("bearer"))
        .map(|challenge| {
            let param = |name: &str| {
                challenge
                    .params
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.clone())
            };
            BearerChallenge {
                resource_metadata: param("resource_metadata"),
                scope: param("scope"),
                error: param("error"),
            }
        })
}

/// Scopes from a space-separated list, in order, without duplicates.
pub fn split_scopes(text: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in text.split_ascii_whitespace() {
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

/// One challenge: a scheme and its parameters (a token68 is dropped).
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

/// Every challenge of one header value. Malformed parts end the parse; what
/// was read before them is kept.
fn parse(value: &str) -> Vec<Challenge> {
    let mut lexer = Lexer {
        rest: value.as_bytes(),
    };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        lexer.skip_separators();
        let Some(token) = lexer.token() else {
            break;
        };
        lexer.skip_spaces();
        if lexer.peek() == Some(b'=') {
            // `name=value` continues the current challenge's parameters
            // (or is a token68 ending in `=`, which is dropped).
            lexer.bump();
            lexer.skip_spaces();
            let Some(value) = lexer.value() else {
                // A token68 padding (`abc==`) or garbage: skip to a comma.
                lexer.skip_past_comma();
                continue;
            };
            if let Some(current) = challenges.last_mut() {
                current.params.push((token, value));
            }
        } else {
            // A new scheme. A token68 after it (`Negotiate abc==`) reads as
            // a parameterless scheme or a value-less parameter: harmless.
            challenges.push(Challenge {
                scheme: token,
                params: Vec::new(),
            });
        }
    }
    challenges
}

/// A cursor over a header value.
struct Lexer<'a> {
    rest: &'a [u8],
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn bump(&mut self) {
        self.rest = &self.rest[1..];
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.bump();
        }
    }

    fn skip_past_comma(&mut self) {
        while let Some(byte) = self.peek() {
            self.bump();
            if byte == b',' {
                break;
            }
        }
    }

    /// An RFC 9110 token (or the token68 characters `/`, `+`).
    fn token(&mut self) -> Option<String> {
        let length = self
            .rest
            .iter()
            .take_while(|byte| is_token_byte(**byte))
            .count();
        if length == 0 {
            return None;
        }
        let (token, rest) = self.rest.split_at(length);
        self.rest = rest;
        Some(String::from_utf8_lossy(token).into_owned())
    }

    /// A parameter value: a token or a quoted string (with `\` escapes).
    fn value(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return self.token();
        }
        self.bump();
        let mut value = Vec::new();
        while let Some(byte) = self.peek() {
            self.bump();
            match byte {
                b'"' => return Some(String::from_utf8_lossy(&value).into_owned()),
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        self.bump();
                        value.push(escaped);
                    }
                }
                other => value.push(other),
            }
        }
        // An unterminated quote: take what there is.
        Some(String::from_utf8_lossy(&value).into_owned())
    }
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Option<BearerChallenge> {
        bearer(&[value.to_owned()])
    }

    #[test]
    fn bearer_parameters_are_read_quoted_or_not() {
        let challenge = one(
            r#"Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp", scope="mcp:basic mcp:write", error=insufficient_scope"#,
        )
        .unwrap();
        assert_eq!(
            challenge.resource_metadata.as_deref(),
            Some("http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(challenge.scopes(), ["mcp:basic", "mcp:write"]);
        assert!(challenge.insufficient_scope());
    }

    #[test]
    fn the_bearer_challenge_is_found_among_others() {
        let challenge = one(r#"Basic realm="a, b", Bearer realm="x", scope="s""#).unwrap();
        assert_eq!(challenge.scope.as_deref(), Some("s"));
        let later = bearer(&[
            "Basic realm=\"x\"".into(),
            "bearer error=\"invalid_token\"".into(),
        ])
        .unwrap();
        assert_eq!(later.error.as_deref(), Some("invalid_token"));
        assert!(one(r#"Basic realm="x""#).is_none());
        assert!(one("").is_none());
    }

    #[test]
    fn escapes_and_token68_are_handled() {
        let challenge = one(r#"Bearer scope="a \"b\" c\\d""#).unwrap();
        assert_eq!(challenge.scope.as_deref(), Some(r#"a "b" c\d"#));
        let after_token68 = one(r#"Negotiate abc+/def==, Bearer scope="x""#).unwrap();
        assert_eq!(after_token68.scope.as_deref(), Some("x"));
        let bare = one("Bearer").unwrap();
        assert_eq!(bare, BearerChallenge::default());
    }

    #[test]
    fn garbage_never_panics_and_keeps_what_was_read() {
        for value in [
            "=",
            "==,,",
            "Bearer =",
            "Bearer scope=",
            "Bearer scope=\"open",
            ",,,",
            "\"",
            "Bearer a=b=c",
            "Bearer scope=\"x\", =y, error=invalid_token",
        ] {
            let _ = one(value);
        }
        let open = one("Bearer scope=\"open").unwrap();
        assert_eq!(open.scope.as_deref(), Some("open"));
        let kept = one("Bearer scope=\"x\", =y, error=invalid_token").unwrap();
        assert_eq!(kept.scope.as_deref(), Some("x"));
    }

    #[test]
    fn scopes_are_split_without_duplicates() {
        assert_eq!(split_scopes("  a b  a c "), ["a", "b", "c"]);
        assert!(split_scopes("").is_empty());
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-transport-oauth --lib fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn header() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "((Bearer|Basic|bearer|[a-z]{1,3})?[ ,=\"\\\\\t]{0,3}(scope|error|resource_metadata|[a-z]{1,2})?[ ,=\"\\\\]{0,3}\\PC{0,4}){0,5}",
        ]
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(1024))]

        #[test]
        fn fuzz_bearer_challenge_never_panics(values in proptest::collection::vec(header(), 0..3)) {
            if let Some(challenge) = bearer(&values) {
                let _ = challenge.scopes();
                let _ = challenge.insufficient_scope();
                // Only a header naming the scheme yields a challenge.
                prop_assert!(values.iter().any(|v| v.to_ascii_lowercase().contains("bearer")));
            }
        }

        #[test]
        fn fuzz_bearer_reads_back_quoted_parameters(
            scope in "\\PC{0,12}",
            error in "[a-z_]{1,12}",
            before in prop_oneof![Just(String::new()), Just("Basic realm=\"a, b\", ".to_owned())],
        ) {
            let quoted = scope.replace('\\', "\\\\").replace('"', "\\\"");
            let header = format!("{before}Bearer scope=\"{quoted}\", error={error}");
            let challenge = bearer(&[header]).unwrap();
            prop_assert_eq!(challenge.scope.as_deref(), Some(scope.as_str()));
            prop_assert_eq!(challenge.error.as_deref(), Some(error.as_str()));
        }
    }
}
