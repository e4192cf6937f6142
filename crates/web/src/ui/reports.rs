//! Reports: any object's records counted (and a number or amount added up) per value of a
//! picklist, a person or a yes/no field, over every record the reader may see, as a table and
//! a bar chart. Everything is in the URL, so a report is shared by its link.

use super::{Resolver, Shell, Ui, charts, format, labels};
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, system_field};
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

/// Fields a report can group by: picklists, people and yes/no.
fn groupable(object: &ObjectDef) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = object
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Select | FieldType::User | FieldType::Boolean))
        .cloned()
        .collect();
    if let Some(owner) = system_field("owner") {
        out.push(owner);
    }
    out
}

fn summable(object: &ObjectDef) -> Vec<FieldDef> {
    object
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Number | FieldType::Money | FieldType::Percent))
        .cloned()
        .collect()
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
    let visible: Vec<ObjectDef> = ui.schema.objects.values().filter(|o| !o.archived).cloned().collect();
    let chosen = q
        .get("object")
        .and_then(|o| visible.iter().find(|x| &x.name == o))
        .or_else(|| visible.iter().find(|o| o.name == "deal"))
        .or_else(|| visible.first())
        .cloned();
    let Some(object) = chosen else {
        return super::not_found(&ui);
    };
    let groups = groupable(&object);
    let group = q
        .get("group")
        .and_then(|g| groups.iter().find(|f| &f.name == g))
        .or_else(|| groups.first())
        .cloned();
    let sums = summable(&object);
    let sum = q.get("sum").and_then(|s| sums.iter().find(|f| &f.name == s)).cloned();
    let mut page = ReportsPage {
        title: tr.t("reports-title"),
        objects: visible
            .iter()
            .map(|o| (o.name.clone(), labels::object_plural(tr, o), o.name == object.name))
            .collect(),
        groups: groups
            .iter()
            .map(|f| {
                let on = group.as_ref().is_some_and(|g| g.name == f.name);
                (f.name.clone(), field_label(&ui, &object, f), on)
            })
            .collect(),
        measures: sums
            .iter()
            .map(|f| {
                let on = sum.as_ref().is_some_and(|s| s.name == f.name);
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
        error: None,
        list_href: format!("/o/{}", object.name),
        shell: ui.shell("reports"),
    };
    let Some(group) = group else {
        return ui.page(StatusCode::OK, page.render());
    };
    // Amounts are added up per currency, never across currencies.
    let currency = (sum.as_ref().is_some_and(|s| s.field_type == FieldType::Money))
        .then(|| {
            object
                .field("currency")
                .filter(|f| f.field_type == FieldType::Select)
                .cloned()
        })
        .flatten();
    let mut by: Vec<&str> = vec![group.name.as_str()];
    if let Some(c) = &currency {
        by.push(c.name.as_str());
    }
    let rows = match ui
        .authed
        .crm
        .aggregate(
            &ui.authed.principal,
            &object.name,
            &by,
            sum.as_ref().map(|s| s.name.as_str()),
            None,
        )
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            page.error = Some(e.detail);
            return ui.page(StatusCode::OK, page.render());
        }
    };
    let resolver = Resolver::new(&ui).await;
    let locale = tr.locale;
    // Groups in the picklist's own order (a pipeline reads left to right), people by name,
    // yes before no, and the empty group last.
    let mut rows = rows;
    let rank = |v: Option<&Value>| -> (usize, String) {
        match v {
            Some(Value::Select(s)) => (
                group
                    .choices
                    .iter()
                    .position(|c| &c.value == s)
                    .unwrap_or(usize::MAX - 1),
                s.clone(),
            ),
            Some(Value::User(u)) => (0, resolver.user(Some(*u)).to_lowercase()),
            Some(Value::Bool(b)) => (usize::from(!*b), String::new()),
            _ => (usize::MAX, String::new()),
        }
    };
    rows.sort_by_cached_key(|r| rank(r.keys.first()));
    // group value → (label, count, currency → sum); two people of one name stay two rows.
    let mut order: Vec<String> = Vec::new();
    let mut labels_of: HashMap<String, String> = HashMap::new();
    let mut acc: HashMap<String, (i64, BTreeMap<String, f64>)> = HashMap::new();
    for r in &rows {
        let key = r
            .keys
            .first()
            .map_or(serde_json::Value::Null, Value::to_json)
            .to_string();
        let label = match r.keys.first() {
            Some(Value::Select(v)) => labels::choice(tr, &object, &group, v),
            Some(Value::User(u)) => resolver.user(Some(*u)),
            Some(Value::Bool(true)) => tr.t("reports-yes"),
            Some(Value::Bool(false)) => tr.t("reports-no"),
            _ => tr.t("reports-none"),
        };
        let cur = match r.keys.get(1) {
            Some(Value::Select(c)) => c.clone(),
            _ => String::new(),
        };
        if !acc.contains_key(&key) {
            order.push(key.clone());
            labels_of.insert(key.clone(), label);
        }
        let e = acc.entry(key).or_default();
        e.0 += r.count;
        if let Some(s) = r.sum {
            *e.1.entry(cur).or_default() += s;
        }
    }
    let total: i64 = acc.values().map(|v| v.0).sum();
    let sum_text = |sums: &BTreeMap<String, f64>| -> String {
        let Some(f) = &sum else { return String::new() };
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
    // Bars by the sum when every group's sum is in one and the same currency, else by count.
    let currencies: std::collections::BTreeSet<&String> = acc.values().flat_map(|v| v.1.keys()).collect();
    let one_figure = sum.is_some() && currencies.len() <= 1;
    let mut bars = Vec::new();
    for key in &order {
        let Some((count, sums)) = acc.get(key) else { continue };
        let label = labels_of.get(key).cloned().unwrap_or_default();
        #[allow(clippy::cast_precision_loss)]
        let share = if total > 0 { *count as f64 / total as f64 } else { 0.0 };
        let sums_text = sum_text(sums);
        #[allow(clippy::cast_precision_loss)]
        let (value, text) = if one_figure {
            (sums.values().sum::<f64>(), sums_text.clone())
        } else {
            (*count as f64, format::number(locale, *count as f64, 0))
        };
        bars.push((label.clone(), value, text));
        page.rows.push(Row {
            label,
            #[allow(clippy::cast_precision_loss)]
            count: format::number(locale, *count as f64, 0),
            sums: sums_text,
            share: format::share(locale, share),
        });
    }
    #[allow(clippy::cast_precision_loss)]
    {
        page.total = format::number(locale, total as f64, 0);
    }
    page.chart = charts::bars(&page.title, &bars);
    ui.page(StatusCode::OK, page.render())
}
