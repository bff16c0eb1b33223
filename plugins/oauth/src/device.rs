//! The device authorization grant (RFC 8628) for machines without a
//! browser (SSH sessions, containers): the user code and the verification
//! URI are shown, the person approves on any other device, and the token
//! endpoint is polled meanwhile at the server's `interval`, slowing down
//! when it says `slow_down`, until the code's `expires_in` has passed.

use std::time::Duration;

use codex_plugin_api::{ErrorKind, HostServices, PluginError, PluginResult};
use reqwest::Url;
use serde_json::Value;
use tokio::time::Instant;

use crate::net::Net;
use crate::registration::{Client, DEVICE_CODE_GRANT};
use crate::token::{self, TokenResponse};

/// RFC 8628 section 3.2: the polling interval when the server names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 section 3.5: what `slow_down` adds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// An interval beyond this is a server's mistake; polling stays bounded.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// How long a code is waited for when the server does not say.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(600);
/// How many polls in a row may fail to reach the token endpoint before the
/// login gives up. Polls are seconds apart, longer than many servers keep an
/// idle connection, so one may meet a connection the server just closed.
const MAX_UNREACHABLE_POLLS: u32 = 3;

/// The device authorization answer (RFC 8628 section 3.2).
pub struct DeviceCode {
    pub device_code: zeroize::Zeroizing<String>,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// What one poll of the token endpoint said.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Not approved yet: ask again after `interval`.
    Pending { interval: Duration },
    /// The person refused.
    Denied,
    /// The code expired.
    Expired,
    /// Any other error: its text.
    Failed(String),
}

/// The next step after an error answer `error` while polling every `interval`.
pub fn after_error(error: Option<&str>, description: String, interval: Duration) -> Poll {
    match error {
        Some("authorization_pending") => Poll::Pending { interval },
        Some("slow_down") => Poll::Pending {
            interval: (interval + SLOW_DOWN_STEP).min(MAX_INTERVAL),
        },
        Some("access_denied") => Poll::Denied,
        Some("expired_token") => Poll::Expired,
        _ => Poll::Failed(description),
    }
}

/// Asks `endpoint` for a device code for `client`, `scopes` and `resource`.
pub async fn request(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    scopes: Option<&[String]>,
    resource: &str,
) -> PluginResult<DeviceCode> {
    let scope = crate::machine::joined(scopes);
    let mut form = vec![("resource", resource)];
    if let Some(scope) = &scope {
        form.push(("scope", scope));
    }
    let server = net.server();
    let answer = net.post_form(endpoint, &form, &client.auth()?).await?;
    if !answer.status.is_success() {
        return Err(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server of MCP server `{server}` refused to start a device login: {}",
                answer.error_text(net)
            ),
        ));
    }
    let json = &answer.json;
    let text = |key: &str| {
        json.get(key)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let seconds = |key: &str| {
        json.get(key)
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
    };
    let missing = |key: &str| {
        PluginError::new(
            ErrorKind::Protocol,
            format!(
                "the device authorization answer of MCP server `{server}`'s authorization server has no `{key}`"
            ),
        )
    };
    Ok(DeviceCode {
        device_code: zeroize::Zeroizing::new(
            text("device_code").ok_or_else(|| missing("device_code"))?,
        ),
        user_code: text("user_code").ok_or_else(|| missing("user_code"))?,
        verification_uri: text("verification_uri")
            // An early draft's name, still sent by some servers.
            .or_else(|| text("verification_url"))
            .ok_or_else(|| missing("verification_uri"))?,
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: seconds("expires_in").unwrap_or(DEFAULT_EXPIRY),
        interval: seconds("interval")
            .unwrap_or(DEFAULT_INTERVAL)
            .clamp(Duration::from_secs(1), MAX_INTERVAL),
    })
}

/// The lines that tell the person what to do.
pub fn instructions(server: &str, code: &DeviceCode) -> String {
    let mut text = format!(
        "To log in to MCP server `{server}`, open this page on any device:\n\n  {}\n\nand enter the code:\n\n  {}\n",
        code.verification_uri, code.user_code
    );
    if let Some(complete) = &code.verification_uri_complete {
        text.push_str(&format!(
            "\nOr open this link, which carries the code:\n\n  {complete}\n"
        ));
    }
    text.push_str(&format!(
        "\nWaiting for approval (the code expires in {}; Ctrl-C cancels)…",
        minutes(code.expires_in)
    ));
    text
}

fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 120 {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// Polls `endpoint` until the person approved `code`, refused it, or it
/// expired.
pub async fn wait(
    host: &HostServices,
    net: &Net,
    endpoint: &Url,
    client: &Client,
    code: &DeviceCode,
    resource: &str,
) -> PluginResult<TokenResponse> {
    let server = net.server();
    let deadline = Instant::now() + code.expires_in;
    let mut interval = code.interval;
    let mut unreachable = 0;
    loop {
        if Instant::now() + interval > deadline {
            return Err(expired(server));
        }
        tokio::time::sleep(interval).await;
        let form = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("device_code", code.device_code.as_str()),
            ("resource", resource),
        ];
        let answer = match net.post_form(endpoint, &form, &client.auth()?).await {
            Ok(answer) => answer,
            Err(error)
                if error.kind == ErrorKind::Unavailable
                    && unreachable + 1 < MAX_UNREACHABLE_POLLS =>
            {
                // Polling again is harmless: the device code stays valid.
                unreachable += 1;
                host.log(
                    codex_plugin_api::LogLevel::Debug,
                    &format!("{}; polling again", error.message),
                );
                continue;
            }
            Err(error) => return Err(error),
        };
        unreachable = 0;
        if answer.status.is_success() {
            return token::read(net, &answer);
        }
        let error = answer.json.get("error").and_then(Value::as_str);
        match after_error(error, answer.error_text(net), interval) {
            Poll::Pending { interval: next } => {
                if next > interval {
                    host.log(
                        codex_plugin_api::LogLevel::Debug,
                        &format!(
                            "the authorization server of MCP server `{server}` asks to poll more slowly: every {} s",
                            next.as_secs()
                        ),
                    );
                }
                interval = next;
            }
            Poll::Denied => {
                return Err(PluginError::new(
                    ErrorKind::Unauthorized,
                    format!(
                        "the login to MCP server `{server}` was refused on the authorization server's page; run `codex mcp login {server} --device` to try again"
                    ),
                ));
            }
            Poll::Expired => return Err(expired(server)),
            Poll::Failed(why) => {
                return Err(PluginError::new(
                    ErrorKind::Unauthorized,
                    format!(
                        "the authorization server of MCP server `{server}` ended the device login: {why}"
                    ),
                ));
            }
        }
    }
}

fn expired(server: &str) -> PluginError {
    PluginError::new(
        ErrorKind::Timeout,
        format!(
            "the device code of MCP server `{server}` expired before the login was approved; run `codex mcp login {server} --device` for a new code"
        ),
    )
}

/// The error for an authorization server without device authorization.
pub fn unsupported(server: &str, issuer: &str) -> PluginError {
    PluginError::new(
        ErrorKind::Unavailable,
        format!(
            "the authorization server {issuer} of MCP server `{server}` offers no device authorization (RFC 8628: its metadata has no `device_authorization_endpoint`); log in with the browser instead: `codex mcp login {server}`, or `codex mcp login {server} --no-browser` to open the URL on another machine and paste the redirect back"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_follows_the_server() {
        let five = Duration::from_secs(5);
        let step = |error: &str, interval| after_error(Some(error), "why".into(), interval);
        assert_eq!(
            step("authorization_pending", five),
            Poll::Pending { interval: five }
        );
        assert_eq!(
            step("slow_down", five),
            Poll::Pending {
                interval: Duration::from_secs(10)
            }
        );
        assert_eq!(
            step("slow_down", Duration::from_secs(58)),
            Poll::Pending {
                interval: MAX_INTERVAL
            }
        );
        assert_eq!(step("access_denied", five), Poll::Denied);
        assert_eq!(step("expired_token", five), Poll::Expired);
        assert_eq!(step("invalid_client", five), Poll::Failed("why".into()));
        assert_eq!(
            after_error(None, "500".into(), five),
            Poll::Failed("500".into())
        );
    }

    #[test]
    fn instructions_show_the_code_the_page_and_the_complete_link() {
        let code = DeviceCode {
            device_code: zeroize::Zeroizing::new("secret-device-code".into()),
            user_code: "ABCD-EFGH".into(),
            verification_uri: "https://as.example.com/device".into(),
            verification_uri_complete: Some(
                "https://as.example.com/device?user_code=ABCD-EFGH".into(),
            ),
            expires_in: Duration::from_secs(600),
            interval: five(),
        };
        let text = instructions("docs", &code);
        assert!(text.contains("  https://as.example.com/device\n"), "{text}");
        assert!(text.contains("  ABCD-EFGH\n"), "{text}");
        assert!(text.contains("?user_code=ABCD-EFGH"), "{text}");
        assert!(text.contains("expires in 10 minutes"), "{text}");
        assert!(!text.contains("secret-device-code"));
    }

    fn five() -> Duration {
        Duration::from_secs(5)
    }
}
