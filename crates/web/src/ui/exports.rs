//! Records out of a list: the whole list as its filter, sort and columns show it, or the rows
//! ticked in it, as CSV or XLSX.

use super::Ui;
use super::page_error::{OrNotFound, OrPage, PageResult};
use crate::api::imports::export_response;
use crate::problem::ApiError;
use anchora_core::RecordId;
use anchora_core::export::{ExportRequest, Format};
use anchora_core::meta::ObjectDef;
use anchora_core::views::{filter_of_rows, filter_rows};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};

/// `/o/{object}/export?format=csv|xlsx` with the list's own filter, sort and columns.
pub async fn export_list(ui: Ui, Path(object): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let format = Format::parse(get("format").as_deref().unwrap_or("csv"));
    let format = format.ok().or_not_found(&ui)?;
    let request = ExportRequest {
        object: def.name.clone(),
        filter: filter_of_rows(&def, &filter_rows(&q)).map(|f| f.to_string()),
        sort: get("sort"),
        columns: get("columns")
            .map(|c| c.split(',').map(String::from).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        ids: None,
    };
    Ok(download(&ui, request, format).await)
}

/// The rows ticked in a list, as CSV (the bulk form's "export" action).
pub async fn export_selection(ui: &Ui, object: &ObjectDef, ids: Vec<RecordId>) -> Response {
    let request = ExportRequest {
        object: object.name.clone(),
        ids: Some(ids),
        ..Default::default()
    };
    download(ui, request, Format::Csv).await
}

/// The download, or the forbidden page; any other refusal is the API's problem document. An
/// export larger than a list counts is built as a job: the Jobs page shows it and offers the
/// file when it is done.
async fn download(ui: &Ui, request: ExportRequest, format: Format) -> Response {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    if crm.export_is_large(who, &request).await.unwrap_or(false) {
        let started = crm.start_export(who, &request, format).await;
        return match started.or_forbidden_else(ui, |e| ApiError(e).into_response()) {
            Ok(_) => axum::response::Redirect::to("/jobs").into_response(),
            Err(page) => page.into_response(),
        };
    }
    let answered = export_response(ui.authed.crm.clone(), ui.authed.principal.clone(), request, format).await;
    let answered = answered.map_err(|e| e.0);
    answered
        .or_forbidden_else(ui, |e| ApiError(e).into_response())
        .into_response()
}
