//! Indexes for the reports an organisation keeps. SQLite groups by sorting every row it
//! counts, which over a million people takes seconds; an index that holds a report's grouping
//! columns in order (and the rest it reads) turns the same report into one walk of that index.
//! Which reports deserve one is known here — shared reports, the reports and figures on
//! shared dashboards (with the period a dashboard puts on them) and the forecast's own
//! countings; a personal report is one person's, and every index is written on every save of
//! its table, so it goes without. What the index is, how many a table may have and whether the
//! database wants any at all is the store's ([`super::ReportStore::report_index_plan`]).
//!
//! Building an index over a large table takes seconds and holds writers back meanwhile, so it
//! is a job (`report_indexes`, the system's, not a user's): asked for when what is kept
//! changes in a way that wants other indexes, after a bulk import, and run daily to mend what
//! else moved (a purged field takes its indexes with it).

use super::{ReportQuery, ReportSpec};
use crate::error::{ErrorCode, Result};
use crate::jobs::{JobCtx, JobKind, JobState, NewJob};
use crate::meta::ObjectDef;
use crate::service::Crm;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// The indexes wanted: by name, the counting each is built from.
type Wanted = BTreeMap<String, (ObjectDef, ReportQuery)>;

impl Crm {
    /// The countings kept for the organisation: shared reports, shared dashboards' widgets,
    /// the forecast's.
    async fn standing_countings(&self) -> Result<Vec<(ObjectDef, ReportQuery)>> {
        let mut specs: Vec<ReportSpec> = self
            .store
            .all_reports()
            .await?
            .into_iter()
            .filter(|r| r.shared)
            .map(|r| r.spec)
            .collect();
        let zone = self.time_zone().await?;
        for dashboard in self.store.all_dashboards().await?.iter().filter(|d| d.shared) {
            specs.extend(crate::dashboards::widget_specs(self, dashboard, zone).await?);
        }
        let mut out = Vec::new();
        for spec in &specs {
            if let Some(counting) = self.shape_of(spec).await? {
                out.push(counting);
            }
        }
        if let Ok((_, deals)) = self.object("deal").await
            && let Ok(countings) = crate::forecast::forecast_countings(&deals)
        {
            out.extend(countings.into_iter().map(|q| (deals.clone(), q)));
        }
        Ok(out)
    }

    /// A report's counting by its shape; none for one that no longer fits the metadata (it
    /// runs nowhere, so it needs no index).
    async fn shape_of(&self, spec: &ReportSpec) -> Result<Option<(ObjectDef, ReportQuery)>> {
        match self.counting(spec, None).await {
            Ok(c) => Ok(Some((c.object, c.query))),
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::ValidationFailed
                        | ErrorCode::InvalidFilter
                        | ErrorCode::UnknownObject
                        | ErrorCode::UnknownField
                        | ErrorCode::NotFound
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn wanted_indexes(&self) -> Result<Wanted> {
        let countings = self.standing_countings().await?;
        let plan = self.store.report_index_plan(&countings);
        Ok(plan
            .into_iter()
            .filter_map(|(name, i)| countings.get(i).map(|c| (name, c.clone())))
            .collect())
    }

    /// Build the indexes the standing countings want and drop those none wants any more.
    /// What is wanted is looked at again before each index is built or dropped, so two runs
    /// at once, or a report changed during a run, never leave an index no one wants nor drop
    /// one that is wanted.
    pub async fn keep_report_indexes(&self, ctx: &JobCtx) -> Result<Json> {
        let wanted = self.wanted_indexes().await?;
        let existing: BTreeSet<String> = self.store.report_indexes().await?.into_iter().collect();
        let unwanted: Vec<&String> = existing.iter().filter(|n| !wanted.contains_key(*n)).collect();
        let (mut built, mut dropped) = (0_usize, 0_usize);
        ctx.phase("dropping", Some(unwanted.len() as u64));
        for name in unwanted {
            ctx.go_on()?;
            if !self.wanted_indexes().await?.contains_key(name) {
                self.store.drop_report_index(name).await?;
                dropped += 1;
            }
            ctx.advance(1);
        }
        let missing: Vec<&String> = wanted.keys().filter(|name| !existing.contains(*name)).collect();
        ctx.phase("building", Some(missing.len() as u64));
        for name in &missing {
            ctx.go_on()?;
            if let Some((object, query)) = self.wanted_indexes().await?.get(*name) {
                self.store.build_report_index(object, query).await?;
                built += 1;
            }
            ctx.advance(1);
        }
        Ok(json!({
            "built": built,
            "dropped": dropped,
            "kept": wanted.len() - missing.len(),
        }))
    }

    /// After a change to what is kept (a report or dashboard saved, changed, shared or
    /// deleted; a bulk import, which drops a table's indexes): when the indexes wanted are no
    /// longer those there, ask for the job, unless one waits already. A failure to ask is
    /// logged, never the change's failure: the daily run mends it.
    pub(crate) async fn ask_for_report_indexes(&self) {
        let differ = async {
            let wanted: BTreeSet<String> = self.wanted_indexes().await?.into_keys().collect();
            let existing: BTreeSet<String> = self.store.report_indexes().await?.into_iter().collect();
            Ok::<bool, crate::error::Error>(wanted != existing)
        };
        match differ.await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e.detail, "the indexes for reports could not be compared");
                return;
            }
        }
        let waiting = match self.store.jobs(None, 100).await {
            Ok(jobs) => jobs
                .into_iter()
                .any(|j| j.kind() == Some(JobKind::ReportIndexes) && j.state == JobState::Queued),
            Err(_) => false,
        };
        if waiting {
            return;
        }
        let job = NewJob::now(JobKind::ReportIndexes, json!({}), None, self.clock.now());
        if let Err(e) = self.enqueue(job).await {
            tracing::warn!(error = %e.detail, "the indexes for reports could not be asked for");
        }
    }
}
