//! The support chain in the browser (issue 23): a user on a deal asks for help, is shown the
//! published answer that matches what they typed and raises the question anyway, with the deal
//! it came from; they attach a file (downloaded again with the session); the team's key user
//! (named in the stewardship plan) passes it on to IT, an administrator to the vendor with the
//! vendor's ticket reference and contact; it is resolved, and the key user turns it into a
//! draft answer. The raise form and the question page fit 1280 and 1440 px.

use super::e2e::{Browser, fill};
use super::*;

async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 1000).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

async fn click(b: &Browser, id: &str) {
    b.by_id(id).await.click().await.unwrap();
}

/// Sign out (the session's cookie dropped) and in as someone else.
async fn sign_in_as(b: &mut Browser, email: &str) {
    b.driver.delete_all_cookies().await.unwrap();
    b.login(email, identity::PASSWORD).await;
}

/// Time passes between the steps, as it would.
fn later(h: &H, minutes: i64) {
    h.clock.advance(chrono::Duration::minutes(minutes));
}

/// Wait until the question's API answer holds `want` at `pointer` (a click returns before the
/// form it submits has been answered).
async fn until_question(h: &H, pointer: &str, want: &str) -> Json {
    let mut last = Json::Null;
    for _ in 0..100 {
        last = h.get("/api/v1/support/questions/1").await.body;
        if last.pointer(pointer).and_then(Json::as_str) == Some(want) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("question #1: {pointer} is not {want:?}: {last}");
}

pub async fn browser_support_chain_from_a_deal_to_an_answer(h: H) {
    let sales = identity::team(&h, "Sales").await;
    let ada = identity::user(&h, "ada@example.se", "admin", Some(&sales)).await;
    let kim = identity::user(&h, "kim@example.se", "key_user", Some(&sales)).await;
    let nils = identity::user(&h, "nils@example.se", "user", Some(&sales)).await;
    let plan = json!({"version": 0, "system_owner": ada, "administrators": [ada],
        "key_users": [{"team": sales, "users": [kim]}],
        "vendor_contacts": [{"name": "Vera Lind", "company": "CRM Partner AB"}],
        "forum": {"name": "Key-user group", "every_weeks": 4, "next_meeting": "2026-12-01"},
        "go_live": "2027-01-11"});
    let r = h.put("/api/v1/stewardship/plan", plan).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (title, body) in [
        (
            "Export deals to Excel",
            "Open the deal list, choose Export and pick Excel.",
        ),
        (
            "Change your password",
            "Open your account page and choose Change password.",
        ),
    ] {
        let r = h
            .post(
                "/api/v1/stewardship/answers",
                json!({"title": title, "body": body, "language": "en", "category": "Deals", "published": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let deal = h
        .post(
            "/api/v1/records/deal",
            json!({"name": "Harbour cranes, phase 2", "stage": "lead", "owner": nils}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let deal = deal.body["id"].as_str().unwrap().to_string();

    let Some(mut b) = Browser::start(&h, &format!("support-{}", h.backend())).await else {
        return;
    };
    // From the deal, "Ask for help" opens the form with the deal's page.
    b.login("nils@example.se", identity::PASSWORD).await;
    b.go(&format!("/o/deal/{deal}")).await;
    b.wait_for("Harbour cranes, phase 2").await;
    click(&b, "ask-for-help").await;
    b.wait_for("id=\"question-form\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(url.contains(&format!("page=/o/deal/{deal}")), "{url}");
    fill(&b, "q-subject", "How do I export deals to Excel?").await;
    fill(&b, "q-description", "I need the list for Monday's meeting.").await;
    click(&b, "question-check").await;
    b.wait_for("id=\"answer-hits\"").await;
    let hits = b.by_id("answer-hits").await.text().await.unwrap();
    assert!(hits.contains("Export deals to Excel"), "{hits}");
    assert!(!hits.contains("Change your password"), "{hits}");
    // What was typed and the page it came from are kept.
    let page = b.source().await;
    assert!(page.contains(&format!("value=\"/o/deal/{deal}\"")), "the page is kept");
    let from = b.by_id("support-from").await.text().await.unwrap();
    assert!(from.contains("Deal · Harbour cranes, phase 2"), "{from}");
    let subject = b.by_id("q-subject").await.value().await.unwrap();
    assert_eq!(subject.as_deref(), Some("How do I export deals to Excel?"));
    let send = b.by_id("question-send").await.text().await.unwrap();
    assert_eq!(send, "Raise it anyway");
    both_widths(&mut b, "raise-with-answers").await;
    click(&b, "question-send").await;
    b.wait_for("id=\"support-timeline\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(url.ends_with("/support/1"), "{url}");
    let q = until_question(&h, "/object", "deal").await;
    assert_eq!(q["record"], deal.as_str());
    assert_eq!(q["level"], "key_user");
    assert_eq!(q["description"], "I need the list for Monday's meeting.");
    let question_id = q["id"].as_str().unwrap().to_string();

    let link = b.by_id("support-page-link").await;
    assert_eq!(link.text().await.unwrap(), "Deal · Harbour cranes, phase 2");
    assert_eq!(link.attr("href").await.unwrap().unwrap(), format!("/o/deal/{deal}"));

    // A file attached, listed, and downloaded with the session: on the page's link and the API's.
    let dir = tempfile::tempdir().unwrap();
    later(&h, 3);
    // Too large: refused in words, both when core reads it and when the upload is cut off.
    for (name, size) in [("big.log", 5 * 1024 * 1024 + 10), ("huge.log", 6 * 1024 * 1024)] {
        let big = dir.path().join(name);
        std::fs::write(&big, vec![b'x'; size]).unwrap();
        b.by_id("a-file")
            .await
            .send_keys(big.display().to_string())
            .await
            .unwrap();
        click(&b, "attach-send").await;
        b.wait_for("The file is larger than 5 MB").await;
        b.go("/support/1").await;
        b.wait_for("id=\"attachments-none\"").await;
    }
    let file = dir.path().join("export-error.txt");
    std::fs::write(&file, "Export is greyed out").unwrap();
    b.by_id("a-file")
        .await
        .send_keys(file.display().to_string())
        .await
        .unwrap();
    click(&b, "attach-send").await;
    b.wait_for("id=\"attachment-list\"").await;
    let link = b.css("#attachment-list a").await;
    assert_eq!(link.text().await.unwrap(), "export-error.txt");
    let href = link.attr("href").await.unwrap().unwrap();
    assert_eq!(b.fetch_text(&href).await, "Export is greyed out");
    let attachment = href.rsplit('/').next().unwrap().to_string();
    let api = format!("/api/v1/support/questions/1/attachments/{attachment}");
    assert_eq!(b.fetch_text(&api).await, "Export is greyed out");
    assert!(
        !b.source().await.contains("id=\"escalate-form\""),
        "the asker passes nothing on"
    );

    // Without a script, the form also looks for answers by link (GET).
    b.go("/support/new?subject=excel&page=%2Freports").await;
    b.wait_for("id=\"answer-hits\"").await;
    assert!(b.source().await.contains("value=\"/reports\""));

    // The key user the plan names passes it on to IT.
    later(&h, 25);
    sign_in_as(&mut b, "kim@example.se").await;
    b.go("/support/1").await;
    b.wait_for("id=\"escalate-form\"").await;
    assert!(b.source().await.contains("export-error.txt"));
    fill(&b, "e-reason", "Export is switched off for Sales; IT decides").await;
    click(&b, "escalate-send").await;
    b.wait_for("passed it on to IT").await;
    until_question(&h, "/level", "it").await;

    // An administrator passes it on to the vendor with the vendor's ticket.
    later(&h, 35);
    sign_in_as(&mut b, "ada@example.se").await;
    b.go("/support/1").await;
    b.wait_for("id=\"e-reference\"").await;
    fill(&b, "e-reason", "A setting only the vendor can change").await;
    fill(&b, "e-vendor", "CRM Partner AB").await;
    fill(&b, "e-contact", "Vera Lind").await;
    fill(&b, "e-reference", "CP-4711").await;
    click(&b, "escalate-send").await;
    b.wait_for("CP-4711").await;
    let q = until_question(&h, "/level", "vendor").await;
    assert_eq!(q["vendor"]["reference"], "CP-4711");
    assert_eq!(q["vendor"]["contact"], "Vera Lind");
    assert_eq!(q["vendor"]["name"], "CRM Partner AB");
    assert!(
        !b.source().await.contains("id=\"escalate-form\""),
        "the vendor is the last level"
    );
    later(&h, 45);
    fill(
        &b,
        "r-body",
        "The vendor turned export on: Deals, then Export, then Excel.",
    )
    .await;
    click(&b, "reply-send").await;
    b.wait_for("The vendor turned export on").await;
    both_widths(&mut b, "question-at-the-vendor").await;
    later(&h, 10);
    click(&b, "status-resolved").await;
    until_question(&h, "/status", "resolved").await;
    b.wait_for("id=\"question-answer\"").await;

    // The key user turns the solved question into a draft answer.
    sign_in_as(&mut b, "kim@example.se").await;
    b.go("/support/1").await;
    b.wait_for("id=\"question-answer\"").await;
    both_widths(&mut b, "question-resolved").await;
    click(&b, "question-answer").await;
    b.wait_for("id=\"answer-body\"").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    let answer = url.rsplit("/stewardship/answers/").next().unwrap().to_string();
    assert!(url.contains("/stewardship/answers/") && !answer.is_empty(), "{url}");
    let r = h.get(&format!("/api/v1/stewardship/answers/{answer}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["source_question"], question_id.as_str());
    assert_eq!(r.body["title"], "How do I export deals to Excel?");
    assert_eq!(r.body["published"], false, "made as a draft, to be read over");
    assert!(
        r.body["body"].as_str().unwrap().contains("Export, then Excel"),
        "{}",
        r.body
    );
    assert_eq!(r.body["author"], kim.as_str());
    b.quit().await;
}
