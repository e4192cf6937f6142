//! Issue 21: the pipeline forecast from deals and their stage history, with an injected clock:
//! weighted amounts per quarter and category, quotas and attainment, win rate and funnel from
//! the change log, close dates pushed, weekly snapshots kept once and held against what closed.

use super::*;
use anchora_core::forecast::ForecastParams;
use anchora_core::identity::Team;
use anchora_core::ids::TeamId;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn deal(h: &H, who: &Principal, body: Json) -> (String, i64) {
    let (_, r) = h.crm.create(who, "deal", &body).await.unwrap();
    (r.id.to_string(), r.version)
}

async fn change(h: &H, who: &Principal, id: &str, version: i64, body: Json) -> i64 {
    let (_, r) = h.crm.update(who, "deal", id, &body, Some(version)).await.unwrap();
    r.version
}

async fn close_of(h: &H, id: &str) -> Json {
    let (_, r) = h.crm.get(&h.admin, "deal", id).await.unwrap();
    r.get("expected_close").to_json()
}

pub async fn the_forecast_weighs_categories_quotas_history_and_snapshots(h: H) {
    h.crm
        .set_time_zone(&h.admin, json!({"time_zone": "Europe/Stockholm"}))
        .await
        .unwrap();
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
    h.store.create_team(&north).await.unwrap();
    let mut user = User::new(
        UserId::new_at(now),
        Some("nora@example.com".into()),
        "Nora",
        Role::User,
        now,
    );
    user.team = Some(north.id);
    h.store.create_user(&user).await.unwrap();
    let nora = Principal::new(
        user.id,
        Role::User,
        Some(north.id),
        anchora_core::auth::Credential::Local,
    );
    let owned = |extra: Json| {
        let mut body = extra;
        body["owner"] = json!(nora.user_id.to_string());
        body
    };

    // Q3: one deal committed for September, won in October but dated in September.
    h.clock.set(at("2026-08-10T08:00:00Z"));
    let (q3, v) = deal(
        &h,
        &h.admin,
        owned(
            json!({"name": "Q3 commit", "stage": "negotiation", "amount": "800.00", "currency": "SEK",
            "expected_close": "2026-09-15"}),
        ),
    )
    .await;
    assert!(
        h.crm.snapshot_forecast().await.unwrap() > 0,
        "a week's snapshot is kept"
    );
    assert_eq!(h.crm.snapshot_forecast().await.unwrap(), 0, "and only once a week");

    // Q4: a lead won in ten days, a lead lost, two open deals, one next quarter.
    h.clock.set(at("2026-10-01T08:00:00Z"));
    // Won on 1 October, its close date set to 14 September in the same write (a deal won
    // without one chosen closes the day it is won).
    change(
        &h,
        &h.admin,
        &q3,
        v,
        json!({"stage": "won", "expected_close": "2026-09-14"}),
    )
    .await;
    let (won, v) = deal(
        &h,
        &h.admin,
        owned(json!({"name": "Won", "stage": "lead", "amount": "2000.00", "currency": "SEK", "expected_close": "2026-10-15"})),
    )
    .await;
    let (lost, lv) = deal(
        &h,
        &h.admin,
        owned(json!({"name": "Lost", "stage": "lead", "amount": "300.00", "currency": "SEK", "expected_close": "2026-11-01"})),
    )
    .await;
    h.clock.set(at("2026-10-11T08:00:00Z"));
    let wv = change(&h, &h.admin, &won, v, json!({"stage": "won"})).await;
    // Won on 11 October without a close date chosen: it closed that day, not the 15th it was
    // expected; moved to lost after, it keeps that day.
    assert_eq!(close_of(&h, &won).await, json!("2026-10-11"));
    let wv = change(&h, &h.admin, &won, wv, json!({"stage": "lost"})).await;
    assert_eq!(close_of(&h, &won).await, json!("2026-10-11"));
    change(&h, &h.admin, &won, wv, json!({"stage": "won"})).await;
    change(&h, &h.admin, &lost, lv, json!({"stage": "lost"})).await;
    let (pushed, v) = deal(
        &h,
        &h.admin,
        owned(
            json!({"name": "Pushed twice", "stage": "negotiation", "amount": "1000.00", "currency": "SEK",
            "expected_close": "2026-12-01"}),
        ),
    )
    .await;
    let v = change(&h, &h.admin, &pushed, v, json!({"expected_close": "2026-12-10"})).await;
    change(&h, &h.admin, &pushed, v, json!({"expected_close": "2026-12-20"})).await;
    deal(
        &h,
        &h.admin,
        owned(
            json!({"name": "Euro proposal", "stage": "proposal", "amount": "100.00", "currency": "EUR",
            "probability": 40, "expected_close": "2026-11-30"}),
        ),
    )
    .await;
    deal(
        &h,
        &h.admin,
        json!({"name": "Admin's lead, committed", "stage": "lead", "forecast_category": "commit", "amount": "500.00",
            "currency": "SEK", "expected_close": "2027-02-01"}),
    )
    .await;
    let quota = h
        .crm
        .set_quota(
            &h.admin,
            json!({"user": nora.user_id.to_string(), "bucket": "quarter", "period_start": "2026-10-01",
                "amount": "4000.00", "currency": "SEK"}),
        )
        .await
        .unwrap();
    assert_eq!(quota.amount, 400_000);
    let e = h
        .crm
        .set_quota(
            &h.admin,
            json!({"user": nora.user_id.to_string(), "bucket": "quarter", "period_start": "2026-10-02",
                "amount": "-1", "currency": "sek"}),
        )
        .await
        .unwrap_err();
    let names: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["period_start", "amount", "currency"]);
    assert_eq!(
        h.crm
            .set_quota(
                &nora,
                json!({"user": nora.user_id.to_string(), "bucket": "quarter",
                "period_start": "2026-10-01", "amount": "1.00", "currency": "SEK"})
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "a seller does not set quotas"
    );

    h.clock.set(at("2026-11-23T09:00:00Z"));
    let f = h.crm.forecast(&h.admin, &ForecastParams::default()).await.unwrap();
    assert_eq!(f.currency, "SEK");
    let keys: Vec<&str> = f.periods.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3"]);
    let q4 = &f.periods[0];
    assert_eq!(q4.amounts.closed, 200_000.0);
    assert_eq!(q4.amounts.commit, 100_000.0);
    assert_eq!(q4.amounts.best_case, 110_000.0, "100 EUR at 11");
    assert_eq!(q4.amounts.omitted, 30_000.0);
    assert_eq!(
        q4.amounts.weighted,
        100_000.0 * 0.75 + 110_000.0 * 0.40,
        "negotiation's 75 % where no probability is given; the deal's own 40 %"
    );
    assert_eq!(q4.quota, Some(400_000.0));
    assert_eq!(q4.attainment, Some(0.5));
    assert_eq!(
        f.periods[1].amounts.commit, 50_000.0,
        "a category of its own overrides the stage's"
    );
    // The history: Q3's deal, and the lead won in ten days, and one lost.
    assert_eq!((f.won, f.lost), (2, 1));
    assert_eq!(f.win_rate, Some(2.0 / 3.0));
    assert_eq!(f.sales_cycle_days, Some((52.0 + 10.0) / 2.0));
    assert_eq!(f.average_deal_size, Some((80_000.0 + 200_000.0) / 2.0));
    let lead = f.funnel.iter().find(|s| s.stage == "lead").unwrap();
    assert_eq!(
        lead.reached, 6,
        "every deal made in the year was made at lead or passed it"
    );
    let won_step = f.funnel.iter().find(|s| s.stage == "won").unwrap();
    assert_eq!(won_step.reached, 2);
    assert_eq!(f.pushed.len(), 1);
    assert_eq!((f.pushed[0].name.as_str(), f.pushed[0].pushes), ("Pushed twice", 2));
    let nora_row = f.owners.iter().find(|o| o.owner == nora.user_id).unwrap();
    assert_eq!((nora_row.won, nora_row.lost, nora_row.attainment), (2, 1, Some(0.5)));
    // Q3 as the August snapshot saw it, against what closed.
    let q3_accuracy: Vec<_> = f.accuracy.iter().filter(|a| a.key == "2026-Q3").collect();
    assert_eq!(q3_accuracy.len(), 1);
    assert_eq!(q3_accuracy[0].forecast, 80_000.0);
    assert_eq!(q3_accuracy[0].actual, 80_000.0);
    assert_eq!(q3_accuracy[0].error, Some(0.0));

    // Visibility: a seller who sees only their own deals has no admin's lead.
    h.crm
        .set_access_policy(
            &h.admin,
            json!({"visibility": {"deal": {"user": "own"}}}),
            &anchora_core::accounts::Origin::default(),
        )
        .await
        .unwrap();
    h.crm
        .set_quota(
            &h.admin,
            json!({"user": h.admin.user_id.to_string(), "bucket": "quarter", "period_start": "2026-10-01",
                "amount": "9000.00", "currency": "SEK"}),
        )
        .await
        .unwrap();
    let replaced = h
        .crm
        .set_quota(
            &h.admin,
            json!({"user": nora.user_id.to_string(), "bucket": "quarter", "period_start": "2026-10-01",
                "amount": "4000.00", "currency": "SEK"}),
        )
        .await
        .unwrap();
    assert_eq!(replaced.id, quota.id, "a replaced quota keeps its id");
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    let seen = h
        .crm
        .quotas(&nora, anchora_core::period::Bucket::Quarter, from, to)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1, "only the quotas of owners she may see");
    let admins = h
        .crm
        .forecast(
            &nora,
            &ForecastParams::from_pairs(&[("owner".into(), h.admin.user_id.to_string())]).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        admins.periods[0].quota, None,
        "another's quota is not shown to who may not see their deals"
    );
    let hers = h.crm.forecast(&nora, &ForecastParams::default()).await.unwrap();
    assert_eq!(hers.periods[1].amounts.commit, 0.0);
    assert_eq!(hers.periods[0].amounts.closed, 200_000.0);
    let by_month = h
        .crm
        .forecast(
            &h.admin,
            &ForecastParams::from_pairs(&[("bucket".into(), "month".into()), ("periods".into(), "2".into())]).unwrap(),
        )
        .await
        .unwrap();
    let months: Vec<(&str, f64)> = by_month
        .periods
        .iter()
        .map(|p| (p.key.as_str(), p.amounts.best_case + p.amounts.commit))
        .collect();
    assert_eq!(months, [("2026-11", 110_000.0), ("2026-12", 100_000.0)]);

    // Monthly targets make the quarter's where it has none of its own; a quarter's own wins.
    for (month, amount) in [("2027-01-01", "1000.00"), ("2027-02-01", "2000.00")] {
        h.crm
            .set_quota(
                &h.admin,
                json!({"user": nora.user_id.to_string(), "bucket": "month", "period_start": month,
                    "amount": amount, "currency": "SEK"}),
            )
            .await
            .unwrap();
    }
    h.crm
        .set_quota(
            &h.admin,
            json!({"user": nora.user_id.to_string(), "bucket": "month", "period_start": "2026-11-01",
                "amount": "99999.00", "currency": "SEK"}),
        )
        .await
        .unwrap();
    let quarters = h
        .crm
        .forecast(
            &h.admin,
            &ForecastParams::from_pairs(&[("owner".into(), nora.user_id.to_string())]).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(quarters.periods[0].quota, Some(400_000.0), "Q4 has its own");
    assert_eq!(quarters.periods[1].quota, Some(300_000.0), "January and February");
    assert!(quarters.without_rate.is_empty());
    // A quota in a currency with no rate is named, not left out in silence.
    h.crm
        .set_quota(
            &h.admin,
            json!({"user": nora.user_id.to_string(), "bucket": "quarter", "period_start": "2027-04-01",
                "amount": "100.00", "currency": "NOK"}),
        )
        .await
        .unwrap();
    let named = h
        .crm
        .forecast(
            &h.admin,
            &ForecastParams::from_pairs(&[("owner".into(), nora.user_id.to_string())]).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(named.without_rate, ["NOK"]);
    assert_eq!(named.periods[2].quota, None);
}
