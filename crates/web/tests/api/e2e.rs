//! End-to-end tests in a real headless Chromium (Debian's chromium + chromium-driver), against
//! the real server on a free port. Each test saves screenshots under target/screenshots/.
//! Without a browser they are skipped with a note, unless ANCHORA_REQUIRE_BROWSER=1 (CI).

use super::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use thirtyfour::prelude::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser session on the app: the server, chromedriver and Chromium, and where its
/// screenshots go.
pub struct Browser {
    pub driver: WebDriver,
    pub base: String,
    name: String,
    shots: u32,
    _chromedriver: Driver,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Starts the app on a free port and a browser on it; `None` (skip) without a browser.
    pub async fn start(h: &H, name: &str) -> Option<Browser> {
        let present = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !present {
            assert!(
                std::env::var("ANCHORA_REQUIRE_BROWSER").is_err(),
                "ANCHORA_REQUIRE_BROWSER is set but {CHROMEDRIVER} or {CHROMIUM} is missing"
            );
            eprintln!("note: skipping {name}: install chromium and chromium-driver to run browser tests");
            return None;
        }
        let app_port = free_port();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", app_port)).await.unwrap();
        let app = h.app.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let driver_port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let chromedriver = Driver(child);
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,860",
            "--lang=en-US",
        ] {
            caps.add_arg(arg).unwrap();
        }
        let mut driver = None;
        for _ in 0..100 {
            match WebDriver::new(format!("http://127.0.0.1:{driver_port}"), caps.clone()).await {
                Ok(d) => {
                    driver = Some(d);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        let driver = driver.expect("chromedriver did not start");
        Some(Browser {
            driver,
            base: format!("http://127.0.0.1:{app_port}"),
            name: name.to_string(),
            shots: 0,
            _chromedriver: chromedriver,
        })
    }

    pub async fn go(&self, path: &str) {
        self.driver.goto(format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn shot(&mut self, step: &str) {
        self.shots += 1;
        let path = screenshot_dir().join(format!("{}-{:02}-{step}.png", self.name, self.shots));
        // Chromium now and then reports a navigation still settling ("aborted by navigation:
        // Not attached to an active page") to a capture taken right after a page load; the
        // page is whole a moment later, so the capture waits for it and tries again.
        let mut last = None;
        for _ in 0..5 {
            self.settled().await;
            match self.driver.screenshot(&path).await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("screenshot {step}: {last:?}");
    }

    /// Wait (up to 5 s) until the document has loaded completely.
    async fn settled(&self) {
        for _ in 0..100 {
            let state = self.driver.execute("return document.readyState;", vec![]).await;
            if state.is_ok_and(|s| s.json().as_str() == Some("complete")) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn by_id(&self, id: &str) -> WebElement {
        self.driver.query(By::Id(id)).first().await.unwrap()
    }

    pub async fn css(&self, selector: &str) -> WebElement {
        self.driver.query(By::Css(selector)).first().await.unwrap()
    }

    /// The page's HTML, with `&nbsp;` as the character it stands for.
    pub async fn source(&self) -> String {
        self.driver.source().await.unwrap().replace("&nbsp;", "\u{a0}")
    }

    /// Wait until the page's source contains `text` (up to 5 s).
    pub async fn wait_for(&self, text: &str) {
        for _ in 0..100 {
            if self.source().await.contains(text) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{text:?} never appeared on {}",
            self.driver.current_url().await.unwrap()
        );
    }

    pub async fn login(&mut self, email: &str, password: &str) {
        self.go("/login").await;
        self.by_id("email").await.send_keys(email).await.unwrap();
        self.by_id("password").await.send_keys(password).await.unwrap();
        self.shot("login").await;
        self.css("button[type=submit]").await.click().await.unwrap();
        self.driver.query(By::Css("aside.sidebar")).first().await.unwrap();
    }

    /// What a link of the page gives when the page's session fetches it.
    pub async fn fetch_text(&self, path: &str) -> String {
        let ret = self
            .driver
            .execute(
                "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text());",
                vec![serde_json::json!(path)],
            )
            .await
            .unwrap();
        ret.json().as_str().unwrap_or_default().to_string()
    }

    pub async fn quit(self) {
        self.driver.quit().await.unwrap();
    }
}

/// Wait until a record's field holds a value (up to 5 s): a click returns before the form it
/// submits has been answered, and the page may show the text already.
pub async fn until_field(h: &H, path: &str, field: &str, want: &str) {
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        last = h.get(path).await.body[field].clone();
        if last == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path}: {field} is {last}, not {want:?}");
}

/// Fill an input by its id (clearing it first).
pub async fn fill(b: &Browser, id: &str, text: &str) {
    let e = b.by_id(id).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

pub async fn browser_create_company_person_and_log_a_call(h: H) {
    identity::user(&h, "seller@example.se", "user", None).await;
    let Some(mut b) = Browser::start(&h, &format!("create-{}", h.backend())).await else {
        return;
    };
    b.login("seller@example.se", identity::PASSWORD).await;
    // A company.
    b.go("/o/company").await;
    b.wait_for("Companies").await;
    b.shot("companies-empty").await;
    b.css("a.button.primary").await.click().await.unwrap();
    fill(&b, "f-name", "Fjällbacka Fisk AB").await;
    fill(&b, "f-city", "Fjällbacka").await;
    b.shot("new-company").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Fjällbacka Fisk AB").await;
    assert!(b.driver.current_url().await.unwrap().path().starts_with("/o/company/"));
    // A person at that company, picked by name.
    b.go("/o/person/new").await;
    fill(&b, "f-first_name", "Greta").await;
    fill(&b, "f-last_name", "Lindqvist").await;
    fill(&b, "f-email", "greta@fjallbacka.se").await;
    fill(&b, "f-company", "Fjällbacka Fisk AB").await;
    // The typeahead resolves the name to the company's id.
    for _ in 0..100 {
        let v = b
            .css("input[name=company]")
            .await
            .value()
            .await
            .unwrap()
            .unwrap_or_default();
        if !v.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.shot("new-person").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Greta Lindqvist").await;
    let page = b.source().await;
    assert!(page.contains(">Fjällbacka Fisk AB</a>"), "the company is linked");
    // Log a call on the person's timeline.
    fill(&b, "quick-subject", "Discussed the spring order").await;
    fill(&b, "quick-body", "Wants 200 kg of shrimp in March.").await;
    b.shot("logging-a-call").await;
    b.css("form.quick button[type=submit]").await.click().await.unwrap();
    b.wait_for("Discussed the spring order").await;
    b.shot("call-on-timeline").await;
    let page = b.source().await;
    assert!(page.contains("Wants 200 kg of shrimp in March."));
    assert!(page.contains(">Call</span>"));
    // The people list shows her.
    b.go("/o/person").await;
    b.wait_for("Lindqvist").await;
    b.shot("people").await;
    b.quit().await;
}

pub async fn browser_stale_edit_shows_the_conflict(h: H) {
    identity::user(&h, "editor@example.se", "user", None).await;
    let p = h
        .post(
            "/api/v1/records/person",
            json!({"first_name": "Ove", "last_name": "Berg", "title": "Buyer"}),
        )
        .await;
    let id = p.body["id"].as_str().unwrap().to_string();
    let Some(mut b) = Browser::start(&h, &format!("conflict-{}", h.backend())).await else {
        return;
    };
    b.login("editor@example.se", identity::PASSWORD).await;
    b.go(&format!("/o/person/{id}/edit")).await;
    fill(&b, "f-title", "Head buyer").await;
    // Meanwhile a colleague changes the same field.
    let r = h
        .patch(
            &format!("/api/v1/records/person/{id}"),
            Some("1"),
            json!({"title": "Purchasing manager"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("changed this record while you were editing").await;
    b.shot("conflict").await;
    let page = b.source().await;
    assert!(
        page.contains("value=\"Purchasing manager\""),
        "the colleague's value is shown"
    );
    assert!(
        page.contains("<strong>Head buyer</strong>"),
        "and what this user typed beside it"
    );
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{id}")).await.body["title"],
        "Purchasing manager"
    );
    // Saving again, now against the new version, goes through.
    fill(&b, "f-title", "Head buyer").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Head buyer").await;
    until_field(&h, &format!("/api/v1/records/person/{id}"), "title", "Head buyer").await;
    b.quit().await;
}

pub async fn browser_swedish_labels_dates_and_search(h: H) {
    identity::user(&h, "svensk@example.se", "user", None).await;
    let p = h
        .post(
            "/api/v1/records/deal",
            json!({"name": "Vårkampanj", "stage": "proposal", "amount": "123456.50", "currency": "SEK", "expected_close": "2026-12-24"}),
        )
        .await;
    let id = p.body["id"].as_str().unwrap().to_string();
    let Some(mut b) = Browser::start(&h, &format!("swedish-{}", h.backend())).await else {
        return;
    };
    b.login("svensk@example.se", identity::PASSWORD).await;
    b.go("/o/deal").await;
    // Switch the language in the sidebar: it sticks to the account.
    let select = thirtyfour::components::SelectElement::new(&b.by_id("language").await)
        .await
        .unwrap();
    select.select_by_value("sv").await.unwrap();
    b.wait_for("Affärer").await;
    b.shot("deals-sv").await;
    let page = b.source().await;
    assert!(page.contains("Offert"), "stage names in Swedish");
    assert!(page.contains("123\u{a0}456,50\u{a0}kr"), "money in Swedish format");
    assert!(page.contains("2026-12-24"));
    b.go(&format!("/o/deal/{id}")).await;
    b.wait_for("Förväntat avslut").await;
    b.shot("deal-sv").await;
    // Ctrl+K finds records as you type.
    b.css("body").await.send_keys(Key::Control + "k").await.unwrap();
    let input = b.by_id("palette-input").await;
    input.send_keys("vårkam").await.unwrap();
    b.wait_for("palette-results").await;
    for _ in 0..100 {
        if b.source().await.contains("role=\"option\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.shot("palette").await;
    input.send_keys(Key::Enter).await.unwrap();
    b.wait_for("Förväntat avslut").await;
    assert!(b.driver.current_url().await.unwrap().path().ends_with(&id));
    // Validation messages in place, in Swedish.
    b.go("/o/person/new").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("Fyll i det här.").await;
    let page = b.source().await;
    assert!(page.contains("aria-invalid=\"true\"") && page.contains("role=\"alert\""));
    b.shot("validation-sv").await;
    // German, for comparison of formats.
    b.go(&format!("/o/deal/{id}?lang=de")).await;
    b.wait_for("24.12.2026").await;
    assert!(b.source().await.contains("123.456,50\u{a0}kr") || b.source().await.contains("123.456,50\u{a0}SEK"));
    b.quit().await;
}

pub async fn browser_filter_by_a_custom_field(h: H) {
    identity::user(&h, "boss@example.se", "admin", None).await;
    let Some(mut b) = Browser::start(&h, &format!("filter-{}", h.backend())).await else {
        return;
    };
    b.login("boss@example.se", identity::PASSWORD).await;
    // An administrator adds a picklist to companies, in the app.
    b.go("/admin/objects").await;
    b.shot("objects").await;
    b.go("/admin/objects/company").await;
    fill(&b, "n-label", "Segment").await;
    fill(&b, "n-name", "segment").await;
    let kind = thirtyfour::components::SelectElement::new(&b.by_id("n-type").await)
        .await
        .unwrap();
    kind.select_by_value("select").await.unwrap();
    fill(&b, "n-choices", "smb = Small business\nent = Enterprise").await;
    b.shot("adding-field").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("<code>segment</code>").await;
    b.shot("field-added").await;
    let schema = h.get("/api/v1/objects/company").await.body;
    assert!(schema.to_string().contains("\"segment\""), "{schema}");
    for (name, segment) in [("Alfa AB", "smb"), ("Beta AB", "ent"), ("Gamma AB", "smb")] {
        let r = h
            .post("/api/v1/records/company", json!({"name": name, "segment": segment}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // The list filters by it.
    b.go("/o/company").await;
    let field = thirtyfour::components::SelectElement::new(&b.css(".condition.new select[name=ff]").await)
        .await
        .unwrap();
    field.select_by_value("segment").await.unwrap();
    let op = thirtyfour::components::SelectElement::new(&b.css(".condition.new select[name=fo]").await)
        .await
        .unwrap();
    op.select_by_value("eq").await.unwrap();
    b.css(".condition.new input[name=fv]")
        .await
        .send_keys("ent")
        .await
        .unwrap();
    b.shot("filter-built").await;
    b.css("form.filter button[type=submit]").await.click().await.unwrap();
    b.wait_for("Beta AB").await;
    b.shot("filtered").await;
    let page = b.source().await;
    assert!(!page.contains("Alfa AB") && !page.contains("Gamma AB"));
    assert!(
        b.driver.current_url().await.unwrap().as_str().contains("ff=segment"),
        "the filter is in the URL"
    );
    // Users and tokens pages work for an administrator.
    b.go("/admin/users").await;
    b.wait_for("boss@example.se").await;
    b.shot("users").await;
    b.go("/account/tokens").await;
    fill(&b, "tk-name", "Reporting script").await;
    b.css("form.record-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for("new-token").await;
    let token = b.by_id("new-token").await.text().await.unwrap();
    assert!(token.starts_with("anc_main_"));
    b.shot("token-created").await;
    assert_eq!(as_token_get(&h, &token, "/api/v1/me").await, StatusCode::OK);
    b.quit().await;
}

async fn as_token_get(h: &H, token: &str, path: &str) -> StatusCode {
    h.send(Method::GET, path, Some(token), &[], None).await.status
}

/// Drag a card onto a column the way a mouse would, through the page's own drag-and-drop
/// handlers (WebDriver's action chains do not drive HTML5 drag and drop in Chromium).
async fn drag(b: &Browser, card_id: &str, to: &str) {
    let script = r#"
        const [id, to] = arguments;
        const card = document.querySelector(`.card[data-id="${id}"]`);
        const column = document.querySelector(`.column[data-value="${to}"]`);
        const dt = new DataTransfer();
        card.dispatchEvent(new DragEvent("dragstart", { bubbles: true, dataTransfer: dt }));
        column.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: dt }));
        column.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: dt }));
        card.dispatchEvent(new DragEvent("dragend", { bubbles: true, dataTransfer: dt }));
    "#;
    b.driver.execute(script, vec![json!(card_id), json!(to)]).await.unwrap();
}

async fn column_of(b: &Browser, card_id: &str) -> String {
    let v = b
        .driver
        .execute(
            "return document.querySelector(`.card[data-id=\"${arguments[0]}\"]`).closest('.column').dataset.value;",
            vec![json!(card_id)],
        )
        .await
        .unwrap();
    v.json().as_str().unwrap_or_default().to_string()
}

pub async fn browser_kanban_moves_deals_with_version_checks(h: H) {
    identity::user(&h, "pipeline@example.se", "user", None).await;
    let mut ids = Vec::new();
    for (name, stage, amount) in [
        ("Nordic rollout", "qualified", "120000"),
        ("Berlin pilot", "qualified", "45000.50"),
        ("Madrid renewal", "proposal", "80000"),
    ] {
        let r = h
            .post(
                "/api/v1/records/deal",
                json!({"name": name, "stage": stage, "amount": amount, "currency": "EUR"}),
            )
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let Some(mut b) = Browser::start(&h, &format!("kanban-{}", h.backend())).await else {
        return;
    };
    // This team reports in euros: the columns' sums are in the deals' own currency.
    let r = h.put("/api/v1/currency", json!({"reporting": "EUR"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    b.login("pipeline@example.se", identity::PASSWORD).await;
    b.go("/o/deal/board").await;
    b.wait_for("Nordic rollout").await;
    b.shot("board").await;
    let page = b.source().await;
    assert!(
        page.contains("€165,000.50"),
        "the qualified column totals both deals: {page}"
    );
    // Drag one deal to Proposal: saved with its version, totals follow.
    drag(&b, &ids[0], "proposal").await;
    for _ in 0..100 {
        if column_of(&b, &ids[0]).await == "proposal" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(column_of(&b, &ids[0]).await, "proposal");
    assert_eq!(
        h.get(&format!("/api/v1/records/deal/{}", ids[0])).await.body["stage"],
        "proposal"
    );
    b.wait_for("data-minor=\"20000000\">€200,000.00").await;
    b.shot("dragged").await;
    // Someone else moves the Berlin deal to Won; dragging the stale card shows their move.
    let r = h
        .patch(
            &format!("/api/v1/records/deal/{}", ids[1]),
            Some("1"),
            json!({"stage": "won"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    drag(&b, &ids[1], "negotiation").await;
    b.wait_for("Someone else moved this card to Won first").await;
    b.shot("conflict").await;
    assert_eq!(column_of(&b, &ids[1]).await, "won");
    assert_eq!(
        h.get(&format!("/api/v1/records/deal/{}", ids[1])).await.body["stage"],
        "won"
    );
    // Without a mouse: the card's own "Move to" form.
    b.go("/o/deal/board").await;
    let form = format!(".card[data-id=\"{}\"] form.move", ids[2]);
    let select = thirtyfour::components::SelectElement::new(&b.css(&format!("{form} select")).await)
        .await
        .unwrap();
    select.select_by_value("negotiation").await.unwrap();
    b.css(&format!("{form} button")).await.click().await.unwrap();
    b.wait_for("Madrid renewal").await;
    until_field(&h, &format!("/api/v1/records/deal/{}", ids[2]), "stage", "negotiation").await;
    b.go("/o/deal/board").await;
    assert_eq!(column_of(&b, &ids[2]).await, "negotiation");
    b.shot("moved-by-keyboard").await;
    b.quit().await;
}

pub async fn browser_save_and_share_a_view(h: H) {
    identity::user(&h, "viewer1@example.se", "key_user", None).await;
    identity::user(&h, "viewer2@example.se", "user", None).await;
    for (name, city) in [("Ekström", "Malmö"), ("Holm", "Lund"), ("Lind", "Malmö")] {
        h.post("/api/v1/records/person", json!({"last_name": name, "city": city}))
            .await;
    }
    let Some(mut b) = Browser::start(&h, &format!("views-{}", h.backend())).await else {
        return;
    };
    b.login("viewer1@example.se", identity::PASSWORD).await;
    b.go("/o/person?ff=city&fo=eq&fv=Malm%C3%B6&sort=-last_name").await;
    b.wait_for("Ekström").await;
    // Choose the columns: city and owner only.
    b.css(".columns-menu summary").await.click().await.unwrap();
    for c in b
        .driver
        .find_all(By::Css(".columns-form input[name=col]"))
        .await
        .unwrap()
    {
        let value = c.value().await.unwrap().unwrap_or_default();
        let checked = c.is_selected().await.unwrap();
        if checked != (value == "city" || value == "owner") {
            c.click().await.unwrap();
        }
    }
    b.shot("choosing-columns").await;
    b.css(".columns-form button").await.click().await.unwrap();
    b.wait_for("data-field=\"owner\"").await;
    let page = b.source().await;
    assert!(!page.contains("data-field=\"email\"") && page.contains("data-field=\"city\""));
    b.css(".views-menu:not(.columns-menu) summary")
        .await
        .click()
        .await
        .unwrap();
    fill(&b, "view-name", "Malmö, Z to A").await;
    b.css(".save-view input[name=shared]").await.click().await.unwrap();
    b.shot("saving-view").await;
    b.css(".save-view button").await.click().await.unwrap();
    b.wait_for("view=").await;
    let url = b.driver.current_url().await.unwrap().to_string();
    assert!(
        url.contains("ff=city") && url.contains("sort=-last_name") && url.contains("columns=city%2Cowner"),
        "{url}"
    );
    let page = b.source().await;
    assert!(
        page.find("Lind").unwrap() < page.find("Ekström").unwrap(),
        "sorted Z to A"
    );
    assert!(!page.contains(">Holm<"));
    b.quit().await;
    // A colleague finds the shared view and opens it.
    let Some(mut b) = Browser::start(&h, &format!("views2-{}", h.backend())).await else {
        return;
    };
    b.login("viewer2@example.se", identity::PASSWORD).await;
    b.go("/o/person").await;
    b.css(".views-menu:not(.columns-menu) summary")
        .await
        .click()
        .await
        .unwrap();
    b.shot("shared-view-listed").await;
    assert!(
        !b.source().await.contains("name=\"shared\""),
        "users cannot share views"
    );
    b.driver
        .find(By::LinkText("Malmö, Z to A"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("Ekström").await;
    assert!(!b.source().await.contains(">Holm<"));
    b.shot("shared-view-open").await;
    b.quit().await;
}

pub async fn browser_bulk_actions_and_inline_edit(h: H) {
    identity::user(&h, "bulk@example.se", "user", None).await;
    let mut ids = Vec::new();
    for name in ["Aaltonen", "Bäckström", "Carlsson"] {
        let r = h.post("/api/v1/records/person", json!({"last_name": name})).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let Some(mut b) = Browser::start(&h, &format!("bulk-{}", h.backend())).await else {
        return;
    };
    b.login("bulk@example.se", identity::PASSWORD).await;
    b.go("/o/person?sort=last_name").await;
    b.wait_for("Carlsson").await;
    // Someone changes Bäckström after the page was loaded.
    let r = h
        .patch(
            &format!("/api/v1/records/person/{}", ids[1]),
            Some("1"),
            json!({"city": "Umeå"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    b.css("input[data-select-all]").await.click().await.unwrap();
    let action = thirtyfour::components::SelectElement::new(&b.by_id("bulk-action").await)
        .await
        .unwrap();
    action.select_by_value("set").await.unwrap();
    let field = thirtyfour::components::SelectElement::new(&b.by_id("bulk-field").await)
        .await
        .unwrap();
    field.select_by_value("title").await.unwrap();
    fill(&b, "bulk-value", "Buyer").await;
    b.shot("bulk-chosen").await;
    b.css("form.bulk button[type=submit]").await.click().await.unwrap();
    b.wait_for("2 changed, 1 not changed").await;
    b.shot("bulk-done").await;
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{}", ids[0])).await.body["title"],
        "Buyer"
    );
    let stale = h.get(&format!("/api/v1/records/person/{}", ids[1])).await.body;
    assert!(
        stale["title"].is_null() && stale["city"] == "Umeå",
        "the newer change was not overwritten"
    );
    // Inline edit: click, type, Enter.
    b.go(&format!("/o/person/{}", ids[0])).await;
    b.css("dd[data-field=city]").await.click().await.unwrap();
    let input = b.css("dd[data-field=city] input").await;
    input.send_keys("Kiruna").await.unwrap();
    b.shot("inline-editing").await;
    input.send_keys(Key::Enter).await.unwrap();
    b.wait_for("Kiruna</dd>").await;
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{}", ids[0])).await.body["city"],
        "Kiruna"
    );
    // A value that does not fit: the message appears under the field, nothing is saved.
    b.css("dd[data-field=email]").await.click().await.unwrap();
    let input = b.css("dd[data-field=email] input").await;
    input.send_keys("not-an-address").await.unwrap();
    input.send_keys(Key::Enter).await.unwrap();
    b.wait_for("field-error").await;
    b.wait_for("Enter an e-mail address, like name@example.com.").await;
    b.shot("inline-error").await;
    assert!(h.get(&format!("/api/v1/records/person/{}", ids[0])).await.body["email"].is_null());
    // Move to trash, then Undo.
    b.go(&format!("/o/person/{}", ids[2])).await;
    b.css(".record-head form button").await.click().await.unwrap();
    b.wait_for("Moved to trash.").await;
    b.shot("trashed").await;
    assert!(h.get(&format!("/api/v1/records/person/{}", ids[2])).await.body["deleted_at"].is_string());
    b.css(".notice.undo button").await.click().await.unwrap();
    b.wait_for("Carlsson").await;
    assert!(h.get(&format!("/api/v1/records/person/{}", ids[2])).await.body["deleted_at"].is_null());
    // "?" lists the shortcuts.
    b.css("body").await.send_keys("?").await.unwrap();
    b.wait_for("Keyboard shortcuts").await;
    assert!(b.by_id("shortcuts").await.is_displayed().await.unwrap());
    b.shot("shortcuts").await;
    b.quit().await;
}
