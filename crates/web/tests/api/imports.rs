//! Imports and exports over the API and in the browser, with hostile files.

use super::e2e::Browser;
use super::identity::{self, as_token, token_of};
use super::{H, Reply};
use anchora_core::auth::Scope;
use axum::http::{Method, StatusCode};
use serde_json::{Value as Json, json};

const BOUNDARY: &str = "anchoraTestBoundary7MA4YWxkTrZu0gW";

fn multipart(object: Option<&str>, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(o) = object {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"object\"\r\n\r\n{o}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn upload_as(h: &H, token: &str, object: Option<&str>, file_name: &str, bytes: &[u8]) -> Reply {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    h.send(
        Method::POST,
        "/api/v1/imports",
        Some(token),
        &[("content-type", ct.as_str())],
        Some(multipart(object, file_name, bytes)),
    )
    .await
}

async fn upload(h: &H, object: Option<&str>, file_name: &str, bytes: &[u8]) -> Reply {
    upload_as(h, &h.admin.clone(), object, file_name, bytes).await
}

/// Wait for a background import to finish (it runs on the test's runtime).
async fn finished(h: &H, id: &str) -> Json {
    for _ in 0..400 {
        let r = h.get(&format!("/api/v1/imports/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if matches!(r.body["status"].as_str(), Some("done" | "failed")) {
            assert!(r.body["likely_duplicates"]["total"].is_u64(), "{}", r.body);
            assert!(r.body["likely_duplicates"]["rows"].is_array());
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import {id} did not finish");
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

pub async fn text_of(h: &H, path: &str) -> (StatusCode, String, String) {
    let req = axum::http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {}", h.admin))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(h.app.clone(), req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn import_and_export_api_with_hostile_files(h: H) {
    // A German export: UTF-16 with a BOM, semicolons, a formula in a cell, a ragged row, a
    // header with SQL in it.
    let text = "Vorname;Nachname;E-Mail;Firma;\"\"\"; DROP TABLE obj_person; --\"\r\n\
                Jürgen;Müller;jm@firma.de;Firma GmbH;x\r\n\
                Eva;=HYPERLINK(\"http://evil\");eva@firma.de;Firma GmbH;\r\n\
                Ragged;Row;rr@firma.de;Firma GmbH;;;more\r\n\
                Kein;Mail;keine-adresse;;\r\n";
    let r = upload(&h, Some("person"), "kontakte.csv", &utf16le_with_bom(text)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["import"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["import"]["status"], "draft");
    assert_eq!(r.body["preview"]["encoding"], "UTF-16LE");
    assert_eq!(r.body["preview"]["separator"], ";");
    let targets: Vec<&Json> = r.body["preview"]["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["target"])
        .collect();
    assert_eq!(
        targets,
        [
            &json!("first_name"),
            &json!("last_name"),
            &json!("email"),
            &json!("company"),
            &Json::Null
        ]
    );

    // Bad starts: unknown fields, a mapping to nothing that exists, malformed JSON.
    let start = format!("/api/v1/imports/{id}/start");
    let r = h.post(&start, json!({"mapping": {}, "colour": "red"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["detail"].as_str().unwrap().contains("colour"), "{}", r.body);
    let r = h.post(&start, json!({"mapping": {"Vorname": "shoe_size"}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "mapping.Vorname", "{}", r.body);
    let r = h.post(&start, json!({"mapping": {"Vorname": 7}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = h
        .send(
            Method::POST,
            &start,
            Some(&h.admin.clone()),
            &[],
            Some(b"{\"mapping\":".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // An empty mapping keeps the suggestions; every column skipped maps nothing.
    let skip_all = json!({"Vorname": null, "Nachname": null, "E-Mail": null, "Firma": null, "\"; DROP TABLE obj_person; --": null});
    let r = h.post(&start, json!({"mapping": skip_all})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "maps nothing: {}", r.body);

    let mapping = json!({"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email", "Firma": "company"});
    let r = h.post(&start, json!({"mapping": mapping, "dry_run": true})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let checked = finished(&h, &id).await;
    assert_eq!(
        checked["summary"], "imported 2, updated 0, merged 0, rejected 2, warnings 0",
        "{checked}"
    );
    assert_eq!(h.get("/api/v1/records/person").await.body["data"], json!([]));
    // Starting a finished dry run again imports for real, as a new job on the same file.
    let r = h
        .post(
            &start,
            json!({"mapping": mapping, "into_selection": "Mässan, kontakter"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let real = r.body["id"].as_str().unwrap().to_string();
    assert_ne!(real, id);
    let done = finished(&h, &real).await;
    assert_eq!(
        done["summary"], "imported 2, updated 0, merged 0, rejected 2, warnings 0",
        "{done}"
    );
    let people = h.get("/api/v1/records/person?sort=first_name").await.body["data"].clone();
    assert_eq!(
        people[0]["last_name"], "=HYPERLINK(\"http://evil\")",
        "kept as the text it is"
    );
    // The imported people are a selection of their own (the dry run made none).
    let selections = h.get("/api/v1/selections").await.body["data"].clone();
    let made: Vec<&Json> = selections
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "Mässan, kontakter")
        .collect();
    assert_eq!(made.len(), 1, "{selections}");
    let members = h
        .get(&format!(
            "/api/v1/selections/{}/members",
            made[0]["id"].as_str().unwrap()
        ))
        .await
        .body["data"]
        .clone();
    let mut imported: Vec<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    imported.sort_unstable();
    let mut picked: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    picked.sort_unstable();
    assert_eq!(picked, imported);

    let (status, ct, csv) = text_of(&h, &format!("/api/v1/imports/{real}/rejected.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    assert!(csv.starts_with("\u{feff}row,reason,Vorname"), "{csv}");
    assert!(csv.contains("4,has 7 cells but the header names 5 columns"), "{csv}");
    assert!(csv.contains("5,email must be an e-mail address"), "{csv}");

    // The export defuses the formula and streams with a BOM; XLSX is a workbook.
    let (status, ct, csv) = text_of(&h, "/api/v1/records/person/export?format=csv&sort=first_name").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"));
    assert!(csv.starts_with("\u{feff}id,First name"), "{csv}");
    assert!(csv.contains(",Eva,\"'=HYPERLINK(\"\"http://evil\"\")\","), "{csv}");
    let (status, ct, _) = text_of(&h, "/api/v1/records/person/export?format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/vnd.openxmlformats"));
    for bad in [
        "/api/v1/records/person/export?format=pdf",
        "/api/v1/records/person/export?filter=%7Bnope",
        "/api/v1/records/person/export?columns=shoe_size",
        "/api/v1/records/person/export?ids=not-an-id",
    ] {
        let r = h.get(bad).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
    assert_eq!(h.get("/api/v1/records/shoe/export").await.status, StatusCode::NOT_FOUND);

    // Duplicates: checked before saving, then found by a scan, reviewed and dismissed.
    let twin = json!({"first_name": "Jurgen", "last_name": "Muller", "email": "JM@firma.de"});
    let r = h.post("/api/v1/records/person/possible-duplicates", twin.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"][0]["record"]["last_name"], "Müller", "{}", r.body);
    assert!(
        r.body["data"][0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("same_email"))
    );
    let r = h
        .post("/api/v1/records/person/possible-duplicates", json!({"email": ["x"]}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.post("/api/v1/records/person", twin).await.status, StatusCode::CREATED);
    let r = h.post("/api/v1/duplicates/person/scan?country=49", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let job = crate::finished_job(&h, &r).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["open_pairs"], 1, "{job}");
    let r = h.get("/api/v1/duplicates/person").await;
    let pair = r.body["data"][0].clone();
    assert_eq!(pair["a"]["email"].as_str().unwrap().to_lowercase(), "jm@firma.de");
    let (x, y) = (pair["a"]["id"].as_str().unwrap(), pair["b"]["id"].as_str().unwrap());
    let r = h
        .post(&format!("/api/v1/duplicates/person/{x}/{y}/dismiss"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .post(&format!("/api/v1/duplicates/person/{x}/{y}/dismiss"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.post("/api/v1/duplicates/person/not-an-id/x/dismiss", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/api/v1/duplicates/person").await.body["data"], json!([]));
    // Merge the two anyway, then undo it.
    let (ka, kb) = (pair["a"]["version"].clone(), pair["b"]["version"].clone());
    let merge = json!({"keep": x, "gone": y, "keep_version": ka, "gone_version": kb, "values": {"first_name": "gone"}});
    let r = h
        .post(
            "/api/v1/records/person/merge",
            json!({"keep": x, "gone": y, "colour": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.post("/api/v1/records/person/merge", merge.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let merge_id = r.body["id"].as_str().unwrap().to_string();
    assert!(!h.get(&format!("/api/v1/records/person/{y}")).await.body["deleted_at"].is_null());
    let r = h.post("/api/v1/records/person/merge", merge).await;
    assert!(r.status.is_client_error(), "merging again is refused: {}", r.status);
    let r = h.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(h.get(&format!("/api/v1/records/person/{y}")).await.body["deleted_at"].is_null());
    let r = h.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        h.post("/api/v1/merges/nope/undo", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.post("/api/v1/duplicates/shoe/scan", json!({})).await.status,
        StatusCode::NOT_FOUND
    );

    // Data quality: the report, the rules (administrators), the fix list.
    let r = h.get("/api/v1/quality/person").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["overall"]["records"].as_u64().unwrap() >= 2);
    let r = h.get("/api/v1/quality-rules").await;
    assert_eq!(r.body["stale_months"], 12);
    let put = |body: Json| {
        h.send(
            Method::PUT,
            "/api/v1/quality-rules",
            Some(&h.admin),
            &[],
            Some(body.to_string().into_bytes()),
        )
    };
    let r = put(json!({"weights": {"person": {"email": "lots"}}, "stale_months": 6})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = put(json!({"weights": {}, "stale_months": 6, "colour": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = put(json!({"weights": {"person": {"email": 2, "phone": 1}}, "stale_months": 6})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.get("/api/v1/quality/person/fix-list?limit=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["total"].is_u64(), "{}", r.body);
    assert_eq!(h.get("/api/v1/quality/shoe").await.status, StatusCode::NOT_FOUND);
    let r = h.get("/api/v1/quality/person/latest").await;
    assert_eq!(r.body["day"], Json::Null, "nothing kept yet: {}", r.body);
    let r = h.post("/api/v1/quality/person/snapshot", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(crate::finished_job(&h, &r).await["state"], "succeeded");
    let r = h.get("/api/v1/quality/person/latest").await;
    assert_eq!(r.body["day"], "2026-11-23", "{}", r.body);
    assert_eq!(r.body["everyone"], true);
    assert!(
        r.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["scope"] == "all")
    );
    assert_eq!(h.get("/api/v1/quality/shoe/latest").await.status, StatusCode::NOT_FOUND);
    let r = h.get("/api/v1/quality/person/trend?days=30").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{}", r.body);

    // Hostile files: empty, blank, only a BOM, binary junk, a hundred columns, too large.
    for (name, bytes) in [
        ("empty.csv", Vec::new()),
        ("blank.csv", b"\r\n\r\n  \r\n".to_vec()),
        ("bom.csv", vec![0xEF, 0xBB, 0xBF]),
        ("fake.xlsx", b"name,email\n".to_vec()),
        ("picture.png", vec![0x89, b'P', b'N', b'G', 0, 0, 0, 0]),
    ] {
        let r = upload(&h, Some("person"), name, &bytes).await;
        assert!(r.status.is_client_error(), "{name}: {}", r.body);
    }
    let header: Vec<String> = (0..100).map(|i| format!("col{i}")).collect();
    let row: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
    let wide = format!("{}\n{}\n", header.join(","), row.join(","));
    let r = upload(&h, Some("person"), "wide.csv", wide.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["preview"]["headers"].as_array().unwrap().len(), 100);
    let r = upload(&h, None, "people.csv", b"a,b\n1,2\n").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "object");
    let huge = vec![b'x'; 65 * 1024 * 1024];
    let r = upload(&h, Some("person"), "huge.csv", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);

    // Rights: users may neither import nor export; read-only tokens neither.
    identity::user(&h, "plain@example.se", "user", None).await;
    let plain = token_of(&h, "plain@example.se", Scope::Write).await;
    let r = upload_as(&h, &plain, Some("person"), "p.csv", b"last_name\nX\n").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(&h, &plain, Method::GET, "/api/v1/records/person/export", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(&h, &plain, Method::GET, &format!("/api/v1/imports/{real}"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(
        &h,
        &plain,
        Method::POST,
        "/api/v1/duplicates/person/scan",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    identity::user(&h, "steward@example.se", "key_user", None).await;
    let read_only = token_of(&h, "steward@example.se", Scope::Read).await;
    let r = upload_as(&h, &read_only, Some("person"), "p.csv", b"last_name\nX\n").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A key user does not see the administrator's imports.
    let steward = token_of(&h, "steward@example.se", Scope::Write).await;
    let r = as_token(&h, &steward, Method::GET, &format!("/api/v1/imports/{real}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = as_token(&h, &steward, Method::GET, "/api/v1/imports", None).await;
    assert_eq!(r.body["data"], json!([]));
}

pub async fn browser_import_a_file_and_export_a_list(h: H) {
    identity::user(&h, "steward@example.se", "key_user", None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kontakter.csv");
    std::fs::write(
        &file,
        "Förnamn;Efternamn;E-post;Företag;Org.nr\n\
         Åsa;Öberg;asa@acme.se;Acme AB;556677-8899\n\
         Per;Ek;per@acme.se;Acme AB;556677-8899\n\
         Utan;;saknar@acme.se;Acme AB;\n",
    )
    .unwrap();
    let Some(mut b) = Browser::start(&h, &format!("import-{}", h.backend())).await else {
        return;
    };
    b.login("steward@example.se", identity::PASSWORD).await;
    b.go("/imports").await;
    b.wait_for("Upload and preview").await;
    b.by_id("imp-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    b.shot("import-upload").await;
    b.css("form[action='/imports'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Columns and fields").await;
    let source = b.source().await;
    assert!(source.contains("kontakter.csv"), "{source}");
    assert!(source.contains("separator ;"));
    let chosen = |id: &'static str| {
        let b = &b;
        async move {
            thirtyfour::components::SelectElement::new(&b.by_id(id).await)
                .await
                .unwrap()
                .first_selected_option()
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(chosen("map-0").await, "first_name");
    assert_eq!(chosen("map-2").await, "email");
    assert_eq!(chosen("map-4").await, "company.org_number");
    b.shot("import-mapping").await;
    b.by_id("import-check").await.click().await.unwrap();
    b.wait_for("Check only:").await;
    assert!(
        b.source()
            .await
            .contains("2 new, 0 updated, 0 unchanged, 0 merged, 1 rejected, 0 warnings")
    );
    b.by_id("import-run").await.click().await.unwrap();
    b.wait_for("Imported").await;
    b.wait_for("2 new, 0 updated, 0 unchanged, 0 merged, 1 rejected, 0 warnings")
        .await;
    b.wait_for("Related records (companies) created for rows that named one not there yet: 1")
        .await;
    let href = b.by_id("rejected-link").await.attr("href").await.unwrap().unwrap();
    assert!(href.ends_with("/rejected.csv"));
    b.shot("import-done").await;
    let people = h.get("/api/v1/records/person?sort=last_name").await.body["data"].clone();
    assert_eq!(people.as_array().unwrap().len(), 2);
    assert_eq!(people[0]["company"], people[1]["company"], "one Acme AB, made once");

    // A new person who is already there is shown before saving; "Save anyway" saves.
    b.go("/o/person/new").await;
    super::e2e::fill(&b, "f-first_name", "Asa").await;
    super::e2e::fill(&b, "f-last_name", "Oberg").await;
    super::e2e::fill(&b, "f-email", "ASA@acme.se").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("This may be here already").await;
    let warning = b.by_id("possible-duplicates").await.text().await.unwrap();
    assert!(
        warning.contains("Åsa Öberg") && warning.contains("same e-mail"),
        "{warning}"
    );
    assert_eq!(
        b.by_id("f-last_name").await.value().await.unwrap().as_deref(),
        Some("Oberg")
    );
    b.shot("possible-duplicate").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    // The page shows "Oberg" already (in the form), so wait for the record itself.
    let mut saved = 0;
    for _ in 0..100 {
        saved = h.get("/api/v1/records/person").await.body["data"]
            .as_array()
            .unwrap()
            .len();
        if saved == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(saved, 3, "saved anyway");

    // The review queue: a scan finds the pair, "Not the same" takes it out.
    b.go("/duplicates?object=person").await;
    b.wait_for("No likely duplicates waiting").await;
    b.by_id("dup-scan").await.click().await.unwrap();
    b.wait_for("The scan found 1 likely pairs").await;
    let page = b.source().await;
    assert!(
        page.contains("same e-mail") && page.contains("Åsa Öberg") && page.contains("Asa Oberg"),
        "{page}"
    );
    b.shot("duplicates").await;
    // Merge the pair, keeping the second record's last name; then undo it.
    b.css("details.dup-merge summary").await.click().await.unwrap();
    let pick_b = b.css("input[name='pick-last_name'][value='b']").await;
    let chosen = pick_b.parent().await.unwrap().text().await.unwrap().trim().to_string();
    pick_b.click().await.unwrap();
    b.shot("merge-choices").await;
    b.css("form[action='/duplicates/merge'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Merged.").await;
    let live = h.get("/api/v1/records/person?sort=last_name").await.body["data"].clone();
    assert_eq!(live.as_array().unwrap().len(), 2, "{live}");
    assert!(
        live.as_array()
            .unwrap()
            .iter()
            .any(|p| p["last_name"] == chosen.as_str()),
        "{chosen}: {live}"
    );
    b.shot("merged").await;
    b.by_id("undo-merge").await.click().await.unwrap();
    b.wait_for("Not the same").await;
    assert_eq!(
        h.get("/api/v1/records/person").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    b.css("form[action='/duplicates/dismiss'] button")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("No likely duplicates waiting").await;

    // The list's export follows its filter.
    b.go("/o/person?ff=last_name&fo=eq&fv=Ek").await;
    b.wait_for("per@acme.se").await;
    b.css("details.export-menu summary").await.click().await.unwrap();
    let csv = b.by_id("export-csv").await.attr("href").await.unwrap().unwrap();
    assert!(csv.contains("format=csv") && csv.contains("fv=Ek"), "{csv}");
    b.shot("export-menu").await;
    let (status, _, body) = text_of(&h, "/api/v1/records/person/export?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.lines().count(), 4);
    // The same export as the page offers it, with the session.
    let page_csv = b.fetch_text(&csv).await;
    assert!(page_csv.contains("Ek") && !page_csv.contains("Öberg"), "{page_csv}");

    // A second file with Per again (no e-mail, so no match key, but the same name and
    // company: he is found and left as he is) and a new person twice (the check lists the
    // second row as like the first).
    let again = dir.path().join("igen.csv");
    std::fs::write(
        &again,
        "Förnamn;Efternamn;Företag;Telefon
Per;Ek;Acme AB;
Ny;Person;;070-123 45 67
Ny;Person;;0701234567
",
    )
    .unwrap();
    b.go("/imports").await;
    b.by_id("imp-file")
        .await
        .send_keys(again.to_str().unwrap())
        .await
        .unwrap();
    b.css("form[action='/imports'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Columns and fields").await;
    b.by_id("import-check").await.click().await.unwrap();
    b.wait_for("Rows that look like records already here").await;
    // The check runs as a job; the page shows its counts once it has ended.
    b.wait_for("2 new, 0 updated, 1 unchanged, 0 merged, 0 rejected, 0 warnings")
        .await;
    let table = b.by_id("likely-duplicates").await.text().await.unwrap();
    assert!(
        table.contains("row 3 of this file") && table.contains("same phone"),
        "{table}"
    );
    assert!(table.contains("earlier row of the file: 1."), "{table}");
    b.shot("import-likely-duplicates").await;
    b.quit().await;
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/exports/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A HubSpot export whose owners are no users: every row kept, the owners listed once each
/// with their rows, the warnings on the job, in its CSV and on its page.
pub async fn warnings_instead_of_rejections_over_the_api_and_on_the_page(h: H) {
    let bytes = fixture("hubspot-contacts.csv");
    let r = upload(&h, Some("person"), "hubspot-crm-exports-all-contacts.csv", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["import"]["id"].as_str().unwrap().to_string();
    let start = format!("/api/v1/imports/{id}/start");
    let mapping = json!({"Contact owner": "owner", "Email": "email", "Record ID": "external_id"});
    // A default owner who is no user is refused, naming the field, before anything runs.
    let r = h
        .post(
            &start,
            json!({"mapping": mapping, "default_owner": "nobody@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "default_owner", "{}", r.body);
    let r = h.post(&start, json!({"mapping": mapping, "match_on": "email"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let done = finished(&h, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        done["summary"], "imported 35, updated 0, merged 0, rejected 1, warnings 28",
        "{done}"
    );
    let owners = done["unknown_owners"].as_array().unwrap();
    assert_eq!(owners.len(), 4, "{done}");
    assert_eq!(owners.iter().map(|o| o["rows"].as_u64().unwrap()).sum::<u64>(), 28);
    let first = &done["warnings"][0];
    assert_eq!(first["kind"], "unknown_owner", "{done}");
    assert!(first["message"].as_str().unwrap().contains("is no user"), "{first}");
    let (status, ct, csv) = text_of(&h, &format!("/api/v1/imports/{id}/warnings.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert_eq!(csv.lines().count(), 29, "{csv}");
    assert!(csv.starts_with("\u{feff}row,kind,warning"), "{csv}");

    identity::user(&h, "chef@example.se", "admin", None).await;
    let Some(mut b) = Browser::start(&h, &format!("import-warnings-{}", h.backend())).await else {
        return;
    };
    b.login("chef@example.se", identity::PASSWORD).await;
    b.go(&format!("/imports/{id}")).await;
    b.wait_for("Owners who are no users").await;
    let owners = b.by_id("unknown-owners").await.text().await.unwrap();
    assert!(
        owners.contains("Annika Berglund") && owners.contains("rows"),
        "{owners}"
    );
    let warnings = b.by_id("import-warnings").await.text().await.unwrap();
    assert!(warnings.contains("is no user here"), "{warnings}");
    b.shot("import-warnings").await;
    b.quit().await;
}
