//! Dashboards in the browser (issue 21's acceptance): a two-grouping report built and saved,
//! added to a new dashboard from the report's page, a figure added on the dashboard, its chart
//! and figures shown, and a cell followed to the deal list that shows exactly that cell's
//! deals. Every page at 1280 and 1440 px fits its window.

use super::e2e::{Browser, fill};
use super::*;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

pub async fn choose(b: &Browser, id: &str, value: &str) {
    SelectElement::new(&b.by_id(id).await)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

pub async fn browser_dashboard_shows_a_saved_report_and_drills(h: H) {
    let anna = identity::user(&h, "anna@example.se", "admin", None).await;
    let bo = identity::user(&h, "bo@example.se", "user", None).await;
    let today = anchora_core::Clock::now(&*h.clock).date_naive().to_string();
    for (name, stage, owner, amount) in [
        ("Lead A one", "lead", &anna, "1000.00"),
        ("Lead A two", "lead", &anna, "2000.00"),
        ("Lead B", "lead", &bo, "500.00"),
        ("Proposal B", "proposal", &bo, "4000.00"),
        ("Won A", "won", &anna, "7000.00"),
    ] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "owner": owner, "amount": amount, "currency": "SEK",
                    "expected_close": today}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let Some(mut b) = Browser::start(&h, &format!("dashboard-{}", h.backend())).await else {
        return;
    };
    b.login("anna@example.se", identity::PASSWORD).await;
    // No dashboard yet: the page says what one is for and offers to make one.
    b.go("/dashboards").await;
    b.wait_for("id=\"dashboards-empty\"").await;

    b.go("/reports").await;
    b.wait_for("id=\"report-form\"").await;
    choose(&b, "r-g1", "stage").await;
    choose(&b, "r-g2", "owner").await;
    choose(&b, "r-m", "sum").await;
    choose(&b, "r-mf", "amount").await;
    choose(&b, "r-chart", "stacked_bar").await;
    b.by_id("report-run").await.click().await.unwrap();
    b.wait_for("3,000.00").await;
    fill(&b, "report-name", "Pipeline by owner").await;
    b.by_id("report-save").await.click().await.unwrap();
    b.wait_for("Save changes to this report").await;

    // Added from the report's page to a new dashboard.
    choose(&b, "add-dashboard", "").await;
    fill(&b, "add-dashboard-name", "Sales week").await;
    b.by_id("add-to-dashboard").await.click().await.unwrap();
    b.wait_for("id=\"widget-0\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(url.contains("/dashboards/0"), "{url}");
    let page = b.source().await;
    assert!(page.contains("Sales week") && page.contains("Pipeline by owner"));
    for figure in ["3,000.00", "4,500.00", "14,500.00"] {
        assert!(page.contains(figure), "{figure} missing");
    }
    // The chart's legend names the two owners, each drawn.
    let chart = b.css("#widget-0 svg.report-chart").await.inner_html().await.unwrap();
    assert_eq!(chart.matches("class=\"key\"").count(), 2, "{chart}");
    assert!(chart.contains("<rect class=\"c0\"") && chart.contains("<rect class=\"c1\""));

    // A figure: the won amount this month, beside last month's.
    b.by_id("dashboard-edit").await.click().await.unwrap();
    b.wait_for("id=\"add-figure-form\"").await;
    fill(&b, "w-title", "Won this month").await;
    choose(&b, "w-func", "sum").await;
    choose(&b, "w-mf", "amount").await;
    choose(&b, "w-date", "expected_close").await;
    let form = b.by_id("add-figure-form").await;
    let field = form.find(By::Css("select[name=ff]")).await.unwrap();
    SelectElement::new(&field)
        .await
        .unwrap()
        .select_by_value("stage")
        .await
        .unwrap();
    let op = form.find(By::Css("select[name=fo]")).await.unwrap();
    SelectElement::new(&op)
        .await
        .unwrap()
        .select_by_value("eq")
        .await
        .unwrap();
    form.find(By::Css("input[name=fv]"))
        .await
        .unwrap()
        .send_keys("won")
        .await
        .unwrap();
    form.find(By::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("id=\"widget-1\"").await;
    let figure = b.css("#widget-1 .dash-figure").await.text().await.unwrap();
    assert!(figure.contains("7,000.00"), "{figure}");
    let change = b.css("#widget-1 .dash-change").await.text().await.unwrap();
    assert!(change.starts_with("Up"), "said in words, not colour alone: {change}");
    both_widths(&mut b, "dashboard-editing").await;
    b.by_id("dashboard-done").await.click().await.unwrap();
    b.wait_for("id=\"dashboard-edit\"").await;
    both_widths(&mut b, "dashboard").await;

    // The cell of anna's leads opens the deal list with exactly those two.
    b.driver
        .find(By::XPath(
            "//section[@id='widget-0']//table//a[contains(., '3,000.00')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("id=\"report-filter-note\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(url.contains("/o/deal?filter="), "{url}");
    let list = b.source().await;
    assert!(list.contains("Lead A one") && list.contains("Lead A two"), "{url}");
    for other in ["Lead B", "Proposal B", "Won A"] {
        assert!(!list.contains(other), "{other} is not in the cell");
    }
    both_widths(&mut b, "dashboard-drill").await;
    b.quit().await;
}
