//! Meetings on a rhythm (B11): the core team weekly, the steering group monthly, the key-user
//! group after go-live. Each meeting's agenda is generated from what needs the group: open
//! actions (overdue ones flagged), change requests waiting for a decision, escalations waiting
//! for management, and milestones falling due before the next meeting. Minutes record what was
//! decided and the actions taken on; holding the meeting freezes its agenda.

use super::change::{ChangeRequest, ChangeState};
use super::escalation::Escalation;
use super::model::{Cadence, Task, TaskStatus};
use crate::ids::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    CoreTeam,
    SteeringGroup,
    KeyUserGroup,
}

impl Series {
    pub const ALL: [Series; 3] = [Series::CoreTeam, Series::SteeringGroup, Series::KeyUserGroup];

    pub fn as_str(self) -> &'static str {
        match self {
            Series::CoreTeam => "core_team",
            Series::SteeringGroup => "steering_group",
            Series::KeyUserGroup => "key_user_group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The rhythm the seeds recommend.
    pub fn rhythm(self) -> Cadence {
        match self {
            Series::CoreTeam => Cadence::Weekly,
            Series::SteeringGroup | Series::KeyUserGroup => Cadence::Monthly,
        }
    }

    /// Management decides escalations: they go to the steering group.
    pub fn decides_escalations(self) -> bool {
        self == Series::SteeringGroup
    }
}

/// One line of an agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgendaItem {
    Action {
        number: u32,
        title: String,
        owner: Option<u32>,
        due: NaiveDate,
        overdue: bool,
    },
    Change {
        number: u32,
        title: String,
    },
    Escalation {
        number: u32,
        title: String,
    },
    Milestone {
        task: u32,
        name: String,
        date: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub at: DateTime<Utc>,
    pub by: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub series: Series,
    pub date: NaiveDate,
    #[serde(default)]
    pub title: String,
    /// Members present.
    #[serde(default)]
    pub attendees: Vec<u32>,
    /// Frozen when the meeting is held; generated afresh until then.
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
    #[serde(default)]
    pub minutes: String,
    /// What the meeting decided, one line each.
    #[serde(default)]
    pub decisions: Vec<String>,
    pub held: Option<Held>,
}

/// A follow-up with an owner and a due date, usually from a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub title: String,
    pub owner: Option<u32>,
    pub due: NaiveDate,
    /// The meeting that gave it.
    pub meeting: Option<u32>,
    pub done: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: String,
}

impl Action {
    pub fn open(&self) -> bool {
        self.done.is_none()
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.open() && self.due < today
    }
}

/// Everything an agenda is drawn from.
pub struct AgendaSources<'a> {
    pub actions: &'a [Action],
    pub meetings: &'a [Meeting],
    pub changes: &'a [ChangeRequest],
    pub escalations: &'a [Escalation],
    pub tasks: &'a [Task],
}

/// The agenda of a meeting of `series` on `date`: open actions from this series' meetings (the
/// core team also takes actions raised outside meetings), flagged when overdue on the day;
/// change requests waiting for approval (not for the key-user group); undecided escalations
/// (the steering group); milestones not done that fall before the series' next meeting.
pub fn agenda(series: Series, date: NaiveDate, from: &AgendaSources<'_>) -> Vec<AgendaItem> {
    let series_of = |meeting: Option<u32>| {
        meeting
            .and_then(|n| from.meetings.iter().find(|m| m.number == n))
            .map_or(Series::CoreTeam, |m| m.series)
    };
    let mut items = Vec::new();
    let mut actions: Vec<&Action> = from
        .actions
        .iter()
        .filter(|a| a.open() && series_of(a.meeting) == series)
        .collect();
    actions.sort_by_key(|a| (a.due, a.number));
    items.extend(actions.into_iter().map(|a| AgendaItem::Action {
        number: a.number,
        title: a.title.clone(),
        owner: a.owner,
        due: a.due,
        overdue: a.due < date,
    }));
    if series != Series::KeyUserGroup {
        items.extend(
            from.changes
                .iter()
                .filter(|c| c.state == ChangeState::Submitted)
                .map(|c| AgendaItem::Change {
                    number: c.number,
                    title: c.title.clone(),
                }),
        );
    }
    if series.decides_escalations() {
        items.extend(
            from.escalations
                .iter()
                .filter(|e| e.decision.is_none())
                .map(|e| AgendaItem::Escalation {
                    number: e.number,
                    title: e.title.clone(),
                }),
        );
    }
    let horizon = series.rhythm().after(date);
    let mut milestones: Vec<&Task> = from
        .tasks
        .iter()
        .filter(|t| t.milestone && t.status != TaskStatus::Done && t.finish < horizon)
        .collect();
    milestones.sort_by_key(|t| (t.finish, t.number));
    items.extend(milestones.into_iter().map(|t| AgendaItem::Milestone {
        task: t.number,
        name: t.name.clone(),
        date: t.finish,
    }));
    items
}

/// When the series meets next: a rhythm after its last meeting, or `today` if it never met.
pub fn next_meeting(series: Series, meetings: &[Meeting], today: NaiveDate) -> NaiveDate {
    meetings
        .iter()
        .filter(|m| m.series == series)
        .map(|m| m.date)
        .max()
        .map_or(today, |last| series.rhythm().after(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::change::Effect;
    use crate::project::escalation::EscalationKind;
    use crate::project::thirds::Area;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn who() -> UserId {
        UserId(uuid::Uuid::nil())
    }

    fn action(number: u32, due: &str, meeting: Option<u32>) -> Action {
        Action {
            number,
            version: 1,
            title: format!("action {number}"),
            owner: Some(1),
            due: d(due),
            meeting,
            done: None,
            note: String::new(),
        }
    }

    fn meeting(number: u32, series: Series, date: &str) -> Meeting {
        Meeting {
            number,
            version: 1,
            series,
            date: d(date),
            title: String::new(),
            attendees: vec![],
            agenda: vec![],
            minutes: String::new(),
            decisions: vec![],
            held: None,
        }
    }

    fn milestone(number: u32, date: &str, status: TaskStatus) -> Task {
        Task {
            number,
            version: 1,
            name: format!("milestone {number}"),
            owner: None,
            phase: String::new(),
            start: d(date),
            finish: d(date),
            milestone: true,
            area: Area::System,
            status,
            percent_done: 0.0,
            planned_hours: 0.0,
            actual_hours: 0.0,
            planned_cost: 0,
            actual_cost: 0,
            external: vec![],
        }
    }

    #[test]
    fn agenda_draws_on_actions_changes_escalations_and_milestones() {
        let meetings = vec![
            meeting(10, Series::CoreTeam, "2027-02-01"),
            meeting(11, Series::SteeringGroup, "2027-02-03"),
        ];
        let mut done = action(4, "2027-02-01", Some(10));
        done.done = Some(DateTime::<Utc>::MIN_UTC);
        let actions = vec![
            action(2, "2027-02-10", Some(10)),
            action(1, "2027-02-05", None),
            action(3, "2027-02-20", Some(11)),
            done,
        ];
        let mut submitted = crate::project::change::tests::request(&[1]);
        submitted.number = 20;
        submitted.submit(who(), DateTime::<Utc>::MIN_UTC).unwrap();
        let mut draft = crate::project::change::tests::request(&[1]);
        draft.number = 21;
        draft.effects = vec![Effect::Budget { delta: 1 }];
        let escalations = vec![
            Escalation::new(30, EscalationKind::Risk, "Vendor late", who(), DateTime::<Utc>::MIN_UTC),
            Escalation {
                decision: Some(super::super::escalation::Ruling {
                    text: "accept".into(),
                    at: DateTime::<Utc>::MIN_UTC,
                    by: who(),
                }),
                ..Escalation::new(31, EscalationKind::Issue, "decided", who(), DateTime::<Utc>::MIN_UTC)
            },
        ];
        let tasks = vec![
            milestone(40, "2027-02-12", TaskStatus::NotStarted),
            milestone(41, "2027-03-20", TaskStatus::NotStarted),
            milestone(42, "2027-02-09", TaskStatus::Done),
        ];
        let changes = vec![submitted, draft];
        let from = AgendaSources {
            actions: &actions,
            meetings: &meetings,
            changes: &changes,
            escalations: &escalations,
            tasks: &tasks,
        };
        let core = agenda(Series::CoreTeam, d("2027-02-08"), &from);
        assert_eq!(
            core,
            vec![
                AgendaItem::Action {
                    number: 1,
                    title: "action 1".into(),
                    owner: Some(1),
                    due: d("2027-02-05"),
                    overdue: true
                },
                AgendaItem::Action {
                    number: 2,
                    title: "action 2".into(),
                    owner: Some(1),
                    due: d("2027-02-10"),
                    overdue: false
                },
                AgendaItem::Change {
                    number: 20,
                    title: "Add marketing to phase 1".into()
                },
                AgendaItem::Milestone {
                    task: 40,
                    name: "milestone 40".into(),
                    date: d("2027-02-12")
                },
            ],
            "a week ahead: milestone 41 is for later, no escalations for the core team"
        );
        let steering = agenda(Series::SteeringGroup, d("2027-03-01"), &from);
        let kinds: Vec<String> = steering
            .iter()
            .map(|i| match i {
                AgendaItem::Action { number, overdue, .. } => format!("action {number} {overdue}"),
                AgendaItem::Change { number, .. } => format!("change {number}"),
                AgendaItem::Escalation { number, .. } => format!("escalation {number}"),
                AgendaItem::Milestone { task, .. } => format!("milestone {task}"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "action 3 true",
                "change 20",
                "escalation 30",
                "milestone 40",
                "milestone 41"
            ]
        );
        let key_users = agenda(Series::KeyUserGroup, d("2027-02-08"), &from);
        assert!(key_users.iter().all(|i| matches!(i, AgendaItem::Milestone { .. })));
    }

    #[test]
    fn a_series_meets_again_on_its_rhythm() {
        let meetings = vec![
            meeting(1, Series::CoreTeam, "2027-02-01"),
            meeting(2, Series::CoreTeam, "2027-02-08"),
            meeting(3, Series::SteeringGroup, "2027-01-31"),
        ];
        assert_eq!(
            next_meeting(Series::CoreTeam, &meetings, d("2027-01-01")),
            d("2027-02-15")
        );
        assert_eq!(
            next_meeting(Series::SteeringGroup, &meetings, d("2027-01-01")),
            d("2027-02-28")
        );
        assert_eq!(
            next_meeting(Series::KeyUserGroup, &meetings, d("2027-05-02")),
            d("2027-05-02")
        );
    }

    #[test]
    fn an_action_is_overdue_only_while_open_and_past_due() {
        let mut a = action(1, "2027-02-05", None);
        assert!(!a.overdue(d("2027-02-05")));
        assert!(a.overdue(d("2027-02-06")));
        a.done = Some(DateTime::<Utc>::MIN_UTC);
        assert!(!a.overdue(d("2027-02-06")));
    }
}
