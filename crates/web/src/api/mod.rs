//! `/api/v1`: thin handlers — extract, call the CRM, render.

mod admin;
mod adoption;
mod consent;
mod currency;
mod dashboards;
mod duplicates;
mod forecast;
pub mod imports;
pub mod jobs;
mod mailings;
mod onboarding;
mod openapi;
pub mod projects;
mod quality;
mod reports;
mod selections;
mod stewardship;
pub(crate) mod support;
mod templates;
mod training;

use crate::AppState;
use crate::extract::{Authed, IfMatch, JsonBody, QueryMap};
use crate::problem::ApiResult;
use anchora_core::auth::Permission;
use anchora_core::meta::{ObjectDef, describe_object};
use anchora_core::record::Record;
use anchora_core::service::ListParams;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value as JsonValue, json};

pub use openapi::openapi_document;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/objects", get(list_objects).post(create_object))
        .route("/objects/{object}", get(get_object).patch(update_object))
        .route("/objects/{object}/fields", post(add_field))
        .route(
            "/objects/{object}/fields/{field}",
            patch(update_field).delete(remove_field),
        )
        .route("/records/{object}", get(list_records).post(create_record))
        .route(
            "/records/{object}/{id}",
            get(get_record).patch(update_record).delete(delete_record),
        )
        .route("/records/{object}/bulk", post(bulk_records))
        .route("/records/{object}/{id}/restore", post(restore_record))
        .route("/records/{object}/{id}/history", get(history))
        .route("/search", get(search))
        .route("/openapi.json", get(openapi))
        .merge(admin::router())
        .merge(projects::router())
        .merge(imports::router())
        .merge(duplicates::router())
        .merge(quality::router())
        .merge(currency::router())
        .merge(reports::router())
        .merge(dashboards::router())
        .merge(forecast::router())
        .merge(adoption::router())
        .merge(onboarding::router())
        .merge(training::router())
        .merge(support::router())
        .merge(stewardship::router())
        .merge(jobs::router())
        .merge(consent::router())
        .merge(selections::router())
        .merge(templates::router())
        .merge(mailings::router())
}

/// A record with its version as ETag.
fn record_response(status: StatusCode, object: &ObjectDef, record: &Record) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(etag) = HeaderValue::from_str(&record.etag()) {
        headers.insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("/api/v1/records/{}/{}", object.name, record.id))
    {
        headers.insert(header::LOCATION, location);
    }
    (status, headers, Json(record.to_json(object))).into_response()
}

async fn list_objects(a: Authed) -> ApiResult<Json<JsonValue>> {
    let schema = a.crm.authorize(&a.principal, Permission::ReadRecords).await?;
    let data: Vec<JsonValue> = schema
        .objects
        .values()
        .filter(|o| !o.archived)
        .map(describe_object)
        .collect();
    Ok(Json(json!({ "data": data })))
}

async fn get_object(a: Authed, Path(object): Path<String>) -> ApiResult<Json<JsonValue>> {
    a.crm.authorize(&a.principal, Permission::ReadRecords).await?;
    let (_, def) = a.crm.object(&object).await?;
    Ok(Json(describe_object(&def)))
}

async fn create_object(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let def = a.crm.create_object(&a.principal, body).await?;
    Ok((StatusCode::CREATED, Json(describe_object(&def))))
}

async fn update_object(a: Authed, Path(object): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let def = a.crm.update_object(&a.principal, &object, body).await?;
    Ok(Json(describe_object(&def)))
}

async fn add_field(
    a: Authed,
    Path(object): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let field = a.crm.add_field(&a.principal, &object, body).await?;
    Ok((StatusCode::CREATED, Json(json!(field))))
}

async fn update_field(
    a: Authed,
    Path((object, field)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let field = a.crm.update_field(&a.principal, &object, &field, body).await?;
    Ok(Json(json!(field)))
}

/// Archives the field; `?purge=true` on an archived field drops it and its data.
async fn remove_field(
    a: Authed,
    Path((object, field)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<Json<JsonValue>> {
    let purge = q.get("purge").is_some_and(|v| v == "true" || v == "1");
    let field = a.crm.remove_field(&a.principal, &object, &field, purge).await?;
    Ok(Json(json!({"field": field, "purged": purge})))
}

async fn list_records(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let params = ListParams {
        filter: q.get("filter").cloned(),
        sort: q.get("sort").cloned(),
        limit: q.get("limit").cloned(),
        cursor: q.get("cursor").cloned(),
        trash: q.get("trash").is_some_and(|v| v == "true" || v == "1"),
        count: q.get("count").is_some_and(|v| v == "true" || v == "1"),
    };
    let (def, page) = a.crm.list(&a.principal, &object, &params).await?;
    let data: Vec<JsonValue> = page.records.iter().map(|r| r.to_json(&def)).collect();
    let mut body = json!({ "data": data, "next_cursor": page.next_cursor });
    if let (Some(total), Some(fields)) = (page.total, body.as_object_mut()) {
        fields.insert("total".into(), json!(total));
    }
    Ok(Json(body))
}

async fn create_record(a: Authed, Path(object): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Response> {
    let (def, record) = a.crm.create(&a.principal, &object, &body).await?;
    Ok(record_response(StatusCode::CREATED, &def, &record))
}

async fn get_record(a: Authed, Path((object, id)): Path<(String, String)>) -> ApiResult<Response> {
    let (def, record) = a.crm.get(&a.principal, &object, &id).await?;
    Ok(record_response(StatusCode::OK, &def, &record))
}

async fn update_record(
    a: Authed,
    Path((object, id)): Path<(String, String)>,
    IfMatch(version): IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let (def, record) = a.crm.update(&a.principal, &object, &id, &body, version).await?;
    Ok(record_response(StatusCode::OK, &def, &record))
}

/// `POST /records/{object}/bulk`: one change to many records, each at its own version.
async fn bulk_records(a: Authed, Path(object): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let report = a.crm.bulk_from_body(&a.principal, &object, body).await?;
    Ok(Json(serde_json::to_value(&report).unwrap_or_default()))
}

async fn delete_record(
    a: Authed,
    Path((object, id)): Path<(String, String)>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    let (def, record) = a.crm.delete(&a.principal, &object, &id, version).await?;
    Ok(record_response(StatusCode::OK, &def, &record))
}

async fn restore_record(
    a: Authed,
    Path((object, id)): Path<(String, String)>,
    IfMatch(version): IfMatch,
) -> ApiResult<Response> {
    let (def, record) = a.crm.restore(&a.principal, &object, &id, version).await?;
    Ok(record_response(StatusCode::OK, &def, &record))
}

async fn history(
    a: Authed,
    Path((object, id)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<Json<JsonValue>> {
    let changes = a
        .crm
        .history(
            &a.principal,
            &object,
            &id,
            q.get("after").map(String::as_str),
            q.get("limit").map(String::as_str),
        )
        .await?;
    let limit = anchora_core::query::parse_limit(q.get("limit").map(String::as_str))?;
    let next = (changes.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| changes.last().map(|c| c.seq))
        .flatten();
    let data: Vec<JsonValue> = changes.iter().map(|c| c.to_json()).collect();
    Ok(Json(json!({ "data": data, "next_after": next })))
}

async fn search(a: Authed, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let text = q.get("q").map(String::as_str).unwrap_or("");
    let hits = a
        .crm
        .search(&a.principal, text, q.get("limit").map(String::as_str))
        .await?;
    let data: Vec<JsonValue> = hits
        .iter()
        .map(|h| json!({"object": h.object, "id": h.id.to_string(), "title": h.title, "rank": h.rank}))
        .collect();
    Ok(Json(json!({ "data": data })))
}

async fn openapi(a: Authed) -> ApiResult<Json<JsonValue>> {
    let schema = a.crm.authorize(&a.principal, Permission::ReadRecords).await?;
    Ok(Json(openapi_document(&schema, &a.workspace)))
}
