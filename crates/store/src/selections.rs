//! Selections and the records picked into them. A selection's parts (included and excluded
//! selections) are kept as JSON arrays of ids: they are few, and read with the selection.

use crate::db::bad_column;
use crate::db::{Backend, Row, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{RecordId, SelectionId, UserId};
use anchora_core::selections::{Selection, SelectionStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use std::collections::HashSet;

/// Migration 13: selections and their picked members.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    vec![
        format!(
            "CREATE TABLE selections (id {uuid} PRIMARY KEY, name TEXT NOT NULL, object TEXT NOT NULL, filter TEXT, \
             include_ids TEXT NOT NULL, exclude_ids TEXT NOT NULL, owner {uuid} NOT NULL, shared {boolean} NOT NULL, \
             created_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE selection_members (selection_id {uuid} NOT NULL REFERENCES selections(id) ON DELETE CASCADE, \
             record_id {uuid} NOT NULL, added_at {ts} NOT NULL, PRIMARY KEY (selection_id, record_id))"
        ),
    ]
}

const COLUMNS: [&str; 9] = [
    "id",
    "name",
    "object",
    "filter",
    "include_ids",
    "exclude_ids",
    "owner",
    "shared",
    "created_at",
];

fn decode(r: &Row) -> std::result::Result<Selection, sqlx::Error> {
    let list = |i: usize, name: &str| -> std::result::Result<Vec<SelectionId>, sqlx::Error> {
        serde_json::from_str(&r.string(i)?).map_err(|e| bad_column(name, e))
    };
    Ok(Selection {
        id: SelectionId(r.uuid(0)?),
        name: r.string(1)?,
        object: r.string(2)?,
        filter: r
            .opt_string(3)?
            .map(|t| serde_json::from_str(&t).map_err(|e| bad_column("filter", e)))
            .transpose()?,
        include: list(4, "include_ids")?,
        exclude: list(5, "exclude_ids")?,
        owner: UserId(r.uuid(6)?),
        shared: r.bool(7)?,
        created_at: r.datetime(8)?,
    })
}

fn text(value: &impl ToJson, name: &str) -> std::result::Result<String, sqlx::Error> {
    serde_json::to_string(&value.to_json()).map_err(|e| bad_column(name, e))
}

/// What a selection keeps as JSON text.
trait ToJson {
    fn to_json(&self) -> serde_json::Value;
}

impl ToJson for serde_json::Value {
    fn to_json(&self) -> serde_json::Value {
        self.clone()
    }
}

impl ToJson for Vec<SelectionId> {
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.iter()
                .map(|id| serde_json::Value::String(id.to_string()))
                .collect(),
        )
    }
}

/// Take an erased record out of every selection it was picked into (its erasure's transaction).
pub async fn forget_record(
    tx: &mut crate::db::Tx,
    backend: Backend,
    record: RecordId,
) -> std::result::Result<u64, sqlx::Error> {
    let stmt = Query::delete()
        .from_table("selection_members")
        .and_where(Expr::col("record_id").eq(backend.uuid(Some(record.0))))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await
}

#[async_trait]
impl SelectionStore for SqlStore {
    async fn create_selection(&self, s: &Selection) -> Result<()> {
        let backend = self.backend_kind();
        let filter = s
            .filter
            .as_ref()
            .map(|f| text(f, "filter"))
            .transpose()
            .map_err(db_error)?;
        let stmt = Query::insert()
            .into_table("selections")
            .columns(COLUMNS)
            .values_panic([
                Expr::val(backend.uuid(Some(s.id.0))),
                s.name.clone().into(),
                s.object.clone().into(),
                filter.into(),
                text(&s.include, "include_ids").map_err(db_error)?.into(),
                text(&s.exclude, "exclude_ids").map_err(db_error)?.into(),
                Expr::val(backend.uuid(Some(s.owner.0))),
                s.shared.into(),
                Expr::val(backend.datetime(Some(s.created_at))),
            ])
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn selection(&self, id: SelectionId) -> Result<Option<Selection>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("selections")
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

    async fn selections(&self) -> Result<Vec<Selection>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("selections")
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

    async fn delete_selection(&self, id: SelectionId) -> Result<bool> {
        let backend = self.backend_kind();
        let id = backend.uuid(Some(id.0));
        let members = Query::delete()
            .from_table("selection_members")
            .and_where(Expr::col("selection_id").eq(id.clone()))
            .to_owned();
        let selection = Query::delete()
            .from_table("selections")
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec().execute(backend.build(&members)).await.map_err(db_error)?;
            Ok(tx.exec().execute(backend.build(&selection)).await.map_err(db_error)? == 1)
        })
    }

    async fn add_members(&self, id: SelectionId, records: &[RecordId], at: DateTime<Utc>) -> Result<u64> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            let mut added = 0;
            for chunk in records.chunks(500) {
                let mut stmt = Query::insert();
                stmt.into_table("selection_members")
                    .columns(["selection_id", "record_id", "added_at"])
                    .on_conflict(
                        OnConflict::columns(["selection_id", "record_id"])
                            .do_nothing()
                            .to_owned(),
                    );
                for r in chunk {
                    stmt.values_panic([
                        Expr::val(backend.uuid(Some(id.0))),
                        Expr::val(backend.uuid(Some(r.0))),
                        Expr::val(backend.datetime(Some(at))),
                    ]);
                }
                added += tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
            }
            Ok(added)
        })
    }

    async fn remove_members(&self, id: SelectionId, records: &[RecordId]) -> Result<u64> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            let mut removed = 0;
            for chunk in records.chunks(500) {
                let stmt = Query::delete()
                    .from_table("selection_members")
                    .and_where(Expr::col("selection_id").eq(backend.uuid(Some(id.0))))
                    .and_where(Expr::col("record_id").is_in(chunk.iter().map(|r| backend.uuid(Some(r.0)))))
                    .to_owned();
                removed += tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
            }
            Ok(removed)
        })
    }

    async fn members(&self, id: SelectionId) -> Result<HashSet<RecordId>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .column("record_id")
            .from("selection_members")
            .and_where(Expr::col("selection_id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(backend.build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| r.uuid(0).map(RecordId))
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn selections_naming(&self, id: SelectionId) -> Result<Vec<SelectionId>> {
        Ok(self
            .selections()
            .await?
            .into_iter()
            .filter(|s| s.include.contains(&id) || s.exclude.contains(&id))
            .map(|s| s.id)
            .collect())
    }

    async fn copy_membership(&self, from: RecordId, to: RecordId, at: DateTime<Utc>) -> Result<()> {
        let backend = self.backend_kind();
        let (p1, p2, p3) = (backend.param(1), backend.param(2), backend.param(3));
        let text = format!(
            "INSERT INTO selection_members (selection_id, record_id, added_at) SELECT selection_id, {p1}, {p2} \
             FROM selection_members WHERE record_id = {p3} ON CONFLICT (selection_id, record_id) DO NOTHING"
        );
        let values = vec![
            backend.uuid(Some(to.0)),
            backend.datetime(Some(at)),
            backend.uuid(Some(from.0)),
        ];
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(crate::db::Sql::new(text, values))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }
}
