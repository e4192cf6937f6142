//! Issue 16's figures, each beside the build before it in the same run (`--baseline PATH`, the
//! `anchora` binary of the earlier commit): creates under eight concurrent writers over HTTP
//! (p50 and p99), adding fields to an object that already has hundreds, the server's memory
//! during and after four concurrent 60 MB uploads and during and after a million rows imported
//! through the API, and `anchora import` of a million people (time and peak memory).

use crate::imports::people_csv;
use crate::{Report, fresh_pg, run_measured};
use anchora_store::Backend;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Resident memory of a process now (VmRSS), in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The highest resident memory of a process while something runs, sampled every 20 ms.
struct RssWatch {
    stop: Arc<AtomicBool>,
    peak: Arc<std::sync::Mutex<f64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssWatch {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(std::sync::Mutex::new(0f64));
        let thread = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = rss_mib(pid) {
                        let mut p = peak.lock().unwrap();
                        *p = p.max(m);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        RssWatch {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
        *self.peak.lock().unwrap()
    }
}

struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A fresh database of one binary: 100,000 generated people, and its token.
async fn fresh(binary: &Path, backend: Backend, dir: &Path, label: &str) -> Result<(String, String)> {
    let url = match backend {
        Backend::Sqlite => {
            let d = dir.join(format!("integrity-{label}"));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d)?;
            format!("sqlite://{}", d.join("anchora.db").display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, &format!("anchora_integrity_{label}")).await?
        }
    };
    let mut generate = Command::new(binary);
    generate
        .env("ANCHORA_LOG", "warn")
        .args(["generate", "--people", "100000", "--database-url", &url]);
    let (stdout, _, _, _) = run_measured(&mut generate)?;
    Ok((url, printed_token(&stdout, "generate")?))
}

fn serve(binary: &Path, url: &str, token: &str) -> Result<Server> {
    let port = free_port()?;
    let child = Command::new(binary)
        .env("ANCHORA_LOG", "warn")
        .args(["serve", "--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let server = Server {
        child,
        base,
        token: token.to_string(),
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the server did not start")
}

impl Server {
    fn curl(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-s", "-H", &format!("Authorization: Bearer {}", self.token)])
            .args(args)
            .output()?;
        Ok(serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    }

    fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value> {
        self.curl(&[
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
            &format!("{}{path}", self.base),
        ])
    }

    fn upload(&self, file: &Path, token: &str) -> Command {
        let mut c = Command::new("curl");
        c.args(["-s", "-H", &format!("Authorization: Bearer {token}")])
            .args(["-F", "object=person", "-F"])
            .arg(format!("file=@{}", file.display()))
            .arg(format!("{}/api/v1/imports", self.base))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        c
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Creates over HTTP from eight connections for 15 s: wrk's latency percentiles.
fn writes(server: &Server, dir: &Path, label: &str) -> Result<String> {
    let script = dir.join(format!("create-{label}.lua"));
    std::fs::write(
        &script,
        format!(
            "local threads = 0\nfunction setup(thread)\n  threads = threads + 1\n  thread:set(\"tid\", threads)\nend\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  local body = string.format('{{\"first_name\": \"Åsa\", \"last_name\": \"Öberg %d\", \"email\": \"w%d.%d@example.se\", \"external_id\": \"W-%d-%d\"}}', counter, tid, counter, tid, counter)\n  return wrk.format(\"POST\", \"/api/v1/records/person\", {{[\"Authorization\"] = \"Bearer {}\", [\"Content-Type\"] = \"application/json\"}}, body)\nend\n",
            server.token
        ),
    )?;
    let out = Command::new("wrk")
        .args(["-t2", "-c8", "-d15s", "--latency", "-s"])
        .arg(&script)
        .arg(format!("{}/", server.base))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let value = |prefix: &str| line(prefix).split_whitespace().nth(1).unwrap_or("?").to_string();
    let max = line("Latency").split_whitespace().nth(3).unwrap_or("?").to_string();
    Ok(format!(
        "p50 {} · p99 {} · max {max} · {} creates/s {}",
        value("50%"),
        value("99%"),
        line("Requests/sec:").trim_start_matches("Requests/sec:").trim(),
        line("Non-2xx")
    ))
}

/// Time to add fields to an object that has many: a custom object with 500 records gets 480
/// text fields one by one; the mean of the first ten adds against the last ten.
fn adding_fields(server: &Server) -> Result<String> {
    server.post_json(
        "/api/v1/objects",
        &serde_json::json!({"name": "gadget", "label": "Gadget"}),
    )?;
    for n in 0..500 {
        server.post_json(
            "/api/v1/records/gadget",
            &serde_json::json!({"name": format!("Gadget {n}")}),
        )?;
    }
    let mut times = Vec::new();
    for n in 0..480 {
        let t = Instant::now();
        let r = server.post_json(
            "/api/v1/objects/gadget/fields",
            &serde_json::json!({"name": format!("extra_{n}"), "label": format!("Extra {n}"), "type": "text"}),
        )?;
        if r.get("name").is_none() {
            bail!("adding field {n} failed: {r}");
        }
        times.push(t.elapsed());
    }
    let mean = |d: &[Duration]| d.iter().sum::<Duration>().as_secs_f64() * 1000.0 / d.len().max(1) as f64;
    Ok(format!(
        "fields 1–10: {:.1} ms · fields 471–480: {:.1} ms per add",
        mean(&times[..10]),
        mean(&times[470..])
    ))
}

/// A second administrator's token, made with the command line beside the running server.
fn second_token(binary: &Path, url: &str) -> Result<String> {
    let email = "uploader@example.com";
    let mut add = Command::new(binary);
    add.env("ANCHORA_LOG", "warn")
        .args(["user", "add", "--email", email, "--role", "admin", "--no-password"])
        .args(["--database-url", url]);
    run_measured(&mut add)?;
    let mut token = Command::new(binary);
    token
        .env("ANCHORA_LOG", "warn")
        .args(["token", "create", "--user", email, "--scope", "write"])
        .args(["--database-url", url]);
    let (stdout, _, _, _) = run_measured(&mut token)?;
    printed_token(&stdout, "token create")
}

/// The API token a command printed (on its last line that holds one).
fn printed_token(stdout: &str, command: &str) -> Result<String> {
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("anc_"))
        .map(|l| l.trim().to_string())
        .with_context(|| format!("{command} printed no token"))
}

/// Four uploads of a 60 MB file at once, two by each of two users (a user may upload two at
/// once): the server's memory at its peak and 10 s after.
fn uploads(server: &Server, file: &Path, other_token: &str) -> Result<String> {
    let before = rss_mib(server.pid()).unwrap_or(f64::NAN);
    let watch = RssWatch::start(server.pid());
    let children: Vec<Child> = (0..4)
        .map(|i| {
            server
                .upload(file, if i % 2 == 0 { &server.token } else { other_token })
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut created = 0;
    for c in children {
        let out = c.wait_with_output()?;
        let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if body["import"]["id"].is_string() {
            created += 1;
        } else {
            eprintln!("  upload answered {body}");
        }
    }
    let peak = watch.finish();
    std::thread::sleep(Duration::from_secs(10));
    let after = rss_mib(server.pid()).unwrap_or(f64::NAN);
    Ok(format!(
        "before {before:.0} MiB · peak {peak:.0} MiB · 10 s after {after:.0} MiB ({created} of 4 uploads kept)"
    ))
}

/// A million people imported through the API, as two files of 500,000: upload, start with the
/// suggested mapping, wait. The server's memory at its peak and 10 s after.
fn server_import(server: &Server, files: &[PathBuf]) -> Result<String> {
    let watch = RssWatch::start(server.pid());
    let started = Instant::now();
    let mut summaries = Vec::new();
    for file in files {
        let out = server.upload(file, &server.token).output()?;
        let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let id = body["import"]["id"]
            .as_str()
            .context("the upload made no import")?
            .to_string();
        let mapping: serde_json::Map<String, serde_json::Value> = body["preview"]["suggestions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["header"].as_str().unwrap_or_default().to_string(),
                    s["target"].clone(),
                )
            })
            .collect();
        server.post_json(
            &format!("/api/v1/imports/{id}/start"),
            &serde_json::json!({"mapping": mapping}),
        )?;
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let job = server.curl(&[&format!("{}/api/v1/imports/{id}", server.base)])?;
            match job["status"].as_str() {
                Some("done") => {
                    summaries.push(job["summary"].as_str().unwrap_or_default().to_string());
                    break;
                }
                Some("failed") => bail!("the import failed: {}", job["error"]),
                _ => {}
            }
        }
    }
    let took = started.elapsed();
    let peak = watch.finish();
    std::thread::sleep(Duration::from_secs(10));
    let after = rss_mib(server.pid()).unwrap_or(f64::NAN);
    Ok(format!(
        "{:.1} s · peak {peak:.0} MiB · 10 s after {after:.0} MiB · {}",
        took.as_secs_f64(),
        summaries.join("; ")
    ))
}

/// `anchora import` of a million people into an empty workspace, then the same file again.
async fn cli_import(binary: &Path, backend: Backend, dir: &Path, label: &str, csv: &Path) -> Result<String> {
    let url = match backend {
        Backend::Sqlite => {
            let d = dir.join(format!("cli-import-{label}"));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d)?;
            format!("sqlite://{}", d.join("anchora.db").display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, &format!("anchora_cli_import_{label}")).await?
        }
    };
    let mut add = Command::new(binary);
    add.env("ANCHORA_LOG", "warn")
        .args([
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--role",
            "admin",
            "--no-password",
        ])
        .args(["--database-url", &url]);
    run_measured(&mut add)?;
    let import = || {
        let mut c = Command::new(binary);
        c.env("ANCHORA_LOG", "warn")
            .args(["import", "--object", "person"])
            .arg(csv)
            .args(["--as", "admin@example.com", "--database-url", &url]);
        c
    };
    let (_, _, first, first_peak) = run_measured(&mut import())?;
    let (_, _, again, again_peak) = run_measured(&mut import())?;
    Ok(format!(
        "{:.1} s, peak {first_peak:.0} MiB · again {:.1} s, peak {again_peak:.0} MiB",
        first.as_secs_f64(),
        again.as_secs_f64()
    ))
}

/// A CSV of `rows` people starting at `from` (their own external ids), cut from the big file.
fn slice_csv(big: &Path, to: &Path, from: usize, rows: usize) -> Result<()> {
    use std::io::{BufRead, Write};
    let input = std::io::BufReader::new(std::fs::File::open(big)?);
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if n == 0 || (n > from && n <= from + rows) {
            writeln!(out, "{line}")?;
        }
        if n > from + rows {
            break;
        }
    }
    out.flush()?;
    Ok(())
}

pub async fn bench(args: &crate::Args, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    let big = args.dir.join("people-1000000.csv");
    if !big.exists() {
        eprintln!("== writing {}", big.display());
        people_csv(&big, 1_000_000)?;
    }
    let sixty = args.dir.join("people-60mb.csv");
    if !sixty.exists() {
        slice_csv(&big, &sixty, 0, 585_000)?;
    }
    let halves = [args.dir.join("people-half-1.csv"), args.dir.join("people-half-2.csv")];
    if !halves[1].exists() {
        slice_csv(&big, &halves[0], 0, 500_000)?;
        slice_csv(&big, &halves[1], 500_000, 500_000)?;
    }
    let mut binaries = vec![("now", args.anchora.clone())];
    if let Some(b) = &args.baseline {
        binaries.push(("before", b.clone()));
    }
    // ANCHORA_BENCH_PARTS=writes,fields,uploads,server-import,cli-import picks parts (all by default).
    let parts = std::env::var("ANCHORA_BENCH_PARTS").unwrap_or_default();
    let part = |p: &str| parts.is_empty() || parts.split(',').any(|x| x == p);
    for (label, binary) in &binaries {
        eprintln!("== {name} ({label}): creates, fields, uploads, an import through the server");
        let (url, token) = fresh(binary, backend, &args.dir, label).await?;
        let server = serve(binary, &url, &token)?;
        if part("writes") {
            report.add(
                &format!("{name} ({label}): creates over HTTP, 8 concurrent writers, 15 s, 100k people"),
                writes(&server, &args.dir, label)?,
                "p99 < 50 ms (SQLite)",
            );
        }
        if part("fields") {
            report.add(
                &format!("{name} ({label}): adding a text field to an object with 500 records"),
                adding_fields(&server)?,
                "stays fast",
            );
        }
        if part("uploads") {
            report.add(
                &format!("{name} ({label}): server memory, four concurrent 60 MB uploads"),
                uploads(&server, &sixty, &second_token(binary, &url)?)?,
                "peak ≤ 300 MB, < 200 MB after",
            );
        }
        if part("server-import") {
            report.add(
                &format!("{name} ({label}): server memory, 1,000,000 people imported through the API (2 files)"),
                server_import(&server, &halves)?,
                "peak ≤ 300 MB, < 200 MB after",
            );
        }
        drop(server);
        if part("cli-import") {
            report.add(
                &format!("{name} ({label}): `anchora import` of 1,000,000 people, then again"),
                cli_import(binary, backend, &args.dir, label, &big).await?,
                "not slower than before",
            );
        }
    }
    Ok(())
}

/// Creates one after another on an existing SQLite file, in process: the time each write takes
/// without any queue, its distribution and the slowest — to see what the tail is made of.
pub async fn write_probe(path: &Path, n: usize) -> Result<()> {
    use anchora_core::Clock;
    let store = Arc::new(
        anchora_store::SqlStore::open_sqlite(path)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?,
    );
    let clock: Arc<dyn Clock> = Arc::new(anchora_core::SystemClock);
    let who = crate::first_admin(&*store).await?;
    let crm = anchora_core::service::Crm::new(store.clone(), clock);
    // ANCHORA_PROBE_TASKS writers at once (one by default).
    let tasks: usize = std::env::var("ANCHORA_PROBE_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let stamp = chrono::Utc::now().timestamp_micros();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (crm, who) = (crm.clone(), who.clone());
        handles.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for i in 0..n / tasks {
                let started = Instant::now();
                crm.create(
                    &who,
                    "person",
                    &serde_json::json!({"first_name": "Åsa", "last_name": format!("Öberg {i}"), "external_id": format!("P-{stamp}-{t}-{i}")}),
                )
                .await
                .map_err(|e| anyhow::anyhow!(e.detail))?;
                times.push((started.elapsed(), i * tasks + t));
            }
            anyhow::Ok(times)
        }));
    }
    let mut times = Vec::with_capacity(n);
    for h in handles {
        times.extend(h.await??);
    }
    let n = times.len();
    if n == 0 {
        bail!("no creates ran: ask for at least as many creates as tasks");
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{n} creates: p50 {:.2} ms · p90 {:.2} · p99 {:.2} · max {:.2}; slowest at {:?}",
        ms(times[n / 2].0),
        ms(times[n * 9 / 10].0),
        ms(times[n * 99 / 100].0),
        ms(times[n - 1].0),
        times
            .iter()
            .rev()
            .take(8)
            .map(|(d, i)| format!("#{i} {:.1}", ms(*d)))
            .collect::<Vec<_>>()
    );
    Ok(())
}
