//! API tests through the real router: every endpoint's success and failure paths, on SQLite and
//! on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use anchora_core::auth::{Role, Scope};
use anchora_core::identity::{ApiToken, User};
use anchora_core::secret::{generate_token, hash_secret};
use anchora_core::store::{CredentialStore, UserStore};
use anchora_core::{Clock, FixedClock, TokenId, UserId};
use anchora_store::{Instance, SqlStore, testing};
use anchora_web::{AppState, app};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use tower::ServiceExt;

struct H {
    app: Router,
    instance: Arc<Instance>,
    clock: Arc<FixedClock>,
    admin: String,
    url: String,
    mail: tempfile::TempDir,
    /// What the server and its workers send through (files, unless a test routes it elsewhere).
    outbox: Arc<SwitchMailer>,
    _dir: Option<tempfile::TempDir>,
}

/// A mailer a test can point at a real SMTP server while the harness runs.
struct SwitchMailer {
    inner: std::sync::RwLock<Arc<dyn anchora_web::mail::Mailer>>,
}

impl SwitchMailer {
    fn route_to(&self, mailer: Arc<dyn anchora_web::mail::Mailer>) {
        *self.inner.write().unwrap() = mailer;
    }

    fn current(&self) -> Arc<dyn anchora_web::mail::Mailer> {
        self.inner.read().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl anchora_web::mail::Mailer for SwitchMailer {
    async fn send(&self, email: &anchora_web::mail::Email) -> anchora_core::Result<()> {
        self.current().send(email).await
    }

    async fn deliver(&self, email: &anchora_web::mail::Email) -> anchora_web::mail::Delivery {
        self.current().deliver(email).await
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Json,
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn token_for(
    store: &SqlStore,
    workspace: &str,
    role: Role,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    let user = User::new(
        UserId::new_at(now),
        None,
        &format!("{} token", role.as_str()),
        role,
        now,
    );
    store.create_user(&user).await.unwrap();
    let token = generate_token(workspace);
    let api = ApiToken {
        id: TokenId::new_at(now),
        name: "test".into(),
        user_id: user.id,
        token_hash: hash_secret(&token),
        scope: Scope::Admin,
        created_at: now,
        last_used_at: None,
        expires_at: expires,
        revoked_at: None,
    };
    store.create_token(&api).await.unwrap();
    token
}

async fn harness(url: String, dir: Option<tempfile::TempDir>) -> H {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let clock = Arc::new(FixedClock::new(start()));
    let instance = Arc::new(Instance::open(&url, clock.now()).await.unwrap());
    let admin = token_for(&instance.main(), "main", Role::Admin, None, clock.now()).await;
    let mail = tempfile::tempdir().unwrap();
    let files: Arc<dyn anchora_web::mail::Mailer> = Arc::new(anchora_web::mail::FileMailer::new(
        mail.path().to_path_buf(),
        anchora_web::mail::parse_mailbox("Anchora <anchora@localhost>").unwrap(),
    ));
    let outbox = Arc::new(SwitchMailer {
        inner: std::sync::RwLock::new(files),
    });
    let mailer = outbox.clone();
    let app = app(AppState::new(
        instance.clone(),
        clock.clone(),
        mailer.clone(),
        "http://localhost",
    ));
    // Imports, scans and measuring run on the job queue, as in `anchora serve`.
    let workspaces = Arc::new(anchora_store::InstanceWorkspaces {
        instance: instance.clone(),
        clock: clock.clone(),
    });
    let settings = anchora_core::jobs::WorkerSettings {
        idle_poll: std::time::Duration::from_millis(20),
        schedules: false,
        ..Default::default()
    };
    tokio::spawn(anchora_core::jobs::run_workers(
        workspaces,
        Arc::new(anchora_web::reminders::ServerJobs {
            bounce_address: Some("bounces@example.se".into()),
            ..anchora_web::reminders::ServerJobs::new(mailer, "http://localhost")
        }),
        settings,
    ));
    H {
        app,
        instance,
        clock,
        admin,
        url: url.clone(),
        mail,
        outbox,
        _dir: dir,
    }
}

/// Wait for the job a `202 Accepted` answer names (its `Location`) to end; the job as it ended.
async fn finished_job(h: &H, accepted: &Reply) -> Json {
    let location = accepted.headers["location"].to_str().unwrap().to_string();
    for _ in 0..500 {
        let job = h.get(&location).await.body;
        if matches!(job["state"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the job at {location} did not end");
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
    support_questions_over_http,
    support_hypercare_shows_each_team_its_questions_and_their_age,
    support_attachment_names_and_list_queries_answer_safely,
    support_pages_raise_answer_and_pass_on,
    support_settings_page_saves_and_shows_mistakes_by_their_fields,
    browser_support_chain_from_a_deal_to_an_answer,
    support_notices_go_once_through_a_real_smtp_server,
    support_answers_by_email_are_threaded_from_a_real_imap_mailbox,
    browser_support_figures_show_weeks_levels_and_categories,
    reports_run_save_export_and_refuse_by_name,
    reports_group_by_a_related_records_field_over_http,
    forecast_and_quotas_over_http,
    dashboards_round_trip_with_their_statuses,
    authentication_is_required_everywhere,
    tokens_of_one_workspace_see_nothing_of_another,
    roles_are_enforced,
    schema_endpoints,
    record_lifecycle_with_etags,
    lists_filter_sort_and_page,
    bad_input_is_a_clear_problem,
    concurrent_patches_exactly_one_wins,
    openapi_document_is_valid_and_live,
    search_endpoint,
    login_sessions_and_csrf,
    reminders_go_once_through_a_real_smtp_server,
    report_mails_hold_each_readers_records_once_a_week,
    the_adoption_digest_goes_once_a_week_to_leads_and_key_users,
    adoption_figures_are_the_users_their_leads_and_administrators,
    onboarding_and_training_over_http,
    browser_a_new_user_signs_in_and_follows_their_checklist,
    browser_jobs_show_progress_and_cancel,
    browser_build_a_selection_write_a_template_and_send,
    browser_report_builder_two_groupings_save_and_drill,
    browser_dashboard_shows_a_saved_report_and_drills,
    browser_forecast_page_shows_periods_owners_and_quota,
    browser_adoption_shows_weak_users_and_plans_support,
    consent_per_purpose_api_and_page,
    unsubscribe_links_opt_out_per_purpose,
    browser_expectations_set_by_managers_show_on_my_work,
    selections_through_the_api,
    mailing_end_to_end_through_a_real_smtp_server,
    a_bounce_report_over_imap_marks_the_address_invalid,
    sessions_expire_idle_and_absolute,
    failed_logins_are_throttled_and_recorded,
    password_reset_by_emailed_link,
    roles_and_no_privilege_escalation,
    key_user_schema_rights_are_set_by_admins,
    record_visibility_by_team_and_owner,
    token_scopes_expiry_and_revocation,
    audit_and_change_logs_are_admin_only_and_filterable,
    gdpr_export_and_erasure,
    security_headers_on_pages_and_api,
    two_sessions_editing_one_record,
    deactivated_users_keep_their_records_but_cannot_sign_in,
    audit_pages_for_admins_only,
    app_pages_refuse_strangers_forgeries_and_roles,
    browser_create_company_person_and_log_a_call,
    browser_stale_edit_shows_the_conflict,
    browser_swedish_labels_dates_and_search,
    browser_filter_by_a_custom_field,
    browser_kanban_moves_deals_with_version_checks,
    browser_save_and_share_a_view,
    browser_bulk_actions_and_inline_edit,
    project_api_with_bad_input_and_rights,
    browser_project_health_and_gantt,
    project_and_report_pages_for_readers,
    browser_change_report_and_journey,
    project_part_two_api_with_bad_input,
    import_and_export_api_with_hostile_files,
    browser_import_a_file_and_export_a_list,
    warnings_instead_of_rejections_over_the_api_and_on_the_page,
    browser_pages_fit_at_1280_and_1440,
    board_and_start_page_sum_in_the_reporting_currency,
    english_users_choose_the_order_of_dates,
    the_filter_builder_offers_only_what_filters_accept,
    start_page_lists_records_opened_lately,
    quality_pages_refuse_forgeries_and_roles,
    browser_quality_dashboard_rules_and_fix_list,
    relations_to_people_out_of_sight_answer_like_made_up_ids,
    nul_characters_are_refused_naming_their_field,
    unique_external_ids_are_refused_with_the_record_that_holds_them,
    redirects_go_to_paths_of_this_site_only,
    browser_links_out_of_sight_say_so,
    bulk_changes_each_record_at_its_own_version,
    every_route_is_in_the_openapi_document,
    openapi_operations_document_their_problems,
    health_and_readiness,
    metrics_in_prometheus_text,
    problems_carry_the_request_id,
    stewardship_over_http,
    stewardship_pages_show_gaps_backlog_and_answers,
);

#[path = "api/imports.rs"]
mod imports;
use imports::*;
#[path = "api/support.rs"]
mod support;
use support::*;
#[path = "api/support_hypercare.rs"]
mod support_hypercare;
use support_hypercare::*;

#[path = "api/support_settings_pages.rs"]
mod support_settings_pages;
use support_settings_pages::*;

#[path = "api/support_mailbox.rs"]
mod support_mailbox;
use support_mailbox::*;

#[path = "api/support_figures_pages.rs"]
mod support_figures_pages;
use support_figures_pages::*;

#[path = "api/first_hour.rs"]
mod first_hour;
use first_hour::*;

#[path = "api/quality.rs"]
mod quality;
use quality::*;

#[path = "api/e2e.rs"]
mod e2e;
use e2e::*;

#[path = "api/identity.rs"]
mod identity;
use identity::*;

#[path = "api/integrity.rs"]
mod integrity;
use integrity::*;

#[path = "api/openapi.rs"]
mod openapi;
use openapi::*;

#[path = "api/projects.rs"]
mod projects;
use projects::*;

#[path = "api/ops.rs"]
mod ops;
use ops::*;

#[path = "api/consent.rs"]
mod consent;
use consent::*;

#[path = "api/jobs.rs"]
mod jobs;
use jobs::*;

#[path = "api/reminders.rs"]
mod reminders;
use reminders::*;

#[path = "api/adoption.rs"]
mod adoption;
use adoption::adoption_figures_are_the_users_their_leads_and_administrators;

#[path = "api/mailings.rs"]
mod mailings;
use mailings::*;

#[path = "api/imap_server.rs"]
mod imap_server;

#[path = "api/reports.rs"]
mod reports;
use reports::{
    forecast_and_quotas_over_http, reports_group_by_a_related_records_field_over_http,
    reports_run_save_export_and_refuse_by_name,
};

#[path = "api/dashboards.rs"]
mod dashboards;
use dashboards::dashboards_round_trip_with_their_statuses;

#[path = "api/mailing_pages.rs"]
mod mailing_pages;
use mailing_pages::*;

#[path = "api/report_pages.rs"]
mod report_pages;
use report_pages::*;

#[path = "api/dashboard_pages.rs"]
mod dashboard_pages;
use dashboard_pages::browser_dashboard_shows_a_saved_report_and_drills;

#[path = "api/forecast_pages.rs"]
mod forecast_pages;
use forecast_pages::*;

#[path = "api/onboarding.rs"]
mod onboarding;
use onboarding::{browser_a_new_user_signs_in_and_follows_their_checklist, onboarding_and_training_over_http};

#[path = "api/stewardship.rs"]
mod stewardship;
use stewardship::{stewardship_over_http, stewardship_pages_show_gaps_backlog_and_answers};

#[path = "api/support_pages.rs"]
mod support_pages;
use support_pages::browser_support_chain_from_a_deal_to_an_answer;

#[path = "api/adoption_pages.rs"]
mod adoption_pages;
use adoption_pages::{
    browser_adoption_shows_weak_users_and_plans_support, browser_expectations_set_by_managers_show_on_my_work,
};

impl H {
    fn backend(&self) -> &'static str {
        if self.url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let has_ct = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_ct {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Json::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(headers["content-type"], "application/problem+json", "{path}: {body}");
            for key in ["type", "title", "status", "detail", "code"] {
                assert!(body.get(key).is_some(), "problem without {key}: {body}");
            }
            assert_eq!(body["status"], status.as_u16());
        }
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
        Reply { status, headers, body }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.admin.clone()), &[], None).await
    }

    async fn post(&self, path: &str, body: Json) -> Reply {
        self.send_json(Method::POST, path, body).await
    }

    async fn put(&self, path: &str, body: Json) -> Reply {
        self.send_json(Method::PUT, path, body).await
    }

    async fn send_json(&self, method: Method, path: &str, body: Json) -> Reply {
        let token = self.admin.clone();
        self.send(method, path, Some(&token), &[], Some(body.to_string().into_bytes()))
            .await
    }

    async fn patch(&self, path: &str, if_match: Option<&str>, body: Json) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.send(
            Method::PATCH,
            path,
            Some(&self.admin.clone()),
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn authentication_is_required_everywhere(h: H) {
    for (method, path) in [
        (Method::GET, "/api/v1/objects"),
        (Method::GET, "/api/v1/records/person"),
        (Method::POST, "/api/v1/records/person"),
        (Method::GET, "/api/v1/search?q=x"),
        (Method::GET, "/api/v1/openapi.json"),
        (Method::POST, "/api/v1/objects/person/fields"),
    ] {
        let r = h.send(method.clone(), path, None, &[], None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(r.body["code"], "unauthenticated");
        assert!(r.headers.contains_key("www-authenticate"));
        for bad in [
            "nonsense",
            "anc_main_short",
            &format!("{}x", h.admin),
            &generate_token("main"),
            &generate_token("ghost"),
        ] {
            let r = h.send(method.clone(), path, Some(bad), &[], None).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} with {bad}");
        }
    }
    let r = h
        .send(
            Method::GET,
            "/api/v1/objects",
            None,
            &[("authorization", "Basic YTpi")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Expired tokens stop working when they expire.
    let soon = token_for(
        &h.instance.main(),
        "main",
        Role::Admin,
        Some(start() + chrono::Duration::hours(1)),
        start(),
    )
    .await;
    assert_eq!(
        h.send(Method::GET, "/api/v1/objects", Some(&soon), &[], None)
            .await
            .status,
        StatusCode::OK
    );
    h.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        h.send(Method::GET, "/api/v1/objects", Some(&soon), &[], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn tokens_of_one_workspace_see_nothing_of_another(h: H) {
    let acme = h.instance.add_workspace("acme", h.clock.now()).await.unwrap();
    let acme_token = token_for(&acme, "acme", Role::Admin, None, h.clock.now()).await;
    let mine = h.post("/api/v1/records/person", json!({"last_name": "MainOnly"})).await;
    assert_eq!(mine.status, StatusCode::CREATED);
    let id = mine.body["id"].as_str().unwrap();
    let as_acme = |method: Method, path: String, body: Option<Json>| {
        let t = acme_token.clone();
        let h = &h;
        async move {
            h.send(
                method,
                &path,
                Some(&t),
                &[("if-match", "\"1\"")],
                body.map(|b| b.to_string().into_bytes()),
            )
            .await
        }
    };
    assert_eq!(
        as_acme(Method::GET, format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_acme(
            Method::PATCH,
            format!("/api/v1/records/person/{id}"),
            Some(json!({"city": "x"}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_acme(Method::DELETE, format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_acme(Method::GET, format!("/api/v1/records/person/{id}/history"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = as_acme(Method::GET, "/api/v1/records/person".into(), None).await;
    assert_eq!(list.body["data"], json!([]));
    let search = as_acme(Method::GET, "/api/v1/search?q=MainOnly".into(), None).await;
    assert_eq!(search.body["data"], json!([]));
    // A custom field of one workspace is not in the other's schema or OpenAPI document.
    let r = as_acme(
        Method::POST,
        "/api/v1/objects/person/fields".into(),
        Some(json!({"name": "acme_code", "label": "Code", "type": "text"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let doc = h.get("/api/v1/openapi.json").await.body;
    assert!(
        doc["components"]["schemas"]["Person"]["properties"]
            .get("acme_code")
            .is_none()
    );
    let doc = as_acme(Method::GET, "/api/v1/openapi.json".into(), None).await.body;
    assert!(
        doc["components"]["schemas"]["Person"]["properties"]
            .get("acme_code")
            .is_some()
    );
    // A main token cannot be turned into an acme token by editing its prefix.
    let forged = h.admin.replacen("anc_main_", "anc_acme_", 1);
    assert_eq!(
        h.send(Method::GET, "/api/v1/objects", Some(&forged), &[], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn roles_are_enforced(h: H) {
    let reader = token_for(&h.instance.main(), "main", Role::ReadOnly, None, h.clock.now()).await;
    let user = token_for(&h.instance.main(), "main", Role::User, None, h.clock.now()).await;
    let p = h.post("/api/v1/records/person", json!({"last_name": "Role"})).await;
    let id = p.body["id"].as_str().unwrap();
    let body = || Some(json!({"last_name": "X"}).to_string().into_bytes());
    assert_eq!(
        h.send(Method::GET, "/api/v1/records/person", Some(&reader), &[], None)
            .await
            .status,
        StatusCode::OK
    );
    for (method, path) in [
        (Method::POST, "/api/v1/records/person".to_string()),
        (Method::PATCH, format!("/api/v1/records/person/{id}")),
        (Method::DELETE, format!("/api/v1/records/person/{id}")),
        (Method::POST, format!("/api/v1/records/person/{id}/restore")),
    ] {
        let r = h
            .send(method.clone(), &path, Some(&reader), &[("if-match", "\"1\"")], body())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.body["code"], "forbidden");
    }
    let r = h
        .send(
            Method::POST,
            "/api/v1/objects/person/fields",
            Some(&user),
            &[],
            Some(
                json!({"name": "x", "label": "X", "type": "text"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(
            Method::POST,
            "/api/v1/objects",
            Some(&user),
            &[],
            Some(json!({"name": "x", "label": "X"}).to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.send(Method::POST, "/api/v1/records/person", Some(&user), &[], body())
            .await
            .status,
        StatusCode::CREATED
    );
}

async fn schema_endpoints(h: H) {
    let r = h.get("/api/v1/objects").await;
    let names: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["activity", "company", "deal", "person"]);
    let r = h.get("/api/v1/objects/deal").await;
    assert_eq!(r.body["fields"][1]["name"], "stage");
    assert_eq!(h.get("/api/v1/objects/nope").await.status, StatusCode::NOT_FOUND);
    let r = h.post("/api/v1/objects", json!({"name": "contract", "label": "Contract", "label_plural": "Contracts",
        "fields": [{"name": "value", "label": "Value", "type": "money"}, {"name": "signed", "label": "Signed", "type": "date"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .post(
            "/api/v1/objects/contract/fields",
            json!({"name": "tier", "label": "Tier", "type": "select",
        "choices": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h
        .post(
            "/api/v1/records/contract",
            json!({"name": "Frame agreement", "value": 120000, "tier": "gold", "signed": "2026-11-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h.patch("/api/v1/objects/contract/fields/tier", None, json!({"label": "Level", "choices": [{"value": "gold", "label": "Gold"}, {"value": "bronze", "label": "Bronze"}]})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["label"], "Level");
    let r = h
        .patch("/api/v1/objects/contract", None, json!({"label": "Agreement"}))
        .await;
    assert_eq!(r.body["label"], "Agreement");
    let r = h
        .send(
            Method::DELETE,
            "/api/v1/objects/contract/fields/tier",
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["field"]["archived"], true);
    let r = h
        .send(
            Method::DELETE,
            "/api/v1/objects/contract/fields/tier?purge=true",
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.body["purged"], true);
    let audit = h.get("/api/v1/audit?kind=purge").await;
    assert_eq!(audit.body["data"][0]["subject"], "contract.tier");
    let r = h
        .send(
            Method::DELETE,
            "/api/v1/objects/contract/fields/tier",
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "unknown_field");
    let r = h
        .send(
            Method::DELETE,
            "/api/v1/objects/person/fields/last_name",
            Some(&h.admin.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .post(
            "/api/v1/objects/person/fields",
            json!({"name": "link", "label": "Link", "type": "relation", "target": "ghost"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "target");
}

async fn record_lifecycle_with_etags(h: H) {
    let r = h
        .post(
            "/api/v1/records/company",
            json!({"name": "Fjord Data ApS", "city": "Aarhus", "country": "DK"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["etag"], "\"1\"");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.headers["location"], format!("/api/v1/records/company/{id}").as_str());
    let path = format!("/api/v1/records/company/{id}");
    let r = h.get(&path).await;
    assert_eq!(r.headers["etag"], "\"1\"");
    assert_eq!(r.body["name"], "Fjord Data ApS");
    let r = h.patch(&path, None, json!({"city": "Odense"})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let r = h.patch(&path, Some("\"1\""), json!({"city": "Odense"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = h.patch(&path, Some("\"1\""), json!({"city": "Vejle"})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["code"], "version_conflict");
    assert_eq!(r.body["current"]["city"], "Odense");
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = h.patch(&path, None, json!({"city": "Vejle", "version": 2})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.patch(&path, Some("W/\"3\""), json!({"city": "Roskilde"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.patch(&path, Some("\"4\""), json!({"city": "x", "version": 3})).await;
    assert_eq!(r.body["errors"][0]["field"], "version");
    let r = h.patch(&path, Some("garbage"), json!({"city": "x"})).await;
    assert_eq!(r.body["errors"][0]["field"], "If-Match");
    // A GET body can be sent back as a PATCH unchanged.
    let got = h.get(&path).await.body;
    let r = h.patch(&path, None, got).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 4);
    let r = h.send(Method::DELETE, &path, Some(&h.admin.clone()), &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["deleted_at"].is_string());
    assert_eq!(h.get("/api/v1/records/company").await.body["data"], json!([]));
    assert_eq!(
        h.get("/api/v1/records/company?trash=true").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = h.post(&format!("{path}/restore"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["deleted_at"].is_null());
    let r = h.get(&format!("{path}/history")).await;
    let ops: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["create", "update", "update", "update", "delete", "restore"]);
    let r = h.get(&format!("{path}/history?after=1&limit=2")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    assert!(r.body["next_after"].is_number());
    let ghost = uuid::Uuid::now_v7();
    assert_eq!(
        h.get(&format!("/api/v1/records/company/{ghost}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get("/api/v1/records/company/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&format!("/api/v1/records/company/{ghost}/history")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.patch(&format!("/api/v1/records/company/{ghost}"), Some("\"1\""), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // `If-Match: *` matches whatever version is current (RFC 9110 §13.1.1): a delete goes
    // through, and a change that names no version of its own still needs one.
    let r = h.patch(&path, Some("*"), json!({"city": "Ribe"})).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "{}", r.body);
    let r = h.patch(&path, Some("*"), json!({"city": "Ribe", "version": 6})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h
        .send(
            Method::DELETE,
            &path,
            Some(&h.admin.clone()),
            &[("if-match", "*")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["deleted_at"].is_string());
}

async fn lists_filter_sort_and_page(h: H) {
    for (i, city) in ["Malmö", "Lund", "Malmö", "Bilbao", "Malmö", "Lund", "Aarhus"]
        .iter()
        .enumerate()
    {
        let r = h
            .post(
                "/api/v1/records/person",
                json!({"last_name": format!("N{i}"), "city": city}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let f = enc(&json!({"field": "city", "op": "eq", "value": "Malmö"}).to_string());
    let r = h
        .get(&format!("/api/v1/records/person?filter={f}&sort=-last_name&limit=2"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let names: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["N4", "N2"]);
    let cursor = r.body["next_cursor"].as_str().unwrap();
    let r = h
        .get(&format!(
            "/api/v1/records/person?filter={f}&sort=-last_name&limit=2&cursor={cursor}"
        ))
        .await;
    let names: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["N0"]);
    assert!(r.body["next_cursor"].is_null());
    // A cursor from another sort is refused rather than silently misread.
    let r = h
        .get(&format!("/api/v1/records/person?sort=city,last_name&cursor={cursor}"))
        .await;
    assert_eq!(r.body["code"], "invalid_cursor");
    let r = h.get("/api/v1/records/person?sort=city,-created_at&limit=500").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 7);
    assert_eq!(r.body["data"][0]["city"], "Aarhus");
}

async fn bad_input_is_a_clear_problem(h: H) {
    let tok = h.admin.clone();
    let r = h
        .send(
            Method::POST,
            "/api/v1/records/person",
            Some(&tok),
            &[],
            Some(b"{\"last_name\": ".to_vec()),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let r = h
        .send(
            Method::POST,
            "/api/v1/records/person",
            Some(&tok),
            &[("content-type", "text/plain")],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = h
        .send(
            Method::POST,
            "/api/v1/records/person",
            Some(&tok),
            &[],
            Some(vec![0xff, 0xfe, 0x00]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let huge = json!({"last_name": "x".repeat(2 * 1024 * 1024)})
        .to_string()
        .into_bytes();
    let r = h
        .send(Method::POST, "/api/v1/records/person", Some(&tok), &[], Some(huge))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let r = h
        .send(Method::POST, "/api/v1/records/person", Some(&tok), &[], Some(deep))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h
        .post(
            "/api/v1/records/person",
            json!({"last_name": "A", "shoe_size": 44, "email": 17}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "shoe_size"]);
    let r = h
        .post(
            "/api/v1/records/deal",
            json!({"name": "D", "stage": "lead", "amount": 1e300, "probability": "high"}),
        )
        .await;
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["amount", "probability"]);
    assert_eq!(
        h.post("/api/v1/records/ghost", json!({})).await.body["code"],
        "unknown_object"
    );
    assert_eq!(h.get("/api/v1/nothing/here").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.send(Method::PUT, "/api/v1/records/person", Some(&tok), &[], None)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    for (query, code) in [
        ("filter=%7Bnot%20json", "invalid_filter"),
        (
            &format!("filter={}", enc(r#"{"field":"city","op":"regex","value":"."}"#)),
            "invalid_filter",
        ),
        (
            &format!("filter={}", enc(r#"{"field":"city) OR 1=1 --","op":"eq","value":"x"}"#)),
            "invalid_filter",
        ),
        (
            &format!(
                "filter={}",
                enc(r#"{"field":"created_at","op":"gt","value":"yesterday; DROP TABLE users"}"#)
            ),
            "invalid_filter",
        ),
        ("sort=last_name%3B%20DROP%20TABLE%20obj_person", "invalid_sort"),
        ("sort=-", "invalid_sort"),
        ("sort=city,city", "invalid_sort"),
        ("limit=0", "validation_failed"),
        ("limit=100000", "validation_failed"),
        ("limit=-1", "validation_failed"),
        ("cursor=%00%01", "invalid_cursor"),
    ] {
        let r = h.get(&format!("/api/v1/records/person?{query}")).await;
        assert_eq!(r.body["code"], code, "{query}: {}", r.body);
    }
    let r = h
        .get(&format!(
            "/api/v1/records/person?filter={}",
            enc(r#"{"field":"last_name","op":"eq","value":"x' OR '1'='1"}"#)
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"], json!([]));
    // Nothing above left anything behind.
    let r = h.get("/api/v1/records/person").await;
    assert_eq!(r.body["data"], json!([]));
    let r = h.get("/api/v1/search?q=").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn concurrent_patches_exactly_one_wins(h: H) {
    let r = h
        .post("/api/v1/records/person", json!({"last_name": "Contended"}))
        .await;
    let path = format!("/api/v1/records/person/{}", r.body["id"].as_str().unwrap());
    let h = Arc::new(h);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let h = h.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            h.patch(&path, Some("\"1\""), json!({"city": format!("C{i}")}))
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK
            || *s == StatusCode::PRECONDITION_FAILED
            || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert_eq!(h.get(&path).await.body["version"], 2);
}

fn refs(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().unwrap().to_string());
                } else {
                    refs(x, out);
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

async fn openapi_document_is_valid_and_live(h: H) {
    let doc = h.get("/api/v1/openapi.json").await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let spec: oas3::Spec = serde_json::from_value(doc.clone()).unwrap();
    assert!(spec.paths.as_ref().unwrap().contains_key("/records/person/{id}"));
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for (method, op) in item.as_object().unwrap() {
            if method != "parameters" {
                ids.push(op["operationId"].as_str().unwrap().to_string());
            }
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operationIds are unique");
    // A field added a moment ago is in the next document.
    h.post(
        "/api/v1/objects/person/fields",
        json!({"name": "linkedin", "label": "LinkedIn", "type": "url"}),
    )
    .await;
    let doc = h.get("/api/v1/openapi.json").await.body;
    assert_eq!(
        doc["components"]["schemas"]["Person"]["properties"]["linkedin"]["x-anchora-type"],
        "url"
    );
    assert_eq!(
        doc["components"]["schemas"]["PersonInput"]["properties"]["linkedin"]["x-anchora-type"],
        "url"
    );
    let _: oas3::Spec = serde_json::from_value(doc).unwrap();
    // A field added by another server process is there on the next request.
    let other = Instance::open(&h.url, h.clock.now()).await.unwrap();
    let other_admin = other.main().user_by_email("nobody@example.com").await.unwrap();
    assert!(other_admin.is_none());
    let principal = anchora_core::auth::Principal::new(
        UserId::new_at(h.clock.now()),
        Role::Admin,
        None,
        anchora_core::auth::Credential::Local,
    );
    let crm = anchora_core::service::Crm::new(other.main(), h.clock.clone());
    crm.add_field(
        &principal,
        "person",
        json!({"name": "from_elsewhere", "label": "Elsewhere", "type": "text"}),
    )
    .await
    .unwrap();
    let doc = h.get("/api/v1/openapi.json").await.body;
    assert!(
        doc["components"]["schemas"]["Person"]["properties"]
            .get("from_elsewhere")
            .is_some()
    );
    let r = h
        .post(
            "/api/v1/records/person",
            json!({"last_name": "X", "from_elsewhere": "yes"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    other.close().await;
}

async fn search_endpoint(h: H) {
    h.post(
        "/api/v1/records/person",
        json!({"first_name": "Søren", "last_name": "Kierkegaard", "email": "soren@filosofi.dk"}),
    )
    .await;
    h.post("/api/v1/records/company", json!({"name": "Kierkegaard Rådgivning ApS"}))
        .await;
    let r = h.get("/api/v1/search?q=kierke").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let r = h.get("/api/v1/search?q=kierke&limit=1").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let r = h
        .get(&format!("/api/v1/search?q={}", enc("filosofi\" OR 1=1 --")))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
