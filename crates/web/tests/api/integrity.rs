//! Issue 16 through the real router: what a hostile tester tried — relations as an existence
//! oracle, NUL characters everywhere, values that must stay unique, redirects elsewhere.

use super::identity::{self, Browser, as_token, token_of, user};
use super::imports::upload_as;
use super::{H, Reply};
use anchora_core::auth::Scope;
use axum::http::{Method, StatusCode};
use serde_json::{Value as Json, json};

async fn put_policy(h: &H, policy: Json) {
    let r = h
        .send(
            Method::PUT,
            "/api/v1/access-policy",
            Some(&h.admin.clone()),
            &[],
            Some(policy.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The problem a write answers, without what differs between two calls anyway.
fn problem(r: &Reply) -> Json {
    json!({"status": r.body["status"], "code": r.body["code"], "detail": r.body["detail"], "errors": r.body["errors"]})
}

pub async fn relations_to_people_out_of_sight_answer_like_made_up_ids(h: H) {
    put_policy(&h, json!({"visibility": {"person": {"user": "own"}}})).await;
    user(&h, "seller@example.se", "user", None).await;
    let seller = token_of(&h, "seller@example.se", Scope::Write).await;
    let theirs = h.post("/api/v1/records/person", json!({"last_name": "Öberg"})).await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        as_token(
            &h,
            &seller,
            Method::GET,
            &format!("/api/v1/records/person/{theirs}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let made_up = anchora_core::RecordId::new_at(chrono::Utc::now()).to_string();
    let note = |person: &str| json!({"type": "note", "subject": "Called", "person": person});
    let hidden = as_token(
        &h,
        &seller,
        Method::POST,
        "/api/v1/records/activity",
        Some(note(&theirs)),
    )
    .await;
    let absent = as_token(
        &h,
        &seller,
        Method::POST,
        "/api/v1/records/activity",
        Some(note(&made_up)),
    )
    .await;
    assert_eq!(hidden.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", hidden.body);
    assert_eq!(problem(&hidden), problem(&absent));
    let link = |id: &str| json!({"type": "note", "subject": "Called", "links": [{"object": "person", "id": id}]});
    let hidden = as_token(
        &h,
        &seller,
        Method::POST,
        "/api/v1/records/activity",
        Some(link(&theirs)),
    )
    .await;
    let absent = as_token(
        &h,
        &seller,
        Method::POST,
        "/api/v1/records/activity",
        Some(link(&made_up)),
    )
    .await;
    assert_eq!(hidden.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(&hidden), problem(&absent));
    // A note the administrator wrote on that person is listed without naming them.
    let written = h.post("/api/v1/records/activity", note(&theirs)).await;
    assert_eq!(written.status, StatusCode::CREATED);
    let listed = as_token(&h, &seller, Method::GET, "/api/v1/records/activity", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.body.to_string().contains(&theirs), "{}", listed.body);
    assert_eq!(listed.body["data"][0]["withheld"], json!(["person"]));
}

pub async fn nul_characters_are_refused_naming_their_field(h: H) {
    let nul = "Ö\u{0}berg";
    for op in ["eq", "ne", "contains", "starts_with", "lt", "gte", "in"] {
        let value = if op == "in" { json!([nul]) } else { json!(nul) };
        let filter = json!({"field": "last_name", "op": op, "value": value}).to_string();
        let r = h
            .get(&format!("/api/v1/records/person?filter={}", super::enc(&filter)))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{op}: {}", r.body);
        assert_eq!(r.body["code"], "invalid_filter");
        assert!(r.body["errors"][0]["field"].as_str().unwrap().starts_with("filter"));
    }
    let r = h.post("/api/v1/records/person", json!({"last_name": nul})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "last_name");
    for (path, body) in [
        ("/api/v1/teams", json!({"name": nul})),
        (
            "/api/v1/users",
            json!({"email": "n@example.se", "name": nul, "role": "user", "password": identity::PASSWORD}),
        ),
        ("/api/v1/tokens", json!({"name": nul, "scope": "read"})),
        ("/api/v1/objects", json!({"name": "thing", "label": nul})),
        (
            "/api/v1/objects/person/fields",
            json!({"name": "x", "label": nul, "type": "text"}),
        ),
        ("/api/v1/projects", json!({"name": nul})),
    ] {
        let r = h.post(path, body).await;
        assert!(r.status.is_client_error(), "{path}: {} {}", r.status, r.body);
    }
    let search = h.get(&format!("/api/v1/search?q={}", super::enc(nul))).await;
    assert!(search.status.is_success() || search.status.is_client_error());
    // A NUL in an uploaded file's name is refused with the form itself (its headers).
    let r = upload_as(
        &h,
        &h.admin.clone(),
        Some("person"),
        "list\u{0}.csv",
        b"Last name\nBerg\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "file");
}

pub async fn unique_external_ids_are_refused_with_the_record_that_holds_them(h: H) {
    let first = h
        .post(
            "/api/v1/records/person",
            json!({"last_name": "Núñez", "external_id": "HS-77"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = h
        .post(
            "/api/v1/records/person",
            json!({"last_name": "NÚÑEZ", "external_id": "hs-77"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
    assert_eq!(again.body["errors"][0]["field"], "external_id");
    assert_eq!(again.body["existing"]["id"], first.body["id"]);
    assert_eq!(again.body["existing"]["object"], "person");
}

pub async fn redirects_go_to_paths_of_this_site_only(h: H) {
    user(&h, "lena@example.se", "user", None).await;
    let mut b = Browser::default();
    b.login(&h, "lena@example.se", identity::PASSWORD).await;
    let csrf = b.csrf(&h).await;
    for (back, to) in [
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/o/person?sort=last_name", "/o/person?sort=last_name"),
    ] {
        let page = b
            .form(
                &h,
                "/account/locale",
                &[("csrf", &csrf), ("locale", "sv"), ("back", back)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{back}");
        assert_eq!(page.headers["location"], to, "{back}");
    }
}

/// What a seller sees of a note on a person out of their sight, in the list and on the note,
/// at both widths the app is made for: the link said as such, nothing of the person, no overflow.
pub async fn browser_links_out_of_sight_say_so(h: H) {
    put_policy(&h, json!({"visibility": {"person": {"user": "own"}}})).await;
    user(&h, "seller@example.se", "user", None).await;
    let theirs = h
        .post(
            "/api/v1/records/person",
            json!({"first_name": "Åsa", "last_name": "Núñez-Öberg"}),
        )
        .await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let note = h
        .post(
            "/api/v1/records/activity",
            json!({"type": "note", "subject": "Spring order talked through", "person": theirs}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let note = note.body["id"].as_str().unwrap().to_string();
    let Some(mut b) = super::e2e::Browser::start(&h, &format!("withheld-{}", h.backend())).await else {
        return;
    };
    b.login("seller@example.se", identity::PASSWORD).await;
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 860).await.unwrap();
        for page in ["/o/activity".to_string(), format!("/o/activity/{note}")] {
            b.go(&page).await;
            b.wait_for("Spring order talked through").await;
            b.wait_for("A record you may not see").await;
            b.shot(&format!("{}-{width}", if page.len() > 12 { "note" } else { "list" }))
                .await;
            let html = b.source().await;
            assert!(!html.contains(&theirs), "{page}: the person's id is shown");
            assert!(!html.contains("Öberg"), "{page}: the person's name is shown");
            let overflow = b
                .driver
                .execute(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                overflow.json().as_i64().unwrap_or(0) <= 0,
                "{page} at {width} px is wider than the window"
            );
        }
    }
    b.quit().await;
}

/// `POST /records/{object}/bulk` (issue 18): each record is its own write at its own version;
/// the answer says which changed and why the others did not, and what a caller may not see
/// answers as a made-up id does.
pub async fn bulk_changes_each_record_at_its_own_version(h: H) {
    let mut people = Vec::new();
    for name in ["Öberg", "Ærø", "Müller", "Núñez"] {
        let r = h.post("/api/v1/records/person", json!({"last_name": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        people.push(r.body["id"].as_str().unwrap().to_string());
    }
    // Someone changes Ærø first: the bulk change names the version it saw, and loses.
    let r = h
        .patch(
            &format!("/api/v1/records/person/{}", people[1]),
            Some("\"1\""),
            json!({"city": "Odense"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let made_up = anchora_core::RecordId::new_at(chrono::Utc::now()).to_string();
    let body = json!({"records": [
        {"id": people[0], "version": 1},
        {"id": people[1], "version": 1},
        {"id": people[2], "version": 1},
        {"id": made_up, "version": 1},
        {"id": "not-an-id", "version": 1}
    ], "set": {"city": "Malmö"}});
    let r = h.send_json(Method::POST, "/api/v1/records/person/bulk", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["changed"].as_u64(), r.body["not_changed"].as_u64()),
        (Some(2), Some(3)),
        "{}",
        r.body
    );
    let results = r.body["results"].as_array().unwrap();
    let codes: Vec<(bool, Option<&str>)> = results
        .iter()
        .map(|x| (x["changed"].as_bool().unwrap(), x["code"].as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (true, None),
            (false, Some("version_conflict")),
            (true, None),
            (false, Some("not_found")),
            (false, Some("not_found"))
        ]
    );
    assert_eq!(results[0]["version"], 2);
    let h = &h;
    let city = |id: &str| {
        let path = format!("/api/v1/records/person/{id}");
        async move { h.get(&path).await.body["city"].clone() }
    };
    assert_eq!(city(&people[0]).await, "Malmö");
    assert_eq!(city(&people[1]).await, "Odense", "a newer version is never overwritten");
    // A value the field refuses is that record's trouble, named by field.
    let r = h
        .send_json(
            Method::POST,
            "/api/v1/records/person/bulk",
            json!({"records": [{"id": people[3], "version": 1}], "set": {"email": "not an address"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["results"][0]["code"], "validation_failed");
    assert_eq!(r.body["results"][0]["errors"][0]["field"], "email");
    // To the trash, at the version each has.
    let r = h
        .send_json(
            Method::POST,
            "/api/v1/records/person/bulk",
            json!({"records": [{"id": people[2], "version": 2}, {"id": people[3], "version": 1}], "delete": true}),
        )
        .await;
    assert_eq!(r.body["changed"], 2, "{}", r.body);
    assert!(!h.get(&format!("/api/v1/records/person/{}", people[3])).await.body["deleted_at"].is_null());
    // Requests that are no bulk change at all are refused whole, naming what is wrong.
    for (body, field) in [
        (json!({"records": []}), "records"),
        (json!({"records": [], "set": {"city": "x"}}), "records"),
        (json!({"records": [{"id": people[0]}], "set": {"city": "x"}}), "version"),
        (
            json!({"records": [{"id": people[0], "version": 0}], "set": {"city": "x"}}),
            "version",
        ),
        (
            json!({"records": [{"id": people[0], "version": 2}], "set": {"city": "x", "version": 2}}),
            "set",
        ),
        (json!({"records": [{"id": people[0], "version": 2}]}), "set"),
        (
            json!({"records": [{"id": people[0], "version": 2}], "set": {"city": "x"}, "delete": true}),
            "delete",
        ),
        (json!({"records": [{"id": people[0], "version": 2}], "set": {}}), "set"),
        (
            json!({"records": [{"id": people[0], "version": 2}], "set": "Malmö"}),
            "set",
        ),
        (
            json!({"records": [{"id": people[0], "version": 2, "colour": 1}], "set": {"city": "x"}}),
            "colour",
        ),
        (
            json!({"records": [{"id": people[0], "version": 2}], "set": {"city": "x"}, "why": 1}),
            "why",
        ),
    ] {
        let r = h
            .send_json(Method::POST, "/api/v1/records/person/bulk", body.clone())
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {}", r.body);
        let named = r.body["errors"][0]["field"].as_str().unwrap_or_default().to_string();
        assert!(named.contains(field), "{body} names {named:?}, not {field:?}");
    }
    let many: Vec<Json> = (0..=anchora_core::bulk::MAX_BULK)
        .map(|_| json!({"id": made_up, "version": 1}))
        .collect();
    let r = h
        .send_json(
            Method::POST,
            "/api/v1/records/person/bulk",
            json!({"records": many, "delete": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        h.send_json(
            Method::POST,
            "/api/v1/records/nothing/bulk",
            json!({"records": [{"id": made_up, "version": 1}], "delete": true})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // A reader may change nothing; a seller who sees only their own people learns nothing of
    // anyone else's.
    user(h, "reader@example.se", "read_only", None).await;
    let reader = token_of(h, "reader@example.se", Scope::Read).await;
    let body = json!({"records": [{"id": people[0], "version": 2}], "set": {"city": "Lund"}});
    let r = as_token(
        h,
        &reader,
        Method::POST,
        "/api/v1/records/person/bulk",
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    put_policy(h, json!({"visibility": {"person": {"user": "own"}}})).await;
    user(h, "seller@example.se", "user", None).await;
    let seller = token_of(h, "seller@example.se", Scope::Write).await;
    let r = as_token(
        h,
        &seller,
        Method::POST,
        "/api/v1/records/person/bulk",
        Some(json!({"records": [{"id": people[0], "version": 2}, {"id": made_up, "version": 2}], "set": {"city": "Lund"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let hidden = &r.body["results"][0];
    let absent = &r.body["results"][1];
    assert_eq!(
        (
            hidden["code"].clone(),
            hidden["detail"].as_str().map(|d| d.replace(&people[0], "ID"))
        ),
        (
            absent["code"].clone(),
            absent["detail"].as_str().map(|d| d.replace(&made_up, "ID"))
        )
    );
    assert_eq!(city(&people[0]).await, "Malmö");
}
