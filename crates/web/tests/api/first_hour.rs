//! The first hour of a new organisation, page by page: at the two widths the app is made for,
//! no page's layout is wider than the window (wide tables and boards scroll inside their own
//! frame), lists say how many records they hold, and the favicon is there.

use super::H;
use super::identity;
use anchora_core::store::{UserStore, VisitStore};
use axum::http::StatusCode;
use serde_json::json;

/// What every page here is checked for: nothing wider than the window.
pub async fn fits(b: &super::e2e::Browser, page: &str, width: u32) {
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
        "/admin/currency".to_string(),
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
        b.go("/admin/currency").await;
        b.shot(&format!("currency-{width}")).await;
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

/// The currency page's form, sent by `admin` with a fresh CSRF token and these fields.
async fn currency_form(h: &H, admin: &mut identity::Browser, fields: &[(&str, &str)]) -> identity::Page {
    let csrf = admin.csrf(h).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    admin.form(h, "/admin/currency", &all).await
}

/// The value of `data-minor` on the board column's figure.
fn column_figure(html: &str, stage: &str) -> i64 {
    let column = html
        .split("<section class=\"column\"")
        .find(|c| c.contains(&format!("data-value=\"{stage}\"")))
        .unwrap_or_else(|| panic!("no column {stage}"));
    let figure = column.split("class=\"figure\"").nth(1).expect("a figure");
    let minor = figure.split("data-minor=\"").nth(1).unwrap().split('"').next().unwrap();
    minor.parse().unwrap()
}

pub async fn board_and_start_page_sum_in_the_reporting_currency(h: H) {
    let seller = identity::user(&h, "seller@example.se", "user", None).await;
    let seller_token = identity::token_of(&h, "seller@example.se", anchora_core::auth::Scope::Write).await;
    // Until an administrator says otherwise: the first currency deals offer, no rates.
    let r = h.get("/api/v1/currency").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"reporting": "SEK", "rates": {}}));
    // Mistakes are named by their field; only administrators set it.
    let r = h
        .put(
            "/api/v1/currency",
            json!({"reporting": "sek", "rates": {"EUR": -1, "NOK": "ten"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = h
        .put("/api/v1/currency", json!({"reporting": "sek", "rates": {"EUR": -1}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reporting", "rates.EUR"], "{}", r.body);
    let set = json!({"reporting": "SEK", "rates": {"EUR": 11.5, "SEK": 2}});
    let r = identity::as_token(
        &h,
        &seller_token,
        axum::http::Method::PUT,
        "/api/v1/currency",
        Some(set.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = h.put("/api/v1/currency", set).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"reporting": "SEK", "rates": {"EUR": 11.5}}),
        "the reporting currency's own rate is 1"
    );

    // The seller's lead column: 1,000 SEK, 100 EUR and 50 NOK (no rate for NOK yet).
    for (amount, currency) in [("1000.00", "SEK"), ("100.00", "EUR"), ("50.00", "NOK")] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": format!("Ærø {currency}"), "stage": "lead", "amount": amount, "currency": currency, "owner": seller}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    identity::user(&h, "chief@example.se", "admin", None).await;
    let mut admin = identity::Browser::signed_in(&h, "chief@example.se").await;
    let board = admin.get(&h, "/o/deal/board").await;
    assert_eq!(board.status, StatusCode::OK);
    assert_eq!(
        column_figure(&board.text, "lead"),
        100_000 + 115_000,
        "1,000 SEK + 100 EUR × 11.5"
    );
    assert!(
        board.text.contains("≈\u{a0}SEK\u{a0}2,150.00"),
        "a converted sum says it is one"
    );
    assert!(
        board
            .text
            .contains("Not in the sum: NOK\u{a0}50.00 (no exchange rate for NOK)"),
        "the missing rate is named"
    );
    assert!(
        board.text.contains("data-currency=\"EUR\" data-minor=\"10000\""),
        "each currency's own amount on demand"
    );
    assert_eq!(column_figure(&board.text, "won"), 0, "an empty column sums to nothing");

    // The administrator's form: a rate as typed in the user's language, mistakes beside it.
    let form = admin.get(&h, "/admin/currency").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text.contains("name=\"rate.NOK\""),
        "every currency deals use has a line"
    );
    let bad = currency_form(
        &h,
        &mut admin,
        &[("reporting", "SEK"), ("rate.EUR", "11.5"), ("rate.NOK", "-2")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text.contains("id=\"rate.NOK-error\""),
        "the mistake is beside its rate"
    );
    let good = currency_form(
        &h,
        &mut admin,
        &[
            ("reporting", "SEK"),
            ("rate.EUR", "11.5"),
            ("rate.NOK", "1.02"),
            ("rate.USD", ""),
        ],
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.text);
    let r = h.get("/api/v1/currency").await;
    assert_eq!(r.body, json!({"reporting": "SEK", "rates": {"EUR": 11.5, "NOK": 1.02}}));
    let board = admin.get(&h, "/o/deal/board").await;
    assert_eq!(column_figure(&board.text, "lead"), 100_000 + 115_000 + 5_100);
    assert!(!board.text.contains("Not in the sum"), "{}", board.text);

    // The seller's start page: their pipeline in the reporting currency too.
    let mut seller_browser = identity::Browser::signed_in(&h, "seller@example.se").await;
    let start = seller_browser.get(&h, "/home").await;
    assert_eq!(start.status, StatusCode::OK, "{:?}", start.headers);
    assert!(
        start.text.contains("data-currency=\"SEK\" data-minor=\"220100\""),
        "{}",
        start.text
    );
    // A user who may see only their own deals sees none of the seller's money either.
    identity::user(&h, "other@example.se", "user", None).await;
    let r = h
        .put(
            "/api/v1/access-policy",
            json!({"visibility": {"deal": {"user": "own"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut other = identity::Browser::signed_in(&h, "other@example.se").await;
    let board = other.get(&h, "/o/deal/board").await;
    assert_eq!(
        column_figure(&board.text, "lead"),
        0,
        "money out of sight is not counted"
    );
    assert!(!board.text.contains("Not in the sum"));

    // A deal without a currency is not taken for reporting money: named, left out.
    let r = h
        .post(
            "/api/v1/records/deal",
            json!({"name": "Öberg, no currency", "stage": "lead", "amount": "10.00", "owner": seller}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let board = admin.get(&h, "/o/deal/board").await;
    assert_eq!(column_figure(&board.text, "lead"), 100_000 + 115_000 + 5_100);
    assert!(
        board.text.contains("Not in the sum: 10.00 (no currency given)"),
        "{}",
        board.text
    );

    // Choosing another reporting currency carries the rates over through its own rate…
    let moved = currency_form(
        &h,
        &mut admin,
        &[("reporting", "EUR"), ("rate.EUR", "11,5"), ("rate.NOK", "1.02")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    let r = h.get("/api/v1/currency").await;
    assert_eq!(r.body["reporting"], "EUR");
    let rate = |code: &str| r.body["rates"][code].as_f64().unwrap();
    assert!(
        (rate("SEK") - 1.0 / 11.5).abs() < 1e-12 && (rate("NOK") - 1.02 / 11.5).abs() < 1e-12,
        "{}",
        r.body
    );
    let board = admin.get(&h, "/o/deal/board").await;
    assert!(
        board.text.contains("≈\u{a0}€191.39"),
        "SEK 2,201 in euros: {}",
        board.text
    );
    // …and refuses one it has no rate for, saying which.
    let refused = currency_form(&h, &mut admin, &[("reporting", "USD"), ("rate.SEK", "0,087")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("Give USD a rate first"), "{}", refused.text);
    // A rate of 0 for the new reporting currency is marked on that rate, and nothing is saved.
    let zero = currency_form(
        &h,
        &mut admin,
        &[("reporting", "NOK"), ("rate.NOK", "0"), ("rate.SEK", "0,087")],
    )
    .await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zero.text.contains("id=\"rate.NOK-error\""), "{}", zero.text);
    assert!(
        !zero.text.contains("id=\"rate.SEK-error\""),
        "the typed SEK rate is fine"
    );
    assert_eq!(h.get("/api/v1/currency").await.body["reporting"], "EUR");
}

pub async fn english_users_choose_the_order_of_dates(h: H) {
    identity::user(&h, "ellen@example.co.uk", "user", None).await;
    let deal = h
        .post(
            "/api/v1/records/deal",
            json!({"name": "Ærø ferries", "stage": "lead", "expected_close": "2027-03-04"}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let page = format!("/o/deal/{}", deal.body["id"].as_str().unwrap());
    let mut b = identity::Browser::signed_in(&h, "ellen@example.co.uk").await;
    let us = b.get(&h, &page).await;
    assert_eq!(us.status, StatusCode::OK);
    assert!(us.text.contains("03/04/2027"), "month first by default");
    assert!(us.text.contains("11/23/2026 9:00 AM"), "and a 12-hour clock");
    // The language switcher offers English written day first; the choice stays with the user.
    assert!(
        us.text
            .contains("<option value=\"en-GB\" lang=\"en-GB\">English (UK)</option>")
    );
    let csrf = b.csrf(&h).await;
    let moved = b
        .form(
            &h,
            "/account/locale",
            &[("csrf", &csrf), ("locale", "en-GB"), ("back", &page)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let uk = b.get(&h, &page).await;
    assert!(uk.text.contains("04/03/2027"), "day first");
    assert!(uk.text.contains("23/11/2026 09:00"), "and a 24-hour clock");
    assert!(uk.text.contains("<html lang=\"en-GB\">"));
    assert!(uk.text.contains("Sign out"), "in English still");
    let me = h.get("/api/v1/users").await;
    let ellen = me.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ellen@example.co.uk")
        .unwrap()
        .clone();
    assert_eq!(ellen["locale"], "en-GB");
    // Over the API the same choices, and nothing else.
    let r = h
        .patch(
            &format!("/api/v1/users/{}", ellen["id"].as_str().unwrap()),
            None,
            json!({"locale": "en-AU"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "locale");
}

pub async fn start_page_lists_records_opened_lately(h: H) {
    let nora = identity::user(&h, "nora@example.no", "user", None).await;
    let mut ids = Vec::new();
    for name in ["Ærø Skibsværft", "Müller & Söhne", "Núñez Hermanos"] {
        let r = h.post("/api/v1/records/company", json!({"name": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let mut b = identity::Browser::signed_in(&h, "nora@example.no").await;
    let home = b.get(&h, "/home").await;
    assert!(
        home.text.contains("You have not opened or changed any record yet."),
        "the empty list says what to do"
    );
    for id in &ids {
        h.clock.advance(chrono::Duration::minutes(1));
        assert_eq!(b.get(&h, &format!("/o/company/{id}")).await.status, StatusCode::OK);
        visit_noted(&h, "nora@example.no", id).await;
    }
    let home = b.get(&h, "/home").await;
    let recent = home.text.split("id=\"home-recent\"").nth(1).unwrap();
    let order: Vec<usize> = ["Núñez Hermanos", "Müller &#38; Söhne", "Ærø Skibsværft"]
        .iter()
        .map(|n| recent.find(n).unwrap_or_else(|| panic!("{n} not listed: {recent}")))
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "newest first: {recent}");
    assert!(recent.contains("Opened 11/23/2026"), "{recent}");
    // A deleted record is no longer listed; nor one the user may no longer see.
    let r = h
        .send(
            axum::http::Method::DELETE,
            &format!("/api/v1/records/company/{}", ids[2]),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = h
        .put(
            "/api/v1/access-policy",
            json!({"visibility": {"company": {"user": "own"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = h
        .post(
            "/api/v1/records/company",
            json!({"name": "Öberg Fastigheter", "owner": nora}),
        )
        .await;
    let mine = mine.body["id"].as_str().unwrap().to_string();
    h.clock.advance(chrono::Duration::minutes(1));
    b.get(&h, &format!("/o/company/{mine}")).await;
    visit_noted(&h, "nora@example.no", &mine).await;
    let home = b.get(&h, "/home").await;
    let recent = home
        .text
        .split("id=\"home-recent\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(recent.contains("Öberg Fastigheter"), "{recent}");
    for gone in ["Núñez Hermanos", "Müller", "Ærø"] {
        assert!(!recent.contains(gone), "{gone} is out of sight or deleted: {recent}");
    }
    // A record of an object archived since it was opened: the rest of the page stays.
    let r = h
        .post("/api/v1/objects", json!({"name": "vessel", "label": "Vessel"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let vessel = h.post("/api/v1/records/vessel", json!({"name": "MS Ærøsund"})).await;
    assert_eq!(vessel.status, StatusCode::CREATED, "{}", vessel.body);
    let vessel = vessel.body["id"].as_str().unwrap().to_string();
    h.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(b.get(&h, &format!("/o/vessel/{vessel}")).await.status, StatusCode::OK);
    visit_noted(&h, "nora@example.no", &vessel).await;
    assert!(b.get(&h, "/home").await.text.contains("MS Ærøsund"));
    let r = h.patch("/api/v1/objects/vessel", None, json!({"archived": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let home = b.get(&h, "/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.text.contains("MS Ærøsund") && home.text.contains("Öberg Fastigheter"),
        "{}",
        home.text
    );
    // Each user keeps their newest visits only.

    let store = h.instance.main();
    let user = store.user_by_email("nora@example.no").await.unwrap().unwrap();
    let record = anchora_core::RecordId(uuid::Uuid::parse_str(&mine).unwrap());
    for n in 0..60u128 {
        h.clock.advance(chrono::Duration::seconds(1));
        let other = anchora_core::RecordId(uuid::Uuid::from_u128(n + 1));
        store
            .note_visit(user.id, "company", other, anchora_core::Clock::now(&*h.clock))
            .await
            .unwrap();
    }
    let visits = store.recent_visits(user.id, 500).await.unwrap();
    assert_eq!(visits.len(), 50);
    assert!(
        visits.iter().all(|(_, id, _)| *id != record),
        "the oldest are forgotten"
    );
}

/// Wait for the record page's visit to be noted (it is written beside the page).
async fn visit_noted(h: &H, email: &str, id: &str) {
    let store = h.instance.main();
    let user = store.user_by_email(email).await.unwrap().unwrap();
    for _ in 0..200 {
        let visits = store.recent_visits(user.id, 100).await.unwrap();
        if visits.iter().any(|(_, r, _)| r.to_string() == id) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the visit of {id} was not noted");
}

/// The list's filter builder offers, per field, the operators core accepts for its type (it
/// offered `eq` and `ne` on multi-select fields, which every filter then refused, and never
/// `in_next`), and a filter made of each one it offers shows the list.
pub async fn the_filter_builder_offers_only_what_filters_accept(h: H) {
    let r = h
        .post(
            "/api/v1/objects/company/fields",
            json!({"name": "labels", "label": "Labels", "type": "multi_select",
            "choices": [{"value": "gold", "label": "Gold"}, {"value": "øst", "label": "Øst"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .post(
            "/api/v1/records/company",
            json!({"name": "Ærø Fisk ApS", "labels": ["øst"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    identity::user(&h, "kim@example.dk", "user", None).await;
    let mut b = identity::Browser::signed_in(&h, "kim@example.dk").await;
    let page = b.get(&h, "/o/company").await;
    assert_eq!(page.status, StatusCode::OK);
    let offered = |field: &str| -> Vec<String> {
        let marker = format!("<option value=\"{field}\" data-ops=\"");
        let at = page
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("{field} in the builder"))
            + marker.len();
        let end = page.text[at..].find('"').unwrap();
        page.text[at..at + end].split(' ').map(str::to_string).collect()
    };
    assert_eq!(offered("labels"), ["contains", "is_empty"]);
    assert!(offered("created_at").contains(&"in_next".to_string()));
    assert!(page.text.contains(">in the next (days)</option>"));
    for (field, value) in [
        ("labels", "øst"),
        ("name", "Ærø"),
        ("created_at", "2026-11-23T09:00:00Z"),
        ("owner", ""),
    ] {
        for op in offered(field) {
            let value = match op.as_str() {
                "is_empty" => "true",
                "in_last" | "in_next" => "7",
                _ => value,
            };
            if value.is_empty() {
                continue;
            }
            let query =
                [("ff", field), ("fo", op.as_str()), ("fv", value)].map(|(k, v)| (k.to_string(), v.to_string()));
            let url = format!("/o/company?{}", anchora_core::views::query_string(&query));
            let list = b.get(&h, &url).await;
            assert_eq!(list.status, StatusCode::OK, "{url}");
            assert!(!list.text.contains("class=\"error"), "{url} is refused:\n{}", list.text);
        }
    }
}
