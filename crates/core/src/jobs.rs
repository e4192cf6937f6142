//! Work that runs beside the requests: imports started by a request or left unfinished by a
//! stopped server, each workspace's daily quality figures, and the repair of bulk loads that
//! died. The server binary starts these; the HTTP layer only asks for an import to run.
//! (A durable queue with leases and retries replaces this with issue 19.)

use crate::import::job::ImportId;
use crate::service::Crm;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The objects whose data quality is kept day by day.
const QUALITY_OBJECTS: [&str; 3] = ["person", "company", "deal"];

/// Every workspace's CRM, opened for work in the background (the binary knows the databases).
#[async_trait]
pub trait Workspaces: Send + Sync {
    /// Each workspace's name and CRM; a workspace that cannot be opened is left out (and logged).
    async fn all(&self) -> Vec<(String, Crm)>;
}

/// Run a queued import in the background, on a CRM of its own (not the request's).
pub fn spawn_import(crm: &Crm, id: ImportId) {
    let crm = crm.for_background();
    tokio::spawn(async move {
        match crm.run_import(id, &mut |_| true).await {
            Ok(Some(job)) => {
                tracing::info!(import = %id, summary = %job.counts.summary(), status = job.status.as_str(), "import finished")
            }
            Ok(None) => {}
            Err(e) => tracing::error!(import = %id, error = %e.detail, "import could not run"),
        }
    });
}

/// Take up the imports a stopped server left queued or running: each goes on after its last
/// written batch.
pub async fn resume_imports(workspaces: &dyn Workspaces) {
    for (name, crm) in workspaces.all().await {
        match crm.unfinished_imports().await {
            Ok(ids) => {
                for id in ids {
                    tracing::info!(workspace = %name, import = %id, "resuming an import");
                    spawn_import(&crm, id);
                    // A job the stopped process was running counts as its own until it has been
                    // quiet for two minutes; try again once that has passed.
                    let crm = crm.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(130)).await;
                        spawn_import(&crm, id);
                    });
                }
            }
            Err(e) => tracing::warn!(workspace = %name, error = %e.detail, "unfinished imports could not be read"),
        }
    }
}

/// Once a day, keep each workspace's data-quality figures for people, companies and deals, so
/// the trend shows. Checked hourly; a day already kept (by this or another server, or by hand)
/// is kept again, which only replaces it with fresher figures.
pub async fn keep_quality_days(workspaces: Arc<dyn Workspaces>, clock: Arc<dyn crate::Clock>) {
    let mut last: Option<chrono::NaiveDate> = None;
    loop {
        let today = clock.now().date_naive();
        if last != Some(today) {
            for (name, crm) in workspaces.all().await {
                for object in QUALITY_OBJECTS {
                    if let Err(e) = crm.record_quality_day(object).await {
                        tracing::warn!(workspace = %name, object, error = %e.detail, "quality figures not kept");
                    }
                }
            }
            last = Some(today);
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// Every half minute, build the indexes of tables whose bulk load died (an `anchora import`
/// into an empty table that was killed): without them every sorted page scans the table.
pub async fn repair_bulk_loads(workspaces: Arc<dyn Workspaces>) {
    loop {
        for (name, crm) in workspaces.all().await {
            if let Err(e) = crm.repair_bulk_loads().await {
                tracing::warn!(workspace = %name, error = %e.detail, "bulk loads could not be checked");
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}
