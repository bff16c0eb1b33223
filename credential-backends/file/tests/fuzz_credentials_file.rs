//! Fuzz target for the credentials file: whatever bytes are in
//! `.credentials.json`, the backend never panics, and when it cannot read the
//! file it refuses to write and leaves every byte as it was.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use codex_file::{FileBackend, mcp_account_key};
use codex_plugin_api::CredentialBackend;
use proptest::prelude::*;

const MCP: &str = "Codex MCP Credentials";

fn record(server: &str, url: &str) -> String {
    serde_json::json!({
        "server_name": server,
        "url": url,
        "client_id": "client",
        "token_response": { "access_token": "token-value", "token_type": "Bearer" },
    })
    .to_string()
}

/// Bytes that look like what a damaged or hand-edited file holds: JSON
/// fragments, valid documents of the wrong shape, and noise.
fn file_contents() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "[\\[\\]{}\",:a-z0-9 \\n]{0,120}".prop_map(String::into_bytes),
        Just(b"{}".to_vec()),
        Just(b"{\"k\": {\"server_name\": 1}}".to_vec()),
        Just(b"{\"k\": {\"server_name\": \"s\", \"server_url\": \"u\"}}".to_vec()),
    ]
}

proptest! {
    #![proptest_config(codex_fuzz_support::cases(256))]

    #[test]
    fn fuzz_any_file_content_is_read_or_refused_and_never_damaged(contents in file_contents()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".credentials.json");
        std::fs::write(&path, &contents).unwrap();
        let backend = FileBackend::new(dir.path().to_path_buf());
        let account = mcp_account_key("srv", "http://127.0.0.1:1/mcp");

        let loaded = backend.load(MCP, &account);
        let stored = backend.store(MCP, &account, &record("srv", "http://127.0.0.1:1/mcp"));
        match loaded {
            Err(error) => {
                // Unreadable: the write must have been refused too, and the
                // file must be exactly what it was.
                prop_assert!(stored.is_err(), "stored over a file it could not read: {error}");
                prop_assert_eq!(std::fs::read(&path).unwrap(), contents);
                prop_assert!(!error.message.contains("token-value"));
            }
            Ok(_) => {
                // Readable: the store went in and can be read back.
                prop_assert!(stored.is_ok(), "{:?}", stored);
                let back = backend.load(MCP, &account).unwrap().unwrap();
                prop_assert!(back.contains("token-value"));
            }
        }
    }
}
