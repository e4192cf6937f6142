//! The support chain (issue 23): 200 users in 20 teams (a key user in each), 100,000 questions
//! raised over two years with their first step, written in SQL as the app writes them — of
//! which the last 10,000 are still open, at every level — then the question list as an
//! administrator, a key user and a user see it, and the breach check over the open ones, each
//! in-process through `Crm` (the code the API, the pages and the job call).

use crate::{Report, p50_p95};
use anchora_core::UserId;
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::identity::{Team, User};
use anchora_core::ids::TeamId;
use anchora_core::store::UserStore;
use anchora_core::support::QuestionQuery;
use anchora_store::Backend;
use anchora_store::db::Sql;
use anyhow::{Context, Result};
use std::time::Instant;

const USERS: u32 = 200;
const QUESTIONS: u32 = 100_000;
const OPEN: u32 = 10_000;

fn err(e: anchora_core::Error) -> anyhow::Error {
    anyhow::anyhow!(e.detail)
}

/// The questions and their first step, in one statement each. Question `n` is raised by user
/// `n % 200` about every ten minutes from `start`; all but the last [`OPEN`] are closed a day
/// after; the open ones are new, open or waiting, at the key user's, IT's or the vendor's.
fn questions_sql(backend: Backend, start: &str) -> [String; 2] {
    let open_from = QUESTIONS - OPEN;
    let columns = "id, number, subject, description, category, priority, status, level, requester, team, \
                   assignee, page, object, record, vendor, language, hypercare, opened_at, level_since, \
                   level_response_at, first_response_at, resolved_at, closed_at, updated_at, version";
    let status = format!(
        "CASE WHEN n <= {open_from} THEN 'closed' WHEN n % 4 = 0 THEN 'new' \
         WHEN n % 4 = 3 THEN 'waiting_on_requester' ELSE 'open' END"
    );
    let level = "CASE n % 3 WHEN 0 THEN 'key_user' WHEN 1 THEN 'it' ELSE 'vendor' END";
    let priority = "CASE n % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' WHEN 2 THEN 'high' ELSE 'urgent' END";
    let category = "CASE n % 5 WHEN 0 THEN 'Deals' WHEN 1 THEN 'Import' WHEN 2 THEN 'E-mail' \
                    WHEN 3 THEN 'Reports' ELSE 'Access' END";
    match backend {
        Backend::Sqlite => {
            let at = |extra: &str| {
                format!("strftime('%Y-%m-%dT%H:%M:%S', '{start}', '+' || (n * 600) || ' seconds'{extra}) || '.000000Z'")
            };
            let opened = at("");
            let done = format!("CASE WHEN n <= {open_from} THEN {} END", at(", '+1 day'"));
            let id = |kind: u32| format!("printf('%08x-0000-4000-8000-%012x', {kind}, n)");
            [
                format!(
                    "WITH RECURSIVE qs(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM qs WHERE n < {QUESTIONS}) \
                     INSERT INTO support_questions ({columns}) \
                     SELECT {qid}, n, 'Question ' || n, 'How do I do this in Anchora?', {category}, {priority}, \
                     {status}, {level}, u.id, u.team, NULL, '/records/deal', NULL, NULL, NULL, 'en', 0, \
                     {opened}, {opened}, NULL, {done}, {done}, {done}, {opened}, 1 \
                     FROM qs JOIN bench_users u ON u.k = n % {USERS}",
                    qid = id(1),
                ),
                format!(
                    "WITH RECURSIVE qs(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM qs WHERE n < {QUESTIONS}) \
                     INSERT INTO support_events (id, question_id, at, actor, kind, body, detail, ord) \
                     SELECT {eid}, {qid}, {opened}, u.id, 'raised', 'How do I do this in Anchora?', '{{}}', 0 \
                     FROM qs JOIN bench_users u ON u.k = n % {USERS}",
                    eid = id(2),
                    qid = id(1),
                ),
            ]
        }
        Backend::Postgres => {
            let opened = format!("TIMESTAMPTZ '{start}' + n * INTERVAL '600 seconds'");
            let done = format!("CASE WHEN n <= {open_from} THEN {opened} + INTERVAL '1 day' END");
            let id = |kind: u32| {
                format!("(lpad(to_hex({kind}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid")
            };
            [
                format!(
                    "INSERT INTO support_questions ({columns}) \
                     SELECT {qid}, n, 'Question ' || n, 'How do I do this in Anchora?', {category}, {priority}, \
                     {status}, {level}, u.id, u.team, NULL, '/records/deal', NULL, NULL, NULL, 'en', 0, \
                     {opened}, {opened}, NULL, {done}, {done}, {done}, {opened}, 1 \
                     FROM generate_series(1, {QUESTIONS}) n JOIN bench_users u ON u.k = n % {USERS}",
                    qid = id(1),
                ),
                format!(
                    "INSERT INTO support_events (id, question_id, at, actor, kind, body, detail, ord) \
                     SELECT {eid}, {qid}, {opened}, u.id, 'raised', 'How do I do this in Anchora?', '{{}}', 0 \
                     FROM generate_series(1, {QUESTIONS}) n JOIN bench_users u ON u.k = n % {USERS}",
                    eid = id(2),
                    qid = id(1),
                ),
            ]
        }
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
    } = crate::fresh_bench(dir, backend, "support", "admin@example.com", "Admin").await?;
    let name = backend.name();

    eprintln!("== {name}: 200 users, 100,000 questions");
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
    let mut values = Vec::new();
    let mut key_user = None;
    let mut plain_user = None;
    for n in 0..USERS {
        let role = if n % 10 == 1 { Role::KeyUser } else { Role::User };
        let mut user = User::new(
            UserId::new_at(now),
            Some(format!("user{n}@example.com")),
            &format!("User {n}"),
            role,
            now,
        );
        user.team = teams.get((n / 10) as usize).copied();
        store.create_user(&user).await.map_err(err)?;
        let principal = Principal::new(user.id, role, user.team, Credential::Local);
        match n {
            1 => key_user = Some(principal),
            2 => plain_user = Some(principal),
            _ => {}
        }
        let team = user.team.context("team")?;
        values.push(match backend {
            Backend::Sqlite => format!("({n}, '{}', '{team}')", user.id),
            Backend::Postgres => format!("({n}, '{}'::uuid, '{team}'::uuid)", user.id),
        });
    }
    let uuid = backend.uuid_type();
    // Two years ago, so the last 10,000 (about ten weeks) end about now.
    let first = now - chrono::Duration::seconds(i64::from(QUESTIONS) * 600 + 3_600);
    let start = first.format("%Y-%m-%dT%H:%M:%S").to_string();
    let start_at = match backend {
        Backend::Sqlite => start,
        Backend::Postgres => format!("{start}Z"),
    };
    let mut statements = vec![
        format!("CREATE TABLE bench_users (k INTEGER NOT NULL, id {uuid} NOT NULL, team {uuid} NOT NULL)"),
        format!("INSERT INTO bench_users (k, id, team) VALUES {}", values.join(", ")),
    ];
    statements.extend(questions_sql(backend, &start_at));
    statements.push(format!("UPDATE support_counter SET n = {QUESTIONS}"));
    statements.push("DROP TABLE bench_users".into());
    for sql in statements {
        store.pool().exec().execute(Sql::plain(sql)).await?;
    }
    store.analyze().await.map_err(err)?;
    eprintln!("  {name}: questions made in {:.1} s", started.elapsed().as_secs_f64());

    let views = [
        ("an administrator, all questions", who.clone(), QuestionQuery::default()),
        (
            "a key user, their team's",
            key_user.clone().context("key user")?,
            QuestionQuery {
                view: Some("team".into()),
                ..QuestionQuery::default()
            },
        ),
        (
            "a user, their own",
            plain_user.context("user")?,
            QuestionQuery {
                view: Some("mine".into()),
                ..QuestionQuery::default()
            },
        ),
        (
            "an administrator, IT's open ones",
            who.clone(),
            QuestionQuery {
                level: Some("it".into()),
                open: Some("true".into()),
                ..QuestionQuery::default()
            },
        ),
    ];
    for (what, reader, query) in views {
        let mut samples = Vec::new();
        let mut shown = 0;
        for i in 0..11 {
            let started = Instant::now();
            let (lines, _) = crm.questions(&reader, &query).await.map_err(err)?;
            if i > 0 {
                samples.push(started.elapsed());
            }
            shown = lines.len();
        }
        report.add(
            &format!("{name}: question list of {QUESTIONS} questions, first page ({shown}) as {what}"),
            p50_p95(&mut samples),
            "≤ 50 ms",
        );
    }
    // The first check acts on what breached while the questions were being made (warns and
    // escalates, once); the later ones are the job's every five minutes.
    let started = Instant::now();
    let first_run = crm.check_support_breaches().await.map_err(err)?;
    report.add(
        &format!(
            "{name}: breach check, first run over {} open questions ({} warned, {} escalated)",
            first_run.checked,
            first_run.warned.len(),
            first_run.escalated.len()
        ),
        format!("{:.3} s", started.elapsed().as_secs_f64()),
        "",
    );
    let mut samples = Vec::new();
    let mut checked = 0;
    for _ in 0..10 {
        let started = Instant::now();
        let run = crm.check_support_breaches().await.map_err(err)?;
        samples.push(started.elapsed());
        checked = run.checked;
    }
    report.add(
        &format!("{name}: breach check over {checked} open questions (the job's run)"),
        p50_p95(&mut samples),
        "≤ 1 s",
    );

    // The support figures on a dashboard (point 7): six widgets — asked, solved, breaches
    // (each against the period before), per week, per level, top categories — as an
    // administrator over every question, and as a key user over their team's.
    let widgets = serde_json::json!([
        {"kind": "support", "figure": "asked"}, {"kind": "support", "figure": "solved"},
        {"kind": "support", "figure": "breaches"}, {"kind": "support", "figure": "weekly", "width": 3},
        {"kind": "support", "figure": "levels", "width": 2}, {"kind": "support", "figure": "categories"}
    ]);
    let key_user = key_user.context("key user")?;
    for (what, reader) in [("an administrator", who.clone()), ("a key user", key_user.clone())] {
        let board = crm
            .create_dashboard(&reader, serde_json::json!({"name": "Support", "widgets": widgets}))
            .await
            .map_err(err)?;
        let id = board.dashboard.id.to_string();
        for period in ["this_quarter", "this_year"] {
            let mut samples = Vec::new();
            let mut asked = 0;
            for i in 0..11 {
                let started = Instant::now();
                let run = crm
                    .view_dashboard(&reader, &id, Some(period), Some("everyone"))
                    .await
                    .map_err(err)?;
                if i > 0 {
                    samples.push(started.elapsed());
                }
                if let Some(anchora_core::dashboards::WidgetRun::Support(s)) = run.widgets.first() {
                    asked = s.figures.asked();
                }
            }
            report.add(
                &format!("{name}: support dashboard of six widgets, {period} ({asked} asked so far), as {what}"),
                p50_p95(&mut samples),
                "≤ 1.5 s",
            );
        }
    }
    Ok(())
}
