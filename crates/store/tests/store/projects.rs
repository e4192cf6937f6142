//! Implementation projects on both databases: the group and its health, the plan with its
//! dependencies, work packages, rights, and writes that conflict.

use super::{H, add_user};
use anchora_core::auth::Role;
use anchora_core::project::health::Rule;
use anchora_core::project::model::{PackageState, TASK};
use anchora_core::store::*;
use anchora_core::store::{BatchOutcome, ItemWrite, ProjectBatch};
use anchora_core::{Clock, ErrorCode};
use serde_json::json;

async fn new_project(h: &H) -> String {
    let p = h
        .crm
        .create_project(
            &h.admin,
            json!({
                "name": "CRM rollout",
                "start": "2027-01-04",
                "target": "2027-06-30",
                "goals": [{"text": "One customer view", "strategy": "Grow key accounts"}],
                "phases": [{"name": "Build", "start": "2027-01-04", "finish": "2027-04-30"}],
                "budget": {"currency": "SEK", "amount": 100000000, "buffer_percent": 15.0},
                "departments": ["Sales", "Service"],
                "user_groups": ["Field sales"]
            }),
        )
        .await
        .unwrap();
    p.id.to_string()
}

fn health_ok(state: &anchora_core::project::ProjectState, rule: Rule) -> bool {
    state.health().iter().any(|c| c.rule == rule && c.ok)
}

pub async fn project_group_plan_and_packages(h: H) {
    let id = new_project(&h).await;
    let leader = add_user(&*h.store, "leader@example.com", Role::User, h.clock.now()).await;
    let reader = add_user(&*h.store, "board@example.com", Role::ReadOnly, h.clock.now()).await;
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;

    // Nobody in the group yet: every required role is missing.
    let (state, rights) = h.crm.project_state(&h.admin, &id).await.unwrap();
    assert!(rights.edit);
    assert!(!health_ok(&state, Rule::RolesFilled));
    assert!(!health_ok(&state, Rule::SystemOwnerNamed));

    // A plain user cannot change the project until they lead it.
    let e = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "x", "start": "2027-01-04", "area": "system"}),
        )
        .await;
    assert_eq!(e.unwrap_err().code, ErrorCode::Forbidden);
    let lead = h
        .crm
        .add_member(
            &h.admin,
            &id,
            json!({"user": leader.user_id, "roles": [{"role": "project_leader"}, {"role": "champion"}]}),
        )
        .await
        .unwrap();
    assert_eq!(lead.name, "leader@example.com");
    let (_, rights) = h.crm.project_state(&leader, &id).await.unwrap();
    assert!(rights.edit);
    assert_eq!(rights.member, Some(lead.number));

    // Scoped roles need one of the project's departments or groups.
    let e = h
        .crm
        .add_member(
            &leader,
            &id,
            json!({"name": "Eva", "roles": [{"role": "department_representative", "department": "Finance"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "roles");
    let e = h
        .crm
        .add_member(&leader, &id, json!({"name": "Eva", "roles": [{"role": "wizard"}]}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "roles");
    let e = h
        .crm
        .add_member(&leader, &id, json!({"name": "Eva", "shoe_size": 38}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);

    let vendor = h
        .crm
        .add_member(
            &leader,
            &id,
            json!({"name": "Vera Vendor", "organisation": "CRM AB", "email": "Vera@Vendor.example",
                   "roles": [{"role": "vendor_project_lead"}]}),
        )
        .await
        .unwrap();
    assert_eq!(vendor.email, "Vera@vendor.example", "the domain is lower-cased");
    let seller_member = h
        .crm
        .add_member(
            &leader,
            &id,
            json!({"user": seller.user_id, "roles": [{"role": "key_user", "user_group": "Field sales"}]}),
        )
        .await
        .unwrap();
    let (state, _) = h.crm.project_state(&reader, &id).await.unwrap();
    assert!(health_ok(&state, Rule::KeyUserPerGroup));
    assert!(!health_ok(&state, Rule::SystemOwnerNamed));
    let owner = h
        .crm
        .add_member(
            &leader,
            &id,
            json!({"name": "Olle Owner", "roles": [{"role": "system_owner"}]}),
        )
        .await
        .unwrap();
    let (state, rights) = h.crm.project_state(&reader, &id).await.unwrap();
    assert!(
        health_ok(&state, Rule::SystemOwnerNamed),
        "filling the role clears the warning"
    );
    assert!(!rights.edit, "read-only people follow the project without changing it");
    assert_eq!(
        h.crm
            .update_project(&reader, &id, json!({"version": 1, "name": "Mine"}))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );

    // The plan: two tasks and a milestone; a cycle is refused and names itself.
    let t1 = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Map the sales process", "start": "2027-01-04", "finish": "2027-01-15",
                   "area": "business", "planned_hours": 80.0, "owner": seller_member.number, "phase": "Build"}),
        )
        .await
        .unwrap();
    let t2 = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Configure pipeline", "start": "2027-01-16", "finish": "2027-01-29",
                   "area": "system", "planned_hours": 120.0, "planned_cost": 5000000}),
        )
        .await
        .unwrap();
    let m = h
        .crm
        .add_task(&leader, &id, json!({"name": "Go-live", "start": "2027-01-30", "finish": "2027-03-01", "milestone": true, "area": "anchoring"}))
        .await
        .unwrap();
    assert_eq!(m.finish, m.start, "a milestone is one day");
    let e = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Bad", "start": "2027-02-01", "finish": "2027-01-01", "area": "system"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "finish");
    let e = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Huge", "start": "2027-02-01", "area": "system", "planned_hours": 1e300}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "planned_hours");
    let e = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Typo", "start": "2027-02-01", "area": "sistem"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    h.crm.add_dependency(&leader, &id, t1.number, t2.number).await.unwrap();
    h.crm.add_dependency(&leader, &id, t2.number, m.number).await.unwrap();
    let e = h
        .crm
        .add_dependency(&leader, &id, m.number, t1.number)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "dependency");
    assert!(e.errors[0].message.contains("cycle"), "{e:?}");
    let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
    assert_eq!(state.dependencies.len(), 2);
    assert_eq!(state.schedule().unwrap().critical, [t1.number, t2.number, m.number]);

    // The owner reports progress on their task, but may not rename it.
    let done = h
        .crm
        .update_task(
            &seller,
            &id,
            t1.number,
            json!({"version": t1.version, "percent_done": 100.0, "actual_hours": 90.0}),
        )
        .await
        .unwrap();
    assert_eq!(done.status, anchora_core::project::model::TaskStatus::Done);
    let e = h
        .crm
        .update_task(
            &seller,
            &id,
            t1.number,
            json!({"version": done.version, "name": "Mine now"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // A stale version is refused.
    let e = h
        .crm
        .update_task(
            &leader,
            &id,
            t1.number,
            json!({"version": t1.version, "name": "Renamed"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);

    // Kick-off and review: each member speaks for themselves; leaders for external members.
    let e = h
        .crm
        .confirm_roles(&leader, &id, seller_member.number, seller_member.version)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // Roles changed after the member looked: confirming what they saw is refused.
    let changed = h
        .crm
        .update_member(
            &leader,
            &id,
            seller_member.number,
            json!({"version": seller_member.version, "roles": [{"role": "key_user", "user_group": " Field sales "}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        changed.roles[0].user_group.as_deref(),
        Some("Field sales"),
        "trimmed as checked"
    );
    let e = h
        .crm
        .confirm_roles(&seller, &id, seller_member.number, seller_member.version)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    let confirmed = h
        .crm
        .confirm_roles(&seller, &id, seller_member.number, changed.version)
        .await
        .unwrap();
    assert_eq!(confirmed.kickoff.as_ref().unwrap().roles, ["key_user"]);
    h.crm
        .confirm_roles(&leader, &id, vendor.number, vendor.version)
        .await
        .unwrap();
    let reviewed = h
        .crm
        .review_role(
            &seller,
            &id,
            seller_member.number,
            json!({"rating": 4, "text": "Too little time for training"}),
        )
        .await
        .unwrap();
    assert_eq!(reviewed.review.unwrap().rating, 4);
    let e = h
        .crm
        .review_role(&seller, &id, seller_member.number, json!({"rating": 9}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "rating");

    // A work package goes to the vendor and comes back.
    let wp = h
        .crm
        .add_work_package(
            &leader,
            &id,
            json!({"title": "Integration to ERP", "vendor": vendor.number, "due": "2027-03-01"}),
        )
        .await
        .unwrap();
    let wp = h
        .crm
        .move_work_package(&leader, &id, wp.number, PackageState::HandedOver, "", wp.version)
        .await
        .unwrap();
    let e = h
        .crm
        .move_work_package(&leader, &id, wp.number, PackageState::Accepted, "", wp.version)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "state");
    let wp = h
        .crm
        .move_work_package(&leader, &id, wp.number, PackageState::Delivered, "done", wp.version)
        .await
        .unwrap();
    let e = h
        .crm
        .move_work_package(&leader, &id, wp.number, PackageState::SentBack, "  ", wp.version)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "comment");
    let wp = h
        .crm
        .move_work_package(
            &leader,
            &id,
            wp.number,
            PackageState::SentBack,
            "Orders are missing",
            wp.version,
        )
        .await
        .unwrap();
    assert_eq!(wp.events.len(), 3);

    // Removing a member clears what they owned, in the same write.
    let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
    let sm = state.member(seller_member.number).unwrap();
    h.crm.remove_member(&leader, &id, sm.number, sm.version).await.unwrap();
    let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
    assert_eq!(state.task(t1.number).unwrap().owner, None);
    assert!(!health_ok(&state, Rule::KeyUserPerGroup));

    // Deleting a task takes its dependencies with it, as a change to the plan's graph (so a
    // dependency being added to it at the same moment fails instead of dangling).
    let t2now = state.task(t2.number).unwrap();
    let plan_version = state.project.plan_version;
    h.crm.delete_task(&leader, &id, t2.number, t2now.version).await.unwrap();
    let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
    assert!(state.dependencies.is_empty());
    assert_eq!(state.project.plan_version, plan_version + 1);
    // Dates stay between 1900 and 2999, so no date arithmetic can run off the calendar.
    let e = h
        .crm
        .add_task(
            &leader,
            &id,
            json!({"name": "Far", "start": "2027-01-04", "finish": "9999-12-31", "area": "system"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "finish");
    let e = h
        .crm
        .update_project(
            &leader,
            &id,
            json!({"version": state.project.version, "target": "+262142-12-31"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed, "{e:?}");
    // A task whose phase was renamed away still takes its owner's progress.
    let phased = state.task(t1.number).unwrap().clone();
    let p = h
        .crm
        .update_project(&leader, &id, json!({"version": state.project.version, "phases": [{"name": "Construction", "start": "2027-01-04", "finish": "2027-04-30"}]}))
        .await
        .unwrap();
    assert_eq!(p.settings.phases[0].name, "Construction");
    h.crm
        .update_task(
            &leader,
            &id,
            t1.number,
            json!({"version": phased.version, "actual_hours": 95.0}),
        )
        .await
        .unwrap();
    assert_eq!(state.members.len(), 3, "{:?}", owner.name);
}

pub async fn project_settings_and_catalogue(h: H) {
    let id = new_project(&h).await;
    let p = h
        .crm
        .update_project(
            &h.admin,
            &id,
            json!({"version": 1, "cadence": "weekly", "max_system_share": 0.4}),
        )
        .await
        .unwrap();
    assert_eq!(p.version, 2);
    let e = h
        .crm
        .update_project(&h.admin, &id, json!({"version": 1, "name": "Lost update"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.unwrap()["name"], "CRM rollout");
    let e = h
        .crm
        .update_project(
            &h.admin,
            &id,
            json!({"version": 2, "budget": {"currency": "SEK", "amount": -5, "buffer_percent": 10}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "budget.amount");
    let e = h
        .crm
        .update_project(
            &h.admin,
            &id,
            json!({"version": 2, "name": "'; DROP TABLE projects; --"}),
        )
        .await
        .unwrap();
    assert_eq!(e.settings.name, "'; DROP TABLE projects; --");
    assert_eq!(h.crm.projects(&h.admin).await.unwrap().len(), 1);

    // Administrators extend the catalogue; the new required role shows as missing.
    h.crm
        .add_project_role(
            &h.admin,
            json!({"key": "data_steward", "label": "Data steward", "required": true, "technical": false, "core_team": true, "scope": "project", "vendor": false}),
        )
        .await
        .unwrap();
    let e = h
        .crm
        .add_project_role(
            &h.admin,
            json!({"key": "data_steward", "label": "Data steward", "required": true, "technical": false, "core_team": true, "scope": "project", "vendor": false}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyExists);
    let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
    let roles = state
        .health()
        .into_iter()
        .find(|c| c.rule == Rule::RolesFilled)
        .unwrap();
    assert!(roles.missing.contains(&"data_steward".to_string()));
    let user = add_user(&*h.store, "u@example.com", Role::User, h.clock.now()).await;
    let e = h
        .crm
        .create_project(
            &user,
            json!({"name": "x", "start": "2027-01-01", "target": "2027-02-01"}),
        )
        .await;
    assert_eq!(e.unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(
        h.crm.project_state(&h.admin, "not-an-id").await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

/// A batch with a stale part writes nothing, not even its inserts.
pub async fn project_batches_are_all_or_nothing(h: H) {
    let id = new_project(&h).await;
    let t = h
        .crm
        .add_task(
            &h.admin,
            &id,
            json!({"name": "A", "start": "2027-01-04", "area": "system"}),
        )
        .await
        .unwrap();
    let pid = anchora_core::ProjectId::parse(&id).unwrap();
    let batch = ProjectBatch {
        items: vec![
            ItemWrite::Insert {
                kind: TASK,
                body: "{}".into(),
            },
            ItemWrite::Update {
                kind: TASK,
                number: t.number,
                expected_version: 99,
                body: "{}".into(),
            },
        ],
        ..ProjectBatch::default()
    };
    let out = h.store.write_project(pid, &batch, h.clock.now()).await.unwrap();
    assert_eq!(out, BatchOutcome::Stale(format!("task {}", t.number)));
    assert_eq!(h.store.project_items(pid).await.unwrap().len(), 1);
    let next = h
        .crm
        .add_task(
            &h.admin,
            &id,
            json!({"name": "B", "start": "2027-01-04", "area": "system"}),
        )
        .await
        .unwrap();
    assert_eq!(next.number, t.number + 1, "the failed batch used no number");
    let missing = anchora_core::ProjectId::new_at(h.clock.now());
    assert_eq!(
        h.store
            .write_project(missing, &ProjectBatch::default(), h.clock.now())
            .await
            .unwrap(),
        BatchOutcome::NotFound
    );
}

/// Two people add A → B and B → A at the same moment: one wins, the other is told of the cycle.
pub async fn concurrent_dependencies_never_close_a_cycle(h: H) {
    let id = new_project(&h).await;
    for round in 0..5 {
        let a = h
            .crm
            .add_task(
                &h.admin,
                &id,
                json!({"name": format!("A{round}"), "start": "2027-01-04", "area": "system"}),
            )
            .await
            .unwrap();
        let b = h
            .crm
            .add_task(
                &h.admin,
                &id,
                json!({"name": format!("B{round}"), "start": "2027-01-04", "area": "system"}),
            )
            .await
            .unwrap();
        let (x, y) = tokio::join!(
            h.crm.add_dependency(&h.admin, &id, a.number, b.number),
            h.crm.add_dependency(&h.admin, &id, b.number, a.number)
        );
        assert!(x.is_ok() != y.is_ok(), "exactly one wins: {x:?} {y:?}");
        let (state, _) = h.crm.project_state(&h.admin, &id).await.unwrap();
        state.schedule().unwrap();
    }
}
