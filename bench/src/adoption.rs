//! Adoption (issue 22): 200 users in 20 teams with two years of history (change-log rows and
//! sign-ins as the app writes them, generated in SQL: 0–36 changes per user and working day,
//! a sign-in a day for nine users in ten), then usage counted from scratch, counted again for
//! one day (the hourly run), and the adoption page's use case, each in-process through `Crm`.

use crate::{Report, p50_p95};
use anchora_core::UserId;
use anchora_core::auth::Role;
use anchora_core::identity::{Team, User};
use anchora_core::ids::TeamId;
use anchora_core::jobs::JobCtx;
use anchora_core::store::UserStore;
use anchora_store::Backend;
use anchora_store::db::Sql;
use anyhow::{Context, Result};
use std::time::Instant;

const USERS: u32 = 200;
const DAYS: i64 = 730;

fn err(e: anchora_core::Error) -> anyhow::Error {
    anyhow::anyhow!(e.detail)
}

/// Two years of changes and sign-ins for the users in `bench_users`, in one statement each.
fn history_sql(backend: Backend, start: &str) -> [String; 2] {
    let last = DAYS - 1;
    match backend {
        Backend::Sqlite => [
            format!(
                "WITH RECURSIVE days(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM days WHERE d < {last}), \
                 ks(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM ks WHERE k < 35) \
                 INSERT INTO change_log (at, actor, object, record_id, op, field, old_value, new_value) \
                 SELECT strftime('%Y-%m-%dT%H:%M:%S', '{start}', '+' || d || ' days', '+' || (k * 13) || ' minutes') || '.000000Z', \
                 u.id, CASE k % 4 WHEN 0 THEN 'person' WHEN 1 THEN 'deal' WHEN 2 THEN 'activity' ELSE 'company' END, \
                 printf('%08x-0000-4000-8000-%012x', u.n, d * 100 + k / 3), \
                 CASE k % 4 WHEN 0 THEN 'create' ELSE 'update' END, \
                 CASE k % 4 WHEN 0 THEN NULL WHEN 1 THEN 'stage' WHEN 2 THEN 'done' ELSE 'city' END, NULL, \
                 CASE k % 4 WHEN 0 THEN '{{}}' WHEN 1 THEN '\"proposal\"' WHEN 2 THEN 'true' ELSE '\"Malmö\"' END \
                 FROM bench_users u, days, ks WHERE k < (u.n % 10) * 4 AND d % 7 NOT IN (5, 6)"
            ),
            format!(
                "WITH RECURSIVE days(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM days WHERE d < {last}) \
                 INSERT INTO audit_log (at, actor, kind) \
                 SELECT strftime('%Y-%m-%dT%H:%M:%S', '{start}', '+' || d || ' days', '-10 minutes') || '.000000Z', \
                 u.id, 'login_succeeded' FROM bench_users u, days WHERE u.n % 10 <> 0 AND d % 7 NOT IN (5, 6)"
            ),
        ],
        Backend::Postgres => [
            format!(
                "INSERT INTO change_log (at, actor, object, record_id, op, field, old_value, new_value) \
                 SELECT TIMESTAMPTZ '{start}' + d * INTERVAL '1 day' + k * 13 * INTERVAL '1 minute', u.id, \
                 CASE k % 4 WHEN 0 THEN 'person' WHEN 1 THEN 'deal' WHEN 2 THEN 'activity' ELSE 'company' END, \
                 (lpad(to_hex(u.n), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(d * 100 + k / 3), 12, '0'))::uuid, \
                 CASE k % 4 WHEN 0 THEN 'create' ELSE 'update' END, \
                 CASE k % 4 WHEN 0 THEN NULL WHEN 1 THEN 'stage' WHEN 2 THEN 'done' ELSE 'city' END, NULL, \
                 CASE k % 4 WHEN 0 THEN '{{}}' WHEN 1 THEN '\"proposal\"' WHEN 2 THEN 'true' ELSE '\"Malmö\"' END \
                 FROM bench_users u, generate_series(0, {last}) d, generate_series(0, 35) k \
                 WHERE k < (u.n % 10) * 4 AND d % 7 NOT IN (5, 6)"
            ),
            format!(
                "INSERT INTO audit_log (at, actor, kind) \
                 SELECT TIMESTAMPTZ '{start}' + d * INTERVAL '1 day' - INTERVAL '10 minutes', u.id, 'login_succeeded' \
                 FROM bench_users u, generate_series(0, {last}) d WHERE u.n % 10 <> 0 AND d % 7 NOT IN (5, 6)"
            ),
        ],
    }
}

pub async fn bench(dir: &std::path::Path, backend: Backend, report: &mut Report) -> Result<()> {
    let crate::FreshBench {
        store,
        crm,
        who,
        now,
        instance: _instance,
        ..
    } = crate::fresh_bench(dir, backend, "adoption", "admin@example.com", "Admin").await?;
    let name = backend.name();
    crm.set_time_zone(&who, serde_json::json!({"time_zone": "Europe/Stockholm"}))
        .await
        .map_err(err)?;

    eprintln!("== {name}: 200 users, two years of history");
    let started = Instant::now();
    let mut teams = Vec::new();
    for t in 0..USERS / 10 {
        let team = Team {
            id: TeamId::new_at(now),
            name: format!("Team {t}"),
            created_at: now,
        };
        store.create_team(&team).await.map_err(err)?;
        teams.push(team.id);
    }
    let made = now - chrono::Duration::days(DAYS + 7);
    let mut values = Vec::new();
    for n in 0..USERS {
        let mut user = User::new(
            UserId::new_at(now),
            Some(format!("user{n}@example.com")),
            &format!("User {n}"),
            if n % 10 == 1 { Role::KeyUser } else { Role::User },
            made,
        );
        user.team = teams.get((n / 10) as usize).copied();
        store.create_user(&user).await.map_err(err)?;
        if n % 10 == 2 {
            crm.set_team_lead(
                &who,
                &user.team.context("team")?.to_string(),
                serde_json::json!({"lead": user.id.to_string()}),
            )
            .await
            .map_err(err)?;
        }
        values.push(match backend {
            Backend::Sqlite => format!("({n}, '{}')", user.id),
            Backend::Postgres => format!("({n}, '{}'::uuid)", user.id),
        });
    }
    let uuid = backend.uuid_type();
    let start = (now - chrono::Duration::days(DAYS))
        .date_naive()
        .and_hms_opt(7, 0, 0)
        .context("time")?
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let mut statements = vec![
        format!("CREATE TABLE bench_users (n INTEGER NOT NULL, id {uuid} NOT NULL)"),
        format!("INSERT INTO bench_users (n, id) VALUES {}", values.join(", ")),
    ];
    let start_at = match backend {
        Backend::Sqlite => start.clone(),
        Backend::Postgres => format!("{start}Z"),
    };
    statements.extend(history_sql(backend, &start_at));
    statements.push("DROP TABLE bench_users".into());
    for sql in statements {
        store.pool().exec().execute(Sql::plain(sql)).await?;
    }
    store.analyze().await.map_err(err)?;
    let rows = store
        .pool()
        .exec()
        .fetch_optional(Sql::plain("SELECT COUNT(*) FROM change_log".to_string()))
        .await?
        .context("count")?
        .i64(0)?;
    eprintln!(
        "  {name}: {rows} change-log rows made in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut scratch = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        crm.measure_usage(true, &JobCtx::detached()).await.map_err(err)?;
        scratch.push(started.elapsed());
    }
    report.add(
        &format!("{name}: usage of 200 users over two years ({rows} changes) counted from scratch"),
        p50_p95(&mut scratch),
        "≤ 30 s",
    );
    let mut daily = Vec::new();
    for i in 0..11 {
        let started = Instant::now();
        crm.measure_usage(false, &JobCtx::detached()).await.map_err(err)?;
        if i > 0 {
            daily.push(started.elapsed());
        }
    }
    report.add(
        &format!("{name}: usage counted incrementally (one day, the hourly run)"),
        p50_p95(&mut daily),
        "≤ 1 s",
    );
    let mut page = Vec::new();
    let mut users = 0;
    for i in 0..11 {
        let started = Instant::now();
        let board = crm.adoption_board(&who).await.map_err(err)?;
        if i > 0 {
            page.push(started.elapsed());
        }
        users = board.users.len();
    }
    report.add(
        &format!("{name}: adoption page ({users} users, scores, tiers, 8-week trends, weak users)"),
        p50_p95(&mut page),
        "≤ 200 ms",
    );
    Ok(())
}
