//! Status reports (B12): generated from the project's data, in a template the project may edit
//! (minijinja producing Markdown), with the author's own words added. Each sent report keeps a
//! snapshot of the facts it stated, so the next one says exactly what changed since.

use super::change::{ChangeRequest, ChangeState};
use super::escalation::Escalation;
use super::meetings::{Action, Meeting};
use super::model::TaskStatus;
pub use super::sent::{Facts, StatusReport, TaskFact};
use super::state::ProjectState;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Longest template a project may store.
pub const MAX_TEMPLATE: usize = 20_000;
/// Longest report a template may produce.
const MAX_OUTPUT: usize = 2_000_000;
/// Template steps before rendering stops: generous for any report over thousands of tasks,
/// and a bound on a template that loops without end.
const FUEL: u64 = 5_000_000;

/// The standard template. Labels come from `l` in the reader's language; every value is
/// formatted already.
pub const DEFAULT_TEMPLATE: &str = r#"# {{ l.title }}: {{ project.name }}

{{ l.as_of }} {{ as_of }}{% if last_report %} · {{ l.since }} {{ last_report }}{% endif %}
{% if text %}
{{ text }}
{% endif %}
## {{ l.progress }}

- {{ l.percent_complete }}: {{ progress.percent }} ({{ progress.done }} / {{ progress.total }} {{ l.tasks_done }})
- {{ l.target }}: {{ project.target }}
{% if forecast %}- {{ l.forecast }}: {{ forecast.date }} ({{ forecast.verdict }})
{% else %}- {{ l.forecast }}: {{ l.no_forecast }}
{% endif %}{% if progress.overdue_tasks %}- {{ l.overdue_tasks }}: {{ progress.overdue_tasks }}
{% endif %}
## {{ l.budget }}

- {{ l.budget_amount }}: {{ budget.amount }} ({{ l.buffer }} {{ budget.buffer }})
- {{ l.budget_used }}: {{ budget.used }}
- {{ l.buffer_used }}: {{ budget.buffer_used }} ({{ budget.buffer_used_percent }})
- {{ l.remaining }}: {{ budget.remaining }}

## {{ l.escalations }}

{% for e in escalations %}- **#{{ e.number }} {{ e.title }}** ({{ e.kind }}, {{ e.raised }}){% if e.description %}: {{ e.description }}{% endif %}
{% else %}- {{ l.none }}
{% endfor %}
## {{ l.changes_since }}

{% for c in changes %}- {{ c.text }}
{% else %}- {{ l.none }}
{% endfor %}
## {{ l.decisions }}

{% for d in decisions %}- {{ d.text }}
{% else %}- {{ l.none }}
{% endfor %}
## {{ l.milestones }}

{% for m in milestones %}- {{ m.date }}: {{ m.name }}{% if m.late %} ({{ l.late }}){% endif %}
{% else %}- {{ l.none }}
{% endfor %}
## {{ l.overdue_actions }}

{% for a in overdue_actions %}- #{{ a.number }} {{ a.title }}: {{ a.owner }}, {{ a.due }}
{% else %}- {{ l.none }}
{% endfor %}"#;

/// The labels the standard template uses; a template may use any of them as `l.<name>`.
pub const LABELS: [&str; 23] = [
    "title",
    "as_of",
    "since",
    "progress",
    "percent_complete",
    "tasks_done",
    "target",
    "forecast",
    "no_forecast",
    "overdue_tasks",
    "budget",
    "budget_amount",
    "buffer",
    "budget_used",
    "buffer_used",
    "remaining",
    "escalations",
    "changes_since",
    "decisions",
    "milestones",
    "late",
    "overdue_actions",
    "none",
];

/// How the report speaks: the reader's language and formats. The web layer supplies it.
pub trait Voice {
    /// A message by key (`report-<label>`, `report-diff-<kind>`, …) with its arguments.
    fn text(&self, key: &str, args: &[(&str, String)]) -> String;
    fn date(&self, d: NaiveDate) -> String;
    fn money(&self, minor: i64, currency: &str) -> String;
    fn percent(&self, share: f64) -> String;
}

impl Facts {
    pub fn of(state: &ProjectState, today: NaiveDate) -> Facts {
        let forecast = state.forecast(today);
        Facts {
            as_of: today,
            target: state.project.settings.target,
            forecast: forecast.as_ref().map(|f| f.forecast_finish),
            percent_complete: forecast.as_ref().map_or(0.0, |f| f.percent_complete),
            budget: state.project.settings.budget.clone(),
            tasks: state
                .tasks
                .iter()
                .map(|t| {
                    (
                        t.number,
                        TaskFact {
                            name: t.name.clone(),
                            start: t.start,
                            finish: t.finish,
                            done: t.status == TaskStatus::Done,
                            milestone: t.milestone,
                        },
                    )
                })
                .collect(),
            changes: state
                .changes
                .iter()
                .map(|c| (c.number, (c.title.clone(), c.state)))
                .collect(),
            escalations: state
                .escalations
                .iter()
                .map(|e| (e.number, (e.title.clone(), !e.open())))
                .collect(),
            members: state.members.iter().map(|m| (m.number, m.name.clone())).collect(),
        }
    }
}

/// One thing that differs from the last report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    TaskAdded {
        task: u32,
        name: String,
        finish: NaiveDate,
    },
    TaskRemoved {
        task: u32,
        name: String,
    },
    TaskMoved {
        task: u32,
        name: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    TaskDone {
        task: u32,
        name: String,
    },
    TargetMoved {
        from: NaiveDate,
        to: NaiveDate,
    },
    ForecastMoved {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    Progress {
        from: f64,
        to: f64,
    },
    BudgetChanged {
        from: i64,
        to: i64,
        currency: String,
    },
    ChangeRaised {
        number: u32,
        title: String,
    },
    ChangeMoved {
        number: u32,
        title: String,
        state: ChangeState,
    },
    EscalationRaised {
        number: u32,
        title: String,
    },
    EscalationDecided {
        number: u32,
        title: String,
    },
    MemberJoined {
        name: String,
    },
    MemberLeft {
        name: String,
    },
}

/// What differs between the last report's facts and today's, in a stable order.
pub fn differences(before: &Facts, now: &Facts) -> Vec<Difference> {
    let mut out = Vec::new();
    if before.target != now.target {
        out.push(Difference::TargetMoved {
            from: before.target,
            to: now.target,
        });
    }
    if before.forecast != now.forecast {
        out.push(Difference::ForecastMoved {
            from: before.forecast,
            to: now.forecast,
        });
    }
    if (before.percent_complete - now.percent_complete).abs() >= 0.0005 {
        out.push(Difference::Progress {
            from: before.percent_complete,
            to: now.percent_complete,
        });
    }
    if before.budget.amount != now.budget.amount || before.budget.currency != now.budget.currency {
        out.push(Difference::BudgetChanged {
            from: before.budget.amount,
            to: now.budget.amount,
            currency: now.budget.currency.clone(),
        });
    }
    for (n, t) in &now.tasks {
        match before.tasks.get(n) {
            None => out.push(Difference::TaskAdded {
                task: *n,
                name: t.name.clone(),
                finish: t.finish,
            }),
            Some(b) => {
                if b.finish != t.finish {
                    out.push(Difference::TaskMoved {
                        task: *n,
                        name: t.name.clone(),
                        from: b.finish,
                        to: t.finish,
                    });
                }
                if t.done && !b.done {
                    out.push(Difference::TaskDone {
                        task: *n,
                        name: t.name.clone(),
                    });
                }
            }
        }
    }
    for (n, t) in &before.tasks {
        if !now.tasks.contains_key(n) {
            out.push(Difference::TaskRemoved {
                task: *n,
                name: t.name.clone(),
            });
        }
    }
    for (n, (title, state)) in &now.changes {
        match before.changes.get(n) {
            None => out.push(Difference::ChangeRaised {
                number: *n,
                title: title.clone(),
            }),
            Some((_, b)) if b != state => out.push(Difference::ChangeMoved {
                number: *n,
                title: title.clone(),
                state: *state,
            }),
            Some(_) => {}
        }
    }
    for (n, (title, decided)) in &now.escalations {
        match before.escalations.get(n) {
            None => out.push(Difference::EscalationRaised {
                number: *n,
                title: title.clone(),
            }),
            Some((_, false)) if *decided => out.push(Difference::EscalationDecided {
                number: *n,
                title: title.clone(),
            }),
            Some(_) => {}
        }
    }
    for (n, name) in &now.members {
        if !before.members.contains_key(n) {
            out.push(Difference::MemberJoined { name: name.clone() });
        }
    }
    for (n, name) in &before.members {
        if !now.members.contains_key(n) {
            out.push(Difference::MemberLeft { name: name.clone() });
        }
    }
    out
}

/// A decision taken since the last report, with when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decided {
    Change {
        number: u32,
        title: String,
        state: ChangeState,
        at: DateTime<Utc>,
    },
    Escalation {
        number: u32,
        title: String,
        decision: String,
        at: DateTime<Utc>,
    },
    Meeting {
        number: u32,
        date: NaiveDate,
        text: String,
        at: DateTime<Utc>,
    },
}

impl Decided {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Decided::Change { at, .. } | Decided::Escalation { at, .. } | Decided::Meeting { at, .. } => *at,
        }
    }
}

/// Change requests approved, rejected or deferred, escalations decided, and meeting decisions
/// minuted after `since` (everything, for the first report), oldest first.
pub fn decisions_since(
    since: Option<DateTime<Utc>>,
    changes: &[ChangeRequest],
    escalations: &[Escalation],
    meetings: &[Meeting],
) -> Vec<Decided> {
    let after = |at: DateTime<Utc>| since.is_none_or(|s| at > s);
    let mut out = Vec::new();
    for c in changes {
        for step in &c.steps {
            let decisive = matches!(
                step.state,
                ChangeState::Approved | ChangeState::Rejected | ChangeState::Deferred
            );
            if decisive && after(step.at) {
                out.push(Decided::Change {
                    number: c.number,
                    title: c.title.clone(),
                    state: step.state,
                    at: step.at,
                });
            }
        }
    }
    for e in escalations {
        if let Some(d) = &e.decision
            && after(d.at)
        {
            out.push(Decided::Escalation {
                number: e.number,
                title: e.title.clone(),
                decision: d.text.clone(),
                at: d.at,
            });
        }
    }
    for m in meetings {
        if let Some(held) = &m.held
            && after(held.at)
        {
            for text in &m.decisions {
                out.push(Decided::Meeting {
                    number: m.number,
                    date: m.date,
                    text: text.clone(),
                    at: held.at,
                });
            }
        }
    }
    out.sort_by_key(Decided::at);
    out
}

/// A report ready to read or send: the Markdown and the facts it states.
#[derive(Debug, Clone)]
pub struct Draft {
    pub markdown: String,
    pub facts: Facts,
    pub differences: Vec<Difference>,
    pub decisions: Vec<Decided>,
}

/// Everything a report is drawn from, beyond the project itself.
pub struct ReportInput<'a> {
    pub today: NaiveDate,
    pub text: &'a str,
    pub template: &'a str,
    pub last: Option<&'a StatusReport>,
}

/// Why a template cannot be used, with the line when minijinja knows it.
pub fn template_error(e: &minijinja::Error) -> String {
    let mut message = e.to_string();
    if let Some(line) = e.line() {
        message = format!("line {line}: {}", e.detail().unwrap_or(&message));
    }
    message
}

/// Check a template compiles (for saving it).
pub fn check_template(template: &str) -> Result<(), String> {
    if template.chars().count() > MAX_TEMPLATE {
        return Err(format!("must be at most {MAX_TEMPLATE} characters"));
    }
    let mut env = minijinja::Environment::new();
    env.add_template("report", template)
        .map(|_| ())
        .map_err(|e| template_error(&e))
}

pub fn generate(state: &ProjectState, input: &ReportInput<'_>, voice: &dyn Voice) -> Result<Draft, String> {
    let today = input.today;
    let facts = Facts::of(state, today);
    let differences = input
        .last
        .map(|last| differences(&last.facts, &facts))
        .unwrap_or_default();
    let decisions = decisions_since(
        input.last.map(|l| l.sent_at),
        &state.changes,
        &state.escalations,
        &state.meetings,
    );
    let context = context(state, input, voice, &facts, &differences, &decisions);
    let markdown = render(input.template, &context)?;
    Ok(Draft {
        markdown,
        facts,
        differences,
        decisions,
    })
}

fn render(template: &str, context: &serde_json::Value) -> Result<String, String> {
    check_template(template)?;
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(FUEL));
    // Markdown, not HTML: the web page renders it with raw HTML switched off.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_template("report", template).map_err(|e| template_error(&e))?;
    let t = env.get_template("report").map_err(|e| template_error(&e))?;
    let out = t.render(context).map_err(|e| template_error(&e))?;
    if out.len() > MAX_OUTPUT {
        return Err(format!("the report would be over {MAX_OUTPUT} bytes"));
    }
    Ok(out)
}

fn context(
    state: &ProjectState,
    input: &ReportInput<'_>,
    voice: &dyn Voice,
    facts: &Facts,
    differences: &[Difference],
    decisions: &[Decided],
) -> serde_json::Value {
    use serde_json::json;
    let s = &state.project.settings;
    let today = input.today;
    let labels: serde_json::Map<String, serde_json::Value> = LABELS
        .iter()
        .map(|l| {
            (
                (*l).to_string(),
                json!(voice.text(&format!("report-{}", l.replace('_', "-")), &[])),
            )
        })
        .collect();
    let forecast = state.forecast(today);
    let done = state.tasks.iter().filter(|t| t.status == TaskStatus::Done).count();
    let forecast_json = forecast.as_ref().map(|f| {
        let days = (f.forecast_finish - s.target).num_days();
        let verdict = if f.complete {
            voice.text("report-verdict-complete", &[])
        } else if days > 0 {
            voice.text("report-verdict-late", &[("days", days.to_string())])
        } else if days < 0 {
            voice.text("report-verdict-early", &[("days", (-days).to_string())])
        } else {
            voice.text("report-verdict-on-target", &[])
        };
        json!({
            "date": voice.date(f.forecast_finish),
            "days_late": days,
            "spi": f.spi,
            "verdict": verdict,
        })
    });
    let b = state.budget();
    let cur = &s.budget.currency;
    let member = |n: Option<u32>| {
        n.and_then(|n| state.member(n))
            .map_or_else(String::new, |m| m.name.clone())
    };
    let escalations: Vec<serde_json::Value> = state
        .escalations
        .iter()
        .filter(|e| e.open())
        .map(|e| {
            json!({
                "number": e.number,
                "kind": voice.text(&format!("escalation-kind-{}", e.kind.as_str()), &[]),
                "title": e.title,
                "description": e.description,
                "raised": voice.date(e.raised_at.date_naive()),
            })
        })
        .collect();
    let changes: Vec<serde_json::Value> = differences
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let serde_json::Value::Object(map) = &mut v {
                map.insert("text".into(), json!(difference_text(d, voice)));
            }
            v
        })
        .collect();
    let decisions: Vec<serde_json::Value> = decisions
        .iter()
        .map(|d| json!({ "text": decided_text(d, voice), "date": voice.date(d.at().date_naive()) }))
        .collect();
    let mut milestones: Vec<_> = state
        .tasks
        .iter()
        .filter(|t| t.milestone && t.status != TaskStatus::Done)
        .collect();
    milestones.sort_by_key(|t| (t.finish, t.number));
    let milestones: Vec<serde_json::Value> = milestones
        .iter()
        .take(10)
        .map(|t| json!({ "task": t.number, "name": t.name, "date": voice.date(t.finish), "late": t.finish < today }))
        .collect();
    let mut overdue: Vec<&Action> = state.actions.iter().filter(|a| a.overdue(today)).collect();
    overdue.sort_by_key(|a| (a.due, a.number));
    let overdue_actions: Vec<serde_json::Value> = overdue
        .iter()
        .map(|a| json!({ "number": a.number, "title": a.title, "owner": member(a.owner), "due": voice.date(a.due) }))
        .collect();
    json!({
        "l": labels,
        "project": {
            "name": s.name,
            "start": voice.date(s.start),
            "target": voice.date(s.target),
        },
        "as_of": voice.date(today),
        "last_report": input.last.map(|l| voice.date(l.sent_at.date_naive())),
        "text": input.text,
        "progress": {
            "percent": voice.percent(facts.percent_complete),
            "share": facts.percent_complete,
            "done": done,
            "total": state.tasks.len(),
            "overdue_tasks": state.overdue(today).len(),
        },
        "forecast": forecast_json,
        "budget": {
            "currency": cur,
            "amount": voice.money(s.budget.amount, cur),
            "base": voice.money(b.base, cur),
            "buffer": voice.money(b.buffer, cur),
            "used": voice.money(b.used, cur),
            "buffer_used": voice.money(b.buffer_used, cur),
            "buffer_used_percent": voice.percent(b.buffer_used_share),
            "remaining": voice.money(b.remaining, cur),
            "over": b.over_budget,
        },
        "escalations": escalations,
        "changes": changes,
        "decisions": decisions,
        "milestones": milestones,
        "overdue_actions": overdue_actions,
    })
}

fn change_state(state: ChangeState, voice: &dyn Voice) -> String {
    voice.text(&format!("change-state-{}", state.as_str()), &[])
}

pub fn difference_text(d: &Difference, voice: &dyn Voice) -> String {
    let opt = |d: &Option<NaiveDate>| d.map_or_else(|| "–".to_string(), |d| voice.date(d));
    match d {
        Difference::TaskAdded { task, name, finish } => voice.text(
            "report-diff-task-added",
            &[
                ("task", task.to_string()),
                ("name", name.clone()),
                ("finish", voice.date(*finish)),
            ],
        ),
        Difference::TaskRemoved { task, name } => voice.text(
            "report-diff-task-removed",
            &[("task", task.to_string()), ("name", name.clone())],
        ),
        Difference::TaskMoved { task, name, from, to } => voice.text(
            "report-diff-task-moved",
            &[
                ("task", task.to_string()),
                ("name", name.clone()),
                ("from", voice.date(*from)),
                ("to", voice.date(*to)),
            ],
        ),
        Difference::TaskDone { task, name } => voice.text(
            "report-diff-task-done",
            &[("task", task.to_string()), ("name", name.clone())],
        ),
        Difference::TargetMoved { from, to } => voice.text(
            "report-diff-target-moved",
            &[("from", voice.date(*from)), ("to", voice.date(*to))],
        ),
        Difference::ForecastMoved { from, to } => {
            voice.text("report-diff-forecast-moved", &[("from", opt(from)), ("to", opt(to))])
        }
        Difference::Progress { from, to } => voice.text(
            "report-diff-progress",
            &[("from", voice.percent(*from)), ("to", voice.percent(*to))],
        ),
        Difference::BudgetChanged { from, to, currency } => voice.text(
            "report-diff-budget",
            &[
                ("from", voice.money(*from, currency)),
                ("to", voice.money(*to, currency)),
            ],
        ),
        Difference::ChangeRaised { number, title } => voice.text(
            "report-diff-change-raised",
            &[("number", number.to_string()), ("title", title.clone())],
        ),
        Difference::ChangeMoved { number, title, state } => voice.text(
            "report-diff-change-moved",
            &[
                ("number", number.to_string()),
                ("title", title.clone()),
                ("state", change_state(*state, voice)),
            ],
        ),
        Difference::EscalationRaised { number, title } => voice.text(
            "report-diff-escalation-raised",
            &[("number", number.to_string()), ("title", title.clone())],
        ),
        Difference::EscalationDecided { number, title } => voice.text(
            "report-diff-escalation-decided",
            &[("number", number.to_string()), ("title", title.clone())],
        ),
        Difference::MemberJoined { name } => voice.text("report-diff-member-joined", &[("name", name.clone())]),
        Difference::MemberLeft { name } => voice.text("report-diff-member-left", &[("name", name.clone())]),
    }
}

pub fn decided_text(d: &Decided, voice: &dyn Voice) -> String {
    match d {
        Decided::Change {
            number, title, state, ..
        } => voice.text(
            "report-decided-change",
            &[
                ("number", number.to_string()),
                ("title", title.clone()),
                ("state", change_state(*state, voice)),
            ],
        ),
        Decided::Escalation {
            number,
            title,
            decision,
            ..
        } => voice.text(
            "report-decided-escalation",
            &[
                ("number", number.to_string()),
                ("title", title.clone()),
                ("decision", decision.clone()),
            ],
        ),
        Decided::Meeting { date, text, .. } => voice.text(
            "report-decided-meeting",
            &[("date", voice.date(*date)), ("text", text.clone())],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::model::Budget;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts() -> Facts {
        Facts {
            as_of: d("2027-02-01"),
            target: d("2027-06-30"),
            forecast: Some(d("2027-07-05")),
            percent_complete: 0.2,
            budget: Budget {
                currency: "SEK".into(),
                amount: 100,
                buffer_percent: 10.0,
                committed: 0,
                spent: 0,
            },
            tasks: [
                (
                    1,
                    TaskFact {
                        name: "Workshops".into(),
                        start: d("2027-01-10"),
                        finish: d("2027-02-10"),
                        done: false,
                        milestone: false,
                    },
                ),
                (
                    2,
                    TaskFact {
                        name: "Old".into(),
                        start: d("2027-01-10"),
                        finish: d("2027-01-20"),
                        done: false,
                        milestone: false,
                    },
                ),
            ]
            .into(),
            changes: [(5, ("More users".to_string(), ChangeState::Submitted))].into(),
            escalations: [(7, ("Licences".to_string(), false))].into(),
            members: [(3, "Anna".to_string())].into(),
        }
    }

    #[test]
    fn differences_name_exactly_what_changed() {
        let before = facts();
        assert!(differences(&before, &before).is_empty());
        let mut now = facts();
        now.as_of = d("2027-03-01");
        now.tasks.remove(&2);
        if let Some(t) = now.tasks.get_mut(&1) {
            t.finish = d("2027-02-17");
            t.done = true;
        }
        now.tasks.insert(
            9,
            TaskFact {
                name: "Train marketing".into(),
                start: d("2027-03-01"),
                finish: d("2027-03-05"),
                done: false,
                milestone: false,
            },
        );
        now.changes.insert(5, ("More users".into(), ChangeState::Approved));
        now.escalations.insert(7, ("Licences".into(), true));
        now.budget.amount = 150;
        now.members.insert(4, "Björn".into());
        let diff = differences(&before, &now);
        assert_eq!(
            diff,
            vec![
                Difference::BudgetChanged {
                    from: 100,
                    to: 150,
                    currency: "SEK".into()
                },
                Difference::TaskMoved {
                    task: 1,
                    name: "Workshops".into(),
                    from: d("2027-02-10"),
                    to: d("2027-02-17")
                },
                Difference::TaskDone {
                    task: 1,
                    name: "Workshops".into()
                },
                Difference::TaskAdded {
                    task: 9,
                    name: "Train marketing".into(),
                    finish: d("2027-03-05")
                },
                Difference::TaskRemoved {
                    task: 2,
                    name: "Old".into()
                },
                Difference::ChangeMoved {
                    number: 5,
                    title: "More users".into(),
                    state: ChangeState::Approved
                },
                Difference::EscalationDecided {
                    number: 7,
                    title: "Licences".into()
                },
                Difference::MemberJoined { name: "Björn".into() },
            ]
        );
    }

    #[test]
    fn facts_survive_the_snapshot_round_trip() {
        let f = facts();
        let json = serde_json::to_string(&f).unwrap();
        let back: Facts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn templates_are_checked_and_bounded() {
        assert!(check_template(DEFAULT_TEMPLATE).is_ok());
        let err = check_template("# Report\n{% for x in %}").unwrap_err();
        assert!(err.starts_with("line 2"), "{err}");
        assert!(check_template(&"x".repeat(MAX_TEMPLATE + 1)).is_err());
        // A template that would run (nearly) for ever stops on its fuel.
        let err = render(
            "{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}{% endfor %}",
            &serde_json::json!({}),
        )
        .unwrap_err();
        assert!(err.contains("fuel"), "{err}");
        // Markdown out, nothing escaped for HTML.
        assert_eq!(render("{{ x }}", &serde_json::json!({"x": "<b>&"})).unwrap(), "<b>&");
    }
}
