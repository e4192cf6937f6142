//! Passwords: argon2id with OWASP's parameters, and the rules a new password must meet.
//!
//! Hashing is deliberately slow (tens of milliseconds); callers on an async runtime run it on a
//! blocking thread (`tokio::task::spawn_blocking`), never on the runtime's workers.

use crate::error::{Error, FieldError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use std::sync::LazyLock;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that hashing it costs nothing extra.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
fn argon() -> Result<argon2::Argon2<'static>> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::internal(e.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

pub fn hash_password(password: &str) -> Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| Error::internal(e.to_string()))?;
    Ok(argon()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::internal(e.to_string()))?
        .to_string())
}

/// A hash of nothing anyone knows, checked when an account does not exist, so a failed login
/// takes as long whether or not the e-mail is known.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no account has this password").unwrap_or_default());

/// Whether `password` matches `hash`; `None` (no account, or no password set) spends the same
/// time and answers false.
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let (hash, real) = match hash {
        Some(h) => (h, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = argon().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok());
    ok && real
}

/// At most this many hashes at once: each takes 19 MiB and a core's worth of time, so a flood of
/// sign-in attempts queues here instead of exhausting memory.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    tokio::sync::Semaphore::new((cores * 2).max(2))
});

async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| Error::internal(format!("password hashing is shut down: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("password hashing stopped: {e}")))
}

/// `hash_password` on a blocking thread, so the async runtime's workers keep serving.
pub async fn hash_password_off_runtime(password: String) -> Result<String> {
    off_runtime(move || hash_password(&password)).await?
}

/// `verify_password` on a blocking thread.
pub async fn verify_password_off_runtime(hash: Option<String>, password: String) -> Result<bool> {
    off_runtime(move || verify_password(hash.as_deref(), &password)).await
}

/// The rules for a new password (NIST SP 800-63B: length matters, composition rules do not).
pub fn check_new_password(field: &str, password: &str, email: Option<&str>) -> Result<()> {
    let chars = password.chars().count();
    let message = if chars < MIN_PASSWORD_CHARS {
        Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!("must be at most {MAX_PASSWORD_BYTES} bytes"))
    } else if password.chars().all(|c| password.starts_with(c)) {
        Some("must not be one character repeated".to_string())
    } else if email.is_some_and(|e| password.eq_ignore_ascii_case(e)) {
        Some("must not be your e-mail address".to_string())
    } else {
        None
    };
    match message {
        Some(m) => Err(Error::validation(vec![FieldError::new(field, m)])),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(Some(&h), "correct horse battery"));
        assert!(!verify_password(Some(&h), "correct horse batterY"));
        assert!(!verify_password(None, "no account has this password"));
        assert!(!verify_password(Some("not a hash"), "x"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn new_password_rules_name_the_field() {
        assert!(check_new_password("password", "long enough pass", None).is_ok());
        let e = check_new_password("password", "short", None).unwrap_err();
        assert_eq!(e.errors[0].field, "password");
        assert!(check_new_password("password", "aaaaaaaaaaaa", None).is_err());
        assert!(check_new_password("password", "anna@example.se", Some("Anna@example.se")).is_err());
        assert!(check_new_password("password", &"x".repeat(2000), None).is_err());
    }
}
