//! Operations: `/healthz`, `/readyz` (and what it says when it is not ready), `/metrics` read by
//! a Prometheus text parser, and the request id in the response header and problem bodies.

use super::H;
use super::imports::upload_as;
use anchora_core::mail::{Email, Mailer};
use anchora_store::db::Sql;
use anchora_web::{AppState, app};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use openmetrics_parser::PrometheusValue;
use openmetrics_parser::prometheus::parse_prometheus;
use serde_json::json;
use std::collections::HashMap;
use tower::ServiceExt;

/// `/metrics` as its status, content type and text, asked of `app` with an optional token.
async fn scrape(app: &axum::Router, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::builder().uri("/metrics");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
}

/// One series of a scrape: its metric family, its labels, its value.
struct Series {
    family: String,
    labels: HashMap<String, String>,
    value: PrometheusValue,
}

/// A scrape read by a Prometheus text parser, flat; the families' HELP texts beside it.
fn parse(text: &str) -> (Vec<Series>, HashMap<String, String>) {
    let exposition = parse_prometheus(text).unwrap_or_else(|e| panic!("not Prometheus text ({e:?}): {text}"));
    let mut series = Vec::new();
    let mut help = HashMap::new();
    for (name, family) in exposition.families {
        help.insert(name.clone(), family.help.clone());
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().unwrap();
            series.push(Series {
                family: name.clone(),
                labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                value: sample.value.clone(),
            });
        }
    }
    (series, help)
}

/// The sum of the series of `family` whose labels include all of `labels` (0 when none has).
fn value_of(series: &[Series], family: &str, labels: &[(&str, &str)]) -> f64 {
    series
        .iter()
        .filter(|s| {
            s.family == family
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| match &s.value {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
            _ => 0.0,
        })
        .sum()
}

pub async fn health_and_readiness(h: H) {
    let r = h.send(Method::GET, "/healthz", None, &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!("ok"));
    let r = h.send(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "ready");
    let version = r.body["schema_version"].as_i64().unwrap();
    assert!(version >= 10, "{}", r.body);

    // A newer Anchora migrated the database: this one is not the build for it.
    let main = h.instance.main();
    let newer = version + 1;
    main.pool()
        .exec()
        .execute(Sql::plain(format!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({newer}, 'from a newer build', '2026-11-23T09:00:00Z')"
        )))
        .await
        .unwrap();
    let r = h.send(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["code"], "unavailable");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("version {newer}")), "{detail}");
    assert!(detail.contains("newer than this server's"), "{detail}");
    assert_eq!(r.headers["retry-after"], "5");
    main.pool()
        .exec()
        .execute(Sql::plain(format!(
            "DELETE FROM schema_migrations WHERE version = {newer}"
        )))
        .await
        .unwrap();
    assert_eq!(
        h.send(Method::GET, "/readyz", None, &[], None).await.status,
        StatusCode::OK
    );

    // The database gone: not ready, and nothing of its URL in the answer.
    h.instance.close().await;
    let r = h.send(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["detail"], "the database is not reachable");
    assert!(!r.body.to_string().contains(&h.url), "{}", r.body);
    // The process itself is still up.
    assert_eq!(
        h.send(Method::GET, "/healthz", None, &[], None).await.status,
        StatusCode::OK
    );
}

pub async fn metrics_in_prometheus_text(h: H) {
    let made = h.post("/api/v1/records/person", json!({"last_name": "Metric"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{id}")).await.status,
        StatusCode::OK
    );
    let ghost = uuid::Uuid::now_v7().to_string();
    let r = h.get(&format!("/api/v1/records/person/{ghost}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.get(&format!("/no/such/page/{ghost}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let (_, _, before) = scrape(&h.app, None).await;
    let rows_before = value_of(&parse(&before).0, "anchora_import_rows_total", &[]);

    // Rows imported: a small file, imported for real.
    let csv = b"first_name,last_name\nAnn,Lund\nBo,Berg\n";
    let r = upload_as(&h, &h.admin.clone(), Some("person"), "people.csv", csv).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let draft = r.body["import"]["id"].as_str().unwrap().to_string();
    let mapping = json!({"first_name": "first_name", "last_name": "last_name"});
    let r = h
        .post(&format!("/api/v1/imports/{draft}/start"), json!({"mapping": mapping}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let job = r.body["id"].as_str().unwrap().to_string();
    let mut status = String::new();
    for _ in 0..400 {
        status = h.get(&format!("/api/v1/imports/{job}")).await.body["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status == "done" || status == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(status, "done");
    // E-mails sent: one through the file mailer.
    let mailer = anchora_web::mail::FileMailer::new(
        h.mail.path().to_path_buf(),
        anchora_web::mail::parse_mailbox("Anchora <anchora@localhost>").unwrap(),
    );
    let email = Email {
        to: "ops@example.com".into(),
        subject: "Counted".into(),
        text: "One e-mail.".into(),
        ..Email::default()
    };
    mailer.send(&email).await.unwrap();

    let (status, ct, text) = scrape(&h.app, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let (metrics, help) = parse(&text);
    assert!(!metrics.is_empty(), "{text}");

    // Requests by route template and status, never by path.
    let record = [("route", "/api/v1/records/{object}/{id}"), ("method", "GET")];
    assert!(
        value_of(
            &metrics,
            "anchora_http_requests_total",
            &[record[0], record[1], ("status", "200")]
        ) >= 1.0,
        "{text}"
    );
    assert!(value_of(&metrics, "anchora_http_requests_total", &[record[0], ("status", "404")]) >= 1.0);
    assert!(
        value_of(
            &metrics,
            "anchora_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0,
        "{text}"
    );
    for series in &metrics {
        for (label, value) in &series.labels {
            for raw in [&id, &ghost, &draft, &job] {
                assert!(!value.contains(raw.as_str()), "{} has {label}={value}", series.family);
            }
            assert!(!value.contains("/no/such"), "{} has {label}={value}", series.family);
        }
    }
    // The latency histogram, with its buckets.
    let latency = metrics
        .iter()
        .find(|s| {
            s.family == "anchora_http_request_duration_seconds"
                && s.labels.get("route").map(String::as_str) == Some(record[0].1)
        })
        .unwrap_or_else(|| panic!("no latency for the record route: {text}"));
    let PrometheusValue::Histogram(histogram) = &latency.value else {
        panic!("latency is not a histogram: {:?}", latency.value);
    };
    assert!(histogram.buckets.len() >= 10, "{histogram:?}");
    assert!(histogram.count.unwrap() >= 1, "{histogram:?}");
    assert!(histogram.sum.unwrap().as_f64() > 0.0, "{histogram:?}");

    // The database pools, rows imported, e-mails sent, the build.
    assert!(
        value_of(&metrics, "anchora_db_pool_max_connections", &[("workspace", "main")]) >= 1.0,
        "{text}"
    );
    assert!(
        value_of(&metrics, "anchora_db_pool_connections", &[("workspace", "main")]) >= 1.0,
        "{text}"
    );
    assert!(
        metrics.iter().any(|s| s.family == "anchora_db_pool_idle_connections"),
        "{text}"
    );
    let rows = value_of(&metrics, "anchora_import_rows_total", &[]);
    assert!(rows >= rows_before + 2.0, "{rows_before} → {rows}");
    assert!(
        value_of(&metrics, "anchora_emails_sent_total", &[("transport", "file")]) >= 1.0,
        "{text}"
    );
    assert_eq!(
        value_of(
            &metrics,
            "anchora_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0,
        "{text}"
    );
    assert!(
        help["anchora_http_requests_total"].contains("route template"),
        "HELP lines: {text}"
    );

    // An operator's token closes /metrics to everyone without it.
    let mut state = AppState::new(
        h.instance.clone(),
        h.clock.clone(),
        std::sync::Arc::new(mailer),
        "http://localhost",
    );
    state.metrics_token = Some("m3trics-t0ken".into());
    let guarded = app(state);
    for token in [None, Some("wrong"), Some("m3trics-t0ke")] {
        let (status, ct, body) = scrape(&guarded, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(ct, "application/problem+json");
        assert!(!body.contains("m3trics-t0ken"), "{body}");
    }
    let (status, _, text) = scrape(&guarded, Some("m3trics-t0ken")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!parse(&text).0.is_empty());
}

pub async fn problems_carry_the_request_id(h: H) {
    let ghost = uuid::Uuid::now_v7();
    let path = format!("/api/v1/records/person/{ghost}");
    // A fresh id, in the header and in the problem.
    let r = h.get(&path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let id = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(r.body["instance"], format!("urn:anchora:request:{id}"), "{}", r.body);
    // Every request gets its own.
    let again = h.get(&path).await;
    assert_ne!(again.headers["x-request-id"].to_str().unwrap(), id);
    // A client's short, plain id is kept; anything else is replaced.
    let token = h.admin.clone();
    let r = h
        .send(
            Method::GET,
            &path,
            Some(&token),
            &[("x-request-id", "lb-7f3a.42")],
            None,
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "lb-7f3a.42");
    assert_eq!(r.body["instance"], "urn:anchora:request:lb-7f3a.42");
    let long = "x".repeat(65);
    for odd in ["two words", "<script>", long.as_str()] {
        let r = h
            .send(Method::GET, &path, Some(&token), &[("x-request-id", odd)], None)
            .await;
        let given = r.headers["x-request-id"].to_str().unwrap();
        assert_ne!(given, odd);
        assert!(uuid::Uuid::parse_str(given).is_ok(), "{given}");
        assert_eq!(r.body["instance"], format!("urn:anchora:request:{given}"));
    }
    // Problems before any handler (no token, no route) and successes carry it too.
    let r = h.send(Method::GET, "/api/v1/objects", None, &[], None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.body["instance"], format!("urn:anchora:request:{id}"));
    let r = h.get("/api/v1/no-such-endpoint").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.body["instance"], format!("urn:anchora:request:{id}"));
    let r = h.get("/api/v1/objects").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.contains_key("x-request-id"));
}

/// The log, as JSON lines, kept in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line logged while a request is answered (here: the store's warning that the database
/// is gone, and the answer's own warning) carries the id the response names, even when the
/// log keeps only warnings. The log of this request alone is caught.
#[tokio::test(flavor = "current_thread")]
async fn every_log_line_of_a_request_carries_its_id() {
    let h = super::sqlite().await.unwrap();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter("warn")
        .with_writer(move || writer.clone())
        .finish();
    h.instance.close().await;
    // The subscriber catches this request's future only: the harness's job workers, polled on
    // the same thread, log their own (request-less) complaints about the closed database.
    let r = tracing::instrument::WithSubscriber::with_subscriber(
        h.send(Method::GET, "/readyz", None, &[], None),
        subscriber,
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let id = r.headers["x-request-id"].to_str().unwrap();
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 2, "{text}");
    for line in &lines {
        assert_eq!(line["span"]["request_id"], id, "{line}");
        assert_eq!(line["span"]["route"], "/readyz", "{line}");
    }
    assert!(text.contains("readiness: the database did not answer"), "{text}");
}
