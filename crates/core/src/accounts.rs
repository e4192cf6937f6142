//! Use cases for administering people and access: users, teams, API tokens, the access
//! policy, the audit and change logs. Every one checks permissions and records what it did.

use crate::audit::{AuditEvent, AuditKind, AuditQuery, ChangeQuery};
use crate::auth::{AccessPolicy, Credential, Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::{
    ApiToken, NewUser, Team, User, UserPatch, ValidNewUser, check_team_name, check_token_name, token_expiry,
};
use crate::ids::{TeamId, TokenId, UserId};
use crate::password::{check_new_password, hash_password_off_runtime, verify_password_off_runtime};
use crate::record::Change;
use crate::secret::{generate_token, hash_secret};
use crate::service::{Crm, body_error};
use serde::Deserialize;
use serde_json::{Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scope: String,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

fn parse<T: for<'de> Deserialize<'de>>(body: Json) -> Result<T> {
    serde_json::from_value(body).map_err(|e| body_error(&e))
}

fn user_not_found(id: &str) -> Error {
    Error::not_found(format!("no user with id {id:?}"))
}

/// How the audit log names the command line.
const LOCAL: &str = "command line";

/// Which client an event came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
}

impl Crm {
    async fn audit(&self, event: AuditEvent) -> Result<()> {
        self.store.record_audit(&event).await
    }

    /// The caller's own account.
    pub async fn me(&self, who: &Principal) -> Result<User> {
        self.store
            .user(who.user_id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "your account no longer exists"))
    }

    /// Everyone in the workspace (names for owner pickers); no secrets.
    pub async fn users(&self, who: &Principal) -> Result<Vec<User>> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.store.users().await
    }

    pub async fn user(&self, who: &Principal, id: &str) -> Result<User> {
        self.authorize(who, Permission::ReadRecords).await?;
        let uid = UserId::parse(id).ok_or_else(|| user_not_found(id))?;
        self.store.user(uid).await?.ok_or_else(|| user_not_found(id))
    }

    pub async fn create_user(&self, who: &Principal, body: Json, origin: &Origin) -> Result<User> {
        self.authorize(who, Permission::ManageUsers).await?;
        let new = parse::<NewUser>(body)?.validate()?;
        if let Some(team) = new.team {
            self.check_team(team).await?;
        }
        let team = new.team;
        self.insert_user(new, team, Some(who.user_id), origin).await
    }

    /// A user added on the command line, by whoever may read the database: the checks and the
    /// audit event of [`Crm::create_user`], with no actor. A team named that does not exist yet
    /// is created with it.
    pub async fn add_user_locally(&self, new: NewUser, team: Option<&str>) -> Result<User> {
        let new = new.validate()?;
        let team = match team {
            Some(name) => Some(self.team_named(name).await?),
            None => None,
        };
        self.insert_user(new, team, None, &Origin::default()).await
    }

    /// A service account (no e-mail, no password) with one admin-scoped token, made on the
    /// command line; the token's secret is returned once.
    pub async fn add_service_account(
        &self,
        name: &str,
        role: Role,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(User, String)> {
        let name = check_token_name(name)?;
        let now = self.clock.now();
        let user = User::new(UserId::new_at(now), None, &format!("Token: {name}"), role, now);
        self.store.create_user(&user).await?;
        self.audit(
            AuditEvent::new(now, None, AuditKind::UserCreated)
                .subject(user.id.to_string())
                .detail(json!({"name": user.name, "role": user.role, "via": LOCAL})),
        )
        .await?;
        let (_, secret) = self
            .issue_token(user.id, &name, Scope::Admin, expires_at, None, &Origin::default())
            .await?;
        Ok((user, secret))
    }

    async fn insert_user(
        &self,
        new: ValidNewUser,
        team: Option<TeamId>,
        actor: Option<UserId>,
        origin: &Origin,
    ) -> Result<User> {
        let now = self.clock.now();
        let mut user = User::new(UserId::new_at(now), Some(new.email.clone()), &new.name, new.role, now);
        user.locale = new.locale;
        user.team = team;
        if let Some(p) = new.password {
            user.password_hash = Some(hash_password_off_runtime(p).await?);
        }
        self.store.create_user(&user).await?;
        let mut detail = json!({"email": new.email, "role": user.role, "team": user.team.map(|t| t.to_string())});
        if let (None, Some(fields)) = (actor, detail.as_object_mut()) {
            fields.insert("via".into(), json!(LOCAL));
        }
        self.audit(
            AuditEvent::new(now, actor, AuditKind::UserCreated)
                .subject(user.id.to_string())
                .ip(origin.ip.as_deref())
                .detail(detail),
        )
        .await?;
        // Every new user starts with their role's onboarding checklist (C3). The user is made
        // already: a checklist that cannot start now is not worth refusing them for (and a
        // retry would find the address taken); administrators start it from the onboarding page.
        if let Err(e) = self.begin_onboarding(&user).await {
            tracing::warn!(user = %user.id, error = %e.detail, "the new user's onboarding checklist could not start");
        }
        Ok(user)
    }

    /// The team with this name (any case), or a new one.
    async fn team_named(&self, name: &str) -> Result<TeamId> {
        let name = check_team_name(name)?;
        if let Some(t) = self
            .store
            .teams()
            .await?
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&name))
        {
            return Ok(t.id);
        }
        let now = self.clock.now();
        let team = Team {
            id: TeamId::new_at(now),
            name,
            created_at: now,
        };
        self.store.create_team(&team).await?;
        self.audit(
            AuditEvent::new(now, None, AuditKind::TeamCreated)
                .subject(team.id.to_string())
                .detail(json!({"name": team.name, "via": LOCAL})),
        )
        .await?;
        Ok(team.id)
    }

    async fn check_team(&self, team: TeamId) -> Result<()> {
        if self.store.teams().await?.iter().any(|t| t.id == team) {
            Ok(())
        } else {
            Err(Error::field("team", "no team with this id"))
        }
    }

    /// Anyone may change their own name and language; role, team, e-mail and activation only
    /// someone who manages users — so nobody makes themself an administrator.
    pub async fn update_user(&self, who: &Principal, id: &str, body: Json, origin: &Origin) -> Result<User> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let patch: UserPatch = parse(body)?;
        let manager = who.may(Permission::ManageUsers, &schema.policy);
        let uid = UserId::parse(id).ok_or_else(|| user_not_found(id))?;
        if uid != who.user_id && !manager {
            return Err(Error::new(ErrorCode::Forbidden, "you may only change your own account"));
        }
        if patch.is_administrative() && !manager {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only someone who manages users may change a role, team, e-mail or activation",
            ));
        }
        if who.scope == Scope::Read {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "a read-scoped token cannot change anything",
            ));
        }
        let current = self.store.user(uid).await?.ok_or_else(|| user_not_found(id))?;
        let next = patch.apply(&current)?;
        if let Some(team) = next.team.filter(|t| Some(*t) != current.team) {
            self.check_team(team).await?;
        }
        let loses_admin = current.role == Role::Admin && current.active && (next.role != Role::Admin || !next.active);
        if loses_admin {
            let admins = self
                .store
                .users()
                .await?
                .into_iter()
                .filter(|u| u.role == Role::Admin && u.active && u.id != uid)
                .count();
            if admins == 0 {
                return Err(Error::field(
                    "role",
                    "the last active administrator cannot be demoted or deactivated",
                ));
            }
        }
        self.store.update_user(&next).await?;
        if !next.active {
            self.store.delete_sessions_of(uid, None).await?;
        }
        let changed = |a: Json, b: Json| (a != b).then(|| json!({"from": a, "to": b}));
        let mut detail = serde_json::Map::new();
        for (key, before, after) in [
            ("role", json!(current.role), json!(next.role)),
            (
                "team",
                json!(current.team.map(|t| t.to_string())),
                json!(next.team.map(|t| t.to_string())),
            ),
            ("active", json!(current.active), json!(next.active)),
            ("email", json!(current.email), json!(next.email)),
        ] {
            if let Some(c) = changed(before, after) {
                detail.insert(key.into(), c);
            }
        }
        if !detail.is_empty() {
            self.audit(
                AuditEvent::new(self.clock.now(), Some(who.user_id), AuditKind::UserChanged)
                    .subject(uid.to_string())
                    .ip(origin.ip.as_deref())
                    .detail(Json::Object(detail)),
            )
            .await?;
        }
        Ok(next)
    }

    pub async fn teams(&self, who: &Principal) -> Result<Vec<Team>> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.store.teams().await
    }

    pub async fn create_team(&self, who: &Principal, body: Json, origin: &Origin) -> Result<Team> {
        self.authorize(who, Permission::ManageUsers).await?;
        let new: NewTeam = parse(body)?;
        let now = self.clock.now();
        let team = Team {
            id: TeamId::new_at(now),
            name: check_team_name(&new.name)?,
            created_at: now,
        };
        self.store.create_team(&team).await?;
        self.audit(
            AuditEvent::new(now, Some(who.user_id), AuditKind::TeamCreated)
                .subject(team.id.to_string())
                .ip(origin.ip.as_deref())
                .detail(json!({"name": team.name})),
        )
        .await?;
        Ok(team)
    }

    pub async fn access_policy(&self, who: &Principal) -> Result<AccessPolicy> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        Ok(schema.policy.clone())
    }

    pub async fn set_access_policy(&self, who: &Principal, body: Json, origin: &Origin) -> Result<AccessPolicy> {
        let schema = self.authorize(who, Permission::ManageAccess).await?;
        let policy: AccessPolicy = parse(body)?;
        for object in policy.visibility.keys() {
            schema.object(object)?;
        }
        self.store.set_policy(&policy).await?;
        self.audit(
            AuditEvent::new(self.clock.now(), Some(who.user_id), AuditKind::AccessPolicyChanged)
                .ip(origin.ip.as_deref())
                .detail(json!({"from": schema.policy, "to": policy})),
        )
        .await?;
        Ok(policy)
    }

    /// The caller's tokens; with `all`, everyone's (for user managers).
    pub async fn tokens(&self, who: &Principal, all: bool) -> Result<Vec<ApiToken>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        if all {
            who.require(Permission::ManageUsers, &schema.policy)?;
            return self.store.tokens(None).await;
        }
        self.store.tokens(Some(who.user_id)).await
    }

    /// A new token for the caller. Only a web session or an admin-scoped token may mint one, so
    /// a leaked read token cannot make itself a stronger one. Returns the secret once.
    pub async fn create_token(&self, who: &Principal, body: Json, origin: &Origin) -> Result<(ApiToken, String)> {
        self.authorize(who, Permission::ReadRecords).await?;
        if who.scope != Scope::Admin {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only a web session or an admin-scoped token may create tokens",
            ));
        }
        let new: NewToken = parse(body)?;
        let scope = Scope::parse(&new.scope).ok_or_else(|| Error::field("scope", "must be read, write or admin"))?;
        let name = check_token_name(&new.name)?;
        let now = self.clock.now();
        let expires_at = token_expiry(now, new.expires_in_days)?;
        self.issue_token(who.user_id, &name, scope, expires_at, Some(who.user_id), origin)
            .await
    }

    /// Make a token for a user (the API, and `anchora token create` on the command line).
    pub async fn issue_token(
        &self,
        user: UserId,
        name: &str,
        scope: Scope,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        actor: Option<UserId>,
        origin: &Origin,
    ) -> Result<(ApiToken, String)> {
        let now = self.clock.now();
        let secret = generate_token(self.workspace());
        let token = ApiToken {
            id: TokenId::new_at(now),
            name: name.to_string(),
            user_id: user,
            token_hash: hash_secret(&secret),
            scope,
            created_at: now,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        self.store.create_token(&token).await?;
        let mut detail =
            json!({"user": user.to_string(), "name": token.name, "scope": scope, "expires_at": expires_at});
        if let (None, Some(fields)) = (actor, detail.as_object_mut()) {
            fields.insert("via".into(), json!(LOCAL));
        }
        self.audit(
            AuditEvent::new(now, actor, AuditKind::TokenCreated)
                .subject(token.id.to_string())
                .ip(origin.ip.as_deref())
                .detail(detail),
        )
        .await?;
        Ok((token, secret))
    }

    /// Revoke a token: the caller's own, or anyone's for a user manager. Someone else's token
    /// answers 404 to anyone else, like a token that does not exist.
    pub async fn revoke_token(&self, who: &Principal, id: &str, origin: &Origin) -> Result<ApiToken> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        if who.scope == Scope::Read {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "a read-scoped token cannot change anything",
            ));
        }
        let missing = || Error::not_found(format!("no token with id {id:?}"));
        let tid = TokenId::parse(id).ok_or_else(missing)?;
        let token = self.store.token(tid).await?.ok_or_else(missing)?;
        if token.user_id != who.user_id && !who.may(Permission::ManageUsers, &schema.policy) {
            return Err(missing());
        }
        let now = self.clock.now();
        if token.revoked_at.is_none() {
            self.store.revoke_token(tid, now).await?;
            self.audit(
                AuditEvent::new(now, Some(who.user_id), AuditKind::TokenRevoked)
                    .subject(tid.to_string())
                    .ip(origin.ip.as_deref())
                    .detail(json!({"user": token.user_id.to_string(), "name": token.name})),
            )
            .await?;
        }
        Ok(ApiToken {
            revoked_at: token.revoked_at.or(Some(now)),
            ..token
        })
    }

    /// Change one's own password; every other session of the user ends.
    pub async fn change_password(
        &self,
        who: &Principal,
        body: Json,
        keep_session: Option<&str>,
        origin: &Origin,
    ) -> Result<()> {
        if who.scope != Scope::Admin || matches!(who.credential, Credential::Token(_)) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "passwords are changed in a signed-in browser session",
            ));
        }
        let change: PasswordChange = parse(body)?;
        let mut user = self.me(who).await?;
        // Guesses at the current password count as failed sign-ins, throttled alike.
        let subject = user.email.clone().unwrap_or_else(|| user.id.to_string());
        let client = crate::login::Client {
            ip: origin.ip.clone(),
            user_agent: None,
        };
        if let Some(wait) = self.throttle_wait(&subject, &client).await? {
            let seconds = u64::try_from(wait.num_seconds()).unwrap_or(0).max(1);
            return Err(Error::rate_limited(
                format!("too many wrong passwords; try again in {seconds} seconds"),
                seconds,
            ));
        }
        if !verify_password_off_runtime(user.password_hash.clone(), change.current_password).await? {
            self.audit(
                AuditEvent::new(self.clock.now(), Some(user.id), AuditKind::LoginFailed)
                    .subject(subject)
                    .ip(origin.ip.as_deref())
                    .detail(json!({"reason": "wrong current password"})),
            )
            .await?;
            return Err(Error::field("current_password", "is not your current password"));
        }
        check_new_password("new_password", &change.new_password, user.email.as_deref())?;
        user.password_hash = Some(hash_password_off_runtime(change.new_password).await?);
        self.store.update_user(&user).await?;
        self.store.delete_sessions_of(user.id, keep_session).await?;
        self.store.clear_password_resets(user.id).await?;
        self.audit(
            AuditEvent::new(self.clock.now(), Some(who.user_id), AuditKind::PasswordChanged)
                .subject(user.id.to_string())
                .ip(origin.ip.as_deref()),
        )
        .await
    }

    pub async fn audit_log(&self, who: &Principal, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        self.authorize(who, Permission::ViewAudit).await?;
        self.store.audit_events(query).await
    }

    pub async fn change_log(&self, who: &Principal, query: &ChangeQuery) -> Result<Vec<Change>> {
        let schema = self.authorize(who, Permission::ViewAudit).await?;
        if let Some(object) = &query.object {
            schema.object(object)?;
        }
        self.store.changes(query).await
    }

    /// Record an event on behalf of a caller outside the use cases here (exports, backups).
    pub async fn record_event(&self, event: AuditEvent) -> Result<()> {
        self.audit(event).await
    }
}
