//! Data quality in the app: the dashboard read from the kept days, the rules form, and each
//! user's fix list on "My work".

use super::H;
use super::e2e::{Browser, fill};
use super::identity::{self, PASSWORD};
use axum::http::StatusCode;
use serde_json::json;

/// A seller in a team with two records of their own (one thin, one nearly full), and a record
/// of the admin's; the first day's figures kept the day before.
async fn workspace(h: &H) -> (String, String) {
    let team = h.post("/api/v1/teams", json!({"name": "Nord"})).await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.body);
    let team = team.body["id"].as_str().unwrap().to_string();
    let seller = identity::user(h, "seller@example.se", "user", Some(&team)).await;
    identity::user(h, "chief@example.se", "admin", None).await;
    let thin = h
        .post("/api/v1/records/person", json!({"last_name": "Thin", "owner": seller}))
        .await;
    assert_eq!(thin.status, StatusCode::CREATED, "{}", thin.body);
    let full = json!({"first_name": "Ann", "last_name": "Full", "email": "ann@x.se",
                      "phone": "+46 8 123 456", "title": "CEO", "city": "Lund", "owner": seller});
    assert_eq!(h.post("/api/v1/records/person", full).await.status, StatusCode::CREATED);
    let own = json!({"last_name": "Admins", "email": "admins@x.se"});
    assert_eq!(h.post("/api/v1/records/person", own).await.status, StatusCode::CREATED);
    let kept = h.post("/api/v1/quality/person/snapshot", json!({})).await;
    assert_eq!(kept.status, StatusCode::ACCEPTED, "{}", kept.body);
    assert_eq!(crate::finished_job(h, &kept).await["state"], "succeeded");
    h.clock.advance(chrono::Duration::days(1));
    (seller, thin.body["id"].as_str().unwrap().to_string())
}

pub async fn quality_pages_refuse_forgeries_and_roles(h: H) {
    workspace(&h).await;
    let mut seller = identity::Browser::default();
    seller.login(&h, "seller@example.se", PASSWORD).await;
    // Everyone sees their own figures; only admins set the rules; only data stewards measure.
    let page = seller.get(&h, "/quality").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("id=\"quality-measure\"") && !page.text.contains("/quality/rules"));
    assert!(page.text.contains("Your own records"), "{}", page.text);
    assert_eq!(seller.get(&h, "/quality/rules").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        seller.get(&h, "/quality?object=nothing").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = seller.csrf(&h).await;
    let r = seller
        .form(&h, "/quality/measure", &[("csrf", &csrf), ("object", "person")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = seller
        .form(
            &h,
            "/quality/rules",
            &[("csrf", &csrf), ("stale_months", "6"), ("w.person.email", "9")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An admin's form without the session's token is refused too.
    let mut chief = identity::Browser::default();
    chief.login(&h, "chief@example.se", PASSWORD).await;
    let r = chief
        .form(&h, "/quality/rules", &[("csrf", "forged"), ("stale_months", "6")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = chief
        .form(&h, "/quality/measure", &[("csrf", "forged"), ("object", "person")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = chief.csrf(&h).await;
    // Wrong numbers, huge numbers, injection strings and unknown fields: each named, nothing saved.
    let r = chief
        .form(
            &h,
            "/quality/rules",
            &[
                ("csrf", &csrf),
                ("stale_months", "0"),
                ("w.person.email", "'; DROP TABLE person; --"),
                ("w.person.phone", "99999999999999999999"),
                ("w.person.city", "101"),
                ("w.person.shoe_size", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Nothing was saved"), "{}", r.text);
    assert_eq!(r.text.matches("must be a whole number from 0 to 100").count(), 3);
    assert!(r.text.contains("must be a whole number of months"));
    assert!(r.text.contains("DROP TABLE person"), "what was typed stays in the form");
    let r = chief
        .form(
            &h,
            "/quality/rules",
            &[("csrf", &csrf), ("stale_months", "6"), ("w.person.shoe_size", "3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("weights.person.shoe_size"), "{}", r.text);
    let rules = h.get("/api/v1/quality-rules").await.body;
    assert_eq!(rules["stale_months"], 12, "nothing saved: {rules}");
    assert_eq!(rules["weights"]["person"]["email"], 3);
    // Measuring an unknown object is a not-found, not a crash.
    let r = chief
        .form(&h, "/quality/measure", &[("csrf", &csrf), ("object", "nothing")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

pub async fn browser_quality_dashboard_rules_and_fix_list(h: H) {
    let (_, thin) = workspace(&h).await;
    // The thin record gets an e-mail the next day, so the trend rises.
    let r = h.get(&format!("/api/v1/records/person/{thin}")).await;
    let version = r.body["version"].to_string();
    let r = h
        .patch(
            &format!("/api/v1/records/person/{thin}"),
            Some(&format!("\"{version}\"")),
            json!({"email": "thin@x.se"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let Some(mut b) = Browser::start(&h, &format!("quality-{}", h.backend())).await else {
        return;
    };
    // A seller's "My work" lists their own records to fix, the worst first.
    b.login("seller@example.se", PASSWORD).await;
    b.go("/home").await;
    b.wait_for("My records to fix").await;
    let fixes = b.css("ul.fixes").await.text().await.unwrap();
    assert!(b.source().await.contains("2 of your records have something to fix"));
    let first = b.css("ul.fixes li").await.text().await.unwrap();
    assert!(first.starts_with("Thin"), "the worst first: {fixes}");
    assert!(
        first.contains("Missing: Company, Phone, City, First name, Job title"),
        "{first}"
    );
    assert!(!fixes.contains("Admins"), "only one's own records: {fixes}");
    b.shot("fix-list").await;
    b.css("ul.fixes li a").await.click().await.unwrap();
    b.css("a[href$='/edit']").await;
    assert!(b.driver.current_url().await.unwrap().as_str().ends_with(&thin));
    // Their dashboard: their own figures, kept yesterday; no measuring, no rules.
    b.go("/quality").await;
    b.wait_for("Your own records and your team").await;
    let page = b.source().await;
    assert!(page.contains("Measured on 11/23/2026."), "{page}");
    assert!(!page.contains("id=\"quality-measure\""));
    let records = b.css("[data-figure=records] .figure-value").await.text().await.unwrap();
    assert_eq!(records, "2");
    assert!(page.contains("Nord"), "their team's row");
    b.shot("quality-seller").await;

    // An admin measures today; the trend has two days, each owner and team a row.
    b.driver.delete_all_cookies().await.unwrap();
    b.login("chief@example.se", PASSWORD).await;
    b.go("/quality?object=person").await;
    b.wait_for("Measured on 11/23/2026. All records.").await;
    assert!(b.source().await.contains("One day kept so far"));
    b.by_id("quality-measure").await.click().await.unwrap();
    b.wait_for("Measured on 11/24/2026. All records.").await;
    let page = b.source().await;
    assert_eq!(
        b.css("[data-figure=records] .figure-value").await.text().await.unwrap(),
        "3"
    );
    let trend = page
        .split("class=\"line-chart\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert_eq!(trend.matches("<circle").count(), 4, "two days, two lines: {trend}");
    assert_eq!(trend.matches("<polyline").count(), 2);
    assert!(page.contains("class=\"report-chart\""), "the owners' bars");
    for name in ["seller", "Nord", "No team"] {
        assert!(page.contains(name), "{name}");
    }
    b.shot("quality-dashboard").await;
    let score_before = b.css("[data-figure=score] .figure-value").await.text().await.unwrap();

    // The rules: a mistake is named beside its field and nothing is saved; then e-mail alone counts.
    b.by_id("quality-rules").await.click().await.unwrap();
    b.wait_for("Weigh the fields").await;
    fill(&b, "stale-months", "24").await;
    let email = b.css("input[name='w.person.email']").await;
    email.clear().await.unwrap();
    email.send_keys("250").await.unwrap();
    b.by_id("rules-save").await.click().await.unwrap();
    b.wait_for("Nothing was saved").await;
    let email = b.css("input[name='w.person.email']").await;
    assert_eq!(email.value().await.unwrap().as_deref(), Some("250"));
    assert_eq!(email.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    b.shot("quality-rules-error").await;
    for field in ["phone", "company", "first_name", "title", "city"] {
        let input = b.css(&format!("input[name='w.person.{field}']")).await;
        input.clear().await.unwrap();
    }
    let email = b.css("input[name='w.person.email']").await;
    email.clear().await.unwrap();
    email.send_keys("5").await.unwrap();
    b.by_id("rules-save").await.click().await.unwrap();
    b.wait_for("Rules saved").await;
    b.shot("quality-rules").await;
    let rules = h.get("/api/v1/quality-rules").await.body;
    assert_eq!(rules["stale_months"], 24, "{rules}");
    assert_eq!(rules["weights"]["person"], json!({"email": 5}), "{rules}");
    // Measured again, every person has an e-mail: complete.
    b.go("/quality?object=person").await;
    b.by_id("quality-measure").await.click().await.unwrap();
    // The measuring runs as a job the page watches, then the page reloads; the axis says 100%
    // too, so watch the tile itself.
    let mut score_after = String::new();
    for _ in 0..300 {
        // The element may go stale as the page reloads under it.
        if let Ok(text) = b.css("[data-figure=score] .figure-value").await.text().await {
            score_after = text;
        }
        if score_after == "100%" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(score_before, score_after);
    assert_eq!(score_after, "100%");
    b.shot("quality-after-rules").await;
    b.quit().await;
}
