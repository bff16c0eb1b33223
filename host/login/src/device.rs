//! The device-code flow on Codex's own endpoints, for machines without a
//! browser (SSH sessions, containers):
//!
//! 1. `POST {issuer}/api/accounts/deviceauth/usercode {"client_id"}` gives a
//!    user code, a `device_auth_id` and the polling interval (a 404: the
//!    issuer has no device login, use the browser flow);
//! 2. the person opens `{issuer}/codex/device` and enters the code;
//! 3. `POST {issuer}/api/accounts/deviceauth/token` is polled every
//!    interval (403/404: not yet) until it gives an authorization code with
//!    the PKCE pair the server made, or the time limit (15 minutes) passes;
//! 4. the code is exchanged at `{issuer}/oauth/token` with the redirect URI
//!    `{issuer}/deviceauth/callback`.

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::claims::IdTokenClaims;
use crate::policy::check_workspace;
use crate::token::{Tokens, exchange_code};
use crate::{LoginError, LoginOptions, http};

/// How long a device code lives at Codex's issuer.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The shortest wait between two polls, whatever the server says.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A user code waiting for the person to enter it.
pub struct DeviceCode {
    pub verification_url: String,
    pub user_code: String,
    device_auth_id: Zeroizing<String>,
    interval: Duration,
}

#[derive(Deserialize)]
struct UserCodeResponse {
    device_auth_id: Zeroizing<String>,
    #[serde(alias = "usercode")]
    user_code: String,
    #[serde(default, deserialize_with = "interval")]
    interval: u64,
}

/// Codex's server sends the interval as a string; a number is taken too.
fn interval<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Interval {
        Text(String),
        Number(u64),
    }
    match Interval::deserialize(deserializer)? {
        Interval::Number(seconds) => Ok(seconds),
        Interval::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
struct CodeResponse {
    authorization_code: Zeroizing<String>,
    code_verifier: Zeroizing<String>,
}

fn accounts_url(options: &LoginOptions, path: &str) -> String {
    format!("{}/api/accounts/deviceauth/{path}", options.issuer)
}

/// Asks the issuer for a user code.
pub async fn request(options: &LoginOptions) -> Result<DeviceCode, LoginError> {
    options.check_issuer()?;
    let client = http::client(&options.originator)?;
    let body = serde_json::json!({ "client_id": options.client_id }).to_string();
    let response = client
        .post(accounts_url(options, "usercode"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|error| {
            LoginError::Network(format!(
                "cannot reach {} for a device code: {}",
                options.issuer,
                http::describe(&error)
            ))
        })?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(LoginError::DeviceCodeUnsupported);
    }
    if !status.is_success() {
        return Err(LoginError::Network(format!(
            "device code request failed with status {status}"
        )));
    }
    let text = response
        .text()
        .await
        .map_err(|error| LoginError::Network(http::describe(&error)))?;
    let parsed: UserCodeResponse = serde_json::from_str(&text).map_err(|error| {
        LoginError::Network(format!(
            "the device code answer of {} is not Codex's (line {}, column {}: it needs \
             device_auth_id, user_code and interval)",
            options.issuer,
            error.line(),
            error.column()
        ))
    })?;
    Ok(DeviceCode {
        verification_url: format!("{}/codex/device", options.issuer),
        user_code: parsed.user_code,
        device_auth_id: parsed.device_auth_id,
        interval: Duration::from_secs(parsed.interval).max(MIN_INTERVAL),
    })
}

/// Codex's prompt for `code` (`color`: with its terminal colours).
pub fn prompt(code: &DeviceCode, color: bool) -> String {
    let (blue, gray, reset) = if color {
        ("\x1b[94m", "\x1b[90m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    format!(
        "\nFollow these steps to sign in with ChatGPT using device code authorization:\n\n\
         1. Open this link in your browser and sign in to your account\n   {blue}{}{reset}\n\n\
         2. Enter this one-time code {gray}(expires in 15 minutes){reset}\n   {blue}{}{reset}\n\n\
         {gray}Continue only if you started this login in Codex. If a website or another person \
         gave you this code, cancel.{reset}\n",
        code.verification_url, code.user_code
    )
}

/// Polls until the code is approved (or `limit` passes), exchanges it,
/// checks the workspace and hands the tokens to `save`.
pub async fn complete(
    options: &LoginOptions,
    code: DeviceCode,
    limit: Duration,
    save: impl FnOnce(&Tokens) -> Result<(), String>,
) -> Result<IdTokenClaims, LoginError> {
    let client = http::client(&options.originator)?;
    let approved = poll(&client, options, &code, limit).await?;
    let redirect_uri = format!("{}/deviceauth/callback", options.issuer);
    let tokens = exchange_code(
        &client,
        options,
        &redirect_uri,
        &approved.code_verifier,
        &approved.authorization_code,
    )
    .await
    .map_err(|error| match error {
        LoginError::Exchange(text) => {
            LoginError::Exchange(format!("device code exchange failed: {text}"))
        }
        other => other,
    })?;
    let claims = check_workspace(options.allowed_workspaces.as_deref(), &tokens.id_token)?;
    save(&tokens).map_err(|error| {
        LoginError::Save(format!(
            "Sign-in completed but credentials could not be saved locally: {error}"
        ))
    })?;
    Ok(claims)
}

async fn poll(
    client: &reqwest::Client,
    options: &LoginOptions,
    code: &DeviceCode,
    limit: Duration,
) -> Result<CodeResponse, LoginError> {
    let url = accounts_url(options, "token");
    let body = Zeroizing::new(
        serde_json::json!({
            "device_auth_id": code.device_auth_id.as_str(),
            "user_code": code.user_code,
        })
        .to_string(),
    );
    let start = Instant::now();
    let mut interval = code.interval;
    loop {
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| {
                LoginError::Network(format!(
                    "cannot reach {} while waiting for the device code: {}",
                    options.issuer,
                    http::describe(&error)
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            let text = Zeroizing::new(
                response
                    .text()
                    .await
                    .map_err(|error| LoginError::Network(http::describe(&error)))?,
            );
            return serde_json::from_str(&text).map_err(|error| {
                LoginError::Network(format!(
                    "the approved device code's answer is not Codex's (line {}, column {}: it \
                     needs authorization_code, code_challenge and code_verifier)",
                    error.line(),
                    error.column()
                ))
            });
        }
        let pending =
            status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::NOT_FOUND;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            // RFC 8628's slow_down, by status: wait longer from now on.
            interval += Duration::from_secs(5);
        } else if !pending {
            let text = response.text().await.unwrap_or_default();
            return Err(LoginError::Denied(format!(
                "device auth failed with status {status}: {}; run `codex login --device-auth` \
                 again for a new code",
                http::error_detail(&text)
            )));
        }
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return Err(LoginError::TimedOut(format!(
                "device auth timed out after {}; the code was not entered in time. Run `codex \
                 login --device-auth` again for a new code.",
                describe_duration(limit)
            )));
        }
        tokio::time::sleep(interval.min(limit - elapsed)).await;
    }
}

fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds.is_multiple_of(60) && seconds >= 60 {
        let minutes = seconds / 60;
        format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
    } else {
        format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_comes_as_text_or_number() {
        let text: UserCodeResponse =
            serde_json::from_str(r#"{"device_auth_id":"d","user_code":"U","interval":" 5 "}"#)
                .unwrap();
        assert_eq!(text.interval, 5);
        let number: UserCodeResponse =
            serde_json::from_str(r#"{"device_auth_id":"d","usercode":"U","interval":3}"#).unwrap();
        assert_eq!((number.interval, number.user_code.as_str()), (3, "U"));
        assert_eq!(describe_duration(CODE_LIFETIME), "15 minutes");
        assert_eq!(describe_duration(Duration::from_secs(2)), "2 seconds");
    }
}
