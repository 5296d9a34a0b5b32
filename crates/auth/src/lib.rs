//! Authentication primitives shared by the portal and the command line:
//!
//! - passwords are hashed with argon2id (OWASP's minimum: 19 MiB, 2 passes, 1 lane) into PHC
//!   strings, and checked in constant time, in memory the caller keeps between checks
//!   ([`CheckMemory`]);
//! - session cookies and API tokens are 256-bit random secrets; stores keep only their BLAKE3
//!   hash, so a leaked database gives no usable secret (the secrets are random, so a fast hash
//!   is enough: there is nothing to brute-force);
//! - CSRF tokens are compared in constant time;
//! - [`LoginLimiter`] slows password guessing per login and per client address.
//!
//! Nothing here logs; callers must never log a password, a secret or a hash of one.

mod limiter;

pub use limiter::{LoginAttempt, LoginLimiter, RetryAfter};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password too short: at least {MIN_PASSWORD_LEN} characters")]
    WeakPassword,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(bytes)
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AuthError::Hashing(e.to_string()))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// The memory an argon2id check works in (19 MiB), for the caller to keep for its next check:
/// allocating it afresh for each check leaves the allocator holding hundreds of MiB after a
/// burst of logins, however few of them ran at once.
#[derive(Default)]
pub struct CheckMemory(Vec<Block>);

/// Whether `password` matches the PHC string `hash` (false for a malformed hash), computed in
/// `memory`. Without a hash (the login does not exist) the same work is done against a fixed
/// dummy hash, so that an unknown login takes as long as a wrong password.
pub fn check_password(memory: &mut CheckMemory, hash: Option<&str>, password: &str) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match hash {
        Some(hash) => matches(memory, hash, password),
        None => {
            let dummy = DUMMY.get_or_init(|| {
                hash_password("greenwatch-dummy-password").expect("hashing a fixed password works")
            });
            let _ = matches(memory, dummy, password);
            false
        }
    }
}

/// Whether `password` matches the PHC string `hash`, with a fresh [`CheckMemory`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    check_password(&mut CheckMemory::default(), Some(hash), password)
}

/// What `PasswordVerifier::verify_password` does, in the caller's memory.
fn matches(memory: &mut CheckMemory, hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if memory.0.len() < params.block_count() {
        memory.0.resize(params.block_count(), Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut computed, &mut memory.0[..])
        .is_ok()
        // `Output`'s equality is constant-time.
        && Output::new(&computed).is_ok_and(|computed| computed == expected)
}

/// A new 256-bit secret, URL-safe (hex), for a session cookie, an API token or a CSRF token.
pub fn new_secret() -> Result<String, AuthError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// A random password for accounts created without one (shown once), 20 characters.
pub fn new_password() -> Result<String, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<20>()?;
    // 256 is not a multiple of 56: the bias (< 1 bit over 20 characters) does not matter here.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// What stores keep of a secret: its BLAKE3 hash, hex.
pub fn secret_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// Constant-time comparison of a submitted token with the expected one.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "x"));
        // One memory for many checks, as the portal keeps it: each check overwrites it whole.
        let mut memory = CheckMemory::default();
        for (password, right) in [("correct horse battery", true), ("wrong", false)] {
            assert_eq!(check_password(&mut memory, Some(&hash), password), right);
        }
        assert!(check_password(
            &mut memory,
            Some(&hash),
            "correct horse battery"
        ));
        assert!(!check_password(
            &mut memory,
            None,
            "greenwatch-dummy-password"
        ));
        let again = hash_password("correct horse battery").unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
        assert!(matches!(
            hash_password("short"),
            Err(AuthError::WeakPassword)
        ));
    }

    #[test]
    fn secrets_are_random_and_stored_by_hash() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
        assert_ne!(secret_hash(&a), secret_hash(&b));
        let p = new_password().unwrap();
        assert_eq!(p.len(), 20);
        assert!(hash_password(&p).is_ok());
    }

    #[test]
    fn tokens_match_only_exactly() {
        assert!(tokens_match("abc123", "abc123"));
        assert!(!tokens_match("abc123", "abc124"));
        assert!(!tokens_match("abc123", "abc12"));
        assert!(!tokens_match("abc123", ""));
    }
}
