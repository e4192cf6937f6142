//! Import and export at a million people: `anchora import` of a generated CSV into an empty
//! workspace (validation, company links, change log, search documents, indexes), beside the
//! database's own bulk loader reading the same file into a bare table (sqlite3 `.import`,
//! PostgreSQL `\copy`); then `anchora export` of every person to CSV and XLSX, with the peak
//! memory of exporting a tenth as much, to show it does not grow with the rows.

use crate::{Report, fresh_pg, run_measured};
use anchora_store::Backend;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const FIRST: [&str; 20] = [
    "Anna", "Erik", "Lars", "Karin", "Maria", "Johan", "Eva", "Per", "Sofia", "Nils", "Jörg", "Åsa", "Björn", "Lucía",
    "Søren", "Mette", "Hans", "Inés", "Pablo", "Greta",
];
const LAST: [&str; 20] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Müller",
    "Schmidt",
    "García",
    "López",
    "Jensen",
    "Nielsen",
    "Hansen",
    "Berg",
    "Lund",
    "Ek",
    "Holm",
    "Sandberg",
];
const CITIES: [&str; 10] = [
    "Stockholm",
    "Göteborg",
    "Malmö",
    "Berlin",
    "München",
    "København",
    "Aarhus",
    "Madrid",
    "Barcelona",
    "Uppsala",
];
const TITLES: [&str; 7] = [
    "Sales manager",
    "CEO",
    "CFO",
    "Buyer",
    "Engineer",
    "Key account manager",
    "",
];

/// A people file as a customer's spreadsheet would be: an external id, names, e-mail, phone,
/// title, city and the company's name (a tenth as many companies as people).
pub fn people_csv(path: &Path, people: u64) -> Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "external_id,first_name,last_name,email,phone,title,city,company")?;
    let companies = (people / 10).max(1);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for i in 0..people {
        let first = FIRST[next(FIRST.len())];
        let last = LAST[next(LAST.len())];
        writeln!(
            out,
            "P{i},{first},{last},{}.{}{i}@example{}.com,+46 8 {},{},{},Company {} AB",
            first.to_lowercase(),
            last.to_lowercase(),
            i % 5000,
            100_000 + i % 900_000,
            TITLES[next(TITLES.len())],
            CITIES[next(CITIES.len())],
            i % companies
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn anchora(args: &crate::Args) -> Command {
    let mut c = Command::new(&args.anchora);
    c.env("ANCHORA_LOG", "warn");
    c
}

/// The administrator `anchora import` and `export` act as, in a new workspace.
pub fn add_admin(args: &crate::Args, url: &str) -> Result<()> {
    let mut add = anchora(args);
    add.args([
        "user",
        "add",
        "--email",
        "admin@example.com",
        "--role",
        "admin",
        "--no-password",
    ])
    .args(["--database-url", url]);
    run_measured(&mut add)?;
    Ok(())
}

/// Import, the database's own loader, and exports, on one backend.
pub async fn bench(args: &crate::Args, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    let people = args.people;
    let dir = args.dir.join(format!("import-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let csv = args.dir.join(format!("people-{people}.csv"));
    if !csv.exists() {
        eprintln!("== writing {}", csv.display());
        people_csv(&csv, people)?;
    }
    let bytes = std::fs::metadata(&csv)?.len();
    let (url, bare) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("anchora.db").display()),
            dir.join("bare.db").display().to_string(),
        ),
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            (
                fresh_pg(&base, "anchora_import").await?,
                fresh_pg(&base, "anchora_bare").await?,
            )
        }
    };
    add_admin(args, &url)?;

    eprintln!("== {name}: importing {people} people ({} MB)", bytes / 1_000_000);
    let mut import = anchora(args);
    import
        .args(["import", "--object", "person"])
        .arg(&csv)
        .args(["--database-url", &url]);
    let (stdout, _, took, peak) = run_measured(&mut import)?;
    let summary = stdout.lines().last().unwrap_or_default().trim().to_string();
    let rate = people as f64 / took.as_secs_f64();
    report.add(
        &format!(
            "{name}: anchora import of {people} people (CSV, {} MB)",
            bytes / 1_000_000
        ),
        format!(
            "{:.1} s · {rate:.0} rows/s · peak RSS {peak:.0} MiB · “{summary}”",
            took.as_secs_f64()
        ),
        "≥ 50,000 rows/s (SQLite)",
    );

    let bare_took = match backend {
        Backend::Sqlite => {
            let started = Instant::now();
            let out = Command::new("sqlite3")
                .arg(&bare)
                .arg(format!(".import --csv {} people", csv.display()))
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "sqlite3: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            started.elapsed()
        }
        Backend::Postgres => {
            let create = "CREATE TABLE people (external_id text, first_name text, last_name text, email text, \
                          phone text, title text, city text, company text)";
            let out = Command::new("psql")
                .args(["-X", "-q", "-d", &bare, "-c", create])
                .output()?;
            anyhow::ensure!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
            let started = Instant::now();
            let copy = format!("\\copy people FROM '{}' WITH (FORMAT csv, HEADER true)", csv.display());
            let out = Command::new("psql")
                .args(["-X", "-q", "-d", &bare, "-c", &copy])
                .output()?;
            anyhow::ensure!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
            started.elapsed()
        }
    };
    let loader = match backend {
        Backend::Sqlite => "sqlite3 .import",
        Backend::Postgres => "psql \\copy",
    };
    report.add(
        &format!("{name}: {loader} of the same file into a bare table"),
        format!(
            "{:.1} s · {:.0} rows/s · anchora import takes {:.1}× as long",
            bare_took.as_secs_f64(),
            people as f64 / bare_took.as_secs_f64(),
            took.as_secs_f64() / bare_took.as_secs_f64()
        ),
        "(ratio reported)",
    );

    // The same file again: every row is found by its external id and is unchanged.
    let mut again = anchora(args);
    again
        .args(["import", "--object", "person"])
        .arg(&csv)
        .args(["--database-url", &url]);
    let (stdout, _, took, peak) = run_measured(&mut again)?;
    report.add(
        &format!("{name}: the same import again (idempotent: every row matched, nothing written)"),
        format!(
            "{:.1} s · {:.0} rows/s · peak RSS {peak:.0} MiB · “{}”",
            took.as_secs_f64(),
            people as f64 / took.as_secs_f64(),
            stdout.lines().last().unwrap_or_default().trim()
        ),
        "",
    );

    for format in ["csv", "xlsx"] {
        let mut peaks = Vec::new();
        for (label, filter) in [
            ("a tenth", Some(r#"{"field":"city","op":"eq","value":"Stockholm"}"#)),
            ("all", None),
        ] {
            let to: PathBuf = dir.join(format!("export-{label}.{format}"));
            let mut export = anchora(args);
            export
                .args(["export", "--object", "person", "--format", format, "--to"])
                .arg(&to)
                .args(["--database-url", &url]);
            if let Some(f) = filter {
                export.args(["--filter", f]);
            }
            let (stdout, _, took, peak) = run_measured(&mut export)?;
            let rows: u64 = stdout
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .context("export printed no row count")?;
            peaks.push((label, rows, took, peak, std::fs::metadata(&to)?.len()));
        }
        let figure = peaks
            .iter()
            .map(|(label, rows, took, peak, size)| {
                format!(
                    "{label}: {rows} rows in {:.1} s ({:.0} rows/s), {} MB, peak RSS {peak:.0} MiB",
                    took.as_secs_f64(),
                    *rows as f64 / took.as_secs_f64(),
                    size / 1_000_000
                )
            })
            .collect::<Vec<_>>()
            .join(" · ");
        report.add(
            &format!("{name}: anchora export to {format} (peak memory for a tenth and for all)"),
            figure,
            "constant memory",
        );
    }
    Ok(())
}
