//! What the project pages share: reading their forms (numbers and amounts as the user's
//! language writes them), the labels of roles, areas and states, and the answer to a form.

use crate::ui::Ui;
use crate::ui::admin::problem;
use crate::ui::page_error::OrPage;
use anchora_core::Error;
use anchora_core::project::ProjectState;
use anchora_core::project::model::{PackageState, TaskStatus};
use anchora_core::project::roles::RoleDef;
use anchora_core::project::thirds::Area;
use anchora_core::views::url_encode;
use axum::extract::Query;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use std::collections::HashMap;

pub(crate) type Fields = HashMap<String, String>;

pub(crate) type Params = Query<HashMap<String, String>>;

pub(crate) fn field<'a>(form: &'a Fields, key: &str) -> &'a str {
    form.get(key).map_or("", |v| v.trim())
}

/// After a form: back to the page, with the error to show if there was one.
pub(crate) fn back(ui: &Ui, path: &str, result: Result<(), Error>) -> Response {
    let answered = result.or_forbidden(ui).and_then(|result| {
        result.or_not_found_else(ui, |e| {
            Redirect::to(&format!("{path}?error={}", url_encode(&problem(&e)))).into_response()
        })
    });
    answered
        .map(|()| Redirect::to(&format!("{path}?saved=1")).into_response())
        .into_response()
}

pub fn role_label(ui: &Ui, catalogue: &[RoleDef], key: &str) -> String {
    match catalogue.iter().find(|r| r.key == key) {
        Some(r) if !r.label.is_empty() => r.label.clone(),
        _ => ui.tr.t(&format!("project-role-{}", key.replace('_', "-"))),
    }
}

pub(crate) fn area_label(ui: &Ui, a: Area) -> String {
    ui.tr.t(&format!("project-area-{}", a.as_str()))
}

pub(crate) fn status_label(ui: &Ui, s: TaskStatus) -> String {
    ui.tr.t(&format!("project-status-{}", s.as_str().replace('_', "-")))
}

pub(crate) fn package_label(ui: &Ui, s: PackageState) -> String {
    ui.tr.t(&format!("project-package-{}", s.as_str().replace('_', "-")))
}

pub(crate) fn date(ui: &Ui, d: NaiveDate) -> String {
    ui.tr.date(d)
}

/// Money typed in major units ("1 250 000", "99,50") as minor units.
pub(crate) fn parse_money(s: &str) -> Option<i64> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\'')
        .collect();
    if cleaned.is_empty() {
        return Some(0);
    }
    // One separator with at most two digits after it is the decimal mark; others group.
    let last = cleaned.rfind([',', '.']);
    let (int, frac) = match last {
        Some(i) if cleaned.len() - i - 1 <= 2 => (cleaned.get(..i)?, cleaned.get(i + 1..)?),
        _ => (cleaned.as_str(), ""),
    };
    let int: String = int.chars().filter(|c| *c != ',' && *c != '.').collect();
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(cents)
}

pub(crate) fn money_input(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, (minor % 100).abs())
    }
}

/// A form's number as the user's language writes it; an empty input is 0.
pub(crate) fn parse_decimal(locale: &str, s: &str) -> Option<f64> {
    if s.trim().is_empty() {
        return Some(0.0);
    }
    anchora_core::number::parse(s, anchora_core::number::NumberFormat::of_locale(locale))
}

/// A form value that must be a number; its error names the field.
pub(crate) fn decimal(locale: &str, form: &Fields, key: &str) -> Result<f64, Error> {
    parse_decimal(locale, field(form, key)).ok_or_else(|| Error::field(key, "must be a number"))
}

pub(crate) fn money_field(form: &Fields, key: &str) -> Result<i64, Error> {
    parse_money(field(form, key)).ok_or_else(|| Error::field(key, "must be an amount such as 1250000 or 99.50"))
}

pub(crate) fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) fn member_name(state: &ProjectState, n: Option<u32>) -> String {
    n.and_then(|n| state.member(n))
        .map(|m| m.name.clone())
        .unwrap_or_default()
}

pub(crate) fn form_number(form: &Fields, key: &str) -> Result<i64, Error> {
    field(form, key)
        .parse()
        .map_err(|_| Error::field(key, "must be a whole number"))
}
