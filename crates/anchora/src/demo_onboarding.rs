//! The demo's onboarding and training (issue 22, points 5 and 6): two of the sales people are
//! their teams' key users; three courses (Anchora basics for users and key users, key-user
//! training, administration) with sessions over the last two months and one to come, and who
//! attended each (a few sales people never did); three people who joined in the last three
//! weeks, each with a checklist in progress — the manual steps ticked by their team's lead,
//! the training steps ticked as their attendance was recorded, the first sign-in still open
//! (they have not signed in: no sign-in is invented) — and a checklist for the demo
//! administrator, whose first sign-in ticks itself when you sign in.
//!
//! Everything goes through the use cases, each at the moment it happens (a clock set to the
//! session's day, the day someone joined), so the checklists' due days and ticks are as they
//! would have been.

use anchora_core::accounts::Origin;
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::service::Crm;
use anchora_core::store::UserStore;
use anchora_core::{Clock, FixedClock, Store, UserId};
use anchora_store::SqlStore;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

fn err(e: anchora_core::Error) -> anyhow::Error {
    anyhow!(e.detail)
}

/// Key users, by e-mail (the first member of their team leads it; the second is its key user).
const KEY_USERS: [&str; 2] = ["linnea.holm@example.com", "emma.johansson@example.com"];

/// Who joined lately: (name, e-mail, language, team, days ago).
const NEWCOMERS: [(&str, &str, &str, &str, i64); 3] = [
    ("Maja Lindqvist", "maja.lindqvist@example.com", "sv", "Stockholm", 3),
    ("Tobias Krüger", "tobias.kruger@example.com", "de", "Hamburg", 10),
    ("Sofía Navarro", "sofia.navarro@example.com", "es", "Madrid", 20),
];

/// The CRM as it was at a moment of the past (a session's day, someone's first day).
fn at(store: &Arc<SqlStore>, when: DateTime<Utc>) -> Crm {
    let store: Arc<dyn Store> = store.clone();
    Crm::new(store, Arc::new(FixedClock::new(when)))
}

/// A session: (course, days ago, trainer, trainer's name, place, online, who attended).
type Session<'a> = (
    &'a str,
    i64,
    Option<UserId>,
    &'a str,
    &'a str,
    bool,
    Vec<(UserId, bool)>,
);

/// Five in the afternoon of a day, UTC: when a session's attendance is written down.
fn evening(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(16, 0, 0).map_or_else(Utc::now, |t| t.and_utc())
}

pub async fn seed(store: &Arc<SqlStore>, admin: UserId, clock: Arc<dyn Clock>) -> Result<()> {
    let now = clock.now();
    let crm = at(store, now);
    let who = Principal::new(admin, Role::Admin, None, Credential::Local);
    let zone = crm.time_zone().await.map_err(err)?;
    let today = now.with_timezone(&zone).date_naive();
    let users = store.users().await.map_err(err)?;
    let id = |email: &str| users.iter().find(|u| u.email.as_deref() == Some(email)).map(|u| u.id);

    for email in KEY_USERS {
        if let Some(u) = id(email) {
            crm.update_user(&who, &u.to_string(), json!({"role": "key_user"}), &Origin::default())
                .await
                .map_err(err)?;
        }
    }

    let course = |name: &str, description: &str, audience: Value, refresh: Option<u32>| json!({"name": name, "description": description, "audience": audience, "refresh_months": refresh});
    let basics = crm
        .create_course(
            &who,
            course(
                "Anchora basics",
                "Companies, people, deals and the timeline; finding and filtering; logging calls and meetings; My work.",
                json!(["user", "key_user"]),
                Some(12),
            ),
        )
        .await
        .map_err(err)?;
    let key_users = crm
        .create_course(
            &who,
            course(
                "Key-user training",
                "Views, selections, templates and imports, and answering colleagues' questions before they reach IT.",
                json!(["key_user", "admin"]),
                Some(24),
            ),
        )
        .await
        .map_err(err)?;
    let administration = crm
        .create_course(
            &who,
            course(
                "Administration",
                "Users, teams and roles; fields and objects; access rules; data quality and the jobs that measure it.",
                json!(["admin"]),
                None,
            ),
        )
        .await
        .map_err(err)?;

    // The newcomers join on their first day, each with a checklist from that day.
    let mut newcomers = Vec::new();
    for (name, email, locale, team, days_ago) in NEWCOMERS {
        if id(email).is_some() {
            continue;
        }
        let joined = now - Duration::days(days_ago);
        let team = store
            .teams()
            .await
            .map_err(err)?
            .into_iter()
            .find(|t| t.name == team)
            .map(|t| t.id.to_string());
        let u = at(store, joined)
            .create_user(
                &who,
                json!({"email": email, "name": name, "role": "user", "locale": locale, "team": team}),
                &Origin::default(),
            )
            .await
            .map_err(err)?;
        newcomers.push(u.id);
    }
    let newcomer = |i: usize| newcomers.get(i).copied();

    // Sessions, and who attended each, written down on the session's day.
    let trainer = id("sara.lindberg@example.com");
    let sales: Vec<UserId> = users
        .iter()
        .filter(|u| u.role != Role::Admin && u.email.as_deref().is_some_and(|e| e.ends_with("@example.com")))
        .map(|u| u.id)
        .collect();
    let everyone_but = |skip: &[usize]| -> Vec<(UserId, bool)> {
        sales
            .iter()
            .enumerate()
            .map(|(i, u)| (*u, !skip.contains(&i)))
            .collect()
    };
    let first = everyone_but(&[4, 9, 13, 15, 17, 19]);
    let second: Vec<(UserId, bool)> = [4, 13, 15]
        .iter()
        .filter_map(|i| sales.get(*i))
        .map(|u| (*u, true))
        .collect();
    let mut latest: Vec<(UserId, bool)> = [newcomer(1), newcomer(2)]
        .into_iter()
        .flatten()
        .map(|u| (u, true))
        .collect();
    latest.extend(sales.get(17).map(|u| (*u, false)));
    let admin_only = vec![(admin, true)];
    let key: Vec<(UserId, bool)> = KEY_USERS.iter().filter_map(|e| id(e)).map(|u| (u, true)).collect();
    let (basics, key_users, administration) = (
        basics.id.to_string(),
        key_users.id.to_string(),
        administration.id.to_string(),
    );
    let sessions: [Session; 6] = [
        (&basics, 56, trainer, "", "Stockholm office, room Ekoln", false, first),
        (
            &key_users,
            49,
            None,
            "Mikael Ek, CRM Partner AB",
            "CRM Partner AB, Malmö",
            false,
            key,
        ),
        (
            &administration,
            42,
            None,
            "Mikael Ek, CRM Partner AB",
            "",
            true,
            admin_only,
        ),
        (&basics, 35, None, "CRM Partner AB", "", true, second),
        (
            &basics,
            6,
            id("lucia.romero@example.com"),
            "",
            "Madrid office",
            false,
            latest,
        ),
        (&basics, -9, trainer, "", "Göteborg office", false, Vec::new()),
    ];
    for (course, days_ago, trainer, trainer_name, place, online, attended) in sessions {
        let day = today - Duration::days(days_ago);
        let s = crm
            .create_training_session(
                &who,
                json!({"course": course, "on": day, "trainer": trainer.map(|t| t.to_string()),
                    "trainer_name": trainer_name, "place": place, "online": online}),
            )
            .await
            .map_err(err)?;
        if !attended.is_empty() {
            let rows: Vec<Value> = attended
                .iter()
                .map(|(u, present)| json!({"user": u.to_string(), "attended": present}))
                .collect();
            at(store, evening(day))
                .record_attendance(&who, &s.session.id.to_string(), json!({ "attendance": rows }))
                .await
                .map_err(err)?;
        }
    }

    // Their team's leads ticked "met your key user" for the two who have been here longest.
    for (newcomer, lead, days_ago) in [
        (newcomer(1), id("jonas.weber@example.com"), 6),
        (newcomer(2), id("lucia.romero@example.com"), 15),
    ] {
        let (Some(newcomer), Some(lead)) = (newcomer, lead) else {
            continue;
        };
        let lead = store.user(lead).await.map_err(err)?.ok_or_else(|| anyhow!("no lead"))?;
        let them = Principal::new(lead.id, lead.role, lead.team, Credential::Local);
        let then = at(store, now - Duration::days(days_ago));
        let checklist = then.checklist(&them, &newcomer.to_string()).await.map_err(err)?;
        if let Some(step) = checklist.steps.iter().find(|s| s.condition.is_none()) {
            then.tick_step(&them, &newcomer.to_string(), step.number, json!({"done": true}))
                .await
                .map_err(err)?;
        }
    }

    // The demo administrator gets a checklist too: signing in ticks its first step after
    // "account created".
    crm.start_missing_checklists(&who, &[admin]).await.map_err(err)?;
    Ok(())
}
