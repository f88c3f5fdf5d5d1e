//! Encryption at rest of the passports' free text: AES-256-GCM (authenticated), a fresh random
//! nonce per value, and the row it belongs to as associated data, so a ciphertext copied to
//! another row does not decrypt. A stored value reads `pp1:<key id>:<base64(nonce|ciphertext)>`;
//! the key id lets old keys keep working during a rotation (see README, "Key rotation").
//!
//! The key comes from PASSPORT_KEY, else from a key file created on first start (mode 0600),
//! never from the database: a dump alone reveals nothing.
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::Config;

const PREFIX: &str = "pp1";

#[derive(Clone)]
struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn from_bytes(bytes: &[u8]) -> Result<Key, String> {
        if bytes.len() != 32 {
            return Err(format!("a passport key must be 32 bytes, not {}", bytes.len()));
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|e| e.to_string())?;
        Ok(Key { id: key_id(bytes), cipher })
    }

    fn from_base64(s: &str) -> Result<Key, String> {
        let bytes = STANDARD.decode(s.trim()).map_err(|_| "a passport key must be base64".to_string())?;
        Key::from_bytes(&bytes)
    }
}

/// A short, public name of a key: the start of the SHA-256 of the key.
fn key_id(bytes: &[u8]) -> String {
    super::crypto::sha256_hex(bytes)[..12].to_string()
}

/// The current key (encrypts and decrypts) and older ones (decrypt only).
#[derive(Clone)]
pub struct PassportKeys {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for PassportKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassportKeys").field("current", &self.current.id).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encrypted with a key that is not configured (key id {0}); add it to PASSPORT_OLD_KEYS")]
    UnknownKey(String),
    #[error("the stored value is damaged or does not belong here")]
    Damaged,
}

impl PassportKeys {
    /// From base64 keys: the current one and any older ones.
    pub fn new(current: &str, old: &[&str]) -> Result<PassportKeys, String> {
        Ok(PassportKeys {
            current: Key::from_base64(current)?,
            old: old.iter().filter(|s| !s.trim().is_empty()).map(|s| Key::from_base64(s)).collect::<Result<_, _>>()?,
        })
    }

    /// As configured: PASSPORT_KEY, else the key file (created when missing).
    pub fn from_config(config: &Config) -> Result<PassportKeys, String> {
        let old: Vec<&str> = config.passport_old_keys.as_deref().unwrap_or_default().split(',').collect();
        match &config.passport_key {
            Some(k) => PassportKeys::new(k, &old),
            None => {
                let path = key_file_path(config);
                let key = load_or_create_key_file(&path)?;
                PassportKeys::new(&key, &old)
            }
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Whether a stored value is under the current key (else `rotate` re-encrypts it).
    pub fn is_current(&self, stored: &str) -> bool {
        stored.split(':').nth(1) == Some(self.current.id.as_str())
    }

    pub fn encrypt(&self, plain: &[u8], context: &str) -> String {
        let mut nonce = [0u8; 12];
        super::crypto::fill_random(&mut nonce);
        // Encrypting into a Vec cannot fail for inputs below 64 GiB.
        let sealed = self
            .current
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: context.as_bytes() })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}:{}:{}", self.current.id, STANDARD.encode(out))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = stored.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Damaged);
        };
        let key = std::iter::once(&self.current)
            .chain(self.old.iter())
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let bytes = STANDARD.decode(body).map_err(|_| CryptoError::Damaged)?;
        if bytes.len() < 12 + 16 {
            return Err(CryptoError::Damaged);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce = <&Nonce<U12>>::try_from(nonce).map_err(|_| CryptoError::Damaged)?;
        key.cipher.decrypt(nonce, Payload { msg: sealed, aad: context.as_bytes() }).map_err(|_| CryptoError::Damaged)
    }
}

/// The key derivation for files sealed with a passphrase: Argon2id with the parameters OWASP
/// recommends (19 MiB, 2 passes), named in the file so that they can be raised later.
pub const SEAL_KDF: &str = "argon2id;m=19456;t=2;p=1";

/// A value sealed with a passphrase (for a file that leaves the service): the salt of the key
/// derivation, the nonce and the AES-256-GCM ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub salt: Vec<u8>,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

fn passphrase_cipher(passphrase: &str, salt: &[u8]) -> Result<Aes256Gcm, CryptoError> {
    let params = argon2::Params::new(19_456, 2, 1, Some(32)).map_err(|_| CryptoError::Damaged)?;
    let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    kdf.hash_password_into(passphrase.as_bytes(), salt, &mut key).map_err(|_| CryptoError::Damaged)?;
    Aes256Gcm::new_from_slice(&key).map_err(|_| CryptoError::Damaged)
}

/// Seals `plain` under a key derived from the passphrase; `context` is bound as associated data.
pub fn seal_with_passphrase(passphrase: &str, plain: &[u8], context: &str) -> Result<Sealed, CryptoError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    super::crypto::fill_random(&mut salt);
    super::crypto::fill_random(&mut nonce);
    let ciphertext = passphrase_cipher(passphrase, &salt)?
        .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: context.as_bytes() })
        .map_err(|_| CryptoError::Damaged)?;
    Ok(Sealed { salt: salt.to_vec(), nonce: nonce.to_vec(), ciphertext })
}

/// Opens a sealed value; a wrong passphrase and a changed file look the same: `Damaged`.
pub fn open_with_passphrase(passphrase: &str, sealed: &Sealed, context: &str) -> Result<Vec<u8>, CryptoError> {
    if sealed.salt.len() != 16 {
        return Err(CryptoError::Damaged);
    }
    let nonce = <&Nonce<U12>>::try_from(sealed.nonce.as_slice()).map_err(|_| CryptoError::Damaged)?;
    passphrase_cipher(passphrase, &sealed.salt)?
        .decrypt(nonce, Payload { msg: &sealed.ciphertext, aad: context.as_bytes() })
        .map_err(|_| CryptoError::Damaged)
}

/// A fresh key, base64, for PASSPORT_KEY.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    super::crypto::fill_random(&mut bytes);
    STANDARD.encode(bytes)
}

/// PASSPORT_KEY_FILE, else `passport.key` beside the SQLite file, else `data/passport.key`.
pub fn key_file_path(config: &Config) -> PathBuf {
    if let Some(p) = &config.passport_key_file {
        return PathBuf::from(p);
    }
    if let Some(rest) = config.database_url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap_or_default();
        if let Some(dir) = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            return dir.join("passport.key");
        }
    }
    PathBuf::from("data/passport.key")
}

/// Reads the key file, or creates it (mode 0600). Two instances starting together: the file is
/// written aside and linked into place, so one wins and both read the same key.
fn load_or_create_key_file(path: &Path) -> Result<String, String> {
    let show = path.display();
    if let Ok(s) = std::fs::read_to_string(path) {
        return Ok(s.trim().to_string());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    f.write_all(generate_key().as_bytes()).and_then(|_| f.sync_all()).map_err(|e| format!("{show}: {e}"))?;
    drop(f);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::warn!(file = %show, "created a new passport key; back it up, without it passports cannot be read")
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {show}: {e}")),
    }
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).map_err(|e| format!("{show}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_decrypts_only_with_its_key_and_in_its_own_row() {
        let keys = PassportKeys::new(&generate_key(), &[]).unwrap();
        let stored = keys.encrypt(b"mijn vader heeft dementie", "passport_version:1:1");
        assert!(!stored.contains("dementie"));
        assert_eq!(keys.decrypt(&stored, "passport_version:1:1").unwrap(), b"mijn vader heeft dementie");
        assert_eq!(keys.decrypt(&stored, "passport_version:2:1"), Err(CryptoError::Damaged));
        let other = PassportKeys::new(&generate_key(), &[]).unwrap();
        assert!(matches!(other.decrypt(&stored, "passport_version:1:1"), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn after_rotation_old_values_still_decrypt_with_the_old_key_configured() {
        let old = generate_key();
        let before = PassportKeys::new(&old, &[]).unwrap();
        let stored = before.encrypt(b"tekst", "c");
        let after = PassportKeys::new(&generate_key(), &[&old]).unwrap();
        assert!(!after.is_current(&stored));
        assert_eq!(after.decrypt(&stored, "c").unwrap(), b"tekst");
        assert!(after.is_current(&after.encrypt(b"tekst", "c")));
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_passphrase_and_context() {
        let sealed = seal_with_passphrase("lange zin om te onthouden", b"mijn moeder", "file:1").unwrap();
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("moeder"));
        assert_eq!(open_with_passphrase("lange zin om te onthouden", &sealed, "file:1").unwrap(), b"mijn moeder");
        assert_eq!(open_with_passphrase("lange zin om te onthoude", &sealed, "file:1"), Err(CryptoError::Damaged));
        assert_eq!(open_with_passphrase("lange zin om te onthouden", &sealed, "file:2"), Err(CryptoError::Damaged));
    }

    /// Values written by an earlier build (aes-gcm 0.10, argon2 0.5) must still open after an
    /// upgrade of the crypto crates: they are in databases and sealed files already.
    #[test]
    fn values_encrypted_and_sealed_by_the_earlier_crates_still_open() {
        let keys = PassportKeys::new("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", &[]).unwrap();
        let stored = "pp1:4bb06f8e4e3a:79eLjks6Uiz7TZ0MzDbxcv4+SHHYQO/tXN3VZTgcpC5PZYeoO6MdnOieyscdxu5a9Lqh4Urmo8qBQM0xt/nqdHXrV6b7w+o=";
        assert_eq!(keys.current_id(), "4bb06f8e4e3a");
        assert_eq!(
            keys.decrypt(stored, "passport_version:12:3").unwrap(),
            "mijn vader heeft dementie; zorg op woensdag".as_bytes()
        );
        assert_eq!(keys.decrypt(stored, "passport_version:12:4"), Err(CryptoError::Damaged));
        let sealed = Sealed {
            salt: STANDARD.decode("tu8aeowsSVVx789DMHqxUA==").unwrap(),
            nonce: STANDARD.decode("yGgPky/3Sn2jITQc").unwrap(),
            ciphertext: STANDARD.decode("81EMpYieVGjv1GoX/vpt659Zw0MnZofFvcSu").unwrap(),
        };
        assert_eq!(open_with_passphrase("lange zin om te onthouden", &sealed, "file:1").unwrap(), b"mijn moeder");
        assert_eq!(open_with_passphrase("lange zin om te onthoude", &sealed, "file:1"), Err(CryptoError::Damaged));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(PassportKeys::new("kort", &[]).is_err());
        assert!(PassportKeys::new(&STANDARD.encode([1u8; 16]), &[]).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("cf-key-{}", uuid::Uuid::new_v4().simple()));
        let path = dir.join("passport.key");
        let a = load_or_create_key_file(&path).unwrap();
        let b = load_or_create_key_file(&path).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
