//! The checks every project write passes: lengths, amounts and dates in range, members and
//! tasks that refer to what exists, request bodies read strictly, and who may write.

use super::model::{Goal, Member, Project, Settings, Task, TaskStatus};
use super::roles::RoleScope;
use super::state::{ProjectState, may_write};
use crate::auth::Principal;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::ProjectId;
use crate::service::body_error;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::collections::HashSet;

pub(super) const MAX_NAME: usize = 200;
pub(super) const MAX_TEXT: usize = 4000;
pub(super) const MAX_LIST: usize = 100;
pub(super) const MAX_TASKS: usize = 20_000;
pub(super) const MAX_HOURS: f64 = 1_000_000.0;
/// A trillion minor units: beyond any CRM project, well inside i64 sums.
pub(super) const MAX_MONEY: i64 = 1_000_000_000_000;

pub(super) fn parse<T: DeserializeOwned>(body: Json) -> Result<T> {
    crate::service::from_body(body)
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))
}

pub(super) fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(Error::field(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(Error::field(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Error::field(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

pub(super) fn names(field: &str, values: &[String]) -> Result<Vec<String>> {
    if values.len() > MAX_LIST {
        return Err(Error::field(field, format!("at most {MAX_LIST} entries")));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for v in values {
        let v = text(field, v, 80, true)?;
        if v.chars().any(char::is_control) {
            return Err(Error::field(field, "each name is one line"));
        }
        if !seen.insert(v.to_lowercase()) {
            return Err(Error::field(field, format!("{v:?} is named twice")));
        }
        out.push(v);
    }
    Ok(out)
}

pub(super) fn money(field: &str, v: i64) -> Result<i64> {
    if !(0..=MAX_MONEY).contains(&v) {
        return Err(Error::field(field, format!("must be between 0 and {MAX_MONEY}")));
    }
    Ok(v)
}

pub(super) fn hours(field: &str, v: f64) -> Result<f64> {
    if !v.is_finite() || !(0.0..=MAX_HOURS).contains(&v) {
        return Err(Error::field(field, format!("must be between 0 and {MAX_HOURS}")));
    }
    Ok(v)
}

pub(super) fn share(field: &str, v: f64) -> Result<f64> {
    if !v.is_finite() || v <= 0.0 || v > 1.0 {
        return Err(Error::field(field, "must be a share above 0 and at most 1"));
    }
    Ok(v)
}

/// Plans live between 1900 and 2999: wide enough for any rollout, narrow enough that date
/// arithmetic never reaches the calendar's ends.
pub(super) fn date(field: &str, d: NaiveDate) -> Result<NaiveDate> {
    let lo = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let hi = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX);
    if d < lo || d > hi {
        return Err(Error::field(field, "must be a date between 1900 and 2999"));
    }
    Ok(d)
}

/// Check and tidy settings as a whole.
pub(super) fn validate_settings(mut s: Settings) -> Result<Settings> {
    s.name = text("name", &s.name, 120, true)?;
    date("start", s.start)?;
    date("target", s.target)?;
    if s.target < s.start {
        return Err(Error::field("target", "must not be before the start"));
    }
    if s.goals.len() > MAX_LIST {
        return Err(Error::field("goals", format!("at most {MAX_LIST} goals")));
    }
    s.goals = s
        .goals
        .into_iter()
        .map(|g| {
            Ok(Goal {
                text: text("goals", &g.text, MAX_TEXT, true)?,
                strategy: text("goals", &g.strategy, MAX_TEXT, false)?,
            })
        })
        .collect::<Result<_>>()?;
    if s.phases.len() > MAX_LIST {
        return Err(Error::field("phases", format!("at most {MAX_LIST} phases")));
    }
    for p in &mut s.phases {
        p.name = text("phases", &p.name, 80, true)?;
        date("phases", p.start)?;
        date("phases", p.finish)?;
        if p.finish < p.start {
            return Err(Error::field(
                "phases",
                format!("{}: the finish is before the start", p.name),
            ));
        }
    }
    if let Some(m) = &mut s.mandate {
        m.granted_by = text("mandate.granted_by", &m.granted_by, MAX_NAME, true)?;
        m.scope = text("mandate.scope", &m.scope, MAX_TEXT, true)?;
        date("mandate.granted_on", m.granted_on)?;
    }
    let b = &mut s.budget;
    b.currency = b.currency.trim().to_uppercase();
    if b.currency.len() != 3 || !b.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::field("budget.currency", "must be a three-letter currency code"));
    }
    money("budget.amount", b.amount)?;
    money("budget.committed", b.committed)?;
    money("budget.spent", b.spent)?;
    if !b.buffer_percent.is_finite() || !(0.0..=100.0).contains(&b.buffer_percent) {
        return Err(Error::field("budget.buffer_percent", "must be between 0 and 100"));
    }
    s.departments = names("departments", &s.departments)?;
    s.user_groups = names("user_groups", &s.user_groups)?;
    if !(1..=100).contains(&s.thresholds.max_core_team) {
        return Err(Error::field("thresholds.max_core_team", "must be between 1 and 100"));
    }
    share("thresholds.max_technical_share", s.thresholds.max_technical_share)?;
    share("max_system_share", s.max_system_share)?;
    if let Some(t) = &s.report_template {
        if t.trim().is_empty() {
            s.report_template = None;
        } else {
            super::report::check_template(t).map_err(|e| Error::field("report_template", e))?;
        }
    }
    Ok(s)
}

/// Top-level keys of `patch` replace those of `base`; the result must be whole settings.
pub(super) fn patched<T: serde::Serialize + DeserializeOwned>(
    base: &T,
    patch: serde_json::Map<String, Json>,
) -> Result<T> {
    let value = serde_json::to_value(base).map_err(|e| Error::internal(e.to_string()))?;
    let apply = |keys: &mut dyn Iterator<Item = (&String, &Json)>| {
        let mut v = value.clone();
        if let Json::Object(map) = &mut v {
            for (k, x) in keys {
                map.insert(k.clone(), x.clone());
            }
        }
        serde_json::from_value::<T>(v)
    };
    match apply(&mut patch.iter()) {
        Ok(t) => Ok(t),
        Err(e) => {
            // Name the key that does not fit: serde's message names the value, not the field.
            let message = e.to_string();
            let message = message.split(" at line").next().unwrap_or(&message).to_string();
            let culprit = patch
                .iter()
                .find(|(k, x)| apply(&mut std::iter::once((*k, *x))).is_err())
                .map_or_else(
                    || body_error(&e).errors.first().map_or("body".into(), |f| f.field.clone()),
                    |(k, _)| k.clone(),
                );
            Err(Error::field(culprit, message))
        }
    }
}

/// Split `version` off a patch body; updates must name the version they change.
pub(super) fn take_version(body: Json) -> Result<(i64, serde_json::Map<String, Json>)> {
    let Json::Object(mut map) = body else {
        return Err(Error::field("body", "must be a JSON object"));
    };
    let version = match map.remove("version") {
        Some(Json::Number(n)) => n
            .as_i64()
            .ok_or_else(|| Error::field("version", "must be a whole number"))?,
        Some(_) => return Err(Error::field("version", "must be a whole number")),
        None => {
            return Err(Error::new(
                ErrorCode::PreconditionRequired,
                "name the version you change (\"version\" in the body)",
            ));
        }
    };
    Ok((version, map))
}

pub(super) fn parse_project_id(id: &str) -> Result<ProjectId> {
    ProjectId::parse(id).ok_or_else(|| Error::not_found(format!("no project with id {id:?}")))
}

pub(super) fn require_writer(who: &Principal) -> Result<()> {
    if may_write(who) { Ok(()) } else { Err(not_editor(who)) }
}

pub(super) fn not_editor(who: &Principal) -> Error {
    if may_write(who) {
        Error::new(
            ErrorCode::Forbidden,
            "only administrators and the project's leaders may change the project",
        )
    } else {
        Error::new(ErrorCode::Forbidden, "you may read the project but not change it")
    }
}

pub(super) fn no_item(what: &str, number: u32) -> Error {
    Error::not_found(format!("the project has no {what} {number}"))
}

pub(super) fn stale_project(p: &Project) -> Error {
    Error {
        detail: "the project's settings were changed by someone else first; their current state is attached".into(),
        ..Error::conflict(serde_json::to_value(p).unwrap_or(Json::Null))
    }
}

pub(super) fn check_member(state: &ProjectState, field: &str, member: Option<u32>) -> Result<Option<u32>> {
    match member {
        Some(n) if state.member(n).is_none() => Err(Error::field(field, format!("there is no member {n}"))),
        other => Ok(other),
    }
}

pub(super) fn validate_member(state: &ProjectState, mut m: Member) -> Result<Member> {
    m.name = text("name", &m.name, MAX_NAME, true)?;
    m.email = text("email", &m.email, 254, false)?;
    if !m.email.is_empty() {
        m.email =
            crate::value::normalise_email(&m.email).ok_or_else(|| Error::field("email", "is not an e-mail address"))?;
    }
    m.organisation = text("organisation", &m.organisation, MAX_NAME, false)?;
    if m.roles.len() > 20 {
        return Err(Error::field("roles", "at most 20 roles per member"));
    }
    let settings = &state.project.settings;
    let mut seen = HashSet::new();
    for a in &mut m.roles {
        let Some(def) = state.catalogue.iter().find(|r| r.key == a.role) else {
            return Err(Error::field(
                "roles",
                format!("there is no role {:?} in the catalogue", a.role),
            ));
        };
        match def.scope {
            RoleScope::Project => {
                a.department = None;
                a.user_group = None;
            }
            RoleScope::Department => {
                a.user_group = None;
                let d = a.department.as_deref().unwrap_or("").trim().to_string();
                a.department = Some(d.clone());
                if !settings.departments.contains(&d) {
                    return Err(Error::field(
                        "roles",
                        format!("{} needs one of the project's departments", a.role),
                    ));
                }
            }
            RoleScope::UserGroup => {
                a.department = None;
                let g = a.user_group.as_deref().unwrap_or("").trim().to_string();
                a.user_group = Some(g.clone());
                if !settings.user_groups.contains(&g) {
                    return Err(Error::field(
                        "roles",
                        format!("{} needs one of the project's user groups", a.role),
                    ));
                }
            }
        }
        if !seen.insert((a.role.clone(), a.department.clone(), a.user_group.clone())) {
            return Err(Error::field("roles", format!("{} is held twice", a.role)));
        }
    }
    Ok(m)
}

/// Check a task; `before` is the task as it was, so what did not change (a phase since renamed)
/// is not held against an update of something else.
pub(super) fn validate_task(state: &ProjectState, mut t: Task, before: Option<&Task>) -> Result<Task> {
    t.name = text("name", &t.name, MAX_NAME, true)?;
    t.phase = text("phase", &t.phase, 80, false)?;
    let phase_changed = before.is_none_or(|b| b.phase != t.phase);
    if phase_changed && !t.phase.is_empty() && !state.project.settings.phases.iter().any(|p| p.name == t.phase) {
        return Err(Error::field("phase", format!("the project has no phase {:?}", t.phase)));
    }
    if before.is_none_or(|b| b.owner != t.owner) {
        t.owner = check_member(state, "owner", t.owner)?;
    }
    date("start", t.start)?;
    date("finish", t.finish)?;
    if t.milestone {
        t.finish = t.start;
    }
    if t.finish < t.start {
        return Err(Error::field("finish", "must not be before the start"));
    }
    if (t.finish - t.start).num_days() > 3660 {
        return Err(Error::field("finish", "a task may last at most ten years"));
    }
    if !t.percent_done.is_finite() || !(0.0..=100.0).contains(&t.percent_done) {
        return Err(Error::field("percent_done", "must be between 0 and 100"));
    }
    t.planned_hours = hours("planned_hours", t.planned_hours)?;
    t.actual_hours = hours("actual_hours", t.actual_hours)?;
    t.planned_cost = money("planned_cost", t.planned_cost)?;
    t.actual_cost = money("actual_cost", t.actual_cost)?;
    // Status and progress agree: done is 100 %, and 100 % is done.
    match t.status {
        TaskStatus::Done => t.percent_done = 100.0,
        _ if t.percent_done >= 100.0 => t.status = TaskStatus::Done,
        TaskStatus::NotStarted if t.percent_done > 0.0 => t.status = TaskStatus::InProgress,
        _ => {}
    }
    if t.external.len() > 20 {
        return Err(Error::field("external", "at most 20 external dependencies per task"));
    }
    for e in &mut t.external {
        e.party = text("external", &e.party, MAX_NAME, true)?;
        e.note = text("external", &e.note, MAX_TEXT, false)?;
    }
    Ok(t)
}
