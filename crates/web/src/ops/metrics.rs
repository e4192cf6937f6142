//! The process's metrics in Prometheus text format: the `metrics` facade records them anywhere
//! (core counts imported rows through it too), the exporter's recorder keeps them, and
//! `/metrics` renders them through its handle. No listener of the exporter's own, no push.
//!
//! Labels never carry a raw path, an id or a user's data: routes are axum's route templates,
//! workspaces are the installation's own names.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// `anchora_build_info{version}`: always 1; the labels say which build answers.
pub const BUILD_INFO: &str = "anchora_build_info";
/// `anchora_http_requests_total{method, route, status}`.
pub const HTTP_REQUESTS: &str = "anchora_http_requests_total";
/// `anchora_http_request_duration_seconds{method, route, status}`: a histogram, until the
/// response's head is ready (a streamed body's time is not in it).
pub const HTTP_DURATION: &str = "anchora_http_request_duration_seconds";
/// `anchora_db_pool_connections{workspace}`: connections open (lent out or idle).
pub const POOL_CONNECTIONS: &str = "anchora_db_pool_connections";
/// `anchora_db_pool_idle_connections{workspace}`.
pub const POOL_IDLE: &str = "anchora_db_pool_idle_connections";
/// `anchora_db_pool_max_connections{workspace}`.
pub const POOL_MAX: &str = "anchora_db_pool_max_connections";
/// `anchora_import_rows_total`: rows imported into records (created, updated, unchanged or
/// merged; not rejected rows, not dry runs). Counted in `anchora_core::import`'s service.
pub const IMPORT_ROWS: &str = "anchora_import_rows_total";
/// `anchora_emails_sent_total{transport}` (`smtp` or `file`).
pub const EMAILS_SENT: &str = "anchora_emails_sent_total";
/// `anchora_emails_failed_total{transport}`.
pub const EMAILS_FAILED: &str = "anchora_emails_failed_total";
/// `anchora_jobs{state}`: background jobs by state (see [`set_job_gauges`]).
pub const JOBS: &str = "anchora_jobs";
/// `anchora_jobs_oldest_queued_age_seconds`: how long the oldest queued job has waited.
pub const JOBS_OLDEST_QUEUED_AGE: &str = "anchora_jobs_oldest_queued_age_seconds";

/// The latency histogram's buckets, in seconds: a page or API answer in milliseconds up to an
/// export or scan taking tens of seconds.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often the recorder drains histogram samples when nobody scrapes (else they pile up).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed as the global one the first time this is called (by the
/// server's start, or by the first router built). When another recorder is installed already,
/// a warning says so and `/metrics` shows only an empty page.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = match PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_string()), LATENCY_BUCKETS)
        {
            Ok(builder) => builder.build_recorder(),
            Err(e) => {
                tracing::warn!(error = %e, "the latency buckets were refused; latencies are summaries");
                PrometheusBuilder::new().build_recorder()
            }
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows none of Anchora's metrics");
        }
        let upkept = handle.clone();
        let upkeep = std::thread::Builder::new()
            .name("anchora-metrics".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkept.run_upkeep();
                }
            });
        if let Err(e) = upkeep {
            tracing::warn!(error = %e, "the metrics upkeep thread did not start; scrapes drain histograms");
        }
        describe();
        metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        metrics::counter!(IMPORT_ROWS).increment(0);
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(BUILD_INFO, "The build that answers (always 1).");
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template and status.");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request (until the response head), by route template and status."
    );
    describe_gauge!(POOL_CONNECTIONS, "Database connections open, by workspace.");
    describe_gauge!(POOL_IDLE, "Database connections open and idle, by workspace.");
    describe_gauge!(POOL_MAX, "The most database connections a workspace's pool opens.");
    describe_counter!(
        IMPORT_ROWS,
        "Rows imported into records (not rejected rows, not dry runs)."
    );
    describe_counter!(EMAILS_SENT, "E-mails handed to the transport, by transport.");
    describe_counter!(EMAILS_FAILED, "E-mails the transport refused, by transport.");
    describe_gauge!(JOBS, "Background jobs by state.");
    describe_gauge!(
        JOBS_OLDEST_QUEUED_AGE,
        Unit::Seconds,
        "How long the oldest queued job has waited (0 when none waits)."
    );
}

/// The text `/metrics` answers with.
pub fn render() -> String {
    install().render()
}

/// One request answered. `route` is the route template (`None`: no route matched).
pub fn request_answered(method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method_label(method).to_string()),
        ("route", route.unwrap_or(UNMATCHED).to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// The route label of a request no route matched (a 404): never its path.
pub const UNMATCHED: &str = "unmatched";

/// The standard methods by name; anything else is `other`, so a client cannot add labels.
fn method_label(method: &str) -> &'static str {
    const KNOWN: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN.iter().find(|m| **m == method).copied().unwrap_or("other")
}

/// A workspace's connection pool as it is now.
pub fn set_pool_gauges(workspace: &str, stats: anchora_store::PoolStats) {
    let workspace = workspace.to_string();
    metrics::gauge!(POOL_CONNECTIONS, "workspace" => workspace.clone()).set(f64::from(stats.size));
    metrics::gauge!(POOL_IDLE, "workspace" => workspace.clone()).set(f64::from(stats.idle));
    metrics::gauge!(POOL_MAX, "workspace" => workspace).set(f64::from(stats.max));
}

/// An e-mail handed to `transport` (`smtp` or `file`), sent or not.
pub fn email_sent(transport: &'static str, sent: bool) {
    let name = if sent { EMAILS_SENT } else { EMAILS_FAILED };
    metrics::counter!(name, "transport" => transport).increment(1);
}

/// A mailer for `transport` exists: its counters show 0 until it sends.
pub fn email_transport(transport: &'static str) {
    metrics::counter!(EMAILS_SENT, "transport" => transport).increment(0);
    metrics::counter!(EMAILS_FAILED, "transport" => transport).increment(0);
}

/// The job states set before, so that a state left out of the next call reads 0.
static JOB_STATES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The job queue as it is now: how many jobs are in each state (`("queued", 3)`,
/// `("running", 1)`, …) and how long the oldest queued job has waited, in seconds (`None`:
/// none is queued). Sets `anchora_jobs{state}` and `anchora_jobs_oldest_queued_age_seconds`.
/// A state given before and left out now reads 0, so callers may pass only the states that
/// have jobs. Call it from the worker every few seconds; it costs a few map look-ups.
pub fn set_job_gauges(counts: &[(&str, u64)], oldest_queued_age_secs: Option<f64>) {
    let mut seen = JOB_STATES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for state in seen.iter() {
        if !counts.iter().any(|(s, _)| s == state) {
            metrics::gauge!(JOBS, "state" => state.clone()).set(0.0);
        }
    }
    for (state, count) in counts {
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!(JOBS, "state" => (*state).to_string()).set(*count as f64);
        seen.insert((*state).to_string());
    }
    metrics::gauge!(JOBS_OLDEST_QUEUED_AGE).set(oldest_queued_age_secs.unwrap_or(0.0).max(0.0));
}

/// Each workspace's queue as last counted, summed into the gauges.
static QUEUES: Mutex<std::collections::BTreeMap<String, anchora_core::jobs::JobCounts>> =
    Mutex::new(std::collections::BTreeMap::new());

/// The job workers' observer (`WorkerSettings::observe`): one workspace's queue counted now.
/// The gauges hold the sum over every workspace this process has counted, and the age of the
/// job that has waited longest in any of them.
pub fn observe_jobs(workspace: &str, counts: &anchora_core::jobs::JobCounts) {
    let mut queues = QUEUES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    queues.insert(workspace.to_string(), counts.clone());
    let mut sums: Vec<(&str, u64)> = Vec::new();
    for state in anchora_core::jobs::JobState::ALL {
        let n = queues
            .values()
            .flat_map(|c| c.by_state.iter())
            .filter(|(s, _)| *s == state)
            .map(|(_, n)| *n)
            .sum();
        sums.push((state.as_str(), n));
    }
    let oldest = queues.values().filter_map(|c| c.oldest_due).min();
    #[allow(clippy::cast_precision_loss)] // milliseconds of waiting
    let age = oldest.map(|t| (chrono::Utc::now() - t).num_milliseconds() as f64 / 1000.0);
    set_job_gauges(&sums, age);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rendered(f: impl FnOnce()) -> String {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, f);
        handle.render()
    }

    #[test]
    fn job_gauges_read_zero_for_states_left_out() {
        let text = rendered(|| {
            set_job_gauges(&[("queued", 3), ("running", 1)], Some(12.5));
            set_job_gauges(&[("running", 2)], None);
        });
        assert!(text.contains("anchora_jobs{state=\"queued\"} 0"), "{text}");
        assert!(text.contains("anchora_jobs{state=\"running\"} 2"), "{text}");
        assert!(text.contains("anchora_jobs_oldest_queued_age_seconds 0"), "{text}");
    }

    #[test]
    fn odd_methods_and_unmatched_routes_add_no_labels() {
        let text = rendered(|| {
            request_answered("BREW", None, 404, Duration::from_millis(3));
            request_answered("GET", Some("/api/v1/records/{object}"), 200, Duration::from_millis(3));
        });
        assert!(
            text.contains(r#"anchora_http_requests_total{method="other",route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"route="/api/v1/records/{object}""#), "{text}");
        assert!(!text.contains("BREW"), "{text}");
    }
}
