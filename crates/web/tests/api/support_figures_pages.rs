//! The support figures page (issue 23): questions asked and solved per week, how fast each
//! level answers, breaches and the top categories, of what the reader may see — drawn at 1280
//! and 1440 px without overflowing, its span chosen by the reader.

use super::identity::{self, as_token, token_of};
use super::*;

pub async fn browser_support_figures_show_weeks_levels_and_categories(h: H) {
    let north = identity::team(&h, "North").await;
    identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    identity::user(&h, "anna@example.se", "user", Some(&north)).await;
    identity::user(&h, "ola@example.se", "user", None).await;
    let kim = token_of(&h, "kim@example.se", Scope::Write).await;
    let anna = token_of(&h, "anna@example.se", Scope::Write).await;
    let asks = [
        ("Export saknar Ærø-kunderna", "data"),
        ("Kan inte logga in efter lösenordsbyte", "access"),
        ("Hur delar jag en vy med Núñez-teamet?", "usage"),
        ("Dubbletter av Müller GmbH", "data"),
        ("Fel i prognosen för kvartalet", "error"),
    ];
    for (i, (subject, category)) in asks.iter().enumerate() {
        h.clock.advance(chrono::Duration::days(3));
        let r = as_token(
            &h,
            &anna,
            Method::POST,
            "/api/v1/support/questions",
            Some(json!({"subject": subject, "category": category})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        if i % 2 == 0 {
            h.clock.advance(chrono::Duration::hours(2));
            let number = r.body["number"].as_i64().unwrap();
            let r = as_token(
                &h,
                &kim,
                Method::POST,
                &format!("/api/v1/support/questions/{number}/events"),
                Some(json!({"kind": "reply", "body": "Prova så här."})),
            )
            .await;
            let version = r.body["version"].as_i64().unwrap();
            let r = as_token(
                &h,
                &kim,
                Method::POST,
                &format!("/api/v1/support/questions/{number}/status"),
                Some(json!({"version": version, "status": "resolved"})),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
    let Some(mut b) = super::e2e::Browser::start(&h, &format!("support-figures-{}", h.backend())).await else {
        return;
    };
    b.login("kim@example.se", identity::PASSWORD).await;
    b.go("/support").await;
    b.wait_for("id=\"support-figures\"").await;
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        b.go("/support/figures?weeks=4").await;
        b.wait_for("</main>").await;
        super::first_hour::fits(&b, "/support/figures", width).await;
        b.shot(&format!("figures-{width}")).await;
    }
    let sum = b.by_id("support-figures-sum").await.text().await.unwrap();
    assert!(sum.contains('5') && sum.contains('3'), "{sum}");
    let levels = b.by_id("support-figures-levels").await.text().await.unwrap();
    assert!(levels.contains("Key user") && levels.contains("2 h"), "{levels}");
    let categories = b.by_id("support-figures-categories").await.text().await.unwrap();
    assert!(categories.contains("data"), "{categories}");
    let weekly = b.by_id("support-figures-weekly").await.text().await.unwrap();
    assert!(
        weekly.contains("Asked") && weekly.contains("Solved"),
        "the legend names both: {weekly}"
    );

    // The same figures on a dashboard of the key user's own, beside the reports (point 7).
    b.go("/dashboards").await;
    super::e2e::fill(&b, "new-dashboard", "Support i norr").await;
    b.by_id("dashboard-create").await.click().await.unwrap();
    b.wait_for("id=\"add-support-form\"").await;
    let added = [
        ("asked", "1"),
        ("breaches", "1"),
        ("categories", "1"),
        ("weekly", "3"),
        ("levels", "2"),
    ];
    for (n, (figure, width)) in added.iter().enumerate() {
        super::dashboard_pages::choose(&b, "w-support", figure).await;
        super::dashboard_pages::choose(&b, "w-support-width", width).await;
        b.css("#add-support-form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        // The page after the post, not the one still showing: it holds the new widget.
        b.wait_for(&format!("id=\"widget-{n}\"")).await;
    }
    super::dashboard_pages::choose(&b, "d-period", "this_quarter").await;
    b.by_id("dashboard-show").await.click().await.unwrap();
    // The page for the quarter, not the month's still showing.
    b.wait_for("value=\"this_quarter\" selected").await;
    let asked = b.css("#widget-0 .dash-figure").await.text().await.unwrap();
    assert_eq!(asked.trim(), "5", "North's five questions this quarter");
    let change = b.css("#widget-0 .dash-change").await.text().await.unwrap();
    assert!(change.starts_with("Up"), "said in words: {change}");
    let title = b.css("#widget-0 h2").await.text().await.unwrap();
    assert_eq!(title, "Questions asked");
    let categories = b.css("#widget-2").await.text().await.unwrap();
    assert!(
        categories.contains("data") && categories.contains("usage"),
        "{categories}"
    );
    let weekly = b.css("#widget-3 svg").await.inner_html().await.unwrap();
    assert!(
        weekly.contains("Asked") && weekly.contains("Solved"),
        "the legend names both: {weekly}"
    );
    let levels = b.css("#widget-4 table").await.text().await.unwrap();
    assert!(levels.contains("Key user") && levels.contains("2 h"), "{levels}");
    b.by_id("dashboard-done").await.click().await.unwrap();
    b.wait_for("id=\"dashboard-edit\"").await;
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(&b, "/dashboards (support)", width).await;
        b.shot(&format!("dashboard-{width}")).await;
        b.driver
            .execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
            .await
            .unwrap();
        b.shot(&format!("dashboard-{width}-below")).await;
    }
    // Over the API: someone outside the chain counts none of them on a dashboard of their own;
    // the requester counts her five as "mine".
    let ola = token_of(&h, "ola@example.se", Scope::Write).await;
    for (token, scope, want) in [(&ola, "everyone", 0), (&anna, "me", 5)] {
        let made = as_token(
            &h,
            token,
            Method::POST,
            "/api/v1/dashboards",
            Some(json!({"name": "Frågor", "scope": scope, "widgets": [{"kind": "support", "figure": "asked"}]})),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let id = made.body["id"].as_str().unwrap();
        let run = as_token(
            &h,
            token,
            Method::GET,
            &format!("/api/v1/dashboards/{id}/view?period=this_quarter"),
            None,
        )
        .await;
        assert_eq!(run.status, StatusCode::OK, "{}", run.body);
        let weeks = run.body["widgets"][0]["figures"]["weeks"].as_array().unwrap();
        let asked: i64 = weeks.iter().map(|w| w["opened"].as_i64().unwrap()).sum();
        assert_eq!(asked, want, "{scope}: {}", run.body);
    }

    // Someone outside the chain sees figures of their own questions only: none.
    let mut ola = identity::Browser::default();
    ola.login(&h, "ola@example.se", identity::PASSWORD).await;
    let page = ola.get(&h, "/support/figures?weeks=4").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("data-figure=\"opened\"><span class=\"figure-value\">0<"),
        "{}",
        page.text
    );
    // A span the API refuses (422 there) is no page, as every page answers a bad address.
    let page = ola.get(&h, "/support/figures?weeks=500").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.text);
}
