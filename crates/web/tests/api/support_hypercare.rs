//! The hypercare view (issue 23, point 4) over HTTP and as a page: per team, the questions
//! raised in the window, those still open and the oldest one's age in open hours, the median
//! time to resolution and breaches; administrators and the system owner see every team, a key
//! user their own, anyone else 403.

use super::identity::{self, Browser, as_token, token_of};
use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub async fn support_hypercare_shows_each_team_its_questions_and_their_age(h: H) {
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    identity::team(&h, "West").await;
    let west = identity::team(&h, "West side").await;
    identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    identity::user(&h, "ola@example.se", "key_user", Some(&south)).await;
    identity::user(&h, "anna@example.se", "user", Some(&north)).await;
    identity::user(&h, "bo@example.se", "user", Some(&south)).await;
    identity::user(&h, "wes@example.se", "user", Some(&west)).await;
    let owner = identity::user(&h, "sys@example.se", "user", None).await;
    let [kim, ola, anna, bo, wes, sys] = [
        "kim@example.se",
        "ola@example.se",
        "anna@example.se",
        "bo@example.se",
        "wes@example.se",
        "sys@example.se",
    ]
    .map(|e| token_of(&h, e, Scope::Write));
    let (kim, ola, anna, bo, wes, sys) = (kim.await, ola.await, anna.await, bo.await, wes.await, sys.await);
    let raise = |token: &str, subject: &str, priority: &str| {
        let token = token.to_string();
        let body = json!({"subject": subject, "priority": priority});
        let h = &h;
        async move {
            let r = as_token(h, &token, Method::POST, "/api/v1/support/questions", Some(body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body
        }
    };
    const PATH: &str = "/api/v1/support/hypercare";

    // Without hypercare in the settings there is no window and no team.
    let r = h.get(PATH).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["go_live"], Json::Null);
    assert_eq!(r.body["teams"], json!([]));

    // Asked the Friday before go-live: outside the window.
    h.clock.set(at("2026-11-20T09:00:00Z"));
    let before = raise(&anna, "Before go-live", "normal").await;
    let r = h
        .post(
            &format!("/api/v1/support/questions/{}/status", before["number"]),
            json!({"version": before["version"], "status": "resolved"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h
        .put(
            "/api/v1/support/settings",
            json!({"hypercare": {"go_live": "2026-11-23", "weeks": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h
        .put("/api/v1/stewardship/plan", json!({"version": 0, "system_owner": owner}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The Friday before, it is still to come, and the page says it will run.
    h.clock.set(at("2026-11-20T09:00:00Z"));
    let r = h.get(PATH).await;
    assert_eq!((&r.body["running"], &r.body["coming"]), (&json!(false), &json!(true)));

    // Monday of go-live (Stockholm is UTC+1): North's first is solved in two open hours.
    h.clock.set(at("2026-11-23T09:00:00Z"));
    let first = raise(&anna, "Cannot save a deal", "high").await;
    h.clock.set(at("2026-11-23T10:00:00Z"));
    let south_q = raise(&bo, "Where are my reminders?", "normal").await;
    let r = as_token(
        &h,
        &ola,
        Method::POST,
        &format!("/api/v1/support/questions/{}/events", south_q["number"]),
        Some(json!({"kind": "reply", "body": "Looking into it"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    h.clock.set(at("2026-11-23T11:00:00Z"));
    let q = format!("/api/v1/support/questions/{}", first["number"]);
    let r = as_token(
        &h,
        &kim,
        Method::POST,
        &format!("{q}/events"),
        Some(json!({"kind": "reply", "body": "Fixed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = as_token(
        &h,
        &kim,
        Method::POST,
        &format!("{q}/status"),
        Some(json!({"version": r.body["version"], "status": "resolved"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    h.clock.set(at("2026-11-23T12:00:00Z"));
    let west_q = raise(&wes, "No key user here", "normal").await;
    assert_eq!(west_q["level"], "it");
    let r = h
        .post(
            &format!("/api/v1/support/questions/{}/events", west_q["number"]),
            json!({"kind": "reply", "body": "On it"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // North's urgent one goes unanswered past its hour: the breach check passes it on.
    h.clock.set(at("2026-11-23T13:00:00Z"));
    raise(&anna, "Everything is down", "urgent").await;
    h.clock.set(at("2026-11-23T15:00:00Z"));
    let run = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone())
        .check_support_breaches()
        .await
        .unwrap();
    assert_eq!(run.escalated.len(), 1, "{run:?}");

    // Tuesday 10:00 in Stockholm.
    h.clock.set(at("2026-11-24T09:00:00Z"));
    let r = h.get(PATH).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = &r.body;
    assert_eq!(
        (&v["go_live"], &v["weeks"], &v["ends"], &v["running"], &v["coming"]),
        (
            &json!("2026-11-23"),
            &json!(2),
            &json!("2026-12-07"),
            &json!(true),
            &json!(false)
        )
    );
    assert_eq!(
        (&v["age_basis"], &v["time_zone"]),
        (&json!("business"), &json!("Europe/Stockholm"))
    );
    let names: Vec<&str> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["North", "South", "West", "West side"]);
    let team = |name: &str| {
        v["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    let n = team("North");
    assert_eq!(
        (&n["raised"], &n["open"], &n["breaches"]),
        (&json!(2), &json!(1), &json!(1)),
        "{n}"
    );
    // Raised 14:00 local: three open hours on Monday, two on Tuesday.
    assert_eq!(n["oldest_open_business_minutes"], 300, "{n}");
    assert_eq!(n["oldest_open_since"], "2026-11-23T13:00:00Z");
    assert_eq!(n["median_resolution_business_minutes"], 120, "{n}");
    let s = team("South");
    assert_eq!(
        (&s["raised"], &s["open"], &s["oldest_open_business_minutes"]),
        (&json!(1), &json!(1), &json!(480))
    );
    assert_eq!(s["median_resolution_business_minutes"], Json::Null);
    let w = team("West side");
    assert_eq!(
        (&w["raised"], &w["oldest_open_business_minutes"]),
        (&json!(1), &json!(360))
    );
    let empty = team("West");
    assert_eq!(
        (&empty["raised"], &empty["oldest_open_since"]),
        (&json!(0), &Json::Null)
    );
    let t = &v["total"];
    assert_eq!(
        (&t["raised"], &t["open"], &t["breaches"]),
        (&json!(4), &json!(3), &json!(1)),
        "{t}"
    );
    assert_eq!(t["oldest_open_business_minutes"], 480);

    // The system owner sees every team, a key user their own, anyone else is refused.
    let r = as_token(&h, &sys, Method::GET, PATH, None).await;
    assert_eq!(r.body["teams"].as_array().unwrap().len(), 4, "{}", r.body);
    let r = as_token(&h, &kim, Method::GET, PATH, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["North"]);
    assert_eq!(r.body["total"]["raised"], 2);
    let r = as_token(&h, &anna, Method::GET, PATH, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The page: linked from the list for key users, their teams only; refused to others.
    let mut kim = Browser::default();
    kim.login(&h, "kim@example.se", identity::PASSWORD).await;
    assert!(
        kim.get(&h, "/support")
            .await
            .text
            .contains("href=\"/support/hypercare\"")
    );
    let page = kim.get(&h, "/support/hypercare").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("North") && !page.text.contains("South"),
        "{}",
        page.text
    );
    assert!(page.text.contains("5 h"), "{}", page.text);
    let mut anna = Browser::default();
    anna.login(&h, "anna@example.se", identity::PASSWORD).await;
    assert!(
        !anna
            .get(&h, "/support")
            .await
            .text
            .contains("href=\"/support/hypercare\"")
    );
    assert_eq!(anna.get(&h, "/support/hypercare").await.status, StatusCode::FORBIDDEN);
    // The system owner, a user by role, is offered the overviews all the same.
    let mut owner = Browser::default();
    owner.login(&h, "sys@example.se", identity::PASSWORD).await;
    let list = owner.get(&h, "/support").await.text;
    assert!(
        list.contains("href=\"/support/hypercare\"") && list.contains("href=\"/support/figures\""),
        "{list}"
    );

    // The page in a browser, at 1280 and 1440 px, fits its window.
    let Some(mut b) = super::e2e::Browser::start(&h, &format!("hypercare-{}", h.backend())).await else {
        return;
    };
    b.login("sys@example.se", identity::PASSWORD).await;
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        b.go("/support/hypercare").await;
        b.wait_for("</main>").await;
        super::first_hour::fits(&b, "/support/hypercare", width).await;
        b.shot(&format!("hypercare-{width}")).await;
    }
}
