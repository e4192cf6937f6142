//! `SqlStore`: one workspace's [`Store`] on SQLite or PostgreSQL.

use crate::db::{self, Backend, Pool, Sql, Tx, db_error, ident};
use crate::{
    audit, ddl, duplicates, erase, identity, imports, metadata, physical, projects, records, search, views, visits,
};
use anchora_core::audit::{AuditEvent, AuditKind, AuditQuery, ChangeQuery};
use anchora_core::auth::AccessPolicy;
use anchora_core::dedupe::{PairStatus, StoredPair};
use anchora_core::error::{Error, ErrorCode, Result};
use anchora_core::identity::{ApiToken, Session, Team, User};
use anchora_core::import::job::{ImportId, ImportJob, ImportSettings, ImportWrite, ImportWriteOutcome, JobStatus};
use anchora_core::import::plan::Rejected;
use anchora_core::meta::{FieldDef, ObjectDef, Schema, standard_objects};
use anchora_core::project::model::Project;
use anchora_core::project::plan::Dependency;
use anchora_core::project::roles::RoleDef;
use anchora_core::query::ListQuery;
use anchora_core::record::{Change, Record, RecordInput};
use anchora_core::store::{BatchOutcome, ProjectBatch, StoredItem};
use anchora_core::store::{Erasure, ErasureCounts, SearchHit, SearchScope, Store, WriteCtx, WriteOutcome};
use anchora_core::{ProjectId, RecordId, TeamId, TokenId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug)]
pub struct SqlStore {
    pool: Pool,
    cache: RwLock<Option<Arc<Schema>>>,
    column_budget: std::sync::atomic::AtomicI64,
    /// SQLite: the task that merges the full-text index and checkpoints the WAL beside the
    /// writers.
    checkpointer: Option<tokio::task::AbortHandle>,
    /// SQLite: how to open the file again, for a bulk load's own connection.
    sqlite_options: Option<SqliteConnectOptions>,
    /// SQLite: the connection each object being bulk loaded by this process writes through.
    bulk_writers: std::sync::Mutex<std::collections::HashMap<String, Pool>>,
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        if let Some(task) = self.checkpointer.take() {
            task.abort();
        }
    }
}

/// SQLite's upkeep beside the writers, four times a second when something was written: a little
/// of the full-text index merged (in turn with the writers: it writes) and the WAL copied into
/// the database passively (it neither waits for the writers nor blocks them). Left to the
/// writers, both came at random in their midst: the index merged after every 64th document
/// (tens of milliseconds), and the writer that crossed the WAL limit copied 40 MB while the
/// others waited behind it.
fn upkeep_in_background(pool: sqlx::SqlitePool, lock: crate::db::WriteLock) -> tokio::task::AbortHandle {
    tokio::spawn(async move {
        let mut seen = lock.writes();
        let mut quiet_rounds = 0u32;
        // Whatever an earlier process left unmerged (`anchora import` of a whole file, say) is
        // merged once this one is quiet; so is what a bulk load of this one left.
        let mut merge_owed = true;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if pool.is_closed() {
                return;
            }
            let writes = lock.writes();
            let written = writes != seen;
            if written {
                seen = writes;
                quiet_rounds = 0;
            } else {
                quiet_rounds = quiet_rounds.saturating_add(1);
                if quiet_rounds == ROUNDS_BEFORE_SHRINK {
                    shrink_idle(&pool).await;
                }
                if !merge_owed {
                    continue;
                }
            }
            // A bulk load adds a segment per batch; merging them as they come rereads and
            // rewrites the growing index all through the load (a million people into an empty
            // workspace took ~10% longer). They are merged when it is over.
            let merged = if lock.bulk_loading() {
                merge_owed = true;
                false
            } else {
                merge_owed = merge_a_little(&pool, &lock).await;
                merge_owed
            };
            if !written && !merged {
                continue;
            }
            // Beside the writers, until what they wrote meanwhile is little. A WAL the
            // checkpoints keep up with still only starts over when a writer begins with all of
            // it copied and no reader inside it, which under steady writes never happens by
            // itself: once it has grown, the little that is left is copied in turn with the
            // writers, waiting briefly for the readers of the moment, and the WAL starts over
            // (else it grows as long as writes go on, and every read walks a longer index). A
            // reader that keeps it waiting longer only puts this off to the next round.
            let mut log = None;
            let mut grown = false;
            for _ in 0..5 {
                match checkpoint(&pool).await {
                    Ok(now) => {
                        grown = now > WAL_FRAMES_BEFORE_RESTART;
                        let written_meanwhile = log.map_or(now, |before| now - before);
                        log = Some(now);
                        if !grown || written_meanwhile < FRAMES_COPIED_IN_TURN {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "a checkpoint did not run");
                        break;
                    }
                }
            }
            if grown {
                let _turn = lock.take_for_upkeep().await;
                if let Err(e) = restart_wal(&pool).await {
                    tracing::debug!(error = %e, "the WAL was not started over this time");
                }
            }
        }
    })
    .abort_handle()
}

/// Merge a little of the full-text index in turn with the writers; whether there was anything
/// to merge (FTS5 counts two or more changes for a merge that did work).
async fn merge_a_little(pool: &sqlx::SqlitePool, lock: &crate::db::WriteLock) -> bool {
    use sqlx::Row as _;
    let _turn = lock.take_for_upkeep().await;
    let merged = async {
        let mut conn = pool.acquire().await?;
        let changes = "SELECT total_changes()";
        let before: i64 = sqlx::query(changes).fetch_one(&mut *conn).await?.try_get(0)?;
        sqlx::query(search::MERGE_A_LITTLE).execute(&mut *conn).await?;
        let after: i64 = sqlx::query(changes).fetch_one(&mut *conn).await?.try_get(0)?;
        Ok::<bool, sqlx::Error>(after - before >= 2)
    }
    .await;
    merged.unwrap_or_else(|e| {
        tracing::debug!(error = %e, "the full-text index was not merged this time");
        false
    })
}

/// Five seconds without a write: the work that filled the caches (an import, a bulk edit) is over.
const ROUNDS_BEFORE_SHRINK: u32 = 20;

/// Hand back the page caches and cached statements of the connections nobody is using: after
/// an import they hold up to 6 × 16 MB the server otherwise keeps while idle. The next reads
/// fill them again from the OS's file cache.
async fn shrink_idle(pool: &sqlx::SqlitePool) {
    let mut taken = Vec::new();
    while let Some(mut conn) = pool.try_acquire() {
        if let Err(e) = sqlx::query("PRAGMA shrink_memory").execute(&mut *conn).await {
            tracing::debug!(error = %e, "a connection's caches were not handed back");
        }
        // Held until all are done, so that each turn takes another connection.
        taken.push(conn);
    }
}

/// A WAL this many frames long (16 MB of 4 KB pages) is started over in turn with the writers.
const WAL_FRAMES_BEFORE_RESTART: i64 = 4_000;

/// At most about this many frames (2 MB) are left to copy in turn with the writers (10–20 ms).
const FRAMES_COPIED_IN_TURN: i64 = 500;

/// Copy what is left of the WAL into the database and have the next writer start it over,
/// waiting at most 20 ms for readers still inside it (the caller holds the write turn).
async fn restart_wal(pool: &sqlx::SqlitePool) -> std::result::Result<(), sqlx::Error> {
    use sqlx::Row as _;
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA busy_timeout = 20").execute(&mut *conn).await?;
    let done = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *conn)
        .await;
    let reset = sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await;
    if reset.is_err() {
        // A connection left with a 20 ms patience would fail writers that wait for another
        // process: it is not given back to the pool.
        drop(conn.detach());
    }
    let busy: i64 = done?.try_get(0)?;
    if busy != 0 {
        tracing::debug!("readers kept the WAL from starting over; next round");
    }
    Ok(())
}

/// A passive checkpoint (beside readers and writers): the frames in the WAL.
async fn checkpoint(pool: &sqlx::SqlitePool) -> std::result::Result<i64, sqlx::Error> {
    use sqlx::Row as _;
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
    row.try_get(1)
}

/// Migrations in order. Each runs once, in its own transaction, under a lock.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, "system tables and the standard objects"),
    (
        2,
        "teams, token scopes, sessions, audit log, access policy, consent fields",
    ),
    (3, "saved views"),
    (4, "implementation projects"),
    (
        5,
        "imports, the duplicate queue, and external ids on people and companies",
    ),
    (6, "rows an import found to look like records already there"),
    (
        7,
        "folded copies of text for case-insensitive filters, unique fields, unique external ids",
    ),
    (8, "uploaded files kept in chunks; bulk loads noted"),
    (9, "import warnings, merged rows"),
    (10, "records each user opened lately"),
];

impl SqlStore {
    /// How a list of some owners' records is best read (see [`records::owner_plan`]).
    async fn owner_plan(&self, object: &ObjectDef, query: &ListQuery) -> Result<records::OwnerPlan> {
        match &query.owners {
            Some(owners) => records::owner_plan(self.pool.exec(), self.backend_kind(), object, owners)
                .await
                .map_err(db_error),
            None => Ok(records::OwnerPlan::Index),
        }
    }

    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            // Writers do not checkpoint: a committing writer that copied 40 MB of WAL into the
            // database held every other writer up (the slowest creates under load); a task does it
            // beside them instead (`upkeep_in_background`).
            .pragma("wal_autocheckpoint", "0")
            // A WAL file started over is cut back to 64 MB, whatever it grew to in between.
            .pragma("journal_size_limit", "67108864")
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(6)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            // sqlx pings every idle connection before lending it by default: a round trip per
            // query. A connection that broke still fails on use and is discarded.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let lock = crate::db::WriteLock::default();
        let checkpointer = Some(upkeep_in_background(pool.clone(), lock.clone()));
        Ok(Self {
            pool: Pool::Sqlite(pool, lock),
            cache: RwLock::new(None),
            column_budget: std::sync::atomic::AtomicI64::new(physical::COLUMN_BUDGET),
            checkpointer,
            sqlite_options: Some(options),
            bulk_writers: std::sync::Mutex::default(),
        })
    }

    /// Open a PostgreSQL schema (`None`: the connection's default, `public`).
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Self> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::new(ErrorCode::Unavailable, format!("not a PostgreSQL URL: {e}")))?
            .disable_statement_logging();
        if let Some(s) = schema {
            options = options.options([("search_path", s)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(15))
            // sqlx pings every idle connection before lending it by default: a round trip per
            // query. A connection that broke still fails on use and is discarded.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            cache: RwLock::new(None),
            column_budget: std::sync::atomic::AtomicI64::new(physical::COLUMN_BUDGET),
            checkpointer: None,
            sqlite_options: None,
            bulk_writers: std::sync::Mutex::default(),
        })
    }

    /// A list query as the plain SQL this store would run, values inlined (for benchmarks).
    pub fn list_sql(&self, object: &ObjectDef, query: &ListQuery) -> String {
        records::list_sql_inline(self.backend_kind(), object, query)
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    fn backend_kind(&self) -> Backend {
        self.pool.backend()
    }

    pub async fn close(&self) {
        self.truncate_wal().await;
        self.pool.close().await;
    }

    /// SQLite: copy the whole WAL into the database and empty it (at start, and at the end of
    /// a command), so a server never begins by catching up with what a command left behind.
    async fn truncate_wal(&self) {
        if self.backend_kind() == Backend::Sqlite
            && let Err(e) = self
                .pool
                .exec()
                .execute(Sql::plain("PRAGMA wal_checkpoint(TRUNCATE)"))
                .await
        {
            tracing::debug!(error = %e, "the WAL was not emptied");
        }
    }

    /// Run pending migrations. Safe to call from several processes at once.
    pub async fn migrate(&self, now: DateTime<Utc>) -> Result<()> {
        self.migrate_until(now, i64::MAX).await?;
        self.after_migrations().await
    }

    /// Run pending migrations up to `last` only (tests of upgrades from older versions).
    pub async fn migrate_until(&self, now: DateTime<Utc>, last: i64) -> Result<()> {
        let backend = self.backend_kind();
        let create = format!(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at {} NOT NULL)",
            backend.datetime_type()
        );
        self.pool.exec().execute(Sql::plain(create)).await.map_err(db_error)?;
        for (version, name) in MIGRATIONS.iter().filter(|(v, _)| *v <= last) {
            let mut tx = self.pool.begin_write().await.map_err(db_error)?;
            if backend == Backend::Postgres {
                tx.exec()
                    .execute(Sql::plain("SELECT pg_advisory_xact_lock(727001)"))
                    .await
                    .map_err(db_error)?;
            }
            let done = tx
                .exec()
                .fetch_optional(Sql::new(
                    format!("SELECT 1 FROM schema_migrations WHERE version = {}", backend.param(1)),
                    vec![(*version).into()],
                ))
                .await
                .map_err(db_error)?
                .is_some();
            if done {
                continue;
            }
            apply_migration(&mut tx, backend, *version, now)
                .await
                .map_err(db_error)?;
            tx.exec()
                .execute(Sql::new(
                    format!(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({}, {}, {})",
                        backend.param(1),
                        backend.param(2),
                        backend.param(3)
                    ),
                    vec![(*version).into(), (*name).into(), backend.datetime(Some(now))],
                ))
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            tracing::info!(version, name, "migration applied");
        }
        Ok(())
    }

    async fn after_migrations(&self) -> Result<()> {
        self.ensure_indexes().await?;
        if self.backend_kind() == Backend::Sqlite {
            // Keep planner statistics current for databases that grew by ordinary use; bounded
            // by analysis_limit, so it stays quick on big files. One call: the limit is a
            // setting of the connection, and the pool may lend another for a second call.
            self.pool
                .exec()
                .execute(Sql::plain("PRAGMA analysis_limit = 2000; PRAGMA optimize = 0x10002"))
                .await
                .map_err(db_error)?;
            self.truncate_wal().await;
        }
        Ok(())
    }

    /// Create any secondary index that should exist and does not (after an interrupted bulk
    /// load, say). Cheap when they all exist.
    pub async fn ensure_indexes(&self) -> Result<()> {
        let schema = self.schema().await?;
        let mut statements: Vec<String> = schema
            .objects
            .values()
            .flat_map(|object| ddl::create_indexes(self.backend_kind(), object))
            .collect();
        statements.extend(search::merge_settings(self.backend_kind()));
        self.run_all(statements).await
    }

    async fn run_all(&self, statements: impl IntoIterator<Item = impl Into<String>>) -> Result<()> {
        for stmt in statements {
            self.pool.exec().execute(Sql::plain(stmt)).await.map_err(db_error)?;
        }
        Ok(())
    }

    /// Bulk loading into an empty table: drop its secondary indexes first, so rows go in
    /// without index maintenance; `finish_bulk_load` builds them once, from sorted data.
    pub async fn begin_bulk_load(&self, object: &ObjectDef) -> Result<()> {
        self.run_all(ddl::drop_indexes(object)).await
    }

    /// Build the object's indexes after a bulk load, and give the planner the table's new
    /// shape: without fresh statistics PostgreSQL read a just-loaded table page by page through
    /// a plan made for an empty one (an import run again right after took 64 s instead of 11
    /// for 300,000 people, until autovacuum came by).
    pub async fn finish_bulk_load(&self, object: &ObjectDef) -> Result<()> {
        self.run_all(ddl::create_indexes(self.backend_kind(), object)).await?;
        let tables = [ident(&object.table()), "search_doc".to_string()];
        // On SQLite one call, so that the sampling limit holds for the ANALYZE that follows it
        // on the same connection.
        let statement = match self.backend_kind() {
            Backend::Sqlite => std::iter::once("PRAGMA analysis_limit = 2000".to_string())
                .chain(tables.iter().map(|t| format!("ANALYZE {t}")))
                .collect::<Vec<_>>()
                .join("; "),
            Backend::Postgres => format!("ANALYZE {}", tables.join(", ")),
        };
        self.run_all([statement]).await
    }

    /// SQLite: a connection of its own for a bulk load's batches, with a 64 MB page cache, so
    /// that the unique index the batches probe and extend stays in memory as the table grows
    /// (a million people into an empty workspace: 63.0 → 54.1 s with 64 MB, measured
    /// 2026-12-03). Its own pool of one shares the process's write turn; the readers keep their
    /// 16 MB, and it is closed, its memory given back, when the load is done.
    async fn open_bulk_writer(&self, object: &ObjectDef) -> Result<()> {
        let (Some(options), Pool::Sqlite(_, lock)) = (&self.sqlite_options, &self.pool) else {
            return Ok(());
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(15))
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await
            .map_err(db_error)?;
        let earlier = self.bulk_writers.lock().ok().and_then(|mut writers| {
            lock.bulk_load_started();
            writers.insert(object.name.clone(), Pool::Sqlite(pool, lock.clone()))
        });
        if let Some(earlier) = earlier {
            lock.bulk_load_ended();
            earlier.close().await;
        }
        Ok(())
    }

    /// Close the connection a bulk load of `object` wrote through, if it has one.
    async fn close_bulk_writer(&self, object: &str) {
        let writer = self.bulk_writers.lock().ok().and_then(|mut w| w.remove(object));
        if let Some(writer) = writer {
            if let Pool::Sqlite(_, lock) = &writer {
                lock.bulk_load_ended();
            }
            writer.close().await;
        }
    }

    /// Refresh the query planner's statistics.
    pub async fn analyze(&self) -> Result<()> {
        let statement = match self.backend_kind() {
            // A sampled ANALYZE: seconds on millions of rows, accurate enough for plans (one
            // call: the limit is the connection's).
            Backend::Sqlite => "PRAGMA analysis_limit = 2000; ANALYZE",
            Backend::Postgres => "ANALYZE",
        };
        self.pool
            .exec()
            .execute(Sql::plain(statement))
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub async fn pending_migrations(&self) -> Result<usize> {
        let rows = self
            .pool
            .exec()
            .fetch_all(Sql::plain("SELECT version FROM schema_migrations"))
            .await
            .unwrap_or_default();
        let applied: Vec<i64> = rows.iter().filter_map(|r| r.i64(0).ok()).collect();
        Ok(MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)).count())
    }

    async fn insert_record_once(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                let input = RecordInput {
                    values: record.values.clone(),
                    // The writer owning what they write is there: they are writing.
                    owner: Some(record.owner).filter(|o| *o != Some(ctx.actor)),
                    version: None,
                    links: Some(record.links.clone()),
                };
                let errors = records::check_references(tx, backend, object, &input)
                    .await
                    .map_err(db_error)?;
                if !errors.is_empty() {
                    return Err(Error::validation(errors));
                }
                // No look first: the unique indexes refuse a repeated value, and only then is
                // the record that holds it looked for (one call to the database fewer).
                records::insert_many(tx, backend, object, std::slice::from_ref(record), ctx)
                    .await
                    .map_err(db_error)
            }
        }
        .await;
        match out {
            Err(e) if e.code == ErrorCode::AlreadyExists => {
                drop(txn);
                match records::taken(self.pool.reader(), backend, object, &record.values, None)
                    .await
                    .map_err(db_error)?
                {
                    Some(t) => Err(taken_error(object, &t)),
                    // Gone again already: `retry_on_taken` writes once more.
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
            Ok(()) => txn.commit().await.map_err(db_error),
        }
    }

    async fn update_record_once(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                match records::update(tx, backend, object, id, expected_version, input, ctx)
                    .await
                    .map_err(db_error)?
                {
                    Err(errors) => Err(Error::validation(errors)),
                    Ok(u) => settle(object, u),
                }
            }
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn set_deleted_once(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                let u = records::set_deleted(tx, backend, object, id, deleted, expected_version, ctx)
                    .await
                    .map_err(db_error)?;
                settle(object, u)
            }
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    /// The most columns a record table may take (tests lower it to reach it quickly).
    pub fn set_column_budget(&self, columns: i64) {
        self.column_budget.store(columns, std::sync::atomic::Ordering::Relaxed);
    }

    /// Check, before any DDL, that the table can take the field's columns. On PostgreSQL,
    /// dropped columns keep their slots until the table is rewritten: when they stand in the
    /// way, the table is rewritten first (under the migration lock, in this transaction).
    async fn make_room(&self, tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        let table = object.table();
        let budget = self.column_budget.load(std::sync::atomic::Ordering::Relaxed);
        let wanted = i64::try_from(ddl::field_columns(backend, field).len()).unwrap_or(2);
        let used = physical::used_slots(tx.exec(), backend, &table)
            .await
            .map_err(db_error)?;
        if used + wanted <= budget {
            return Ok(());
        }
        let dropped = physical::dropped_slots(tx.exec(), backend, &table)
            .await
            .map_err(db_error)?;
        if used - dropped + wanted > budget {
            return Err(Error::field(
                "name",
                format!(
                    "{} has no room for another field: its table holds {used} columns, the most it may hold is {budget} \
                     (archived fields keep theirs); purge archived fields to make room",
                    object.label_plural
                ),
            ));
        }
        tx.exec()
            .execute(Sql::plain("SELECT pg_advisory_xact_lock(727001)"))
            .await
            .map_err(db_error)?;
        physical::rewrite_table(tx, backend, object).await.map_err(db_error)?;
        tracing::info!(
            object = object.name,
            dropped,
            "table rewritten to free the slots of purged fields"
        );
        Ok(())
    }

    /// Rebuild the search documents of one object (after its searchable fields change).
    async fn reindex(tx: &mut Tx, backend: Backend, object: &ObjectDef) -> std::result::Result<(), sqlx::Error> {
        let ids_sql = match backend {
            Backend::Sqlite => "SELECT doc FROM search_doc WHERE object = ?1",
            Backend::Postgres => "SELECT record_id FROM search_doc WHERE object = $1",
        };
        if backend == Backend::Sqlite {
            let docs = tx
                .exec()
                .fetch_all(Sql::new(ids_sql, vec![object.name.clone().into()]))
                .await?;
            for d in docs {
                tx.exec()
                    .execute(Sql::new(
                        "DELETE FROM search_fts WHERE rowid = ?1",
                        vec![d.i64(0)?.into()],
                    ))
                    .await?;
            }
        }
        let del = format!("DELETE FROM search_doc WHERE object = {}", backend.param(1));
        tx.exec()
            .execute(Sql::new(del, vec![object.name.clone().into()]))
            .await?;
        let mut query = ListQuery::all();
        query.limit = 5000;
        loop {
            let mut page = records::list(tx.exec(), backend, object, &query, records::OwnerPlan::Index).await?;
            let more = page.len() > 5000;
            page.truncate(5000);
            let docs: Vec<search::Doc> = page.iter().map(|r| search::Doc::of(object, r)).collect();
            search::insert_docs(tx, backend, &docs).await?;
            match page.last() {
                Some(last) if more => {
                    query.after = Some(anchora_core::query::Cursor {
                        values: Vec::new(),
                        id: last.id,
                    })
                }
                _ => break,
            }
        }
        Ok(())
    }
}

async fn apply_migration(
    tx: &mut Tx,
    backend: Backend,
    version: i64,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    if version > 1 {
        // Reading the schema needs the unique flag, which migration 7 brings to old workspaces.
        ensure_unique_flag(tx, backend).await?;
    }
    if version == 7 {
        fold_text_and_unique_ids(tx, backend).await?;
    }
    if version == 8 {
        imports::chunk_sources(tx, backend).await?;
    }
    if version == 9 {
        for stmt in imports::warning_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 10 {
        for stmt in visits::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 1 {
        for stmt in ddl::system_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
        for object in standard_objects() {
            for stmt in ddl::create_object_table(backend, &object) {
                tx.exec().execute(Sql::plain(stmt)).await?;
            }
            metadata::insert_object(tx, backend, &object, now).await?;
        }
    }
    if version == 4 {
        for stmt in ddl::project_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 6 {
        tx.exec().execute(Sql::plain(imports::matches_table(backend))).await?;
    }
    if version == 5 {
        for stmt in imports::tables(backend).into_iter().chain(duplicates::tables(backend)) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
        add_standard_fields(tx, backend, &["person", "company"]).await?;
    }
    if version == 3 {
        for stmt in ddl::view_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 2 {
        for stmt in ddl::identity_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
        let existing = metadata::load_schema_in(tx).await?;
        for object in existing.objects.values() {
            tx.exec()
                .execute(Sql::plain(ddl::backfill_search_owner(object)))
                .await?;
        }
        // Workspaces made before consent fields existed get them; new ones have them already.
        add_standard_fields(tx, backend, &["person"]).await?;
    }
    Ok(())
}

async fn ensure_unique_flag(tx: &mut Tx, backend: Backend) -> std::result::Result<(), sqlx::Error> {
    if !physical::table_columns(tx.exec(), backend, "meta_field")
        .await?
        .contains("unique_value")
    {
        tx.exec().execute(Sql::plain(ddl::unique_flag_column(backend))).await?;
    }
    Ok(())
}

/// Migration 7: every text field gets its folded copy (filled from the values there), the
/// indexes move from the values to the copies, and external ids become unique where the data
/// allows it (a workspace that holds the same external id twice keeps it non-unique, with a
/// warning, until someone merges them).
async fn fold_text_and_unique_ids(tx: &mut Tx, backend: Backend) -> std::result::Result<(), sqlx::Error> {
    let schema = metadata::load_schema_in(tx).await?;
    for object in schema.objects.values() {
        let table = object.table();
        let present = physical::table_columns(tx.exec(), backend, &table).await?;
        for field in object.fields.iter().filter(|f| f.field_type.folds()) {
            let column = ddl::fold_column(&field.name);
            if !present.contains(&column) {
                let (_, column_type) = ddl::field_columns(backend, field)
                    .into_iter()
                    .find(|(c, _)| *c == column)
                    .unwrap_or((column.clone(), "TEXT"));
                tx.exec()
                    .execute(Sql::plain(format!(
                        "ALTER TABLE {} ADD COLUMN {} {column_type}",
                        db::ident(&table),
                        db::ident(&column)
                    )))
                    .await?;
            }
            tx.exec()
                .execute(Sql::plain(ddl::drop_index(&table, &field.name)))
                .await?;
            if let Some(legacy) = ddl::drop_legacy_index(&table, &field.name) {
                tx.exec().execute(Sql::plain(legacy)).await?;
            }
        }
        physical::backfill_folds(tx, backend, object).await?;
        let mut object = object.clone();
        for field in object
            .fields
            .iter_mut()
            .filter(|f| f.name == "external_id" && !f.unique)
        {
            let column = ddl::fold_column(&field.name);
            if physical::first_repeated(tx.exec(), &table, &column).await?.is_some() {
                tracing::warn!(
                    object = object.name,
                    "external ids repeat among live records, so they are left non-unique; merge the duplicates, then mark external_id unique"
                );
                continue;
            }
            field.unique = true;
            metadata::update_field(tx, backend, &object.name, field).await?;
            tx.exec().execute(Sql::plain(ddl::drop_index(&table, &column))).await?;
        }
        for stmt in ddl::create_indexes(backend, &object) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    metadata::bump_version(tx).await
}

/// Give workspaces made before a standard field existed that field (column, index, metadata);
/// new workspaces have it from the start.
async fn add_standard_fields(tx: &mut Tx, backend: Backend, objects: &[&str]) -> std::result::Result<(), sqlx::Error> {
    let existing = metadata::load_schema_in(tx).await?;
    let standard = standard_objects();
    let mut changed = false;
    for name in objects {
        let (Some(current), Some(wanted)) = (existing.objects.get(*name), standard.iter().find(|o| o.name == *name))
        else {
            continue;
        };
        for field in wanted.fields.iter().filter(|f| current.any_field(&f.name).is_none()) {
            for stmt in ddl::add_column(backend, current, field) {
                tx.exec().execute(Sql::plain(stmt)).await?;
            }
            metadata::insert_field(tx, backend, &current.name, field).await?;
            changed = true;
        }
    }
    if changed {
        metadata::bump_version(tx).await?;
    }
    Ok(())
}

/// Making a field unique while two records share a value: name them, so they can be merged.
fn repeated_values(object: &ObjectDef, field: &FieldDef, ids: &[RecordId]) -> Error {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    Error::field(
        "unique",
        format!(
            "{} cannot be unique yet: {} {} hold the same {}; make them differ or merge them first",
            field.name,
            object.label_plural.to_lowercase(),
            ids.join(" and "),
            field.label.to_lowercase()
        ),
    )
}

fn stale_schema() -> Error {
    Error::new(
        ErrorCode::VersionConflict,
        "the schema was changed by someone else; reload and try again",
    )
}

#[async_trait]
impl Store for SqlStore {
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
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                for stmt in ddl::create_object_table(backend, object) {
                    tx.exec().execute(Sql::plain(stmt)).await.map_err(db_error)?;
                }
                metadata::insert_object(tx, backend, object, ctx.now)
                    .await
                    .map_err(db_error)?;
                metadata::bump_version(tx).await.map_err(db_error)
            }
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn update_object(&self, object: &ObjectDef) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                if metadata::update_object(tx, backend, object).await.map_err(db_error)? != 1 {
                    return Err(stale_schema());
                }
                metadata::bump_version(tx).await.map_err(db_error)
            }
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn add_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
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
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn update_field(&self, object: &ObjectDef, before: &FieldDef, after: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
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
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn purge_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
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
        }
        .await;
        let out = out?;
        txn.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn insert_record(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()> {
        retry_on_taken(|| self.insert_record_once(object, record, ctx)).await
    }

    async fn insert_records(&self, object: &ObjectDef, batch: &[Record], ctx: WriteCtx) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        records::insert_many(&mut txn, backend, object, batch, ctx)
            .await
            .map_err(db_error)?;
        txn.commit().await.map_err(db_error)
    }

    async fn get_record(&self, object: &ObjectDef, id: RecordId) -> Result<Option<Record>> {
        let backend = self.backend_kind();
        let mut record = records::get(self.pool.exec(), backend, object, id, false)
            .await
            .map_err(db_error)?;
        if object.is_activity()
            && let Some(r) = record.as_mut()
        {
            records::load_links(self.pool.exec(), backend, std::slice::from_mut(r))
                .await
                .map_err(db_error)?;
        }
        Ok(record)
    }

    async fn update_record(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        retry_on_taken(|| self.update_record_once(object, id, expected_version, input, ctx)).await
    }

    async fn set_deleted(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        retry_on_taken(|| self.set_deleted_once(object, id, deleted, expected_version, ctx)).await
    }

    async fn list_records(&self, object: &ObjectDef, query: &ListQuery) -> Result<Vec<Record>> {
        let backend = self.backend_kind();
        let plan = self.owner_plan(object, query).await?;
        let mut out = records::list(self.pool.exec(), backend, object, query, plan)
            .await
            .map_err(db_error)?;
        if object.is_activity() {
            records::load_links(self.pool.exec(), backend, &mut out)
                .await
                .map_err(db_error)?;
        }
        Ok(out)
    }

    async fn count_listed(&self, object: &ObjectDef, query: &ListQuery, cap: u64) -> Result<u64> {
        let backend = self.backend_kind();
        let plan = self.owner_plan(object, query).await?;
        records::count_capped(self.pool.exec(), backend, object, query, plan, cap)
            .await
            .map_err(db_error)
    }

    async fn aggregate(
        &self,
        object: &ObjectDef,
        query: &anchora_core::query::AggregateQuery,
    ) -> Result<Vec<anchora_core::query::AggregateRow>> {
        records::aggregate(self.pool.exec(), self.backend_kind(), object, query)
            .await
            .map_err(db_error)
    }

    async fn count_records(&self, object: &ObjectDef) -> Result<i64> {
        records::count(self.pool.exec(), self.backend_kind(), object)
            .await
            .map_err(db_error)
    }

    async fn history(&self, _object: &ObjectDef, id: RecordId, after_seq: i64, limit: u32) -> Result<Vec<Change>> {
        records::history(self.pool.exec(), self.backend_kind(), id, after_seq, limit)
            .await
            .map_err(db_error)
    }

    async fn search(&self, terms: &[String], limit: u32) -> Result<Vec<SearchHit>> {
        search::search(
            self.pool.exec(),
            self.backend_kind(),
            terms,
            limit,
            &SearchScope::default(),
        )
        .await
        .map_err(db_error)
    }

    async fn search_scoped(&self, terms: &[String], limit: u32, scope: &SearchScope) -> Result<Vec<SearchHit>> {
        search::search(self.pool.exec(), self.backend_kind(), terms, limit, scope)
            .await
            .map_err(db_error)
    }

    async fn set_policy(&self, policy: &AccessPolicy) -> Result<()> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        metadata::set_policy(&mut tx, self.backend_kind(), policy)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        identity::create_user(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        identity::user_where(
            self.pool.exec(),
            self.backend_kind(),
            Expr::col("email").eq(email.to_string()),
        )
        .await
        .map_err(db_error)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let backend = self.backend_kind();
        identity::user_where(self.pool.exec(), backend, Expr::col("id").eq(backend.uuid(Some(id.0))))
            .await
            .map_err(db_error)
    }

    async fn create_token(&self, token: &ApiToken) -> Result<()> {
        identity::create_token(self.pool.exec(), self.backend_kind(), token)
            .await
            .map_err(db_error)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User, i64)>> {
        identity::token_by_hash(self.pool.exec(), self.backend_kind(), hash)
            .await
            .map_err(db_error)
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        identity::set_token_time(self.pool.exec(), self.backend_kind(), id, "last_used_at", at)
            .await
            .map_err(db_error)
    }

    async fn token(&self, id: TokenId) -> Result<Option<ApiToken>> {
        let backend = self.backend_kind();
        let found = identity::tokens(
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
        identity::tokens(self.pool.exec(), backend, cond)
            .await
            .map_err(db_error)
    }

    async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        identity::set_token_time(self.pool.exec(), self.backend_kind(), id, "revoked_at", at)
            .await
            .map_err(db_error)
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        identity::update_user(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn users(&self) -> Result<Vec<User>> {
        identity::users(self.pool.exec(), self.backend_kind())
            .await
            .map_err(db_error)
    }

    async fn team_members(&self, team: TeamId) -> Result<Vec<UserId>> {
        identity::team_members(self.pool.exec(), self.backend_kind(), team)
            .await
            .map_err(db_error)
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        identity::create_team(self.pool.exec(), self.backend_kind(), team)
            .await
            .map_err(db_error)
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        identity::teams(self.pool.exec(), self.backend_kind())
            .await
            .map_err(db_error)
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        identity::create_session(self.pool.exec(), self.backend_kind(), session)
            .await
            .map_err(db_error)
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User, i64)>> {
        identity::session_by_hash(self.pool.exec(), self.backend_kind(), hash)
            .await
            .map_err(db_error)
    }

    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        identity::touch_session(self.pool.exec(), self.backend_kind(), hash, at)
            .await
            .map_err(db_error)
    }

    async fn delete_session(&self, hash: &str) -> Result<()> {
        identity::delete_sessions(
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
        identity::delete_sessions(self.pool.exec(), backend, cond)
            .await
            .map_err(db_error)
    }

    async fn create_password_reset(
        &self,
        hash: &str,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        identity::create_password_reset(
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
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let user = identity::take_password_reset(tx.exec(), self.backend_kind(), hash, now)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(user)
    }

    async fn password_reset_user(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        identity::password_reset_user(self.pool.exec(), self.backend_kind(), hash, now)
            .await
            .map_err(db_error)
    }

    async fn clear_password_resets(&self, user: UserId) -> Result<()> {
        identity::clear_password_resets(self.pool.exec(), self.backend_kind(), user)
            .await
            .map_err(db_error)
    }

    async fn purge_expired_credentials(&self, now: DateTime<Utc>) -> Result<()> {
        identity::purge_expired(&self.pool, self.backend_kind(), now)
            .await
            .map_err(db_error)
    }

    async fn record_audit(&self, event: &AuditEvent) -> Result<()> {
        audit::record(self.pool.exec(), self.backend_kind(), event)
            .await
            .map_err(db_error)
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        audit::events(self.pool.exec(), self.backend_kind(), query)
            .await
            .map_err(db_error)
    }

    async fn count_events(
        &self,
        kind: AuditKind,
        subject: Option<&str>,
        ip: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u32, Option<DateTime<Utc>>)> {
        audit::count(self.pool.exec(), self.backend_kind(), kind, subject, ip, since)
            .await
            .map_err(db_error)
    }

    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>> {
        records::changes(self.pool.exec(), self.backend_kind(), query)
            .await
            .map_err(db_error)
    }

    async fn create_view(&self, view: &anchora_core::views::SavedView) -> Result<()> {
        views::create(self.pool.exec(), self.backend_kind(), view)
            .await
            .map_err(db_error)
    }

    async fn views(&self, object: &str, user: UserId) -> Result<Vec<anchora_core::views::SavedView>> {
        views::list(self.pool.exec(), self.backend_kind(), object, user)
            .await
            .map_err(db_error)
    }

    async fn view(&self, id: anchora_core::ViewId) -> Result<Option<anchora_core::views::SavedView>> {
        views::get(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn delete_view(&self, id: anchora_core::ViewId) -> Result<()> {
        views::delete(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn create_project(&self, project: &Project) -> Result<()> {
        projects::create(self.pool.exec(), self.backend_kind(), project)
            .await
            .map_err(db_error)
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        projects::list(self.pool.exec(), self.backend_kind())
            .await
            .map_err(db_error)
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>> {
        projects::get(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn project_items(&self, id: ProjectId) -> Result<Vec<StoredItem>> {
        projects::items(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn project_dependencies(&self, id: ProjectId) -> Result<Vec<Dependency>> {
        projects::dependencies(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn write_project(&self, id: ProjectId, batch: &ProjectBatch, at: DateTime<Utc>) -> Result<BatchOutcome> {
        projects::write(&self.pool, id, batch, at).await.map_err(db_error)
    }

    async fn project_roles(&self) -> Result<Vec<RoleDef>> {
        projects::roles(self.pool.exec(), self.backend_kind())
            .await
            .map_err(db_error)
    }

    async fn add_project_role(&self, role: &RoleDef) -> Result<()> {
        projects::add_role(self.pool.exec(), self.backend_kind(), role)
            .await
            .map_err(db_error)
    }

    async fn erase_record(&self, erasure: &Erasure, ctx: WriteCtx) -> Result<ErasureCounts> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let counts = erase::erase(&mut tx, self.backend_kind(), erasure, ctx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(counts)
    }

    async fn create_import_job(&self, job: &ImportJob, source: Option<&std::path::Path>) -> Result<()> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        imports::create(&mut tx, self.backend_kind(), job, source)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn import_job(&self, id: ImportId) -> Result<Option<ImportJob>> {
        imports::get(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn import_jobs(&self, limit: u32) -> Result<Vec<ImportJob>> {
        imports::list(self.pool.exec(), self.backend_kind(), limit)
            .await
            .map_err(db_error)
    }

    async fn import_source(&self, id: ImportId, to: &std::path::Path) -> Result<bool> {
        imports::source(&self.pool, self.backend_kind(), id, to)
            .await
            .map_err(db_error)
    }

    async fn start_import(&self, id: ImportId, settings: &ImportSettings, at: DateTime<Utc>) -> Result<bool> {
        imports::start(self.pool.exec(), self.backend_kind(), id, settings, at)
            .await
            .map_err(db_error)
    }

    async fn claim_import(&self, id: ImportId, now: DateTime<Utc>, stale_before: DateTime<Utc>) -> Result<bool> {
        imports::claim(self.pool.exec(), self.backend_kind(), id, now, stale_before)
            .await
            .map_err(db_error)
    }

    async fn finish_import(
        &self,
        id: ImportId,
        status: JobStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        imports::finish(self.pool.exec(), self.backend_kind(), id, status, error, at)
            .await
            .map_err(db_error)
    }

    async fn write_import(&self, object: &ObjectDef, write: &ImportWrite, ctx: WriteCtx) -> Result<ImportWriteOutcome> {
        let bulk = self
            .bulk_writers
            .lock()
            .ok()
            .and_then(|writers| writers.get(&object.name).cloned());
        let pool = bulk.as_ref().unwrap_or(&self.pool);
        let mut tx = pool.begin_write().await.map_err(db_error)?;
        let outcome = imports::write(&mut tx, self.backend_kind(), object, write, ctx)
            .await
            .map_err(db_error)?;
        if let ImportWriteOutcome::Written(_) = outcome {
            tx.commit().await.map_err(db_error)?;
        }
        Ok(outcome)
    }

    async fn held_keys(
        &self,
        object: &ObjectDef,
        field: &str,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        imports::held_keys(&self.pool, self.backend_kind(), object, field, keys)
            .await
            .map_err(db_error)
    }

    async fn set_bulk_load(&self, object: &ObjectDef, job: Option<ImportId>) -> Result<()> {
        let backend = self.backend_kind();
        match job {
            Some(job) => {
                imports::note_bulk_load(self.pool.exec(), backend, &object.name, job)
                    .await
                    .map_err(db_error)?;
                self.open_bulk_writer(object).await?;
                self.begin_bulk_load(object).await
            }
            None => {
                self.close_bulk_writer(&object.name).await;
                self.finish_bulk_load(object).await?;
                imports::forget_bulk_load(self.pool.exec(), backend, &object.name)
                    .await
                    .map_err(db_error)
            }
        }
    }

    async fn repair_bulk_loads(&self, stale_before: DateTime<Utc>) -> Result<Vec<String>> {
        let backend = self.backend_kind();
        let died = imports::died_bulk_loads(self.pool.exec(), backend, stale_before)
            .await
            .map_err(db_error)?;
        if died.is_empty() {
            return Ok(died);
        }
        let schema = self.schema().await?;
        for name in &died {
            self.close_bulk_writer(name).await;
            if let Some(object) = schema.objects.get(name) {
                self.finish_bulk_load(object).await?;
            }
            imports::forget_bulk_load(self.pool.exec(), backend, name)
                .await
                .map_err(db_error)?;
            tracing::warn!(
                object = name,
                "a bulk load stopped half way; its indexes are built again"
            );
        }
        Ok(died)
    }

    async fn save_duplicate_scan(&self, object: &str, pairs: &[StoredPair]) -> Result<u64> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let n = duplicates::replace_open(&mut tx, self.backend_kind(), object, pairs)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }

    async fn duplicate_pairs(&self, object: &str, status: PairStatus, limit: u32) -> Result<Vec<StoredPair>> {
        duplicates::list(self.pool.exec(), self.backend_kind(), object, status, limit)
            .await
            .map_err(db_error)
    }

    async fn decide_duplicate(
        &self,
        object: &str,
        pair: (RecordId, RecordId),
        status: PairStatus,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        duplicates::decide(self.pool.exec(), self.backend_kind(), object, pair, status, by, at)
            .await
            .map_err(db_error)
    }

    async fn reopen_duplicate(&self, object: &str, pair: (RecordId, RecordId)) -> Result<()> {
        duplicates::reopen(self.pool.exec(), self.backend_kind(), object, pair)
            .await
            .map_err(db_error)
    }

    async fn write_records(
        &self,
        batch: &anchora_core::dedupe::merge::RecordBatch,
        ctx: WriteCtx,
    ) -> Result<anchora_core::dedupe::merge::BatchWrite> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let outcome = duplicates::write_records(&mut tx, self.backend_kind(), batch, ctx)
            .await
            .map_err(db_error)?;
        if outcome == anchora_core::dedupe::merge::BatchWrite::Written {
            tx.commit().await.map_err(db_error)?;
        }
        Ok(outcome)
    }

    async fn merge_entry(&self, id: uuid::Uuid) -> Result<Option<anchora_core::dedupe::merge::MergeEntry>> {
        duplicates::merge_entry(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn save_quality_day(
        &self,
        object: &str,
        day: chrono::NaiveDate,
        rows: &[anchora_core::quality::QualityDay],
    ) -> Result<()> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        duplicates::save_quality_day(&mut tx, self.backend_kind(), object, day, rows)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn quality_days(
        &self,
        object: &str,
        scope: &str,
        key: &str,
        since: chrono::NaiveDate,
    ) -> Result<Vec<anchora_core::quality::QualityDay>> {
        duplicates::quality_days(self.pool.exec(), self.backend_kind(), object, scope, key, since)
            .await
            .map_err(db_error)
    }

    async fn latest_quality_day(&self, object: &str) -> Result<Vec<anchora_core::quality::QualityDay>> {
        duplicates::latest_quality_day(self.pool.exec(), self.backend_kind(), object)
            .await
            .map_err(db_error)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        duplicates::setting(self.pool.exec(), self.backend_kind(), key)
            .await
            .map_err(db_error)
    }

    async fn put_setting(&self, key: &str, body: &str) -> Result<()> {
        duplicates::put_setting(self.pool.exec(), self.backend_kind(), key, body)
            .await
            .map_err(db_error)
    }

    async fn note_visit(&self, user: UserId, object: &str, record: RecordId, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        visits::note(&mut tx, self.backend_kind(), user, object, record, at)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn recent_visits(&self, user: UserId, limit: u32) -> Result<Vec<(String, RecordId, DateTime<Utc>)>> {
        visits::recent(self.pool.exec(), self.backend_kind(), user, limit)
            .await
            .map_err(db_error)
    }

    async fn import_matches(
        &self,
        id: ImportId,
        limit: u32,
    ) -> Result<(u64, Vec<anchora_core::import::job::LikelyDuplicate>)> {
        // Rows first: a running job only adds matches, so the count read after them is never
        // below what is shown (read the other way round, a batch committed in between showed
        // "0" above a row of them).
        let rows = imports::matches(self.pool.exec(), self.backend_kind(), id, limit)
            .await
            .map_err(db_error)?;
        let total = imports::match_count(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)?;
        Ok((total, rows))
    }

    async fn import_rejects(&self, id: ImportId, after_row: u64, limit: u32) -> Result<Vec<Rejected>> {
        imports::rejects(self.pool.exec(), self.backend_kind(), id, after_row, limit)
            .await
            .map_err(db_error)
    }

    async fn import_warnings(
        &self,
        id: ImportId,
        after_row: u64,
        limit: u32,
    ) -> Result<Vec<anchora_core::import::job::Warning>> {
        imports::warnings(self.pool.exec(), self.backend_kind(), id, after_row, limit)
            .await
            .map_err(db_error)
    }

    async fn import_unknown_owners(
        &self,
        id: ImportId,
        limit: u32,
    ) -> Result<Vec<anchora_core::import::job::UnknownOwner>> {
        imports::unknown_owners(self.pool.exec(), self.backend_kind(), id, limit)
            .await
            .map_err(db_error)
    }
}

fn settle(object: &ObjectDef, u: records::Updated) -> Result<WriteOutcome> {
    Ok(match u {
        records::Updated::Done(r) => WriteOutcome::Written(r),
        records::Updated::Stale(r) => WriteOutcome::Stale(r),
        records::Updated::Missing => WriteOutcome::NotFound,
        records::Updated::InTrash => {
            return Err(Error::new(
                ErrorCode::InTrash,
                "the record is in the trash; restore it before changing it",
            ));
        }
        records::Updated::Taken(t) => return Err(taken_error(object, &t)),
    })
}

/// A unique value another record holds. Core names that record to a caller who may see it.
fn taken_error(object: &ObjectDef, t: &records::Taken) -> Error {
    let label = object
        .field(&t.field)
        .map_or(t.field.clone(), |f| f.label.to_lowercase());
    let value = t.value.to_text().unwrap_or_default();
    Error::taken(
        &t.field,
        format!("{value:?} is already another {}'s {label}", object.label.to_lowercase()),
        anchora_core::error::Existing {
            field: t.field.clone(),
            object: object.name.clone(),
            id: t.holder,
        },
    )
}

/// Run a write again when a concurrent writer took a unique value between this write's check
/// and its insert (PostgreSQL): the second run's check then finds the holder and says so.
async fn retry_on_taken<T, F, Fut>(mut write: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(e) if e.code == ErrorCode::AlreadyExists && attempt < 2 => attempt += 1,
            other => return other,
        }
    }
}
