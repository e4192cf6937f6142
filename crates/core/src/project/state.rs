//! A project as one reader sees it at one moment: everything in it, loaded from its stored
//! items, with what the reader may do.

use super::change::ChangeRequest;
use super::escalation::Escalation;
use super::health::{self, Check};
use super::journeys::{ConfigItem, Journey, Requirement};
use super::matrix::Communication;
use super::meetings::{Action, Meeting};
use super::model::{BudgetStatus, Member, Project, Task, TaskStatus, WorkPackage};
use super::plan::{self, Dependency, Forecast, PlanError, Schedule};
use super::roles::{self, PROJECT_LEADER, RoleDef};
use super::sent::StatusReport;
use super::thirds::{self, Effort, Split, Thirds};
use crate::auth::{Permission, Principal, Role};
use crate::error::{Error, Result};
use crate::store::StoredItem;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

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
    /// What the rule "trained before go-live" reads.
    pub training: TrainingFacts,
}

/// Who must be trained before go-live (the group's members who are users, and the workspace's
/// key users), the courses, and who attended which.
#[derive(Debug, Clone, Default)]
pub struct TrainingFacts {
    pub people: Vec<health::Trainee>,
    pub courses: Vec<crate::training::Course>,
    pub attended: Vec<crate::training::Attended>,
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
        let mut checks = health::assess(&self.catalogue, &group, &s.departments, &s.user_groups, s.thresholds);
        let t = &self.training;
        checks.push(health::trained_before_go_live(
            &t.people,
            &t.courses,
            &t.attended,
            s.target,
        ));
        checks
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
pub(super) fn take<T: DeserializeOwned + Numbered>(item: &StoredItem, list: &mut Vec<T>) -> Result<()> {
    let mut x: T = decode(item)?;
    x.numbered(item.number, item.version);
    list.push(x);
    Ok(())
}

pub(super) fn decode<T: DeserializeOwned>(item: &StoredItem) -> Result<T> {
    serde_json::from_str(&item.body)
        .map_err(|e| Error::internal(format!("stored {} {} is not readable: {e}", item.kind, item.number)))
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

pub(super) fn plan_error(e: &PlanError) -> Error {
    match e {
        PlanError::UnknownTask(n) => Error::field("dependency", format!("there is no task {n}")),
        PlanError::Cycle(_) => Error::field("dependency", e.to_string()),
    }
}
