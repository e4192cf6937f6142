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
        super::first_hour::fits(&b, "the page", width).await;
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

/// The public unsubscribe page and RFC 8058 one-click, with a link signed for one person and
/// purpose: nothing without the whole signature, the page in the reader's language, the
/// choice kept with its source and no user behind it.
pub async fn unsubscribe_links_opt_out_per_purpose(h: H) {
    for (key, name) in [("newsletter", "Nyhetsbrev"), ("events", "Evenemang")] {
        h.post("/api/v1/consent-purposes", json!({"key": key, "name": name}))
            .await;
    }
    let p = h
        .post(
            "/api/v1/records/person",
            json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa.oberg@firma.se"}),
        )
        .await;
    let id = p.body["id"].as_str().unwrap().to_string();
    let consents = format!("/api/v1/records/person/{id}/consents");
    for purpose in ["newsletter", "events"] {
        h.post(
            &consents,
            json!({"purpose": purpose, "state": "granted", "source": "web form"}),
        )
        .await;
    }
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let person = anchora_core::RecordId::parse(&id).unwrap();
    let token = crm.unsubscribe_token(person, "newsletter").await.unwrap();
    let link = format!("/u/main/{token}");
    // The page, in Swedish for a Swedish reader: the address masked, both purposes offered.
    let mut reader = identity::Browser::default();
    let page = reader.get(&h, &format!("{link}?lang=sv")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("a…@firma.se") && !page.text.contains("asa.oberg"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Nyhetsbrev") && page.text.contains("Evenemang"));
    assert!(page.text.contains("Avsluta prenumeration"), "{}", page.text);
    // The same page in a browser, at both widths, without signing in.
    if let Some(mut b) = Browser::start(&h, &format!("unsubscribe-{}", h.backend())).await {
        for width in [1280, 1440] {
            b.driver.set_window_rect(0, 0, width, 860).await.unwrap();
            b.go(&format!("{link}?lang=de")).await;
            b.wait_for("Abbestellen").await;
            super::first_hour::fits(&b, "the unsubscribe page", width).await;
            b.shot(&format!("page-{width}")).await;
        }
        b.quit().await;
    }
    // A link with its signature changed, cut short, or for a purpose it was not signed for: nothing.
    let (payload, signature) = token.split_once('.').unwrap();
    let mut flipped = signature.to_string();
    flipped.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
    let other = crm.unsubscribe_token(person, "events").await.unwrap();
    let (_, other_signature) = other.split_once('.').unwrap();
    for bad in [
        format!("{payload}.{flipped}"),
        format!("{payload}.{}", &signature[..4]),
        format!("{payload}.{other_signature}"),
        "nonsense".to_string(),
    ] {
        let page = reader.get(&h, &format!("/u/main/{bad}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(
        reader.get(&h, &format!("/u/nowhere/{token}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The page's form needs its token; then it withdraws what was ticked.
    let forged = reader
        .form(&h, &link, &[("csrf", "forged"), ("purpose", "events")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A mail program's one-click POST: the link's own purpose, nothing asked, no cookie.
    let mut mail_program = identity::Browser::default();
    let r = mail_program.form(&h, &link, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let now = h.get(&consents).await.body;
    let last = &now["history"][2];
    assert_eq!(
        (
            last["purpose"].as_str(),
            last["state"].as_str(),
            last["source"].as_str()
        ),
        (Some("newsletter"), Some("withdrawn"), Some("one-click unsubscribe"))
    );
    assert!(last["by"].is_null(), "the person themselves: {last}");
    // Back on the page, only events is left; unsubscribing from it too.
    let page = reader.get(&h, &link).await;
    assert!(!page.text.contains("Nyhetsbrev") && page.text.contains("Evenemang"));
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).unwrap() + marker.len();
    let csrf = page.text[start..].split('"').next().unwrap().to_string();
    let done = reader.form(&h, &link, &[("csrf", &csrf), ("purpose", "events")]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.text.contains("unsub-done"), "{}", done.text);
    let now = h.get(&consents).await.body;
    assert_eq!(now["history"].as_array().unwrap().len(), 4);
    assert_eq!(now["history"][3]["source"], "unsubscribe page");
    assert!(
        now["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["consent"]["state"] == "withdrawn")
    );
}

/// Selections through the API: counted as built, kept, members listed, picked in and out,
/// not deleted while another names them.
pub async fn selections_through_the_api(h: H) {
    let mut ids = Vec::new();
    for (first, last, city) in [
        ("Åsa", "Öberg", "Malmö"),
        ("Jürgen", "Müller", "München"),
        ("Ærø", "Søren", "Malmö"),
    ] {
        let p = h
            .post(
                "/api/v1/records/person",
                json!({"first_name": first, "last_name": last, "city": city}),
            )
            .await;
        ids.push(p.body["id"].as_str().unwrap().to_string());
    }
    let malmo = json!({"name": "Malmö", "object": "person", "filter": {"field": "city", "op": "eq", "value": "MALMÖ"}});
    let r = h.post("/api/v1/selections/preview", malmo.clone()).await;
    assert_eq!(
        (r.status, r.body["count"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{}",
        r.body
    );
    let r = h.post("/api/v1/selections", malmo).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let city = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .post(
            "/api/v1/selections",
            json!({"name": "Not Åsa", "object": "person", "members": [ids[0]]}),
        )
        .await;
    let suppress = r.body["id"].as_str().unwrap().to_string();
    let r = h
        .post(
            "/api/v1/selections",
            json!({"name": "Mailing", "object": "person", "include": [city], "exclude": [suppress]}),
        )
        .await;
    assert_eq!(r.body["count"], 1, "{}", r.body);
    let mailing = r.body["id"].as_str().unwrap().to_string();
    let m = h.get(&format!("/api/v1/selections/{mailing}/members")).await;
    assert_eq!(m.body["data"], json!([ids[2]]));
    let r = h
        .post(
            &format!("/api/v1/selections/{suppress}/members/remove"),
            json!({"records": [ids[0]]}),
        )
        .await;
    assert_eq!(r.body["count"], 0);
    assert_eq!(h.get(&format!("/api/v1/selections/{mailing}")).await.body["count"], 2);
    let r = h
        .post(
            "/api/v1/selections",
            json!({"name": "x", "object": "person", "filter": {"field": "shoe", "op": "eq", "value": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h
        .post(
            "/api/v1/selections",
            json!({"name": "x", "object": "person", "colour": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .send(
            Method::DELETE,
            &format!("/api/v1/selections/{suppress}"),
            Some(&h.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        h.get("/api/v1/selections").await.body["data"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        h.get("/api/v1/selections/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
}
