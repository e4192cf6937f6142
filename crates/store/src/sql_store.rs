//! `SqlStore`: one workspace's [`Store`] on SQLite or PostgreSQL.

use crate::db::{self, Backend, Pool, Sql, Tx, db_error, ident};
use crate::{ddl, duplicates, imports, metadata, physical, records, search, visits};
use anchora_core::RecordId;
use anchora_core::error::{Error, ErrorCode, Result};
use anchora_core::meta::{FieldDef, ObjectDef, Schema, SchemaStore, standard_objects};
use anchora_core::query::ListQuery;
use chrono::{DateTime, Utc};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug)]
pub struct SqlStore {
    pub(crate) pool: Pool,
    pub(crate) cache: RwLock<Option<Arc<Schema>>>,
    column_budget: std::sync::atomic::AtomicI64,
    /// SQLite: the task that merges the full-text index and checkpoints the WAL beside the
    /// writers.
    checkpointer: Option<tokio::task::AbortHandle>,
    /// SQLite: how to open the file again, for a bulk load's own connection.
    sqlite_options: Option<SqliteConnectOptions>,
    /// SQLite: the connection each object being bulk loaded by this process writes through.
    pub(crate) bulk_writers: std::sync::Mutex<std::collections::HashMap<String, Pool>>,
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
    (11, "the job queue and its schedules, reminders sent"),
    (12, "consent per purpose"),
    (13, "selections"),
    (
        14,
        "templates, mailings and their recipients, invalid addresses, people's language",
    ),
    (15, "saved reports"),
    (16, "dashboards"),
    (17, "quotas, weekly forecast snapshots, deals' forecast category"),
    (18, "report subscriptions"),
    (19, "usage per user and day, the teams' leads"),
    (
        20,
        "onboarding checklists and their templates, training courses, sessions and attendance",
    ),
    (21, "expectations from management"),
    (22, "the support chain: questions, their steps, agreed times"),
    (23, "stewardship: the plan, adjustment requests, answers"),
    (24, "e-mailed answers kept once by their Message-ID"),
];

/// The newest migration this binary carries: a database whose newest applied migration is
/// another one is not the schema this binary was built for.
pub fn latest_migration() -> i64 {
    MIGRATIONS.iter().map(|(v, _)| *v).max().unwrap_or(0)
}

/// A connection pool's use at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, lent out or idle.
    pub size: u32,
    /// Connections open and waiting to be lent.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

impl SqlStore {
    /// Every row a select finds, each decoded: the read most store methods end with.
    pub(crate) async fn fetch_decoded<T>(
        &self,
        sql: Sql,
        decode: impl Fn(&db::Row) -> std::result::Result<T, sqlx::Error>,
    ) -> Result<Vec<T>> {
        let rows = self.pool.exec().fetch_all(sql).await.map_err(db_error)?;
        rows.iter()
            .map(decode)
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    /// Run one statement that writes, in a write transaction of its own; the rows it touched.
    pub(crate) async fn write_one(&self, sql: Sql) -> Result<u64> {
        crate::db::in_write!(self.pool, |tx| { tx.exec().execute(sql).await.map_err(db_error) })
    }

    /// How a list of some owners' records is best read (see [`records::owner_plan`]).
    pub(crate) async fn owner_plan(&self, object: &ObjectDef, query: &ListQuery) -> Result<records::OwnerPlan> {
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

    pub(crate) fn backend_kind(&self) -> Backend {
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

    /// Run statements two at a time, each on a connection of its own, each taking the next
    /// one left when it is done.
    async fn two_at_a_time(&self, statements: Vec<String>) -> Result<()> {
        let queue = std::sync::Mutex::new(statements.into_iter());
        let next = || queue.lock().ok().and_then(|mut q| q.next());
        let worker = || async {
            while let Some(statement) = next() {
                self.pool
                    .exec()
                    .execute(Sql::plain(statement))
                    .await
                    .map_err(db_error)?;
            }
            Ok::<(), anchora_core::Error>(())
        };
        let (one, other) = tokio::join!(worker(), worker());
        one.and(other)
    }

    /// Bulk loading into an empty table: drop its secondary indexes first, so rows go in
    /// without index maintenance; `finish_bulk_load` builds them once, from sorted data.
    pub async fn begin_bulk_load(&self, object: &ObjectDef) -> Result<()> {
        self.run_all(ddl::drop_indexes(object)).await?;
        // The indexes kept reports asked for go too; the import asks for them again when it
        // is done (`Crm::ask_for_report_indexes`).
        let kept = crate::report_indexes::existing(self.pool.exec(), self.backend_kind(), Some(&object.table()))
            .await
            .map_err(db_error)?;
        let drops: Vec<String> = kept
            .iter()
            .map(|name| format!("DROP INDEX IF EXISTS {}", ident(name)))
            .collect();
        self.run_all(drops).await
    }

    /// Build the object's indexes after a bulk load, and give the planner the table's new
    /// shape: without fresh statistics PostgreSQL read a just-loaded table page by page through
    /// a plan made for an empty one (an import run again right after took 64 s instead of 11
    /// for 300,000 people, until autovacuum came by).
    ///
    /// PostgreSQL builds the indexes two at a time (see `two_at_a_time`): one build is one
    /// process, and `CREATE INDEX` lets another build on the same table run beside it (both
    /// take a SHARE lock), so both of a small server's cores sort. SQLite has one writer.
    pub async fn finish_bulk_load(&self, object: &ObjectDef) -> Result<()> {
        let indexes = ddl::create_indexes(self.backend_kind(), object);
        let table = ident(&object.table());
        match self.backend_kind() {
            Backend::Sqlite => {
                self.run_all(indexes).await?;
                // One call, so that the sampling limit holds for the ANALYZEs that follow it
                // on the same connection.
                self.run_all([format!(
                    "PRAGMA analysis_limit = 2000; ANALYZE {table}; ANALYZE search_doc"
                )])
                .await
            }
            Backend::Postgres => {
                self.two_at_a_time(indexes).await?;
                self.run_all([format!("ANALYZE {table}, search_doc")]).await
            }
        }
    }

    /// SQLite: a connection of its own for a bulk load's batches, with a 64 MB page cache, so
    /// that the unique index the batches probe and extend stays in memory as the table grows
    /// (a million people into an empty workspace: 63.0 → 54.1 s with 64 MB, measured
    /// 2026-12-03). Its own pool of one shares the process's write turn; the readers keep their
    /// 16 MB, and it is closed, its memory given back, when the load is done.
    pub(crate) async fn open_bulk_writer(&self, object: &ObjectDef) -> Result<()> {
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
    pub(crate) async fn close_bulk_writer(&self, object: &str) {
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

    /// The newest migration applied to this database: `None` when none is (or there is no
    /// migrations table yet). A read that waits for no writer (readiness checks ask it).
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        let row = self
            .pool
            .reader()
            .fetch_optional(Sql::plain("SELECT MAX(version) FROM schema_migrations"))
            .await
            .map_err(db_error)?;
        row.map_or(Ok(None), |r| r.opt_i64(0)).map_err(db_error)
    }

    /// Whether the database answers a trivial query (`SELECT 1`), waiting for no writer.
    pub async fn ping(&self) -> std::result::Result<(), sqlx::Error> {
        self.pool
            .reader()
            .fetch_optional(Sql::plain("SELECT 1"))
            .await
            .map(|_| ())
    }

    /// The connections of this store's pool as they are now (for metrics).
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle, max) = match &self.pool {
            Pool::Sqlite(p, _) => (p.size(), p.num_idle(), p.options().get_max_connections()),
            Pool::Postgres(p) => (p.size(), p.num_idle(), p.options().get_max_connections()),
        };
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }

    /// The most columns a record table may take (tests lower it to reach it quickly).
    pub fn set_column_budget(&self, columns: i64) {
        self.column_budget.store(columns, std::sync::atomic::Ordering::Relaxed);
    }

    /// Check, before any DDL, that the table can take the field's columns. On PostgreSQL,
    /// dropped columns keep their slots until the table is rewritten: when they stand in the
    /// way, the table is rewritten first (under the migration lock, in this transaction).
    pub(crate) async fn make_room(&self, tx: &mut Tx, object: &ObjectDef, field: &FieldDef) -> Result<()> {
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
    pub(crate) async fn reindex(
        tx: &mut Tx,
        backend: Backend,
        object: &ObjectDef,
    ) -> std::result::Result<(), sqlx::Error> {
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
    if version == 13 {
        for stmt in crate::selections::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 14 {
        for stmt in crate::templates::tables(backend)
            .into_iter()
            .chain(crate::mailings::tables(backend))
        {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
        add_standard_fields(tx, backend, &["person"]).await?;
    }
    if version == 22 {
        for stmt in crate::support::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 23 {
        for stmt in crate::stewardship::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 24 {
        for stmt in crate::support::mail_in_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 21 {
        for stmt in crate::adoption::expectation_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 20 {
        for stmt in crate::training::tables(backend)
            .into_iter()
            .chain(crate::onboarding::tables(backend))
        {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 19 {
        for stmt in crate::adoption::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 18 {
        for stmt in crate::reports::subscription_tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 17 {
        for stmt in crate::forecast::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
        add_standard_fields(tx, backend, &["deal"]).await?;
    }
    if version == 15 {
        for stmt in crate::reports::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 16 {
        for stmt in crate::dashboards::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 12 {
        for stmt in crate::consent::tables(backend) {
            tx.exec().execute(Sql::plain(stmt)).await?;
        }
    }
    if version == 11 {
        for stmt in crate::jobs::tables(backend)
            .into_iter()
            .chain(crate::reminders::tables(backend))
        {
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
pub(crate) fn repeated_values(object: &ObjectDef, field: &FieldDef, ids: &[RecordId]) -> Error {
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

pub(crate) fn stale_schema() -> Error {
    Error::new(
        ErrorCode::VersionConflict,
        "the schema was changed by someone else; reload and try again",
    )
}
