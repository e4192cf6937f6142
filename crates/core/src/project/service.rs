//! The project's use cases: read a project whole with its verdicts, and change it. Everyone who
//! may read the CRM may read a project (management and stakeholders follow it at any time);
//! administrators and the project's own leaders change it; each member confirms their roles and
//! gives feedback on them, owners report progress on their tasks, and the vendor's members
//! deliver their work packages.

use super::health::Thresholds;
use super::meetings::Action;
use super::model::{
    ACTION, CHANGE_REQUEST, COMMUNICATION, CONFIGURATION, Confirmation, ESCALATION, ExternalDependency, Goal, JOURNEY,
    MEETING, MEMBER, Mandate, Member, PackageEvent, PackageState, Phase, Project, REQUIREMENT, Review, STATUS_REPORT,
    Settings, TASK, Task, TaskStatus, WORK_PACKAGE, WorkPackage,
};
use super::plan::{self, Dependency};
use super::roles::{self, Assignment, RoleDef};
use super::thirds::Area;
use crate::auth::{Permission, Principal};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ProjectId, UserId};
use crate::project::state::{Numbered, plan_error, rights, take};
use crate::project::validate::{
    MAX_NAME, MAX_TASKS, MAX_TEXT, check_member, date, encode, no_item, not_editor, parse, parse_project_id, patched,
    require_writer, stale_project, take_version, text, validate_member, validate_settings, validate_task,
};
use crate::project::{ProjectRights, ProjectState};
use crate::service::Crm;
use crate::store::{BatchOutcome, ItemWrite, ProjectBatch};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value as Json;

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

    pub(crate) async fn load_project(&self, id: ProjectId) -> Result<ProjectState> {
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
            training: Default::default(),
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
        state.training = self.training_facts(&state.members).await?;
        Ok(state)
    }

    /// The members of the group who are users and the workspace's key users, with the courses
    /// and who attended them (C9).
    async fn training_facts(&self, members: &[Member]) -> Result<super::state::TrainingFacts> {
        let users = self.store.users().await?;
        let in_group: Vec<_> = members.iter().filter_map(|m| m.user).collect();
        let mut people: Vec<super::health::Trainee> = users
            .iter()
            .filter(|u| {
                u.active && u.email.is_some() && (in_group.contains(&u.id) || u.role == crate::auth::Role::KeyUser)
            })
            .map(|u| super::health::Trainee {
                name: u.name.clone(),
                role: u.role,
                user: u.id,
            })
            .collect();
        people.sort_by_cached_key(|p| crate::text::fold_case(&p.name));
        Ok(super::state::TrainingFacts {
            people,
            courses: self.store.courses().await?,
            attended: self.store.attended(None).await?,
        })
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
