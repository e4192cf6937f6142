//! Answers to the support chain's notices by e-mail, end to end through real servers: the
//! notices go out through SMTP (aiosmtpd) with a `support+<reference>@` Reply-To, the answers
//! come back through IMAP (dovecot) and are threaded into their questions by the
//! `support_mailbox` job; the one handling the question then hears of the answer.

use super::identity::{self, as_token, token_of};
use super::imap_server::ImapServer;
use super::mailings::{SmtpSink, readable};
use super::*;
use anchora_core::jobs::{JobCtx, JobHandler, JobKind, NewJob, Workspaces};
use anchora_core::store::JobStore;
use anchora_web::reminders::ServerJobs;

/// The mails the SMTP sink has, once there are at least `n` (or what came in five seconds).
async fn mails(smtp: &SmtpSink, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = smtp.received();
        if got.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    got
}

/// A message as a mail program in Latin-1 writes it: quoted-printable, an encoded subject.
fn latin1_reply(from: &str, to: &str, extra: &str, text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for c in text.chars() {
        let code = c as u32;
        if c == '\n' {
            body.extend_from_slice(b"\r\n");
        } else if (0x20..0x7f).contains(&code) && c != '=' {
            body.push(code as u8);
        } else {
            body.extend_from_slice(format!("={code:02X}").as_bytes());
        }
    }
    let mut raw = format!(
        "From: =?iso-8859-1?q?Anna_=D6berg?= <{from}>\r\nTo: {to}\r\n{extra}Subject: =?iso-8859-1?q?SV:_[Q#1]_Fr=E5ga?=\r\nDate: Mon, 23 Nov 2026 10:20:00 +0100\r\nMessage-ID: <{}@mail.example.se>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        uuid::Uuid::now_v7().simple()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    raw.extend_from_slice(b"\r\n");
    raw
}

pub async fn support_answers_by_email_are_threaded_from_a_real_imap_mailbox(h: H) {
    let Some(smtp) = SmtpSink::start(0) else { return };
    let Some(imap) = ImapServer::start() else { return };
    let north = identity::team(&h, "North").await;
    identity::user(&h, "kim@example.se", "key_user", Some(&north)).await;
    let anna_id = identity::user(&h, "anna@example.se", "user", Some(&north)).await;
    identity::user(&h, "ola@example.se", "user", None).await;
    let kim = token_of(&h, "kim@example.se", Scope::Write).await;
    let anna = token_of(&h, "anna@example.se", Scope::Write).await;
    let r = as_token(
        &h,
        &anna,
        Method::POST,
        "/api/v1/support/questions",
        Some(json!({"subject": "Fråga om export", "description": "Exporten saknar Ærø-kunderna"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = as_token(
        &h,
        &kim,
        Method::POST,
        "/api/v1/support/questions/1/events",
        Some(json!({"kind": "reply", "body": "Vilken lista exporterade du från?"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let workspaces: Arc<dyn Workspaces> = Arc::new(anchora_store::InstanceWorkspaces {
        instance: h.instance.clone(),
        clock: h.clock.clone(),
    });
    let mailbox = anchora_web::imap::Mailbox::from_url(&imap.url()).unwrap();
    let jobs = ServerJobs {
        support_address: Some("support@crm.example.se".into()),
        support_mailbox: Some((Arc::new(mailbox), workspaces)),
        ..ServerJobs::new(smtp.mailer(), "https://crm.example.se")
    };
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let store = h.instance.main();
    let job_of = |kind| {
        let mut job = NewJob::now(kind, json!({}), None, h.clock.now());
        job.run_at = h.clock.now() + chrono::Duration::days(365);
        job
    };
    let notices = job_of(JobKind::SupportBreaches);
    store.enqueue_job(&notices).await.unwrap();
    let notices = store.job(notices.id).await.unwrap().unwrap();
    let reading = job_of(JobKind::SupportMailbox);
    store.enqueue_job(&reading).await.unwrap();
    let reading = store.job(reading.id).await.unwrap().unwrap();

    let sent = jobs.run(&crm, &notices, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(sent["sent"], 2, "raised to Kim, answered to Anna: {sent}");
    let received = mails(&smtp, 2).await;
    let to_anna = received
        .iter()
        .find(|m| readable(m).contains("Vilken lista exporterade du"))
        .expect("the answer's notice");
    let parsed = mail_parser::MessageParser::default().parse(to_anna.as_bytes()).unwrap();
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_string();
    let anna_user = anchora_core::ids::UserId(uuid::Uuid::parse_str(&anna_id).unwrap());
    let token = crm.support_reply_token(1, anna_user).await.unwrap();
    assert_eq!(reply_to, format!("support+{token}@crm.example.se"));
    // Machine-sent, so that out-of-office replies are not sent back.
    assert!(to_anna.contains("Auto-Submitted: auto-generated"), "{to_anna}");

    // Anna answers without quoting (only the address names the question; her mail program
    // writes her address with capitals), a stranger answers
    // the same address, Anna's mail program sends an out-of-office, someone writes to support
    // about nothing in particular, and Ola (outside the question's chain) quotes the reference.
    imap.append(&latin1_reply(
        "Anna@Example.SE",
        &format!("Anchora <{reply_to}>"),
        "",
        "Från kundlistan, filtrerad på Ærø och Öberg.\nHälsningar\nAnna",
    ))
    .await;
    imap.append(&latin1_reply(
        "stranger@example.org",
        &reply_to,
        "",
        "Buy cheap watches",
    ))
    .await;
    imap.append(&latin1_reply(
        "anna@example.se",
        &reply_to,
        "Auto-Submitted: auto-replied\r\n",
        "Jag är ledig till måndag.",
    ))
    .await;
    imap.append(&latin1_reply(
        "anna@example.se",
        "support@crm.example.se",
        "",
        "Hej, hur byter jag lösenord?",
    ))
    .await;
    imap.append(&latin1_reply(
        "ola@example.se",
        "support@crm.example.se",
        "",
        &format!("Jag vet svaret.\n> Referens: {token}"),
    ))
    .await;

    let read = jobs.run(&crm, &reading, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(read["read"], 3, "{read}\n{}", imap.log());
    assert_eq!(read["threaded"], 1, "{read}");
    assert_eq!(read["unknown_sender"], 1, "{read}");
    assert_eq!(read["not_allowed"], 1, "{read}");
    // Only the answer kept is gone. The out-of-office, the mail naming no question, the
    // stranger's and Ola's stay for a person, seen: nothing refused is lost.
    assert_eq!(imap.count("ALL").await, 4);
    assert_eq!(imap.count("SEEN").await, 4);
    let again = jobs.run(&crm, &reading, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(again["read"], 0, "read once: {again}");

    let events = as_token(&h, &anna, Method::GET, "/api/v1/support/questions/1/events", None)
        .await
        .body;
    let replies: Vec<&Json> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "email_reply")
        .collect();
    assert_eq!(replies.len(), 1, "{events}");
    assert_eq!(
        replies[0]["body"],
        "Från kundlistan, filtrerad på Ærø och Öberg.\nHälsningar\nAnna"
    );

    // Kim, who handles it, hears of Anna's answer by e-mail.
    let sent = jobs.run(&crm, &notices, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(sent["sent"], 1, "{sent}");
    let received = mails(&smtp, 3).await;
    assert!(
        received
            .iter()
            .map(|m| readable(m))
            .any(|m| m.contains("kim@example.se") && m.contains("filtrerad på Ærø och Öberg")),
        "{received:?}"
    );

    // The same message delivered twice (a mail server's retry) is one answer, and both
    // copies go.
    let twice = latin1_reply(
        "anna@example.se",
        &reply_to,
        "",
        "Och en sak till: Müller GmbH saknas också.",
    );
    imap.append(&twice).await;
    imap.append(&twice).await;
    let read = jobs.run(&crm, &reading, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(
        (&read["read"], &read["threaded"], &read["kept_already"]),
        (&json!(2), &json!(1), &json!(1)),
        "{read}"
    );
    assert_eq!(imap.count("ALL").await, 4);
    let events = as_token(&h, &anna, Method::GET, "/api/v1/support/questions/1/events", None)
        .await
        .body;
    let replies = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "email_reply")
        .count();
    assert_eq!(replies, 2, "{events}");
    assert!(
        !events.to_string().contains("mail.example.se"),
        "the Message-ID is not shown: {events}"
    );
}
