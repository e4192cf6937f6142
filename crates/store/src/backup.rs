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
    // It only reads: writers go on beside it, without waiting for their turn behind it.
    store
        .pool()
        .reader()
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
    connect(&mut cmd, url);
    run(cmd, "pg_dump").await?;
    std::fs::rename(&tmp, to).map_err(|e| unavailable(format!("cannot write {}: {e}", to.display())))?;
    Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
}

/// Point a PostgreSQL tool at `url`, the password in its environment rather than on its
/// command line (where `ps` shows it to every local user).
fn connect(cmd: &mut Command, url: &str) {
    let (without, password) = split_password(url);
    cmd.arg(format!("--dbname={without}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret` decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let rest = url.get(scheme_end..).unwrap_or("");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or("");
    let Some((creds, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let Some((user, password)) = creds.split_once(':') else {
        return (url.to_string(), None);
    };
    let without = format!(
        "{}{user}@{host}{}",
        url.get(..scheme_end).unwrap_or(""),
        rest.get(authority_end..).unwrap_or("")
    );
    (without, Some(anchora_core::views::percent_decode(password)))
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
    // One transaction: the archive's objects are dropped (`--clean`) and recreated together, so
    // a restore that fails leaves the target as it was.
    let mut cmd = Command::new(pg_tool("pg_restore"));
    cmd.arg("--no-owner")
        .arg("--no-privileges")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--clean")
        .arg("--if-exists");
    connect(&mut cmd, url);
    cmd.arg(from);
    run(cmd, "pg_restore").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://anna:s%40cr%3At@db.example:5432/crm?sslmode=require"),
            (
                "postgres://anna@db.example:5432/crm?sslmode=require".to_string(),
                Some("s@cr:t".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://anna@localhost/crm"),
            ("postgres://anna@localhost/crm".to_string(), None)
        );
        assert_eq!(split_password("nonsense"), ("nonsense".to_string(), None));
    }
}
