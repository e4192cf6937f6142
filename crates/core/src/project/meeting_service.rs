//! Meetings, actions, escalations and the communication matrix as use cases (B11–B13), and
//! each person's follow-up across projects: their overdue and open actions, the change requests
//! waiting for their approval, and the communications they are due to send.

use super::change::{ChangeRequest, ChangeState};
use super::escalation::{Escalation, EscalationKind, Ruling};
use super::matrix::{Communication, Due, Fulfilment};
use super::meetings::{self, Action, AgendaItem, AgendaSources, Held, Meeting, Series};
use super::model::{ACTION, COMMUNICATION, Cadence, ESCALATION, MEETING, Project};
use super::roles::DECISION_MAKER;
use super::state::{ProjectRights, ProjectState};
use super::validate::{
    check_member, date, encode, no_item, not_editor, parse, patched, require_writer, take_version, text,
};
use crate::auth::{Permission, Principal};
use crate::error::{Error, ErrorCode, Result};
use crate::service::Crm;
use crate::store::{ItemWrite, ProjectBatch};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value as Json;

const MAX_TEXT: usize = 4000;
const MAX_MINUTES: usize = 50_000;
const MAX_ROWS: usize = 200;

impl ProjectState {
    pub fn meeting(&self, number: u32) -> Option<&Meeting> {
        self.meetings.iter().find(|m| m.number == number)
    }

    pub fn action(&self, number: u32) -> Option<&Action> {
        self.actions.iter().find(|a| a.number == number)
    }

    pub fn escalation(&self, number: u32) -> Option<&Escalation> {
        self.escalations.iter().find(|e| e.number == number)
    }

    pub fn communication(&self, number: u32) -> Option<&Communication> {
        self.communications.iter().find(|c| c.number == number)
    }

    pub fn change_request(&self, number: u32) -> Option<&ChangeRequest> {
        self.changes.iter().find(|c| c.number == number)
    }

    /// A meeting's agenda: frozen once held, generated from today's data until then.
    pub fn agenda(&self, meeting: &Meeting) -> Vec<AgendaItem> {
        if meeting.held.is_some() {
            return meeting.agenda.clone();
        }
        meetings::agenda(
            meeting.series,
            meeting.date,
            &AgendaSources {
                actions: &self.actions,
                meetings: &self.meetings,
                changes: &self.changes,
                escalations: &self.escalations,
                tasks: &self.tasks,
            },
        )
    }

    /// The members who send a communication: those holding its sender role.
    pub fn senders(&self, c: &Communication) -> Vec<u32> {
        self.members
            .iter()
            .filter(|m| m.holds(&c.sender_role))
            .map(|m| m.number)
            .collect()
    }

    /// Every row of the matrix with its next due date and state on `today`.
    pub fn communications_due(&self, today: NaiveDate) -> Vec<(&Communication, NaiveDate, Due)> {
        self.communications
            .iter()
            .map(|c| {
                let (next, due) = c.due(self.project.settings.start, today);
                (c, next, due)
            })
            .collect()
    }

    /// Whether a member may decide escalations: management's decision maker, or a leader.
    fn decides_escalations(&self, rights: ProjectRights) -> bool {
        rights.edit
            || rights
                .member
                .and_then(|n| self.member(n))
                .is_some_and(|m| m.holds(DECISION_MAKER))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingInput {
    series: Series,
    date: NaiveDate,
    #[serde(default)]
    title: String,
    #[serde(default)]
    attendees: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAction {
    title: String,
    owner: Option<u32>,
    due: NaiveDate,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinutesInput {
    version: i64,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    decisions: Vec<String>,
    attendees: Option<Vec<u32>>,
    /// New actions agreed at the meeting.
    #[serde(default)]
    actions: Vec<NewAction>,
    /// Held: the agenda is frozen and the matrix rows these minutes fulfil are done.
    #[serde(default)]
    held: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionInput {
    title: String,
    owner: Option<u32>,
    due: NaiveDate,
    meeting: Option<u32>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalationInput {
    kind: EscalationKind,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    action: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommunicationInput {
    sender_role: String,
    audience: String,
    content: String,
    #[serde(default)]
    channel: String,
    frequency: Cadence,
    fulfilled_by: Fulfilment,
    starts: Option<NaiveDate>,
}

fn check_attendees(state: &ProjectState, attendees: &[u32]) -> Result<()> {
    if attendees.len() > 100 {
        return Err(Error::field("attendees", "at most 100 attendees"));
    }
    for a in attendees {
        check_member(state, "attendees", Some(*a))?;
    }
    Ok(())
}

fn validate_action(state: &ProjectState, mut a: Action) -> Result<Action> {
    a.title = text("title", &a.title, 200, true)?;
    a.note = text("note", &a.note, MAX_TEXT, false)?;
    a.owner = check_member(state, "owner", a.owner)?;
    date("due", a.due)?;
    if let Some(m) = a.meeting
        && state.meeting(m).is_none()
    {
        return Err(Error::field("meeting", format!("there is no meeting {m}")));
    }
    Ok(a)
}

fn validate_communication(state: &ProjectState, mut c: Communication) -> Result<Communication> {
    if !state.catalogue.iter().any(|r| r.key == c.sender_role) {
        return Err(Error::field(
            "sender_role",
            format!("there is no role {:?} in the catalogue", c.sender_role),
        ));
    }
    c.audience = text("audience", &c.audience, 200, true)?;
    c.content = text("content", &c.content, MAX_TEXT, true)?;
    c.channel = text("channel", &c.channel, 80, false)?;
    if let Some(d) = c.starts {
        date("starts", d)?;
    }
    if let Some(d) = c.last_done {
        date("last_done", d)?;
    }
    Ok(c)
}

/// The writes marking done the matrix rows that `by` fulfils, sent on `day`.
pub(super) fn fulfil(state: &ProjectState, by: Fulfilment, day: NaiveDate) -> Result<Vec<ItemWrite>> {
    let mut items = Vec::new();
    for c in state.communications.iter().filter(|c| c.fulfilled_by == by) {
        let mut done = c.clone();
        if done.mark_done(day) {
            items.push(ItemWrite::Update {
                kind: COMMUNICATION,
                number: c.number,
                expected_version: c.version,
                body: encode(&done)?,
            });
        }
    }
    Ok(items)
}

/// One person's follow-up across projects.
#[derive(Debug, Clone, Default)]
pub struct FollowUp {
    /// Open actions they own (overdue first), with the project.
    pub actions: Vec<(Project, Action)>,
    /// Submitted change requests waiting for their decision.
    pub approvals: Vec<(Project, ChangeRequest)>,
    /// Communications they send that are soon due, due or overdue.
    pub communications: Vec<(Project, Communication, NaiveDate, Due)>,
    /// Escalations waiting for their decision (decision makers and leaders).
    pub escalations: Vec<(Project, Escalation)>,
}

impl Crm {
    pub async fn add_meeting(&self, who: &Principal, id: &str, body: Json) -> Result<Meeting> {
        let state = self.editable(who, id).await?;
        let input: MeetingInput = parse(body)?;
        check_attendees(&state, &input.attendees)?;
        let meeting = Meeting {
            number: 0,
            version: 1,
            series: input.series,
            date: date("date", input.date)?,
            title: text("title", &input.title, 200, false)?,
            attendees: input.attendees,
            agenda: Vec::new(),
            minutes: String::new(),
            decisions: Vec::new(),
            held: None,
        };
        let number = self.insert(&state, MEETING, &meeting).await?;
        Ok(Meeting { number, ..meeting })
    }

    /// Minutes, decisions and new actions; when held, the agenda is frozen and the matrix rows
    /// these minutes fulfil are marked done, all in one write.
    pub async fn record_minutes(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Meeting> {
        let state = self.editable(who, id).await?;
        let current = state.meeting(number).ok_or_else(|| no_item("meeting", number))?;
        let input: MinutesInput = parse(body)?;
        let mut meeting = current.clone();
        meeting.minutes = text("minutes", &input.minutes, MAX_MINUTES, false)?;
        if input.decisions.len() > 100 {
            return Err(Error::field("decisions", "at most 100 decisions"));
        }
        meeting.decisions = input
            .decisions
            .iter()
            .map(|d| text("decisions", d, MAX_TEXT, true))
            .collect::<Result<_>>()?;
        if let Some(a) = input.attendees {
            check_attendees(&state, &a)?;
            meeting.attendees = a;
        }
        if input.actions.len() > 100 {
            return Err(Error::field("actions", "at most 100 actions at once"));
        }
        let mut items = Vec::new();
        for a in input.actions {
            let action = validate_action(
                &state,
                Action {
                    number: 0,
                    version: 1,
                    title: a.title,
                    owner: a.owner,
                    due: a.due,
                    meeting: Some(number),
                    done: None,
                    note: a.note,
                },
            )?;
            items.push(ItemWrite::Insert {
                kind: ACTION,
                body: encode(&action)?,
            });
        }
        if input.held && meeting.held.is_none() {
            meeting.agenda = state.agenda(current);
            meeting.held = Some(Held {
                at: self.clock.now(),
                by: who.user_id,
            });
            items.extend(fulfil(&state, Fulfilment::Minutes(meeting.series), meeting.date)?);
        }
        items.push(ItemWrite::Update {
            kind: MEETING,
            number,
            expected_version: input.version,
            body: encode(&meeting)?,
        });
        self.write(
            state.project.id,
            ProjectBatch {
                items,
                ..ProjectBatch::default()
            },
        )
        .await?;
        Ok(Meeting {
            version: input.version + 1,
            ..meeting
        })
    }

    pub async fn add_action(&self, who: &Principal, id: &str, body: Json) -> Result<Action> {
        let state = self.editable(who, id).await?;
        let input: ActionInput = parse(body)?;
        let action = validate_action(
            &state,
            Action {
                number: 0,
                version: 1,
                title: input.title,
                owner: input.owner,
                due: input.due,
                meeting: input.meeting,
                done: None,
                note: input.note,
            },
        )?;
        let number = self.insert(&state, ACTION, &action).await?;
        Ok(Action { number, ..action })
    }

    /// Leaders change anything; an action's owner marks it done (or open again) and notes on it.
    pub async fn update_action(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Action> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        let current = state.action(number).ok_or_else(|| no_item("action", number))?.clone();
        let (version, mut patch) = take_version(body)?;
        let done = match patch.remove("done") {
            None => None,
            Some(Json::Bool(b)) => Some(b),
            Some(_) => return Err(Error::field("done", "must be true or false")),
        };
        let owner = current.owner.is_some() && current.owner == rights.member;
        let own_fields = patch.keys().all(|k| k == "note");
        if !(rights.edit || owner && own_fields) {
            return Err(not_editor(who));
        }
        for key in ["number", "version", "meeting"] {
            if patch.remove(key).is_some() {
                return Err(Error::field(key, "cannot be changed here"));
            }
        }
        let mut action = validate_action(&state, patched(&current, patch)?)?;
        match done {
            Some(true) if action.done.is_none() => action.done = Some(self.clock.now()),
            Some(false) => action.done = None,
            _ => {}
        }
        self.save(&state, ACTION, number, version, action).await
    }

    /// Any member escalates an issue, a risk or an action to management.
    pub async fn escalate(&self, who: &Principal, id: &str, body: Json) -> Result<Escalation> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        if !rights.edit && rights.member.is_none() {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only members of the project group and its leaders escalate",
            ));
        }
        let input: EscalationInput = parse(body)?;
        let mut title = input.title;
        match (input.kind, input.action) {
            (EscalationKind::Action, Some(n)) => {
                let action = state
                    .action(n)
                    .ok_or_else(|| Error::field("action", format!("there is no action {n}")))?;
                if title.trim().is_empty() {
                    title.clone_from(&action.title);
                }
                if state.escalations.iter().any(|e| e.action == Some(n) && e.open()) {
                    return Err(Error::field("action", format!("action {n} is escalated already")));
                }
            }
            (EscalationKind::Action, None) => {
                return Err(Error::field("action", "name the action to escalate"));
            }
            (_, Some(_)) => return Err(Error::field("action", "only an action escalation names an action")),
            (_, None) => {}
        }
        let mut escalation = Escalation::new(
            0,
            input.kind,
            &text("title", &title, 200, true)?,
            who.user_id,
            self.clock.now(),
        );
        escalation.description = text("description", &input.description, MAX_TEXT, false)?;
        escalation.action = input.action;
        let number = self.insert(&state, ESCALATION, &escalation).await?;
        Ok(Escalation { number, ..escalation })
    }

    /// Management's decision, recorded by a decision maker or a leader; the escalation then
    /// leaves the reports and agendas.
    pub async fn decide_escalation(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        decision: &str,
        version: i64,
    ) -> Result<Escalation> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        if !state.decides_escalations(rights) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "management's decision maker or a project leader records decisions on escalations",
            ));
        }
        let current = state.escalation(number).ok_or_else(|| no_item("escalation", number))?;
        if !current.open() {
            return Err(Error::field("decision", "the escalation is decided already"));
        }
        let decided = Escalation {
            decision: Some(Ruling {
                text: text("decision", decision, MAX_TEXT, true)?,
                at: self.clock.now(),
                by: who.user_id,
            }),
            ..current.clone()
        };
        self.save(&state, ESCALATION, number, version, decided).await
    }

    pub async fn add_communication(&self, who: &Principal, id: &str, body: Json) -> Result<Communication> {
        let state = self.editable(who, id).await?;
        if state.communications.len() >= MAX_ROWS {
            return Err(Error::field(
                "communications",
                format!("a matrix holds at most {MAX_ROWS} rows"),
            ));
        }
        let input: CommunicationInput = parse(body)?;
        let row = validate_communication(
            &state,
            Communication {
                number: 0,
                version: 1,
                sender_role: input.sender_role.trim().to_string(),
                audience: input.audience,
                content: input.content,
                channel: input.channel,
                frequency: input.frequency,
                fulfilled_by: input.fulfilled_by,
                starts: input.starts,
                last_done: None,
            },
        )?;
        let number = self.insert(&state, COMMUNICATION, &row).await?;
        Ok(Communication { number, ..row })
    }

    pub async fn update_communication(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        body: Json,
    ) -> Result<Communication> {
        let state = self.editable(who, id).await?;
        let current = state
            .communication(number)
            .ok_or_else(|| no_item("communication", number))?;
        let (version, mut patch) = take_version(body)?;
        patch.remove("number");
        let row = validate_communication(&state, patched(current, patch)?)?;
        self.save(&state, COMMUNICATION, number, version, row).await
    }

    pub async fn delete_communication(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<()> {
        let state = self.editable(who, id).await?;
        state
            .communication(number)
            .ok_or_else(|| no_item("communication", number))?;
        self.write(
            state.project.id,
            ProjectBatch {
                items: vec![ItemWrite::Delete {
                    kind: COMMUNICATION,
                    number,
                    expected_version: version,
                }],
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }

    /// A sender (or a leader) marks a row sent today.
    pub async fn communication_sent(
        &self,
        who: &Principal,
        id: &str,
        number: u32,
        version: i64,
    ) -> Result<Communication> {
        let (state, rights) = self.project_state(who, id).await?;
        require_writer(who)?;
        let current = state
            .communication(number)
            .ok_or_else(|| no_item("communication", number))?;
        let sender = rights.member.is_some_and(|m| state.senders(current).contains(&m));
        if !(rights.edit || sender) {
            return Err(not_editor(who));
        }
        let mut row = current.clone();
        if !row.mark_done(self.clock.now().date_naive()) {
            return Ok(row);
        }
        self.save(&state, COMMUNICATION, number, version, row).await
    }

    /// What the caller has to follow up, across every project they are a member of.
    pub async fn follow_up(&self, who: &Principal) -> Result<FollowUp> {
        self.authorize(who, Permission::ReadRecords).await?;
        let today = self.clock.now().date_naive();
        let mut out = FollowUp::default();
        for project in self.store.projects().await? {
            let state = self.load_project(project.id).await?;
            let rights = super::state::rights(who, &state);
            let Some(me) = rights.member else { continue };
            for a in state.actions.iter().filter(|a| a.open() && a.owner == Some(me)) {
                out.actions.push((state.project.clone(), a.clone()));
            }
            for c in &state.changes {
                let waiting = c.state == ChangeState::Submitted
                    && c.approvers.contains(&me)
                    && !c.decisions.iter().any(|d| d.approver == me);
                if waiting {
                    out.approvals.push((state.project.clone(), c.clone()));
                }
            }
            for (c, next, due) in state.communications_due(today) {
                if due.remind() && state.senders(c).contains(&me) {
                    out.communications.push((state.project.clone(), c.clone(), next, due));
                }
            }
            if state.decides_escalations(rights) {
                for e in state.escalations.iter().filter(|e| e.open()) {
                    out.escalations.push((state.project.clone(), e.clone()));
                }
            }
        }
        out.actions.sort_by_key(|(_, a)| (a.due, a.number));
        out.communications
            .sort_by_key(|(_, _, next, due)| (std::cmp::Reverse(*due), *next));
        Ok(out)
    }
}
