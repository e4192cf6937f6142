//! Upkeep that is not a job of anyone's: the repair of bulk loads that died.

use super::Workspaces;
use std::sync::Arc;
use std::time::Duration;

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
