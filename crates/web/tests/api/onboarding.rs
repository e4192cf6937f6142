//! Onboarding and training (issue 22, points 5 and 6) over HTTP and in the browser: a checklist
//! starts with every user made through the API, its steps tick themselves (a real sign-in
//! through the form, a training recorded on the session page), manual steps are ticked in
//! place, overdue ones show on My work, a peer gets 404; templates, courses, sessions and
//! attendance with every refusal as problem+json naming its field. Pages at 1280 and 1440 px.

use super::e2e::Browser;
use super::*;

async fn member(h: &H, email: &str, name: &str, role: &str, team: &str) -> String {
    let body = json!({"email": email, "name": name, "role": role, "password": identity::PASSWORD, "team": team});
    let r = h.post("/api/v1/users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

fn step<'a>(checklist: &'a Json, title: &str) -> &'a Json {
    checklist["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == title)
        .unwrap_or_else(|| panic!("no step {title:?}: {checklist}"))
}

pub async fn onboarding_and_training_over_http(h: H) {
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    let kim = member(&h, "kim@example.se", "Kim Berg", "key_user", &north).await;
    let nils = member(&h, "nils@example.se", "Nils Ek", "user", &north).await;
    member(&h, "per@example.se", "Per Dahl", "user", &south).await;
    let kim_token = identity::token_of(&h, "kim@example.se", Scope::Write).await;
    let nils_token = identity::token_of(&h, "nils@example.se", Scope::Write).await;
    let per_token = identity::token_of(&h, "per@example.se", Scope::Write).await;
    let reading = identity::token_of(&h, "nils@example.se", Scope::Read).await;
    let checklist = format!("/api/v1/onboarding/users/{nils}");

    // Made through the API: his checklist started, "account created" ticked by itself.
    let r = h.get(&checklist).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 5);
    assert_eq!(step(&r.body, "Account created")["done_automatically"], true);
    // His key user sees it; a user of another team gets 404, as for any unknown user.
    let r = identity::as_token(&h, &kim_token, Method::GET, &checklist, None).await;
    assert_eq!(r.status, StatusCode::OK);
    for path in [
        checklist.clone(),
        format!("/api/v1/training/users/{nils}"),
        "/api/v1/onboarding/users/not-an-id".into(),
    ] {
        let r = identity::as_token(&h, &per_token, Method::GET, &path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let board = identity::as_token(&h, &kim_token, Method::GET, "/api/v1/onboarding", None).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(
        board.body["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["user"] == nils.as_str())
    );
    assert_eq!(board.body["mine"]["total"], 5);

    // Ticking: a manual step by hand; a step that ticks itself is refused naming "done";
    // a read-scoped token changes nothing; an unknown step is 404.
    let met = step(&r.body, "Met your key user")["number"].as_u64().unwrap_or(3);
    let met = format!("{checklist}/steps/{met}");
    let r = identity::as_token(&h, &nils_token, Method::PUT, &met, Some(json!({"done": true}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(step(&r.body, "Met your key user")["done_by"], nils.as_str());
    let auto = format!("{checklist}/steps/2");
    let r = identity::as_token(&h, &nils_token, Method::PUT, &auto, Some(json!({"done": true}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "done");
    let r = identity::as_token(&h, &reading, Method::PUT, &met, Some(json!({"done": false}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for bad in ["99", "x"] {
        let path = format!("{checklist}/steps/{bad}");
        let r = identity::as_token(&h, &nils_token, Method::PUT, &path, Some(json!({"done": true}))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let r = identity::as_token(&h, &nils_token, Method::PUT, &met, Some(json!({"done": "yes"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // One checklist per user.
    let r = h.post(&checklist, json!(null)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Templates: every role's; mistakes named by place, an unknown role 404, a stale version 412.
    let r = h.get("/api/v1/onboarding/templates").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 4);
    let r = h
        .put(
            "/api/v1/onboarding/templates/user",
            json!({"steps": [{"title": "ok"}, {"title": "Due", "due_days": 400},
                {"title": "x", "condition": {"kind": "first_record", "object": "yacht"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["steps[1].due_days", "steps[2].condition.object"]);
    let r = h
        .put(
            "/api/v1/onboarding/templates/user",
            json!({"steps": [{"title": "x", "condition": {"kind": "lunch"}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "steps[0].condition");
    let r = h.put("/api/v1/onboarding/templates/boss", json!({"steps": []})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = identity::as_token(
        &h,
        &kim_token,
        Method::PUT,
        "/api/v1/onboarding/templates/user",
        Some(json!({"steps": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let steps = json!([{"title": "Account ready", "condition": {"kind": "account_created"}},
        {"title": "First company", "due_days": 5, "condition": {"kind": "first_record", "object": "company"}}]);
    let r = h
        .put(
            "/api/v1/onboarding/templates/user",
            json!({"steps": steps, "version": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 1);
    let r = h
        .put(
            "/api/v1/onboarding/templates/user",
            json!({"steps": steps, "version": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);

    // Courses and sessions: administrators and key users keep them.
    let course = json!({"name": "CRM basics", "audience": ["user", "key_user"], "refresh_months": 12});
    let r = identity::as_token(
        &h,
        &nils_token,
        Method::POST,
        "/api/v1/training/courses",
        Some(course.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = identity::as_token(
        &h,
        &kim_token,
        Method::POST,
        "/api/v1/training/courses",
        Some(json!({"name": " ", "audience": [], "refresh_months": 0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "audience", "refresh_months"]);
    let r = identity::as_token(&h, &kim_token, Method::POST, "/api/v1/training/courses", Some(course)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let course = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .put(
            &format!("/api/v1/training/courses/{course}"),
            json!({"name": "CRM basics", "description": "Day one", "audience": ["user", "key_user"], "refresh_months": 6}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["refresh_months"], 6);
    let r = h
        .get(&format!("/api/v1/training/courses/{}", UserId::new_at(start())))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let session = json!({"course": course, "on": "2026-11-23", "trainer": kim, "place": "Room 2"});
    let r = identity::as_token(&h, &kim_token, Method::POST, "/api/v1/training/sessions", Some(session)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["trainer_label"], "Kim Berg");
    let session = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .post(
            "/api/v1/training/sessions",
            json!({"course": course, "on": "2026-12-24", "trainer": "", "trainer_name": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "trainer");
    let r = h.get(&format!("/api/v1/training/sessions?course={course}")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let r = h.get("/api/v1/training/sessions?course=nonsense").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "course");

    // Attendance: key users record it; users may not see it; the trainings follow.
    let attendance = format!("/api/v1/training/sessions/{session}/attendance");
    let r = identity::as_token(&h, &nils_token, Method::GET, &attendance, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = identity::as_token(
        &h,
        &kim_token,
        Method::PUT,
        &attendance,
        Some(json!({"attendance": [{"user": nils, "attended": true}, {"user": "ghost", "attended": true}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "attendance[1].user");
    let r = identity::as_token(
        &h,
        &kim_token,
        Method::PUT,
        &attendance,
        Some(json!({"attendance": [{"user": nils, "attended": true}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["session"]["attended"], 1);
    let r = identity::as_token(
        &h,
        &nils_token,
        Method::GET,
        &format!("/api/v1/training/users/{nils}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["courses"][0]["state"], "valid");
    assert_eq!(r.body["courses"][0]["expires_on"], "2027-05-23");
    let r = identity::as_token(&h, &nils_token, Method::GET, &checklist, None).await;
    assert_eq!(step(&r.body, "Training done")["done_automatically"], true);
    let r = h.get("/api/v1/training").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["courses"][0]["valid"], 1);

    // The project's health names the key user not trained before go-live.
    let p = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout", "start": "2026-11-02", "target": "2027-02-26"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let r = h
        .get(&format!("/api/v1/projects/{}", p.body["id"].as_str().unwrap()))
        .await;
    let rule = r.body["health"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "trained_before_go_live")
        .cloned()
        .unwrap();
    assert_eq!(rule["ok"], false);
    assert_eq!(rule["missing"], json!(["Kim Berg"]));
}

/// The checklist's step `n` as the page shows it: its class (done, overdue, open).
async fn step_class(b: &Browser, n: u32) -> String {
    b.by_id(&format!("step-{n}"))
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

pub async fn browser_a_new_user_signs_in_and_follows_their_checklist(h: H) {
    let t0 = start();
    h.clock.set(t0);
    let north = identity::team(&h, "North").await;
    member(&h, "kim@example.se", "Kim Berg", "key_user", &north).await;
    let nils = member(&h, "nils@example.se", "Nils Ek", "user", &north).await;
    member(&h, "ada@example.se", "Ada Admin", "admin", &north).await;
    // Someone added before onboarding existed: no checklist.
    let olle = User::new(
        UserId::new_at(t0),
        Some("olle@example.se".into()),
        "Olle Old",
        Role::User,
        t0,
    );
    h.instance.main().create_user(&olle).await.unwrap();
    let course = h
        .post(
            "/api/v1/training/courses",
            json!({"name": "CRM basics", "description": "Companies, people, deals and the timeline.", "audience": ["user", "key_user"], "refresh_months": 12}),
        )
        .await;
    assert_eq!(course.status, StatusCode::CREATED, "{}", course.body);
    let session = h
        .post(
            "/api/v1/training/sessions",
            json!({"course": course.body["id"], "on": "2026-11-30", "trainer_name": "Vera Vendor", "place": "Room Ærø"}),
        )
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.body);
    let session = session.body["id"].as_str().unwrap().to_string();
    // Eight days after Nils was added he signs in for the first time: "met your key user" was
    // due the day before.
    h.clock.set(t0 + chrono::Duration::days(8));
    let Some(mut b) = Browser::start(&h, &format!("onboarding-{}", h.backend())).await else {
        return;
    };
    b.login("nils@example.se", identity::PASSWORD).await;
    b.go("/home").await;
    b.wait_for("id=\"home-onboarding\"").await;
    let overdue = b
        .css("#home-onboarding .onboarding-overdue")
        .await
        .text()
        .await
        .unwrap();
    assert!(overdue.contains("Met your key user"), "{overdue}");
    assert!(!overdue.contains("First sign-in"), "ticked by signing in: {overdue}");
    both_widths(&mut b, "my-work").await;

    // His checklist: the first sign-in ticked itself, at the moment he signed in.
    b.by_id("home-onboarding-open").await.click().await.unwrap();
    b.wait_for("id=\"checklist\"").await;
    assert_eq!(step_class(&b, 2).await, "done");
    let said = b.css("#step-2 .step-state").await.text().await.unwrap();
    assert!(said.starts_with("Ticked automatically"), "{said}");
    assert_eq!(step_class(&b, 3).await, "overdue");
    assert_eq!(step_class(&b, 1).await, "done");
    both_widths(&mut b, "checklist").await;
    // He ticks the manual step himself.
    b.by_id("tick-3").await.click().await.unwrap();
    b.wait_for("Ticked by Nils Ek").await;
    assert_eq!(step_class(&b, 3).await, "done");
    b.go("/home").await;
    b.wait_for("id=\"home-onboarding\"").await;
    assert!(
        !b.source().await.contains("onboarding-overdue"),
        "nothing overdue any more"
    );

    // His key user follows him on My work and the onboarding page, and records his training.
    b.login("kim@example.se", identity::PASSWORD).await;
    b.go("/home").await;
    b.wait_for("id=\"home-onboarding-people\"").await;
    both_widths(&mut b, "my-work-key-user").await;
    assert!(
        b.css("#home-onboarding-people")
            .await
            .text()
            .await
            .unwrap()
            .contains("Nils Ek")
    );
    b.go("/onboarding").await;
    b.wait_for(&format!("id=\"person-{nils}\"")).await;
    both_widths(&mut b, "onboarding").await;
    b.go("/training").await;
    b.wait_for("CRM basics").await;
    both_widths(&mut b, "training").await;
    b.go(&format!("/training/courses/{}", course.body["id"].as_str().unwrap()))
        .await;
    b.wait_for("id=\"course-form\"").await;
    both_widths(&mut b, "course").await;
    b.go(&format!("/training/sessions/{session}")).await;
    b.wait_for("id=\"attendance-form\"").await;
    b.by_id(&format!("a-{nils}-1")).await.click().await.unwrap();
    b.by_id("attendance-save").await.click().await.unwrap();
    b.wait_for("id=\"attendance-saved\"").await;
    both_widths(&mut b, "attendance").await;
    b.go(&format!("/onboarding/users/{nils}")).await;
    b.wait_for("id=\"checklist\"").await;
    assert_eq!(step_class(&b, 4).await, "done", "training done");
    let trained = b.css("#trainings tr[data-state=valid]").await.text().await.unwrap();
    assert!(trained.contains("CRM basics"), "{trained}");
    // The same pages in other languages fit too.
    b.go(&format!("/onboarding/users/{nils}?lang=sv")).await;
    b.wait_for("Checklista").await;
    both_widths(&mut b, "checklist-sv").await;
    b.go("/training?lang=de").await;
    b.wait_for("Einen Termin planen").await;
    both_widths(&mut b, "training-de").await;
    b.go("/onboarding?lang=en").await;
    b.wait_for("people you help").await;

    // An administrator's template editor: a mistake is named beside its row, what was typed kept.
    b.login("ada@example.se", identity::PASSWORD).await;
    b.go("/onboarding/templates?role=user").await;
    b.wait_for("id=\"template-form\"").await;
    both_widths(&mut b, "templates").await;
    let due = b.css("input[name='due-1']").await;
    due.clear().await.unwrap();
    due.send_keys("400").await.unwrap();
    b.by_id("template-save").await.click().await.unwrap();
    b.wait_for("id=\"template-error\"").await;
    let said = b.by_id("row-1-error").await.text().await.unwrap();
    assert!(said.contains("0 to 365"), "{said}");
    let marked = b.css("input[name='due-1']").await.attr("aria-invalid").await.unwrap();
    assert_eq!(marked.as_deref(), Some("true"), "the field the mistake is about");
    assert_eq!(
        b.css("input[name='due-1']").await.value().await.unwrap().as_deref(),
        Some("400")
    );
    b.shot("template-mistake").await;
    // An administrator starts a checklist for someone who came before onboarding.
    b.go("/onboarding").await;
    b.wait_for("id=\"onboarding-without\"").await;
    both_widths(&mut b, "onboarding-admin").await;
    b.by_id(&format!("start-{}", olle.id)).await.click().await.unwrap();
    b.wait_for("id=\"checklist\"").await;
    assert!(b.source().await.contains("Olle Old"));
    b.quit().await;
}
