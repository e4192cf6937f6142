//! The implementation project at its largest: 2,000 tasks and 5,000 dependencies. Times the
//! plan page with its Gantt chart and the overview through the app (server time, signed in),
//! and the parts alone: loading the project, the critical path and the forecast. Then part 2:
//! generating the status report with 300 change requests and 100 meetings beside the plan.

use crate::{Report, p50_p95, signed_in, time_many};
use anchora_core::project::model::{TASK, Task, TaskStatus};
use anchora_core::project::plan::Dependency;
use anchora_core::project::thirds::Area;
use anchora_core::store::ProjectStore;
use anchora_core::store::{ItemWrite, ProjectBatch};
use anchora_core::{Clock, ProjectId, Store, SystemClock, UserId};
use anchora_store::Backend;
use anyhow::Result;
use chrono::Duration;
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

const TASKS: u32 = 2_000;
const DEPENDENCIES: usize = 5_000;

/// A small deterministic generator (the bench needs no randomness crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % u64::from(n)) as u32
    }
}

pub async fn bench(dir: &Path, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    let crate::FreshBench {
        instance,
        store,
        crm,
        admin: _,
        who,
        clock: _,
        now,
    } = crate::fresh_bench(dir, backend, "projects", "lead@bench.example", "Lead").await?;
    eprintln!("== {name}: a project with {TASKS} tasks and {DEPENDENCIES} dependencies");
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let today = now.date_naive();
    let start = today - Duration::days(120);
    let project = crm
        .create_project(
            &who,
            json!({"name": "Large rollout", "start": start, "target": start + Duration::days(400),
                   "departments": ["Sales", "Service", "Marketing", "Finance"], "user_groups": ["Field", "Inside", "Service"]}),
        )
        .await
        .map_err(err)?;
    let id = project.id.to_string();
    for (i, role) in [
        "project_leader",
        "management_decision_maker",
        "champion",
        "technical_expert",
        "system_owner",
    ]
    .iter()
    .enumerate()
    {
        crm.add_member(
            &who,
            &id,
            json!({"name": format!("Member {i}"), "roles": [{"role": role}]}),
        )
        .await
        .map_err(err)?;
    }
    // The plan in one batch; numbers continue after the members'.
    let mut rng = Lcg(20_261_124);
    let mut items = Vec::new();
    for i in 0..TASKS {
        let s = start + Duration::days(i64::from(i / 6));
        let days = i64::from(rng.next(10));
        let done = if i < 700 {
            100.0
        } else if i < 900 {
            f64::from(rng.next(100))
        } else {
            0.0
        };
        let task = Task {
            number: 0,
            version: 1,
            name: format!("Task {i}: configure, test and train"),
            owner: Some(1 + rng.next(5)),
            phase: String::new(),
            start: s,
            finish: s + Duration::days(days),
            milestone: i % 100 == 99,
            area: [Area::Business, Area::Anchoring, Area::System][rng.next(3) as usize],
            status: if done >= 100.0 {
                TaskStatus::Done
            } else {
                TaskStatus::NotStarted
            },
            percent_done: done,
            planned_hours: f64::from(4 + rng.next(60)),
            actual_hours: 0.0,
            planned_cost: i64::from(rng.next(100_000)) * 100,
            actual_cost: 0,
            external: Vec::new(),
        };
        items.push(ItemWrite::Insert {
            kind: TASK,
            body: serde_json::to_string(&task)?,
        });
    }
    let pid = ProjectId::parse(&id).unwrap();
    let first = 6; // after five members
    let mut deps = HashSet::new();
    while deps.len() < DEPENDENCIES {
        let a = rng.next(TASKS - 12);
        let b = a + 1 + rng.next(10);
        deps.insert(Dependency {
            before: first + a,
            after: first + b,
        });
    }
    let batch = ProjectBatch {
        items,
        add_dependencies: deps.into_iter().collect(),
        expect_plan_version: Some(project.plan_version),
        ..ProjectBatch::default()
    };
    store.write_project(pid, &batch, now).await.map_err(err)?;

    let (state, _) = crm.project_state(&who, &id).await.map_err(err)?;
    assert_eq!(state.tasks.len(), TASKS as usize);
    assert_eq!(state.dependencies.len(), DEPENDENCIES);
    let mut s = time_many(50, |_| {
        let (crm, who, id) = (crm.clone(), who.clone(), id.clone());
        async move {
            crm.project_state(&who, &id).await.unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: load a project of 2,000 tasks + 5,000 dependencies"),
        p50_p95(&mut s),
        "",
    );
    let mut s = time_many(200, |_| {
        let st = &state;
        async move {
            st.schedule().unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: critical path (CPM) of that plan"),
        p50_p95(&mut s),
        "",
    );
    let mut s = time_many(200, |_| {
        let st = &state;
        async move {
            st.forecast(today).unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: forecast (earned schedule) of that plan"),
        p50_p95(&mut s),
        "≤ 20 ms",
    );
    let fetch = signed_in(&instance, &store, &crm, &who).await?;
    let mut s = time_many(30, |_| {
        let f = fetch(format!("/projects/{id}/plan"));
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: plan page with its Gantt SVG (2,000 tasks), server time"),
        p50_p95(&mut s),
        "≤ 100 ms",
    );
    let mut s = time_many(30, |_| {
        let f = fetch(format!("/projects/{id}"));
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: project overview (health, thirds, forecast, budget), server time"),
        p50_p95(&mut s),
        "",
    );
    let bytes = fetch(format!("/projects/{id}/plan")).await;
    report.add(
        &format!("{name}: plan page weight (HTML with inline SVG, uncompressed)"),
        format!("{:.0} KB", bytes as f64 / 1024.0),
        "",
    );

    // Part 2: 300 change requests, 100 held meetings with their actions, escalations and a
    // communication matrix; one report sent before, so "changes since" has a snapshot to compare.
    governance(&(store.clone() as Arc<dyn Store>), pid, &mut rng, first, today).await?;
    let voice = anchora_web::report_voice::ReportVoice(anchora_web::i18n::Tr::new("en"));
    crm.send_report(&who, &id, "The last report.", &voice)
        .await
        .map_err(err)?;
    // Some of the plan moves after it.
    let (state, _) = crm.project_state(&who, &id).await.map_err(err)?;
    let mut moved = Vec::new();
    for t in state.tasks.iter().skip(900).step_by(40) {
        let mut t2 = t.clone();
        t2.finish += Duration::days(3);
        moved.push(ItemWrite::Update {
            kind: TASK,
            number: t.number,
            expected_version: t.version,
            body: serde_json::to_string(&t2)?,
        });
    }
    let batch = ProjectBatch {
        items: moved,
        ..ProjectBatch::default()
    };
    store.write_project(pid, &batch, now).await.map_err(err)?;
    let (state, _) = crm.project_state(&who, &id).await.map_err(err)?;
    assert_eq!(state.changes.len(), CHANGES);
    assert_eq!(state.meetings.len(), MEETINGS);
    let draft = state.draft_report(today, "", &voice).map_err(err)?;
    assert!(draft.differences.len() >= 25, "{}", draft.differences.len());
    let mut s = time_many(50, |_| {
        let (st, v) = (&state, &voice);
        async move {
            st.draft_report(today, "", v).unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: status report from the loaded project (2,000 tasks, 300 CRs, 100 meetings)"),
        p50_p95(&mut s),
        "",
    );
    let mut s = time_many(30, |_| {
        let (crm, who, id, v) = (crm.clone(), who.clone(), id.clone(), &voice);
        async move {
            let (st, _) = crm.project_state(&who, &id).await.unwrap();
            st.draft_report(today, "", v).unwrap();
        }
    })
    .await;
    report.add(
        &format!("{name}: status report generated: load + facts + differences + template"),
        p50_p95(&mut s),
        "≤ 200 ms",
    );
    let mut s = time_many(30, |_| {
        let f = fetch(format!("/projects/{id}/reports"));
        async move {
            f.await;
        }
    })
    .await;
    report.add(
        &format!("{name}: status-report page (draft as HTML, sent reports), server time"),
        p50_p95(&mut s),
        "",
    );
    Ok(())
}

const CHANGES: usize = 300;
const MEETINGS: usize = 100;

/// Change requests in every state, held meetings with frozen agendas and decisions, their
/// actions, escalations and a matrix, written as one batch.
async fn governance(
    store: &Arc<dyn Store>,
    pid: ProjectId,
    rng: &mut Lcg,
    first_task: u32,
    today: chrono::NaiveDate,
) -> Result<()> {
    use anchora_core::project::change::{ChangeRequest, ChangeState, Decision, Effect, Step, Verdict};
    use anchora_core::project::escalation::{Escalation, EscalationKind};
    use anchora_core::project::matrix::{Communication, Fulfilment};
    use anchora_core::project::meetings::{Action, AgendaItem, Held, Meeting, Series};
    use anchora_core::project::model::{ACTION, CHANGE_REQUEST, COMMUNICATION, Cadence, ESCALATION, MEETING};
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let now = SystemClock.now();
    let by = UserId::new_at(now);
    let states = [
        ChangeState::Draft,
        ChangeState::Submitted,
        ChangeState::Approved,
        ChangeState::Rejected,
        ChangeState::Deferred,
        ChangeState::Withdrawn,
    ];
    let mut items = Vec::new();
    for i in 0..CHANGES {
        let state = states[i % states.len()];
        let at = now - Duration::days(i64::from(rng.next(90)));
        let change = ChangeRequest {
            number: 0,
            version: 1,
            title: format!("Change {i}: widen the scope a little"),
            description: "A longer description of why the change is needed and what it affects.".into(),
            requested_by: Some(1 + rng.next(5)),
            scope_impact: "Some scope".into(),
            requirements_impact: String::new(),
            effort_hours: f64::from(rng.next(200)),
            effects: vec![
                Effect::MoveTask {
                    task: first_task + rng.next(TASKS),
                    start: today,
                    finish: today + Duration::days(3),
                },
                Effect::Budget { delta: 1_000_000 },
            ],
            affected: vec!["Sales".into(), "Service".into()],
            approvers: vec![1, 2],
            decisions: vec![Decision {
                approver: 1,
                verdict: if state == ChangeState::Rejected {
                    Verdict::Reject
                } else {
                    Verdict::Approve
                },
                comment: "ok".into(),
                at,
                by,
            }],
            state,
            steps: vec![
                Step {
                    at,
                    by,
                    state: ChangeState::Submitted,
                    note: String::new(),
                },
                Step {
                    at,
                    by,
                    state,
                    note: String::new(),
                },
            ],
            applied: Vec::new(),
            carried_over: false,
        };
        items.push(ItemWrite::Insert {
            kind: CHANGE_REQUEST,
            body: serde_json::to_string(&change)?,
        });
    }
    for i in 0..MEETINGS {
        let series = [Series::CoreTeam, Series::SteeringGroup, Series::KeyUserGroup][i % 3];
        let date = today - Duration::days(i64::try_from(i)? * 3);
        let meeting = Meeting {
            number: 0,
            version: 1,
            series,
            date,
            title: String::new(),
            attendees: vec![1, 2, 3],
            agenda: (0..12)
                .map(|k| AgendaItem::Change {
                    number: 100 + k,
                    title: format!("Change {k}"),
                })
                .collect(),
            minutes: "Minutes of the meeting, a paragraph or two. ".repeat(5),
            decisions: vec![format!("Decision {i}"), format!("Another decision {i}")],
            held: Some(Held {
                at: now - Duration::days(i64::try_from(i)? * 3),
                by,
            }),
        };
        items.push(ItemWrite::Insert {
            kind: MEETING,
            body: serde_json::to_string(&meeting)?,
        });
    }
    for i in 0..(MEETINGS * 2) {
        let action = Action {
            number: 0,
            version: 1,
            title: format!("Action {i}"),
            owner: Some(1 + rng.next(5)),
            due: today - Duration::days(i64::from(rng.next(60))) + Duration::days(20),
            meeting: None,
            done: (i % 3 == 0).then_some(now),
            note: String::new(),
        };
        items.push(ItemWrite::Insert {
            kind: ACTION,
            body: serde_json::to_string(&action)?,
        });
    }
    for i in 0..20 {
        let mut e = Escalation::new(0, EscalationKind::Risk, &format!("Risk {i}"), by, now);
        e.description = "What could go wrong and what management should decide.".into();
        items.push(ItemWrite::Insert {
            kind: ESCALATION,
            body: serde_json::to_string(&e)?,
        });
    }
    for i in 0..10 {
        let row = Communication {
            number: 0,
            version: 1,
            sender_role: "project_leader".into(),
            audience: format!("Audience {i}"),
            content: "Status".into(),
            channel: "E-mail".into(),
            frequency: Cadence::Monthly,
            fulfilled_by: if i % 2 == 0 {
                Fulfilment::StatusReport
            } else {
                Fulfilment::Manual
            },
            starts: None,
            last_done: None,
        };
        items.push(ItemWrite::Insert {
            kind: COMMUNICATION,
            body: serde_json::to_string(&row)?,
        });
    }
    let batch = ProjectBatch {
        items,
        ..ProjectBatch::default()
    };
    store.write_project(pid, &batch, now).await.map_err(err)?;
    Ok(())
}
