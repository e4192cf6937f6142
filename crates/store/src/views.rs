//! Saved views.

use crate::db::db_error;
use crate::db::{Backend, Exec, Row};
use crate::sql_store::*;
use anchora_core::error::Result;
use anchora_core::views::SavedView;
use anchora_core::views::ViewStore;
use anchora_core::{UserId, ViewId};
use async_trait::async_trait;
use sea_query::{Cond, Expr, ExprTrait, Query};

const COLUMNS: [&str; 7] = ["id", "object", "name", "query", "owner", "shared", "created_at"];

fn decode(r: &Row) -> Result<SavedView, sqlx::Error> {
    Ok(SavedView {
        id: ViewId(r.uuid(0)?),
        object: r.string(1)?,
        name: r.string(2)?,
        query: r.string(3)?,
        owner: UserId(r.uuid(4)?),
        shared: r.bool(5)?,
        created_at: r.datetime(6)?,
    })
}

pub async fn create(exec: Exec<'_>, backend: Backend, v: &SavedView) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("saved_views")
        .columns(COLUMNS)
        .values_panic([
            Expr::val(backend.uuid(Some(v.id.0))),
            v.object.clone().into(),
            v.name.clone().into(),
            v.query.clone().into(),
            Expr::val(backend.uuid(Some(v.owner.0))),
            v.shared.into(),
            Expr::val(backend.datetime(Some(v.created_at))),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn list(exec: Exec<'_>, backend: Backend, object: &str, user: UserId) -> Result<Vec<SavedView>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("saved_views")
        .and_where(Expr::col("object").eq(object.to_string()))
        .cond_where(
            Cond::any()
                .add(Expr::col("owner").eq(backend.uuid(Some(user.0))))
                .add(Expr::col("shared").eq(true)),
        )
        .to_owned();
    exec.fetch_all(backend.build(&stmt)).await?.iter().map(decode).collect()
}

pub async fn get(exec: Exec<'_>, backend: Backend, id: ViewId) -> Result<Option<SavedView>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("saved_views")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode(&r))
        .transpose()
}

pub async fn delete(exec: Exec<'_>, backend: Backend, id: ViewId) -> Result<(), sqlx::Error> {
    let stmt = Query::delete()
        .from_table("saved_views")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

#[async_trait]
impl ViewStore for SqlStore {
    async fn create_view(&self, view: &anchora_core::views::SavedView) -> Result<()> {
        create(self.pool.exec(), self.backend_kind(), view)
            .await
            .map_err(db_error)
    }

    async fn views(&self, object: &str, user: UserId) -> Result<Vec<anchora_core::views::SavedView>> {
        list(self.pool.exec(), self.backend_kind(), object, user)
            .await
            .map_err(db_error)
    }

    async fn view(&self, id: anchora_core::ViewId) -> Result<Option<anchora_core::views::SavedView>> {
        get(self.pool.exec(), self.backend_kind(), id).await.map_err(db_error)
    }

    async fn delete_view(&self, id: anchora_core::ViewId) -> Result<()> {
        delete(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }
}
