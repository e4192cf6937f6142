//! The first hour of a new organisation, page by page: at the two widths the app is made for,
//! no page's layout is wider than the window (wide tables and boards scroll inside their own
//! frame), lists say how many records they hold, and the favicon is there.

use super::H;
use super::identity;
use axum::http::StatusCode;
use serde_json::json;

/// What every page here is checked for: nothing wider than the window.
async fn fits(b: &super::e2e::Browser, page: &str, width: u32) {
    let overflow = b
        .driver
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.json().as_i64().unwrap_or(0) <= 0,
        "{page} at {width} px is {} px wider than the window",
        overflow.json()
    );
}

pub async fn browser_pages_fit_at_1280_and_1440(h: H) {
    let lead = identity::user(&h, "lead@example.se", "admin", None).await;
    let company = h
        .post(
            "/api/v1/records/company",
            json!({"name": "Núñez-Öberg Ærø Müller Fastighetsförvaltning och Byggnadsentreprenad Aktiebolag i Norden", "city": "Göteborg"}),
        )
        .await;
    assert_eq!(company.status, StatusCode::CREATED, "{}", company.body);
    let company = company.body["id"].as_str().unwrap().to_string();
    let mut deal = String::new();
    for i in 0..60 {
        let (currency, stage) = match i % 3 {
            0 => ("SEK", "lead"),
            1 => ("EUR", "lead"),
            _ => ("DKK", "proposal"),
        };
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": format!("Implementation and integration of the customer platform, phase {}", i + 1),
                       "stage": stage, "amount": "125000.00", "currency": currency, "company": company,
                       "owner": lead}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        deal = r.body["id"].as_str().unwrap().to_string();
    }
    // Two activities of the lead's due: one overdue, one later today.
    let now = anchora_core::Clock::now(&*h.clock);
    for (subject, due) in [
        ("Call Åsa Núñez about the renewal", now - chrono::Duration::days(2)),
        ("Send the proposal to Müller", now),
    ] {
        let r = h
            .post(
                "/api/v1/records/activity",
                json!({"type": "call", "subject": subject, "due_at": due.to_rfc3339(), "owner": lead, "company": company}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let project = h
        .post(
            "/api/v1/projects",
            json!({"name": "Rollout Nord", "start": "2026-10-05", "target": "2027-06-30"}),
        )
        .await;
    let project = project.body["id"].as_str().unwrap().to_string();
    for (name, start, finish) in [
        ("Workshops with every department", "2026-10-05", "2026-10-30"),
        ("Configure objects, fields and views", "2026-11-02", "2027-01-29"),
        ("Migrate the old CRM's data", "2027-02-01", "2027-04-30"),
        ("Train the key users and then everyone", "2027-05-03", "2027-06-25"),
    ] {
        let r = h
            .post(
                &format!("/api/v1/projects/{project}/tasks"),
                json!({"name": name, "start": start, "finish": finish, "area": "business", "planned_hours": 40}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    let Some(mut b) = super::e2e::Browser::start(&h, &format!("fit-{}", h.backend())).await else {
        return;
    };
    b.login("lead@example.se", identity::PASSWORD).await;
    let mut pages = vec![
        "/".to_string(),
        "/o/deal".to_string(),
        "/o/deal/board".to_string(),
        format!("/o/deal/{deal}"),
        format!("/o/company/{company}"),
    ];
    for tab in [
        "",
        "/group",
        "/plan",
        "/settings",
        "/changes",
        "/meetings",
        "/communication",
        "/reports",
        "/journeys",
    ] {
        pages.push(format!("/projects/{project}{tab}"));
    }
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        for page in &pages {
            b.go(page).await;
            b.wait_for("</main>").await;
            fits(&b, page, width).await;
        }
        b.go("/o/deal").await;
        b.wait_for("1–50 of 60").await;
        b.shot(&format!("list-{width}")).await;
        b.go("/o/deal/board").await;
        b.wait_for("data-count=\"40\"").await;
        b.shot(&format!("board-{width}")).await;
        b.go(&format!("/projects/{project}/plan")).await;
        b.shot(&format!("plan-{width}")).await;
        b.go("/").await;
        b.shot(&format!("start-{width}")).await;
    }
    // The start page: both activities due, one ticked done in place; the lead's pipeline.
    b.go("/").await;
    b.wait_for("Call Åsa Núñez about the renewal").await;
    let due = b.by_id("home-due").await.text().await.unwrap();
    assert!(
        due.contains("overdue") && due.contains("Send the proposal to Müller"),
        "{due}"
    );
    let pipeline = b.by_id("home-pipeline").await.text().await.unwrap();
    assert!(pipeline.contains("Lead") && pipeline.contains("40"), "{pipeline}");
    b.css("#home-due form.tick button").await.click().await.unwrap();
    for _ in 0..100 {
        if !b.source().await.contains("Call Åsa Núñez about the renewal") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !b.source().await.contains("Call Åsa Núñez about the renewal"),
        "ticked done"
    );
    b.shot("start-after-tick").await;
    // The next page of the list goes on counting.
    b.go("/o/deal").await;
    b.css("a[rel=next]").await.click().await.unwrap();
    b.wait_for("51–60 of 60").await;
    b.quit().await;

    let (status, ct, svg) = super::imports::text_of(&h, "/favicon.ico").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "image/svg+xml");
    assert!(svg.starts_with("<svg"), "{svg}");
}
