//! Imports in the app: upload a file, see how it reads and how its columns map, check it with a
//! dry run, import it, watch it run, download the rows it rejected.

use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_expired, form_value, labels};
use crate::AppState;
use crate::api::imports::{file_response, read_upload};
use crate::i18n::Tr;
use anchora_core::RecordId;
use anchora_core::auth::Permission;
use anchora_core::export::Format;
use anchora_core::import::job::{LikelyDuplicate, UnknownOwner, Warning, WarningKind};
use anchora_core::import::{ImportJob, JobStatus, Preview};
use anchora_core::meta::{FieldType, ObjectDef};
use askama::Template;
use axum::extract::State;
use axum::extract::{Multipart, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::json;
use std::collections::HashMap;

/// A column target the mapping form offers: its name and its label.
struct Choice {
    value: String,
    label: String,
}

/// The targets a column of a file for this object can have, labelled for the user.
fn targets(ui: &Ui, object: &ObjectDef) -> Vec<Choice> {
    let tr = &ui.tr;
    let mut out = Vec::new();
    for field in object.active_fields() {
        match field.field_type {
            FieldType::User => {}
            FieldType::Relation => {
                let Some(related) = field.target.as_deref().and_then(|t| ui.object(t)) else {
                    continue;
                };
                for key in related.active_fields().filter(|f| f.field_type.is_textual()) {
                    let value = if related.title_fields.first() == Some(&key.name) {
                        field.name.clone()
                    } else {
                        format!("{}.{}", field.name, key.name)
                    };
                    out.push(Choice {
                        value,
                        label: format!(
                            "{} › {}",
                            labels::field(tr, object, field),
                            labels::field(tr, &related, key)
                        ),
                    });
                }
            }
            _ => out.push(Choice {
                value: field.name.clone(),
                label: labels::field(tr, object, field),
            }),
        }
    }
    out.push(Choice {
        value: "owner".into(),
        label: tr.t("import-owner"),
    });
    out
}

struct JobLine {
    id: String,
    file_name: String,
    object: String,
    status: String,
    summary: String,
    when: String,
}

fn status_label(ui: &Ui, job: &ImportJob) -> String {
    let key = match (job.status, job.settings.dry_run) {
        (JobStatus::Done, true) => "import-status-checked",
        (JobStatus::Draft, _) => "import-status-draft",
        (JobStatus::Queued, _) => "import-status-queued",
        (JobStatus::Running, _) => "import-status-running",
        (JobStatus::Done, false) => "import-status-done",
        (JobStatus::Failed, _) => "import-status-failed",
    };
    ui.tr.t(key)
}

fn summary(ui: &Ui, job: &ImportJob) -> String {
    let c = &job.counts;
    ui.tr.tn(
        "import-summary",
        &[
            ("created", c.created.to_string()),
            ("updated", c.updated.to_string()),
            ("unchanged", c.unchanged.to_string()),
            ("merged", c.merged.to_string()),
            ("rejected", c.rejected.to_string()),
            ("warnings", c.warnings.to_string()),
        ],
    )
}

/// A warning said in the user's language.
fn warning_text(ui: &Ui, object: &ObjectDef, w: &Warning) -> String {
    let tr = &ui.tr;
    match w.kind {
        WarningKind::UnknownOwner => tr.t1("import-warning-unknown-owner", "name", w.detail.clone()),
        WarningKind::DigitsLost => {
            let field = object
                .field(&w.detail)
                .map_or_else(|| w.detail.clone(), |f| labels::field(tr, object, f));
            tr.t1("import-warning-digits-lost", "field", field)
        }
        WarningKind::MergedWith => tr.t1("import-warning-merged", "row", w.detail.clone()),
        WarningKind::ColumnLeftOut => tr.t1("import-warning-column-left-out", "column", w.detail.clone()),
    }
}

#[derive(Template)]
#[template(path = "ui/imports.html")]
struct ImportsPage {
    shell: Shell,
    title: String,
    objects: Vec<(String, String)>,
    jobs: Vec<JobLine>,
    error: Option<String>,
}

pub async fn imports_page(ui: Ui) -> PageResult {
    render_imports(&ui, None, StatusCode::OK).await
}

async fn render_imports(ui: &Ui, error: Option<String>, status: StatusCode) -> PageResult {
    if !ui.authed.principal.may(Permission::Import, &ui.schema.policy) {
        return Err(PageError::forbidden(ui));
    }
    let jobs = ui.authed.crm.import_jobs(&ui.authed.principal, 50).await;
    let page = imports_view(ui, &jobs.unwrap_or_default(), error);
    Ok(ui.page(status, page.render()))
}

/// The recent imports and the objects a new one may fill.
fn imports_view(ui: &Ui, jobs: &[ImportJob], error: Option<String>) -> ImportsPage {
    let jobs = jobs
        .iter()
        .map(|j| JobLine {
            id: j.id.to_string(),
            file_name: j.file_name.clone(),
            object: ui
                .object(&j.settings.object)
                .map_or_else(|| j.settings.object.clone(), |o| labels::object_plural(&ui.tr, &o)),
            status: status_label(ui, j),
            summary: summary(ui, j),
            when: ui.tr.datetime(j.created_at),
        })
        .collect();
    ImportsPage {
        shell: ui.shell("imports"),
        title: ui.tr.t("import-title"),
        objects: ui.object_choices(),
        jobs,
        error,
    }
}

pub async fn upload(ui: Ui, State(state): State<AppState>, form: Multipart) -> PageResult {
    let _slot = match state.uploads.take(ui.authed.principal.user_id) {
        Ok(slot) => slot,
        Err(e) => return render_imports(&ui, Some(super::admin::problem(&e)), StatusCode::TOO_MANY_REQUESTS).await,
    };
    let form = match read_upload(form).await {
        Ok(u) => u,
        Err(e) => return render_imports(&ui, Some(super::admin::problem(&e)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if !ui.csrf_ok(form_value(&form.fields, "csrf")) {
        return Err(form_expired(&ui).into());
    }
    let object = form.object.clone().unwrap_or_default();
    let uploaded = ui
        .authed
        .crm
        .upload_import(&ui.authed.principal, &object, form.upload)
        .await;
    match uploaded.or_forbidden(&ui)? {
        Ok((job, _)) => Ok(Redirect::to(&format!("/imports/{}", job.id)).into_response()),
        Err(e) => render_imports(&ui, Some(super::admin::problem(&e)), StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

/// One column of the mapping form.
struct MapRow {
    index: usize,
    header: String,
    samples: String,
    chosen: String,
    suggested: bool,
}

#[derive(Template)]
#[template(path = "ui/import.html")]
struct ImportPage {
    shell: Shell,
    title: String,
    id: String,
    object_label: String,
    status: String,
    file_line: String,
    draft: bool,
    running: bool,
    finished: bool,
    /// The mapping form is offered again after a check or a failure (to import or retry).
    again: bool,
    dry_run: bool,
    summary: String,
    related: String,
    error: Option<String>,
    rejected: u64,
    rows: Vec<MapRow>,
    targets: Vec<Choice>,
    match_fields: Vec<Choice>,
    match_on: String,
    create_related: bool,
    headers: Vec<String>,
    sample: Vec<Vec<String>>,
    likely_total: String,
    likely: Vec<LikelyLine>,
    warnings_total: u64,
    warnings: Vec<(u64, String)>,
    unknown_owners: Vec<String>,
    users: Vec<Choice>,
    default_owner: String,
}

/// A row that looks like a record already there, or like an earlier row.
struct LikelyLine {
    row: u64,
    like: String,
    href: Option<String>,
    score: String,
    why: String,
}

/// How many such rows the page lists.
const LIKELY_SHOWN: u32 = 50;

pub async fn import_page(ui: Ui, Path(id): Path<String>) -> PageResult {
    render_import(&ui, &id, None, StatusCode::OK).await
}

async fn render_import(ui: &Ui, id: &str, error: Option<String>, status: StatusCode) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let job = crm.import_job(who, id).await.or_page(ui)?;
    let object = ui.object(&job.settings.object).or_not_found(ui)?;
    // The file is read again only for the mapping form (a draft, or a check or failure to
    // start again); a running or imported job shows its results alone.
    let again = job.status == JobStatus::Failed || (job.status == JobStatus::Done && job.settings.dry_run);
    let mapping = job.status == JobStatus::Draft || again;
    let preview = if mapping {
        crm.uploaded_preview(who, id).await.ok().map(|(_, p)| p)
    } else {
        None
    };
    let (likely_count, likely) = likely_lines(ui, &object, id).await;
    let (warnings, unknown_owners) = crm.import_warnings(who, id, LIKELY_SHOWN).await.unwrap_or_default();
    let users = if mapping { owner_choices(ui).await } else { Vec::new() };
    let parts = ImportParts {
        preview,
        again,
        likely_count,
        likely,
        warnings,
        unknown_owners,
        users,
        error,
    };
    Ok(ui.page(status, import_view(ui, &job, &object, parts).render()))
}

/// What the import page shows beside the job itself, read before it is built.
struct ImportParts {
    preview: Option<Preview>,
    again: bool,
    likely_count: u64,
    likely: Vec<LikelyLine>,
    warnings: Vec<Warning>,
    unknown_owners: Vec<UnknownOwner>,
    users: Vec<Choice>,
    error: Option<String>,
}

/// The rows that look like records already there (or earlier rows): how many, and the first
/// ones with what they look like.
async fn likely_lines(ui: &Ui, object: &ObjectDef, id: &str) -> (u64, Vec<LikelyLine>) {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let (count, found) = crm
        .import_likely_duplicates(who, id, LIKELY_SHOWN)
        .await
        .unwrap_or_default();
    let ids: Vec<anchora_core::RecordId> = found.iter().filter_map(|m| m.like_record).collect();
    let titles: HashMap<anchora_core::RecordId, String> = crm
        .titles(who, &object.name, &ids)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let lines = found.iter().map(|m| likely_line(&ui.tr, object, m, &titles)).collect();
    (count, lines)
}

fn likely_line(tr: &Tr, object: &ObjectDef, m: &LikelyDuplicate, titles: &HashMap<RecordId, String>) -> LikelyLine {
    let title = m.like_record.and_then(|r| titles.get(&r).cloned());
    let like = match (m.like_row, title) {
        (Some(n), _) => tr.t1("import-likely-row", "row", n.to_string()),
        (None, Some(t)) => t,
        (None, None) => String::new(),
    };
    LikelyLine {
        row: m.row,
        like,
        href: m.like_record.map(|r| format!("/o/{}/{r}", object.name)),
        score: super::format::percent(tr.locale, (m.score * 100.0).round()),
        why: super::duplicates::reasons_text(tr, &m.reasons),
    }
}

/// The active users with an e-mail address, by name, for the default owner.
async fn owner_choices(ui: &Ui) -> Vec<Choice> {
    let mut users: Vec<Choice> = ui
        .authed
        .crm
        .users(&ui.authed.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            u.email.map(|e| Choice {
                label: format!("{} ({e})", u.name),
                value: e,
            })
        })
        .collect();
    users.sort_by_key(|u| u.label.to_lowercase());
    users
}

/// Each column of the file with a few of its values and the field it goes to.
fn map_rows(job: &ImportJob, p: &Preview) -> Vec<MapRow> {
    p.headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let samples: Vec<&str> = p
                .rows
                .iter()
                .filter_map(|r| r.get(i).map(String::as_str))
                .filter(|c| !c.trim().is_empty())
                .take(3)
                .collect();
            let chosen = job.settings.mapping.get(h).cloned().flatten().unwrap_or_default();
            let suggested =
                p.suggestions.get(i).and_then(|s| s.target.as_deref()) == Some(chosen.as_str()) && !chosen.is_empty();
            MapRow {
                index: i,
                header: h.clone(),
                samples: samples.join(" · "),
                chosen,
                suggested,
            }
        })
        .collect()
}

/// The fields an import may match rows on: core's preferred ones first, then other text.
fn match_fields(tr: &Tr, object: &ObjectDef) -> Vec<Choice> {
    anchora_core::import::plan::MATCH_PREFERENCE
        .iter()
        .filter_map(|name| object.field(name))
        .chain(object.active_fields().filter(|f| {
            f.field_type.is_textual() && !anchora_core::import::plan::MATCH_PREFERENCE.contains(&f.name.as_str())
        }))
        .map(|f| Choice {
            value: f.name.clone(),
            label: labels::field(tr, object, f),
        })
        .collect()
}

/// The file's name, and how it was read when it was read again.
fn file_line(tr: &Tr, job: &ImportJob, preview: Option<&Preview>) -> String {
    match preview {
        Some(p) => tr.tn(
            "import-file-line",
            &[
                ("name", job.file_name.clone()),
                ("format", p.format.to_uppercase()),
                ("encoding", p.encoding.unwrap_or("—").to_string()),
                (
                    "separator",
                    match p.separator {
                        Some('\t') => tr.t("import-tab"),
                        Some(c) => c.to_string(),
                        None => "—".to_string(),
                    },
                ),
            ],
        ),
        None => job.file_name.clone(),
    }
}

fn import_view(ui: &Ui, job: &ImportJob, object: &ObjectDef, parts: ImportParts) -> ImportPage {
    let tr = &ui.tr;
    let preview = parts.preview;
    ImportPage {
        warnings_total: job.counts.warnings,
        warnings: parts
            .warnings
            .iter()
            .map(|w| (w.row, warning_text(ui, object, w)))
            .collect(),
        unknown_owners: parts
            .unknown_owners
            .iter()
            .map(|o| {
                tr.tn(
                    "import-unknown-owner-line",
                    &[("name", o.name.clone()), ("count", o.rows.to_string())],
                )
            })
            .collect(),
        users: parts.users,
        default_owner: job.settings.default_owner.clone().unwrap_or_default(),
        likely_total: tr.t1("import-likely-total", "count", parts.likely_count.to_string()),
        likely: parts.likely,
        shell: ui.shell("imports"),
        title: tr.t("import-title"),
        id: job.id.to_string(),
        object_label: labels::object_plural(tr, object),
        status: status_label(ui, job),
        file_line: file_line(tr, job, preview.as_ref()),
        draft: job.status == JobStatus::Draft,
        running: matches!(job.status, JobStatus::Queued | JobStatus::Running),
        finished: job.status.finished(),
        again: parts.again,
        dry_run: job.settings.dry_run,
        summary: summary(ui, job),
        related: if job.counts.related_created > 0 {
            tr.tn("import-related", &[("count", job.counts.related_created.to_string())])
        } else {
            String::new()
        },
        error: parts.error.or_else(|| job.error.clone()),
        rejected: job.counts.rejected,
        targets: targets(ui, object),
        match_fields: match_fields(tr, object),
        match_on: job.settings.match_on.clone().unwrap_or_default(),
        create_related: job.settings.create_related,
        headers: preview.as_ref().map(|p| p.headers.clone()).unwrap_or_default(),
        rows: preview.as_ref().map(|p| map_rows(job, p)).unwrap_or_default(),
        sample: preview
            .map(|p| p.rows.into_iter().take(5).collect())
            .unwrap_or_default(),
    }
}

pub async fn start(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let job = ui.authed.crm.import_job(&ui.authed.principal, &id).await;
    let job = job.ok().or_not_found(&ui)?;
    let body = start_body(&job, &form);
    let started = ui.authed.crm.start_import(&ui.authed.principal, &id, body).await;
    match started.or_forbidden(&ui)? {
        Ok(next) => Ok(Redirect::to(&format!("/imports/{}", next.id)).into_response()),
        Err(e) => {
            let error = Some(super::admin::problem(&e));
            render_import(&ui, &id, error, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The settings the mapping form sends: each column's field, what to match on, and how.
fn start_body(job: &ImportJob, form: &[(String, String)]) -> serde_json::Value {
    let mapping: serde_json::Map<String, serde_json::Value> = job
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let target = form_value(form, &format!("map-{i}")).trim().to_string();
            (
                h.clone(),
                if target.is_empty() {
                    serde_json::Value::Null
                } else {
                    json!(target)
                },
            )
        })
        .collect();
    let match_on = form_value(form, "match_on");
    json!({
        "mapping": mapping,
        "match_on": if match_on == "auto" { serde_json::Value::Null } else { json!(match_on) },
        "create_related": form_value(form, "create_related") == "on",
        "dry_run": form_value(form, "mode") == "check",
        "default_owner": Some(form_value(form, "default_owner").trim()).filter(|e| !e.is_empty()),
        "into_selection": Some(form_value(form, "into_selection").trim()).filter(|n| !n.is_empty()),
    })
}

pub async fn warnings_csv(ui: Ui, Path(id): Path<String>) -> PageResult {
    let mut out = Vec::new();
    let written = ui
        .authed
        .crm
        .write_warnings_csv(&ui.authed.principal, &id, &mut out)
        .await;
    report(&ui, written, out, &format!("warnings-{id}"))
}

pub async fn rejected(ui: Ui, Path(id): Path<String>) -> PageResult {
    let mut out = Vec::new();
    let written = ui
        .authed
        .crm
        .write_rejected_csv(&ui.authed.principal, &id, &mut out)
        .await;
    report(&ui, written, out, &format!("rejected-{id}"))
}

/// A job's report as a download, or why not.
fn report(ui: &Ui, written: anchora_core::Result<u64>, csv: Vec<u8>, name: &str) -> PageResult {
    written.or_page(ui)?;
    Ok(file_response(axum::body::Body::from(csv), Format::Csv, name))
}
