//! Workspace settings: JSON text by key (the reporting currency, the quality rules).

use crate::db::Backend;
use crate::db::db_error;
use crate::sql_store::*;
use anchora_core::error::Result;
use anchora_core::meta::SettingStore;
use async_trait::async_trait;
use sea_query::Expr;
use sea_query::ExprTrait;

use crate::db::Exec;
use sea_query::{OnConflict, Query};

/// A workspace setting (quality rules live here).
pub async fn setting(exec: Exec<'_>, backend: Backend, key: &str) -> Result<Option<String>, sqlx::Error> {
    let stmt = Query::select()
        .column("body")
        .from("workspace_settings")
        .and_where(Expr::col("key").eq(key.to_string()))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| r.string(0))
        .transpose()
}

pub async fn put_setting(exec: Exec<'_>, backend: Backend, key: &str, body: &str) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("workspace_settings")
        .columns(["key", "body"])
        .values_panic([key.to_string().into(), body.to_string().into()])
        .on_conflict(OnConflict::column("key").update_column("body").to_owned())
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

#[async_trait]
impl SettingStore for SqlStore {
    async fn setting(&self, key: &str) -> Result<Option<String>> {
        setting(self.pool.exec(), self.backend_kind(), key)
            .await
            .map_err(db_error)
    }

    async fn put_setting(&self, key: &str, body: &str) -> Result<()> {
        put_setting(self.pool.exec(), self.backend_kind(), key, body)
            .await
            .map_err(db_error)
    }

    async fn put_setting_if_absent(&self, key: &str, body: &str) -> Result<()> {
        let stmt = Query::insert()
            .into_table("workspace_settings")
            .columns(["key", "body"])
            .values_panic([key.to_string().into(), body.to_string().into()])
            .on_conflict(OnConflict::column("key").do_nothing().to_owned())
            .to_owned();
        self.pool
            .exec()
            .execute(self.backend_kind().build(&stmt))
            .await
            .map(|_| ())
            .map_err(db_error)
    }
}
