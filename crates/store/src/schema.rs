//! The schema as the database keeps it: an object is a table, a field its column(s) and
//! indexes; every change bumps the schema version in the same transaction.

use crate::db::Sql;
use crate::db::db_error;
use crate::db::in_write;
use crate::ddl;
use crate::metadata;
use crate::physical;
use crate::sql_store::*;
use anchora_core::auth::AccessPolicy;
use anchora_core::error::Error;
use anchora_core::error::Result;
use anchora_core::meta::FieldDef;
use anchora_core::meta::ObjectDef;
use anchora_core::meta::Schema;
use anchora_core::meta::SchemaStore;
use anchora_core::store::WriteCtx;
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
impl SchemaStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend_kind().name()
    }

    async fn schema(&self) -> Result<Arc<Schema>> {
        let version = metadata::schema_version(self.pool.exec()).await.map_err(db_error)?;
        self.schema_at(version).await
    }

    async fn schema_at(&self, version: i64) -> Result<Arc<Schema>> {
        if let Ok(guard) = self.cache.read()
            && let Some(s) = guard.as_ref()
            && s.version == version
        {
            return Ok(s.clone());
        }
        let schema = Arc::new(metadata::load_schema(&self.pool).await.map_err(db_error)?);
        if let Ok(mut guard) = self.cache.write() {
            *guard = Some(schema.clone());
        }
        Ok(schema)
    }

    async fn create_object(&self, object: &ObjectDef, ctx: WriteCtx) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            for stmt in ddl::create_object_table(backend, object) {
                tx.exec().execute(Sql::plain(stmt)).await.map_err(db_error)?;
            }
            metadata::insert_object(tx, backend, object, ctx.now)
                .await
                .map_err(db_error)?;
            metadata::bump_version(tx).await.map_err(db_error)
        })
    }

    async fn update_object(&self, object: &ObjectDef) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            if metadata::update_object(tx, backend, object).await.map_err(db_error)? != 1 {
                return Err(stale_schema());
            }
            metadata::bump_version(tx).await.map_err(db_error)
        })
    }

    async fn add_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            self.make_room(tx, object, field).await?;
            for stmt in ddl::add_column(backend, object, field) {
                tx.exec().execute(Sql::plain(stmt)).await.map_err(db_error)?;
            }
            metadata::insert_field(tx, backend, &object.name, field)
                .await
                .map_err(db_error)?;
            metadata::bump_version(tx).await.map_err(db_error)?;
            if field.searchable {
                let mut with = object.clone();
                with.fields.push(field.clone());
                SqlStore::reindex(tx, backend, &with).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn update_field(&self, object: &ObjectDef, before: &FieldDef, after: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            let table = object.table();
            let had = ddl::field_indexes(backend, &table, before);
            let wants = ddl::field_indexes(backend, &table, after);
            for (create, drop) in &had {
                if !wants.iter().any(|(c, _)| c == create) {
                    tx.exec().execute(Sql::plain(drop.clone())).await.map_err(db_error)?;
                }
            }
            if ddl::unique_indexed(after) && !ddl::unique_indexed(before) {
                let column = ddl::compare_column(&after.name, after.field_type);
                if let Some(ids) = physical::first_repeated(tx.exec(), &table, &column)
                    .await
                    .map_err(db_error)?
                {
                    return Err(repeated_values(object, after, &ids));
                }
            }
            for (create, _) in &wants {
                if !had.iter().any(|(c, _)| c == create) {
                    tx.exec().execute(Sql::plain(create.clone())).await.map_err(|e| {
                        // Another writer added a repeat between the check and the index.
                        if matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()) {
                            Error::field(
                                "unique",
                                format!("{} holds a value twice; make them differ first", after.name),
                            )
                        } else {
                            db_error(e)
                        }
                    })?;
                }
            }
            if metadata::update_field(tx, backend, &object.name, after)
                .await
                .map_err(db_error)?
                != 1
            {
                return Err(stale_schema());
            }
            metadata::bump_version(tx).await.map_err(db_error)?;
            let searchable = |f: &FieldDef| f.searchable && !f.archived;
            if searchable(before) != searchable(after) {
                let mut next = object.clone();
                if let Some(f) = next.fields.iter_mut().find(|f| f.name == after.name) {
                    *f = after.clone();
                }
                SqlStore::reindex(tx, backend, &next).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn purge_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            let columns: Vec<String> = ddl::field_columns(backend, field).into_iter().map(|(c, _)| c).collect();
            crate::report_indexes::drop_naming(tx, backend, &object.table(), &columns)
                .await
                .map_err(db_error)?;
            for stmt in ddl::drop_column(backend, object, field) {
                tx.exec().execute(Sql::plain(stmt)).await.map_err(db_error)?;
            }
            if metadata::delete_field(tx, backend, &object.name, &field.name)
                .await
                .map_err(db_error)?
                != 1
            {
                return Err(stale_schema());
            }
            metadata::bump_version(tx).await.map_err(db_error)
        })
    }

    async fn set_policy(&self, policy: &AccessPolicy) -> Result<()> {
        in_write!(self.pool, |tx| {
            metadata::set_policy(tx, self.backend_kind(), policy)
                .await
                .map_err(db_error)
        })
    }
}
