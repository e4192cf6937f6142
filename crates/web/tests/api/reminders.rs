//! Reminders by e-mail through a real SMTP server (aiosmtpd, Debian's python3-aiosmtpd, which
//! keeps what it receives in a maildir): an overdue action to its owner and the communication
//! matrix's next occasion to its sender, each once however often the job runs, in the reader's
//! language. Without aiosmtpd the test is skipped, unless ANCHORA_REQUIRE_SMTP=1 (CI).

use super::*;
use anchora_core::jobs::{JobCtx, JobHandler, JobKind, NewJob};
use anchora_core::store::JobStore;
use anchora_web::mail::SmtpMailer;
use anchora_web::reminders::ServerJobs;
use std::process::{Child, Command, Stdio};

const PYTHON: &str = "/usr/bin/python3";

/// An SMTP server for one test, stopped when dropped.
struct Smtp {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start() -> Option<Smtp> {
        let available = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var("ANCHORA_REQUIRE_SMTP").is_err(),
                "ANCHORA_REQUIRE_SMTP is set but aiosmtpd is missing (apt install python3-aiosmtpd)"
            );
            eprintln!("note: skipping the SMTP test: install python3-aiosmtpd to run it");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-u", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed().as_secs() < 20, "aiosmtpd did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(Smtp { child, port, maildir })
    }

    /// Every message received so far, as text.
    fn received(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.path().join("box").join(sub)) {
                for entry in dir.flatten() {
                    out.push(quoted_printable(&std::fs::read_to_string(entry.path()).unwrap()));
                }
            }
        }
        out
    }
}

/// A message as its reader sees it: quoted-printable soft breaks joined, `=XX` decoded.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn reminders_go_once_through_a_real_smtp_server(h: H) {
    let Some(smtp) = Smtp::start() else { return };
    let owner = identity::user(&h, "bo@example.se", "user", None).await;
    let r = h
        .patch(&format!("/api/v1/users/{owner}"), None, json!({"locale": "sv"}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let p = h
        .post(
            "/api/v1/projects",
            json!({"name": "Utrullning", "start": "2026-11-02", "target": "2027-03-31"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let id = p.body["id"].as_str().unwrap().to_string();
    let m = h
        .post(
            &format!("/api/v1/projects/{id}/members"),
            json!({"user": owner, "roles": [{"role": "management_decision_maker"}]}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let number = m.body["number"].clone();
    // Due a week before the test's day (2026-11-23): overdue.
    let a = h
        .post(
            &format!("/api/v1/projects/{id}/actions"),
            json!({"title": "Rensa kundlistan", "owner": number, "due": "2026-11-16", "meeting": null}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let c = h
        .post(
            &format!("/api/v1/projects/{id}/communications"),
            json!({"sender_role": "management_decision_maker", "audience": "Styrgruppen", "content": "Lägesrapport",
                   "channel": "E-post", "frequency": "monthly", "fulfilled_by": {"by": "manual"}, "starts": "2026-11-24"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);

    let from = anchora_web::mail::parse_mailbox("Anchora <crm@example.se>").unwrap();
    let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), from).unwrap();
    let jobs = Arc::new(ServerJobs::new(Arc::new(mailer), "https://crm.example.se"));
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let store = h.instance.main();
    // Run here by hand with the SMTP mailer (kept from the harness's own workers by its time).
    let mut job = NewJob::now(JobKind::Reminders, json!({}), None, h.clock.now());
    job.run_at = h.clock.now() + chrono::Duration::days(365);
    store.enqueue_job(&job).await.unwrap();
    let job = store.job(job.id).await.unwrap().unwrap();
    // Two runs at once, then a third: each reminder goes once.
    let owed = crm.due_reminders().await.unwrap();
    assert_eq!(owed.len(), 2, "{owed:?}");
    let (ctx_one, ctx_two) = (JobCtx::detached(), JobCtx::detached());
    let (one, two) = tokio::join!(jobs.run(&crm, &job, &ctx_one), jobs.run(&crm, &job, &ctx_two));
    let sent = one.unwrap().unwrap()["sent"].as_u64().unwrap() + two.unwrap().unwrap()["sent"].as_u64().unwrap();
    assert_eq!(sent, 2);
    let third = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(third["sent"], 0);
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = smtp.received();
        if mails.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mails.len(), 2, "{mails:?}");
    let action = mails.iter().find(|m| m.contains("Rensa kundlistan")).unwrap();
    assert!(action.contains("bo@example.se"), "{action}");
    assert!(action.contains("Hej bo"), "in Swedish: {action}");
    assert!(
        action.contains(&format!("https://crm.example.se/projects/{id}/meetings")),
        "{action}"
    );
    let matrix = mails.iter().find(|m| m.contains("Styrgruppen")).unwrap();
    assert!(
        matrix.contains("Lägesrapport") || matrix.contains("L=C3=A4gesrapport"),
        "{matrix}"
    );
    // The action moved to a later date that has passed too: reminded again, once.
    let n = a.body["number"].as_u64().unwrap();
    let moved = h
        .patch(
            &format!("/api/v1/projects/{id}/actions/{n}"),
            None,
            json!({"due": "2026-11-20", "version": a.body["version"]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let later = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(later["sent"], 1, "{later}");
    let again = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(again["sent"], 0, "{again}");
}

/// Issue 21: a shared report by e-mail to two sellers of different teams, each copy run as its
/// reader (only their team's deals), once per week however often the job runs, in the
/// reader's language, through a real SMTP server.
pub async fn report_mails_hold_each_readers_records_once_a_week(h: H) {
    let Some(smtp) = Smtp::start() else { return };
    let north = identity::team(&h, "Norr").await;
    let south = identity::team(&h, "Syd").await;
    let nils = identity::user(&h, "nils@example.se", "user", Some(&north)).await;
    let sara = identity::user(&h, "sara@example.se", "user", Some(&south)).await;
    let r = h
        .patch(&format!("/api/v1/users/{nils}"), None, json!({"locale": "sv"}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    for (name, owner, amount) in [
        ("Norrland AB", &nils, "100.00"),
        ("Norrsken", &nils, "50.00"),
        ("Skåne AB", &sara, "70.00"),
    ] {
        let d = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": "proposal", "amount": amount, "currency": "SEK", "owner": owner}),
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
    }
    let policy = h
        .put(
            "/api/v1/access-policy",
            json!({"visibility": {"deal": {"user": "team"}}}),
        )
        .await;
    assert!(policy.status.is_success(), "{}", policy.body);
    let saved = h
        .post(
            "/api/v1/reports",
            json!({"name": "Pipeline", "shared": true, "spec": {"object": "deal", "groups": [{"field": "stage"}],
                "measure": {"func": "sum", "field": "amount"}}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let id = saved.body["id"].as_str().unwrap().to_string();
    for user in [&nils, &sara] {
        let s = h
            .put(
                &format!("/api/v1/reports/{id}/subscriptions"),
                json!({"cadence": "weekly", "user": user}),
            )
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    }
    let from = anchora_web::mail::parse_mailbox("Anchora <crm@example.se>").unwrap();
    let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), from).unwrap();
    let jobs = Arc::new(ServerJobs::new(Arc::new(mailer), "https://crm.example.se"));
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    let store = h.instance.main();
    let mut job = NewJob::now(JobKind::ReportMails, json!({}), None, h.clock.now());
    job.run_at = h.clock.now() + chrono::Duration::days(365);
    store.enqueue_job(&job).await.unwrap();
    let job = store.job(job.id).await.unwrap().unwrap();
    let (ctx_one, ctx_two) = (JobCtx::detached(), JobCtx::detached());
    let (one, two) = tokio::join!(jobs.run(&crm, &job, &ctx_one), jobs.run(&crm, &job, &ctx_two));
    let sent = one.unwrap().unwrap()["sent"].as_u64().unwrap() + two.unwrap().unwrap()["sent"].as_u64().unwrap();
    assert_eq!(sent, 2, "one copy each, though two runs raced");
    h.clock.advance(chrono::Duration::days(1));
    let again = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(again["sent"], 0, "weekly: not again the next day");
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = smtp.received();
        if mails.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mails.len(), 2, "{mails:?}");
    // The table's lines only: no header, message id or link holds a figure by chance.
    let table = |m: &str| -> Vec<String> {
        let body = m.split_once("\n\n").map_or("", |(_, b)| b);
        body.lines()
            .filter(|l| !l.contains("http") && l.split_whitespace().count() >= 2)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let to_nils = mails.iter().find(|m| m.contains("nils@example.se")).unwrap();
    assert!(to_nils.contains("Hej nils"), "in Swedish: {to_nils}");
    let nils_table = table(to_nils);
    assert!(
        nils_table.iter().any(|l| l.ends_with(" 2 150")),
        "North's two deals: {nils_table:?}"
    );
    assert!(
        !nils_table.iter().any(|l| l.ends_with(" 70") || l.ends_with(" 220")),
        "nothing of South's: {nils_table:?}"
    );
    let to_sara = mails.iter().find(|m| m.contains("sara@example.se")).unwrap();
    let sara_table = table(to_sara);
    assert!(sara_table.iter().any(|l| l.ends_with(" 1 70")), "{sara_table:?}");
    assert!(!sara_table.iter().any(|l| l.contains(" 150")), "{sara_table:?}");
    assert!(
        to_sara.contains(&format!("https://crm.example.se/reports/{id}")),
        "{to_sara}"
    );
    h.clock.advance(chrono::Duration::days(7));
    let next_week = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(next_week["sent"], 2, "{next_week}");
}

/// Issue 22: the weekly adoption digest reaches each team lead and key user once, in their
/// language, naming the weak users of their teams (not their figures); nudges, when turned on,
/// reach the weak users and name their key user.
pub async fn the_adoption_digest_goes_once_a_week_to_leads_and_key_users(h: H) {
    let Some(smtp) = Smtp::start() else { return };
    let north = identity::team(&h, "Norr").await;
    let lena = identity::user(&h, "lena@example.se", "user", Some(&north)).await;
    identity::user(&h, "kai@example.se", "key_user", Some(&north)).await;
    identity::user(&h, "bo@example.se", "user", Some(&north)).await;
    let r = h
        .patch(&format!("/api/v1/users/{lena}"), None, json!({"locale": "sv"}))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = h
        .put(&format!("/api/v1/teams/{north}/lead"), json!({"lead": lena}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.put("/api/v1/teams/not-a-team/lead", json!({"lead": lena})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Three weeks on, nobody in North has signed in.
    h.clock.advance(chrono::Duration::days(21));
    let crm = anchora_core::service::Crm::new(h.instance.main(), h.clock.clone());
    crm.measure_usage(false, &JobCtx::detached()).await.unwrap();
    let from = anchora_web::mail::parse_mailbox("Anchora <crm@example.se>").unwrap();
    let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), from).unwrap();
    let jobs = Arc::new(ServerJobs::new(Arc::new(mailer), "https://crm.example.se"));
    let store = h.instance.main();
    let mut job = NewJob::now(JobKind::AdoptionDigest, json!({}), None, h.clock.now());
    job.run_at = h.clock.now() + chrono::Duration::days(365);
    store.enqueue_job(&job).await.unwrap();
    let job = store.job(job.id).await.unwrap().unwrap();
    let (ctx_one, ctx_two) = (JobCtx::detached(), JobCtx::detached());
    let (one, two) = tokio::join!(jobs.run(&crm, &job, &ctx_one), jobs.run(&crm, &job, &ctx_two));
    let sent = one.unwrap().unwrap()["sent"].as_u64().unwrap() + two.unwrap().unwrap()["sent"].as_u64().unwrap();
    assert_eq!(sent, 2, "the lead and the key user, once each, though two runs raced");
    let again = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert_eq!(again["sent"], 0, "weekly: not again the same week");
    let wait_for = |n: usize| {
        let smtp = &smtp;
        async move {
            for _ in 0..100 {
                if smtp.received().len() >= n {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            smtp.received()
        }
    };
    let mails = wait_for(2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let to_lena = mails.iter().find(|m| m.contains("To: lena@example.se")).unwrap();
    assert!(to_lena.contains("Hej lena"), "in Swedish: {to_lena}");
    assert!(to_lena.contains("- bo, Norr: har aldrig loggat in"), "{to_lena}");
    assert!(!to_lena.contains("- lena"), "not herself: {to_lena}");
    assert!(to_lena.contains("https://crm.example.se/adoption"), "{to_lena}");
    let to_kai = mails.iter().find(|m| m.contains("To: kai@example.se")).unwrap();
    assert!(to_kai.contains("- bo, Norr: has never signed in"), "{to_kai}");
    assert!(
        !mails.iter().any(|m| m.contains("To: bo@example.se")),
        "no digest to a member"
    );

    // Nudges on: the next week Bo hears from Anchora, naming Kai.
    let r = h
        .put(
            "/api/v1/adoption/rules",
            json!({"no_sign_in_days": 14, "below_half_weeks": 2, "nudge": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    h.clock.advance(chrono::Duration::days(7));
    let next = jobs.run(&crm, &job, &JobCtx::detached()).await.unwrap().unwrap();
    assert!(
        next["sent"].as_u64().unwrap() >= 4,
        "two digests and the nudges: {next}"
    );
    let mails = wait_for(6).await;
    let to_bo = mails.iter().find(|m| m.contains("To: bo@example.se")).unwrap();
    assert!(to_bo.contains("kai is your key user"), "{to_bo}");
    assert!(!to_bo.contains("lena"), "a nudge names no colleague's usage: {to_bo}");
}
