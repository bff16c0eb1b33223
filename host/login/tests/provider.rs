//! codex-login's flows against a real authorization server:
//! node-oidc-provider playing Codex's issuer (tests/oauth/provider.mjs with
//! `OAUTH_CODEX_ISSUER`), its login and consent pages walked by
//! tests/oauth/browser.py. A browser login through the library, then
//! `refresh` (rotation: the old refresh token is then refused for good) and
//! `revoke` (after which a refresh is refused for good), each reported as
//! the AuthManager needs them told apart. Needs tests/setup.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use codex_login::token::{Endpoints, RefreshError, refresh, revoke};
use codex_login::{LoginOptions, browser};

const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Provider {
    issuer: String,
    child: Child,
    _stdin: std::process::ChildStdin,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider(port: u16) -> Provider {
    let modules = repo().join("tests/node_modules");
    assert!(
        modules.join("oidc-provider/package.json").exists(),
        "oidc-provider is not installed: run `bash tests/setup.sh`"
    );
    let node = std::env::var_os("CODEX_TEST_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| modules.join("node/bin/node"));
    let config = serde_json::json!({
        "client_id": CLIENT_ID,
        "redirect_uri": format!("http://localhost:{port}/auth/callback"),
        "account_id": "ws-provider",
        "plan_type": "team",
        "email": "grace@example.com",
    });
    let mut child = Command::new(node)
        .arg(repo().join("tests/oauth/provider.mjs"))
        .args(["0", "--exit-with-stdin"])
        .env("OAUTH_CODEX_ISSUER", config.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    // Drained to the end: the provider also writes notices to stdout, and
    // a closed pipe would kill it (EPIPE).
    std::thread::spawn(move || lines.for_each(drop));
    Provider {
        issuer: line.strip_prefix("ISSUER ").unwrap().to_owned(),
        child,
        _stdin: stdin,
    }
}

#[test]
fn login_refresh_and_revocation_against_oidc_provider() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = start_provider(port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut options = LoginOptions::new(&provider.issuer, CLIENT_ID);
        options.port = port;
        let login = browser::start(options.clone()).await.unwrap();
        let mut walker = Command::new(repo().join("tests/oauth/browser.py"))
            .arg(&login.url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut saved = None;
        let claims = tokio::time::timeout(
            Duration::from_secs(60),
            login.finish(
                |tokens, api_key| {
                    assert!(api_key.is_none(), "oidc-provider has no API-key exchange");
                    saved = Some((
                        tokens.access_token.to_string(),
                        tokens.refresh_token.to_string(),
                    ));
                    Ok(())
                },
                |notice| panic!("unexpected: {notice}"),
            ),
        )
        .await
        .expect("the login finishes")
        .unwrap();
        let _ = walker.wait();
        assert_eq!(claims.account_id.as_deref(), Some("ws-provider"));
        assert_eq!(claims.plan_type.as_deref(), Some("team"));
        assert_eq!(claims.email.as_deref(), Some("grace@example.com"));
        let (_, first) = saved.unwrap();

        let endpoints = Endpoints::for_issuer(&provider.issuer, CLIENT_ID);
        let refreshed = refresh(&endpoints, &first).await.unwrap();
        assert!(!refreshed.access_token.is_empty());
        assert!(!refreshed.refresh_token.is_empty());
        assert_ne!(*refreshed.refresh_token, first, "rotated");

        // A spent refresh token is refused for good (and oidc-provider
        // revokes the grant: rotation detects reuse).
        match refresh(&endpoints, &first).await {
            Err(RefreshError::Permanent(message)) => {
                assert!(
                    message.contains("`codex logout && codex login`"),
                    "{message}"
                )
            }
            Err(other) => panic!("expected a permanent failure, got {other}"),
            Ok(_) => panic!("a spent refresh token refreshed"),
        }

        // A fresh login, revoked: its refresh token no longer works.
        let login = browser::start(options).await.unwrap();
        let mut walker = Command::new(repo().join("tests/oauth/browser.py"))
            .arg(&login.url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut second = None;
        login
            .finish(
                |tokens, _| {
                    second = Some(tokens.refresh_token.to_string());
                    Ok(())
                },
                |_| {},
            )
            .await
            .unwrap();
        let _ = walker.wait();
        let second = second.unwrap();
        revoke(&endpoints, &second, "refresh_token").await.unwrap();
        match refresh(&endpoints, &second).await {
            Err(RefreshError::Permanent(_)) => {}
            Err(other) => panic!("expected a permanent failure after revocation, got {other}"),
            Ok(_) => panic!("a revoked refresh token refreshed"),
        }

        // Nothing listens: a transient failure, not a reason to log out.
        let nowhere = Endpoints {
            refresh_url: format!("http://127.0.0.1:{port}/oauth/token"),
            ..endpoints.clone()
        };
        assert!(matches!(
            refresh(&nowhere, &second).await,
            Err(RefreshError::Transient(_))
        ));
    });
}
