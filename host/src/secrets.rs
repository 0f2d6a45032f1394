//! Random credentials, their hashes, and operator passwords (R16, R17).
//!
//! Terminal keys, session tokens and activation codes are random and stored only as SHA-256
//! hashes: a copy of the database lets nobody sign in. Passwords are Argon2id hashes, checked
//! on the blocking pool because each check costs tens of milliseconds of CPU on purpose, and
//! only a few at a time ([`PasswordChecks`]) because each also takes 19 MiB of memory.

use crate::error::{ApiError, ApiResult};
use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use softpos::ErrorCode;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory one Argon2id check takes: the `argon2` crate's default cost, in KiB (19 MiB).
const ARGON2_MEMORY_KIB: u32 = argon2::Params::DEFAULT_M_COST;
/// Memory the host gives to password checks at once, in KiB.
const PASSWORD_MEMORY_BUDGET_KIB: u32 = 80 * 1024;
/// The most memory a stored hash may ask of one check, in KiB; a hash asking more is a bad row.
const MAX_CHECK_MEMORY_KIB: u32 = 64 * 1024;
/// Password checks at once by default: as many as fit the budget (4).
pub const DEFAULT_PASSWORD_CHECKS: usize =
    (PASSWORD_MEMORY_BUDGET_KIB / ARGON2_MEMORY_KIB) as usize;
/// What a `503 BUSY` tells the client to wait before it asks again.
const BUSY_RETRY_AFTER_S: u64 = 1;
/// Length of a generated fingerprint key, in bytes.
const FINGERPRINT_KEY_BYTES: usize = 32;

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> ApiResult<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(ApiError::internal)?;
    Ok(buf)
}

/// A 256-bit random token, hex: terminal keys and session tokens.
pub fn random_token() -> ApiResult<String> {
    Ok(hex(&random_bytes::<32>()?))
}

/// An activation code: 20 characters of Crockford base32 (100 bits) in groups of four, so an
/// operator can type it; single use and valid 24 hours.
pub fn activation_code() -> ApiResult<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = random_bytes::<20>()?;
    let mut out = String::with_capacity(24);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

/// Activation codes are typed by people: case and dashes do not matter.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Six random digits: an issuer's authorisation code.
pub fn auth_code() -> ApiResult<String> {
    let n = u32::from_be_bytes(random_bytes::<4>()?) % 1_000_000;
    Ok(format!("{n:06}"))
}

/// SHA-256, hex.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(data.as_ref()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Argon2id (the `argon2` crate's default: m = 19 MiB, t = 2, p = 1) in PHC form.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The bound on password checks running at once (R16, host limits): each Argon2id check
/// takes 19 MiB, so 200 sign-ins at once would take nearly 4 GiB. A check waits a short while
/// for its turn; beyond that the host answers `503 BUSY` with `Retry-After` (for a sign-in,
/// which has no side effect, the terminal treats it as no answer).
///
/// Each turn also lends out one of as many Argon2 memory areas, reused from check to check:
/// left to the allocator, every blocking thread that ever ran a check keeps its own freed
/// 19 MiB (measured: 500 MiB after a burst with four checks at a time).
#[derive(Debug)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    wait: Duration,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// A turn to check a password, from [`PasswordChecks::turn`], with its memory area.
#[derive(Debug)]
pub struct CheckTurn {
    blocks: Vec<Block>,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    /// Held, never read: dropping it gives the turn back (after the memory, see `Drop`).
    _permit: OwnedSemaphorePermit,
}

impl Drop for CheckTurn {
    fn drop(&mut self) {
        // Fields drop after this, so the memory is back before the permit lets the next turn
        // look for it, and the areas never outnumber the permits.
        if let Ok(mut memory) = self.memory.lock() {
            memory.push(std::mem::take(&mut self.blocks));
        }
    }
}

impl PasswordChecks {
    /// At most `at_once` checks (at least one), each waiting up to `wait` for its turn.
    pub fn new(at_once: usize, wait: Duration) -> PasswordChecks {
        PasswordChecks {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
            wait,
            memory: Arc::default(),
        }
    }

    /// Waits for a turn; `503 BUSY` when none comes within the wait.
    pub async fn turn(&self) -> ApiResult<CheckTurn> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(CheckTurn {
                blocks: self
                    .memory
                    .lock()
                    .map_err(ApiError::internal)?
                    .pop()
                    .unwrap_or_default(),
                memory: self.memory.clone(),
                _permit: permit,
            }),
            Ok(Err(closed)) => Err(ApiError::internal(closed)),
            Err(_) => {
                tracing::warn!("password checks busy: answered 503");
                Err(ApiError::detail(
                    ErrorCode::Busy,
                    "too many password checks at once; ask again shortly",
                )
                .with_status(503)
                .with_retry_after(BUSY_RETRY_AFTER_S))
            }
        }
    }
}

impl Default for PasswordChecks {
    fn default() -> PasswordChecks {
        PasswordChecks::new(DEFAULT_PASSWORD_CHECKS, Duration::from_secs(3))
    }
}

/// Whether `password` matches the stored PHC hash, computed in the turn's memory area. The
/// turn is held until the check ends, also when the request that asked is dropped meanwhile.
/// A malformed stored hash is an error (a bad row), not a wrong password.
pub async fn verify_password(turn: CheckTurn, password: String, phc: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let mut turn = turn;
        verify_in(&mut turn.blocks, password.as_bytes(), &phc).map_err(|e| {
            ApiError::internal(format_args!("a stored password hash is unusable: {e}"))
        })
    })
    .await
    .map_err(ApiError::internal)?
}

/// `PasswordVerifier::verify_password` of the `argon2` crate, but with the caller's memory
/// instead of a fresh allocation: the same parameters from the hash, the same constant-time
/// comparison (`Output`'s `==`).
fn verify_in(blocks: &mut Vec<Block>, password: &[u8], phc: &str) -> Result<bool, String> {
    let hash = PasswordHash::new(phc).map_err(|e| e.to_string())?;
    let expected = hash.hash.ok_or("no hash")?;
    let salt = hash.salt.ok_or("no salt")?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(hash.algorithm).map_err(|e| e.to_string())?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let params = Params::try_from(&hash).map_err(|e| e.to_string())?;
    if params.m_cost() > MAX_CHECK_MEMORY_KIB {
        return Err(format!("m = {} KiB", params.m_cost()));
    }
    let count = params.block_count();
    if blocks.len() < count {
        blocks.resize(count, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..count])
        .map_err(|e| e.to_string())?;
    Ok(Output::new(&out).map_err(|e| e.to_string())? == expected)
}

/// The host's secret for the card's part of an idempotency fingerprint (R9): with it, a
/// retry is compared on the whole card, while what is stored (an HMAC inside a SHA-256) gives
/// the card back to nobody without the key.
pub struct FingerprintKey(Vec<u8>);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

impl FingerprintKey {
    /// No key yet: every MAC with it is refused.
    pub fn unset() -> FingerprintKey {
        FingerprintKey(Vec::new())
    }

    /// A fresh random key, hex, as kept in the database.
    pub fn generate_hex() -> ApiResult<String> {
        Ok(hex(&random_bytes::<FINGERPRINT_KEY_BYTES>()?))
    }

    /// The key kept in the database (hex).
    pub fn from_hex(text: &str) -> Result<FingerprintKey, String> {
        let text = text.trim();
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .filter(|b| b.len() == FINGERPRINT_KEY_BYTES)
            .ok_or("the stored fingerprint key is malformed")?;
        Ok(FingerprintKey(bytes))
    }

    /// A key from a file: its bytes, without a trailing line break; at least 32 of them.
    pub fn from_file(path: &Path) -> Result<FingerprintKey, String> {
        let mut bytes = std::fs::read(path)
            .map_err(|e| format!("--fingerprint-key-file {}: {e}", path.display()))?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        if bytes.len() < FINGERPRINT_KEY_BYTES {
            return Err(format!(
                "--fingerprint-key-file {}: a key has at least {FINGERPRINT_KEY_BYTES} bytes",
                path.display()
            ));
        }
        Ok(FingerprintKey(bytes))
    }

    /// HMAC-SHA-256 of the card number and expiry, hex.
    pub fn card_mac(&self, pan: &str, expiry: &str) -> ApiResult<String> {
        if self.0.is_empty() {
            return Err(ApiError::internal("the fingerprint key is not loaded"));
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(pan.as_bytes());
        // A separator no card number contains, so ("41", "1/2") and ("411", "/2") differ.
        mac.update(b"\0");
        mac.update(expiry.as_bytes());
        Ok(hex(&mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_and_typeable() {
        let code = activation_code().unwrap();
        assert_eq!(code.len(), 24);
        assert_eq!(normalise_code(&code.to_lowercase()).len(), 20);
        assert_eq!(random_token().unwrap().len(), 64);
        assert_eq!(auth_code().unwrap().len(), 6);
    }

    #[tokio::test]
    async fn r16_passwords_are_argon2id() {
        let h = hash_password("pw-123456".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        let checks = PasswordChecks::default();
        assert!(
            verify_password(checks.turn().await.unwrap(), "pw-123456".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify_password(checks.turn().await.unwrap(), "pw-123457".into(), h)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn r16_checks_in_reused_memory_agree_with_the_argon2_crate() {
        use argon2::PasswordVerifier;
        let checks = PasswordChecks::new(1, Duration::from_secs(5));
        for pw in ["0101", "pw-123456", "密码-ü"] {
            let h = hash_password(pw.into()).await.unwrap();
            for candidate in [pw, "0102", ""] {
                let crate_says = Argon2::default()
                    .verify_password(candidate.as_bytes(), &PasswordHash::new(&h).unwrap())
                    .is_ok();
                let turn = checks.turn().await.unwrap();
                let we_say = verify_password(turn, candidate.into(), h.clone()).await;
                assert_eq!(we_say, Ok(crate_says), "{pw} / {candidate}");
            }
        }
        let turn = checks.turn().await.unwrap();
        let bad = verify_password(turn, "x".into(), "not a hash".into()).await;
        assert_eq!(bad.unwrap_err().code, ErrorCode::Internal);
        assert_eq!(
            checks.memory.lock().unwrap().len(),
            1,
            "one area for one permit"
        );
    }

    #[tokio::test]
    async fn r16_a_check_beyond_the_bound_is_busy_503() {
        let checks = PasswordChecks::new(1, Duration::ZERO);
        let held = checks.turn().await.unwrap();
        let e = checks.turn().await.unwrap_err();
        assert_eq!(
            (e.status, e.code, e.retry_after),
            (503, ErrorCode::Busy, Some(1))
        );
        drop(held);
        assert!(checks.turn().await.is_ok());
        assert_eq!(DEFAULT_PASSWORD_CHECKS, 4);
    }

    #[test]
    fn r17_digests_and_auth_codes_have_their_form() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let codes: Vec<String> = (0..20).map(|_| auth_code().unwrap()).collect();
        for code in &codes {
            assert!(
                code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
                "{code}"
            );
        }
        // Drawn over all of 000000..=999999: twenty below 004295 happen once in 10^47.
        assert!(codes.iter().any(|c| c.as_str() > "004294"), "{codes:?}");
    }

    #[test]
    fn r9_a_fingerprint_key_file_holds_at_least_32_bytes_and_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            FingerprintKey::from_file(&path)
        };
        let key = [b'k'; 32];
        let bare = file("bare", &key).unwrap();
        let mut lines = key.to_vec();
        lines.extend_from_slice(b"\r\n");
        let with_break = file("break", &lines).unwrap();
        let mac = |k: &FingerprintKey| k.card_mac("4111111111111111", "12/39").unwrap();
        assert_eq!(
            mac(&bare),
            mac(&with_break),
            "a trailing line break is not the key"
        );
        assert!(file("short", &key[..31]).is_err());
        assert!(file("short-with-break", b"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n").is_err());
        assert_eq!(format!("{bare:?}"), "FingerprintKey(…)");
    }

    #[test]
    fn r9_the_card_mac_needs_the_key_and_covers_the_whole_card() {
        let key = FingerprintKey::from_hex(&FingerprintKey::generate_hex().unwrap()).unwrap();
        let other = FingerprintKey::from_hex(&FingerprintKey::generate_hex().unwrap()).unwrap();
        let a = key.card_mac("4111111111111111", "12/39").unwrap();
        assert_eq!(a.len(), 64);
        assert!(!a.contains("4111"));
        assert_ne!(a, key.card_mac("4111111000071111", "12/39").unwrap());
        assert_ne!(a, key.card_mac("4111111111111111", "11/39").unwrap());
        assert_ne!(a, other.card_mac("4111111111111111", "12/39").unwrap());
        assert!(FingerprintKey::from_hex("abcd").is_err());
    }
}
