//! Users, teams, API tokens, web sessions and password-reset links.

use crate::db::db_error;
use crate::db::in_write;
use crate::db::{Backend, Exec, Row};
use crate::sql_store::*;
use anchora_core::auth::{Role, Scope};
use anchora_core::error::Result;
use anchora_core::identity::CredentialStore;
use anchora_core::identity::UserStore;
use anchora_core::identity::{ApiToken, Session, Team, User};
use anchora_core::{TeamId, TokenId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};

const USER_COLUMNS: [&str; 9] = [
    "id",
    "email",
    "name",
    "role",
    "active",
    "password_hash",
    "created_at",
    "locale",
    "team_id",
];
pub const TOKEN_COLUMNS: [&str; 9] = [
    "id",
    "name",
    "user_id",
    "token_hash",
    "scope",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
];
const SESSION_COLUMNS: [&str; 8] = [
    "id_hash",
    "user_id",
    "csrf_token",
    "created_at",
    "last_seen_at",
    "expires_at",
    "ip",
    "user_agent",
];

fn decode_user(r: &Row, at: usize) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(r.uuid(at)?),
        email: r.opt_string(at + 1)?,
        name: r.string(at + 2)?,
        role: Role::parse(&r.string(at + 3)?).unwrap_or(Role::ReadOnly),
        active: r.bool(at + 4)?,
        password_hash: r.opt_string(at + 5)?,
        created_at: r.datetime(at + 6)?,
        locale: r.opt_string(at + 7)?.unwrap_or_else(|| "en".into()),
        team: r.opt_uuid(at + 8)?.map(TeamId),
    })
}

fn decode_token(r: &Row, at: usize) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: TokenId(r.uuid(at)?),
        name: r.string(at + 1)?,
        user_id: UserId(r.uuid(at + 2)?),
        token_hash: r.string(at + 3)?,
        // An unknown scope reads as the narrowest, never the widest.
        scope: Scope::parse(&r.string(at + 4)?).unwrap_or(Scope::Read),
        created_at: r.datetime(at + 5)?,
        last_used_at: r.opt_datetime(at + 6)?,
        expires_at: r.opt_datetime(at + 7)?,
        revoked_at: r.opt_datetime(at + 8)?,
    })
}

fn decode_session(r: &Row, at: usize) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id_hash: r.string(at)?,
        user_id: UserId(r.uuid(at + 1)?),
        csrf_token: r.string(at + 2)?,
        created_at: r.datetime(at + 3)?,
        last_seen_at: r.datetime(at + 4)?,
        expires_at: r.datetime(at + 5)?,
        ip: r.opt_string(at + 6)?,
        user_agent: r.opt_string(at + 7)?,
    })
}

fn user_values(backend: Backend, u: &User) -> [Expr; 9] {
    [
        Expr::val(backend.uuid(Some(u.id.0))),
        u.email.clone().into(),
        u.name.clone().into(),
        u.role.as_str().to_string().into(),
        u.active.into(),
        u.password_hash.clone().into(),
        Expr::val(backend.datetime(Some(u.created_at))),
        u.locale.clone().into(),
        Expr::val(backend.uuid(u.team.map(|t| t.0))),
    ]
}

pub async fn create_user(exec: Exec<'_>, backend: Backend, u: &User) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("users")
        .columns(USER_COLUMNS)
        .values_panic(user_values(backend, u))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn update_user(exec: Exec<'_>, backend: Backend, u: &User) -> Result<(), sqlx::Error> {
    let mut stmt = Query::update();
    stmt.table("users");
    for (column, value) in USER_COLUMNS.into_iter().zip(user_values(backend, u)).skip(1) {
        stmt.value(column, value);
    }
    stmt.and_where(Expr::col("id").eq(backend.uuid(Some(u.id.0))));
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

fn users_select() -> SelectStatement {
    Query::select().columns(USER_COLUMNS).from("users").to_owned()
}

pub async fn user_where(exec: Exec<'_>, backend: Backend, cond: Expr) -> Result<Option<User>, sqlx::Error> {
    let stmt = users_select().and_where(cond).to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode_user(&r, 0))
        .transpose()
}

pub async fn users(exec: Exec<'_>, backend: Backend) -> Result<Vec<User>, sqlx::Error> {
    let stmt = users_select()
        .order_by("name", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| decode_user(r, 0))
        .collect()
}

pub async fn team_members(exec: Exec<'_>, backend: Backend, team: TeamId) -> Result<Vec<UserId>, sqlx::Error> {
    let stmt = Query::select()
        .column("id")
        .from("users")
        .and_where(Expr::col("team_id").eq(backend.uuid(Some(team.0))))
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| r.uuid(0).map(UserId))
        .collect()
}

pub async fn create_team(exec: Exec<'_>, backend: Backend, t: &Team) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("teams")
        .columns(["id", "name", "created_at"])
        .values_panic([
            Expr::val(backend.uuid(Some(t.id.0))),
            t.name.clone().into(),
            Expr::val(backend.datetime(Some(t.created_at))),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn teams(exec: Exec<'_>, backend: Backend) -> Result<Vec<Team>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["id", "name", "created_at"])
        .from("teams")
        .order_by("name", Order::Asc)
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(Team {
                id: TeamId(r.uuid(0)?),
                name: r.string(1)?,
                created_at: r.datetime(2)?,
            })
        })
        .collect()
}

pub async fn create_token(exec: Exec<'_>, backend: Backend, t: &ApiToken) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("api_tokens")
        .columns(TOKEN_COLUMNS)
        .values_panic([
            Expr::val(backend.uuid(Some(t.id.0))),
            t.name.clone().into(),
            Expr::val(backend.uuid(Some(t.user_id.0))),
            t.token_hash.clone().into(),
            t.scope.as_str().to_string().into(),
            Expr::val(backend.datetime(Some(t.created_at))),
            Expr::val(backend.datetime(t.last_used_at)),
            Expr::val(backend.datetime(t.expires_at)),
            Expr::val(backend.datetime(t.revoked_at)),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

/// A credential row joined with its user and the schema version, in one round trip.
fn with_user(table: &str, columns: &[&str], key: &str, value: &str) -> SelectStatement {
    let mut stmt = Query::select();
    stmt.from(table.to_string());
    for c in columns {
        stmt.column((table.to_string(), (*c).to_string()));
    }
    for c in USER_COLUMNS {
        stmt.column(("users", c));
    }
    stmt.expr(Expr::cust("(SELECT schema_version FROM meta_state WHERE id = 1)"));
    stmt.inner_join(
        "users",
        Expr::col(("users", "id")).equals((table.to_string(), "user_id".to_string())),
    )
    .and_where(Expr::col((table.to_string(), key.to_string())).eq(value.to_string()));
    stmt
}

pub async fn token_by_hash(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
) -> Result<Option<(ApiToken, User, i64)>, sqlx::Error> {
    let stmt = with_user("api_tokens", &TOKEN_COLUMNS, "token_hash", hash);
    let Some(r) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok(None);
    };
    let version = r.i64(TOKEN_COLUMNS.len() + USER_COLUMNS.len())?;
    Ok(Some((
        decode_token(&r, 0)?,
        decode_user(&r, TOKEN_COLUMNS.len())?,
        version,
    )))
}

pub async fn tokens(exec: Exec<'_>, backend: Backend, cond: Option<Expr>) -> Result<Vec<ApiToken>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.columns(TOKEN_COLUMNS).from("api_tokens");
    if let Some(c) = cond {
        stmt.and_where(c);
    }
    stmt.order_by("created_at", Order::Desc).order_by("id", Order::Desc);
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| decode_token(r, 0))
        .collect()
}

pub async fn set_token_time(
    exec: Exec<'_>,
    backend: Backend,
    id: TokenId,
    column: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let stmt = Query::update()
        .table("api_tokens")
        .value(column.to_string(), Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn create_session(exec: Exec<'_>, backend: Backend, s: &Session) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("sessions")
        .columns(SESSION_COLUMNS)
        .values_panic([
            s.id_hash.clone().into(),
            Expr::val(backend.uuid(Some(s.user_id.0))),
            s.csrf_token.clone().into(),
            Expr::val(backend.datetime(Some(s.created_at))),
            Expr::val(backend.datetime(Some(s.last_seen_at))),
            Expr::val(backend.datetime(Some(s.expires_at))),
            s.ip.clone().into(),
            s.user_agent.clone().into(),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn session_by_hash(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
) -> Result<Option<(Session, User, i64)>, sqlx::Error> {
    let stmt = with_user("sessions", &SESSION_COLUMNS, "id_hash", hash);
    let Some(r) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok(None);
    };
    let version = r.i64(SESSION_COLUMNS.len() + USER_COLUMNS.len())?;
    Ok(Some((
        decode_session(&r, 0)?,
        decode_user(&r, SESSION_COLUMNS.len())?,
        version,
    )))
}

pub async fn touch_session(exec: Exec<'_>, backend: Backend, hash: &str, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let stmt = Query::update()
        .table("sessions")
        .value("last_seen_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id_hash").eq(hash.to_string()))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn delete_sessions(exec: Exec<'_>, backend: Backend, cond: Expr) -> Result<(), sqlx::Error> {
    let stmt = Query::delete().from_table("sessions").and_where(cond).to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn create_password_reset(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
    user: UserId,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("password_resets")
        .columns(["token_hash", "user_id", "created_at", "expires_at"])
        .values_panic([
            hash.to_string().into(),
            Expr::val(backend.uuid(Some(user.0))),
            Expr::val(backend.datetime(Some(created_at))),
            Expr::val(backend.datetime(Some(expires_at))),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

/// Mark the link used and return its user, in one statement: of two simultaneous uses, one wins.
pub async fn take_password_reset(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, sqlx::Error> {
    let stmt = Query::update()
        .table("password_resets")
        .value("used_at", Expr::val(backend.datetime(Some(now))))
        .and_where(Expr::col("token_hash").eq(hash.to_string()))
        .and_where(Expr::col("used_at").is_null())
        .and_where(Expr::col("expires_at").gt(backend.datetime(Some(now))))
        .returning_col("user_id")
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| r.uuid(0).map(UserId))
        .transpose()
}

pub async fn password_reset_user(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, sqlx::Error> {
    let stmt = Query::select()
        .column("user_id")
        .from("password_resets")
        .and_where(Expr::col("token_hash").eq(hash.to_string()))
        .and_where(Expr::col("used_at").is_null())
        .and_where(Expr::col("expires_at").gt(backend.datetime(Some(now))))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| r.uuid(0).map(UserId))
        .transpose()
}

pub async fn clear_password_resets(exec: Exec<'_>, backend: Backend, user: UserId) -> Result<(), sqlx::Error> {
    let stmt = Query::delete()
        .from_table("password_resets")
        .and_where(Expr::col("user_id").eq(backend.uuid(Some(user.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn purge_expired(pool: &crate::db::Pool, backend: Backend, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let idle_since = now - anchora_core::identity::SESSION_IDLE;
    let sessions = Query::delete()
        .from_table("sessions")
        .cond_where(
            sea_query::Cond::any()
                .add(Expr::col("expires_at").lte(backend.datetime(Some(now))))
                .add(Expr::col("last_seen_at").lte(backend.datetime(Some(idle_since)))),
        )
        .to_owned();
    pool.exec().execute(backend.build(&sessions)).await?;
    let resets = Query::delete()
        .from_table("password_resets")
        .cond_where(
            sea_query::Cond::any()
                .add(Expr::col("expires_at").lte(backend.datetime(Some(now))))
                .add(Expr::col("used_at").is_not_null()),
        )
        .to_owned();
    pool.exec().execute(backend.build(&resets)).await.map(|_| ())
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        create_user(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        update_user(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        user_where(
            self.pool.exec(),
            self.backend_kind(),
            Expr::col("email").eq(email.to_string()),
        )
        .await
        .map_err(db_error)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let backend = self.backend_kind();
        user_where(self.pool.exec(), backend, Expr::col("id").eq(backend.uuid(Some(id.0))))
            .await
            .map_err(db_error)
    }

    async fn users(&self) -> Result<Vec<User>> {
        users(self.pool.exec(), self.backend_kind()).await.map_err(db_error)
    }

    async fn team_members(&self, team: TeamId) -> Result<Vec<UserId>> {
        team_members(self.pool.exec(), self.backend_kind(), team)
            .await
            .map_err(db_error)
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        create_team(self.pool.exec(), self.backend_kind(), team)
            .await
            .map_err(db_error)
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        teams(self.pool.exec(), self.backend_kind()).await.map_err(db_error)
    }
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn create_token(&self, token: &ApiToken) -> Result<()> {
        create_token(self.pool.exec(), self.backend_kind(), token)
            .await
            .map_err(db_error)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User, i64)>> {
        token_by_hash(self.pool.exec(), self.backend_kind(), hash)
            .await
            .map_err(db_error)
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        set_token_time(self.pool.exec(), self.backend_kind(), id, "last_used_at", at)
            .await
            .map_err(db_error)
    }

    async fn token(&self, id: TokenId) -> Result<Option<ApiToken>> {
        let backend = self.backend_kind();
        let found = tokens(
            self.pool.exec(),
            backend,
            Some(Expr::col("id").eq(backend.uuid(Some(id.0)))),
        )
        .await
        .map_err(db_error)?;
        Ok(found.into_iter().next())
    }

    async fn tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let backend = self.backend_kind();
        let cond = user.map(|u| Expr::col("user_id").eq(backend.uuid(Some(u.0))));
        tokens(self.pool.exec(), backend, cond).await.map_err(db_error)
    }

    async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        set_token_time(self.pool.exec(), self.backend_kind(), id, "revoked_at", at)
            .await
            .map_err(db_error)
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        create_session(self.pool.exec(), self.backend_kind(), session)
            .await
            .map_err(db_error)
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User, i64)>> {
        session_by_hash(self.pool.exec(), self.backend_kind(), hash)
            .await
            .map_err(db_error)
    }

    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        touch_session(self.pool.exec(), self.backend_kind(), hash, at)
            .await
            .map_err(db_error)
    }

    async fn delete_session(&self, hash: &str) -> Result<()> {
        delete_sessions(
            self.pool.exec(),
            self.backend_kind(),
            Expr::col("id_hash").eq(hash.to_string()),
        )
        .await
        .map_err(db_error)
    }

    async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> Result<()> {
        let backend = self.backend_kind();
        let mut cond = Expr::col("user_id").eq(backend.uuid(Some(user.0)));
        if let Some(keep) = keep {
            cond = cond.and(Expr::col("id_hash").ne(keep.to_string()));
        }
        delete_sessions(self.pool.exec(), backend, cond).await.map_err(db_error)
    }

    async fn create_password_reset(
        &self,
        hash: &str,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        create_password_reset(
            self.pool.exec(),
            self.backend_kind(),
            hash,
            user,
            created_at,
            expires_at,
        )
        .await
        .map_err(db_error)
    }

    async fn take_password_reset(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        // A write that reads its answer back: in a write transaction, so it waits its turn
        // with the other writers instead of in SQLite's busy handler.
        in_write!(self.pool, |tx| {
            take_password_reset(tx.exec(), self.backend_kind(), hash, now)
                .await
                .map_err(db_error)
        })
    }

    async fn password_reset_user(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        password_reset_user(self.pool.exec(), self.backend_kind(), hash, now)
            .await
            .map_err(db_error)
    }

    async fn clear_password_resets(&self, user: UserId) -> Result<()> {
        clear_password_resets(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn purge_expired_credentials(&self, now: DateTime<Utc>) -> Result<()> {
        purge_expired(&self.pool, self.backend_kind(), now)
            .await
            .map_err(db_error)
    }
}
