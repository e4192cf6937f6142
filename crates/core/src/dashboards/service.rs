//! Dashboards' use cases: keeping them (personal or shared with roles, versioned), checking
//! every widget on save (each mistake by its place, `widgets[2].report`), viewing one for a
//! period and a scope, and the dashboard a reader opens by default.
//!
//! Viewing runs each widget as the reader (`run_report`), with its own filter ANDed with the
//! period on its date field and the scope as an owner filter, so a widget's drill-down lists
//! exactly the records it counted. A report widget whose report the reader may not open shows
//! as unavailable, without its name or figures.

use super::{
    COLUMNS, Dashboard, DashboardId, FigureWidget, MAX_WIDGETS, ReportWidget, Scope, SupportFigure, SupportWidget,
    Widget,
};
use crate::auth::{Permission, Principal, Role, SchemaChange};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::ids::{ReportId, UserId};
use crate::meta::{FieldDef, FieldType, ObjectDef, Schema};
use crate::period::RelativePeriod;
use crate::reports::{ChartKind, Figures, Measure, MeasureFn, ReportResult, ReportSpec};
use crate::service::Crm;
use crate::support::{FigureSpan, Narrowed, QuestionScope, SupportFigures};
use crate::value::Value;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

const MAX_NAME: usize = 120;
/// The period a dashboard is viewed for unless the reader chooses another.
pub const DEFAULT_PERIOD: &str = "this_month";

/// A dashboard as its reader sees it: may they change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardView {
    #[serde(flatten)]
    pub dashboard: Dashboard,
    pub may_change: bool,
}

/// Days `[first, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodRange {
    pub first: NaiveDate,
    pub end: NaiveDate,
}

/// How a figure moved against the period before.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    pub delta: f64,
    /// Of the previous figure; none when that was zero.
    pub percent: Option<f64>,
}

/// One widget as run for its reader.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WidgetRun {
    Report {
        report: ReportId,
        /// The widget's title, else the report's name.
        title: String,
        width: u8,
        /// The date field the period was applied to, if any.
        period_field: Option<String>,
        result: Box<ReportResult>,
    },
    Figure(Box<FigureRun>),
    Support(Box<SupportRun>),
    /// A report the reader may not open, or a widget that no longer runs.
    Unavailable {
        width: u8,
    },
}

/// One figure for the period, beside the one for the period before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureRun {
    pub title: String,
    pub width: u8,
    pub object: String,
    pub measure: Measure,
    pub date_field: String,
    pub current: Figures,
    pub previous: Figures,
    pub change: Option<Change>,
    /// Whether a fall is good news.
    pub lower_is_better: bool,
    /// The currency an amount is in.
    pub currency: Option<String>,
    pub money: bool,
    /// The filter that lists the current period's records.
    pub filter: Json,
    /// The filter that lists the previous period's records.
    pub previous_filter: Json,
}

/// One support figure for the period, of the questions the reader may see (narrowed by the
/// scope); a count beside the one for the period before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportRun {
    pub figure: SupportFigure,
    /// The widget's own title, if it has one.
    pub title: Option<String>,
    pub width: u8,
    /// The period's figures (up to today while it runs, for a count).
    pub figures: SupportFigures,
    /// A count's figures for the period before, to the same point of the calendar.
    pub previous: Option<SupportFigures>,
    /// How a count moved against the period before.
    pub change: Option<Change>,
}

impl WidgetRun {
    pub fn width(&self) -> u8 {
        match self {
            WidgetRun::Report { width, .. } | WidgetRun::Unavailable { width } => *width,
            WidgetRun::Figure(f) => f.width,
            WidgetRun::Support(s) => s.width,
        }
    }
}

/// A dashboard as run for one reader, one period and one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardRun {
    pub dashboard: DashboardView,
    pub period: String,
    pub scope: Scope,
    /// The period the reports show, and the one before, which figures are set against.
    pub current: PeriodRange,
    pub previous: PeriodRange,
    /// While the period runs, its days up to today (all of it once it has ended, or before it
    /// begins), and the period before to the same point of the calendar: a figure of records
    /// made or changed ("new people", on `created_at` or `updated_at`: nothing is made in the
    /// days ahead) four days into a month is set against the first four days of the month
    /// before, not all of it. Figures on other dates (a close date, a due date: those lie
    /// ahead too) compare whole periods.
    pub so_far: PeriodRange,
    pub previous_so_far: PeriodRange,
    pub widgets: Vec<WidgetRun>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDashboard {
    name: String,
    #[serde(default)]
    shared: bool,
    #[serde(default)]
    audience: Vec<Role>,
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    widgets: Vec<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardChange {
    version: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default)]
    audience: Option<Vec<Role>>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    widgets: Option<Vec<Json>>,
}

fn checked_text(place: &str, text: &str) -> std::result::Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_NAME || text.chars().any(char::is_control) {
        return Err(FieldError::new(
            place,
            format!("must be 1–{MAX_NAME} characters on one line"),
        ));
    }
    Ok(text.to_string())
}

fn checked_audience(audience: Vec<Role>) -> Vec<Role> {
    let mut out: Vec<Role> = Vec::new();
    for r in audience {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.sort();
    out
}

/// A field of the object a period can apply to: a date or a datetime (created, updated too).
fn date_field(object: &ObjectDef, name: &str) -> Option<FieldDef> {
    crate::filter::filter_field(object, name).filter(|f| matches!(f.field_type, FieldType::Date | FieldType::Datetime))
}

/// `place.field`, or `place` alone for the widget as a whole.
fn at(place: &str, field: &str) -> String {
    match field {
        "" | "body" | "." => place.to_string(),
        f if f.starts_with('[') => format!("{place}{f}"),
        f => format!("{place}.{f}"),
    }
}

/// The parts that all apply, as one filter.
fn all_of(parts: Vec<Option<Json>>) -> Option<Json> {
    let mut parts: Vec<Json> = parts.into_iter().flatten().filter(|p| !p.is_null()).collect();
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(json!({ "and": parts })),
    }
}

/// The part of a period up to today and the period before to the same point of the calendar
/// (the same day of its month, quarter, week or year, within it). A period that has ended,
/// or not begun, is compared whole.
fn compared_ranges(
    current: PeriodRange,
    bucket: crate::period::Bucket,
    today: NaiveDate,
) -> (PeriodRange, PeriodRange) {
    let previous_first = bucket.step(current.first, -1);
    let whole_before = PeriodRange {
        first: previous_first,
        end: current.first,
    };
    if today < current.first || today >= current.end {
        return (current, whole_before);
    }
    let so_far = PeriodRange {
        first: current.first,
        end: today.succ_opt().unwrap_or(current.end),
    };
    // Today's place a period back (the 31st of a month a month back is the 30th or the 28th:
    // its end), and the day after it.
    let same_day = bucket.step(today, -1);
    let end = same_day
        .succ_opt()
        .unwrap_or(same_day)
        .clamp(previous_first, current.first);
    (
        so_far,
        PeriodRange {
            first: previous_first,
            end,
        },
    )
}

/// Whether a date is a stamp of something done (a record made or changed): nothing has one
/// in the days ahead, so a running period is compared to the same point.
fn stamps_what_happened(field: &str) -> bool {
    matches!(field, "created_at" | "updated_at")
}

/// The records whose date falls in the days `[first, end)`, days beginning in the zone.
fn period_filter(field: &FieldDef, range: PeriodRange, zone: Tz) -> Json {
    let bound = |day: NaiveDate| match field.field_type {
        FieldType::Date => Value::Date(day).to_json(),
        _ => Value::DateTime(crate::zone::start_of_day(zone, day)).to_json(),
    };
    json!({"and": [
        {"field": field.name, "op": "gte", "value": bound(range.first)},
        {"field": field.name, "op": "lt", "value": bound(range.end)},
    ]})
}

/// The number a figure compares: the count for a count, else the measure (a sum of nothing
/// is zero; an average of nothing is no figure).
fn compared(func: MeasureFn, f: &Figures) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    match (func, f.value) {
        (MeasureFn::Count, _) => Some(f.count as f64),
        (MeasureFn::Sum, None) => Some(0.0),
        (_, v) => v,
    }
}

/// The change from `previous` to `current`.
pub fn change(func: MeasureFn, current: &Figures, previous: &Figures) -> Option<Change> {
    let (now, before) = (compared(func, current)?, compared(func, previous)?);
    let delta = now - before;
    Some(Change {
        delta,
        percent: (before != 0.0).then(|| delta / before.abs() * 100.0),
    })
}

/// What every widget of one view shares.
struct Looking {
    zone: Tz,
    current: PeriodRange,
    previous: PeriodRange,
    so_far: PeriodRange,
    previous_so_far: PeriodRange,
    /// The scope as an owner filter.
    owners: Option<Json>,
    /// The scope as the questions support figures count.
    narrowed: Narrowed,
    /// The questions the reader may see, worked out once for all support widgets (none when
    /// the dashboard has none).
    question_scope: Option<QuestionScope>,
}

impl Crm {
    fn may_change_dashboard(who: &Principal, schema: &Schema, d: &Dashboard) -> bool {
        d.owner == who.user_id || (d.shared && Self::may_share(who, schema))
    }

    fn may_share(who: &Principal, schema: &Schema) -> bool {
        who.may(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)
    }

    fn dashboard_view(who: &Principal, schema: &Schema, d: Dashboard) -> DashboardView {
        DashboardView {
            may_change: Self::may_change_dashboard(who, schema, &d),
            dashboard: d,
        }
    }

    /// A dashboard the caller may open (their own or a shared one), else not found.
    async fn readable_dashboard(&self, who: &Principal, id: &str) -> Result<(std::sync::Arc<Schema>, Dashboard)> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let missing = || Error::not_found(format!("no dashboard {id}"));
        let id = DashboardId::parse(id).ok_or_else(missing)?;
        let d = self.store.dashboard(id).await?.ok_or_else(missing)?;
        if d.owner != who.user_id && !d.shared {
            return Err(missing());
        }
        Ok((schema, d))
    }

    /// The caller's own dashboards and the shared ones, by name.
    pub async fn dashboards(&self, who: &Principal) -> Result<Vec<DashboardView>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        Ok(self
            .store
            .dashboards(who.user_id)
            .await?
            .into_iter()
            .map(|d| Self::dashboard_view(who, &schema, d))
            .collect())
    }

    pub async fn dashboard(&self, who: &Principal, id: &str) -> Result<DashboardView> {
        let (schema, d) = self.readable_dashboard(who, id).await?;
        Ok(Self::dashboard_view(who, &schema, d))
    }

    /// The dashboard a reader opens by default: their own most recently changed one, else the
    /// first shared one whose audience holds their role; none when neither exists.
    pub async fn home_dashboard(&self, who: &Principal) -> Result<Option<DashboardView>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let all = self.store.dashboards(who.user_id).await?;
        let own = all
            .iter()
            .filter(|d| d.owner == who.user_id)
            .max_by_key(|d| (d.updated_at, d.id))
            .cloned();
        let chosen = own.or_else(|| all.into_iter().find(|d| d.shared && d.audience.contains(&who.role)));
        Ok(chosen.map(|d| Self::dashboard_view(who, &schema, d)))
    }

    /// The default dashboard run for a period and a scope; not found when the reader has
    /// none yet (neither their own nor one shared with their role).
    pub async fn view_home_dashboard(
        &self,
        who: &Principal,
        period: Option<&str>,
        scope: Option<&str>,
    ) -> Result<DashboardRun> {
        let view = self
            .home_dashboard(who)
            .await?
            .ok_or_else(|| Error::not_found("no dashboard yet: make one, or ask for one shared with your role"))?;
        self.run_dashboard(who, view, period, scope).await
    }

    /// Keep a new dashboard, every widget checked.
    pub async fn create_dashboard(&self, who: &Principal, body: Json) -> Result<DashboardView> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let new: NewDashboard = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        let name = checked_text("name", &new.name).map_err(|e| errors.push(e)).ok();
        if new.shared || !new.audience.is_empty() {
            who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
        }
        let widgets = self.checked_widgets(who, new.widgets, &mut errors).await?;
        let (Some(name), true) = (name, errors.is_empty()) else {
            return Err(Error::validation(errors));
        };
        let now = self.clock.now();
        let d = Dashboard {
            id: DashboardId::new_at(now),
            name,
            owner: who.user_id,
            shared: new.shared,
            audience: checked_audience(new.audience),
            scope: new.scope,
            widgets,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_dashboard(&d).await?;
        if d.shared {
            self.ask_for_report_indexes().await;
        }
        Ok(Self::dashboard_view(who, &schema, d))
    }

    /// Change a dashboard at the version the caller read; a stale version is refused with the
    /// dashboard as it is now.
    pub async fn change_dashboard(&self, who: &Principal, id: &str, body: Json) -> Result<DashboardView> {
        let (schema, current) = self.readable_dashboard(who, id).await?;
        let change: DashboardChange = crate::service::from_body(body)?;
        if !Self::may_change_dashboard(who, &schema, &current) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only its owner, or whoever may share dashboards, changes a shared dashboard",
            ));
        }
        if change.version != current.version {
            let view = Self::dashboard_view(who, &schema, current);
            return Err(Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null)));
        }
        let mut next = current.clone();
        let mut errors = Vec::new();
        if let Some(name) = &change.name {
            match checked_text("name", name) {
                Ok(n) => next.name = n,
                Err(e) => errors.push(e),
            }
        }
        let sharing_changes = change.shared.is_some_and(|s| s != current.shared)
            || change
                .audience
                .as_ref()
                .is_some_and(|a| checked_audience(a.clone()) != current.audience);
        if sharing_changes {
            who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
        }
        if let Some(shared) = change.shared {
            next.shared = shared;
        }
        if let Some(audience) = change.audience {
            next.audience = checked_audience(audience);
        }
        if let Some(scope) = change.scope {
            next.scope = scope;
        }
        if let Some(widgets) = change.widgets {
            next.widgets = self.checked_widgets(who, widgets, &mut errors).await?;
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        next.version = current.version + 1;
        next.updated_at = self.clock.now();
        if !self.store.update_dashboard(&next, current.version).await? {
            let (schema, now) = self.readable_dashboard(who, id).await?;
            let view = Self::dashboard_view(who, &schema, now);
            return Err(Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null)));
        }
        if (next.shared || current.shared) && (next.widgets != current.widgets || next.shared != current.shared) {
            self.ask_for_report_indexes().await;
        }
        Ok(Self::dashboard_view(who, &schema, next))
    }

    pub async fn delete_dashboard(&self, who: &Principal, id: &str) -> Result<()> {
        let (schema, d) = self.readable_dashboard(who, id).await?;
        if !Self::may_change_dashboard(who, &schema, &d) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only its owner, or whoever may share dashboards, deletes a shared dashboard",
            ));
        }
        self.store.delete_dashboard(d.id).await?;
        if d.shared {
            self.ask_for_report_indexes().await;
        }
        Ok(())
    }

    /// Check every widget; the mistakes go to `errors`, each under its place.
    async fn checked_widgets(
        &self,
        who: &Principal,
        raw: Vec<Json>,
        errors: &mut Vec<FieldError>,
    ) -> Result<Vec<Widget>> {
        if raw.len() > MAX_WIDGETS {
            errors.push(FieldError::new(
                "widgets",
                format!("a dashboard holds at most {MAX_WIDGETS} widgets"),
            ));
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (i, json) in raw.into_iter().enumerate() {
            let place = format!("widgets[{i}]");
            match self.checked_widget(who, json).await {
                Ok(w) => out.push(w),
                Err(e) if !e.errors.is_empty() => {
                    errors.extend(
                        e.errors
                            .into_iter()
                            .map(|f| FieldError::new(at(&place, &f.field), f.message)),
                    );
                }
                Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Forbidden) => {
                    errors.push(FieldError::new(place, e.detail));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// One widget: its kind, width and title, the report it shows (one the caller may open)
    /// or the figure it counts (object, filter, measure, date field), tried once.
    async fn checked_widget(&self, who: &Principal, json: Json) -> Result<Widget> {
        match json.get("kind").and_then(Json::as_str) {
            Some("report" | "figure" | "support") => {}
            _ => return Err(Error::field("kind", "must be report, figure or support")),
        }
        let mut widget: Widget = crate::service::from_body(json)?;
        let mut errors = Vec::new();
        if !(1..=COLUMNS).contains(&widget.width()) {
            errors.push(FieldError::new("width", format!("must be 1 to {COLUMNS} columns")));
        }
        match &mut widget {
            Widget::Report(w) => self.check_report_widget(who, w, &mut errors).await?,
            Widget::Figure(w) => self.check_figure_widget(who, w, &mut errors).await?,
            Widget::Support(w) => {
                if let Some(title) = &w.title {
                    match checked_text("title", title) {
                        Ok(t) => w.title = Some(t),
                        Err(e) => errors.push(e),
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(widget)
        } else {
            Err(Error::validation(errors))
        }
    }

    async fn check_report_widget(
        &self,
        who: &Principal,
        w: &mut ReportWidget,
        errors: &mut Vec<FieldError>,
    ) -> Result<()> {
        if let Some(title) = &w.title {
            match checked_text("title", title) {
                Ok(t) => w.title = Some(t),
                Err(e) => errors.push(e),
            }
        }
        let saved = match self.saved_report(who, &w.report.to_string()).await {
            Ok(s) => s,
            Err(e) if e.code == ErrorCode::NotFound => {
                errors.push(FieldError::new("report", "is no saved report you may open"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(name) = &w.date_field {
            let schema = self.schema().await?;
            let object = schema.object(&saved.report.spec.object)?;
            if date_field(object, name).is_none() {
                errors.push(FieldError::new(
                    "date_field",
                    format!("{name:?} is no date of {}", object.name),
                ));
            }
        }
        Ok(())
    }

    async fn check_figure_widget(
        &self,
        who: &Principal,
        w: &mut FigureWidget,
        errors: &mut Vec<FieldError>,
    ) -> Result<()> {
        match checked_text("title", &w.title) {
            Ok(t) => w.title = t,
            Err(e) => errors.push(e),
        }
        let schema = self.schema().await?;
        let Ok(object) = schema.object(&w.object) else {
            errors.push(FieldError::new("object", format!("there is no object {:?}", w.object)));
            return Ok(());
        };
        if date_field(object, &w.date_field).is_none() {
            errors.push(FieldError::new(
                "date_field",
                format!("{:?} is no date of {}", w.date_field, object.name),
            ));
        }
        let spec = figure_spec(w, w.filter.clone());
        if let Err(e) = spec.plan(&schema, object) {
            errors.extend(e.errors);
            return Ok(());
        }
        match self.run_report(who, &spec).await {
            Ok(_) => Ok(()),
            Err(e) if !e.errors.is_empty() => {
                errors.extend(e.errors);
                Ok(())
            }
            Err(e) if e.code == ErrorCode::Forbidden => {
                errors.push(FieldError::new("object", e.detail));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// A dashboard run for its reader, for a period (`this_month` unless named) and a scope
    /// (the dashboard's unless named).
    pub async fn view_dashboard(
        &self,
        who: &Principal,
        id: &str,
        period: Option<&str>,
        scope: Option<&str>,
    ) -> Result<DashboardRun> {
        let view = self.dashboard(who, id).await?;
        self.run_dashboard(who, view, period, scope).await
    }

    /// A dashboard the caller has already read, run for a period and a scope.
    pub async fn run_dashboard(
        &self,
        who: &Principal,
        view: DashboardView,
        period: Option<&str>,
        scope: Option<&str>,
    ) -> Result<DashboardRun> {
        let name = period.filter(|p| !p.is_empty()).unwrap_or(DEFAULT_PERIOD);
        let relative = RelativePeriod::parse(name)
            .ok_or_else(|| Error::field("period", format!("must be one of {}", RelativePeriod::NAMES.join(", "))))?;
        let scope = match scope.filter(|s| !s.is_empty()) {
            None => view.dashboard.scope,
            Some(s) => Scope::parse(s).ok_or_else(|| Error::field("scope", "must be me, team or everyone"))?,
        };
        let zone = self.time_zone().await?;
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let (first, end) = relative.days(today);
        let current = PeriodRange { first, end };
        let previous = PeriodRange {
            first: relative.bucket.step(first, -1),
            end: first,
        };
        let (so_far, previous_so_far) = compared_ranges(current, relative.bucket, today);
        let owners = self.scope_owners(who, scope).await?.map(|ids| {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            json!({"field": "owner", "op": "in", "value": ids})
        });
        let narrowed = match (scope, who.team) {
            (Scope::Everyone, _) => Narrowed::Not,
            (Scope::Me, _) | (Scope::Team, None) => Narrowed::Person(who.user_id),
            (Scope::Team, Some(team)) => Narrowed::Team(team),
        };
        let question_scope = match view.dashboard.widgets.iter().any(|w| matches!(w, Widget::Support(_))) {
            true => Some(self.scope_of(who).await?),
            false => None,
        };
        let looking = Looking {
            zone,
            current,
            previous,
            so_far,
            previous_so_far,
            owners,
            narrowed,
            question_scope,
        };
        let runs =
            futures_util::future::join_all(view.dashboard.widgets.iter().map(|w| self.run_widget(who, w, &looking)))
                .await;
        let widgets = runs.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(DashboardRun {
            dashboard: view,
            period: name.to_string(),
            scope,
            current,
            previous,
            so_far,
            previous_so_far,
            widgets,
        })
    }

    /// The owners a scope keeps: the reader, the members of their team (the reader alone
    /// without one), or none for everyone.
    async fn scope_owners(&self, who: &Principal, scope: Scope) -> Result<Option<Vec<UserId>>> {
        Ok(match (scope, who.team) {
            (Scope::Everyone, _) => None,
            (Scope::Me, _) | (Scope::Team, None) => Some(vec![who.user_id]),
            (Scope::Team, Some(team)) => {
                let mut members = self.store.team_members(team).await?;
                if !members.contains(&who.user_id) {
                    members.push(who.user_id);
                }
                Some(members)
            }
        })
    }

    async fn run_widget(&self, who: &Principal, widget: &Widget, looking: &Looking) -> Result<WidgetRun> {
        let unavailable = WidgetRun::Unavailable { width: widget.width() };
        let outcome = match widget {
            Widget::Report(w) => self.run_report_widget(who, w, looking).await,
            Widget::Figure(w) => self.run_figure_widget(who, w, looking).await,
            Widget::Support(w) => self.run_support_widget(who, w, looking).await,
        };
        match outcome {
            Ok(run) => Ok(run),
            // The report is not the reader's to open, or the widget no longer fits the
            // metadata (a field archived since): shown as unavailable, saying nothing more.
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::NotFound
                        | ErrorCode::Forbidden
                        | ErrorCode::ValidationFailed
                        | ErrorCode::InvalidFilter
                        | ErrorCode::UnknownObject
                        | ErrorCode::UnknownField
                ) =>
            {
                Ok(unavailable)
            }
            Err(e) => Err(e),
        }
    }

    async fn run_report_widget(&self, who: &Principal, w: &ReportWidget, looking: &Looking) -> Result<WidgetRun> {
        let saved = self.saved_report(who, &w.report.to_string()).await?;
        let (_, object) = self.object(&saved.report.spec.object).await?;
        let (spec, period_field) = report_widget_spec(saved.report.spec, &object, w, looking);
        let result = self.run_report(who, &spec).await?;
        Ok(WidgetRun::Report {
            report: w.report,
            title: w.title.clone().unwrap_or(saved.report.name),
            width: w.width,
            period_field: period_field.map(|f| f.name),
            result: Box::new(result),
        })
    }

    async fn run_figure_widget(&self, who: &Principal, w: &FigureWidget, looking: &Looking) -> Result<WidgetRun> {
        let (_, object) = self.object(&w.object).await?;
        let (current, previous) = if stamps_what_happened(&w.date_field) {
            (looking.so_far, looking.previous_so_far)
        } else {
            (looking.current, looking.previous)
        };
        let now = self
            .run_report(who, &figure_widget_spec(w, &object, current, looking)?)
            .await?;
        let before = self
            .run_report(who, &figure_widget_spec(w, &object, previous, looking)?)
            .await?;
        Ok(WidgetRun::Figure(Box::new(FigureRun {
            title: w.title.clone(),
            width: w.width,
            object: w.object.clone(),
            measure: w.measure.clone(),
            date_field: w.date_field.clone(),
            change: change(w.measure.func, &now.total, &before.total),
            lower_is_better: w.lower_is_better,
            current: now.total,
            previous: before.total,
            currency: now.currency.clone(),
            money: now.money,
            filter: now.drill(None, None),
            previous_filter: before.drill(None, None),
        })))
    }
}

impl Crm {
    /// A support widget: a count for the period so far beside the period before to the same
    /// point (questions are asked and solved on days gone, like records made), or a chart or
    /// table for the period.
    async fn run_support_widget(&self, who: &Principal, w: &SupportWidget, looking: &Looking) -> Result<WidgetRun> {
        let scope = match &looking.question_scope {
            Some(s) => s.clone(),
            None => self.scope_of(who).await?,
        };
        let over = |range: PeriodRange| {
            let span = FigureSpan {
                scope: scope.clone(),
                narrowed: looking.narrowed.clone(),
                since: crate::zone::start_of_day(looking.zone, range.first),
                until: crate::zone::start_of_day(looking.zone, range.end),
            };
            async move { self.support_figures_over(&span, looking.zone).await }
        };
        let (figures, previous) = if w.figure.is_count() {
            (over(looking.so_far).await?, Some(over(looking.previous_so_far).await?))
        } else {
            (over(looking.current).await?, None)
        };
        let counted = |f: &SupportFigures| Figures {
            count: w.figure.count(f).and_then(|n| i64::try_from(n).ok()).unwrap_or(0),
            value: None,
        };
        let change = previous
            .as_ref()
            .and_then(|p| change(MeasureFn::Count, &counted(&figures), &counted(p)));
        Ok(WidgetRun::Support(Box::new(SupportRun {
            figure: w.figure,
            title: w.title.clone(),
            width: w.width,
            figures,
            previous,
            change,
        })))
    }
}

/// A report widget's report as run for a look at the dashboard: the saved report's filter,
/// the period on the first grouping's date (or the widget's date), the scope's owners; and
/// the date the period applies to.
fn report_widget_spec(
    mut spec: ReportSpec,
    object: &ObjectDef,
    w: &ReportWidget,
    looking: &Looking,
) -> (ReportSpec, Option<FieldDef>) {
    let period_field = spec
        .groups
        .first()
        .and_then(|g| date_field(object, &g.field))
        .or_else(|| w.date_field.as_deref().and_then(|f| date_field(object, f)));
    spec.filter = all_of(vec![
        spec.filter.take(),
        period_field
            .as_ref()
            .map(|f| period_filter(f, looking.current, looking.zone)),
        looking.owners.clone(),
    ]);
    (spec, period_field)
}

/// A figure widget's report for one period of a look at the dashboard.
fn figure_widget_spec(
    w: &FigureWidget,
    object: &ObjectDef,
    range: PeriodRange,
    looking: &Looking,
) -> Result<ReportSpec> {
    let field = date_field(object, &w.date_field).ok_or_else(|| {
        Error::field(
            "date_field",
            format!("{:?} is no date of {}", w.date_field, object.name),
        )
    })?;
    Ok(figure_spec(
        w,
        all_of(vec![
            w.filter.clone(),
            Some(period_filter(&field, range, looking.zone)),
            looking.owners.clone(),
        ]),
    ))
}

/// The reports a dashboard's widgets run, by their shape (any period, everyone's): what the
/// indexes for reports keep served ([`Crm::keep_report_indexes`]).
pub(crate) async fn widget_specs(crm: &Crm, dashboard: &Dashboard, zone: Tz) -> Result<Vec<ReportSpec>> {
    let today = NaiveDate::default();
    let looking = Looking {
        zone,
        current: PeriodRange {
            first: today,
            end: today,
        },
        previous: PeriodRange {
            first: today,
            end: today,
        },
        so_far: PeriodRange {
            first: today,
            end: today,
        },
        previous_so_far: PeriodRange {
            first: today,
            end: today,
        },
        owners: None,
        narrowed: Narrowed::Not,
        question_scope: None,
    };
    let mut out = Vec::new();
    for widget in &dashboard.widgets {
        match widget {
            Widget::Report(w) => {
                let Some(saved) = crm.store.report(w.report).await? else {
                    continue;
                };
                let Ok((_, object)) = crm.object(&saved.spec.object).await else {
                    continue;
                };
                out.push(report_widget_spec(saved.spec, &object, w, &looking).0);
            }
            Widget::Figure(w) => {
                let Ok((_, object)) = crm.object(&w.object).await else {
                    continue;
                };
                if let Ok(spec) = figure_widget_spec(w, &object, looking.current, &looking) {
                    out.push(spec);
                }
            }
            // Questions are no object's records: no report index serves them.
            Widget::Support(_) => {}
        }
    }
    Ok(out)
}

/// A figure as a report without groupings.
fn figure_spec(w: &FigureWidget, filter: Option<Json>) -> ReportSpec {
    ReportSpec {
        object: w.object.clone(),
        filter,
        groups: Vec::new(),
        measure: w.measure.clone(),
        chart: ChartKind::Table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_period_is_compared_with_the_period_before_to_the_same_point() {
        use crate::period::Bucket;
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let r = |first, end| PeriodRange { first, end };
        let march = r(d(2026, 3, 1), d(2026, 4, 1));
        // Four days into March: the first four days of February.
        assert_eq!(
            compared_ranges(march, Bucket::Month, d(2026, 3, 4)),
            (r(d(2026, 3, 1), d(2026, 3, 5)), r(d(2026, 2, 1), d(2026, 2, 5)))
        );
        // The 30th of March: February to its end, never into March.
        assert_eq!(
            compared_ranges(march, Bucket::Month, d(2026, 3, 30)).1,
            r(d(2026, 2, 1), d(2026, 3, 1))
        );
        // The 31st of March is all of March against all of February.
        assert_eq!(
            compared_ranges(march, Bucket::Month, d(2026, 3, 31)),
            (march, r(d(2026, 2, 1), d(2026, 3, 1)))
        );
        // A quarter by the calendar: 31 May against 1 January – 28 February, not 61 days.
        let q2 = r(d(2026, 4, 1), d(2026, 7, 1));
        assert_eq!(
            compared_ranges(q2, Bucket::Quarter, d(2026, 5, 31)).1,
            r(d(2026, 1, 1), d(2026, 3, 1))
        );
        // 31 December of a year after a leap year: all of the year before.
        let y = r(d(2025, 1, 1), d(2026, 1, 1));
        assert_eq!(
            compared_ranges(y, Bucket::Year, d(2025, 12, 31)).1,
            r(d(2024, 1, 1), d(2025, 1, 1))
        );
        // 28 February 2025 against 2024's January and February up to the 28th (not the 29th).
        assert_eq!(
            compared_ranges(y, Bucket::Year, d(2025, 2, 28)).1,
            r(d(2024, 1, 1), d(2024, 3, 1).pred_opt().unwrap())
        );
        // Last month, seen in April: whole against whole.
        assert_eq!(
            compared_ranges(march, Bucket::Month, d(2026, 4, 2)),
            (march, r(d(2026, 2, 1), d(2026, 3, 1)))
        );
    }

    #[test]
    fn a_change_is_against_the_previous_figure() {
        let f = |count, value| Figures { count, value };
        let c = change(MeasureFn::Count, &f(6, None), &f(4, None)).unwrap();
        assert_eq!((c.delta, c.percent), (2.0, Some(50.0)));
        let from_nothing = change(MeasureFn::Sum, &f(1, Some(500.0)), &f(0, None)).unwrap();
        assert_eq!((from_nothing.delta, from_nothing.percent), (500.0, None));
        assert_eq!(change(MeasureFn::Avg, &f(1, Some(5.0)), &f(0, None)), None);
    }

    #[test]
    fn places_name_the_widget_and_its_field() {
        assert_eq!(at("widgets[2]", "report"), "widgets[2].report");
        assert_eq!(at("widgets[2]", "body"), "widgets[2]");
        assert_eq!(
            at("widgets[0]", "filter.and[1].value"),
            "widgets[0].filter.and[1].value"
        );
        assert_eq!(all_of(vec![None, Some(Json::Null)]), None);
        assert_eq!(all_of(vec![Some(json!({"a": 1})), None]), Some(json!({"a": 1})));
    }
}
