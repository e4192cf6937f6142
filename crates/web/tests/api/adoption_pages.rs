//! The adoption pages in the browser (issue 22): a team with a lead, a key user, a busy member,
//! one who stopped signing in 16 days ago and does little, and one who never signed in, with
//! eight weeks of history written at the harness's clock (sign-ins into the audit log, records
//! through the API as each member) and counted. The lead sees the weak members with the reasons
//! in words, plans extra support and is told which key user got the task; a peer asking for a
//! member's figures gets 404. An administrator's weights form names a mistake beside its field
//! and keeps what was typed, and "Count now" runs the measuring with its progress panel. Every
//! page at 1280 and 1440 px fits its window.

use super::e2e::{Browser, fill};
use super::*;
use anchora_core::audit::{AuditEvent, AuditKind};
use anchora_core::store::AuditStore;
use std::collections::HashMap;
use thirtyfour::By;

async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

/// Whether a table fits its frame at both widths, without scrolling sideways.
async fn table_fits(b: &mut Browser, id: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        let overflow = b
            .driver
            .execute(
                "const t = document.getElementById(arguments[0]).parentElement; return t.scrollWidth - t.clientWidth;",
                vec![json!(id)],
            )
            .await
            .unwrap();
        assert!(
            overflow.json().as_i64().unwrap_or(0) <= 0,
            "#{id} at {width} px scrolls by {}",
            overflow.json()
        );
    }
}

/// Shots of sections further down the page, each scrolled into view.
async fn below_the_fold(b: &mut Browser, sections: &[&str]) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        for section in sections {
            b.driver
                .execute(
                    "document.getElementById(arguments[0]).scrollIntoView();",
                    vec![json!(section)],
                )
                .await
                .unwrap();
            b.shot(&format!("{section}-{width}")).await;
        }
    }
}

/// A user with a name of their own, in a team, who signs in with [`identity::PASSWORD`].
async fn member(h: &H, email: &str, name: &str, role: &str, team: &str) -> String {
    let body = json!({"email": email, "name": name, "role": role, "password": identity::PASSWORD, "team": team});
    let r = h.post("/api/v1/users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn signed_in(h: &H, user: &str, at: DateTime<Utc>) {
    h.instance
        .main()
        .record_audit(&AuditEvent::new(at, UserId::parse(user), AuditKind::LoginSucceeded))
        .await
        .unwrap();
}

async fn create_as(h: &H, token: &str, object: &str, body: Json) -> String {
    let r = identity::as_token(h, token, Method::POST, &format!("/api/v1/records/{object}"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Move a deal on to another stage, as the token's user.
async fn move_deal(h: &H, token: &str, id: &str, stage: &str) {
    let path = format!("/api/v1/records/deal/{id}");
    let etag = h.get(&path).await.headers["etag"].to_str().unwrap().to_string();
    let body = json!({ "stage": stage }).to_string().into_bytes();
    let r = h
        .send(Method::PATCH, &path, Some(token), &[("if-match", &etag)], Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

pub async fn browser_adoption_shows_weak_users_and_plans_support(h: H) {
    let today = start();
    // Everyone joined eight weeks ago.
    let t0 = today - chrono::Duration::days(56);
    h.clock.set(t0);
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    let lena = member(&h, "lena@example.se", "Lena Holm", "user", &north).await;
    let kim = member(&h, "kim@example.se", "Kim Berg", "key_user", &north).await;
    let bo = member(&h, "bo@example.se", "Bo Åkesson", "user", &north).await;
    let sara = member(&h, "sara@example.se", "Sara Lind", "user", &north).await;
    let nils = member(&h, "nils@example.se", "Nils Ek", "user", &north).await;
    let per = member(&h, "per@example.se", "Per Dahl", "user", &south).await;
    member(&h, "ada@example.se", "Ada Admin", "admin", &south).await;
    let lead = h
        .put(&format!("/api/v1/teams/{north}/lead"), json!({"lead": lena}))
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let mut tokens = HashMap::new();
    for email in ["lena@example.se", "kim@example.se", "bo@example.se"] {
        tokens.insert(email, identity::token_of(&h, email, Scope::Write).await);
    }

    // Eight weeks, day by day: Bo signs in and works every weekday (and moves a deal on each
    // week), Kim every other weekday, Lena twice a week; Sara signs in on Mondays until 16 days
    // ago and records nothing; Nils never signs in.
    let mut deal = String::new();
    for d in 0..56 {
        let day = t0 + chrono::Duration::days(d);
        h.clock.set(day);
        let weekday = d % 7; // t0 is a Monday
        if weekday < 5 {
            signed_in(&h, &bo, day).await;
            for n in 0..2 {
                create_as(
                    &h,
                    &tokens["bo@example.se"],
                    "person",
                    json!({"first_name": format!("Kund {d}-{n}"), "last_name": "Bergström", "owner": bo}),
                )
                .await;
            }
            create_as(
                &h,
                &tokens["bo@example.se"],
                "activity",
                json!({"type": "call", "subject": format!("Uppföljning {d}"), "owner": bo}),
            )
            .await;
            let bo_token = &tokens["bo@example.se"];
            match weekday {
                0 => {
                    deal = create_as(
                        &h,
                        bo_token,
                        "deal",
                        json!({"name": format!("Avtal {d}"), "stage": "lead", "owner": bo}),
                    )
                    .await;
                }
                2 => move_deal(&h, bo_token, &deal, "proposal").await,
                _ => {}
            }
        }
        if weekday < 5 && d % 2 == 0 {
            signed_in(&h, &kim, day).await;
            let kim_token = &tokens["kim@example.se"];
            create_as(
                &h,
                kim_token,
                "company",
                json!({"name": format!("Företag {d}"), "owner": kim}),
            )
            .await;
            create_as(
                &h,
                kim_token,
                "activity",
                json!({"type": "call", "subject": format!("Samtal {d}"), "owner": kim}),
            )
            .await;
        }
        if weekday == 1 || weekday == 3 {
            signed_in(&h, &lena, day).await;
            let lena_token = &tokens["lena@example.se"];
            create_as(
                &h,
                lena_token,
                "activity",
                json!({"type": "meeting", "subject": format!("Teammöte {d}"), "owner": lena}),
            )
            .await;
            create_as(
                &h,
                lena_token,
                "person",
                json!({"first_name": format!("Kontakt {d}"), "last_name": "Sjöberg", "owner": lena}),
            )
            .await;
        }
        if (weekday == 0 && d < 42) || d == 40 {
            signed_in(&h, &sara, day).await;
        }
        if weekday == 0 {
            signed_in(&h, &per, day).await;
        }
    }
    h.clock.set(today);
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    crm.measure_usage(false, &anchora_core::jobs::JobCtx::detached())
        .await
        .unwrap();

    let Some(mut b) = Browser::start(&h, &format!("adoption-{}", h.backend())).await else {
        return;
    };
    b.login("lena@example.se", identity::PASSWORD).await;
    b.go("/adoption").await;
    b.wait_for("id=\"adoption-people\"").await;
    let page = b.source().await;
    assert!(
        page.contains("href=\"/adoption\""),
        "the sidebar links the adoption page"
    );
    // The lead sees the five of her team, not Per of the other team.
    let people = b.by_id("adoption-people").await.text().await.unwrap();
    for name in ["Lena Holm", "Kim Berg", "Bo Åkesson", "Sara Lind", "Nils Ek"] {
        assert!(people.contains(name), "{name} missing: {people}");
    }
    assert!(
        !people.contains("Per Dahl") && !people.contains("Ada Admin"),
        "{people}"
    );
    assert!(page.contains(&format!("href=\"/adoption/users/{bo}\"")));
    // The weak members, with the reasons in words, and nobody else.
    let weak = b.by_id("adoption-weak").await.text().await.unwrap();
    let nils_row = b.by_id(&format!("weak-{nils}")).await.text().await.unwrap();
    assert!(nils_row.contains("Never signed in"), "{nils_row}");
    let sara_row = b.by_id(&format!("weak-{sara}")).await.text().await.unwrap();
    assert!(sara_row.contains("No sign-in for 16 days"), "{sara_row}");
    assert!(sara_row.contains("Below half the team's median for"), "{sara_row}");
    assert!(!weak.contains("Bo Åkesson") && !weak.contains("Kim Berg"), "{weak}");
    // The team's trend: one line, named once.
    let chart = b.css("#adoption-teams svg").await.inner_html().await.unwrap();
    assert_eq!(chart.matches("class=\"key\"").count(), 1, "{chart}");
    assert!(chart.contains(">North<"), "{chart}");
    both_widths(&mut b, "adoption").await;
    table_fits(&mut b, "adoption-people").await;
    below_the_fold(&mut b, &["h-people", "h-teams"]).await;

    // Extra support for Nils: the task goes to Kim, the key user of the team.
    b.by_id(&format!("plan-{nils}")).await.click().await.unwrap();
    b.wait_for("id=\"adoption-notice\"").await;
    let notice = b.by_id("adoption-notice").await.text().await.unwrap();
    assert!(notice.contains("Nils Ek") && notice.contains("Kim Berg"), "{notice}");
    let nils_row = b.by_id(&format!("weak-{nils}")).await.text().await.unwrap();
    assert!(nils_row.contains("Support planned"), "{nils_row}");
    let tasks = h
        .get(&format!(
            "/api/v1/records/activity?filter={}",
            enc(&json!({"field": "owner", "op": "eq", "value": kim}).to_string())
        ))
        .await;
    assert!(
        tasks.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["subject"] == "Check in with Nils Ek" && t["type"] == "task"),
        "{}",
        tasks.body
    );
    both_widths(&mut b, "adoption-planned").await;
    // Kim sees the task on My work, due today.
    let mut kim_home = identity::Browser::signed_in(&h, "kim@example.se").await;
    let home = kim_home.get(&h, "/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.text.contains("Check in with Nils Ek"),
        "the key user's start page lists the task"
    );

    // One member's page: their figures against the team's median, day by day.
    b.go(&format!("/adoption/users/{bo}")).await;
    b.wait_for("id=\"adoption-weeks\"").await;
    let against = b.by_id("adoption-against").await.text().await.unwrap();
    assert!(against.contains("Team median"), "{against}");
    let days = b.css("#adoption-days svg").await.inner_html().await.unwrap();
    assert_eq!(days.matches("class=\"key\"").count(), 2, "{days}");
    both_widths(&mut b, "adoption-user").await;
    below_the_fold(&mut b, &["h-days"]).await;
    b.go(&format!("/adoption/users/{nils}")).await;
    b.wait_for("id=\"adoption-weeks\"").await;
    assert!(b.source().await.contains("Never signed in"));
    both_widths(&mut b, "adoption-user-weak").await;

    // A peer, in the team or outside it, does not see a member's figures.
    for email in ["per@example.se", "bo@example.se"] {
        let mut peer = identity::Browser::signed_in(&h, email).await;
        let page = peer.get(&h, &format!("/adoption/users/{nils}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{email}");
        assert!(!page.text.contains("Nils Ek"), "{email}");
        let own = peer.get(&h, "/adoption").await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(!own.text.contains("Nils Ek"), "{email} sees only their own row");
    }

    // An administrator: a weight out of range is named beside its field, as typed.
    b.css(".me form button[type=submit]").await.click().await.unwrap();
    b.wait_for("id=\"password\"").await;
    b.login("ada@example.se", identity::PASSWORD).await;
    b.go("/adoption/settings").await;
    b.wait_for("id=\"adoption-settings-form\"").await;
    fill(&b, "s-access", "150").await;
    fill(&b, "s-below_half_weeks", "3").await;
    b.by_id("settings-save").await.click().await.unwrap();
    b.wait_for("id=\"s-access-error\"").await;
    let error = b.by_id("s-access-error").await.text().await.unwrap();
    assert_eq!(error, "Write a whole number from 0 to 100.");
    assert_eq!(b.by_id("s-access").await.value().await.unwrap().as_deref(), Some("150"));
    assert_eq!(
        b.by_id("s-below_half_weeks").await.value().await.unwrap().as_deref(),
        Some("3")
    );
    both_widths(&mut b, "adoption-settings-mistake").await;
    fill(&b, "s-access", "50").await;
    b.by_id("settings-save").await.click().await.unwrap();
    b.wait_for("id=\"settings-saved\"").await;
    let rules = crm.adoption_rules().await.unwrap();
    assert_eq!(rules.below_half_weeks, 3);
    assert_eq!(crm.adoption_weights().await.unwrap().access, 50);

    // "Count now": the measuring runs as a job the page watches, then the page is back.
    b.go("/adoption").await;
    b.wait_for("id=\"adoption-measure\"").await;
    b.by_id("adoption-measure").await.click().await.unwrap();
    // The page watches the job (its panel) and comes back without it once the job has ended;
    // a quick job may end before the panel is seen.
    let mut watched = false;
    for _ in 0..200 {
        let url = b.driver.current_url().await.unwrap().to_string();
        if url.contains("job=") {
            if !watched && b.source().await.contains("class=\"panel job-panel\"") {
                b.shot("adoption-counting").await;
                watched = true;
            }
        } else if watched || url.ends_with("/adoption") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.wait_for("id=\"adoption-counted\"").await;
    let jobs = h.get("/api/v1/jobs").await.body;
    assert!(
        jobs["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "usage_measure" && j["state"] == "succeeded"),
        "{jobs}"
    );
    let people = b.by_id("adoption-people").await.text().await.unwrap();
    assert!(
        people.contains("Per Dahl") && people.contains("Nils Ek"),
        "an administrator sees everyone"
    );
    let chart = b.css("#adoption-teams svg").await.inner_html().await.unwrap();
    assert!(chart.contains(">Whole organisation<"), "{chart}");
    both_widths(&mut b, "adoption-admin").await;
    b.quit().await;
}

async fn choose(b: &Browser, id: &str, value: &str) {
    thirtyfour::components::SelectElement::new(&b.by_id(id).await)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// Set an expectation through the form: for whom (`role:user`, `team:<id>`), which figure, how
/// many a week.
async fn expect(b: &Browser, audience: &str, metric: &str, per_week: &str) {
    b.go("/adoption/expectations").await;
    b.wait_for("id=\"expectation-form\"").await;
    choose(b, "e-audience", audience).await;
    choose(b, "e-metric", metric).await;
    fill(b, "e-per_week", per_week).await;
    b.by_id("expectation-save").await.click().await.unwrap();
}

/// A shot at both widths, saved beside the others and as /tmp/expect-{name}-{width}.png, after
/// checking the page fits its window.
async fn expect_shots(b: &mut Browser, name: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, name, width).await;
        b.shot(&format!("expect-{name}-{width}")).await;
        b.driver
            .screenshot(std::path::Path::new(&format!("/tmp/expect-{name}-{width}.png")))
            .await
            .unwrap();
    }
}

/// Expectations from management (C8): an administrator expects three activities a week of
/// every user, the lead of North one a week of her team (a team's wins over the role's for the
/// same figure) and a deal update a week of every user. Bo, in North, did two activities in the
/// last seven days and moved no deal: his start page says the activities are met against the
/// team's one and the deal updates not, with a mark that is a sign and a word, not a colour;
/// Per, in no led team, is held to the role's three. The adoption page and Bo's own page show
/// the same; a figure out of range is named beside its field with what was typed kept, and a
/// lead offers only her team.
pub async fn browser_expectations_set_by_managers_show_on_my_work(h: H) {
    let today = start();
    h.clock.set(today - chrono::Duration::days(20));
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    let lena = member(&h, "lena@example.se", "Lena Holm", "user", &north).await;
    let bo = member(&h, "bo@example.se", "Bo Åkesson", "user", &north).await;
    member(&h, "per@example.se", "Per Dahl", "user", &south).await;
    member(&h, "ada@example.se", "Ada Admin", "admin", &south).await;
    let lead = h
        .put(&format!("/api/v1/teams/{north}/lead"), json!({"lead": lena}))
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let bo_token = identity::token_of(&h, "bo@example.se", Scope::Write).await;
    let lena_token = identity::token_of(&h, "lena@example.se", Scope::Write).await;
    // Bo: three calls two weeks ago, two in the last seven days; Lena one a day for five days.
    for (days_ago, n) in [(15, 3), (2, 1), (1, 1)] {
        h.clock.set(today - chrono::Duration::days(days_ago));
        signed_in(&h, &bo, h.clock.now()).await;
        for i in 0..n {
            let subject = format!("Samtal {days_ago}-{i}");
            create_as(
                &h,
                &bo_token,
                "activity",
                json!({"type": "call", "subject": subject, "owner": bo}),
            )
            .await;
        }
    }
    for days_ago in 1..6 {
        h.clock.set(today - chrono::Duration::days(days_ago));
        let subject = format!("Möte {days_ago}");
        create_as(
            &h,
            &lena_token,
            "activity",
            json!({"type": "meeting", "subject": subject, "owner": lena}),
        )
        .await;
    }
    h.clock.set(today);
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    crm.measure_usage(false, &anchora_core::jobs::JobCtx::detached())
        .await
        .unwrap();

    let Some(mut b) = Browser::start(&h, &format!("expectations-{}", h.backend())).await else {
        return;
    };
    // The administrator: three activities and one deal update a week for every user.
    b.login("ada@example.se", identity::PASSWORD).await;
    b.go("/adoption").await;
    b.wait_for("id=\"adoption-expectations\"").await;
    b.by_id("adoption-expectations").await.click().await.unwrap();
    b.wait_for("id=\"expect-none\"").await;
    expect_shots(&mut b, "empty").await;
    expect(&b, "role:user", "activities", "3").await;
    b.wait_for("id=\"expect-notice\"").await;
    expect(&b, "role:user", "deal_updates", "1").await;
    b.wait_for("id=\"expect-notice\"").await;
    let table = b.by_id("expectations").await.text().await.unwrap();
    assert!(
        table.contains("Role: User") && table.contains("Activities logged or done"),
        "{table}"
    );
    assert!(table.contains("Ada Admin"), "{table}");

    // The lead: her team only, and a figure out of range named beside its field, as typed.
    b.css(".me form button[type=submit]").await.click().await.unwrap();
    b.wait_for("id=\"password\"").await;
    b.login("lena@example.se", identity::PASSWORD).await;
    b.go("/adoption").await;
    b.wait_for("id=\"adoption-expectations\"").await;
    b.go("/adoption/expectations").await;
    b.wait_for("id=\"expectation-form\"").await;
    let options = b.by_id("e-audience").await.inner_html().await.unwrap();
    assert!(options.contains(&format!("team:{north}")), "{options}");
    assert!(
        !options.contains("role:") && !options.contains(&format!("team:{south}")),
        "a lead sets expectations for her team only: {options}"
    );
    // She may not delete the administrator's.
    assert_eq!(b.source().await.matches("/delete\"").count(), 0);
    expect(&b, &format!("team:{north}"), "activities", "5000").await;
    b.wait_for("id=\"e-per_week-error\"").await;
    let error = b.by_id("e-per_week-error").await.text().await.unwrap();
    assert_eq!(error, "Write a whole number from 0 to 1000.");
    assert_eq!(
        b.by_id("e-per_week").await.value().await.unwrap().as_deref(),
        Some("5000")
    );
    assert_eq!(
        b.by_id("e-metric").await.value().await.unwrap().as_deref(),
        Some("activities")
    );
    assert_eq!(
        b.by_id("e-audience").await.value().await.unwrap().as_deref(),
        Some(format!("team:{north}").as_str())
    );
    expect_shots(&mut b, "mistake").await;
    fill(&b, "e-per_week", "1").await;
    b.by_id("expectation-save").await.click().await.unwrap();
    b.wait_for("id=\"expect-notice\"").await;
    let table = b.by_id("expectations").await.text().await.unwrap();
    assert!(table.contains("Team: North") && table.contains("Lena Holm"), "{table}");
    assert_eq!(b.source().await.matches("/delete\"").count(), 1, "her own only");
    expect_shots(&mut b, "list").await;

    // On the adoption page: Bo meets his team's one activity, not the deal update.
    b.go("/adoption").await;
    b.wait_for("id=\"adoption-people\"").await;
    let board = b.by_id("adoption-expected-people").await;
    let head = board.find(By::Tag("thead")).await.unwrap().text().await.unwrap();
    assert!(head.contains("Activities") && head.contains("Deal updates"), "{head}");
    let row = b.by_id(&format!("expected-{bo}")).await.text().await.unwrap();
    assert!(row.contains("✓ 2 of 1") && row.contains("avg 1.3"), "{row}");
    assert!(row.contains("✗ 0 of 1"), "{row}");
    let lena_row = b.by_id(&format!("expected-{lena}")).await.text().await.unwrap();
    assert!(lena_row.contains("✓ 5 of 1"), "{lena_row}");
    table_fits(&mut b, "adoption-people").await;
    table_fits(&mut b, "adoption-expected-people").await;
    b.driver
        .execute("document.getElementById('adoption-expected').scrollIntoView();", vec![])
        .await
        .unwrap();
    expect_shots(&mut b, "adoption").await;
    b.go(&format!("/adoption/users/{bo}")).await;
    b.wait_for("id=\"adoption-expected\"").await;
    let expected = b.by_id("adoption-expected").await.text().await.unwrap();
    assert!(
        expected.contains("Activities: 2 of 1 this week (avg 1.3)") && expected.contains("Set for the team"),
        "{expected}"
    );
    expect_shots(&mut b, "user").await;

    // Bo's start page: the team's one, met; the role's deal update, not met.
    b.css(".me form button[type=submit]").await.click().await.unwrap();
    b.wait_for("id=\"password\"").await;
    b.login("bo@example.se", identity::PASSWORD).await;
    b.go("/").await;
    b.wait_for("id=\"home-expected\"").await;
    let mine = b.by_id("home-expected").await.text().await.unwrap();
    assert!(mine.contains("Expected of you this week"), "{mine}");
    assert!(mine.contains("Activities: 2 of 1 this week (avg 1.3) ✓ Met"), "{mine}");
    assert!(
        mine.contains("Deal updates: 0 of 1 this week (avg 0) ✗ Not met"),
        "{mine}"
    );
    assert!(
        mine.contains("Set for the team") && mine.contains("Set for the role"),
        "{mine}"
    );
    expect_shots(&mut b, "home").await;

    // Per, of a team nobody set anything for, is held to the role's three; without any
    // expectation the box is not there.
    let mut per = identity::Browser::signed_in(&h, "per@example.se").await;
    let home = per.get(&h, "/home").await;
    assert!(home.text.contains("Activities: 0 of 3 this week"), "{}", home.text);
    let mut ada = identity::Browser::signed_in(&h, "ada@example.se").await;
    assert!(!ada.get(&h, "/home").await.text.contains("id=\"home-expected\""));
    b.quit().await;
}
