//! Implementation projects through the API and in the browser.

use super::*;
use e2e::Browser;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn raw(h: &H, method: Method, path: &str, body: &[u8]) -> Reply {
    h.send(
        method,
        path,
        Some(&h.admin.clone()),
        &[("content-type", "application/json")],
        Some(body.to_vec()),
    )
    .await
}

pub async fn project_api_with_bad_input_and_rights(h: H) {
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout", "start": "2026-10-01", "target": "2027-03-31",
                   "departments": ["Sales"], "user_groups": ["Field sales"],
                   "budget": {"currency": "EUR", "amount": 50000000, "buffer_percent": 10}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/projects/{id}");

    // Bad input: each refused with a clear error naming the field, nothing stored.
    let r = raw(&h, Method::POST, "/api/v1/projects", b"{\"name\": ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "X", "start": 20261001, "target": "2027-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "X", "start": "2026-10-01", "target": "2027-01-01", "owner": "me"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "x".repeat(10_000), "start": "2026-10-01", "target": "2027-01-01"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "name", "{}", r.body);
    assert_eq!(
        h.get("/api/v1/projects").await.body["data"].as_array().unwrap().len(),
        1
    );

    let r = h
        .post(&format!("{base}/tasks"), json!({"name": "Workshops", "start": "2026-10-05", "finish": "2026-10-16", "area": "business", "planned_hours": 60}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t1 = r.body["number"].as_u64().unwrap();
    let r = h
        .post(&format!("{base}/tasks"), json!({"name": "'); DROP TABLE project_items; --", "start": "2026-10-19", "finish": "2026-10-30", "area": "system", "planned_hours": 1e9}))
        .await;
    assert_eq!(r.body["errors"][0]["field"], "planned_hours", "{}", r.body);
    let r = h
        .post(&format!("{base}/tasks"), json!({"name": "'); DROP TABLE project_items; --", "start": "2026-10-19", "finish": "2026-10-30", "area": "system", "planned_hours": 90}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t2 = r.body["number"].as_u64().unwrap();
    let r = h
        .post(&format!("{base}/dependencies"), json!({"before": t1, "after": t2}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .post(&format!("{base}/dependencies"), json!({"before": t2, "after": t1}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"][0]["message"].as_str().unwrap().contains("cycle"),
        "{}",
        r.body
    );
    let r = h
        .post(&format!("{base}/dependencies"), json!({"before": t2, "after": 999}))
        .await;
    assert_eq!(r.body["errors"][0]["field"], "after", "{}", r.body);
    let r = h
        .post(&format!("{base}/dependencies"), json!({"before": "one", "after": t2}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Writes name their version: missing → 428, stale → 412 with the current state.
    let r = h.patch(&base, None, json!({"name": "Renamed"})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "{}", r.body);
    let r = h.patch(&base, None, json!({"version": 1, "name": "Renamed"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.patch(&base, None, json!({"version": 1, "name": "Lost update"})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    assert_eq!(r.body["current"]["name"], "Renamed", "{}", r.body);
    let r = h
        .send(
            Method::DELETE,
            &format!("{base}/tasks/{t2}"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);

    // The whole project with its verdicts; the forecast needs some progress to go on.
    assert!(h.get(&base).await.body["forecast"].is_null());
    let r = h
        .patch(
            &format!("{base}/tasks/{t1}"),
            None,
            json!({"version": 1, "percent_done": 50}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "in_progress");
    let r = h.get(&base).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["critical_path"], json!([t1, t2]));
    assert_eq!(r.body["tasks"][1]["name"], "'); DROP TABLE project_items; --");
    let roles = r.body["health"].as_array().unwrap();
    let filled = roles.iter().find(|c| c["rule"] == "roles_filled").unwrap();
    assert_eq!(filled["ok"], false);
    assert!(
        r.body["forecast"]["forecast_finish"].is_string(),
        "{}",
        r.body["forecast"]
    );
    assert_eq!(r.body["budget"]["buffer"], 5_000_000);

    // Read-only people follow the project but cannot change it; strangers get nothing.
    identity::user(&h, "board@example.se", "read_only", None).await;
    let reader = identity::token_of(&h, "board@example.se", Scope::Read).await;
    let r = identity::as_token(&h, &reader, Method::GET, &base, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["rights"]["edit"], false);
    let r = identity::as_token(
        &h,
        &reader,
        Method::PATCH,
        &base,
        Some(json!({"version": 2, "name": "Mine"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = identity::as_token(
        &h,
        &reader,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "x", "start": "2026-10-01", "target": "2027-01-01"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = h.send(Method::GET, &base, None, &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = h.get("/api/v1/projects/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Work packages move only along their life.
    let r = h
        .post(&format!("{base}/work-packages"), json!({"title": "Data migration"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let wp = r.body["number"].as_u64().unwrap();
    let r = h
        .post(
            &format!("{base}/work-packages/{wp}/state"),
            json!({"state": "accepted", "version": 1}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "state", "{}", r.body);
    let r = h
        .post(
            &format!("{base}/work-packages/{wp}/state"),
            json!({"state": "handed_over", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The catalogue grows, for admins only.
    let r = h
        .post("/api/v1/project-roles", json!({"key": "data_steward", "label": "Data steward", "required": true, "technical": false, "core_team": true, "scope": "project", "vendor": false}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = identity::as_token(&h, &reader, Method::POST, "/api/v1/project-roles", Some(json!({"key": "spy", "label": "Spy", "required": false, "technical": false, "core_team": false, "scope": "project", "vendor": false}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Set an input's value by script (date inputs take typed text in the browser's locale).
async fn set(b: &Browser, id: &str, value: &str) {
    b.driver
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .unwrap();
}

/// Submit a form and wait until the browser has left the page (the answer has arrived), so the
/// next step does not race the form's own navigation.
async fn submit(b: &Browser, form: &str) {
    let button = b.css(&format!("{form} button[type=submit]")).await;
    button.click().await.unwrap();
    button.wait_until().stale().await.unwrap();
}

async fn rule_state(b: &Browser, rule: &str) -> String {
    b.css(&format!("li[data-rule={rule}]"))
        .await
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
}

pub async fn browser_project_health_and_gantt(h: H) {
    identity::user(&h, "lead@example.se", "admin", None).await;
    let Some(mut b) = Browser::start(&h, &format!("project-{}", h.backend())).await else {
        return;
    };
    b.login("lead@example.se", identity::PASSWORD).await;
    // Start a project from the Projects page in the sidebar.
    b.css("a[href='/projects']").await.click().await.unwrap();
    b.wait_for("Start a project").await;
    // The administrator adds a role of their own to the catalogue, required in every project.
    e2e::fill(&b, "r-label", "Data steward").await;
    b.by_id("r-required").await.click().await.unwrap();
    submit(&b, "form[action='/projects/roles']").await;
    b.wait_for("<li class=\"tag\" title=\"Required in every project\">Data steward</li>")
        .await;
    b.shot("catalogue").await;
    b.by_id("p-name").await.send_keys("Rollout Nord").await.unwrap();
    set(&b, "p-start", "2026-11-02").await;
    set(&b, "p-target", "2027-02-26").await;
    b.shot("new-project").await;
    submit(&b, "form[action='/projects']").await;
    // The click returns before the browser has followed the redirect.
    let mut settings = String::new();
    for _ in 0..100 {
        settings = b.driver.current_url().await.unwrap().path().to_string();
        if settings.ends_with("/settings") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(settings.ends_with("/settings"), "{settings}");
    let project = settings.trim_end_matches("/settings").to_string();
    b.by_id("s-deps").await.send_keys("Sales").await.unwrap();
    b.by_id("s-goals")
        .await
        .send_keys("One view of each customer | Key accounts")
        .await
        .unwrap();
    submit(&b, "form.record-form").await;
    b.wait_for("role=\"status\"").await;

    // A small group without a system owner: the health panel says so.
    b.go(&format!("{project}/group")).await;
    e2e::fill(&b, "m-name", "Petra Project").await;
    SelectElement::new(&b.by_id("m-role").await)
        .await
        .unwrap()
        .select_by_value("project_leader")
        .await
        .unwrap();
    submit(&b, "form[action$='/members']").await;
    b.wait_for("Petra Project").await;
    b.go(&project).await;
    b.wait_for("Health of the project group").await;
    assert!(rule_state(&b, "system_owner_named").await.contains("problem"));
    let said = b
        .css("li[data-rule=system_owner_named] .check-title")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        said.contains("No system owner is named"),
        "the problem, not the rule: {said}"
    );
    let said = b
        .css("li[data-rule=roles_filled] .check-title")
        .await
        .text()
        .await
        .unwrap();
    assert!(said.contains("Missing roles:"), "{said}");
    assert!(
        b.source().await.contains("Data steward"),
        "the added role is missing too"
    );
    assert!(b.source().await.contains("After go-live someone must own the system"));
    b.shot("system-owner-missing").await;

    // Name a system owner: the warning goes away.
    b.go(&format!("{project}/group")).await;
    e2e::fill(&b, "m-name", "Sven System").await;
    SelectElement::new(&b.by_id("m-role").await)
        .await
        .unwrap()
        .select_by_value("system_owner")
        .await
        .unwrap();
    submit(&b, "form[action$='/members']").await;
    b.wait_for("Sven System").await;
    b.shot("group").await;
    b.go(&project).await;
    b.wait_for("Health of the project group").await;
    assert!(rule_state(&b, "system_owner_named").await.contains("ok"));
    b.shot("system-owner-named").await;

    // Two tasks, the second after the first, and the Gantt chart.
    b.go(&format!("{project}/plan")).await;
    for (name, start, finish) in [
        ("Workshops", "2026-11-02", "2026-11-13"),
        ("Configure", "2026-11-16", "2026-12-11"),
    ] {
        e2e::fill(&b, "t-name", name).await;
        set(&b, "t-start", start).await;
        set(&b, "t-finish", finish).await;
        e2e::fill(&b, "t-hours", "40").await;
        if name == "Configure" {
            SelectElement::new(&b.by_id("t-area").await)
                .await
                .unwrap()
                .select_by_value("system")
                .await
                .unwrap();
            // The task list numbers the tasks: "#3 Workshops".
            let page = b.source().await;
            let at = page.find(" Workshops</a>").unwrap();
            let hash = page[..at].rfind('#').unwrap();
            e2e::fill(&b, "t-after", &page[hash + 1..at]).await;
        }
        submit(&b, "form[action$='/tasks']").await;
        b.wait_for(name).await;
    }
    let svg = b.css("svg.gantt").await;
    let bars = svg.find_all(By::Css("g.bar")).await.unwrap();
    assert_eq!(bars.len(), 2);
    assert_eq!(svg.find_all(By::Css("path.dep")).await.unwrap().len(), 1);
    assert!(b.source().await.contains("Critical path"));
    b.shot("gantt").await;
    // The second task's page names what it waits for.
    b.css("table.tasks tbody tr:nth-child(2) a")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("<ul class=\"dependencies\"><li>#3 Workshops").await;
    b.shot("task").await;
    b.quit().await;
}

/// The project pages and reports as a read-only member of management sees them: everything
/// readable, no forms to change anything, and forged or direct posts refused.
pub async fn project_and_report_pages_for_readers(h: H) {
    identity::user(&h, "board@example.se", "read_only", None).await;
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout <b>Syd</b>", "start": "2026-10-05", "target": "2027-03-31"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    h.post(&format!("/api/v1/projects/{id}/tasks"), json!({"name": "Workshops", "start": "2026-10-05", "finish": "2026-10-16", "area": "business", "percent_done": 50, "planned_hours": 10}))
        .await;
    h.post(
        "/api/v1/records/deal",
        json!({"name": "Big one", "stage": "won", "amount": "1000.00", "currency": "SEK"}),
    )
    .await;
    let mut stranger = identity::Browser::default();
    for path in [
        "/projects".to_string(),
        format!("/projects/{id}"),
        "/reports".to_string(),
    ] {
        let r = stranger.get(&h, &path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
    }
    let mut reader = identity::Browser::default();
    reader.login(&h, "board@example.se", identity::PASSWORD).await;
    for tab in ["", "/group", "/plan", "/packages"] {
        let page = reader.get(&h, &format!("/projects/{id}{tab}")).await;
        assert_eq!(page.status, StatusCode::OK, "{tab}");
        assert!(
            page.text.contains("Syd") && !page.text.contains("<b>Syd"),
            "escaped: {tab}"
        );
        assert!(
            !page.text.contains("<form class=\"record-form"),
            "no forms for readers: {tab}"
        );
        assert!(page.text.contains("only its leaders and administrators change it"));
    }
    assert!(
        reader
            .get(&h, &format!("/projects/{id}/plan"))
            .await
            .text
            .contains("<svg")
    );
    assert_eq!(
        reader.get(&h, &format!("/projects/{id}/settings")).await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = reader.csrf(&h).await;
    let r = reader
        .form(
            &h,
            &format!("/projects/{id}/tasks"),
            &[
                ("csrf", &csrf),
                ("name", "Sneaky"),
                ("start", "2026-10-05"),
                ("area", "system"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = reader
        .form(&h, &format!("/projects/{id}/tasks"), &[("name", "Forged")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get(&format!("/api/v1/projects/{id}")).await.body["tasks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Reports: deals by stage with their amounts, in the reader's view.
    let page = reader.get(&h, "/reports?object=deal&g1=stage&m=sum&mf=amount").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("SEK") && page.text.contains("report-chart-panel"),
        "{}",
        page.text
    );
    // A field that cannot group or be added up is named on the page, never a failure.
    let page = reader.get(&h, "/reports?object=deal&g1=password&m=sum&mf=name").await;
    assert_eq!(page.status, StatusCode::OK);
}

/// Sign out (drop the session cookie) and in as someone else.
async fn switch_user(b: &mut Browser, email: &str) {
    b.driver.delete_all_cookies().await.unwrap();
    b.login(email, identity::PASSWORD).await;
}

async fn click(b: &Browser, selector: &str) {
    b.css(selector).await.click().await.unwrap();
}

async fn select(b: &Browser, id: &str, value: &str) {
    SelectElement::new(&b.by_id(id).await)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// Part 2 in the browser: a change request approved by two approvers moves the plan; a status
/// report is sent and opened in its print view (and printed to PDF); a journey's requirement
/// is traced to a field.
pub async fn browser_change_report_and_journey(h: H) {
    identity::user(&h, "lead@example.se", "admin", None).await;
    let anna = identity::user(&h, "anna@example.se", "user", None).await;
    let bo = identity::user(&h, "bo@example.se", "user", None).await;
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout Syd", "start": "2026-11-02", "target": "2027-03-31",
                   "budget": {"currency": "SEK", "amount": 50000000, "buffer_percent": 10}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let api = format!("/api/v1/projects/{id}");
    let mut approvers = Vec::new();
    for (user, role) in [(&anna, "management_decision_maker"), (&bo, "champion")] {
        let r = h
            .post(
                &format!("{api}/members"),
                json!({"user": user, "roles": [{"role": role}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        approvers.push(r.body["number"].as_u64().unwrap());
    }
    let r = h
        .post(
            &format!("{api}/tasks"),
            json!({"name": "Go-live", "start": "2027-03-01", "milestone": true, "area": "system", "planned_hours": 1}),
        )
        .await;
    let golive = r.body["number"].as_u64().unwrap();
    let project = format!("/projects/{id}");

    let Some(mut b) = Browser::start(&h, &format!("project-part2-{}", h.backend())).await else {
        return;
    };
    b.login("lead@example.se", identity::PASSWORD).await;
    // Raise the change: move go-live two weeks, approved by Anna and Bo, submitted at once.
    b.go(&format!("{project}/changes")).await;
    b.wait_for("Raise a change request").await;
    e2e::fill(&b, "cr-title", "Go-live after the sales conference").await;
    e2e::fill(&b, "cr-scope", "Sellers are away in early March").await;
    for n in &approvers {
        click(&b, &format!("input[name=approver][value='{n}']")).await;
    }
    select(&b, "cr-move", &golive.to_string()).await;
    set(&b, "cr-move-start", "2027-03-15").await;
    set(&b, "cr-move-finish", "2027-03-15").await;
    click(&b, "#cr-submit").await;
    b.shot("change-form").await;
    submit(&b, "form[action$='/changes']").await;
    b.wait_for("Waiting for approval").await;
    b.shot("change-submitted").await;

    // Anna sees it on her own page and approves; the plan does not move yet.
    switch_user(&mut b, "anna@example.se").await;
    b.go("/home").await;
    b.wait_for("Change requests waiting for my approval").await;
    assert!(b.source().await.contains("Go-live after the sales conference"));
    b.shot("anna-my-work").await;
    b.go(&format!("{project}/changes")).await;
    e2e::fill(&b, &format!("comment-4-{}", approvers[0]), "Agreed").await;
    submit(&b, ".decide-form").await;
    b.wait_for("Agreed").await;
    b.go(&format!("{project}/plan")).await;
    b.wait_for("Go-live").await;
    assert!(
        b.source().await.contains("03/01/2027"),
        "the milestone stays until the last approval"
    );
    assert!(!b.source().await.contains("03/15/2027"));

    // Bo approves last: the plan changes, and the request says exactly what changed.
    switch_user(&mut b, "bo@example.se").await;
    b.go(&format!("{project}/changes")).await;
    submit(&b, ".decide-form").await;
    b.wait_for("What changed when it took effect").await;
    assert!(
        b.source()
            .await
            .contains("#3 Go-live moved from 03/01/2027 – 03/01/2027 to 03/15/2027 – 03/15/2027")
    );
    b.shot("change-applied").await;
    b.go(&format!("{project}/plan")).await;
    b.wait_for("03/15/2027").await;
    b.shot("plan-moved").await;

    // The leader sends the status report and opens its print view.
    switch_user(&mut b, "lead@example.se").await;
    b.go(&format!("{project}/reports")).await;
    b.wait_for("The report as it stands today").await;
    b.shot("report-draft").await;
    e2e::fill(&b, "rp-text", "The **sales conference** moved go-live.").await;
    submit(&b, "form[action$='/reports']").await;
    b.wait_for("Print / PDF").await;
    let source = b.source().await;
    assert!(
        source.contains("<strong>sales conference</strong>"),
        "the author's Markdown is rendered"
    );
    assert!(source.contains("Change request #4 Go-live after the sales conference: Approved"));
    assert!(source.contains("Forecast completion") && source.contains("Budget"));
    b.shot("report-sent").await;
    click(&b, "a[href$='/print']").await;
    b.wait_for("Print or save as PDF").await;
    assert!(b.source().await.contains("class=\"print-page\""));
    b.shot("report-print").await;
    let pdf = b
        .driver
        .print_page(thirtyfour::common::print::PrintParameters::default())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"), "the print view prints to PDF");
    assert!(pdf.len() > 1000);

    // A journey with a requirement traced to a field.
    b.go(&format!("{project}/journeys")).await;
    e2e::fill(&b, "jn-name", "Customer calls support").await;
    e2e::fill(
        &b,
        "jn-tp",
        "Calls: finds the customer; logs the case\nGets an answer: reads the reply",
    )
    .await;
    submit(&b, "form[action$='/journeys']").await;
    b.wait_for("Customer calls support").await;
    e2e::fill(&b, "rq-text", "See the deal value while on the phone").await;
    let journey = b.css("article.journey").await.attr("id").await.unwrap().unwrap();
    let journey = journey.trim_start_matches("journey-").to_string();
    select(&b, "rq-source", &format!("{journey}:0")).await;
    e2e::fill(&b, "rq-why", "So the caller gets the right priority").await;
    select(&b, "rq-trace", "field|deal.amount").await;
    submit(&b, "form[action$='/requirements']").await;
    b.wait_for("See the deal value while on the phone").await;
    let source = b.source().await;
    assert!(
        source.contains("<li class=\"tag\">Field: Deal: Amount</li>"),
        "traced to the field"
    );
    let touchpoint = b.css("li.touchpoint").await.text().await.unwrap();
    assert!(
        touchpoint.contains("See the deal value while on the phone"),
        "under its touchpoint: {touchpoint}"
    );
    assert!(source.contains("Requirements with no configuration</h3><p class=\"ok-text\">"));
    b.shot("journey-traced").await;
    b.quit().await;
}

/// Part 2 through the API: bad input refused by field with nothing stored, versions checked,
/// rights enforced, reports in three formats with scripts neutralised, runaway templates cut.
pub async fn project_part_two_api_with_bad_input(h: H) {
    let r = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout", "start": "2026-10-01", "target": "2027-03-31",
                   "budget": {"currency": "EUR", "amount": 50000000, "buffer_percent": 10}}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/projects/{id}");
    let admin_user = h.get("/api/v1/me").await.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let r = h
        .post(
            &format!("{base}/members"),
            json!({"user": admin_user, "roles": [{"role": "project_leader"}]}),
        )
        .await;
    let me = r.body["number"].as_u64().unwrap_or(1);
    let r = h
        .post(
            &format!("{base}/tasks"),
            json!({"name": "Go-live", "start": "2027-03-01", "milestone": true, "area": "system"}),
        )
        .await;
    let task = r.body["number"].as_u64().unwrap();

    // Malformed JSON, wrong types, unknown fields, huge values, unknown effects.
    let r = raw(&h, Method::POST, &format!("{base}/changes"), b"{\"title\": ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for (body, field) in [
        (json!({"title": 17}), "title"),
        (json!({"title": "x", "approvers": "everyone"}), "approvers"),
        (json!({"title": "x", "colour": "red"}), "colour"),
        (json!({"title": "x".repeat(10_000)}), "title"),
        (json!({"title": "x", "effort_hours": 1e12}), "effort_hours"),
        (
            json!({"title": "x", "effects": [{"kind": "teleport"}]}),
            "effects[0].kind",
        ),
        (
            json!({"title": "x", "effects": [{"kind": "budget", "delta": 9e18}]}),
            "effects[0]",
        ),
        (
            json!({"title": "x", "effects": [{"kind": "move_task", "task": task, "start": "2027-03-10", "finish": "2027-03-01"}]}),
            "effects",
        ),
    ] {
        let r = h.post(&format!("{base}/changes"), body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
        assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.body);
    }
    assert!(
        h.get(&base).await.body["change_requests"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    // An injection string and a script are stored as text and shown as text.
    let r = h
        .post(
            &format!("{base}/changes"),
            json!({"title": "<script>alert(1)</script>'); DROP TABLE project_items; --", "approvers": [me],
                   "effects": [{"kind": "budget", "delta": -1000000}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cr = r.body["number"].as_u64().unwrap();
    // Steps name the version: a stale one is refused with the current state attached.
    let r = h
        .post(&format!("{base}/changes/{cr}/submit"), json!({"version": 7}))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    let r = h
        .post(&format!("{base}/changes/{cr}/submit"), json!({"version": 1}))
        .await;
    assert_eq!(r.body["state"], "submitted", "{}", r.body);
    let r = h
        .post(&format!("{base}/changes/{cr}/launch"), json!({"version": 2}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .post(
            &format!("{base}/changes/{cr}/decide"),
            json!({"verdict": "maybe", "version": 2}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "verdict", "{}", r.body);
    let r = h
        .post(
            &format!("{base}/changes/{cr}/decide"),
            json!({"verdict": "approve", "version": 2}),
        )
        .await;
    assert_eq!(r.body["state"], "approved", "{}", r.body);
    assert_eq!(h.get(&base).await.body["project"]["budget"]["amount"], 49_000_000);

    // Meetings, actions, the matrix, escalations: wrong values named.
    for (path, body, field) in [
        ("meetings", json!({"series": "board", "date": "2027-01-01"}), "series"),
        ("meetings", json!({"series": "core_team", "date": "2027-13-01"}), "date"),
        (
            "actions",
            json!({"title": "x", "due": "2027-01-01", "owner": 99, "meeting": null}),
            "owner",
        ),
        ("escalations", json!({"kind": "action", "title": "x"}), "action"),
        (
            "communications",
            json!({"sender_role": "project_leader", "audience": "", "content": "x", "frequency": "weekly", "fulfilled_by": {"by": "manual"}}),
            "audience",
        ),
        (
            "communications",
            json!({"sender_role": "project_leader", "audience": "x", "content": "x", "frequency": "hourly", "fulfilled_by": {"by": "manual"}}),
            "frequency",
        ),
    ] {
        let r = h.post(&format!("{base}/{path}"), body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
        assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.body);
    }
    let r = h
        .post(
            &format!("{base}/escalations"),
            json!({"kind": "risk", "title": "<img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // The report: JSON, Markdown and HTML; the script in the title is text in the HTML.
    let r = h.get(&format!("{base}/status-report")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["markdown"]
            .as_str()
            .unwrap()
            .contains("# Status report: Rollout")
    );
    let html = r.body["html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let r = h
        .send(
            Method::GET,
            &format!("{base}/status-report?format=markdown&lang=sv"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.get(&format!("{base}/status-report?format=pdf")).await;
    assert_eq!(r.body["errors"][0]["field"], "format", "{}", r.body);
    let r = h
        .post(&format!("{base}/status-reports"), json!({"text": "Hello", "cc": "all"}))
        .await;
    assert_eq!(r.body["errors"][0]["field"], "cc", "{}", r.body);
    let r = h
        .post(&format!("{base}/status-reports"), json!({"text": "Hello"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let n = r.body["number"].as_u64().unwrap();
    let r = h.get(&format!("{base}/status-reports/{n}")).await;
    assert!(r.body["markdown"].as_str().unwrap().contains("Hello"));

    // A template that would run for ever is saved (it compiles) but cut off when rendered; a
    // broken one is refused when saved.
    let version = h.get(&base).await.body["project"]["version"].as_i64().unwrap();
    let r = h
        .patch(
            &base,
            None,
            json!({"version": version, "report_template": "{% for x in %}"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "report_template", "{}", r.body);
    let r = h
        .patch(
            &base,
            None,
            json!({"version": version, "report_template": "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.get(&format!("{base}/status-report")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "report_template");
    let r = h
        .patch(&base, None, json!({"version": version + 1, "report_template": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "back to the standard template: {}", r.body);

    // Journeys and requirements: traces must point at something real.
    let r = h
        .post(
            &format!("{base}/requirements"),
            json!({"text": "x", "priority": "must", "traces": [{"kind": "field", "target": "deal.\"; DROP"}]}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "traces", "{}", r.body);
    let r = h.get(&format!("{base}/traceability")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A read-only token reads everything and changes nothing.
    identity::user(&h, "board@example.se", "read_only", None).await;
    let reader = identity::token_of(&h, "board@example.se", Scope::Read).await;
    let r = identity::as_token(&h, &reader, Method::GET, &format!("{base}/status-report"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    for (path, body) in [
        ("changes", json!({"title": "x"})),
        ("status-reports", json!({})),
        ("escalations", json!({"kind": "risk", "title": "x"})),
        ("journeys", json!({"name": "x"})),
    ] {
        let r = identity::as_token(&h, &reader, Method::POST, &format!("{base}/{path}"), Some(body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let r = identity::as_token(&h, &reader, Method::GET, "/api/v1/me/follow-up", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
