//! Status reports as use cases (B12): anyone who may read the project reads the report as it
//! stands; leaders send it, which keeps it as a snapshot (so the next report's "changes since"
//! is exact) and marks the communication-matrix rows it fulfils as done, in one write.

use super::matrix::Fulfilment;
use super::model::STATUS_REPORT;
use super::report::{self, DEFAULT_TEMPLATE, Draft, ReportInput, StatusReport, Voice};
use super::state::ProjectState;
use super::validate::{encode, text};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::service::Crm;
use crate::store::{ItemWrite, ProjectBatch};

const MAX_TEXT: usize = 20_000;

impl ProjectState {
    /// The project's report template, or the standard one.
    pub fn report_template(&self) -> &str {
        self.project
            .settings
            .report_template
            .as_deref()
            .unwrap_or(DEFAULT_TEMPLATE)
    }

    pub fn last_report(&self) -> Option<&StatusReport> {
        self.reports.last()
    }

    pub fn report(&self, number: u32) -> Option<&StatusReport> {
        self.reports.iter().find(|r| r.number == number)
    }

    /// The report as it would be sent today, with the author's `text`.
    pub fn draft_report(&self, today: chrono::NaiveDate, text: &str, voice: &dyn Voice) -> Result<Draft> {
        report::generate(
            self,
            &ReportInput {
                today,
                text,
                template: self.report_template(),
                last: self.last_report(),
            },
            voice,
        )
        .map_err(|e| Error::field("report_template", e))
    }
}

impl Crm {
    /// Send the status report: kept as sent, with the facts it stated.
    pub async fn send_report(
        &self,
        who: &Principal,
        id: &str,
        added: &str,
        voice: &(dyn Voice + Sync),
    ) -> Result<StatusReport> {
        let state = self.editable(who, id).await?;
        let added = text("text", added, MAX_TEXT, false)?;
        let now = self.clock.now();
        let today = now.date_naive();
        let draft = state.draft_report(today, &added, voice)?;
        let report = StatusReport {
            number: 0,
            version: 1,
            sent_at: now,
            sent_by: who.user_id,
            text: added,
            markdown: draft.markdown,
            facts: draft.facts,
        };
        let mut items = vec![ItemWrite::Insert {
            kind: STATUS_REPORT,
            body: encode(&report)?,
        }];
        items.extend(super::meeting_service::fulfil(&state, Fulfilment::StatusReport, today)?);
        let numbers = self
            .write(
                state.project.id,
                ProjectBatch {
                    items,
                    ..ProjectBatch::default()
                },
            )
            .await?;
        let number = numbers
            .first()
            .copied()
            .ok_or_else(|| Error::internal("the store numbered nothing"))?;
        Ok(StatusReport { number, ..report })
    }
}
