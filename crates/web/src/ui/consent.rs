//! A person's consent to each purpose on their record page, and recording a change of it: the
//! purpose, granted or withdrawn, and where it came from (kept as proof).

use super::page_error::{OrPage, PageResult};
use super::posted::Posted;
use super::{Ui, form_value};
use anchora_core::consent::ConsentState;
use anchora_core::gdpr::PERSON;
use anchora_core::views::url_encode;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};

/// The person's consents as the page shows them.
pub struct ConsentsView {
    pub no_email: bool,
    pub rows: Vec<ConsentRow>,
    /// What went wrong with the last change, if anything (from the query string).
    pub error: Option<String>,
}

pub struct ConsentRow {
    pub key: String,
    pub name: String,
    /// `granted`, `withdrawn` or `none`, for the tag's look.
    pub state: &'static str,
    pub state_label: String,
    /// When and from where the current consent came ("since … · web form"); empty when none.
    pub since: String,
    /// What the row's button records, and says.
    pub next_state: &'static str,
    pub action: String,
}

/// The consents panel of a person's page; none for other objects, or when they cannot be read.
pub async fn consents_view(ui: &Ui, object: &str, id: &str, query: &[(String, String)]) -> Option<ConsentsView> {
    if object != PERSON {
        return None;
    }
    let tr = &ui.tr;
    let consents = ui
        .authed
        .crm
        .person_consents(&ui.authed.principal, object, id)
        .await
        .ok()?;
    let rows = consents
        .purposes
        .iter()
        .map(|c| {
            let state = c.consent.as_ref().map(|e| e.state);
            let (state_key, next) = match state {
                Some(ConsentState::Granted) => ("granted", ConsentState::Withdrawn),
                Some(ConsentState::Withdrawn) => ("withdrawn", ConsentState::Granted),
                None => ("none", ConsentState::Granted),
            };
            ConsentRow {
                key: c.purpose.key.clone(),
                name: c.purpose.name.clone(),
                state: state_key,
                state_label: tr.t(&format!("consent-state-{state_key}")),
                since: c
                    .consent
                    .as_ref()
                    .map(|e| {
                        tr.tn(
                            "consent-since-line",
                            &[("when", tr.datetime(e.at)), ("source", e.source.clone())],
                        )
                    })
                    .unwrap_or_default(),
                next_state: next.as_str(),
                action: tr.t(&format!("consent-record-{}", next.as_str())),
            }
        })
        .collect();
    let error =
        Some(form_value(query, "consent-error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty());
    Some(ConsentsView {
        no_email: consents.no_email,
        rows,
        error,
    })
}

/// `POST /o/person/{id}/consents`: record a consent given or withdrawn; back to the page.
pub async fn record(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let body = serde_json::json!({
        "purpose": form_value(&form, "purpose"),
        "state": form_value(&form, "state"),
        "source": form_value(&form, "source"),
    });
    let recorded = ui
        .authed
        .crm
        .record_consent(&ui.authed.principal, &object, &id, body)
        .await;
    let back = format!("/o/{}/{}", url_encode(&object), url_encode(&id));
    recorded.or_forbidden_else(&ui, |e| match e.code {
        anchora_core::ErrorCode::ValidationFailed => Redirect::to(&format!(
            "{back}?consent-error={}#consents",
            url_encode(&super::admin::problem(&e))
        ))
        .into_response(),
        _ => super::not_found(&ui),
    })?;
    Ok(Redirect::to(&format!("{back}#consents")).into_response())
}
