//! Selections, templates and a mass mailing in the browser: a key user ticks a person into a
//! suppression list from the people list, builds a selection of people from a filter (counted
//! as it is built), writes an e-mail template in English and Swedish (a broken part refused at
//! its field and line), previews it against a person, sends a test to themselves, writes and
//! starts a mailing, and follows its progress bar and counts until it is done; the e-mail is on
//! the recipient's timeline. Every page at 1280 and 1440 px fits its window.

use super::e2e::{Browser, fill};
use super::*;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

async fn person(h: &H, body: Json) -> String {
    let r = h.post("/api/v1/records/person", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn grant(h: &H, person: &str) {
    let r = h
        .post(
            &format!("/api/v1/records/person/{person}/consents"),
            json!({"purpose": "newsletter", "state": "granted", "source": "fair sign-up"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Screenshots of the page at both widths, each checked for overflow.
async fn both_widths(b: &mut Browser, page: &str) {
    for width in [1280, 1440] {
        b.driver.set_window_rect(0, 0, width, 900).await.unwrap();
        super::first_hour::fits(b, page, width).await;
        b.shot(&format!("{page}-{width}")).await;
    }
}

/// The messages the file mailer wrote so far, readable.
fn mails(h: &H) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(h.mail.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".eml") && !name.starts_with('.') {
            out.push(super::mailings::readable(
                &std::fs::read_to_string(entry.path()).unwrap(),
            ));
        }
    }
    out
}

/// Wait until an element's text contains `want` (up to 10 s).
async fn until_text(b: &Browser, selector: &str, want: &str) {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(e) = b.driver.find(By::Css(selector)).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(want) {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{selector} says {last:?}, never {want:?}");
}

/// Type a record's title into a typeahead and wait until it has found the record's id.
async fn pick(b: &Browser, input: &str, hidden: &str, title: &str) {
    fill(b, input, title).await;
    for _ in 0..100 {
        let v = b.css(hidden).await.value().await.unwrap().unwrap_or_default();
        if !v.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let found = b
        .fetch_text(&format!("/api/v1/search?q={}", title.replace(' ', "+")))
        .await;
    panic!("the typeahead found no {title}: {found}");
}

pub async fn browser_build_a_selection_write_a_template_and_send(h: H) {
    identity::user(&h, "marknad@example.se", "key_user", None).await;
    let r = h
        .post(
            "/api/v1/consent-purposes",
            json!({"key": "newsletter", "name": "Nyhetsbrev"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let asa = person(&h, json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa@example.se", "city": "Malmö", "language": "sv"})).await;
    let john = person(&h, json!({"first_name": "John", "last_name": "Smith", "email": "john@example.com", "city": "Malmö", "language": "en"})).await;
    let nunez = person(
        &h,
        json!({"last_name": "Núñez", "email": "nunez@example.es", "city": "Malmö"}),
    )
    .await;
    let karl = person(
        &h,
        json!({"first_name": "Karl", "last_name": "Spärr", "email": "karl@example.se", "city": "Malmö"}),
    )
    .await;
    // Nils never agreed to the newsletter: he is in the selection but left out of the mailing.
    person(
        &h,
        json!({"first_name": "Nils", "last_name": "Utan", "email": "nils@example.se", "city": "Malmö"}),
    )
    .await;
    let olle = person(
        &h,
        json!({"first_name": "Olle", "last_name": "Lund", "email": "olle@example.se", "city": "Lund"}),
    )
    .await;
    for p in [&asa, &john, &nunez, &karl, &olle] {
        grant(&h, p).await;
    }
    let Some(mut b) = Browser::start(&h, &format!("mailing-{}", h.backend())).await else {
        return;
    };
    b.login("marknad@example.se", identity::PASSWORD).await;

    // Karl goes on a suppression list, ticked in the people list.
    b.go("/o/person?sort=last_name").await;
    b.wait_for("Spärr").await;
    b.css(&format!("input[name=ids][value^='{karl}:']"))
        .await
        .click()
        .await
        .unwrap();
    SelectElement::new(&b.by_id("bulk-action").await)
        .await
        .unwrap()
        .select_by_value("selection")
        .await
        .unwrap();
    fill(&b, "bulk-selection-name", "Do not mail").await;
    b.shot("bulk-add-to-selection").await;
    b.css("form.bulk button[type=submit]").await.click().await.unwrap();
    b.wait_for("ticked records are in this selection now").await;
    let suppress = b
        .driver
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert!(b.source().await.contains(">Karl Spärr</a>"));

    // The selection: everyone in Malmö, less the suppression list, counted as it is built.
    b.go("/selections").await;
    b.wait_for("Do not mail").await;
    both_widths(&mut b, "selections").await;
    b.by_id("new-selection").await.click().await.unwrap();
    b.wait_for("Records in it").await;
    fill(&b, "s-name", "Malmö customers").await;
    SelectElement::new(&b.by_id("s-new-field").await)
        .await
        .unwrap()
        .select_by_value("city")
        .await
        .unwrap();
    SelectElement::new(&b.by_id("s-new-op").await)
        .await
        .unwrap()
        .select_by_value("eq")
        .await
        .unwrap();
    fill(&b, "s-new-value", "Malmö").await;
    until_text(&b, "#selection-count", "5 records").await;
    b.css(&format!("input[name=exclude][value='{suppress}']"))
        .await
        .click()
        .await
        .unwrap();
    until_text(&b, "#selection-count", "4 records").await;
    both_widths(&mut b, "selection-builder").await;
    b.by_id("selection-save").await.click().await.unwrap();
    b.wait_for("Who is in it").await;
    let selection = b
        .driver
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    until_text(&b, "#selection-count", "4 records").await;
    let page = b.source().await;
    assert!(
        page.contains(">Åsa Öberg</a>") && page.contains(">Nils Utan</a>"),
        "{page}"
    );
    assert!(!page.contains(">Karl Spärr</a>") && !page.contains(">Olle Lund</a>"));
    both_widths(&mut b, "selection").await;

    // The template: English and Swedish, merge fields with a default.
    b.go("/templates").await;
    both_widths(&mut b, "templates").await;
    b.by_id("new-template").await.click().await.unwrap();
    b.wait_for("Default language").await;
    fill(&b, "t-name", "Autumn newsletter").await;
    fill(&b, "v0-subject", "Hello {{ person.first_name | default(\"friend\") }}").await;
    fill(
        &b,
        "v0-html",
        "<h1>Hello {{ person.first_name | default(\"friend\") }}</h1>\n<p>News from {{ me.name }}.</p>",
    )
    .await;
    fill(&b, "v0-text", "Hello {{ person.first_name | default(\"friend\") }}").await;
    fill(&b, "t-new-language", "sv").await;
    b.by_id("add-language").await.click().await.unwrap();
    b.wait_for("v1-subject").await;
    assert!(
        b.by_id("v1-subject").await.is_displayed().await.unwrap(),
        "the new language's tab is shown"
    );
    fill(&b, "v1-subject", "Hej {{ person.first_name | default(\"du\") }}!").await;
    // A part that does not compile is refused at its field, with its line.
    fill(&b, "v1-html", "<h1>Hej</h1>\n<p>{{ person.first_name </p>").await;
    fill(&b, "v1-text", "Hej {{ person.first_name | default(\"du\") }}!").await;
    b.by_id("template-save").await.click().await.unwrap();
    b.wait_for("field-error").await;
    let error = b.css("#v1 .field-error").await.text().await.unwrap();
    assert!(error.starts_with("line 2"), "{error}");
    assert!(
        b.by_id("v1-html").await.is_displayed().await.unwrap(),
        "the tab with the error is shown"
    );
    both_widths(&mut b, "template-error").await;
    fill(
        &b,
        "v1-html",
        "<h1>Hej {{ person.first_name | default(\"du\") }}!</h1>\n<p>Nyheter från {{ me.name }}.</p>",
    )
    .await;
    b.by_id("template-save").await.click().await.unwrap();
    b.wait_for("Saved.").await;
    let template = b
        .driver
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    // A preview against John, in Swedish (not his own language), then a test to myself.
    pick(&b, "preview-record", "input[name=record]", "John Smith").await;
    SelectElement::new(&b.by_id("preview-language").await)
        .await
        .unwrap()
        .select_by_value("sv")
        .await
        .unwrap();
    b.by_id("template-preview").await.click().await.unwrap();
    b.wait_for("preview-subject").await;
    until_text(&b, "#preview-subject", "Hej John!").await;
    let frame = b.css("iframe.preview-frame").await;
    assert_eq!(
        frame.attr("sandbox").await.unwrap().as_deref(),
        Some("allow-same-origin")
    );
    let inside = b
        .driver
        .execute(
            "return document.querySelector('iframe.preview-frame').contentDocument.body.innerText;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        inside.json().as_str().unwrap().contains("Hej John!"),
        "{:?}",
        inside.json()
    );
    both_widths(&mut b, "template-preview").await;
    b.by_id("template-test").await.click().await.unwrap();
    b.wait_for("A test went to marknad@example.se").await;
    let sent = mails(&h);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("To: marknad@example.se"), "{}", sent[0]);
    assert!(sent[0].contains("[TEST] Hej John!"), "{}", sent[0]);

    // The mailing: two messages per ten minutes, so the bar is seen half way.
    b.go(&format!("/selections/{selection}")).await;
    b.by_id("selection-mail").await.click().await.unwrap();
    b.wait_for("Save draft").await;
    fill(&b, "m-name", "Autumn newsletter, Malmö").await;
    SelectElement::new(&b.by_id("m-template").await)
        .await
        .unwrap()
        .select_by_value(&template)
        .await
        .unwrap();
    SelectElement::new(&b.by_id("m-purpose").await)
        .await
        .unwrap()
        .select_by_value("newsletter")
        .await
        .unwrap();
    fill(&b, "m-mails", "2").await;
    fill(&b, "m-minutes", "10").await;
    both_widths(&mut b, "mailing-form").await;
    b.by_id("mailing-save").await.click().await.unwrap();
    b.wait_for("mailing-start").await;
    let mailing = b
        .driver
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert!(b.source().await.contains("The selection holds 4 records now."));
    both_widths(&mut b, "mailing-draft").await;
    b.by_id("mailing-start").await.click().await.unwrap();
    // The page follows the mailing by itself: two sent, one waiting for the pace.
    until_text(&b, "#mailing-progress-text", "2 of 3 handled").await;
    until_text(&b, "#mailing-state", "Sending").await;
    let page = b.source().await;
    assert!(
        page.contains("did not agree to the purpose"),
        "the skip reason in words"
    );
    both_widths(&mut b, "mailing-sending").await;
    h.clock
        .advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    until_text(&b, "#mailing-state", "Done").await;
    until_text(&b, "#mailing-progress-text", "3 of 3 handled").await;
    let bar = b.by_id("mailing-progress").await;
    assert_eq!(bar.attr("value").await.unwrap(), bar.attr("max").await.unwrap());
    let sent_count = b.css("[data-count=sent] .figure-value").await.text().await.unwrap();
    assert_eq!(sent_count, "3");
    let skipped = b.css("[data-count=skipped] .figure-value").await.text().await.unwrap();
    assert_eq!(skipped, "1");
    both_widths(&mut b, "mailing-done").await;
    let sent = mails(&h);
    assert_eq!(sent.len(), 4, "the test and three: {sent:?}");
    let to_asa: Vec<&String> = sent.iter().filter(|m| m.contains("To: asa@example.se")).collect();
    assert_eq!(to_asa.len(), 1);
    assert!(to_asa[0].contains("Hej Åsa!"), "{}", to_asa[0]);
    assert!(
        sent.iter()
            .any(|m| m.contains("To: nunez@example.es") && m.contains("Hello friend"))
    );
    assert!(
        !sent
            .iter()
            .any(|m| m.contains("karl@") || m.contains("nils@") || m.contains("olle@"))
    );

    // One recipient's page: the mailing's e-mail on the timeline.
    b.driver
        .find(By::LinkText("Åsa Öberg"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("Hej Åsa!").await;
    assert!(b.driver.current_url().await.unwrap().path().ends_with(&asa));
    assert!(b.source().await.contains(">E-mail</span>"));
    both_widths(&mut b, "recipient").await;
    b.go("/mailings").await;
    b.wait_for("Autumn newsletter, Malmö").await;
    both_widths(&mut b, "mailings").await;

    // A document template printed for the selection: a sheet each.
    let letter = h
        .post(
            "/api/v1/templates",
            json!({"name": "Letter", "kind": "document", "object": "person", "default_language": "en", "shared": true,
                   "variants": [{"language": "en", "subject": "Letter",
                                 "html": "<p>Dear {{ person.first_name | default(\"customer\") }},</p><p>Thank you.</p>"}]}),
        )
        .await;
    assert_eq!(letter.status, StatusCode::CREATED, "{}", letter.body);
    b.go(&format!("/selections/{selection}")).await;
    b.css("form[action$='/print'] button").await.click().await.unwrap();
    b.wait_for("class=\"sheet\"").await;
    let sheets = b.driver.find_all(By::Css(".sheet iframe[sandbox]")).await.unwrap();
    assert_eq!(sheets.len(), 4);
    assert!(b.source().await.contains("Dear John,"));
    both_widths(&mut b, "document-print").await;

    // The longer words of other languages fit too.
    b.go("/mailings?lang=de").await;
    b.wait_for("Aussendungen").await;
    both_widths(&mut b, "mailings-de").await;
    b.go(&format!("/mailings/{mailing}?lang=de")).await;
    b.wait_for("Empfänger").await;
    both_widths(&mut b, "mailing-de").await;
    b.go(&format!("/templates/{template}?lang=sv")).await;
    b.wait_for("Förhandsvisning").await;
    both_widths(&mut b, "template-sv").await;
    b.go("/selections/new?lang=es").await;
    b.wait_for("Nueva selección").await;
    both_widths(&mut b, "selection-builder-es").await;
    b.quit().await;
}
