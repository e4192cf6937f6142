//! Dashboards: a name, an owner, sharing with an audience of roles, the scope it opens with,
//! and its widgets as JSON text. A dashboard keeps no figures; they are counted when it is
//! viewed.

use crate::db::{Backend, Row, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::dashboards::{Dashboard, DashboardId, DashboardStore, Scope};
use anchora_core::error::Result;
use anchora_core::ids::UserId;
use async_trait::async_trait;
use sea_query::{Expr, ExprTrait, Query};

/// Migration 16: dashboards.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    vec![
        format!(
            "CREATE TABLE dashboards (id {uuid} PRIMARY KEY, name TEXT NOT NULL, owner {uuid} NOT NULL, \
             shared {boolean} NOT NULL, audience TEXT NOT NULL, scope TEXT NOT NULL, widgets TEXT NOT NULL, \
             version BIGINT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL)"
        ),
        "CREATE INDEX dashboards_owner ON dashboards (owner)".to_string(),
    ]
}

const COLUMNS: [&str; 10] = [
    "id",
    "name",
    "owner",
    "shared",
    "audience",
    "scope",
    "widgets",
    "version",
    "created_at",
    "updated_at",
];

fn decode_dashboard(r: &Row) -> std::result::Result<Dashboard, sqlx::Error> {
    Ok(Dashboard {
        id: DashboardId(r.uuid(0)?),
        name: r.string(1)?,
        owner: UserId(r.uuid(2)?),
        shared: r.bool(3)?,
        audience: serde_json::from_str(&r.string(4)?).map_err(|e| bad_column("audience", e))?,
        scope: Scope::parse(&r.string(5)?).unwrap_or_default(),
        widgets: serde_json::from_str(&r.string(6)?).map_err(|e| bad_column("widgets", e))?,
        version: r.i64(7)?,
        created_at: r.datetime(8)?,
        updated_at: r.datetime(9)?,
    })
}

fn values(backend: Backend, d: &Dashboard) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    let audience = serde_json::to_string(&d.audience).map_err(|e| bad_column("audience", e))?;
    let widgets = serde_json::to_string(&d.widgets).map_err(|e| bad_column("widgets", e))?;
    Ok(vec![
        Expr::val(backend.uuid(Some(d.id.0))),
        d.name.clone().into(),
        Expr::val(backend.uuid(Some(d.owner.0))),
        d.shared.into(),
        audience.into(),
        d.scope.as_str().into(),
        widgets.into(),
        d.version.into(),
        Expr::val(backend.datetime(Some(d.created_at))),
        Expr::val(backend.datetime(Some(d.updated_at))),
    ])
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn create_dashboard(&self, dashboard: &Dashboard) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("dashboards")
            .columns(COLUMNS)
            .values_panic(values(backend, dashboard).map_err(db_error)?)
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn update_dashboard(&self, dashboard: &Dashboard, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let vals = values(backend, dashboard).map_err(db_error)?;
        let mut stmt = Query::update();
        stmt.table("dashboards");
        for (column, value) in COLUMNS.iter().zip(vals).skip(1) {
            stmt.value(*column, value);
        }
        stmt.and_where(Expr::col("id").eq(backend.uuid(Some(dashboard.id.0))))
            .and_where(Expr::col("version").eq(expected));
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn dashboard(&self, id: DashboardId) -> Result<Option<Dashboard>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("dashboards")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        self.pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .map(|r| decode_dashboard(&r))
            .transpose()
            .map_err(db_error)
    }

    async fn dashboards(&self, user: UserId) -> Result<Vec<Dashboard>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("dashboards")
            .cond_where(
                sea_query::Cond::any()
                    .add(Expr::col("owner").eq(backend.uuid(Some(user.0))))
                    .add(Expr::col("shared").eq(true)),
            )
            .to_owned();
        let mut out = self.fetch_decoded(backend.build(&stmt), decode_dashboard).await?;
        out.sort_by_cached_key(|d| (anchora_core::text::fold_case(&d.name), d.id));
        Ok(out)
    }

    async fn all_dashboards(&self) -> Result<Vec<Dashboard>> {
        let backend = self.backend_kind();
        let stmt = Query::select().columns(COLUMNS).from("dashboards").to_owned();
        self.fetch_decoded(backend.build(&stmt), decode_dashboard).await
    }

    async fn delete_dashboard(&self, id: DashboardId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("dashboards")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }
}
