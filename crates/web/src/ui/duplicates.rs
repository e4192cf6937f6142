//! The duplicate review queue in the app: scan an object, see each likely pair side by side
//! with why it was found, and dismiss the pairs that are two different records.

use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Resolver, Shell, Ui, form_value, labels};
use anchora_core::ErrorCode;
use anchora_core::auth::Permission;
use anchora_core::dedupe::StoredPair;
use anchora_core::meta::ObjectDef;
use anchora_core::record::Record;
use anchora_core::views::url_encode;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// One side of a pair: its title, link and the fields that tell records apart.
struct Side {
    title: String,
    href: String,
    facts: Vec<(String, String)>,
}

struct PairView {
    score: String,
    why: String,
    a: String,
    b: String,
    a_version: i64,
    b_version: i64,
    sides: Vec<Side>,
    /// Fields where the two differ: (field, label, A's value, B's value).
    choices: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "ui/duplicates.html")]
struct DuplicatesPage {
    shell: Shell,
    title: String,
    object: String,
    objects: Vec<(String, String)>,
    pairs: Vec<PairView>,
    notice: Option<String>,
    /// A merge just made, which can be undone.
    merged: Option<String>,
    error: Option<String>,
    /// The scan this page was sent to watch.
    job: Option<super::jobs::JobPanel>,
}

/// Back to the queue with what went wrong (kept in the query string, shown escaped).
fn back_with(object: &str, e: &anchora_core::Error) -> Response {
    Redirect::to(&format!(
        "/duplicates?object={}&error={}",
        url_encode(object),
        url_encode(&super::admin::problem(e))
    ))
    .into_response()
}

/// Why a pair was found, in words: "same e-mail, similar name".
pub(super) fn reasons_text(tr: &crate::i18n::Tr, reasons: &[anchora_core::dedupe::scan::Reason]) -> String {
    reasons
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_str().map(|k| tr.t(&format!("dup-reason-{k}"))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn side(ui: &Ui, resolver: &Resolver, def: &ObjectDef, r: &Record) -> Side {
    let facts = def
        .active_fields()
        .filter(|f| !def.title_fields.contains(&f.name))
        .filter(|f| !r.get(&f.name).is_null())
        .take(6)
        .map(|f| (labels::field(&ui.tr, def, f), resolver.cell(&ui.tr, def, f, r).text))
        .collect();
    Side {
        title: r.title(def),
        href: format!("/o/{}/{}", def.name, r.id),
        facts,
    }
}

pub async fn duplicates_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::Import, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let object = form_value(&q, "object");
    let object = if object.is_empty() { "person" } else { object };
    let def = ui.object(object).or_not_found(&ui)?;
    let queue = ui
        .authed
        .crm
        .duplicate_queue(&ui.authed.principal, &def.name, 100)
        .await
        .or_page(&ui)?;
    let records: Vec<Record> = queue.iter().flat_map(|(_, a, b)| [a.clone(), b.clone()]).collect();
    let resolver = Resolver::for_records(&ui, &def, &records).await;
    let pairs = queue
        .iter()
        .map(|(p, a, b)| pair_view(&ui, &resolver, &def, p, a, b))
        .collect();
    let mut page = duplicates_view(&ui, &def, pairs, &q);
    let here = format!("/duplicates?object={}", url_encode(&def.name));
    page.job = super::jobs::watched(&ui, &q, &here).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A likely pair side by side, with the fields where the two differ to choose from.
fn pair_view(ui: &Ui, resolver: &Resolver, def: &ObjectDef, p: &StoredPair, a: &Record, b: &Record) -> PairView {
    let tr = &ui.tr;
    PairView {
        score: super::format::percent(tr.locale, (p.score * 100.0).round()),
        why: reasons_text(tr, &p.reasons),
        a: a.id.to_string(),
        b: b.id.to_string(),
        a_version: a.version,
        b_version: b.version,
        sides: vec![side(ui, resolver, def, a), side(ui, resolver, def, b)],
        choices: def
            .active_fields()
            .filter(|f| !a.get(&f.name).is_null() && !b.get(&f.name).is_null() && a.get(&f.name) != b.get(&f.name))
            .map(|f| {
                (
                    f.name.clone(),
                    labels::field(tr, def, f),
                    resolver.cell(tr, def, f, a).text,
                    resolver.cell(tr, def, f, b).text,
                )
            })
            .collect(),
    }
}

/// The queue page, with the notice, undo and error the query string carries.
fn duplicates_view(ui: &Ui, def: &ObjectDef, pairs: Vec<PairView>, q: &[(String, String)]) -> DuplicatesPage {
    let tr = &ui.tr;
    let notice = match form_value(q, "found") {
        "" => None,
        n => Some(tr.t1("dup-scan-done", "count", n.to_string())),
    };
    let merged = Some(form_value(q, "merged").to_string()).filter(|m| !m.is_empty());
    let error = Some(form_value(q, "error").chars().take(500).collect::<String>()).filter(|e| !e.is_empty());
    DuplicatesPage {
        shell: ui.shell("duplicates"),
        title: tr.t("dup-title"),
        object: def.name.clone(),
        objects: ui.object_choices(),
        pairs,
        notice,
        merged,
        error,
        job: None,
    }
}

/// Queue a scan and watch it on the queue page.
pub async fn scan(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&form, "object");
    let job = ui
        .authed
        .crm
        .start_duplicate_scan(&ui.authed.principal, object, None)
        .await
        .or_page(&ui)?;
    let page = format!("/duplicates?object={}", url_encode(object));
    Ok(Redirect::to(&super::jobs::watching(&page, &job)).into_response())
}

pub async fn dismiss(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&form, "object");
    let dismissed = ui
        .authed
        .crm
        .dismiss_duplicate(
            &ui.authed.principal,
            object,
            form_value(&form, "a"),
            form_value(&form, "b"),
        )
        .await;
    match dismissed {
        // A pair someone else decided a moment ago is gone from the queue either way.
        Ok(())
        | Err(anchora_core::Error {
            code: ErrorCode::NotFound,
            ..
        }) => Ok(Redirect::to(&format!("/duplicates?object={}", url_encode(object))).into_response()),
        Err(e) => Err(e).or_page(&ui),
    }
}

/// Merge a pair as the form chose: which record stays, and whose value each differing field
/// keeps.
pub async fn merge(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&form, "object");
    let body = merge_body(&form);
    let entry = ui
        .authed
        .crm
        .merge(&ui.authed.principal, object, body)
        .await
        .or_forbidden_else(&ui, |e| back_with(object, &e))?;
    Ok(Redirect::to(&format!(
        "/duplicates?object={}&merged={}",
        url_encode(object),
        entry.id
    ))
    .into_response())
}

/// The merge the form asks for: which record stays, at which versions, and whose value each
/// differing field keeps.
fn merge_body(form: &[(String, String)]) -> serde_json::Value {
    let (a, b) = (form_value(form, "a"), form_value(form, "b"));
    let version = |k: &str| form_value(form, k).parse::<i64>().unwrap_or(0);
    let a_stays = form_value(form, "stays") != "b";
    let (keep, gone, keep_version, gone_version) = if a_stays {
        (a, b, version("a_version"), version("b_version"))
    } else {
        (b, a, version("b_version"), version("a_version"))
    };
    let mut values = serde_json::Map::new();
    for (k, side) in form {
        if let Some(field) = k.strip_prefix("pick-") {
            let from_keep = (side == "a") == a_stays;
            values.insert(
                field.to_string(),
                serde_json::json!(if from_keep { "keep" } else { "gone" }),
            );
        }
    }
    serde_json::json!({"keep": keep, "gone": gone, "keep_version": keep_version,
                       "gone_version": gone_version, "values": values})
}

pub async fn undo(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&form, "object");
    ui.authed
        .crm
        .undo_merge(&ui.authed.principal, form_value(&form, "merge"))
        .await
        .or_forbidden_else(&ui, |e| back_with(object, &e))?;
    Ok(Redirect::to(&format!("/duplicates?object={}", url_encode(object))).into_response())
}
