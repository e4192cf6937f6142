//! The reporting currency and the exchange rates an administrator keeps: every sum across
//! currencies (board columns, the start page's pipeline) is shown in it.

use super::{Shell, Ui, forbidden, form_expired, form_value, not_found};
use anchora_core::ErrorCode;
use anchora_core::auth::Permission;
use anchora_core::currency::CurrencySettings;
use anchora_core::meta::FieldType;
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
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
        .collect();
    codes.insert(settings.reporting.clone());
    codes.extend(settings.rates.keys().cloned());
    codes.into_iter().collect()
}

fn rate_text(locale: &str, rate: f64) -> String {
    // As many decimals as the rate has (up to six), in the user's way of writing numbers.
    let mut decimals = 0;
    while decimals < 6 && ((rate * 10f64.powi(decimals)).round() - rate * 10f64.powi(decimals)).abs() > 1e-9 {
        decimals += 1;
    }
    super::format::number(locale, rate, usize::try_from(decimals).unwrap_or(6))
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
    let rates = known_currencies(ui, settings)
        .into_iter()
        .filter(|c| *c != reporting)
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
        rates,
        reporting_error: errors.get("reporting").cloned(),
        error: None,
        saved: false,
    }
}

pub async fn currency_form(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> Response {
    if !ui.a.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return forbidden(&ui);
    }
    let Ok(settings) = ui.a.crm.currency_settings().await else {
        return not_found(&ui);
    };
    let mut page = page(&ui, &settings, None, &HashMap::new());
    page.saved = form_value(&q, "saved") == "1";
    ui.page(StatusCode::OK, page.render())
}

/// The form as the body core checks: rates as typed in the user's language, blank for none.
fn read_form(ui: &Ui, form: &[(String, String)]) -> (serde_json::Value, HashMap<String, String>) {
    let mut rates = BTreeMap::new();
    let mut errors = HashMap::new();
    for (name, value) in form {
        let Some(code) = name.strip_prefix("rate.") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match super::projects::parse_decimal(ui.tr.locale, value) {
            Some(rate) => {
                rates.insert(code.to_string(), rate);
            }
            None => {
                errors.insert(format!("rates.{code}"), ui.tr.t("currency-rate-bad"));
            }
        }
    }
    let body = serde_json::json!({"reporting": form_value(form, "reporting"), "rates": rates});
    (body, errors)
}

pub async fn save_currency(ui: Ui, Form(form): Form<Vec<(String, String)>>) -> Response {
    if !ui.csrf_ok(form_value(&form, "csrf")) {
        return form_expired(&ui);
    }
    if !ui.a.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return forbidden(&ui);
    }
    let Ok(current) = ui.a.crm.currency_settings().await else {
        return not_found(&ui);
    };
    let (body, mut errors) = read_form(&ui, &form);
    if errors.is_empty() {
        match ui.a.crm.set_currency_settings(&ui.a.principal, body).await {
            Ok(_) => return Redirect::to("/admin/currency?saved=1").into_response(),
            Err(e) if e.code == ErrorCode::Forbidden => return forbidden(&ui),
            Err(e) => {
                for f in &e.errors {
                    let message = if f.field.starts_with("rates.") {
                        ui.tr.t("currency-rate-bad")
                    } else {
                        super::field_message(&ui.tr, &f.message)
                    };
                    errors.insert(f.field.clone(), message);
                }
            }
        }
    }
    let mut page = page(&ui, &current, Some(&form), &errors);
    page.error = Some(ui.tr.t("currency-mistakes"));
    ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render())
}
