//! The client assertion of `private_key_jwt` (RFC 7523 section 2.2, as
//! OpenID Connect Core section 9 profiles it): a short-lived JWT that the
//! client signs with its private key instead of sending a secret.
//!
//! The key stays in its PEM file (PKCS#8, or PKCS#1 for RSA); it is read
//! for each assertion, so a rotated key file is picked up and no copy of the
//! key is kept anywhere else. Signatures are made by `ring`, which the
//! workspace already builds for TLS.
//!
//! Claims: `iss` and `sub` are the client ID, `aud` the authorization
//! server's issuer identifier (what RFC 7523bis asks for, and what servers
//! that accept the token endpoint URL accept too), `exp` five minutes on,
//! `iat`, and a random `jti` against replay.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::json;
use zeroize::Zeroizing;

use crate::pkce::random_token;

/// How long an assertion is valid.
const LIFETIME_SECS: u64 = 300;

/// The JWS algorithms a key can sign with (RFC 7518 section 3.1, RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
    Es384,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    EdDsa,
}

const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Rs256,
    Algorithm::Rs384,
    Algorithm::Rs512,
    Algorithm::Ps256,
    Algorithm::Ps384,
    Algorithm::Ps512,
    Algorithm::EdDsa,
];

impl Algorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The algorithm named `name` (case as registered, or all upper case).
    pub fn from_name(name: &str) -> PluginResult<Algorithm> {
        ALGORITHMS
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = ALGORITHMS.iter().map(|a| a.as_str()).collect();
                PluginError::invalid_config(format!(
                    "unknown signing algorithm `{name}`; expected one of {}",
                    known.join(", ")
                ))
            })
    }

    fn rsa_encoding(self) -> Option<&'static dyn signature::RsaEncoding> {
        Some(match self {
            Algorithm::Rs256 => &signature::RSA_PKCS1_SHA256,
            Algorithm::Rs384 => &signature::RSA_PKCS1_SHA384,
            Algorithm::Rs512 => &signature::RSA_PKCS1_SHA512,
            Algorithm::Ps256 => &signature::RSA_PSS_SHA256,
            Algorithm::Ps384 => &signature::RSA_PSS_SHA384,
            Algorithm::Ps512 => &signature::RSA_PSS_SHA512,
            _ => return None,
        })
    }
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key read from a PEM file, and the algorithm it signs with.
pub struct SigningKey {
    pair: Pair,
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads the key in the PEM file at `path`; `algorithm` is the name of
    /// the one to sign with (default: ES256 or ES384 for an EC key by its
    /// curve, RS256 for RSA, EdDSA for Ed25519).
    pub fn load(path: &str, algorithm: Option<&str>) -> PluginResult<SigningKey> {
        let text = std::fs::read(path).map(Zeroizing::new).map_err(|error| {
            PluginError::invalid_config(format!(
                "cannot read the private key file {path}: {error}; give the PEM file of the key registered for this client with `--private-key FILE`"
            ))
        })?;
        let algorithm = algorithm.map(Algorithm::from_name).transpose()?;
        Self::from_pem(&text, algorithm).map_err(|why| {
            PluginError::invalid_config(format!("the private key file {path} {why}"))
        })
    }

    /// The key in `pem`; the error says what is wrong with it.
    fn from_pem(pem: &[u8], algorithm: Option<Algorithm>) -> Result<SigningKey, String> {
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|_| {
            "holds no PEM private key (expected `-----BEGIN PRIVATE KEY-----`, or `-----BEGIN RSA PRIVATE KEY-----`)".to_owned()
        })?;
        let rng = SystemRandom::new();
        let ecdsa = |alg: &'static signature::EcdsaSigningAlgorithm, der: &[u8]| {
            EcdsaKeyPair::from_pkcs8(alg, der, &rng)
                .ok()
                .map(Pair::Ecdsa)
        };
        match der {
            PrivateKeyDer::Sec1(_) => Err(
                "holds a SEC1 EC key (`BEGIN EC PRIVATE KEY`); convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`".to_owned(),
            ),
            PrivateKeyDer::Pkcs1(der) => {
                let algorithm = algorithm.unwrap_or(Algorithm::Rs256);
                if algorithm.rsa_encoding().is_none() {
                    return Err(format!(
                        "holds an RSA key, which cannot sign {}",
                        algorithm.as_str()
                    ));
                }
                let pair = RsaKeyPair::from_der(der.secret_pkcs1_der())
                    .map_err(|why| format!("holds an RSA key that cannot be used ({why})"))?;
                Ok(SigningKey {
                    pair: Pair::Rsa(pair),
                    algorithm,
                })
            }
            PrivateKeyDer::Pkcs8(der) => {
                let der = der.secret_pkcs8_der();
                let candidates: Vec<Algorithm> = match algorithm {
                    Some(algorithm) => vec![algorithm],
                    None => vec![Algorithm::Es256, Algorithm::Es384, Algorithm::EdDsa, Algorithm::Rs256],
                };
                for candidate in &candidates {
                    let pair = match candidate {
                        Algorithm::Es256 => {
                            ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                        }
                        Algorithm::Es384 => {
                            ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, der)
                        }
                        Algorithm::EdDsa => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                            .ok()
                            .map(Pair::Ed25519),
                        _ => RsaKeyPair::from_pkcs8(der).ok().map(Pair::Rsa),
                    };
                    if let Some(pair) = pair {
                        return Ok(SigningKey {
                            pair,
                            algorithm: *candidate,
                        });
                    }
                }
                Err(match algorithm {
                    Some(algorithm) => format!(
                        "holds no key that signs {} (ES256 needs a P-256 key, ES384 a P-384 key, EdDSA an Ed25519 key, RS*/PS* an RSA key of 2048 bits or more)",
                        algorithm.as_str()
                    ),
                    None => "holds a PKCS#8 key of a kind that cannot sign JWTs here (P-256, P-384, Ed25519 or RSA of 2048 bits or more)".to_owned(),
                })
            }
            _ => Err("holds a kind of private key that cannot sign JWTs here".to_owned()),
        }
    }

    /// The compact JWS of `claims` with this key.
    fn sign(&self, claims: &serde_json::Value) -> PluginResult<Zeroizing<String>> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = json!({"alg": self.algorithm.as_str(), "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let failed = || PluginError::internal("cannot sign the client assertion");
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            Pair::Ecdsa(pair) => pair
                .sign(&rng, input.as_bytes())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
            Pair::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            Pair::Rsa(pair) => {
                let encoding = self.algorithm.rsa_encoding().ok_or_else(failed)?;
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(encoding, &rng, input.as_bytes(), &mut signature)
                    .map_err(|_| failed())?;
                signature
            }
        };
        Ok(Zeroizing::new(format!("{input}.{}", b64.encode(signature))))
    }

    /// A client assertion of `client_id` for the authorization server `audience`.
    pub fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
    ) -> PluginResult<Zeroizing<String>> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .map_err(|_| {
                PluginError::new(ErrorKind::Internal, "the system clock is before 1970")
            })?;
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME_SECS,
            "jti": random_token()?.as_str(),
        });
        self.sign(&claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{KeyPair as _, UnparsedPublicKey};

    /// A PKCS#8 PEM of a fresh key made by `ring`.
    fn pem_of(der: &[u8]) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem.into_bytes()
    }

    fn parts(jwt: &str) -> (serde_json::Value, serde_json::Value, Vec<u8>, String) {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pieces: Vec<&str> = jwt.split('.').collect();
        assert_eq!(pieces.len(), 3, "{jwt}");
        let decode = |piece: &str| serde_json::from_slice(&b64.decode(piece).unwrap()).unwrap();
        (
            decode(pieces[0]),
            decode(pieces[1]),
            b64.decode(pieces[2]).unwrap(),
            format!("{}.{}", pieces[0], pieces[1]),
        )
    }

    #[test]
    fn an_es256_assertion_verifies_with_the_public_key_and_names_the_client() {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let key = SigningKey::from_pem(&pem_of(pkcs8.as_ref()), None).unwrap();
        assert_eq!(key.algorithm, Algorithm::Es256);
        let jwt = key
            .client_assertion("client-1", "https://as.example.com")
            .unwrap();
        let (header, claims, signature, input) = parts(&jwt);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://as.example.com");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            LIFETIME_SECS
        );
        let public = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            public.public_key().as_ref(),
        )
        .verify(input.as_bytes(), &signature)
        .unwrap();
        // A fresh jti each time.
        let again = parts(&key.client_assertion("client-1", "a").unwrap()).1;
        assert_ne!(again["jti"], claims["jti"]);
    }

    #[test]
    fn an_ed25519_key_signs_eddsa_and_refuses_es256() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pem = pem_of(pkcs8.as_ref());
        let key = SigningKey::from_pem(&pem, None).unwrap();
        assert_eq!(key.algorithm, Algorithm::EdDsa);
        let (header, _, signature, input) = parts(&key.client_assertion("c", "a").unwrap());
        assert_eq!(header["alg"], "EdDSA");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        UnparsedPublicKey::new(&signature::ED25519, pair.public_key().as_ref())
            .verify(input.as_bytes(), &signature)
            .unwrap();
        let refused = SigningKey::from_pem(&pem, Some(Algorithm::Es256)).unwrap_err();
        assert!(
            refused.contains("holds no key that signs ES256"),
            "{refused}"
        );
    }

    #[test]
    fn bad_key_files_say_what_is_wrong() {
        let none = SigningKey::from_pem(b"not a key", None).unwrap_err();
        assert!(none.contains("holds no PEM private key"), "{none}");
        let sec1 = b"-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n";
        let sec1 = SigningKey::from_pem(sec1, None).unwrap_err();
        assert!(sec1.contains("openssl pkcs8 -topk8"), "{sec1}");
        let missing = SigningKey::load("/nonexistent/key.pem", None).unwrap_err();
        assert!(
            missing
                .message
                .contains("cannot read the private key file /nonexistent/key.pem"),
            "{}",
            missing.message
        );
        let unknown = Algorithm::from_name("HS256").unwrap_err();
        assert!(
            unknown
                .message
                .contains("unknown signing algorithm `HS256`")
        );
        assert_eq!(Algorithm::from_name("eddsa").unwrap(), Algorithm::EdDsa);
    }
}
