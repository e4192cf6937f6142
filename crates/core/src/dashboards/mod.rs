//! Dashboards (issue 21, point 2): a named grid of widgets, each a saved report or a single
//! figure with its change against the previous period, looked at for a period (this month,
//! last quarter…) and a scope (me, my team, everyone). A dashboard keeps no figures: every
//! widget runs as its reader, so they see only what they may see.
//!
//! This module holds the model and the port; `service.rs` the use cases (keeping, checking,
//! viewing, the default dashboard per role).

mod service;

pub(crate) use service::widget_specs;

pub use service::{
    Change, DEFAULT_PERIOD, DashboardRun, DashboardView, FigureRun, PeriodRange, SupportRun, WidgetRun, change,
};

use crate::auth::Role;
use crate::error::Result;
use crate::ids::{ReportId, UserId};
use crate::reports::Measure;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::fmt;
use uuid::Uuid;

/// The most widgets one dashboard holds.
pub const MAX_WIDGETS: usize = 12;
/// The columns of the grid; a widget spans 1 to 3 of them.
pub const COLUMNS: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DashboardId(pub Uuid);

impl DashboardId {
    /// A new time-ordered id (UUIDv7) for the given moment.
    pub fn new_at(now: DateTime<Utc>) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis / 1000,
            u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        );
        Self(Uuid::new_v7(ts))
    }

    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(Self)
    }
}

impl fmt::Display for DashboardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Whose records a dashboard counts: the reader's, their team's, or all they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Me,
    Team,
    #[default]
    Everyone,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Me, Scope::Team, Scope::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Me => "me",
            Scope::Team => "team",
            Scope::Everyone => "everyone",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

fn one_column() -> u8 {
    1
}

/// One tile of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Widget {
    Report(ReportWidget),
    Figure(FigureWidget),
    Support(SupportWidget),
}

impl Widget {
    pub fn width(&self) -> u8 {
        match self {
            Widget::Report(r) => r.width,
            Widget::Figure(f) => f.width,
            Widget::Support(s) => s.width,
        }
    }
}

/// A saved report, drawn as its chart and a compact table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportWidget {
    pub report: ReportId,
    /// Shown instead of the report's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The date the period applies to when the report's first grouping is no date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_field: Option<String>,
    #[serde(default = "one_column")]
    pub width: u8,
}

/// One figure (a count or a measure) for the period, beside the one for the period before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureWidget {
    pub title: String,
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Json>,
    #[serde(default)]
    pub measure: Measure,
    /// The date or datetime the period applies to.
    pub date_field: String,
    /// A figure of what should shrink (people without an e-mail address): a fall is good news.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lower_is_better: bool,
    #[serde(default = "one_column")]
    pub width: u8,
}

/// One of the support chain's figures (issue 23), of the questions the reader may see, for the
/// dashboard's period, narrowed by its scope to the reader's own questions (raised or assigned)
/// or their team's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportWidget {
    pub figure: SupportFigure,
    /// Shown instead of the figure's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default = "one_column")]
    pub width: u8,
}

/// Which support figure a widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportFigure {
    /// Questions asked, beside the period before.
    Asked,
    /// Questions solved, beside the period before.
    Solved,
    /// Agreed times missed, beside the period before (a fall is good news).
    Breaches,
    /// Asked and solved per week.
    Weekly,
    /// Each level's median time to a first answer and to a solution.
    Levels,
    /// The most asked categories.
    Categories,
}

impl SupportFigure {
    pub const ALL: [SupportFigure; 6] = [
        SupportFigure::Asked,
        SupportFigure::Solved,
        SupportFigure::Breaches,
        SupportFigure::Weekly,
        SupportFigure::Levels,
        SupportFigure::Categories,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SupportFigure::Asked => "asked",
            SupportFigure::Solved => "solved",
            SupportFigure::Breaches => "breaches",
            SupportFigure::Weekly => "weekly",
            SupportFigure::Levels => "levels",
            SupportFigure::Categories => "categories",
        }
    }

    /// A single count set against the period before (the others are a chart or a table).
    pub fn is_count(self) -> bool {
        matches!(
            self,
            SupportFigure::Asked | SupportFigure::Solved | SupportFigure::Breaches
        )
    }

    /// Its count in a span's figures, for the counts.
    pub fn count(self, figures: &crate::support::SupportFigures) -> Option<u64> {
        match self {
            SupportFigure::Asked => Some(figures.asked()),
            SupportFigure::Solved => Some(figures.solved()),
            SupportFigure::Breaches => Some(figures.breaches),
            _ => None,
        }
    }
}

/// A dashboard as kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub id: DashboardId,
    pub name: String,
    pub owner: UserId,
    pub shared: bool,
    /// The roles a shared dashboard is shown to by default.
    pub audience: Vec<Role>,
    /// The scope it opens with (the reader may choose another).
    pub scope: Scope,
    pub widgets: Vec<Widget>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where dashboards are kept.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    async fn create_dashboard(&self, dashboard: &Dashboard) -> Result<()>;
    /// Replace a dashboard when its version is still `expected`; false when another writer
    /// got there first (or it is gone).
    async fn update_dashboard(&self, dashboard: &Dashboard, expected: i64) -> Result<bool>;
    async fn dashboard(&self, id: DashboardId) -> Result<Option<Dashboard>>;
    /// A user's own dashboards and every shared one, by name.
    async fn dashboards(&self, user: UserId) -> Result<Vec<Dashboard>>;
    async fn delete_dashboard(&self, id: DashboardId) -> Result<bool>;
    /// Every dashboard, whoever's.
    async fn all_dashboards(&self) -> Result<Vec<Dashboard>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn widgets_read_their_kind_and_refuse_unknown_keys() {
        let w: Widget = serde_json::from_value(json!({
            "kind": "figure", "title": "Won", "object": "deal",
            "measure": {"func": "sum", "field": "amount"}, "date_field": "closed_at", "width": 2
        }))
        .unwrap();
        assert_eq!(w.width(), 2);
        let r: Widget = serde_json::from_value(json!({
            "kind": "report", "report": "0190a2c4-2b3c-7d4e-8f00-112233445566"
        }))
        .unwrap();
        assert_eq!(r.width(), 1);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["kind"], "report");
        assert!(
            serde_json::from_value::<Widget>(json!({
                "kind": "report", "report": "0190a2c4-2b3c-7d4e-8f00-112233445566", "colour": "red"
            }))
            .is_err()
        );
        let s: Widget = serde_json::from_value(json!({"kind": "support", "figure": "weekly", "width": 3})).unwrap();
        assert_eq!(s.width(), 3);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"kind": "support", "figure": "weekly", "width": 3})
        );
        assert!(serde_json::from_value::<Widget>(json!({"kind": "support", "figure": "tickets"})).is_err());
    }
}
