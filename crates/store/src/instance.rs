//! An installation: its database URL and its workspaces. The main workspace lives in the
//! database the URL names (and keeps the registry of the others); each other workspace is its
//! own SQLite file beside it, or its own PostgreSQL schema.

use crate::db::{Pool, Sql, db_error};
use crate::sql_store::{PoolStats, SqlStore};
use anchora_core::error::{Error, ErrorCode, Result};
use anchora_core::workspace::{DEFAULT_WORKSPACE, valid_workspace_name};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() || path == ":memory:" {
                return Err(Error::new(
                    ErrorCode::Unavailable,
                    "give the SQLite database a file path: sqlite://PATH",
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(Error::new(
            ErrorCode::Unavailable,
            "the database URL must start with sqlite:// or postgres://",
        ))
    }

    /// The URL with any password masked, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    let creds = u.get(s + 3..at).unwrap_or("");
                    let user = creds.split(':').next().unwrap_or("");
                    format!(
                        "{}{}:***{}",
                        u.get(..s + 3).unwrap_or(""),
                        user,
                        u.get(at..).unwrap_or("")
                    )
                }
                _ => u.clone(),
            },
        }
    }
}

fn sqlite_workspace_path(main: &Path, name: &str) -> PathBuf {
    let stem = main.file_stem().and_then(|s| s.to_str()).unwrap_or("anchora");
    main.with_file_name(format!("{stem}.{name}.db"))
}

pub fn postgres_schema(name: &str) -> String {
    format!("ws_{}", name.replace('-', "_"))
}

/// Why an installation is not ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// The main database did not answer (in time).
    Unreachable,
    /// The main database's newest applied migration (`None`: none) is not the newest this
    /// binary carries (`expected`): it was not migrated yet, or a newer Anchora migrated it.
    Schema { applied: Option<i64>, expected: i64 },
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::Unreachable => write!(f, "the database is not reachable"),
            NotReady::Schema {
                applied: None,
                expected,
            } => write!(
                f,
                "the database has no migrations applied; this server expects version {expected} (run `anchora migrate`)"
            ),
            NotReady::Schema {
                applied: Some(applied),
                expected,
            } if applied < expected => write!(
                f,
                "the database schema is at version {applied}; this server expects version {expected} (run `anchora migrate`)"
            ),
            NotReady::Schema {
                applied: Some(applied),
                expected,
            } => write!(
                f,
                "the database schema is at version {applied}, newer than this server's {expected}: a newer Anchora migrated it"
            ),
        }
    }
}

pub struct Instance {
    url: DatabaseUrl,
    main: Arc<SqlStore>,
    others: Mutex<HashMap<String, Arc<SqlStore>>>,
}

impl Instance {
    /// Open the installation and bring the main workspace's schema up to date.
    pub async fn open(url: &str, now: DateTime<Utc>) -> Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        let main = match &url {
            DatabaseUrl::Sqlite(path) => SqlStore::open_sqlite(path).await?,
            DatabaseUrl::Postgres(u) => SqlStore::open_postgres(u, None).await?,
        };
        main.migrate(now).await?;
        Ok(Self {
            url,
            main: Arc::new(main),
            others: Mutex::new(HashMap::new()),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn main(&self) -> Arc<SqlStore> {
        self.main.clone()
    }

    /// A workspace's store, if it exists. Opened (and migrated) on first use.
    pub async fn workspace(&self, name: &str, now: DateTime<Utc>) -> Result<Option<Arc<SqlStore>>> {
        if name == DEFAULT_WORKSPACE {
            return Ok(Some(self.main.clone()));
        }
        if !valid_workspace_name(name) {
            return Ok(None);
        }
        let mut open = self.others.lock().await;
        if let Some(s) = open.get(name) {
            return Ok(Some(s.clone()));
        }
        if !self.registered(name).await? {
            return Ok(None);
        }
        let store = Arc::new(self.open_workspace(name).await?);
        store.migrate(now).await?;
        open.insert(name.to_string(), store.clone());
        Ok(Some(store))
    }

    async fn registered(&self, name: &str) -> Result<bool> {
        let backend = self.main.pool().backend();
        let row = self
            .main
            .pool()
            .exec()
            .fetch_optional(Sql::new(
                format!("SELECT 1 FROM workspaces WHERE name = {}", backend.param(1)),
                vec![name.into()],
            ))
            .await
            .map_err(db_error)?;
        Ok(row.is_some())
    }

    async fn open_workspace(&self, name: &str) -> Result<SqlStore> {
        match &self.url {
            DatabaseUrl::Sqlite(main) => SqlStore::open_sqlite(&sqlite_workspace_path(main, name)).await,
            DatabaseUrl::Postgres(u) => SqlStore::open_postgres(u, Some(&postgres_schema(name))).await,
        }
    }

    /// Create a workspace: its file or schema, its tables, its registry row.
    pub async fn add_workspace(&self, name: &str, now: DateTime<Utc>) -> Result<Arc<SqlStore>> {
        if !valid_workspace_name(name) || name == DEFAULT_WORKSPACE {
            return Err(Error::field(
                "name",
                "must be 1–32 characters a–z, 0–9 and -, starting with a letter, and not \"main\"",
            ));
        }
        if self.registered(name).await? {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("a workspace named {name:?} exists already"),
            ));
        }
        if let (DatabaseUrl::Postgres(_), Pool::Postgres(_)) = (&self.url, self.main.pool()) {
            let schema = postgres_schema(name);
            self.main
                .pool()
                .exec()
                .execute(Sql::plain(format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    crate::db::ident(&schema)
                )))
                .await
                .map_err(db_error)?;
        }
        let store = Arc::new(self.open_workspace(name).await?);
        store.migrate(now).await?;
        let backend = self.main.pool().backend();
        self.main
            .pool()
            .exec()
            .execute(Sql::new(
                format!(
                    "INSERT INTO workspaces (name, created_at) VALUES ({}, {})",
                    backend.param(1),
                    backend.param(2)
                ),
                vec![name.into(), backend.datetime(Some(now))],
            ))
            .await
            .map_err(db_error)?;
        self.others.lock().await.insert(name.to_string(), store.clone());
        Ok(store)
    }

    pub async fn workspace_names(&self) -> Result<Vec<String>> {
        let rows = self
            .main
            .pool()
            .exec()
            .fetch_all(Sql::plain("SELECT name FROM workspaces ORDER BY name"))
            .await
            .map_err(db_error)?;
        let mut names = vec![DEFAULT_WORKSPACE.to_string()];
        for r in rows {
            names.push(r.string(0).map_err(db_error)?);
        }
        Ok(names)
    }

    /// Whether this process can serve: the main database answers a trivial query within
    /// `within`, and its newest applied migration is the newest this binary carries. The
    /// schema version when it is ready. Why not is logged; the answer holds no secret.
    pub async fn ready(&self, within: std::time::Duration) -> std::result::Result<i64, NotReady> {
        let checked = tokio::time::timeout(within, async {
            self.main.ping().await.map_err(|e| {
                tracing::warn!(error = %e, "readiness: the database did not answer");
                NotReady::Unreachable
            })?;
            self.main.schema_version().await.map_err(|e| {
                tracing::warn!(error = %e.detail, "readiness: the schema version could not be read");
                NotReady::Unreachable
            })
        })
        .await
        .map_err(|_| {
            tracing::warn!(
                seconds = within.as_secs_f64(),
                "readiness: the database did not answer in time"
            );
            NotReady::Unreachable
        })??;
        let expected = crate::sql_store::latest_migration();
        match checked {
            Some(applied) if applied == expected => Ok(applied),
            applied => Err(NotReady::Schema { applied, expected }),
        }
    }

    /// The pools of the workspaces open in this process, main first, by workspace name.
    pub async fn pool_stats(&self) -> Vec<(String, PoolStats)> {
        let mut stats = vec![(DEFAULT_WORKSPACE.to_string(), self.main.pool_stats())];
        let mut others: Vec<(String, PoolStats)> = self
            .others
            .lock()
            .await
            .iter()
            .map(|(name, store)| (name.clone(), store.pool_stats()))
            .collect();
        others.sort_by(|a, b| a.0.cmp(&b.0));
        stats.extend(others);
        stats
    }

    pub async fn close(&self) {
        for s in self.others.lock().await.values() {
            s.close().await;
        }
        self.main.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_passwords_are_masked() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/a.db").unwrap(),
            DatabaseUrl::Sqlite("data/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/a.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.db".into())
        );
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        let pg = DatabaseUrl::parse("postgres://crm:s3cret@db:5432/crm").unwrap();
        assert_eq!(pg.redacted(), "postgres://crm:***@db:5432/crm");
        assert_eq!(
            sqlite_workspace_path(Path::new("/d/anchora.db"), "acme"),
            PathBuf::from("/d/anchora.acme.db")
        );
    }
}
