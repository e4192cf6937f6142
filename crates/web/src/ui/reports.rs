//! Reports: any object's records counted (and a number or amount added up) per value of a
//! picklist, a person or a yes/no field, over every record the reader may see, as a table and
//! a bar chart. Everything is in the URL, so a report is shared by its link.

use super::{Resolver, Shell, Ui, charts, format, labels};
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};
use anchora_core::reports::{groupable, summable};
use anchora_core::value::Value;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
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

pub async fn reports_page(ui: Ui, Query(q): Query<HashMap<String, String>>) -> Response {
    let tr = &ui.tr;
    let visible: Vec<&ObjectDef> = ui.schema.objects.values().filter(|o| !o.archived).collect();
    let chosen = q
        .get("object")
        .and_then(|o| visible.iter().find(|x| &x.name == o))
        .or_else(|| visible.iter().find(|o| o.name == "deal"))
        .or_else(|| visible.first());
    let Some(chosen) = chosen.map(|o| o.name.clone()) else {
        return super::not_found(&ui);
    };
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
    let Some(object) = ui.schema.objects.get(&chosen).cloned() else {
        return super::not_found(&ui);
    };
    // The choices stay on the page when the report fails, with the user's own selected.
    let (group_on, sum_on) = match &report {
        Some(r) => (
            r.group.as_ref().map(|f| f.name.clone()),
            r.sum.as_ref().map(|f| f.name.clone()),
        ),
        None => (asked("group").map(String::from), asked("sum").map(String::from)),
    };
    let mut page = ReportsPage {
        title: tr.t("reports-title"),
        objects: visible
            .iter()
            .map(|o| (o.name.clone(), labels::object_plural(tr, o), o.name == object.name))
            .collect(),
        groups: groupable(&object)
            .iter()
            .map(|f| {
                let on = group_on.as_deref() == Some(f.name.as_str());
                (f.name.clone(), field_label(&ui, &object, f), on)
            })
            .collect(),
        measures: summable(&object)
            .iter()
            .map(|f| {
                let on = sum_on.as_deref() == Some(f.name.as_str());
                (
                    f.name.clone(),
                    tr.t1("reports-sum-of", "field", field_label(&ui, &object, f)),
                    on,
                )
            })
            .collect(),
        rows: Vec::new(),
        total: String::new(),
        chart: String::new(),
        error,
        list_href: format!("/o/{}", object.name),
        shell: ui.shell("reports"),
    };
    let Some((report, group)) = report.as_ref().and_then(|r| Some((r, r.group.as_ref()?))) else {
        return ui.page(StatusCode::OK, page.render());
    };
    let resolver = Resolver::new(&ui).await;
    let locale = tr.locale;
    let sum_text = |sums: &BTreeMap<String, f64>| -> String {
        let Some(f) = &report.sum else { return String::new() };
        sums.iter()
            .map(|(cur, v)| match f.field_type {
                #[allow(clippy::cast_possible_truncation)]
                FieldType::Money => {
                    format::money(locale, v.round() as i64, Some(cur.as_str()).filter(|c| !c.is_empty()))
                }
                FieldType::Percent => format::percent(locale, *v),
                _ => format::number(locale, *v, 0),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one_figure = report.one_currency();
    let mut bars = Vec::new();
    for g in &report.groups {
        let label = match &g.key {
            Value::Select(v) => labels::choice(tr, &object, group, v),
            Value::User(u) => resolver.user(Some(*u)),
            Value::Bool(true) => tr.t("reports-yes"),
            Value::Bool(false) => tr.t("reports-no"),
            _ => tr.t("reports-none"),
        };
        #[allow(clippy::cast_precision_loss)]
        let share = if report.total > 0 {
            g.count as f64 / report.total as f64
        } else {
            0.0
        };
        let sums_text = sum_text(&g.sums);
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
    ui.page(StatusCode::OK, page.render())
}
