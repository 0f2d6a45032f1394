//! The card of a message owed to the acquirer, at rest (docs/rules.md, R4): sealed with
//! AES-256-GCM under the data key (`serve --data-key-file`), which is never in the database.
//! Each seal has a random 96-bit nonce, and the job's id as associated data, so a sealed card
//! moved onto another job does not open.

use crate::error::{ApiError, ApiResult};
use crate::secrets::{hex, random_bytes};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use std::path::Path;

/// Bytes in a data key.
const KEY_BYTES: usize = 32;
/// Bytes in a nonce.
const NONCE_BYTES: usize = 12;

/// The key the cards of pending upstream messages are sealed with.
pub struct DataKey(Aes256Gcm);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// The key in a file of exactly 32 bytes.
    pub fn from_file(path: &Path) -> Result<DataKey, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("--data-key-file {}: {e}", path.display()))?;
        if bytes.len() != KEY_BYTES {
            return Err(format!(
                "--data-key-file {}: a data key is exactly {KEY_BYTES} bytes (it has {})",
                path.display(),
                bytes.len()
            ));
        }
        Ok(DataKey(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(
            &bytes,
        ))))
    }

    /// A fresh random key held in memory only: what the demo seals with when given no file. A
    /// card sealed with it does not open after a restart.
    pub fn ephemeral() -> Result<DataKey, String> {
        let bytes = random_bytes::<KEY_BYTES>().map_err(|e| e.message)?;
        Ok(DataKey(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(
            &bytes,
        ))))
    }

    /// Writes 32 random bytes to `path`, readable by its owner only, unless it exists.
    pub fn create_if_missing(path: &Path) -> Result<(), String> {
        use std::io::Write;
        let bytes = random_bytes::<KEY_BYTES>().map_err(|e| e.message)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => file
                .write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("--data-key-file {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(format!("--data-key-file {}: {e}", path.display())),
        }
    }

    /// `plain` sealed for job `job`: hex of the nonce, then the ciphertext with its tag.
    pub fn seal(&self, job: i64, plain: &[u8]) -> ApiResult<String> {
        let nonce = random_bytes::<NONCE_BYTES>()?;
        let aad = job.to_be_bytes();
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| ApiError::internal("cannot seal a card"))?;
        let mut out = hex(&nonce);
        out.push_str(&hex(&sealed));
        Ok(out)
    }

    /// What [`DataKey::seal`] sealed for job `job`; `None` when it does not open (another key,
    /// another job, altered).
    pub fn open(&self, job: i64, sealed: &str) -> Option<Vec<u8>> {
        let bytes = unhex(sealed)?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_BYTES)?;
        let aad = job.to_be_bytes();
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .ok()
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dir: &Path) -> DataKey {
        let path = dir.join("data.key");
        DataKey::create_if_missing(&path).unwrap();
        DataKey::from_file(&path).unwrap()
    }

    #[test]
    fn r4_a_sealed_card_opens_only_with_its_key_and_its_job() {
        let dir = tempfile::tempdir().unwrap();
        let k = key(dir.path());
        let sealed = k.seal(7, b"4111111111111111=12/30").unwrap();
        assert!(!sealed.contains("4111111111111111"));
        assert_eq!(k.open(7, &sealed).unwrap(), b"4111111111111111=12/30");
        assert!(k.open(8, &sealed).is_none(), "another job");
        let mut altered = sealed.clone();
        altered.replace_range(30..31, if &sealed[30..31] == "0" { "1" } else { "0" });
        assert!(k.open(7, &altered).is_none(), "altered");
        let other = tempfile::tempdir().unwrap();
        assert!(key(other.path()).open(7, &sealed).is_none(), "another key");
        assert_ne!(
            k.seal(7, b"x").unwrap(),
            k.seal(7, b"x").unwrap(),
            "fresh nonce"
        );
    }

    #[cfg(unix)]
    #[test]
    fn r4_a_created_data_key_is_32_bytes_for_its_owner_only_and_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        DataKey::create_if_missing(&path).unwrap();
        let first = std::fs::read(&path).unwrap();
        assert_eq!(first.len(), 32);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        DataKey::create_if_missing(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first);
        std::fs::write(&path, b"short").unwrap();
        assert!(DataKey::from_file(&path)
            .unwrap_err()
            .contains("exactly 32 bytes"));
    }
}
