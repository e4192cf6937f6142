//! Issue 21 over HTTP: a report run from a spec, kept, run again, exported as CSV and XLSX,
//! refused naming the place of a mistake; the workspace's time zone set by administrators.

use super::H;
use super::identity::{self, as_token};
use anchora_core::auth::Scope;
use axum::http::{Method, StatusCode};
use serde_json::json;

pub async fn reports_run_save_export_and_refuse_by_name(h: H) {
    let team = identity::team(&h, "Väst").await;
    let seller = identity::user(&h, "säljare@example.se", "user", Some(&team)).await;
    for (name, stage, amount, owner) in [
        ("Åkesson AB", "won", "1200.50", &seller),
        ("Øster ApS", "won", "800.00", &seller),
        ("Núñez SL", "lead", "300.00", &seller),
    ] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "amount": amount, "currency": "SEK", "owner": owner}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let spec = json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "owner"}],
        "measure": {"func": "sum", "field": "amount"}, "chart": "stacked_bar"});
    let run = h.post("/api/v1/reports/run", spec.clone()).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(run.body["rows"][0]["value"], json!({"kind": "choice", "value": "lead"}));
    assert_eq!(run.body["columns"][0]["name"], "säljare");
    assert_eq!(run.body["total"]["count"], 3);
    assert_eq!(
        run.body["total"]["value"], 230_050.0,
        "minor units of the reporting currency"
    );

    let bad = h
        .post(
            "/api/v1/reports/run",
            json!({"object": "deal", "groups": [{"field": "amount"}], "measure": {"func": "max"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let places: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["groups[0].field", "measure.field"]);

    let saved = h
        .post("/api/v1/reports", json!({"name": "Vunnet per säljare", "spec": spec}))
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let id = saved.body["id"].as_str().unwrap().to_string();
    let result = h.get(&format!("/api/v1/reports/{id}/result")).await;
    assert_eq!(result.status, StatusCode::OK);
    assert_eq!(result.body["result"]["total"]["count"], 3);
    let csv = h.get(&format!("/api/v1/reports/{id}/export?format=csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap();
    assert!(text.contains("Won,") && text.contains("2000.5"), "{text}");
    let xlsx = h.get(&format!("/api/v1/reports/{id}/export?format=xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let wrong = h.get(&format!("/api/v1/reports/{id}/export?format=pdf")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);

    let stale = h
        .patch(
            &format!("/api/v1/reports/{id}"),
            None,
            json!({"version": 0, "name": "x"}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.body);
    assert_eq!(stale.body["current"]["name"], "Vunnet per säljare");

    // A seller sees neither the admin's personal report nor may set the time zone.
    let token = identity::token_of(&h, "säljare@example.se", Scope::Write).await;
    let theirs = as_token(&h, &token, Method::GET, &format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let zone = as_token(
        &h,
        &token,
        Method::PUT,
        "/api/v1/time-zone",
        Some(json!({"time_zone": "Europe/Stockholm"})),
    )
    .await;
    assert_eq!(zone.status, StatusCode::FORBIDDEN);
    let nowhere = h
        .put("/api/v1/time-zone", json!({"time_zone": "Europe/Atlantis"}))
        .await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nowhere.body["errors"][0]["field"], "time_zone");
    let set = h
        .put("/api/v1/time-zone", json!({"time_zone": "Europe/Copenhagen"}))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(h.get("/api/v1/time-zone").await.body["time_zone"], "Europe/Copenhagen");

    let gone = h
        .send(
            Method::DELETE,
            &format!("/api/v1/reports/{id}"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get(&format!("/api/v1/reports/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

pub async fn forecast_and_quotas_over_http(h: H) {
    let seller = identity::user(&h, "nils@example.se", "user", None).await;
    for (name, stage, amount) in [
        ("Ärlig affär", "negotiation", "1000.00"),
        ("Öppen", "proposal", "500.00"),
    ] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "amount": amount, "currency": "SEK",
                    "expected_close": "2026-12-15", "owner": seller}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let q = h
        .put(
            "/api/v1/quotas",
            json!({"user": seller, "bucket": "quarter", "period_start": "2026-10-01", "amount": "3000.00", "currency": "SEK"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let again = h
        .put(
            "/api/v1/quotas",
            json!({"user": seller, "bucket": "quarter", "period_start": "2026-10-01", "amount": "2000.00", "currency": "SEK"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let list = h.get("/api/v1/quotas?bucket=quarter&from=2026-10-01").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1, "replaced, not added");
    assert_eq!(list.body["data"][0]["amount"], 200_000);
    let f = h
        .get(&format!("/api/v1/forecast?bucket=quarter&periods=2&owner={seller}"))
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    assert_eq!(f.body["periods"][0]["key"], "2026-Q4");
    assert_eq!(f.body["periods"][0]["commit"], 100_000.0);
    assert_eq!(f.body["periods"][0]["best_case"], 50_000.0);
    assert_eq!(f.body["periods"][0]["quota"], 200_000.0);
    let bad = h.get("/api/v1/forecast?bucket=week&periods=0").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "bucket");
    let token = identity::token_of(&h, "nils@example.se", Scope::Write).await;
    let refused = as_token(
        &h,
        &token,
        Method::PUT,
        "/api/v1/quotas",
        Some(json!({"user": seller, "bucket": "quarter", "period_start": "2026-10-01", "amount": "1.00", "currency": "SEK"})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let id = list.body["data"][0]["id"].as_str().unwrap().to_string();
    let gone = h
        .send(
            Method::DELETE,
            &format!("/api/v1/quotas/{id}"),
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
}

/// A report grouped by a related record's field (`company.city`) over HTTP: its groups, the
/// filter of each listing exactly its deals through the records endpoint, and a mistake in the
/// related field named by its place.
pub async fn reports_group_by_a_related_records_field_over_http(h: H) {
    let mut ids = Vec::new();
    for (name, city) in [
        ("Ærø Shipping", "Malmö"),
        ("Müller GmbH", "MALMÖ"),
        ("Núñez SL", "Lund"),
    ] {
        let r = h
            .post("/api/v1/records/company", json!({"name": name, "city": city}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for (name, company) in [
        ("Öberg ferry", Some(&ids[0])),
        ("Müller beer", Some(&ids[1])),
        ("Núñez olives", Some(&ids[2])),
        ("Nobody's", None),
    ] {
        let mut body = json!({"name": name, "stage": "lead"});
        if let Some(c) = company {
            body["company"] = json!(c);
        }
        let r = h.post("/api/v1/records/deal", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let run = h
        .post(
            "/api/v1/reports/run",
            json!({"object": "deal", "groups": [{"field": "company.city"}]}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let rows = run.body["rows"].as_array().unwrap();
    let counts: Vec<i64> = rows.iter().map(|r| r["figures"]["count"].as_i64().unwrap()).collect();
    assert_eq!(counts, [1, 2, 1], "Lund, Malmö however written, none");
    assert_eq!(rows[1]["value"]["kind"], "text");
    assert_eq!(rows[2]["value"], json!({"kind": "none"}));
    assert_eq!(rows[1]["filter"]["field"], "company.city");
    for (row, expected) in [(1, 2), (2, 1)] {
        let filter = rows[row]["filter"].to_string();
        let listed = h
            .get(&format!("/api/v1/records/deal?filter={}", super::enc(&filter)))
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body["data"].as_array().unwrap().len(), expected, "{filter}");
    }

    let bad = h
        .post(
            "/api/v1/reports/run",
            json!({"object": "deal", "groups": [{"field": "company.nope"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.body["errors"][0]["field"], "groups[0].field");
    assert!(
        bad.body["errors"][0]["message"].as_str().unwrap().contains("company"),
        "{}",
        bad.body
    );
}
