//! The reporting currency and the exchange rates an administrator keeps: every sum across
//! currencies (board columns, the start page's pipeline) is shown in it.

use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value};
use anchora_core::auth::Permission;
use anchora_core::currency::CurrencySettings;
use anchora_core::meta::FieldType;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One currency's line: its code, its rate as typed or kept, and what was wrong with it.
pub struct RateLine {
    pub code: String,
    pub input: String,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/currency.html")]
struct CurrencyPage {
    shell: Shell,
    title: String,
    reporting: String,
    /// The currency the rate inputs are given in: the saved reporting currency.
    rates_in: String,
    currencies: Vec<String>,
    rates: Vec<RateLine>,
    reporting_error: Option<String>,
    error: Option<String>,
    saved: bool,
}

fn rate_input(code: &str) -> String {
    format!("rate.{code}")
}

/// The currencies records use (every `currency` picklist's choices) and those already set.
fn known_currencies(ui: &Ui, settings: &CurrencySettings) -> Vec<String> {
    let mut codes: BTreeSet<String> = ui
        .schema
        .objects
        .values()
        .flat_map(|o| o.active_fields())
        .filter(|f| f.field_type == FieldType::Select && f.name == "currency")
        .flat_map(|f| f.choices.iter().map(|c| c.value.clone()))
        // A picklist value that is no currency code ("Euro") cannot be given a rate.
        .filter(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
        .collect();
    codes.insert(settings.reporting.clone());
    codes.extend(settings.rates.keys().cloned());
    codes.into_iter().collect()
}

/// A rate as the form shows it: no thousands grouping, the user's decimal mark, and every
/// digit it has (Rust's shortest exact form), so saving the form again changes nothing.
fn rate_text(locale: &str, rate: f64) -> String {
    let plain = rate.to_string();
    if locale == "en" { plain } else { plain.replace('.', ",") }
}

/// A rate as typed: one decimal mark, point or comma, whatever the user's language (rates are
/// pasted from banks' pages, which write 11.45 everywhere), and no thousands grouping.
fn parse_rate(typed: &str) -> Option<f64> {
    anchora_core::number::parse(typed, anchora_core::number::NumberFormat::PLAIN)
}

fn page(
    ui: &Ui,
    settings: &CurrencySettings,
    typed: Option<&[(String, String)]>,
    errors: &HashMap<String, String>,
) -> CurrencyPage {
    let tr = &ui.tr;
    let reporting = typed.map_or_else(
        || settings.reporting.clone(),
        |f| form_value(f, "reporting").to_string(),
    );
    let rates_in = settings.reporting.clone();
    let rates = known_currencies(ui, settings)
        .into_iter()
        .filter(|c| *c != rates_in)
        .map(|code| {
            let input = rate_input(&code);
            let value = match typed {
                Some(form) => form_value(form, &input).to_string(),
                None => settings
                    .rates
                    .get(&code)
                    .map(|r| rate_text(tr.locale, *r))
                    .unwrap_or_default(),
            };
            RateLine {
                error: errors.get(&format!("rates.{code}")).cloned(),
                code,
                input,
                value,
            }
        })
        .collect();
    CurrencyPage {
        shell: ui.shell("currency"),
        title: tr.t("currency-title"),
        currencies: known_currencies(ui, settings),
        reporting,
        rates_in,
        rates,
        reporting_error: errors.get("reporting").cloned(),
        error: None,
        saved: false,
    }
}

pub async fn currency_form(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let settings = ui
        .authed
        .crm
        .currency_settings()
        .await
        .map_err(|e| super::records::unavailable(&ui, &e))?;
    let mut page = page(&ui, &settings, None, &HashMap::new());
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The form as the body core checks. The rates are typed into the saved reporting currency
/// (`rates_in`); choosing another reporting currency converts them through its rate.
fn read_form(ui: &Ui, form: &[(String, String)], rates_in: &str) -> (serde_json::Value, HashMap<String, String>) {
    let mut rates = BTreeMap::new();
    let mut errors = HashMap::new();
    for (name, value) in form {
        let Some(code) = name.strip_prefix("rate.") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match parse_rate(value) {
            Some(rate) => {
                rates.insert(code.to_string(), rate);
            }
            None => {
                errors.insert(format!("rates.{code}"), ui.tr.t("currency-rate-bad"));
            }
        }
    }
    let reporting = form_value(form, "reporting");
    let typed = CurrencySettings {
        reporting: rates_in.to_string(),
        rates,
    };
    // The rates as typed are checked before any is divided by another: a mistake is marked on
    // the rate the user typed, not on one worked out from it.
    if let Err(e) = typed.check() {
        for f in &e.errors {
            errors.insert(f.field.clone(), ui.tr.t("currency-rate-bad"));
        }
    }
    let settings = if reporting == rates_in || !errors.is_empty() {
        typed
    } else {
        match typed.rebased(reporting) {
            Some(s) => s,
            None => {
                errors.insert(
                    "reporting".into(),
                    ui.tr.t1("currency-no-pivot", "currency", reporting.to_string()),
                );
                typed
            }
        }
    };
    let body = serde_json::to_value(&settings).unwrap_or_default();
    (body, errors)
}

pub async fn save_currency(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let current = ui
        .authed
        .crm
        .currency_settings()
        .await
        .map_err(|e| super::records::unavailable(&ui, &e))?;
    let (body, mut errors) = read_form(&ui, &form, &current.reporting);
    if errors.is_empty() {
        let saved = ui.authed.crm.set_currency_settings(&ui.authed.principal, body).await;
        match saved.or_forbidden(&ui)? {
            Ok(_) => return Ok(Redirect::to("/admin/currency?saved=1").into_response()),
            Err(e) if e.errors.is_empty() => return Err(super::records::unavailable(&ui, &e).into()),
            Err(e) => mark_refused(&ui, &e, &current, &form, &mut errors),
        }
    }
    let mut page = page(&ui, &current, Some(&form), &errors);
    page.error = Some(ui.tr.t("currency-mistakes"));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

/// The mistakes the use case found, each on the input the user typed it in.
fn mark_refused(
    ui: &Ui,
    e: &anchora_core::Error,
    current: &CurrencySettings,
    form: &[(String, String)],
    errors: &mut HashMap<String, String>,
) {
    // After a change of reporting currency the old one's rate is worked out from
    // the new one's: a mistake there is the new one's rate.
    let worked_out = format!("rates.{}", current.reporting);
    let pivot = format!("rates.{}", form_value(form, "reporting"));
    for f in &e.errors {
        let (field, message) = if f.field.starts_with("rates.") {
            let field = if f.field == worked_out {
                pivot.clone()
            } else {
                f.field.clone()
            };
            (field, ui.tr.t("currency-rate-bad"))
        } else {
            (f.field.clone(), super::field_message(&ui.tr, &f.message))
        };
        errors.insert(field, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_with_either_decimal_mark_and_show_every_digit() {
        assert_eq!(parse_rate("11.45"), Some(11.45));
        assert_eq!(parse_rate(" 11,45 "), Some(11.45));
        assert_eq!(parse_rate("1.085"), Some(1.085));
        assert_eq!(parse_rate("1,234.5"), None, "grouping is refused, not guessed");
        assert_eq!(parse_rate("1.234,5"), None);
        assert_eq!(parse_rate("ten"), None);
        assert_eq!(parse_rate("inf"), None);
        assert_eq!(rate_text("sv", 11.45), "11,45");
        assert_eq!(rate_text("en", 0.000_000_1), "0.0000001");
        let r = 1.0 / 11.5;
        assert_eq!(parse_rate(&rate_text("de", r)), Some(r), "a saved form keeps the rate");
    }
}
