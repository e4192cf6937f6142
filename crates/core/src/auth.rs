//! Who is asking, and what their role lets them do.

use crate::error::{Error, ErrorCode, Result};
use crate::ids::{TokenId, UserId};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    KeyUser,
    User,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::KeyUser, Role::User, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::KeyUser => "key_user",
            Role::User => "user",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.as_str().replace('_', "-") == s)
    }
}

/// What a role may do. The matrix lives here, in one place, and every endpoint asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadRecords,
    WriteRecords,
    ChangeSchema,
}

pub fn role_allows(role: Role, permission: Permission) -> bool {
    match permission {
        Permission::ReadRecords => true,
        Permission::WriteRecords => role != Role::ReadOnly,
        Permission::ChangeSchema => role == Role::Admin,
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub token_id: Option<TokenId>,
}

impl Principal {
    pub fn require(&self, permission: Permission) -> Result<()> {
        if role_allows(self.role, permission) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Forbidden,
                format!("the role {} may not do this", self.role.as_str()),
            ))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Option<String>,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

const TOKEN_PREFIX: &str = "anc_";

/// A new secret token for a workspace: `anc_<workspace>_<43 random base62 characters>`
/// (256 bits). The workspace travels in the token so a request finds its workspace; only the
/// SHA-256 of the whole token is stored (a high-entropy secret needs no slow hash).
pub fn generate_token(workspace: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let secret: String = (0..43)
        .map(|_| {
            let i = rng.random_range(0..ALPHABET.len());
            ALPHABET.get(i).copied().map_or('A', char::from)
        })
        .collect();
    format!("{TOKEN_PREFIX}{workspace}_{secret}")
}

pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The workspace a token names, if it has the shape of one.
pub fn token_workspace(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (workspace, secret) = rest.rsplit_once('_')?;
    (crate::workspace::valid_workspace_name(workspace) && secret.len() == 43).then_some(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_workspace_and_hash_stably() {
        let t = generate_token("acme-nordic");
        assert_eq!(token_workspace(&t), Some("acme-nordic"));
        assert_eq!(hash_token(&t), hash_token(&t));
        assert_ne!(hash_token(&t), hash_token(&generate_token("acme-nordic")));
        assert_eq!(token_workspace("anc_x_short"), None);
        assert_eq!(token_workspace("Bearer nonsense"), None);
    }

    #[test]
    fn read_only_cannot_write_and_only_admins_change_schema() {
        assert!(!role_allows(Role::ReadOnly, Permission::WriteRecords));
        assert!(role_allows(Role::User, Permission::WriteRecords));
        assert!(!role_allows(Role::KeyUser, Permission::ChangeSchema));
        assert!(role_allows(Role::Admin, Permission::ChangeSchema));
    }
}
