//! Issue 22 over HTTP: the adoption endpoints with their statuses, and privacy — a peer asking
//! for another's figures gets 404, as for a user that does not exist.

use super::*;
use anchora_core::auth::Scope;
use identity::{as_token, token_of};

pub async fn adoption_figures_are_the_users_their_leads_and_administrators(h: H) {
    let north = identity::team(&h, "Nord").await;
    let south = identity::team(&h, "Süd").await;
    let lena = identity::user(&h, "lena@example.de", "user", Some(&north)).await;
    let jorg = identity::user(&h, "jorg.muller@example.de", "user", Some(&north)).await;
    identity::user(&h, "kai@example.de", "key_user", Some(&north)).await;
    identity::user(&h, "nunez@example.de", "user", Some(&south)).await;
    let r = h
        .put(&format!("/api/v1/teams/{north}/lead"), json!({"lead": lena}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h
        .put(&format!("/api/v1/teams/{north}/lead"), json!({"lead": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "lead");

    let r = h.post("/api/v1/adoption/measure", json!({"from_scratch": true})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(r.headers.get("location").is_some());
    let r = h.post("/api/v1/adoption/measure", json!({"from": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    crm.measure_usage(false, &anchora_core::jobs::JobCtx::detached())
        .await
        .unwrap();

    let r = h.get("/api/v1/adoption").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["everyone"], true);
    assert!(r.body["users"].as_array().unwrap().len() >= 4, "{}", r.body);
    let r = h
        .put(
            "/api/v1/adoption/weights",
            json!({"access": 150, "process": 0, "quality": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "access");
    let r = h
        .put(
            "/api/v1/adoption/weights",
            json!({"access": 50, "process": 50, "quality": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.get("/api/v1/adoption/weights").await;
    assert_eq!(r.body, json!({"access": 50, "process": 50, "quality": 0}));
    let r = h
        .put(
            "/api/v1/adoption/rules",
            json!({"no_sign_in_days": 400, "below_half_weeks": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "no_sign_in_days");

    // The lead sees Jörg; the peer in another team does not, and cannot plan his support.
    let lead = token_of(&h, "lena@example.de", Scope::Write).await;
    let peer = token_of(&h, "nunez@example.de", Scope::Write).await;
    let jorgs = format!("/api/v1/adoption/users/{jorg}");
    let r = as_token(&h, &lead, Method::GET, &jorgs, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["name"], "jorg.muller");
    let r = as_token(&h, &peer, Method::GET, &jorgs, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = as_token(&h, &peer, Method::GET, "/api/v1/adoption", None).await;
    let names: Vec<&str> = r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nunez"], "a user sees only themselves");
    let support = format!("/api/v1/adoption/users/{jorg}/support");
    let r = as_token(&h, &peer, Method::POST, &support, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = as_token(
        &h,
        &lead,
        Method::POST,
        &support,
        Some(json!({"subject": "Mehr Unterstützung für Jörg"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["key_user_name"], "kai");
    let r = as_token(
        &h,
        &lead,
        Method::PUT,
        "/api/v1/adoption/weights",
        Some(json!({"access": 1, "process": 1, "quality": 1})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let r = h
        .put(
            "/api/v1/adoption/expectations",
            json!({"role": "user", "metric": "activities", "per_week": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .put(
            "/api/v1/adoption/expectations",
            json!({"role": "boss", "metric": "activities", "per_week": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "role");
    let r = as_token(&h, &peer, Method::GET, "/api/v1/adoption/expectations/mine", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"][0]["per_week"], 5);
    let r = as_token(
        &h,
        &peer,
        Method::DELETE,
        &format!("/api/v1/adoption/expectations/{id}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = h
        .send(
            Method::DELETE,
            &format!("/api/v1/adoption/expectations/{id}"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let read_only = token_of(&h, "lena@example.de", Scope::Read).await;
    let r = as_token(
        &h,
        &read_only,
        Method::PUT,
        "/api/v1/adoption/expectations",
        Some(json!({"team": north, "metric": "activities", "per_week": 1})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a read-only token sets nothing: {}",
        r.body
    );
    let r = h
        .put(
            "/api/v1/adoption/expectations",
            json!({"role": "user", "metric": "active_days", "per_week": 8}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "per_week");
}
