//! Every workspace of an installation, opened for work in the background (the job workers and
//! the upkeep loops of `anchora serve`, and the tests that run them).

use crate::instance::Instance;
use anchora_core::jobs::Workspaces;
use anchora_core::service::Crm;
use anchora_core::{Clock, Store};
use async_trait::async_trait;
use std::sync::Arc;

pub struct InstanceWorkspaces {
    pub instance: Arc<Instance>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Workspaces for InstanceWorkspaces {
    async fn all(&self) -> Vec<(String, Crm)> {
        let names = match self.instance.workspace_names().await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(error = %e.detail, "the workspaces could not be listed");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for name in names {
            match self.instance.workspace(&name, self.clock.now()).await {
                Ok(Some(store)) => {
                    let crm = Crm::new(store as Arc<dyn Store>, self.clock.clone()).in_workspace(&name);
                    out.push((name, crm));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(workspace = %name, error = %e.detail, "a workspace could not be opened"),
            }
        }
        out
    }
}
