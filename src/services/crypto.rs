//! Secrets: random tokens (only their SHA-256 is stored), argon2 password hashes, HMAC signatures.
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};

/// Bytes straight from the operating system's generator, for tokens, keys, salts and nonces.
/// A failing OS generator panics, as `OsRng` did before rand 0.10: there is nothing safe to
/// fall back to.
pub fn fill_random(bytes: &mut [u8]) {
    UnwrapErr(SysRng).fill_bytes(bytes);
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

pub fn hash_password(password: &str) -> Result<String, String> {
    // The salt comes from the OS generator inside argon2 (its `getrandom` feature).
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// `hash_password` on tokio's blocking pool: argon2 takes a lot of CPU on purpose, and on the
/// async workers it would hold up every other request meanwhile.
pub async fn hash_password_off_runtime(password: &str) -> Result<String, String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| e.to_string())?
}

/// `verify_password` on the blocking pool (see `hash_password_off_runtime`).
pub async fn verify_password_off_runtime(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// The SHA-256 of an upload (up to MAX_UPLOAD_BYTES) on the blocking pool; gives the bytes back.
pub async fn sha256_hex_off_runtime(data: Vec<u8>) -> Result<(Vec<u8>, String), String> {
    tokio::task::spawn_blocking(move || {
        let sha = sha256_hex(&data);
        (data, sha)
    })
    .await
    .map_err(|e| e.to_string())
}

/// A hash to compare against when the user does not exist, so a login takes as long either way.
pub fn dummy_password_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0T3b1Fq3PJdHh0r2xLvzQ7Y6w3l0fHnq5tBdqVtM2dU"
}

fn mac(secret: &[u8], message: &str) -> Option<Hmac<Sha256>> {
    // HMAC accepts keys of any length; the error case cannot occur, but is not unwrapped.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).ok()?;
    mac.update(message.as_bytes());
    Some(mac)
}

pub fn sign(secret: &[u8], message: &str) -> String {
    mac(secret, message).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default()
}

pub fn verify_signature(secret: &[u8], message: &str, signature: &str) -> bool {
    let (Ok(sig), Some(mac)) = (URL_SAFE_NO_PAD.decode(signature), mac(secret, message)) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by an earlier build (argon2 0.5, hmac 0.12, sha2 0.10): stored password hashes and
    /// signatures must keep verifying after an upgrade of the crypto crates.
    #[test]
    fn hashes_and_signatures_made_by_the_earlier_crates_still_verify() {
        let stored =
            "$argon2id$v=19$m=19456,t=2,p=1$2ejfIZZY1kHdRhh304UJGw$LtRCjlzwYwZ+JfdowEsgwEAfMyndZ+OFhByhxY3HBxk";
        assert!(verify_password("een lang genoeg wachtwoord", stored));
        assert!(!verify_password("een lang genoeg wachtwoorD", stored));
        assert!(!verify_password("een lang genoeg wachtwoord", "not a hash"));
        assert_eq!(sign(b"geheim", "bericht:42"), "a6n5Anf0omNM4KjKhrLf6BEdSETCn_5t-9IAs2U9eic");
        assert!(verify_signature(b"geheim", "bericht:42", "a6n5Anf0omNM4KjKhrLf6BEdSETCn_5t-9IAs2U9eic"));
        assert!(!verify_signature(b"geheim", "bericht:43", "a6n5Anf0omNM4KjKhrLf6BEdSETCn_5t-9IAs2U9eic"));
        assert_eq!(sha256_hex(b"mantelzorg"), "03a32671858fbdcdba59b41681cbc569d2185fd66206b177bec99d48b0edb990");
    }

    #[test]
    fn a_new_hash_verifies_and_names_its_parameters() {
        let hash = hash_password("een lang genoeg wachtwoord").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("een lang genoeg wachtwoord", &hash));
        assert_eq!(random_token().len(), 43);
        assert_ne!(random_token(), random_token());
    }
}
