//! The secrets of one authorization request: the PKCE verifier and its S256
//! challenge (RFC 7636), and the `state` that ties the callback to it.

use base64::Engine as _;
use codex_plugin_api::{PluginError, PluginResult};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A PKCE pair.
pub struct Pkce {
    /// Sent with the token request only.
    pub verifier: Zeroizing<String>,
    /// `BASE64URL(SHA256(verifier))`, sent with the authorization request.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair: 32 random bytes give a 43-character verifier.
    pub fn new() -> PluginResult<Pkce> {
        let verifier = random_token()?;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        Ok(Pkce {
            verifier,
            challenge,
        })
    }
}

/// 32 bytes from the operating system's CSPRNG, base64url without padding.
pub fn random_token() -> PluginResult<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|error| {
        PluginError::internal(format!("cannot get random bytes from the system: {error}"))
    })?;
    Ok(Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_are_long_fresh_and_match_their_challenge() {
        let one = Pkce::new().unwrap();
        let two = Pkce::new().unwrap();
        assert_eq!(one.verifier.len(), 43);
        assert!(
            one.verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(*one.verifier, *two.verifier);
        // RFC 7636 appendix B.
        let digest = Sha256::digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let again = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(one.verifier.as_bytes()));
        assert_eq!(one.challenge, again);
    }
}
