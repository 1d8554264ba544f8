//! Values sealed at rest with the service's data key (AES-256-GCM): providers' bank details.
//!
//! A sealed value reads `v1.<key id>.<base64 of nonce and ciphertext>`: a fresh random 96-bit
//! nonce per seal, the GCM tag at the ciphertext's end, and associated data naming the row it
//! belongs to, so a value copied onto another row (another organisation) does not open. The key
//! id (the first four bytes of a SHA-256 of the key, which says nothing of the key) tells a
//! server with the wrong key file from a value that was tampered with.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};

type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the data key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error(
        "sealed with data key {sealed_with}, but this server's data key is {ours}: every server must use the same data key file"
    )]
    OtherKey { sealed_with: String, ours: String },
    #[error("the sealed value does not open: it belongs to another record or was changed")]
    DoesNotOpen,
    #[error("the sealed value is not in a form this server reads")]
    Malformed,
}

/// The service's data key. Cloning shares it; it is never printed or logged.
#[derive(Clone)]
pub struct DataKey {
    cipher: Arc<Aes256Gcm>,
    id: String,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

fn key_file_error(path: &Path, message: impl Into<String>) -> SealError {
    SealError::KeyFile {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl DataKey {
    pub fn from_bytes(key: &[u8; KEY_BYTES]) -> DataKey {
        let digest = Sha256::digest([b"localoffer data key id:".as_slice(), key].concat());
        DataKey {
            cipher: Arc::new(Aes256Gcm::new(&(*key).into())),
            id: crate::domain::hex(&digest[..4]),
        }
    }

    /// Eight hex digits naming this key (not secret: it reveals nothing of the key).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Read the key file: 32 bytes, or the same as base64 text (`openssl rand -base64 32`).
    /// When it is missing, make one of 32 random bytes, readable by its owner only; a file made
    /// at the same moment by another server on a shared directory wins and is read instead.
    pub fn load_or_create(path: &Path) -> Result<DataKey, SealError> {
        match std::fs::read(path) {
            Ok(bytes) => DataKey::parse(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DataKey::create(path),
            Err(e) => Err(key_file_error(path, e.to_string())),
        }
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<DataKey, SealError> {
        let key: Option<[u8; KEY_BYTES]> = if bytes.len() == KEY_BYTES {
            bytes.try_into().ok()
        } else {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| BASE64.decode(text.trim()).ok())
                .and_then(|decoded| decoded.try_into().ok())
        };
        let key = key.ok_or_else(|| key_file_error(path, "must hold 32 bytes, or them in base64"))?;
        warn_if_readable_by_others(path);
        Ok(DataKey::from_bytes(&key))
    }

    fn create(path: &Path) -> Result<DataKey, SealError> {
        let io = |e: std::io::Error| key_file_error(path, e.to_string());
        let key: [u8; KEY_BYTES] = rand::random();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        // Written aside, then linked into place: the link fails if the file appeared meanwhile,
        // and nobody ever reads half a key.
        let aside = dir.join(format!(".data.key.{}", crate::domain::hex(&rand::random::<[u8; 8]>())));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&aside)
            .and_then(|mut file| file.write_all(&key).and_then(|_| file.sync_all()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&aside);
            return Err(io(e));
        }
        let linked = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        match linked {
            Ok(()) => {
                let made = DataKey::from_bytes(&key);
                tracing::warn!(
                    path = %path.display(),
                    key_id = made.id(),
                    "created a new data key file: keep it safe and back it up, every server on this database must use it"
                );
                Ok(made)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                DataKey::parse(path, &std::fs::read(path).map_err(io)?)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seal `plain` for the record `aad` names.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> String {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        // Encrypting into a Vec fails only beyond GCM's length limit (64 GiB).
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", self.id, BASE64.encode(out))
    }

    /// Open a value sealed for the record `aad` names.
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Malformed);
        };
        if key_id != self.id {
            return Err(SealError::OtherKey {
                sealed_with: key_id.to_string(),
                ours: self.id.clone(),
            });
        }
        let bytes = BASE64.decode(body).map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| SealError::DoesNotOpen)
    }
}

/// The key id a sealed value names, if it is in our form.
pub fn sealed_key_id(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(VERSION), Some(id)) => Some(id),
        _ => None,
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the data key file can be read by others than its owner: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DataKey {
        DataKey::from_bytes(&[byte; KEY_BYTES])
    }

    #[test]
    fn a_sealed_value_opens_for_its_own_record_only() {
        let k = key(7);
        let sealed = k.seal(b"organisation:1", b"12345678");
        assert!(!sealed.contains("12345678"));
        assert_eq!(k.open(b"organisation:1", &sealed).unwrap(), b"12345678");
        assert_eq!(k.open(b"organisation:2", &sealed), Err(SealError::DoesNotOpen));
    }

    #[test]
    fn each_seal_has_its_own_nonce() {
        let k = key(7);
        assert_ne!(k.seal(b"a", b"same"), k.seal(b"a", b"same"));
    }

    #[test]
    fn a_changed_value_or_another_key_is_refused_clearly() {
        let k = key(7);
        let sealed = k.seal(b"a", b"secret");
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(matches!(
            k.open(b"a", &flipped),
            Err(SealError::DoesNotOpen | SealError::Malformed)
        ));
        match key(8).open(b"a", &sealed) {
            Err(SealError::OtherKey { sealed_with, ours }) => {
                assert_eq!(sealed_with, k.id());
                assert_eq!(ours, key(8).id());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(k.open(b"a", "12345678"), Err(SealError::Malformed));
        assert_eq!(sealed_key_id(&sealed), Some(k.id()));
    }

    #[test]
    fn the_key_file_is_made_once_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("data.key");
        let made = DataKey::load_or_create(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), KEY_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = DataKey::load_or_create(&path).unwrap();
        assert_eq!(made.id(), again.id());
        let sealed = made.seal(b"x", b"y");
        assert_eq!(again.open(b"x", &sealed).unwrap(), b"y");
        // Nothing else is left in the directory.
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_base64_key_file_is_read_and_a_short_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        std::fs::write(&path, format!("{}\n", BASE64.encode([7u8; KEY_BYTES]))).unwrap();
        assert_eq!(DataKey::load_or_create(&path).unwrap().id(), key(7).id());
        std::fs::write(&path, b"too short").unwrap();
        assert!(matches!(DataKey::load_or_create(&path), Err(SealError::KeyFile { .. })));
    }
}
