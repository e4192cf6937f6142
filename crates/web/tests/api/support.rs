//! The support chain (issue 23) over HTTP: a question raised, answered, passed on and resolved;
//! 404 for anyone outside its chain on every path, 403 for read-scoped tokens, 422 naming the
//! field, 412 with the question as it is now for a stale write, and every route and answer in
//! the OpenAPI document.

use super::identity::{self, as_token, token_of};
use super::*;

const BOUNDARY: &str = "anchoraSupportBoundary0x7MA4YWxkTr";

fn multipart(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn support_questions_over_http(h: H) {
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    identity::user(&h, "ola@example.se", "key_user", Some(&south)).await;
    identity::user(&h, "anna@example.se", "user", Some(&north)).await;
    identity::user(&h, "peer@example.se", "user", Some(&north)).await;
    let kim = token_of(&h, "kim@example.se", Scope::Write).await;
    let ola = token_of(&h, "ola@example.se", Scope::Write).await;
    let anna = token_of(&h, "anna@example.se", Scope::Write).await;
    let anna_reading = token_of(&h, "anna@example.se", Scope::Read).await;
    let peer = token_of(&h, "peer@example.se", Scope::Write).await;
    let as_ = |token: &str, method: Method, path: &str, body: Option<Json>| {
        let token = token.to_string();
        let path = path.to_string();
        let h = &h;
        async move { as_token(h, &token, method, &path, body).await }
    };

    // Raised from a deal's page; it goes to North's key user.
    let r = as_(
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(
            json!({"subject": "Cannot save a deal", "description": "The button does nothing",
            "priority": "high", "page": "/records/deal", "object": "deal"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["number"], 1);
    assert_eq!(r.body["level"], "key_user");
    assert_eq!(r.body["response"]["state"], "running");
    let id = r.body["id"].as_str().unwrap().to_string();
    let one = format!("/api/v1/support/questions/{id}");

    // 422 naming the field; 403 for a read-scoped token.
    let r = as_(
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": " "})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "subject");
    let r = as_(
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "x", "priority": "asap"})),
    )
    .await;
    assert_eq!(r.body["errors"][0]["field"], "priority");
    let r = as_(
        &anna_reading,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_(
        &anna_reading,
        Method::POST,
        &format!("{one}/events"),
        Some(json!({"kind": "reply", "body": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(as_(&anna_reading, Method::GET, &one, None).await.status, StatusCode::OK);

    // Outside the chain: 404 on every path, and an empty list.
    for token in [&ola, &peer] {
        for (method, path, body) in [
            (Method::GET, one.clone(), None),
            (Method::GET, "/api/v1/support/questions/1".to_string(), None),
            (Method::GET, format!("{one}/events"), None),
            (Method::GET, format!("{one}/attachments"), None),
            (
                Method::POST,
                format!("{one}/events"),
                Some(json!({"kind": "reply", "body": "x"})),
            ),
            (Method::POST, format!("{one}/escalate"), Some(json!({"version": 1}))),
            (
                Method::POST,
                format!("{one}/status"),
                Some(json!({"version": 1, "status": "open"})),
            ),
            (
                Method::PATCH,
                one.clone(),
                Some(json!({"version": 1, "priority": "low"})),
            ),
        ] {
            let r = as_(token, method.clone(), &path, body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
        }
        let r = as_(token, Method::GET, "/api/v1/support/questions", None).await;
        assert_eq!(r.body["data"], json!([]));
    }
    let r = as_(&kim, Method::GET, "/api/v1/support/questions?view=team&open=true", None).await;
    assert_eq!(r.body["data"][0]["number"], 1, "{}", r.body);
    let r = as_(&kim, Method::GET, "/api/v1/support/questions?status=later", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "status");
    let r = as_(&kim, Method::GET, "/api/v1/support/questions?cursor=abc", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The key user answers (an internal note the requester never sees), then passes it on.
    let r = as_(
        &kim,
        Method::POST,
        &format!("{one}/events"),
        Some(json!({"kind": "note", "body": "Rights?"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = as_(
        &kim,
        Method::POST,
        &format!("{one}/events"),
        Some(json!({"kind": "reply", "body": "Looking at it"})),
    )
    .await;
    assert_eq!(r.body["response"]["state"], "met");
    let events = as_(&anna, Method::GET, &format!("{one}/events"), None).await.body;
    assert!(events["data"].as_array().unwrap().iter().all(|e| e["kind"] != "note"));
    let version = r.body["version"].as_i64().unwrap();
    let r = as_(
        &kim,
        Method::POST,
        &format!("{one}/status"),
        Some(json!({"version": version - 1, "status": "waiting_on_requester"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["current"]["version"], version);
    let r = as_(
        &kim,
        Method::POST,
        &format!("{one}/escalate"),
        Some(json!({"version": version, "reason": "A field is missing"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["level"], "it");
    let version = r.body["version"].as_i64().unwrap();
    let r = as_(
        &kim,
        Method::POST,
        &format!("{one}/escalate"),
        Some(json!({"version": version})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only administrators go to the vendor");
    let r = h
        .post(
            &format!("{one}/escalate"),
            json!({"version": version, "vendor_name": "Acme", "vendor_reference": "AC-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["vendor"]["reference"], "AC-1");
    let version = r.body["version"].as_i64().unwrap();
    let r = h
        .post(&format!("{one}/status"), json!({"version": version, "status": "new"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "status");
    let r = h
        .post(
            &format!("{one}/status"),
            json!({"version": version, "status": "resolved"}),
        )
        .await;
    assert_eq!(r.body["status"], "resolved");

    // Attachments: a small one is kept and served as a download; one past 5 MB is named.
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = h
        .send(
            Method::POST,
            &format!("{one}/attachments"),
            Some(&anna),
            &[("content-type", ct.as_str())],
            Some(multipart("log.txt", b"error 42")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = format!("{one}/attachments/{}", r.body["id"].as_str().unwrap());
    let r = h.send(Method::GET, &file, Some(&kim), &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        h.send(Method::GET, &file, Some(&ola), &[], None).await.status,
        StatusCode::NOT_FOUND
    );
    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let r = h
        .send(
            Method::POST,
            &format!("{one}/attachments"),
            Some(&anna),
            &[("content-type", ct.as_str())],
            Some(multipart("big.txt", &big)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "file");

    // Settings: administrators only; a bad one names its field.
    assert_eq!(
        as_(&kim, Method::GET, "/api/v1/support/settings", None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = h
        .put(
            "/api/v1/support/settings",
            json!({"warn_share": 20, "hypercare": {"go_live": "2026-11-16", "weeks": 0}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "hypercare.weeks");
    let r = h
        .put(
            "/api/v1/support/settings",
            json!({"hypercare": {"go_live": "2026-11-16", "weeks": 4}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_(
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "Again"})),
    )
    .await;
    assert_eq!(r.body["hypercare"], true);

    // Figures, of what the reader may see.
    let r = as_(&kim, Method::GET, "/api/v1/support/figures?weeks=4", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let opened: u64 = r.body["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["opened"].as_u64().unwrap())
        .sum();
    assert_eq!(opened, 2, "{}", r.body);
    let r = as_(&ola, Method::GET, "/api/v1/support/figures", None).await;
    assert!(
        r.body["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["opened"] == 0 && w["solved"] == 0),
        "{}",
        r.body
    );
    let r = as_(&kim, Method::GET, "/api/v1/support/figures?weeks=500", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "weeks");

    // The document lists every route with the answers it gives.
    let doc = h.get("/api/v1/openapi.json").await.body;
    let ops = &doc["paths"]["/support/questions/{id}"];
    for status in ["200", "401", "403", "404", "409", "412", "422"] {
        assert!(ops["patch"]["responses"].get(status).is_some(), "PATCH lacks {status}");
    }
    assert!(
        doc["paths"]["/support/questions/{id}/attachments"]["post"]["responses"]
            .get("413")
            .is_some()
    );
}

pub async fn support_pages_raise_answer_and_pass_on(h: H) {
    use identity::Browser;
    let north = identity::team(&h, "North").await;
    let south = identity::team(&h, "South").await;
    identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    identity::user(&h, "ola@example.se", "key_user", Some(&south)).await;
    identity::user(&h, "anna@example.se", "user", Some(&north)).await;

    // Every page offers "Ask for help" with the page it is on.
    let mut anna = Browser::default();
    anna.login(&h, "anna@example.se", identity::PASSWORD).await;
    let home = anna.get(&h, "/support").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("id=\"ask-for-help\""), "{}", home.text);
    let form = anna.get(&h, "/support/new?page=%2Fo%2Fdeal%2F42").await;
    assert!(form.text.contains("value=\"/o/deal/42\""), "{}", form.text);
    let csrf = anna.csrf(&h).await;
    let bad = anna
        .form(
            &h,
            "/support/new",
            &[("csrf", &csrf), ("subject", " "), ("page", "/o/deal/42")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("q-subject-error"));
    let made = anna
        .form(
            &h,
            "/support/new",
            &[
                ("csrf", &csrf),
                ("subject", "Cannot save a deal"),
                ("priority", "urgent"),
                ("page", "/o/deal/42"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    assert_eq!(made.headers["location"], "/support/1");
    let r = h.get("/api/v1/support/questions/1").await;
    assert_eq!(
        (r.body["object"].as_str(), r.body["record"].as_str()),
        (Some("deal"), Some("42"))
    );
    let page = anna.get(&h, "/support/1").await;
    assert!(page.text.contains("Response due in 2 h"), "{}", page.text);
    assert!(!page.text.contains("escalate-form"));

    // The key user notes, replies and passes it on; another team's key user finds nothing.
    let mut kim = Browser::default();
    kim.login(&h, "kim@example.se", identity::PASSWORD).await;
    let csrf = kim.csrf(&h).await;
    let r = kim
        .form(
            &h,
            "/support/1/reply",
            &[("csrf", &csrf), ("kind", "note"), ("body", "Rights, I think")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    kim.form(
        &h,
        "/support/1/reply",
        &[("csrf", &csrf), ("kind", "reply"), ("body", "On it")],
    )
    .await;
    let page = kim.get(&h, "/support/1").await;
    assert!(
        page.text.contains("Rights, I think") && page.text.contains("Response met"),
        "{}",
        page.text
    );
    let version = r_version(&h).await;
    let r = kim
        .form(
            &h,
            "/support/1/escalate",
            &[("csrf", &csrf), ("version", &version), ("reason", "Needs IT")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = anna.get(&h, "/support/1").await;
    assert!(
        !page.text.contains("Rights, I think"),
        "the requester never sees a note"
    );
    assert!(page.text.contains("passed it on to IT"), "{}", page.text);
    let mut ola = Browser::default();
    ola.login(&h, "ola@example.se", identity::PASSWORD).await;
    assert_eq!(ola.get(&h, "/support/1").await.status, StatusCode::NOT_FOUND);
    // A stale form says so.
    let r = kim
        .form(
            &h,
            "/support/1/status",
            &[("csrf", &csrf), ("version", "1"), ("status", "resolved")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Someone changed the question meanwhile"), "{}", r.text);
}

async fn r_version(h: &H) -> String {
    h.get("/api/v1/support/questions/1").await.body["version"].to_string()
}

/// Notices through a real SMTP server, each once under racing runs, worded in the reader's
/// language: the key user hears of a new question (in Swedish), the requester of the answer
/// and the resolution, with `[Q#1]` and the signed reference to thread a reply by.
pub async fn support_notices_go_once_through_a_real_smtp_server(h: H) {
    use super::mailings::SmtpSink;
    use anchora_core::jobs::{JobCtx, JobHandler, JobKind, NewJob};
    use anchora_core::store::JobStore;
    use anchora_web::reminders::ServerJobs;
    let Some(smtp) = SmtpSink::start(0) else { return };
    let north = identity::team(&h, "North").await;
    let kim_id = identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    let anna_id = identity::user(&h, "anna@example.se", "user", Some(&north)).await;
    let r = h
        .patch(&format!("/api/v1/users/{kim_id}"), None, json!({"locale": "sv"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let kim = token_of(&h, "kim@example.se", Scope::Write).await;
    let anna = token_of(&h, "anna@example.se", Scope::Write).await;
    let r = as_token(
        &h,
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "Cannot export"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let jobs = Arc::new(ServerJobs::new(smtp.mailer(), "https://crm.example.se"));
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let store = h.instance.main();
    let mut job = NewJob::now(JobKind::SupportBreaches, json!({}), None, h.clock.now());
    job.run_at = h.clock.now() + chrono::Duration::days(365);
    store.enqueue_job(&job).await.unwrap();
    let job = store.job(job.id).await.unwrap().unwrap();
    let (ctx_one, ctx_two) = (JobCtx::detached(), JobCtx::detached());
    let (one, two) = tokio::join!(jobs.run(&crm, &job, &ctx_one), jobs.run(&crm, &job, &ctx_two));
    let sent = one.unwrap().unwrap()["sent"].as_u64().unwrap() + two.unwrap().unwrap()["sent"].as_u64().unwrap();
    assert_eq!(sent, 1, "the key user is told once");

    let r = as_token(
        &h,
        &kim,
        Method::POST,
        "/api/v1/support/questions/1/events",
        Some(json!({"kind": "reply", "body": "Use the list's export button"})),
    )
    .await;
    let version = r.body["version"].as_i64().unwrap();
    as_token(
        &h,
        &kim,
        Method::POST,
        "/api/v1/support/questions/1/status",
        Some(json!({"version": version, "status": "resolved"})),
    )
    .await;
    let third = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(third["sent"], 2, "{third}");
    assert_eq!(
        jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap()["sent"],
        0
    );

    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = smtp.received();
        if mails.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails: Vec<String> = mails.iter().map(|m| super::mailings::readable(m)).collect();
    assert_eq!(mails.len(), 3, "{mails:?}");
    let id_of = |id: &str| anchora_core::ids::UserId(uuid::Uuid::parse_str(id).unwrap());
    let (kim_user, anna_user) = (id_of(&kim_id), id_of(&anna_id));
    let token = crm.support_reply_token(1, kim_user).await.unwrap();
    let to_kim = mails.iter().find(|m| m.contains("kim@example.se")).unwrap();
    assert!(to_kim.contains("SUBJECT: [Q#1] Ny fråga: Cannot export"), "{to_kim}");
    assert!(to_kim.contains(&format!("Referens: {token}")), "{to_kim}");
    assert!(to_kim.contains("https://crm.example.se/support/1"), "{to_kim}");
    let answered = mails
        .iter()
        .find(|m| m.contains("Use the list's export button"))
        .unwrap();
    assert!(
        answered.contains("anna@example.se") && answered.contains("[Q#1] An answer to your question"),
        "{answered}"
    );
    assert!(mails.iter().any(|m| m.contains("[Q#1] Resolved: Cannot export")));
    assert_eq!(crm.question_of_reply_token(&token).await.unwrap(), Some((1, kim_user)));
    assert_eq!(crm.question_of_reply_token("1.forged").await.unwrap(), None);
    // Each recipient's notice carries a reference of their own.
    let annas = crm.support_reply_token(1, anna_user).await.unwrap();
    assert_ne!(annas, token);
    assert!(answered.contains(&annas), "{answered}");

    // An answer by e-mail, quoting the notice (and with it the reference), is threaded in as
    // the sender's public reply without the quote; a stranger or a forged reference is not.
    use anchora_core::support::Threaded;
    let quoted: String = answered.lines().map(|l| format!("> {l}\n")).collect();
    let reply = format!("Thanks, it works now.\n\nOn Mon, 23 Nov 2026 Kim <kim@example.se> wrote:\n{quoted}");
    let subject = "Re: [Q#1] An answer to your question: Cannot export";
    h.clock.advance(chrono::Duration::minutes(5));
    let t = crm
        .thread_email_reply("anna@example.se", subject, &reply, None, None)
        .await
        .unwrap();
    assert_eq!(t, Threaded::Into(1));
    let events = as_token(&h, &anna, Method::GET, "/api/v1/support/questions/1/events", None)
        .await
        .body;
    let last = events["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["kind"].as_str(), last["body"].as_str()),
        (Some("email_reply"), Some("Thanks, it works now."))
    );
    assert_eq!(
        crm.thread_email_reply("stranger@example.org", subject, &reply, None, None)
            .await
            .unwrap(),
        Threaded::UnknownSender
    );
    identity::user(&h, "ola@example.se", "user", None).await;
    assert_eq!(
        crm.thread_email_reply("ola@example.se", subject, &reply, None, None)
            .await
            .unwrap(),
        Threaded::NotAllowed
    );
    // Kim may answer the question, but not with Anna's reference: a forwarded notice (or a
    // forged sender) writes as nobody but the one it was sent to.
    assert_eq!(
        crm.thread_email_reply("kim@example.se", subject, &reply, None, None)
            .await
            .unwrap(),
        Threaded::NotAllowed
    );
    assert_eq!(
        crm.thread_email_reply(
            "anna@example.se",
            subject,
            "Hi\nReference: 1.AAAAAAAAAAAAAAAA",
            None,
            None
        )
        .await
        .unwrap(),
        Threaded::NoReference
    );
}

/// A file's name reaches the download header only as an ASCII fallback and a percent-encoded
/// `filename*` (quotes and non-ASCII letters kept safe); a filter given twice is a problem+json
/// 422 naming it, not axum's plain-text 400.
pub async fn support_attachment_names_and_list_queries_answer_safely(h: H) {
    identity::user(&h, "anna@example.se", "user", None).await;
    let anna = token_of(&h, "anna@example.se", Scope::Write).await;
    let r = as_token(
        &h,
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "A file"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let one = format!("/api/v1/support/questions/{}", r.body["id"].as_str().unwrap());
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    for (sent, encoded) in [
        ("Öberg Ærø.pdf", "%C3%96berg%20%C3%86r%C3%B8.pdf"),
        ("it's 100% \\\"done\\\".pdf", "it%27s%20100%25%20"),
    ] {
        let r = h
            .send(
                Method::POST,
                &format!("{one}/attachments"),
                Some(&anna),
                &[("content-type", ct.as_str())],
                Some(multipart(sent, b"%PDF-1.4")),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{sent}: {}", r.body);
        let file = format!("{one}/attachments/{}", r.body["id"].as_str().unwrap());
        let r = h.send(Method::GET, &file, Some(&anna), &[], None).await;
        assert_eq!(r.status, StatusCode::OK);
        let cd = r.headers["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.starts_with("attachment; filename=\""), "{cd}");
        let (fallback, star) = cd.split_once("; filename*=UTF-8''").unwrap();
        assert_eq!(fallback.matches('"').count(), 2, "{cd}");
        assert!(star.starts_with(encoded), "{cd}");
        assert!(!star.contains(['"', ' ', '\'']), "{cd}");
    }

    let r = h
        .send(
            Method::GET,
            "/api/v1/support/questions?view=mine&view=all",
            Some(&anna),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.body["errors"][0]["field"], "view");
    let r = h
        .send(
            Method::GET,
            "/api/v1/support/questions?view=mine&limit=2",
            Some(&anna),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
}
