//! Bearer secrets: API tokens, session ids, password-reset links, CSRF tokens.
//!
//! Each is 256 random bits in base62. Tokens and session ids name their workspace, so a request
//! finds its workspace before it looks the secret up; only the SHA-256 of a secret is stored
//! (a high-entropy secret needs no slow hash).

use rand::Rng;
use sha2::{Digest, Sha256};

const SECRET_CHARS: usize = 43;
pub const TOKEN_PREFIX: &str = "anc_";
pub const SESSION_PREFIX: &str = "ans_";

/// 43 random base62 characters (≈256 bits).
pub fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..SECRET_CHARS)
        .map(|_| {
            let i = rng.random_range(0..ALPHABET.len());
            ALPHABET.get(i).copied().map_or('A', char::from)
        })
        .collect()
}

/// A new API token for a workspace: `anc_<workspace>_<secret>`.
pub fn generate_token(workspace: &str) -> String {
    format!("{TOKEN_PREFIX}{workspace}_{}", random_secret())
}

/// A new session id for a workspace: `ans_<workspace>_<secret>`.
pub fn generate_session_id(workspace: &str) -> String {
    format!("{SESSION_PREFIX}{workspace}_{}", random_secret())
}

pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The workspace an API token names, if it has the shape of one.
pub fn token_workspace(token: &str) -> Option<&str> {
    secret_workspace(token, TOKEN_PREFIX)
}

/// The workspace a session id names, if it has the shape of one.
pub fn session_workspace(session: &str) -> Option<&str> {
    secret_workspace(session, SESSION_PREFIX)
}

fn secret_workspace<'a>(secret: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = secret.strip_prefix(prefix)?;
    let (workspace, secret) = rest.rsplit_once('_')?;
    (crate::workspace::valid_workspace_name(workspace)
        && secret.len() == SECRET_CHARS
        && secret.chars().all(|c| c.is_ascii_alphanumeric()))
    .then_some(workspace)
}

/// Compare two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_name_their_workspace_and_hash_stably() {
        let t = generate_token("acme-nordic");
        assert_eq!(token_workspace(&t), Some("acme-nordic"));
        assert_eq!(session_workspace(&t), None);
        assert_eq!(hash_secret(&t), hash_secret(&t));
        assert_ne!(hash_secret(&t), hash_secret(&generate_token("acme-nordic")));
        assert_eq!(token_workspace("anc_x_short"), None);
        assert_eq!(token_workspace("Bearer nonsense"), None);
        let s = generate_session_id("main");
        assert_eq!(session_workspace(&s), Some("main"));
        assert_eq!(token_workspace(&s), None);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
