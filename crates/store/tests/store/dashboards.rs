//! Issue 21, point 2: dashboards count each widget as its reader, for a period beside the one
//! before (in the workspace's zone), for me, my team or everyone; a report the reader may not
//! open is unavailable; every widget is checked on save, each mistake by its place.

use super::*;
use anchora_core::dashboards::{DashboardRun, WidgetRun};
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;

async fn team_user(h: &H, email: &str, team: TeamId) -> Principal {
    let now = h.clock.now();
    let mut user = User::new(UserId::new_at(now), Some(email.into()), email, Role::User, now);
    user.team = Some(team);
    h.store.create_user(&user).await.unwrap();
    Principal::new(user.id, Role::User, Some(team), anchora_core::auth::Credential::Local)
}

fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

/// A figure widget's (current, previous) values, and the report widget's total count.
fn figure(run: &DashboardRun, i: usize) -> (Option<f64>, Option<f64>, i64, i64) {
    match &run.widgets[i] {
        WidgetRun::Figure(f) => (f.current.value, f.previous.value, f.current.count, f.previous.count),
        other => panic!("widget {i} is {other:?}"),
    }
}

fn report_total(run: &DashboardRun, i: usize) -> i64 {
    match &run.widgets[i] {
        WidgetRun::Report { result, .. } => result.total.count,
        other => panic!("widget {i} is {other:?}"),
    }
}

fn day(text: &str) -> chrono::NaiveDate {
    text.parse().unwrap()
}

pub async fn dashboards_count_each_widget_for_the_period_the_scope_and_the_reader(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
    h.crm
        .set_currency_settings(&h.admin, json!({"reporting": "SEK", "rates": {}}))
        .await
        .unwrap();
    let now = h.clock.now();
    let north = Team {
        id: TeamId::new_at(now),
        name: "North".into(),
        created_at: now,
    };
    let south = Team {
        id: TeamId::new_at(now),
        name: "South".into(),
        created_at: now,
    };
    h.store.create_team(&north).await.unwrap();
    h.store.create_team(&south).await.unwrap();
    let nils = team_user(&h, "nils@example.com", north.id).await;
    let nora = team_user(&h, "nora@example.com", north.id).await;
    let sara = team_user(&h, "sara@example.com", south.id).await;
    for (name, stage, amount, close, owner) in [
        ("N won nov", "won", "1000.00", "2026-11-05", &nils),
        ("N won oct", "won", "500.00", "2026-10-10", &nils),
        ("N lead nov", "lead", "800.00", "2026-11-28", &nils),
        ("Nora won nov", "won", "300.00", "2026-11-20", &nora),
        ("S won nov", "won", "2000.00", "2026-11-02", &sara),
        ("S won oct", "won", "100.00", "2026-10-01", &sara),
        ("S won sep", "won", "50.00", "2026-09-30", &sara),
    ] {
        let body = json!({"name": name, "stage": stage, "amount": amount, "currency": "SEK",
            "expected_close": close, "owner": owner.user_id.to_string()});
        h.crm.create(&h.admin, "deal", &body).await.unwrap();
    }
    // Created at 00:30 on 1 November in Stockholm (still October in UTC), and at 23:30 on
    // 31 October: one in each month there.
    for (subject, when) in [
        ("november", "2026-10-31T23:30:00Z"),
        ("october", "2026-10-31T22:30:00Z"),
    ] {
        h.clock.set(at(when));
        h.crm
            .create(&h.admin, "activity", &json!({"type": "call", "subject": subject}))
            .await
            .unwrap();
    }
    h.clock.set(at("2026-11-23T09:00:00Z"));

    let pipeline = h
        .crm
        .save_report(
            &h.admin,
            json!({"name": "Deals by stage", "shared": true,
                "spec": {"object": "deal", "groups": [{"field": "stage"}]}}),
        )
        .await
        .unwrap();
    let private = h
        .crm
        .save_report(
            &h.admin,
            json!({"name": "Admin's own", "spec": {"object": "deal", "groups": [{"field": "owner"}]}}),
        )
        .await
        .unwrap();
    let nils_own = h
        .crm
        .save_report(
            &nils,
            json!({"name": "Mine", "spec": {"object": "deal", "groups": [{"field": "stage"}]}}),
        )
        .await
        .unwrap();
    let won = json!({"kind": "figure", "title": "Won", "object": "deal",
        "filter": {"field": "stage", "op": "eq", "value": "won"},
        "measure": {"func": "sum", "field": "amount"}, "date_field": "expected_close", "width": 1});
    let created = json!({"kind": "figure", "title": "Activities created", "object": "activity",
        "measure": {"func": "count"}, "date_field": "created_at"});

    // Every mistake by its place; a report the saver may not open is one.
    let e = h
        .crm
        .create_dashboard(
            &h.admin,
            json!({"name": "Sales", "widgets": [
                {"kind": "figure", "title": "Won", "object": "deal", "measure": {"func": "count"}, "date_field": "name"},
                {"kind": "report", "report": nils_own.report.id},
                {"kind": "report", "report": pipeline.report.id, "width": 5},
                {"kind": "chart"},
                {"kind": "figure", "title": "", "object": "nope", "date_field": "created_at"},
                {"kind": "figure", "title": "Sum", "object": "deal", "measure": {"func": "sum", "field": "name"}, "date_field": "created_at"},
                {"kind": "report", "report": pipeline.report.id, "extra": 1},
            ]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let places: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        places,
        [
            "widgets[0].date_field",
            "widgets[1].report",
            "widgets[2].width",
            "widgets[3].kind",
            "widgets[4].title",
            "widgets[4].object",
            "widgets[5].measure.field",
            "widgets[6].extra",
        ]
    );
    let e = h
        .crm
        .create_dashboard(&nils, json!({"name": "Shared", "shared": true}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "sharing takes the right to share views");

    let board = h
        .crm
        .create_dashboard(
            &h.admin,
            json!({"name": "Sales", "shared": true, "audience": ["user"], "scope": "me", "widgets": [
                won,
                {"kind": "report", "report": pipeline.report.id, "date_field": "expected_close", "width": 2},
                {"kind": "report", "report": private.report.id, "title": "Secret"},
                created,
            ]}),
        )
        .await
        .unwrap();
    let id = board.dashboard.id.to_string();

    // Nils, this month, his own records (the dashboard's scope): November against October.
    let mine = h.crm.view_dashboard(&nils, &id, None, None).await.unwrap();
    assert_eq!(mine.period, "this_month");
    assert_eq!(mine.current.first.to_string(), "2026-11-01");
    assert_eq!(mine.previous.first.to_string(), "2026-10-01");
    assert_eq!(figure(&mine, 0), (Some(100_000.0), Some(50_000.0), 1, 1));
    match &mine.widgets[0] {
        WidgetRun::Figure(f) => {
            let c = f.change.unwrap();
            assert_eq!((c.delta, c.percent), (50_000.0, Some(100.0)));
            assert_eq!(f.currency.as_deref(), Some("SEK"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report_total(&mine, 1), 2, "his won and his lead closing in November");
    assert!(
        matches!(mine.widgets[2], WidgetRun::Unavailable { width: 1 }),
        "a report he may not open, without its name"
    );
    assert!(!serde_json::to_string(&mine).unwrap().contains("Admin's own"));
    // A figure's drill-down lists exactly its records.
    if let WidgetRun::Figure(f) = &mine.widgets[0] {
        let params = ListParams {
            filter: Some(f.filter.to_string()),
            ..ListParams::default()
        };
        let (_, page) = h.crm.list(&nils, "deal", &params).await.unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].get("name").to_text().as_deref(), Some("N won nov"));
    }

    // His team: Nils and Nora.
    let team = h.crm.view_dashboard(&nils, &id, None, Some("team")).await.unwrap();
    assert_eq!(figure(&team, 0), (Some(130_000.0), Some(50_000.0), 2, 1));
    // Everyone, as the administrator: every team; the activities by the zone's months.
    let all = h
        .crm
        .view_dashboard(&h.admin, &id, Some("this_month"), Some("everyone"))
        .await
        .unwrap();
    assert_eq!(figure(&all, 0), (Some(330_000.0), Some(60_000.0), 3, 2));
    assert_eq!(figure(&all, 3).2, 1, "created 00:30 on 1 November in Stockholm");
    // Records made, set against October to the same point (1–23 October): the 31st is not
    // in it; reports and figures on other dates take all of October.
    assert_eq!(
        (
            all.so_far.end,
            all.previous_so_far.first,
            all.previous_so_far.end,
            all.previous.end
        ),
        (
            day("2026-11-24"),
            day("2026-10-01"),
            day("2026-10-24"),
            day("2026-11-01")
        )
    );
    assert_eq!(figure(&all, 3).3, 0, "created 23:30 on 31 October in Stockholm");
    assert_eq!(report_total(&all, 2), 7, "the administrator's own report, undated");
    // Last month against the month before.
    let last = h
        .crm
        .view_dashboard(&h.admin, &id, Some("last_month"), Some("everyone"))
        .await
        .unwrap();
    assert_eq!(figure(&last, 0), (Some(60_000.0), Some(5_000.0), 2, 1));
    assert_eq!(figure(&last, 3).2, 1, "created 23:30 on 31 October in Stockholm");
    let quarter = h
        .crm
        .view_dashboard(&h.admin, &id, Some("this_quarter"), Some("everyone"))
        .await
        .unwrap();
    assert_eq!(quarter.previous.first.to_string(), "2026-07-01");
    // Won deals by their close date (which may lie ahead): whole quarters.
    assert_eq!(quarter.previous.end.to_string(), "2026-10-01");
    assert_eq!(quarter.previous_so_far.end.to_string(), "2026-08-24");
    assert_eq!(figure(&quarter, 0), (Some(390_000.0), Some(5_000.0), 5, 1));

    // A team member sees only their team's records, whatever scope they choose.
    h.crm
        .set_access_policy(
            &h.admin,
            json!({"visibility": {"deal": {"user": "team"}}}),
            &anchora_core::accounts::Origin::default(),
        )
        .await
        .unwrap();
    let norths = h.crm.view_dashboard(&nils, &id, None, Some("everyone")).await.unwrap();
    assert_eq!(figure(&norths, 0), (Some(130_000.0), Some(50_000.0), 2, 1));
    let souths = h.crm.view_dashboard(&sara, &id, None, Some("everyone")).await.unwrap();
    assert_eq!(figure(&souths, 0), (Some(200_000.0), Some(10_000.0), 1, 1));

    let e = h
        .crm
        .view_dashboard(&nils, &id, Some("last_fortnight"), None)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "period");
    let e = h.crm.view_dashboard(&nils, &id, None, Some("us")).await.unwrap_err();
    assert_eq!(e.errors[0].field, "scope");

    // The default dashboard: Nils has none of his own, so the one shared with users; once he
    // makes one, his own.
    let home = h.crm.home_dashboard(&nils).await.unwrap().unwrap();
    assert_eq!(home.dashboard.id, board.dashboard.id);
    assert!(!home.may_change, "a user may not change a shared dashboard");
    let e = h
        .crm
        .change_dashboard(&nils, &id, json!({"version": 1, "name": "Mine now"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let own = h
        .crm
        .create_dashboard(
            &nils,
            json!({"name": "My week", "widgets": [{"kind": "report", "report": nils_own.report.id}]}),
        )
        .await
        .unwrap();
    let home = h.crm.home_dashboard(&nils).await.unwrap().unwrap();
    assert_eq!(home.dashboard.id, own.dashboard.id);
    let e = h.crm.dashboard(&sara, &own.dashboard.id.to_string()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "another's personal dashboard is not there");
    assert!(h.crm.home_dashboard(&h.admin).await.unwrap().is_some());

    // A stale change is refused with the dashboard as it is now.
    let renamed = h
        .crm
        .change_dashboard(&h.admin, &id, json!({"version": 1, "name": "Sales team"}))
        .await
        .unwrap();
    assert_eq!(renamed.dashboard.version, 2);
    let e = h
        .crm
        .change_dashboard(&h.admin, &id, json!({"version": 1, "name": "Late"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.unwrap()["name"], "Sales team");
    let e = h
        .crm
        .change_dashboard(&h.admin, &id, json!({"version": 2, "widgets": [{"kind": "report"}]}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "widgets[0].report");
    h.crm.delete_dashboard(&h.admin, &id).await.unwrap();
    assert_eq!(h.crm.dashboards(&nils).await.unwrap().len(), 1);
}
