//! The start page's CRM half, for every role: the caller's activities due today or overdue,
//! their open deals by stage with amounts, and the records they opened or that changed last. The project
//! half (actions, approvals…) is [`crate::project`]'s follow-up. Everything is read through the
//! same lists as anywhere else, so record visibility holds.

use crate::RecordId;
use crate::auth::Principal;
use crate::currency::{Converted, CurrencySettings, GroupTotal, totals_by_first_key};
use crate::error::{ErrorCode, Result};
use crate::record::Record;
use crate::service::{Crm, ListParams};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::json;
use std::collections::BTreeMap;

/// How many due activities and recent records the start page lists.
pub const START_LINES: u32 = 10;

/// Stages a deal is closed in: it is no longer in anyone's pipeline.
pub const CLOSED_STAGES: [&str; 2] = ["won", "lost"];

#[derive(Debug, Clone, Default)]
pub struct StartPage {
    /// Open activities of the caller due before tomorrow, the oldest first.
    pub due: Vec<Record>,
    /// How many there are in all.
    pub due_total: u64,
    /// The caller's open deals per stage, in the stages' order.
    pub pipeline: Vec<StageLine>,
    /// The currency the stages' sums are given in.
    pub reporting: String,
    /// The records the caller opened lately and their own companies, people and deals that
    /// changed last, newest first.
    pub recent: Vec<Recent>,
}

/// A record on the start page's "recently" list.
#[derive(Debug, Clone)]
pub struct Recent {
    pub object: String,
    pub record: Record,
    /// When the caller last opened it; `None` when it is listed because it changed.
    pub opened_at: Option<DateTime<Utc>>,
}

impl Recent {
    /// Whether what puts it on the list is the caller opening it (not a later change).
    pub fn last_opened(&self) -> bool {
        self.opened_at.is_some_and(|o| o >= self.record.updated_at)
    }
}

impl Recent {
    /// What puts it on the list: the later of opening it and its last change.
    pub fn at(&self) -> DateTime<Utc> {
        self.opened_at
            .map_or(self.record.updated_at, |o| o.max(self.record.updated_at))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageLine {
    pub stage: String,
    pub count: i64,
    /// Currency → amount in minor units (the deals' own currencies, not converted).
    pub amounts: BTreeMap<String, i64>,
    /// The amounts in the reporting currency.
    pub total: Converted,
}

impl Crm {
    /// Note that the caller opened a record they were shown (a record page), for their start
    /// page's "opened recently".
    pub async fn note_visit(&self, who: &Principal, object: &str, record: RecordId, at: DateTime<Utc>) -> Result<()> {
        self.store.note_visit(who.user_id, object, record, at).await
    }

    /// The caller's newest visits that still exist and that they may still see.
    async fn opened_lately(&self, who: &Principal) -> Result<Vec<Recent>> {
        let mut out = Vec::new();
        for (object, id, at) in self.store.recent_visits(who.user_id, START_LINES * 2).await? {
            match self.get(who, &object, &id.to_string()).await {
                Ok((_, record)) => out.push(Recent {
                    object,
                    record,
                    opened_at: Some(at),
                }),
                // Deleted, erased, out of sight, or its object archived: not listed.
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::NotFound | ErrorCode::Forbidden | ErrorCode::UnknownObject
                    ) => {}
                Err(e) => return Err(e),
            }
            if out.len() == START_LINES as usize {
                break;
            }
        }
        Ok(out)
    }

    pub async fn start_page(&self, who: &Principal) -> Result<StartPage> {
        let me = who.user_id.to_string();
        let end_of_today = self.clock.now().date_naive().and_time(NaiveTime::MIN) + Duration::days(1);
        let due_filter = json!({"and": [
            {"field": "owner", "op": "eq", "value": me},
            {"field": "due_at", "op": "lt", "value": end_of_today.and_utc().to_rfc3339()},
            {"or": [{"field": "done", "op": "is_empty"}, {"field": "done", "op": "eq", "value": false}]},
        ]});
        let (_, due) = self
            .list(
                who,
                "activity",
                &ListParams {
                    filter: Some(due_filter.to_string()),
                    sort: Some("due_at".into()),
                    limit: Some(START_LINES.to_string()),
                    count: true,
                    ..ListParams::default()
                },
            )
            .await?;
        let open_deals = json!({"and": [
            {"field": "owner", "op": "eq", "value": me},
            {"not": {"field": "stage", "op": "in", "value": CLOSED_STAGES}},
        ]});
        let rows = self
            .aggregate(
                who,
                "deal",
                &["stage", "currency"],
                Some("amount"),
                Some(&open_deals.to_string()),
            )
            .await?;
        let (_, deal) = self.object("deal").await?;
        let order: Vec<String> = deal
            .field("stage")
            .map(|f| f.choices.iter().map(|c| c.value.clone()).collect())
            .unwrap_or_default();
        let mut recent = self.opened_lately(who).await?;
        for object in ["company", "person", "deal"] {
            let (_, page) = self
                .list(
                    who,
                    object,
                    &ListParams {
                        filter: Some(json!({"field": "owner", "op": "eq", "value": me}).to_string()),
                        sort: Some("-updated_at".into()),
                        limit: Some(START_LINES.to_string()),
                        ..ListParams::default()
                    },
                )
                .await?;
            for record in page.records {
                if !recent.iter().any(|r| r.record.id == record.id) {
                    recent.push(Recent {
                        object: object.to_string(),
                        record,
                        opened_at: None,
                    });
                }
            }
        }
        recent.sort_by_key(|r| std::cmp::Reverse(r.at()));
        recent.truncate(START_LINES as usize);
        let currency = self.currency_settings().await?;
        Ok(StartPage {
            due_total: due.total.map_or(due.records.len() as u64, |t| t.count),
            due: due.records,
            pipeline: pipeline(totals_by_first_key(&rows), &order, &currency),
            reporting: currency.reporting,
            recent,
        })
    }
}

/// One line per stage, in the stages' order, each with its sum in the reporting currency.
fn pipeline(totals: BTreeMap<String, GroupTotal>, order: &[String], currency: &CurrencySettings) -> Vec<StageLine> {
    let rank = |s: &str| order.iter().position(|o| o == s).unwrap_or(usize::MAX);
    let mut lines: Vec<StageLine> = totals
        .into_iter()
        .map(|(stage, t)| StageLine {
            total: currency.convert(&t.amounts),
            stage,
            count: t.count,
            amounts: t.amounts,
        })
        .collect();
    lines.sort_by_key(|l| rank(&l.stage));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::AggregateRow;
    use crate::value::Value;

    #[test]
    fn rows_by_stage_and_currency_become_one_line_per_stage_in_order() {
        let row = |stage: &str, currency: &str, count: i64, sum: f64| AggregateRow {
            keys: vec![Value::Select(stage.into()), Value::Select(currency.into())],
            count,
            sum: Some(sum),
        };
        let order: Vec<String> = ["lead", "qualified", "proposal"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let currency = CurrencySettings {
            reporting: "SEK".into(),
            rates: BTreeMap::from([("EUR".into(), 11.0)]),
        };
        let rows = [
            row("proposal", "EUR", 1, 50_000.0),
            row("lead", "SEK", 2, 100_000.0),
            row("lead", "EUR", 1, 20_000.0),
        ];
        let lines = pipeline(totals_by_first_key(&rows), &order, &currency);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].stage.as_str(), lines[0].count), ("lead", 3));
        assert_eq!(lines[0].amounts["SEK"], 100_000);
        assert_eq!(lines[0].amounts["EUR"], 20_000);
        assert_eq!(lines[0].total.minor, 100_000 + 220_000);
        assert_eq!(lines[1].stage, "proposal");
    }
}
