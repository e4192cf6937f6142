//! `/support`: questions raised by users and the chain that answers them. Who may see what is
//! decided in core (`support/service.rs`); these handlers only carry it.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::error::Error;
use anchora_core::support::{
    AttachmentInfo, MAX_ATTACHMENT_BYTES, QuestionEvent, QuestionQuery, QuestionView, SupportSettings,
};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/support/questions", get(list).post(raise))
        .route("/support/questions/{id}", get(show).patch(update))
        .route("/support/questions/{id}/events", get(events).post(add_event))
        .route("/support/questions/{id}/escalate", post(escalate))
        .route("/support/questions/{id}/status", post(status))
        .route(
            "/support/questions/{id}/attachments",
            get(attachments)
                .post(add_attachment)
                .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/support/questions/{id}/attachments/{attachment}", get(attachment))
        .route("/support/settings", get(settings).put(set_settings))
        .route("/support/figures", get(figures))
        .route("/support/hypercare", get(hypercare))
}

/// The query as pairs, so a bad one is a problem+json answer like every other.
async fn list(a: Authed, Query(pairs): Query<Vec<(String, String)>>) -> ApiResult<Json<JsonValue>> {
    let q = QuestionQuery::from_pairs(&pairs)?;
    let (lines, next) = a.crm.questions(&a.principal, &q).await?;
    Ok(Json(json!({"data": lines, "next_cursor": next})))
}

async fn raise(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<QuestionView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.raise_question(&a.principal, body).await?),
    ))
}

async fn show(a: Authed, Path(id): Path<String>) -> ApiResult<Json<QuestionView>> {
    Ok(Json(a.crm.question(&a.principal, &id).await?))
}

async fn update(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<QuestionView>> {
    Ok(Json(a.crm.update_question(&a.principal, &id, body).await?))
}

async fn events(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let list: Vec<QuestionEvent> = a.crm.question_events(&a.principal, &id).await?;
    Ok(Json(json!({"data": list})))
}

async fn add_event(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<QuestionView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.add_question_event(&a.principal, &id, body).await?),
    ))
}

async fn escalate(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<QuestionView>> {
    Ok(Json(a.crm.escalate_question(&a.principal, &id, body).await?))
}

async fn status(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<QuestionView>> {
    Ok(Json(a.crm.set_question_status(&a.principal, &id, body).await?))
}

async fn attachments(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let list: Vec<AttachmentInfo> = a.crm.question_attachments(&a.principal, &id).await?;
    Ok(Json(json!({"data": list})))
}

/// A multipart form with the file as `file`. At most one byte past the limit is read, so the
/// refusal names the field instead of cutting the connection.
async fn add_attachment(
    a: Authed,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentInfo>)> {
    let mut form = form.map_err(|e| Error::field("file", format!("send a multipart form: {}", e.body_text())))?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        Error::field("file", format!("the upload could not be read: {}", e.body_text()))
    };
    let mut file = None;
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("attachment").to_string();
        let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ATTACHMENT_BYTES {
                break;
            }
        }
        file = Some((name, content_type, bytes));
        break;
    }
    let (name, content_type, bytes) =
        file.ok_or_else(|| Error::field("file", "send the file as the form field \"file\""))?;
    let info = a
        .crm
        .add_question_attachment(&a.principal, &id, &name, &content_type, &bytes)
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

async fn attachment(a: Authed, Path((id, attachment)): Path<(String, String)>) -> ApiResult<Response> {
    let (info, bytes) = a.crm.question_attachment(&a.principal, &id, &attachment).await?;
    // Served as a download, never shown inline: an uploaded HTML file must not run here.
    let disposition = content_disposition(&info.name);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// `attachment` with an ASCII fallback name and the real one as RFC 8187 `filename*`
/// (UTF-8, percent-encoded), so no byte of a name reaches the header raw.
pub(crate) fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

async fn settings(a: Authed) -> ApiResult<Json<SupportSettings>> {
    Ok(Json(a.crm.support_settings(&a.principal).await?))
}

async fn set_settings(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<SupportSettings>> {
    Ok(Json(a.crm.set_support_settings(&a.principal, body).await?))
}

/// The query as pairs: `weeks`, how far back (12 unless given).
async fn figures(
    a: Authed,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Json<anchora_core::support::SupportFigures>> {
    let weeks = q.iter().find(|(k, _)| k == "weeks").map(|(_, v)| v.as_str());
    Ok(Json(a.crm.support_figures(&a.principal, weeks).await?))
}

/// Per team, the questions raised during hypercare and how old the open ones are.
async fn hypercare(a: Authed) -> ApiResult<Json<anchora_core::support::HypercareView>> {
    Ok(Json(a.crm.hypercare_view(&a.principal).await?))
}
