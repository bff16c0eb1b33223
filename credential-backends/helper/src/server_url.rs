//! The "server URL" a credential helper files an entry under.
//!
//! Docker credential helpers key their entries by a server URL and keep a
//! user name beside the secret. A `(service, account)` key becomes
//! `codex://credentials/{service}/{account}`, both parts percent-encoded
//! (everything but ASCII letters, digits and `-._~`), with the account as
//! the user name. Helpers that parse the URL (the macOS Keychain helper)
//! accept it, and `list` shows which entries are Codex's.

/// The scheme and host every entry's URL starts with.
pub const PREFIX: &str = "codex://credentials/";

/// The server URL for `(service, account)`.
pub fn server_url(service: &str, account: &str) -> String {
    format!("{PREFIX}{}/{}", encode(service), encode(account))
}

fn encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_names_become_a_parseable_url() {
        assert_eq!(
            server_url("Codex MCP Credentials", "docs|9a70b85417749d5c"),
            "codex://credentials/Codex%20MCP%20Credentials/docs%7C9a70b85417749d5c"
        );
        assert_eq!(
            server_url("Codex Auth", "cli|0123456789abcdef"),
            "codex://credentials/Codex%20Auth/cli%7C0123456789abcdef"
        );
    }

    #[test]
    fn slashes_and_non_ascii_are_encoded_so_parts_stay_apart() {
        assert_eq!(server_url("a/b", "é"), "codex://credentials/a%2Fb/%C3%A9");
        assert_ne!(server_url("a/b", "c"), server_url("a", "b/c"));
    }
}
