//! What an `id_token` says about the account, read as Codex reads it: the
//! payload of the JWT, unverified (the token came straight from the token
//! endpoint over TLS; Codex does not check the signature either), with the
//! account under the `https://api.openai.com/auth` claim.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The claim OpenAI puts the ChatGPT account under.
const AUTH_CLAIM: &str = "https://api.openai.com/auth";
/// The claim OpenAI may put the profile (email) under.
const PROFILE_CLAIM: &str = "https://api.openai.com/profile";

/// The account an `id_token` is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub email: Option<String>,
    /// `chatgpt_plan_type`: `free`, `plus`, `pro`, `team`, ...
    pub plan_type: Option<String>,
    pub user_id: Option<String>,
    /// `chatgpt_account_id`: the workspace.
    pub account_id: Option<String>,
}

impl IdTokenClaims {
    /// Reads the claims of `jwt`. The error says what is wrong with its shape
    /// and never quotes it.
    pub fn parse(jwt: &str) -> Result<IdTokenClaims, String> {
        let payload = payload(jwt)?;
        let auth = payload.get(AUTH_CLAIM).and_then(Value::as_object);
        let text = |object: Option<&Map<String, Value>>, key: &str| {
            object
                .and_then(|object| object.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let profile = payload.get(PROFILE_CLAIM).and_then(Value::as_object);
        Ok(IdTokenClaims {
            email: text(Some(&payload), "email").or_else(|| text(profile, "email")),
            plan_type: text(auth, "chatgpt_plan_type"),
            user_id: text(auth, "chatgpt_user_id").or_else(|| text(auth, "user_id")),
            account_id: text(auth, "chatgpt_account_id"),
        })
    }
}

/// The decoded payload of a JWT.
pub fn payload(jwt: &str) -> Result<Map<String, Value>, String> {
    let mut parts = jwt.split('.');
    let (Some(_header), Some(body), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the id_token is not a JWT (three parts separated by dots)".to_owned());
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| "the id_token's payload is not base64url".to_owned())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("the id_token's payload is not a JSON object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &Value) -> String {
        format!(
            "e30.{}.c2ln",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap())
        )
    }

    #[test]
    fn reads_openais_claims() {
        let token = jwt(&serde_json::json!({
            "email": "ada@example.com",
            AUTH_CLAIM: {"chatgpt_account_id": "ws-1", "chatgpt_plan_type": "pro", "chatgpt_user_id": "u-1"}
        }));
        assert_eq!(
            IdTokenClaims::parse(&token).unwrap(),
            IdTokenClaims {
                email: Some("ada@example.com".into()),
                plan_type: Some("pro".into()),
                user_id: Some("u-1".into()),
                account_id: Some("ws-1".into()),
            }
        );
        let bare = jwt(&serde_json::json!({PROFILE_CLAIM: {"email": "b@example.com"}}));
        assert_eq!(
            IdTokenClaims::parse(&bare).unwrap().email.as_deref(),
            Some("b@example.com")
        );
    }

    #[test]
    fn broken_tokens_are_described_not_quoted() {
        for token in ["secret-opaque-token", "a.!!!.c", "e30.WzFd.c2ln"] {
            let error = IdTokenClaims::parse(token).unwrap_err();
            assert!(!error.contains(token), "{error}");
        }
    }
}
