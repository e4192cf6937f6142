//! Issue 21, point 2 over HTTP: a dashboard kept, listed, viewed for a period and a scope,
//! found as a role's default, changed at its version (412 when stale), refused naming the
//! place of a mistake, and deleted.

use super::H;
use super::identity::{self, as_token};
use anchora_core::auth::Scope;
use axum::http::{Method, StatusCode};
use serde_json::json;

pub async fn dashboards_round_trip_with_their_statuses(h: H) {
    let team = identity::team(&h, "Väst").await;
    let seller = identity::user(&h, "säljare@example.se", "user", Some(&team)).await;
    let today = anchora_core::Clock::now(&*h.clock).date_naive().to_string();
    for (name, stage, amount) in [("Åkesson AB", "won", "1200.50"), ("Núñez SL", "lead", "300.00")] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "amount": amount, "currency": "SEK", "owner": seller,
                    "expected_close": today}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let report = h
        .post(
            "/api/v1/reports",
            json!({"name": "Deals by stage", "shared": true, "spec": {"object": "deal", "groups": [{"field": "stage"}]}}),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.body);
    let report_id = report.body["id"].as_str().unwrap().to_string();
    let widgets = json!([
        {"kind": "report", "report": report_id, "date_field": "expected_close", "width": 2},
        {"kind": "figure", "title": "Won", "object": "deal", "filter": {"field": "stage", "op": "eq", "value": "won"},
            "measure": {"func": "sum", "field": "amount"}, "date_field": "expected_close", "lower_is_better": false},
    ]);

    let bad = h
        .post(
            "/api/v1/dashboards",
            json!({"name": "Sales", "widgets": [{"kind": "report", "report": report_id}, {"kind": "figure", "title": "x", "object": "deal", "date_field": "stage"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.body["errors"][0]["field"], "widgets[1].date_field");
    let unknown = h
        .post("/api/v1/dashboards", json!({"name": "Sales", "colour": "red"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);

    let made = h
        .post("/api/v1/dashboards", json!({"name": "Sales", "widgets": widgets}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["version"], 1);
    assert_eq!(made.body["may_change"], true);
    let list = h.get("/api/v1/dashboards").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["data"][0]["name"], "Sales");
    assert_eq!(h.get(&format!("/api/v1/dashboards/{id}")).await.status, StatusCode::OK);

    let view = h
        .get(&format!(
            "/api/v1/dashboards/{id}/view?period=this_month&scope=everyone"
        ))
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.body["widgets"][0]["kind"], "report");
    assert_eq!(view.body["widgets"][0]["result"]["total"]["count"], 2);
    assert_eq!(view.body["widgets"][1]["kind"], "figure");
    assert_eq!(view.body["widgets"][1]["current"]["value"], 120_050.0);
    assert_eq!(view.body["widgets"][1]["previous"]["count"], 0);
    assert_eq!(view.body["widgets"][1]["lower_is_better"], false);
    assert!(
        made.body["widgets"][1].get("lower_is_better").is_none(),
        "kept only when a fall is good news"
    );
    let mine = h.get(&format!("/api/v1/dashboards/{id}/view?scope=me")).await;
    assert_eq!(
        mine.body["widgets"][1]["current"]["count"], 0,
        "the administrator owns none"
    );
    let wrong = h.get(&format!("/api/v1/dashboards/{id}/view?period=fortnight")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["errors"][0]["field"], "period");
    let home = h.get("/api/v1/dashboards/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.body["dashboard"]["id"], id.as_str());

    // The seller has none until it is shared with users.
    let token = identity::token_of(&h, "säljare@example.se", Scope::Write).await;
    let none = as_token(&h, &token, Method::GET, "/api/v1/dashboards/home", None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
    let theirs = as_token(&h, &token, Method::GET, &format!("/api/v1/dashboards/{id}"), None).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let shared = h
        .patch(
            &format!("/api/v1/dashboards/{id}"),
            None,
            json!({"version": 1, "shared": true, "audience": ["user"]}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    let home = as_token(&h, &token, Method::GET, "/api/v1/dashboards/home?scope=me", None).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert_eq!(home.body["widgets"][1]["current"]["count"], 1);
    let refused = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/dashboards/{id}"),
        Some(json!({"version": 2, "name": "Mine"})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // In the app: the seller's default dashboard, a private report's widget unavailable and
    // unnamed, no editing, and no change without the form's token.
    let private = h
        .post(
            "/api/v1/reports",
            json!({"name": "Admin's private report", "spec": {"object": "deal", "groups": [{"field": "owner"}]}}),
        )
        .await;
    let mut more = made.body["widgets"].as_array().unwrap().clone();
    more.push(json!({"kind": "report", "report": private.body["id"]}));
    // A support figure among them, its title null as the contract allows; a figure it does not
    // know is refused by its place.
    let unknown_figure = h
        .patch(
            &format!("/api/v1/dashboards/{id}"),
            None,
            json!({"version": 2, "widgets": [{"kind": "support", "figure": "tickets"}]}),
        )
        .await;
    assert_eq!(
        unknown_figure.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown_figure.body
    );
    assert!(
        unknown_figure.body["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("widgets[0]"),
        "{}",
        unknown_figure.body
    );
    more.push(json!({"kind": "support", "figure": "weekly", "title": null, "width": 3}));
    let changed = h
        .patch(
            &format!("/api/v1/dashboards/{id}"),
            None,
            json!({"version": 2, "widgets": more}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let mut seller_app = identity::Browser::default();
    seller_app.login(&h, "säljare@example.se", identity::PASSWORD).await;
    let page = seller_app.get(&h, "/dashboards").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("dash-kind-support") && page.text.contains("Questions asked and solved per week"),
        "the support figure, of the seller's questions: {}",
        page.text
    );
    assert!(
        page.text.contains("Sales") && page.text.contains("Deals by stage"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Not available"));
    assert!(!page.text.contains("Admin&#39;s private report") && !page.text.contains("private report"));
    assert!(
        !page.text.contains("id=\"dashboard-edit\""),
        "a user may not change a shared dashboard"
    );
    let forged = seller_app
        .form(&h, &format!("/dashboards/{id}/delete"), &[("csrf", "nope")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(h.get(&format!("/api/v1/dashboards/{id}")).await.status, StatusCode::OK);

    let stale = h
        .patch(
            &format!("/api/v1/dashboards/{id}"),
            None,
            json!({"version": 1, "name": "x"}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.body);
    assert_eq!(stale.body["current"]["version"], 3);
    let gone = h
        .send(
            Method::DELETE,
            &format!("/api/v1/dashboards/{id}"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get(&format!("/api/v1/dashboards/{id}/view")).await.status,
        StatusCode::NOT_FOUND
    );
}
