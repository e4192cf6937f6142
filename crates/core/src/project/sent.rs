//! Status reports as sent and kept: the Markdown and the facts it stated, so the next report can
//! say what changed since.

use super::change::ChangeState;
use super::model::Budget;
use crate::ids::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFact {
    pub name: String,
    pub start: NaiveDate,
    pub finish: NaiveDate,
    pub done: bool,
    #[serde(default)]
    pub milestone: bool,
}

/// What a report stated, kept with it so the next report can compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub as_of: NaiveDate,
    pub target: NaiveDate,
    pub forecast: Option<NaiveDate>,
    pub percent_complete: f64,
    pub budget: Budget,
    pub tasks: BTreeMap<u32, TaskFact>,
    pub changes: BTreeMap<u32, (String, ChangeState)>,
    pub escalations: BTreeMap<u32, (String, bool)>,
    pub members: BTreeMap<u32, String>,
}

/// A sent report, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub sent_at: DateTime<Utc>,
    pub sent_by: UserId,
    /// The author's own words, as added.
    #[serde(default)]
    pub text: String,
    /// The report as sent.
    pub markdown: String,
    pub facts: Facts,
}
