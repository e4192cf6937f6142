//! The onboarding use cases: templates per role (administrators), a checklist started with
//! every new user, steps that tick themselves, manual steps ticked by the user or the people
//! who help them, and who sees what: the user, the key users of their team, their team's lead
//! and administrators. To anyone else a checklist does not exist.
//!
//! Steps tick themselves when a checklist is read, not by a job: reading looks only at what
//! happened since the checklist was last looked at (its `checked_at`, a few minutes of
//! overlap), through the audit log's and change log's indexes on time, so it is cheap however
//! old the checklist is, and what a reader sees is always current. Attendance recorded ticks
//! training steps at once.

use super::{Checklist, Condition, Done, FirstEvent, Step, Template, TemplateStep, Ticks, check_steps};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::User;
use crate::ids::{TeamId, UserId};
use crate::service::Crm;
use crate::training::Attended;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

/// How far back of its `checked_at` a checklist is looked at again (writes that were under way
/// while it was last looked at).
const OVERLAP_MINUTES: i64 = 5;
/// A checklist looked at with nothing to tick notes it only when it was last noted this long ago.
const NOTE_CHECK_MINUTES: i64 = 60;
/// How many of their people's checklists My work lists.
const FOLLOW_UP_PEOPLE: usize = 10;

/// One step as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub number: u32,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    /// What ticks it; `None`: ticked by hand.
    pub condition: Option<Condition>,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    /// Who ticked it by hand.
    pub done_by: Option<UserId>,
    pub done_by_name: Option<String>,
    /// Ticked by the system, having seen it happen.
    pub done_automatically: bool,
    pub overdue: bool,
}

/// A user's checklist as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistView {
    pub user: UserId,
    pub name: String,
    pub team: Option<TeamId>,
    pub team_name: Option<String>,
    /// The role whose template it was copied from.
    pub role: Role,
    pub started_at: DateTime<Utc>,
    pub today: NaiveDate,
    pub steps: Vec<StepView>,
    pub done: usize,
    pub total: usize,
    pub overdue: usize,
    pub complete: bool,
    /// Whether the reader may tick its manual steps.
    pub may_tick: bool,
}

/// One person's progress, for lists.
#[derive(Debug, Clone, Serialize)]
pub struct PersonProgress {
    pub user: UserId,
    pub name: String,
    pub team_name: Option<String>,
    pub role: Role,
    pub started_at: DateTime<Utc>,
    pub done: usize,
    pub total: usize,
    pub overdue: usize,
    pub complete: bool,
    /// The first open step, if any.
    pub next: Option<String>,
}

/// The onboarding page: the reader's own checklist and those of the people they help.
#[derive(Debug, Clone, Serialize)]
pub struct OnboardingBoard {
    pub today: NaiveDate,
    pub mine: Option<PersonProgress>,
    /// Everyone else whose checklist the reader sees: open ones first (most overdue first),
    /// then the complete, newest first.
    pub people: Vec<PersonProgress>,
    /// For administrators: the active users with no checklist (made before onboarding
    /// existed, or of a role whose template had no steps), by name.
    pub without: Vec<PersonRef>,
}

/// A user, for lists.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub user: UserId,
    pub name: String,
    pub team_name: Option<String>,
    pub role: Role,
}

/// What My work shows of onboarding.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OnboardingFollowUp {
    /// The reader's own open checklist.
    pub mine: Option<PersonProgress>,
    /// Its steps past their due day.
    pub overdue: Vec<StepView>,
    /// The open checklists of the people they help, most overdue first (at most ten).
    pub people: Vec<PersonProgress>,
    /// How many open checklists of their people there are in all.
    pub people_total: usize,
}

/// Who is who, read once per use case.
struct People {
    users: HashMap<UserId, User>,
    teams: HashMap<TeamId, String>,
    leads: HashMap<TeamId, UserId>,
}

impl People {
    /// Whether `who` sees `target`'s checklist: the user, a key user of their team, their
    /// team's lead, an administrator.
    fn sees(&self, who: &Principal, target: &User) -> bool {
        who.user_id == target.id
            || who.role == Role::Admin
            || target.team.is_some_and(|t| {
                self.leads.get(&t) == Some(&who.user_id) || (who.role == Role::KeyUser && who.team == Some(t))
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateBody {
    steps: Vec<TemplateStep>,
    #[serde(default)]
    version: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TickBody {
    done: bool,
}

fn no_checklist() -> Error {
    Error::not_found("no such checklist")
}

impl Crm {
    async fn onboarding_people(&self) -> Result<People> {
        Ok(People {
            users: self.store.users().await?.into_iter().map(|u| (u.id, u)).collect(),
            teams: self.store.teams().await?.into_iter().map(|t| (t.id, t.name)).collect(),
            leads: self.store.team_leads().await?.into_iter().collect(),
        })
    }

    /// A user the caller may see the onboarding and training of (else: no such user).
    pub(crate) async fn person_in_sight(&self, who: &Principal, user: &str) -> Result<User> {
        let people = self.onboarding_people().await?;
        UserId::parse(user)
            .and_then(|id| people.users.get(&id))
            .filter(|u| people.sees(who, u))
            .cloned()
            .ok_or_else(|| Error::not_found("no such user"))
    }

    async fn onboarding_today(&self) -> Result<NaiveDate> {
        let zone = self.time_zone().await?;
        Ok(self.clock.now().with_timezone(&zone).date_naive())
    }

    /// Each role's template: the one administrators saved, else the standard one (in the
    /// caller's language).
    pub async fn onboarding_templates(&self, who: &Principal) -> Result<Vec<Template>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let locale = self.store.user(who.user_id).await?.map(|u| u.locale);
        self.templates_now(locale.as_deref().unwrap_or("en")).await
    }

    /// Each role's template as it stands: saved, else the standard one in `locale`.
    async fn templates_now(&self, locale: &str) -> Result<Vec<Template>> {
        let saved = self.store.onboarding_templates().await?;
        Ok(Role::ALL
            .into_iter()
            .map(|role| {
                saved
                    .iter()
                    .find(|t| t.role == role)
                    .cloned()
                    .unwrap_or_else(|| Template::standard_in(role, locale))
            })
            .collect())
    }

    /// Replace a role's template (administrators). Checklists already started keep their steps.
    /// With `version`, a template saved by someone else since is refused (412).
    pub async fn set_onboarding_template(&self, who: &Principal, role: &str, body: Json) -> Result<Template> {
        let schema = self.authorize(who, Permission::ManageUsers).await?;
        let role = Role::parse(role).ok_or_else(|| Error::not_found(format!("no role {role:?}")))?;
        let body: TemplateBody = crate::service::from_body(body)?;
        let objects: Vec<&str> = schema
            .objects
            .values()
            .filter(|o| !o.archived)
            .map(|o| o.name.as_str())
            .collect();
        let courses: Vec<_> = self.store.courses().await?.into_iter().map(|c| c.id).collect();
        let steps = check_steps(&body.steps, &objects, &courses)?;
        let current = self
            .templates_now("en")
            .await?
            .into_iter()
            .find(|t| t.role == role)
            .unwrap_or_else(|| Template::standard(role));
        let stale = |current: &Template| Error {
            detail: "this template was saved by someone else meanwhile; its current steps are attached".into(),
            ..Error::conflict(serde_json::to_value(current).unwrap_or(Json::Null))
        };
        if body.version.is_some_and(|v| v != current.version) {
            return Err(stale(&current));
        }
        let next = Template {
            role,
            steps,
            version: current.version + 1,
            updated_at: Some(self.clock.now()),
            updated_by: Some(who.user_id),
        };
        if self.store.put_onboarding_template(&next, current.version).await? {
            Ok(next)
        } else {
            let now = self.templates_now("en").await?.into_iter().find(|t| t.role == role);
            Err(stale(&now.unwrap_or(current)))
        }
    }

    /// Start a new user's checklist from their role's template (no checklist for a role whose
    /// template has no steps, nor for a token's service account).
    pub(crate) async fn begin_onboarding(&self, user: &User) -> Result<Option<Checklist>> {
        if user.email.is_none() {
            return Ok(None);
        }
        // A new user reads the standard steps in their own language.
        let template = self
            .templates_now(&user.locale)
            .await?
            .into_iter()
            .find(|t| t.role == user.role)
            .unwrap_or_else(|| Template::standard_in(user.role, &user.locale));
        if template.steps.is_empty() {
            return Ok(None);
        }
        let zone = self.time_zone().await?;
        let start_day = user.created_at.with_timezone(&zone).date_naive();
        let checklist = Checklist::start(user.id, &template, user.created_at, start_day);
        Ok(self.store.start_checklist(&checklist).await?.then_some(checklist))
    }

    /// Start a checklist for a user who has none (administrators): one who came before
    /// onboarding did, say. Due days count from today.
    pub async fn start_checklist(&self, who: &Principal, user: &str) -> Result<ChecklistView> {
        self.authorize(who, Permission::ManageUsers).await?;
        let id = UserId::parse(user).ok_or_else(|| Error::not_found("no such user"))?;
        let mut target = self
            .store
            .user(id)
            .await?
            .filter(|u| u.email.is_some())
            .ok_or_else(|| Error::not_found("no such user"))?;
        if self.store.checklist(id).await?.is_some() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                "this user has a checklist already",
            ));
        }
        target.created_at = self.clock.now();
        if self.begin_onboarding(&target).await?.is_none() {
            return Err(Error::field(
                "role",
                "the template of this user's role has no steps; add some first",
            ));
        }
        self.checklist(who, user).await
    }

    /// One user's checklist, its steps ticked as far as the system can see.
    pub async fn checklist(&self, who: &Principal, user: &str) -> Result<ChecklistView> {
        self.authorize(who, Permission::ReadRecords).await?;
        let people = self.onboarding_people().await?;
        let (target, checklist) = self.visible_checklist(who, &people, user).await?;
        let mut lists = vec![checklist];
        self.refresh_checklists(&mut lists).await?;
        let checklist = lists.pop().ok_or_else(no_checklist)?;
        Ok(checklist_view(
            who,
            &people,
            &target,
            &checklist,
            self.onboarding_today().await?,
        ))
    }

    async fn visible_checklist(&self, who: &Principal, people: &People, user: &str) -> Result<(User, Checklist)> {
        let target = UserId::parse(user)
            .and_then(|id| people.users.get(&id))
            .filter(|u| people.sees(who, u))
            .cloned()
            .ok_or_else(no_checklist)?;
        let checklist = self.store.checklist(target.id).await?.ok_or_else(no_checklist)?;
        Ok((target, checklist))
    }

    /// Tick a step by hand, or take a tick back (the user, a key user of their team, their
    /// team's lead, an administrator). A step the system ticks cannot be ticked by hand.
    pub async fn tick_step(&self, who: &Principal, user: &str, number: u32, body: Json) -> Result<ChecklistView> {
        self.authorize(who, Permission::ReadRecords).await?;
        let body: TickBody = crate::service::from_body(body)?;
        let people = self.onboarding_people().await?;
        let (target, checklist) = self.visible_checklist(who, &people, user).await?;
        if who.scope == Scope::Read {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "a read-scoped token cannot change anything",
            ));
        }
        let step = checklist
            .steps
            .iter()
            .find(|s| s.number == number)
            .ok_or_else(|| Error::not_found("no such step"))?;
        if let Some(c) = &step.condition
            && self.can_tick_itself(c, target.role).await?
        {
            return Err(Error::field(
                "done",
                format!("this step ticks itself ({}); it cannot be ticked by hand", c.kind()),
            ));
        }
        let done = body.done.then(|| Done {
            at: self.clock.now(),
            by: Some(who.user_id),
        });
        // Ticking a ticked step again keeps who ticked it first.
        if body.done != step.done.is_some() && !self.store.set_step(target.id, number, done).await? {
            return Err(Error::not_found("no such step"));
        }
        self.checklist(who, user).await
    }

    /// Whether something in the workspace can tick a step: a training step needs a course
    /// (the one named, or one for the role), a first-record step its object. One that nothing
    /// can tick is ticked by hand, or it would stay open for ever.
    async fn can_tick_itself(&self, condition: &Condition, role: Role) -> Result<bool> {
        Ok(match condition {
            Condition::AccountCreated | Condition::FirstSignIn => true,
            Condition::FirstRecord { object } => self.store.schema().await?.object(object).is_ok(),
            Condition::Training { course } => self
                .store
                .courses()
                .await?
                .iter()
                .any(|c| course.map_or_else(|| c.is_for(role), |id| c.id == id)),
        })
    }

    /// The reader's own checklist and those of the people they help.
    pub async fn onboarding_board(&self, who: &Principal) -> Result<OnboardingBoard> {
        self.authorize(who, Permission::ReadRecords).await?;
        let people = self.onboarding_people().await?;
        let today = self.onboarding_today().await?;
        // Only the checklists the reader sees are read (one's own, for most).
        let visible: Vec<UserId> = people
            .users
            .values()
            .filter(|u| u.active && people.sees(who, u))
            .map(|u| u.id)
            .collect();
        let mut lists = self.store.checklists(&visible).await?;
        self.refresh_checklists(&mut lists).await?;
        let mut mine = None;
        let mut others = Vec::new();
        for c in &lists {
            let Some(u) = people.users.get(&c.user) else { continue };
            let p = progress(&people, u, c, today);
            if u.id == who.user_id {
                mine = Some(p);
            } else {
                others.push(p);
            }
        }
        others.sort_by(|a, b| {
            a.complete
                .cmp(&b.complete)
                .then_with(|| b.overdue.cmp(&a.overdue))
                .then_with(|| b.started_at.cmp(&a.started_at))
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut without: Vec<PersonRef> = if who.role == Role::Admin {
            let with: HashSet<UserId> = lists.iter().map(|c| c.user).collect();
            people
                .users
                .values()
                .filter(|u| u.active && u.email.is_some() && !with.contains(&u.id))
                .map(|u| PersonRef {
                    user: u.id,
                    name: u.name.clone(),
                    team_name: u.team.and_then(|t| people.teams.get(&t).cloned()),
                    role: u.role,
                })
                .collect()
        } else {
            Vec::new()
        };
        without.sort_by_cached_key(|p| crate::text::fold_case(&p.name));
        Ok(OnboardingBoard {
            today,
            mine,
            people: others,
            without,
        })
    }

    /// What My work shows: the reader's overdue steps, and the open checklists of the people
    /// they help.
    pub async fn onboarding_follow_up(&self, who: &Principal) -> Result<OnboardingFollowUp> {
        let board = self.onboarding_board(who).await?;
        let mut out = OnboardingFollowUp::default();
        if let Some(mine) = board.mine.filter(|m| !m.complete) {
            let view = self.checklist(who, &who.user_id.to_string()).await?;
            out.overdue = view.steps.into_iter().filter(|s| s.overdue).collect();
            out.mine = Some(mine);
        }
        let open: Vec<PersonProgress> = board.people.into_iter().filter(|p| !p.complete).collect();
        out.people_total = open.len();
        out.people = open.into_iter().take(FOLLOW_UP_PEOPLE).collect();
        Ok(out)
    }

    /// Tick what the system can see on these checklists (those with a step it could tick), and
    /// note how far each was looked at.
    pub(crate) async fn refresh_checklists(&self, lists: &mut [Checklist]) -> Result<()> {
        let now = self.clock.now();
        let waiting: Vec<usize> = (0..lists.len())
            .filter(|i| lists.get(*i).is_some_and(Checklist::waits_for_the_system))
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        let open = |pick: fn(&Condition) -> bool| {
            waiting.iter().filter_map(|i| lists.get(*i)).any(|c| {
                c.steps
                    .iter()
                    .any(|s| s.done.is_none() && s.condition.as_ref().is_some_and(pick))
            })
        };
        let events = if open(|c| matches!(c, Condition::FirstSignIn | Condition::FirstRecord { .. })) {
            let users: Vec<UserId> = waiting.iter().filter_map(|i| lists.get(*i)).map(|c| c.user).collect();
            let since = waiting
                .iter()
                .filter_map(|i| lists.get(*i))
                .map(|c| c.checked_at)
                .min()
                .unwrap_or(now)
                - Duration::minutes(OVERLAP_MINUTES);
            self.store.first_events(&users, since).await?
        } else {
            Vec::new()
        };
        let (courses, attended) = if open(|c| matches!(c, Condition::Training { .. })) {
            (self.store.courses().await?, self.store.attended(None).await?)
        } else {
            (Vec::new(), Vec::new())
        };
        let mut writes = Vec::new();
        for i in waiting {
            let Some(list) = lists.get_mut(i) else { continue };
            // Only what this checklist has not looked at yet: the same answer whichever
            // checklists are read with it.
            let from = list.checked_at - Duration::minutes(OVERLAP_MINUTES);
            let events_here: Vec<FirstEvent> = events
                .iter()
                .filter(|e| match e {
                    FirstEvent::SignIn { at, .. } | FirstEvent::Created { at, .. } => *at >= from,
                })
                .cloned()
                .collect();
            let mut ticked = Vec::new();
            for step in list.steps.iter_mut().filter(|s| s.done.is_none()) {
                let Some(condition) = &step.condition else { continue };
                let at = seen_at(
                    condition,
                    list.user,
                    list.role,
                    &events_here,
                    &courses,
                    &attended,
                    list.started_at,
                );
                if let Some(at) = at {
                    let done = Done::automatically(at.max(list.started_at));
                    step.done = Some(done);
                    ticked.push((step.number, done));
                }
            }
            if !ticked.is_empty() || now - list.checked_at > Duration::minutes(NOTE_CHECK_MINUTES) {
                list.checked_at = now;
                writes.push(Ticks {
                    user: list.user,
                    steps: ticked,
                    checked_at: now,
                });
            }
        }
        if !writes.is_empty() {
            self.store.tick_steps(&writes).await?;
        }
        Ok(())
    }

    /// Tick the training steps of these users now (after attendance was recorded).
    pub(crate) async fn tick_training_steps(&self, users: &[UserId]) -> Result<()> {
        let mut lists = Vec::new();
        for u in users {
            if let Some(c) = self.store.checklist(*u).await? {
                lists.push(c);
            }
        }
        self.refresh_checklists(&mut lists).await
    }

    /// Start the checklists of users made before onboarding existed, as if they were new
    /// today (the demo; administrators use [`Crm::start_checklist`]). Returns how many started.
    pub async fn start_missing_checklists(&self, who: &Principal, users: &[UserId]) -> Result<usize> {
        self.authorize(who, Permission::ManageUsers).await?;
        let mut started = 0;
        for id in users {
            if let Some(user) = self.store.user(*id).await?
                && self.store.checklist(*id).await?.is_none()
                && self.begin_onboarding(&user).await?.is_some()
            {
                started += 1;
            }
        }
        Ok(started)
    }
}

fn checklist_view(who: &Principal, people: &People, target: &User, c: &Checklist, today: NaiveDate) -> ChecklistView {
    let steps: Vec<StepView> = c.steps.iter().map(|s| step_view(people, s, today)).collect();
    ChecklistView {
        user: target.id,
        name: target.name.clone(),
        team: target.team,
        team_name: target.team.and_then(|t| people.teams.get(&t).cloned()),
        role: c.role,
        started_at: c.started_at,
        today,
        done: c.done(),
        total: c.steps.len(),
        overdue: steps.iter().filter(|s| s.overdue).count(),
        complete: c.complete(),
        steps,
        may_tick: who.scope != Scope::Read,
    }
}

/// When the system saw what a condition waits for, if it did.
fn seen_at(
    condition: &Condition,
    user: UserId,
    role: Role,
    events: &[FirstEvent],
    courses: &[crate::training::Course],
    attended: &[Attended],
    started_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match condition {
        Condition::AccountCreated => Some(started_at),
        Condition::FirstSignIn => events
            .iter()
            .filter_map(|e| match e {
                FirstEvent::SignIn { user: u, at } if *u == user => Some(*at),
                _ => None,
            })
            .min(),
        Condition::FirstRecord { object } => events
            .iter()
            .filter_map(|e| match e {
                FirstEvent::Created { user: u, object: o, at } if *u == user && o == object => Some(*at),
                _ => None,
            })
            .min(),
        Condition::Training { course } => {
            let counts: HashSet<_> = courses
                .iter()
                .filter(|c| course.map_or(c.is_for(role), |id| c.id == id))
                .map(|c| c.id)
                .collect();
            attended
                .iter()
                .filter(|a| a.user == user && counts.contains(&a.course))
                .map(|a| a.recorded_at)
                .min()
        }
    }
}

fn step_view(people: &People, s: &Step, today: NaiveDate) -> StepView {
    let by = s.done.and_then(|d| d.by);
    StepView {
        number: s.number,
        title: s.title.clone(),
        due_on: s.due_on,
        condition: s.condition.clone(),
        done: s.done.is_some(),
        done_at: s.done.map(|d| d.at),
        done_by: by,
        done_by_name: by.and_then(|u| people.users.get(&u)).map(|u| u.name.clone()),
        done_automatically: s.done.is_some_and(|d| d.by.is_none()),
        overdue: s.overdue(today),
    }
}

fn progress(people: &People, u: &User, c: &Checklist, today: NaiveDate) -> PersonProgress {
    PersonProgress {
        user: u.id,
        name: u.name.clone(),
        team_name: u.team.and_then(|t| people.teams.get(&t).cloned()),
        role: c.role,
        started_at: c.started_at,
        done: c.done(),
        total: c.steps.len(),
        overdue: c.steps.iter().filter(|s| s.overdue(today)).count(),
        complete: c.complete(),
        next: c.steps.iter().find(|s| s.done.is_none()).map(|s| s.title.clone()),
    }
}
