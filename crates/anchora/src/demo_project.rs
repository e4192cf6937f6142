//! The demo's implementation project: a rollout two months under way, with a group that still
//! has gaps (no system owner, a user group without a key user) so the health panel has
//! something to say, and a plan that is a little behind.

use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::project::model::PackageState;
use anchora_core::service::Crm;
use anchora_core::{Clock, Store, UserId};
use anyhow::{Result, anyhow};
use chrono::Duration;
use serde_json::{Value, json};
use std::sync::Arc;

/// (name, start day, working days, area, hours, cost in SEK, done %, owner, phase, milestone)
type PlannedTask = (
    &'static str,
    i64,
    i64,
    &'static str,
    f64,
    i64,
    f64,
    Option<u32>,
    &'static str,
    bool,
);

fn err(e: anchora_core::Error) -> anyhow::Error {
    anyhow!(e.detail)
}

/// Create the demo project unless there is one already.
pub async fn ensure(store: Arc<dyn Store>, clock: Arc<dyn Clock>, admin: UserId) -> Result<()> {
    let crm = Crm::new(store.clone(), clock.clone());
    let who = Principal::new(admin, Role::Admin, None, Credential::Local);
    if !crm.projects(&who).await.map_err(err)?.is_empty() {
        return Ok(());
    }
    let today = clock.now().date_naive();
    let start = today - Duration::days(63);
    let day = |n: i64| (start + Duration::days(n)).to_string();
    let p = crm
        .create_project(
            &who,
            json!({
                "name": "CRM rollout 2027",
                "start": day(0),
                "target": day(180),
                "goals": [
                    {"text": "One shared view of every customer", "strategy": "Grow key accounts by 15 % a year"},
                    {"text": "Forecasts management can trust", "strategy": "Predictable growth"}
                ],
                "phases": [
                    {"name": "Analysis", "start": day(0), "finish": day(41)},
                    {"name": "Build", "start": day(42), "finish": day(125)},
                    {"name": "Go-live", "start": day(126), "finish": day(180)}
                ],
                "mandate": {"granted_by": "Karin Dahl, CEO", "granted_on": day(-14), "scope": "Sales and service in the Nordics; marketing in phase 2"},
                "budget": {"currency": "SEK", "amount": 180_000_000, "buffer_percent": 15.0, "committed": 95_000_000, "spent": 61_000_000},
                "cadence": "biweekly",
                "departments": ["Sales", "Service", "Marketing"],
                "user_groups": ["Field sales", "Inside sales", "Customer service"]
            }),
        )
        .await
        .map_err(err)?;
    let id = p.id.to_string();
    let users = store.users().await.map_err(err)?;
    let user = |email: &str| users.iter().find(|u| u.email.as_deref() == Some(email)).map(|u| u.id);
    let mut members = Vec::new();
    let group: [(Option<UserId>, &str, &str, Value); 7] = [
        (
            Some(admin),
            "",
            "",
            json!([{"role": "project_leader"}, {"role": "administrator"}]),
        ),
        (None, "Karin Dahl", "", json!([{"role": "management_decision_maker"}])),
        (
            user("sara.lindberg@example.com"),
            "",
            "",
            json!([{"role": "champion"}, {"role": "key_user", "user_group": "Field sales"}]),
        ),
        (
            user("anders.berg@example.com"),
            "",
            "",
            json!([{"role": "department_representative", "department": "Sales"}]),
        ),
        (
            user("linnea.holm@example.com"),
            "",
            "",
            json!([{"role": "informal_influencer"}, {"role": "key_user", "user_group": "Inside sales"}]),
        ),
        (None, "Omar Haddad", "", json!([{"role": "technical_expert"}])),
        (
            None,
            "Mikael Ek",
            "CRM Partner AB",
            json!([{"role": "vendor_project_lead"}, {"role": "vendor_support"}]),
        ),
    ];
    for (user, name, org, roles) in group {
        let mut body = json!({"name": name, "organisation": org, "roles": roles});
        if let (Some(u), Some(map)) = (user, body.as_object_mut()) {
            map.insert("user".into(), json!(u));
        }
        members.push(crm.add_member(&who, &id, body).await.map_err(err)?.number);
    }
    let m = |i: usize| members.get(i).copied();
    let plan: [PlannedTask; 14] = [
        (
            "Interview each department",
            0,
            14,
            "business",
            80.0,
            0,
            100.0,
            m(3),
            "Analysis",
            false,
        ),
        (
            "Map the customer journeys",
            14,
            27,
            "business",
            120.0,
            0,
            100.0,
            m(2),
            "Analysis",
            false,
        ),
        (
            "Requirements signed off",
            41,
            0,
            "business",
            0.0,
            0,
            100.0,
            m(0),
            "Analysis",
            true,
        ),
        (
            "Data cleansing of old CRM export",
            14,
            28,
            "system",
            90.0,
            18_000,
            60.0,
            m(5),
            "Build",
            false,
        ),
        (
            "Configure objects and pipeline",
            42,
            42,
            "system",
            200.0,
            160_000,
            55.0,
            m(6),
            "Build",
            false,
        ),
        (
            "Integration to ERP",
            42,
            56,
            "system",
            240.0,
            220_000,
            20.0,
            m(6),
            "Build",
            false,
        ),
        (
            "Key-user training plan",
            56,
            14,
            "anchoring",
            40.0,
            0,
            30.0,
            m(4),
            "Build",
            false,
        ),
        (
            "Communication to all users",
            63,
            56,
            "anchoring",
            60.0,
            20_000,
            10.0,
            m(0),
            "Build",
            false,
        ),
        (
            "Pilot with field sales",
            98,
            21,
            "anchoring",
            80.0,
            0,
            0.0,
            m(2),
            "Build",
            false,
        ),
        (
            "Acceptance test",
            119,
            14,
            "system",
            60.0,
            30_000,
            0.0,
            m(5),
            "Build",
            false,
        ),
        (
            "Train all users",
            133,
            17,
            "anchoring",
            160.0,
            90_000,
            0.0,
            m(4),
            "Go-live",
            false,
        ),
        ("Go-live", 150, 0, "business", 0.0, 0, 0.0, m(0), "Go-live", true),
        (
            "Measure usage per user",
            151,
            29,
            "anchoring",
            30.0,
            0,
            0.0,
            m(0),
            "Go-live",
            false,
        ),
        ("Project review", 180, 0, "business", 8.0, 0, 0.0, m(0), "Go-live", true),
    ];
    let mut numbers = Vec::new();
    for (name, from, days, area, hours, cost, done, owner, phase, milestone) in plan {
        let finish = if days == 0 { from } else { from + days - 1 };
        let task = crm
            .add_task(
                &who,
                &id,
                json!({
                    "name": name, "start": day(from), "finish": day(finish), "area": area,
                    "planned_hours": hours, "planned_cost": cost * 100, "percent_done": done,
                    "actual_hours": hours * done / 100.0 * 1.2, "actual_cost": cost * 100 * i64::from(done > 0.0) * 11 / 10,
                    "owner": owner, "phase": phase, "milestone": milestone,
                    "external": if name == "Integration to ERP" {
                        json!([{"kind": "team", "party": "ERP team", "note": "Test environment promised for week 10"}])
                    } else { json!([]) }
                }),
            )
            .await
            .map_err(err)?;
        numbers.push(task.number);
    }
    let n = |i: usize| numbers.get(i).copied().unwrap_or(0);
    let dependencies = [
        (0, 1),
        (1, 2),
        (2, 4),
        (2, 5),
        (3, 4),
        (4, 8),
        (5, 8),
        (8, 9),
        (9, 10),
        (6, 10),
        (10, 11),
        (7, 11),
        (11, 12),
        (12, 13),
    ];
    for (a, b) in dependencies {
        crm.add_dependency(&who, &id, n(a), n(b)).await.map_err(err)?;
    }
    let wp = crm
        .add_work_package(
            &who,
            &id,
            json!({"title": "ERP integration: orders and invoices", "description": "Orders and invoices from the ERP on each company's timeline, nightly.", "vendor": m(6), "due": day(95)}),
        )
        .await
        .map_err(err)?;
    crm.move_work_package(&who, &id, wp.number, PackageState::HandedOver, "", wp.version)
        .await
        .map_err(err)?;
    let golive = numbers
        .iter()
        .zip(plan.iter())
        .find(|(_, t)| t.0 == "Go-live")
        .map(|(n, _)| *n);
    governance(&crm, &who, &id, &members, golive, today).await
}

/// Part 2 of the demo: the communication matrix, a steering-group meeting held with its actions,
/// a core-team meeting coming up, an overdue action, an escalated risk, a status report sent, a
/// change request half approved, and a customer journey with requirements, one traced.
async fn governance(
    crm: &Crm,
    who: &Principal,
    id: &str,
    members: &[u32],
    golive: Option<u32>,
    today: chrono::NaiveDate,
) -> Result<()> {
    let m = |i: usize| members.get(i).copied();
    let rel = |n: i64| (today + Duration::days(n)).to_string();
    for row in [
        json!({"sender_role": "project_leader", "audience": "Steering group", "content": "Status report", "channel": "E-mail",
               "frequency": "monthly", "fulfilled_by": {"by": "status_report"}, "starts": rel(-35)}),
        json!({"sender_role": "management_decision_maker", "audience": "All staff", "content": "What the steering group decided", "channel": "Intranet",
               "frequency": "monthly", "fulfilled_by": {"by": "minutes", "series": "steering_group"}, "starts": rel(-30)}),
        json!({"sender_role": "champion", "audience": "Field sales", "content": "Tips and news from the pilot", "channel": "Newsletter",
               "frequency": "biweekly", "fulfilled_by": {"by": "manual"}, "starts": rel(-20)}),
    ] {
        crm.add_communication(who, id, row).await.map_err(err)?;
    }
    let steering = crm
        .add_meeting(
            who,
            id,
            json!({"series": "steering_group", "date": rel(-24), "title": "Analysis closed"}),
        )
        .await
        .map_err(err)?;
    crm.record_minutes(
        who,
        id,
        steering.number,
        json!({"version": steering.version, "minutes": "The analysis is done. Marketing asks to join phase 1.",
               "decisions": ["The analysis is accepted", "Marketing prepares a change request"],
               "attendees": [m(0), m(1), m(3)],
               "actions": [
                   {"title": "Collect field sales' wish list", "owner": m(2), "due": rel(-5)},
                   {"title": "Book rooms for the training", "owner": m(4), "due": rel(20)}
               ],
               "held": true}),
    )
    .await
    .map_err(err)?;
    crm.add_meeting(who, id, json!({"series": "core_team", "date": rel(2)}))
        .await
        .map_err(err)?;
    let voice = anchora_web::report_voice::ReportVoice(anchora_web::i18n::Tr::new("en"));
    crm.send_report(who, id, "The analysis is closed; building has begun.", &voice)
        .await
        .map_err(err)?;
    crm.escalate(
        who,
        id,
        json!({"kind": "risk", "title": "The ERP vendor is short of consultants",
               "description": "Without a second consultant the integration slips four weeks."}),
    )
    .await
    .map_err(err)?;
    let mut effects = vec![
        json!({"kind": "add_task", "name": "Train marketing", "start": rel(60), "finish": rel(64), "area": "anchoring", "planned_hours": 40}),
        json!({"kind": "budget", "delta": 15_000_000}),
    ];
    if let Some(g) = golive {
        effects.insert(
            0,
            json!({"kind": "move_task", "task": g, "start": rel(101), "finish": rel(101)}),
        );
    }
    let cr = crm
        .raise_change(
            who,
            id,
            json!({"title": "Marketing in phase 1", "description": "Campaigns and leads in the CRM from the start.",
                   "requested_by": m(3), "scope_impact": "Campaign and lead handling join phase 1",
                   "requirements_impact": "Two new requirements for lead scoring", "effort_hours": 120,
                   "affected": ["Marketing", "Sales"], "approvers": [m(1), m(3)], "effects": effects}),
        )
        .await
        .map_err(err)?;
    let cr = crm.submit_change(who, id, cr.number, cr.version).await.map_err(err)?;
    // Karin is external: the leader records her approval.
    crm.decide_change(
        who,
        id,
        cr.number,
        json!({"approver": m(1), "verdict": "approve", "comment": "Yes, if the budget holds", "version": cr.version}),
    )
    .await
    .map_err(err)?;
    let journey = crm
        .add_journey(
            who,
            id,
            json!({"name": "A new customer signs up", "description": "From the first call to the first delivery.",
            "touchpoints": [
                {"name": "Asks for an offer", "tasks": ["Finds us on the web", "Fills in the form"]},
                {"name": "Meets the seller", "tasks": ["Gets a tailored offer"]},
                {"name": "Signs", "tasks": ["Signs the contract", "Gets a welcome call"]}
            ]}),
        )
        .await
        .map_err(err)?;
    crm.add_requirement(
        who,
        id,
        json!({"text": "See the offer's value and stage on every deal", "journey": journey.number, "touchpoint": 1,
               "priority": "must", "why": "So the seller knows what was promised",
               "traces": [{"kind": "field", "target": "deal.amount"}]}),
    )
    .await
    .map_err(err)?;
    crm.add_requirement(
        who,
        id,
        json!({"text": "A welcome call is booked the day the contract is signed", "journey": journey.number, "touchpoint": 2,
               "priority": "should", "three_year": false, "why": "New customers feel looked after from day one"}),
    )
    .await
    .map_err(err)?;
    crm.add_config_item(
        who,
        id,
        json!({"kind": "training", "name": "CRM basics for field sales"}),
    )
    .await
    .map_err(err)?;
    Ok(())
}
