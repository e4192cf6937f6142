//! Issue 23, the support chain (C1, C2): a question goes to the key user of the requester's
//! team (or straight to IT), is passed on by hand and on breach, its agreed times run on the
//! support calendar across weekends and holidays and stand still while waiting, the breach check
//! acts once however many run, and nobody outside the chain learns a question exists.

use super::*;
use anchora_core::accounts::Origin;
use anchora_core::auth::Scope;
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;
use anchora_core::support::{QuestionQuery, QuestionView};

const PASSWORD: &str = "correct horse battery staple";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
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

async fn made(h: &H, email: &str, role: &str, team: Option<TeamId>) -> Principal {
    let u = h
        .crm
        .create_user(
            &h.admin,
            json!({"email": email, "name": email, "role": role, "password": PASSWORD,
                "team": team.map(|t| t.to_string())}),
            &Origin::default(),
        )
        .await
        .unwrap();
    Principal::new(u.id, u.role, u.team, Credential::Session)
}

async fn raise(h: &H, who: &Principal, subject: &str, priority: &str) -> QuestionView {
    h.crm
        .raise_question(
            who,
            json!({"subject": subject, "description": "It does not work", "category": "usage",
                "priority": priority, "page": "/records/deal/1", "object": "deal", "record": "1"}),
        )
        .await
        .unwrap()
}

fn id(v: &QuestionView) -> String {
    v.line.question.id.to_string()
}

fn version(v: &QuestionView) -> i64 {
    v.line.question.version
}

/// The standard calendar (Monday to Friday 08–17, Stockholm) with a holiday on Monday
/// 30 November 2026, and short key-user times so breaches come quickly.
async fn settings(h: &H) {
    let mut times = serde_json::to_value(anchora_core::support::SupportSettings::default().times).unwrap();
    times["key_user"]["urgent"] = json!({"response_minutes": 120, "resolution_minutes": 540});
    h.crm
        .set_support_settings(
            &h.admin,
            json!({"calendar": {"time_zone": "Europe/Stockholm", "holidays": ["2026-11-30"]},
                "times": times, "warn_share": 20, "vendor_name": "Acme CRM AB", "vendor_contact": "support@acme.example"}),
        )
        .await
        .unwrap();
}

fn escalations(v: &QuestionView) -> usize {
    v.events
        .iter()
        .filter(|e| e.kind == anchora_core::support::EventKind::Escalated)
        .count()
}

pub async fn support_questions_route_to_key_users_pass_on_by_hand_and_stay_private(h: H) {
    settings(&h).await;
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    let lone = team(&h, "Lone").await;
    let kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let ola = made(&h, "ola@example.com", "key_user", Some(south)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    let bo = made(&h, "bo@example.com", "user", Some(lone)).await;
    let peer = made(&h, "peer@example.com", "user", Some(north)).await;

    // Routing: North has one key user, who takes it; Lone has none, so it goes to IT.
    let q = raise(&h, &anna, "Cannot save a deal", "normal").await;
    assert_eq!(q.line.question.number, 1);
    assert_eq!(q.line.question.level, anchora_core::support::Level::KeyUser);
    assert_eq!(q.line.question.assignee, Some(kim.user_id));
    assert_eq!(q.line.question.team, Some(north));
    assert_eq!(q.line.question.page.as_deref(), Some("/records/deal/1"));
    let other = raise(&h, &bo, "Where is my report", "low").await;
    assert_eq!(other.line.question.number, 2);
    assert_eq!(other.line.question.level, anchora_core::support::Level::It);
    assert_eq!(other.line.question.assignee, None);

    // Visibility on every path: requester, key user of the team, admin; others NotFound.
    for who in [&anna, &kim, &h.admin] {
        h.crm.question(who, &id(&q)).await.unwrap();
        h.crm.question(who, "#1").await.unwrap();
        h.crm.question_events(who, &id(&q)).await.unwrap();
        h.crm.question_attachments(who, &id(&q)).await.unwrap();
    }
    for who in [&ola, &peer, &bo] {
        assert_eq!(
            h.crm.question(who, &id(&q)).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(h.crm.question(who, "1").await.unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(
            h.crm.question_events(who, &id(&q)).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            h.crm.question_attachments(who, &id(&q)).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let e = h
            .crm
            .add_question_event(who, &id(&q), json!({"kind": "reply", "body": "hi"}))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
        let e = h
            .crm
            .escalate_question(who, &id(&q), json!({"version": 1}))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
    }
    let numbers = |lines: Vec<anchora_core::support::QuestionLine>| -> Vec<i64> {
        lines.iter().map(|l| l.question.number).collect()
    };
    let all = QuestionQuery::default();
    assert_eq!(numbers(h.crm.questions(&anna, &all).await.unwrap().0), vec![1]);
    assert_eq!(numbers(h.crm.questions(&kim, &all).await.unwrap().0), vec![1]);
    assert!(h.crm.questions(&ola, &all).await.unwrap().0.is_empty());
    assert!(h.crm.questions(&peer, &all).await.unwrap().0.is_empty());
    assert_eq!(numbers(h.crm.questions(&h.admin, &all).await.unwrap().0), vec![2, 1]);
    let it = QuestionQuery {
        level: Some("it".into()),
        ..QuestionQuery::default()
    };
    assert_eq!(numbers(h.crm.questions(&h.admin, &it).await.unwrap().0), vec![2]);
    let page = QuestionQuery {
        limit: Some("1".into()),
        ..QuestionQuery::default()
    };
    let (first, next) = h.crm.questions(&h.admin, &page).await.unwrap();
    assert_eq!(numbers(first), vec![2]);
    let rest = QuestionQuery {
        cursor: next,
        ..page.clone()
    };
    let (second, next) = h.crm.questions(&h.admin, &rest).await.unwrap();
    assert_eq!((numbers(second), next), (vec![1], None));
    let bad = QuestionQuery {
        status: Some("sleeping".into()),
        ..QuestionQuery::default()
    };
    assert_eq!(
        h.crm.questions(&anna, &bad).await.unwrap_err().errors[0].field,
        "status"
    );

    // Internal notes reach the chain only; a requester may not write one.
    h.crm
        .add_question_event(
            &kim,
            &id(&q),
            json!({"kind": "note", "body": "Looks like a rights problem"}),
        )
        .await
        .unwrap();
    let e = h
        .crm
        .add_question_event(&anna, &id(&q), json!({"kind": "note", "body": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let seen = h.crm.question(&anna, &id(&q)).await.unwrap();
    assert!(seen.events.iter().all(|e| !e.kind.internal()));
    assert!(!seen.in_chain);
    let chain = h.crm.question(&kim, &id(&q)).await.unwrap();
    assert!(chain.events.iter().any(|e| e.body == "Looks like a rights problem"));

    // A reply from the chain is the response; it opens the question.
    let v = h
        .crm
        .add_question_event(&kim, &id(&q), json!({"kind": "reply", "body": "Which deal?"}))
        .await
        .unwrap();
    assert_eq!(v.line.question.status, anchora_core::support::Status::Open);
    assert_eq!(v.response.state, "met");
    assert!(v.line.question.first_response_at.is_some());

    // Read-only tokens read but never write.
    let read_only = Principal {
        scope: Scope::Read,
        ..anna.clone()
    };
    h.crm.question(&read_only, &id(&q)).await.unwrap();
    let e = h
        .crm
        .add_question_event(&read_only, &id(&q), json!({"kind": "reply", "body": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h
        .crm
        .raise_question(&read_only, json!({"subject": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    // A stale write is refused with the question as it is now.
    let e = h
        .crm
        .set_question_status(&kim, &id(&q), json!({"version": 1, "status": "waiting_on_requester"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.as_ref().unwrap()["version"], json!(version(&v)));
    let e = h
        .crm
        .raise_question(&anna, json!({"subject": "", "priority": "asap"}))
        .await
        .unwrap_err();
    let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, vec!["subject", "priority"]);

    // Attachments within the limit; a larger one is refused naming the file.
    let a = h
        .crm
        .add_question_attachment(&anna, &id(&q), "screen.png", "image/png", b"\x89PNG....")
        .await
        .unwrap();
    let (info, bytes) = h
        .crm
        .question_attachment(&kim, &id(&q), &a.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        (info.name.as_str(), bytes.as_slice()),
        ("screen.png", &b"\x89PNG...."[..])
    );
    assert_eq!(
        h.crm
            .question_attachment(&ola, &id(&q), &a.id.to_string())
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    let big = vec![0u8; anchora_core::support::MAX_ATTACHMENT_BYTES + 1];
    let e = h
        .crm
        .add_question_attachment(&anna, &id(&q), "dump.bin", "", &big)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "file");

    // By hand: the key user passes it to IT, but only an administrator to the vendor.
    let v = h.crm.question(&kim, &id(&q)).await.unwrap();
    let e = h
        .crm
        .escalate_question(&anna, &id(&q), json!({"version": version(&v)}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let v = h
        .crm
        .escalate_question(
            &kim,
            &id(&q),
            json!({"version": version(&v), "reason": "Needs a new field"}),
        )
        .await
        .unwrap();
    assert_eq!(v.line.question.level, anchora_core::support::Level::It);
    assert_eq!(v.line.question.assignee, None);
    assert_eq!(v.response.state, "running", "the clocks start again at IT");
    let e = h
        .crm
        .escalate_question(&kim, &id(&q), json!({"version": version(&v)}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let v = h
        .crm
        .escalate_question(
            &h.admin,
            &id(&q),
            json!({"version": version(&v), "vendor_reference": "ACME-4711", "resolution_minutes": 600}),
        )
        .await
        .unwrap();
    let vendor = v.line.question.vendor.clone().unwrap();
    assert_eq!(
        (
            vendor.name.as_str(),
            vendor.reference.as_str(),
            vendor.resolution_minutes
        ),
        ("Acme CRM AB", "ACME-4711", Some(600))
    );
    assert_eq!(v.resolution.agreed_minutes, 600);
    assert_eq!(escalations(&v), 2);
    let e = h
        .crm
        .escalate_question(&h.admin, &id(&q), json!({"version": version(&v)}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);

    // Resolved, reopened by the requester, closed.
    let v = h
        .crm
        .set_question_status(&h.admin, &id(&q), json!({"version": version(&v), "status": "resolved"}))
        .await
        .unwrap();
    assert_eq!(v.resolution.state, "met");
    let v = h
        .crm
        .set_question_status(&anna, &id(&q), json!({"version": version(&v), "status": "open"}))
        .await
        .unwrap();
    assert!(v.line.question.resolved_at.is_none());
    let e = h
        .crm
        .set_question_status(&anna, &id(&q), json!({"version": version(&v), "status": "closed"}))
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::Forbidden,
        "the requester closes only what was resolved"
    );
}

pub async fn support_agreed_times_pause_cross_weekends_and_holidays_and_escalate_on_breach(h: H) {
    settings(&h).await;
    let north = team(&h, "North").await;
    let kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;

    // Pauses: raised Monday 09:00 (08:00Z), waiting on the requester 10:00–14:00, answered.
    h.clock.set(at("2026-11-23T08:00:00Z"));
    let q = raise(&h, &anna, "Import fails", "normal").await;
    assert_eq!(q.resolution.agreed_minutes, 45 * 60);
    h.clock.set(at("2026-11-23T09:00:00Z"));
    let v = h
        .crm
        .set_question_status(
            &kim,
            &id(&q),
            json!({"version": version(&q), "status": "waiting_on_requester"}),
        )
        .await
        .unwrap();
    h.clock.set(at("2026-11-23T12:00:00Z"));
    let v = h.crm.question(&kim, &id(&v)).await.unwrap();
    assert_eq!(v.resolution.state, "paused");
    assert_eq!(v.resolution.left_minutes, Some(45 * 60 - 60));
    h.clock.set(at("2026-11-23T13:00:00Z"));
    let v = h
        .crm
        .add_question_event(&anna, &id(&v), json!({"kind": "reply", "body": "Here is the file"}))
        .await
        .unwrap();
    assert_eq!(
        v.line.question.status,
        anchora_core::support::Status::Open,
        "the requester's reply reopens it"
    );
    let kinds: Vec<_> = v.events.iter().rev().take(2).map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            anchora_core::support::EventKind::Status,
            anchora_core::support::EventKind::Reply
        ],
        "the reply, then the status it moved, in the order written"
    );
    assert_eq!(v.response.state, "running", "the requester's own reply is no response");
    h.clock.set(at("2026-11-23T14:00:00Z"));
    let v = h.crm.question(&kim, &id(&v)).await.unwrap();
    assert_eq!(v.resolution.state, "running");
    assert_eq!(v.resolution.left_minutes, Some(45 * 60 - 120));
    h.crm
        .set_question_status(&kim, &id(&v), json!({"version": version(&v), "status": "resolved"}))
        .await
        .unwrap();

    // Friday 16:00 local (15:00Z), urgent: two open hours to respond. One hour is left on
    // Friday; Saturday, Sunday and the holiday Monday do not count; due Tuesday 09:00 local.
    h.clock.set(at("2026-11-27T15:00:00Z"));
    let f = raise(&h, &anna, "Cannot sign in", "urgent").await;
    let due = at("2026-12-01T08:00:00Z");
    assert_eq!(f.response.due, Some(due));
    h.clock.set(at("2026-11-30T12:00:00Z"));
    let run = h.crm.check_support_breaches().await.unwrap();
    assert!(run.escalated.is_empty() && run.warned.is_empty(), "{run:?}");
    // 08:40 local on Tuesday: 20 minutes left of 120, within the 20 % warning.
    h.clock.set(at("2026-12-01T07:40:00Z"));
    let run = h.crm.check_support_breaches().await.unwrap();
    assert_eq!(run.warned, vec![f.line.question.id]);
    assert!(run.escalated.is_empty());
    let run = h.crm.check_support_breaches().await.unwrap();
    assert!(run.warned.is_empty(), "a warning is given once");
    h.clock.set(due);
    let run = h.crm.check_support_breaches().await.unwrap();
    assert_eq!(run.escalated, vec![f.line.question.id]);
    let v = h.crm.question(&h.admin, &id(&f)).await.unwrap();
    assert_eq!(v.line.question.level, anchora_core::support::Level::It);
    let breach = v
        .events
        .iter()
        .find(|e| e.kind == anchora_core::support::EventKind::Escalated)
        .unwrap();
    assert_eq!((breach.actor, breach.detail["reason"].as_str()), (None, Some("breach")));
    assert!(
        v.events
            .iter()
            .any(|e| e.kind == anchora_core::support::EventKind::Warning)
    );
    // The requester never sees the warning.
    let mine = h.crm.question(&anna, &id(&f)).await.unwrap();
    assert!(
        mine.events
            .iter()
            .all(|e| e.kind != anchora_core::support::EventKind::Warning)
    );

    // Past the vendor the system owner (none named: administrators) is reached, once.
    let v = h
        .crm
        .escalate_question(
            &h.admin,
            &id(&v),
            json!({"version": version(&v), "response_minutes": 30}),
        )
        .await
        .unwrap();
    assert_eq!(v.line.question.level, anchora_core::support::Level::Vendor);
    h.clock.set(at("2026-12-01T10:00:00Z"));
    let run = h.crm.check_support_breaches().await.unwrap();
    assert_eq!(run.escalated, vec![f.line.question.id]);
    let run = h.crm.check_support_breaches().await.unwrap();
    assert!(run.escalated.is_empty());
    let v = h.crm.question(&h.admin, &id(&f)).await.unwrap();
    let last = v
        .events
        .iter()
        .rev()
        .find(|e| e.kind == anchora_core::support::EventKind::Escalated)
        .unwrap();
    assert_eq!(last.detail["to"], json!("administrators"));
    assert_eq!(escalations(&v), 3);

    // Figures of what the reader may see: two asked (one solved), two breaches, a category.
    let f = h.crm.support_figures(&h.admin, Some("4")).await.unwrap();
    let opened: u64 = f.weeks.iter().map(|w| w.opened).sum();
    let solved: u64 = f.weeks.iter().map(|w| w.solved).sum();
    assert_eq!((opened, solved, f.breaches), (2, 1, 2), "{f:?}");
    assert_eq!(
        f.categories.first().map(|c| (c.category.as_str(), c.questions)),
        Some(("usage", 2))
    );
    let key_user = f
        .levels
        .iter()
        .find(|l| l.level == anchora_core::support::Level::KeyUser)
        .unwrap();
    assert_eq!(key_user.median_resolution_minutes, Some(6 * 60));
    let other = made(&h, "olle@example.com", "user", None).await;
    let theirs = h.crm.support_figures(&other, None).await.unwrap();
    assert_eq!(
        (
            theirs.weeks.iter().map(|w| w.opened + w.solved).sum::<u64>(),
            theirs.breaches
        ),
        (0, 0),
        "nothing of others' questions"
    );
    // Every week of the span is a row, quiet ones too, in order.
    assert!(theirs.weeks.len() >= 12, "{:?}", theirs.weeks);
    assert!(theirs.weeks.windows(2).all(|w| w[0].week < w[1].week));
    assert_eq!(
        h.crm.support_figures(&anna, Some("0")).await.unwrap_err().errors[0].field,
        "weeks"
    );
}

pub async fn support_breach_checks_racing_escalate_once(h: H) {
    settings(&h).await;
    let north = team(&h, "North").await;
    let _kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    for round in 0..5 {
        h.clock
            .set(at("2026-11-24T08:00:00Z") + chrono::Duration::days(7 * round));
        let q = raise(&h, &anna, &format!("Round {round}"), "urgent").await;
        h.clock.advance(chrono::Duration::hours(3));
        let (a, b) = tokio::join!(h.crm.check_support_breaches(), h.crm.check_support_breaches());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.escalated.len() + b.escalated.len(), 1, "round {round}: {a:?} {b:?}");
        let v = h.crm.question(&h.admin, &id(&q)).await.unwrap();
        assert_eq!(escalations(&v), 1, "round {round}");
        assert_eq!(v.line.question.level, anchora_core::support::Level::It);
        h.crm
            .set_question_status(&h.admin, &id(&v), json!({"version": version(&v), "status": "resolved"}))
            .await
            .unwrap();
    }
}

/// Visibility follows routing: the plan names a plain-role user of another team as a team's
/// key user and another as system owner; the key user sees and answers the team's questions
/// (one by id and in the list), the system owner the ones escalated past the vendor to them,
/// and a key-user-role member of the team the plan passes over no longer does.
pub async fn support_visibility_follows_the_stewardship_plan(h: H) {
    settings(&h).await;
    let sales = team(&h, "Sales").await;
    let other = team(&h, "Other").await;
    let sven = made(&h, "sven@example.com", "user", Some(other)).await;
    let owner = made(&h, "owner@example.com", "user", None).await;
    let old_key = made(&h, "old@example.com", "key_user", Some(sales)).await;
    let anna = made(&h, "anna@example.com", "user", Some(sales)).await;
    h.crm
        .update_stewardship_plan(
            &h.admin,
            json!({"version": 0, "system_owner": owner.user_id,
                "key_users": [{"team": sales, "users": [sven.user_id]}]}),
        )
        .await
        .unwrap();
    h.clock.set(at("2026-12-01T08:00:00Z"));
    let q = raise(&h, &anna, "Cannot save a deal", "urgent").await;
    assert_eq!(q.line.question.assignee, Some(sven.user_id));
    let seen = h.crm.question(&sven, &id(&q)).await.unwrap();
    assert!(seen.in_chain);
    h.crm
        .add_question_event(&sven, &id(&q), json!({"kind": "note", "body": "Looking"}))
        .await
        .unwrap();
    let (list, _) = h.crm.questions(&sven, &QuestionQuery::default()).await.unwrap();
    assert_eq!(list.len(), 1);
    for who in [&old_key, &owner] {
        assert_eq!(
            h.crm.question(who, &id(&q)).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let (list, _) = h.crm.questions(who, &QuestionQuery::default()).await.unwrap();
        assert!(list.is_empty());
    }

    // Unassigned and with another key user: still the plan's key user's, by team.
    let v = h.crm.question(&h.admin, &id(&q)).await.unwrap();
    h.crm
        .update_question(&h.admin, &id(&q), json!({"version": version(&v), "assignee": null}))
        .await
        .unwrap();
    let (list, _) = h.crm.questions(&sven, &QuestionQuery::default()).await.unwrap();
    assert_eq!(list.len(), 1);

    // Breached at every level: past the vendor it goes to the system owner, who sees it.
    for day in [
        "2026-12-10T09:00:00Z",
        "2026-12-20T09:00:00Z",
        "2027-01-20T09:00:00Z",
        "2027-03-20T09:00:00Z",
    ] {
        h.clock.set(at(day));
        h.crm.check_support_breaches().await.unwrap();
    }
    let v = h.crm.question(&h.admin, &id(&q)).await.unwrap();
    assert_eq!(v.line.question.level, anchora_core::support::Level::Vendor);
    assert_eq!(v.line.question.assignee, Some(owner.user_id));
    let seen = h.crm.question(&owner, &id(&q)).await.unwrap();
    assert!(seen.in_chain);
    let (list, _) = h.crm.questions(&owner, &QuestionQuery::default()).await.unwrap();
    assert_eq!(list.len(), 1);
    let figures = h.crm.support_figures(&owner, Some("104")).await.unwrap();
    assert!(figures.breaches >= 1);
    // Anna's own; the old key user is still out.
    h.crm.question(&anna, &id(&q)).await.unwrap();
    assert_eq!(
        h.crm.question(&old_key, &id(&q)).await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

/// The breach check reads a page's steps and handled alerts in one go each and leaves what it
/// handled alone: a second run at the same moment writes nothing (no version moves, no step).
pub async fn support_breach_check_reads_a_page_at_once_and_leaves_handled_alone(h: H) {
    use anchora_core::support::SupportStore;
    settings(&h).await;
    let north = team(&h, "North").await;
    let _kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    h.clock.set(at("2026-11-24T08:00:00Z"));
    let mut qs = Vec::new();
    for n in 0..3 {
        qs.push(raise(&h, &anna, &format!("Question {n}"), "urgent").await);
    }
    h.crm
        .add_question_event(&anna, &id(&qs[1]), json!({"kind": "reply", "body": "More detail"}))
        .await
        .unwrap();
    h.clock.advance(chrono::Duration::hours(3));
    let first = h.crm.check_support_breaches().await.unwrap();
    assert_eq!(first.escalated.len(), 3, "{first:?}");
    let ids: Vec<_> = qs.iter().map(|q| q.line.question.id).collect();
    let events = h.store.events_of_questions(&ids).await.unwrap();
    for q in &ids {
        let one: Vec<_> = events.iter().filter(|e| e.question == *q).cloned().collect();
        assert_eq!(one, h.store.question_events(*q).await.unwrap());
    }
    assert_eq!(events.len(), 3 * 2 + 1);
    let alerts = h.store.alerts_of_questions(&ids).await.unwrap();
    assert_eq!(alerts.len(), 3);
    assert!(
        alerts
            .iter()
            .all(|a| a.kind == "breach" && a.level == anchora_core::support::Level::KeyUser)
    );
    assert!(h.store.events_of_questions(&[]).await.unwrap().is_empty());

    let versions: Vec<i64> = {
        let mut v = Vec::new();
        for q in &qs {
            v.push(version(&h.crm.question(&h.admin, &id(q)).await.unwrap()));
        }
        v
    };
    let again = h.crm.check_support_breaches().await.unwrap();
    assert_eq!(again.checked, 3);
    assert!(again.escalated.is_empty() && again.warned.is_empty(), "{again:?}");
    for (q, v) in qs.iter().zip(versions) {
        let now = h.crm.question(&h.admin, &id(q)).await.unwrap();
        assert_eq!(version(&now), v);
        assert_eq!(escalations(&now), 1);
    }
    assert_eq!(h.store.events_of_questions(&ids).await.unwrap().len(), 7);
    // The list names its people, read together.
    let (list, _) = h.crm.questions(&h.admin, &QuestionQuery::default()).await.unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|l| l.requester_name == "anna@example.com"));
}

/// Questions raised at once all get a number, each its own and none skipped: 20 raisers in
/// each of several rounds.
pub async fn support_questions_raised_at_once_get_unique_dense_numbers(h: H) {
    let north = team(&h, "North").await;
    let _kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let mut raisers = Vec::new();
    for n in 0..20 {
        raisers.push(made(&h, &format!("u{n}@example.com"), "user", Some(north)).await);
    }
    let mut numbers = Vec::new();
    for round in 0..4 {
        let mut tasks = Vec::new();
        for who in &raisers {
            let (crm, who) = (h.crm.clone(), who.clone());
            tasks.push(tokio::spawn(async move {
                crm.raise_question(
                    &who,
                    json!({"subject": format!("Round {round}"), "description": "At once"}),
                )
                .await
            }));
        }
        for t in tasks {
            numbers.push(t.await.unwrap().unwrap().line.question.number);
        }
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=80).collect::<Vec<i64>>());
}

/// A key user's own question is not routed to themselves: to the team's other key user when
/// there is one, else straight to IT.
pub async fn support_a_key_users_question_goes_past_themselves(h: H) {
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    let kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let ola = made(&h, "ola@example.com", "key_user", Some(south)).await;
    let eva = made(&h, "eva@example.com", "key_user", Some(south)).await;
    let q = raise(&h, &kim, "My own question", "normal").await;
    assert_eq!(q.line.question.level, anchora_core::support::Level::It);
    assert_eq!(q.line.question.assignee, None);
    let q = raise(&h, &ola, "Another", "normal").await;
    assert_eq!(q.line.question.level, anchora_core::support::Level::KeyUser);
    assert_eq!(q.line.question.assignee, Some(eva.user_id));
}

/// A file name with a control character is refused at upload naming the field.
pub async fn support_attachment_names_refuse_control_characters(h: H) {
    let anna = made(&h, "anna@example.com", "user", None).await;
    let q = raise(&h, &anna, "A file", "normal").await;
    for name in ["bad\u{7}.txt", "two\nlines.txt"] {
        let e = h
            .crm
            .add_question_attachment(&anna, &id(&q), name, "text/plain", b"x")
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{name:?}");
        assert_eq!(e.errors[0].field, "file");
    }
    h.crm
        .add_question_attachment(&anna, &id(&q), "Öberg Ærø.pdf", "application/pdf", b"x")
        .await
        .unwrap();
}

/// Without a priority, a question's impact and urgency give it by the plan's matrix (the
/// default grid until the plan sets its own); one without the other is refused naming the
/// missing one, a word outside low/medium/high naming itself.
pub async fn support_priority_follows_the_plans_matrix(h: H) {
    let anna = made(&h, "anna@example.se", "user", None).await;
    let raised = |impact: &'static str, urgency: &'static str| {
        let h = &h;
        let anna = &anna;
        async move {
            h.crm
                .raise_question(
                    anna,
                    json!({"subject": "Lost my pipeline", "impact": impact, "urgency": urgency}),
                )
                .await
        }
    };
    let q = raised("high", "high").await.unwrap();
    assert_eq!(q.line.question.priority.as_str(), "urgent");
    let q = raised("low", "high").await.unwrap();
    assert_eq!(q.line.question.priority.as_str(), "normal");
    // The plan's own grid: medium × medium is high there.
    let mut grid = serde_json::to_value(anchora_core::stewardship::PriorityMatrix::default()).unwrap();
    grid["rows"][1][1] = json!("high");
    h.crm
        .update_stewardship_plan(&h.admin, json!({"version": 0, "matrix": grid}))
        .await
        .unwrap();
    let q = raised("medium", "medium").await.unwrap();
    assert_eq!(q.line.question.priority.as_str(), "high");
    // An explicit priority stands.
    let q = h
        .crm
        .raise_question(
            &anna,
            json!({"subject": "Typo", "priority": "low", "impact": "high", "urgency": "high"}),
        )
        .await
        .unwrap();
    assert_eq!(q.line.question.priority.as_str(), "low");
    let e = h
        .crm
        .raise_question(&anna, json!({"subject": "Half", "impact": "high"}))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("urgency"), "{e:?}");
    let e = raised("huge", "high").await.unwrap_err();
    assert!(format!("{e:?}").contains("impact"), "{e:?}");
}

/// Only the question's chain takes it (taking it shows it whole, internal notes too), an
/// assignee who leaves hands the notices back to the level, and a level's agreed response is
/// met by that level: a key user's word on a question with IT is a first answer for the asker,
/// not IT's response.
pub async fn support_only_the_chain_takes_a_question_and_each_level_meets_its_own_response(h: H) {
    settings(&h).await;
    let north = team(&h, "North").await;
    let kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    let peer = made(&h, "peer@example.com", "user", Some(north)).await;
    let ida = made(&h, "ida@example.com", "admin", None).await;
    let q = raise(&h, &anna, "Lost the forecast tab", "normal").await;
    assert_eq!(q.line.question.assignee, Some(kim.user_id));

    // A peer of the team is no one to hand it to; an administrator is.
    let e = h
        .crm
        .update_question(&kim, &id(&q), json!({"version": version(&q), "assignee": peer.user_id}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "assignee", "{e:?}");
    assert_eq!(
        h.crm.question(&peer, &id(&q)).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    let q = h
        .crm
        .update_question(&kim, &id(&q), json!({"version": version(&q), "assignee": ida.user_id}))
        .await
        .unwrap();
    assert_eq!(q.line.question.assignee, Some(ida.user_id));

    // Passed on to IT; Kim's reply answers Anna, but IT's own response clock still runs.
    let q = h
        .crm
        .escalate_question(&kim, &id(&q), json!({"version": version(&q), "reason": "Needs IT"}))
        .await
        .unwrap();
    assert_eq!(q.line.question.level, anchora_core::support::Level::It);
    h.clock.advance(chrono::Duration::minutes(20));
    let q = h
        .crm
        .add_question_event(&kim, &id(&q), json!({"kind": "reply", "body": "IT is on it"}))
        .await
        .unwrap();
    assert!(q.line.question.first_response_at.is_some());
    assert_eq!(
        q.line.question.level_response_at, None,
        "a key user does not answer for IT"
    );
    h.clock.advance(chrono::Duration::minutes(20));
    let q = h
        .crm
        .add_question_event(&ida, &id(&q), json!({"kind": "reply", "body": "Fixed the role"}))
        .await
        .unwrap();
    assert_eq!(q.line.question.level_response_at, Some(h.clock.now()));
}

/// Point 7: the support figures on a dashboard, beside the reports. Each widget counts the
/// questions its reader may see, for the period the dashboard is looked at (a count against
/// the period before to the same day), narrowed by the scope to the reader's own questions
/// (raised or assigned) or their team's.
pub async fn support_figures_on_a_dashboard_count_what_the_reader_may_see(h: H) {
    use anchora_core::dashboards::WidgetRun;
    settings(&h).await;
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    let kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    let bo = made(&h, "bo@example.com", "user", Some(south)).await;
    // An administrator of the South team: everything in sight, their team's by "team".
    let ada = made(&h, "ada@example.com", "admin", Some(south)).await;
    // November: Anna asks twice (one solved by Kim), Bo once, Kim once; December: Anna once,
    // urgently, and the agreed response is missed.
    h.clock.set(at("2026-11-03T09:00:00Z"));
    raise(&h, &anna, "Export", "normal").await;
    h.crm
        .raise_question(
            &bo,
            json!({"subject": "Login", "description": "Locked out", "category": "access"}),
        )
        .await
        .unwrap();
    h.clock.set(at("2026-11-10T09:00:00Z"));
    let solved = raise(&h, &anna, "Views", "normal").await;
    h.clock.set(at("2026-11-10T11:00:00Z"));
    h.crm
        .set_question_status(
            &kim,
            &id(&solved),
            json!({"version": version(&solved), "status": "resolved"}),
        )
        .await
        .unwrap();
    h.clock.set(at("2026-11-12T09:00:00Z"));
    raise(&h, &kim, "Field missing", "normal").await;
    h.clock.set(at("2026-12-02T09:00:00Z"));
    raise(&h, &anna, "Forecast", "urgent").await;
    h.clock.set(at("2026-12-03T10:00:00Z"));

    let widgets = json!([{"kind": "support", "figure": "asked"}, {"kind": "support", "figure": "solved"},
        {"kind": "support", "figure": "breaches", "title": "Missed"}, {"kind": "support", "figure": "weekly", "width": 3},
        {"kind": "support", "figure": "levels", "width": 2}, {"kind": "support", "figure": "categories"}]);
    let mut boards = Vec::new();
    for who in [&h.admin, &kim, &anna, &bo, &ada] {
        let d = h
            .crm
            .create_dashboard(who, json!({"name": "Support", "widgets": widgets}))
            .await
            .unwrap();
        boards.push(d.dashboard.id.to_string());
    }
    let run = |who: Principal, board: String, period: &'static str, scope: &'static str| {
        let crm = h.crm.clone();
        async move {
            crm.view_dashboard(&who, &board, Some(period), Some(scope))
                .await
                .unwrap()
                .widgets
                .into_iter()
                .map(|w| match w {
                    WidgetRun::Support(s) => *s,
                    other => panic!("{other:?}"),
                })
                .collect::<Vec<_>>()
        }
    };
    let asked = |runs: &[anchora_core::dashboards::SupportRun]| runs[0].figures.asked();

    // Last month for the administrator: every question, against an empty October.
    let admin = run(h.admin.clone(), boards[0].clone(), "last_month", "everyone").await;
    assert_eq!((asked(&admin), admin[1].figures.solved()), (4, 1));
    let change = admin[0].change.unwrap();
    assert_eq!((change.delta, change.percent), (4.0, None));
    assert_eq!(admin[2].title.as_deref(), Some("Missed"));
    assert!(admin[3].previous.is_none(), "a chart has no period before");
    let weeks: Vec<(&str, u64)> = admin[3]
        .figures
        .weeks
        .iter()
        .map(|w| (w.week.as_str(), w.opened))
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-W44", 0),
            ("2026-W45", 2),
            ("2026-W46", 2),
            ("2026-W47", 0),
            ("2026-W48", 0),
            ("2026-W49", 0)
        ],
        "November's weeks, 1 November a Sunday"
    );
    let key_user = admin[4]
        .figures
        .levels
        .iter()
        .find(|l| l.level == anchora_core::support::Level::KeyUser)
        .unwrap();
    assert_eq!(key_user.median_resolution_minutes, Some(120));
    let categories: Vec<(&str, u64)> = admin[5]
        .figures
        .categories
        .iter()
        .map(|c| (c.category.as_str(), c.questions))
        .collect();
    assert_eq!(categories, [("usage", 3), ("access", 1)]);
    assert_eq!(admin[2].figures.breaches, 0, "November kept its agreed times");

    // Each reader counts what they may see; the scope narrows it.
    let kim_all = run(kim.clone(), boards[1].clone(), "last_month", "everyone").await;
    assert_eq!(asked(&kim_all), 3, "North's three: Anna's two and Kim's own");
    let kim_team = run(kim.clone(), boards[1].clone(), "last_month", "team").await;
    assert_eq!(asked(&kim_team), 3);
    let kim_mine = run(kim.clone(), boards[1].clone(), "last_month", "me").await;
    assert_eq!(asked(&kim_mine), 3, "the two Kim was given and the one Kim asked");
    let admin_mine = run(h.admin.clone(), boards[0].clone(), "last_month", "me").await;
    assert_eq!(asked(&admin_mine), 0, "the administrator asked and was given none");
    let anna_all = run(anna.clone(), boards[2].clone(), "last_month", "everyone").await;
    assert_eq!((asked(&anna_all), anna_all[1].figures.solved()), (2, 1));
    let bo_all = run(bo.clone(), boards[3].clone(), "last_month", "everyone").await;
    assert_eq!(asked(&bo_all), 1, "nothing of North's");
    assert!(bo_all[5].figures.categories.iter().all(|c| c.questions == 1));
    let admin_team = run(h.admin.clone(), boards[0].clone(), "last_month", "team").await;
    assert_eq!(asked(&admin_team), 0, "without a team, 'team' is the reader's own");
    let ada_all = run(ada.clone(), boards[4].clone(), "last_month", "everyone").await;
    let ada_team = run(ada.clone(), boards[4].clone(), "last_month", "team").await;
    assert_eq!(
        (asked(&ada_all), asked(&ada_team)),
        (4, 1),
        "South's one question of the four"
    );
    // A week's figures are keyed by the days the dashboard counts: last week (23–29 November)
    // is one week, whatever zone the support calendar keeps.
    let week = run(h.admin.clone(), boards[0].clone(), "last_week", "everyone").await;
    let weeks: Vec<&str> = week[3].figures.weeks.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(weeks, ["2026-W48"]);

    // The breach check of this morning passes on what missed its agreed times (the urgent
    // question among them): breaches of this month, against none to 3 November.
    let breached = h.crm.check_support_breaches().await.unwrap();
    assert!(!breached.escalated.is_empty(), "{breached:?}");
    let missed = u64::try_from(breached.escalated.len()).unwrap();
    // This month so far (1–3 December) against 1–3 November: one against two.
    let now = run(h.admin.clone(), boards[0].clone(), "this_month", "everyone").await;
    assert_eq!((asked(&now), now[0].previous.as_ref().map(|p| p.asked())), (1, Some(2)));
    assert_eq!(now[0].change.unwrap().delta, -1.0);
    assert_eq!(
        (now[2].figures.breaches, now[2].previous.as_ref().map(|p| p.breaches)),
        (missed, Some(0))
    );
    assert!(now[2].change.unwrap().delta >= 1.0);
    let november = run(h.admin.clone(), boards[0].clone(), "last_month", "everyone").await;
    assert_eq!(
        november[2].figures.breaches, 0,
        "a breach counts on the day it was found"
    );
    // The weekly chart stops at today: no weeks ahead.
    assert_eq!(now[3].figures.weeks.last().map(|w| w.week.as_str()), Some("2026-W49"));

    // A figure the widget does not know, or a title on two lines, is refused by its place.
    let e = h
        .crm
        .create_dashboard(
            &kim,
            json!({"name": "Bad", "widgets": [{"kind": "support", "figure": "asked"},
                {"kind": "support", "figure": "tickets"}, {"kind": "support", "figure": "asked", "title": "a\nb"}]}),
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.iter().any(|f| f.starts_with("widgets[1]")), "{e:?}");
    assert!(fields.contains(&"widgets[2].title"), "{e:?}");
    assert!(!fields.iter().any(|f| f.starts_with("widgets[0]")), "{e:?}");
}

/// An e-mailed answer is kept once by its Message-ID, enforced by the database: two mailbox
/// runs reading the same message at once keep one reply between them, round after round; a
/// new message is a new reply. The reference is the requester's own: from anyone else it is
/// refused even when they may answer.
pub async fn support_an_emailed_answer_is_kept_once_by_its_message_id(h: H) {
    use anchora_core::support::Threaded;
    settings(&h).await;
    let north = team(&h, "North").await;
    let _kim = made(&h, "kim@example.com", "key_user", Some(north)).await;
    let anna = made(&h, "anna@example.com", "user", Some(north)).await;
    h.clock.set(at("2026-11-24T08:00:00Z"));
    for round in 0..12 {
        let q = raise(&h, &anna, &format!("Round {round}"), "normal").await;
        let number = q.line.question.number;
        let token = h.crm.support_reply_token(number, anna.user_id).await.unwrap();
        let text = format!("Tack, det fungerar nu (Øre, Müller, Núñez).\nReferens: {token}");
        let message = format!("<{round}.reply@mail.example.com>");
        let (a, b) = tokio::join!(
            h.crm
                .thread_email_reply("Anna@Example.com", "Re: fråga", &text, None, Some(&message)),
            h.crm
                .thread_email_reply("anna@example.com", "Re: fråga", &text, None, Some(&message)),
        );
        let mut outcomes = vec![a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|t| matches!(t, Threaded::Again(_)));
        assert_eq!(
            outcomes,
            [Threaded::Into(number), Threaded::Again(number)],
            "round {round}"
        );
        let again = h
            .crm
            .thread_email_reply("anna@example.com", "Re: fråga", &text, None, Some(&message))
            .await
            .unwrap();
        assert_eq!(again, Threaded::Again(number), "round {round}: read a third time");
        let replies = |v: &QuestionView| {
            v.events
                .iter()
                .filter(|e| e.kind == anchora_core::support::EventKind::EmailReply)
                .count()
        };
        let v = h.crm.question(&h.admin, &id(&q)).await.unwrap();
        assert_eq!(replies(&v), 1, "round {round}");
        // Another message is another answer.
        let other = format!("<{round}.second@mail.example.com>");
        let t = h
            .crm
            .thread_email_reply("anna@example.com", "Re: fråga", &text, None, Some(&other))
            .await
            .unwrap();
        assert_eq!(t, Threaded::Into(number));
        let v = h.crm.question(&h.admin, &id(&q)).await.unwrap();
        assert_eq!(replies(&v), 2, "round {round}");
        // Kim is of the chain, but the reference is Anna's.
        let t = h
            .crm
            .thread_email_reply("kim@example.com", "Re: fråga", &text, None, None)
            .await
            .unwrap();
        assert_eq!(t, Threaded::NotAllowed, "round {round}");
    }
}
