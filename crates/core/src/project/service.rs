//! The project's use cases: read a project whole with its verdicts, and change it. Everyone who
//! may read the CRM may read a project (management and stakeholders follow it at any time);
//! administrators and the project's own leaders change it; each member confirms their roles and
//! gives feedback on them, owners report progress on their tasks, and the vendor's members
//! deliver their work packages.

use super::change::ChangeRequest;
use super::escalation::Escalation;
use super::health::{self, Check, Thresholds};
use super::journeys::{ConfigItem, Journey, Requirement};
use super::matrix::Communication;
use super::meetings::{Action, Meeting};
use super::model::{
    ACTION, BudgetStatus, CHANGE_REQUEST, COMMUNICATION, CONFIGURATION, Confirmation, ESCALATION, ExternalDependency,
    Goal, JOURNEY, MEETING, MEMBER, Mandate, Member, PackageEvent, PackageState, Phase, Project, REQUIREMENT, Review,
    STATUS_REPORT, Settings, TASK, Task, TaskStatus, WORK_PACKAGE, WorkPackage,
};
use super::plan::{self, Dependency, Forecast, PlanError, Schedule};
use super::report::StatusReport;
use super::roles::{self, Assignment, PROJECT_LEADER, RoleDef, RoleScope};
use super::thirds::{self, Area, Effort, Split, Thirds};
use crate::auth::{Permission, Principal, Role};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ProjectId, UserId};
use crate::service::{Crm, body_error};
use crate::store::{BatchOutcome, ItemWrite, ProjectBatch, StoredItem};
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::collections::HashSet;

const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 4000;
const MAX_LIST: usize = 100;
const MAX_TASKS: usize = 20_000;
const MAX_HOURS: f64 = 1_000_000.0;
/// A trillion minor units: beyond any CRM project, well inside i64 sums.
const MAX_MONEY: i64 = 1_000_000_000_000;

/// A project with everything in it, as one reader sees it at one moment.
#[derive(Debug, Clone)]
pub struct ProjectState {
    pub project: Project,
    pub members: Vec<Member>,
    pub tasks: Vec<Task>,
    pub dependencies: Vec<Dependency>,
    pub packages: Vec<WorkPackage>,
    pub catalogue: Vec<RoleDef>,
    pub changes: Vec<ChangeRequest>,
    pub meetings: Vec<Meeting>,
    pub actions: Vec<Action>,
    pub escalations: Vec<Escalation>,
    pub communications: Vec<Communication>,
    /// Sent status reports, oldest first.
    pub reports: Vec<StatusReport>,
    pub journeys: Vec<Journey>,
    pub requirements: Vec<Requirement>,
    pub configuration: Vec<ConfigItem>,
}

/// What the reader may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ProjectRights {
    /// Change settings, group, plan and work packages: administrators and project leaders.
    pub edit: bool,
    /// The reader's own membership, if any.
    pub member: Option<u32>,
}

impl ProjectState {
    pub fn member(&self, number: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.number == number)
    }

    pub fn task(&self, number: u32) -> Option<&Task> {
        self.tasks.iter().find(|t| t.number == number)
    }

    pub fn package(&self, number: u32) -> Option<&WorkPackage> {
        self.packages.iter().find(|p| p.number == number)
    }

    pub fn health(&self) -> Vec<Check> {
        let group: Vec<roles::Member> = self
            .members
            .iter()
            .map(|m| roles::Member {
                name: m.name.clone(),
                roles: m.roles.clone(),
            })
            .collect();
        let s = &self.project.settings;
        health::assess(&self.catalogue, &group, &s.departments, &s.user_groups, s.thresholds)
    }

    pub fn thirds(&self) -> Thirds {
        let mut planned = Split::default();
        let mut actual = Split::default();
        for t in &self.tasks {
            planned.add(
                t.area,
                Effort {
                    hours: t.planned_hours,
                    money: t.planned_cost,
                },
            );
            actual.add(
                t.area,
                Effort {
                    hours: t.actual_hours,
                    money: t.actual_cost,
                },
            );
        }
        thirds::judge(planned, actual, self.project.settings.max_system_share)
    }

    /// The tasks as the plan's rules see them (ids are the task numbers).
    pub fn plan_tasks(&self) -> Vec<plan::Task> {
        self.tasks
            .iter()
            .map(|t| plan::Task {
                id: t.number,
                name: t.name.clone(),
                start: t.start,
                finish: t.finish,
                planned_hours: t.planned_hours,
                percent_done: t.percent_done,
                milestone: t.milestone,
            })
            .collect()
    }

    pub fn schedule(&self) -> Result<Schedule> {
        plan::schedule(&self.plan_tasks(), &self.dependencies).map_err(|e| plan_error(&e))
    }

    pub fn forecast(&self, today: NaiveDate) -> Option<Forecast> {
        plan::forecast(&self.plan_tasks(), today)
    }

    pub fn budget(&self) -> BudgetStatus {
        self.project.settings.budget.status()
    }

    /// Tasks past their finish and not done.
    pub fn overdue(&self, today: NaiveDate) -> Vec<u32> {
        self.tasks
            .iter()
            .filter(|t| t.status != TaskStatus::Done && t.finish < today)
            .map(|t| t.number)
            .collect()
    }
}

/// Items carry the number and version the store gave them; the stored body may be older.
pub(super) trait Numbered {
    fn numbered(&mut self, number: u32, version: i64);
}

macro_rules! numbered {
    ($($t:ty),*) => {$(
        impl Numbered for $t {
            fn numbered(&mut self, number: u32, version: i64) {
                (self.number, self.version) = (number, version);
            }
        }
    )*};
}

numbered!(
    Member,
    Task,
    WorkPackage,
    ChangeRequest,
    Meeting,
    Action,
    Escalation,
    Communication,
    StatusReport,
    Journey,
    Requirement,
    ConfigItem
);

/// Decode a stored item into its list.
fn take<T: DeserializeOwned + Numbered>(item: &StoredItem, list: &mut Vec<T>) -> Result<()> {
    let mut x: T = decode(item)?;
    x.numbered(item.number, item.version);
    list.push(x);
    Ok(())
}

fn plan_error(e: &PlanError) -> Error {
    match e {
        PlanError::UnknownTask(n) => Error::field("dependency", format!("there is no task {n}")),
        PlanError::Cycle(_) => Error::field("dependency", e.to_string()),
    }
}

pub(super) fn parse<T: DeserializeOwned>(body: Json) -> Result<T> {
    crate::service::from_body(body)
}

pub(super) fn decode<T: DeserializeOwned>(item: &StoredItem) -> Result<T> {
    serde_json::from_str(&item.body)
        .map_err(|e| Error::internal(format!("stored {} {} is not readable: {e}", item.kind, item.number)))
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

fn share(field: &str, v: f64) -> Result<f64> {
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
fn validate_settings(mut s: Settings) -> Result<Settings> {
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

fn parse_project_id(id: &str) -> Result<ProjectId> {
    ProjectId::parse(id).ok_or_else(|| Error::not_found(format!("no project with id {id:?}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    name: String,
    start: NaiveDate,
    target: NaiveDate,
    #[serde(default)]
    goals: Vec<Goal>,
    #[serde(default)]
    phases: Vec<Phase>,
    mandate: Option<Mandate>,
    budget: Option<super::model::Budget>,
    cadence: Option<super::model::Cadence>,
    #[serde(default)]
    departments: Vec<String>,
    #[serde(default)]
    user_groups: Vec<String>,
    thresholds: Option<Thresholds>,
    max_system_share: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberInput {
    user: Option<UserId>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    roles: Vec<Assignment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskInput {
    name: String,
    owner: Option<u32>,
    #[serde(default)]
    phase: String,
    start: NaiveDate,
    finish: Option<NaiveDate>,
    #[serde(default)]
    milestone: bool,
    area: Area,
    status: Option<TaskStatus>,
    #[serde(default)]
    percent_done: f64,
    #[serde(default)]
    planned_hours: f64,
    #[serde(default)]
    actual_hours: f64,
    #[serde(default)]
    planned_cost: i64,
    #[serde(default)]
    actual_cost: i64,
    #[serde(default)]
    external: Vec<ExternalDependency>,
}

/// What a task's owner may change without editing rights: how far they got.
const PROGRESS_FIELDS: [&str; 4] = ["status", "percent_done", "actual_hours", "actual_cost"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageInput {
    title: String,
    #[serde(default)]
    description: String,
    vendor: Option<u32>,
    due: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewInput {
    rating: u8,
    #[serde(default)]
    text: String,
}

impl Crm {
    pub async fn projects(&self, who: &Principal) -> Result<Vec<Project>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let mut projects = self.store.projects().await?;
        projects.sort_by(|a, b| {
            b.settings
                .start
                .cmp(&a.settings.start)
                .then(a.settings.name.cmp(&b.settings.name))
        });
        Ok(projects)
    }

    /// The standard roles and those administrators added.
    pub async fn project_catalogue(&self) -> Result<Vec<RoleDef>> {
        let mut catalogue = roles::standard_catalogue();
        catalogue.extend(self.store.project_roles().await?);
        Ok(catalogue)
    }

    pub async fn add_project_role(&self, who: &Principal, body: Json) -> Result<RoleDef> {
        self.authorize(who, Permission::ManageProjects).await?;
        let mut role: RoleDef = parse(body)?;
        role.key = role.key.trim().to_string();
        role.label = text("label", &role.label, 80, true)?;
        let valid = (2..=40).contains(&role.key.len())
            && role.key.starts_with(|c: char| c.is_ascii_lowercase())
            && role
                .key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::field(
                "key",
                "2–40 characters: lower-case letters, digits and _, starting with a letter",
            ));
        }
        if self.project_catalogue().await?.iter().any(|r| r.key == role.key) {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("the catalogue has a role {:?}", role.key),
            ));
        }
        self.store.add_project_role(&role).await?;
        Ok(role)
    }

    pub async fn create_project(&self, who: &Principal, body: Json) -> Result<Project> {
        self.authorize(who, Permission::ManageProjects).await?;
        let input: NewProject = parse(body)?;
        let mut settings = Settings::new(&input.name, input.start, input.target);
        settings.goals = input.goals;
        settings.phases = input.phases;
        settings.mandate = input.mandate;
        if let Some(b) = input.budget {
            settings.budget = b;
        }
        if let Some(c) = input.cadence {
            settings.cadence = c;
        }
        settings.departments = input.departments;
        settings.user_groups = input.user_groups;
        if let Some(t) = input.thresholds {
            settings.thresholds = t;
        }
        if let Some(m) = input.max_system_share {
            settings.max_system_share = m;
        }
        let now = self.clock.now();
        let project = Project {
            id: ProjectId::new_at(now),
            version: 1,
            plan_version: 1,
            created_at: now,
            updated_at: now,
            settings: validate_settings(settings)?,
        };
        self.store.create_project(&project).await?;
        Ok(project)
    }

    /// A project whole, and what the reader may do with it.
    pub async fn project_state(&self, who: &Principal, id: &str) -> Result<(ProjectState, ProjectRights)> {
        self.authorize(who, Permission::ReadRecords).await?;
        let id = parse_project_id(id)?;
        let state = self.load_project(id).await?;
        let rights = rights(who, &state);
        Ok((state, rights))
    }

    pub(super) async fn load_project(&self, id: ProjectId) -> Result<ProjectState> {
        let project = self
            .store
            .project(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no project with id {id}")))?;
        let (items, dependencies, catalogue) = tokio::try_join!(
            self.store.project_items(id),
            self.store.project_dependencies(id),
            self.project_catalogue()
        )?;
        let mut state = ProjectState {
            project,
            members: Vec::new(),
            tasks: Vec::new(),
            dependencies,
            packages: Vec::new(),
            catalogue,
            changes: Vec::new(),
            meetings: Vec::new(),
            actions: Vec::new(),
            escalations: Vec::new(),
            communications: Vec::new(),
            reports: Vec::new(),
            journeys: Vec::new(),
            requirements: Vec::new(),
            configuration: Vec::new(),
        };
        for item in &items {
            match item.kind.as_str() {
                MEMBER => take(item, &mut state.members)?,
                TASK => take(item, &mut state.tasks)?,
                WORK_PACKAGE => take(item, &mut state.packages)?,
                CHANGE_REQUEST => take(item, &mut state.changes)?,
                MEETING => take(item, &mut state.meetings)?,
                ACTION => take(item, &mut state.actions)?,
                ESCALATION => take(item, &mut state.escalations)?,
                COMMUNICATION => take(item, &mut state.communications)?,
                STATUS_REPORT => take(item, &mut state.reports)?,
                JOURNEY => take(item, &mut state.journeys)?,
                REQUIREMENT => take(item, &mut state.requirements)?,
                CONFIGURATION => take(item, &mut state.configuration)?,
                _ => {}
            }
        }
        state.reports.sort_by_key(|r| (r.sent_at, r.number));
        Ok(state)
    }

    /// Load, check the caller may edit, and hand back the state.
    pub(super) async fn editable(&self, who: &Principal, id: &str) -> Result<ProjectState> {
        let (state, rights) = self.project_state(who, id).await?;
        if !rights.edit {
            return Err(not_editor(who));
        }
        Ok(state)
    }

    pub(super) async fn write(&self, id: ProjectId, batch: ProjectBatch) -> Result<Vec<u32>> {
        match self.store.write_project(id, &batch, self.clock.now()).await? {
            BatchOutcome::Written(numbers) => Ok(numbers),
            BatchOutcome::NotFound => Err(Error::not_found(format!("no project with id {id}"))),
            BatchOutcome::Stale(what) => Err(Error {
                detail: format!("{what} was changed by someone else first; reload and try again"),
                ..Error::conflict(Json::String(what))
            }),
        }
    }

    pub async fn update_project(&self, who: &Principal, id: &str, body: Json) -> Result<Project> {
        let state = self.editable(who, id).await?;
        let (version, patch) = take_version(body)?;
        let settings = validate_settings(patched(&state.project.settings, patch)?)?;
        let project = state.project;
        if version != project.version {
            return Err(stale_project(&project));
        }
        let batch = ProjectBatch {
            settings: Some((encode(&settings)?, version)),
            ..ProjectBatch::default()
        };
        self.write(project.id, batch).await?;
        Ok(Project {
            version: version + 1,
            settings,
            updated_at: self.clock.now(),
            ..project
        })
    }

    // ---- The project group ----

    pub async fn add_member(&self, who: &Principal, id: &str, body: Json) -> Result<Member> {
        let state = self.editable(who, id).await?;
        let input: MemberInput = parse(body)?;
        let mut member = Member {
            number: 0,
            version: 1,
            user: input.user,
            name: input.name,
            email: input.email,
            organisation: input.organisation,
            roles: input.roles,
            kickoff: None,
            review: None,
        };
        if let Some(user) = member.user {
            let u = self
                .store
                .user(user)
                .await?
                .ok_or_else(|| Error::field("user", "there is no such user"))?;
            if state.members.iter().any(|m| m.user == Some(user)) {
                return Err(Error::field("user", "is already in the project group"));
            }
            if member.name.trim().is_empty() {
                member.name = u.name;
            }
            if member.email.trim().is_empty() {
                member.email = u.email.unwrap_or_default();
            }
        }
        let member = validate_member(&state, member)?;
        let number = self.insert(&state, MEMBER, &member).await?;
        Ok(Member { number, ..member })
    }

    pub async fn update_member(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Member> {
        let state = self.editable(who, id).await?;
        let current = state.member(number).ok_or_else(|| no_item("member", number))?.clone();
        let (version, mut patch) = take_version(body)?;
        for key in ["kickoff", "review", "number", "user"] {
            if patch.remove(key).is_some() {
                return Err(Error::field(key, "cannot be changed here"));
            }
        }
        let mut member = validate_member(&state, patched(&current, patch)?)?;
        // New roles need a new confirmation.
        if member.roles != current.roles {
            member.kickoff = None;
        }
        self.save(&state, MEMBER, number, version, member).await
    }

    pub async fn remove_member(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<()> {
        let state = self.editable(who, id).await?;
        state.member(number).ok_or_else(|| no_item("member", number))?;
        let mut items = vec![ItemWrite::Delete {
            kind: MEMBER,
            number,
            expected_version: version,
        }];
        // Their tasks and packages lose their owner in the same write.
        for t in state.tasks.iter().filter(|t| t.owner == Some(number)) {
            let t2 = Task {
                owner: None,
                ..t.clone()
            };
            items.push(ItemWrite::Update {
                kind: TASK,
                number: t.number,
                expected_version: t.version,
                body: encode(&t2)?,
            });
        }
        for a in state.actions.iter().filter(|a| a.owner == Some(number)) {
            let a2 = Action {
                owner: None,
                ..a.clone()
            };
            items.push(ItemWrite::Update {
                kind: ACTION,
                number: a.number,
                expected_version: a.version,
                body: encode(&a2)?,
            });
        }
        // Change requests stop waiting for them; one approved thereby takes effect now.
        let (settings, changes) = super::change_service::approver_left(&state, number, who.user_id, self.clock.now())?;
        items.extend(changes);
        for p in state.packages.iter().filter(|p| p.vendor == Some(number)) {
            let p2 = WorkPackage {
                vendor: None,
                ..p.clone()
            };
            items.push(ItemWrite::Update {
                kind: WORK_PACKAGE,
                number: p.number,
                expected_version: p.version,
                body: encode(&p2)?,
            });
        }
        let settings = match settings {
            Some(s) => Some((encode(&s)?, state.project.version)),
            None => None,
        };
        self.write(
            state.project.id,
            ProjectBatch {
                settings,
                items,
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// The member confirms the roles they hold (the kick-off). External members' confirmations
    /// are recorded by a project leader.
    pub async fn confirm_roles(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<Member> {
        let (state, rights) = self.project_state(who, id).await?;
        let member = self.acting_for(who, &state, rights, number)?;
        // Confirm the roles as they were shown, not as a leader changed them since.
        if member.version != version {
            return Err(Error {
                detail: "the roles changed since you looked; reload and confirm again".into(),
                ..Error::conflict(serde_json::to_value(member).unwrap_or(Json::Null))
            });
        }
        let confirmed = Member {
            kickoff: Some(Confirmation {
                at: self.clock.now(),
                by: who.user_id,
                roles: member.roles.iter().map(|a| a.role.clone()).collect(),
            }),
            ..member.clone()
        };
        self.save(&state, MEMBER, number, member.version, confirmed).await
    }

    /// The member's feedback on their role (the project review).
    pub async fn review_role(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Member> {
        let (state, rights) = self.project_state(who, id).await?;
        let member = self.acting_for(who, &state, rights, number)?;
        let input: ReviewInput = parse(body)?;
        if !(1..=5).contains(&input.rating) {
            return Err(Error::field("rating", "must be between 1 and 5"));
        }
        let reviewed = Member {
            review: Some(Review {
                at: self.clock.now(),
                by: who.user_id,
                rating: input.rating,
                text: text("text", &input.text, MAX_TEXT, false)?,
            }),
            ..member.clone()
        };
        self.save(&state, MEMBER, number, member.version, reviewed).await
    }

    /// The member themselves, or a leader for an external member.
    fn acting_for<'s>(
        &self,
        who: &Principal,
        state: &'s ProjectState,
        rights: ProjectRights,
        number: u32,
    ) -> Result<&'s Member> {
        let member = state.member(number).ok_or_else(|| no_item("member", number))?;
        require_writer(who)?;
        let own = member.user == Some(who.user_id);
        if own || (rights.edit && member.external()) {
            Ok(member)
        } else {
            Err(Error::new(
                ErrorCode::Forbidden,
                "only the member themselves can confirm their roles or review them",
            ))
        }
    }

    /// Add one item; the store gives it the project's next number.
    pub(super) async fn insert<T: serde::Serialize>(
        &self,
        state: &ProjectState,
        kind: &'static str,
        value: &T,
    ) -> Result<u32> {
        let batch = ProjectBatch {
            items: vec![ItemWrite::Insert {
                kind,
                body: encode(value)?,
            }],
            ..ProjectBatch::default()
        };
        let numbers = self.write(state.project.id, batch).await?;
        numbers
            .first()
            .copied()
            .ok_or_else(|| Error::internal("the store numbered nothing"))
    }

    pub(super) async fn put<T: serde::Serialize>(
        &self,
        state: &ProjectState,
        kind: &'static str,
        number: u32,
        version: i64,
        value: &T,
    ) -> Result<()> {
        self.write(
            state.project.id,
            ProjectBatch {
                items: vec![ItemWrite::Update {
                    kind,
                    number,
                    expected_version: version,
                    body: encode(value)?,
                }],
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// Replace one item and hand it back at the version it now has.
    pub(super) async fn save<T: serde::Serialize + Numbered>(
        &self,
        state: &ProjectState,
        kind: &'static str,
        number: u32,
        version: i64,
        mut value: T,
    ) -> Result<T> {
        self.put(state, kind, number, version, &value).await?;
        value.numbered(number, version + 1);
        Ok(value)
    }

    // ---- The plan ----

    pub async fn add_task(&self, who: &Principal, id: &str, body: Json) -> Result<Task> {
        let state = self.editable(who, id).await?;
        if state.tasks.len() >= MAX_TASKS {
            return Err(Error::field("tasks", format!("a plan holds at most {MAX_TASKS} tasks")));
        }
        let input: TaskInput = parse(body)?;
        let task = Task {
            number: 0,
            version: 1,
            name: input.name,
            owner: input.owner,
            phase: input.phase,
            start: input.start,
            finish: input.finish.unwrap_or(input.start),
            milestone: input.milestone,
            area: input.area,
            status: input.status.unwrap_or(TaskStatus::NotStarted),
            percent_done: input.percent_done,
            planned_hours: input.planned_hours,
            actual_hours: input.actual_hours,
            planned_cost: input.planned_cost,
            actual_cost: input.actual_cost,
            external: input.external,
        };
        let task = validate_task(&state, task, None)?;
        let number = self.insert(&state, TASK, &task).await?;
        Ok(Task { number, ..task })
    }

    /// Change a task: anything, for editors; its progress, for its owner.
    pub async fn update_task(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Task> {
        let (state, rights) = self.project_state(who, id).await?;
        let current = state.task(number).ok_or_else(|| no_item("task", number))?.clone();
        let (version, mut patch) = take_version(body)?;
        patch.remove("number");
        let owner = rights.member.is_some() && current.owner == rights.member;
        let progress_only = patch.keys().all(|k| PROGRESS_FIELDS.contains(&k.as_str()));
        if !(rights.edit || owner && progress_only) {
            return Err(not_editor(who));
        }
        require_writer(who)?;
        let task = validate_task(&state, patched(&current, patch)?, Some(&current))?;
        self.save(&state, TASK, number, version, task).await
    }

    pub async fn delete_task(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<()> {
        let state = self.editable(who, id).await?;
        state.task(number).ok_or_else(|| no_item("task", number))?;
        // Its dependencies go with it: a change to the plan's graph, like adding one.
        self.write(
            state.project.id,
            ProjectBatch {
                items: vec![ItemWrite::Delete {
                    kind: TASK,
                    number,
                    expected_version: version,
                }],
                expect_plan_version: Some(state.project.plan_version),
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// `before` must finish before `after` starts. A dependency that would close a cycle is
    /// refused, naming the cycle.
    pub async fn add_dependency(&self, who: &Principal, id: &str, before: u32, after: u32) -> Result<Dependency> {
        let dep = Dependency { before, after };
        // Someone else changing the plan at the same moment: check again on their result.
        for _ in 0..3 {
            let state = self.editable(who, id).await?;
            if state.task(before).is_none() {
                return Err(Error::field("before", format!("there is no task {before}")));
            }
            if state.task(after).is_none() {
                return Err(Error::field("after", format!("there is no task {after}")));
            }
            if state.dependencies.contains(&dep) {
                return Ok(dep);
            }
            let mut deps = state.dependencies.clone();
            deps.push(dep);
            plan::topological_order(&state.plan_tasks(), &deps).map_err(|e| plan_error(&e))?;
            let batch = ProjectBatch {
                expect_plan_version: Some(state.project.plan_version),
                add_dependencies: vec![dep],
                ..ProjectBatch::default()
            };
            match self
                .store
                .write_project(state.project.id, &batch, self.clock.now())
                .await?
            {
                BatchOutcome::Written(_) => return Ok(dep),
                BatchOutcome::Stale(_) => continue,
                BatchOutcome::NotFound => return Err(Error::not_found(format!("no project with id {id}"))),
            }
        }
        Err(Error::new(
            ErrorCode::VersionConflict,
            "the plan kept changing while the dependency was checked; try again",
        ))
    }

    pub async fn remove_dependency(&self, who: &Principal, id: &str, before: u32, after: u32) -> Result<()> {
        let state = self.editable(who, id).await?;
        let dep = Dependency { before, after };
        if !state.dependencies.contains(&dep) {
            return Err(Error::not_found(format!(
                "task {after} does not depend on task {before}"
            )));
        }
        self.write(
            state.project.id,
            ProjectBatch {
                expect_plan_version: Some(state.project.plan_version),
                remove_dependencies: vec![dep],
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    // ---- Work packages ----

    pub async fn add_work_package(&self, who: &Principal, id: &str, body: Json) -> Result<WorkPackage> {
        let state = self.editable(who, id).await?;
        let input: PackageInput = parse(body)?;
        let package = WorkPackage {
            number: 0,
            version: 1,
            title: text("title", &input.title, MAX_NAME, true)?,
            description: text("description", &input.description, MAX_TEXT, false)?,
            vendor: check_member(&state, "vendor", input.vendor)?,
            due: input.due.map(|d| date("due", d)).transpose()?,
            state: PackageState::Draft,
            events: Vec::new(),
        };
        let number = self.insert(&state, WORK_PACKAGE, &package).await?;
        Ok(WorkPackage { number, ..package })
    }

    /// Move a work package on: leaders hand over, accept and send back (with a reason); the
    /// vendor's member named on it (or a leader) delivers.
    pub async fn move_work_package(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        next: PackageState,
        comment: &str,
        version: i64,
    ) -> Result<WorkPackage> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        let package = state.package(number).ok_or_else(|| no_item("work package", number))?;
        let vendor_self = package.vendor.is_some() && package.vendor == rights.member;
        let allowed = rights.edit || (next == PackageState::Delivered && vendor_self);
        if !allowed {
            return Err(not_editor(who));
        }
        if !package.state.may_become(next) {
            return Err(Error::field(
                "state",
                format!(
                    "a work package that is {} cannot become {}",
                    package.state.as_str(),
                    next.as_str()
                ),
            ));
        }
        let comment = text("comment", comment, MAX_TEXT, false)?;
        if next == PackageState::SentBack && comment.is_empty() {
            return Err(Error::field(
                "comment",
                "say what is missing when sending a package back",
            ));
        }
        let mut moved = package.clone();
        moved.state = next;
        moved.events.push(PackageEvent {
            at: self.clock.now(),
            by: who.user_id,
            state: next,
            comment,
        });
        self.save(&state, WORK_PACKAGE, number, version, moved).await
    }
}

pub(super) fn rights(who: &Principal, state: &ProjectState) -> ProjectRights {
    let member = state.members.iter().find(|m| m.user == Some(who.user_id));
    let leader = member.is_some_and(|m| m.holds(PROJECT_LEADER));
    ProjectRights {
        edit: may_write(who) && (who.role == Role::Admin || leader),
        member: member.map(|m| m.number),
    }
}

/// Changing anything in a project needs a role and a credential that may write at all (a
/// permission no access policy changes).
pub(super) fn may_write(who: &Principal) -> bool {
    who.may(Permission::WriteRecords, &crate::auth::AccessPolicy::default())
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

fn stale_project(p: &Project) -> Error {
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

fn validate_member(state: &ProjectState, mut m: Member) -> Result<Member> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::model::{Budget, Cadence};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn settings() -> Settings {
        Settings::new("Rollout", d("2027-01-04"), d("2027-06-30"))
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        assert!(validate_settings(settings()).is_ok());
        let mut s = settings();
        s.target = d("2026-12-01");
        assert_eq!(validate_settings(s).unwrap_err().errors[0].field, "target");
        let mut s = settings();
        s.budget = Budget {
            currency: "kronor".into(),
            ..Budget::default()
        };
        assert_eq!(validate_settings(s).unwrap_err().errors[0].field, "budget.currency");
        let mut s = settings();
        s.budget.buffer_percent = 150.0;
        assert_eq!(
            validate_settings(s).unwrap_err().errors[0].field,
            "budget.buffer_percent"
        );
        let mut s = settings();
        s.departments = vec!["Sales".into(), "sales".into()];
        assert_eq!(validate_settings(s).unwrap_err().errors[0].field, "departments");
        let mut s = settings();
        s.max_system_share = 0.0;
        assert_eq!(validate_settings(s).unwrap_err().errors[0].field, "max_system_share");
        let mut s = settings();
        s.name = "x".repeat(121);
        assert_eq!(validate_settings(s).unwrap_err().errors[0].field, "name");
    }

    #[test]
    fn patches_replace_top_level_keys_and_refuse_unknown_ones() {
        let base = settings();
        let mut patch = serde_json::Map::new();
        patch.insert("cadence".into(), serde_json::json!("weekly"));
        let s: Settings = patched(&base, patch).unwrap();
        assert_eq!(s.cadence, Cadence::Weekly);
        let mut patch = serde_json::Map::new();
        patch.insert("owner_password".into(), serde_json::json!("x"));
        assert_eq!(
            patched::<Settings>(&base, patch).unwrap_err().code,
            ErrorCode::ValidationFailed
        );
        let mut patch = serde_json::Map::new();
        patch.insert("start".into(), serde_json::json!(17));
        assert_eq!(patched::<Settings>(&base, patch).unwrap_err().errors[0].field, "start");
        assert_eq!(
            take_version(serde_json::json!({"name": "x"})).unwrap_err().code,
            ErrorCode::PreconditionRequired
        );
        assert_eq!(
            take_version(serde_json::json!({"version": "3"})).unwrap_err().errors[0].field,
            "version"
        );
    }
}
