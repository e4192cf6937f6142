//! Who is calling: the user a bearer token or a session cookie names, decided here for the API,
//! the UI and anything else that takes a credential, so each asks the same questions.

use crate::auth::{Credential, Principal};
use crate::error::Result;
use crate::identity::{CredentialStore, SESSION_TOUCH, Session, User};
use crate::secret::hash_secret;
use chrono::{DateTime, Duration, Utc};

/// Only write a token's `last_used_at` when it is older than this, so reads stay reads.
const TOKEN_TOUCH: Duration = Duration::seconds(60);

/// A caller whose credential holds.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub user: User,
    /// Set when the caller is a browser session.
    pub session: Option<Session>,
    /// The schema version read with the credential, so the request need not read it again.
    pub schema_version: i64,
}

/// The caller an API token names, or `None` when it is unknown, expired, revoked or its user
/// deactivated (all alike: a caller learns nothing about which).
pub async fn by_token(store: &dyn CredentialStore, token: &str, now: DateTime<Utc>) -> Result<Option<Caller>> {
    let Some((api_token, user, schema_version)) = store.token_by_hash(&hash_secret(token)).await? else {
        return Ok(None);
    };
    if !api_token.usable_at(now) || !user.active {
        return Ok(None);
    }
    if api_token.last_used_at.is_none_or(|t| now - t >= TOKEN_TOUCH) {
        store.touch_token(api_token.id, now).await?;
    }
    let principal = Principal {
        scope: api_token.scope,
        ..Principal::new(user.id, user.role, user.team, Credential::Token(api_token.id))
    };
    Ok(Some(Caller {
        principal,
        user,
        session: None,
        schema_version,
    }))
}

/// The caller a session cookie's secret names, or `None` when the session has ended (it is then
/// deleted) or never was.
pub async fn by_session(store: &dyn CredentialStore, secret: &str, now: DateTime<Utc>) -> Result<Option<Caller>> {
    let hash = hash_secret(secret);
    let Some((session, user, schema_version)) = store.session_by_hash(&hash).await? else {
        return Ok(None);
    };
    if !session.live_at(now) || !user.active {
        store.delete_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= SESSION_TOUCH {
        store.touch_session(&hash, now).await?;
    }
    let principal = Principal::new(user.id, user.role, user.team, Credential::Session);
    Ok(Some(Caller {
        principal,
        user,
        session: Some(session),
        schema_version,
    }))
}
