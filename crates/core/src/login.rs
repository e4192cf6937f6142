//! Signing in and out of the web UI, and resetting a forgotten password.
//!
//! Every failure answers the same ("e-mail or password is wrong") and takes as long, whether the
//! account exists or not. Failures are counted in the audit log, per account and per address,
//! and further attempts back off exponentially (see `identity::Throttle`).

use crate::audit::{AuditEvent, AuditKind};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{
    ACCOUNT_THROTTLE, IP_THROTTLE, RESET_VALIDITY, SESSION_ABSOLUTE, Session, THROTTLE_WINDOW, User, normalise_email,
};
use crate::password::{check_new_password, hash_password_off_runtime, verify_password_off_runtime};
use crate::secret::{generate_session_id, hash_secret, random_secret};
use crate::service::Crm;
use chrono::Duration;
use serde_json::json;

/// Where a login or reset request came from.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A new session: the secret for the browser's cookie, and what the database keeps.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session_secret: String,
    pub session: Session,
    pub user: User,
}

/// The audit subject of a sign-in whose e-mail field held no e-mail address.
pub const NOT_AN_EMAIL: &str = "(not an e-mail address)";

/// At most this many reset links per account per throttle window.
const RESETS_PER_WINDOW: u32 = 3;

fn wrong_credentials() -> Error {
    Error::new(ErrorCode::Unauthenticated, "the e-mail or password is wrong")
}

fn seconds(d: Duration) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0).max(1)
}

impl Crm {
    /// How long the account (and the address) must wait before another password attempt.
    pub(crate) async fn throttle_wait(&self, subject: &str, client: &Client) -> Result<Option<Duration>> {
        let now = self.clock.now();
        let since = now - THROTTLE_WINDOW;
        let (account_failures, account_last) = self
            .store
            .count_events(AuditKind::LoginFailed, Some(subject), None, since)
            .await?;
        let mut wait = ACCOUNT_THROTTLE.wait(account_failures, account_last, now);
        if let Some(ip) = client.ip.as_deref() {
            let (ip_failures, ip_last) = self
                .store
                .count_events(AuditKind::LoginFailed, None, Some(ip), since)
                .await?;
            wait = wait.max(IP_THROTTLE.wait(ip_failures, ip_last, now));
        }
        Ok(wait)
    }

    /// Check a password and open a session. `previous` is the hash of a session the browser
    /// still held; it ends, so a session id is never reused across a login.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &Client,
        previous: Option<&str>,
    ) -> Result<SignedIn> {
        let now = self.clock.now();
        // Whatever was typed that is not an e-mail address (people type passwords there) is
        // never written to the audit log.
        let email = normalise_email("email", email).unwrap_or_else(|_| NOT_AN_EMAIL.to_string());
        let wait = self.throttle_wait(&email, client).await?;
        if let Some(wait) = wait {
            self.record_event(
                AuditEvent::new(now, None, AuditKind::LoginThrottled)
                    .subject(email)
                    .ip(client.ip.as_deref()),
            )
            .await?;
            return Err(Error::rate_limited(
                format!("too many failed sign-ins; try again in {} seconds", seconds(wait)),
                seconds(wait),
            ));
        }
        let user = self.store.user_by_email(&email).await?;
        let hash = user.as_ref().filter(|u| u.active).and_then(|u| u.password_hash.clone());
        let ok = verify_password_off_runtime(hash, password.to_string()).await?;
        let user = match user {
            Some(u) if ok => u,
            other => {
                let reason = match &other {
                    None => "unknown account",
                    Some(u) if !u.active => "deactivated account",
                    Some(u) if u.password_hash.is_none() => "no password set",
                    Some(_) => "wrong password",
                };
                self.record_event(
                    AuditEvent::new(now, other.map(|u| u.id), AuditKind::LoginFailed)
                        .subject(email)
                        .ip(client.ip.as_deref())
                        .detail(json!({"reason": reason})),
                )
                .await?;
                return Err(wrong_credentials());
            }
        };
        if let Some(previous) = previous {
            self.store.delete_session(previous).await?;
        }
        let secret = generate_session_id(self.workspace());
        let session = Session {
            id_hash: hash_secret(&secret),
            user_id: user.id,
            csrf_token: random_secret(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_ABSOLUTE,
            ip: client.ip.clone(),
            user_agent: client.user_agent.as_ref().map(|a| a.chars().take(300).collect()),
        };
        self.store.create_session(&session).await?;
        self.store.purge_expired_credentials(now).await?;
        self.record_event(
            AuditEvent::new(now, Some(user.id), AuditKind::LoginSucceeded)
                .subject(email)
                .ip(client.ip.as_deref()),
        )
        .await?;
        Ok(SignedIn {
            session_secret: secret,
            session,
            user,
        })
    }

    pub async fn logout(&self, session_hash: &str, user: crate::ids::UserId, client: &Client) -> Result<()> {
        self.store.delete_session(session_hash).await?;
        self.record_event(AuditEvent::new(self.clock.now(), Some(user), AuditKind::Logout).ip(client.ip.as_deref()))
            .await
    }

    /// Make a one-time reset link's secret for an active account with this e-mail. `None` when
    /// there is no such account or too many links were asked for; the caller answers the same
    /// either way, so nobody learns which e-mails have accounts.
    pub async fn request_password_reset(&self, email: &str, client: &Client) -> Result<Option<(User, String)>> {
        let now = self.clock.now();
        let Ok(email) = normalise_email("email", email) else {
            return Ok(None);
        };
        let (recent, _) = self
            .store
            .count_events(
                AuditKind::PasswordResetRequested,
                Some(&email),
                None,
                now - THROTTLE_WINDOW,
            )
            .await?;
        let user = self.store.user_by_email(&email).await?.filter(|u| u.active);
        self.record_event(
            AuditEvent::new(now, user.as_ref().map(|u| u.id), AuditKind::PasswordResetRequested)
                .subject(email)
                .ip(client.ip.as_deref())
                .detail(json!({"account": user.is_some(), "sent": user.is_some() && recent < RESETS_PER_WINDOW})),
        )
        .await?;
        let Some(user) = user.filter(|_| recent < RESETS_PER_WINDOW) else {
            return Ok(None);
        };
        let secret = random_secret();
        self.store
            .create_password_reset(&hash_secret(&secret), user.id, now, now + RESET_VALIDITY)
            .await?;
        Ok(Some((user, secret)))
    }

    /// Set a new password with a reset link's secret. The link works once; every session of the
    /// account ends.
    pub async fn reset_password(&self, secret: &str, new_password: &str, client: &Client) -> Result<User> {
        let now = self.clock.now();
        let invalid = || {
            Error::new(
                ErrorCode::NotFound,
                "this reset link is not valid: it was used already, has expired or never existed",
            )
        };
        // Check the password before the link is used, so a mistake does not use it up.
        let hash = hash_secret(secret);
        let user_id = self.store.password_reset_user(&hash, now).await?.ok_or_else(invalid)?;
        let mut user = self
            .store
            .user(user_id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(invalid)?;
        check_new_password("password", new_password, user.email.as_deref())?;
        // Taking it is one statement: of two simultaneous uses, one wins.
        if self.store.take_password_reset(&hash, now).await? != Some(user.id) {
            return Err(invalid());
        }
        user.password_hash = Some(hash_password_off_runtime(new_password.to_string()).await?);
        self.store.update_user(&user).await?;
        self.store.delete_sessions_of(user.id, None).await?;
        self.store.clear_password_resets(user.id).await?;
        self.record_event(
            AuditEvent::new(now, Some(user.id), AuditKind::PasswordReset)
                .subject(user.id.to_string())
                .ip(client.ip.as_deref()),
        )
        .await?;
        Ok(user)
    }
}
