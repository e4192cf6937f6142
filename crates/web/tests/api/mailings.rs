//! Templates and mass mailings end to end, through a real SMTP server (aiosmtpd with a handler
//! that answers 550 and 451 for chosen addresses, `tests/support/smtp_sink.py`): a dynamic
//! selection less a suppression list, consent per purpose, merge fields and languages in the
//! messages received, both ways of unsubscribing, a 5xx address marked invalid, the throttle
//! held under an injected clock, bad templates refused with their line.

use super::*;
use anchora_web::mail::SmtpMailer;
use std::process::{Child, Command, Stdio};

const PYTHON: &str = "/usr/bin/python3";

/// The test SMTP server, stopped when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    pub fn start(delay_ms: u32) -> Option<SmtpSink> {
        let available = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var("ANCHORA_REQUIRE_SMTP").is_err(),
                "ANCHORA_REQUIRE_SMTP is set but aiosmtpd is missing (apt install python3-aiosmtpd)"
            );
            eprintln!("note: skipping the mailing test: install python3-aiosmtpd to run it");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let child = Command::new(PYTHON)
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .arg(delay_ms.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed().as_secs() < 20, "the SMTP sink did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(SmtpSink { child, port, dir })
    }

    /// Every message received so far, decoded for reading.
    pub fn received(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            out.push(std::fs::read_to_string(entry.path()).unwrap());
        }
        out
    }

    pub fn mailer(&self) -> Arc<SmtpMailer> {
        let from = anchora_web::mail::parse_mailbox("Anchora <crm@example.se>").unwrap();
        Arc::new(SmtpMailer::new(&format!("smtp://127.0.0.1:{}", self.port), from).unwrap())
    }
}

/// A message's readable text: headers as they are, bodies decoded (quoted-printable or base64).
pub fn readable(raw: &str) -> String {
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
    let mut out = raw.to_string();
    for i in 0..parsed.text_body_count() {
        out.push_str(&parsed.body_text(i).unwrap_or_default());
    }
    for i in 0..parsed.html_body_count() {
        out.push_str(&parsed.body_html(i).unwrap_or_default());
    }
    if let Some(subject) = parsed.subject() {
        out.push_str("\nSUBJECT: ");
        out.push_str(subject);
    }
    out
}

async fn person(h: &H, body: Json) -> String {
    let r = h.post("/api/v1/records/person", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn consent(h: &H, person: &str, purpose: &str, state: &str) {
    let r = h
        .post(
            &format!("/api/v1/records/person/{person}/consents"),
            json!({"purpose": purpose, "state": state, "source": "event sign-up form"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Poll a mailing until `done` says so (the workers send in the background).
async fn mailing_until(h: &H, id: &str, done: impl Fn(&Json) -> bool) -> Json {
    for _ in 0..500 {
        let m = h.get(&format!("/api/v1/mailings/{id}")).await.body;
        if done(&m) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "the mailing did not get there: {}",
        h.get(&format!("/api/v1/mailings/{id}")).await.body
    );
}

fn count(m: &Json, key: &str) -> u64 {
    m["counts"][key].as_u64().unwrap_or(0)
}

pub async fn mailing_end_to_end_through_a_real_smtp_server(h: H) {
    let Some(smtp) = SmtpSink::start(0) else { return };
    h.outbox.route_to(smtp.mailer());
    for (key, name) in [("newsletter", "Nyhetsbrev"), ("events", "Evenemang")] {
        let r = h
            .post("/api/v1/consent-purposes", json!({"key": key, "name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let company = h
        .post(
            "/api/v1/records/company",
            json!({"name": "Ærø Fisk ApS", "city": "Malmö"}),
        )
        .await;
    let company = company.body["id"].as_str().unwrap().to_string();
    // Everyone in Malmö is in the selection; the suppression list keeps Karl out.
    let asa = person(&h, json!({"first_name": "Åsa", "last_name": "Öberg", "email": "Asa.Oberg@Example.se", "city": "Malmö", "language": "sv"})).await;
    let jurgen = person(&h, json!({"first_name": "Jürgen", "last_name": "Müller", "email": "juergen@example.de", "city": "malmö", "language": "de"})).await;
    let nunez = person(&h, json!({"last_name": "Núñez", "email": "nunez@example.es", "city": "Malmö", "language": "es", "company": company})).await;
    let peter = person(
        &h,
        json!({"first_name": "Peter", "last_name": "Ærø", "email": "peter@example.dk", "city": "Malmö"}),
    )
    .await;
    let lena = person(
        &h,
        json!({"first_name": "Lena", "last_name": "Ek", "email": "lena@example.se", "city": "Malmö"}),
    )
    .await;
    let twin = person(&h, json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa.oberg@example.se", "city": "MALMÖ", "language": "sv"})).await;
    let hard = person(
        &h,
        json!({"first_name": "Hans", "last_name": "Hård", "email": "hard-bounce@example.com", "city": "Malmö"}),
    )
    .await;
    let nomail = person(&h, json!({"first_name": "Nils", "last_name": "Utan", "city": "Malmö"})).await;
    let karl = person(
        &h,
        json!({"first_name": "Karl", "last_name": "Spärr", "email": "karl@example.se", "city": "Malmö"}),
    )
    .await;
    let elsewhere = person(
        &h,
        json!({"first_name": "Olle", "last_name": "Lund", "email": "olle@example.se", "city": "Lund"}),
    )
    .await;
    for p in [&asa, &jurgen, &nunez, &twin, &hard, &nomail, &karl, &elsewhere] {
        consent(&h, p, "newsletter", "granted").await;
    }
    consent(&h, &peter, "events", "granted").await;
    consent(&h, &lena, "newsletter", "granted").await;
    consent(&h, &lena, "newsletter", "withdrawn").await;

    let suppress = h
        .post(
            "/api/v1/selections",
            json!({"name": "Spärrlista", "object": "person", "members": [karl]}),
        )
        .await;
    assert_eq!(suppress.status, StatusCode::CREATED, "{}", suppress.body);
    let selection = h
        .post(
            "/api/v1/selections",
            json!({"name": "Malmö", "object": "person", "filter": {"field": "city", "op": "eq", "value": "malmö"},
                   "exclude": [suppress.body["id"]]}),
        )
        .await;
    assert_eq!(selection.status, StatusCode::CREATED, "{}", selection.body);
    assert_eq!(
        selection.body["count"], 8,
        "nine in Malmö, one suppressed: {}",
        selection.body
    );
    let selection = selection.body["id"].as_str().unwrap().to_string();

    // A selection is a filter in lists, exports and reports (the one filter language).
    let member = json!({"field": "id", "op": "in_selection", "value": selection});
    let listed = h
        .get(&format!(
            "/api/v1/records/person?count=true&limit=100&filter={}",
            enc(&member.to_string())
        ))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 8, "{}", listed.body);
    let swedes = json!({"and": [member, {"field": "language", "op": "eq", "value": "sv"}]});
    let listed = h
        .get(&format!("/api/v1/records/person?filter={}", enc(&swedes.to_string())))
        .await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        2,
        "Åsa, twice: {}",
        listed.body
    );
    let exported = h
        .get(&format!(
            "/api/v1/records/person/export?format=csv&filter={}",
            enc(&member.to_string())
        ))
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    let csv = exported.body.as_str().unwrap();
    assert_eq!(csv.lines().count(), 9, "a header and eight people: {csv}");
    assert!(!csv.contains("Spärr") && !csv.contains("Lund"), "{csv}");
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let reader = anchora_core::auth::Principal::new(
        UserId::new_at(h.clock.now()),
        Role::Admin,
        None,
        anchora_core::auth::Credential::Local,
    );
    let by_language = crm
        .aggregate(&reader, "person", &["language"], None, Some(&member.to_string()))
        .await
        .unwrap();
    let counted: i64 = by_language.iter().map(|r| r.count).sum();
    assert_eq!(counted, 8, "{by_language:?}");
    // A saved view makes a selection too: its filter, worked out when used.
    let viewer = identity::user(&h, "vy@example.se", "admin", None).await;
    let viewer = anchora_core::auth::Principal::new(
        UserId::parse(&viewer).unwrap(),
        Role::Admin,
        None,
        anchora_core::auth::Credential::Local,
    );
    let view = crm
        .save_view(
            &viewer,
            "person",
            "Malmö-folk",
            &[
                ("ff".to_string(), "city".to_string()),
                ("fo".to_string(), "eq".to_string()),
                ("fv".to_string(), "Malmö".to_string()),
            ],
            false,
        )
        .await;
    let view = view.unwrap();
    let from_view = crm
        .create_selection(
            &viewer,
            json!({"name": "Från vyn", "object": "person", "view": view.id}),
        )
        .await
        .unwrap();
    assert_eq!(from_view.count, Some(9), "everyone in Malmö, Karl too");
    // A selection of another object, or one that is not there, is a mistake in the filter.
    let company_list = h
        .get(&format!("/api/v1/records/company?filter={}", enc(&member.to_string())))
        .await;
    assert_eq!(company_list.status, StatusCode::BAD_REQUEST, "{}", company_list.body);
    assert_eq!(company_list.body["code"], "invalid_filter");
    let nowhere = json!({"field": "id", "op": "in_selection", "value": "01a207a2-3280-7000-8000-000000000000"});
    let r = h
        .get(&format!("/api/v1/records/person?filter={}", enc(&nowhere.to_string())))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Bad templates are refused with the part and the line.
    let variant = |language: &str, subject: &str, html: &str, text: &str| json!({"language": language, "subject": subject, "html": html, "text": text});
    let broken = h
        .post(
            "/api/v1/templates",
            json!({"name": "Trasig", "default_language": "sv",
                   "variants": [variant("sv", "Hej", "<p>Hej</p>\n<p>{{ person.first_name </p>", "Hej")]}),
        )
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", broken.body);
    assert_eq!(broken.body["errors"][0]["field"], "variants.sv.html", "{}", broken.body);
    assert!(
        broken.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2"),
        "{}",
        broken.body
    );
    let runaway = h
        .post(
            "/api/v1/templates",
            json!({"name": "Evig", "default_language": "en",
                   "variants": [variant("en", "Hi", "<p>Hi</p>", "Hi\n\n{% for a in range(99999) %}{% for b in range(99999) %}.{% endfor %}{% endfor %}")]}),
        )
        .await;
    assert_eq!(runaway.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", runaway.body);
    assert_eq!(runaway.body["errors"][0]["field"], "variants.en.text");
    assert!(
        runaway.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 3"),
        "{}",
        runaway.body
    );
    let typo = h
        .post(
            "/api/v1/templates",
            json!({"name": "Stavfel", "default_language": "en",
                   "variants": [variant("en", "Hi {{ person.frist_name }}", "<p>Hi</p>", "Hi")]}),
        )
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", typo.body);
    assert!(typo.body["detail"].as_str().unwrap().contains("person.frist_name"));

    let template = h
        .post(
            "/api/v1/templates",
            json!({"name": "Decemberbrev", "default_language": "en", "shared": true, "variants": [
                variant("en", "Hello {{ person.first_name | default(\"friend\") }}",
                        "<p>Hello {{ person.first_name | default(\"friend\") }} at {{ company.name | default(\"your company\") }}</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
                        "Hello {{ person.first_name | default(\"friend\") }} at {{ company.name | default(\"your company\") }}\nUnsubscribe: {{ unsubscribe_url }}"),
                variant("sv", "Hej {{ person.first_name | default(\"du\") }}!",
                        "<p>Hej {{ person.first_name }} {{ person.last_name }}</p>",
                        "Hej {{ person.first_name }} {{ person.last_name }}\nAvsluta: {{ unsubscribe_url }}"),
                variant("de", "Hallo {{ person.first_name }}",
                        "<p>Hallo {{ person.first_name }} {{ person.last_name }}</p>",
                        "Hallo {{ person.first_name }} {{ person.last_name }}\nAbbestellen: {{ unsubscribe_url }}"),
            ]}),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    let template_id = template.body["id"].as_str().unwrap().to_string();
    // A preview against a real record, in the record's language.
    let preview = h
        .post(
            &format!("/api/v1/templates/{template_id}/preview"),
            json!({"record": nunez}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.body["subject"], "Hello friend");
    assert!(
        preview.body["html"].as_str().unwrap().contains("Ærø Fisk ApS"),
        "{}",
        preview.body
    );
    let preview = h
        .post(
            &format!("/api/v1/templates/{template_id}/preview"),
            json!({"record": asa}),
        )
        .await;
    assert_eq!(preview.body["subject"], "Hej Åsa!");
    // A test send goes to the sender's own address: a key user's.
    identity::user(&h, "nyckel@example.se", "key_user", None).await;
    let key = identity::token_of(&h, "nyckel@example.se", Scope::Write).await;
    let test = h
        .send(
            Method::POST,
            &format!("/api/v1/templates/{template_id}/test"),
            Some(&key),
            &[],
            Some(json!({"record": jurgen}).to_string().into_bytes()),
        )
        .await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.body);
    let tests = smtp.received();
    assert_eq!(tests.len(), 1);
    let test_mail = readable(&tests[0]);
    assert!(test_mail.contains("X-Envelope-To: nyckel@example.se"), "{test_mail}");
    assert!(test_mail.contains("[TEST] Hallo Jürgen"), "{test_mail}");

    // The mailing: two messages per ten minutes.
    let mailing = h
        .post(
            "/api/v1/mailings",
            json!({"name": "December", "selection": selection, "template": template_id, "purpose": "newsletter",
                   "throttle": {"mails": 2, "minutes": 10}}),
        )
        .await;
    assert_eq!(mailing.status, StatusCode::CREATED, "{}", mailing.body);
    let id = mailing.body["id"].as_str().unwrap().to_string();
    let wrong = h
        .post(&format!("/api/v1/mailings/{id}/start"), json!({"version": 7}))
        .await;
    assert_eq!(wrong.status, StatusCode::PRECONDITION_FAILED, "{}", wrong.body);
    assert_eq!(wrong.body["current"]["version"], 1);
    let started = h
        .post(&format!("/api/v1/mailings/{id}/start"), json!({"version": 1}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["state"], "sending");
    let t0 = h.clock.now();
    let first = mailing_until(&h, &id, |m| count(m, "sent") + count(m, "bounced") == 2).await;
    // The snapshot: who is in and who is left out, and why.
    assert_eq!(count(&first, "skipped.no_consent"), 1, "{first}");
    assert_eq!(count(&first, "skipped.unsubscribed"), 1, "{first}");
    assert_eq!(count(&first, "skipped.duplicate_address"), 1, "{first}");
    assert_eq!(count(&first, "skipped.no_address"), 1, "{first}");
    assert_eq!(count(&first, "queued"), 2, "{first}");
    // The throttle holds: nothing more within the ten minutes, however long the workers try.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let still = h.get(&format!("/api/v1/mailings/{id}")).await.body;
    assert_eq!(count(&still, "queued"), 2, "{still}");
    h.clock
        .advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    let done = mailing_until(&h, &id, |m| m["state"] == "done").await;
    assert_eq!(count(&done, "sent"), 3, "{done}");
    assert_eq!(count(&done, "bounced"), 1, "{done}");
    let recipients = h.get(&format!("/api/v1/mailings/{id}/recipients?limit=500")).await.body;
    let rows = recipients["recipients"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let mut sent_at: Vec<String> = rows
        .iter()
        .filter_map(|r| r["sent_at"].as_str().map(String::from))
        .collect();
    sent_at.sort();
    let times: Vec<DateTime<Utc>> = sent_at
        .iter()
        .map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc))
        .collect();
    for (i, t) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .filter(|u| **u < *t + chrono::Duration::minutes(10))
            .count();
        assert!(within <= 2, "more than 2 in ten minutes from {t}: {sent_at:?}");
    }
    assert!(times.iter().all(|t| *t >= t0));
    let hard_row = rows.iter().find(|r| r["person"] == hard.as_str()).unwrap();
    assert_eq!(hard_row["status"], "bounced", "{hard_row}");
    assert!(hard_row["detail"].as_str().unwrap().contains("550"), "{hard_row}");

    // What arrived: each in their language, merge fields filled, the unsubscribe headers there.
    let mails: Vec<String> = smtp.received().iter().map(|m| readable(m)).collect();
    assert_eq!(mails.len(), 4, "the test and three: {mails:?}");
    let to = |address: &str| {
        let found: Vec<&String> = mails
            .iter()
            .filter(|m| m.contains(&format!("X-Envelope-To: {address}")))
            .collect();
        assert_eq!(found.len(), 1, "{address} once: {mails:?}");
        found[0].clone()
    };
    let asa_mail = to("asa.oberg@example.se");
    // The envelope sender is the recipient's own bounce address (VERP).
    assert!(asa_mail.contains("X-Envelope-From: bounces+main-"), "{asa_mail}");
    assert!(asa_mail.contains("SUBJECT: Hej Åsa!"), "{asa_mail}");
    assert!(asa_mail.contains("Hej Åsa Öberg"), "{asa_mail}");
    assert!(
        asa_mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{asa_mail}"
    );
    let jurgen_mail = to("juergen@example.de");
    assert!(jurgen_mail.contains("SUBJECT: Hallo Jürgen"), "{jurgen_mail}");
    let nunez_mail = to("nunez@example.es");
    assert!(nunez_mail.contains("SUBJECT: Hello friend"), "{nunez_mail}");
    assert!(nunez_mail.contains("Hello friend at Ærø Fisk ApS"), "{nunez_mail}");
    for absent in ["karl@", "peter@", "lena@", "olle@", "hard-bounce@"] {
        assert!(
            !mails.iter().any(|m| m.contains(&format!("X-Envelope-To: {absent}"))),
            "{absent} got a message"
        );
    }
    // Each sent mail is an e-mail activity on the person's timeline.
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let admin = anchora_core::auth::Principal::new(
        UserId::new_at(h.clock.now()),
        Role::Admin,
        None,
        anchora_core::auth::Credential::Local,
    );
    let mut timeline = Vec::new();
    for name in [&asa, &twin] {
        timeline.extend(
            crm.timeline(&admin, "person", anchora_core::RecordId::parse(name).unwrap(), 20)
                .await
                .unwrap(),
        );
    }
    assert!(
        timeline
            .iter()
            .any(|a| a.get("type").to_text().as_deref() == Some("email")
                && a.get("subject").to_text().as_deref() == Some("Hej Åsa!")),
        "{timeline:?}"
    );

    // Unsubscribing: Åsa's mail program posts one-click; Jürgen uses the page.
    let link_of = |mail: &str| {
        let start = mail.find("List-Unsubscribe: <").unwrap() + "List-Unsubscribe: <".len();
        let url = mail[start..].split('>').next().unwrap().to_string();
        url.trim_start_matches("http://localhost").to_string()
    };
    let mut mail_program = identity::Browser::default();
    let r = mail_program
        .form(&h, &link_of(&asa_mail), &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut reader = identity::Browser::default();
    let jurgen_link = link_of(&jurgen_mail);
    let page = reader.get(&h, &jurgen_link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).unwrap() + marker.len();
    let csrf = page.text[start..].split('"').next().unwrap().to_string();
    let out = reader
        .form(&h, &jurgen_link, &[("csrf", &csrf), ("purpose", "newsletter")])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text);

    // The next mailing honours both opt-outs and the invalid address, and says who left.
    let next = h
        .post(
            "/api/v1/mailings",
            json!({"name": "Januari", "selection": selection, "template": template_id, "purpose": "newsletter"}),
        )
        .await;
    let next_id = next.body["id"].as_str().unwrap().to_string();
    let r = h
        .post(&format!("/api/v1/mailings/{next_id}/start"), json!({"version": 1}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let second = mailing_until(&h, &next_id, |m| m["state"] == "done").await;
    assert_eq!(count(&second, "sent"), 1, "only Núñez: {second}");
    // Åsa's address opted out, under both its names; Jürgen and Lena too.
    assert_eq!(count(&second, "skipped.unsubscribed"), 4, "{second}");
    assert_eq!(count(&second, "skipped.invalid_address"), 1, "{second}");
    let changes = h.get(&format!("/api/v1/mailings/{next_id}/changes?since={id}")).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    let mut left: Vec<String> = changes.body["left"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    left.sort();
    // Whichever of Åsa's two names got the first mailing left, with Jürgen and the bounce.
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.contains(&jurgen) && left.contains(&hard), "{left:?}");
    assert!(left.contains(&asa) != left.contains(&twin), "{left:?}");
    // A finished mailing cannot be paused; a draft cannot be resumed; stale versions lose.
    let r = h
        .post(
            &format!("/api/v1/mailings/{next_id}/pause"),
            json!({"version": second["version"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = h.get("/api/v1/mailings/not-an-id").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .get(&format!("/api/v1/mailings/{id}/recipients?status=nonsense"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A template changed at an old version is refused with the current one.
    let stale = h
        .put(
            &format!("/api/v1/templates/{template_id}"),
            json!({"name": "Ny", "default_language": "en", "version": 0,
                   "variants": [variant("en", "Hi", "<p>Hi</p>", "Hi")]}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.body);
    assert_eq!(stale.body["current"]["name"], "Decemberbrev");
}

/// A Postfix-shaped delivery status notification for one recipient, to the VERP address.
fn dsn(tag: &str, address: &str, action: &str, status: &str) -> String {
    format!(
        "Return-Path: <>\r\nDelivered-To: bounces+{tag}@example.se\r\nDate: Mon, 23 Nov 2026 10:14:07 +0100\r\n\
From: MAILER-DAEMON@mail.example.se (Mail Delivery System)\r\nSubject: Undelivered Mail Returned to Sender\r\n\
To: bounces+{tag}@example.se\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B0UND\"\r\n\r\n\
--B0UND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is the mail system at host mail.example.se.\r\n\r\n\
<{address}>: host mx.example.de said: 550 5.1.1 User unknown\r\n\r\n\
--B0UND\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.se\r\n\r\n\
Final-Recipient: rfc822; {address}\r\nOriginal-Recipient: rfc822;{address}\r\nAction: {action}\r\nStatus: {status}\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table\r\n\r\n\
--B0UND\r\nContent-Type: text/rfc822-headers\r\n\r\nReturn-Path: <bounces+{tag}@example.se>\r\nTo: {address}\r\nSubject: Nyhetsbrev\r\n\r\n\
--B0UND--\r\n"
    )
}

/// A bounce report that arrives later, in the bounce mailbox (a real IMAP server, dovecot),
/// marks its recipient bounced and the address invalid; a delay notice changes nothing.
pub async fn a_bounce_report_over_imap_marks_the_address_invalid(h: H) {
    let Some(imap) = super::imap_server::ImapServer::start() else {
        return;
    };
    h.post(
        "/api/v1/consent-purposes",
        json!({"key": "newsletter", "name": "Nyhetsbrev"}),
    )
    .await;
    let aero = person(
        &h,
        json!({"first_name": "Peter", "last_name": "Ærø", "email": "peter@aero.dk"}),
    )
    .await;
    let muller = person(
        &h,
        json!({"first_name": "Jürgen", "last_name": "Müller", "email": "jurgen@mueller.de"}),
    )
    .await;
    for p in [&aero, &muller] {
        consent(&h, p, "newsletter", "granted").await;
    }
    let selection = h
        .post(
            "/api/v1/selections",
            json!({"name": "Två", "object": "person", "members": [aero, muller]}),
        )
        .await;
    let template = h
        .post(
            "/api/v1/templates",
            json!({"name": "Kort", "default_language": "en",
                   "variants": [{"language": "en", "subject": "News", "html": "<p>News</p>", "text": "News"}]}),
        )
        .await;
    let send = |name: &'static str| json!({"name": name, "selection": selection.body["id"], "template": template.body["id"], "purpose": "newsletter"});
    let m = h.post("/api/v1/mailings", send("November")).await;
    let id = m.body["id"].as_str().unwrap().to_string();
    h.post(&format!("/api/v1/mailings/{id}/start"), json!({"version": 1}))
        .await;
    mailing_until(&h, &id, |m| m["state"] == "done").await;
    let rows = h.get(&format!("/api/v1/mailings/{id}/recipients")).await.body;
    let tag_of = |person: &str| {
        rows["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person"] == person)
            .unwrap()["tag"]
            .as_str()
            .unwrap()
            .to_string()
    };
    imap.append(dsn(&tag_of(&muller), "jurgen@mueller.de", "failed", "5.1.1").as_bytes())
        .await;
    imap.append(dsn(&tag_of(&aero), "peter@aero.dk", "delayed", "4.4.1").as_bytes())
        .await;
    imap.append(
        dsn(
            "main-00000000000000000000000000000000",
            "nobody@example.se",
            "failed",
            "5.1.1",
        )
        .as_bytes(),
    )
    .await;
    let mailbox = anchora_web::bounces::BounceMailbox::from_url(&imap.url()).unwrap();
    let workspaces: Arc<dyn anchora_core::jobs::Workspaces> = Arc::new(anchora_store::InstanceWorkspaces {
        instance: h.instance.clone(),
        clock: h.clock.clone(),
    });
    let jobs = anchora_web::reminders::ServerJobs {
        bounce_mailbox: Some((Arc::new(mailbox), workspaces)),
        ..anchora_web::reminders::ServerJobs::new(h.outbox.clone(), "http://localhost")
    };
    let main = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let read = jobs
        .read_bounces(&main, &anchora_core::jobs::JobCtx::detached())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read["read"], 3, "{read}\n{}", imap.log());
    assert_eq!(read["marked"], 1, "{read}");
    assert_eq!(read["soft"], 1, "{read}");
    // Read once: the reports are gone from the mailbox, and reading again finds nothing.
    let again = jobs
        .read_bounces(&main, &anchora_core::jobs::JobCtx::detached())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again["read"], 0, "{again}");
    let rows = h.get(&format!("/api/v1/mailings/{id}/recipients")).await.body;
    let status = |person: &str| {
        rows["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person"] == person)
            .unwrap()
            .clone()
    };
    assert_eq!(status(&muller)["status"], "bounced", "{rows}");
    assert!(status(&muller)["detail"].as_str().unwrap().contains("5.1.1"), "{rows}");
    assert_eq!(status(&aero)["status"], "sent", "{rows}");
    // The next mailing leaves the invalid address out.
    let m = h.post("/api/v1/mailings", send("December")).await;
    let next = m.body["id"].as_str().unwrap().to_string();
    h.post(&format!("/api/v1/mailings/{next}/start"), json!({"version": 1}))
        .await;
    let done = mailing_until(&h, &next, |m| m["state"] == "done").await;
    assert_eq!(count(&done, "sent"), 1, "{done}");
    assert_eq!(count(&done, "skipped.invalid_address"), 1, "{done}");
}
