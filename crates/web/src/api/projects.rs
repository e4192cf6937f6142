//! Implementation projects under `/api/v1/projects`: the project whole with its verdicts
//! (health, rule of thirds, budget, critical path, forecast), and each of its parts.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::i18n::{Tr, negotiate};
use crate::problem::ApiResult;
use crate::report_voice::{ReportVoice, markdown_to_html};
use anchora_core::Error;
use anchora_core::project::model::PackageState;
use anchora_core::project::{ProjectRights, ProjectState};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{id}", get(show).patch(update))
        .route("/projects/{id}/members", post(add_member))
        .route("/projects/{id}/members/{n}", delete(remove_member).patch(update_member))
        .route("/projects/{id}/members/{n}/confirm", post(confirm))
        .route("/projects/{id}/members/{n}/review", post(review))
        .route("/projects/{id}/tasks", post(add_task))
        .route("/projects/{id}/tasks/{n}", delete(delete_task).patch(update_task))
        .route("/projects/{id}/dependencies", post(add_dependency))
        .route(
            "/projects/{id}/dependencies/{before}/{after}",
            delete(remove_dependency),
        )
        .route("/projects/{id}/work-packages", post(add_package))
        .route("/projects/{id}/work-packages/{n}/state", post(move_package))
        .route("/projects/{id}/changes", post(raise_change))
        .route("/projects/{id}/changes/{n}", patch(update_change))
        .route("/projects/{id}/changes/{n}/{step}", post(change_step))
        .route("/projects/{id}/meetings", post(add_meeting))
        .route("/projects/{id}/meetings/{n}", get(meeting))
        .route("/projects/{id}/meetings/{n}/minutes", post(minutes))
        .route("/projects/{id}/actions", post(add_action))
        .route("/projects/{id}/actions/{n}", patch(update_action))
        .route("/projects/{id}/escalations", post(escalate))
        .route("/projects/{id}/escalations/{n}/decide", post(decide_escalation))
        .route(
            "/projects/{id}/communications",
            get(communications).post(add_communication),
        )
        .route(
            "/projects/{id}/communications/{n}",
            patch(update_communication).delete(delete_communication),
        )
        .route("/projects/{id}/communications/{n}/sent", post(communication_sent))
        .route("/projects/{id}/status-report", get(draft_report))
        .route("/projects/{id}/status-reports", post(send_report))
        .route("/projects/{id}/status-reports/{n}", get(sent_report))
        .route("/projects/{id}/journeys", post(add_journey))
        .route("/projects/{id}/journeys/{n}", patch(update_journey))
        .route("/projects/{id}/requirements", post(add_requirement))
        .route("/projects/{id}/requirements/{n}", patch(update_requirement))
        .route("/projects/{id}/configuration", post(add_config_item))
        .route("/projects/{id}/configuration/{n}", delete(delete_config_item))
        .route("/projects/{id}/traceability", get(traceability))
        .route("/project-roles", get(roles).post(add_role))
        .route("/me/follow-up", get(follow_up))
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<JsonValue> {
    serde_json::to_value(v).map_err(|e| Error::internal(e.to_string()).into())
}

/// The project whole, with everything computed from it on `today`.
pub fn project_json(state: &ProjectState, rights: ProjectRights, today: chrono::NaiveDate) -> ApiResult<JsonValue> {
    let schedule = state.schedule().ok();
    let thirds = state.thirds();
    Ok(json!({
        "project": to_json(&state.project)?,
        "rights": to_json(&rights)?,
        "members": to_json(&state.members)?,
        "tasks": to_json(&state.tasks)?,
        "dependencies": to_json(&state.dependencies)?,
        "work_packages": to_json(&state.packages)?,
        "catalogue": to_json(&state.catalogue)?,
        "health": to_json(&state.health())?,
        "thirds": {
            "verdict": to_json(&thirds)?,
            "planned_shares": thirds.planned.shares(),
            "actual_shares": thirds.actual.shares(),
        },
        "budget": to_json(&state.budget())?,
        "critical_path": schedule.as_ref().map(|s| s.critical.clone()),
        "scheduled_finish": schedule.and_then(|s| s.finish),
        "forecast": to_json(&state.forecast(today))?,
        "overdue_tasks": state.overdue(today),
        "change_requests": to_json(&state.changes)?,
        "meetings": state
            .meetings
            .iter()
            .map(|m| meeting_json(state, m))
            .collect::<ApiResult<Vec<_>>>()?,
        "actions": state
            .actions
            .iter()
            .map(|a| Ok(json!({ "action": to_json(a)?, "overdue": a.overdue(today) })))
            .collect::<ApiResult<Vec<_>>>()?,
        "escalations": to_json(&state.escalations)?,
        "communications": communications_json(state, today)?,
        "status_reports": state
            .reports
            .iter()
            .map(|r| json!({ "number": r.number, "sent_at": r.sent_at, "sent_by": r.sent_by }))
            .collect::<Vec<_>>(),
        "journeys": to_json(&state.journeys)?,
        "requirements": to_json(&state.requirements)?,
        "configuration": to_json(&state.configuration)?,
    }))
}

fn meeting_json(state: &ProjectState, m: &anchora_core::project::meetings::Meeting) -> ApiResult<JsonValue> {
    let mut v = to_json(m)?;
    if let JsonValue::Object(map) = &mut v {
        map.insert("agenda".into(), to_json(&state.agenda(m))?);
    }
    Ok(v)
}

fn communications_json(state: &ProjectState, today: chrono::NaiveDate) -> ApiResult<JsonValue> {
    state
        .communications_due(today)
        .into_iter()
        .map(|(c, next, due)| {
            Ok(json!({
                "communication": to_json(c)?,
                "next_due": next,
                "due": due,
                "senders": state.senders(c),
            }))
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(JsonValue::Array)
}

/// A number in the path; anything else is a missing item.
fn number(n: &str) -> ApiResult<u32> {
    n.parse()
        .map_err(|_| Error::not_found(format!("no item {n:?} in the project")).into())
}

/// `?version=N` for deletes, which carry no body.
fn version(q: &std::collections::HashMap<String, String>) -> ApiResult<i64> {
    q.get("version").and_then(|v| v.parse().ok()).ok_or_else(|| {
        Error::new(
            anchora_core::ErrorCode::PreconditionRequired,
            "name the version you delete (?version=N)",
        )
        .into()
    })
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    let projects = a.crm.projects(&a.principal).await?;
    Ok(Json(json!({ "data": to_json(&projects)? })))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let p = a.crm.create_project(&a.principal, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p)?)))
}

async fn show(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let (state, rights) = a.crm.project_state(&a.principal, &id).await?;
    let today = a.crm.clock.now().date_naive();
    Ok(Json(project_json(&state, rights, today)?))
}

async fn update(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let p = a.crm.update_project(&a.principal, &id, body).await?;
    Ok(Json(to_json(&p)?))
}

async fn add_member(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let m = a.crm.add_member(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m)?)))
}

async fn update_member(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let m = a.crm.update_member(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&m)?))
}

async fn remove_member(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<StatusCode> {
    a.crm
        .remove_member(&a.principal, &id, number(&n)?, version(&q)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The member's version whose roles are confirmed.
    version: i64,
}

async fn confirm(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let c: ConfirmBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let m = a.crm.confirm_roles(&a.principal, &id, number(&n)?, c.version).await?;
    Ok(Json(to_json(&m)?))
}

async fn review(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let m = a.crm.review_role(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&m)?))
}

async fn add_task(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let t = a.crm.add_task(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&t)?)))
}

async fn update_task(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let t = a.crm.update_task(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&t)?))
}

async fn delete_task(a: Authed, Path((id, n)): Path<(String, String)>, QueryMap(q): QueryMap) -> ApiResult<StatusCode> {
    a.crm.delete_task(&a.principal, &id, number(&n)?, version(&q)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyBody {
    before: u32,
    after: u32,
}

async fn add_dependency(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let d: DependencyBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let dep = a.crm.add_dependency(&a.principal, &id, d.before, d.after).await?;
    Ok((StatusCode::CREATED, Json(to_json(&dep)?)))
}

async fn remove_dependency(
    a: Authed,
    Path((id, before, after)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    a.crm
        .remove_dependency(&a.principal, &id, number(&before)?, number(&after)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_package(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let p = a.crm.add_work_package(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p)?)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    state: PackageState,
    #[serde(default)]
    comment: String,
    version: i64,
}

async fn move_package(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let m: MoveBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let p = a
        .crm
        .move_work_package(&a.principal, &id, number(&n)?, m.state, &m.comment, m.version)
        .await?;
    Ok(Json(to_json(&p)?))
}

async fn roles(a: Authed) -> ApiResult<Json<JsonValue>> {
    a.crm
        .authorize(&a.principal, anchora_core::auth::Permission::ReadRecords)
        .await?;
    Ok(Json(json!({ "data": to_json(&a.crm.project_catalogue().await?)? })))
}

async fn add_role(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let r = a.crm.add_project_role(&a.principal, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&r)?)))
}

fn body<T: serde::de::DeserializeOwned>(body: JsonValue) -> ApiResult<T> {
    serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e).into())
}

async fn raise_change(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let c = a.crm.raise_change(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c)?)))
}

async fn update_change(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let c = a.crm.update_change(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&c)?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    version: i64,
    #[serde(default)]
    comment: String,
}

/// `submit`, `decide`, `defer`, `withdraw` and `carry-over`.
async fn change_step(
    a: Authed,
    Path((id, n, step)): Path<(String, String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let n = number(&n)?;
    let p = &a.principal;
    let out = match step.as_str() {
        "decide" => to_json(&a.crm.decide_change(p, &id, n, b).await?)?,
        "submit" => {
            let s: StepBody = body(b)?;
            to_json(&a.crm.submit_change(p, &id, n, s.version).await?)?
        }
        "defer" => {
            let s: StepBody = body(b)?;
            to_json(&a.crm.defer_change(p, &id, n, &s.comment, s.version).await?)?
        }
        "withdraw" => {
            let s: StepBody = body(b)?;
            to_json(&a.crm.withdraw_change(p, &id, n, &s.comment, s.version).await?)?
        }
        "carry-over" => {
            let s: StepBody = body(b)?;
            to_json(&a.crm.carry_over_change(p, &id, n, s.version).await?)?
        }
        other => return Err(Error::not_found(format!("a change request has no step {other:?}")).into()),
    };
    Ok(Json(out))
}

async fn add_meeting(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let m = a.crm.add_meeting(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m)?)))
}

async fn meeting(a: Authed, Path((id, n)): Path<(String, String)>) -> ApiResult<Json<JsonValue>> {
    let (state, _) = a.crm.project_state(&a.principal, &id).await?;
    let n = number(&n)?;
    let m = state
        .meeting(n)
        .ok_or_else(|| Error::not_found(format!("the project has no meeting {n}")))?;
    Ok(Json(meeting_json(&state, m)?))
}

async fn minutes(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let m = a.crm.record_minutes(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&m)?))
}

async fn add_action(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let x = a.crm.add_action(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&x)?)))
}

async fn update_action(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let x = a.crm.update_action(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&x)?))
}

async fn escalate(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let e = a.crm.escalate(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&e)?)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    version: i64,
    decision: String,
}

async fn decide_escalation(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let d: DecisionBody = body(b)?;
    let e = a
        .crm
        .decide_escalation(&a.principal, &id, number(&n)?, &d.decision, d.version)
        .await?;
    Ok(Json(to_json(&e)?))
}

async fn communications(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let (state, _) = a.crm.project_state(&a.principal, &id).await?;
    let today = a.crm.clock.now().date_naive();
    Ok(Json(json!({ "data": communications_json(&state, today)? })))
}

async fn add_communication(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let c = a.crm.add_communication(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c)?)))
}

async fn update_communication(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let c = a.crm.update_communication(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&c)?))
}

async fn delete_communication(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<StatusCode> {
    a.crm
        .delete_communication(&a.principal, &id, number(&n)?, version(&q)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn communication_sent(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let s: StepBody = body(b)?;
    let c = a
        .crm
        .communication_sent(&a.principal, &id, number(&n)?, s.version)
        .await?;
    Ok(Json(to_json(&c)?))
}

/// The reader's language for generated text: `?lang=`, else `Accept-Language`.
fn voice(headers: &HeaderMap, q: &std::collections::HashMap<String, String>) -> ReportVoice {
    let locale = q.get("lang").map_or_else(
        || negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())),
        |l| Tr::new(l).tag,
    );
    ReportVoice(Tr::new(locale))
}

/// The report as it would be sent now: `?format=markdown` for the Markdown, `html` for the web
/// page's HTML, JSON (both, with the differences) by default.
async fn draft_report(
    a: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    QueryMap(q): QueryMap,
) -> ApiResult<Response> {
    let (state, _) = a.crm.project_state(&a.principal, &id).await?;
    let today = a.crm.clock.now().date_naive();
    let text = q.get("text").map_or("", String::as_str);
    let draft = state.draft_report(today, text, &voice(&headers, &q))?;
    report_response(&q, &draft.markdown, || {
        Ok(json!({
            "markdown": draft.markdown,
            "html": markdown_to_html(&draft.markdown),
            "differences": to_json(&draft.differences)?,
            "decisions": to_json(&draft.decisions)?,
            "facts": to_json(&draft.facts)?,
        }))
    })
}

fn report_response(
    q: &std::collections::HashMap<String, String>,
    markdown: &str,
    json: impl FnOnce() -> ApiResult<JsonValue>,
) -> ApiResult<Response> {
    Ok(match q.get("format").map(String::as_str) {
        Some("markdown" | "md") => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            markdown.to_string(),
        )
            .into_response(),
        Some("html") => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            markdown_to_html(markdown),
        )
            .into_response(),
        None | Some("json") => Json(json()?).into_response(),
        Some(other) => {
            return Err(Error::field("format", format!("{other:?} is not one of markdown, html, json")).into());
        }
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    #[serde(default)]
    text: String,
}

async fn send_report(
    a: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    QueryMap(q): QueryMap,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let s: SendBody = body(b)?;
    let r = a
        .crm
        .send_report(&a.principal, &id, &s.text, &voice(&headers, &q))
        .await?;
    Ok((StatusCode::CREATED, Json(to_json(&r)?)))
}

async fn sent_report(a: Authed, Path((id, n)): Path<(String, String)>, QueryMap(q): QueryMap) -> ApiResult<Response> {
    let (state, _) = a.crm.project_state(&a.principal, &id).await?;
    let n = number(&n)?;
    let r = state
        .report(n)
        .ok_or_else(|| Error::not_found(format!("the project has no status report {n}")))?;
    report_response(&q, &r.markdown, || to_json(r))
}

async fn add_journey(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let j = a.crm.add_journey(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&j)?)))
}

async fn update_journey(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let j = a.crm.update_journey(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&j)?))
}

async fn add_requirement(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let r = a.crm.add_requirement(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&r)?)))
}

async fn update_requirement(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> ApiResult<Json<JsonValue>> {
    let r = a.crm.update_requirement(&a.principal, &id, number(&n)?, b).await?;
    Ok(Json(to_json(&r)?))
}

async fn add_config_item(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let c = a.crm.add_config_item(&a.principal, &id, b).await?;
    Ok((StatusCode::CREATED, Json(to_json(&c)?)))
}

async fn delete_config_item(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<StatusCode> {
    a.crm
        .delete_config_item(&a.principal, &id, number(&n)?, version(&q)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn traceability(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let (state, _) = a.crm.project_state(&a.principal, &id).await?;
    let (t, configured) = a.crm.traceability(&a.principal, &state).await?;
    Ok(Json(
        json!({ "traceability": to_json(&t)?, "configuration": to_json(&configured)? }),
    ))
}

async fn follow_up(a: Authed) -> ApiResult<Json<JsonValue>> {
    let f = a.crm.follow_up(&a.principal).await?;
    let today = a.crm.clock.now().date_naive();
    let project = |p: &anchora_core::project::model::Project| json!({ "id": p.id, "name": p.settings.name });
    Ok(Json(json!({
        "actions": f.actions.iter().map(|(p, x)| Ok(json!({
            "project": project(p), "action": to_json(x)?, "overdue": x.overdue(today),
        }))).collect::<ApiResult<Vec<_>>>()?,
        "approvals": f.approvals.iter().map(|(p, c)| Ok(json!({
            "project": project(p), "change_request": to_json(c)?,
        }))).collect::<ApiResult<Vec<_>>>()?,
        "communications": f.communications.iter().map(|(p, c, next, due)| Ok(json!({
            "project": project(p), "communication": to_json(c)?, "next_due": next, "due": due,
        }))).collect::<ApiResult<Vec<_>>>()?,
        "escalations": f.escalations.iter().map(|(p, e)| Ok(json!({
            "project": project(p), "escalation": to_json(e)?,
        }))).collect::<ApiResult<Vec<_>>>()?,
    })))
}
