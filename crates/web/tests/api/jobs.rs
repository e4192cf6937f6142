//! Long work in the browser: a page that started a job shows its progress bar moving and goes
//! on to what the job came to; the Jobs page lists an administrator's jobs with their state,
//! the error of a failed one, and cancels a running one. At 1280 and 1440 px nothing is wider
//! than the window.

use super::e2e::Browser;
use super::identity::{self, PASSWORD};
use super::*;
use anchora_core::jobs::{JobKind, NewJob};
use anchora_core::store::JobStore;

pub async fn browser_jobs_show_progress_and_cancel(h: H) {
    let chief = identity::user(&h, "chief@example.se", "admin", None).await;
    let chief = anchora_core::UserId::parse(&chief).unwrap();
    let store = h.instance.main();
    // A slow job of the chief's (an empty job waiting two minutes; the test cancels it), and
    // one that failed: a scan of an object that is gone.
    let slow = NewJob::now(JobKind::Noop, json!({"wait_ms": 120000}), Some(chief), h.clock.now());
    store.enqueue_job(&slow).await.unwrap();
    let broken = NewJob::now(
        JobKind::DuplicateScan,
        json!({"object": "shoe"}),
        Some(chief),
        h.clock.now(),
    );
    store.enqueue_job(&broken).await.unwrap();
    let Some(mut b) = Browser::start(&h, &format!("jobs-{}", h.backend())).await else {
        return;
    };
    b.login("chief@example.se", PASSWORD).await;
    // The page that watches the job: its bar moves on without a reload.
    b.go(&format!("/duplicates?object=person&job={}", slow.id)).await;
    b.wait_for("Empty job").await;
    let first = b.css(".job-panel progress").await.attr("value").await.unwrap();
    let mut moved = first.clone();
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(bar) = b.css(".job-panel progress").await.attr("value").await {
            moved = bar;
        }
        if moved != first {
            break;
        }
    }
    assert_ne!(first, moved, "the bar moved on by itself");
    assert!(b.source().await.contains("Waiting: "), "the phase with how far it came");
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 860).await.unwrap();
        super::first_hour::fits(&b, "the progress panel", width).await;
        b.shot(&format!("progress-{width}")).await;
    }
    // The Jobs page: both jobs, the failed one saying why; cancel the running one.
    b.go("/jobs").await;
    b.wait_for("Duplicate scan").await;
    let page = b.source().await;
    assert!(page.contains("Failed") && page.contains("Running"), "{page}");
    assert!(page.contains("shoe"), "the failure names the object: {page}");
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 860).await.unwrap();
        super::first_hour::fits(&b, "the Jobs page", width).await;
        b.shot(&format!("jobs-{width}")).await;
    }
    b.css(&format!("tr[data-job-row='{}'] button", slow.id))
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Cancelled").await;
    let ended = store.job(slow.id).await.unwrap().unwrap();
    assert_eq!(ended.state.as_str(), "cancelled");
    b.shot("jobs-cancelled").await;
    b.quit().await;
}
