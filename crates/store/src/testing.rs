//! Test support: a throwaway PostgreSQL cluster for the test suites of every crate.
//!
//! `ANCHORA_TEST_DATABASE_URL` names a server to use; otherwise the first test that asks starts
//! one with initdb + pg_ctl in a temporary directory on a free port (as the `postgres` user when
//! running as root), and a watchdog stops it when the test process ends. Each test then gets a
//! fresh database of its own. With `ANCHORA_REQUIRE_POSTGRES=1` (CI) a missing PostgreSQL fails
//! the tests instead of skipping them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// Declare each named async scenario `async fn name(h: H)` as two tests, `name::sqlite` and
/// `name::postgres`. The calling module provides `async fn sqlite() -> Option<H>` and
/// `async fn postgres() -> Option<H>` (the latter `None` only when PostgreSQL may be skipped).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(h) = super::sqlite().await {
                    super::$name(h).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(h) = super::postgres().await {
                    super::$name(h).await
                }
            }
        }
    )*};
}

/// The base URL of a PostgreSQL server for tests, or why there is none.
pub fn postgres_server() -> Result<String, String> {
    SERVER
        .get_or_init(|| match std::env::var("ANCHORA_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Ok(url),
            _ => start_cluster(),
        })
        .clone()
}

/// Whether PostgreSQL tests must run (CI) rather than be skipped when no server can be had.
pub fn postgres_required() -> bool {
    std::env::var("ANCHORA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A fresh, empty database on the test server; its URL. `None` (with a note on stderr) when no
/// server can be had and PostgreSQL is not required.
///
/// # Panics
/// When PostgreSQL is required and cannot be had, or the database cannot be created.
#[allow(clippy::panic)]
pub async fn fresh_postgres_database() -> Option<String> {
    let base = match postgres_server() {
        Ok(url) => url,
        Err(why) if !postgres_required() => {
            eprintln!("skipping a PostgreSQL test: {why}");
            return None;
        }
        Err(why) => {
            panic!("PostgreSQL is required (ANCHORA_REQUIRE_POSTGRES=1) but unavailable: {why}")
        }
    };
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let admin = base.clone();
    let mut conn = match <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await {
        Ok(c) => c,
        Err(e) => panic!("cannot connect to the test PostgreSQL at {admin}: {e}"),
    };
    let create = format!("CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut conn).await {
        panic!("cannot create a test database: {e}");
    }
    let _ = <sqlx::PgConnection as sqlx::Connection>::close(conn).await;
    Some(replace_database(&base, &name))
}

fn replace_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let head = match head.get(scheme_end..).and_then(|rest| rest.find('/')) {
        Some(slash) => head.get(..scheme_end + slash).unwrap_or(head).to_string(),
        None => head.to_string(),
    };
    match query {
        Some(q) => format!("{head}/{db}?{q}"),
        None => format!("{head}/{db}"),
    }
}

pub(crate) fn find_pg_bin(tool: &str) -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join(tool).exists() {
            return Some(dir.join(tool));
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(tool)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn as_postgres_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start_cluster() -> Result<String, String> {
    let initdb = find_pg_bin("initdb").ok_or("initdb not found (install Debian's postgresql)")?;
    let pg_ctl = find_pg_bin("pg_ctl").ok_or("pg_ctl not found")?;
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("anchora-pg-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if root {
        run(Command::new("chown").arg("postgres:postgres").arg(&dir), "chown")?;
    }
    let data = dir.join("data");
    run(
        as_postgres_user(root, &initdb).arg("-D").arg(&data).args([
            "-U",
            "anchora",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]),
        "initdb",
    )?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB",
        dir.display()
    );
    run(
        as_postgres_user(root, &pg_ctl)
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "start"]),
        "pg_ctl start",
    )?;
    // Stop the server and remove its files when this test process ends.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        runas = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(stop)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    Ok(format!("postgres://anchora@127.0.0.1:{port}/postgres"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            super::replace_database("postgres://a@h:1/postgres", "t1"),
            "postgres://a@h:1/t1"
        );
        assert_eq!(super::replace_database("postgres://a@h:1", "t1"), "postgres://a@h:1/t1");
        assert_eq!(
            super::replace_database("postgres://a@h:1/x?sslmode=disable", "t1"),
            "postgres://a@h:1/t1?sslmode=disable"
        );
    }
}
