//! The report builder: any object's records, filtered with the list's filter rows, grouped by
//! one or two fields (dates by a period), counted or measured, as a table or a pivot and a
//! chart drawn on the server. Every choice is in the URL, so a report is shared by its link;
//! a report can be kept under a name (`/reports/{id}`), and exported as CSV or XLSX. Every
//! figure links to the list of its records (the list's `filter` parameter).

use super::charts::{self, Plot, Stack};
use super::lists::{Choice, builder_ops, filter_fields};
use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, format, labels};
use crate::i18n::Tr;
use anchora_core::auth::{Permission, SchemaChange};
use anchora_core::export::Format;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, Schema};
use anchora_core::period::Bucket;
use anchora_core::reports::{
    ChartKind, Figures, GroupValue, Grouping, Header, Measure, MeasureFn, ReportResult, ReportSpec, ReportView,
    SheetWords, group_field, groupable_fields, measurable_fields, related_groupable_fields, sheet, sheet_file,
};
use anchora_core::views::{FilterRow, filter_of_rows, filter_rows, query_pairs, query_string, url_encode};
use anchora_core::{Error, ErrorCode};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::{Value as Json, json};

type Pairs = Vec<(String, String)>;

/// The most groups a bar, donut or funnel chart draws (the table shows them all).
const CHART_ROWS: usize = 40;
/// The most series a stacked chart or a line chart draws; a stacked chart adds up the rest.
const CHART_SERIES: usize = 8;

/// One option of a select: its value, its words, whether it is chosen.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
    /// A date field: its period select is shown.
    pub date: bool,
}

/// Options of a select under one heading.
pub struct OptGroup {
    pub label: String,
    pub options: Vec<Opt>,
}

/// The controls of one grouping.
pub struct GroupControl {
    pub n: usize,
    pub label: String,
    pub fields: Vec<Opt>,
    /// A related record's fields, under its relation (Company: "Company › City").
    pub related: Vec<OptGroup>,
    pub buckets: Vec<Opt>,
}

/// A figure of the table: its text and the list of its records.
pub struct Figure {
    pub text: String,
    pub href: Option<String>,
    pub title: String,
}

/// A row of the table or pivot.
pub struct Line {
    pub label: String,
    pub cells: Vec<Figure>,
}

pub struct SavedLink {
    pub name: String,
    pub href: String,
    pub shared: bool,
    pub current: bool,
}

/// The save form: a new report, or the saved one at its version.
pub struct SaveForm {
    pub id: Option<String>,
    pub version: i64,
    pub name: String,
    pub shared: bool,
    pub may_share: bool,
    pub may_delete: bool,
}

#[derive(Template)]
#[template(path = "ui/reports.html")]
struct ReportsPage {
    shell: Shell,
    title: String,
    objects: Vec<Opt>,
    object: String,
    action: String,
    fields: Vec<Choice>,
    ops: Vec<Choice>,
    conditions: Vec<FilterRow>,
    extra: Option<String>,
    groups: Vec<GroupControl>,
    funcs: Vec<Opt>,
    measures: Vec<Opt>,
    charts: Vec<Opt>,
    errors: Vec<String>,
    notice: Option<String>,
    warning: Option<String>,
    shown: bool,
    empty: bool,
    corner: String,
    heads: Vec<String>,
    lines: Vec<Line>,
    foot: Option<Line>,
    chart: String,
    chart_note: Option<String>,
    query: String,
    may_export: bool,
    saved: Vec<SavedLink>,
    save: SaveForm,
    /// A saved report's "Add to dashboard" form.
    add_to: Option<super::dashboards::AddTo>,
}

/// What the URL (or a saved report) says the report is, as the controls show it: kept as
/// typed, so a mistake stays on the page beside its message.
#[derive(Debug, Clone, Default, PartialEq)]
struct Choices {
    object: String,
    rows: Vec<FilterRow>,
    /// Filter-language JSON beyond what the rows say (a saved report's filter the rows
    /// cannot write).
    extra: Option<String>,
    groups: [(String, String); 2],
    func: String,
    field: String,
    chart: String,
}

fn get(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
}

impl Choices {
    /// The report the query asks for; without a first grouping named, the object's first
    /// picklist (a deal's stage).
    fn of_query(ui: &Ui, q: &[(String, String)]) -> Choices {
        let visible: Vec<&ObjectDef> = ui.schema.objects.values().filter(|o| !o.archived).collect();
        let object = get(q, "object")
            .filter(|o| visible.iter().any(|x| &x.name == o))
            .or_else(|| visible.iter().find(|o| o.name == "deal").map(|o| o.name.clone()))
            .or_else(|| visible.first().map(|o| o.name.clone()))
            .unwrap_or_default();
        let first = get(q, "g1").unwrap_or_else(|| {
            (ui.schema
                .objects
                .get(&object)
                .map(groupable_fields)
                .unwrap_or_default()
                .iter())
            .find(|f| f.field_type == FieldType::Select)
            .map(|f| f.name.clone())
            .unwrap_or_default()
        });
        Choices {
            object,
            rows: filter_rows(q),
            extra: get(q, "filter").filter(|f| !f.trim().is_empty()),
            groups: [
                (first, get(q, "b1").unwrap_or_default()),
                (get(q, "g2").unwrap_or_default(), get(q, "b2").unwrap_or_default()),
            ],
            func: get(q, "m").unwrap_or_else(|| "count".into()),
            field: get(q, "mf").unwrap_or_default(),
            chart: get(q, "chart").unwrap_or_else(|| "bar".into()),
        }
    }

    /// A saved report's spec as the controls show it.
    fn of_spec(spec: &ReportSpec) -> Choices {
        let (rows, extra) = match spec.filter.as_ref().filter(|f| !f.is_null()) {
            None => (Vec::new(), None),
            Some(f) => rows_of_filter(f).map_or_else(|| (Vec::new(), Some(f.to_string())), |r| (r, None)),
        };
        let group = |i: usize| {
            spec.groups.get(i).map_or_else(Default::default, |g| {
                (
                    g.field.clone(),
                    g.bucket.map(|b| b.as_str().to_string()).unwrap_or_default(),
                )
            })
        };
        Choices {
            object: spec.object.clone(),
            rows,
            extra,
            groups: [group(0), group(1)],
            func: spec.measure.func.as_str().into(),
            field: spec.measure.field.clone().unwrap_or_default(),
            chart: spec.chart.as_str().into(),
        }
    }

    /// The choices as a query string's pairs: what links, the export and the save form keep.
    fn pairs(&self) -> Pairs {
        let mut out: Pairs = vec![("object".into(), self.object.clone())];
        for r in &self.rows {
            out.push(("ff".into(), r.field.clone()));
            out.push(("fo".into(), r.op.clone()));
            out.push(("fv".into(), r.value.clone()));
        }
        if let Some(f) = &self.extra {
            out.push(("filter".into(), f.clone()));
        }
        for (i, (field, bucket)) in self.groups.iter().enumerate() {
            out.push((format!("g{}", i + 1), field.clone()));
            if !bucket.is_empty() {
                out.push((format!("b{}", i + 1), bucket.clone()));
            }
        }
        out.push(("m".into(), self.func.clone()));
        if !self.field.is_empty() {
            out.push(("mf".into(), self.field.clone()));
        }
        out.push(("chart".into(), self.chart.clone()));
        out
    }

    /// The spec the choices make, or what is wrong with them (by the control it belongs to).
    /// A period chosen for a field that is no date is left out: its select is hidden then.
    fn spec(&self, tr: &Tr, schema: &Schema, def: &ObjectDef) -> Result<ReportSpec, Vec<String>> {
        let mut mistakes = Vec::new();
        let extra = match &self.extra {
            None => None,
            Some(text) => match serde_json::from_str::<Json>(text) {
                Ok(j) => Some(j),
                Err(_) => {
                    mistakes.push(tr.t("reports-bad-filter"));
                    None
                }
            },
        };
        let filter = match (filter_of_rows(def, &self.rows), extra) {
            (Some(a), Some(b)) => Some(json!({ "and": [a, b] })),
            (a, b) => a.or(b),
        };
        let mut groups = Vec::new();
        for (i, (field, bucket)) in self.groups.iter().enumerate() {
            if field.is_empty() {
                continue;
            }
            let date = is_date(schema, def, field);
            let bucket = match (bucket.as_str(), date) {
                ("", _) | (_, Some(false)) => None,
                (b, _) => match Bucket::parse(b) {
                    Some(b) => Some(b),
                    None => {
                        mistakes.push(mistake(tr, &format!("groups[{i}].bucket"), &tr.t("reports-bad-choice")));
                        None
                    }
                },
            };
            groups.push(Grouping {
                field: field.clone(),
                bucket,
            });
        }
        let func = MeasureFn::parse(&self.func).unwrap_or_else(|| {
            mistakes.push(mistake(tr, "measure.func", &tr.t("reports-bad-choice")));
            MeasureFn::Count
        });
        let chart = ChartKind::parse(&self.chart).unwrap_or_else(|| {
            mistakes.push(mistake(tr, "chart", &tr.t("reports-bad-choice")));
            ChartKind::Bar
        });
        let field = Some(self.field.clone()).filter(|f| !f.is_empty() && func != MeasureFn::Count);
        if !mistakes.is_empty() {
            return Err(mistakes);
        }
        Ok(ReportSpec {
            object: def.name.clone(),
            filter,
            groups,
            measure: Measure { func, field },
            chart,
        })
    }
}

/// Whether a field the report may group by is a date (none when it is no such field).
fn is_date(schema: &Schema, def: &ObjectDef, field: &str) -> Option<bool> {
    group_field(schema, def, field).map(|g| matches!(g.field.field_type, FieldType::Date | FieldType::Datetime))
}

/// The filter rows a filter writes, when it is one condition or an `and` of conditions with
/// plain values on the object's own fields (as the rows make them; a related record's field,
/// `company.city`, is no row's).
fn rows_of_filter(filter: &Json) -> Option<Vec<FilterRow>> {
    let leaf = |j: &Json| -> Option<FilterRow> {
        if j.get("field")?.as_str()?.contains('.') {
            return None;
        }
        let value = match j.get("value")? {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            _ => return None,
        };
        Some(FilterRow {
            field: j.get("field")?.as_str()?.to_string(),
            op: j.get("op")?.as_str()?.to_string(),
            value,
        })
    };
    match filter.get("and").and_then(Json::as_array) {
        Some(all) => all.iter().map(leaf).collect(),
        None => leaf(filter).map(|r| vec![r]),
    }
}

/// A mistake said with the control it belongs to.
fn mistake(tr: &Tr, place: &str, message: &str) -> String {
    let control = if place.starts_with("groups[0]") {
        tr.t("reports-group-1")
    } else if place.starts_with("groups[1]") || place == "groups" {
        tr.t("reports-group-2")
    } else if place.starts_with("measure") {
        tr.t("reports-measure")
    } else if place.starts_with("chart") {
        tr.t("reports-chart")
    } else {
        tr.t("reports-filter")
    };
    tr.tn(
        "reports-mistake",
        &[("place", control), ("message", super::field_message(tr, message))],
    )
}

/// What a refused report says, each mistake by its control.
fn mistakes_of(tr: &Tr, e: &Error) -> Vec<String> {
    if e.errors.is_empty() {
        vec![super::field_message(tr, &e.detail)]
    } else {
        e.errors.iter().map(|f| mistake(tr, &f.field, &f.message)).collect()
    }
}

/// `/reports`: the builder with what the URL asks for.
pub async fn reports_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let choices = Choices::of_query(&ui, &q);
    show(&ui, None, choices, None).await
}

/// `/reports/{id}`: a saved report, its spec in the controls (or the URL's changes to it).
pub async fn saved_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let saved = ui
        .authed
        .crm
        .saved_report(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let choices = if get(&q, "object").is_some() {
        Choices::of_query(&ui, &q)
    } else {
        Choices::of_spec(&saved.report.spec)
    };
    show(&ui, Some(saved), choices, None).await
}

/// The page for these choices: the report run, or its mistakes beside the controls.
async fn show(ui: &Ui, saved: Option<ReportView>, choices: Choices, notice: Option<String>) -> PageResult {
    let def = ui.object(&choices.object).or_not_found(ui)?;
    let run = match choices.spec(&ui.tr, &ui.schema, &def) {
        Ok(spec) => ui
            .authed
            .crm
            .run_report(&ui.authed.principal, &spec)
            .await
            .or_forbidden(ui)?,
        Err(mistakes) => return render(ui, report_view(ui, &def, &choices, Err(mistakes), saved, notice).await),
    };
    let outcome = match run {
        Ok(result) => Ok(result),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::ValidationFailed | ErrorCode::InvalidFilter | ErrorCode::NotFound
            ) =>
        {
            Err(mistakes_of(&ui.tr, &e))
        }
        Err(e) => {
            tracing::error!(error = %e, "a report could not be run");
            return Err(ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new())).into());
        }
    };
    render(ui, report_view(ui, &def, &choices, outcome, saved, notice).await)
}

fn render(ui: &Ui, page: ReportsPage) -> PageResult {
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The page: the controls with the choices, the saved reports, and the result.
async fn report_view(
    ui: &Ui,
    def: &ObjectDef,
    choices: &Choices,
    outcome: Result<ReportResult, Vec<String>>,
    saved: Option<ReportView>,
    notice: Option<String>,
) -> ReportsPage {
    let tr = &ui.tr;
    let list = ui
        .authed
        .crm
        .saved_reports(&ui.authed.principal)
        .await
        .unwrap_or_default();
    let policy = &ui.schema.policy;
    let may_share = ui
        .authed
        .principal
        .may(Permission::ChangeSchema(SchemaChange::SharedViews), policy);
    let current = saved.as_ref().map(|s| s.report.id.to_string());
    let pairs = choices.pairs();
    let mut page = ReportsPage {
        title: saved
            .as_ref()
            .map_or_else(|| tr.t("reports-title"), |s| s.report.name.clone()),
        objects: (ui.schema.objects.values().filter(|o| !o.archived))
            .map(|o| opt(&o.name, labels::object_plural(tr, o), o.name == def.name))
            .collect(),
        object: def.name.clone(),
        action: current
            .as_ref()
            .map_or_else(|| "/reports".into(), |id| format!("/reports/{id}")),
        fields: filter_fields(tr, def),
        ops: builder_ops(tr),
        conditions: choices.rows.clone(),
        extra: choices.extra.clone(),
        groups: group_controls(tr, &ui.schema, def, choices),
        funcs: MeasureFn::ALL
            .iter()
            .map(|f| {
                opt(
                    f.as_str(),
                    tr.t(&format!("reports-func-{}", f.as_str())),
                    f.as_str() == choices.func,
                )
            })
            .collect(),
        measures: std::iter::once(opt("", tr.t("reports-no-field"), choices.field.is_empty()))
            .chain(
                measurable_fields(def)
                    .iter()
                    .map(|f| opt(&f.name, labels::field(tr, def, f), f.name == choices.field)),
            )
            .collect(),
        charts: ChartKind::ALL
            .iter()
            .map(|c| {
                opt(
                    c.as_str(),
                    tr.t(&format!("reports-chart-{}", c.as_str())),
                    c.as_str() == choices.chart,
                )
            })
            .collect(),
        errors: Vec::new(),
        notice,
        warning: None,
        shown: false,
        empty: false,
        corner: String::new(),
        heads: Vec::new(),
        lines: Vec::new(),
        foot: None,
        chart: String::new(),
        chart_note: None,
        query: query_string(&pairs),
        may_export: ui.authed.principal.may(Permission::Export, policy),
        saved: list
            .iter()
            .map(|v| SavedLink {
                name: v.report.name.clone(),
                href: format!("/reports/{}", v.report.id),
                shared: v.report.shared,
                current: current.as_deref() == Some(v.report.id.to_string().as_str()),
            })
            .collect(),
        save: SaveForm {
            id: saved.as_ref().filter(|s| s.may_change).map(|s| s.report.id.to_string()),
            version: saved.as_ref().map_or(0, |s| s.report.version),
            name: saved.as_ref().map(|s| s.report.name.clone()).unwrap_or_default(),
            shared: saved.as_ref().is_some_and(|s| s.report.shared),
            may_share,
            may_delete: saved.as_ref().is_some_and(|s| s.may_change),
        },
        add_to: match &saved {
            Some(s) => Some(super::dashboards::add_to(ui, &s.report.id.to_string()).await),
            None => None,
        },
        shell: ui.shell("reports"),
    };
    match outcome {
        Ok(result) => fill(tr, &ui.schema, &mut page, def, &result),
        Err(mistakes) => page.errors = mistakes,
    }
    page
}

fn opt(value: &str, label: String, on: bool) -> Opt {
    Opt {
        value: value.to_string(),
        label,
        on,
        date: false,
    }
}

/// A grouping field's name: the owner's team is no field of the object.
fn group_label(tr: &Tr, def: &ObjectDef, f: &FieldDef) -> String {
    if f.name == "team" && def.field("team").is_none() {
        tr.t("reports-team")
    } else {
        labels::field(tr, def, f)
    }
}

/// A related record's field by its relation and its own name: "Company › City".
fn related_label(tr: &Tr, def: &ObjectDef, relation: &FieldDef, target: &ObjectDef, f: &FieldDef) -> String {
    tr.tn(
        "reports-related-field",
        &[
            ("relation", labels::field(tr, def, relation)),
            ("field", labels::field(tr, target, f)),
        ],
    )
}

/// The name of the field a grouping names (own or a related record's), if it is one.
pub(super) fn grouping_name(tr: &Tr, schema: &Schema, def: &ObjectDef, field: &str) -> Option<String> {
    let g = group_field(schema, def, field)?;
    Some(match &g.relation {
        Some(relation) => related_label(tr, def, relation, g.object, &g.field),
        None => group_label(tr, def, &g.field),
    })
}

fn group_controls(tr: &Tr, schema: &Schema, def: &ObjectDef, choices: &Choices) -> Vec<GroupControl> {
    let fields = groupable_fields(def);
    let related = related_groupable_fields(schema, def);
    choices
        .groups
        .iter()
        .enumerate()
        .map(|(i, (field, bucket))| GroupControl {
            n: i + 1,
            label: tr.t(&format!("reports-group-{}", i + 1)),
            fields: std::iter::once(opt("", tr.t("reports-no-group"), field.is_empty()))
                .chain(fields.iter().map(|f| Opt {
                    date: matches!(f.field_type, FieldType::Date | FieldType::Datetime),
                    ..opt(&f.name, group_label(tr, def, f), &f.name == field)
                }))
                .collect(),
            related: (related.iter())
                .map(|(relation, target, fields)| OptGroup {
                    label: labels::field(tr, def, relation),
                    options: fields
                        .iter()
                        .map(|f| {
                            let value = format!("{}.{}", relation.name, f.name);
                            Opt {
                                date: matches!(f.field_type, FieldType::Date | FieldType::Datetime),
                                on: &value == field,
                                label: related_label(tr, def, relation, target, f),
                                value,
                            }
                        })
                        .collect(),
                })
                .collect(),
            buckets: std::iter::once(opt("", tr.t("reports-bucket-default"), bucket.is_empty()))
                .chain(Bucket::ALL.iter().map(|b| {
                    opt(
                        b.as_str(),
                        tr.t(&format!("reports-bucket-{}", b.as_str())),
                        b.as_str() == bucket,
                    )
                }))
                .collect(),
        })
        .collect()
}

/// How the report's figures are written.
pub(super) struct Writer<'a> {
    locale: &'a str,
    func: MeasureFn,
    currency: Option<String>,
    percent: bool,
}

impl Writer<'_> {
    /// The measure (the count for a count).
    pub(super) fn main(&self, f: &Figures) -> String {
        #[allow(clippy::cast_precision_loss)]
        match (self.func, f.value) {
            (MeasureFn::Count, _) => format::number(self.locale, f.count as f64, 0),
            (_, None) => "–".into(),
            (_, Some(v)) => self.value(v),
        }
    }

    fn value(&self, v: f64) -> String {
        #[allow(clippy::cast_possible_truncation)]
        if self.currency.is_some() {
            format::money(self.locale, v.round() as i64, self.currency.as_deref())
        } else if self.percent {
            format::percent(self.locale, (v * 100.0).round() / 100.0)
        } else if v.fract() == 0.0 {
            format::number(self.locale, v, 0)
        } else {
            format::number(self.locale, v, 2)
        }
    }

    /// The number a chart draws for these figures.
    fn plotted(&self, f: &Figures) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        match self.func {
            MeasureFn::Count => f.count as f64,
            _ => f.value.unwrap_or(0.0),
        }
    }
}

/// The link to a cell's records.
pub(super) fn drill_href(result: &ReportResult, row: Option<usize>, col: Option<usize>) -> String {
    let filter = result.drill(row, col);
    if filter.is_null() {
        format!("/o/{}", result.spec.object)
    } else {
        format!("/o/{}?filter={}", result.spec.object, url_encode(&filter.to_string()))
    }
}

/// A header's words: a choice by its label, yes or no, a person, team, record or period by its
/// name, none and the rest in the reader's language.
fn header_label(tr: &Tr, def: &ObjectDef, field: Option<&FieldDef>, h: &Header) -> String {
    match &h.value {
        GroupValue::Choice(c) => field.map_or_else(|| c.clone(), |f| labels::choice(tr, def, f, c)),
        GroupValue::Text(t) => t.clone(),
        GroupValue::Bool(true) => tr.t("reports-yes"),
        GroupValue::Bool(false) => tr.t("reports-no"),
        GroupValue::Other => tr.t("reports-other"),
        GroupValue::None => tr.t("reports-none"),
        GroupValue::User(_) | GroupValue::Team(_) | GroupValue::Record(_) | GroupValue::Period(_) => {
            h.name.clone().unwrap_or_else(|| tr.t("reports-none"))
        }
    }
}

/// The labels of a result's rows and columns (a related record's choices by its object's
/// words).
pub(super) fn axis_labels(
    tr: &Tr,
    schema: &Schema,
    def: &ObjectDef,
    result: &ReportResult,
) -> (Vec<String>, Vec<String>) {
    let field = |i: usize| {
        result
            .spec
            .groups
            .get(i)
            .and_then(|g| group_field(schema, def, &g.field))
    };
    let labels = |headers: &[Header], g: Option<anchora_core::reports::GroupField<'_>>| -> Vec<String> {
        let (object, field) = match &g {
            Some(g) => (g.object, Some(&g.field)),
            None => (def, None),
        };
        headers.iter().map(|h| header_label(tr, object, field, h)).collect()
    };
    (labels(&result.rows, field(0)), labels(&result.columns, field(1)))
}

pub(super) fn writer<'a>(tr: &'a Tr, def: &ObjectDef, result: &ReportResult) -> Writer<'a> {
    let measured = result.spec.measure.field.as_ref().and_then(|f| def.field(f));
    Writer {
        locale: tr.locale,
        func: result.spec.measure.func,
        currency: result.currency.clone(),
        percent: measured.is_some_and(|f| f.field_type == FieldType::Percent),
    }
}

/// The result on the page: the table or pivot, the chart, the warning about left-out amounts.
fn fill(tr: &Tr, schema: &Schema, page: &mut ReportsPage, def: &ObjectDef, result: &ReportResult) {
    let w = writer(tr, def, result);
    let (row_labels, col_labels) = axis_labels(tr, schema, def, result);
    #[allow(clippy::cast_precision_loss)]
    let count_title = |f: &Figures| tr.t1("reports-records", "count", f.count as f64);
    let figure = |f: &Figures, text: String, row: Option<usize>, col: Option<usize>| Figure {
        href: (f.count > 0).then(|| drill_href(result, row, col)),
        title: count_title(f),
        text,
    };
    let measured = w.func != MeasureFn::Count;
    page.shown = true;
    page.empty = result.total.count == 0;
    page.corner = (result.spec.groups.first())
        .and_then(|g| grouping_name(tr, schema, def, &g.field))
        .unwrap_or_default();
    let count_and_measure = |f: &Figures, row: Option<usize>| {
        #[allow(clippy::cast_precision_loss)]
        let mut cells = vec![figure(f, format::number(tr.locale, f.count as f64, 0), row, None)];
        if measured {
            cells.push(figure(f, w.main(f), row, None));
        }
        cells
    };
    if result.columns.is_empty() {
        page.heads.push(tr.t("reports-count"));
        if measured {
            page.heads.push(measure_name(tr, def, result));
        }
        page.lines = (result.rows.iter().enumerate())
            .map(|(r, h)| Line {
                label: row_labels.get(r).cloned().unwrap_or_default(),
                cells: count_and_measure(&h.figures, Some(r)),
            })
            .collect();
        page.foot = Some(Line {
            label: tr.t("reports-total"),
            cells: count_and_measure(&result.total, None),
        });
    } else {
        page.heads = col_labels.clone();
        page.heads.push(tr.t("reports-total"));
        page.lines = (result.rows.iter().enumerate())
            .map(|(r, h)| Line {
                label: row_labels.get(r).cloned().unwrap_or_default(),
                cells: (0..result.columns.len())
                    .map(|c| {
                        let f = result.cell(r, Some(c));
                        figure(&f, if f.count > 0 { w.main(&f) } else { "–".into() }, Some(r), Some(c))
                    })
                    .chain(std::iter::once(figure(&h.figures, w.main(&h.figures), Some(r), None)))
                    .collect(),
            })
            .collect();
        let mut foot: Vec<Figure> = (result.columns.iter().enumerate())
            .map(|(c, h)| figure(&h.figures, w.main(&h.figures), None, Some(c)))
            .collect();
        foot.push(figure(&result.total, w.main(&result.total), None, None));
        page.foot = Some(Line {
            label: tr.t("reports-total"),
            cells: foot,
        });
    }
    if !result.without_rate.is_empty() {
        page.warning = Some(tr.tn(
            "reports-without-rate",
            &[
                ("currencies", result.without_rate.join(", ")),
                ("currency", result.currency.clone().unwrap_or_default()),
            ],
        ));
    }
    let (chart, note) = chart_of(tr, &w, result, &row_labels, &col_labels, &page.title);
    page.chart = chart;
    page.chart_note = note;
}

/// "Sum of Amount".
pub(super) fn measure_name(tr: &Tr, def: &ObjectDef, result: &ReportResult) -> String {
    let field = (result.spec.measure.field.as_ref())
        .and_then(|f| def.field(f))
        .map(|f| labels::field(tr, def, f))
        .unwrap_or_default();
    tr.t1(
        &format!("reports-measure-{}", result.spec.measure.func.as_str()),
        "field",
        field,
    )
}

/// The chart the report asks for, or the one that fits its groupings: bars for one grouping,
/// stacked bars for two, lines over periods; none for the table or for figures that do not
/// add up (averages, least, greatest) when the chart would stack them.
pub(super) fn chart_of(
    tr: &Tr,
    w: &Writer,
    result: &ReportResult,
    row_labels: &[String],
    col_labels: &[String],
    title: &str,
) -> (String, Option<String>) {
    let adds_up = matches!(w.func, MeasureFn::Count | MeasureFn::Sum);
    let periods = result
        .rows
        .iter()
        .all(|h| matches!(h.value, GroupValue::Period(_) | GroupValue::None));
    let kind = result.spec.chart;
    if result.rows.is_empty() || kind == ChartKind::Table {
        return (String::new(), None);
    }
    let fmt = |v: f64| w.value(v);
    let cut = (result.rows.len() > CHART_ROWS).then(|| tr.t1("reports-chart-cut", "count", CHART_ROWS));
    if result.columns.is_empty() {
        let rows: Vec<(String, f64, String)> = (result.rows.iter().zip(row_labels))
            .take(CHART_ROWS)
            .map(|(h, l)| (l.clone(), w.plotted(&h.figures).max(0.0), w.main(&h.figures)))
            .collect();
        let svg = match kind {
            ChartKind::Line if periods => {
                let line = [Plot {
                    name: tr.t("reports-total"),
                    values: result.rows.iter().map(|h| w.plotted(&h.figures)).collect(),
                }];
                return (charts::lines(title, row_labels, &line, &fmt), None);
            }
            ChartKind::Donut if adds_up => charts::donut(title, &rows, &|s| format::share(tr.locale, s)),
            ChartKind::Funnel => charts::funnel(title, &rows),
            _ => charts::bars(title, &rows),
        };
        return (svg, cut);
    }
    if kind == ChartKind::Line && periods {
        let plots: Vec<Plot> = (0..result.columns.len().min(CHART_SERIES))
            .map(|c| Plot {
                name: col_labels.get(c).cloned().unwrap_or_default(),
                values: (0..result.rows.len())
                    .map(|r| w.plotted(&result.cell(r, Some(c))))
                    .collect(),
            })
            .collect();
        let note = (result.columns.len() > CHART_SERIES).then(|| tr.t1("reports-series-cut", "count", CHART_SERIES));
        return (charts::lines(title, row_labels, &plots, &fmt), note);
    }
    if !adds_up {
        return (String::new(), Some(tr.t("reports-chart-not-stacked")));
    }
    let stacks = stacks_of(tr, w, result, col_labels);
    let totals: Vec<String> = result
        .rows
        .iter()
        .take(CHART_ROWS)
        .map(|h| w.main(&h.figures))
        .collect();
    let rows: Vec<String> = row_labels.iter().take(CHART_ROWS).cloned().collect();
    (charts::stacked_bars(title, &rows, &stacks, &totals), cut)
}

/// The columns as stacks (the first few, then the rest added up as one), each a value per row.
fn stacks_of(tr: &Tr, w: &Writer, result: &ReportResult, col_labels: &[String]) -> Vec<Stack> {
    let rows = result.rows.len().min(CHART_ROWS);
    let own = if result.columns.len() > CHART_SERIES {
        CHART_SERIES - 1
    } else {
        result.columns.len()
    };
    let stack = |name: String, cols: std::ops::Range<usize>| {
        let figures: Vec<Vec<Figures>> = (0..rows)
            .map(|r| cols.clone().map(|c| result.cell(r, Some(c))).collect())
            .collect();
        Stack {
            name,
            values: figures
                .iter()
                .map(|fs| fs.iter().map(|f| w.plotted(f).max(0.0)).sum())
                .collect(),
            texts: figures
                .iter()
                .map(|fs| w.value(fs.iter().map(|f| w.plotted(f)).sum()))
                .collect(),
        }
    };
    let mut out: Vec<Stack> = (0..own)
        .map(|c| stack(col_labels.get(c).cloned().unwrap_or_default(), c..c + 1))
        .collect();
    if own < result.columns.len() {
        out.push(stack(tr.t("reports-other"), own..result.columns.len()));
    }
    out
}

/// The save form's fields.
#[derive(serde::Deserialize)]
pub struct SaveReport {
    #[serde(default)]
    query: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    shared: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    version: Option<i64>,
}

/// Keep the report the form's query makes: a new one, or the saved one at the version the
/// page showed. A refusal (a name missing, a version changed meanwhile) shows the page again
/// with the user's choices and what went wrong.
pub async fn save(Posted { ui, form }: Posted<SaveReport>) -> PageResult {
    let choices = Choices::of_query(&ui, &query_pairs(&form.query));
    let def = ui.object(&choices.object).or_not_found(&ui)?;
    let spec = choices.spec(&ui.tr, &ui.schema, &def).ok().or_not_found(&ui)?;
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let shared = form.shared.as_deref() == Some("on");
    let id = form.id.filter(|i| !i.is_empty());
    let done = match &id {
        Some(id) => {
            // Sharing is sent only by whoever may share (the box is offered to them alone).
            let may_share = who.may(Permission::ChangeSchema(SchemaChange::SharedViews), &ui.schema.policy);
            let change = json!({"version": form.version.unwrap_or(0), "name": form.name, "spec": spec,
                "shared": may_share.then_some(shared)});
            crm.change_report(who, id, change).await
        }
        None => {
            crm.save_report(who, json!({"name": form.name, "shared": shared, "spec": spec}))
                .await
        }
    };
    match done.or_forbidden(&ui)? {
        Ok(view) => Ok(Redirect::to(&format!("/reports/{}", view.report.id)).into_response()),
        Err(e) => {
            let notice = save_refusal(&ui.tr, &e);
            let saved = match &id {
                Some(id) => Some(crm.saved_report(who, id).await.or_page(&ui)?),
                None => None,
            };
            show(&ui, saved, choices, Some(notice)).await
        }
    }
}

fn save_refusal(tr: &Tr, e: &Error) -> String {
    if e.code == ErrorCode::VersionConflict {
        return tr.t("reports-conflict");
    }
    let place = |f: &str| {
        if f == "name" {
            tr.t("reports-name")
        } else {
            tr.t("reports-filter")
        }
    };
    match e.errors.first() {
        Some(f) if f.field == "name" => tr.tn(
            "reports-mistake",
            &[
                ("place", place(&f.field)),
                ("message", super::field_message(tr, &f.message)),
            ],
        ),
        Some(f) => mistake(tr, f.field.trim_start_matches("spec."), &f.message),
        None => super::field_message(tr, &e.detail),
    }
}

/// Delete a saved report, back to the builder.
pub async fn delete(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Pairs>) -> PageResult {
    ui.authed
        .crm
        .delete_report(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    Ok(Redirect::to("/reports").into_response())
}

/// `/reports/export?<the builder's query>&format=csv|xlsx`: the report as a sheet in the
/// reader's words.
pub async fn export(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    if !ui.authed.principal.may(Permission::Export, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let format = Format::parse(get(&q, "format").as_deref().unwrap_or("csv"))
        .ok()
        .or_not_found(&ui)?;
    let choices = Choices::of_query(&ui, &q);
    let def = ui.object(&choices.object).or_not_found(&ui)?;
    let spec = choices.spec(&ui.tr, &ui.schema, &def).ok().or_not_found(&ui)?;
    let result = (ui.authed.crm.run_report(&ui.authed.principal, &spec).await)
        .or_forbidden_else(&ui, |e| crate::problem::ApiError(e).into_response())?;
    let file = sheet_file(&sheet_rows(&ui.tr, &ui.schema, &def, &result), format)
        .or_forbidden_else(&ui, |e| crate::problem::ApiError(e).into_response())?;
    let name = format!("report-{}", def.name);
    Ok(crate::api::imports::file_response(file.into(), format, &name))
}

/// The sheet of a result, its groups and words in the reader's language.
pub(crate) fn sheet_rows(
    tr: &Tr,
    schema: &Schema,
    def: &ObjectDef,
    result: &ReportResult,
) -> Vec<Vec<anchora_core::export::Cell>> {
    let (row_labels, col_labels) = axis_labels(tr, schema, def, result);
    let words = SheetWords {
        count: tr.t("reports-count"),
        measure: (result.spec.measure.func != MeasureFn::Count).then(|| measure_name(tr, def, result)),
        total: tr.t("reports-total"),
    };
    let label = |axis: usize, h: &Header| -> String {
        let (headers, labels) = if axis == 0 {
            (&result.rows, &row_labels)
        } else {
            (&result.columns, &col_labels)
        };
        headers
            .iter()
            .position(|x| x == h)
            .and_then(|i| labels.get(i).cloned())
            .unwrap_or_default()
    };
    sheet(result, &words, &label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_from_the_filters_they_make() {
        let one = json!({"field": "stage", "op": "eq", "value": "won"});
        assert_eq!(rows_of_filter(&one).unwrap().len(), 1);
        let two = json!({"and": [one, {"field": "amount", "op": "gt", "value": 5}]});
        let rows = rows_of_filter(&two).unwrap();
        assert_eq!(rows[1].value, "5");
        assert!(rows_of_filter(&json!({"or": [one]})).is_none());
        let related = json!({"and": [one, {"field": "company.city", "op": "eq", "value": "Malmö"}]});
        assert!(
            rows_of_filter(&related).is_none(),
            "kept whole as the report's own filter"
        );
    }
}
