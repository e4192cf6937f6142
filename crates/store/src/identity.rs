//! Users and API tokens.

use crate::db::{Backend, Exec, Row};
use anchora_core::auth::{ApiToken, Role, User};
use anchora_core::{TokenId, UserId};
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Query};

const USER_COLUMNS: [&str; 7] = ["id", "email", "name", "role", "active", "password_hash", "created_at"];
const TOKEN_COLUMNS: [&str; 8] = [
    "id",
    "name",
    "user_id",
    "token_hash",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
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
    })
}

pub async fn create_user(exec: Exec<'_>, backend: Backend, u: &User) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("users")
        .columns(USER_COLUMNS)
        .values_panic([
            Expr::val(backend.uuid(Some(u.id.0))),
            u.email.clone().into(),
            u.name.clone().into(),
            u.role.as_str().to_string().into(),
            u.active.into(),
            u.password_hash.clone().into(),
            Expr::val(backend.datetime(Some(u.created_at))),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn user_where(exec: Exec<'_>, backend: Backend, cond: Expr) -> Result<Option<User>, sqlx::Error> {
    let stmt = Query::select()
        .columns(USER_COLUMNS)
        .from("users")
        .and_where(cond)
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode_user(&r, 0))
        .transpose()
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
            Expr::val(backend.datetime(Some(t.created_at))),
            Expr::val(backend.datetime(t.last_used_at)),
            Expr::val(backend.datetime(t.expires_at)),
            Expr::val(backend.datetime(t.revoked_at)),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn token_by_hash(
    exec: Exec<'_>,
    backend: Backend,
    hash: &str,
) -> Result<Option<(ApiToken, User, i64)>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.from("api_tokens");
    for c in TOKEN_COLUMNS {
        stmt.column(("api_tokens", c));
    }
    for c in USER_COLUMNS {
        stmt.column(("users", c));
    }
    // The schema version rides along, so a request needs no separate round trip for it.
    stmt.expr(Expr::cust("(SELECT schema_version FROM meta_state WHERE id = 1)"));
    stmt.inner_join("users", Expr::col(("users", "id")).equals(("api_tokens", "user_id")))
        .and_where(Expr::col(("api_tokens", "token_hash")).eq(hash.to_string()));
    let Some(r) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok(None);
    };
    let token = ApiToken {
        id: TokenId(r.uuid(0)?),
        name: r.string(1)?,
        user_id: UserId(r.uuid(2)?),
        token_hash: r.string(3)?,
        created_at: r.datetime(4)?,
        last_used_at: r.opt_datetime(5)?,
        expires_at: r.opt_datetime(6)?,
        revoked_at: r.opt_datetime(7)?,
    };
    let schema_version = r.i64(TOKEN_COLUMNS.len() + USER_COLUMNS.len())?;
    Ok(Some((token, decode_user(&r, TOKEN_COLUMNS.len())?, schema_version)))
}

pub async fn touch_token(exec: Exec<'_>, backend: Backend, id: TokenId, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let stmt = Query::update()
        .table("api_tokens")
        .value("last_used_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}
