//! Implementation project, part 2, on both databases: change requests taking effect only when
//! every approver approves (and when an approver leaves), meetings with generated agendas and
//! overdue actions, the communication matrix on an injected clock, status reports with exact
//! differences since the last one, and journeys traced to configuration.

use super::{H, add_user};
use anchora_core::auth::{Principal, Role};
use anchora_core::project::change::ChangeState;
use anchora_core::project::matrix::Due;
use anchora_core::project::meetings::AgendaItem;
use anchora_core::project::report::{Difference, Voice};
use anchora_core::{Clock, ErrorCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// Plain English with ISO dates: enough to read the reports the tests generate.
struct Plain;

impl Voice for Plain {
    fn text(&self, key: &str, args: &[(&str, String)]) -> String {
        let args: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if args.is_empty() {
            key.to_string()
        } else {
            format!("{key}({})", args.join(", "))
        }
    }
    fn date(&self, d: NaiveDate) -> String {
        d.to_string()
    }
    fn money(&self, minor: i64, currency: &str) -> String {
        format!("{} {currency}", minor / 100)
    }
    fn percent(&self, share: f64) -> String {
        format!("{:.0}%", share * 100.0)
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

struct Setup {
    id: String,
    anna: Principal,
    bo: Principal,
    anna_no: u32,
    bo_no: u32,
    golive: u32,
}

/// A project led by the admin, with Anna (decision maker) and Bo (champion) in the group and a
/// go-live milestone.
async fn setup(h: &H) -> Setup {
    h.clock.set(at("2027-02-01T09:00:00Z"));
    let p = h
        .crm
        .create_project(
            &h.admin,
            json!({
                "name": "Rollout", "start": "2027-01-04", "target": "2027-06-30",
                "phases": [
                    {"name": "Build", "start": "2027-01-04", "finish": "2027-04-30"},
                    {"name": "Adopt", "start": "2027-05-01", "finish": "2027-06-30"}
                ],
                "budget": {"currency": "SEK", "amount": 100000000, "buffer_percent": 10.0}
            }),
        )
        .await
        .unwrap();
    let id = p.id.to_string();
    let anna = add_user(&*h.store, "anna@example.com", Role::User, h.clock.now()).await;
    let bo = add_user(&*h.store, "bo@example.com", Role::User, h.clock.now()).await;
    let a = h
        .crm
        .add_member(
            &h.admin,
            &id,
            json!({"user": anna.user_id, "roles": [{"role": "management_decision_maker"}]}),
        )
        .await
        .unwrap();
    let b = h
        .crm
        .add_member(
            &h.admin,
            &id,
            json!({"user": bo.user_id, "roles": [{"role": "champion"}]}),
        )
        .await
        .unwrap();
    let golive = h
        .crm
        .add_task(
            &h.admin,
            &id,
            json!({"name": "Go-live", "start": "2027-05-03", "milestone": true, "area": "system", "planned_hours": 1}),
        )
        .await
        .unwrap();
    Setup {
        id,
        anna,
        bo,
        anna_no: a.number,
        bo_no: b.number,
        golive: golive.number,
    }
}

pub async fn change_requests_take_effect_when_every_approver_approves(h: H) {
    let s = setup(&h).await;
    let id = &s.id;
    // Bo raises it (a member may); it names its effects and both approvers.
    let cr = h
        .crm
        .raise_change(
            &s.bo,
            id,
            json!({
                "title": "Marketing in phase 1", "scope_impact": "Campaigns in scope",
                "effort_hours": 120,
                "effects": [
                    {"kind": "move_task", "task": s.golive, "start": "2027-05-17", "finish": "2027-05-17"},
                    {"kind": "add_task", "name": "Train marketing", "start": "2027-05-03", "finish": "2027-05-07", "area": "anchoring"},
                    {"kind": "budget", "delta": 10000000}
                ],
                "approvers": [s.anna_no, s.bo_no]
            }),
        )
        .await
        .unwrap();
    assert_eq!(cr.requested_by, Some(s.bo_no));
    assert_eq!(cr.state, ChangeState::Draft);
    // Unknown tasks, unknown approvers and unknown fields are refused by name.
    for (body, field) in [
        (
            json!({"title": "x", "effects": [{"kind": "move_task", "task": 999, "start": "2027-05-17", "finish": "2027-05-17"}]}),
            "effects",
        ),
        (json!({"title": "x", "approvers": [77]}), "approvers"),
        (json!({"title": "x", "colour": "red"}), "colour"),
        (
            json!({"title": "x", "effects": [{"kind": "budget", "delta": "lots"}]}),
            "effects[0]",
        ),
    ] {
        let e = h.crm.raise_change(&s.bo, id, body).await.unwrap_err();
        assert_eq!(e.errors[0].field, field, "{e:?}");
    }
    // A reader who is not in the group may not raise one.
    let outsider = add_user(&*h.store, "out@example.com", Role::User, h.clock.now()).await;
    let e = h
        .crm
        .raise_change(&outsider, id, json!({"title": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    let cr = h.crm.submit_change(&s.bo, id, cr.number, cr.version).await.unwrap();
    assert_eq!(cr.state, ChangeState::Submitted);
    // Bo cannot decide for Anna; the admin cannot decide for an internal approver either.
    for who in [&s.bo, &h.admin] {
        let e = h
            .crm
            .decide_change(
                who,
                id,
                cr.number,
                json!({"approver": s.anna_no, "verdict": "approve", "version": cr.version}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
    }
    let cr = h
        .crm
        .decide_change(
            &s.anna,
            id,
            cr.number,
            json!({"verdict": "approve", "comment": "Fine", "version": cr.version}),
        )
        .await
        .unwrap();
    assert_eq!(cr.state, ChangeState::Submitted);
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    assert_eq!(
        state.task(s.golive).unwrap().start,
        d("2027-05-03"),
        "nothing moves before the last approval"
    );
    assert_eq!(state.tasks.len(), 1);
    // A stale version is refused with the current request.
    let e = h
        .crm
        .decide_change(
            &s.bo,
            id,
            cr.number,
            json!({"verdict": "approve", "version": cr.version - 1}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    let cr = h
        .crm
        .decide_change(
            &s.bo,
            id,
            cr.number,
            json!({"verdict": "approve", "version": cr.version}),
        )
        .await
        .unwrap();
    assert_eq!(cr.state, ChangeState::Approved);
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let golive = state.task(s.golive).unwrap();
    assert_eq!((golive.start, golive.finish), (d("2027-05-17"), d("2027-05-17")));
    assert!(state.tasks.iter().any(|t| t.name == "Train marketing"));
    assert_eq!(state.project.settings.budget.amount, 110_000_000);
    let stored = state.change_request(cr.number).unwrap();
    assert_eq!(stored.applied.len(), 3, "{:?}", stored.applied);
    assert_eq!(
        serde_json::to_value(&stored.applied[0]).unwrap(),
        json!({"kind": "task_moved", "task": s.golive, "name": "Go-live",
               "from": ["2027-05-03", "2027-05-03"], "to": ["2027-05-17", "2027-05-17"]})
    );
    assert_eq!(
        serde_json::to_value(&stored.applied[2]).unwrap(),
        json!({"kind": "budget_changed", "currency": "SEK", "from": 100000000, "to": 110000000})
    );

    // Rejected: a reason is needed; then carried over once as a requirement for the next phase.
    let cr2 = h
        .crm
        .raise_change(
            &h.admin,
            id,
            json!({"title": "Mobile app", "description": "Sellers on the road", "approvers": [s.anna_no]}),
        )
        .await
        .unwrap();
    let cr2 = h
        .crm
        .submit_change(&h.admin, id, cr2.number, cr2.version)
        .await
        .unwrap();
    let e = h
        .crm
        .decide_change(
            &s.anna,
            id,
            cr2.number,
            json!({"verdict": "reject", "version": cr2.version}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "comment");
    let cr2 = h
        .crm
        .decide_change(
            &s.anna,
            id,
            cr2.number,
            json!({"verdict": "reject", "comment": "Not now", "version": cr2.version}),
        )
        .await
        .unwrap();
    assert_eq!(cr2.state, ChangeState::Rejected);
    let req = h
        .crm
        .carry_over_change(&h.admin, id, cr2.number, cr2.version)
        .await
        .unwrap();
    assert_eq!((req.from_change, req.phase.as_str()), (Some(cr2.number), "Adopt"));
    let e = h
        .crm
        .carry_over_change(&h.admin, id, cr2.number, cr2.version + 1)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "state");

    // An approver leaves: Anna approved, Bo is removed before deciding, so it takes effect in
    // the same write as the removal.
    let cr3 = h
        .crm
        .raise_change(
            &h.admin,
            id,
            json!({"title": "Later go-live", "approvers": [s.anna_no, s.bo_no],
                   "effects": [{"kind": "move_task", "task": s.golive, "start": "2027-05-24", "finish": "2027-05-24"}]}),
        )
        .await
        .unwrap();
    let cr3 = h
        .crm
        .submit_change(&h.admin, id, cr3.number, cr3.version)
        .await
        .unwrap();
    h.crm
        .decide_change(
            &s.anna,
            id,
            cr3.number,
            json!({"verdict": "approve", "version": cr3.version}),
        )
        .await
        .unwrap();
    // And a request Bo alone was to approve goes back to draft.
    let cr4 = h
        .crm
        .raise_change(&h.admin, id, json!({"title": "Bo's call", "approvers": [s.bo_no]}))
        .await
        .unwrap();
    h.crm
        .submit_change(&h.admin, id, cr4.number, cr4.version)
        .await
        .unwrap();
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let bo = state.member(s.bo_no).unwrap();
    h.crm.remove_member(&h.admin, id, s.bo_no, bo.version).await.unwrap();
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    assert_eq!(state.change_request(cr3.number).unwrap().state, ChangeState::Approved);
    assert_eq!(state.task(s.golive).unwrap().start, d("2027-05-24"));
    let cr4 = state.change_request(cr4.number).unwrap();
    assert_eq!((cr4.state, cr4.approvers.len()), (ChangeState::Draft, 0));
}

pub async fn meetings_matrix_and_status_reports(h: H) {
    let s = setup(&h).await;
    let id = &s.id;
    // The matrix: a monthly status report to the steering group, the steering group's minutes.
    let report_row = h
        .crm
        .add_communication(
            &h.admin,
            id,
            json!({"sender_role": "management_decision_maker", "audience": "Steering group", "content": "Status report",
                   "channel": "E-mail", "frequency": "monthly", "fulfilled_by": {"by": "status_report"}, "starts": "2027-02-01"}),
        )
        .await
        .unwrap();
    let minutes_row = h
        .crm
        .add_communication(
            &h.admin,
            id,
            json!({"sender_role": "management_decision_maker", "audience": "All staff", "content": "Steering decisions",
                   "frequency": "monthly", "fulfilled_by": {"by": "minutes", "series": "steering_group"}, "starts": "2027-02-10"}),
        )
        .await
        .unwrap();
    let e = h
        .crm
        .add_communication(
            &h.admin,
            id,
            json!({"sender_role": "astrologer", "audience": "x", "content": "x", "frequency": "weekly", "fulfilled_by": {"by": "manual"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "sender_role");

    // An action for Bo, due before the meeting; an escalated risk; a change waiting.
    let action = h
        .crm
        .add_action(
            &h.admin,
            id,
            json!({"title": "Clean the customer list", "owner": s.bo_no, "due": "2027-02-05", "meeting": null}),
        )
        .await
        .unwrap();
    let risk = h
        .crm
        .escalate(
            &s.bo,
            id,
            json!({"kind": "risk", "title": "Vendor short of consultants"}),
        )
        .await
        .unwrap();
    let e = h
        .crm
        .decide_escalation(&s.bo, id, risk.number, "Accept", risk.version)
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::Forbidden,
        "a champion does not decide for management"
    );
    let cr = h
        .crm
        .raise_change(
            &h.admin,
            id,
            json!({"title": "More licences", "approvers": [s.anna_no]}),
        )
        .await
        .unwrap();
    h.crm.submit_change(&h.admin, id, cr.number, cr.version).await.unwrap();

    let steering = h
        .crm
        .add_meeting(&h.admin, id, json!({"series": "steering_group", "date": "2027-02-10"}))
        .await
        .unwrap();
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let agenda = state.agenda(state.meeting(steering.number).unwrap());
    assert!(
        agenda
            .iter()
            .any(|i| matches!(i, AgendaItem::Escalation { number, .. } if *number == risk.number))
    );
    assert!(
        agenda
            .iter()
            .any(|i| matches!(i, AgendaItem::Change { number, .. } if *number == cr.number))
    );
    let core = h
        .crm
        .add_meeting(&h.admin, id, json!({"series": "core_team", "date": "2027-02-08"}))
        .await
        .unwrap();
    let core_agenda = state_agenda(&h, id, core.number).await;
    assert!(
        core_agenda
            .iter()
            .any(|i| matches!(i, AgendaItem::Action { number, overdue: true, .. } if *number == action.number)),
        "the overdue action is flagged at the next core-team meeting: {core_agenda:?}"
    );

    // On the 7th, Bo's follow-up shows the overdue action; Anna's the overdue status report.
    h.clock.set(at("2027-02-07T08:00:00Z"));
    let bo_work = h.crm.follow_up(&s.bo).await.unwrap();
    assert_eq!(bo_work.actions.len(), 1);
    assert!(bo_work.actions[0].1.overdue(d("2027-02-07")));
    let anna_work = h.crm.follow_up(&s.anna).await.unwrap();
    assert_eq!(anna_work.approvals.len(), 1, "the change waits for Anna");
    assert_eq!(anna_work.escalations.len(), 1, "the decision maker sees the escalation");
    let (_, _, _, due) = anna_work
        .communications
        .iter()
        .find(|(_, c, _, _)| c.number == report_row.number)
        .unwrap();
    assert_eq!(*due, Due::Overdue, "due on the 1st, five days of grace");

    // The steering group meets on the 10th and decides; holding it freezes the agenda and marks
    // its minutes row sent.
    h.clock.set(at("2027-02-10T15:00:00Z"));
    let decided = h
        .crm
        .decide_escalation(&s.anna, id, risk.number, "Hire a second vendor", risk.version)
        .await
        .unwrap();
    assert!(decided.decision.is_some());
    let held = h
        .crm
        .record_minutes(
            &h.admin,
            id,
            steering.number,
            json!({"version": steering.version, "minutes": "Went through the plan.", "decisions": ["Go-live stays in May"],
                   "actions": [{"title": "Book training rooms", "owner": s.anna_no, "due": "2027-02-20"}], "held": true}),
        )
        .await
        .unwrap();
    assert!(held.held.is_some());
    assert!(!held.agenda.is_empty(), "the agenda is kept as it was");
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    assert_eq!(
        state.communication(minutes_row.number).unwrap().last_done,
        Some(d("2027-02-10"))
    );
    assert!(
        state
            .actions
            .iter()
            .any(|a| a.title == "Book training rooms" && a.meeting == Some(steering.number))
    );

    // The first report: everything is new; sending it keeps the snapshot and marks its row.
    let first = h.crm.send_report(&h.admin, id, "All on track.", &Plain).await.unwrap();
    assert!(first.markdown.contains("All on track."), "{}", first.markdown);
    assert!(
        first
            .markdown
            .contains("report-decided-meeting(date=2027-02-10, text=Go-live stays in May)")
    );
    assert!(first.markdown.contains("Hire a second vendor"));
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    assert_eq!(
        state.communication(report_row.number).unwrap().last_done,
        Some(d("2027-02-10"))
    );
    assert_eq!(state.reports.len(), 1);
    let e = h.crm.send_report(&s.bo, id, "", &Plain).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    // A week later: the milestone moved, Bo finished his action, Anna approved the change.
    h.clock.set(at("2027-02-17T10:00:00Z"));
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let golive = state.task(s.golive).unwrap();
    h.crm
        .update_task(
            &h.admin,
            id,
            s.golive,
            json!({"version": golive.version, "start": "2027-05-10"}),
        )
        .await
        .unwrap();
    let cr = state.change_request(cr.number).unwrap();
    h.crm
        .decide_change(
            &s.anna,
            id,
            cr.number,
            json!({"verdict": "approve", "version": cr.version}),
        )
        .await
        .unwrap();
    let a = state.action(action.number).unwrap();
    h.crm
        .update_action(&s.bo, id, action.number, json!({"version": a.version, "done": true}))
        .await
        .unwrap();
    let e = h
        .crm
        .update_action(
            &s.bo,
            id,
            action.number,
            json!({"version": a.version + 1, "title": "Renamed"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "an owner marks done; only leaders rename");
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let draft = state.draft_report(d("2027-02-17"), "", &Plain).unwrap();
    assert_eq!(
        draft.differences,
        vec![
            Difference::TaskMoved {
                task: s.golive,
                name: "Go-live".into(),
                from: d("2027-05-03"),
                to: d("2027-05-10")
            },
            Difference::ChangeMoved {
                number: cr.number,
                title: "More licences".into(),
                state: ChangeState::Approved
            }
        ],
        "exactly what changed since the first report"
    );
    assert_eq!(
        draft.decisions.len(),
        1,
        "only the approval is new: {:?}",
        draft.decisions
    );
    assert!(
        !draft.markdown.contains("Hire a second vendor"),
        "decided before the last report"
    );

    // A template of one's own, checked when saved; a broken one is refused by field and line.
    let e = h
        .crm
        .update_project(
            &h.admin,
            id,
            json!({"version": state.project.version, "report_template": "# {{ project.name }\n"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "report_template");
    h.crm
        .update_project(
            &h.admin,
            id,
            json!({"version": state.project.version, "report_template": "{{ project.name }}: {{ progress.percent }} {% for c in changes %}[{{ c.kind }}]{% endfor %}"}),
        )
        .await
        .unwrap();
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let draft = state.draft_report(d("2027-02-17"), "", &Plain).unwrap();
    assert_eq!(draft.markdown, "Rollout: 0% [task_moved][change_moved]");
}

async fn state_agenda(h: &H, id: &str, meeting: u32) -> Vec<AgendaItem> {
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    state.agenda(state.meeting(meeting).unwrap())
}

pub async fn journeys_trace_requirements_to_configuration(h: H) {
    let s = setup(&h).await;
    let id = &s.id;
    h.crm
        .add_field(
            &h.admin,
            "deal",
            json!({"name": "sla_hours", "label": "SLA hours", "type": "number"}),
        )
        .await
        .unwrap();
    h.crm
        .add_field(
            &h.admin,
            "company",
            json!({"name": "segment_code", "label": "Segment code", "type": "text"}),
        )
        .await
        .unwrap();
    let journey = h
        .crm
        .add_journey(
            &s.bo,
            id,
            json!({"name": "Customer complaint", "touchpoints": [
                {"name": "Calls support", "tasks": ["Finds the customer", "Logs the case"]},
                {"name": "Gets an answer", "tasks": ["Reads the reply"]}
            ]}),
        )
        .await
        .unwrap();
    let traced = h
        .crm
        .add_requirement(
            &s.bo,
            id,
            json!({"text": "See the promised response time", "journey": journey.number, "touchpoint": 0,
                   "priority": "must", "why": "So the caller is told the truth",
                   "traces": [{"kind": "field", "target": "deal.sla_hours"}]}),
        )
        .await
        .unwrap();
    let untraced = h
        .crm
        .add_requirement(
            &s.bo,
            id,
            json!({"text": "Reply templates", "journey": journey.number, "touchpoint": 1, "priority": "should", "three_year": true}),
        )
        .await
        .unwrap();
    for (body, field) in [
        (
            json!({"text": "x", "priority": "must", "traces": [{"kind": "field", "target": "deal.nope"}]}),
            "traces",
        ),
        (
            json!({"text": "x", "priority": "must", "journey": journey.number, "touchpoint": 5}),
            "touchpoint",
        ),
        (json!({"text": "x", "priority": "urgent"}), "priority"),
        (json!({"text": "x", "priority": "must", "phase": "Party"}), "phase"),
    ] {
        let e = h.crm.add_requirement(&s.bo, id, body).await.unwrap_err();
        assert_eq!(e.errors[0].field, field, "{e:?}");
    }
    let training = h
        .crm
        .add_config_item(&s.bo, id, json!({"kind": "training", "name": "Support course"}))
        .await
        .unwrap();
    let e = h
        .crm
        .add_config_item(&s.bo, id, json!({"kind": "field", "name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "kind");

    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let (t, _) = h.crm.traceability(&h.admin, &state).await.unwrap();
    assert_eq!(t.untraced, vec![untraced.number]);
    let unrequired: Vec<&str> = t.unrequired.iter().map(|c| c.target.as_str()).collect();
    let training_target = training.number.to_string();
    assert!(unrequired.contains(&"company.segment_code"), "{unrequired:?}");
    assert!(unrequired.contains(&training_target.as_str()), "{unrequired:?}");
    assert!(!unrequired.contains(&"deal.sla_hours"));
    assert!(
        !unrequired.contains(&"deal.amount"),
        "standard fields need no requirement"
    );

    // Tracing the second requirement to the training empties both lists for them.
    h.crm
        .update_requirement(
            &s.bo,
            id,
            untraced.number,
            json!({"version": untraced.version, "traces": [{"kind": "training", "target": training_target}]}),
        )
        .await
        .unwrap();
    // The recorded training goes away: the trace is kept and shown as dangling.
    let (state, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    h.crm
        .delete_config_item(&s.bo, id, training.number, training.version)
        .await
        .unwrap();
    let (state2, _) = h.crm.project_state(&h.admin, id).await.unwrap();
    let (t, _) = h.crm.traceability(&h.admin, &state2).await.unwrap();
    assert!(t.untraced.is_empty());
    assert_eq!(t.dangling.len(), 1);
    assert_eq!(state.requirement(traced.number).unwrap().traces.len(), 1);
    // A journey cannot drop a touchpoint a requirement comes from.
    let e = h
        .crm
        .update_journey(
            &s.bo,
            id,
            journey.number,
            json!({"version": journey.version, "touchpoints": [{"name": "Calls support"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "touchpoints");
}
