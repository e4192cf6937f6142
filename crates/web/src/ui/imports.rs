//! Imports in the app: upload a file, see how it reads and how its columns map, check it with a
//! dry run, import it, watch it run, download the rows it rejected.

use super::posted::Posted;
use super::{Shell, Ui, forbidden, form_expired, form_value, labels, not_found};
use crate::AppState;
use crate::api::imports::{file_response, read_upload};
use anchora_core::ErrorCode;
use anchora_core::auth::Permission;
use anchora_core::export::Format;
use anchora_core::import::job::{Warning, WarningKind};
use anchora_core::import::{ImportJob, JobStatus, Preview};
use anchora_core::jobs::spawn_import;
use anchora_core::meta::{FieldType, ObjectDef};
use askama::Template;
use axum::extract::State;
use axum::extract::{Multipart, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

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

pub async fn imports_page(ui: Ui) -> Response {
    render_imports(&ui, None, StatusCode::OK).await
}

async fn render_imports(ui: &Ui, error: Option<String>, status: StatusCode) -> Response {
    if !ui.authed.principal.may(Permission::Import, &ui.schema.policy) {
        return forbidden(ui);
    }
    let jobs = ui
        .authed
        .crm
        .import_jobs(&ui.authed.principal, 50)
        .await
        .unwrap_or_default()
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
    let objects = ui
        .schema
        .objects
        .values()
        .filter(|o| !o.archived)
        .map(|o| (o.name.clone(), labels::object_plural(&ui.tr, o)))
        .collect();
    let page = ImportsPage {
        shell: ui.shell("imports"),
        title: ui.tr.t("import-title"),
        objects,
        jobs,
        error,
    };
    ui.page(status, page.render())
}

pub async fn upload(ui: Ui, State(state): State<AppState>, form: Multipart) -> Response {
    let _slot = match state.uploads.take(ui.authed.principal.user_id) {
        Ok(slot) => slot,
        Err(e) => return render_imports(&ui, Some(super::admin::problem(&e)), StatusCode::TOO_MANY_REQUESTS).await,
    };
    let form = match read_upload(form).await {
        Ok(u) => u,
        Err(e) => return render_imports(&ui, Some(super::admin::problem(&e)), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if !ui.csrf_ok(form_value(&form.fields, "csrf")) {
        return form_expired(&ui);
    }
    let object = form.object.clone().unwrap_or_default();
    match ui
        .authed
        .crm
        .upload_import(&ui.authed.principal, &object, form.upload)
        .await
    {
        Ok((job, _)) => Redirect::to(&format!("/imports/{}", job.id)).into_response(),
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(&ui),
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

pub async fn import_page(ui: Ui, Path(id): Path<String>) -> Response {
    render_import(&ui, &id, None, StatusCode::OK).await
}

async fn render_import(ui: &Ui, id: &str, error: Option<String>, status: StatusCode) -> Response {
    let job = match ui.authed.crm.import_job(&ui.authed.principal, id).await {
        Ok(j) => j,
        Err(e) if e.code == ErrorCode::Forbidden => return forbidden(ui),
        Err(_) => return not_found(ui),
    };
    let Some(object) = ui.object(&job.settings.object) else {
        return not_found(ui);
    };
    let tr = &ui.tr;
    // The file is read again only for the mapping form (a draft, or a check or failure to
    // start again); a running or imported job shows its results alone.
    let again = job.status == JobStatus::Failed || (job.status == JobStatus::Done && job.settings.dry_run);
    let preview: Option<Preview> = if job.status == JobStatus::Draft || again {
        ui.authed
            .crm
            .uploaded_preview(&ui.authed.principal, id)
            .await
            .ok()
            .map(|(_, p)| p)
    } else {
        None
    };
    let rows = preview
        .as_ref()
        .map(|p| {
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
                    let suggested = p.suggestions.get(i).and_then(|s| s.target.as_deref()) == Some(chosen.as_str())
                        && !chosen.is_empty();
                    MapRow {
                        index: i,
                        header: h.clone(),
                        samples: samples.join(" · "),
                        chosen,
                        suggested,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let match_fields: Vec<Choice> = anchora_core::import::plan::MATCH_PREFERENCE
        .iter()
        .filter_map(|name| object.field(name))
        .chain(object.active_fields().filter(|f| {
            f.field_type.is_textual() && !anchora_core::import::plan::MATCH_PREFERENCE.contains(&f.name.as_str())
        }))
        .map(|f| Choice {
            value: f.name.clone(),
            label: labels::field(tr, &object, f),
        })
        .collect();
    let file_line = match &preview {
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
    };
    let (likely_count, found) = ui
        .authed
        .crm
        .import_likely_duplicates(&ui.authed.principal, id, LIKELY_SHOWN)
        .await
        .unwrap_or_default();
    let ids: Vec<anchora_core::RecordId> = found.iter().filter_map(|m| m.like_record).collect();
    let titles: std::collections::HashMap<anchora_core::RecordId, String> = ui
        .authed
        .crm
        .titles(&ui.authed.principal, &object.name, &ids)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let likely = found
        .iter()
        .map(|m| {
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
        })
        .collect();
    let (warnings, unknown_owners) = ui
        .authed
        .crm
        .import_warnings(&ui.authed.principal, id, LIKELY_SHOWN)
        .await
        .unwrap_or_default();
    let users: Vec<Choice> = if job.status == JobStatus::Draft || again {
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
    } else {
        Vec::new()
    };
    let page = ImportPage {
        warnings_total: job.counts.warnings,
        warnings: warnings.iter().map(|w| (w.row, warning_text(ui, &object, w))).collect(),
        unknown_owners: unknown_owners
            .iter()
            .map(|o| {
                tr.tn(
                    "import-unknown-owner-line",
                    &[("name", o.name.clone()), ("count", o.rows.to_string())],
                )
            })
            .collect(),
        users,
        default_owner: job.settings.default_owner.clone().unwrap_or_default(),
        likely_total: tr.t1("import-likely-total", "count", likely_count.to_string()),
        likely,
        shell: ui.shell("imports"),
        title: tr.t("import-title"),
        id: job.id.to_string(),
        object_label: labels::object_plural(tr, &object),
        status: status_label(ui, &job),
        file_line,
        draft: job.status == JobStatus::Draft,
        running: matches!(job.status, JobStatus::Queued | JobStatus::Running),
        finished: job.status.finished(),
        again,
        dry_run: job.settings.dry_run,
        summary: summary(ui, &job),
        related: if job.counts.related_created > 0 {
            tr.tn("import-related", &[("count", job.counts.related_created.to_string())])
        } else {
            String::new()
        },
        error: error.or_else(|| job.error.clone()),
        rejected: job.counts.rejected,
        targets: targets(ui, &object),
        match_fields,
        match_on: job.settings.match_on.clone().unwrap_or_default(),
        create_related: job.settings.create_related,
        headers: preview.as_ref().map(|p| p.headers.clone()).unwrap_or_default(),
        sample: preview
            .map(|p| p.rows.into_iter().take(5).collect())
            .unwrap_or_default(),
        rows,
    };
    ui.page(status, page.render())
}

pub async fn start(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> Response {
    let job = match ui.authed.crm.import_job(&ui.authed.principal, &id).await {
        Ok(j) => j,
        Err(_) => return not_found(&ui),
    };
    let mapping: serde_json::Map<String, serde_json::Value> = job
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let target = form_value(&form, &format!("map-{i}")).trim().to_string();
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
    let match_on = form_value(&form, "match_on");
    let body = json!({
        "mapping": mapping,
        "match_on": if match_on == "auto" { serde_json::Value::Null } else { json!(match_on) },
        "create_related": form_value(&form, "create_related") == "on",
        "dry_run": form_value(&form, "mode") == "check",
        "default_owner": Some(form_value(&form, "default_owner").trim()).filter(|e| !e.is_empty()),
    });
    match ui.authed.crm.start_import(&ui.authed.principal, &id, body).await {
        Ok(next) => {
            spawn_import(&ui.authed.crm, next.id);
            Redirect::to(&format!("/imports/{}", next.id)).into_response()
        }
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(&ui),
        Err(e) => {
            render_import(
                &ui,
                &id,
                Some(super::admin::problem(&e)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn warnings_csv(ui: Ui, Path(id): Path<String>) -> Response {
    let mut out = Vec::new();
    let written = ui
        .authed
        .crm
        .write_warnings_csv(&ui.authed.principal, &id, &mut out)
        .await;
    report(&ui, written, out, &format!("warnings-{id}"))
}

pub async fn rejected(ui: Ui, Path(id): Path<String>) -> Response {
    let mut out = Vec::new();
    let written = ui
        .authed
        .crm
        .write_rejected_csv(&ui.authed.principal, &id, &mut out)
        .await;
    report(&ui, written, out, &format!("rejected-{id}"))
}

/// A job's report as a download, or why not.
fn report(ui: &Ui, written: anchora_core::Result<u64>, csv: Vec<u8>, name: &str) -> Response {
    match written {
        Ok(_) => file_response(axum::body::Body::from(csv), Format::Csv, name),
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(ui),
        Err(_) => not_found(ui),
    }
}
