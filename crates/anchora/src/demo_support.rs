//! The demo's support chain after go-live (issue 23): the stewardship plan, the support settings
//! with hypercare, five weeks of questions, answers and the key-user group's backlog.
//!
//! The story: the twenty sales people went live on a Monday five to six weeks ago, after the
//! basics and key-user trainings the onboarding demo records (eight and seven weeks ago); the
//! rollout project ("CRM rollout 2027") carries on with the next wave, service and marketing.
//! The plan was settled three weeks before go-live: Anders Berg (the project's sales
//! representative) owns the system and decides in the key-user group, Omar Haddad (the
//! project's technical expert) is IT with the demo administrator, CRM Partner AB's Mikael Ek
//! is the vendor's contact, and every team has a key user but New York, whose questions go
//! straight to IT (the plan's one gap). Hypercare runs six weeks from go-live, so it is still
//! on: its view has open questions to show.
//!
//! Every question is raised, answered, passed on and resolved through the use cases, each step
//! at its own moment of the past (one clock, set before each step), in the order they happened,
//! with the breach check run every open hour in between, as the server's job would have. So
//! the agreed times, warnings and the two breaches (a key user away at a customer, a fault only
//! the vendor could fix) are what the rules make of the steps, not invented.

use anchora_core::accounts::Origin;
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::service::Crm;
use anchora_core::store::UserStore;
use anchora_core::support::SupportStore;
use anchora_core::{Clock, FixedClock, Store, TeamId, UserId};
use anchora_store::SqlStore;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

fn err(e: anchora_core::Error) -> anyhow::Error {
    anyhow!("{}: {:?}", e.detail, e.errors)
}

/// Who takes a step: the one who asked, the team's key user (IT where the team has none), IT,
/// or the system owner.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Asker,
    Key,
    It,
}

#[derive(Clone, Copy)]
enum Act {
    Reply(&'static str),
    Note(&'static str),
    Status(&'static str),
    ToIt(&'static str),
    /// To the vendor by hand: why, their ticket reference, their agreed open hours.
    ToVendor(&'static str, &'static str, i64, i64),
    VendorRef(&'static str),
}

/// A step: business days after the day it was raised (0: minutes after it was raised; more:
/// minutes after 08:00 that day), who, what.
type Step = (i64, i64, By, Act);

/// When a question was raised: a business day counted from go-live, or back from today, at a
/// local time; or some minutes ago.
#[derive(Clone, Copy)]
enum Day {
    After(i64, u32, u32),
    Before(i64, u32, u32),
    MinutesAgo(i64),
}

struct Script {
    asker: &'static str,
    day: Day,
    category: &'static str,
    priority: &'static str,
    subject: &'static str,
    description: &'static str,
    steps: Vec<Step>,
}

const GO_LIVE_WEEKS_AGO: i64 = 5;
const HYPERCARE_WEEKS: u32 = 6;
const IT: &str = "omar.haddad@example.com";
const OWNER: &str = "anders.berg@example.com";

/// The plan's key users per team, by e-mail; New York has none.
const KEY_USERS: [(&str, &[&str]); 9] = [
    (
        "Stockholm",
        &["emma.johansson@example.com", "sara.lindberg@example.com"],
    ),
    ("Göteborg", &["linnea.holm@example.com"]),
    ("Hamburg", &["jonas.weber@example.com"]),
    ("München", &["anna.huber@example.com"]),
    ("København", &["rasmus.moller@example.com"]),
    ("Aarhus", &["freja.kristensen@example.com"]),
    ("Madrid", &["lucia.romero@example.com"]),
    ("Barcelona", &["carmen.ortega@example.com"]),
    ("London", &["amelia.clarke@example.com"]),
];

fn is_business(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The `n`th business day after `from` (0: `from` itself, moved on to a business day).
fn business_after(from: NaiveDate, n: i64) -> NaiveDate {
    let mut d = from;
    while !is_business(d) {
        d += Duration::days(1);
    }
    for _ in 0..n {
        d += Duration::days(1);
        while !is_business(d) {
            d += Duration::days(1);
        }
    }
    d
}

/// The `n`th business day before `from`.
fn business_before(from: NaiveDate, n: i64) -> NaiveDate {
    let mut d = from;
    for _ in 0..n {
        d -= Duration::days(1);
        while !is_business(d) {
            d -= Duration::days(1);
        }
    }
    d
}

fn local<Z: TimeZone>(zone: &Z, day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let t = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN));
    zone.from_local_datetime(&t)
        .earliest()
        .map_or_else(|| t.and_utc(), |t| t.with_timezone(&Utc))
}

enum Happening {
    Raise(usize),
    Step(usize, usize),
    BreachCheck,
}

pub async fn seed(store: &Arc<SqlStore>, admin: UserId, clock: Arc<dyn Clock>) -> Result<()> {
    let now = clock.now();
    let then = Arc::new(FixedClock::new(now));
    let dyn_store: Arc<dyn Store> = store.clone();
    let crm = Crm::new(dyn_store, then.clone());
    // The support calendar's zone (Stockholm, as the demo's workspace).
    let zone = &anchora_core::support::SupportSettings::default().calendar.time_zone;
    let today = now.with_timezone(zone).date_naive();
    let back = today - Duration::weeks(GO_LIVE_WEEKS_AGO);
    let go_live = back - Duration::days(i64::from(back.weekday().num_days_from_monday()));
    let boss = Principal::new(admin, Role::Admin, None, Credential::Local);

    // IT: the project's technical expert, an administrator since before the plan was made.
    then.set(local(zone, go_live - Duration::days(60), 9, 0));
    if store.user_by_email(IT).await.map_err(err)?.is_none() {
        crm.create_user(
            &boss,
            json!({"email": IT, "name": "Omar Haddad", "role": "admin", "locale": "en"}),
            &Origin::default(),
        )
        .await
        .map_err(err)?;
    }
    let users = store.users().await.map_err(err)?;
    let teams = store.teams().await.map_err(err)?;
    let by_mail: HashMap<&str, &anchora_core::identity::User> = users
        .iter()
        .filter_map(|u| u.email.as_deref().map(|e| (e, u)))
        .collect();
    let user = |email: &str| {
        by_mail
            .get(email)
            .copied()
            .ok_or_else(|| anyhow!("no demo user {email}"))
    };
    let principal = |email: &str| -> Result<Principal> {
        let u = user(email)?;
        Ok(Principal::new(u.id, u.role, u.team, Credential::Local))
    };
    let team_id = |name: &str| teams.iter().find(|t| t.name == name).map(|t| t.id);
    let it = principal(IT)?;
    let owner = user(OWNER)?.id;

    // The support settings and the plan, settled before go-live.
    then.set(local(zone, go_live - Duration::days(21), 10, 0));
    crm.set_support_settings(
        &boss,
        json!({
            "calendar": {"time_zone": "Europe/Stockholm",
                "holidays": ["01-01", "01-06", "05-01", "06-06", "12-24", "12-25", "12-26", "12-31"]},
            "hypercare": {"go_live": go_live, "weeks": HYPERCARE_WEEKS},
            "vendor_name": "CRM Partner AB",
            "vendor_contact": "Mikael Ek, support@crmpartner.example, +46 40 123 45 60",
        }),
    )
    .await
    .map_err(err)?;
    let mut key_users = Vec::new();
    for (team, emails) in KEY_USERS {
        let Some(team) = team_id(team) else { continue };
        let ids: Vec<String> = emails
            .iter()
            .filter_map(|e| by_mail.get(e).map(|u| u.id.to_string()))
            .collect();
        key_users.push(json!({"team": team, "users": ids}));
    }
    let first_forum = business_after(go_live + Duration::days(10), 0);
    crm.update_stewardship_plan(
        &boss,
        json!({
            "version": 0,
            "system_owner": owner,
            "administrators": [user(IT)?.id, admin],
            "key_users": key_users,
            "vendor_contacts": [{
                "name": "Mikael Ek", "company": "CRM Partner AB", "email": "mikael.ek@crmpartner.example",
                "phone": "+46 40 123 45 60",
                "agreement": "Weekdays 08:00–17:00. Urgent faults answered within 2 hours and solved within a working day; other questions answered within a working day. During hypercare a named consultant is on call."
            }],
            "matrix": {"rows": [["low", "low", "normal"], ["low", "normal", "high"], ["normal", "high", "urgent"]]},
            "forum": {
                "name": "Key-user group", "every_weeks": 2, "next_meeting": first_forum, "decider": owner,
                "change_route": "A colleague asks their key user; the key user puts the wish on the backlog with its value and effort; the key-user group weighs it every other Thursday and Anders Berg decides; IT or CRM Partner makes the change and the request is linked to what changed."
            },
            "go_live": go_live,
        }),
    )
    .await
    .map_err(err)?;

    // The questions, each step at its moment, in the order they happened.
    let scripts = scripts();
    let key_user_of = |team: Option<TeamId>, asker: UserId| -> Option<&'static str> {
        let name = teams.iter().find(|t| Some(t.id) == team)?.name.as_str();
        let (_, emails) = KEY_USERS.iter().find(|(t, _)| *t == name)?;
        emails
            .iter()
            .copied()
            .find(|e| by_mail.get(e).is_some_and(|u| u.id != asker))
    };
    let raised_at = |s: &Script| -> Result<DateTime<Utc>> {
        let at = match s.day {
            Day::After(n, h, m) => local(zone, business_after(go_live, n), h, m),
            Day::Before(n, h, m) => local(zone, business_before(today, n), h, m),
            Day::MinutesAgo(m) => now - Duration::minutes(m),
        };
        // Nobody asks before they joined.
        Ok(at.max(user(s.asker)?.created_at + Duration::hours(1)))
    };
    let step_at = |raised: DateTime<Utc>, (days, minutes, _, _): &Step| {
        if *days == 0 {
            raised + Duration::minutes(*minutes)
        } else {
            let day = business_after(raised.with_timezone(zone).date_naive(), *days);
            local(zone, day, 8, 0) + Duration::minutes(*minutes)
        }
    };
    let mut plan: Vec<(DateTime<Utc>, u8, Happening)> = Vec::new();
    let mut raised = Vec::new();
    for (i, s) in scripts.iter().enumerate() {
        let at = raised_at(s)?;
        raised.push(at);
        plan.push((at, 0, Happening::Raise(i)));
        for (j, step) in s.steps.iter().enumerate() {
            plan.push((step_at(at, step), 1, Happening::Step(i, j)));
        }
    }
    // The breach check, every open hour from go-live on.
    let mut day = go_live;
    while day <= today {
        if is_business(day) {
            for h in 8..=17 {
                plan.push((local(zone, day, h, 0), 2, Happening::BreachCheck));
            }
        }
        day += Duration::days(1);
    }
    plan.retain(|(at, _, _)| *at <= now);
    plan.sort_by_key(|(at, order, _)| (*at, *order));
    let mut numbers: HashMap<usize, (i64, Option<TeamId>, UserId)> = HashMap::new();
    for (at, _, happening) in plan {
        then.set(at);
        match happening {
            Happening::BreachCheck => {
                crm.check_support_breaches().await.map_err(err)?;
            }
            Happening::Raise(i) => {
                let Some(s) = scripts.get(i) else { continue };
                let asker = principal(s.asker)?;
                let q = crm
                    .raise_question(
                        &asker,
                        json!({"subject": s.subject, "description": s.description, "category": s.category,
                            "priority": s.priority}),
                    )
                    .await
                    .map_err(err)?;
                let q = q.line.question;
                numbers.insert(i, (q.number, q.team, q.requester));
            }
            Happening::Step(i, j) => {
                let (Some(s), Some(&(number, team, asker))) = (scripts.get(i), numbers.get(&i)) else {
                    continue;
                };
                let Some(&(_, _, by, act)) = s.steps.get(j) else {
                    continue;
                };
                let who = match by {
                    By::Asker => principal(s.asker)?,
                    By::It => it.clone(),
                    By::Key => match key_user_of(team, asker) {
                        Some(e) => principal(e)?,
                        None => it.clone(),
                    },
                };
                step(store, &crm, &who, number, act)
                    .await
                    .map_err(|e| anyhow!("demo question {:?}, step {j}: {e}", s.subject))?;
            }
        }
    }

    answers(&crm, &then, &principal, &numbers, go_live, zone).await?;
    backlog(&crm, &then, &principal, &numbers, go_live, zone).await
}

async fn step(store: &SqlStore, crm: &Crm, who: &Principal, number: i64, act: Act) -> Result<()> {
    let id = number.to_string();
    let version = || async {
        store
            .question_by_number(number)
            .await
            .map_err(err)?
            .map(|q| q.version)
            .ok_or_else(|| anyhow!("no question {number}"))
    };
    match act {
        Act::Reply(text) => crm
            .add_question_event(who, &id, json!({"kind": "reply", "body": text}))
            .await
            .map(drop),
        Act::Note(text) => crm
            .add_question_event(who, &id, json!({"kind": "note", "body": text}))
            .await
            .map(drop),
        Act::Status(s) => crm
            .set_question_status(who, &id, json!({"version": version().await?, "status": s}))
            .await
            .map(drop),
        Act::ToIt(reason) => crm
            .escalate_question(who, &id, json!({"version": version().await?, "reason": reason}))
            .await
            .map(drop),
        Act::ToVendor(reason, reference, response, resolution) => crm
            .escalate_question(
                who,
                &id,
                json!({"version": version().await?, "reason": reason, "vendor_reference": reference,
                    "response_minutes": response * 60, "resolution_minutes": resolution * 60}),
            )
            .await
            .map(drop),
        Act::VendorRef(reference) => crm
            .update_question(
                who,
                &id,
                json!({"version": version().await?, "vendor_reference": reference}),
            )
            .await
            .map(drop),
    }
    .map_err(err)
}

type Numbers = HashMap<usize, (i64, Option<TeamId>, UserId)>;

/// Answers the key users and IT wrote as the same questions kept coming, in the askers'
/// languages; one made from a solved question, one still a draft.
async fn answers<Z: TimeZone>(
    crm: &Crm,
    then: &FixedClock,
    principal: &dyn Fn(&str) -> Result<Principal>,
    numbers: &Numbers,
    go_live: NaiveDate,
    zone: &Z,
) -> Result<()> {
    let it = principal(IT)?;
    let emma = principal("emma.johansson@example.com")?;
    let linnea = principal("linnea.holm@example.com")?;
    let written: [(&Principal, i64, &str, &str, &str, &str, bool); 8] = [
        (
            &it,
            3,
            "en",
            "data",
            "Importing contacts from Excel or CSV",
            "Save the sheet as \"CSV UTF-8\" (or keep it as .xlsx) and open Imports → New import.\n\nThe import suggests which column goes to which field; check the preview before it writes anything. Rows it cannot read are listed with the reason, and you can fix the file and run it again: people already imported are updated, not duplicated.\n\n- Letters such as å, ø and ü look wrong? The file was not saved as UTF-8.\n- More than a few thousand rows? The import runs in the background; you find it under Jobs.",
            true,
        ),
        (
            &it,
            4,
            "de",
            "data",
            "Kontakte aus Excel oder CSV importieren",
            "Speichern Sie die Tabelle als „CSV UTF-8“ (oder lassen Sie sie als .xlsx) und öffnen Sie Importe → Neuer Import.\n\nDer Import schlägt vor, welche Spalte in welches Feld gehört; prüfen Sie die Vorschau, bevor etwas geschrieben wird. Zeilen, die nicht gelesen werden können, werden mit Grund aufgelistet.\n\n- Umlaute sehen falsch aus? Die Datei war nicht in UTF-8 gespeichert.",
            true,
        ),
        (
            &it,
            4,
            "en",
            "access",
            "Why can't I see my team's deals?",
            "You see your own records and your team's. If a colleague's deals are missing, your account has no team or the wrong one.\n\nAsk your key user: they pass it to IT, who set your team under Administration → Users. Sign out and in again afterwards.",
            true,
        ),
        (
            &emma,
            6,
            "sv",
            "usage",
            "Logga ett samtal eller möte",
            "Öppna personen eller företaget och klicka på \"Logga aktivitet\". Välj Samtal eller Möte, skriv en rad om vad ni kom fram till och sätt gärna en uppföljning.\n\nAktiviteten hamnar på tidslinjen, och uppföljningen syns under Mitt arbete den dag den ska göras.",
            true,
        ),
        (
            &linnea,
            9,
            "sv",
            "data",
            "Slå ihop dubbletter",
            "Gå till Datakvalitet → Dubbletter, eller öppna en av posterna och välj \"Hitta dubbletter\". Välj den post som ska finnas kvar och vilka värden som ska behållas fält för fält. Aktiviteter och affärer flyttas med.",
            true,
        ),
        (
            &it,
            10,
            "da",
            "data",
            "Sådan fletter du dubletter",
            "Gå til Datakvalitet → Dubletter, eller åbn en af posterne og vælg \"Find dubletter\". Vælg den post, der skal blive, og hvilke værdier der skal beholdes felt for felt. Aktiviteter og handler flyttes med.",
            true,
        ),
        (
            &it,
            11,
            "es",
            "usage",
            "Cómo cambiar el idioma de Anchora",
            "Abra Cuenta (arriba a la derecha) → Idioma y elija Español. Las fechas y los importes se muestran también como se escriben en España.",
            true,
        ),
        (
            &it,
            16,
            "en",
            "error",
            "Mailing recipients marked \"uncertain\"",
            "\"Uncertain\" means the mail server stopped while a batch was being sent: those people may or may not have got the e-mail. Do not send again before IT has checked the mail relay's log.",
            false,
        ),
    ];
    for (who, day, language, category, title, body, published) in written {
        then.set(local(zone, business_after(go_live, day), 15, 30));
        crm.create_answer(
            who,
            json!({"title": title, "body": body, "language": language, "category": category, "published": published}),
        )
        .await
        .map_err(err)?;
    }
    // One made from a solved question (the export to Excel), then edited and published.
    if let Some(&(number, _, _)) = numbers.get(&EXPORT_QUESTION) {
        then.set(local(zone, business_after(go_live, 7), 9, 0));
        let draft = crm
            .answer_from_question(&it, &number.to_string(), json!({}))
            .await
            .map_err(err)?;
        then.set(local(zone, business_after(go_live, 7), 9, 20));
        crm.update_answer(
            &it,
            &draft.answer.id.to_string(),
            json!({"version": draft.answer.version, "title": "Export a list to Excel",
                "body": "Open the list (people, companies, deals), filter it to what you need and choose Export → XLSX (or CSV).\n\nUp to 10,000 rows download at once; a longer list is exported in the background and the file waits for you under Jobs.\n\nAn empty file means the filter matched nothing: check it before exporting.",
                "language": "en", "category": "usage", "source_question": draft.answer.source_question.map(|u| u.to_string()),
                "published": true}),
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

/// The key-user group's backlog: wishes from questions, votes, one decided and done with a
/// link to what changed, one turned down.
async fn backlog<Z: TimeZone>(
    crm: &Crm,
    then: &FixedClock,
    principal: &dyn Fn(&str) -> Result<Principal>,
    numbers: &Numbers,
    go_live: NaiveDate,
    zone: &Z,
) -> Result<()> {
    let it = principal(IT)?;
    let emma = principal("emma.johansson@example.com")?;
    let linnea = principal("linnea.holm@example.com")?;
    let anders = principal(OWNER)?;
    let at = |day: i64, h: u32| local(zone, business_after(go_live, day), h, 0);
    let question = |i: usize| numbers.get(&i).map(|(n, _, _)| n.to_string());
    let propose = |who: &Principal, title: &str, description: &str, q: Option<String>, value: u8, effort: u8| {
        let body = json!({"title": title, "description": description, "question": q, "value": value, "effort": effort});
        let who = who.clone();
        async move { crm.create_adjustment_request(&who, body).await.map_err(err) }
    };
    let id = |d: &anchora_core::stewardship::RequestDetail| d.line.request.id.to_string();

    then.set(at(2, 14));
    let erp = propose(
        &it,
        "A field for the customer's ERP number on companies",
        "Hamburg and München look customers up by their ERP number when they call. A field on the company, filled by the ERP integration later on.",
        question(ERP_QUESTION),
        4,
        2,
    )
    .await?;
    then.set(at(3, 10));
    let forecast = propose(
        &linnea,
        "Sellers set the forecast category on their deals",
        "Today the category follows the stage. Sellers want to say commit or best case themselves, so the forecast is theirs.",
        None,
        4,
        1,
    )
    .await?;
    then.set(at(5, 11));
    let zones = propose(
        &it,
        "Times in each user's own time zone",
        "New York reads every due time in Stockholm time. Show times in the reader's zone.",
        question(ZONE_QUESTION),
        3,
        3,
    )
    .await?;
    then.set(at(8, 13));
    let cities = propose(
        &linnea,
        "A pipeline of its own for each city",
        "Göteborg would like a board with only its own stages.",
        None,
        2,
        4,
    )
    .await?;
    then.set(at(16, 15));
    let colours = propose(
        &emma,
        "Colour deals on the board by how long they have waited",
        "A deal that has not moved for 30 days turns amber, for 60 days red.",
        question(COLOUR_QUESTION),
        2,
        3,
    )
    .await?;

    for (who, request, day) in [
        (&emma, &erp, 3),
        (&linnea, &erp, 4),
        (&emma, &forecast, 4),
        (&it, &forecast, 5),
        (&it, &zones, 6),
        (&emma, &colours, 17),
    ] {
        then.set(at(day, 9));
        crm.vote_adjustment(who, &id(request)).await.map_err(err)?;
    }
    then.set(at(4, 16));
    crm.comment_adjustment(
        &emma,
        &id(&erp),
        json!({"body": "Stockholm asks for this too: the order desk always gives the ERP number first."}),
    )
    .await
    .map_err(err)?;

    // The key-user group meets; Anders decides.
    then.set(local(zone, business_after(go_live + Duration::days(10), 0), 15, 0));
    let accepted = crm
        .decide_adjustment(
            &anders,
            &id(&forecast),
            json!({"version": forecast.line.request.version, "status": "accepted",
                "note": "Accepted in the key-user group: sellers set it from next week; the stage still suggests it."}),
        )
        .await
        .map_err(err)?;
    crm.decide_adjustment(
        &anders,
        &id(&cities),
        json!({"version": cities.line.request.version, "status": "rejected",
            "note": "One pipeline for everyone keeps the forecast comparable; the team filter gives Göteborg its own board."}),
    )
    .await
    .map_err(err)?;
    then.set(at(12, 11));
    let done = crm
        .decide_adjustment(
            &anders,
            &id(&forecast),
            json!({"version": accepted.line.request.version, "status": "done",
                "note": "The forecast category is on every deal's form."}),
        )
        .await
        .map_err(err)?;
    let r = &done.line.request;
    crm.update_adjustment_request(
        &it,
        &id(&done),
        json!({"version": r.version, "title": r.title, "description": r.description, "value": r.value,
            "effort": r.effort, "links": [{"kind": "field", "target": "deal.forecast_category"}]}),
    )
    .await
    .map_err(err)?;
    Ok(())
}

const EXPORT_QUESTION: usize = 9;
const ERP_QUESTION: usize = 13;
const ZONE_QUESTION: usize = 6;
const COLOUR_QUESTION: usize = 34;

fn q(
    asker: &'static str,
    day: Day,
    category: &'static str,
    priority: &'static str,
    subject: &'static str,
    description: &'static str,
    steps: Vec<Step>,
) -> Script {
    Script {
        asker,
        day,
        category,
        priority,
        subject,
        description,
        steps,
    }
}

/// The questions of five weeks. Indexes matter to the answers and the backlog (the constants
/// above).
fn scripts() -> Vec<Script> {
    use Act::*;
    use By::*;
    use Day::*;
    const SARA: &str = "sara.lindberg@example.com";
    const EMMA: &str = "emma.johansson@example.com";
    const ANDERS: &str = "anders.berg@example.com";
    const LINNEA: &str = "linnea.holm@example.com";
    const JONAS: &str = "jonas.weber@example.com";
    const LENA: &str = "lena.fischer@example.com";
    const FELIX: &str = "felix.schneider@example.com";
    const METTE: &str = "mette.nielsen@example.com";
    const MADS: &str = "mads.jensen@example.com";
    const JAVIER: &str = "javier.molina@example.com";
    const LUCIA: &str = "lucia.romero@example.com";
    const PAU: &str = "pau.serra@example.com";
    const OLIVER: &str = "oliver.hughes@example.com";
    const AMELIA: &str = "amelia.clarke@example.com";
    const ETHAN: &str = "ethan.brooks@example.com";
    const MAJA: &str = "maja.lindqvist@example.com";
    const TOBIAS: &str = "tobias.kruger@example.com";
    const SOFIA: &str = "sofia.navarro@example.com";
    vec![
        // 0
        q(
            SARA,
            After(0, 8, 40),
            "usage",
            "normal",
            "Where did my list of key accounts go?",
            "In the old CRM I had a saved list of my key accounts. I can't find it in Anchora.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply(
                        "Saved lists from the old CRM were not moved over. Open Companies, filter the way you want (owner = you, type = customer), then click \"Save view\" and give it a name. It stays under your views from then on.",
                    ),
                ),
                (0, 50, Asker, Reply("Found it and saved it, thanks!")),
                (0, 55, Key, Status("resolved")),
            ],
        ),
        // 1
        q(
            ANDERS,
            After(0, 9, 15),
            "access",
            "high",
            "I can't see the Göteborg team's deals",
            "Linnea's deals don't show up in my pipeline, only my own.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply("I see them on my side, so it's your account's rights. Passing it to IT."),
                ),
                (0, 22, Key, ToIt("Access: Anders should see the Göteborg team's deals.")),
                (
                    0,
                    45,
                    It,
                    Reply(
                        "Your account was set up without a team. I've put you in Göteborg — sign out and in again and the deals are there.",
                    ),
                ),
                (0, 50, It, Status("resolved")),
            ],
        ),
        // 2
        q(
            LENA,
            After(0, 10, 5),
            "data",
            "normal",
            "Müller Logistik GmbH is there three times",
            "After the import I find Müller Logistik GmbH three times. Which one should I use?",
            vec![
                (
                    0,
                    40,
                    Key,
                    Reply(
                        "The import brought the old CRM's duplicates with it. Use Data quality → Duplicates: keep the one with the most activities and merge the others into it. I've merged Müller Logistik for you.",
                    ),
                ),
                (
                    0,
                    42,
                    Key,
                    Note("We should scan all of Hamburg for duplicates — I'll raise it in the key-user group."),
                ),
                (0, 45, Key, Status("resolved")),
            ],
        ),
        // 3
        q(
            FELIX,
            After(0, 11, 20),
            "usage",
            "normal",
            "How do I log a call?",
            "I just called a customer. Where do I write down what we agreed?",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Open the person or the company and click \"Log activity\", choose Call and write a line. Set a follow-up and it shows on My work that day.",
                    ),
                ),
                (0, 35, Key, Status("resolved")),
                (1, 30, Asker, Status("closed")),
            ],
        ),
        // 4
        q(
            METTE,
            After(0, 13, 10),
            "error",
            "high",
            "The board freezes when I drag a deal",
            "Dragging a deal from Proposal to Negotiation spins and nothing happens. It happened three times.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply("I can make it happen too, with deals that have no expected close date. Passing it to IT."),
                ),
                (
                    0,
                    27,
                    Key,
                    ToIt("Reproducible: dragging a deal without an expected close date on the board never finishes."),
                ),
                (
                    0,
                    50,
                    It,
                    Reply(
                        "Thanks — it's the deals without an expected close date. Set the date first and the move works. I've told the vendor about the bug.",
                    ),
                ),
                (0, 70, Asker, Reply("Works now!")),
                (0, 75, It, Status("resolved")),
            ],
        ),
        // 5
        q(
            JAVIER,
            After(0, 14, 30),
            "access",
            "urgent",
            "I can't sign in",
            "It says my password is wrong, and the reset e-mail never arrives. I have customer meetings all afternoon.",
            vec![
                (
                    0,
                    15,
                    Key,
                    Reply("I can't reset passwords — passing it to IT right away."),
                ),
                (0, 16, Key, ToIt("Sign-in: the password reset e-mail does not arrive.")),
                (
                    0,
                    35,
                    It,
                    Reply(
                        "The reset e-mail went to your old address. I've corrected it and sent a new link; it is valid for an hour.",
                    ),
                ),
                (0, 50, Asker, Reply("I'm in. ¡Gracias!")),
                (0, 52, It, Status("resolved")),
            ],
        ),
        // 6 (ZONE_QUESTION)
        q(
            ETHAN,
            After(0, 15, 40),
            "usage",
            "normal",
            "Which time zone are my activity times in?",
            "My follow-ups say 15:00 but I set them for 9 in the morning.",
            vec![
                (
                    0,
                    30,
                    It,
                    Reply(
                        "The workspace keeps Stockholm time, so due times show in Swedish time — 15:00 there is 9:00 in New York. Showing each user's own zone is a wish for the key-user group; I've put it on the backlog.",
                    ),
                ),
                (
                    0,
                    32,
                    It,
                    Note(
                        "New York has no key user in the plan, so their questions come straight to IT. Raise it with Anders.",
                    ),
                ),
                (0, 35, It, Status("resolved")),
            ],
        ),
        // 7
        q(
            EMMA,
            After(1, 8, 30),
            "data",
            "low",
            "Phone numbers without a country code",
            "Half of my customers' phone numbers start with 0, without +46. Should I fix them by hand?",
            vec![
                (
                    0,
                    60,
                    Key,
                    Reply(
                        "They came like that from the old CRM. Data quality lists them per owner; let's each fix our own in week two. New numbers get the country code when you save.",
                    ),
                ),
                (0, 65, Key, Status("resolved")),
            ],
        ),
        // 8
        q(
            PAU,
            After(1, 9, 45),
            "usage",
            "normal",
            "Can I see a company's deals on the company page?",
            "I open a company and only see its address and people.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply(
                        "Yes: scroll down on the company. Under \"Related\" you find its deals, people and activities.",
                    ),
                ),
                (0, 25, Key, Status("resolved")),
            ],
        ),
        // 9 (EXPORT_QUESTION)
        q(
            OLIVER,
            After(1, 10, 30),
            "usage",
            "low",
            "Export my contacts to Excel",
            "I'd like my own contacts in a spreadsheet for a mail merge.",
            vec![
                (
                    0,
                    40,
                    Key,
                    Reply(
                        "Open People, filter on owner = you, then Export → XLSX. Up to 10,000 rows download at once; longer lists are exported in the background and you find the file under Jobs.",
                    ),
                ),
                (0, 45, Key, Status("resolved")),
            ],
        ),
        // 10
        q(
            MADS,
            After(1, 11, 0),
            "data",
            "normal",
            "The import garbled the Danish letters",
            "After importing my contacts, Søren shows as SÃ¸ren and Århus as Ã…rhus.",
            vec![
                (
                    0,
                    35,
                    Key,
                    Reply(
                        "Your file was saved as Windows-1252. In Excel choose Save as → \"CSV UTF-8\" and import again — the preview shows the letters before anything is written.",
                    ),
                ),
                (1, 60, Asker, Reply("Imported again, all good now.")),
                (1, 70, Key, Status("resolved")),
            ],
        ),
        // 11
        q(
            LINNEA,
            After(1, 13, 20),
            "access",
            "normal",
            "Key users can't edit shared views",
            "I wanted to add a column to the shared view \"Göteborg open deals\" and the button is greyed out.",
            vec![
                (
                    0,
                    40,
                    It,
                    Reply(
                        "Shared views are changed by their owner or an administrator. I've made you the owner of the Göteborg views.",
                    ),
                ),
                (0, 45, It, Status("resolved")),
            ],
        ),
        // 12
        q(
            FELIX,
            After(2, 9, 10),
            "error",
            "high",
            "The deal's stage won't save",
            "I move the deal to Won, save, and it jumps back to Negotiation. I have the customer meeting at 14:00!",
            vec![
                (
                    0,
                    125,
                    It,
                    Reply(
                        "The deal was open in two tabs and the older one saved over the new stage. Close the other tab and save again — I've set it to Won for you.",
                    ),
                ),
                (
                    0,
                    140,
                    Key,
                    Note(
                        "Sorry — I was with a customer all morning with my phone off. I'll make sure München has a stand-in when I'm out.",
                    ),
                ),
                (0, 145, It, Status("resolved")),
            ],
        ),
        // 13 (ERP_QUESTION)
        q(
            JONAS,
            After(2, 10, 30),
            "change",
            "low",
            "A field for the customer's ERP number?",
            "When customers call they give their ERP customer number. Can we have it on the company?",
            vec![
                (
                    0,
                    90,
                    It,
                    Reply(
                        "Good idea — that's a change for the key-user group. I've put it on the backlog so you can all vote on it.",
                    ),
                ),
                (0, 95, It, Status("resolved")),
            ],
        ),
        // 14
        q(
            ANDERS,
            After(3, 8, 50),
            "usage",
            "normal",
            "Can the pipeline report show euros?",
            "The pipeline report shows everything in SEK. Hamburg thinks in EUR.",
            vec![
                (
                    0,
                    45,
                    Key,
                    Reply(
                        "Reports convert every amount to the reporting currency, SEK. Add a grouping by Currency and you see each currency's own amounts.",
                    ),
                ),
                (0, 50, Key, Status("resolved")),
            ],
        ),
        // 15
        q(
            METTE,
            After(3, 10, 15),
            "usage",
            "normal",
            "How do I send a newsletter to my customers?",
            "I have about 200 customers who should get our winter offer.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Make a selection first: filter People and choose \"Save as selection\". Then Mailings → New mailing. Only people who agreed to newsletters get it, and the mailing tells you whom it skipped and why.",
                    ),
                ),
                (0, 60, Asker, Reply("Thanks, I'll try tomorrow.")),
                (0, 62, Key, Status("resolved")),
            ],
        ),
        // 16
        q(
            SARA,
            After(3, 14, 0),
            "data",
            "normal",
            "Someone changed my deal's amount",
            "The Nordbank deal was 1.2 MSEK yesterday and is 950,000 today.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply(
                        "The deal's History shows who changed what and when: it was the import correction on Monday, which read the amount without VAT. I've put back 1.2 MSEK.",
                    ),
                ),
                (0, 25, Key, Status("resolved")),
            ],
        ),
        // 17
        q(
            LENA,
            After(4, 9, 30),
            "usage",
            "normal",
            "Where are my reminders?",
            "In the old system I got a pop-up when a follow-up was due.",
            vec![
                (
                    0,
                    50,
                    Key,
                    Reply(
                        "Follow-ups you set on activities show on My work the day they are due, and you get an e-mail that morning.",
                    ),
                ),
                (0, 55, Key, Status("resolved")),
                (1, 15, Asker, Status("closed")),
            ],
        ),
        // 18
        q(
            MADS,
            After(4, 13, 40),
            "usage",
            "low",
            "Can I hide fields I never use?",
            "The company form has many fields we don't use in Aarhus.",
            vec![
                (
                    0,
                    70,
                    Key,
                    Reply(
                        "Not per person, but empty fields fold away on the record page. If a field is useless for everyone, it's a wish for the key-user group.",
                    ),
                ),
                (0, 75, Key, Status("resolved")),
            ],
        ),
        // 19
        q(
            JAVIER,
            After(5, 10, 0),
            "usage",
            "low",
            "Can I have Anchora in Spanish?",
            "Some of the words are hard for me in English.",
            vec![
                (
                    0,
                    15,
                    Key,
                    Reply("Sí: Account → Language → Español. Dates and amounts follow too."),
                ),
                (0, 16, Key, Status("resolved")),
            ],
        ),
        // 20
        q(
            OLIVER,
            After(5, 11, 30),
            "error",
            "normal",
            "Export to Excel gives an empty file",
            "I export my contacts and the file has only the header row.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Which list and which filter did you use? A screenshot of the list before you export would help.",
                    ),
                ),
                (0, 31, Key, Status("waiting_on_requester")),
                (1, 60, Asker, Reply("I had filtered on \"Lodnon\". My bad — it works.")),
                (1, 80, Key, Status("resolved")),
            ],
        ),
        // 21
        q(
            FELIX,
            After(6, 9, 0),
            "data",
            "normal",
            "How do I merge two people?",
            "Klaus Bauer is there twice, once with his old e-mail address.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply(
                        "Data quality → Duplicates, or open one of them and choose \"Find duplicates\". You pick which values to keep, field by field; activities move with.",
                    ),
                ),
                (0, 25, Key, Status("resolved")),
            ],
        ),
        // 22
        q(
            ETHAN,
            After(6, 15, 10),
            "access",
            "high",
            "Grace can't see the New York deals",
            "Grace Miller says her pipeline is empty.",
            vec![
                (
                    0,
                    20,
                    It,
                    Reply("Grace's account had no team. She's in New York now; she should sign out and in again."),
                ),
                (0, 25, It, Status("resolved")),
            ],
        ),
        // 23
        q(
            MADS,
            After(7, 8, 45),
            "usage",
            "normal",
            "Forecast: what is commit and best case?",
            "My manager asks me to put deals in commit. What's the difference?",
            vec![
                (
                    0,
                    40,
                    Key,
                    Reply(
                        "Commit: you are sure it closes this period. Best case: it could, if things go well. Pipeline: everything else that is open. The forecast adds them up per team.",
                    ),
                ),
                (0, 45, Key, Status("resolved")),
            ],
        ),
        // 24
        q(
            PAU,
            After(7, 13, 30),
            "error",
            "normal",
            "The offer prints dates in English",
            "The offer document says November 3, 2026. Our customers expect Spanish.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Dates follow the template's language, and the offer template only has English. Passing it to IT to add a Spanish one.",
                    ),
                ),
                (0, 31, Key, ToIt("The offer template needs a Spanish variant.")),
                (
                    0,
                    80,
                    It,
                    Reply(
                        "There is a Spanish variant of the offer now: dates print as 3 de noviembre de 2026 for Spanish customers.",
                    ),
                ),
                (0, 85, It, Status("resolved")),
            ],
        ),
        // 25
        q(
            ANDERS,
            After(8, 10, 0),
            "change",
            "normal",
            "Can the weekly pipeline report come by e-mail?",
            "I open the same report every Monday morning.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply("It can: open the report and choose Subscribe. It arrives every Monday at 07:00."),
                ),
                (0, 35, Key, Status("resolved")),
            ],
        ),
        // 26
        q(
            LINNEA,
            After(8, 14, 20),
            "data",
            "normal",
            "The trade-fair import stopped halfway",
            "I imported the leads from the Elmia fair and only half of them are there.",
            vec![
                (
                    0,
                    30,
                    It,
                    Reply(
                        "The import stopped at row 1,204: a date written as 31.11. I fixed the file and resumed it; it picked up where it stopped.",
                    ),
                ),
                (0, 40, It, Status("resolved")),
            ],
        ),
        // 27
        q(
            METTE,
            After(10, 9, 20),
            "usage",
            "low",
            "Can I see my colleague's calendar?",
            "I want to book a joint visit with Rasmus.",
            vec![
                (
                    0,
                    45,
                    Key,
                    Reply(
                        "Anchora doesn't show calendars. Activities with a due time show on each person's My work, so log the visit as a meeting with both of you.",
                    ),
                ),
                (0, 50, Key, Status("resolved")),
            ],
        ),
        // 28
        q(
            JAVIER,
            After(10, 11, 0),
            "data",
            "normal",
            "A company without an org number won't save?",
            "The org number field is red and I don't have the number.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply(
                        "The org number is not required: the red mark is the data-quality hint, not an error. Save and it is kept.",
                    ),
                ),
                (0, 30, Key, Status("resolved")),
            ],
        ),
        // 29
        q(
            SARA,
            After(11, 10, 40),
            "usage",
            "normal",
            "The dashboard shows last week",
            "My dashboard's figures have not changed since Friday.",
            vec![
                (
                    0,
                    35,
                    Key,
                    Reply(
                        "The dashboard's period was set to last week. Click the period at the top and choose this week.",
                    ),
                ),
                (0, 40, Key, Status("resolved")),
            ],
        ),
        // 30 — the fault only the vendor could fix: IT's time runs out and it goes on to them.
        q(
            ETHAN,
            After(12, 16, 0),
            "data",
            "high",
            "Imported deals lost their amounts",
            "All the deals from Tuesday's import have an empty amount. Quarter-end reporting is on Friday.",
            vec![
                (0, 30, It, Reply("Looking at it now. Which import was it?")),
                (0, 45, Asker, Reply("The one from Tuesday, the file ny-deals.csv.")),
                (
                    0,
                    60,
                    It,
                    Note(
                        "Amounts with a comma as thousands separator were read as text by the import mapping. Needs the vendor's fix.",
                    ),
                ),
                (2, 30, It, VendorRef("CRMP-4471")),
                (
                    2,
                    40,
                    It,
                    Reply(
                        "Our supplier CRM Partner is on it (their ticket CRMP-4471). Until they're done, please don't edit the affected deals.",
                    ),
                ),
                (2, 45, It, Status("waiting_on_vendor")),
                (
                    4,
                    60,
                    It,
                    Note("CRM Partner: fixed in 2.4.1, amounts read again from the kept import file."),
                ),
                (
                    4,
                    70,
                    It,
                    Reply("Fixed: the amounts are back on all 212 deals. Thanks for your patience."),
                ),
                (4, 75, It, Status("resolved")),
            ],
        ),
        // 31
        q(
            MADS,
            After(13, 13, 0),
            "access",
            "normal",
            "Can Freja see my deals?",
            "Freja is taking over two of my customers while I'm away.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply(
                        "Yes, I see the whole Aarhus team's deals. Hand them over by changing the owner if I should follow up.",
                    ),
                ),
                (0, 25, Key, Status("resolved")),
            ],
        ),
        // 32
        q(
            FELIX,
            After(14, 10, 15),
            "usage",
            "normal",
            "Log one meeting for several people",
            "Three of us met the customer. Do we all log it?",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Log it once on the company and add the people who took part; it shows on each of their timelines.",
                    ),
                ),
                (0, 35, Key, Status("resolved")),
                (1, 0, Asker, Status("closed")),
            ],
        ),
        // 33
        q(
            PAU,
            After(15, 9, 30),
            "data",
            "normal",
            "Wrong owner on 40 companies",
            "The import made me owner of companies that are Carmen's.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply("Tick them in the list and use Bulk edit → Owner. I did Barcelona's for you."),
                ),
                (0, 30, Key, Status("resolved")),
            ],
        ),
        // 34 (COLOUR_QUESTION) — see below; 35 is the mailing with the vendor.
        q(
            SARA,
            After(16, 14, 10),
            "change",
            "low",
            "Can deals on the board have colours?",
            "It would help to see at a glance which deals have been stuck for weeks.",
            vec![
                (
                    0,
                    60,
                    Key,
                    Reply("Not today. It's a good wish for the key-user group — I've put it on the backlog."),
                ),
                (0, 65, Key, Status("resolved")),
            ],
        ),
        // 35
        q(
            METTE,
            After(15, 11, 0),
            "error",
            "normal",
            "Mailing stuck: 38 recipients \"uncertain\"",
            "The winter newsletter stopped with 38 people marked uncertain after the mail server was down. Should I send again?",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply("Don't send again yet — some of them may have got it. Passing it to IT."),
                ),
                (
                    0,
                    21,
                    Key,
                    ToIt("Mailing \"Winter offer\": 38 recipients uncertain after the mail relay went down."),
                ),
                (
                    0,
                    60,
                    It,
                    Reply(
                        "The mail relay restarted mid-batch, so we can't tell whether those 38 got it. I've asked our supplier for their relay log.",
                    ),
                ),
                (
                    0,
                    65,
                    It,
                    ToVendor(
                        "Need the relay log for the mailing's last batch to tell who got the e-mail.",
                        "CRMP-4502",
                        9,
                        45,
                    ),
                ),
                (0, 66, It, Status("waiting_on_vendor")),
                (
                    3,
                    90,
                    It,
                    Note("Chased CRM Partner by phone; Mikael Ek promises the log this week."),
                ),
            ],
        ),
        // 36
        q(
            JAVIER,
            After(17, 10, 30),
            "usage",
            "normal",
            "Only my own open deals?",
            "The deals list shows the whole team.",
            vec![
                (
                    0,
                    20,
                    Key,
                    Reply(
                        "Filter on Owner = me and Stage is not won or lost, then save it as a view. The Sales dashboard opens with your own too.",
                    ),
                ),
                (0, 25, Key, Status("resolved")),
                (1, 45, Asker, Status("closed")),
            ],
        ),
        // 37
        q(
            ANDERS,
            After(18, 9, 40),
            "data",
            "normal",
            "I merged the wrong two companies",
            "Berg & Söner AB and Bergs Städ AB are now one company.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "A merge can't be undone with a click, but the journal keeps both. Passing it to IT to restore.",
                    ),
                ),
                (
                    0,
                    31,
                    Key,
                    ToIt("Undo a merge: Berg & Söner AB was merged into Bergs Städ AB by mistake."),
                ),
                (
                    0,
                    90,
                    It,
                    Reply("Berg & Söner AB is back from the merge journal with its 14 activities."),
                ),
                (0, 95, It, Status("resolved")),
                (1, 60, Asker, Status("open")),
                (
                    1,
                    61,
                    Asker,
                    Reply("The contacts came back, but their three deals are still on Bergs Städ."),
                ),
                (1, 120, It, Reply("Moved the three deals back too. Sorry about that.")),
                (1, 125, It, Status("resolved")),
            ],
        ),
        // 38
        q(
            LUCIA,
            After(19, 9, 50),
            "access",
            "normal",
            "Can key users see their team's adoption?",
            "I want to see who in Madrid uses Anchora and who doesn't, to help them.",
            vec![
                (
                    0,
                    40,
                    It,
                    Reply(
                        "Yes: Adoption shows your team's people. Only you and the team's lead see each person's figures.",
                    ),
                ),
                (0, 45, It, Status("resolved")),
            ],
        ),
        // 39
        q(
            MADS,
            After(20, 11, 10),
            "usage",
            "low",
            "Keyboard shortcuts?",
            "Is there a quick way to search without the mouse?",
            vec![
                (0, 50, Key, Reply("Press / anywhere to jump to search.")),
                (0, 55, Key, Status("resolved")),
            ],
        ),
        // 40
        q(
            ETHAN,
            After(21, 15, 20),
            "change",
            "normal",
            "Can New York have a key user?",
            "Every question we have goes to IT in Sweden, and they are asleep when we work late.",
            vec![
                (
                    0,
                    40,
                    It,
                    Reply(
                        "Fair point — nobody in New York is named yet. Anders, the system owner, takes it to the key-user group.",
                    ),
                ),
                (
                    0,
                    42,
                    It,
                    Note("Gap in the stewardship plan: New York has no key user."),
                ),
                (0, 45, It, Status("resolved")),
            ],
        ),
        // 41
        q(
            FELIX,
            After(22, 9, 30),
            "error",
            "normal",
            "A report counts deals twice",
            "\"Won deals per quarter and team\" shows more deals than we won.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply(
                        "It's grouped by quarter and team, and two of the deals changed team in the quarter, so they count in both groups. The total is right.",
                    ),
                ),
                (0, 30, Key, Status("resolved")),
            ],
        ),
        // 42
        q(
            SOFIA,
            Before(9, 10, 20),
            "usage",
            "normal",
            "Where is my welcome checklist?",
            "Lucía said I have a checklist for my first weeks.",
            vec![
                (
                    0,
                    15,
                    Key,
                    Reply("On My work, at the top: \"Getting started\". You have three steps left."),
                ),
                (0, 20, Key, Status("resolved")),
            ],
        ),
        // 43
        q(
            TOBIAS,
            Before(4, 10, 0),
            "data",
            "normal",
            "How do I import my business cards?",
            "I have about 80 business cards from my old job's fairs, typed into Excel.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "Use Imports → New import with your Excel file; the preview shows what goes where. I'll walk you through it on Thursday.",
                    ),
                ),
                (0, 35, Key, Status("resolved")),
            ],
        ),
        // 44
        q(
            METTE,
            Before(3, 13, 0),
            "usage",
            "normal",
            "Copy a deal?",
            "I make the same offer to three sister companies.",
            vec![
                (
                    0,
                    30,
                    Key,
                    Reply(
                        "There is no copy button; create the deal on each company. A template for the offer saves most of the typing.",
                    ),
                ),
                (0, 35, Key, Status("resolved")),
                (1, 30, Asker, Status("closed")),
            ],
        ),
        // 45
        q(
            AMELIA,
            Before(3, 11, 0),
            "change",
            "low",
            "Add \"Source\" to the new lead form",
            "We want to know which leads came from the London fair.",
            vec![
                (
                    0,
                    60,
                    It,
                    Reply(
                        "Sounds useful — it's a new field, so it goes to the key-user group. Until then, use a selection named after the fair.",
                    ),
                ),
                (0, 65, It, Status("resolved")),
            ],
        ),
        // 46 — waiting on the asker.
        q(
            TOBIAS,
            Before(2, 14, 30),
            "access",
            "normal",
            "Can't open the Hamburg pipeline report",
            "It says I may not see it.",
            vec![
                (
                    0,
                    25,
                    Key,
                    Reply(
                        "Which report exactly — the shared \"Pipeline by stage and owner\"? Could you send me a screenshot of the message?",
                    ),
                ),
                (0, 26, Key, Status("waiting_on_requester")),
            ],
        ),
        // 47 — waiting on the asker.
        q(
            PAU,
            Before(2, 9, 15),
            "data",
            "normal",
            "Company with the wrong VAT number",
            "One of my companies has the VAT number of another.",
            vec![
                (
                    0,
                    40,
                    Key,
                    Reply("Which company do you mean? I can't find two with the same VAT number — send me its link."),
                ),
                (0, 41, Key, Status("waiting_on_requester")),
            ],
        ),
        // 48 — open: answered, being looked into.
        q(
            ANDERS,
            Before(1, 10, 30),
            "usage",
            "normal",
            "The forecast differs from the pipeline report",
            "The forecast says 4.1 MSEK for Göteborg, the pipeline report 6.3 MSEK.",
            vec![
                (
                    0,
                    35,
                    Key,
                    Reply(
                        "The forecast counts only deals closing this quarter; the pipeline report counts every open deal. I'll check Göteborg's figures and come back to you.",
                    ),
                ),
                (
                    0,
                    40,
                    Key,
                    Note(
                        "Compare with the quotas Omar loaded; something may be off for the two deals moved to next quarter.",
                    ),
                ),
            ],
        ),
        // 49 — open at IT, passed on by a key user.
        q(
            EMMA,
            Before(1, 15, 0),
            "error",
            "normal",
            "Saving a view with a company filter fails",
            "A view filtered on the company's city gives an error when I save it.",
            vec![
                (0, 20, Key, Reply("I get the same. Passing it to IT.")),
                (
                    0,
                    22,
                    Key,
                    ToIt("Saving a view filtered on a related company's city fails."),
                ),
                (0, 45, It, Reply("I can reproduce it and I'm looking into it.")),
            ],
        ),
        // 50 — just asked.
        q(
            MAJA,
            MinutesAgo(25),
            "usage",
            "low",
            "Where do I find my onboarding checklist?",
            "It's my first week. Someone said there is a checklist.",
            vec![],
        ),
    ]
}
