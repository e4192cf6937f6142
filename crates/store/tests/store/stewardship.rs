//! Issue 23, points 3, 5 and 6 (C4, C5): the stewardship plan at its version, its gaps as the
//! workspace changes, the support chain's people following it, the key-user group's backlog
//! (votes kept once per user by the database under racing writers, decisions by those the
//! plan allows, links only to what exists) and answers found by full-text search.

use super::*;
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;
use anchora_core::stewardship::{BacklogOrder, GapKind, RequestStatus, StewardshipStore};

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

async fn member(h: &H, email: &str, role: Role, team: Option<TeamId>) -> Principal {
    let now = h.clock.now();
    let mut user = User::new(UserId::new_at(now), Some(email.into()), email, role, now);
    user.team = team;
    h.store.create_user(&user).await.unwrap();
    Principal::new(user.id, role, team, Credential::Session)
}

fn kinds(gaps: &[anchora_core::stewardship::Gap]) -> Vec<(GapKind, String)> {
    gaps.iter().map(|g| (g.kind, g.subject.clone())).collect()
}

pub async fn the_stewardship_plan_is_versioned_its_gaps_clear_and_the_chain_follows_it(h: H) {
    let sales = team(&h, "Sales").await;
    let support = team(&h, "Support").await;
    let karin = member(&h, "karin@example.com", Role::KeyUser, Some(support)).await;
    let sven = member(&h, "sven@example.com", Role::User, Some(sales)).await;
    let owner = member(&h, "olle@example.com", Role::User, None).await;

    // Nothing written yet: every gap, Support covered by its key-user member.
    let view = h.crm.stewardship_plan(&sven).await.unwrap();
    assert_eq!(view.plan.version, 0);
    assert!(!view.may_edit);
    let found = kinds(&view.gaps);
    assert!(found.contains(&(GapKind::NoSystemOwner, String::new())));
    assert!(found.contains(&(GapKind::TeamWithoutKeyUser, "Sales".into())));
    assert!(!found.contains(&(GapKind::TeamWithoutKeyUser, "Support".into())));
    assert!(found.contains(&(GapKind::NoVendorContact, String::new())));
    assert_eq!(h.crm.key_users_of(Some(support)).await.unwrap(), vec![karin.user_id]);
    assert!(h.crm.key_users_of(Some(sales)).await.unwrap().is_empty());
    assert_eq!(h.crm.system_owner().await.unwrap(), None);

    // The implementation project's target is offered as go-live, and its key-user group's
    // meetings to come continue on the plan.
    let project = h
        .crm
        .create_project(
            &h.admin,
            json!({"name": "Rollout", "start": "2026-11-02", "target": "2027-01-11"}),
        )
        .await
        .unwrap();
    let pid = project.id.to_string();
    for date in ["2026-11-10", "2026-12-08"] {
        h.crm
            .add_meeting(&h.admin, &pid, json!({"series": "key_user_group", "date": date}))
            .await
            .unwrap();
    }
    h.crm
        .add_meeting(
            &h.admin,
            &pid,
            json!({"series": "steering_group", "date": "2026-12-09"}),
        )
        .await
        .unwrap();
    let view = h.crm.stewardship_plan(&sven).await.unwrap();
    assert_eq!(view.project_go_live, Some("2027-01-11".parse().unwrap()));
    assert_eq!(
        view.project_meetings,
        vec!["2026-12-08".parse::<chrono::NaiveDate>().unwrap()]
    );

    // Only administrators write it.
    let plan = json!({
        "version": 0,
        "system_owner": owner.user_id,
        "administrators": [h.admin.user_id],
        "key_users": [{"team": sales, "users": [sven.user_id]}],
        "vendor_contacts": [{"name": "Vera Lind", "company": "CRM Partner AB", "email": "support@partner.example",
            "phone": "+46 8 123 45", "agreement": "Weekdays 8-17, response within 4 hours"}],
        "forum": {"name": "Key-user group", "every_weeks": 4, "next_meeting": "2026-12-01",
            "decider": owner.user_id, "change_route": "Key user → key-user group → system owner"},
        "go_live": "2027-01-11"
    });
    let e = h.crm.update_stewardship_plan(&karin, plan.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let mut read_only = h.admin.clone();
    read_only.scope = anchora_core::auth::Scope::Read;
    let e = h
        .crm
        .update_stewardship_plan(&read_only, plan.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);

    // A person who does not exist is named by the field that names them.
    let mut bad = plan.clone();
    bad["administrators"] = json!([UserId::new_at(h.clock.now())]);
    let e = h.crm.update_stewardship_plan(&h.admin, bad).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "administrators[0]");

    // Dates far from now are refused naming their field, never carried into the rhythm.
    let mut far = plan.clone();
    far["forum"]["next_meeting"] = json!("+262000-01-01");
    far["go_live"] = json!("1066-10-14");
    let e = h.crm.update_stewardship_plan(&h.admin, far).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["forum.next_meeting", "go_live"]);

    let written = h.crm.update_stewardship_plan(&h.admin, plan.clone()).await.unwrap();
    assert_eq!(written.plan.version, 1);
    assert!(written.gaps.is_empty(), "{:?}", written.gaps);
    assert_eq!(written.meetings.len(), 3);
    assert_eq!(h.crm.key_users_of(Some(sales)).await.unwrap(), vec![sven.user_id]);
    assert_eq!(h.crm.key_users_of(Some(support)).await.unwrap(), vec![karin.user_id]);
    assert_eq!(h.crm.system_owner().await.unwrap(), Some(owner.user_id));

    // A second writer at the version they read is refused with the plan as it is now, as
    // records are (412).
    let e = h.crm.update_stewardship_plan(&h.admin, plan.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.code.status(), 412);
    assert_eq!(e.current.as_ref().unwrap()["version"], 1);
    assert_eq!(e.current.as_ref().unwrap()["system_owner"], json!(owner.user_id));

    // Racing first writers: exactly one wins.
    let mut racing = Vec::new();
    for _ in 0..4 {
        let crm = h.crm.clone();
        let admin = h.admin.clone();
        let mut p = plan.clone();
        p["version"] = json!(1);
        racing.push(tokio::spawn(
            async move { crm.update_stewardship_plan(&admin, p).await },
        ));
    }
    let mut won = 0;
    for r in racing {
        match r.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.code, ErrorCode::VersionConflict),
        }
    }
    assert_eq!(won, 1);

    // A key user who leaves opens the gap again, by name, and the chain falls back to the
    // team's key-user role; an owner who leaves is no owner.
    let mut gone = h.store.user(sven.user_id).await.unwrap().unwrap();
    gone.active = false;
    h.store.update_user(&gone).await.unwrap();
    let mut olle = h.store.user(owner.user_id).await.unwrap().unwrap();
    olle.active = false;
    h.store.update_user(&olle).await.unwrap();
    let gaps = h.crm.stewardship_gaps(&sven).await.unwrap();
    let found = kinds(&gaps);
    assert!(
        found.contains(&(GapKind::TeamWithoutKeyUser, "Sales".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(GapKind::InactivePerson, "sven@example.com".into())),
        "{found:?}"
    );
    let sales_gap = gaps.iter().find(|g| g.kind == GapKind::TeamWithoutKeyUser).unwrap();
    assert!(sales_gap.problem.contains("Sales"));
    assert_eq!(sales_gap.link, "/stewardship/plan/edit#key-users");
    assert!(h.crm.key_users_of(Some(sales)).await.unwrap().is_empty());
    assert_eq!(h.crm.system_owner().await.unwrap(), None);
}

pub async fn votes_are_one_per_user_under_racing_writers_and_decisions_are_the_deciders(h: H) {
    let support = team(&h, "Support").await;
    let karin = member(&h, "karin@example.com", Role::KeyUser, Some(support)).await;
    let sven = member(&h, "sven@example.com", Role::User, Some(support)).await;
    let mut keys = Vec::new();
    for i in 0..6 {
        keys.push(member(&h, &format!("ku{i}@example.com"), Role::KeyUser, Some(support)).await);
    }

    // Plain users read the backlog but do not propose.
    let e = h
        .crm
        .create_adjustment_request(&sven, json!({"title": "A field", "value": 3, "effort": 2}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // A link to a field that does not exist is refused, naming the link.
    let e = h
        .crm
        .create_adjustment_request(
            &karin,
            json!({"title": "Region on deals", "value": 4, "effort": 2,
                "links": [{"kind": "field", "target": "deal.region"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "links[0].target");
    let e = h
        .crm
        .create_adjustment_request(&karin, json!({"title": " ", "value": 6, "effort": 2}))
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["title", "value"]);

    // The question a request names is one the proposer may see.
    let sales = team(&h, "Sales").await;
    let sara = member(&h, "sara@example.com", Role::User, Some(sales)).await;
    let raise = |who: Principal, subject: &'static str| {
        let crm = h.crm.clone();
        async move {
            crm.raise_question(
                &who,
                json!({"subject": subject, "category": "usage", "priority": "normal"}),
            )
            .await
            .unwrap()
            .line
            .question
            .id
        }
    };
    let question = raise(sven.clone(), "The board hides amounts").await.0;
    let elsewhere = raise(sara.clone(), "A Sales question").await.to_string();
    for q in [uuid::Uuid::now_v7().to_string(), elsewhere] {
        let e = h
            .crm
            .create_adjustment_request(
                &karin,
                json!({"title": "A field", "value": 3, "effort": 2, "question": q}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.errors[0].field, "question");
    }
    // A link's target holds no control characters, like every other text.
    let e = h
        .crm
        .create_adjustment_request(
            &karin,
            json!({"title": "A field", "value": 3, "effort": 2,
                "links": [{"kind": "object", "target": "deal\u{7}"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "links[0].target");
    assert_eq!(e.errors[0].message, "may not hold control characters");
    let cheap = h
        .crm
        .create_adjustment_request(
            &karin,
            json!({"title": "Show the deal's amount on the board", "description": "Asked three times this week",
                "question": question.to_string(), "value": 4, "effort": 1,
                "links": [{"kind": "field", "target": "deal.amount"}, {"kind": "object", "target": "deal"}]}),
        )
        .await
        .unwrap();
    assert_eq!(cheap.line.request.question, Some(question));
    assert_eq!(cheap.line.request.links.len(), 2);
    let dear = h
        .crm
        .create_adjustment_request(&karin, json!({"title": "A customer portal", "value": 5, "effort": 5}))
        .await
        .unwrap();
    let id = dear.line.request.id.to_string();

    // Several rounds: every key user votes many times at once; each vote counts once.
    for round in 0..5 {
        let mut racing = Vec::new();
        for k in &keys {
            for _ in 0..4 {
                let crm = h.crm.clone();
                let k = k.clone();
                let id = id.clone();
                racing.push(tokio::spawn(async move { crm.vote_adjustment(&k, &id).await }));
            }
        }
        for r in racing {
            r.await.unwrap().unwrap();
        }
        let votes = h.store.adjustment_votes(Some(dear.line.request.id)).await.unwrap();
        assert_eq!(votes.len(), keys.len(), "round {round}");
        // The database itself refuses a second vote from the same user.
        assert!(
            !h.store
                .add_adjustment_vote(dear.line.request.id, keys[0].user_id, h.clock.now())
                .await
                .unwrap()
        );
        if round < 4 {
            for k in &keys {
                h.crm.unvote_adjustment(k, &id).await.unwrap();
            }
            assert!(
                h.store
                    .adjustment_votes(Some(dear.line.request.id))
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    // By priority, value per effort leads; by votes, the much-wanted one.
    let backlog = h.crm.adjustment_backlog(&sven, BacklogOrder::Priority).await.unwrap();
    assert_eq!(backlog.requests[0].request.id, cheap.line.request.id);
    assert!(!backlog.may_propose && !backlog.may_decide);
    let backlog = h.crm.adjustment_backlog(&keys[0], BacklogOrder::Votes).await.unwrap();
    assert_eq!(backlog.requests[0].request.id, dear.line.request.id);
    assert_eq!(backlog.requests[0].votes, 6);
    assert!(backlog.requests[0].voted);

    // Decisions: not a key user's; an administrator's, with a note; a rejection says why.
    let decide = |status: &str, note: &str, version: i64| json!({"status": status, "note": note, "version": version});
    let e = h
        .crm
        .decide_adjustment(&karin, &id, decide("accepted", "", 1))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h
        .crm
        .decide_adjustment(&h.admin, &id, decide("rejected", "", 1))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "note");
    let e = h
        .crm
        .decide_adjustment(&h.admin, &id, decide("done", "", 1))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "status");
    h.clock.advance(chrono::Duration::hours(1));
    let decided = h
        .crm
        .decide_adjustment(
            &h.admin,
            &id,
            decide("rejected", "Not this year: the budget goes to data quality", 1),
        )
        .await
        .unwrap();
    assert_eq!(decided.line.request.status, RequestStatus::Rejected);
    assert_eq!(decided.line.request.decided_by, Some(h.admin.user_id));
    assert_eq!(decided.line.request.decided_at, Some(h.clock.now()));
    // A stale decision is refused with the request as it is now.
    let e = h
        .crm
        .decide_adjustment(&h.admin, &id, decide("accepted", "", 1))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.as_ref().unwrap()["status"], "rejected");
    // Votes close once a request is decided against.
    let e = h.crm.vote_adjustment(&karin, &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    // Once decided, its text and worth stay as decided; the links to what changed may follow.
    let e = h
        .crm
        .update_adjustment_request(
            &karin,
            &id,
            json!({"version": 2, "title": "A smaller portal", "value": 5, "effort": 3}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["title", "effort"]);
    let linked = h
        .crm
        .update_adjustment_request(
            &karin,
            &id,
            json!({"version": 2, "title": "A customer portal", "value": 5, "effort": 5,
                "question": question.to_string(), "links": [{"kind": "object", "target": "deal"}]}),
        )
        .await
        .unwrap();
    assert_eq!(linked.line.request.version, 3);
    assert_eq!(linked.line.request.question, Some(question));
    assert_eq!(linked.line.request.links.len(), 1);

    // The plan's decider decides too, and moves the work along.
    let plan = json!({"version": 0, "forum": {"name": "Key-user group", "every_weeks": 2, "decider": karin.user_id}});
    h.crm.update_stewardship_plan(&h.admin, plan).await.unwrap();
    let cid = cheap.line.request.id.to_string();
    h.crm
        .decide_adjustment(&karin, &cid, decide("accepted", "Small and asked for", 1))
        .await
        .unwrap();
    h.crm
        .decide_adjustment(&karin, &cid, decide("in_progress", "", 2))
        .await
        .unwrap();
    let done = h
        .crm
        .decide_adjustment(&karin, &cid, decide("done", "", 3))
        .await
        .unwrap();
    assert_eq!(done.line.request.status, RequestStatus::Done);
    assert_eq!(done.line.request.decision_note, "Small and asked for");

    // Comments, and removal with its votes and comments.
    let c = h
        .crm
        .comment_adjustment(&keys[1], &id, json!({"body": "We could ask again in spring"}))
        .await
        .unwrap();
    assert_eq!(c.comments.len(), 1);
    let e = h.crm.delete_adjustment_request(&keys[1], &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    h.crm.delete_adjustment_request(&h.admin, &id).await.unwrap();
    let e = h.crm.adjustment_request(&sven, &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
}

pub async fn answers_are_found_in_the_askers_language_and_drafts_stay_with_their_writers(h: H) {
    let support = team(&h, "Support").await;
    let karin = member(&h, "karin@example.com", Role::KeyUser, Some(support)).await;
    let sven = member(&h, "sven@example.com", Role::User, Some(support)).await;
    let write = |title: &str, body: &str, language: &str, published: bool| json!({"title": title, "body": body, "language": language, "category": "Deals", "published": published});
    let e = h
        .crm
        .create_answer(&sven, write("Export", "How to export", "en", true))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = h
        .crm
        .create_answer(&karin, write("Export", "How to export", "fr", true))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "language");

    let en = h
        .crm
        .create_answer(
            &karin,
            write(
                "Exporting a list of deals",
                "Open the list, filter it, then choose Export <b>CSV</b>.",
                "en",
                true,
            ),
        )
        .await
        .unwrap();
    let sv = h
        .crm
        .create_answer(
            &karin,
            write(
                "Exportera affärer",
                "Öppna listan och välj Export till CSV eller Excel.",
                "sv",
                true,
            ),
        )
        .await
        .unwrap();
    let draft = h
        .crm
        .create_answer(
            &karin,
            write("Export of invoices", "Not written yet: export invoices", "en", false),
        )
        .await
        .unwrap();
    // A draft from a solved question: read as the caller may see it, only once it is solved,
    // its text taken from the question when the caller gives none.
    let sales = team(&h, "Sales").await;
    let kim = member(&h, "kim@example.com", Role::KeyUser, Some(sales)).await;
    let q = h
        .crm
        .raise_question(
            &sven,
            json!({"subject": "Why can't I see my colleague's deals?",
                "description": "Deals are seen by their owner's team.", "category": "usage",
                "priority": "normal"}),
        )
        .await
        .unwrap();
    let qid = q.line.question.id.to_string();
    let e = h.crm.answer_from_question(&kim, &qid, json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h
        .crm
        .answer_from_question(&karin, &uuid::Uuid::now_v7().to_string(), json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h.crm.answer_from_question(&karin, &qid, json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "question");
    h.crm
        .set_question_status(
            &h.admin,
            &qid,
            json!({"version": q.line.question.version, "status": "resolved"}),
        )
        .await
        .unwrap();
    let e = h.crm.answer_from_question(&sven, &qid, json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let from_question = h.crm.answer_from_question(&karin, &qid, json!({})).await.unwrap();
    assert_eq!(from_question.answer.source_question, Some(q.line.question.id.0));
    assert_eq!(from_question.answer.title, "Why can't I see my colleague's deals?");
    assert!(
        from_question
            .answer
            .body
            .starts_with("Deals are seen by their owner's team.")
    );
    assert!(!from_question.answer.published);
    let given = h
        .crm
        .answer_from_question(
            &karin,
            &qid,
            json!({"title": "Seeing deals", "body": "Ask the owner's team."}),
        )
        .await
        .unwrap();
    assert_eq!(given.answer.title, "Seeing deals");
    assert_eq!(given.answer.body, "Ask the owner's team.");
    h.crm.delete_answer(&karin, &given.answer.id.to_string()).await.unwrap();

    // The asker's language first, then the rest; drafts never suggested.
    let found = h
        .crm
        .suggest_answers(&sven, "how do I export my deals to CSV?", "sv")
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|a| a.answer.id).collect();
    assert_eq!(ids, [sv.answer.id, en.answer.id]);
    let found = h.crm.suggest_answers(&sven, "export deals", "en").await.unwrap();
    assert_eq!(found[0].answer.id, en.answer.id);
    assert!(h.crm.suggest_answers(&sven, "?!", "en").await.unwrap().is_empty());
    // Prefixes match: "exp" finds both.
    assert_eq!(h.crm.suggest_answers(&sven, "exp", "en").await.unwrap().len(), 2);

    // Query syntax is only text to either engine: quotes, operators, stars and brackets
    // neither fail nor widen a search; punctuation alone finds nothing (not everything).
    for q in ["\"", "*", "(", "\"*(", "AND", "NEAR", ") OR (", "\"\"\""] {
        let found = h.crm.answers(&sven, Some(q), None).await.unwrap();
        assert!(found.is_empty(), "{q:?} found {}", found.len());
    }
    for q in ["NEAR(export deals)", "\"export\" AND (deals*", "export* OR", "\"export"] {
        let found = h.crm.answers(&sven, Some(q), Some("sv")).await.unwrap();
        let ids: Vec<_> = found.iter().map(|a| a.answer.id).collect();
        assert_eq!(ids, [sv.answer.id, en.answer.id], "{q:?}");
    }
    // Accents and case fold alike on both databases: the text is indexed and searched as
    // folded in Rust. Danish æ and ø are written ae and o, so "aero" finds Ærø.
    let sales_sv = h
        .crm
        .create_answer(&karin, write("Försäljning per region", "Välj rapporten.", "sv", true))
        .await
        .unwrap();
    let ferry = h
        .crm
        .create_answer(&karin, write("Færgen til Ærø", "Bestil på kontoret.", "da", true))
        .await
        .unwrap();
    for q in [
        "forsaljning",
        "Försäljning",
        "FÖRSÄLJNING",
        "fo\u{308}rsa\u{308}ljning",
        "forsalj",
    ] {
        let found = h.crm.answers(&sven, Some(q), None).await.unwrap();
        let ids: Vec<_> = found.iter().map(|a| a.answer.id).collect();
        assert_eq!(ids, [sales_sv.answer.id], "{q:?}");
    }
    for q in ["aero", "Ærø", "ÆRØ", "aerø", "faergen"] {
        let found = h.crm.suggest_answers(&sven, q, "da").await.unwrap();
        let ids: Vec<_> = found.iter().map(|a| a.answer.id).collect();
        assert_eq!(ids, [ferry.answer.id], "{q:?}");
    }
    assert!(
        h.crm
            .answers(&sven, Some("försäljningar"), None)
            .await
            .unwrap()
            .is_empty()
    );
    for a in [&sales_sv, &ferry] {
        h.crm.delete_answer(&karin, &a.answer.id.to_string()).await.unwrap();
    }

    // The store itself takes only letters and digits from what it is given.
    let raw: Vec<String> = ["\"", "AND", "export\"", "(", "NEAR", "*", "export"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    let found = h
        .store
        .search_answers(&raw, Some("en"), anchora_core::stewardship::DraftsSeen::None, 10)
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|(a, _)| a.id).collect();
    assert_eq!(ids, [en.answer.id, sv.answer.id]);
    let found = h
        .store
        .search_answers(&raw, None, anchora_core::stewardship::DraftsSeen::None, 1)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // Drafts are seen by their author and administrators only, in lists and by id: not by a
    // plain user, nor by another key user.
    let listed = h.crm.answers(&sven, Some("invoices"), None).await.unwrap();
    assert!(listed.is_empty());
    assert!(h.crm.answers(&kim, Some("invoices"), None).await.unwrap().is_empty());
    let listed = h.crm.answers(&karin, Some("invoices"), None).await.unwrap();
    assert_eq!(listed[0].answer.id, draft.answer.id);
    let listed = h.crm.answers(&h.admin, Some("invoices"), None).await.unwrap();
    assert_eq!(listed[0].answer.id, draft.answer.id);
    assert_eq!(h.crm.answers(&sven, None, None).await.unwrap().len(), 2);
    assert_eq!(h.crm.answers(&kim, None, None).await.unwrap().len(), 2);
    assert_eq!(h.crm.answers(&karin, None, None).await.unwrap().len(), 4);
    assert_eq!(h.crm.answers(&h.admin, None, None).await.unwrap().len(), 4);
    let draft_id = draft.answer.id.to_string();
    let e = h.crm.answer(&sven, &draft_id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h.crm.answer(&kim, &draft_id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h.crm.update_answer(&kim, &draft_id, json!({})).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(
        h.crm.answer(&h.admin, &draft_id).await.unwrap().answer.id,
        draft.answer.id
    );

    // Changing an answer re-indexes it; a stale version is refused.
    let id = en.answer.id.to_string();
    let mut change = write("Exporting a list of companies", "Open the companies list.", "en", true);
    change["version"] = json!(1);
    h.crm.update_answer(&karin, &id, change.clone()).await.unwrap();
    let e = h.crm.update_answer(&karin, &id, change).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.as_ref().unwrap()["version"], 2);
    assert!(
        h.crm
            .suggest_answers(&sven, "deals", "en")
            .await
            .unwrap()
            .iter()
            .all(|a| a.answer.id != en.answer.id)
    );
    assert_eq!(
        h.crm.suggest_answers(&sven, "companies", "en").await.unwrap()[0]
            .answer
            .id,
        en.answer.id
    );
    h.crm.delete_answer(&karin, &id).await.unwrap();
    assert!(
        h.crm
            .suggest_answers(&sven, "companies", "en")
            .await
            .unwrap()
            .is_empty()
    );
}
