//! Templates. A template's variants (its languages' words) are kept as one JSON text beside
//! it: they are read and written together, never searched.

use crate::db::{Backend, Row, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{TemplateId, UserId};
use anchora_core::templates::{Template, TemplateKind, TemplateStore};
use async_trait::async_trait;
use sea_query::{Expr, ExprTrait, Order, Query};

/// Migration 14 (with the mailings): templates.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    vec![format!(
        "CREATE TABLE templates (id {uuid} PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, object TEXT NOT NULL, \
         default_language TEXT NOT NULL, variants TEXT NOT NULL, owner {uuid} NOT NULL, shared {boolean} NOT NULL, \
         version BIGINT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL)"
    )]
}

const COLUMNS: [&str; 11] = [
    "id",
    "name",
    "kind",
    "object",
    "default_language",
    "variants",
    "owner",
    "shared",
    "version",
    "created_at",
    "updated_at",
];

fn decode(r: &Row) -> std::result::Result<Template, sqlx::Error> {
    let kind = r.string(2)?;
    Ok(Template {
        id: TemplateId(r.uuid(0)?),
        name: r.string(1)?,
        kind: TemplateKind::parse(&kind).ok_or_else(|| bad_column("kind", kind))?,
        object: r.string(3)?,
        default_language: r.string(4)?,
        variants: serde_json::from_str(&r.string(5)?).map_err(|e| bad_column("variants", e))?,
        owner: UserId(r.uuid(6)?),
        shared: r.bool(7)?,
        version: r.i64(8)?,
        created_at: r.datetime(9)?,
        updated_at: r.datetime(10)?,
    })
}

fn values(backend: Backend, t: &Template) -> std::result::Result<Vec<sea_query::Expr>, sqlx::Error> {
    Ok(vec![
        Expr::val(backend.uuid(Some(t.id.0))),
        t.name.clone().into(),
        t.kind.as_str().into(),
        t.object.clone().into(),
        t.default_language.clone().into(),
        serde_json::to_string(&t.variants)
            .map_err(|e| bad_column("variants", e))?
            .into(),
        Expr::val(backend.uuid(Some(t.owner.0))),
        t.shared.into(),
        t.version.into(),
        Expr::val(backend.datetime(Some(t.created_at))),
        Expr::val(backend.datetime(Some(t.updated_at))),
    ])
}

#[async_trait]
impl TemplateStore for SqlStore {
    async fn create_template(&self, t: &Template) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("templates")
            .columns(COLUMNS)
            .values_panic(values(backend, t).map_err(db_error)?)
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn template(&self, id: TemplateId) -> Result<Option<Template>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("templates")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        self.pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .map(|r| decode(&r))
            .transpose()
            .map_err(db_error)
    }

    async fn templates(&self) -> Result<Vec<Template>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("templates")
            .order_by("created_at", Order::Desc)
            .order_by("id", Order::Desc)
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(self.backend_kind().build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(decode)
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn update_template(&self, t: &Template, expected_version: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let vals = values(backend, t).map_err(db_error)?;
        let mut stmt = Query::update();
        stmt.table("templates");
        for (column, value) in COLUMNS.iter().zip(vals).skip(1) {
            stmt.value(*column, value);
        }
        stmt.and_where(Expr::col("id").eq(backend.uuid(Some(t.id.0))))
            .and_where(Expr::col("version").eq(expected_version));
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn delete_template(&self, id: TemplateId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("templates")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }
}
