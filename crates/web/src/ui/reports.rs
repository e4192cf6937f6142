//! Reports: any object's records counted (and a number or amount added up) per value of a
//! picklist, a person or a yes/no field, over every record the reader may see, as a table and
//! a bar chart. Everything is in the URL, so a report is shared by its link.

use super::page_error::{OrNotFound, PageResult};
use super::{Resolver, Shell, Ui, charts, format, labels};
use crate::i18n::Tr;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};
use anchora_core::reports::{GroupedReport, groupable, summable};
use anchora_core::value::Value;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use std::collections::{BTreeMap, HashMap};

pub struct Row {
    pub label: String,
    pub count: String,
    pub sums: String,
    pub share: String,
}

#[derive(Template)]
#[template(path = "ui/reports.html")]
struct ReportsPage {
    shell: Shell,
    title: String,
    objects: Vec<(String, String, bool)>,
    groups: Vec<(String, String, bool)>,
    measures: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    total: String,
    chart: String,
    error: Option<String>,
    list_href: String,
}

fn field_label(ui: &Ui, object: &ObjectDef, f: &FieldDef) -> String {
    if f.name == "owner" && object.field("owner").is_none() {
        ui.tr.t("reports-owner")
    } else {
        labels::field(&ui.tr, object, f)
    }
}

pub async fn reports_page(ui: Ui, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let chosen = chosen_object(&ui, &q).or_not_found(&ui)?;
    let asked = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (report, error) = match ui
        .authed
        .crm
        .grouped_report(&ui.authed.principal, &chosen, asked("group"), asked("sum"))
        .await
    {
        Ok(report) => (Some(report), None),
        Err(e) => (None, Some(e.detail)),
    };
    let object = ui.schema.objects.get(&chosen).cloned().or_not_found(&ui)?;
    let mut page = report_form(&ui, &object, report.as_ref(), error, &q);
    let Some((report, group)) = report.as_ref().and_then(|r| Some((r, r.group.as_ref()?))) else {
        return Ok(ui.page(StatusCode::OK, page.render()));
    };
    let resolver = Resolver::new(&ui).await;
    fill_report(&ui.tr, &mut page, &object, report, group, &resolver);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The object the report is on: the one asked for, else deals, else the first there is.
fn chosen_object(ui: &Ui, q: &HashMap<String, String>) -> Option<String> {
    let visible: Vec<&ObjectDef> = ui.schema.objects.values().filter(|o| !o.archived).collect();
    q.get("object")
        .and_then(|o| visible.iter().find(|x| &x.name == o))
        .or_else(|| visible.iter().find(|o| o.name == "deal"))
        .or_else(|| visible.first())
        .map(|o| o.name.clone())
}

/// The report page with its choices and no figures yet.
fn report_form(
    ui: &Ui,
    object: &ObjectDef,
    report: Option<&GroupedReport>,
    error: Option<String>,
    q: &HashMap<String, String>,
) -> ReportsPage {
    let tr = &ui.tr;
    let asked = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // The choices stay on the page when the report fails, with the user's own selected.
    let (group_on, sum_on) = match report {
        Some(r) => (
            r.group.as_ref().map(|f| f.name.clone()),
            r.sum.as_ref().map(|f| f.name.clone()),
        ),
        None => (asked("group").map(String::from), asked("sum").map(String::from)),
    };
    ReportsPage {
        title: tr.t("reports-title"),
        objects: (ui.schema.objects.values().filter(|o| !o.archived))
            .map(|o| (o.name.clone(), labels::object_plural(tr, o), o.name == object.name))
            .collect(),
        groups: groupable(object)
            .iter()
            .map(|f| {
                let on = group_on.as_deref() == Some(f.name.as_str());
                (f.name.clone(), field_label(ui, object, f), on)
            })
            .collect(),
        measures: summable(object)
            .iter()
            .map(|f| {
                let on = sum_on.as_deref() == Some(f.name.as_str());
                let label = tr.t1("reports-sum-of", "field", field_label(ui, object, f));
                (f.name.clone(), label, on)
            })
            .collect(),
        rows: Vec::new(),
        total: String::new(),
        chart: String::new(),
        error,
        list_href: format!("/o/{}", object.name),
        shell: ui.shell("reports"),
    }
}

/// A group's sums in the user's words, one currency a line.
fn sum_text(locale: &str, sum: Option<&FieldDef>, sums: &BTreeMap<String, f64>) -> String {
    let Some(f) = sum else { return String::new() };
    sums.iter()
        .map(|(cur, v)| match f.field_type {
            #[allow(clippy::cast_possible_truncation)]
            FieldType::Money => format::money(locale, v.round() as i64, Some(cur.as_str()).filter(|c| !c.is_empty())),
            FieldType::Percent => format::percent(locale, *v),
            _ => format::number(locale, *v, 0),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a group is called: a choice, a person, yes or no, or none.
fn group_label(tr: &Tr, object: &ObjectDef, group: &FieldDef, key: &Value, resolver: &Resolver) -> String {
    match key {
        Value::Select(v) => labels::choice(tr, object, group, v),
        Value::User(u) => resolver.user(Some(*u)),
        Value::Bool(true) => tr.t("reports-yes"),
        Value::Bool(false) => tr.t("reports-no"),
        _ => tr.t("reports-none"),
    }
}

/// The report's figures on the page: a row and a bar per group, and the total.
fn fill_report(
    tr: &Tr,
    page: &mut ReportsPage,
    object: &ObjectDef,
    report: &GroupedReport,
    group: &FieldDef,
    resolver: &Resolver,
) {
    let locale = tr.locale;
    let one_figure = report.one_currency();
    let mut bars = Vec::new();
    for g in &report.groups {
        let label = group_label(tr, object, group, &g.key, resolver);
        #[allow(clippy::cast_precision_loss)]
        let share = if report.total > 0 {
            g.count as f64 / report.total as f64
        } else {
            0.0
        };
        let sums_text = sum_text(locale, report.sum.as_ref(), &g.sums);
        #[allow(clippy::cast_precision_loss)]
        let (value, text) = if one_figure {
            (g.sums.values().sum::<f64>(), sums_text.clone())
        } else {
            (g.count as f64, format::number(locale, g.count as f64, 0))
        };
        bars.push((label.clone(), value, text));
        page.rows.push(Row {
            label,
            #[allow(clippy::cast_precision_loss)]
            count: format::number(locale, g.count as f64, 0),
            sums: sums_text,
            share: format::share(locale, share),
        });
    }
    #[allow(clippy::cast_precision_loss)]
    {
        page.total = format::number(locale, report.total as f64, 0);
    }
    page.chart = charts::bars(&page.title, &bars);
}
