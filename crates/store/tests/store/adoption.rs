//! Issue 22: usage counted per user and local day from a known history (across midnight in
//! the workspace's zone), counted again incrementally, scored against the team's median, and
//! shown only to the user, their team's lead and administrators.

use super::*;
use anchora_core::adoption::Metric;
use anchora_core::audit::{AuditEvent, AuditKind};
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;
use anchora_core::jobs::JobCtx;
use anchora_core::store::AdoptionStore;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

async fn member(h: &H, email: &str, team: TeamId) -> Principal {
    let now = h.clock.now();
    let mut user = User::new(UserId::new_at(now), Some(email.into()), email, Role::User, now);
    user.team = Some(team);
    h.store.create_user(&user).await.unwrap();
    Principal::new(user.id, Role::User, Some(team), Credential::Local)
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

async fn sign_in(h: &H, who: &Principal, when: &str) {
    h.store
        .record_audit(&AuditEvent::new(at(when), Some(who.user_id), AuditKind::LoginSucceeded))
        .await
        .unwrap();
}

fn count(days: &[anchora_core::adoption::UsageDay], on: &str, metric: Metric, object: &str) -> i64 {
    days.iter()
        .filter(|d| d.day == day(on) && d.metric == metric && d.object == object)
        .map(|d| d.n)
        .sum()
}

pub async fn usage_is_counted_per_local_day_scored_against_the_team_and_private(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    let ann = member(&h, "ann.oberg@example.com", north).await;
    let bo = member(&h, "bo.muller@example.com", north).await;
    let lena = member(&h, "lena.aero@example.com", north).await;
    let per = member(&h, "per.nunez@example.com", south).await;
    h.crm
        .set_team_lead(&h.admin, &north.to_string(), json!({"lead": lena.user_id.to_string()}))
        .await
        .unwrap();

    // Ann, on the evening of 2 November in Stockholm (UTC+1): 23:30 is still the 2nd there,
    // 00:30 the 3rd — both the 2nd in UTC.
    sign_in(&h, &ann, "2026-11-02T21:00:00Z").await;
    h.clock.set(at("2026-11-02T22:30:00Z"));
    let owned = |who: &Principal, body: Json| {
        let mut body = body;
        body["owner"] = json!(who.user_id.to_string());
        body
    };
    h.crm
        .create(
            &ann,
            "person",
            &owned(&ann, json!({"first_name": "Åsa", "last_name": "Öberg"})),
        )
        .await
        .unwrap();
    h.clock.set(at("2026-11-02T23:30:00Z"));
    h.crm
        .create(
            &ann,
            "person",
            &owned(&ann, json!({"first_name": "Jesús", "last_name": "Núñez"})),
        )
        .await
        .unwrap();
    let (_, deal) = h
        .crm
        .create(
            &ann,
            "deal",
            &owned(&ann, json!({"name": "Ærø ferries", "stage": "lead"})),
        )
        .await
        .unwrap();
    // Moved on twice the same day: one deal moved.
    let (_, deal) = h
        .crm
        .update(
            &ann,
            "deal",
            &deal.id.to_string(),
            &json!({"stage": "qualified"}),
            Some(deal.version),
        )
        .await
        .unwrap();
    h.crm
        .update(
            &ann,
            "deal",
            &deal.id.to_string(),
            &json!({"stage": "proposal"}),
            Some(deal.version),
        )
        .await
        .unwrap();
    let (_, call) = h
        .crm
        .create(
            &ann,
            "activity",
            &owned(&ann, json!({"type": "call", "subject": "Ring Müller"})),
        )
        .await
        .unwrap();
    h.crm
        .update(
            &ann,
            "activity",
            &call.id.to_string(),
            &json!({"done": true}),
            Some(call.version),
        )
        .await
        .unwrap();
    // Bo signs in once and adds one person.
    sign_in(&h, &bo, "2026-11-20T08:00:00Z").await;
    h.clock.set(at("2026-11-20T08:05:00Z"));
    h.crm
        .create(
            &bo,
            "person",
            &owned(&bo, json!({"first_name": "Søren", "last_name": "Ærø"})),
        )
        .await
        .unwrap();

    h.clock.set(at("2026-11-23T09:00:00Z"));
    let counted = h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    assert_eq!(counted["through"], json!("2026-11-23"), "{counted}");
    let days = h
        .store
        .usage_days(ann.user_id, day("2026-11-01"), day("2026-11-23"))
        .await
        .unwrap();
    assert_eq!(count(&days, "2026-11-02", Metric::SignIn, ""), 1);
    assert_eq!(count(&days, "2026-11-02", Metric::Created, "person"), 1, "{days:?}");
    assert_eq!(
        count(&days, "2026-11-03", Metric::Created, "person"),
        1,
        "00:30 in Stockholm is the 3rd"
    );
    assert_eq!(count(&days, "2026-11-03", Metric::Created, "deal"), 1);
    assert_eq!(
        count(&days, "2026-11-03", Metric::Moved, "deal"),
        1,
        "one deal moved twice"
    );
    assert_eq!(count(&days, "2026-11-03", Metric::Created, "activity"), 1);
    assert_eq!(count(&days, "2026-11-03", Metric::Completed, "activity"), 1);

    // Counting again changes nothing; a change today is counted by the next hourly run, and
    // the days before are not counted again.
    let again = h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    assert_eq!(
        again["from"],
        json!("2026-11-23"),
        "only today is counted again: {again}"
    );
    h.clock.set(at("2026-11-23T10:00:00Z"));
    h.crm
        .create(
            &ann,
            "person",
            &owned(&ann, json!({"first_name": "Jürgen", "last_name": "Müller"})),
        )
        .await
        .unwrap();
    h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    let days = h
        .store
        .usage_days(ann.user_id, day("2026-11-01"), day("2026-11-23"))
        .await
        .unwrap();
    assert_eq!(count(&days, "2026-11-23", Metric::Created, "person"), 1);
    assert_eq!(
        count(&days, "2026-11-03", Metric::Created, "person"),
        1,
        "earlier days kept"
    );
    let scratch = h.crm.measure_usage(true, &JobCtx::detached()).await.unwrap();
    assert_eq!(
        scratch["from"],
        json!("2026-11-02"),
        "from scratch starts at the first thing counted"
    );
    let again = h
        .store
        .usage_days(ann.user_id, day("2026-11-01"), day("2026-11-23"))
        .await
        .unwrap();
    assert_eq!(again, days, "counting from scratch gives the same figures");

    // Scores: Ann is the team's busiest, Bo did a little, Lena never signed in.
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    assert!(board.everyone);
    let row = |name: &str| {
        board
            .users
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} on the board"))
            .clone()
    };
    let ann_row = row("ann.oberg@example.com");
    let bo_row = row("bo.muller@example.com");
    let lena_row = row("lena.aero@example.com");
    assert_eq!(
        ann_row.scored.figures.records, 5,
        "three people and a deal created, the deal changed"
    );
    assert_eq!(ann_row.scored.figures.activities, 2, "one logged, one done");
    assert_eq!(
        ann_row.scored.figures.deal_updates, 1,
        "one deal changed (moved twice) that day"
    );
    assert_eq!(ann_row.scored.figures.active_days, 3);
    assert_eq!(ann_row.scored.tiers.process, Some(100.0));
    assert_eq!(bo_row.scored.figures.days_since_sign_in, Some(3));
    assert_eq!(lena_row.scored.figures.days_since_sign_in, None);
    assert_eq!(bo_row.scored.figures.records, 1);
    // The team's median is one record: Bo is at it, Lena below.
    assert_eq!(bo_row.scored.tiers.process, Some(100.0));
    assert_eq!(lena_row.scored.tiers.process, Some(0.0));
    assert_eq!(lena_row.scored.tiers.access, Some(0.0));
    // Ann signed in three weeks ago: her access tier is two thirds of recency, her quality
    // tier whole (an open deal, not stale); Bo has no open deals, so no quality tier.
    assert!((ann_row.scored.tiers.access.unwrap() - 100.0 * (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-9);
    assert_eq!(ann_row.scored.tiers.quality, Some(100.0));
    assert_eq!(bo_row.scored.tiers.quality, None);
    assert!(
        lena_row.scored.score.unwrap() < ann_row.scored.score.unwrap()
            && ann_row.scored.score.unwrap() < bo_row.scored.score.unwrap(),
        "Lena {:?} < Ann {:?} < Bo {:?}",
        lena_row.scored.score,
        ann_row.scored.score,
        bo_row.scored.score
    );
    let place = |name: &str| board.users.iter().position(|r| r.name == name).unwrap();
    assert!(
        place("lena.aero@example.com") < place("ann.oberg@example.com")
            && place("ann.oberg@example.com") < place("bo.muller@example.com"),
        "weakest first"
    );
    assert_eq!(ann_row.trend.len(), 8);
    assert!(board.teams.iter().any(|t| t.organisation));

    // Weights are the administrators' and checked by name.
    let err = h
        .crm
        .set_adoption_weights(&h.admin, json!({"access": 0, "process": 0, "quality": 0}))
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "access");
    let err = h
        .crm
        .set_adoption_weights(&ann, json!({"access": 10, "process": 10, "quality": 10}))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    h.crm
        .set_adoption_weights(&h.admin, json!({"access": 100, "process": 0, "quality": 0}))
        .await
        .unwrap();
    let access_only = h.crm.adoption_board(&h.admin).await.unwrap();
    let ann_access = access_only.users.iter().find(|r| r.user == ann.user_id).unwrap();
    assert_eq!(ann_access.scored.score, ann_access.scored.tiers.access);

    // Privacy: the lead sees the team, a member only themselves, a peer elsewhere nothing.
    let seen = |b: &anchora_core::adoption::AdoptionBoard| {
        let mut names: Vec<String> = b.users.iter().map(|r| r.name.clone()).collect();
        names.sort();
        names
    };
    let lead_board = h.crm.adoption_board(&lena).await.unwrap();
    assert_eq!(
        seen(&lead_board),
        [
            "ann.oberg@example.com",
            "bo.muller@example.com",
            "lena.aero@example.com"
        ]
    );
    assert!(!lead_board.everyone);
    assert_eq!(
        seen(&h.crm.adoption_board(&ann).await.unwrap()),
        ["ann.oberg@example.com"]
    );
    assert_eq!(
        seen(&h.crm.adoption_board(&per).await.unwrap()),
        ["per.nunez@example.com"]
    );
    assert!(h.crm.user_adoption(&lena, &ann.user_id.to_string()).await.is_ok());
    assert!(h.crm.user_adoption(&ann, &ann.user_id.to_string()).await.is_ok());
    for (who, whom) in [(&per, &ann), (&ann, &bo), (&bo, &lena)] {
        let err = h.crm.user_adoption(who, &whom.user_id.to_string()).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "a peer's figures do not exist for them");
    }
    let mine = h.crm.user_adoption(&ann, &ann.user_id.to_string()).await.unwrap();
    assert!(mine.days.iter().all(|d| d.user == ann.user_id));
    assert!(
        mine.team_median.is_empty(),
        "a team of three does not show its median to its members: it is a colleague's figure"
    );
    let as_lead = h.crm.user_adoption(&lena, &ann.user_id.to_string()).await.unwrap();
    assert_eq!(as_lead.team_median.get("active_days"), Some(&1.0));

    // A lead is an active user of the workspace.
    let err = h
        .crm
        .set_team_lead(
            &h.admin,
            &north.to_string(),
            json!({"lead": TeamId::new_at(h.clock.now()).to_string()}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "lead");
    let err = h
        .crm
        .set_team_lead(&h.admin, "not-a-team", json!({"lead": null}))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    // Weak users at 23 November: Ann has not signed in for three weeks; Lena never has, but
    // her account is new. Ann signing in clears her; seventeen days on, Lena is weak too.
    let weak_of = |b: &anchora_core::adoption::AdoptionBoard, who: &Principal| {
        b.users.iter().find(|r| r.user == who.user_id).unwrap().weak.clone()
    };
    use anchora_core::adoption::Weakness;
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    assert_eq!(weak_of(&board, &ann), [Weakness::NoSignIn { days: Some(21) }]);
    assert_eq!(weak_of(&board, &lena), []);
    assert_eq!(weak_of(&board, &bo), []);
    sign_in(&h, &ann, "2026-11-23T11:00:00Z").await;
    h.clock.set(at("2026-11-23T12:00:00Z"));
    h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    assert_eq!(weak_of(&h.crm.adoption_board(&h.admin).await.unwrap(), &ann), []);
    h.clock.set(at("2026-12-10T12:00:00Z"));
    h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    assert_eq!(weak_of(&board, &lena), [Weakness::NoSignIn { days: None }]);
    assert_eq!(weak_of(&board, &bo), [Weakness::NoSignIn { days: Some(20) }]);
    let err = h
        .crm
        .set_adoption_rules(&h.admin, json!({"no_sign_in_days": 0, "below_half_weeks": 9}))
        .await
        .unwrap_err();
    let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["no_sign_in_days", "below_half_weeks"]);
    h.crm
        .set_adoption_rules(&h.admin, json!({"no_sign_in_days": 30, "below_half_weeks": 2}))
        .await
        .unwrap();
    assert_eq!(
        weak_of(&h.crm.adoption_board(&h.admin).await.unwrap(), &bo),
        [],
        "rules are the administrators'"
    );
    h.crm
        .set_adoption_rules(&h.admin, json!({"no_sign_in_days": 14, "below_half_weeks": 2}))
        .await
        .unwrap();

    // Extra support: the lead plans it; the task goes to the team's key user, due today, and
    // shows on their start page; members and peers elsewhere cannot plan it.
    let now = h.clock.now();
    let mut kai = User::new(
        UserId::new_at(now),
        Some("kai@example.com".into()),
        "Kai Ødegård",
        Role::KeyUser,
        now,
    );
    kai.team = Some(north);
    h.store.create_user(&kai).await.unwrap();
    let kai = Principal::new(kai.id, Role::KeyUser, Some(north), Credential::Local);
    let err = h.crm.user_adoption(&kai, &bo.user_id.to_string()).await.unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::NotFound,
        "a key user who is not the lead sees no figures"
    );
    for who in [&ann, &per, &kai] {
        let err = h
            .crm
            .plan_support(who, &bo.user_id.to_string(), json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
    let planned = h
        .crm
        .plan_support(&lena, &bo.user_id.to_string(), json!({"subject": "Stäm av med Bo"}))
        .await
        .unwrap();
    assert_eq!(planned.key_user, Some(kai.user_id));
    assert_eq!(planned.key_user_name.as_deref(), Some("Kai Ødegård"));
    let start = h.crm.start_page(&kai).await.unwrap();
    assert!(
        start.due.iter().any(|r| r.id == planned.task),
        "the key user sees the task on their start page"
    );
    let board = h.crm.adoption_board(&lena).await.unwrap();
    let bo_row = board.users.iter().find(|r| r.user == bo.user_id).unwrap();
    assert_eq!(bo_row.support, Some(planned.task));
    let (_, task) = h.crm.get(&kai, "activity", &planned.task.to_string()).await.unwrap();
    h.crm
        .update(
            &kai,
            "activity",
            &planned.task.to_string(),
            &json!({"done": true}),
            Some(task.version),
        )
        .await
        .unwrap();
    let board = h.crm.adoption_board(&lena).await.unwrap();
    let bo_row = board.users.iter().find(|r| r.user == bo.user_id).unwrap();
    assert_eq!(bo_row.support, None, "a done task is support given");

    // Expectations: administrators set a role's, a team's lead their team's (which wins for
    // the same figure); a member cannot; mistakes are named.
    let err = h
        .crm
        .set_expectation(&h.admin, json!({"role": "user", "metric": "calls", "per_week": 5000}))
        .await
        .unwrap_err();
    let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["metric", "per_week"]);
    let err = h
        .crm
        .set_expectation(&h.admin, json!({"team": "nope", "metric": "records", "per_week": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "team");
    h.crm
        .set_expectation(&h.admin, json!({"role": "user", "metric": "activities", "per_week": 3}))
        .await
        .unwrap();
    h.crm
        .set_expectation(
            &h.admin,
            json!({"role": "user", "metric": "active_days", "per_week": 4}),
        )
        .await
        .unwrap();
    let err = h
        .crm
        .set_expectation(
            &ann,
            json!({"team": north.to_string(), "metric": "activities", "per_week": 1}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let team_one = h
        .crm
        .set_expectation(
            &lena,
            json!({"team": north.to_string(), "metric": "activities", "per_week": 1}),
        )
        .await
        .unwrap();
    let again = h
        .crm
        .set_expectation(
            &lena,
            json!({"team": north.to_string(), "metric": "activities", "per_week": 2}),
        )
        .await
        .unwrap();
    assert_eq!(again.id, team_one.id, "one per team and figure: replaced");
    assert_eq!(h.crm.expectations(&ann).await.unwrap().len(), 3);
    // Ann logs two activities this week.
    for subject in ["Ring Ærø Fisk", "Möte med Núñez"] {
        let (_, call) = h
            .crm
            .create(
                &ann,
                "activity",
                &json!({"type": "call", "subject": subject, "owner": ann.user_id.to_string()}),
            )
            .await
            .unwrap();
        let _ = call;
    }
    h.crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    let mine = h.crm.my_expectations(&ann).await.unwrap();
    let activities = mine
        .iter()
        .find(|m| m.metric == anchora_core::adoption::Expected::Activities)
        .unwrap();
    assert!(activities.from_team, "the team's, not the role's: {mine:?}");
    assert_eq!(
        (activities.per_week, activities.this_week, activities.met),
        (2, 2, true)
    );
    let active = mine
        .iter()
        .find(|m| m.metric == anchora_core::adoption::Expected::ActiveDays)
        .unwrap();
    assert!(!active.from_team && !active.met, "{mine:?}");
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    let ann_row = board.users.iter().find(|r| r.user == ann.user_id).unwrap();
    assert_eq!(ann_row.expectations, mine, "the page and the start page agree");
    let per_row = board.users.iter().find(|r| r.user == per.user_id).unwrap();
    assert_eq!(
        per_row
            .expectations
            .iter()
            .find(|m| m.metric == anchora_core::adoption::Expected::Activities)
            .map(|m| (m.per_week, m.from_team)),
        Some((3, false)),
        "another team has its role's"
    );
    let err = h
        .crm
        .delete_expectation(&ann, &team_one.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    h.crm.delete_expectation(&lena, &team_one.id.to_string()).await.unwrap();
    let err = h
        .crm
        .delete_expectation(&lena, &team_one.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    // A close date set is no push; moved later, it is, and the quality tier counts it.
    let (_, d) = h.crm.get(&ann, "deal", &deal.id.to_string()).await.unwrap();
    let (_, d) = h
        .crm
        .update(
            &ann,
            "deal",
            &deal.id.to_string(),
            &json!({"expected_close": "2026-12-15"}),
            Some(d.version),
        )
        .await
        .unwrap();
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    let ann_row = board.users.iter().find(|r| r.user == ann.user_id).unwrap();
    assert_eq!(ann_row.scored.figures.pushed_share, Some(0.0));
    h.crm
        .update(
            &ann,
            "deal",
            &deal.id.to_string(),
            &json!({"expected_close": "2027-01-15"}),
            Some(d.version),
        )
        .await
        .unwrap();
    let board = h.crm.adoption_board(&h.admin).await.unwrap();
    let ann_row = board.users.iter().find(|r| r.user == ann.user_id).unwrap();
    assert_eq!(ann_row.scored.figures.pushed_share, Some(1.0), "one open deal, pushed");
    assert_eq!(ann_row.scored.tiers.quality, Some(50.0), "not stale, but pushed");

    // Two countings at once (the hourly run and "count now") both finish, and leave the
    // figures one counting leaves.
    h.crm.measure_usage(true, &JobCtx::detached()).await.unwrap();
    let before = h
        .store
        .usage_days(ann.user_id, day("2026-11-01"), day("2026-12-10"))
        .await
        .unwrap();
    for _ in 0..5 {
        let (ctx_one, ctx_two) = (JobCtx::detached(), JobCtx::detached());
        let (one, two) = tokio::join!(h.crm.measure_usage(true, &ctx_one), h.crm.measure_usage(true, &ctx_two));
        one.unwrap();
        two.unwrap();
    }
    let after = h
        .store
        .usage_days(ann.user_id, day("2026-11-01"), day("2026-12-10"))
        .await
        .unwrap();
    assert_eq!(after, before);
}
