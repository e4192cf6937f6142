//! Issue 21: reports group by two fields, bucket dates in the workspace's time zone, measure
//! amounts in the reporting currency, hold only what the reader may see, and are kept.

use super::*;
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;
use anchora_core::jobs::JobStore;
use anchora_core::reports::{GroupValue, ReportSpec, ReportStore};

fn spec(json: Json) -> ReportSpec {
    serde_json::from_value(json).unwrap()
}

async fn team_user(h: &H, email: &str, team: TeamId) -> Principal {
    let now = h.clock.now();
    let mut user = User::new(UserId::new_at(now), Some(email.into()), email, Role::User, now);
    user.team = Some(team);
    h.store.create_user(&user).await.unwrap();
    Principal::new(user.id, Role::User, Some(team), anchora_core::auth::Credential::Local)
}

fn names(rows: &[anchora_core::reports::Header]) -> Vec<String> {
    rows.iter().map(|r| r.name.clone().unwrap_or_default()).collect()
}

fn counts(rows: &[anchora_core::reports::Header]) -> Vec<i64> {
    rows.iter().map(|r| r.figures.count).collect()
}

pub async fn reports_bucket_in_the_workspace_zone_pivot_and_hold_only_what_the_reader_may_see(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
    // Instants near midnight: what quarter and week they fall in depends on the zone.
    for (subject, due) in [
        ("q1 late evening", "2026-03-31T21:30:00Z"), // 23:30 on 31 March in Stockholm
        ("q2 just after midnight", "2026-03-31T22:30:00Z"), // 00:30 on 1 April
        ("new year", "2026-12-31T23:30:00Z"),        // 00:30 on Friday 1 January 2027: 2026-W53
        ("first monday", "2027-01-03T23:15:00Z"),    // 00:15 on Monday 4 January: 2027-W01
        ("no due date", ""),
    ] {
        let mut body = json!({"type": "call", "subject": subject});
        if !due.is_empty() {
            body["due_at"] = json!(due);
        }
        h.crm.create(&h.admin, "activity", &body).await.unwrap();
    }
    let by_quarter = h
        .crm
        .run_report(
            &h.admin,
            &spec(json!({"object": "activity", "groups": [{"field": "due_at", "bucket": "quarter"}]})),
        )
        .await
        .unwrap();
    assert_eq!(
        names(&by_quarter.rows),
        ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1", ""],
        "quarters between are shown empty; no date last"
    );
    assert_eq!(counts(&by_quarter.rows), [1, 1, 0, 0, 2, 1]);
    let by_week = h
        .crm
        .run_report(
            &h.admin,
            &spec(json!({"object": "activity", "filter": {"field": "due_at", "op": "gte", "value": "2026-12-01T00:00:00Z"},
                "groups": [{"field": "due_at", "bucket": "week"}]})),
        )
        .await
        .unwrap();
    assert_eq!(names(&by_week.rows), ["2026-W53", "2027-W01"]);
    assert_eq!(counts(&by_week.rows), [1, 1]);
    // A cell's filter lists exactly its records.
    let drill = by_quarter.drill(Some(1), None);
    let params = ListParams {
        filter: Some(drill.to_string()),
        count: true,
        ..ListParams::default()
    };
    let (_, page) = h.crm.list(&h.admin, "activity", &params).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.records[0].get("subject").to_text().as_deref(),
        Some("q2 just after midnight")
    );

    // Two groupings, money in the reporting currency, and visibility by team.
    h.crm
        .set_currency_settings(&h.admin, json!({"reporting": "SEK", "rates": {"EUR": 11.0}}))
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
    let sara = team_user(&h, "sara@example.com", south.id).await;
    for (name, stage, amount, currency, owner) in [
        ("N won SEK", "won", "1000.00", "SEK", &nils),
        ("N won EUR", "won", "100.00", "EUR", &nils),
        ("N lead", "lead", "500.00", "SEK", &nils),
        ("S won", "won", "2000.00", "SEK", &sara),
        ("S lost NOK", "lost", "300.00", "NOK", &sara),
    ] {
        let body = json!({"name": name, "stage": stage, "amount": amount, "currency": currency,
            "owner": owner.user_id.to_string()});
        h.crm.create(&h.admin, "deal", &body).await.unwrap();
    }
    let pivot = spec(
        json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "team"}],
        "measure": {"func": "sum", "field": "amount"}}),
    );
    let everyone = h.crm.run_report(&h.admin, &pivot).await.unwrap();
    assert_eq!(
        everyone.rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
        [
            GroupValue::Choice("lead".into()),
            GroupValue::Choice("won".into()),
            GroupValue::Choice("lost".into())
        ],
        "the pipeline's order"
    );
    assert_eq!(names(&everyone.columns), ["North", "South"]);
    let won_north = everyone.cell(1, Some(0));
    assert_eq!(won_north.count, 2);
    assert_eq!(
        won_north.value,
        Some(100_000.0 + 10_000.0 * 11.0),
        "EUR converted to SEK"
    );
    assert_eq!(everyone.currency.as_deref(), Some("SEK"));
    assert_eq!(everyone.without_rate, ["NOK"], "named, never guessed");
    assert_eq!(everyone.total.count, 5);

    h.crm
        .set_access_policy(
            &h.admin,
            json!({"visibility": {"deal": {"user": "team"}}}),
            &anchora_core::accounts::Origin::default(),
        )
        .await
        .unwrap();
    let norths = h.crm.run_report(&nils, &pivot).await.unwrap();
    assert_eq!(norths.total.count, 3, "only the North team's deals");
    assert_eq!(names(&norths.columns), ["North"]);
    assert!(norths.without_rate.is_empty(), "South's NOK deal is out of sight");

    // Kept reports: personal ones are their owner's; a stale change is refused with the
    // current report.
    let saved = h
        .crm
        .save_report(&nils, json!({"name": "Won by team", "spec": pivot}))
        .await
        .unwrap();
    let id = saved.report.id.to_string();
    let e = h.crm.saved_report(&sara, &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "another's personal report is not there");
    let e = h
        .crm
        .save_report(&nils, json!({"name": "Shared", "shared": true, "spec": pivot}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "sharing takes the right to share views");
    let renamed = h
        .crm
        .change_report(&nils, &id, json!({"version": 1, "name": "Won per team"}))
        .await
        .unwrap();
    assert_eq!(renamed.report.version, 2);
    let e = h
        .crm
        .change_report(&nils, &id, json!({"version": 1, "name": "Late"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionConflict);
    assert_eq!(e.current.unwrap()["name"], "Won per team");
    let e = h
        .crm
        .save_report(
            &nils,
            json!({"name": "Bad", "spec": {"object": "deal", "groups": [{"field": "stage", "bucket": "week"}]}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "spec.groups[0].bucket");
    let (_, run) = h.crm.run_saved_report(&nils, &id).await.unwrap();
    assert_eq!(run.total.count, 3);
    h.crm.delete_report(&nils, &id).await.unwrap();
    assert!(h.crm.saved_reports(&nils).await.unwrap().is_empty());
}

/// Relative periods are whole periods in the workspace's zone: "this quarter" on 1 April at
/// 00:30 in Stockholm is the second quarter, though it is still 31 March in UTC.
pub async fn relative_periods_begin_in_the_workspace_zone(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
    h.clock.set(
        DateTime::parse_from_rfc3339("2026-03-31T22:30:00Z")
            .unwrap()
            .with_timezone(&Utc),
    );
    for (subject, due) in [("march", "2026-03-31T21:00:00Z"), ("april", "2026-04-02T10:00:00Z")] {
        h.crm
            .create(
                &h.admin,
                "activity",
                &json!({"type": "call", "subject": subject, "due_at": due}),
            )
            .await
            .unwrap();
    }
    let params = |period: &str| ListParams {
        filter: Some(json!({"field": "due_at", "op": "in_period", "value": period}).to_string()),
        ..ListParams::default()
    };
    let subjects = |page: &anchora_core::service::Page| -> Vec<String> {
        page.records.iter().filter_map(|r| r.get("subject").to_text()).collect()
    };
    let (_, this) = h.crm.list(&h.admin, "activity", &params("this_quarter")).await.unwrap();
    assert_eq!(subjects(&this), ["april"]);
    let (_, last) = h.crm.list(&h.admin, "activity", &params("last_quarter")).await.unwrap();
    assert_eq!(subjects(&last), ["march"]);
    let e = h
        .crm
        .list(&h.admin, "activity", &params("last_fortnight"))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "filter.value");
}

/// Text groups as filters compare it: Malmö, MALMÖ and malmö are one city, and its drill-down
/// lists all three; a deal owned by no one in a team is in the team report's "none", and its
/// drill-down finds it.
pub async fn text_groups_fold_case_and_every_group_drills_to_its_records(h: H) {
    for (last, city) in [
        ("Öberg", "Malmö"),
        ("Ærø", "MALMÖ"),
        ("Müller", "malmö"),
        ("Núñez", "Lund"),
    ] {
        h.crm
            .create(&h.admin, "person", &json!({"last_name": last, "city": city}))
            .await
            .unwrap();
    }
    let r = h
        .crm
        .run_report(
            &h.admin,
            &spec(json!({"object": "person", "groups": [{"field": "city"}]})),
        )
        .await
        .unwrap();
    assert_eq!(counts(&r.rows), [1, 3]);
    let malmo = r.rows.iter().position(|h| h.figures.count == 3).unwrap();
    for (row, expected) in [(malmo, 3), (1 - malmo, 1)] {
        let params = ListParams {
            filter: Some(r.drill(Some(row), None).to_string()),
            ..ListParams::default()
        };
        let (_, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
        assert_eq!(page.records.len(), expected, "row {row}");
    }
    h.crm
        .create(&h.admin, "deal", &json!({"name": "Nobody's team", "stage": "lead"}))
        .await
        .unwrap();
    let by_team = h
        .crm
        .run_report(
            &h.admin,
            &spec(json!({"object": "deal", "groups": [{"field": "team"}]})),
        )
        .await
        .unwrap();
    assert_eq!(by_team.rows.len(), 1);
    assert_eq!(by_team.rows[0].value, GroupValue::None);
    let params = ListParams {
        filter: Some(by_team.drill(Some(0), None).to_string()),
        ..ListParams::default()
    };
    let (_, page) = h.crm.list(&h.admin, "deal", &params).await.unwrap();
    assert_eq!(page.records.len(), 1);
}

/// Deals grouped by their company's city (issue 21): one hop through the relation, text folded
/// (Malmö and MALMÖ are one city), a deal without a company, or whose company is in the trash
/// or out of the reader's sight, under "none" — never under the hidden company's city — and
/// every group's filter lists exactly its records through the list, as the reader sees them.
pub async fn reports_group_by_a_related_records_field_as_the_reader_may_see_it(h: H) {
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
    let sara = team_user(&h, "sara@example.com", south.id).await;
    let mut companies = std::collections::HashMap::new();
    for (name, city, owner) in [
        ("Ærø Shipping", "Malmö", &nils),
        ("Öberg AB", "MALMÖ", &nils),
        ("Núñez SL", "Lund", &nils),
        ("Müller GmbH", "malmö", &sara),
        ("Gone AB", "Lund", &nils),
    ] {
        let body = json!({"name": name, "city": city, "owner": owner.user_id.to_string()});
        let (_, c) = h.crm.create(&h.admin, "company", &body).await.unwrap();
        companies.insert(name, c.id.to_string());
    }
    for (deal, company, stage) in [
        ("Ærø ferry", Some("Ærø Shipping"), "won"),
        ("Öberg steel", Some("Öberg AB"), "lead"),
        ("Núñez olives", Some("Núñez SL"), "won"),
        ("Müller beer", Some("Müller GmbH"), "lead"),
        ("Nobody's", None, "lead"),
        ("Gone's", Some("Gone AB"), "lost"),
    ] {
        let mut body = json!({"name": deal, "stage": stage, "owner": nils.user_id.to_string()});
        if let Some(c) = company {
            body["company"] = json!(companies[c]);
        }
        h.crm.create(&h.admin, "deal", &body).await.unwrap();
    }
    h.crm
        .delete(&h.admin, "company", &companies["Gone AB"], None)
        .await
        .unwrap();
    // Sellers see their own team's companies, and every deal.
    h.crm
        .set_access_policy(
            &h.admin,
            json!({"visibility": {"company": {"user": "team"}}}),
            &anchora_core::accounts::Origin::default(),
        )
        .await
        .unwrap();
    let by_city = spec(json!({"object": "deal", "groups": [{"field": "company.city"}]}));
    let deal_names = |page: &anchora_core::service::Page| -> Vec<String> {
        let mut names: Vec<String> = page.records.iter().filter_map(|r| r.get("name").to_text()).collect();
        names.sort();
        names
    };
    let listed = |who: Principal, filter: Json| {
        let crm = &h.crm;
        async move {
            let params = ListParams {
                filter: Some(filter.to_string()),
                ..ListParams::default()
            };
            let (_, page) = crm.list(&who, "deal", &params).await.unwrap();
            deal_names(&page)
        }
    };
    let sorted = |names: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
        v.sort();
        v
    };

    let everyone = h.crm.run_report(&h.admin, &by_city).await.unwrap();
    assert_eq!(
        everyone.rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
        [
            GroupValue::Text("Lund".into()),
            GroupValue::Text("MALMÖ".into()),
            GroupValue::None
        ],
        "one Malmö however it is written, named by one of its spellings; none last"
    );
    assert_eq!(
        counts(&everyone.rows),
        [1, 3, 2],
        "no company and a company in the trash are none"
    );
    for (row, expected) in [
        (0, sorted(&["Núñez olives"])),
        (1, sorted(&["Ærø ferry", "Öberg steel", "Müller beer"])),
        (2, sorted(&["Nobody's", "Gone's"])),
    ] {
        assert_eq!(
            listed(h.admin.clone(), everyone.drill(Some(row), None)).await,
            expected,
            "row {row}"
        );
    }

    // For a seller of North, Müller's company is out of sight: its deal is as one without a
    // company, and Malmö counts only what they may see.
    let norths = h.crm.run_report(&nils, &by_city).await.unwrap();
    assert_eq!(
        norths.rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
        [
            GroupValue::Text("Lund".into()),
            GroupValue::Text("MALMÖ".into()),
            GroupValue::None
        ]
    );
    assert_eq!(counts(&norths.rows), [1, 2, 3]);
    assert_eq!(norths.total.count, 6, "every deal is theirs to see");
    for (row, expected) in [
        (0, sorted(&["Núñez olives"])),
        (1, sorted(&["Ærø ferry", "Öberg steel"])),
        (2, sorted(&["Nobody's", "Gone's", "Müller beer"])),
    ] {
        assert_eq!(
            listed(nils.clone(), norths.drill(Some(row), None)).await,
            expected,
            "row {row}"
        );
    }
    // The one filter language everywhere: a list asking about the hidden company's city learns
    // nothing from it.
    for (leaf, expected) in [
        (
            json!({"field": "company.city", "op": "eq", "value": "malmö"}),
            sorted(&["Ærø ferry", "Öberg steel"]),
        ),
        (
            json!({"field": "company.city", "op": "ne", "value": "MALMÖ"}),
            sorted(&["Núñez olives", "Müller beer", "Nobody's", "Gone's"]),
        ),
        (
            json!({"field": "company.city", "op": "in", "value": ["Lund", "Malmö"]}),
            sorted(&["Ærø ferry", "Öberg steel", "Núñez olives"]),
        ),
        (
            json!({"field": "company.name", "op": "starts_with", "value": "mü"}),
            Vec::new(),
        ),
        (
            json!({"not": {"field": "company.owner", "op": "is_empty", "value": true}}),
            sorted(&["Ærø ferry", "Öberg steel", "Núñez olives"]),
        ),
    ] {
        assert_eq!(listed(nils.clone(), leaf.clone()).await, expected, "{leaf}");
    }
    assert_eq!(
        listed(
            h.admin.clone(),
            json!({"field": "company.name", "op": "starts_with", "value": "mü"})
        )
        .await,
        ["Müller beer"]
    );
    // An export takes the list's filter, the related leaf too.
    let request = anchora_core::export::ExportRequest {
        object: "deal".into(),
        filter: Some(json!({"field": "company.city", "op": "eq", "value": "Malmö"}).to_string()),
        ..Default::default()
    };
    let mut sink = anchora_core::export::CsvSink::new(Vec::new()).unwrap();
    assert_eq!(h.crm.export(&h.admin, &request, &mut sink).await.unwrap(), 3);

    // A related record's owner and dates group as the record's own do, a report's filter takes
    // the related leaf too, and a pivot mixes own and related groupings.
    let pivot = spec(json!({"object": "deal",
        "filter": {"field": "company.city", "op": "is_empty", "value": false},
        "groups": [{"field": "company.owner"}, {"field": "company.created_at", "bucket": "month"}]}));
    let r = h.crm.run_report(&h.admin, &pivot).await.unwrap();
    assert_eq!(names(&r.rows), ["nils@example.com", "sara@example.com"]);
    assert_eq!(counts(&r.rows), [3, 1]);
    assert_eq!(names(&r.columns), ["2026-11"]);
    assert_eq!(
        listed(h.admin.clone(), r.drill(Some(1), Some(0))).await,
        ["Müller beer"]
    );
    let r = h
        .crm
        .run_report(
            &nils,
            &spec(json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "company.city"}]})),
        )
        .await
        .unwrap();
    let lead = r
        .rows
        .iter()
        .position(|h| h.value == GroupValue::Choice("lead".into()))
        .unwrap();
    let none = r.columns.iter().position(|h| h.value == GroupValue::None).unwrap();
    assert_eq!(r.cell(lead, Some(none)).count, 2, "Müller's and nobody's");
    assert_eq!(
        listed(nils.clone(), r.drill(Some(lead), Some(none))).await,
        sorted(&["Müller beer", "Nobody's"])
    );

    // Mistakes named by their place, in reports and in filters alike.
    for (field, message) in [
        ("company.nope", "company"),
        ("nope.city", "no field"),
        ("stage.city", "no relation"),
        ("company.city.name", "more than one relation"),
    ] {
        let e = h
            .crm
            .run_report(&h.admin, &spec(json!({"object": "deal", "groups": [{"field": field}]})))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{field}");
        assert_eq!(e.errors[0].field, "groups[0].field", "{field}");
        assert!(
            e.errors[0].message.contains(message),
            "{field}: {}",
            e.errors[0].message
        );
    }
    let params = ListParams {
        filter: Some(json!({"field": "company.nope", "op": "eq", "value": "x"}).to_string()),
        ..ListParams::default()
    };
    let e = h.crm.list(&h.admin, "deal", &params).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFilter);
    assert_eq!(e.errors[0].field, "filter.field");
    // A report grouped by a related record's field is kept like any other.
    let saved = h
        .crm
        .save_report(&nils, json!({"name": "Deals per city", "spec": by_city}))
        .await
        .unwrap();
    let (_, run) = h
        .crm
        .run_saved_report(&nils, &saved.report.id.to_string())
        .await
        .unwrap();
    assert_eq!(counts(&run.rows), [1, 2, 3]);
}

/// The plan SQLite makes for a report's grouping: what the report statement asks, by hand.
async fn plan_of(h: &H, sql: &str) -> String {
    let rows = h
        .store
        .pool()
        .exec()
        .fetch_all(anchora_store::db::Sql::plain(format!("EXPLAIN QUERY PLAN {sql}")))
        .await
        .unwrap();
    rows.iter().map(|r| r.string(3).unwrap()).collect::<Vec<_>>().join("; ")
}

/// Issue 21, SQLite's speed: a kept report asks for an index that holds its grouping (a walk
/// of the index instead of a sort of every row); the job builds it, the report counts the
/// same through it, a custom field an index names can still be purged, and an index no kept
/// report wants is dropped. PostgreSQL groups by hashing and is given none.
pub async fn kept_reports_get_indexes_that_serve_them(h: H) {
    let sqlite = h.store.backend() == "sqlite";
    h.crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "region", "label": "Region", "type": "text"}),
        )
        .await
        .unwrap();
    for (last, city, region) in [
        ("Öberg", "Malmö", "Skåne"),
        ("Ærø", "MALMÖ", "skåne"),
        ("Müller", "München", "Bayern"),
        ("Núñez", "Málaga", "Andalucía"),
        ("Núñez", "málaga", "ANDALUCÍA"),
    ] {
        h.crm
            .create(
                &h.admin,
                "person",
                &json!({"last_name": last, "city": city, "region": region}),
            )
            .await
            .unwrap();
    }
    let by_city = spec(json!({"object": "person", "groups": [{"field": "city"}, {"field": "owner"}]}));
    let by_region = spec(json!({"object": "person", "groups": [{"field": "region"}]}));
    let before = h.crm.run_report(&h.admin, &by_city).await.unwrap();
    let kept = h
        .crm
        .save_report(&h.admin, json!({"name": "By city", "spec": by_city, "shared": true}))
        .await
        .unwrap();
    let regions = h
        .crm
        .save_report(
            &h.admin,
            json!({"name": "By region", "spec": by_region, "shared": true}),
        )
        .await
        .unwrap();
    // A personal report is one person's: it gets no index (each is written on every save).
    h.crm
        .save_report(
            &h.admin,
            json!({"name": "Mine", "spec": spec(json!({"object": "person", "groups": [{"field": "title"}]}))}),
        )
        .await
        .unwrap();
    // Saving asked for the job — the system's, not the saver's — once, however many reports
    // were saved, where indexes are wanted.
    let asked = h
        .store
        .jobs(None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind_name == "report_indexes")
        .count();
    assert_eq!(asked, usize::from(sqlite));
    let ctx = anchora_core::jobs::JobCtx::detached();
    let first = h.crm.keep_report_indexes(&ctx).await.unwrap();
    let indexes = h.store.report_indexes().await.unwrap();
    if sqlite {
        // Two kept reports, the forecast's four countings.
        assert_eq!(first["built"], 6, "{first}");
        assert_eq!(indexes.len(), 6);
        // One of them serves the report by city and owner alone: covering, in the grouping's
        // order (no sort). Which index the planner takes for five rows is its business; the
        // benchmark shows what it takes for a million.
        let mut serving = Vec::new();
        for index in indexes.iter().filter(|i| i.starts_with("rx_obj_person_")) {
            let plan = plan_of(
                &h,
                &format!(
                    "SELECT MIN(\"city\"), \"owner\", COUNT(*) FROM \"obj_person\" INDEXED BY \"{index}\" \
                     WHERE \"deleted_at\" IS NULL GROUP BY \"_fold_city\", 2"
                ),
            )
            .await;
            if plan.contains("COVERING INDEX") && !plan.contains("TEMP B-TREE") {
                serving.push(index.clone());
            }
        }
        assert_eq!(serving.len(), 1, "{indexes:?}");
    } else {
        assert_eq!(first["built"], 0);
        assert!(indexes.is_empty());
    }
    // Nothing changed, nothing built.
    let again = h.crm.keep_report_indexes(&ctx).await.unwrap();
    assert_eq!(again["built"], 0);
    assert_eq!(again["dropped"], 0);
    // The same figures through the index: Malmö and MALMÖ one city.
    let after = h.crm.run_report(&h.admin, &by_city).await.unwrap();
    assert_eq!(names(&after.rows), names(&before.rows));
    assert_eq!(counts(&after.rows), counts(&before.rows));
    assert_eq!(counts(&after.rows), [2, 2, 1]);
    // A custom field an index names is archived and purged as ever (SQLite refuses to drop a
    // column an index names: its indexes go first).
    h.crm.remove_field(&h.admin, "person", "region", false).await.unwrap();
    h.crm.remove_field(&h.admin, "person", "region", true).await.unwrap();
    let left = h.store.report_indexes().await.unwrap();
    assert_eq!(left.len(), indexes.len().saturating_sub(1));
    // The report on the purged field runs nowhere now; deleting the other leaves the
    // forecast's indexes alone.
    h.crm
        .delete_report(&h.admin, &kept.report.id.to_string())
        .await
        .unwrap();
    h.crm
        .delete_report(&h.admin, &regions.report.id.to_string())
        .await
        .unwrap();
    let last = h.crm.keep_report_indexes(&ctx).await.unwrap();
    let indexes = h.store.report_indexes().await.unwrap();
    if sqlite {
        assert_eq!(last["dropped"], 1, "{last}");
        assert_eq!(indexes.len(), 4);
        assert!(indexes.iter().all(|i| i.starts_with("rx_obj_deal_")), "{indexes:?}");
    } else {
        assert!(indexes.is_empty());
    }
}
