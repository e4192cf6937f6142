//! Change requests as use cases (B10): any member raises one; a leader or the requester
//! submits it to its approvers; each approver decides for themselves (a leader records the
//! decision of an external approver); the last approval applies the effects to the plan and the
//! budget in the same write as the decision, and records exactly what changed. Rejected or
//! deferred requests can be carried over as requirements for the next phase.

use super::change::{Applied, ChangeRequest, ChangeState, Effect, Outcome, Refusal, Step, Verdict};
use super::journeys::{Priority, Requirement};
use super::model::{CHANGE_REQUEST, REQUIREMENT, Settings, TASK, Task, TaskStatus};
use super::state::{ProjectRights, ProjectState};
use super::validate::{
    check_member, date, encode, hours, no_item, not_editor, parse, patched, require_writer, take_version, text,
    validate_task,
};
use crate::auth::Principal;
use crate::error::{Error, ErrorCode, Result};
use crate::service::Crm;
use crate::store::{ItemWrite, ProjectBatch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::HashSet;

const MAX_EFFECTS: usize = 50;
/// A change moves the budget by at most this many minor units either way.
const MAX_DELTA: i64 = 1_000_000_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeInput {
    title: String,
    #[serde(default)]
    description: String,
    requested_by: Option<u32>,
    #[serde(default)]
    scope_impact: String,
    #[serde(default)]
    requirements_impact: String,
    #[serde(default)]
    effort_hours: f64,
    #[serde(default)]
    effects: Vec<Effect>,
    #[serde(default)]
    affected: Vec<String>,
    #[serde(default)]
    approvers: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionInput {
    /// The approver deciding; the caller's own membership when left out.
    approver: Option<u32>,
    verdict: Verdict,
    #[serde(default)]
    comment: String,
    version: i64,
}

fn refusal(r: &Refusal) -> Error {
    let field = match r {
        Refusal::State(_) | Refusal::AlreadyCarried => "state",
        Refusal::NoApprovers => "approvers",
        Refusal::NotAnApprover(_) | Refusal::AlreadyDecided(_) => "approver",
        Refusal::ReasonRequired => "comment",
    };
    Error::field(field, r.to_string())
}

/// Check what a change would do against the plan as it is.
fn validate_effects(state: &ProjectState, effects: &[Effect]) -> Result<()> {
    if effects.len() > MAX_EFFECTS {
        return Err(Error::field("effects", format!("at most {MAX_EFFECTS} effects")));
    }
    let mut moved = HashSet::new();
    for e in effects {
        match e {
            Effect::MoveTask { task, start, finish } => {
                if state.task(*task).is_none() {
                    return Err(Error::field("effects", format!("there is no task {task}")));
                }
                if !moved.insert(*task) {
                    return Err(Error::field("effects", format!("task {task} is moved twice")));
                }
                date("effects", *start)?;
                date("effects", *finish)?;
                if finish < start {
                    return Err(Error::field(
                        "effects",
                        format!("task {task}: the finish is before the start"),
                    ));
                }
            }
            Effect::AddTask {
                name,
                start,
                finish,
                planned_hours,
                ..
            } => {
                text("effects", name, 200, true)?;
                date("effects", *start)?;
                date("effects", *finish)?;
                hours("effects", *planned_hours)?;
                if finish < start {
                    return Err(Error::field(
                        "effects",
                        format!("{name}: the finish is before the start"),
                    ));
                }
            }
            Effect::Budget { delta } => {
                if delta.unsigned_abs() > MAX_DELTA.unsigned_abs() {
                    return Err(Error::field(
                        "effects",
                        format!("a budget change is at most {MAX_DELTA}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn validate_change(state: &ProjectState, mut c: ChangeRequest) -> Result<ChangeRequest> {
    c.title = text("title", &c.title, 200, true)?;
    c.description = text("description", &c.description, 4000, false)?;
    c.scope_impact = text("scope_impact", &c.scope_impact, 4000, false)?;
    c.requirements_impact = text("requirements_impact", &c.requirements_impact, 4000, false)?;
    c.effort_hours = hours("effort_hours", c.effort_hours)?;
    c.requested_by = check_member(state, "requested_by", c.requested_by)?;
    c.affected = super::validate::names("affected", &c.affected)?;
    if c.approvers.len() > 20 {
        return Err(Error::field("approvers", "at most 20 approvers"));
    }
    let mut seen = HashSet::new();
    for a in &c.approvers {
        check_member(state, "approvers", Some(*a))?;
        if !seen.insert(*a) {
            return Err(Error::field("approvers", format!("member {a} is named twice")));
        }
    }
    validate_effects(state, &c.effects)?;
    Ok(c)
}

/// The writes that make an approved change take effect, and what each did; a budget change
/// goes into `settings` (which earlier changes in the same write may have changed already).
/// Fails, writing nothing, when the plan no longer allows it (a task deleted since, a budget
/// below zero).
fn effect_writes(
    state: &ProjectState,
    change: &ChangeRequest,
    settings: &mut Option<Settings>,
) -> Result<(Vec<ItemWrite>, Vec<Applied>)> {
    validate_effects(state, &change.effects)?;
    let mut items = Vec::new();
    let mut applied = Vec::new();
    for e in &change.effects {
        match e {
            Effect::MoveTask { task, start, finish } => {
                let current = state.task(*task).ok_or_else(|| no_item("task", *task))?;
                let moved = validate_task(
                    state,
                    Task {
                        start: *start,
                        finish: *finish,
                        ..current.clone()
                    },
                    Some(current),
                )?;
                applied.push(Applied::TaskMoved {
                    task: *task,
                    name: current.name.clone(),
                    from: (current.start, current.finish),
                    to: (moved.start, moved.finish),
                });
                items.push(ItemWrite::Update {
                    kind: TASK,
                    number: *task,
                    expected_version: current.version,
                    body: encode(&moved)?,
                });
            }
            Effect::AddTask {
                name,
                start,
                finish,
                area,
                planned_hours,
                milestone,
            } => {
                let task = validate_task(
                    state,
                    Task {
                        number: 0,
                        version: 1,
                        name: name.clone(),
                        owner: None,
                        phase: String::new(),
                        start: *start,
                        finish: *finish,
                        milestone: *milestone,
                        area: *area,
                        status: TaskStatus::NotStarted,
                        percent_done: 0.0,
                        planned_hours: *planned_hours,
                        actual_hours: 0.0,
                        planned_cost: 0,
                        actual_cost: 0,
                        external: Vec::new(),
                    },
                    None,
                )?;
                applied.push(Applied::TaskAdded {
                    name: task.name.clone(),
                    start: task.start,
                    finish: task.finish,
                });
                items.push(ItemWrite::Insert {
                    kind: TASK,
                    body: encode(&task)?,
                });
            }
            Effect::Budget { delta } => {
                let s = settings.get_or_insert_with(|| state.project.settings.clone());
                let from = s.budget.amount;
                let to = from
                    .checked_add(*delta)
                    .filter(|v| (0..=MAX_DELTA).contains(v))
                    .ok_or_else(|| Error::field("effects", "the budget would fall below zero or grow beyond bounds"))?;
                s.budget.amount = to;
                applied.push(Applied::BudgetChanged {
                    currency: s.budget.currency.clone(),
                    from,
                    to,
                });
            }
        }
    }
    Ok((items, applied))
}

/// The batch that writes a change request, with its effects when it has just been approved.
fn change_batch(
    state: &ProjectState,
    mut change: ChangeRequest,
    expected: i64,
    approved: bool,
) -> Result<(ProjectBatch, ChangeRequest)> {
    let mut batch = ProjectBatch::default();
    if approved {
        let mut settings = None;
        let (items, applied) = effect_writes(state, &change, &mut settings)?;
        if let Some(s) = settings {
            batch.settings = Some((encode(&s)?, state.project.version));
        }
        batch.items = items;
        change.applied = applied;
    }
    batch.items.push(ItemWrite::Update {
        kind: CHANGE_REQUEST,
        number: change.number,
        expected_version: expected,
        body: encode(&change)?,
    });
    Ok((batch, change))
}

/// The phase after the one `today` falls in (or the first phase not yet begun).
fn next_phase(settings: &Settings, today: NaiveDate) -> String {
    let mut phases: Vec<_> = settings.phases.iter().collect();
    phases.sort_by_key(|p| p.start);
    phases
        .iter()
        .find(|p| p.start > today)
        .map_or_else(String::new, |p| p.name.clone())
}

impl Crm {
    fn change(state: &ProjectState, number: u32) -> Result<&ChangeRequest> {
        state
            .change_request(number)
            .ok_or_else(|| no_item("change request", number))
    }

    /// Leaders, and the member who asked for the change.
    fn may_steer(who: &Principal, rights: ProjectRights, change: &ChangeRequest) -> Result<()> {
        require_writer(who)?;
        let requester = change.requested_by.is_some() && change.requested_by == rights.member;
        if rights.edit || requester {
            Ok(())
        } else {
            Err(not_editor(who))
        }
    }

    pub async fn raise_change(&self, who: &Principal, id: &str, body: Json) -> Result<ChangeRequest> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        if !rights.edit && rights.member.is_none() {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only members of the project group and its leaders raise change requests",
            ));
        }
        let input: ChangeInput = parse(body)?;
        let now = self.clock.now();
        let change = ChangeRequest {
            number: 0,
            version: 1,
            title: input.title,
            description: input.description,
            requested_by: input.requested_by.or(rights.member),
            scope_impact: input.scope_impact,
            requirements_impact: input.requirements_impact,
            effort_hours: input.effort_hours,
            effects: input.effects,
            affected: input.affected,
            approvers: input.approvers,
            decisions: Vec::new(),
            state: ChangeState::Draft,
            steps: vec![Step {
                at: now,
                by: who.user_id,
                state: ChangeState::Draft,
                note: String::new(),
            }],
            applied: Vec::new(),
            carried_over: false,
        };
        let change = validate_change(&state, change)?;
        let number = self.insert(&state, CHANGE_REQUEST, &change).await?;
        Ok(ChangeRequest { number, ..change })
    }

    /// Edit a draft.
    pub async fn update_change(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<ChangeRequest> {
        let (state, rights) = self.project_state(who, id).await?;
        let current = Self::change(&state, number)?.clone();
        Self::may_steer(who, rights, &current)?;
        let (version, mut patch) = take_version(body)?;
        for key in [
            "number",
            "version",
            "decisions",
            "state",
            "steps",
            "applied",
            "carried_over",
        ] {
            if patch.remove(key).is_some() {
                return Err(Error::field(key, "cannot be changed here"));
            }
        }
        if current.state != ChangeState::Draft {
            return Err(Error::field(
                "state",
                "only a draft can be edited; withdraw it and raise a new one",
            ));
        }
        let change = validate_change(&state, patched(&current, patch)?)?;
        self.save(&state, CHANGE_REQUEST, number, version, change).await
    }

    pub async fn submit_change(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<ChangeRequest> {
        let (state, rights) = self.project_state(who, id).await?;
        let mut change = Self::change(&state, number)?.clone();
        Self::may_steer(who, rights, &change)?;
        validate_effects(&state, &change.effects)?;
        change.submit(who.user_id, self.clock.now()).map_err(|r| refusal(&r))?;
        self.save(&state, CHANGE_REQUEST, number, version, change).await
    }

    /// An approver approves or rejects. The last approval applies the change, in one write.
    pub async fn decide_change(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<ChangeRequest> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        let input: DecisionInput = parse(body)?;
        let approver = input
            .approver
            .or(rights.member)
            .ok_or_else(|| Error::new(ErrorCode::Forbidden, "only the named approvers decide on a change"))?;
        let member = state
            .member(approver)
            .ok_or_else(|| Error::field("approver", format!("there is no member {approver}")))?;
        let own = member.user == Some(who.user_id);
        if !(own || rights.edit && member.external()) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "an approver decides for themselves; leaders record only external approvers' decisions",
            ));
        }
        let mut change = Self::change(&state, number)?.clone();
        if change.version != input.version {
            return Err(stale_change(&change));
        }
        let comment = text("comment", &input.comment, 4000, false)?;
        let outcome = change
            .decide(approver, input.verdict, &comment, who.user_id, self.clock.now())
            .map_err(|r| refusal(&r))?;
        let (batch, change) = change_batch(&state, change, input.version, outcome == Outcome::Approved)?;
        self.write(state.project.id, batch).await?;
        Ok(ChangeRequest {
            version: input.version + 1,
            ..change
        })
    }

    /// A leader defers a submitted request (to a later phase), saying why.
    pub async fn defer_change(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        reason: &str,
        version: i64,
    ) -> Result<ChangeRequest> {
        let state = self.editable(who, id).await?;
        let mut change = Self::change(&state, number)?.clone();
        let reason = text("comment", reason, 4000, false)?;
        change
            .defer(&reason, who.user_id, self.clock.now())
            .map_err(|r| refusal(&r))?;
        self.save(&state, CHANGE_REQUEST, number, version, change).await
    }

    pub async fn withdraw_change(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        reason: &str,
        version: i64,
    ) -> Result<ChangeRequest> {
        let (state, rights) = self.project_state(who, id).await?;
        let mut change = Self::change(&state, number)?.clone();
        Self::may_steer(who, rights, &change)?;
        let reason = text("comment", reason, 4000, false)?;
        change
            .withdraw(&reason, who.user_id, self.clock.now())
            .map_err(|r| refusal(&r))?;
        self.save(&state, CHANGE_REQUEST, number, version, change).await
    }

    /// A rejected or deferred request becomes a requirement for the next phase, in the same
    /// write as the request is marked carried over.
    pub async fn carry_over_change(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<Requirement> {
        let state = self.editable(who, id).await?;
        let mut change = Self::change(&state, number)?.clone();
        change.carry_over().map_err(|r| refusal(&r))?;
        let requirement = Requirement {
            number: 0,
            version: 1,
            text: change.title.clone(),
            journey: None,
            touchpoint: None,
            priority: Priority::Should,
            three_year: false,
            why: [change.description.as_str(), change.scope_impact.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("\n\n"),
            phase: next_phase(&state.project.settings, self.clock.now().date_naive()),
            traces: Vec::new(),
            from_change: Some(number),
        };
        let batch = ProjectBatch {
            items: vec![
                ItemWrite::Update {
                    kind: CHANGE_REQUEST,
                    number,
                    expected_version: version,
                    body: encode(&change)?,
                },
                ItemWrite::Insert {
                    kind: REQUIREMENT,
                    body: encode(&requirement)?,
                },
            ],
            ..ProjectBatch::default()
        };
        let numbers = self.write(state.project.id, batch).await?;
        Ok(Requirement {
            number: numbers.first().copied().unwrap_or_default(),
            ..requirement
        })
    }
}

fn stale_change(c: &ChangeRequest) -> Error {
    Error {
        detail: "the change request was changed by someone else first; its current state is attached".into(),
        ..Error::conflict(serde_json::to_value(c).unwrap_or(Json::Null))
    }
}

/// When a member leaves, each change request they were to approve stops waiting for them; one
/// that is thereby approved takes effect in the same write as the removal.
pub(super) fn approver_left(
    state: &ProjectState,
    member: u32,
    by: crate::ids::UserId,
    at: DateTime<Utc>,
) -> Result<(Option<Settings>, Vec<ItemWrite>)> {
    let mut settings = None;
    let mut items = Vec::new();
    for c in &state.changes {
        if !c.approvers.contains(&member) {
            continue;
        }
        let mut changed = c.clone();
        let outcome = changed.approver_left(member, by, at);
        if outcome == Outcome::Approved {
            let (writes, applied) = effect_writes(state, &changed, &mut settings)?;
            items.extend(writes);
            changed.applied = applied;
        }
        if changed != *c {
            items.push(ItemWrite::Update {
                kind: CHANGE_REQUEST,
                number: c.number,
                expected_version: c.version,
                body: encode(&changed)?,
            });
        }
    }
    Ok((settings, items))
}
