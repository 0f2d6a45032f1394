//! Random credentials, their hashes, and operator passwords (R16, R17).
//!
//! Terminal keys, session tokens and activation codes are random and stored only as SHA-256
//! hashes: a copy of the database lets nobody sign in. Passwords are Argon2id hashes, checked
//! on the blocking pool because each check costs tens of milliseconds of CPU on purpose.

use crate::error::{ApiError, ApiResult};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use sha2::{Digest, Sha256};

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

fn hex(bytes: &[u8]) -> String {
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

/// Whether `password` matches the stored PHC hash; a malformed hash matches nothing.
pub async fn verify_password(password: String, phc: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(ApiError::internal)
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
        assert!(verify_password("pw-123456".into(), h.clone())
            .await
            .unwrap());
        assert!(!verify_password("pw-123457".into(), h).await.unwrap());
    }
}
