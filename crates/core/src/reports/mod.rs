//! Reports: any object's records the reader may see, filtered, grouped by up to two fields
//! (dates bucketed by day, week, month, quarter or year in the workspace's time zone; owners
//! also by their team), measured (count, or the sum, average, least or greatest of a number,
//! percentage or amount; amounts in the reporting currency), as a table, a pivot and a chart.
//! A report is a [`ReportSpec`]: sent whole to be run, or kept under a name ([`SavedReport`]).
//!
//! `spec.rs` checks a spec against the metadata, `engine.rs` runs it (the store counts, this
//! module folds buckets, teams and currencies), `service.rs` keeps saved reports.

mod engine;
mod grouped;
mod indexes;
mod mailing;
mod service;
mod spec;
mod table;

pub use engine::{Cell, Figures, GroupValue, Header, ReportResult};
pub use grouped::{GroupedReport, ReportGroup, groupable, summable};
pub use mailing::{Cadence, DueReport, Subscription};
pub use service::{ReportView, SavedReportBody};
pub use spec::{
    ChartKind, GroupField, Grouping, MAX_GROUPS, Measure, MeasureFn, ReportSpec, group_field, groupable_fields,
    measurable_fields, related_groupable_fields,
};
pub use table::{SheetWords, sheet, sheet_file};

use crate::error::Result;
use crate::filter::Condition;
use crate::ids::{ReportId, UserId};
use crate::meta::{FieldDef, ObjectDef};
use crate::value::Value;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What a report's rows are grouped by in the store.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupKey {
    /// A column as it is kept.
    Column(FieldDef),
    /// A date as the first day of its month (months, quarters and years are folded from it:
    /// fewer groups than days).
    Month(FieldDef),
    /// A datetime as the local day it falls on, by a zone's offsets from UTC (each with the
    /// instant from which it holds, oldest first: [`crate::zone::offsets`]).
    LocalDay {
        field: FieldDef,
        offsets: Arc<Vec<(DateTime<Utc>, i32)>>,
    },
    /// A related record's key, one hop away: the live record of `object` the relation column
    /// holds, when it is among the owners' (`None`: anyone's); otherwise none, as if the
    /// relation were empty. `key` is one of the related object's own (never related again).
    Related {
        relation: String,
        object: String,
        owners: Option<Vec<UserId>>,
        key: Box<GroupKey>,
    },
}

/// The counting a report asks of the store.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub filter: Option<Condition>,
    pub owners: Option<Vec<UserId>>,
    pub keys: Vec<GroupKey>,
    /// A number, percentage or amount measured per group.
    pub measure: Option<FieldDef>,
    /// A percentage the measure is weighted by (an amount by its probability).
    pub weight: Option<FieldDef>,
}

/// One group of records as the store counted them.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// One per key, in order: a [`GroupKey::LocalDay`] or [`GroupKey::Month`] comes back as a
    /// `Value::Date`.
    pub keys: Vec<Value>,
    pub count: i64,
    /// How many of them have a value to measure.
    pub measured: i64,
    /// In the field's own unit: minor units for money.
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// With a weight: the sum of measure × weight, and the sum of the measure where the weight
    /// is empty (for a default weight to apply).
    pub weighted: Option<f64>,
    pub unweighted: Option<f64>,
}

/// A report kept under a name: its owner's, or shared with everyone who may read records.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedReport {
    pub id: ReportId,
    pub name: String,
    pub owner: UserId,
    pub shared: bool,
    pub spec: ReportSpec,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where reports are counted and kept.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Count (and measure) an object's live records per group.
    async fn report_rows(&self, object: &ObjectDef, query: &ReportQuery) -> Result<Vec<ReportRow>>;
    async fn create_report(&self, report: &SavedReport) -> Result<()>;
    /// Replace a report's name, sharing and spec when its version is still `expected`;
    /// false when another writer got there first.
    async fn update_report(&self, report: &SavedReport, expected: i64) -> Result<bool>;
    async fn report(&self, id: ReportId) -> Result<Option<SavedReport>>;
    /// A user's own reports and every shared one, by name.
    async fn reports(&self, user: UserId) -> Result<Vec<SavedReport>>;
    async fn delete_report(&self, id: ReportId) -> Result<bool>;
    /// Every saved report, whoever's.
    async fn all_reports(&self) -> Result<Vec<SavedReport>>;
    /// The indexes that would serve these countings, where this store wants them (a database
    /// that groups by sorting is spared the sort by an index that holds the grouping's
    /// columns in order; one that groups by hashing wants none): each index's name and the
    /// counting to build it from. One index may serve several countings, and a table is given
    /// a few at most.
    fn report_index_plan(&self, countings: &[(ObjectDef, ReportQuery)]) -> Vec<(String, usize)>;
    /// The indexes built for countings, by name.
    async fn report_indexes(&self) -> Result<Vec<String>>;
    /// Build the index that serves a counting (none where the store wants none).
    async fn build_report_index(&self, object: &ObjectDef, query: &ReportQuery) -> Result<()>;
    async fn drop_report_index(&self, name: &str) -> Result<()>;
    /// Keep a subscription; one of the same report and user gets the new cadence.
    async fn put_subscription(&self, subscription: &Subscription) -> Result<()>;
    async fn subscriptions_of(&self, report: ReportId) -> Result<Vec<Subscription>>;
    async fn all_subscriptions(&self) -> Result<Vec<Subscription>>;
    async fn delete_subscription(&self, report: ReportId, user: UserId) -> Result<bool>;
    /// Set the period last sent, when it is still `previous`; false when another run did.
    async fn mark_subscription_sent(
        &self,
        report: ReportId,
        user: UserId,
        period: chrono::NaiveDate,
        previous: Option<chrono::NaiveDate>,
    ) -> Result<bool>;
    /// Put `previous` back where `period` was kept (the e-mail failed).
    async fn restore_subscription(
        &self,
        report: ReportId,
        user: UserId,
        period: chrono::NaiveDate,
        previous: Option<chrono::NaiveDate>,
    ) -> Result<()>;
}
