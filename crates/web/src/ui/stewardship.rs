//! `/stewardship`: the plan and its gaps (`/stewardship`, its form for administrators at
//! `/stewardship/plan/edit`), the key-user group's backlog (`/stewardship/requests`, one request
//! at `/stewardship/requests/{id}` with its vote, decision and comments) and the answers
//! (`/stewardship/answers`, search and the form; one at `/stewardship/answers/{id}`). The
//! judgement is `Crm`'s (stewardship use cases); this file words it.

use super::onboarding::Opt;
use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::svg::escape;
use super::{Shell, Ui, form_value};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::identity::User;
use anchora_core::stewardship::{
    AnswerHit, BacklogOrder, Gap, LANGUAGES, Level, PlanView, Priority, RequestDetail, RequestLine, RequestStatus,
};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stewardship", get(plan_page))
        .route("/stewardship/plan/edit", get(edit_page))
        .route("/stewardship/plan", post(save_plan))
        .route("/stewardship/requests", get(backlog_page).post(create_request))
        .route("/stewardship/requests/{id}", get(request_page).post(update_request))
        .route("/stewardship/requests/{id}/vote", post(vote))
        .route("/stewardship/requests/{id}/decide", post(decide))
        .route("/stewardship/requests/{id}/comments", post(comment))
        .route("/stewardship/answers", get(answers_page).post(create_answer))
        .route("/stewardship/answers/{id}", get(answer_page).post(update_answer))
}

fn opt(value: impl Into<String>, label: String, on: bool) -> Opt {
    Opt {
        value: value.into(),
        label,
        on,
    }
}

fn key(s: &str) -> String {
    s.replace('_', "-")
}

/// A form's mistakes, each as "field: what is wrong" in the reader's words.
fn mistakes(tr: &Tr, e: &Error) -> Vec<String> {
    if e.errors.is_empty() {
        return vec![super::admin::problem(e)];
    }
    e.errors
        .iter()
        .map(|f| format!("{}: {}", f.field, super::field_message(tr, &f.message)))
        .collect()
}

/// Answer text, safely: every character escaped, then blank lines part paragraphs and lines
/// starting "- " become a list.
pub fn render_body(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let lines: Vec<&str> = block.lines().map(str::trim_end).collect();
        if lines.iter().all(|l| l.trim_start().starts_with("- ")) {
            out.push_str("<ul>");
            for l in lines {
                out.push_str("<li>");
                out.push_str(&escape(l.trim_start().trim_start_matches("- ")));
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        } else {
            out.push_str("<p>");
            out.push_str(&lines.iter().map(|l| escape(l)).collect::<Vec<_>>().join("<br>"));
            out.push_str("</p>");
        }
    }
    out
}

fn name_of(users: &HashMap<String, String>, id: &impl ToString) -> String {
    users.get(&id.to_string()).cloned().unwrap_or_default()
}

// ---------- the plan ----------

pub struct GapRow {
    pub problem: String,
    pub fix: String,
    pub link: String,
}

fn gap_row(tr: &Tr, g: &Gap) -> GapRow {
    let k = key(g.kind.as_str());
    GapRow {
        problem: tr.t1(&format!("stewardship-gap-{k}"), "subject", g.subject.clone()),
        fix: tr.t(&format!("stewardship-fix-{k}")),
        link: g.link.clone(),
    }
}

pub struct MatrixRow {
    pub impact: String,
    pub cells: Vec<(String, String)>,
}

fn priority_label(tr: &Tr, p: Priority) -> String {
    tr.t(&format!("stewardship-priority-{}", p.as_str()))
}

fn level_label(tr: &Tr, l: Level) -> String {
    tr.t(&format!("stewardship-level-{}", l.as_str()))
}

fn matrix_rows(tr: &Tr, view: &PlanView) -> Vec<MatrixRow> {
    // Highest impact on top, as such grids are read.
    Level::ALL
        .iter()
        .rev()
        .map(|impact| MatrixRow {
            impact: level_label(tr, *impact),
            cells: Level::ALL
                .iter()
                .map(|u| {
                    let p = view.plan.plan.matrix.priority(*impact, *u);
                    (p.as_str().to_string(), priority_label(tr, p))
                })
                .collect(),
        })
        .collect()
}

pub struct TeamRow {
    pub team: String,
    pub users: String,
}

pub struct VendorRow {
    pub name: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub agreement: String,
}

#[derive(Template)]
#[template(path = "ui/stewardship.html")]
struct PlanPage {
    shell: Shell,
    title: String,
    may_edit: bool,
    gaps: Vec<GapRow>,
    facts: Vec<(String, String)>,
    teams: Vec<TeamRow>,
    vendors: Vec<VendorRow>,
    levels: Vec<String>,
    matrix: Vec<MatrixRow>,
    forum: Vec<(String, String)>,
    change_route: String,
    meetings: Vec<String>,
    saved: bool,
}

async fn people(ui: &Ui) -> Result<(Vec<User>, HashMap<String, String>), PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let mut users = crm.users(who).await.or_page(ui)?;
    users.sort_by_cached_key(|u| anchora_core::text::fold_case(&u.name));
    let names = users.iter().map(|u| (u.id.to_string(), u.name.clone())).collect();
    Ok((users, names))
}

/// `/stewardship`: the plan, its gaps first.
pub async fn plan_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let view = crm.stewardship_plan(who).await.or_page(&ui)?;
    let (_, names) = people(&ui).await?;
    let teams = crm.teams(who).await.or_page(&ui)?;
    let tr = &ui.tr;
    let none = tr.t("stewardship-none");
    let plan = &view.plan.plan;
    let list = |ids: &[anchora_core::UserId]| {
        let v: Vec<String> = ids.iter().map(|u| name_of(&names, u)).collect();
        if v.is_empty() { none.clone() } else { v.join(", ") }
    };
    let go_live = match (plan.go_live, view.project_go_live) {
        (Some(d), _) => tr.date(d),
        (None, Some(d)) => tr.t1("stewardship-go-live-project", "date", tr.date(d)),
        (None, None) => none.clone(),
    };
    let facts = vec![
        (
            tr.t("stewardship-system-owner"),
            plan.system_owner.map_or_else(|| none.clone(), |u| name_of(&names, &u)),
        ),
        (tr.t("stewardship-administrators"), list(&plan.administrators)),
        (tr.t("stewardship-go-live"), go_live),
    ];
    let team_rows = teams
        .iter()
        .map(|t| TeamRow {
            team: t.name.clone(),
            users: list(&plan.key_users_for(t.id)),
        })
        .collect();
    let forum = vec![
        (
            tr.t("stewardship-forum-name"),
            if plan.forum.name.is_empty() {
                none.clone()
            } else {
                plan.forum.name.clone()
            },
        ),
        (
            tr.t("stewardship-every-weeks"),
            plan.forum.every_weeks.map_or_else(
                || none.clone(),
                |w| tr.counted("stewardship-every-n-weeks", usize::try_from(w).unwrap_or(0), &[]),
            ),
        ),
        (
            tr.t("stewardship-decider"),
            plan.forum
                .decider
                .map_or_else(|| tr.t("stewardship-decider-admins"), |u| name_of(&names, &u)),
        ),
    ];
    let page = PlanPage {
        shell: ui.shell("stewardship"),
        title: tr.t("stewardship-title"),
        may_edit: view.may_edit,
        gaps: view.gaps.iter().map(|g| gap_row(tr, g)).collect(),
        facts,
        teams: team_rows,
        vendors: plan
            .vendor_contacts
            .iter()
            .map(|v| VendorRow {
                name: v.name.clone(),
                company: v.company.clone(),
                email: v.email.clone(),
                phone: v.phone.clone(),
                agreement: v.agreement.clone(),
            })
            .collect(),
        levels: Level::ALL.iter().map(|l| level_label(tr, *l)).collect(),
        matrix: matrix_rows(tr, &view),
        forum,
        change_route: plan.forum.change_route.clone(),
        meetings: view
            .meetings
            .iter()
            .chain(view.project_meetings.iter())
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|d| tr.date(d))
            .collect(),
        saved: form_value(&q, "saved") == "1",
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

pub struct TeamPick {
    pub id: String,
    pub name: String,
    pub users: Vec<Opt>,
}

pub struct VendorInput {
    pub n: usize,
    pub name: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub agreement: String,
}

pub struct MatrixInput {
    pub impact: String,
    pub cells: Vec<(String, Vec<Opt>)>,
}

#[derive(Template)]
#[template(path = "ui/stewardship_edit.html")]
struct EditPage {
    shell: Shell,
    title: String,
    version: i64,
    owners: Vec<Opt>,
    administrators: Vec<Opt>,
    teams: Vec<TeamPick>,
    vendors: Vec<VendorInput>,
    levels: Vec<String>,
    matrix: Vec<MatrixInput>,
    forum_name: String,
    every_weeks: String,
    next_meeting: String,
    deciders: Vec<Opt>,
    change_route: String,
    go_live: String,
    errors: Vec<String>,
}

async fn edit_form(ui: &Ui, view: &PlanView) -> Result<EditPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let (users, _) = people(ui).await?;
    let active: Vec<&User> = users.iter().filter(|u| u.active && u.email.is_some()).collect();
    let teams = crm.teams(who).await.or_page(ui)?;
    let tr = &ui.tr;
    let plan = &view.plan.plan;
    let picks = |chosen: &dyn Fn(&User) -> bool| -> Vec<Opt> {
        active
            .iter()
            .map(|u| opt(u.id.to_string(), u.name.clone(), chosen(u)))
            .collect()
    };
    let none = opt("", tr.t("stewardship-none"), false);
    let mut owners = vec![none];
    owners.extend(picks(&|u| plan.system_owner == Some(u.id)));
    let mut deciders = vec![opt("", tr.t("stewardship-decider-admins"), false)];
    deciders.extend(picks(&|u| plan.forum.decider == Some(u.id)));
    let mut vendors: Vec<VendorInput> = plan
        .vendor_contacts
        .iter()
        .enumerate()
        .map(|(n, v)| VendorInput {
            n,
            name: v.name.clone(),
            company: v.company.clone(),
            email: v.email.clone(),
            phone: v.phone.clone(),
            agreement: v.agreement.clone(),
        })
        .collect();
    // One empty row to add a contact.
    vendors.push(VendorInput {
        n: vendors.len(),
        name: String::new(),
        company: String::new(),
        email: String::new(),
        phone: String::new(),
        agreement: String::new(),
    });
    let matrix = Level::ALL
        .iter()
        .rev()
        .map(|impact| MatrixInput {
            impact: level_label(tr, *impact),
            cells: Level::ALL
                .iter()
                .map(|u| {
                    let current = plan.matrix.priority(*impact, *u);
                    (
                        format!("m-{}-{}", impact.as_str(), u.as_str()),
                        Priority::ALL
                            .iter()
                            .map(|p| opt(p.as_str(), priority_label(tr, *p), *p == current))
                            .collect(),
                    )
                })
                .collect(),
        })
        .collect();
    Ok(EditPage {
        shell: ui.shell("stewardship"),
        title: tr.t("stewardship-edit-title"),
        version: view.plan.version,
        owners,
        administrators: picks(&|u| plan.administrators.contains(&u.id)),
        teams: teams
            .iter()
            .map(|t| {
                let named = plan.key_users_for(t.id);
                TeamPick {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    users: picks(&|u| named.contains(&u.id)),
                }
            })
            .collect(),
        vendors,
        levels: Level::ALL.iter().map(|l| level_label(tr, *l)).collect(),
        matrix,
        forum_name: plan.forum.name.clone(),
        every_weeks: plan.forum.every_weeks.map(|w| w.to_string()).unwrap_or_default(),
        next_meeting: plan.forum.next_meeting.map(|d| d.to_string()).unwrap_or_default(),
        deciders,
        change_route: plan.forum.change_route.clone(),
        go_live: plan
            .go_live
            .or(view.project_go_live)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        errors: Vec::new(),
    })
}

/// `/stewardship/plan/edit`: the plan's form (administrators).
pub async fn edit_page(ui: Ui) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let view = crm.stewardship_plan(who).await.or_page(&ui)?;
    if !view.may_edit {
        return Err(PageError::forbidden(&ui));
    }
    let page = edit_form(&ui, &view).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

fn or_null(s: &str) -> Json {
    match s.trim() {
        "" => Json::Null,
        v => json!(v),
    }
}

/// The plan form as the use case takes it.
fn plan_body(form: &[(String, String)]) -> Json {
    let all = |name: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut key_users = Vec::new();
    for (k, _) in form.iter().filter(|(k, _)| k.starts_with("team-")) {
        let team = k.trim_start_matches("team-");
        key_users.push(json!({"team": team, "users": all(&format!("ku-{team}"))}));
    }
    let mut vendors = Vec::new();
    for n in 0..50 {
        let f = |what: &str| form_value(form, &format!("v-{what}-{n}")).to_string();
        if !form.iter().any(|(k, _)| k == &format!("v-name-{n}")) {
            break;
        }
        let row = [f("name"), f("company"), f("email"), f("phone"), f("agreement")];
        if row.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let [name, company, email, phone, agreement] = row;
        vendors.push(json!({"name": name, "company": company, "email": email, "phone": phone, "agreement": agreement}));
    }
    let rows: Vec<Vec<&str>> = Level::ALL
        .iter()
        .map(|i| {
            Level::ALL
                .iter()
                .map(|u| form_value(form, &format!("m-{}-{}", i.as_str(), u.as_str())))
                .collect()
        })
        .collect();
    // The form posts every cell; a post without them leaves the standard matrix.
    let matrix = if rows.iter().flatten().all(|c| !c.is_empty()) {
        json!({ "rows": rows })
    } else {
        json!(anchora_core::stewardship::PriorityMatrix::default())
    };
    let every: Json = match form_value(form, "every_weeks").trim() {
        "" => Json::Null,
        w => w.parse::<u32>().map_or_else(|_| json!(w), |n| json!(n)),
    };
    let version: Json = form_value(form, "version")
        .parse::<i64>()
        .map_or_else(|_| json!(form_value(form, "version")), |v| json!(v));
    json!({
        "version": version,
        "system_owner": or_null(form_value(form, "system_owner")),
        "administrators": all("administrators"),
        "key_users": key_users,
        "vendor_contacts": vendors,
        "matrix": matrix,
        "forum": {"name": form_value(form, "forum_name"), "every_weeks": every,
            "next_meeting": or_null(form_value(form, "next_meeting")),
            "decider": or_null(form_value(form, "decider")),
            "change_route": form_value(form, "change_route")},
        "go_live": or_null(form_value(form, "go_live")),
    })
}

/// Save the plan; to the plan, or the form again with its mistakes (someone else's newer
/// plan is shown to edit again).
pub async fn save_plan(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    match crm
        .update_stewardship_plan(who, plan_body(&form))
        .await
        .or_forbidden(&ui)?
    {
        Ok(_) => Ok(Redirect::to("/stewardship?saved=1").into_response()),
        Err(e) => {
            let view = crm.stewardship_plan(who).await.or_page(&ui)?;
            let mut page = edit_form(&ui, &view).await?;
            page.errors = if e.code == anchora_core::ErrorCode::VersionConflict {
                vec![ui.tr.t("stewardship-stale")]
            } else {
                mistakes(&ui.tr, &e)
            };
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

// ---------- the backlog ----------

pub struct RequestRow {
    pub href: String,
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_key: String,
    pub value: u8,
    pub effort: u8,
    pub votes: usize,
    pub voted: bool,
    pub score: String,
    pub open: bool,
    pub requested_by: String,
}

fn status_label(tr: &Tr, s: RequestStatus) -> String {
    tr.t(&format!("stewardship-status-{}", key(s.as_str())))
}

fn request_row(tr: &Tr, r: &RequestLine) -> RequestRow {
    RequestRow {
        href: format!("/stewardship/requests/{}", r.request.id),
        id: r.request.id.to_string(),
        title: r.request.title.clone(),
        status: status_label(tr, r.request.status),
        status_key: r.request.status.as_str().to_string(),
        value: r.request.value,
        effort: r.request.effort,
        votes: r.votes,
        voted: r.voted,
        score: format!("{:.1}", r.score),
        open: r.request.status.open(),
        requested_by: r.requested_by_name.clone(),
    }
}

/// The propose/change form, as stored or typed.
pub struct RequestForm {
    pub action: String,
    pub version: i64,
    pub title: String,
    pub description: String,
    pub question: String,
    pub values: Vec<Opt>,
    pub efforts: Vec<Opt>,
    pub links: String,
    pub submit: String,
}

fn scores(chosen: u8) -> Vec<Opt> {
    (1u8..=5)
        .map(|n| opt(n.to_string(), n.to_string(), n == chosen))
        .collect()
}

fn request_form(tr: &Tr, detail: Option<&RequestDetail>, typed: Option<&[(String, String)]>) -> RequestForm {
    let r = detail.map(|d| &d.line.request);
    let field = |name: &str, stored: String| typed.map_or(stored, |f| form_value(f, name).to_string());
    let pick = |name: &str, stored: u8| typed.and_then(|f| form_value(f, name).parse().ok()).unwrap_or(stored);
    RequestForm {
        action: r.map_or_else(
            || "/stewardship/requests".into(),
            |r| format!("/stewardship/requests/{}", r.id),
        ),
        version: r.map_or(0, |r| r.version),
        title: field("title", r.map(|r| r.title.clone()).unwrap_or_default()),
        description: field("description", r.map(|r| r.description.clone()).unwrap_or_default()),
        question: field(
            "question",
            r.and_then(|r| r.question).map(|q| q.to_string()).unwrap_or_default(),
        ),
        values: scores(pick("value", r.map_or(3, |r| r.value))),
        efforts: scores(pick("effort", r.map_or(3, |r| r.effort))),
        links: field(
            "links",
            r.map(|r| {
                r.links
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {}",
                            serde_json::to_value(l.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default(),
                            l.target
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        ),
        submit: tr.t(if r.is_some() {
            "stewardship-request-save"
        } else {
            "stewardship-request-add"
        }),
    }
}

/// The form's links, one a line: "field deal.amount", "object ticket", "view Open deals".
fn links_of(text: &str) -> Vec<Json> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (kind, target) = l.split_once(' ').unwrap_or((l, ""));
            json!({"kind": kind.trim().to_lowercase(), "target": target.trim()})
        })
        .collect()
}

fn request_body(form: &[(String, String)]) -> Json {
    let n = |name: &str| {
        let v = form_value(form, name);
        v.parse::<u8>().map_or_else(|_| json!(v), |n| json!(n))
    };
    let mut body = json!({
        "title": form_value(form, "title"),
        "description": form_value(form, "description"),
        "question": or_null(form_value(form, "question")),
        "value": n("value"), "effort": n("effort"),
        "links": links_of(form_value(form, "links")),
    });
    if let (Some(b), Ok(v)) = (body.as_object_mut(), form_value(form, "version").parse::<i64>()) {
        b.insert("version".into(), json!(v));
    }
    body
}

#[derive(Template)]
#[template(path = "ui/stewardship_requests.html")]
struct BacklogPage {
    shell: Shell,
    title: String,
    sort: String,
    sorts: Vec<(String, String, bool)>,
    requests: Vec<RequestRow>,
    meetings: Vec<String>,
    may_propose: bool,
    form: Option<RequestForm>,
    errors: Vec<String>,
}

async fn backlog(ui: &Ui, sort: &str) -> Result<BacklogPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let order = BacklogOrder::parse(sort).unwrap_or_default();
    let b = crm.adjustment_backlog(who, order).await.or_page(ui)?;
    let tr = &ui.tr;
    let sort = match order {
        BacklogOrder::Priority => "priority",
        BacklogOrder::Votes => "votes",
        BacklogOrder::Newest => "newest",
    };
    Ok(BacklogPage {
        shell: ui.shell("stewardship"),
        title: tr.t("stewardship-requests-title"),
        sort: sort.to_string(),
        sorts: ["priority", "votes", "newest"]
            .iter()
            .map(|s| (s.to_string(), tr.t(&format!("stewardship-sort-{s}")), *s == sort))
            .collect(),
        requests: b.requests.iter().map(|r| request_row(tr, r)).collect(),
        meetings: b.meetings.iter().map(|d| tr.date(*d)).collect(),
        may_propose: b.may_propose,
        form: b.may_propose.then(|| request_form(tr, None, None)),
        errors: Vec::new(),
    })
}

/// `/stewardship/requests`: the backlog, sortable, with votes and the form to propose.
pub async fn backlog_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let page = backlog(&ui, form_value(&q, "sort")).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

pub async fn create_request(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    match crm
        .create_adjustment_request(who, request_body(&form))
        .await
        .or_forbidden(&ui)?
    {
        Ok(r) => Ok(Redirect::to(&format!("/stewardship/requests/{}", r.line.request.id)).into_response()),
        Err(e) => {
            let mut page = backlog(&ui, "").await?;
            page.form = Some(request_form(&ui.tr, None, Some(&form)));
            page.errors = mistakes(&ui.tr, &e);
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

#[derive(Template)]
#[template(path = "ui/stewardship_request.html")]
struct RequestPage {
    shell: Shell,
    title: String,
    row: RequestRow,
    description: String,
    facts: Vec<(String, String)>,
    links: Vec<String>,
    comments: Vec<(String, String, String)>,
    may_edit: bool,
    may_decide: bool,
    version: i64,
    next: Vec<Opt>,
    form: Option<RequestForm>,
    errors: Vec<String>,
}

async fn request_view(ui: &Ui, id: &str) -> Result<RequestPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let d = crm.adjustment_request(who, id).await.or_page(ui)?;
    let tr = &ui.tr;
    let r = &d.line.request;
    let mut facts = vec![
        (tr.t("stewardship-requested-by"), d.line.requested_by_name.clone()),
        (tr.t("stewardship-requested-at"), tr.datetime(r.created_at)),
    ];
    if let Some(q) = r.question {
        facts.push((tr.t("stewardship-question"), q.to_string()));
    }
    if let (Some(name), Some(at)) = (&d.line.decided_by_name, r.decided_at) {
        facts.push((tr.t("stewardship-decided"), format!("{name} · {}", tr.datetime(at))));
    }
    if !r.decision_note.is_empty() {
        facts.push((tr.t("stewardship-decision-note"), r.decision_note.clone()));
    }
    Ok(RequestPage {
        shell: ui.shell("stewardship"),
        title: r.title.clone(),
        row: request_row(tr, &d.line),
        description: r.description.clone(),
        facts,
        links: r
            .links
            .iter()
            .map(|l| {
                let kind = serde_json::to_value(l.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                format!("{}: {}", tr.t(&format!("stewardship-link-{kind}")), l.target)
            })
            .collect(),
        comments: d
            .comments
            .iter()
            .map(|c| {
                (
                    c.author_name.clone(),
                    tr.datetime(c.comment.created_at),
                    c.comment.body.clone(),
                )
            })
            .collect(),
        may_edit: d.may_edit,
        may_decide: d.may_decide,
        version: r.version,
        next: RequestStatus::ALL
            .iter()
            .filter(|s| r.status.may_become(**s))
            .map(|s| opt(s.as_str(), status_label(tr, *s), false))
            .collect(),
        form: d.may_edit.then(|| request_form(tr, Some(&d), None)),
        errors: Vec::new(),
    })
}

/// `/stewardship/requests/{id}`: one request, its decision and comments.
pub async fn request_page(ui: Ui, Path(id): Path<String>) -> PageResult {
    let page = request_view(&ui, &id).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// After a write on a request's page: back to it, or the page with the mistakes.
async fn after(ui: &Ui, id: &str, done: Result<RequestDetail, Error>, form: Option<&[(String, String)]>) -> PageResult {
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/stewardship/requests/{id}")).into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::Forbidden => Err(PageError::forbidden(ui)),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => Ok(super::not_found(ui)),
        Err(e) => {
            let mut page = request_view(ui, id).await?;
            if let Some(f) = form
                && page.form.is_some()
            {
                let d = ui
                    .authed
                    .crm
                    .adjustment_request(&ui.authed.principal, id)
                    .await
                    .or_page(ui)?;
                page.form = Some(request_form(&ui.tr, Some(&d), Some(f)));
            }
            page.errors = if e.code == anchora_core::ErrorCode::VersionConflict {
                vec![ui.tr.t("stewardship-stale")]
            } else {
                mistakes(&ui.tr, &e)
            };
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

pub async fn update_request(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let done = ui
        .authed
        .crm
        .update_adjustment_request(&ui.authed.principal, &id, request_body(&form))
        .await;
    after(&ui, &id, done, Some(&form)).await
}

/// Vote, or take the vote back (`vote=0`); back to where the button was.
pub async fn vote(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let done = if form_value(&form, "vote") == "0" {
        crm.unvote_adjustment(who, &id).await
    } else {
        crm.vote_adjustment(who, &id).await
    };
    match (done, form_value(&form, "back")) {
        (Ok(_), back) if back.starts_with("/stewardship/requests") => Ok(Redirect::to(back).into_response()),
        (done, _) => after(&ui, &id, done, None).await,
    }
}

pub async fn decide(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let version: Json = form_value(&form, "version")
        .parse::<i64>()
        .map_or(Json::Null, |v| json!(v));
    let body = json!({"version": version, "status": form_value(&form, "status"), "note": form_value(&form, "note")});
    let done = ui.authed.crm.decide_adjustment(&ui.authed.principal, &id, body).await;
    after(&ui, &id, done, None).await
}

pub async fn comment(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let body = json!({"body": form_value(&form, "body")});
    let done = ui.authed.crm.comment_adjustment(&ui.authed.principal, &id, body).await;
    after(&ui, &id, done, None).await
}

// ---------- answers ----------

pub struct AnswerRow {
    pub href: String,
    pub title: String,
    pub language: String,
    pub category: String,
    pub published: bool,
    pub author: String,
}

fn answer_row(a: &AnswerHit) -> AnswerRow {
    AnswerRow {
        href: format!("/stewardship/answers/{}", a.answer.id),
        title: a.answer.title.clone(),
        language: a.answer.language.clone(),
        category: a.answer.category.clone(),
        published: a.answer.published,
        author: a.author_name.clone(),
    }
}

pub struct AnswerForm {
    pub action: String,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub languages: Vec<Opt>,
    pub category: String,
    pub published: bool,
    pub submit: String,
}

fn answer_form(ui: &Ui, a: Option<&AnswerHit>, typed: Option<&[(String, String)]>) -> AnswerForm {
    let tr = &ui.tr;
    let a = a.map(|a| &a.answer);
    let field = |name: &str, stored: String| typed.map_or(stored, |f| form_value(f, name).to_string());
    let language = field(
        "language",
        a.map_or_else(|| tr.locale.to_string(), |a| a.language.clone()),
    );
    AnswerForm {
        action: a.map_or_else(
            || "/stewardship/answers".into(),
            |a| format!("/stewardship/answers/{}", a.id),
        ),
        version: a.map_or(0, |a| a.version),
        title: field("title", a.map(|a| a.title.clone()).unwrap_or_default()),
        body: field("body", a.map(|a| a.body.clone()).unwrap_or_default()),
        languages: LANGUAGES
            .iter()
            .map(|l| opt(*l, tr.t(&format!("stewardship-language-{l}")), *l == language))
            .collect(),
        category: field("category", a.map(|a| a.category.clone()).unwrap_or_default()),
        published: typed.map_or_else(|| a.is_some_and(|a| a.published), |f| form_value(f, "published") == "1"),
        submit: tr.t(if a.is_some() {
            "stewardship-answer-save"
        } else {
            "stewardship-answer-add"
        }),
    }
}

fn answer_body(form: &[(String, String)]) -> Json {
    let mut body = json!({
        "title": form_value(form, "title"), "body": form_value(form, "body"),
        "language": form_value(form, "language"), "category": form_value(form, "category"),
        "published": form_value(form, "published") == "1",
    });
    if let (Some(b), Ok(v)) = (body.as_object_mut(), form_value(form, "version").parse::<i64>()) {
        b.insert("version".into(), json!(v));
    }
    body
}

#[derive(Template)]
#[template(path = "ui/stewardship_answers.html")]
struct AnswersPage {
    shell: Shell,
    title: String,
    q: String,
    answers: Vec<AnswerRow>,
    form: Option<AnswerForm>,
    errors: Vec<String>,
}

async fn answers_view(ui: &Ui, q: &str) -> Result<AnswersPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let lang: String = ui.tr.locale.to_string();
    let lang = LANGUAGES.contains(&lang.as_str()).then_some(lang);
    let found = crm.answers(who, Some(q), lang.as_deref()).await.or_page(ui)?;
    let steward = matches!(
        who.role,
        anchora_core::auth::Role::Admin | anchora_core::auth::Role::KeyUser
    ) && who.scope >= anchora_core::auth::Scope::Write;
    Ok(AnswersPage {
        shell: ui.shell("stewardship"),
        title: ui.tr.t("stewardship-answers-title"),
        q: q.to_string(),
        answers: found.iter().map(answer_row).collect(),
        form: steward.then(|| answer_form(ui, None, None)),
        errors: Vec::new(),
    })
}

/// `/stewardship/answers`: search, the list, and the form for key users and administrators.
pub async fn answers_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let page = answers_view(&ui, form_value(&q, "q")).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

pub async fn create_answer(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    match crm.create_answer(who, answer_body(&form)).await.or_forbidden(&ui)? {
        Ok(a) => Ok(Redirect::to(&format!("/stewardship/answers/{}", a.answer.id)).into_response()),
        Err(e) => {
            let mut page = answers_view(&ui, "").await?;
            page.form = Some(answer_form(&ui, None, Some(&form)));
            page.errors = mistakes(&ui.tr, &e);
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

#[derive(Template)]
#[template(path = "ui/stewardship_answer.html")]
struct AnswerPage {
    shell: Shell,
    title: String,
    html: String,
    facts: Vec<(String, String)>,
    published: bool,
    form: Option<AnswerForm>,
    errors: Vec<String>,
}

async fn answer_view(ui: &Ui, id: &str) -> Result<(AnswerPage, AnswerHit), PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let a = crm.answer(who, id).await.or_page(ui)?;
    let tr = &ui.tr;
    let steward = matches!(
        who.role,
        anchora_core::auth::Role::Admin | anchora_core::auth::Role::KeyUser
    ) && who.scope >= anchora_core::auth::Scope::Write;
    let mut facts = vec![
        (
            tr.t("stewardship-language"),
            tr.t(&format!("stewardship-language-{}", a.answer.language)),
        ),
        (tr.t("stewardship-author"), a.author_name.clone()),
        (tr.t("stewardship-updated"), tr.datetime(a.answer.updated_at)),
    ];
    if !a.answer.category.is_empty() {
        facts.insert(0, (tr.t("stewardship-category"), a.answer.category.clone()));
    }
    let page = AnswerPage {
        shell: ui.shell("stewardship"),
        title: a.answer.title.clone(),
        html: render_body(&a.answer.body),
        facts,
        published: a.answer.published,
        form: steward.then(|| answer_form(ui, Some(&a), None)),
        errors: Vec::new(),
    };
    Ok((page, a))
}

/// `/stewardship/answers/{id}`: the answer, and its form for key users and administrators.
pub async fn answer_page(ui: Ui, Path(id): Path<String>) -> PageResult {
    let (page, _) = answer_view(&ui, &id).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

pub async fn update_answer(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    match crm
        .update_answer(who, &id, answer_body(&form))
        .await
        .or_forbidden(&ui)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/stewardship/answers/{id}")).into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => Ok(super::not_found(&ui)),
        Err(e) => {
            let (mut page, a) = answer_view(&ui, &id).await?;
            page.form = Some(answer_form(&ui, Some(&a), Some(&form)));
            page.errors = if e.code == anchora_core::ErrorCode::VersionConflict {
                vec![ui.tr.t("stewardship-stale")]
            } else {
                mistakes(&ui.tr, &e)
            };
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render_body;

    #[test]
    fn answer_text_is_escaped_before_it_is_shaped() {
        assert_eq!(
            render_body("Open <b>the list</b>\nthen export.\n\n- one & two\n- \"three\""),
            "<p>Open &lt;b&gt;the list&lt;/b&gt;<br>then export.</p><ul><li>one &amp; two</li><li>&quot;three&quot;</li></ul>"
        );
        assert_eq!(
            render_body("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
    }
}
