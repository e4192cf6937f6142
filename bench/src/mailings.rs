//! Mass mailings (issue 20): preparing a mailing to 100,000 people (the selection worked out,
//! consent asked, the snapshot kept, every message rendered), sending through a local SMTP
//! server with no throttle, and the process's memory while a 100,000-recipient mailing goes.

use crate::{Report, fresh_pg};
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::consent::{ConsentEvent, ConsentState};
use anchora_core::identity::User;
use anchora_core::ids::{IdSequence, MailingId, UserId};
use anchora_core::jobs::JobCtx;
use anchora_core::mail::{Delivery, Email, Mailer};
use anchora_core::mailings::Outbox;
use anchora_core::record::Record;
use anchora_core::service::Crm;
use anchora_core::store::{ConsentStore, JobStore, MailingStore, RecordStore, UserStore};
use anchora_core::value::Value;
use anchora_core::write::WriteCtx;
use anchora_core::{Clock, Store, SystemClock};
use anchora_store::{Backend, Instance};
use anyhow::{Context, Result};
use async_trait::async_trait;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const RECIPIENTS: usize = 100_000;
/// Messages sent through the local SMTP server (at ≥ 300/s a run of about a minute).
const SMTP_RECIPIENTS: usize = 20_000;

/// A mailer that takes every message at once: what is left is Anchora's own work.
#[derive(Default)]
struct Counting(AtomicU64);

#[async_trait]
impl Mailer for Counting {
    async fn send(&self, _: &Email) -> anchora_core::Result<()> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn deliver(&self, _: &Email) -> Delivery {
        self.0.fetch_add(1, Ordering::Relaxed);
        Delivery::Sent
    }
}

/// The process's resident memory in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn open(dir: &Path, backend: Backend, name: &str) -> Result<(Crm, Arc<anchora_store::SqlStore>)> {
    let url = match backend {
        Backend::Sqlite => {
            let d = dir.join(name);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d)?;
            format!("sqlite://{}", d.join("mailings.db").display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, &format!("anchora_bench_{name}")).await?
        }
    };
    let clock = Arc::new(SystemClock);
    let instance = Instance::open(&url, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let store = instance.main();
    Ok((Crm::new(store.clone() as Arc<dyn Store>, clock), store))
}

/// `people` people with addresses and languages, nine in ten with consent to the newsletter.
async fn seed(crm: &Crm, store: &anchora_store::SqlStore, people: usize, who: &Principal) -> Result<()> {
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    crm.add_purpose(who, json!({"key": "newsletter", "name": "Newsletter"}))
        .await
        .map_err(err)?;
    let schema = crm.schema().await.map_err(err)?;
    let person = schema.object("person").map_err(err)?.clone();
    let now = chrono::Utc::now();
    let ctx = WriteCtx {
        actor: who.user_id,
        now,
    };
    let ids = IdSequence::default();
    let names = [
        "Öberg",
        "Ærø",
        "Müller",
        "Núñez",
        "Lindqvist",
        "Søndergaard",
        "García",
        "Åkesson",
    ];
    let languages = ["sv", "da", "de", "es", "en"];
    for start in (0..people).step_by(5_000) {
        let mut records = Vec::new();
        let mut events = Vec::new();
        for i in start..(start + 5_000).min(people) {
            let mut r = Record::new("person", ids.next(now), now, Some(who.user_id));
            r.values.insert("first_name".into(), Value::Text(format!("Person{i}")));
            r.values
                .insert("last_name".into(), Value::Text(names[i % names.len()].to_string()));
            r.values.insert("email".into(), Value::Text(format!("p{i}@example.se")));
            r.values.insert("city".into(), Value::Text("Göteborg".into()));
            r.values
                .insert("language".into(), Value::Select(languages[i % languages.len()].into()));
            if i % 10 != 0 {
                events.push(ConsentEvent {
                    person: r.id,
                    purpose: "newsletter".into(),
                    state: ConsentState::Granted,
                    source: "bench".into(),
                    at: now,
                    by: Some(who.user_id),
                });
            }
            records.push(r);
        }
        store.insert_records(&person, &records, ctx).await.map_err(err)?;
        store.record_consents(&events).await.map_err(err)?;
    }
    Ok(())
}

/// A mailing to everyone in Göteborg, started; its job claimed, to run here.
async fn started(
    crm: &Crm,
    store: &anchora_store::SqlStore,
    who: &Principal,
) -> Result<(MailingId, anchora_core::jobs::Job)> {
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);
    let selection = crm
        .create_selection(
            who,
            json!({"name": "Göteborg", "object": "person", "filter": {"field": "city", "op": "eq", "value": "Göteborg"}}),
        )
        .await
        .map_err(err)?;
    let variant = |l: &str, hello: &str| {
        json!({"language": l, "subject": format!("{hello} {{{{ person.first_name }}}}"),
               "html": format!("<h1>{hello} {{{{ person.first_name }}}} {{{{ person.last_name }}}}</h1><p>{{% for i in range(5) %}}Punkt {{{{ loop.index }}}}. {{% endfor %}}</p><p><a href=\"{{{{ unsubscribe_url }}}}\">x</a></p>"),
               "text": format!("{hello} {{{{ person.first_name }}}}\n{{{{ unsubscribe_url }}}}")})
    };
    let template = crm
        .create_template(
            who,
            json!({"name": "Bench", "default_language": "en", "variants": [
                variant("en", "Hello"), variant("sv", "Hej"), variant("de", "Hallo"), variant("da", "Hej"), variant("es", "Hola")]}),
        )
        .await
        .map_err(err)?;
    let mailing = crm
        .create_mailing(
            who,
            json!({"name": "Bench", "selection": selection.selection.id, "template": template.template.id, "purpose": "newsletter"}),
        )
        .await
        .map_err(err)?;
    let id = mailing.mailing.id;
    crm.start_mailing(who, &id.to_string(), json!({"version": 1}))
        .await
        .map_err(err)?;
    let now = chrono::Utc::now();
    let job = store
        .claim_job("bench", now, now + chrono::Duration::hours(1))
        .await
        .map_err(err)?
        .context("the mailing's job")?;
    Ok((id, job))
}

async fn admin(store: &anchora_store::SqlStore) -> Result<Principal> {
    let now = chrono::Utc::now();
    let user = User::new(
        UserId::new_at(now),
        Some("bench@example.se".into()),
        "Bench",
        Role::Admin,
        now,
    );
    store.create_user(&user).await.map_err(|e| anyhow::anyhow!(e.detail))?;
    Ok(Principal::new(user.id, Role::Admin, None, Credential::Local))
}

/// The test SMTP server of the web crate (aiosmtpd), keeping nothing.
struct Sink(std::process::Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sink(dir: &Path) -> Result<(Sink, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = std::process::Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/web/tests/support/smtp_sink.py"
        ))
        .arg(port.to_string())
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("python3 with aiosmtpd (apt install python3-aiosmtpd)")?;
    let sink = Sink(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the SMTP sink did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((sink, port))
}

pub async fn bench(dir: &Path, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    // A smaller run for trying things out: ANCHORA_BENCH_MAILING_PEOPLE=10000.
    let people: usize = std::env::var("ANCHORA_BENCH_MAILING_PEOPLE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RECIPIENTS);
    let err = |e: anchora_core::Error| anyhow::anyhow!(e.detail);

    // Preparing and sending to 100,000 with a mailer that takes everything at once.
    eprintln!("== {name}: mailing to {people} people");
    let (crm, store) = open(dir, backend, "mailing_prep").await?;
    let who = admin(&store).await?;
    seed(&crm, &store, people, &who).await?;
    let (id, job) = started(&crm, &store, &who).await?;
    let counting = Counting::default();
    let outbox = Outbox {
        mailer: &counting,
        public_url: "https://crm.example.se",
        bounce_address: Some("bounces@example.se"),
    };
    let ctx = JobCtx::detached();
    let rss_before = rss_mib();
    let peak = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Ok(mut p) = peak.lock() {
                    p.push(rss_mib());
                }
            }
        })
    };
    let t = Instant::now();
    let began = chrono::Utc::now();
    crm.run_mailing_job(&job, &ctx, &outbox).await.map_err(err)?;
    let whole = t.elapsed();
    sampler.abort();
    let mailing = store.mailing(id).await.map_err(err)?.context("mailing")?;
    let prepared_at = mailing.prepared_at.context("prepared")?;
    let prep = (prepared_at - began).to_std().unwrap_or_default();
    let sent = counting.0.load(Ordering::Relaxed);
    let counts = store.recipient_counts(id).await.map_err(err)?;
    anyhow::ensure!(
        mailing.state == anchora_core::mailings::MailingState::Done,
        "the mailing did not finish"
    );
    anyhow::ensure!(
        sent == counts.get("sent").copied().unwrap_or(0),
        "sent {sent} but counted {counts:?}"
    );
    let prep_secs = prep.as_secs_f64();
    report.add(
        &format!("{name}: prepare a mailing to {people} people (selection, consent, snapshot)"),
        format!("{prep_secs:.1} s"),
        "≤ 10 s (SQLite)",
    );
    let send_secs = (whole.as_secs_f64() - prep_secs).max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let rate = sent as f64 / send_secs;
    report.add(
        &format!("{name}: render, settle and log {sent} messages (mailer taking all at once)"),
        format!("{rate:.0} mails/s ({send_secs:.1} s)"),
        "",
    );
    // The highest resident memory in each quarter of the run: flat is a plateau, not a climb
    // (the page caches fill once — SQLite's are up to 16 MiB per reader and 64 MiB for the
    // writer — and then stay).
    let samples = peak.lock().map(|p| p.clone()).unwrap_or_default();
    let quarter = samples.len().div_ceil(4).max(1);
    let peaks: Vec<String> = samples
        .chunks(quarter)
        .map(|q| format!("{:.0}", q.iter().copied().fold(0.0, f64::max)))
        .collect();
    report.add(
        &format!("{name}: memory during the {people}-recipient mailing"),
        format!(
            "{rss_before:.0} MiB before; peak per quarter of the run {} MiB ({} samples)",
            peaks.join(" / "),
            samples.len()
        ),
        "flat",
    );

    // Sending through a real SMTP server on this machine, no throttle.
    let smtp_people = SMTP_RECIPIENTS.min(people);
    eprintln!("== {name}: {smtp_people} messages through a local SMTP server");
    let (crm, store) = open(dir, backend, "mailing_smtp").await?;
    let who = admin(&store).await?;
    seed(&crm, &store, smtp_people * 10 / 9 + 1, &who).await?;
    let (id, job) = started(&crm, &store, &who).await?;
    let sink_dir = tempfile_dir(dir, "mailing_sink")?;
    let (_sink, port) = sink(&sink_dir)?;
    let from = anchora_web::mail::parse_mailbox("Nyheter <news@example.se>").map_err(|e| anyhow::anyhow!(e))?;
    let smtp = anchora_web::mail::SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), from)
        .map_err(|e| anyhow::anyhow!(e))?;
    let outbox = Outbox {
        mailer: &smtp,
        public_url: "https://crm.example.se",
        bounce_address: Some("bounces@example.se"),
    };
    let t = Instant::now();
    let began = chrono::Utc::now();
    crm.run_mailing_job(&job, &JobCtx::detached(), &outbox)
        .await
        .map_err(err)?;
    let whole = t.elapsed();
    let mailing = store.mailing(id).await.map_err(err)?.context("mailing")?;
    let prepared_at = mailing.prepared_at.context("prepared")?;
    let prep = (prepared_at - began).to_std().unwrap_or_default();
    let counts = store.recipient_counts(id).await.map_err(err)?;
    let sent = counts.get("sent").copied().unwrap_or(0);
    let received = std::fs::read_dir(&sink_dir)?.count();
    anyhow::ensure!(received as u64 == sent, "the SMTP server holds {received}, {sent} sent");
    let send_secs = (whole - prep).as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let rate = sent as f64 / send_secs;
    report.add(
        &format!("{name}: send {sent} messages to a local SMTP server, no throttle"),
        format!("{rate:.0} mails/s ({send_secs:.1} s)"),
        "≥ 300 mails/s",
    );
    let _ = std::fs::remove_dir_all(&sink_dir);
    Ok(())
}

fn tempfile_dir(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let d = dir.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
