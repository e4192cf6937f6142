//! The forecast page in the browser: deals in each forecast category this quarter (the
//! harness's clock stands in November 2026), the period table's figures, the owners' table,
//! the warning about a currency without a rate, wrong parameters named on the page, and a
//! quota set through the form with its attainment. Every page at 1280 and 1440 px fits its
//! window.

use super::e2e::{Browser, fill};
use super::*;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

/// The cells of the period table's row for a period, as shown.
async fn period_row(b: &Browser, period: &str) -> Vec<String> {
    let row = b
        .driver
        .find(By::XPath(format!(
            "//table[@id='forecast-periods']//tr[th[normalize-space()='{period}']]"
        )))
        .await
        .unwrap();
    let mut out = Vec::new();
    for td in row.find_all(By::Tag("td")).await.unwrap() {
        out.push(td.text().await.unwrap().replace('\u{a0}', " "));
    }
    out
}

pub async fn browser_forecast_page_shows_periods_owners_and_quota(h: H) {
    let zone = h
        .put("/api/v1/time-zone", json!({"time_zone": "Europe/Stockholm"}))
        .await;
    assert_eq!(zone.status, StatusCode::OK, "{}", zone.body);
    let anna = identity::user(&h, "anna@example.se", "admin", None).await;
    let bo = identity::user(&h, "bo@example.se", "user", None).await;
    let mut ids = Vec::new();
    for (name, stage, owner, amount, currency, close) in [
        ("Negotiation A", "negotiation", &anna, "10000.00", "SEK", "2026-12-10"),
        ("Proposal B", "proposal", &bo, "4000.00", "SEK", "2026-11-30"),
        ("Won A", "won", &anna, "7000.00", "SEK", "2026-11-05"),
        ("Lost B", "lost", &bo, "3000.00", "SEK", "2026-11-10"),
        ("Lead A", "lead", &anna, "2000.00", "SEK", "2026-12-20"),
        ("Euro deal", "negotiation", &bo, "500.00", "EUR", "2026-12-01"),
        ("Next quarter", "proposal", &anna, "1000.00", "SEK", "2027-02-01"),
    ] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "owner": owner, "amount": amount,
                    "currency": currency, "expected_close": close}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    // The proposal's close date moves later once: a push.
    let path = format!("/api/v1/records/deal/{}", ids[1]);
    let etag = h.get(&path).await.headers["etag"].to_str().unwrap().to_string();
    let moved = h
        .patch(&path, Some(&etag), json!({"expected_close": "2026-12-15"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);

    let Some(mut b) = Browser::start(&h, &format!("forecast-{}", h.backend())).await else {
        return;
    };
    b.login("anna@example.se", identity::PASSWORD).await;
    b.go("/forecast").await;
    b.wait_for("id=\"forecast-periods\"").await;
    let page = b.source().await;
    assert!(page.contains("href=\"/forecast\""), "the sidebar links the forecast");
    // This quarter: closed 7,000, commit 10,000, best case 4,000, pipeline 2,000; weighted by
    // the stages' probabilities (75 %, 50 %, 10 %); no quota yet; three open deals.
    let q4 = period_row(&b, "2026-Q4").await;
    assert_eq!(
        q4,
        [
            "SEK 7,000.00",
            "SEK 10,000.00",
            "SEK 4,000.00",
            "SEK 2,000.00",
            "SEK 9,700.00",
            "–",
            "–",
            "3"
        ],
        "{q4:?}"
    );
    let q1 = period_row(&b, "2027-Q1").await;
    assert_eq!(q1.get(2).map(String::as_str), Some("SEK 1,000.00"), "{q1:?}");
    // The euro deal has no rate: the warning names the currency and where to add the rate.
    let warning = b.by_id("forecast-warning").await.text().await.unwrap();
    assert!(
        warning.contains("EUR") && warning.contains("Admin › Currencies"),
        "{warning}"
    );
    // The chart's legend names what it draws: four bands and the weighted mark (no quota yet).
    let chart = b.css(".forecast-chart svg").await.inner_html().await.unwrap();
    assert_eq!(chart.matches("class=\"key\"").count(), 5, "{chart}");
    assert!(!chart.contains(">Quota<"), "no quota drawn, none named");
    // The owners of this quarter, the history and the pushed close date.
    let owners = b.by_id("forecast-owners").await.text().await.unwrap();
    assert!(owners.contains("anna") && owners.contains("bo"), "{owners}");
    let pushed = b.by_id("forecast-pushed").await.inner_html().await.unwrap();
    assert!(
        pushed.contains(&format!("/o/deal/{}", ids[1])) && pushed.contains("pushed once"),
        "{pushed}"
    );
    assert!(b.source().await.contains("id=\"forecast-accuracy-none\""));
    both_widths(&mut b, "forecast").await;

    // A quota for anna this quarter through the form: attainment 7,000 of 14,000.
    SelectElement::new(&b.by_id("q-target").await)
        .await
        .unwrap()
        .select_by_value(&format!("user:{anna}"))
        .await
        .unwrap();
    fill(&b, "q-amount", "14000").await;
    b.by_id("quota-save").await.click().await.unwrap();
    b.wait_for("id=\"forecast-quotas\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(
        url.ends_with("/forecast"),
        "back to the forecast it was set from: {url}"
    );
    let q4 = period_row(&b, "2026-Q4").await;
    assert_eq!(q4.get(5).map(String::as_str), Some("SEK 14,000.00"), "{q4:?}");
    assert_eq!(q4.get(6).map(String::as_str), Some("50%"), "{q4:?}");
    let chart = b.css(".forecast-chart svg").await.inner_html().await.unwrap();
    assert!(
        chart.contains(">Quota<") && chart.contains("class=\"mark quota\""),
        "{chart}"
    );
    let owners = b.by_id("forecast-owners").await.text().await.unwrap();
    assert!(owners.contains("50%"), "anna's attainment: {owners}");
    both_widths(&mut b, "forecast-quota").await;
    // The sections below the fold, as they look.
    for section in ["h-owners", "h-history", "h-accuracy"] {
        b.driver
            .execute(
                "document.getElementById(arguments[0]).scrollIntoView();",
                vec![json!(section)],
            )
            .await
            .unwrap();
        b.shot(&format!("forecast-{section}")).await;
    }

    // One owner, by month: bo's deals only.
    b.go(&format!("/forecast?bucket=month&periods=3&whose=owner:{bo}"))
        .await;
    b.wait_for("id=\"forecast-periods\"").await;
    let dec = period_row(&b, "Dec 2026").await;
    assert_eq!(dec.get(2).map(String::as_str), Some("SEK 4,000.00"), "{dec:?}");
    both_widths(&mut b, "forecast-owner-month").await;

    // Wrong parameters are named on the page, not a failure.
    b.go("/forecast?bucket=week&periods=9").await;
    b.wait_for("Per: choose month or quarter.").await;
    assert!(b.source().await.contains("Periods: choose a whole number from 1 to 8."));
    both_widths(&mut b, "forecast-wrong").await;

    // A refused amount says why, on the forecast.
    b.go("/forecast").await;
    b.wait_for("id=\"quota-form\"").await;
    fill(&b, "q-amount", "lots").await;
    b.by_id("quota-save").await.click().await.unwrap();
    b.wait_for("id=\"forecast-notice\"").await;
    assert!(b.source().await.contains("Amount: write an amount such as 250000.00"));
    b.quit().await;
}
