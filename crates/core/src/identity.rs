//! People who use Anchora and how they prove it: users, teams, API tokens, web sessions,
//! password-reset links, and the rules for expiry and login throttling.

use crate::auth::{Role, Scope};
use crate::error::{Error, FieldError, Result};
use crate::ids::{TeamId, TokenId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

/// The UI languages.
pub const LOCALES: [&str; 5] = ["en", "sv", "de", "da", "es"];

/// What a user may choose: a language, and for English the way dates are written — "en"
/// month first (11/23/2026), "en-GB" day first (23/11/2026, 24-hour clock).
pub const LOCALE_CHOICES: [&str; 6] = ["en", "en-GB", "sv", "de", "da", "es"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Option<String>,
    pub name: String,
    pub role: Role,
    /// Deactivated users cannot sign in; their records and history stay.
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub locale: String,
    pub team: Option<TeamId>,
}

impl User {
    pub fn new(id: UserId, email: Option<String>, name: &str, role: Role, now: DateTime<Utc>) -> Self {
        Self {
            id,
            email,
            name: name.to_string(),
            role,
            active: true,
            password_hash: None,
            created_at: now,
            locale: "en".into(),
            team: None,
        }
    }

    /// The user as the API shows them: never the password hash.
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id.to_string(),
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "active": self.active,
            "locale": self.locale,
            "team": self.team.map(|t| t.to_string()),
            "has_password": self.password_hash.is_some(),
            "created_at": self.created_at,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Normalise and check an e-mail address used to sign in.
pub fn normalise_email(field: &str, email: &str) -> std::result::Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new(
            field,
            "must be an e-mail address such as anna@example.se",
        ))
    }
}

fn check_name(field: &str, name: &str) -> std::result::Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        Err(FieldError::new(
            field,
            "must be 1–120 characters without control characters",
        ))
    } else {
        Ok(name.to_string())
    }
}

fn check_locale(field: &str, locale: &str) -> std::result::Result<String, FieldError> {
    if LOCALE_CHOICES.contains(&locale) {
        Ok(locale.to_string())
    } else {
        Err(FieldError::new(
            field,
            format!("must be one of {}", LOCALE_CHOICES.join(", ")),
        ))
    }
}

fn parse_role(field: &str, role: &str) -> std::result::Result<Role, FieldError> {
    Role::parse(role).ok_or_else(|| FieldError::new(field, "must be one of admin, key_user, user, read_only"))
}

/// What an administrator sends to create a user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// A checked new user, before its password is hashed.
#[derive(Debug, Clone)]
pub struct ValidNewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub locale: String,
    pub team: Option<TeamId>,
    pub password: Option<String>,
}

impl NewUser {
    pub fn validate(self) -> Result<ValidNewUser> {
        let mut errors = Vec::new();
        let email = normalise_email("email", &self.email).map_err(|e| errors.push(e)).ok();
        let name = check_name("name", &self.name).map_err(|e| errors.push(e)).ok();
        let role = parse_role("role", &self.role).map_err(|e| errors.push(e)).ok();
        let locale = check_locale("locale", self.locale.as_deref().unwrap_or("en"))
            .map_err(|e| errors.push(e))
            .ok();
        let team = match self.team.as_deref() {
            None | Some("") => None,
            Some(t) => TeamId::parse(t).or_else(|| {
                errors.push(FieldError::new("team", "must be a team id"));
                None
            }),
        };
        if let Some(p) = &self.password
            && let Err(e) = crate::password::check_new_password("password", p, email.as_deref())
        {
            errors.extend(e.errors);
        }
        match (email, name, role, locale) {
            (Some(email), Some(name), Some(role), Some(locale)) if errors.is_empty() => Ok(ValidNewUser {
                email,
                name,
                role,
                locale,
                team,
                password: self.password,
            }),
            _ => Err(Error::validation(errors)),
        }
    }
}

/// Changes to a user. Who may change which part is decided by the service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub role: Option<String>,
    /// A team id, or null for none.
    #[serde(default, with = "double_option")]
    pub team: Option<Option<String>>,
    pub active: Option<bool>,
}

impl UserPatch {
    /// Whether the patch touches what only user managers may change.
    pub fn is_administrative(&self) -> bool {
        self.role.is_some() || self.team.is_some() || self.active.is_some() || self.email.is_some()
    }

    pub fn apply(self, user: &User) -> Result<User> {
        let mut next = user.clone();
        let mut errors = Vec::new();
        if let Some(n) = &self.name {
            check_name("name", n)
                .map(|n| next.name = n)
                .map_err(|e| errors.push(e))
                .ok();
        }
        if let Some(e) = &self.email {
            normalise_email("email", e)
                .map(|e| next.email = Some(e))
                .map_err(|e| errors.push(e))
                .ok();
        }
        if let Some(l) = &self.locale {
            check_locale("locale", l)
                .map(|l| next.locale = l)
                .map_err(|e| errors.push(e))
                .ok();
        }
        if let Some(r) = &self.role {
            parse_role("role", r)
                .map(|r| next.role = r)
                .map_err(|e| errors.push(e))
                .ok();
        }
        match self.team {
            None => {}
            Some(None) => next.team = None,
            Some(Some(t)) if t.is_empty() => next.team = None,
            Some(Some(t)) => match TeamId::parse(&t) {
                Some(id) => next.team = Some(id),
                None => errors.push(FieldError::new("team", "must be a team id or null")),
            },
        }
        if let Some(a) = self.active {
            next.active = a;
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(Error::validation(errors))
        }
    }
}

/// Distinguishes a missing field from an explicit null.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

pub fn check_team_name(name: &str) -> Result<String> {
    check_name("name", name).map_err(|e| Error::validation(vec![e]))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }

    /// The token as the API shows it: never the secret or its hash.
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "user": self.user_id.to_string(),
            "scope": self.scope,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
        })
    }
}

/// Longest lifetime a token may be given, in days.
pub const MAX_TOKEN_DAYS: i64 = 3650;

pub fn check_token_name(name: &str) -> Result<String> {
    check_name("name", name).map_err(|e| Error::validation(vec![e]))
}

pub fn token_expiry(now: DateTime<Utc>, days: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    match days {
        None => Ok(None),
        Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Ok(Some(now + Duration::days(d))),
        Some(_) => Err(Error::field(
            "expires_in_days",
            format!("must be between 1 and {MAX_TOKEN_DAYS}"),
        )),
    }
}

/// A signed-in browser. The id is a secret the browser holds in a cookie; the database keeps
/// only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session ends after this long without a request…
pub const SESSION_IDLE: Duration = Duration::hours(2);
/// …and after this long in any case.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often, so reads stay reads.
pub const SESSION_TOUCH: Duration = Duration::seconds(60);

impl Session {
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at && now - self.last_seen_at < SESSION_IDLE
    }
}

/// A one-time password-reset link, valid for an hour.
pub const RESET_VALIDITY: Duration = Duration::hours(1);

/// Login throttling: after `free` failures within `WINDOW`, each further attempt waits
/// `BASE_DELAY * 2^(failures - free)`, at most `MAX_DELAY`, counted from the last failure.
pub struct Throttle {
    pub free: u32,
}

pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
const BASE_DELAY_SECONDS: i64 = 30;
const MAX_DELAY_SECONDS: i64 = 15 * 60;
/// Per account: five tries, then back off.
pub const ACCOUNT_THROTTLE: Throttle = Throttle { free: 5 };
/// Per address: generous, since offices share one, but a scan of many accounts is slowed.
pub const IP_THROTTLE: Throttle = Throttle { free: 20 };

impl Throttle {
    /// How long until the next attempt is allowed, given the failures in the window and the
    /// time of the last one; `None` when an attempt may be made now.
    pub fn wait(&self, failures: u32, last_failure: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<Duration> {
        let over = failures.checked_sub(self.free)?;
        let last = last_failure?;
        let delay = BASE_DELAY_SECONDS
            .saturating_mul(1_i64.checked_shl(over.min(20)).unwrap_or(i64::MAX))
            .min(MAX_DELAY_SECONDS);
        let until = last + Duration::seconds(delay);
        (until > now).then(|| until - now)
    }
}

/// Where users and teams are kept.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, user: &User) -> Result<()>;
    /// Writes every field of the user; sessions of a deactivated user end with it.
    async fn update_user(&self, user: &User) -> Result<()>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    async fn team_members(&self, team: TeamId) -> Result<Vec<UserId>>;
    async fn create_team(&self, team: &Team) -> Result<()>;
    async fn teams(&self) -> Result<Vec<Team>>;
}

/// Where the ways of signing in are kept: API tokens, sessions and password-reset links, each
/// by the hash of its secret.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn create_token(&self, token: &ApiToken) -> Result<()>;
    /// The token with this hash, its user, and the schema version, read in one go.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User, i64)>>;
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;
    async fn token(&self, id: TokenId) -> Result<Option<ApiToken>>;
    /// Tokens of one user, or of everyone; newest first.
    async fn tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this id hash, its user, and the schema version, read in one go.
    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User, i64)>>;
    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, hash: &str) -> Result<()>;
    /// End every session of a user but `keep` (after a password change, a deactivation).
    async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> Result<()>;

    async fn create_password_reset(
        &self,
        hash: &str,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Use a reset link: its user when it is unused and unexpired, marking it used in the same
    /// statement so it works once.
    async fn take_password_reset(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>>;
    /// The user of an unused, unexpired reset link, without using it.
    async fn password_reset_user(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>>;
    /// Void every reset link of a user (after their password changed).
    async fn clear_password_resets(&self, user: UserId) -> Result<()>;
    /// Delete sessions and reset links that can no longer be used.
    async fn purge_expired_credentials(&self, now: DateTime<Utc>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn throttling_backs_off_exponentially_and_is_capped() {
        let th = ACCOUNT_THROTTLE;
        assert_eq!(th.wait(4, Some(t(0)), t(1)), None);
        assert_eq!(th.wait(5, Some(t(0)), t(1)), Some(Duration::seconds(29)));
        assert_eq!(th.wait(5, Some(t(0)), t(30)), None);
        assert_eq!(th.wait(6, Some(t(0)), t(0)), Some(Duration::seconds(60)));
        assert_eq!(th.wait(7, Some(t(0)), t(0)), Some(Duration::seconds(120)));
        assert_eq!(th.wait(60, Some(t(0)), t(0)), Some(Duration::seconds(900)));
        assert_eq!(th.wait(9, None, t(0)), None);
    }

    #[test]
    fn sessions_expire_when_idle_and_absolutely() {
        let s = Session {
            id_hash: String::new(),
            user_id: UserId(uuid::Uuid::nil()),
            csrf_token: String::new(),
            created_at: t(0),
            last_seen_at: t(0),
            expires_at: t(0) + SESSION_ABSOLUTE,
            ip: None,
            user_agent: None,
        };
        assert!(s.live_at(t(60)));
        assert!(!s.live_at(t(0) + SESSION_IDLE));
        let busy = Session {
            last_seen_at: t(0) + SESSION_ABSOLUTE - Duration::minutes(1),
            ..s
        };
        assert!(busy.live_at(t(0) + SESSION_ABSOLUTE - Duration::seconds(1)));
        assert!(!busy.live_at(t(0) + SESSION_ABSOLUTE));
    }

    #[test]
    fn new_users_collect_every_error() {
        let e = NewUser {
            email: "nope".into(),
            name: " ".into(),
            role: "owner".into(),
            locale: Some("fr".into()),
            team: Some("x".into()),
            password: Some("short".into()),
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "role", "locale", "team", "password"]);
        let ok = NewUser {
            email: " Anna@Example.SE ".into(),
            name: "Anna".into(),
            role: "key-user".into(),
            locale: None,
            team: None,
            password: None,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.email, "anna@example.se");
        assert_eq!(ok.role, Role::KeyUser);
    }

    #[test]
    fn patches_tell_administrative_changes_and_null_teams() {
        let p: UserPatch = serde_json::from_value(json!({"name": "A"})).unwrap();
        assert!(!p.is_administrative());
        let p: UserPatch = serde_json::from_value(json!({"team": null})).unwrap();
        assert!(p.is_administrative());
        assert_eq!(p.team, Some(None));
        let p: UserPatch = serde_json::from_value(json!({"role": "admin"})).unwrap();
        assert!(p.is_administrative());
        assert!(serde_json::from_value::<UserPatch>(json!({"password_hash": "x"})).is_err());
    }

    #[test]
    fn token_lifetimes_are_bounded() {
        assert_eq!(token_expiry(t(0), None).unwrap(), None);
        assert_eq!(token_expiry(t(0), Some(1)).unwrap(), Some(t(86_400)));
        assert!(token_expiry(t(0), Some(0)).is_err());
        assert!(token_expiry(t(0), Some(100_000)).is_err());
    }
}
