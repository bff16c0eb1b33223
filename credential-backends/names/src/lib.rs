//! The keyring service and account names the Codex CLI files secrets under,
//! so that both programs find each other's entries in every store; and the
//! `timeout_secs` rule of every credential backend ([`timeout`]).

pub mod timeout;

use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The service of MCP OAuth tokens.
pub const MCP_SERVICE: &str = "Codex MCP Credentials";
/// The service under which this host's oauth plugin keeps, beside each MCP
/// login (same account), what Codex's record has no room for and drops when
/// Codex rewrites it: the client's secret and authentication method, the
/// endpoints, the resource. Codex never reads it.
pub const MCP_CLIENT_SERVICE: &str = "codex host MCP OAuth clients";
/// The service of the CLI's own login (the `auth.json` document).
pub const AUTH_SERVICE: &str = "Codex Auth";

/// The account of the MCP OAuth tokens of server `server_name` at `url`:
/// `"{server_name}|{16 hex digits}"`, the digits starting the SHA-256 of
/// `{"type":"http","url":<url>,"headers":{}}` serialized compactly in that
/// key order (Codex always hashes empty headers).
pub fn mcp_account(server_name: &str, url: &str) -> String {
    let mut payload = Map::new();
    payload.insert("type".to_owned(), Value::String("http".to_owned()));
    payload.insert("url".to_owned(), Value::String(url.to_owned()));
    payload.insert("headers".to_owned(), Value::Object(Map::new()));
    let digest = Sha256::digest(Value::Object(payload).to_string().as_bytes());
    format!("{server_name}|{}", hex16(&digest))
}

/// The account of the CLI login for `codex_home`: `"cli|{16 hex digits}"`
/// of the SHA-256 of the canonical path (the path as given when it cannot
/// be canonicalized, as Codex does).
pub fn cli_auth_account(codex_home: &Path) -> String {
    let canonical = codex_home
        .canonicalize()
        .unwrap_or_else(|_| codex_home.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    format!("cli|{}", hex16(&digest))
}

/// The last segment of the OAuth redirect path Codex uses for a
/// pre-registered client of the server at `url`: the first 9 bytes of the
/// SHA-256 of the URL, base64url (12 characters, no padding). Codex's
/// redirect URI is `http://127.0.0.1:{port}/callback/{this}`, and
/// `codex mcp add --oauth-client-id` writes it (without the port) to
/// `[mcp_servers.NAME.oauth] callback_url` for the user to register.
pub fn mcp_callback_id(url: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(url.as_bytes());
    let mut out = String::with_capacity(12);
    for chunk in digest[..9].chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
        }
    }
    out
}

/// Lower-case hex of the first 8 bytes.
fn hex16(digest: &[u8]) -> String {
    digest
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from `printf '%s' '<bytes>' | sha256sum`, not from this code.
    #[test]
    fn mcp_account_matches_sha256sum_of_codex_payload() {
        // printf '%s' '{"type":"http","url":"https://example.com/mcp","headers":{}}' | sha256sum
        assert_eq!(
            mcp_account("docs", "https://example.com/mcp"),
            "docs|9a70b85417749d5c"
        );
    }

    #[test]
    fn mcp_account_escapes_the_url_the_way_serde_json_does() {
        // printf '%s' '{"type":"http","url":"http://127.0.0.1:8080/mcp?a=\"b\"","headers":{}}' | sha256sum
        // c16512f6d762863812411fe4bd37c61868c32acdc2f386231173799146248d74
        assert_eq!(
            mcp_account("local", "http://127.0.0.1:8080/mcp?a=\"b\""),
            "local|c16512f6d7628638"
        );
    }

    #[test]
    fn callback_ids_are_the_ones_codex_writes() {
        // What Codex 0.169 wrote for `mcp add --url U --oauth-client-id ...`.
        assert_eq!(mcp_callback_id("http://127.0.0.1:1/mcp"), "4ncvuG_qJEiw");
        assert_eq!(mcp_callback_id("http://127.0.0.1:1/other"), "WJIaW17uZwrJ");
    }

    #[test]
    fn cli_account_hashes_the_canonical_home() {
        // printf '%s' '/' | sha256sum → 8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1
        assert_eq!(cli_auth_account(Path::new("/")), "cli|8a5edab282632443");
        // A path that does not exist is hashed as given.
        // printf '%s' '/no/such/codex-home' | sha256sum → 9ec7bfeae061c9dcf132cf6a6d867c8ca093721b3f4f968b3c00af13574f5cbc
        assert_eq!(
            cli_auth_account(Path::new("/no/such/codex-home")),
            "cli|9ec7bfeae061c9dc"
        );
    }
}
