//! Online backup and restore.
//!
//! SQLite: `VACUUM INTO` copies one consistent snapshot (a read transaction) into a new file
//! while other connections keep writing. PostgreSQL: `pg_dump`, which reads one snapshot too.
//! Both write to `FILE.partial` and rename, so a failed backup never leaves a file that looks
//! whole.

use crate::db::{Sql, db_error};
use crate::instance::DatabaseUrl;
use crate::sql_store::SqlStore;
use anchora_core::error::{Error, ErrorCode, Result};
use std::path::{Path, PathBuf};
use tokio::process::Command;

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

fn unavailable(detail: impl Into<String>) -> Error {
    Error::new(ErrorCode::Unavailable, detail)
}

fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn refuse_existing(to: &Path) -> Result<()> {
    if to.exists() {
        return Err(unavailable(format!(
            "{} exists already; choose a new file name",
            to.display()
        )));
    }
    Ok(())
}

/// Back up a SQLite workspace to `to` while it is in use. Returns the size in bytes.
pub async fn backup_sqlite(store: &SqlStore, to: &Path) -> Result<u64> {
    refuse_existing(to)?;
    let tmp = partial(to);
    let _ = std::fs::remove_file(&tmp);
    let target = tmp
        .to_str()
        .ok_or_else(|| unavailable("the backup path must be valid UTF-8"))?
        .to_string();
    store
        .pool()
        .exec()
        .execute(Sql::new("VACUUM INTO ?1", vec![target.into()]))
        .await
        .map_err(db_error)?;
    std::fs::rename(&tmp, to).map_err(|e| unavailable(format!("cannot write {}: {e}", to.display())))?;
    Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
}

/// Back up a PostgreSQL database (or one workspace's schema) with `pg_dump`'s custom format.
pub async fn backup_postgres(url: &str, schema: Option<&str>, to: &Path) -> Result<u64> {
    refuse_existing(to)?;
    let tmp = partial(to);
    let mut cmd = Command::new(pg_tool("pg_dump"));
    cmd.arg("--format=custom").arg("--no-owner").arg("--no-privileges");
    cmd.arg(format!("--schema={}", schema.unwrap_or("public")));
    cmd.arg(format!("--file={}", tmp.display()));
    cmd.arg(format!("--dbname={url}"));
    run(cmd, "pg_dump").await?;
    std::fs::rename(&tmp, to).map_err(|e| unavailable(format!("cannot write {}: {e}", to.display())))?;
    Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
}

fn pg_tool(name: &str) -> PathBuf {
    crate::testing::find_pg_bin(name).unwrap_or_else(|| PathBuf::from(name))
}

async fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().await.map_err(|e| {
        unavailable(format!(
            "{what} could not be started ({e}); install PostgreSQL's client tools"
        ))
    })?;
    if out.status.success() {
        Ok(())
    } else {
        // The tools' messages name objects and files, never passwords.
        Err(unavailable(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// What kind of backup a file holds, by its first bytes.
fn backup_kind(from: &Path) -> Result<DatabaseKind> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(from).map_err(|e| unavailable(format!("cannot read {}: {e}", from.display())))?;
    let n = f.read(&mut head).map_err(|e| unavailable(e.to_string()))?;
    let head = head.get(..n).unwrap_or(&[]);
    if head.starts_with(SQLITE_MAGIC) {
        Ok(DatabaseKind::Sqlite)
    } else if head.starts_with(PG_DUMP_MAGIC) {
        Ok(DatabaseKind::Postgres)
    } else {
        Err(unavailable(format!(
            "{} is not an Anchora backup (neither a SQLite database nor a pg_dump archive)",
            from.display()
        )))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// Restore a backup into the database `url` names, which must be empty (or `force`).
pub async fn restore(from: &Path, url: &DatabaseUrl, force: bool) -> Result<()> {
    match (backup_kind(from)?, url) {
        (DatabaseKind::Sqlite, DatabaseUrl::Sqlite(path)) => restore_sqlite(from, path, force).await,
        (DatabaseKind::Postgres, DatabaseUrl::Postgres(u)) => restore_postgres(from, u, force).await,
        (DatabaseKind::Sqlite, DatabaseUrl::Postgres(_)) => {
            Err(unavailable("this is a SQLite backup; restore it to a sqlite:// URL"))
        }
        (DatabaseKind::Postgres, DatabaseUrl::Sqlite(_)) => Err(unavailable(
            "this is a PostgreSQL backup; restore it to a postgres:// URL",
        )),
    }
}

async fn restore_sqlite(from: &Path, to: &Path, force: bool) -> Result<()> {
    if to.exists() && !force {
        return Err(unavailable(format!(
            "{} exists; pass --force to replace it",
            to.display()
        )));
    }
    // Check the copy before it replaces anything.
    let tmp = partial(to);
    std::fs::copy(from, &tmp).map_err(|e| unavailable(format!("cannot write {}: {e}", tmp.display())))?;
    let check = async {
        let store = SqlStore::open_sqlite(&tmp).await?;
        let row = store
            .pool()
            .exec()
            .fetch_optional(Sql::plain("PRAGMA integrity_check"))
            .await
            .map_err(db_error)?;
        store.close().await;
        let verdict = row.map(|r| r.string(0)).transpose().map_err(db_error)?;
        match verdict.as_deref() {
            Some("ok") => Ok(()),
            other => Err(unavailable(format!(
                "the backup failed its integrity check: {}",
                other.unwrap_or("no answer")
            ))),
        }
    };
    if let Err(e) = check.await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = tmp.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
        let mut side = to.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&tmp, to).map_err(|e| unavailable(format!("cannot write {}: {e}", to.display())))
}

async fn restore_postgres(from: &Path, url: &str, force: bool) -> Result<()> {
    let store = SqlStore::open_postgres(url, None).await?;
    let has_data = store
        .pool()
        .exec()
        .fetch_optional(Sql::plain(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'schema_migrations'",
        ))
        .await
        .map_err(db_error)?
        .is_some();
    store.close().await;
    if has_data && !force {
        return Err(unavailable(
            "the target database holds an Anchora workspace already; pass --force to replace it",
        ));
    }
    // The archive creates its schemas; the target's empty (or, with force, replaced) ones go.
    let schemas = archive_schemas(from).await?;
    let store = SqlStore::open_postgres(url, None).await?;
    for schema in &schemas {
        store
            .pool()
            .exec()
            .execute(Sql::plain(format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                crate::db::ident(schema)
            )))
            .await
            .map_err(db_error)?;
    }
    store.close().await;
    let mut cmd = Command::new(pg_tool("pg_restore"));
    cmd.arg("--no-owner")
        .arg("--no-privileges")
        .arg("--exit-on-error")
        .arg("--single-transaction");
    cmd.arg(format!("--dbname={url}")).arg(from);
    run(cmd, "pg_restore").await
}

/// The schemas a pg_dump archive creates (from its table of contents).
async fn archive_schemas(from: &Path) -> Result<Vec<String>> {
    let out = Command::new(pg_tool("pg_restore"))
        .arg("--list")
        .arg(from)
        .output()
        .await
        .map_err(|e| unavailable(format!("pg_restore could not be started ({e})")))?;
    if !out.status.success() {
        return Err(unavailable(format!(
            "pg_restore cannot read the archive: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // Entries look like: "3; 2615 2200 SCHEMA - public postgres".
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| l.split_once(" SCHEMA - ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|s| *s == "public" || s.starts_with("ws_"))
        .map(str::to_string)
        .collect())
}
