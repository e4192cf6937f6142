//! The demo's adoption: eight weeks of daily usage figures for the twenty sales people, with
//! the spread a real rollout has — a few champions, most steady, some weak, two fading out
//! lately and one who never started — each team's first member as its lead, and what
//! management expects of sales people. The figures are seeded as daily counts (what the
//! hourly counting keeps), not as invented sign-ins or changes: the audit log and the record
//! history stay true. Counting usage from scratch replaces them with what really happened.

use anchora_core::adoption::{AdoptionStore, MEASURED_THROUGH_KEY, Metric, UsageDay};
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::service::Crm;
use anchora_core::store::{SettingStore, UserStore};
use anchora_core::{Clock, UserId};
use anchora_store::SqlStore;
use anyhow::{Result, anyhow};
use chrono::{Datelike, Duration, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// How a demo user uses Anchora: the share of working days they are in, and what they do on
/// such a day (records, activities, deal moves); `until` days ago they stopped.
struct Habit {
    presence: f64,
    records: u32,
    activities: u32,
    moves: u32,
    until: i64,
}

fn habit(i: usize) -> Habit {
    let h = |presence, records, activities, moves, until| Habit {
        presence,
        records,
        activities,
        moves,
        until,
    };
    // Spread over the teams (two people each, the first its lead), so most teams have a
    // yardstick and a weak member stands out against it.
    match i {
        0 | 2 | 10 | 12 => h(0.97, 9, 8, 2, 0),
        3 | 8 | 13 => h(0.2, 1, 1, 0, 0),
        5 | 16 => h(0.85, 5, 4, 1, 24),
        19 => h(0.0, 0, 0, 0, 0),
        _ => h(0.85, 5, 4, 1, 0),
    }
}

pub async fn seed(store: &Arc<SqlStore>, sales: &[UserId], admin: UserId, clock: Arc<dyn Clock>) -> Result<()> {
    let err = |e: anchora_core::Error| anyhow!(e.detail);
    let crm = Crm::new(store.clone(), clock.clone());
    let zone = crm.time_zone().await.map_err(err)?;
    let today = clock.now().with_timezone(&zone).date_naive();
    let mut rng = StdRng::seed_from_u64(20_261_204);
    // The sales people joined before the history begins.
    for user in sales {
        if let Some(mut u) = store.user(*user).await.map_err(err)? {
            u.created_at = clock.now() - Duration::days(70);
            store.update_user(&u).await.map_err(err)?;
        }
    }
    let mut rows = Vec::new();
    for (i, user) in sales.iter().enumerate() {
        let habit = habit(i);
        for back in 1..=56 {
            let day = today - Duration::days(back);
            if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || back <= habit.until {
                continue;
            }
            if !rng.random_bool(habit.presence) {
                continue;
            }
            let mut add = |metric: Metric, object: &str, n: u32| {
                if n > 0 {
                    rows.push(UsageDay {
                        user: *user,
                        day,
                        metric,
                        object: object.to_string(),
                        n: i64::from(n),
                    });
                }
            };
            let vary = |rng: &mut StdRng, n: u32| if n == 0 { 0 } else { rng.random_range(n / 2..=n + n / 2) };
            add(Metric::SignIn, "", 1);
            let (people, deals, logged, done, moved) = (
                vary(&mut rng, habit.records),
                vary(&mut rng, habit.records / 2),
                vary(&mut rng, habit.activities),
                vary(&mut rng, habit.activities / 2),
                vary(&mut rng, habit.moves),
            );
            add(Metric::Created, "person", people / 2);
            add(Metric::Updated, "person", people - people / 2);
            add(Metric::Updated, "deal", deals);
            add(Metric::Created, "activity", logged);
            add(Metric::Completed, "activity", done);
            add(Metric::Moved, "deal", moved);
        }
    }
    store.put_usage_days(&rows).await.map_err(err)?;
    store
        .put_setting(
            MEASURED_THROUGH_KEY,
            &serde_json::json!({"day": today - Duration::days(1), "zone": zone.name()}).to_string(),
        )
        .await
        .map_err(err)?;

    let who = Principal::new(admin, Role::Admin, None, Credential::Local);
    let users = store.users().await.map_err(err)?;
    let mut led = std::collections::HashSet::new();
    for user in sales {
        if let Some(team) = users.iter().find(|u| u.id == *user).and_then(|u| u.team)
            && led.insert(team)
        {
            crm.set_team_lead(&who, &team.to_string(), serde_json::json!({"lead": user.to_string()}))
                .await
                .map_err(err)?;
        }
    }
    for (metric, per_week) in [("activities", 10), ("deal_updates", 2), ("active_days", 4)] {
        crm.set_expectation(
            &who,
            serde_json::json!({"role": "user", "metric": metric, "per_week": per_week}),
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}
