//! Records out of a list: the whole list as its filter, sort and columns show it, or the rows
//! ticked in it, as CSV or XLSX.

use super::{Ui, forbidden, not_found};
use crate::api::imports::export_response;
use anchora_core::export::{ExportRequest, Format};
use anchora_core::meta::ObjectDef;
use anchora_core::views::{filter_of_rows, filter_rows};
use anchora_core::{ErrorCode, RecordId};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};

/// `/o/{object}/export?format=csv|xlsx` with the list's own filter, sort and columns.
pub async fn export_list(ui: Ui, Path(object): Path<String>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Some(def) = ui.object(&object) else {
        return not_found(&ui);
    };
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let format = match Format::parse(get("format").as_deref().unwrap_or("csv")) {
        Ok(f) => f,
        Err(_) => return not_found(&ui),
    };
    let request = ExportRequest {
        object: def.name.clone(),
        filter: filter_of_rows(&def, &filter_rows(&q)).map(|f| f.to_string()),
        sort: get("sort"),
        columns: get("columns")
            .map(|c| c.split(',').map(String::from).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        ids: None,
    };
    download(&ui, request, format).await
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

async fn download(ui: &Ui, request: ExportRequest, format: Format) -> Response {
    match export_response(ui.authed.crm.clone(), ui.authed.principal.clone(), request, format).await {
        Ok(r) => r,
        Err(e) if e.0.code == ErrorCode::Forbidden => forbidden(ui),
        Err(e) => e.into_response(),
    }
}
