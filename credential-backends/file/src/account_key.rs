//! The account name Codex files MCP OAuth tokens under.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The account Codex uses for the MCP OAuth tokens of server `server_name`
/// at `url`: `"{server_name}|{16 hex digits}"`, the digits being the start of
/// the SHA-256 of `{"type":"http","url":<url>,"headers":{}}` serialized
/// compactly in that key order.
///
/// Codex always hashes empty headers, so the key depends on the name and the
/// URL only; matching it exactly is what lets both programs find each other's
/// tokens.
pub fn mcp_account_key(server_name: &str, url: &str) -> String {
    let mut payload = Map::new();
    payload.insert("type".to_owned(), Value::String("http".to_owned()));
    payload.insert("url".to_owned(), Value::String(url.to_owned()));
    payload.insert("headers".to_owned(), Value::Object(Map::new()));
    // Serializing a map of strings cannot fail; `Value`'s `Display` is the
    // compact form, the same bytes as `serde_json::to_string`.
    let serialized = Value::Object(payload).to_string();
    let digest = Sha256::digest(serialized.as_bytes());
    format!("{server_name}|{}", hex_prefix(&digest, 8))
}

/// Lower-case hex of the first `bytes` bytes of `data`.
fn hex_prefix(data: &[u8], bytes: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes * 2);
    for byte in data.iter().take(bytes) {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values come from `printf '%s' '<json>' | sha256sum` on the
    // exact bytes Codex hashes, not from this code.
    #[test]
    fn matches_sha256sum_of_codex_payload() {
        // printf '%s' '{"type":"http","url":"https://example.com/mcp","headers":{}}' | sha256sum
        // 9a70b85417749d5c7be48b0feaf6e4d76a77369dc85cb2adc6f95bc74d96ad9f
        assert_eq!(
            mcp_account_key("docs", "https://example.com/mcp"),
            "docs|9a70b85417749d5c"
        );
    }

    #[test]
    fn escapes_the_url_the_way_serde_json_does() {
        // printf '%s' '{"type":"http","url":"http://127.0.0.1:8080/mcp?a=\"b\"","headers":{}}' | sha256sum
        // c16512f6d762863812411fe4bd37c61868c32acdc2f386231173799146248d74
        assert_eq!(
            mcp_account_key("local", "http://127.0.0.1:8080/mcp?a=\"b\""),
            "local|c16512f6d7628638"
        );
    }

    #[test]
    fn hex_prefix_pads_each_byte() {
        assert_eq!(hex_prefix(&[0x00, 0x0f, 0xa5, 0xff], 3), "000fa5");
    }
}
