//! Consent per purpose through the API and on a person's page: purposes, a consent recorded
//! with its source and shown with its date, withdrawn from the page, refused for what is not
//! a person, and the panel at 1280 and 1440 px.

use super::e2e::Browser;
use super::identity::{self, PASSWORD};
use super::*;

pub async fn consent_per_purpose_api_and_page(h: H) {
    let r = h
        .post(
            "/api/v1/consent-purposes",
            json!({"key": "newsletter", "name": "Nyhetsbrev", "description": "En gång i månaden"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .post(
            "/api/v1/consent-purposes",
            json!({"key": "newsletter", "name": "Again"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = h
        .post(
            "/api/v1/consent-purposes",
            json!({"key": "events", "name": "Events", "extra": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    h.post(
        "/api/v1/consent-purposes",
        json!({"key": "events", "name": "Evenemang"}),
    )
    .await;
    assert_eq!(
        h.get("/api/v1/consent-purposes").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let p = h
        .post(
            "/api/v1/records/person",
            json!({"first_name": "José", "last_name": "Núñez", "email": "jose@empresa.es"}),
        )
        .await;
    let id = p.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/records/person/{id}/consents");
    let r = h
        .post(
            &path,
            json!({"purpose": "newsletter", "state": "granted", "source": "formulario web"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["state"], "granted");
    let r = h
        .post(&path, json!({"purpose": "fishing", "state": "granted", "source": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "purpose");
    let c = h.get(&path).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.body["no_email"], false);
    assert_eq!(c.body["history"].as_array().unwrap().len(), 1);
    let company = h.post("/api/v1/records/company", json!({"name": "Empresa SL"})).await;
    let cid = company.body["id"].as_str().unwrap();
    let r = h.get(&format!("/api/v1/records/company/{cid}/consents")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.get(&format!("/api/v1/records/person/{}/consents", "not-an-id")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The page: the panel with both purposes; withdraw the newsletter, saying where from.
    identity::user(&h, "chief@example.se", "admin", None).await;
    let Some(mut b) = Browser::start(&h, &format!("consent-{}", h.backend())).await else {
        return;
    };
    b.login("chief@example.se", PASSWORD).await;
    b.go(&format!("/o/person/{id}")).await;
    b.wait_for("Subscriptions and consent").await;
    let row = b.css("li[data-purpose=newsletter]").await.text().await.unwrap();
    assert!(row.contains("Granted") && row.contains("formulario web"), "{row}");
    let row = b.css("li[data-purpose=events]").await.text().await.unwrap();
    assert!(row.contains("Not asked"), "{row}");
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        let overflow = b
            .driver
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(overflow.json().as_i64().unwrap_or(0) <= 0, "wider than {width} px");
        b.shot(&format!("consent-{width}")).await;
    }
    let source = b.css("li[data-purpose=newsletter] input[name=source]").await;
    source.send_keys("llamada").await.unwrap();
    b.css("li[data-purpose=newsletter] button").await.click().await.unwrap();
    b.wait_for("Withdrawn").await;
    let c = h.get(&path).await;
    assert_eq!(c.body["history"].as_array().unwrap().len(), 2);
    assert_eq!(c.body["history"][1]["source"], "llamada");
    assert_eq!(c.body["history"][1]["state"], "withdrawn");
    b.shot("consent-withdrawn").await;
    b.quit().await;
}
