//! `/imports` and `/records/{object}/export`: files in as jobs, records out as streams.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::{ApiError, ApiResult};
use anchora_core::export::{CsvSink, ExportRequest, Format, SharedBuffer, Sink, XlsxSink};
use anchora_core::import::service::MAX_UPLOAD_BYTES;
use anchora_core::import::upload::{Upload, UploadWriter, too_large};
use anchora_core::import::{ImportJob, Preview};
use anchora_core::service::Crm;
use anchora_core::{Error, ErrorCode, RecordId};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};
use tokio::sync::mpsc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/imports",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/imports/{id}", get(show))
        .route("/imports/{id}/start", post(start))
        .route("/imports/{id}/rejected.csv", get(rejected))
        .route("/imports/{id}/warnings.csv", get(warnings_csv))
        .route("/records/{object}/export", get(export))
}

pub fn job_json(job: &ImportJob) -> JsonValue {
    json!({
        "id": job.id.to_string(),
        "object": job.settings.object,
        "file_name": job.file_name,
        "status": job.status.as_str(),
        "settings": job.settings,
        "headers": job.headers,
        "counts": job.counts,
        "summary": job.counts.summary(),
        "error": job.error,
        "created_by": job.created_by.to_string(),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "rejected_csv": format!("/api/v1/imports/{}/rejected.csv", job.id),
        "warnings_csv": format!("/api/v1/imports/{}/warnings.csv", job.id),
    })
}

/// A file from a multipart form (`file`) and the object to import into (`object`).
pub struct UploadForm {
    pub object: Option<String>,
    /// Written to a temporary file as it arrived, never held whole.
    pub upload: Upload,
    /// Other text fields of the form (a CSRF token, say).
    pub fields: Vec<(String, String)>,
}

/// A form's fields other than the file are short: at most this many, of at most 4 KB each.
const MAX_SMALL_FIELDS: usize = 8;
const MAX_SMALL_FIELD_BYTES: usize = 4096;

/// A short text field of an upload form, read only as far as a short field goes.
async fn small_text(field: &mut axum::extract::multipart::Field<'_>, name: &str) -> Result<String, Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable_upload)? {
        if bytes.len() + chunk.len() > MAX_SMALL_FIELD_BYTES {
            return Err(Error::field(name, "is longer than a form field of an upload may be"));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| Error::field(name, "is not UTF-8 text"))
}

/// A multipart body that could not be read: too large, or broken.
fn unreadable_upload(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Error::field("file", format!("the upload could not be read: {}", e.body_text()))
    }
}

pub async fn read_upload(mut form: Multipart) -> Result<UploadForm, Error> {
    let mut object = None;
    let mut upload = None;
    let mut fields = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(unreadable_upload)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("upload.csv").to_string();
                let mut writer = UploadWriter::new(&file_name)?;
                while let Some(chunk) = field.chunk().await.map_err(unreadable_upload)? {
                    writer.write(&chunk).await?;
                }
                upload = Some(writer.finish().await?);
            }
            "object" => object = Some(small_text(&mut field, &name).await?),
            _ => {
                // Only a few short fields ride along (a CSRF token): more is refused, not read.
                if fields.len() >= MAX_SMALL_FIELDS {
                    return Err(Error::field(&name, "the form has more fields than an upload takes"));
                }
                let text = small_text(&mut field, &name).await?;
                fields.push((name, text));
            }
        }
    }
    let upload = upload.ok_or_else(|| Error::field("file", "send the file as the form field \"file\""))?;
    Ok(UploadForm { object, upload, fields })
}

fn preview_json(preview: &Preview) -> JsonValue {
    json!({
        "format": preview.format,
        "encoding": preview.encoding,
        "separator": preview.separator.map(String::from),
        "headers": preview.headers,
        "suggestions": preview.suggestions,
        "rows": preview.rows,
        "broken": preview.broken.iter().map(|(n, r)| json!({"row": n, "reason": r})).collect::<Vec<_>>(),
    })
}

async fn upload(
    a: Authed,
    State(state): State<AppState>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    // axum answers a body that is not multipart/form-data in plain text; the API answers problems.
    let form = form.map_err(|e| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the file as multipart/form-data with the fields object and file ({})",
                e.body_text()
            ),
        )
    })?;
    let _slot = state.uploads.take(a.principal.user_id)?;
    let form = read_upload(form).await?;
    let object = form
        .object
        .ok_or_else(|| Error::field("object", "name the object to import into"))?;
    let (job, preview) = a.crm.upload_import(&a.principal, &object, form.upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"import": job_json(&job), "preview": preview_json(&preview)})),
    ))
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    let jobs = a.crm.import_jobs(&a.principal, 100).await?;
    Ok(Json(json!({"data": jobs.iter().map(job_json).collect::<Vec<_>>()})))
}

/// A job, with the rows that look like records already there (the first 200).
async fn show(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let job = a.crm.import_job(&a.principal, &id).await?;
    let (total, rows) = a.crm.import_likely_duplicates(&a.principal, &id, 200).await?;
    let (warnings, unknown_owners) = a.crm.import_warnings(&a.principal, &id, 200).await?;
    let mut body = job_json(&job);
    if let Some(fields) = body.as_object_mut() {
        fields.insert("likely_duplicates".into(), json!({"total": total, "rows": rows}));
        let warnings: Vec<JsonValue> = warnings
            .iter()
            .map(|w| json!({"row": w.row, "kind": w.kind, "detail": w.detail, "message": w.message()}))
            .collect();
        fields.insert("warnings".into(), JsonValue::Array(warnings));
        fields.insert("unknown_owners".into(), json!(unknown_owners));
    }
    Ok(Json(body))
}

async fn start(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let job = a.crm.start_import(&a.principal, &id, body).await?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job))))
}

async fn rejected(a: Authed, Path(id): Path<String>) -> ApiResult<Response> {
    let mut out = Vec::new();
    a.crm.write_rejected_csv(&a.principal, &id, &mut out).await?;
    Ok(file_response(Body::from(out), Format::Csv, &format!("rejected-{id}")))
}

async fn warnings_csv(a: Authed, Path(id): Path<String>) -> ApiResult<Response> {
    let mut out = Vec::new();
    a.crm.write_warnings_csv(&a.principal, &id, &mut out).await?;
    Ok(file_response(Body::from(out), Format::Csv, &format!("warnings-{id}")))
}

/// A download: its content type and a file name made safe for the header.
pub(crate) fn file_response(body: Body, format: Format, name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}.{}\"", format.extension())) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// Streams CSV to the client a page at a time; the export waits while the client is slow,
/// so memory stays flat however many rows there are.
struct StreamingCsv {
    csv: CsvSink<SharedBuffer>,
    tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
}

#[async_trait::async_trait]
impl Sink for StreamingCsv {
    fn row(&mut self, cells: &[anchora_core::export::Cell]) -> anchora_core::Result<()> {
        self.csv.row(cells)
    }

    async fn page_done(&mut self) -> anchora_core::Result<()> {
        let chunk = self.csv.take_written()?;
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| Error::new(ErrorCode::Unavailable, "the client went away"))
    }

    fn finish(mut self: Box<Self>) -> anchora_core::Result<()> {
        let chunk = self.csv.take_written()?;
        // The last chunk; a client that left has nothing to receive it.
        let _ = self.tx.try_send(Ok(chunk));
        Ok(())
    }
}

fn export_request(object: String, q: &std::collections::HashMap<String, String>) -> Result<ExportRequest, Error> {
    let ids = match q.get("ids").filter(|s| !s.is_empty()) {
        Some(list) => Some(
            list.split(',')
                .map(|s| {
                    RecordId::parse(s.trim()).ok_or_else(|| Error::field("ids", format!("{s:?} is not a record id")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    Ok(ExportRequest {
        object,
        filter: q.get("filter").cloned(),
        sort: q.get("sort").cloned(),
        columns: q
            .get("columns")
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        ids,
    })
}

/// `GET /records/{object}/export?format=csv|xlsx&filter=…&sort=…&columns=…&ids=…`
async fn export(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Response> {
    let format = Format::parse(q.get("format").map_or("csv", String::as_str))?;
    let request = export_request(object, &q)?;
    // More than a list counts is built as a job and kept as a file (202 with the job).
    if a.crm.export_is_large(&a.principal, &request).await? {
        let job = a.crm.start_export(&a.principal, &request, format).await?;
        return Ok(super::jobs::accepted(&job));
    }
    export_response(a.crm, a.principal, request, format).await
}

/// A job's kept file (an export) as a download.
pub(crate) async fn job_file_response(
    crm: &anchora_core::service::Crm,
    who: &anchora_core::auth::Principal,
    id: &str,
) -> ApiResult<Response> {
    let dir = tempfile::tempdir().map_err(|e| ApiError(Error::internal(e.to_string())))?;
    let path = dir.path().join("file");
    let name = crm.job_file(who, id, &path).await?;
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name.as_str(), "csv"));
    let format = Format::parse(extension)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError(Error::internal(e.to_string())))?;
    Ok(file_response(Body::from_stream(file_stream(file, dir)), format, stem))
}

/// The export as a download: CSV streamed page by page; XLSX assembled in a temporary file
/// (a ZIP cannot be written front to back) and then streamed from it.
pub async fn export_response(
    crm: Crm,
    who: anchora_core::auth::Principal,
    request: ExportRequest,
    format: Format,
) -> ApiResult<Response> {
    // Refuse what would fail at once (rights, unknown object, columns, filter) with a proper
    // problem, before the download starts.
    crm.check_export(&who, &request).await?;
    let name = format!("{}-{}", request.object, crm.clock.now().format("%Y-%m-%d"));
    match format {
        Format::Csv => csv_download(crm, who, request, &name),
        Format::Xlsx => xlsx_download(crm, who, request, &name).await,
    }
}

/// The CSV written beside the response and streamed as it comes; a failure part-way ends the
/// stream with an error.
fn csv_download(
    crm: Crm,
    who: anchora_core::auth::Principal,
    request: ExportRequest,
    name: &str,
) -> ApiResult<Response> {
    let (tx, mut rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let sink = StreamingCsv {
        csv: CsvSink::new(SharedBuffer::default())?,
        tx: tx.clone(),
    };
    tokio::spawn(async move {
        let mut sink: Box<dyn Sink> = Box::new(sink);
        let result = crm.export(&who, &request, sink.as_mut()).await;
        let result = result.and_then(|_| sink.finish());
        if let Err(e) = result {
            tracing::warn!(error = %e.detail, "an export stopped");
            let _ = tx.send(Err(std::io::Error::other(e.detail))).await;
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(file_response(Body::from_stream(stream), Format::Csv, name))
}

/// The XLSX written whole to a temporary file, then streamed from it.
async fn xlsx_download(
    crm: Crm,
    who: anchora_core::auth::Principal,
    request: ExportRequest,
    name: &str,
) -> ApiResult<Response> {
    let dir = tempfile::tempdir().map_err(|e| ApiError(Error::internal(e.to_string())))?;
    let path = dir.path().join("export.xlsx");
    let mut sink: Box<dyn Sink> = Box::new(XlsxSink::new(&path)?);
    crm.export(&who, &request, sink.as_mut()).await?;
    tokio::task::spawn_blocking(move || sink.finish())
        .await
        .map_err(|e| ApiError(Error::internal(e.to_string())))??;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError(Error::internal(e.to_string())))?;
    Ok(file_response(
        Body::from_stream(file_stream(file, dir)),
        Format::Xlsx,
        name,
    ))
}

/// A file read in pieces as a body's stream.
fn file_stream(
    file: tokio::fs::File,
    dir: tempfile::TempDir,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    // The directory goes with the stream, so the file lives until it is sent.
    futures_util::stream::unfold(Some((file, dir)), |state| async move {
        use tokio::io::AsyncReadExt;
        let (mut file, dir) = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some((file, dir))))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}
