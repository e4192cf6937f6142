//! The binary, run as a user would: help texts, migrate, workspaces, tokens, demo and serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn anchora(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchora"))
        .args(args)
        .env_remove("ANCHORA_DATABASE_URL")
        .env_remove("ANCHORA_LISTEN")
        .env("ANCHORA_LOG", "warn")
        .output()
        .unwrap()
}

/// Run with `input` on standard input (passwords).
fn ok_with_input(args: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anchora"))
        .args(args)
        .env_remove("ANCHORA_DATABASE_URL")
        .env("ANCHORA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "anchora {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = anchora(args);
    assert!(
        out.status.success(),
        "anchora {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap().trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str], port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_anchora"))
        .args(args)
        .env("ANCHORA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A plain HTTP/1.1 GET; returns the status and body.
fn http_get(port: u16, path: &str, token: &str) -> (u16, String) {
    http(port, "GET", path, token, "")
}

fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["demo", "--help"],
        &["migrate", "--help"],
        &["workspace", "--help"],
        &["workspace", "add", "--help"],
        &["token", "--help"],
        &["token", "create", "--help"],
        &["user", "add", "--help"],
        &["backup", "--help"],
        &["restore", "--help"],
        &["import", "--help"],
        &["export", "--help"],
    ] {
        let out = ok(args);
        assert!(out.contains("Usage:"), "{args:?}");
    }
    let out = anchora(&[
        "token",
        "create",
        "--user",
        "x@example.com",
        "--scope",
        "emperor",
        "--data-dir",
        "/nonexistent/anchora-test",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scope"));
    let out = anchora(&["serve", "--database-url", "mysql://nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite:// or postgres://"));
}

fn admin_commands(url: &str) {
    ok(&["migrate", "--database-url", url]);
    ok(&["migrate", "--database-url", url]);
    ok(&["workspace", "add", "nordic-sales", "--database-url", url]);
    let dup = anchora(&["workspace", "add", "nordic-sales", "--database-url", url]);
    assert!(!dup.status.success());
    let list = ok(&["workspace", "list", "--database-url", url]);
    assert_eq!(list.lines().collect::<Vec<_>>(), ["main", "nordic-sales"]);
    ok_with_input(
        &[
            "user",
            "add",
            "--email",
            "Ci@Example.com",
            "--role",
            "admin",
            "--database-url",
            url,
        ],
        "a long enough password\n",
    );
    let weak = anchora(&[
        "user",
        "add",
        "--email",
        "w@example.com",
        "--role",
        "user",
        "--no-password",
        "--locale",
        "fr",
        "--database-url",
        url,
    ]);
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("--locale"));
    let out = ok(&[
        "token",
        "create",
        "--user",
        "ci@example.com",
        "--scope",
        "admin",
        "--expires",
        "30",
        "--database-url",
        url,
    ]);
    let token = last_line(&out);
    assert!(token.starts_with("anc_main_"), "{out}");
    ok_with_input(
        &[
            "user",
            "add",
            "--email",
            "reader@example.com",
            "--role",
            "user",
            "--team",
            "Nord",
            "--workspace",
            "nordic-sales",
            "--database-url",
            url,
        ],
        "another long password\n",
    );
    let out = ok(&[
        "token",
        "create",
        "--user",
        "reader@example.com",
        "--scope",
        "read",
        "--workspace",
        "nordic-sales",
        "--database-url",
        url,
    ]);
    let nordic = last_line(&out);
    assert!(nordic.starts_with("anc_nordic-sales_"));
    let users = ok(&["user", "list", "--workspace", "nordic-sales", "--database-url", url]);
    assert!(users.contains("reader@example.com\tuser\tactive"), "{users}");
    // Only the hash is stored.
    if let Some(path) = url.strip_prefix("sqlite://") {
        let bytes = std::fs::read(path).unwrap();
        let needle = token.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the token text is in the database file"
        );
    }
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = serve(&["serve", "--database-url", url, "--listen", &listen], port);
    let (status, body) = http_get(port, "/api/v1/objects", &token);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"person\""));
    let (status, _) = http_get(port, "/api/v1/records/person", &nordic);
    assert_eq!(status, 200);
    // A read-scoped token cannot write, whatever its user's role.
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/records/person",
        &nordic,
        r#"{"last_name": "Berg"}"#,
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("scope"), "{body}");
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/records/person",
        &token,
        r#"{"last_name": "Berg"}"#,
    );
    assert_eq!(status, 201, "{body}");
    // A backup taken while the server runs restores into a fresh database with the same data.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.anchora");
    let out = ok(&["backup", "--to", file.to_str().unwrap(), "--database-url", url]);
    assert!(out.contains("Backed up"), "{out}");
    let again = anchora(&["backup", "--to", file.to_str().unwrap(), "--database-url", url]);
    assert!(!again.status.success(), "an existing backup file is never overwritten");
    let target = if url.starts_with("sqlite") {
        format!("sqlite://{}", dir.path().join("restored.db").display())
    } else {
        restored_postgres_url(url)
    };
    ok(&["restore", "--from", file.to_str().unwrap(), "--database-url", &target]);
    let refused = anchora(&["restore", "--from", file.to_str().unwrap(), "--database-url", &target]);
    assert!(!refused.status.success(), "restoring over data needs --force");
    ok(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--database-url",
        &target,
        "--force",
    ]);
    let port2 = free_port();
    let listen2 = format!("127.0.0.1:{port2}");
    let _restored = serve(&["serve", "--database-url", &target, "--listen", &listen2], port2);
    let (status, body) = http_get(port2, "/api/v1/records/person", &token);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Berg"), "{body}");
    let (status, _) = http_get(
        port,
        "/api/v1/records/person",
        "anc_main_wrongwrongwrongwrongwrongwrongwrongwrong",
    );
    assert_eq!(status, 401);
}

/// A second database on the same test cluster, for restores.
fn restored_postgres_url(url: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    let name = format!("restored_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .unwrap();
    });
    format!("{head}/{name}")
}

#[test]
fn admin_commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    admin_commands(&format!("sqlite://{}", dir.path().join("a.db").display()));
}

#[tokio::test]
async fn admin_commands_on_postgres() {
    if let Some(url) = anchora_store::testing::fresh_postgres_database().await {
        tokio::task::spawn_blocking(move || admin_commands(&url)).await.unwrap();
    }
}

/// `anchora import` and `anchora export` as a script would use them: a summary line, the
/// rejected rows beside the file, the same file again changing nothing, and an export that
/// reads back.
fn import_and_export(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    ok_with_input(
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--role",
            "admin",
            "--database-url",
            url,
        ],
        "correct horse battery staple\n",
    );
    let file = dir.path().join("kunder.csv");
    let mut text = String::from("Kundnummer;Förnamn;Efternamn;E-post;Företag;Anställda\n");
    for i in 0..120 {
        let last = if i % 40 == 0 { String::new() } else { format!("Ek{i}") };
        text.push_str(&format!("K{i};Eva{i};{last};eva{i}@firma.se;Firma {} AB;{i}\n", i % 3));
    }
    std::fs::write(&file, text).unwrap();
    let file_arg = file.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "--object", "person", file_arg, "--database-url", url];
        args.extend_from_slice(extra);
        ok(&args)
    };
    assert_eq!(
        last_line(&import(&["--dry-run"])),
        "dry run: imported 117, updated 0, merged 0, rejected 3, warnings 0"
    );
    let rejected = dir.path().join("kunder.rejected.csv");
    assert!(rejected.exists());
    assert_eq!(
        last_line(&import(&[])),
        "imported 117, updated 0, merged 0, rejected 3, warnings 0"
    );
    let report = std::fs::read_to_string(&rejected).unwrap();
    assert!(report.starts_with("\u{feff}row,reason,Kundnummer"), "{report}");
    assert!(report.contains("\n2,last_name is required,K0,Eva0,"), "{report}");
    assert_eq!(
        last_line(&import(&[])),
        "imported 0, updated 0, merged 0, rejected 3, warnings 0"
    );
    // A HubSpot export whose owners are no users: every row kept, owned by the default owner,
    // the unknown owners listed once each, the warnings beside the file.
    let hubspot = dir.path().join("hubspot-contacts.csv");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/exports/hubspot-contacts.csv"
        ),
        &hubspot,
    )
    .unwrap();
    let out = anchora(&[
        "import",
        "--object",
        "person",
        hubspot.to_str().unwrap(),
        "--database-url",
        url,
        "--match-on",
        "email",
        "--map",
        "Contact owner=owner",
        "--default-owner",
        "ADMIN@example.com",
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(
        last_line(&stdout),
        "imported 35, updated 0, merged 0, rejected 1, warnings 28",
        "{stderr}"
    );
    assert!(stderr.contains("Mads Løkke (8 rows)"), "{stderr}");
    let warnings = std::fs::read_to_string(dir.path().join("hubspot-contacts.warnings.csv")).unwrap();
    assert_eq!(warnings.lines().count(), 29, "{warnings}");
    let out = anchora(&[
        "import",
        "--object",
        "person",
        hubspot.to_str().unwrap(),
        "--database-url",
        url,
        "--default-owner",
        "nobody@example.com",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("default_owner"));

    // A mapping that names a field that is not there fails before anything is written.
    let out = anchora(&[
        "import",
        "--object",
        "person",
        file_arg,
        "--database-url",
        url,
        "--map",
        "Anställda=shoe_size",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mapping.Anställda"));

    let csv = dir.path().join("out.csv");
    let filter = r#"{"field":"first_name","op":"starts_with","value":"Eva1"}"#;
    let out = ok(&[
        "export",
        "--object",
        "person",
        "--filter",
        filter,
        "--sort",
        "first_name",
        "--format",
        "csv",
        "--to",
        csv.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    assert!(out.starts_with("exported 31 rows"), "{out}");
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.contains(",Eva10,Ek10,eva10@firma.se,"), "{exported}");
    let xlsx = dir.path().join("out.xlsx");
    let out = ok(&[
        "export",
        "--object",
        "company",
        "--format",
        "xlsx",
        "--to",
        xlsx.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    // Three from the first file, twelve the HubSpot file named.
    assert!(out.starts_with("exported 15 rows"), "{out}");
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    let bad = anchora(&[
        "export",
        "--object",
        "person",
        "--format",
        "pdf",
        "--to",
        "x",
        "--database-url",
        url,
    ]);
    assert!(!bad.status.success());
}

#[test]
fn import_and_export_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    import_and_export(&format!("sqlite://{}", dir.path().join("a.db").display()));
}

#[tokio::test]
async fn import_and_export_on_postgres() {
    if let Some(url) = anchora_store::testing::fresh_postgres_database().await {
        tokio::task::spawn_blocking(move || import_and_export(&url))
            .await
            .unwrap();
    }
}

#[test]
fn demo_fills_reuses_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = ok(&["demo", "--people", "300", "--data-dir", data, "--no-serve"]);
    assert!(out.contains("admin@example.com"), "{out}");
    let token = last_line(&out).replace("API token: ", "");
    // Reusing the data directory keeps the data and the login.
    let again = ok(&["demo", "--people", "300", "--data-dir", data, "--no-serve"]);
    assert_eq!(last_line(&again).replace("API token: ", ""), token);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = serve(
        &["demo", "--people", "300", "--data-dir", data, "--listen", &listen],
        port,
    );
    let (status, body) = http_get(port, "/api/v1/records/person?limit=500", &token);
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["data"].as_array().unwrap().len(), 300);
    let (_, body) = http_get(port, "/api/v1/records/company?limit=500", &token);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let companies = json["data"].as_array().unwrap();
    assert_eq!(companies.len(), 30);
    let countries: std::collections::BTreeSet<&str> = companies.iter().filter_map(|c| c["country"].as_str()).collect();
    assert!(countries.len() >= 4, "{countries:?}");
    let (_, body) = http_get(port, "/api/v1/records/deal?limit=500", &token);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stages: std::collections::BTreeSet<&str> = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["stage"].as_str())
        .collect();
    assert!(stages.len() >= 5, "deals spread over stages: {stages:?}");
    // Activities spread over the last 18 months.
    let at = |sort: &str| {
        let (_, body) = http_get(port, &format!("/api/v1/records/activity?sort={sort}&limit=1"), &token);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        chrono::DateTime::parse_from_rfc3339(json["data"][0]["created_at"].as_str().unwrap()).unwrap()
    };
    let now = chrono::Utc::now();
    let (oldest, newest) = (at("created_at"), at("-created_at"));
    assert!((now - oldest.to_utc()).num_days() >= 500, "oldest activity {oldest}");
    assert!((now - newest.to_utc()).num_days() <= 3, "newest activity {newest}");
    demo_support_is_lived_in(port, &token);
}

/// The demo's support chain (issue 23): a stewardship plan with one team uncovered, five weeks
/// of questions in every state, answers in several languages, a backlog with a decided request,
/// and hypercare still running.
fn demo_support_is_lived_in(port: u16, token: &str) {
    let get = |path: &str| {
        let (status, body) = http_get(port, path, token);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let plan = get("/api/v1/stewardship/plan");
    assert!(plan["system_owner"].is_string(), "{plan}");
    assert!(plan["vendor_contacts"].as_array().unwrap().len() == 1, "{plan}");
    assert!(plan["key_users"].as_array().unwrap().len() >= 9, "{plan}");
    let gaps = plan["gaps"].as_array().unwrap();
    let uncovered: Vec<&str> = gaps
        .iter()
        .filter(|g| g["kind"] == "team_without_key_user")
        .filter_map(|g| g["subject"].as_str())
        .collect();
    assert_eq!(uncovered, ["New York"], "{gaps:?}");
    assert_eq!(gaps.len(), 1, "only the uncovered team: {gaps:?}");

    let questions = get("/api/v1/support/questions?limit=200");
    let questions = questions["data"].as_array().unwrap();
    assert!((40..=60).contains(&questions.len()), "{} questions", questions.len());
    let of = |key: &str| -> std::collections::BTreeSet<String> {
        questions
            .iter()
            .filter_map(|q| q[key].as_str().map(String::from))
            .collect()
    };
    for status in [
        "new",
        "open",
        "waiting_on_requester",
        "waiting_on_vendor",
        "resolved",
        "closed",
    ] {
        assert!(
            of("status").contains(status),
            "no {status} question: {:?}",
            of("status")
        );
    }
    assert_eq!(of("level").len(), 3, "{:?}", of("level"));
    assert!(of("team").len() >= 8, "questions from most teams");
    assert!(
        questions.iter().any(|q| q["vendor"]["reference"] == "CRMP-4502"),
        "a question with the vendor's reference"
    );
    let figures = get("/api/v1/support/figures?weeks=8");
    assert!(figures["breaches"].as_u64().unwrap() >= 1, "{figures}");
    // The same figures on the shared Support dashboard, for the quarter.
    let boards = get("/api/v1/dashboards");
    let support = boards["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Support")
        .unwrap_or_else(|| panic!("a Support dashboard: {boards}"));
    let run = get(&format!(
        "/api/v1/dashboards/{}/view?period=this_quarter",
        support["id"].as_str().unwrap()
    ));
    let widgets = run["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 6, "{run}");
    assert!(widgets.iter().all(|w| w["kind"] == "support"), "{run}");
    let asked = widgets.iter().find(|w| w["figure"] == "asked").unwrap();
    assert!(
        asked["figures"]["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["opened"].as_u64().unwrap())
            .sum::<u64>()
            >= 40,
        "{asked}"
    );
    let categories = widgets.iter().find(|w| w["figure"] == "categories").unwrap();
    assert!(
        !categories["figures"]["categories"].as_array().unwrap().is_empty(),
        "{categories}"
    );

    let answers = get("/api/v1/stewardship/answers");
    let answers = answers["data"].as_array().unwrap();
    let published: Vec<&serde_json::Value> = answers.iter().filter(|a| a["published"] == true).collect();
    assert!(published.len() >= 5, "{answers:?}");
    let languages: std::collections::BTreeSet<&str> = published.iter().filter_map(|a| a["language"].as_str()).collect();
    assert!(languages.len() >= 4, "{languages:?}");
    assert!(published.iter().any(|a| a["source_question"].is_string()));

    let backlog = get("/api/v1/stewardship/requests");
    let requests = backlog["requests"].as_array().unwrap();
    assert!(requests.len() >= 3, "{backlog}");
    assert!(requests.iter().any(|r| r["votes"].as_u64().unwrap() >= 2));
    assert!(
        requests.iter().any(|r| r["status"] == "done"
            && r["decided_by"].is_string()
            && !r["links"].as_array().unwrap().is_empty()),
        "{backlog}"
    );

    let hypercare = get("/api/v1/support/hypercare");
    assert_eq!(hypercare["running"], true, "{hypercare}");
    assert!(hypercare["total"]["raised"].as_u64().unwrap() >= 40, "{hypercare}");
    assert!(hypercare["total"]["open"].as_u64().unwrap() >= 4, "{hypercare}");
    assert!(hypercare["total"]["breaches"].as_u64().unwrap() >= 2, "{hypercare}");
}

/// `anchora serve` on a database, with short job leases, for the two-process test.
fn serve_on(url: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_anchora"))
        .args(["serve", "--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("ANCHORA_LOG", "warn")
        .env("ANCHORA_JOB_LEASE_SECONDS", "2")
        .env("ANCHORA_WORKERS", "4")
        .env(
            "ANCHORA_DATA_DIR",
            std::env::temp_dir().join(format!("anchora-two-{port}")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// DESIGN.md promises that several servers share one PostgreSQL: two real `anchora serve`
/// processes — a field added on one is used on the other at once, a session from one is valid
/// on the other, 1,000 queued jobs run each exactly once with both running workers, and a job
/// whose process is killed is taken over by the other after its lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_postgres() {
    use anchora_core::jobs::{JobKind, JobState, NewJob};
    use anchora_core::store::JobStore;
    let Some(url) = anchora_store::testing::fresh_postgres_database().await else {
        return;
    };
    let setup = url.clone();
    let token = tokio::task::spawn_blocking(move || {
        ok(&["migrate", "--database-url", &setup]);
        ok_with_input(
            &[
                "user",
                "add",
                "--email",
                "ops@example.com",
                "--role",
                "admin",
                "--database-url",
                &setup,
            ],
            "a long enough password\n",
        );
        last_line(&ok(&[
            "token",
            "create",
            "--user",
            "ops@example.com",
            "--scope",
            "admin",
            "--database-url",
            &setup,
        ]))
    })
    .await
    .unwrap();
    let (pa, pb) = (free_port(), free_port());
    let mut a = serve_on(&url, pa);
    let b = serve_on(&url, pb);
    let (at_a, at_b) = (format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}"));
    let api = reqwest::Client::new();
    let bearer = format!("Bearer {token}");

    // A field added on A is used on B at once.
    let r = api
        .post(format!("{at_a}/api/v1/objects/person/fields"))
        .header("authorization", &bearer)
        .json(&serde_json::json!({"name": "shoe_size", "label": "Shoe size", "type": "number"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = api
        .post(format!("{at_b}/api/v1/records/person"))
        .header("authorization", &bearer)
        .json(&serde_json::json!({"last_name": "Núñez", "shoe_size": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // A session made on A is valid on B (cookies belong to the host, not the port, so the
    // browser sends A's session cookie to B).
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let page = browser
        .get(format!("{at_a}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = page[start..].split('"').next().unwrap().to_string();
    let signed_in = browser
        .post(format!("{at_a}/login"))
        .form(&[
            ("email", "ops@example.com"),
            ("password", "a long enough password"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success(), "{}", signed_in.status());
    let stranger = api.get(format!("{at_b}/api/v1/me")).send().await.unwrap();
    assert_eq!(stranger.status(), 401);
    let me_on_b = browser.get(format!("{at_b}/api/v1/me")).send().await.unwrap();
    assert_eq!(me_on_b.status(), 200);
    let me: serde_json::Value = me_on_b.json().await.unwrap();
    assert_eq!(me["email"], "ops@example.com", "{me}");

    // 1,000 jobs queued at once, run by both servers' workers: each exactly once.
    let store = anchora_store::SqlStore::open_postgres(&url, None).await.unwrap();
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let job = NewJob::now(JobKind::Noop, serde_json::json!({}), None, now);
        store.enqueue_job(&job).await.unwrap();
        ids.push(job.id);
    }
    let mut left = ids.len();
    while left > 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "{left} jobs never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = 0;
        for id in &ids {
            let job = store.job(*id).await.unwrap().unwrap();
            if !job.state.finished() {
                left += 1;
            }
        }
    }
    let ran = started.elapsed();
    let (a_pid, b_pid) = (a.0.id(), b.0.id());
    let (mut on_a, mut on_b) = (0, 0);
    for id in &ids {
        let job = store.job(*id).await.unwrap().unwrap();
        // One claim each (a second claim would count a second attempt).
        assert_eq!((job.state, job.attempts), (JobState::Succeeded, 1), "{job:?}");
        let owner = job.lease_owner.unwrap_or_default();
        if owner.contains(&format!("-pid{a_pid}-")) {
            on_a += 1;
        } else if owner.contains(&format!("-pid{b_pid}-")) {
            on_b += 1;
        }
    }
    assert_eq!(on_a + on_b, 1000);
    assert!(on_a > 0 && on_b > 0, "both servers ran jobs: {on_a} and {on_b}");
    eprintln!("two servers ran 1,000 queued jobs in {ran:?} ({on_a} on one, {on_b} on the other)");

    // A job whose server is killed mid-job is taken over by the other once its lease (2 s) ran out.
    let long = NewJob::now(
        JobKind::Noop,
        serde_json::json!({"wait_ms": 3000}),
        None,
        chrono::Utc::now(),
    );
    store.enqueue_job(&long).await.unwrap();
    let first = loop {
        let job = store.job(long.id).await.unwrap().unwrap();
        if let Some(owner) = job.lease_owner.clone() {
            break owner;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let holder_is_a = first.contains(&format!("-pid{a_pid}-"));
    assert!(holder_is_a || first.contains(&format!("-pid{b_pid}-")), "{first}");
    let survivor = if holder_is_a {
        a.0.kill().unwrap();
        a.0.wait().unwrap();
        b_pid
    } else {
        // Kill B by its pid; A stays (B's guard kills nothing more when dropped).
        Command::new("kill").args(["-9", &b_pid.to_string()]).status().unwrap();
        a_pid
    };
    let killed_at = Instant::now();
    let ended = loop {
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "the job was never taken over"
        );
        let job = store.job(long.id).await.unwrap().unwrap();
        if job.state.finished() {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ended.state, JobState::Succeeded, "{ended:?}");
    assert_eq!(ended.attempts, 2, "taken over once: {ended:?}");
    let finisher = ended.lease_owner.clone().unwrap_or_default();
    assert!(
        finisher.contains(&format!("-pid{survivor}-")),
        "the other server finished it: {finisher}"
    );
    eprintln!(
        "a killed server's job was finished by pid {survivor} {:?} after the kill",
        killed_at.elapsed()
    );
    drop(b);
}

/// The test SMTP server of the web crate's tests (aiosmtpd answering as real servers do), with
/// a pause per message so a kill lands mid-mailing; `None` when aiosmtpd is missing (and CI
/// does not require it).
fn smtp_sink(dir: &std::path::Path, delay_ms: u32) -> Option<(Server, u16)> {
    let available = Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var("ANCHORA_REQUIRE_SMTP").is_err(),
            "ANCHORA_REQUIRE_SMTP is set but aiosmtpd is missing (apt install python3-aiosmtpd)"
        );
        eprintln!("note: skipping the mailing kill test: install python3-aiosmtpd to run it");
        return None;
    }
    let port = free_port();
    let child = Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../web/tests/support/smtp_sink.py"
        ))
        .arg(port.to_string())
        .arg(dir)
        .arg(delay_ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sink = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the SMTP sink did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((sink, port))
}

/// `anchora serve` sending through an SMTP server, with short job leases.
fn serve_mailing(url: &str, port: u16, smtp: u16, data: &std::path::Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_anchora"))
        .args(["serve", "--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("ANCHORA_LOG", "warn")
        .env("ANCHORA_JOB_LEASE_SECONDS", "2")
        .env("ANCHORA_SMTP_URL", format!("smtp://127.0.0.1:{smtp}"))
        .env("ANCHORA_MAIL_FROM", "Nyheter <news@example.se>")
        .env("ANCHORA_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// The messages the sink holds, by envelope recipient.
fn received_by_address(dir: &std::path::Path) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let to = text
            .lines()
            .find_map(|l| l.strip_prefix("X-Envelope-To: "))
            .unwrap()
            .trim()
            .to_string();
        *out.entry(to).or_insert(0) += 1;
    }
    out
}

/// A server killed (SIGKILL) in the middle of a mailing and started again: the mailing goes
/// on where it stopped. Nobody gets the message twice; whoever's exchange was cut off is
/// "uncertain" (and got it at most once); everyone else got it exactly once.
async fn killed_mid_mailing(url: &str) {
    const PEOPLE: usize = 240;
    let sink_dir = tempfile::tempdir().unwrap();
    let Some((_sink, smtp)) = smtp_sink(sink_dir.path(), 40) else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let setup = url.to_string();
    let token = tokio::task::spawn_blocking(move || {
        ok(&["migrate", "--database-url", &setup]);
        ok_with_input(
            &[
                "user",
                "add",
                "--email",
                "news@example.se",
                "--role",
                "admin",
                "--database-url",
                &setup,
            ],
            "a long enough password\n",
        );
        last_line(&ok(&[
            "token",
            "create",
            "--user",
            "news@example.se",
            "--scope",
            "admin",
            "--database-url",
            &setup,
        ]))
    })
    .await
    .unwrap();
    let port = free_port();
    let server = serve_mailing(url, port, smtp, data.path());
    let at = format!("http://127.0.0.1:{port}/api/v1");
    let api = reqwest::Client::new();
    let bearer = format!("Bearer {token}");
    let post = |path: String, body: serde_json::Value| {
        let api = api.clone();
        let bearer = bearer.clone();
        async move {
            let r = api
                .post(path)
                .header("authorization", bearer)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            assert!(status < 300, "{status}: {body}");
            body
        }
    };
    post(
        format!("{at}/consent-purposes"),
        serde_json::json!({"key": "newsletter", "name": "Nyhetsbrev"}),
    )
    .await;
    let names = ["Öberg", "Ærø", "Müller", "Núñez", "Lindqvist", "Søndergaard"];
    for i in 0..PEOPLE {
        let last = names[i % names.len()];
        let p = post(
            format!("{at}/records/person"),
            serde_json::json!({"first_name": format!("P{i}"), "last_name": last, "email": format!("p{i}@example.se"), "city": "Kiruna"}),
        )
        .await;
        let id = p["id"].as_str().unwrap().to_string();
        post(
            format!("{at}/records/person/{id}/consents"),
            serde_json::json!({"purpose": "newsletter", "state": "granted", "source": "import"}),
        )
        .await;
    }
    let selection = post(
        format!("{at}/selections"),
        serde_json::json!({"name": "Kiruna", "object": "person", "filter": {"field": "city", "op": "eq", "value": "Kiruna"}}),
    )
    .await;
    assert_eq!(selection["count"], PEOPLE as u64);
    let template = post(
        format!("{at}/templates"),
        serde_json::json!({"name": "Brev", "default_language": "sv", "variants": [
            {"language": "sv", "subject": "Hej {{ person.first_name }}", "html": "<p>Hej {{ person.last_name }}</p>", "text": "Hej {{ person.last_name }}"}]}),
    )
    .await;
    let mailing = post(
        format!("{at}/mailings"),
        serde_json::json!({"name": "Stort utskick", "selection": selection["id"], "template": template["id"], "purpose": "newsletter"}),
    )
    .await;
    let id = mailing["id"].as_str().unwrap().to_string();
    post(format!("{at}/mailings/{id}/start"), serde_json::json!({"version": 1})).await;
    // Killed once a good part has gone, and before all of it has.
    let started = Instant::now();
    loop {
        let got: usize = received_by_address(sink_dir.path()).values().sum();
        if got >= PEOPLE / 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the mailing did not start sending"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Command::new("kill")
        .args(["-9", &server.0.id().to_string()])
        .status()
        .unwrap();
    drop(server);
    let before: usize = received_by_address(sink_dir.path()).values().sum();
    assert!(before < PEOPLE, "the kill came after the end ({before})");
    // Started again: the job's lease runs out and the mailing goes on.
    let _again = serve_mailing(url, port, smtp, data.path());
    let started = Instant::now();
    let done = loop {
        let r = api
            .get(format!("{at}/mailings/{id}"))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        let m: serde_json::Value = r.json().await.unwrap();
        if m["state"] == "done" {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the mailing did not finish: {m}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let r = api
        .get(format!("{at}/mailings/{id}/recipients?limit=500"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    let page: serde_json::Value = r.json().await.unwrap();
    let rows = page["recipients"].as_array().unwrap();
    assert_eq!(rows.len(), PEOPLE);
    let got = received_by_address(sink_dir.path());
    let (mut sent, mut uncertain) = (0, 0);
    for r in rows {
        let email = r["email"].as_str().unwrap();
        let n = got.get(email).copied().unwrap_or(0);
        match r["status"].as_str().unwrap() {
            "sent" => {
                sent += 1;
                assert_eq!(n, 1, "{email} was sent {n} times");
            }
            "uncertain" => {
                uncertain += 1;
                assert!(n <= 1, "{email} (uncertain) was sent {n} times");
            }
            other => panic!("{email} ended {other}: {r}"),
        }
    }
    assert!(got.values().all(|n| *n == 1), "nobody twice: {got:?}");
    assert_eq!(sent + uncertain, PEOPLE, "{done}");
    assert!(uncertain <= 32, "at most one batch is cut off: {uncertain}");
    eprintln!("killed after {before} messages: {sent} sent exactly once, {uncertain} uncertain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailing_killed_midway_sends_nobody_twice_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("anchora.db").display());
    killed_mid_mailing(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailing_killed_midway_sends_nobody_twice_on_postgres() {
    let Some(url) = anchora_store::testing::fresh_postgres_database().await else {
        return;
    };
    killed_mid_mailing(&url).await;
}
