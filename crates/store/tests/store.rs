//! The store suite: every test runs unchanged on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::identity::User;
use anchora_core::service::{Crm, ListParams};
use anchora_core::{Clock, ErrorCode, FixedClock, Store, UserId};
use anchora_store::{Instance, SqlStore, testing};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use std::sync::Arc;

struct H {
    instance: Arc<Instance>,
    store: Arc<SqlStore>,
    crm: Crm,
    admin: Principal,
    clock: Arc<FixedClock>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn harness(url: String, dir: Option<tempfile::TempDir>) -> H {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let clock = Arc::new(FixedClock::new(start()));
    let instance = Arc::new(Instance::open(&url, clock.now()).await.unwrap());
    let store = instance.main();
    let admin = add_user(&*store, "admin@example.com", Role::Admin, clock.now()).await;
    let crm = Crm::new(store.clone(), clock.clone());
    H {
        instance,
        store,
        crm,
        admin,
        clock,
        url,
        _dir: dir,
    }
}

async fn add_user(store: &dyn Store, email: &str, role: Role, now: DateTime<Utc>) -> Principal {
    let user = User::new(UserId::new_at(now), Some(email.into()), email, role, now);
    store.create_user(&user).await.unwrap();
    Principal::new(user.id, role, None, Credential::Local)
}

async fn sqlite() -> Option<H> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("anchora.db").display());
    Some(harness(url, Some(dir)).await)
}

async fn postgres() -> Option<H> {
    let url = testing::fresh_postgres_database().await?;
    Some(harness(url, None).await)
}

anchora_store::on_both_databases!(
    standard_objects_exist,
    create_read_update_and_history,
    stale_versions_are_refused_with_the_current_record,
    concurrent_writers_exactly_one_wins,
    trash_and_restore,
    custom_field_lifecycle,
    custom_object_with_a_relation,
    filters_on_every_kind_of_field,
    injection_strings_are_just_values,
    keyset_pages_cover_everything_once,
    full_text_search,
    references_must_exist,
    validation_names_fields,
    schema_changes_reach_other_processes,
    workspaces_are_isolated,
    activities_link_to_any_record,
    filtered_pages_after_analyze,
    backup_while_writing_is_consistent,
    erasure_is_atomic_and_complete,
    project_group_plan_and_packages,
    project_settings_and_catalogue,
    project_batches_are_all_or_nothing,
    concurrent_dependencies_never_close_a_cycle,
    change_requests_take_effect_when_every_approver_approves,
    meetings_matrix_and_status_reports,
    journeys_trace_requirements_to_configuration,
    import_checks_every_row_links_companies_and_runs_again_without_change,
    import_jobs_resume_after_their_last_batch_and_never_write_half,
    exports_stream_what_the_exporter_may_see_and_import_back,
    duplicates_are_scanned_queued_dismissed_and_checked_before_saving,
    merging_picks_values_relinks_everything_keeps_history_and_undoes,
    quality_is_measured_per_record_owner_and_team_with_each_users_fix_list,
    import_shows_rows_that_look_like_records_already_there,
    case_folds_alike_for_the_letters_of_five_languages,
    unique_values_are_refused_naming_the_record_that_holds_them,
    concurrent_writers_never_double_a_unique_value,
    a_field_made_unique_names_the_records_that_share_a_value,
    an_import_never_doubles_records_made_while_it_runs,
    relations_to_records_out_of_sight_are_refused_and_withheld,
    the_field_limit_is_kept_before_any_ddl_and_purged_fields_free_their_slots,
    nul_is_refused_in_every_operator_and_value,
    bulk_writes_keep_every_value_as_single_writes_do,
    indexes_a_dead_bulk_load_dropped_are_built_again,
    a_finished_bulk_load_leaves_the_planner_its_statistics,
    merging_keeps_relations_the_merger_may_not_see,
    real_exports_import_with_warnings_and_again_without_a_new_record,
    a_user_mapping_wins_and_unknown_owners_go_to_the_default_owner,
    reports_group_in_reading_order_with_sums_per_currency,
    jobs_are_claimed_once_by_racing_workers,
    a_lease_that_runs_out_is_taken_over,
    failed_attempts_are_retried_with_back_off_then_fail,
    jobs_are_cancelled_queued_or_running,
    schedules_fire_once_per_due_time,
    long_work_runs_as_jobs_with_progress,
    large_exports_run_as_jobs_and_keep_their_file,
    an_import_whose_job_is_cancelled_can_be_started_again,
    consent_is_kept_per_purpose_with_its_proof,
    selections_combine_picked_filtered_and_suppressed_records,
    support_questions_route_to_key_users_pass_on_by_hand_and_stay_private,
    support_agreed_times_pause_cross_weekends_and_holidays_and_escalate_on_breach,
    support_breach_checks_racing_escalate_once,
    support_priority_follows_the_plans_matrix,
    support_only_the_chain_takes_a_question_and_each_level_meets_its_own_response,
    support_visibility_follows_the_stewardship_plan,
    support_breach_check_reads_a_page_at_once_and_leaves_handled_alone,
    support_questions_raised_at_once_get_unique_dense_numbers,
    support_a_key_users_question_goes_past_themselves,
    support_attachment_names_refuse_control_characters,
    support_figures_on_a_dashboard_count_what_the_reader_may_see,
    support_an_emailed_answer_is_kept_once_by_its_message_id,
    concurrent_claims_never_take_one_recipient_twice,
    reports_bucket_in_the_workspace_zone_pivot_and_hold_only_what_the_reader_may_see,
    relative_periods_begin_in_the_workspace_zone,
    the_forecast_weighs_categories_quotas_history_and_snapshots,
    usage_is_counted_per_local_day_scored_against_the_team_and_private,
    text_groups_fold_case_and_every_group_drills_to_its_records,
    reports_group_by_a_related_records_field_as_the_reader_may_see_it,
    kept_reports_get_indexes_that_serve_them,
    the_stewardship_plan_is_versioned_its_gaps_clear_and_the_chain_follows_it,
    votes_are_one_per_user_under_racing_writers_and_decisions_are_the_deciders,
    answers_are_found_in_the_askers_language_and_drafts_stay_with_their_writers,
    dashboards_count_each_widget_for_the_period_the_scope_and_the_reader,
    checklists_start_with_each_user_tick_what_the_system_sees_and_stay_private,
    trainings_tick_onboarding_run_out_and_judge_the_project_before_go_live,
);

#[path = "store/adoption.rs"]
mod adoption;
use adoption::usage_is_counted_per_local_day_scored_against_the_team_and_private;
#[path = "store/support.rs"]
mod support;
use support::*;

#[path = "store/onboarding.rs"]
mod onboarding;
use onboarding::{
    checklists_start_with_each_user_tick_what_the_system_sees_and_stay_private,
    trainings_tick_onboarding_run_out_and_judge_the_project_before_go_live,
};

#[path = "store/forecast.rs"]
mod forecast;
use forecast::the_forecast_weighs_categories_quotas_history_and_snapshots;

#[path = "store/stewardship.rs"]
mod stewardship;
use stewardship::*;

#[path = "store/reports.rs"]
mod reports;
use reports::{
    kept_reports_get_indexes_that_serve_them, relative_periods_begin_in_the_workspace_zone,
    reports_bucket_in_the_workspace_zone_pivot_and_hold_only_what_the_reader_may_see,
    reports_group_by_a_related_records_field_as_the_reader_may_see_it,
    text_groups_fold_case_and_every_group_drills_to_its_records,
};

#[path = "store/dashboards.rs"]
mod dashboards;
use dashboards::dashboards_count_each_widget_for_the_period_the_scope_and_the_reader;

#[path = "store/mailings.rs"]
mod mailings;
use mailings::concurrent_claims_never_take_one_recipient_twice;

#[path = "store/selections.rs"]
mod selections;
use selections::selections_combine_picked_filtered_and_suppressed_records;

#[path = "store/consent.rs"]
mod consent;
use consent::consent_is_kept_per_purpose_with_its_proof;

#[path = "store/jobs.rs"]
mod jobs;
use jobs::{
    a_lease_that_runs_out_is_taken_over, an_import_whose_job_is_cancelled_can_be_started_again,
    failed_attempts_are_retried_with_back_off_then_fail, jobs_are_cancelled_queued_or_running,
    jobs_are_claimed_once_by_racing_workers, large_exports_run_as_jobs_and_keep_their_file,
    long_work_runs_as_jobs_with_progress, schedules_fire_once_per_due_time,
};

#[path = "store/integrity.rs"]
mod integrity;
use integrity::*;

#[path = "store/imports.rs"]
mod imports;
use imports::{
    duplicates_are_scanned_queued_dismissed_and_checked_before_saving,
    exports_stream_what_the_exporter_may_see_and_import_back,
    import_checks_every_row_links_companies_and_runs_again_without_change,
    import_jobs_resume_after_their_last_batch_and_never_write_half,
    import_shows_rows_that_look_like_records_already_there,
    merging_picks_values_relinks_everything_keeps_history_and_undoes,
    quality_is_measured_per_record_owner_and_team_with_each_users_fix_list,
};

#[path = "store/real_exports.rs"]
mod real_exports;
use real_exports::{
    a_user_mapping_wins_and_unknown_owners_go_to_the_default_owner,
    real_exports_import_with_warnings_and_again_without_a_new_record,
};

#[path = "store/project_governance.rs"]
mod project_governance;
use project_governance::{
    change_requests_take_effect_when_every_approver_approves, journeys_trace_requirements_to_configuration,
    meetings_matrix_and_status_reports,
};

#[path = "store/projects.rs"]
mod projects;
use anchora_core::store::*;
use projects::{
    concurrent_dependencies_never_close_a_cycle, project_batches_are_all_or_nothing, project_group_plan_and_packages,
    project_settings_and_catalogue,
};

#[tokio::test]
async fn upgrade_from_version_1_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    upgrade_from_version_1(&url).await;
}

#[tokio::test]
async fn upgrade_from_version_1_on_postgres() {
    if let Some(url) = testing::fresh_postgres_database().await {
        upgrade_from_version_1(&url).await;
    }
}

/// A workspace made by the first release (no teams, scopes, sessions, consent fields, owners in
/// search documents) is brought up to date with its data intact.
async fn upgrade_from_version_1(url: &str) {
    use anchora_store::db::Sql;
    let now = start();
    let old = match anchora_store::DatabaseUrl::parse(url).unwrap() {
        anchora_store::DatabaseUrl::Sqlite(p) => SqlStore::open_sqlite(&p).await.unwrap(),
        anchora_store::DatabaseUrl::Postgres(u) => SqlStore::open_postgres(&u, None).await.unwrap(),
    };
    old.migrate_until(now, 1).await.unwrap();
    let backend = old.pool().backend();
    let uid = UserId::new_at(now);
    let pid = anchora_core::RecordId::new_at(now);
    let p = |n| backend.param(n);
    let ts = backend.datetime(Some(now));
    let exec = |sql: String, values: Vec<sea_query::Value>| {
        let pool = old.pool();
        async move { pool.exec().execute(Sql::new(sql, values)).await.unwrap() }
    };
    exec(
        format!("INSERT INTO users (id, email, name, role, active, created_at) VALUES ({}, 'old@example.se', 'Old', 'user', {}, {})", p(1), p(2), p(3)),
        vec![backend.uuid(Some(uid.0)), true.into(), ts.clone()],
    )
    .await;
    exec(
        format!(
            "INSERT INTO api_tokens (id, name, user_id, token_hash, created_at) VALUES ({}, 'old', {}, 'h', {})",
            p(1),
            p(2),
            p(3)
        ),
        vec![
            backend.uuid(Some(uuid::Uuid::now_v7())),
            backend.uuid(Some(uid.0)),
            ts.clone(),
        ],
    )
    .await;
    exec(
        format!(
            "INSERT INTO obj_person (id, version, created_at, updated_at, owner, last_name) VALUES ({}, 1, {}, {}, {}, 'Nyberg')",
            p(1), p(2), p(3), p(4)
        ),
        vec![backend.uuid(Some(pid.0)), ts.clone(), ts.clone(), backend.uuid(Some(uid.0))],
    )
    .await;
    let doc = match backend {
        anchora_store::Backend::Sqlite => {
            "INSERT INTO search_doc (object, record_id, title) VALUES ('person', ?1, 'Nyberg')"
        }
        anchora_store::Backend::Postgres => {
            "INSERT INTO search_doc (record_id, object, title, body) VALUES ($1, 'person', 'Nyberg', '')"
        }
    };
    exec(doc.to_string(), vec![backend.uuid(Some(pid.0))]).await;
    if backend == anchora_store::Backend::Sqlite {
        exec(
            "INSERT INTO search_fts (rowid, title, body) SELECT doc, title, '' FROM search_doc".into(),
            vec![],
        )
        .await;
    }
    old.close().await;

    let instance = Instance::open(url, now).await.unwrap();
    let store = instance.main();
    let schema = store.schema().await.unwrap();
    let person = schema.object("person").unwrap();
    for f in ["email_consent", "email_consent_at", "email_consent_source"] {
        assert!(person.field(f).is_some(), "{f} was added");
    }
    let user = store.user(uid).await.unwrap().unwrap();
    assert_eq!((user.locale.as_str(), user.team), ("en", None));
    let tokens = store.tokens(Some(uid)).await.unwrap();
    assert_eq!(
        tokens[0].scope,
        anchora_core::auth::Scope::Admin,
        "old tokens keep their power"
    );
    // The old record is there, and owner-restricted search finds it through its backfilled owner.
    let who = Principal::new(uid, Role::User, None, Credential::Local);
    let crm = Crm::new(store.clone(), Arc::new(FixedClock::new(now)));
    crm.get(&who, "person", &pid.to_string()).await.unwrap();
    let mut policy = anchora_core::auth::AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, anchora_core::auth::Visibility::Own);
    store.set_policy(&policy).await.unwrap();
    let hits = crm.search(&who, "nyberg", None).await.unwrap();
    assert_eq!(hits.len(), 1);
    let (_, r) = crm
        .update(
            &who,
            "person",
            &pid.to_string(),
            &json!({"email_consent": "granted"}),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(r.version, 2);
}

async fn person(h: &H, body: Json) -> Json {
    let (o, r) = h.crm.create(&h.admin, "person", &body).await.unwrap();
    r.to_json(&o)
}

async fn list(h: &H, object: &str, filter: Json, sort: &str) -> Vec<Json> {
    let params = ListParams {
        filter: Some(filter.to_string()),
        sort: Some(sort.into()),
        limit: Some("500".into()),
        ..Default::default()
    };
    let (o, page) = h.crm.list(&h.admin, object, &params).await.unwrap();
    page.records.iter().map(|r| r.to_json(&o)).collect()
}

fn names(rows: &[Json]) -> Vec<String> {
    rows.iter()
        .map(|r| r["last_name"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn standard_objects_exist(h: H) {
    let schema = h.crm.schema().await.unwrap();
    for (object, fields) in [
        (
            "company",
            &["name", "org_number", "domain", "phone", "address", "city", "country"][..],
        ),
        (
            "person",
            &["first_name", "last_name", "email", "phone", "title", "city", "company"][..],
        ),
        (
            "deal",
            &[
                "name",
                "stage",
                "amount",
                "currency",
                "probability",
                "expected_close",
                "company",
            ][..],
        ),
        ("activity", &["type", "subject", "body", "due_at", "done"][..]),
    ] {
        let o = schema.object(object).unwrap();
        for f in fields {
            assert!(o.field(f).is_some(), "{object}.{f} missing");
        }
    }
    assert_eq!(h.store.pending_migrations().await.unwrap(), 0);
    // Migrating again is a no-op.
    h.store.migrate(h.clock.now()).await.unwrap();
}

async fn create_read_update_and_history(h: H) {
    let p = person(
        &h,
        json!({"first_name": "Anna", "last_name": "Lindqvist", "email": "anna@example.se", "city": "Malmö"}),
    )
    .await;
    assert_eq!(p["version"], 1);
    assert_eq!(p["owner"], json!(h.admin.user_id.to_string()));
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);

    h.clock.advance(chrono::Duration::minutes(5));
    let (o, r) = h
        .crm
        .update(&h.admin, "person", &id, &json!({"city": "Lund"}), Some(1))
        .await
        .unwrap();
    let r = r.to_json(&o);
    assert_eq!(r["version"], 2);
    assert_eq!(r["city"], "Lund");
    assert_eq!(r["updated_at"], "2026-11-23T09:05:00.000000Z");

    // The same value again changes nothing and keeps the version.
    let (_, same) = h
        .crm
        .update(&h.admin, "person", &id, &json!({"city": "Lund"}), Some(2))
        .await
        .unwrap();
    assert_eq!(same.version, 2);

    let (_, got) = h.crm.get(&h.admin, "person", &id).await.unwrap();
    assert_eq!(got.version, 2);
    let history = h.crm.history(&h.admin, "person", &id, None, None).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].op.as_str(), "create");
    assert_eq!(history[0].new["last_name"], "Lindqvist");
    assert_eq!(history[1].field.as_deref(), Some("city"));
    assert_eq!(history[1].old, json!("Malmö"));
    assert_eq!(history[1].new, json!("Lund"));
    assert_eq!(history[1].actor, Some(h.admin.user_id));
    assert_eq!(history[1].at.to_rfc3339(), "2026-11-23T09:05:00+00:00");
}

async fn stale_versions_are_refused_with_the_current_record(h: H) {
    let p = person(&h, json!({"last_name": "Berg"})).await;
    let id = p["id"].as_str().unwrap();
    h.crm
        .update(&h.admin, "person", id, &json!({"city": "Oslo"}), Some(1))
        .await
        .unwrap();
    let err = h
        .crm
        .update(&h.admin, "person", id, &json!({"city": "Bergen"}), Some(1))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::VersionConflict);
    let current = err.current.unwrap();
    assert_eq!(current["city"], "Oslo");
    assert_eq!(current["version"], 2);
    let err = h
        .crm
        .update(&h.admin, "person", id, &json!({"city": "Bergen"}), None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PreconditionRequired);
    // The loser's value was never written.
    let (_, r) = h.crm.get(&h.admin, "person", id).await.unwrap();
    assert_eq!(r.get("city").to_text().as_deref(), Some("Oslo"));
}

async fn concurrent_writers_exactly_one_wins(h: H) {
    let p = person(&h, json!({"last_name": "Race"})).await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let crm = h.crm.clone();
        let admin = h.admin.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            crm.update(&admin, "person", &id, &json!({"city": format!("City {i}")}), Some(1))
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert!(
                matches!(e.code, ErrorCode::VersionConflict | ErrorCode::Unavailable),
                "{e:?}"
            ),
        }
    }
    assert_eq!(won, 1);
    let (_, r) = h.crm.get(&h.admin, "person", &id).await.unwrap();
    assert_eq!(r.version, 2);
    let history = h.crm.history(&h.admin, "person", &id, None, None).await.unwrap();
    assert_eq!(history.len(), 2, "exactly one update logged");
}

async fn trash_and_restore(h: H) {
    let p = person(&h, json!({"last_name": "Trash", "first_name": "Tilda"})).await;
    let id = p["id"].as_str().unwrap();
    let (_, r) = h.crm.delete(&h.admin, "person", id, Some(1)).await.unwrap();
    assert!(r.deleted_at.is_some());
    assert!(
        list(
            &h,
            "person",
            json!({"field": "last_name", "op": "eq", "value": "Trash"}),
            ""
        )
        .await
        .is_empty()
    );
    assert!(h.crm.search(&h.admin, "Tilda", None).await.unwrap().is_empty());
    let params = ListParams {
        trash: true,
        ..Default::default()
    };
    let (_, trash) = h.crm.list(&h.admin, "person", &params).await.unwrap();
    assert_eq!(trash.records.len(), 1);
    // A record in the trash cannot be edited.
    let e = h
        .crm
        .update(&h.admin, "person", id, &json!({"city": "x"}), Some(2))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InTrash);
    let (_, r) = h.crm.restore(&h.admin, "person", id, None).await.unwrap();
    assert!(r.deleted_at.is_none());
    assert_eq!(r.version, 3);
    assert_eq!(
        list(
            &h,
            "person",
            json!({"field": "last_name", "op": "eq", "value": "Trash"}),
            ""
        )
        .await
        .len(),
        1
    );
    assert_eq!(h.crm.search(&h.admin, "Tilda", None).await.unwrap().len(), 1);
    let ops: Vec<&str> = h
        .crm
        .history(&h.admin, "person", id, None, None)
        .await
        .unwrap()
        .iter()
        .map(|c| c.op.as_str())
        .collect();
    assert_eq!(ops, ["create", "delete", "restore"]);
}

async fn custom_field_lifecycle(h: H) {
    let f = h
        .crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "shoe_size", "label": "Shoe size", "type": "number"}),
        )
        .await
        .unwrap();
    assert!(f.filterable);
    let a = person(&h, json!({"last_name": "Small", "shoe_size": 37})).await;
    person(&h, json!({"last_name": "Large", "shoe_size": 46})).await;
    let big = list(
        &h,
        "person",
        json!({"field": "shoe_size", "op": "gte", "value": 40}),
        "-shoe_size",
    )
    .await;
    assert_eq!(names(&big), ["Large"]);
    // Relabel, then archive: the API stops showing it, the data stays.
    h.crm
        .update_field(&h.admin, "person", "shoe_size", json!({"label": "Skostorlek"}))
        .await
        .unwrap();
    h.crm
        .remove_field(&h.admin, "person", "shoe_size", false)
        .await
        .unwrap();
    let (o, r) = h.crm.get(&h.admin, "person", a["id"].as_str().unwrap()).await.unwrap();
    assert!(r.to_json(&o).get("shoe_size").is_none());
    let e = h
        .crm
        .create(&h.admin, "person", &json!({"last_name": "X", "shoe_size": 1}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "shoe_size");
    h.crm
        .update_field(&h.admin, "person", "shoe_size", json!({"archived": false}))
        .await
        .unwrap();
    let (o, r) = h.crm.get(&h.admin, "person", a["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(r.to_json(&o)["shoe_size"], json!(37.0));
    assert_eq!(o.field("shoe_size").unwrap().label, "Skostorlek");
    // Purge needs an archived field; then the column and its data are gone.
    let e = h
        .crm
        .remove_field(&h.admin, "person", "shoe_size", true)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    h.crm
        .remove_field(&h.admin, "person", "shoe_size", false)
        .await
        .unwrap();
    h.crm.remove_field(&h.admin, "person", "shoe_size", true).await.unwrap();
    let schema = h.crm.schema().await.unwrap();
    assert!(schema.object("person").unwrap().any_field("shoe_size").is_none());
    // The name can be used again, with another type.
    h.crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "shoe_size", "label": "Shoe", "type": "text"}),
        )
        .await
        .unwrap();
    let (o, r) = h.crm.get(&h.admin, "person", a["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(r.to_json(&o)["shoe_size"], Json::Null);
    // Every type can be added and written.
    for (name, t, extra, value) in [
        ("f_text", "text", json!({}), json!("hej")),
        ("f_long", "long_text", json!({}), json!("rad 1\nrad 2")),
        ("f_money", "money", json!({}), json!(1999.95)),
        ("f_pct", "percent", json!({}), json!(12.5)),
        ("f_date", "date", json!({}), json!("2027-01-31")),
        ("f_dt", "datetime", json!({}), json!("2027-01-31T08:15:00.000000Z")),
        ("f_bool", "boolean", json!({}), json!(true)),
        (
            "f_sel",
            "select",
            json!({"choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}),
            json!("b"),
        ),
        (
            "f_multi",
            "multi_select",
            json!({"choices": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}]}),
            json!(["x", "y"]),
        ),
        ("f_email", "email", json!({}), json!("a@b.se")),
        ("f_phone", "phone", json!({}), json!("+46 40 123 45")),
        ("f_url", "url", json!({}), json!("https://example.se")),
        ("f_user", "user", json!({}), json!(h.admin.user_id.to_string())),
        ("f_rel", "relation", json!({"target": "person"}), a["id"].clone()),
    ] {
        let mut body = json!({"name": name, "label": name, "type": t});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        h.crm
            .add_field(&h.admin, "person", body)
            .await
            .unwrap_or_else(|e| panic!("{t}: {e:?}"));
        let p = person(&h, json!({"last_name": "Typed", name: value.clone()})).await;
        assert_eq!(p[name], value, "{t}");
        if t != "long_text" {
            let found = list(
                &h,
                "person",
                json!({"field": name, "op": "is_empty", "value": false}),
                "",
            )
            .await;
            assert_eq!(found.len(), 1, "{t}");
        }
    }
    let multi = list(
        &h,
        "person",
        json!({"field": "f_multi", "op": "contains", "value": "y"}),
        "",
    )
    .await;
    assert_eq!(multi.len(), 1);
}

async fn custom_object_with_a_relation(h: H) {
    let o = h
        .crm
        .create_object(
            &h.admin,
            json!({"name": "project", "label": "Project", "label_plural": "Projects",
            "fields": [{"name": "client", "label": "Client", "type": "relation", "target": "company"},
                       {"name": "budget", "label": "Budget", "type": "money"}]}),
        )
        .await
        .unwrap();
    assert_eq!(o.fields.len(), 3);
    let (_, c) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Ikano AB", "city": "Älmhult"}))
        .await
        .unwrap();
    let (obj, p) = h
        .crm
        .create(
            &h.admin,
            "project",
            &json!({"name": "CRM rollout", "client": c.id.to_string(), "budget": "250000.00"}),
        )
        .await
        .unwrap();
    assert_eq!(p.to_json(&obj)["budget"], json!(250000.0));
    let found = list(
        &h,
        "project",
        json!({"field": "client", "op": "eq", "value": c.id.to_string()}),
        "",
    )
    .await;
    assert_eq!(found.len(), 1);
    let e = h
        .crm
        .create_object(&h.admin, json!({"name": "project", "label": "Again"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "name");
    let e = h
        .crm
        .create_object(&h.admin, json!({"name": "Bad Name", "label": "X"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "name");
    // Relabel and archive the object.
    h.crm
        .update_object(&h.admin, "project", json!({"label": "Rollout"}))
        .await
        .unwrap();
    h.crm
        .update_object(&h.admin, "project", json!({"archived": true}))
        .await
        .unwrap();
    assert_eq!(
        h.crm
            .list(&h.admin, "project", &ListParams::default())
            .await
            .unwrap_err()
            .code,
        ErrorCode::UnknownObject
    );
}

async fn filters_on_every_kind_of_field(h: H) {
    let (_, acme) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Acme"}))
        .await
        .unwrap();
    for (first, last, city, email) in [
        ("Anna", "Andersson", Some("Malmö"), Some("anna@acme.se")),
        ("Bo", "Berg", Some("Lund"), None),
        ("Cecilia", "Carlsson", None, Some("cissi@example.com")),
        ("David", "Dahl", Some("Malmö"), None),
        ("Eva", "de la Cruz", Some("Madrid"), None),
    ] {
        person(&h, json!({"first_name": first, "last_name": last, "city": city, "email": email, "company": if first == "Anna" { json!(acme.id.to_string()) } else { Json::Null }})).await;
    }
    let q = |f: Json| list(&h, "person", f, "last_name");
    assert_eq!(
        names(&q(json!({"field": "city", "op": "eq", "value": "Malmö"})).await),
        ["Andersson", "Dahl"]
    );
    assert_eq!(
        names(&q(json!({"field": "city", "op": "ne", "value": "Malmö"})).await),
        ["Berg", "Carlsson", "de la Cruz"]
    );
    assert_eq!(
        names(&q(json!({"field": "last_name", "op": "contains", "value": "ER"})).await),
        ["Andersson", "Berg"]
    );
    assert_eq!(
        names(&q(json!({"field": "last_name", "op": "starts_with", "value": "d"})).await),
        ["Dahl", "de la Cruz"]
    );
    assert_eq!(
        names(&q(json!({"field": "city", "op": "in", "value": ["Lund", "Madrid"]})).await),
        ["Berg", "de la Cruz"]
    );
    assert_eq!(
        names(&q(json!({"field": "email", "op": "is_empty"})).await),
        ["Berg", "Dahl", "de la Cruz"]
    );
    assert_eq!(
        names(&q(json!({"field": "company", "op": "eq", "value": acme.id.to_string()})).await),
        ["Andersson"]
    );
    assert_eq!(
        names(&q(json!({"field": "last_name", "op": "gte", "value": "C"})).await),
        ["Carlsson", "Dahl", "de la Cruz"]
    );
    assert_eq!(
        names(&q(json!({"field": "last_name", "op": "lt", "value": "Berg"})).await),
        ["Andersson"]
    );
    assert_eq!(
        names(&q(json!({"or": [{"field": "city", "op": "eq", "value": "Lund"}, {"not": {"field": "email", "op": "is_empty"}}]})).await),
        ["Andersson", "Berg", "Carlsson"]
    );
    assert_eq!(
        names(&q(json!({"field": "created_at", "op": "in_last", "value": 1})).await).len(),
        5
    );
    // A LIKE wildcard in the value is a literal character.
    assert!(
        q(json!({"field": "last_name", "op": "contains", "value": "%"}))
            .await
            .is_empty()
    );
    assert!(
        q(json!({"field": "last_name", "op": "contains", "value": "_"}))
            .await
            .is_empty()
    );
    // Deals: money and dates.
    for (name, amount, close) in [
        ("Small", 1000.5, "2026-12-01"),
        ("Big", 250000.0, "2027-03-01"),
        ("None", 0.0, "2026-11-01"),
    ] {
        h.crm
            .create(
                &h.admin,
                "deal",
                &json!({"name": name, "stage": "lead", "amount": amount, "expected_close": close}),
            )
            .await
            .unwrap();
    }
    let deals = |f: Json| list(&h, "deal", f, "name");
    let dn = |rows: Vec<Json>| {
        rows.iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        dn(deals(json!({"field": "amount", "op": "gt", "value": 1000})).await),
        ["Big", "Small"]
    );
    assert_eq!(
        dn(deals(json!({"field": "amount", "op": "lte", "value": "1000.50"})).await),
        ["None", "Small"]
    );
    assert_eq!(
        dn(deals(json!({"field": "expected_close", "op": "in_next", "value": 30})).await),
        ["Small"]
    );
    assert_eq!(
        dn(deals(json!({"field": "expected_close", "op": "lt", "value": "today"})).await),
        ["None"]
    );
    assert_eq!(
        dn(deals(json!({"field": "stage", "op": "eq", "value": "lead"})).await).len(),
        3
    );
}

async fn injection_strings_are_just_values(h: H) {
    let evil = "Robert'); DROP TABLE obj_person;--";
    person(&h, json!({"last_name": evil, "city": "x' OR '1'='1"})).await;
    person(&h, json!({"last_name": "Innocent"})).await;
    let found = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "eq", "value": evil}),
        "",
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(
        list(
            &h,
            "person",
            json!({"field": "city", "op": "eq", "value": "' OR 1=1 --"}),
            ""
        )
        .await
        .is_empty()
    );
    let all = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "contains", "value": "'"}),
        "",
    )
    .await;
    assert_eq!(all.len(), 1);
    let e = h
        .crm
        .list(
            &h.admin,
            "person",
            &ListParams {
                sort: Some("last_name; DROP TABLE obj_person".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidSort);
    let e = h
        .crm
        .list(
            &h.admin,
            "person",
            &ListParams {
                filter: Some(r#"{"field": "last_name\"; --", "op": "eq", "value": 1}"#.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFilter);
    assert!(h.crm.search(&h.admin, "DROP\" OR * NEAR", None).await.is_ok());
    assert_eq!(
        h.store
            .count_records(h.crm.schema().await.unwrap().object("person").unwrap())
            .await
            .unwrap(),
        2
    );
}

async fn keyset_pages_cover_everything_once(h: H) {
    let cities = [Some("Malmö"), Some("Lund"), None, Some("Aarhus"), Some("Bilbao")];
    let mut expected = 0;
    for i in 0..137 {
        let city = cities[i % cities.len()];
        let last = format!("P{:03}", (i * 37) % 101);
        person(&h, json!({"last_name": last, "city": city, "first_name": if i % 7 == 0 { Json::Null } else { json!(format!("F{}", i % 4)) }})).await;
        expected += 1;
    }
    for sort in [
        "",
        "city",
        "-city",
        "city,-last_name",
        "-first_name,city",
        "last_name,first_name,-city",
        "-created_at",
    ] {
        for page_size in [1usize, 10, 50] {
            if page_size == 1 && sort.len() > 12 {
                continue;
            }
            let mut seen: Vec<String> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let params = ListParams {
                    sort: Some(sort.into()),
                    limit: Some(page_size.to_string()),
                    cursor: cursor.clone(),
                    ..Default::default()
                };
                let (_, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
                assert!(page.records.len() <= page_size);
                seen.extend(page.records.iter().map(|r| r.id.to_string()));
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            let (o, full) = h
                .crm
                .list(
                    &h.admin,
                    "person",
                    &ListParams {
                        sort: Some(sort.into()),
                        limit: Some("500".into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let all: Vec<String> = full.records.iter().map(|r| r.id.to_string()).collect();
            assert_eq!(all.len(), expected, "sort {sort:?}");
            assert_eq!(
                seen, all,
                "pages of {page_size} with sort {sort:?} differ from one big page"
            );
            // And the big page really is in that order, NULL first ascending.
            if sort == "city" {
                let cs: Vec<Json> = full.records.iter().map(|r| r.to_json(&o)["city"].clone()).collect();
                assert!(cs.first().unwrap().is_null());
                let non_null: Vec<&str> = cs.iter().filter_map(Json::as_str).collect();
                let mut sorted = non_null.clone();
                sorted.sort();
                assert_eq!(non_null, sorted);
            }
        }
    }
    let e = h
        .crm
        .list(
            &h.admin,
            "person",
            &ListParams {
                sort: Some("city".into()),
                cursor: Some("not-a-cursor".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidCursor);
}

async fn full_text_search(h: H) {
    let (_, c) = h
        .crm
        .create(
            &h.admin,
            "company",
            &json!({"name": "Nordvind Logistik AB", "city": "Göteborg"}),
        )
        .await
        .unwrap();
    person(
        &h,
        json!({"first_name": "Märta", "last_name": "Lindqvist", "email": "marta@nordvind.se"}),
    )
    .await;
    person(&h, json!({"first_name": "Lars", "last_name": "Lindgren"})).await;
    h.crm
        .create(
            &h.admin,
            "deal",
            &json!({"name": "Lindqvist renewal", "stage": "proposal", "company": c.id.to_string()}),
        )
        .await
        .unwrap();
    let hits = h.crm.search(&h.admin, "lindqvist", None).await.unwrap();
    let mut objects: Vec<&str> = hits.iter().map(|h| h.object.as_str()).collect();
    objects.sort();
    assert_eq!(objects, ["deal", "person"]);
    assert_eq!(
        h.crm.search(&h.admin, "Lind", None).await.unwrap().len(),
        3,
        "prefix search"
    );
    assert_eq!(
        h.crm.search(&h.admin, "nordvind", None).await.unwrap().len(),
        2,
        "company name and e-mail"
    );
    assert_eq!(h.crm.search(&h.admin, "Göteborg", None).await.unwrap().len(), 1);
    assert_eq!(
        h.crm.search(&h.admin, "Märta Lindq", None).await.unwrap()[0].title,
        "Märta Lindqvist"
    );
    // Renaming updates the index.
    let p = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "eq", "value": "Lindgren"}),
        "",
    )
    .await;
    h.crm
        .update(
            &h.admin,
            "person",
            p[0]["id"].as_str().unwrap(),
            &json!({"last_name": "Ekberg"}),
            Some(1),
        )
        .await
        .unwrap();
    assert!(h.crm.search(&h.admin, "Lindgren", None).await.unwrap().is_empty());
    assert_eq!(h.crm.search(&h.admin, "ekberg", None).await.unwrap().len(), 1);
    assert_eq!(
        h.crm.search(&h.admin, "   ", None).await.unwrap_err().code,
        ErrorCode::ValidationFailed
    );
    // A field made searchable later is indexed for existing records too.
    h.crm
        .update_field(&h.admin, "person", "title", json!({"searchable": true}))
        .await
        .unwrap();
    person(&h, json!({"last_name": "Chef", "title": "Verkställande direktör"})).await;
    assert_eq!(h.crm.search(&h.admin, "direktör", None).await.unwrap().len(), 1);
}

async fn references_must_exist(h: H) {
    let ghost = uuid::Uuid::now_v7().to_string();
    let e = h
        .crm
        .create(&h.admin, "person", &json!({"last_name": "X", "company": ghost}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "company");
    let e = h
        .crm
        .create(&h.admin, "person", &json!({"last_name": "X", "owner": ghost}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "owner");
    let (_, c) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Gone AB"}))
        .await
        .unwrap();
    h.crm
        .delete(&h.admin, "company", &c.id.to_string(), None)
        .await
        .unwrap();
    let e = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"last_name": "X", "company": c.id.to_string()}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "company");
    assert!(
        list(
            &h,
            "person",
            json!({"field": "last_name", "op": "eq", "value": "X"}),
            ""
        )
        .await
        .is_empty(),
        "nothing half-written"
    );
}

async fn validation_names_fields(h: H) {
    let e = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"email": "abc", "phone": "call me", "nope": 1}),
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["email", "last_name", "nope", "phone"]);
    let e = h
        .crm
        .create(
            &h.admin,
            "deal",
            &json!({"name": "D", "stage": "maybe", "probability": 120, "amount": "12.345"}),
        )
        .await
        .unwrap_err();
    let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["amount", "probability", "stage"]);
    let e = h.crm.create(&h.admin, "person", &json!([1, 2])).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let e = h
        .crm
        .create(&h.admin, "person", &json!({"last_name": "x".repeat(5000)}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "last_name");
    let e = h.crm.get(&h.admin, "person", "../../etc/passwd").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h
        .crm
        .get(&h.admin, "nothing", &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownObject);
    let e = h
        .crm
        .add_field(&h.admin, "person", json!({"name": "id", "label": "Id", "type": "text"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "name");
    let e = h
        .crm
        .add_field(&h.admin, "person", json!({"name": "x", "label": "X", "type": "blob"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "type");
    let e = h
        .crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "x", "label": "X", "type": "text", "bogus": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "bogus");
    // Read-only users and non-admins are refused.
    let reader = add_user(&*h.store, "reader@example.com", Role::ReadOnly, h.clock.now()).await;
    assert_eq!(
        h.crm
            .create(&reader, "person", &json!({"last_name": "R"}))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let user = add_user(&*h.store, "user@example.com", Role::User, h.clock.now()).await;
    let e = h
        .crm
        .add_field(&user, "person", json!({"name": "x", "label": "X", "type": "text"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
}

async fn schema_changes_reach_other_processes(h: H) {
    // A second handle on the same database stands in for a second server process.
    let other = Instance::open(&h.url, h.clock.now()).await.unwrap();
    let other_crm = Crm::new(other.main(), h.clock.clone());
    let before = other_crm.schema().await.unwrap();
    assert!(before.object("person").unwrap().field("nickname").is_none());
    h.crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "nickname", "label": "Nickname", "type": "text"}),
        )
        .await
        .unwrap();
    let after = other_crm.schema().await.unwrap();
    assert!(after.object("person").unwrap().field("nickname").is_some());
    let (o, r) = other_crm
        .create(&h.admin, "person", &json!({"last_name": "N", "nickname": "Nisse"}))
        .await
        .unwrap();
    assert_eq!(r.to_json(&o)["nickname"], "Nisse");
    other.close().await;
}

async fn workspaces_are_isolated(h: H) {
    let acme = h.instance.add_workspace("acme", h.clock.now()).await.unwrap();
    let e = h.instance.add_workspace("acme", h.clock.now()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyExists);
    assert!(h.instance.add_workspace("Bad Name", h.clock.now()).await.is_err());
    let acme_admin = add_user(&*acme, "admin@acme.example", Role::Admin, h.clock.now()).await;
    let acme_crm = Crm::new(acme.clone(), h.clock.clone());
    acme_crm
        .create(&acme_admin, "person", &json!({"last_name": "OnlyInAcme"}))
        .await
        .unwrap();
    person(&h, json!({"last_name": "OnlyInMain"})).await;
    acme_crm
        .add_field(
            &acme_admin,
            "person",
            json!({"name": "acme_only", "label": "A", "type": "text"}),
        )
        .await
        .unwrap();
    assert!(
        h.crm
            .schema()
            .await
            .unwrap()
            .object("person")
            .unwrap()
            .field("acme_only")
            .is_none()
    );
    assert!(
        list(
            &h,
            "person",
            json!({"field": "last_name", "op": "eq", "value": "OnlyInAcme"}),
            ""
        )
        .await
        .is_empty()
    );
    assert!(h.crm.search(&h.admin, "OnlyInAcme", None).await.unwrap().is_empty());
    assert_eq!(acme_crm.search(&acme_admin, "OnlyInMain", None).await.unwrap().len(), 0);
    assert_eq!(h.instance.workspace_names().await.unwrap(), ["main", "acme"]);
    assert!(h.instance.workspace("nope", h.clock.now()).await.unwrap().is_none());
    // Reopening finds the workspace again.
    let again = Instance::open(&h.url, h.clock.now()).await.unwrap();
    let acme2 = again.workspace("acme", h.clock.now()).await.unwrap().unwrap();
    let c = Crm::new(acme2, h.clock.clone());
    assert_eq!(c.search(&acme_admin, "OnlyInAcme", None).await.unwrap().len(), 1);
    again.close().await;
}

async fn activities_link_to_any_record(h: H) {
    let (_, c) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Linkco"}))
        .await
        .unwrap();
    let p = person(&h, json!({"last_name": "Linked"})).await;
    let (o, a) = h
        .crm
        .create(
            &h.admin,
            "activity",
            &json!({"type": "call", "subject": "Intro call", "company": c.id.to_string(),
            "links": [{"object": "person", "id": p["id"]}, {"object": "company", "id": c.id.to_string()}]}),
        )
        .await
        .unwrap();
    assert_eq!(a.to_json(&o)["links"].as_array().unwrap().len(), 2);
    let (_, got) = h.crm.get(&h.admin, "activity", &a.id.to_string()).await.unwrap();
    assert_eq!(got.links.len(), 2);
    let (_, upd) = h
        .crm
        .update(
            &h.admin,
            "activity",
            &a.id.to_string(),
            &json!({"links": [], "done": true}),
            Some(1),
        )
        .await
        .unwrap();
    assert!(upd.links.is_empty());
    let e = h
        .crm
        .create(&h.admin, "activity", &json!({"type": "note", "subject": "x", "links": [{"object": "person", "id": uuid::Uuid::now_v7().to_string()}]}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "links[0]");
    let e = h
        .crm
        .create(&h.admin, "activity", &json!({"type": "fax", "subject": "x"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "type");
}

async fn filtered_pages_after_analyze(h: H) {
    let cities = ["Malmö", "Lund", "Ystad"];
    for i in 0..240 {
        person(
            &h,
            json!({"last_name": format!("L{:03}", (i * 53) % 240), "city": cities[i % 3]}),
        )
        .await;
    }
    h.store.analyze().await.unwrap();
    // With planner statistics in place, small pages of a filtered, sorted list are complete and in order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let params = ListParams {
            filter: Some(json!({"field": "city", "op": "eq", "value": "Lund"}).to_string()),
            sort: Some("last_name".into()),
            limit: Some("2".into()),
            cursor,
            ..Default::default()
        };
        let (_, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
        seen.extend(page.records.iter().map(|r| r.get("last_name").to_text().unwrap()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<String> = (0..240)
        .filter(|i| i % 3 == 1)
        .map(|i| format!("L{:03}", (i * 53) % 240))
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}

/// People in batches of three, numbered; each batch is one transaction.
fn numbered_batch(h: &H, first: u64) -> Vec<anchora_core::record::Record> {
    use anchora_core::value::Value;
    (first..first + 3)
        .map(|n| {
            let at = h.clock.now();
            let mut values = std::collections::BTreeMap::new();
            values.insert("last_name".to_string(), Value::Text(format!("seq{n:08}")));
            values.insert(
                "title".to_string(),
                Value::Text(format!("t{}", n.wrapping_mul(2_654_435_761) % 1_000_003)),
            );
            anchora_core::record::Record {
                values,
                ..anchora_core::record::Record::new(
                    "person",
                    anchora_core::RecordId::new_at(at),
                    at,
                    Some(h.admin.user_id),
                )
            }
        })
        .collect()
}

/// Every live person of a store, with a checksum over what each holds.
async fn people_with_checksum(store: &dyn Store) -> (Vec<u64>, std::collections::BTreeMap<u64, String>) {
    use sha2::Digest;
    let schema = store.schema().await.unwrap();
    let person = schema.object("person").unwrap();
    let mut query = anchora_core::query::ListQuery::all();
    query.limit = 500;
    let mut rows = std::collections::BTreeMap::new();
    loop {
        let mut page = store.list_records(person, &query).await.unwrap();
        let more = page.len() > 500;
        page.truncate(500);
        for r in &page {
            let json = r.to_json(person);
            let n: u64 = json["last_name"]
                .as_str()
                .unwrap()
                .trim_start_matches("seq")
                .parse()
                .unwrap();
            let digest = sha2::Sha256::digest(json.to_string().as_bytes());
            rows.insert(n, format!("{digest:x}"));
        }
        match page.last() {
            Some(last) if more => {
                query.after = Some(anchora_core::query::Cursor {
                    values: Vec::new(),
                    id: last.id,
                })
            }
            _ => break,
        }
    }
    (rows.keys().copied().collect(), rows)
}

async fn backup_while_writing_is_consistent(h: H) {
    let schema = h.store.schema().await.unwrap();
    let person = schema.object("person").unwrap().clone();
    let ctx = anchora_core::store::WriteCtx {
        actor: h.admin.user_id,
        now: h.clock.now(),
    };
    // Enough rows that the backup takes a while.
    let mut n = 1;
    for _ in 0..1000 {
        h.store
            .insert_records(&person, &numbered_batch(&h, n), ctx)
            .await
            .unwrap();
        n += 3;
    }
    let written = Arc::new(std::sync::atomic::AtomicU64::new(n - 1));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, written, stop) = (h.store.clone(), written.clone(), stop.clone());
        let batches: Vec<_> = (0..3000).map(|i| numbered_batch(&h, n + i * 3)).collect();
        let person = person.clone();
        tokio::spawn(async move {
            for batch in batches {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                store.insert_records(&person, &batch, ctx).await.unwrap();
                written.fetch_add(3, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    while written.load(std::sync::atomic::Ordering::SeqCst) < n + 30 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let before = written.load(std::sync::atomic::Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup");
    let target = if h.url.starts_with("sqlite") {
        anchora_store::backup::backup_sqlite(&h.store, &file).await.unwrap();
        format!("sqlite://{}", dir.path().join("restored.db").display())
    } else {
        anchora_store::backup::backup_postgres(&h.url, None, &file)
            .await
            .unwrap();
        testing::fresh_postgres_database().await.unwrap()
    };
    let after = written.load(std::sync::atomic::Ordering::SeqCst);
    // Keep writing a little after the backup, then stop.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    assert!(
        after > before,
        "the writer kept writing during the backup ({before}..{after})"
    );
    anchora_store::backup::restore(&file, &anchora_store::DatabaseUrl::parse(&target).unwrap(), false)
        .await
        .unwrap();
    let restored = Instance::open(&target, h.clock.now()).await.unwrap();
    let (numbers, sums) = people_with_checksum(&*restored.main()).await;
    let k = numbers.len() as u64;
    // A snapshot of one moment: whole batches, numbered 1..=k with no gaps, between the counts
    // seen before and after the backup ran.
    assert_eq!(k % 3, 0, "half a batch in the backup");
    assert_eq!(numbers, (1..=k).collect::<Vec<_>>(), "gaps in the backup");
    assert!((before..=after).contains(&k), "{before} <= {k} <= {after}");
    // Every row equals the source's row (rows are never changed after insert), and the change
    // log holds exactly one entry per record.
    let (_, source) = people_with_checksum(&*h.store).await;
    assert!(source.len() as u64 > k, "the source went on");
    for (n, sum) in &sums {
        assert_eq!(source.get(n), Some(sum), "row {n} differs");
    }
    let restored_store = restored.main();
    let changes = restored_store
        .changes(&anchora_core::audit::ChangeQuery {
            object: Some("person".into()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(changes.len(), 500);
    let mut entries = 0u64;
    let mut before_seq = None;
    loop {
        let page = restored_store
            .changes(&anchora_core::audit::ChangeQuery {
                object: Some("person".into()),
                limit: 500,
                before_seq,
                ..Default::default()
            })
            .await
            .unwrap();
        entries += page.len() as u64;
        match page.last() {
            Some(c) if page.len() == 500 => before_seq = Some(c.seq),
            _ => break,
        }
    }
    assert_eq!(entries, k);
    // The backup opens as a working database: it takes new writes.
    let crm = Crm::new(restored_store, h.clock.clone());
    crm.create(&h.admin, "person", &json!({"last_name": "after restore"}))
        .await
        .unwrap();
}

async fn erasure_is_atomic_and_complete(h: H) {
    let p = person(
        &h,
        json!({"first_name": "Ingrid", "last_name": "Bergman", "email": "ingrid@example.se"}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let (_, a) = h
        .crm
        .create(
            &h.admin,
            "activity",
            &json!({"type": "call", "subject": "Ingrid called", "body": "about Casablanca", "person": id}),
        )
        .await
        .unwrap();
    let receipt = h.crm.erase_person(&h.admin, &id, None).await.unwrap();
    assert_eq!(receipt["records_changed"], 2);
    let e = h.crm.get(&h.admin, "person", &id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let (_, act) = h.crm.get(&h.admin, "activity", &a.id.to_string()).await.unwrap();
    assert_eq!(act.version, 2);
    let history = h
        .store
        .history(h.crm.schema().await.unwrap().object("activity").unwrap(), a.id, 0, 50)
        .await
        .unwrap();
    let text = serde_json::to_string(&history.iter().map(|c| c.to_json()).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("Ingrid") && !text.contains("Casablanca"), "{text}");
    assert!(history.iter().any(|c| c.op == anchora_core::record::ChangeOp::Erase));
    // Erasing again: the person is gone, so 404, and nothing else changes.
    let e = h.crm.erase_person(&h.admin, &id, None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
}
