//! The training pages (issue 22, point 6; C9): `/training` every course with how its audience
//! stands (trained, running out within 30 days, run out, never trained) and every session, with
//! forms to add a course and plan a session for administrators and key users;
//! `/training/courses/{id}` one course, its sessions and its form; `/training/sessions/{id}`
//! one session and, for administrators and key users, who attended. The figures are
//! `Crm::training_overview`'s and `Crm::session_attendance`'s; this file only words them.

use super::onboarding::{Opt, role_label};
use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value};
use crate::i18n::Tr;
use anchora_core::auth::Role;
use anchora_core::training::{Course, CourseLine, SessionAttendance, SessionLine};
use anchora_core::{Error, ErrorCode};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

fn opt(value: impl Into<String>, label: String, on: bool) -> Opt {
    Opt {
        value: value.into(),
        label,
        on,
    }
}

/// A course as the list shows it.
pub struct CourseRow {
    pub href: String,
    pub name: String,
    pub audience: String,
    pub refresh: String,
    pub sessions: usize,
    pub valid: usize,
    pub expiring: usize,
    pub expired: usize,
    pub missing: usize,
}

/// A session as the lists show it.
pub struct SessionRow {
    pub id: String,
    pub href: String,
    pub date: String,
    pub course: String,
    pub trainer: String,
    pub place: String,
    pub online: bool,
    pub upcoming: bool,
    pub attended: usize,
}

/// The course form, as stored or as typed, with its mistakes.
pub struct CourseForm {
    pub action: String,
    pub name: String,
    pub description: String,
    pub roles: Vec<Opt>,
    pub refresh: String,
    pub errors: HashMap<String, String>,
    pub submit: String,
}

impl CourseForm {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The session form, with its mistakes.
pub struct SessionForm {
    pub courses: Vec<Opt>,
    pub date: String,
    pub trainers: Vec<Opt>,
    pub trainer_name: String,
    pub place: String,
    pub online: bool,
    pub errors: HashMap<String, String>,
}

impl SessionForm {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

fn refresh_text(tr: &Tr, months: Option<u32>) -> String {
    match months {
        Some(m) => tr.counted("training-refresh-every", usize::try_from(m).unwrap_or(0), &[]),
        None => tr.t("training-lasts"),
    }
}

fn audience_text(tr: &Tr, roles: &[Role]) -> String {
    roles.iter().map(|r| role_label(tr, *r)).collect::<Vec<_>>().join(", ")
}

fn course_row(tr: &Tr, c: &CourseLine) -> CourseRow {
    CourseRow {
        href: format!("/training/courses/{}", c.course.id),
        name: c.course.name.clone(),
        audience: audience_text(tr, &c.course.audience),
        refresh: refresh_text(tr, c.course.refresh_months),
        sessions: c.sessions,
        valid: c.valid,
        expiring: c.expiring,
        expired: c.expired,
        missing: c.missing,
    }
}

fn session_row(tr: &Tr, s: &SessionLine, today: chrono::NaiveDate) -> SessionRow {
    SessionRow {
        id: s.session.id.to_string(),
        href: format!("/training/sessions/{}", s.session.id),
        date: tr.date(s.session.on),
        course: s.course_name.clone(),
        trainer: s.trainer_label.clone(),
        place: s.session.place.clone(),
        online: s.session.online,
        upcoming: s.session.on > today,
        attended: s.attended,
    }
}

fn course_form(tr: &Tr, action: String, course: Option<&Course>, typed: Option<&[(String, String)]>) -> CourseForm {
    let chosen = |r: Role| match typed {
        Some(form) => form.iter().any(|(k, v)| k == "audience" && v == r.as_str()),
        None => course.is_none_or(|c| c.is_for(r)) && (course.is_some() || r == Role::User),
    };
    CourseForm {
        action,
        name: typed.map_or_else(
            || course.map(|c| c.name.clone()).unwrap_or_default(),
            |f| form_value(f, "name").to_string(),
        ),
        description: typed.map_or_else(
            || course.map(|c| c.description.clone()).unwrap_or_default(),
            |f| form_value(f, "description").to_string(),
        ),
        roles: Role::ALL
            .iter()
            .map(|r| opt(r.as_str(), role_label(tr, *r), chosen(*r)))
            .collect(),
        refresh: typed.map_or_else(
            || {
                course
                    .and_then(|c| c.refresh_months)
                    .map(|m| m.to_string())
                    .unwrap_or_default()
            },
            |f| form_value(f, "refresh_months").to_string(),
        ),
        errors: HashMap::new(),
        submit: tr.t(if course.is_some() {
            "training-course-save"
        } else {
            "training-course-add"
        }),
    }
}

async fn session_form(
    ui: &Ui,
    courses: &[Course],
    course: Option<&str>,
    typed: Option<&[(String, String)]>,
) -> SessionForm {
    let tr = &ui.tr;
    let field = |name: &str| typed.map(|f| form_value(f, name).to_string()).unwrap_or_default();
    let picked_course = typed.map_or_else(
        || course.unwrap_or("").to_string(),
        |f| form_value(f, "course").to_string(),
    );
    let trainer = field("trainer");
    let users = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
    let mut people: Vec<_> = users.into_iter().filter(|u| u.active && u.email.is_some()).collect();
    people.sort_by_cached_key(|u| anchora_core::text::fold_case(&u.name));
    SessionForm {
        courses: courses
            .iter()
            .map(|c| opt(c.id.to_string(), c.name.clone(), picked_course == c.id.to_string()))
            .collect(),
        date: typed.map_or_else(
            || ui.authed.crm.clock.now().date_naive().to_string(),
            |f| form_value(f, "on").to_string(),
        ),
        trainers: std::iter::once(opt("", tr.t("training-trainer-named"), trainer.is_empty()))
            .chain(
                people
                    .iter()
                    .map(|u| opt(u.id.to_string(), u.name.clone(), trainer == u.id.to_string())),
            )
            .collect(),
        trainer_name: field("trainer_name"),
        place: field("place"),
        online: typed.is_some_and(|f| form_value(f, "online") == "1"),
        errors: HashMap::new(),
    }
}

/// Each field's mistake in words.
fn mistakes(tr: &Tr, e: &Error) -> HashMap<String, String> {
    e.errors
        .iter()
        .map(|f| {
            let field = f.field.split('[').next().unwrap_or(&f.field).to_string();
            let key = format!("training-bad-{}", field.replace('_', "-"));
            let known = [
                "name",
                "description",
                "audience",
                "refresh_months",
                "course",
                "on",
                "trainer",
                "trainer_name",
                "place",
                "attendance",
            ];
            let text = if known.contains(&field.as_str()) {
                tr.t(&key)
            } else {
                super::field_message(tr, &f.message)
            };
            (field, text)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ui/training.html")]
struct OverviewPage {
    shell: Shell,
    title: String,
    may_manage: bool,
    courses: Vec<CourseRow>,
    sessions: Vec<SessionRow>,
    course_form: Option<CourseForm>,
    session_form: Option<SessionForm>,
    error: Option<String>,
}

async fn overview_page(ui: &Ui) -> Result<OverviewPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let o = crm.training_overview(who).await.or_page(ui)?;
    let tr = &ui.tr;
    let courses: Vec<Course> = o.courses.iter().map(|c| c.course.clone()).collect();
    Ok(OverviewPage {
        shell: ui.shell("training"),
        title: tr.t("training-title"),
        may_manage: o.may_manage,
        courses: o.courses.iter().map(|c| course_row(tr, c)).collect(),
        sessions: o.sessions.iter().map(|s| session_row(tr, s, o.today)).collect(),
        course_form: o
            .may_manage
            .then(|| course_form(tr, "/training/courses".into(), None, None)),
        session_form: if o.may_manage && !courses.is_empty() {
            Some(session_form(ui, &courses, None, None).await)
        } else {
            None
        },
        error: None,
    })
}

/// `/training`: the courses and sessions.
pub async fn training_page(ui: Ui) -> PageResult {
    let page = overview_page(&ui).await?;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The course's fields as the use case takes them.
fn course_body(form: &[(String, String)]) -> Json {
    let audience: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "audience")
        .map(|(_, v)| v.as_str())
        .collect();
    let refresh: Json = match form_value(form, "refresh_months").trim() {
        "" => Json::Null,
        m => m.parse::<u32>().map_or_else(|_| json!(m), |n| json!(n)),
    };
    json!({"name": form_value(form, "name"), "description": form_value(form, "description"),
        "audience": audience, "refresh_months": refresh})
}

/// Add a course; to its page, or the form again with its mistakes.
pub async fn create_course(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let made = ui
        .authed
        .crm
        .create_course(&ui.authed.principal, course_body(&form))
        .await;
    match made.or_forbidden(&ui)? {
        Ok(c) => Ok(Redirect::to(&format!("/training/courses/{}", c.id)).into_response()),
        Err(e) => {
            let mut page = overview_page(&ui).await?;
            let mut f = course_form(&ui.tr, "/training/courses".into(), None, Some(&form));
            f.errors = mistakes(&ui.tr, &e);
            page.course_form = Some(f);
            page.error = Some(ui.tr.t("training-mistakes"));
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

#[derive(Template)]
#[template(path = "ui/training_course.html")]
struct CoursePage {
    shell: Shell,
    title: String,
    description: String,
    /// Whom it is for and how long it lasts.
    about: Vec<(String, String)>,
    /// How its audience stands, as figures.
    facts: Vec<(String, String)>,
    sessions: Vec<SessionRow>,
    course_form: Option<CourseForm>,
    session_form: Option<SessionForm>,
    saved: bool,
    error: Option<String>,
}

async fn course_page(ui: &Ui, id: &str) -> Result<CoursePage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let overview = crm.training_overview(who).await.or_page(ui)?;
    let line = overview
        .courses
        .iter()
        .find(|c| c.course.id.to_string() == id)
        .ok_or_else(|| PageError::not_found(ui))?;
    let tr = &ui.tr;
    let c = &line.course;
    let courses: Vec<Course> = overview.courses.iter().map(|l| l.course.clone()).collect();
    let count = |n: usize| n.to_string();
    Ok(CoursePage {
        shell: ui.shell("training"),
        title: c.name.clone(),
        description: c.description.clone(),
        about: vec![
            (tr.t("training-audience"), audience_text(tr, &c.audience)),
            (tr.t("training-refresh"), refresh_text(tr, c.refresh_months)),
        ],
        facts: vec![
            (tr.t("training-state-valid"), count(line.valid)),
            (tr.t("training-state-expiring"), count(line.expiring)),
            (tr.t("training-state-expired"), count(line.expired)),
            (tr.t("training-state-missing"), count(line.missing)),
        ],
        sessions: overview
            .sessions
            .iter()
            .filter(|s| s.session.course == c.id)
            .map(|s| session_row(tr, s, overview.today))
            .collect(),
        course_form: overview
            .may_manage
            .then(|| course_form(tr, format!("/training/courses/{}", c.id), Some(c), None)),
        session_form: if overview.may_manage {
            Some(session_form(ui, &courses, Some(id), None).await)
        } else {
            None
        },
        saved: false,
        error: None,
    })
}

/// `/training/courses/{id}`.
pub async fn course_view(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let mut page = course_page(&ui, &id).await?;
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Change a course; back to its page, or the form again with its mistakes.
pub async fn update_course(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let changed = ui
        .authed
        .crm
        .update_course(&ui.authed.principal, &id, course_body(&form))
        .await;
    let e = match changed.or_forbidden(&ui)? {
        Ok(c) => return Ok(Redirect::to(&format!("/training/courses/{}?saved=1", c.id)).into_response()),
        Err(e) if e.code == ErrorCode::NotFound => return Err(PageError::not_found(&ui)),
        Err(e) => e,
    };
    let mut page = course_page(&ui, &id).await?;
    if let Some(f) = page.course_form.as_mut() {
        let mut typed = course_form(&ui.tr, f.action.clone(), None, Some(&form));
        typed.submit = f.submit.clone();
        typed.errors = mistakes(&ui.tr, &e);
        *f = typed;
    }
    page.error = Some(ui.tr.t("training-mistakes"));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

/// Plan a session; to its page, or the form again with its mistakes.
pub async fn create_session(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let body = json!({
        "course": form_value(&form, "course"),
        "on": form_value(&form, "on"),
        "trainer": form_value(&form, "trainer"),
        "trainer_name": form_value(&form, "trainer_name"),
        "place": form_value(&form, "place"),
        "online": form_value(&form, "online") == "1",
    });
    let made = ui.authed.crm.create_training_session(&ui.authed.principal, body).await;
    match made.or_forbidden(&ui)? {
        Ok(s) => Ok(Redirect::to(&format!("/training/sessions/{}", s.session.id)).into_response()),
        Err(e) => {
            let mut page = overview_page(&ui).await?;
            let courses: Vec<Course> = ui.authed.crm.courses(&ui.authed.principal).await.or_page(&ui)?;
            let mut f = session_form(&ui, &courses, None, Some(&form)).await;
            f.errors = mistakes(&ui.tr, &e);
            // A date the form could not read is refused before the use case names a field.
            if f.errors.is_empty() {
                f.errors.insert("on".into(), ui.tr.t("training-bad-on"));
            }
            page.session_form = Some(f);
            page.error = Some(ui.tr.t("training-mistakes"));
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

/// One person of the attendance form.
pub struct AttendanceRow {
    pub id: String,
    pub name: String,
    pub role: String,
    /// "1" attended, "0" absent, "" not recorded.
    pub value: &'static str,
}

#[derive(Template)]
#[template(path = "ui/training_session.html")]
struct SessionPage {
    shell: Shell,
    id: String,
    title: String,
    course_href: String,
    facts: Vec<(String, String)>,
    /// `None`: the reader may not see who attended.
    attendance: Option<Vec<AttendanceRow>>,
    open: bool,
    opens: String,
    saved: bool,
    error: Option<String>,
}

fn session_facts(tr: &Tr, s: &SessionLine) -> Vec<(String, String)> {
    let mut where_ = s.session.place.clone();
    if s.session.online {
        where_ = if where_.is_empty() {
            tr.t("training-online")
        } else {
            format!("{} · {where_}", tr.t("training-online"))
        };
    }
    vec![
        (tr.t("training-course"), s.course_name.clone()),
        (tr.t("training-date"), tr.date(s.session.on)),
        (tr.t("training-trainer"), s.trainer_label.clone()),
        (tr.t("training-place"), where_),
        (tr.t("training-attended"), s.attended.to_string()),
    ]
}

fn attendance_rows(tr: &Tr, a: &SessionAttendance) -> Vec<AttendanceRow> {
    a.attendance
        .iter()
        .map(|l| AttendanceRow {
            id: l.user.to_string(),
            name: l.name.clone(),
            role: role_label(tr, l.role),
            value: match l.attended {
                Some(true) => "1",
                Some(false) => "0",
                None => "",
            },
        })
        .collect()
}

/// `/training/sessions/{id}`: the session and, for administrators and key users, who attended.
pub async fn session_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let session = crm.training_session(who, &id).await.or_page(&ui)?;
    let tr = &ui.tr;
    let attendance = match crm.session_attendance(who, &id).await {
        Ok(a) => Some(a),
        Err(e) if e.code == ErrorCode::Forbidden => None,
        Err(e) => return Err(e).or_page(&ui),
    };
    let page = SessionPage {
        shell: ui.shell("training"),
        id: session.session.id.to_string(),
        title: format!("{} · {}", session.course_name, tr.date(session.session.on)),
        course_href: format!("/training/courses/{}", session.session.course),
        facts: session_facts(tr, &session),
        open: attendance.as_ref().is_some_and(|a| a.open),
        attendance: attendance.as_ref().map(|a| attendance_rows(tr, a)),
        opens: tr.t1("training-attendance-opens", "date", tr.date(session.session.on)),
        saved: form_value(&q, "saved") == "1",
        error: Some(form_value(&q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty()),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Record the attendance form: each person marked attended or absent (those left unmarked are
/// not recorded).
pub async fn record_attendance(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let rows: Vec<Json> = form
        .iter()
        .filter_map(|(k, v)| {
            let user = k.strip_prefix("a-")?;
            match v.as_str() {
                "1" => Some(json!({"user": user, "attended": true})),
                "0" => Some(json!({"user": user, "attended": false})),
                _ => None,
            }
        })
        .collect();
    let recorded = ui
        .authed
        .crm
        .record_attendance(&ui.authed.principal, &id, json!({ "attendance": rows }))
        .await;
    let back = format!("/training/sessions/{id}");
    recorded.or_forbidden_else(&ui, |e| match e.code {
        ErrorCode::NotFound => super::not_found(&ui),
        _ => {
            let said = mistakes(&ui.tr, &e)
                .into_values()
                .next()
                .unwrap_or_else(|| super::admin::problem(&e));
            Redirect::to(&format!("{back}?error={}", anchora_core::views::url_encode(&said))).into_response()
        }
    })?;
    Ok(Redirect::to(&format!("{back}?saved=1")).into_response())
}
