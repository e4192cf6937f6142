//! Indexes for the reports people keep. SQLite groups by sorting every row it counts, which
//! over a million people takes seconds; an index that holds a report's grouping columns in
//! order (and the rest it reads) turns the same report into one walk of that index. Which
//! reports deserve one is known here — the saved ones, those on dashboards (with the period
//! a dashboard puts on them) and the forecast's own countings; what the index is, and whether
//! the database wants one at all, is the store's ([`super::ReportStore::report_index`]).
//!
//! Building an index over a large table takes seconds and blocks writers meanwhile, so it is
//! a job (`report_indexes`): asked for when a report or a dashboard changes, and run daily to
//! mend what else moved (a field dropped takes its indexes with it).

use super::{ReportQuery, ReportSpec};
use crate::auth::Principal;
use crate::error::{ErrorCode, Result};
use crate::jobs::{JobCtx, JobKind, NewJob};
use crate::meta::ObjectDef;
use crate::service::Crm;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

impl Crm {
    /// The countings kept reports, dashboards and the forecast ask for, by their shape.
    async fn standing_countings(&self) -> Result<Vec<(ObjectDef, ReportQuery)>> {
        let mut specs: Vec<ReportSpec> = self.store.all_reports().await?.into_iter().map(|r| r.spec).collect();
        let zone = self.time_zone().await?;
        for dashboard in self.store.all_dashboards().await? {
            specs.extend(crate::dashboards::widget_specs(self, &dashboard, zone).await?);
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

    /// Build the indexes the standing countings want and drop those none wants any more.
    pub async fn keep_report_indexes(&self, ctx: &JobCtx) -> Result<Json> {
        let mut wanted: BTreeMap<String, (ObjectDef, ReportQuery)> = BTreeMap::new();
        for (object, query) in self.standing_countings().await? {
            if let Some(name) = self.store.report_index(&object, &query) {
                wanted.entry(name).or_insert((object, query));
            }
        }
        let existing: BTreeSet<String> = self.store.report_indexes().await?.into_iter().collect();
        let unwanted: Vec<&String> = existing.iter().filter(|n| !wanted.contains_key(*n)).collect();
        ctx.phase("dropping", Some(unwanted.len() as u64));
        for name in &unwanted {
            ctx.go_on()?;
            self.store.drop_report_index(name).await?;
            ctx.advance(1);
        }
        let missing: Vec<&(ObjectDef, ReportQuery)> = wanted
            .iter()
            .filter(|(name, _)| !existing.contains(*name))
            .map(|(_, c)| c)
            .collect();
        ctx.phase("building", Some(missing.len() as u64));
        for (object, query) in &missing {
            ctx.go_on()?;
            self.store.build_report_index(object, query).await?;
            ctx.advance(1);
        }
        Ok(json!({
            "built": missing.len(),
            "dropped": unwanted.len(),
            "kept": wanted.len() - missing.len(),
        }))
    }

    /// After a change to these reports (saved, changed, deleted, put on or taken off a
    /// dashboard): ask for the indexes to be brought up to date, when any of them wants one.
    /// One job waiting is enough; a failure to ask is logged, never the change's failure (the
    /// daily run mends it).
    pub(crate) async fn ask_for_report_indexes(&self, who: &Principal, specs: &[&ReportSpec]) {
        let mut wants = false;
        for spec in specs {
            if let Ok(Some((object, query))) = self.shape_of(spec).await
                && self.store.report_index(&object, &query).is_some()
            {
                wants = true;
                break;
            }
        }
        if !wants {
            return;
        }
        let waiting = match self.store.jobs(Some(who.user_id), 20).await {
            Ok(jobs) => jobs
                .into_iter()
                .any(|j| j.kind() == Some(JobKind::ReportIndexes) && j.state == crate::jobs::JobState::Queued),
            Err(_) => false,
        };
        if waiting {
            return;
        }
        let job = NewJob::now(JobKind::ReportIndexes, json!({}), Some(who.user_id), self.clock.now());
        if let Err(e) = self.enqueue(job).await {
            tracing::warn!(error = %e.detail, "the indexes for reports could not be asked for");
        }
    }
}
