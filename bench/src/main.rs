//! Benchmarks for the core platform, on SQLite and PostgreSQL, one run, one machine:
//! data generation, filtered/sorted pages on a standard and a custom field (and their ratio to
//! the same SQL in the database's own shell), get by id, full-text search, HTTP GET by id under
//! wrk at concurrency 16, and the server's peak RSS. Prints a Markdown report.
//!
//! Usage: anchora-bench [--people N] [--backend sqlite|postgres|both] [--anchora PATH] [--dir DIR]
//!        [--reuse] [--projects-only] [--imports-only] [--dedupe-only]
//!        [--integrity-only [--baseline PATH]] [--jobs-only] [--mailings-only] [--reports-only]
//!        [--adoption-only] [--support-only]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use anchora_core::auth::{AccessPolicy, Credential, Principal, Role, Visibility};
use anchora_core::filter::Filter;
use anchora_core::query::{ListQuery, parse_sort};
use anchora_core::service::{Crm, ListParams};
use anchora_core::store::{RecordStore, SchemaStore, UserStore};
use anchora_core::{Clock, Store, SystemClock};
use anchora_store::db::Sql;
use anchora_store::{Backend, Instance, SqlStore};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod adoption;
mod dedupe;
mod imports;
mod integrity;
mod jobs;
mod mailings;
mod projects;
mod reports;
mod support;

struct Args {
    people: u64,
    backends: Vec<Backend>,
    anchora: PathBuf,
    dir: PathBuf,
    /// Keep a SQLite data set from an earlier run instead of generating it again.
    reuse: bool,
    /// Only the implementation-project benchmark (no million people needed).
    projects_only: bool,
    /// Only import and export (and the duplicate scan).
    imports_only: bool,
    /// Only the duplicate scan over the labelled set.
    dedupe_only: bool,
    /// Only issue 16's figures (writes, fields, uploads, memory), beside `baseline`.
    integrity_only: bool,
    /// Only the job queue's throughput and latency.
    jobs_only: bool,
    mailings_only: bool,
    reports_only: bool,
    adoption_only: bool,
    support_only: bool,
    /// The `anchora` binary of an earlier build, measured in the same run for comparison.
    baseline: Option<PathBuf>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        people: 1_000_000,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        anchora: PathBuf::from("target/release/anchora"),
        dir: std::env::temp_dir().join("anchora-bench"),
        reuse: false,
        projects_only: false,
        imports_only: false,
        dedupe_only: false,
        integrity_only: false,
        jobs_only: false,
        mailings_only: false,
        reports_only: false,
        adoption_only: false,
        support_only: false,
        baseline: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--reuse" {
            a.reuse = true;
            continue;
        }
        if flag == "--projects-only" {
            a.projects_only = true;
            continue;
        }
        if flag == "--imports-only" {
            a.imports_only = true;
            continue;
        }
        if flag == "--dedupe-only" {
            a.dedupe_only = true;
            continue;
        }
        if flag == "--integrity-only" {
            a.integrity_only = true;
            continue;
        }
        if flag == "--jobs-only" {
            a.jobs_only = true;
            continue;
        }
        if flag == "--mailings-only" {
            a.mailings_only = true;
            continue;
        }
        if flag == "--reports-only" {
            a.reports_only = true;
            continue;
        }
        if flag == "--support-only" {
            a.support_only = true;
            continue;
        }
        if flag == "--adoption-only" {
            a.adoption_only = true;
            continue;
        }
        let value = it.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--people" => a.people = value.parse()?,
            "--backend" => {
                a.backends = match value.as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "postgres" => vec![Backend::Postgres],
                    "both" => vec![Backend::Sqlite, Backend::Postgres],
                    _ => bail!("--backend sqlite|postgres|both"),
                }
            }
            "--anchora" => a.anchora = PathBuf::from(value),
            "--baseline" => a.baseline = Some(PathBuf::from(value)),
            "--dir" => a.dir = PathBuf::from(value),
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

#[derive(Default)]
pub struct Report {
    rows: Vec<(String, String, String)>,
}

impl Report {
    fn add(&mut self, what: &str, figure: String, target: &str) {
        eprintln!("  {what}: {figure}");
        self.rows.push((what.into(), figure, target.into()));
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// "p50 … · p95 …" of a set of timings.
pub fn p50_p95(samples: &mut [Duration]) -> String {
    format!(
        "p50 {} · p95 {}",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.95))
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident set (VmHWM) of a process, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Run a command to the end, sampling its peak RSS; returns (stdout, stderr, wall time, peak MiB).
fn run_measured(cmd: &mut Command) -> Result<(String, String, Duration, f64)> {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let pid = child.id();
    let peak = Arc::new(std::sync::Mutex::new(0f64));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(m) = peak_rss_mib(pid) {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(m);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let out = child.wait_with_output()?;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().ok();
    if !out.status.success() {
        bail!("{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
    }
    let peak = *peak.lock().unwrap();
    Ok((
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        started.elapsed(),
        peak,
    ))
}

pub async fn time_many<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..20 {
        f(i).await;
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

/// Mean time of one run of `sql` in the database's own shell: (time for N runs − time for 1) / (N − 1).
fn shell_mean(backend: Backend, target: &str, sql: &str, n: usize) -> Result<Duration> {
    let run = |k: usize| -> Result<Duration> {
        let script: String = std::iter::repeat_n(format!("{sql};\n"), k).collect();
        let mut cmd = match backend {
            Backend::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.arg(target);
                c
            }
            Backend::Postgres => {
                let mut c = Command::new("psql");
                c.args(["-X", "-q", "-d", target]);
                c
            }
        };
        let t = Instant::now();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(script.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() || !out.stderr.is_empty() {
            bail!("shell failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(t.elapsed())
    };
    run(1)?; // warm the page cache
    let one = (0..3)
        .map(|_| run(1))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .min()
        .unwrap_or_default();
    let many = (0..3)
        .map(|_| run(n))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .min()
        .unwrap_or_default();
    Ok(many.saturating_sub(one) / u32::try_from(n - 1).unwrap_or(1))
}

const CITIES: [&str; 12] = [
    "Malmö",
    "Stockholm",
    "Berlin",
    "München",
    "Aarhus",
    "Madrid",
    "London",
    "Göteborg",
    "København",
    "Bilbao",
    "Hamburg",
    "Lund",
];
const SURNAMES: [&str; 12] = [
    "Lindqvist",
    "Müller",
    "Jensen",
    "García",
    "Smith",
    "Andersson",
    "Schneider",
    "Sørensen",
    "Fernández",
    "Hughes",
    "Berg",
    "Parker",
];

async fn bench_backend(args: &Args, backend: Backend, report: &mut Report) -> Result<()> {
    let (url, shell_target) = match backend {
        Backend::Sqlite => {
            let dir = args.dir.join("sqlite");
            if !args.reuse {
                let _ = std::fs::remove_dir_all(&dir);
            }
            std::fs::create_dir_all(&dir)?;
            let file = dir.join("bench.db");
            (format!("sqlite://{}", file.display()), file.display().to_string())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            let url = fresh_pg(&base, "anchora_bench").await?;
            (url.clone(), url)
        }
    };
    let name = backend.name();
    let reusing = args.reuse && backend == Backend::Sqlite && args.dir.join("sqlite/bench.db").exists();
    if reusing {
        eprintln!("== {name}: reusing the data set of an earlier run");
        return measure(args, backend, &url, &shell_target, None, report).await;
    }
    eprintln!("== {name}: generating {} people", args.people);
    let (stdout, stderr, took, peak) = run_measured(
        Command::new(&args.anchora)
            .args(["generate", "--people", &args.people.to_string(), "--database-url", &url])
            .env("ANCHORA_LOG", "warn"),
    )?;
    let token = stdout
        .lines()
        .last()
        .context("generate printed no token")?
        .trim()
        .to_string();
    let people_line = stderr
        .lines()
        .find(|l| l.contains(" people (") && l.contains(&args.people.to_string()))
        .unwrap_or("")
        .to_string();
    report.add(
        &format!(
            "{name}: generate {} people + {} companies",
            args.people,
            args.people / 10
        ),
        people_line.trim_start_matches("demo: ").to_string(),
        "≤ 60 s (SQLite)",
    );
    report.add(
        &format!("{name}: generate everything (+ deals, activities)"),
        format!("{:.1} s, peak RSS {peak:.0} MiB", took.as_secs_f64()),
        "",
    );

    measure(args, backend, &url, &shell_target, Some(token), report).await
}

async fn measure(
    args: &Args,
    backend: Backend,
    url: &str,
    shell_target: &str,
    token: Option<String>,
    report: &mut Report,
) -> Result<()> {
    let clock = SystemClock;
    let name = backend.name();
    let token = match token {
        Some(t) => t,
        None => {
            let out = Command::new(&args.anchora)
                .args([
                    "token",
                    "create",
                    "--user",
                    "admin@example.com",
                    "--scope",
                    "read",
                    "--name",
                    "bench",
                    "--database-url",
                    url,
                ])
                .output()?;
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .context("no token")?
                .trim()
                .to_string()
        }
    };
    let instance = Arc::new(
        Instance::open(url, clock.now())
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?,
    );
    let store: Arc<SqlStore> = instance.main();
    let admin_user = store
        .user_by_email("admin@example.com")
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .context("no admin")?;
    let admin = Principal::new(admin_user.id, admin_user.role, None, Credential::Local);
    let crm = Crm::new(store.clone(), Arc::new(SystemClock));

    let has_score = store
        .schema()
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .object("person")
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .field("score")
        .is_some();
    if !has_score {
        let t = Instant::now();
        crm.add_field(
            &admin,
            "person",
            serde_json::json!({"name": "score", "label": "Score", "type": "number"}),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
        report.add(
            &format!(
                "{name}: add a filterable custom field to {} people (DDL + index)",
                args.people
            ),
            ms(t.elapsed()),
            "",
        );
        let fill = match backend {
            Backend::Sqlite => "UPDATE obj_person SET score = abs(random()) % 1000",
            Backend::Postgres => "UPDATE obj_person SET score = floor(random() * 1000)",
        };
        store.pool().exec().execute(Sql::plain(fill)).await?;
        if backend == Backend::Postgres {
            store.pool().exec().execute(Sql::plain("VACUUM ANALYZE")).await?;
        } else {
            store.pool().exec().execute(Sql::plain("ANALYZE")).await?;
        }
    }
    let list = |filter: serde_json::Value, sort: &'static str| {
        let crm = crm.clone();
        let admin = admin.clone();
        async move {
            let params = ListParams {
                filter: Some(filter.to_string()),
                sort: Some(sort.into()),
                limit: Some("50".into()),
                ..Default::default()
            };
            let (_, page) = crm.list(&admin, "person", &params).await.unwrap();
            assert!(!page.records.is_empty());
        }
    };
    let mut s = time_many(300, |i| {
        let from = SURNAMES[i % SURNAMES.len()].chars().take(3).collect::<String>();
        list(
            serde_json::json!({"field": "last_name", "op": "gte", "value": from}),
            "last_name",
        )
    })
    .await;
    report.add(
        &format!("{name}: page of 50, filter last_name ≥ X, sort last_name (standard field)"),
        p50_p95(&mut s),
        "p50 ≤ 5 ms",
    );
    let mut s = time_many(100, |i| {
        list(
            serde_json::json!({"field": "city", "op": "eq", "value": CITIES[i % CITIES.len()]}),
            "last_name",
        )
    })
    .await;
    report.add(
        &format!("{name}: page of 50, filter city = X, sort last_name (filter and sort on different fields)"),
        p50_p95(&mut s),
        "(no target; see notes)",
    );
    let mut s = time_many(300, |i| {
        list(
            serde_json::json!({"field": "score", "op": "gte", "value": (i * 37) % 900}),
            "score",
        )
    })
    .await;
    report.add(
        &format!("{name}: page of 50, filter score ≥ X, sort score (custom field)"),
        p50_p95(&mut s),
        "p50 ≤ 5 ms",
    );

    // The same fixed queries in-process and in the shell.
    let schema = store.schema().await.map_err(|e| anyhow::anyhow!(e.detail))?;
    let person = schema.object("person").map_err(|e| anyhow::anyhow!(e.detail))?.clone();
    for (label, filter, sort) in [
        (
            "standard",
            serde_json::json!({"field": "last_name", "op": "gte", "value": "Lin"}),
            "last_name",
        ),
        (
            "different-fields",
            serde_json::json!({"field": "city", "op": "eq", "value": "Malmö"}),
            "last_name",
        ),
        (
            "custom",
            serde_json::json!({"field": "score", "op": "gte", "value": 500}),
            "score",
        ),
    ] {
        let condition = Filter::parse(&filter).unwrap().resolve(&person, clock.now()).unwrap();
        let mut q = ListQuery::all();
        q.filter = Some(condition);
        q.sort = parse_sort(&person, sort).unwrap();
        let sql = store.list_sql(&person, &q);
        let mut ours = time_many(200, |_| list(filter.clone(), sort)).await;
        let mean_ours = ours.iter().sum::<Duration>() / u32::try_from(ours.len()).unwrap_or(1);
        let shell = shell_mean(backend, shell_target, &sql, 200)?;
        // The driver alone: the same SQL through sqlx, rows fetched, nothing decoded.
        let mut raw = time_many(200, |_| {
            let store = store.clone();
            let sql = sql.clone();
            async move {
                let rows = store.pool().exec().fetch_all(Sql::plain(sql)).await.unwrap();
                assert!(!rows.is_empty());
            }
        })
        .await;
        let mean_raw = raw.iter().sum::<Duration>() / u32::try_from(raw.len()).unwrap_or(1);
        report.add(
            &format!("{name}: {label} page, the same SQL through sqlx alone (no decoding)"),
            format!("mean {} (p50 {})", ms(mean_raw), ms(percentile(&mut raw, 0.5))),
            "",
        );
        let ratio = mean_ours.as_secs_f64() / shell.as_secs_f64().max(1e-9);
        report.add(
            &format!(
                "{name}: {label} page, Anchora vs the same SQL in the {} shell",
                if backend == Backend::Sqlite { "sqlite3" } else { "psql" }
            ),
            format!(
                "Anchora mean {} (p50 {}) · shell mean {} · ratio {ratio:.2}",
                ms(mean_ours),
                ms(percentile(&mut ours, 0.5)),
                ms(shell)
            ),
            "ratio ≤ 2 (SQLite)",
        );
    }

    visibility(&store, &crm, name, report).await?;
    ui_pages(&instance, &store, &crm, &admin, name, report).await?;

    let ids: Vec<String> = store
        .pool()
        .exec()
        .fetch_all(Sql::plain("SELECT id FROM obj_person ORDER BY random() LIMIT 1000"))
        .await?
        .iter()
        .map(|r| r.uuid(0).map(|u| u.to_string()))
        .collect::<Result<_, _>>()?;
    let mut s = time_many(2000, |i| {
        let crm = crm.clone();
        let admin = admin.clone();
        let id = ids[i % ids.len()].clone();
        async move {
            crm.get(&admin, "person", &id).await.unwrap();
        }
    })
    .await;
    report.add(&format!("{name}: get person by id"), p50_p95(&mut s), "p50 ≤ 1 ms");
    let mut s = time_many(200, |i| {
        let crm = crm.clone();
        let admin = admin.clone();
        async move {
            let hits = crm.search(&admin, SURNAMES[i % SURNAMES.len()], None).await.unwrap();
            assert!(!hits.is_empty());
        }
    })
    .await;
    report.add(
        &format!("{name}: full-text search for a surname (top 50)"),
        p50_p95(&mut s),
        "p50 ≤ 20 ms",
    );
    instance.close().await;

    // HTTP under load, and the server's memory through all of it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = Command::new(&args.anchora)
        .args(["serve", "--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("ANCHORA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("server did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let lua = args.dir.join(format!("get-{name}.lua"));
    let quoted: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
    std::fs::write(
        &lua,
        format!(
            "ids = {{{}}}\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  local id = ids[(counter % #ids) + 1]\n  return wrk.format(\"GET\", \"/api/v1/records/person/\" .. id, {{[\"Authorization\"] = \"Bearer {token}\"}})\nend\n",
            quoted.join(",")
        ),
    )?;
    let base = format!("http://127.0.0.1:{port}");
    let wrk = |script: &Path, path: &str, secs: u32| -> Result<String> {
        let out = Command::new("wrk")
            .args(["-t2", "-c16", &format!("-d{secs}s"), "--latency", "-s"])
            .arg(script)
            .arg(format!("{base}{path}"))
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into())
    };
    let out = wrk(&lua, "/", 15)?;
    let rps = out
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .unwrap_or("Requests/sec: ?")
        .trim_start_matches("Requests/sec:")
        .trim()
        .to_string();
    let non2xx = out
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .unwrap_or("")
        .trim()
        .to_string();
    let p50 = out
        .lines()
        .find(|l| l.trim_start().starts_with("50%"))
        .unwrap_or("")
        .trim()
        .to_string();
    report.add(
        &format!("{name}: HTTP GET /records/person/{{id}}, wrk -t2 -c16 -d15s"),
        format!("{rps} req/s (latency {p50}) {non2xx}"),
        "≥ 5,000 req/s (SQLite)",
    );
    // Lists and searches over HTTP too, so the RSS figure covers them.
    let list_lua = args.dir.join(format!("list-{name}.lua"));
    std::fs::write(
        &list_lua,
        format!(
            "counter = 0\nrequest = function()\n  counter = counter + 1\n  local paths = {{\"/api/v1/records/person?sort=last_name&filter=%7B%22field%22%3A%22city%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22Berlin%22%7D\", \"/api/v1/search?q=lindqvist\", \"/api/v1/records/company?sort=-created_at\"}}\n  return wrk.format(\"GET\", paths[(counter % #paths) + 1], {{[\"Authorization\"] = \"Bearer {token}\"}})\nend\n"
        ),
    )?;
    let out = wrk(&list_lua, "/", 10)?;
    let rps = out
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .unwrap_or("?")
        .trim_start_matches("Requests/sec:")
        .trim()
        .to_string();
    report.add(
        &format!("{name}: HTTP mix of list, search and list pages, wrk -c16 -d10s"),
        format!("{rps} req/s"),
        "",
    );
    let rss = peak_rss_mib(server.id()).unwrap_or(f64::NAN);
    report.add(
        &format!("{name}: server peak RSS (VmHWM) through all HTTP runs"),
        format!("{rss:.0} MiB"),
        "≤ 200 MB",
    );
    let _ = server.kill();
    let _ = server.wait();
    Ok(())
}

/// Server time of the web UI's pages, in-process through the real router (no network): a list
/// page of 50 people, a record page with a 100-entry timeline, and the weight of a page.
async fn ui_pages(
    instance: &Arc<Instance>,
    store: &Arc<SqlStore>,
    crm: &Crm,
    admin: &Principal,
    name: &str,
    report: &mut Report,
) -> Result<()> {
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let fetch = signed_in(instance, store, crm, admin).await?;
    // A person with a 100-entry timeline.
    let someone: String = store
        .pool()
        .exec()
        .fetch_optional(Sql::plain("SELECT id FROM obj_person ORDER BY id LIMIT 1"))
        .await?
        .context("no people")?
        .uuid(0)?
        .to_string();
    for i in 0..100 {
        crm.create(
            admin,
            "activity",
            &serde_json::json!({"type": "call", "subject": format!("Call {i}"), "body": "Talked about the next order.", "person": someone, "links": [{"object": "person", "id": someone}]}),
        )
        .await
        .map_err(err)?;
    }
    let mut s = time_many(200, |i| {
        let from = SURNAMES[i % SURNAMES.len()].chars().take(3).collect::<String>();
        let f = fetch(format!("/o/person?sort=last_name&ff=last_name&fo=gt&fv={}", from));
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: UI list page of 50 people (filtered, sorted), server time"),
        p50_p95(&mut s),
        "p50 ≤ 15 ms",
    );
    let mut s = time_many(200, |_| {
        let f = fetch("/o/person".into());
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: UI list page of 50 people, first page, server time"),
        p50_p95(&mut s),
        "p50 ≤ 15 ms",
    );
    let mut s = time_many(200, |_| {
        let f = fetch(format!("/o/person/{someone}"));
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: UI record page with a 100-entry timeline, server time"),
        p50_p95(&mut s),
        "p50 ≤ 15 ms",
    );
    let html = fetch("/o/person".into()).await;
    let css = fetch("/static/app.css".into()).await;
    let js = fetch("/static/app.js".into()).await;
    report.add(
        &format!("{name}: weight of the people list (HTML + CSS + JS, uncompressed)"),
        format!(
            "{:.1} KB (HTML {:.1} + CSS {:.1} + JS {:.1})",
            (html + css + js) as f64 / 1024.0,
            html as f64 / 1024.0,
            css as f64 / 1024.0,
            js as f64 / 1024.0
        ),
        "≤ 150 KB",
    );
    Ok(())
}

/// The first administrator of a store, acting as themselves.
pub async fn first_admin(store: &dyn Store) -> Result<Principal> {
    let admin = store
        .users()
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .into_iter()
        .find(|u| u.role == Role::Admin)
        .context("no admin")?;
    Ok(Principal::new(admin.id, Role::Admin, None, Credential::Local))
}

/// The app as a signed-in admin sees it: a function that GETs a path and returns the body's
/// length (asserting 200).
pub async fn signed_in(
    instance: &Arc<Instance>,
    store: &Arc<SqlStore>,
    crm: &Crm,
    admin: &Principal,
) -> Result<impl Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> + Clone> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    // A password for the admin, a session for the browser.
    let mut user = store.user(admin.user_id).await.map_err(err)?.context("admin")?;
    user.password_hash = Some(anchora_core::password::hash_password("bench password 123").map_err(err)?);
    store.update_user(&user).await.map_err(err)?;
    let email = user.email.clone().context("admin e-mail")?;
    let signed_in = crm
        .login(&email, "bench password 123", &Default::default(), None)
        .await
        .map_err(err)?;
    let cookie = format!("anchora_session={}", signed_in.session_secret);
    let mailer = Arc::new(anchora_web::mail::FileMailer::new(
        std::env::temp_dir().join("anchora-bench-mail"),
        anchora_web::mail::parse_mailbox("bench@localhost").map_err(|e| anyhow::anyhow!(e))?,
    ));
    let app = anchora_web::app(anchora_web::AppState::new(
        instance.clone(),
        Arc::new(SystemClock),
        mailer,
        "http://localhost",
    ));
    Ok(move |path: String| {
        let (app, cookie) = (app.clone(), cookie.clone());
        let f: std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> = Box::pin(async move {
            let req = axum::http::Request::builder()
                .uri(path)
                .header("cookie", cookie)
                .body(axum::body::Body::empty())
                .unwrap();
            let res = app.oneshot(req).await.unwrap();
            assert_eq!(res.status(), 200);
            res.into_body().collect().await.unwrap().to_bytes().len()
        });
        f
    })
}

/// Lists and search for a sales user who sees only their team's people (issue 3's target).
async fn visibility(store: &Arc<SqlStore>, crm: &Crm, name: &str, report: &mut Report) -> Result<()> {
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let users = store.users().await.map_err(err)?;
    let member = users
        .iter()
        .find(|u| u.role == Role::User && u.team.is_some())
        .context("the data set has no team members; regenerate it")?
        .clone();
    let team = member.team.context("no team")?;
    let mates = store.team_members(team).await.map_err(err)?;
    let schema = store.schema().await.map_err(err)?;
    let person = schema.object("person").map_err(err)?.clone();
    let total = store.count_records(&person).await.map_err(err)?;
    let seen: i64 = {
        let placeholders: Vec<String> = mates.iter().map(|m| format!("'{}'", m.0)).collect();
        let sql = format!(
            "SELECT count(*) FROM obj_person WHERE deleted_at IS NULL AND owner IN ({})",
            placeholders.join(", ")
        );
        store
            .pool()
            .exec()
            .fetch_optional(Sql::plain(sql))
            .await?
            .context("count")?
            .i64(0)?
    };
    let mut policy = AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, Visibility::Team);
    store.set_policy(&policy).await.map_err(err)?;
    let who = Principal::new(member.id, Role::User, member.team, Credential::Local);
    let share = 100.0 * seen as f64 / total.max(1) as f64;
    let list = |filter: Option<serde_json::Value>, sort: &'static str| {
        let (crm, who) = (crm.clone(), who.clone());
        async move {
            let params = ListParams {
                filter: filter.map(|f| f.to_string()),
                sort: Some(sort.into()),
                limit: Some("50".into()),
                ..Default::default()
            };
            let (_, page) = crm.list(&who, "person", &params).await.unwrap();
            assert_eq!(page.records.len(), 50);
        }
    };
    let mut s = time_many(300, |i| {
        let from = SURNAMES[i % SURNAMES.len()].chars().take(3).collect::<String>();
        list(
            Some(serde_json::json!({"field": "last_name", "op": "gte", "value": from})),
            "last_name",
        )
    })
    .await;
    report.add(
        &format!("{name}: team member (sees {share:.1}% of people): page of 50, filter last_name ≥ X, sort last_name"),
        p50_p95(&mut s),
        "p50 ≤ 5 ms (SQLite)",
    );
    let mut s = time_many(300, |_| list(None, "-created_at")).await;
    report.add(
        &format!("{name}: team member: first page of 50, newest first"),
        p50_p95(&mut s),
        "",
    );
    let mut s = time_many(200, |i| {
        let (crm, who) = (crm.clone(), who.clone());
        async move {
            crm.search(&who, SURNAMES[i % SURNAMES.len()], None).await.unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: team member: full-text search for a surname"),
        p50_p95(&mut s),
        "",
    );
    store.set_policy(&AccessPolicy::default()).await.map_err(err)?;
    Ok(())
}

/// One bench's own fresh database — a SQLite file under `dir/<name>/`, or the PostgreSQL
/// database `anchora_bench_<name>` — opened on the system clock with an administrator, whose
/// `Crm` and principal the bench fills and measures with.
pub struct FreshBench {
    pub instance: Arc<Instance>,
    pub store: Arc<SqlStore>,
    pub crm: Crm,
    pub admin: anchora_core::identity::User,
    pub who: Principal,
    pub clock: Arc<SystemClock>,
    pub now: chrono::DateTime<chrono::Utc>,
}

pub async fn fresh_bench(
    dir: &Path,
    backend: Backend,
    name: &str,
    admin_email: &str,
    admin_name: &str,
) -> Result<FreshBench> {
    let url = match backend {
        Backend::Sqlite => {
            let dir = dir.join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", dir.join(format!("{name}.db")).display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, &format!("anchora_bench_{name}")).await?
        }
    };
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let clock = Arc::new(SystemClock);
    let now = clock.now();
    let instance = Arc::new(Instance::open(&url, now).await.map_err(err)?);
    let store = instance.main();
    let admin = anchora_core::identity::User::new(
        anchora_core::UserId::new_at(now),
        Some(admin_email.into()),
        admin_name,
        Role::Admin,
        now,
    );
    store.create_user(&admin).await.map_err(err)?;
    let who = Principal::new(admin.id, Role::Admin, None, Credential::Local);
    let crm = Crm::new(store.clone() as Arc<dyn Store>, clock.clone());
    Ok(FreshBench {
        instance,
        store,
        crm,
        admin,
        who,
        clock,
        now,
    })
}

pub async fn fresh_pg(base: &str, name: &str) -> Result<String> {
    let url = base
        .rsplit_once('/')
        .map(|(h, _)| format!("{h}/{name}"))
        .context("bad url")?;
    let drop = format!("DROP DATABASE IF EXISTS {name}");
    let create = format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
    for sql in [drop.as_str(), create.as_str()] {
        let out = Command::new("psql")
            .args(["-X", "-q", "-d", base, "-c", sql])
            .output()?;
        if !out.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(url)
}

#[tokio::main]
async fn main() -> Result<()> {
    if let Some(path) = std::env::var_os("ANCHORA_WRITE_PROBE") {
        return integrity::write_probe(Path::new(&path), 3000).await;
    }
    let args = args()?;
    std::fs::create_dir_all(&args.dir)?;
    let mut report = Report::default();
    for backend in args.backends.clone() {
        if args.dedupe_only {
            dedupe::bench(&args, backend, &mut report).await?;
            continue;
        }
        if args.integrity_only {
            integrity::bench(&args, backend, &mut report).await?;
            continue;
        }
        if args.jobs_only {
            jobs::bench(&args.dir, backend, &mut report).await?;
            continue;
        }
        if args.mailings_only {
            mailings::bench(&args.dir, backend, &mut report).await?;
            continue;
        }
        if args.reports_only {
            reports::bench(&args, backend, &mut report).await?;
            continue;
        }
        if args.adoption_only {
            adoption::bench(&args.dir, backend, &mut report).await?;
            continue;
        }
        if args.support_only {
            support::bench(&args.dir, backend, &mut report).await?;
            continue;
        }
        if args.imports_only {
            imports::bench(&args, backend, &mut report).await?;
            dedupe::bench(&args, backend, &mut report).await?;
            continue;
        }
        if !args.projects_only {
            bench_backend(&args, backend, &mut report).await?;
            imports::bench(&args, backend, &mut report).await?;
            dedupe::bench(&args, backend, &mut report).await?;
        }
        projects::bench(&args.dir, backend, &mut report).await?;
        jobs::bench(&args.dir, backend, &mut report).await?;
    }
    let host = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "Run {} · {} cores · {host}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("| measurement | figure | target |\n|---|---|---|");
    for (what, figure, target) in &report.rows {
        println!("| {what} | {figure} | {target} |");
    }
    Ok(())
}
