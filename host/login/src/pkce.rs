//! PKCE (RFC 7636, S256) and the random values of a login (`state`, the
//! login owner id Codex records).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::LoginError;

/// A code verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: Zeroizing<String>,
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier of 64 random bytes (86 characters, inside RFC 7636's
    /// 43..=128).
    pub fn generate() -> Result<Pkce, LoginError> {
        let verifier = random_token(64)?;
        let challenge = challenge_of(&verifier);
        Ok(Pkce {
            verifier,
            challenge,
        })
    }
}

/// The S256 challenge of `verifier`.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes from the OS, base64url without padding.
pub fn random_token(bytes: usize) -> Result<Zeroizing<String>, LoginError> {
    let mut buffer = Zeroizing::new(vec![0u8; bytes]);
    getrandom::fill(buffer.as_mut_slice()).map_err(|error| {
        LoginError::Config(format!(
            "the system has no random numbers to offer: {error}"
        ))
    })?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(buffer.as_slice())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s() {
        // The example of RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate().unwrap();
        assert_eq!(pkce.verifier.len(), 86);
        assert_eq!(pkce.challenge, challenge_of(&pkce.verifier));
        assert_ne!(*Pkce::generate().unwrap().verifier, *pkce.verifier);
    }
}
