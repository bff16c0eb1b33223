//! The access-token login (`codex login --with-access-token`) as Codex 0.169
//! has it: the token is an Agent Identity JWT, signed (RS256) by ChatGPT's
//! backend, that carries the agent's own Ed25519 key. Logging in checks the
//! signature against the backend's JWKS and stores the token as it came:
//!
//! ```json
//! { "auth_mode": "agentIdentity", "OPENAI_API_KEY": null, "agent_identity": "<JWT>" }
//! ```
//!
//! and `login status` checks it again and registers a task with the token's
//! key (an Ed25519 signature of `RUNTIME_ID:TIMESTAMP`), which is how the
//! backend says the identity is still good.
//!
//! Endpoints: `CODEX_AGENT_IDENTITY_JWKS_BASE_URL` (the JWKS is at
//! `BASE/agent-identities/jwks`) and `CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL`
//! (tasks at `BASE/v1/agent/ID/task/register`), else derived from
//! `chatgpt_base_url` for ChatGPT's production and staging environments.
//! For any other `chatgpt_base_url` Codex stores the token without checking
//! its signature and `login status` refuses it; so does this module.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::http;

pub const JWKS_BASE_URL_ENV: &str = "CODEX_AGENT_IDENTITY_JWKS_BASE_URL";
pub const AUTHAPI_BASE_URL_ENV: &str = "CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL";
/// Codex's default `chatgpt_base_url`.
pub const DEFAULT_CHATGPT_BASE_URL: &str = "https://chatgpt.com/backend-api/";

const ISSUER: &str = "https://chatgpt.com/codex-backend/agent-identity";
const AUDIENCE: &str = "codex-app-server";
const PRODUCTION_AUTHAPI: &str =
    "https://authapi-login-provider.gateway.unified-7.internal.api.openai.org/api/accounts";
const STAGING_AUTHAPI: &str =
    "https://authapi-login-provider.gateway.unified-0s.internal.api.openai.org/api/accounts";
/// The clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;
const JWKS_TIMEOUT: Duration = Duration::from_secs(10);

/// What an Agent Identity token says. The private key stays in a zeroizing
/// string and is used only to sign task registrations.
#[derive(Deserialize)]
pub struct AgentIdentity {
    iss: String,
    aud: String,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    pub agent_runtime_id: String,
    agent_private_key: Zeroizing<String>,
    pub account_id: String,
    pub chatgpt_user_id: String,
    pub email: String,
    pub plan_type: String,
    pub chatgpt_account_is_fedramp: bool,
}

impl std::fmt::Debug for AgentIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentIdentity")
            .field("agent_runtime_id", &self.agent_runtime_id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("plan_type", &self.plan_type)
            .finish_non_exhaustive()
    }
}

/// Where the token is checked and its tasks registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `None`: an environment Codex does not check tokens for.
    pub jwks_url: Option<String>,
    /// `Err`: Codex's message for an environment without task registration.
    pub authapi_base_url: Result<String, String>,
}

impl Endpoints {
    /// From the environment overrides, else `chatgpt_base_url` (Codex's
    /// default when `None`).
    pub fn new(chatgpt_base_url: Option<&str>) -> Endpoints {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().trim_end_matches('/').to_owned())
                .filter(|value| !value.is_empty())
        };
        Endpoints::from_parts(
            env(JWKS_BASE_URL_ENV),
            env(AUTHAPI_BASE_URL_ENV),
            chatgpt_base_url.unwrap_or(DEFAULT_CHATGPT_BASE_URL),
        )
    }

    fn from_parts(
        jwks_base: Option<String>,
        authapi_base: Option<String>,
        chatgpt_base_url: &str,
    ) -> Endpoints {
        let base = normalize_chatgpt_base_url(chatgpt_base_url);
        let staging = base.contains("chatgpt-staging.com") || base.contains("openai-staging.com");
        let production =
            base.starts_with("https://chatgpt.com") || base.starts_with("https://chat.openai.com");
        let jwks_url = match jwks_base {
            Some(jwks_base) => Some(format!("{jwks_base}/agent-identities/jwks")),
            None if staging || production => Some(jwks_url_under(&base)),
            None => None,
        };
        let authapi_base_url = match authapi_base {
            Some(authapi_base) => Ok(authapi_base),
            None if staging => Ok(STAGING_AUTHAPI.to_owned()),
            None if production => Ok(PRODUCTION_AUTHAPI.to_owned()),
            None => Err(
                "Agent Identity only supports production and staging ChatGPT environments"
                    .to_owned(),
            ),
        };
        Endpoints {
            jwks_url,
            authapi_base_url,
        }
    }
}

/// ChatGPT's base URL as Codex normalises it: no trailing `/`, and
/// `/backend-api` added to a bare chatgpt.com.
fn normalize_chatgpt_base_url(url: &str) -> String {
    let mut base = url.trim().trim_end_matches('/').to_owned();
    if base.ends_with("/codex")
        && !base.ends_with("/api/codex")
        && let Some(stripped) = base.strip_suffix("/codex")
    {
        base = stripped.to_owned();
    }
    if (base.starts_with("https://chatgpt.com") || base.starts_with("https://chat.openai.com"))
        && !base.contains("/backend-api")
        && !base.contains("/api/codex")
    {
        base.push_str("/backend-api");
    }
    base
}

fn jwks_url_under(base: &str) -> String {
    if base.contains("/backend-api") {
        format!("{base}/wham/agent-identities/jwks")
    } else if base.contains("/api/codex") {
        format!("{base}/agent-identities/jwks")
    } else {
        format!("{base}/api/codex/agent-identities/jwks")
    }
}

/// The token's claims, without checking its signature. The texts are
/// Codex's.
pub fn decode(jwt: &str) -> Result<AgentIdentity, String> {
    let (_, payload, _) = parts(jwt)?;
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| "agent identity JWT payload is not valid base64url".to_owned())?,
    );
    serde_json::from_slice(&bytes).map_err(|error| {
        // serde's own text can quote a value of the token: only its position.
        format!(
            "invalid credential JSON ({:?} at line {} column {})",
            error.classify(),
            error.line(),
            error.column()
        )
    })
}

fn parts(jwt: &str) -> Result<(&str, &str, &str), String> {
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok((header, payload, signature))
        }
        _ => Err("invalid agent identity JWT format".to_owned()),
    }
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Key>,
}

#[derive(Deserialize)]
struct Key {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: String,
    #[serde(default)]
    n: String,
    #[serde(default)]
    e: String,
}

/// Checks the token against the JWKS at `jwks_url`: a known `kid`, an RS256
/// signature by that key, Codex's issuer and audience, not expired. Returns
/// its claims.
pub async fn verify(jwt: &str, jwks_url: &str, originator: &str) -> Result<AgentIdentity, String> {
    let identity =
        decode(jwt).map_err(|problem| format!("failed to decode agent identity JWT: {problem}"))?;
    let (header_part, payload_part, signature_part) = parts(jwt)?;
    let header: Header = URL_SAFE_NO_PAD
        .decode(header_part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| "failed to decode agent identity JWT header".to_owned())?;
    let kid = header
        .kid
        .ok_or_else(|| "agent identity JWT header does not include a kid".to_owned())?;
    let keys = fetch_jwks(jwks_url, originator).await?;
    let key = keys
        .keys
        .iter()
        .find(|key| key.kid.as_deref() == Some(kid.as_str()))
        .ok_or_else(|| format!("agent identity JWT kid {kid} is not trusted"))?;
    let unverified = || "failed to verify agent identity JWT".to_owned();
    if header.alg != "RS256" || key.kty != "RSA" {
        return Err(unverified());
    }
    let modulus = URL_SAFE_NO_PAD.decode(&key.n).map_err(|_| unverified())?;
    let exponent = URL_SAFE_NO_PAD.decode(&key.e).map_err(|_| unverified())?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| unverified())?;
    let signed = format!("{header_part}.{payload_part}");
    ring::signature::RsaPublicKeyComponents {
        n: &modulus,
        e: &exponent,
    }
    .verify(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        signed.as_bytes(),
        &signature,
    )
    .map_err(|_| unverified())?;
    let now = unix_now();
    let expired = identity.exp.saturating_add(LEEWAY_SECONDS) < now;
    let early = identity
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECONDS));
    if identity.iss != ISSUER || identity.aud != AUDIENCE || expired || early {
        return Err(unverified());
    }
    Ok(identity)
}

async fn fetch_jwks(url: &str, originator: &str) -> Result<KeySet, String> {
    let client = http::client(originator).map_err(|error| error.to_string())?;
    let response = client
        .get(url)
        .timeout(JWKS_TIMEOUT)
        .send()
        .await
        .map_err(|error| {
            format!(
                "failed to request agent identity JWKS ({})",
                http::describe(&error)
            )
        })?;
    if !response.status().is_success() {
        return Err(format!(
            "agent identity JWKS endpoint returned an error (HTTP {})",
            response.status().as_u16()
        ));
    }
    let body = response
        .text()
        .await
        .map_err(|_| "failed to decode agent identity JWKS".to_owned())?;
    serde_json::from_str(&body).map_err(|_| "failed to decode agent identity JWKS".to_owned())
}

#[derive(Serialize)]
struct TaskRequest<'a> {
    timestamp: &'a str,
    signature: &'a str,
}

#[derive(Deserialize)]
struct TaskResponse {
    #[serde(default, alias = "taskId")]
    task_id: Option<String>,
    #[serde(default, alias = "encryptedTaskId")]
    encrypted_task_id: Option<String>,
}

/// Registers a task for the identity at `authapi_base_url`: what the backend
/// answers says whether the identity is still good. Returns the task id.
pub async fn register_task(
    identity: &AgentIdentity,
    authapi_base_url: &str,
    originator: &str,
) -> Result<String, String> {
    let key = signing_key(&identity.agent_private_key)?;
    let timestamp = timestamp_seconds(SystemTime::now());
    let message = format!("{}:{timestamp}", identity.agent_runtime_id);
    let signature = STANDARD.encode(key.sign(message.as_bytes()).as_ref());
    let url = format!(
        "{}/v1/agent/{}/task/register",
        authapi_base_url.trim_end_matches('/'),
        url::form_urlencoded::byte_serialize(identity.agent_runtime_id.as_bytes())
            .collect::<String>()
    );
    let client = http::client(originator).map_err(|error| error.to_string())?;
    let retryable = |detail: String| {
        format!(
            "retryable agent identity registration failure: failed to register agent task ({detail})"
        )
    };
    let request = serde_json::to_string(&TaskRequest {
        timestamp: &timestamp,
        signature: &signature,
    })
    .map_err(|error| format!("cannot write the task registration: {error}"))?;
    let response = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request)
        .send()
        .await
        .map_err(|error| retryable(http::describe(&error)))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(retryable(format!("HTTP {}", status.as_u16())));
    }
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "agent identity registration failed for {}: HTTP {}: {}",
            identity.agent_runtime_id,
            status.as_u16(),
            http::error_detail(&body)
        ));
    }
    let answer: TaskResponse = serde_json::from_str(&body)
        .map_err(|_| "failed to decode agent task registration response".to_owned())?;
    match (answer.task_id, answer.encrypted_task_id) {
        (Some(task_id), _) => Ok(task_id),
        (None, Some(_)) => Err(
            "the agent task registration answered an encrypted task id, which this host cannot \
             open yet"
                .to_owned(),
        ),
        (None, None) => Err("agent task registration response omitted task id".to_owned()),
    }
}

/// The Ed25519 key of the token (PKCS#8, base64).
fn signing_key(private_key: &str) -> Result<ring::signature::Ed25519KeyPair, String> {
    let der = Zeroizing::new(
        STANDARD
            .decode(private_key.trim())
            .map_err(|_| "stored agent identity private key is not valid base64".to_owned())?,
    );
    ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|_| "stored agent identity private key is not valid PKCS#8".to_owned())
}

/// The `auth.json` document of an access-token login, as Codex writes it.
pub fn document(jwt: &str) -> Result<Zeroizing<String>, String> {
    #[derive(Serialize)]
    struct Document<'a> {
        auth_mode: &'a str,
        #[serde(rename = "OPENAI_API_KEY")]
        api_key: Option<&'a str>,
        agent_identity: &'a str,
    }
    serde_json::to_string_pretty(&Document {
        auth_mode: "agentIdentity",
        api_key: None,
        agent_identity: jwt,
    })
    .map(Zeroizing::new)
    .map_err(|error| format!("cannot write the login document: {error}"))
}

/// The token of a stored access-token login.
pub fn stored_token(document: &str) -> Option<Zeroizing<String>> {
    #[derive(Deserialize)]
    struct Stored {
        #[serde(default)]
        agent_identity: Option<Zeroizing<String>>,
    }
    serde_json::from_str::<Stored>(document)
        .ok()?
        .agent_identity
        .filter(|token| !token.is_empty())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form the task registration signs.
fn timestamp_seconds(time: SystemTime) -> String {
    let full = crate::time::format_rfc3339(time);
    match full.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_overrides_then_the_environment() {
        let local = Endpoints::from_parts(
            Some("http://127.0.0.1:9/base".into()),
            Some("http://127.0.0.1:9".into()),
            DEFAULT_CHATGPT_BASE_URL,
        );
        assert_eq!(
            local.jwks_url.as_deref(),
            Some("http://127.0.0.1:9/base/agent-identities/jwks")
        );
        assert_eq!(local.authapi_base_url.as_deref(), Ok("http://127.0.0.1:9"));

        let production = Endpoints::from_parts(None, None, "https://chatgpt.com");
        assert_eq!(
            production.jwks_url.as_deref(),
            Some("https://chatgpt.com/backend-api/wham/agent-identities/jwks")
        );
        assert_eq!(
            production.authapi_base_url.as_deref(),
            Ok(PRODUCTION_AUTHAPI)
        );

        let other = Endpoints::from_parts(None, None, "http://127.0.0.1:9/backend-api/");
        assert_eq!(other.jwks_url, None);
        assert!(other.authapi_base_url.is_err());
    }

    #[test]
    fn malformed_tokens_are_refused_with_codex_texts() {
        assert_eq!(
            decode("a.b").unwrap_err(),
            "invalid agent identity JWT format"
        );
        assert_eq!(
            decode("a..c").unwrap_err(),
            "invalid agent identity JWT format"
        );
        assert_eq!(
            decode("a.!!.c").unwrap_err(),
            "agent identity JWT payload is not valid base64url"
        );
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"secret-value"}"#);
        let problem = decode(&format!("a.{payload}.c")).unwrap_err();
        assert!(
            problem.starts_with("invalid credential JSON (Data at line 1"),
            "{problem}"
        );
        assert!(!problem.contains("secret-value"));
    }

    #[test]
    fn the_signed_timestamp_has_whole_seconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_796_420_273_123);
        assert_eq!(timestamp_seconds(time), "2026-12-04T21:37:53Z");
    }
}
