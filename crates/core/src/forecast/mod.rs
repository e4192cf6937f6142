//! The pipeline forecast (requirement A6): open deals weighted by their probability per month or
//! quarter of their expected close, forecast categories (pipeline, best case, commit, closed,
//! omitted: the stage's unless a deal says otherwise), quotas per owner and team with
//! attainment, win rate and the stage funnel from the stage history in the change log, average
//! deal size, sales-cycle length, close dates pushed, and weekly snapshots kept so a period's
//! forecast can be held against what closed.
//!
//! `service.rs` holds the use cases and the snapshot job; the rules are here.

mod service;

pub(crate) use service::forecast_countings;
pub use service::{Accuracy, Forecast, ForecastParams, FunnelStep, OwnerRow, PeriodRow, Pushed};

use crate::error::Result;
use crate::ids::{RecordId, TeamId, UserId};
use crate::meta::ObjectDef;
use crate::period::Bucket;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Pipeline,
    BestCase,
    Commit,
    Closed,
    Omitted,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Pipeline,
        Category::BestCase,
        Category::Commit,
        Category::Closed,
        Category::Omitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pipeline => "pipeline",
            Category::BestCase => "best_case",
            Category::Commit => "commit",
            Category::Closed => "closed",
            Category::Omitted => "omitted",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A stage's forecast category when the deal names none: early stages are pipeline, a
/// proposal best case, a negotiation commit; won is closed, lost omitted. A stage of one's own
/// is pipeline.
pub fn default_category(stage: &str) -> Category {
    match stage {
        "proposal" => Category::BestCase,
        "negotiation" => Category::Commit,
        "won" => Category::Closed,
        "lost" => Category::Omitted,
        _ => Category::Pipeline,
    }
}

/// A deal's category: its own, else its stage's; a won or lost deal is closed or omitted
/// whatever it says (it is no longer a forecast).
pub fn category_of(stage: &str, own: Option<&str>) -> Category {
    match stage {
        "won" => Category::Closed,
        "lost" => Category::Omitted,
        // An open deal is not closed whatever it says: the most it can be is committed.
        _ => match own.and_then(Category::parse) {
            Some(Category::Closed) => Category::Commit,
            Some(c) => c,
            None => default_category(stage),
        },
    }
}

/// The day a deal closes is the day it is won or lost: an open deal moved to a closed stage
/// gets the local day it happened as its close date (as HubSpot does), so the forecast counts
/// it in the period it closed, not the one it was once expected in — whichever way it is
/// moved (the form, the board, a bulk edit, the API). A close date the same write changes is
/// the one the person chose; the one already kept, sent back unchanged by a form, is not. A
/// deal already closed (won, then lost) keeps its day; a deal made closed (history being
/// entered) is left as written.
pub(crate) fn close_on_closing(
    object: &ObjectDef,
    input: &mut crate::record::RecordInput,
    before: &crate::record::Record,
    today: NaiveDate,
) {
    use crate::value::Value;
    const STAGE: &str = "stage";
    const CLOSE: &str = "expected_close";
    let closed = |v: &Value| matches!(v, Value::Select(s) if crate::start::CLOSED_STAGES.contains(&s.as_str()));
    let Some(stage) = input.values.get(STAGE) else {
        return;
    };
    let chosen = input
        .values
        .get(CLOSE)
        .is_some_and(|v| *v != Value::Null && v != before.get(CLOSE));
    if object.name != "deal"
        || !closed(stage)
        || closed(before.get(STAGE))
        || chosen
        || object
            .field(CLOSE)
            .is_none_or(|f| f.field_type != crate::meta::FieldType::Date)
    {
        return;
    }
    input.values.insert(CLOSE.to_string(), Value::Date(today));
}

/// A stage's probability in percent when the deal names none.
pub fn default_probability(stage: &str) -> f64 {
    match stage {
        "lead" => 10.0,
        "qualified" => 25.0,
        "proposal" => 50.0,
        "negotiation" => 75.0,
        "won" => 100.0,
        _ => 0.0,
    }
}

/// A change of a deal's stage, with when the deal was made (a deal never changed is read from
/// the deals themselves, not from the change log: far fewer rows).
#[derive(Debug, Clone, PartialEq)]
pub struct StageChange {
    pub record: RecordId,
    pub owner: Option<UserId>,
    pub made_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A quota: what an owner or a team is to win in a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quota {
    pub id: crate::ids::RecordId,
    pub user: Option<UserId>,
    pub team: Option<TeamId>,
    pub bucket: Bucket,
    pub period_start: NaiveDate,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

/// One owner's forecast for one period as a week's snapshot kept it (amounts in minor units of
/// the reporting currency at the time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotRow {
    /// The Monday of the week it was taken.
    pub taken_on: NaiveDate,
    pub bucket: Bucket,
    pub period_start: NaiveDate,
    pub owner: Option<UserId>,
    pub currency: String,
    pub closed: f64,
    pub commit: f64,
    pub best_case: f64,
    pub pipeline: f64,
    pub weighted: f64,
}

/// Where the forecast's own data is kept and the stage history read.
#[async_trait]
pub trait ForecastStore: Send + Sync {
    /// The changes of `field` of an object's live records (of these owners, when given) since
    /// a moment, oldest first.
    async fn stage_changes(
        &self,
        object: &ObjectDef,
        field: &str,
        owners: Option<&[UserId]>,
        since: DateTime<Utc>,
    ) -> Result<Vec<StageChange>>;
    /// How often each live record's date `field` was moved later since a moment (only records
    /// moved at least once).
    async fn date_pushes(
        &self,
        object: &ObjectDef,
        field: &str,
        owners: Option<&[UserId]>,
        since: DateTime<Utc>,
    ) -> Result<Vec<(RecordId, i64)>>;
    /// Keep a quota, replacing the one of the same owner or team and period.
    async fn put_quota(&self, quota: &Quota) -> Result<()>;
    async fn quotas(&self, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<Quota>>;
    async fn delete_quota(&self, id: RecordId) -> Result<bool>;
    /// Keep a week's snapshot rows; a week already kept is left as it was (the first run of a
    /// week wins). Returns how many rows were added.
    async fn keep_snapshot(&self, rows: &[SnapshotRow]) -> Result<u64>;
    async fn snapshots(&self, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<SnapshotRow>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deal_is_in_its_own_category_unless_it_is_won_or_lost() {
        assert_eq!(category_of("proposal", None), Category::BestCase);
        assert_eq!(category_of("lead", Some("commit")), Category::Commit);
        assert_eq!(category_of("won", Some("pipeline")), Category::Closed);
        assert_eq!(category_of("lost", Some("commit")), Category::Omitted);
        assert_eq!(category_of("our_own_stage", Some("nonsense")), Category::Pipeline);
        assert_eq!(
            category_of("proposal", Some("closed")),
            Category::Commit,
            "open is never closed"
        );
    }

    #[test]
    fn a_deal_closes_on_the_day_it_is_won_or_lost_unless_told_otherwise() {
        use crate::record::{Record, RecordInput};
        use crate::value::Value;
        let deal = crate::meta::standard_objects()
            .into_iter()
            .find(|o| o.name == "deal")
            .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let expected = Value::Date(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap());
        let input = |pairs: &[(&str, Value)]| RecordInput {
            values: pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect(),
            owner: None,
            version: None,
            links: None,
        };
        let won = Value::Select("won".into());
        let mut open = Record::new("deal", RecordId::new_at(Utc::now()), Utc::now(), None);
        open.values.insert("stage".into(), Value::Select("negotiation".into()));
        open.values.insert("expected_close".into(), expected.clone());
        let after = |write: &[(&str, Value)], before: &Record| {
            let mut moved = input(write);
            close_on_closing(&deal, &mut moved, before, today);
            moved.values.get("expected_close").cloned()
        };
        // Dragged on the board, or a bulk edit: the stage alone.
        assert_eq!(after(&[("stage", won.clone())], &open), Some(Value::Date(today)));
        // The form sends the date it showed, unchanged: the same.
        assert_eq!(
            after(&[("stage", won.clone()), ("expected_close", expected.clone())], &open),
            Some(Value::Date(today))
        );
        // A date the person changed in the same write is the day.
        let chosen = Value::Date(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(
            after(
                &[
                    ("stage", Value::Select("lost".into())),
                    ("expected_close", chosen.clone())
                ],
                &open
            ),
            Some(chosen)
        );
        // Won, then lost: it closed already, its day stays.
        let mut closed = open.clone();
        closed.values.insert("stage".into(), won.clone());
        assert_eq!(after(&[("stage", Value::Select("lost".into()))], &closed), None);
        // Still open: nothing.
        assert_eq!(after(&[("stage", Value::Select("proposal".into()))], &open), None);
    }
}
