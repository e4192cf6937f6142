//! Reports (issue 21): the data set of `anchora generate --deals` (1,000,000 people, 100,000
//! companies and 100,000 deals by default, as the issue sets it), reports run in-process through `Crm::run_report`, the
//! code the API and the pages call. Each report runs 11 times; the first warms the caches and
//! is not counted.

use crate::{Report, fresh_pg, p50_p95, run_measured};
use anchora_core::auth::{Credential, Principal};
use anchora_core::reports::ReportSpec;
use anchora_core::service::Crm;
use anchora_core::store::UserStore;
use anchora_core::{Clock, Store, SystemClock};
use anchora_store::{Backend, Instance};
use anyhow::{Context, Result};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

async fn data_set(args: &crate::Args, backend: Backend) -> Result<String> {
    let url = match backend {
        Backend::Sqlite => {
            let dir = args.dir.join("reports");
            let file = dir.join("reports.db");
            if args.reuse && file.exists() {
                eprintln!("== sqlite: reusing the reports data set");
                return Ok(format!("sqlite://{}", file.display()));
            }
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", file.display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, "anchora_bench_reports").await?
        }
    };
    eprintln!("== {}: generating {} people for reports", backend.name(), args.people);
    run_measured(
        Command::new(&args.anchora)
            // The data set: a million people and 100,000 deals (a tenth of the people).
            .args([
                "generate",
                "--people",
                &args.people.to_string(),
                "--deals",
                &(args.people / 10).max(1).to_string(),
                "--database-url",
                &url,
            ])
            .env("ANCHORA_LOG", "warn"),
    )?;
    Ok(url)
}

pub async fn bench(args: &crate::Args, backend: Backend, report: &mut Report) -> Result<()> {
    let url = data_set(args, backend).await?;
    let clock = Arc::new(SystemClock);
    let instance = Instance::open(&url, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let store = instance.main();
    let admin = store
        .user_by_email("admin@example.com")
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?
        .context("no admin")?;
    let who = Principal::new(admin.id, admin.role, None, Credential::Local);
    let crm = Crm::new(store.clone() as Arc<dyn Store>, clock);
    crm.set_time_zone(&who, serde_json::json!({"time_zone": "Europe/Stockholm"}))
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let name = backend.name();
    // A run over a reused data set starts from no saved reports and no indexes for them.
    for kept in crm.saved_reports(&who).await.map_err(|e| anyhow::anyhow!(e.detail))? {
        crm.delete_report(&who, &kept.report.id.to_string())
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
    }
    for kept in crm.dashboards(&who).await.map_err(|e| anyhow::anyhow!(e.detail))? {
        crm.delete_dashboard(&who, &kept.dashboard.id.to_string())
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
    }
    let reports = [
        (
            "people by city and owner, count",
            serde_json::json!({"object": "person", "groups": [{"field": "city"}, {"field": "owner"}]}),
            "≤ 1 s",
        ),
        (
            "people by month created (Stockholm) and owner, count",
            serde_json::json!({"object": "person", "groups": [{"field": "created_at", "bucket": "month"}, {"field": "owner"}]}),
            "",
        ),
        (
            "deals by stage and team, sum of amount in SEK",
            serde_json::json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "team"}],
                "measure": {"func": "sum", "field": "amount"}}),
            "",
        ),
        (
            "deals by expected close quarter and stage, average amount",
            serde_json::json!({"object": "deal", "groups": [{"field": "expected_close", "bucket": "quarter"}, {"field": "stage"}],
                "measure": {"func": "avg", "field": "amount"}}),
            "",
        ),
    ];
    // Reports as managers keep them: saved and shared (which asks for their indexes), the way
    // a report that is opened every week exists.
    let mut saved_reports = Vec::new();
    for (what, spec, target) in reports {
        let spec: ReportSpec = serde_json::from_value(spec)?;
        let saved = crm
            .save_report(&who, serde_json::json!({"name": what, "spec": spec, "shared": true}))
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        saved_reports.push((what, saved.report.id.to_string(), target));
    }
    // A dashboard of six widgets: four saved reports and two figures against the period before.
    let mut widgets = Vec::new();
    for (name, spec) in [
        (
            "pipeline by stage and team",
            serde_json::json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "team"}],
            "measure": {"func": "sum", "field": "amount"}}),
        ),
        (
            "deals by close quarter",
            serde_json::json!({"object": "deal", "groups": [{"field": "expected_close", "bucket": "quarter"}],
            "measure": {"func": "sum", "field": "amount"}}),
        ),
        (
            "people by city",
            serde_json::json!({"object": "person", "groups": [{"field": "city"}]}),
        ),
        (
            "activities by type and owner",
            serde_json::json!({"object": "activity", "groups": [{"field": "type"}, {"field": "owner"}]}),
        ),
    ] {
        let saved = crm
            .save_report(&who, serde_json::json!({"name": name, "spec": spec, "shared": true}))
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        widgets.push(
            serde_json::json!({"kind": "report", "report": saved.report.id.to_string(), "date_field": "created_at"}),
        );
    }
    widgets.push(serde_json::json!({"kind": "figure", "title": "won", "object": "deal",
        "filter": {"field": "stage", "op": "eq", "value": "won"}, "measure": {"func": "sum", "field": "amount"},
        "date_field": "expected_close"}));
    widgets.push(
        serde_json::json!({"kind": "figure", "title": "new people", "object": "person", "date_field": "created_at"}),
    );
    let dashboard = crm
        .create_dashboard(
            &who,
            serde_json::json!({"name": "bench", "shared": true, "widgets": widgets}),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let id = dashboard.dashboard.id.to_string();
    // The job saving a report or a dashboard asks for, run here in-process: the indexes kept
    // reports, the dashboard's widgets and the forecast want (SQLite; none on PostgreSQL).
    let started = Instant::now();
    let built = crm
        .keep_report_indexes(&anchora_core::jobs::JobCtx::detached())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    report.add(
        &format!("{name}: indexes for the kept reports, the dashboard and the forecast ({built})"),
        format!("{:.1} s", started.elapsed().as_secs_f64()),
        "job",
    );
    for (what, saved, target) in &saved_reports {
        let mut samples = Vec::new();
        let mut groups = 0;
        for i in 0..11 {
            let started = Instant::now();
            let (_, result) = crm
                .run_saved_report(&who, saved)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail))?;
            if i > 0 {
                samples.push(started.elapsed());
            }
            groups = result.cells.len().max(result.rows.len());
        }
        report.add(
            &format!("{name}: saved report, {what} ({groups} cells)"),
            p50_p95(&mut samples),
            target,
        );
    }
    let mut samples = Vec::new();
    for i in 0..11 {
        let started = Instant::now();
        crm.view_dashboard(&who, &id, Some("this_year"), Some("everyone"))
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        if i > 0 {
            samples.push(started.elapsed());
        }
    }
    report.add(
        &format!("{name}: dashboard of six widgets (four reports, two figures), this year, everyone"),
        p50_p95(&mut samples),
        "≤ 1.5 s",
    );
    let mut samples = Vec::new();
    let params = anchora_core::forecast::ForecastParams::default();
    for i in 0..11 {
        let started = Instant::now();
        crm.forecast(&who, &params)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        if i > 0 {
            samples.push(started.elapsed());
        }
    }
    report.add(
        &format!("{name}: forecast page (four quarters, owners, history, accuracy)"),
        p50_p95(&mut samples),
        "≤ 300 ms",
    );
    Ok(())
}
