//! The report builder in the browser: deals grouped by stage and owner, the sum of their
//! amounts as a pivot with a stacked chart, saved, opened again from the saved list, and a
//! cell followed to the deal list that shows exactly that cell's deals. Every page at 1280
//! and 1440 px fits its window.

use super::e2e::{Browser, fill};
use super::*;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn choose(b: &Browser, id: &str, value: &str) {
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

pub async fn browser_report_builder_two_groupings_save_and_drill(h: H) {
    let anna = identity::user(&h, "anna@example.se", "admin", None).await;
    let bo = identity::user(&h, "bo@example.se", "user", None).await;
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
                json!({"name": name, "stage": stage, "owner": owner, "amount": amount, "currency": "SEK"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let Some(mut b) = Browser::start(&h, &format!("report-builder-{}", h.backend())).await else {
        return;
    };
    b.login("anna@example.se", identity::PASSWORD).await;
    b.go("/reports").await;
    b.wait_for("id=\"report-form\"").await;
    choose(&b, "r-g1", "stage").await;
    choose(&b, "r-g2", "owner").await;
    choose(&b, "r-m", "sum").await;
    choose(&b, "r-mf", "amount").await;
    choose(&b, "r-chart", "stacked_bar").await;
    b.by_id("report-run").await.click().await.unwrap();
    b.wait_for("3,000.00").await;
    let page = b.source().await;
    // The pivot: stages down, owners across, totals both ways.
    for figure in ["3,500.00", "4,000.00", "7,000.00", "10,000.00", "4,500.00", "14,500.00"] {
        assert!(page.contains(figure), "{figure} missing");
    }
    assert!(page.contains(">anna<") && page.contains(">bo<"), "owners as columns");
    // The legend names the two owners, each drawn in the chart.
    let chart = b.css("svg.report-chart").await.inner_html().await.unwrap();
    assert_eq!(chart.matches("class=\"key\"").count(), 2, "{chart}");
    assert!(chart.contains("<rect class=\"c0\" x=\"200") && chart.contains("<rect class=\"c1\""));
    both_widths(&mut b, "report-pivot").await;
    let csv = b
        .fetch_text(&b.css("#report-csv").await.attr("href").await.unwrap().unwrap())
        .await;
    assert!(csv.contains("Lead") && csv.contains("14500"), "{csv}");

    // Saved, it is listed and opens with its choices.
    fill(&b, "report-name", "Pipeline by owner").await;
    b.by_id("report-save").await.click().await.unwrap();
    b.wait_for("Save changes to this report").await;
    let saved_url = b.driver.current_url().await.unwrap().to_string();
    assert!(saved_url.contains("/reports/0"), "{saved_url}");
    b.go("/reports").await;
    b.driver
        .find(By::LinkText("Pipeline by owner"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("3,000.00").await;
    let g2 = b.by_id("r-g2").await.value().await.unwrap();
    assert_eq!(g2.as_deref(), Some("owner"));
    both_widths(&mut b, "report-saved").await;

    // The cell of anna's leads opens the deal list with exactly those two.
    b.driver
        .find(By::XPath("//table[@id='report-table']//a[contains(., '3,000.00')]"))
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
    both_widths(&mut b, "report-drill").await;
    // Leaving the report's filter out shows every deal again.
    b.css("#report-filter-note a").await.click().await.unwrap();
    b.wait_for("Won A").await;
    assert!(!b.source().await.contains("report-filter-note"));

    // Deals by their company's city: offered under the relation, Malmö one city however
    // written, and its figure opens exactly its deals.
    for (company, city, deal) in [
        ("Ærø Shipping", "Malmö", "Ærø ferry"),
        ("Öberg AB", "MALMÖ", "Öberg steel"),
        ("Núñez SL", "Lund", "Núñez olives"),
    ] {
        let c = h
            .post("/api/v1/records/company", json!({"name": company, "city": city}))
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": deal, "stage": "lead", "company": c.body["id"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    b.go("/reports?object=deal&g1=stage").await;
    b.wait_for("id=\"report-form\"").await;
    let form = b.source().await;
    assert!(
        form.contains("<optgroup label=\"Company\">"),
        "related fields under their relation"
    );
    choose(&b, "r-g1", "company.city").await;
    choose(&b, "r-m", "count").await;
    choose(&b, "r-chart", "bar").await;
    b.by_id("report-run").await.click().await.unwrap();
    b.wait_for("<th scope=\"col\">Company › City</th>").await;
    b.driver
        .find(By::XPath("//table[@id='report-table']//tr[th[contains(., 'MALM')]]//a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("id=\"report-filter-note\"").await;
    let list = b.source().await;
    assert!(list.contains("Ærø ferry") && list.contains("Öberg steel"));
    for other in ["Núñez olives", "Won A", "Lead B"] {
        assert!(!list.contains(other), "{other} is not in Malmö");
    }
    b.quit().await;
    let _ = bo;
}
