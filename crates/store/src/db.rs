//! The thin layer over sqlx that lets the rest of the store speak to SQLite and PostgreSQL
//! with one piece of code: a pool, a transaction, a row, and the single place where built SQL
//! is handed to sqlx.

use anchora_core::value::{format_datetime, parse_datetime};
use anchora_core::{Error, ErrorCode};
use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder, Values};
use sea_query_sqlx::{SqlxBinder, SqlxValues};
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Build a sea-query statement for this backend.
    pub fn build<S: SqlxBinder>(self, stmt: &S) -> Sql {
        let (text, values) = match self {
            Backend::Sqlite => stmt.build_sqlx(SqliteQueryBuilder),
            Backend::Postgres => stmt.build_sqlx(PostgresQueryBuilder),
        };
        Sql {
            text,
            values: values.0.0,
        }
    }

    /// A bound parameter's placeholder in hand-written SQL.
    pub fn param(self, n: usize) -> String {
        match self {
            Backend::Sqlite => format!("?{n}"),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// Encode an id for this backend's column type (TEXT on SQLite, UUID on PostgreSQL).
    pub fn uuid(self, id: Option<Uuid>) -> sea_query::Value {
        match self {
            Backend::Sqlite => sea_query::Value::String(id.map(|u| u.hyphenated().to_string())),
            Backend::Postgres => sea_query::Value::Uuid(id),
        }
    }

    /// Encode a timestamp (fixed-width text on SQLite so it sorts as time; TIMESTAMPTZ on PostgreSQL).
    pub fn datetime(self, t: Option<DateTime<Utc>>) -> sea_query::Value {
        match self {
            Backend::Sqlite => sea_query::Value::String(t.as_ref().map(format_datetime)),
            Backend::Postgres => sea_query::Value::ChronoDateTimeUtc(t),
        }
    }

    pub fn date(self, d: Option<NaiveDate>) -> sea_query::Value {
        match self {
            Backend::Sqlite => sea_query::Value::String(d.map(|d| d.format("%Y-%m-%d").to_string())),
            Backend::Postgres => sea_query::Value::ChronoDate(d),
        }
    }

    pub fn bytes_type(self) -> &'static str {
        match self {
            Backend::Sqlite => "BLOB",
            Backend::Postgres => "BYTEA",
        }
    }

    /// A yes-or-no column (SQLite keeps 0 and 1).
    pub fn bool_type(self) -> &'static str {
        match self {
            Backend::Sqlite => "INTEGER",
            Backend::Postgres => "BOOLEAN",
        }
    }

    /// A primary key the database numbers.
    pub fn serial_key(self) -> &'static str {
        match self {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        }
    }

    pub fn uuid_type(self) -> &'static str {
        match self {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "UUID",
        }
    }

    pub fn datetime_type(self) -> &'static str {
        match self {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "TIMESTAMPTZ",
        }
    }
}

/// SQL text with its bound values.
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: String,
    pub values: Vec<sea_query::Value>,
}

impl Sql {
    pub fn new(text: impl Into<String>, values: Vec<sea_query::Value>) -> Self {
        Self {
            text: text.into(),
            values,
        }
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            values: Vec::new(),
        }
    }
}

/// A multi-row INSERT binding `values`: a row's values one after another, `columns.len()` to a
/// row. Written out by hand because imports send millions of rows through it, and building
/// sea-query's expression tree for them cost more than SQLite spent inserting them.
pub fn insert_rows(backend: Backend, table: &str, columns: &[impl AsRef<str>], values: Vec<sea_query::Value>) -> Sql {
    use std::fmt::Write as _;
    let width = columns.len().max(1);
    let rows = values.len() / width;
    let mut text = String::with_capacity(64 + rows * width * 6);
    text.push_str("INSERT INTO ");
    text.push_str(&ident(table));
    text.push_str(" (");
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&ident(c.as_ref()));
    }
    text.push_str(") VALUES ");
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            if col > 0 {
                text.push_str(", ");
            }
            match backend {
                Backend::Sqlite => text.push('?'),
                // Writing to a String cannot fail.
                Backend::Postgres => {
                    let _ = write!(text, "${}", row * width + col + 1);
                }
            }
        }
        text.push(')');
    }
    Sql { text, values }
}

/// Bytes of COPY data handed to the connection at a time.
const COPY_SEND_AT: usize = 256 * 1024;

/// One row in COPY's text format: values by tabs, a newline after.
fn copy_row(out: &mut Vec<u8>, row: impl IntoIterator<Item = sea_query::Value>) -> Result<(), sqlx::Error> {
    for (i, value) in row.into_iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        copy_value(out, &value)?;
    }
    out.push(b'\n');
    Ok(())
}

/// A value as COPY's text format reads it into its column: `\N` for NULL, text with its
/// backslashes, tabs and line breaks escaped, numbers as Rust writes them (the shortest form
/// that reads back the same), times in UTC with microseconds (the column's precision).
fn copy_value(out: &mut Vec<u8>, value: &sea_query::Value) -> Result<(), sqlx::Error> {
    use sea_query::Value as V;
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    match value {
        V::String(Some(s)) => copy_text(out, s)?,
        V::Uuid(Some(u)) => {
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            out.extend_from_slice(u.hyphenated().encode_lower(&mut text).as_bytes());
        }
        V::BigInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        V::Int(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        V::Double(Some(f)) => copy_float(out, *f),
        V::Bool(Some(b)) => out.push(if *b { b't' } else { b'f' }),
        V::ChronoDate(Some(d)) => {
            let era = copy_date(out, *d);
            out.extend_from_slice(era);
        }
        V::ChronoDateTimeUtc(Some(t)) => {
            let era = copy_date(out, t.date_naive());
            copy_time(out, t.time());
            out.extend_from_slice(era);
        }
        V::String(None)
        | V::Uuid(None)
        | V::BigInt(None)
        | V::Int(None)
        | V::Double(None)
        | V::Bool(None)
        | V::ChronoDate(None)
        | V::ChronoDateTimeUtc(None) => out.extend_from_slice(b"\\N"),
        other => {
            return Err(sqlx::Error::InvalidArgument(format!("COPY does not carry {other:?}")));
        }
    }
    Ok(())
}

fn copy_text(out: &mut Vec<u8>, text: &str) -> Result<(), sqlx::Error> {
    let bytes = text.as_bytes();
    if !bytes.iter().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0)) {
        out.extend_from_slice(bytes);
        return Ok(());
    }
    for &b in bytes {
        match b {
            0 => return Err(sqlx::Error::InvalidArgument(UNSTORABLE.into())),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    Ok(())
}

fn copy_float(out: &mut Vec<u8>, f: f64) {
    use std::io::Write as _;
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        let _ = write!(out, "{f}");
    }
}

/// A date as PostgreSQL reads it, years before 1 AD counted back; what goes after the whole
/// value (" BC" for those years).
fn copy_date(out: &mut Vec<u8>, d: NaiveDate) -> &'static [u8] {
    use chrono::Datelike as _;
    use std::io::Write as _;
    let (year, era): (i32, &[u8]) = match d.year() {
        y if y > 0 => (y, b""),
        y => (1 - y, b" BC"),
    };
    let _ = write!(out, "{year:04}-{:02}-{:02}", d.month(), d.day());
    era
}

/// ` HH:MM:SS.ffffff+00`, written by hand: chrono's `format` parses its pattern for every
/// value, and an import's batch writes four times a row (2% of the importer's time).
fn copy_time(out: &mut Vec<u8>, t: chrono::NaiveTime) {
    use chrono::Timelike as _;
    fn two(out: &mut Vec<u8>, n: u32) {
        out.extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
    }
    out.push(b' ');
    two(out, t.hour());
    out.push(b':');
    two(out, t.minute());
    out.push(b':');
    // A leap second is kept as chrono shows it, with 60 seconds.
    let leap = t.nanosecond() >= 1_000_000_000;
    two(out, t.second() + u32::from(leap));
    out.push(b'.');
    let micros = (t.nanosecond() % 1_000_000_000) / 1_000;
    for div in [100_000, 10_000, 1_000, 100, 10, 1] {
        out.push(b'0' + (micros / div % 10) as u8);
    }
    out.extend_from_slice(b"+00");
}

/// Quote an identifier. Identifiers come from validated metadata (a–z, 0–9, _), so quoting is
/// belt and braces; a quote inside is still doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool, WriteLock),
    Postgres(PgPool),
}

/// SQLite lets one connection write at a time; the others, told the database is busy, sleep and
/// try again (1, 2, 5 … 100 ms), and an unlucky writer loses every round: under eight writers
/// that made a create's p99 half a second. Writers of one process queue here instead, in
/// order, and meet SQLite's lock only when another process writes too.
#[derive(Clone, Debug, Default)]
pub struct WriteLock {
    queue: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Turns taken so far: whether anything was written since one looked.
    turns: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bulk loads under way in this process: the upkeep leaves the full-text index unmerged
    /// while they last, as the indexes they dropped are built once at the end.
    bulk_loads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl WriteLock {
    async fn take(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.queue.clone().lock_owned().await
    }

    /// A turn for the store's own upkeep, which is not counted as a write (else the upkeep
    /// would find something written each time it looks, and never rest).
    pub(crate) async fn take_for_upkeep(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.queue.clone().lock_owned().await
    }

    pub fn writes(&self) -> u64 {
        self.turns.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn bulk_load_started(&self) {
        self.bulk_loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn bulk_load_ended(&self) {
        let _ = self.bulk_loads.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |n| n.checked_sub(1),
        );
    }

    pub(crate) fn bulk_loading(&self) -> bool {
        self.bulk_loads.load(std::sync::atomic::Ordering::Relaxed) > 0
    }
}

/// Run a block in one write transaction of a pool: the block names the transaction (`|tx|`),
/// may use `?`, and gives a `Result`; the transaction is committed when it gives `Ok` and rolled
/// back (dropped) when it fails, so a failed write leaves nothing behind. The one shape every
/// port's write takes.
macro_rules! in_write {
    ($pool:expr, |$tx:ident| $body:block) => {{
        let mut txn = $pool.begin_write().await.map_err($crate::db::db_error)?;
        let out: anchora_core::error::Result<_> = async {
            let $tx = &mut txn;
            $body
        }
        .await;
        let out = out?;
        txn.commit().await.map_err($crate::db::db_error)?;
        Ok(out)
    }};
}
pub(crate) use in_write;

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(..) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn exec(&self) -> Exec<'_> {
        match self {
            Pool::Sqlite(p, lock) => Exec::SqlitePool(p, Some(lock)),
            Pool::Postgres(p) => Exec::PgPool(p),
        }
    }

    /// For statements that only read, even through `execute` (`VACUUM INTO`): they do not
    /// wait for a turn to write.
    pub fn reader(&self) -> Exec<'_> {
        match self {
            Pool::Sqlite(p, _) => Exec::SqlitePool(p, None),
            Pool::Postgres(p) => Exec::PgPool(p),
        }
    }

    /// A write transaction. SQLite takes its write lock up front (`BEGIN IMMEDIATE`), so a
    /// transaction that reads and then writes never fails half way with SQLITE_BUSY; before
    /// that, the writer waits its turn in this process's queue.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p, lock) => {
                let turn = lock.take().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p, _) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

pub enum Tx {
    /// The transaction, and this process's turn to write (given back when it ends).
    Sqlite(
        sqlx::Transaction<'static, sqlx::Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite(t, _) => Exec::Sqlite(t),
            Tx::Postgres(t) => Exec::Postgres(t),
        }
    }

    /// Run `statements` in order, building each while the one before runs: the database works
    /// on its own thread, so a bulk write's encoding (a third of the write, measured) is not added to it.
    pub async fn execute_overlapped(
        &mut self,
        mut statements: Box<dyn Iterator<Item = Sql> + Send + '_>,
    ) -> Result<(), sqlx::Error> {
        let mut next = statements.next();
        while let Some(sql) = next {
            let mut running = std::pin::pin!(self.exec().execute(sql));
            // The first poll hands the statement to the database's thread.
            let first = std::future::poll_fn(|cx| std::task::Poll::Ready(running.as_mut().poll(cx))).await;
            next = statements.next();
            match first {
                std::task::Poll::Ready(done) => done?,
                std::task::Poll::Pending => running.await?,
            };
        }
        Ok(())
    }

    /// Run a few statements of one write: on SQLite as one call (every call is a hop to the
    /// database's thread and back, which under eight writers cost more than the writing);
    /// on PostgreSQL in turn. The statements bind anonymous placeholders (`?`), as the builders
    /// write them for SQLite, so their values simply follow one another.
    pub async fn execute_together(&mut self, statements: Vec<Sql>) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(..) => {
                let mut text = String::new();
                let mut values = Vec::new();
                for s in statements {
                    if !text.is_empty() {
                        text.push_str(";\n");
                    }
                    text.push_str(&s.text);
                    values.extend(s.values);
                }
                if text.is_empty() {
                    return Ok(());
                }
                self.exec().execute(Sql { text, values }).await.map(|_| ())
            }
            Tx::Postgres(_) => {
                for s in statements {
                    self.exec().execute(s).await?;
                }
                Ok(())
            }
        }
    }

    /// PostgreSQL: put `rows` into `table` with one `COPY … FROM STDIN`, each row its
    /// `columns`' values in order. The rows are encoded while the database takes those sent
    /// before (a send returns once the socket has the bytes), and the server skips the parse,
    /// bind and per-statement work of multi-row INSERTs. A value COPY cannot carry (a NUL in
    /// text) fails the write, as a refused INSERT would: callers roll the transaction back.
    pub async fn copy_in<R>(
        &mut self,
        table: &str,
        columns: &[impl AsRef<str>],
        rows: impl Iterator<Item = R> + Send,
    ) -> Result<u64, sqlx::Error>
    where
        R: IntoIterator<Item = sea_query::Value>,
    {
        let Tx::Postgres(conn) = self else {
            return Err(sqlx::Error::InvalidArgument("COPY is PostgreSQL's".into()));
        };
        let columns: Vec<String> = columns.iter().map(|c| ident(c.as_ref())).collect();
        let statement = format!("COPY {} ({}) FROM STDIN", ident(table), columns.join(", "));
        let mut copy = conn.copy_in_raw(&statement).await?;
        let mut data = Vec::with_capacity(COPY_SEND_AT + 4096);
        for row in rows {
            if let Err(e) = copy_row(&mut data, row) {
                // Ended as a whole rather than aborted: whatever the server answers (it may
                // have failed on rows sent before), the connection reads it and stays in step;
                // the caller's transaction is never committed after an error, so nothing of
                // the rows stays.
                let _ = copy.finish().await;
                return Err(e);
            }
            if data.len() >= COPY_SEND_AT {
                copy.send(data.as_slice()).await?;
                data.clear();
            }
        }
        if !data.is_empty() {
            copy.send(data.as_slice()).await?;
        }
        copy.finish().await
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Where a statement runs: a pool or an open transaction.
pub enum Exec<'a> {
    /// The pool, and the queue a statement that writes waits in (`None`: it only reads).
    SqlitePool(&'a SqlitePool, Option<&'a WriteLock>),
    PgPool(&'a PgPool),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Text neither database can be given: PostgreSQL's text cannot hold NUL, so no statement
/// binds one on either side. The use cases refuse such values naming their field; this is the
/// last guard, so a path they missed answers 422 instead of a database error.
fn refuse_unstorable(values: &[sea_query::Value]) -> Result<(), sqlx::Error> {
    let bad = values
        .iter()
        .any(|v| matches!(v, sea_query::Value::String(Some(s)) if s.contains('\0')));
    if bad {
        return Err(sqlx::Error::InvalidArgument(UNSTORABLE.into()));
    }
    Ok(())
}

const UNSTORABLE: &str = "text must not contain NUL characters";

/// Whether SQLite keeps a statement of this text prepared on its connection. A compiled
/// statement stays in memory as long as it is cached (up to 100 per connection), and an import
/// batch's multi-row inserts compile to ~250 KB each: 54 MB of a 500,000-row import's peak,
/// measured, for statements whose text (its row count) seldom comes again. A create's few
/// statements are far shorter and are kept. PostgreSQL keeps them all: there a statement not
/// kept costs a round trip more each time.
fn sqlite_keeps(text: &str) -> bool {
    text.len() <= 8 * 1024
}

macro_rules! run {
    ($exec:expr, $sql:expr, $method:ident, $map:expr) => {{
        let Sql { text, values } = $sql;
        refuse_unstorable(&values)?;
        let keep = sqlite_keeps(&text);
        // The one place built SQL reaches sqlx: every value in it is bound, never spliced.
        let args = SqlxValues(Values(values));
        match $exec {
            Exec::SqlitePool(p, _) => sqlx::query_with(AssertSqlSafe(text), args)
                .persistent(keep)
                .$method(p)
                .await
                .map(|r| $map(r, Row::Sqlite)),
            Exec::Sqlite(c) => sqlx::query_with(AssertSqlSafe(text), args)
                .persistent(keep)
                .$method(&mut *c)
                .await
                .map(|r| $map(r, Row::Sqlite)),
            Exec::PgPool(p) => sqlx::query_with(AssertSqlSafe(text), args)
                .$method(p)
                .await
                .map(|r| $map(r, Row::Postgres)),
            Exec::Postgres(c) => sqlx::query_with(AssertSqlSafe(text), args)
                .$method(&mut *c)
                .await
                .map(|r| $map(r, Row::Postgres)),
        }
    }};
}

impl Exec<'_> {
    pub async fn fetch_all(self, sql: Sql) -> Result<Vec<Row>, sqlx::Error> {
        run!(self, sql, fetch_all, |rows: Vec<_>, wrap| rows
            .into_iter()
            .map(wrap)
            .collect())
    }

    pub async fn fetch_optional(self, sql: Sql) -> Result<Option<Row>, sqlx::Error> {
        run!(self, sql, fetch_optional, |row: Option<_>, wrap| row.map(wrap))
    }

    pub async fn execute(self, sql: Sql) -> Result<u64, sqlx::Error> {
        let Sql { text, values } = sql;
        refuse_unstorable(&values)?;
        let keep = sqlite_keeps(&text);
        let args = SqlxValues(Values(values));
        match self {
            // A statement on its own that writes waits its turn like a transaction.
            Exec::SqlitePool(p, lock) => {
                let _turn = match lock {
                    Some(lock) => Some(lock.take().await),
                    None => None,
                };
                sqlx::query_with(AssertSqlSafe(text), args)
                    .persistent(keep)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
            }
            Exec::Sqlite(c) => sqlx::query_with(AssertSqlSafe(text), args)
                .persistent(keep)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()),
            Exec::PgPool(p) => sqlx::query_with(AssertSqlSafe(text), args)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            Exec::Postgres(c) => sqlx::query_with(AssertSqlSafe(text), args)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()),
        }
    }
}

/// A result row of either database, read by column index with the store's column conventions.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

type DecodeResult<T> = Result<T, sqlx::Error>;

impl Row {
    pub fn opt_string(&self, i: usize) -> DecodeResult<Option<String>> {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn string(&self, i: usize) -> DecodeResult<String> {
        self.opt_string(i)?.ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    pub fn bytes(&self, i: usize) -> DecodeResult<Vec<u8>> {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn opt_i64(&self, i: usize) -> DecodeResult<Option<i64>> {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn i64(&self, i: usize) -> DecodeResult<i64> {
        self.opt_i64(i)?.ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    pub fn opt_f64(&self, i: usize) -> DecodeResult<Option<f64>> {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn opt_bool(&self, i: usize) -> DecodeResult<Option<bool>> {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn bool(&self, i: usize) -> DecodeResult<bool> {
        self.opt_bool(i)?.ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    pub fn opt_uuid(&self, i: usize) -> DecodeResult<Option<Uuid>> {
        match self {
            Row::Sqlite(r) => r
                .try_get::<Option<String>, _>(i)?
                .map(|s| Uuid::try_parse(&s).map_err(|_| decode_error(i, "not a uuid")))
                .transpose(),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn uuid(&self, i: usize) -> DecodeResult<Uuid> {
        self.opt_uuid(i)?.ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    pub fn opt_datetime(&self, i: usize) -> DecodeResult<Option<DateTime<Utc>>> {
        match self {
            Row::Sqlite(r) => r
                .try_get::<Option<String>, _>(i)?
                .map(|s| parse_datetime(&s).ok_or_else(|| decode_error(i, "not a timestamp")))
                .transpose(),
            Row::Postgres(r) => r.try_get(i),
        }
    }

    pub fn datetime(&self, i: usize) -> DecodeResult<DateTime<Utc>> {
        self.opt_datetime(i)?.ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    pub fn opt_date(&self, i: usize) -> DecodeResult<Option<NaiveDate>> {
        match self {
            Row::Sqlite(r) => r
                .try_get::<Option<String>, _>(i)?
                .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| decode_error(i, "not a date")))
                .transpose(),
            Row::Postgres(r) => r.try_get(i),
        }
    }
}

/// A column whose stored text could not be read as what it holds (JSON, a state name …).
pub fn bad_column(column: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: e.to_string().into(),
    }
}

/// A count kept as BIGINT, read back.
pub fn count_at(r: &Row, i: usize) -> Result<u64, sqlx::Error> {
    u64::try_from(r.i64(i)?).map_err(|e| bad_column("count", e))
}

/// A count written as BIGINT (the largest when it would not fit).
pub fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn decode_error(index: usize, message: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: message.to_string().into(),
    }
}

/// Map a database error to the domain's error. Unique violations are told apart by kind (SQLite
/// names no constraint); everything else is internal and logged, never shown raw.
pub fn db_error(e: sqlx::Error) -> Error {
    if let sqlx::Error::InvalidArgument(message) = &e
        && message == UNSTORABLE
    {
        return Error::field("text", UNSTORABLE);
    }
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return Error::new(ErrorCode::AlreadyExists, "a record with this value exists already");
        }
        // PostgreSQL: a character its encoding cannot hold; a row or a table past its limits.
        match db.code().as_deref() {
            Some("22021" | "22P05") => return Error::field("text", UNSTORABLE),
            Some("54000") => {
                return Error::field(
                    "record",
                    "holds more data than one row can; leave some fields empty or archive fields",
                );
            }
            Some("54011") => return Error::field("name", "the table has as many columns as it can hold"),
            _ => {}
        }
        let busy = db
            .code()
            .is_some_and(|c| c == "5" || c == "6" || c == "40001" || c == "40P01");
        if busy {
            return Error::new(ErrorCode::Unavailable, "the database is busy; try again");
        }
    }
    if matches!(e, sqlx::Error::PoolTimedOut) {
        return Error::new(ErrorCode::Unavailable, "the database is busy; try again");
    }
    tracing::error!(error = %e, "database error");
    Error::internal("a database error occurred; it has been logged")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_rows_binds_every_value_in_row_order() {
        let values: Vec<sea_query::Value> = (1..=6).map(|n: i64| n.into()).collect();
        let sql = insert_rows(Backend::Postgres, "obj_person", &["a", "b\"c"], values.clone());
        assert_eq!(
            sql.text,
            "INSERT INTO \"obj_person\" (\"a\", \"b\"\"c\") VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
        assert_eq!(sql.values, values);
        let sql = insert_rows(Backend::Sqlite, "t", &["a", "b", "c"], values);
        assert_eq!(
            sql.text,
            "INSERT INTO \"t\" (\"a\", \"b\", \"c\") VALUES (?, ?, ?), (?, ?, ?)"
        );
    }

    #[test]
    fn copy_times_read_as_chrono_writes_them() {
        let times = [
            (0, 0, 0, 0),
            (9, 5, 7, 42),
            (23, 59, 59, 999_999_999),
            (23, 59, 59, 1_500_000_000),
        ];
        for (h, m, s, nano) in times {
            let t = chrono::NaiveTime::from_hms_nano_opt(h, m, s, nano).unwrap();
            let mut out = Vec::new();
            copy_time(&mut out, t);
            let expected = format!(" {}+00", t.format("%H:%M:%S%.6f"));
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{t:?}");
        }
    }

    #[test]
    fn copy_rows_escape_text_and_write_values_as_postgresql_reads_them() {
        use sea_query::Value as V;
        let at = chrono::NaiveDate::from_ymd_opt(-43, 3, 15)
            .unwrap()
            .and_hms_micro_opt(12, 0, 1, 5)
            .unwrap()
            .and_utc();
        let row = vec![
            V::String(Some("a\tb\\c\nd\re \\N".into())),
            V::String(None),
            V::Double(Some(0.1)),
            V::Double(Some(f64::NAN)),
            V::Double(Some(f64::NEG_INFINITY)),
            V::BigInt(Some(i64::MIN)),
            V::Bool(Some(false)),
            V::ChronoDate(chrono::NaiveDate::from_ymd_opt(10_000, 1, 2)),
            V::ChronoDateTimeUtc(Some(at)),
            V::Uuid(Some(Uuid::nil())),
        ];
        let mut out = Vec::new();
        copy_row(&mut out, row).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\\\\c\\nd\\re \\\\N\t\\N\t0.1\tNaN\t-Infinity\t-9223372036854775808\tf\t\
             10000-01-02\t0044-03-15 12:00:01.000005+00 BC\t00000000-0000-0000-0000-000000000000\n"
        );
        let mut out = Vec::new();
        assert!(copy_row(&mut out, [V::String(Some("nul \0".into()))]).is_err());
        assert!(copy_row(&mut out, [V::Json(None)]).is_err());
    }

    #[test]
    fn bulk_loads_are_counted_by_every_clone_of_the_lock() {
        let lock = WriteLock::default();
        let writer = lock.clone();
        assert!(!lock.bulk_loading());
        writer.bulk_load_started();
        writer.bulk_load_started();
        writer.bulk_load_ended();
        assert!(lock.bulk_loading(), "one of two loads still runs");
        writer.bulk_load_ended();
        assert!(!lock.bulk_loading());
        // An end without a start (a load the process did not start) never wraps around.
        writer.bulk_load_ended();
        writer.bulk_load_started();
        assert!(lock.bulk_loading());
    }
}
