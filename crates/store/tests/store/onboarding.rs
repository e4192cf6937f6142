//! Issue 22, points 5 and 6 (C3, C9): a checklist starts with every user made, its steps tick
//! themselves from what the system sees (the first sign-in, the first deal, a training
//! attended), manual steps are ticked by the people who help a new user, a peer never sees
//! it; trainings run out after their refresh interval; the project's health asks whether its
//! team and the key users were trained before go-live.

use super::*;
use anchora_core::accounts::Origin;
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;
use anchora_core::login::Client;
use anchora_core::onboarding::ChecklistView;
use anchora_core::project::health::Rule;
use anchora_core::store::OnboardingStore;
use anchora_core::training::TrainingState;
use chrono::Duration;

const PASSWORD: &str = "correct horse battery staple";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

async fn team(h: &H, name: &str) -> TeamId {
    let now = h.clock.now();
    let t = Team {
        id: TeamId::new_at(now),
        name: name.into(),
        created_at: now,
    };
    h.store.create_team(&t).await.unwrap();
    t.id
}

/// A user made as an administrator makes one (so their checklist starts), signed in as them.
async fn made(h: &H, email: &str, name: &str, role: &str, team: Option<TeamId>) -> Principal {
    let u = h
        .crm
        .create_user(
            &h.admin,
            json!({"email": email, "name": name, "role": role, "password": PASSWORD,
                "team": team.map(|t| t.to_string())}),
            &Origin::default(),
        )
        .await
        .unwrap();
    Principal::new(u.id, u.role, u.team, Credential::Session)
}

fn step<'a>(c: &'a ChecklistView, title: &str) -> &'a anchora_core::onboarding::StepView {
    c.steps
        .iter()
        .find(|s| s.title == title)
        .unwrap_or_else(|| panic!("no step {title:?} in {c:?}"))
}

fn id(p: &Principal) -> String {
    p.user_id.to_string()
}

pub async fn checklists_start_with_each_user_tick_what_the_system_sees_and_stay_private(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    let kim = made(&h, "kim@example.com", "Kim Key", "key_user", Some(north)).await;
    let lena = made(&h, "lena@example.com", "Lena Lead", "user", Some(south)).await;
    h.crm
        .set_team_lead(&h.admin, &north.to_string(), json!({"lead": id(&lena)}))
        .await
        .unwrap();
    let peer = made(&h, "peer@example.com", "Per Peer", "user", Some(north)).await;
    let other_key = made(&h, "ola@example.com", "Ola Key", "key_user", Some(south)).await;

    // Nils starts on Monday 23 November, 23:30 in Stockholm (22:30 UTC): his first day is
    // the 23rd there, and due days count from it.
    h.clock.set(at("2026-11-23T22:30:00Z"));
    let nils = made(&h, "nils@example.com", "Nils New", "user", Some(north)).await;
    let c = h.crm.checklist(&nils, &id(&nils)).await.unwrap();
    assert_eq!(c.total, 5, "the standard template for users: {c:?}");
    let created = step(&c, "Account created");
    assert!(created.done && created.done_automatically);
    assert_eq!(created.done_at, Some(at("2026-11-23T22:30:00Z")));
    assert!(!step(&c, "First sign-in").done);
    assert_eq!(step(&c, "First sign-in").due_on, Some(day("2026-11-25")));
    assert_eq!(step(&c, "Met your key user").due_on, Some(day("2026-11-30")));
    assert_eq!((c.done, c.overdue), (1, 0));

    // He signs in the next morning: the step ticks itself, at that moment.
    h.clock.set(at("2026-11-24T07:15:00Z"));
    h.crm
        .login("nils@example.com", PASSWORD, &Client::default(), None)
        .await
        .unwrap();
    h.clock.set(at("2026-11-24T07:20:00Z"));
    let c = h.crm.checklist(&kim, &id(&nils)).await.unwrap();
    let signed_in = step(&c, "First sign-in");
    assert!(signed_in.done && signed_in.done_automatically, "{signed_in:?}");
    assert_eq!(signed_in.done_at, Some(at("2026-11-24T07:15:00Z")));
    assert_eq!(signed_in.done_by, None);
    // A person is not a deal: the first-deal step waits.
    let mine = |body: Json| {
        let mut body = body;
        body["owner"] = json!(id(&nils));
        body
    };
    h.crm
        .create(
            &nils,
            "person",
            &mine(json!({"first_name": "Åsa", "last_name": "Öberg"})),
        )
        .await
        .unwrap();
    assert!(!step(&h.crm.checklist(&nils, &id(&nils)).await.unwrap(), "First deal entered").done);
    // Two hours later, long after the checklist was last looked at, his first deal.
    h.clock.set(at("2026-11-24T10:00:00Z"));
    h.crm
        .create(&nils, "deal", &mine(json!({"name": "Ærø ferries", "stage": "lead"})))
        .await
        .unwrap();
    h.clock.set(at("2026-11-24T10:01:00Z"));
    let c = h.crm.checklist(&nils, &id(&nils)).await.unwrap();
    let deal = step(&c, "First deal entered");
    assert!(deal.done && deal.done_automatically);
    assert_eq!(deal.done_at, Some(at("2026-11-24T10:00:00Z")));
    assert_eq!(c.done, 3);

    // Eight days on, "met your key user" (due the 30th) is overdue: on his My work, and on his
    // key user's and his lead's, with his progress.
    h.clock.set(at("2026-12-01T08:00:00Z"));
    let mine = h.crm.onboarding_follow_up(&nils).await.unwrap();
    let overdue: Vec<&str> = mine.overdue.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(overdue, ["Met your key user"], "the training is due on the 7th");
    assert_eq!(mine.mine.as_ref().map(|m| (m.done, m.total)), Some((3, 5)));
    for helper in [&kim, &lena, &h.admin] {
        let theirs = h.crm.onboarding_follow_up(helper).await.unwrap();
        let line = theirs.people.iter().find(|p| p.user == nils.user_id);
        assert_eq!(
            line.map(|p| (p.done, p.overdue)),
            Some((3, 1)),
            "{helper:?} helps Nils: {theirs:?}"
        );
    }
    // The peer, the key user of another team and nobody else: no such checklist.
    for stranger in [&peer, &other_key] {
        let e = h.crm.checklist(stranger, &id(&nils)).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = h
            .crm
            .tick_step(stranger, &id(&nils), 3, json!({"done": true}))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = h.crm.user_trainings(stranger, &id(&nils)).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let board = h.crm.onboarding_board(stranger).await.unwrap();
        assert!(board.people.iter().all(|p| p.user != nils.user_id));
    }

    // His key user ticks the manual step; who and when are kept.
    let number = step(&h.crm.checklist(&kim, &id(&nils)).await.unwrap(), "Met your key user").number;
    let c = h
        .crm
        .tick_step(&kim, &id(&nils), number, json!({"done": true}))
        .await
        .unwrap();
    let met = step(&c, "Met your key user");
    assert!(met.done && !met.done_automatically);
    assert_eq!(met.done_by, Some(kim.user_id));
    assert_eq!(met.done_by_name.as_deref(), Some("Kim Key"));
    assert_eq!(met.done_at, Some(at("2026-12-01T08:00:00Z")));
    assert!(h.crm.onboarding_follow_up(&nils).await.unwrap().overdue.is_empty());
    // A step the system ticks is not ticked by hand; a read-only token ticks nothing.
    let first_deal = step(&c, "First deal entered").number;
    let e = h
        .crm
        .tick_step(&nils, &id(&nils), first_deal, json!({"done": true}))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code, e.errors[0].field.as_str()),
        (ErrorCode::ValidationFailed, "done")
    );
    let reading = Principal {
        scope: anchora_core::auth::Scope::Read,
        ..nils.clone()
    };
    let e = h
        .crm
        .tick_step(&reading, &id(&nils), number, json!({"done": false}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h
        .crm
        .tick_step(&nils, &id(&nils), 99, json!({"done": true}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    // The user may take a tick back.
    let c = h
        .crm
        .tick_step(&nils, &id(&nils), number, json!({"done": false}))
        .await
        .unwrap();
    assert!(!step(&c, "Met your key user").done);

    // Administrators change the template for users: mistakes named by place, then new users
    // start with the new steps; Nils keeps his.
    let e = h
        .crm
        .set_onboarding_template(
            &h.admin,
            "user",
            json!({"steps": [{"title": "Hello"}, {"title": " ", "due_days": 3},
                {"title": "A yacht", "condition": {"kind": "first_record", "object": "yacht"}}]}),
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["steps[1].title", "steps[2].condition.object"]);
    let e = h
        .crm
        .set_onboarding_template(&kim, "user", json!({"steps": []}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let t = h
        .crm
        .set_onboarding_template(
            &h.admin,
            "user",
            json!({"version": 0, "steps": [
                {"title": "Account ready", "condition": {"kind": "account_created"}},
                {"title": "First company", "due_days": 5, "condition": {"kind": "first_record", "object": "company"}},
                {"title": "Lunch with the team", "due_days": 10}]}),
        )
        .await
        .unwrap();
    assert_eq!(t.version, 1);
    let e = h
        .crm
        .set_onboarding_template(&h.admin, "user", json!({"version": 0, "steps": []}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict, "saved meanwhile");
    let mia = made(&h, "mia@example.com", "Mia More", "user", Some(north)).await;
    let c = h.crm.checklist(&mia, &id(&mia)).await.unwrap();
    let titles: Vec<&str> = c.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Account ready", "First company", "Lunch with the team"]);
    assert_eq!(h.crm.checklist(&nils, &id(&nils)).await.unwrap().total, 5);

    // The command line makes users too: their checklist starts.
    let local = h
        .crm
        .add_user_locally(
            serde_json::from_value(json!({"email": "cli@example.com", "name": "Cli User", "role": "read_only"}))
                .unwrap(),
            Some("North"),
        )
        .await
        .unwrap();
    let c = h.crm.checklist(&h.admin, &local.id.to_string()).await.unwrap();
    assert_eq!(c.role, Role::ReadOnly);
    assert_eq!(c.total, 3);
    // Someone made before onboarding existed gets one when an administrator starts it, once.
    let e = h.crm.checklist(&h.admin, &id(&h.admin)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let without = |b: &anchora_core::onboarding::OnboardingBoard| b.without.iter().any(|p| p.user == h.admin.user_id);
    assert!(without(&h.crm.onboarding_board(&h.admin).await.unwrap()));
    assert!(
        h.crm.onboarding_board(&kim).await.unwrap().without.is_empty(),
        "administrators only"
    );
    let c = h.crm.start_checklist(&h.admin, &id(&h.admin)).await.unwrap();
    assert!(!without(&h.crm.onboarding_board(&h.admin).await.unwrap()));
    assert_eq!(c.role, Role::Admin);
    let e = h.crm.start_checklist(&h.admin, &id(&h.admin)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyExists);
    // No course is for sellers here: nothing can tick "Training done", so it is ticked by hand
    // rather than staying overdue for ever.
    let c = h.crm.checklist(&nils, &id(&nils)).await.unwrap();
    let training = step(&c, "Training done").number;
    let c = h
        .crm
        .tick_step(&nils, &id(&nils), training, json!({"done": true}))
        .await
        .unwrap();
    assert!(step(&c, "Training done").done);
}

pub async fn trainings_tick_onboarding_run_out_and_judge_the_project_before_go_live(h: H) {
    let north = team(&h, "North").await;
    let kim = made(&h, "kim@example.com", "Kim Key", "key_user", Some(north)).await;
    let sara = made(&h, "sara@example.com", "Sara Seller", "user", Some(north)).await;
    let vera = made(&h, "vera@example.com", "Vera Key", "key_user", Some(north)).await;

    // Courses are kept by administrators and key users; mistakes are named by field.
    let e = h
        .crm
        .create_course(&sara, json!({"name": "Mine", "audience": ["user"]}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h
        .crm
        .create_course(&kim, json!({"name": "", "audience": ["boss"], "refresh_months": 500}))
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["name", "audience[0]", "refresh_months"]);
    let basics = h
        .crm
        .create_course(
            &kim,
            json!({"name": "CRM basics", "description": "Companies, people, deals, the timeline.",
                "audience": ["user", "key_user"], "refresh_months": 12}),
        )
        .await
        .unwrap();
    let admin_course = h
        .crm
        .create_course(&h.admin, json!({"name": "Administration", "audience": ["admin"]}))
        .await
        .unwrap();

    // A session today (23 November) and one next week.
    let e = h
        .crm
        .create_training_session(
            &kim,
            json!({"course": basics.id.to_string(), "on": "2026-11-23", "place": "Room 2"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "trainer", "a session names its trainer");
    let today = h
        .crm
        .create_training_session(
            &kim,
            json!({"course": basics.id.to_string(), "on": "2026-11-23", "trainer": id(&kim), "place": "Room 2"}),
        )
        .await
        .unwrap();
    assert_eq!(today.trainer_label, "Kim Key");
    let later = h
        .crm
        .create_training_session(
            &kim,
            json!({"course": basics.id.to_string(), "on": "2026-11-30", "trainer_name": "Vendor Vic", "online": true}),
        )
        .await
        .unwrap();
    let e = h
        .crm
        .record_attendance(
            &kim,
            &later.session.id.to_string(),
            json!({"attendance": [{"user": id(&sara), "attended": true}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "attendance", "not yet taken place");

    // Sara attends today's: her "training done" ticks at once; Vera was away.
    assert!(!step(&h.crm.checklist(&sara, &id(&sara)).await.unwrap(), "Training done").done);
    let e = h
        .crm
        .record_attendance(
            &kim,
            &today.session.id.to_string(),
            json!({"attendance": [{"user": id(&sara), "attended": true}, {"user": "nobody", "attended": true}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "attendance[1].user");
    let e = h
        .crm
        .record_attendance(
            &sara,
            &today.session.id.to_string(),
            json!({"attendance": [{"user": id(&sara), "attended": true}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "nobody records their own training");
    h.clock.advance(Duration::hours(2));
    let recorded = h
        .crm
        .record_attendance(
            &kim,
            &today.session.id.to_string(),
            json!({"attendance": [{"user": id(&sara), "attended": true}, {"user": id(&vera), "attended": false}]}),
        )
        .await
        .unwrap();
    let line = |name: &str| recorded.attendance.iter().find(|a| a.name == name).map(|a| a.attended);
    assert_eq!(line("Sara Seller"), Some(Some(true)));
    assert_eq!(line("Vera Key"), Some(Some(false)));
    assert_eq!(line("Kim Key"), Some(None), "of the audience, not recorded");
    // A key user of another team neither sees North's attendance nor records it.
    let south = team(&h, "South").await;
    let otto = made(&h, "otto@example.com", "Otto Süd", "key_user", Some(south)).await;
    let theirs = h
        .crm
        .session_attendance(&otto, &today.session.id.to_string())
        .await
        .unwrap();
    assert!(
        theirs.attendance.iter().all(|a| a.name == "Otto Süd"),
        "{:?}",
        theirs.attendance
    );
    let e = h
        .crm
        .record_attendance(
            &otto,
            &today.session.id.to_string(),
            json!({"attendance": [{"user": id(&sara), "attended": false}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "attendance[0].user");
    // Otto leaves again, so the figures below are North's alone.
    let mut gone = h.store.user(otto.user_id).await.unwrap().unwrap();
    gone.active = false;
    h.store.update_user(&gone).await.unwrap();
    assert_eq!(recorded.session.attended, 1);
    // Ticked as the attendance was recorded (read straight from the store, before any reader
    // of the checklist could tick it).
    let kept = OnboardingStore::checklist(&*h.store, sara.user_id)
        .await
        .unwrap()
        .unwrap();
    let done = kept.steps.iter().find(|s| s.title == "Training done").unwrap();
    assert_eq!(
        done.done,
        Some(anchora_core::onboarding::Done::automatically(h.clock.now()))
    );
    let vera_list = h.crm.checklist(&vera, &id(&vera)).await.unwrap();
    assert!(!step(&vera_list, "Key-user training done").done);

    // Her training lasts twelve months: valid, then within 30 days of running out, then run out.
    let state = |t: &anchora_core::training::UserTrainings, course| {
        t.courses
            .iter()
            .find(|c| c.course == course)
            .map(|c| (c.state, c.expires_on))
    };
    let t = h.crm.user_trainings(&sara, &id(&sara)).await.unwrap();
    assert_eq!(
        state(&t, basics.id),
        Some((TrainingState::Valid, Some(day("2027-11-23"))))
    );
    assert!(state(&t, admin_course.id).is_none(), "not her role's, never attended");
    h.clock.set(at("2027-10-30T09:00:00Z"));
    let t = h.crm.user_trainings(&kim, &id(&sara)).await.unwrap();
    assert_eq!(state(&t, basics.id).map(|s| s.0), Some(TrainingState::Expiring));
    h.clock.set(at("2027-11-23T09:00:00Z"));
    let t = h.crm.user_trainings(&h.admin, &id(&sara)).await.unwrap();
    assert_eq!(state(&t, basics.id).map(|s| s.0), Some(TrainingState::Expired));
    let t = h.crm.user_trainings(&vera, &id(&vera)).await.unwrap();
    assert_eq!(state(&t, basics.id).map(|s| s.0), Some(TrainingState::Missing));
    let overview = h.crm.training_overview(&sara).await.unwrap();
    let course = overview.courses.iter().find(|c| c.course.id == basics.id).unwrap();
    assert_eq!((course.sessions, course.expired, course.missing), (2, 1, 2));
    assert!(!overview.may_manage);

    // The project goes live on 26 February 2027: its team (Sara, a user in the group) and the
    // key users (Kim, Vera) must be trained by then.
    h.clock.set(at("2026-12-01T09:00:00Z"));
    let project = h
        .crm
        .create_project(
            &h.admin,
            json!({"name": "Rollout", "start": "2026-11-02", "target": "2027-02-26"}),
        )
        .await
        .unwrap()
        .id
        .to_string();
    h.crm
        .add_member(
            &h.admin,
            &project,
            json!({"user": sara.user_id, "name": "Sara Seller", "roles": [{"role": "champion"}]}),
        )
        .await
        .unwrap();
    h.crm
        .add_member(
            &h.admin,
            &project,
            json!({"name": "Vendor Vic", "organisation": "Vendor", "roles": [{"role": "vendor_project_lead"}]}),
        )
        .await
        .unwrap();
    let rule = |state: &anchora_core::project::ProjectState| {
        state
            .health()
            .into_iter()
            .find(|c| c.rule == Rule::TrainedBeforeGoLive)
            .unwrap()
    };
    let (state, _) = h.crm.project_state(&sara, &project).await.unwrap();
    let check = rule(&state);
    assert!(!check.ok);
    assert_eq!(
        check.missing,
        ["Kim Key", "Vera Key"],
        "Sara was trained; the vendor is no user"
    );
    // Vera attends a session in January, Kim only in March: after go-live.
    for (who, on) in [(&vera, "2027-01-12"), (&kim, "2027-03-02")] {
        let s = h
            .crm
            .create_training_session(
                &h.admin,
                json!({"course": basics.id.to_string(), "on": on, "trainer_name": "Vendor Vic"}),
            )
            .await
            .unwrap();
        h.clock.set(at(&format!("{on}T17:00:00Z")));
        h.crm
            .record_attendance(
                &h.admin,
                &s.session.id.to_string(),
                json!({"attendance": [{"user": id(who), "attended": true}]}),
            )
            .await
            .unwrap();
    }
    let (state, _) = h.crm.project_state(&h.admin, &project).await.unwrap();
    let check = rule(&state);
    assert_eq!(check.missing, ["Kim Key"]);
    assert_eq!(check.figures, [("trained".into(), 2.0), ("people".into(), 3.0)]);
    // Moving go-live past Kim's session makes the group trained.
    h.crm
        .update_project(
            &h.admin,
            &project,
            json!({"version": state.project.version, "target": "2027-03-15"}),
        )
        .await
        .unwrap();
    let (state, _) = h.crm.project_state(&h.admin, &project).await.unwrap();
    assert!(rule(&state).ok, "{:?}", rule(&state));
    // Vera's training step ticked when her attendance was recorded.
    let c = h.crm.checklist(&vera, &id(&vera)).await.unwrap();
    assert!(step(&c, "Key-user training done").done);
}
