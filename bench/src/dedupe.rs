//! Duplicate detection at a million people: `anchora testset` writes a labelled set (clean
//! people and known duplicates), `anchora import` loads it, and the scan runs through `Crm`
//! as the app runs it. Its time is measured, and its precision and recall are counted against
//! the labels.

use crate::{Report, fresh_pg, run_measured};
use anchora_core::query::{Cursor, ListQuery, MAX_LIMIT};
use anchora_core::service::Crm;
use anchora_core::store::RecordStore;
use anchora_core::{Clock, RecordId, Store, SystemClock};
use anchora_store::{Backend, Instance};
use anyhow::{Context, Result};
use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// (external id → the external id of its cluster) from the set's `duplicate_of` column.
fn labels(path: &std::path::Path) -> Result<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut out = HashMap::new();
    for row in reader.records() {
        let row = row?;
        let id = row.get(0).context("external_id")?.to_string();
        let of = row.get(7).unwrap_or_default();
        let cluster = if of.is_empty() { id.clone() } else { of.to_string() };
        out.insert(id, cluster);
    }
    Ok(out)
}

pub async fn bench(args: &crate::Args, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    let people = args.people;
    let set = args.dir.join(format!("testset-{people}.csv"));
    if !set.exists() {
        let out = Command::new(&args.anchora)
            .args(["testset", "--people", &people.to_string(), "--to"])
            .arg(&set)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "testset: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let url = match backend {
        Backend::Sqlite => {
            let dir = args.dir.join("dedupe-sqlite");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", dir.join("anchora.db").display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, "anchora_dedupe").await?
        }
    };
    crate::imports::add_admin(args, &url)?;
    let mut import = Command::new(&args.anchora);
    import
        .args(["import", "--object", "person"])
        .arg(&set)
        .args([
            "--map",
            "duplicate_of=",
            "--map",
            "external_id=external_id",
            "--database-url",
            &url,
        ])
        .env("ANCHORA_LOG", "warn");
    let (stdout, _, took, _) = run_measured(&mut import)?;
    eprintln!(
        "  {name}: labelled set imported in {:.1} s: {}",
        took.as_secs_f64(),
        stdout.trim()
    );

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let instance = Instance::open(&url, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let store = instance.main();
    let who = crate::first_admin(&*store).await?;
    let crm = Crm::new(store.clone() as Arc<dyn Store>, clock);
    let started = Instant::now();
    let pairs = crm
        .find_duplicates(
            &who,
            "person",
            anchora_core::dedupe::DEFAULT_COUNTRY,
            &anchora_core::jobs::JobCtx::detached(),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let scan = started.elapsed();

    // Record ids back to the set's external ids.
    let object = crm.object("person").await.map_err(|e| anyhow::anyhow!(e.detail))?.1;
    let mut external: HashMap<RecordId, String> = HashMap::new();
    let mut query = ListQuery::all();
    query.limit = MAX_LIMIT;
    loop {
        let mut page = store
            .list_records(&object, &query)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        let more = page.len() > MAX_LIMIT as usize;
        page.truncate(MAX_LIMIT as usize);
        for r in &page {
            if let Some(x) = r.get("external_id").to_text() {
                external.insert(r.id, x);
            }
        }
        match page.last() {
            Some(last) if more => {
                query.after = Some(Cursor {
                    values: Vec::new(),
                    id: last.id,
                })
            }
            _ => break,
        }
    }
    let clusters = labels(&set)?;
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for c in clusters.values() {
        *sizes.entry(c.as_str()).or_default() += 1;
    }
    let truth: usize = sizes.values().map(|n| n * (n - 1) / 2).sum();
    let mut seen = HashSet::new();
    let mut right = 0usize;
    for p in &pairs {
        let (Some(a), Some(b)) = (external.get(&p.a), external.get(&p.b)) else {
            continue;
        };
        if !seen.insert((a.min(b).clone(), a.max(b).clone())) {
            continue;
        }
        if clusters.contains_key(a) && clusters.get(a) == clusters.get(b) {
            right += 1;
        }
    }
    let precision = right as f64 / seen.len().max(1) as f64;
    let recall = right as f64 / truth.max(1) as f64;
    report.add(
        &format!(
            "{name}: duplicate scan over {} people (labelled set: {people} clean + {} duplicates)",
            clusters.len(),
            clusters.len() - people as usize
        ),
        format!(
            "{:.1} s · {} pairs found, {truth} true · precision {precision:.3} · recall {recall:.3}",
            scan.as_secs_f64(),
            seen.len()
        ),
        "≤ 60 s · precision ≥ 0.95 · recall ≥ 0.90",
    );
    instance.close().await;
    Ok(())
}
