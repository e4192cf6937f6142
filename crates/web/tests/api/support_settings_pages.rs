//! The support settings page (issue 23): an administrator saves the calendar (split hours,
//! holidays one per line, a special day), the agreed times typed as 4h / 90m / 1h 30m,
//! hypercare, the vendor and the categories, and the API reads them back; a mistake is shown
//! next to its input with what was typed kept (422), whether the form could not read it or core
//! refused it; anyone but an administrator is refused (403), as core refuses.

use super::identity::{self, Browser};
use super::*;

const LEVELS: [&str; 3] = ["key_user", "it", "vendor"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// Every input of the form, as an administrator fills it in.
fn filled(csrf: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("csrf", csrf),
        ("calendar.time_zone", "Europe/Stockholm"),
        ("calendar.hours.monday", "08:00–12:00, 13:00–17:00"),
        ("calendar.hours.tuesday", "08:00-17:00"),
        ("calendar.hours.wednesday", "08:00-17:00"),
        ("calendar.hours.thursday", "08:00-17:00"),
        ("calendar.hours.friday", "08:00-15:00"),
        ("calendar.hours.saturday", ""),
        ("calendar.hours.sunday", ""),
        ("calendar.holidays", "2026-12-24\n\n12-25\r\n2027-01-01\n"),
        ("calendar.special_days", "12-31 09:00–13:00"),
        ("warn_share", "25"),
        ("hypercare.go_live", "2026-11-16"),
        ("hypercare.weeks", "6"),
        ("vendor_name", "Acme CRM AB"),
        ("vendor_contact", "support@acme.example"),
        ("categories", "usage\ndata\n\naccess"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (prefix, response, resolution) in [("times", "4h", "45h"), ("hypercare.times", "1h", "9h")] {
        for level in LEVELS {
            for p in PRIORITIES {
                f.push((format!("{prefix}.{level}.{p}.response_minutes"), response.into()));
                f.push((format!("{prefix}.{level}.{p}.resolution_minutes"), resolution.into()));
            }
        }
    }
    set(&mut f, "times.it.urgent.response_minutes", "90m");
    set(&mut f, "times.it.urgent.resolution_minutes", "1h 30m");
    set(&mut f, "times.vendor.low.resolution_minutes", "600");
    f
}

fn set(form: &mut [(String, String)], name: &str, value: &str) {
    let field = form.iter_mut().find(|(k, _)| k == name).unwrap();
    field.1 = value.to_string();
}

async fn post(b: &mut Browser, h: &H, form: &[(String, String)]) -> identity::Page {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.form(h, "/support/settings", &fields).await
}

/// The error shown next to an input (its `<p class="field-error">`), or "" without one.
fn error_of<'a>(page: &'a str, id: &str) -> &'a str {
    page.split_once(&format!("id=\"{id}-error\">"))
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map_or("", |(text, _)| text)
}

pub async fn support_settings_page_saves_and_shows_mistakes_by_their_fields(h: H) {
    identity::user(&h, "ada@example.se", "admin", None).await;
    identity::user(&h, "kim@example.se", "key_user", None).await;
    let mut ada = Browser::default();
    ada.login(&h, "ada@example.se", identity::PASSWORD).await;

    // Administrators find it from the stewardship plan.
    let plan = ada.get(&h, "/stewardship").await;
    assert!(plan.text.contains("href=\"/support/settings\""), "{}", plan.text);

    // The form shows the settings as they are: the standard times, readably.
    let page = ada.get(&h, "/support/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"support-settings-form\""), "{}", page.text);
    assert!(
        page.text
            .contains("name=\"times.it.urgent.response_minutes\" value=\"1h\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("value=\"08:00–17:00\""));

    // Saved, it takes effect: the API reads back what the form wrote.
    let csrf = ada.csrf(&h).await;
    let saved = post(&mut ada, &h, &filled(&csrf)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    assert_eq!(saved.headers["location"], "/support/settings?saved=1");
    let s = h.get("/api/v1/support/settings").await.body;
    let cal = &s["calendar"];
    assert_eq!(cal["holidays"], json!(["2026-12-24", "12-25", "2027-01-01"]), "{s}");
    assert_eq!(
        cal["hours"]["monday"],
        json!([{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}])
    );
    assert_eq!(cal["hours"]["friday"], json!([{"start": "08:00", "end": "15:00"}]));
    assert_eq!(cal["hours"]["sunday"], json!([]));
    assert_eq!(
        cal["special_days"],
        json!([{"day": "12-31", "hours": [{"start": "09:00", "end": "13:00"}]}])
    );
    assert_eq!(
        s["times"]["it"]["urgent"],
        json!({"response_minutes": 90, "resolution_minutes": 90})
    );
    assert_eq!(s["times"]["key_user"]["low"]["resolution_minutes"], 45 * 60);
    assert_eq!(s["times"]["vendor"]["low"]["resolution_minutes"], 600);
    assert_eq!(s["warn_share"], 25);
    assert_eq!(s["hypercare"]["go_live"], "2026-11-16");
    assert_eq!(s["hypercare"]["weeks"], 6);
    assert_eq!(s["hypercare"]["times"]["vendor"]["high"]["response_minutes"], 60);
    assert_eq!(
        (s["vendor_name"].as_str(), s["vendor_contact"].as_str()),
        (Some("Acme CRM AB"), Some("support@acme.example"))
    );
    assert_eq!(s["categories"], json!(["usage", "data", "access"]));
    let page = ada.get(&h, "/support/settings?saved=1").await;
    assert!(page.text.contains("id=\"support-settings-saved\""));
    assert!(page.text.contains("value=\"1h 30m\""), "{}", page.text);
    assert!(page.text.contains("value=\"10h\""), "600 minutes read as hours");

    // What the form cannot read is named next to its input, with what was typed kept.
    let mut bad = filled(&csrf);
    set(&mut bad, "calendar.holidays", "2026-12-24\n2026-13-01");
    set(&mut bad, "times.it.urgent.response_minutes", "soon");
    set(&mut bad, "calendar.time_zone", "Mars/Olympus");
    let r = post(&mut ada, &h, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"support-settings-error\""));
    let holidays = error_of(&r.text, "ss-calendar-holidays");
    assert!(
        holidays.starts_with("Line 2:") && holidays.contains("2026-13-01"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(">2026-12-24\n2026-13-01</textarea>"),
        "the lines are kept"
    );
    assert!(error_of(&r.text, "ss-times-it-urgent-response-minutes").contains("4h, 90m or 1h 30m"));
    assert!(
        r.text
            .contains("name=\"times.it.urgent.response_minutes\" value=\"soon\"")
    );
    assert!(error_of(&r.text, "ss-calendar-time-zone").contains("Mars/Olympus"));
    assert_eq!(error_of(&r.text, "ss-times-it-high-response-minutes"), "");

    // What core refuses is named by its field and shown on that input too.
    let mut refused = filled(&csrf);
    set(&mut refused, "times.key_user.low.resolution_minutes", "0");
    set(&mut refused, "calendar.hours.monday", "17:00–08:00");
    let long = "x".repeat(201);
    set(&mut refused, "categories", &format!("usage\n\n{long}"));
    set(&mut refused, "warn_share", "120");
    let r = post(&mut ada, &h, &refused).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(error_of(&r.text, "ss-times-key-user-low-resolution-minutes").contains("1 minute to a year"));
    assert!(
        error_of(&r.text, "ss-calendar-hours-monday").contains("end after it starts"),
        "{}",
        r.text
    );
    assert!(error_of(&r.text, "ss-categories").starts_with("Line 3:"), "{}", r.text);
    assert!(error_of(&r.text, "ss-warn-share").contains("0 to 100"));
    assert!(r.text.contains("value=\"17:00–08:00\""));
    // Nothing of either was saved.
    let s = h.get("/api/v1/support/settings").await.body;
    assert_eq!(s["times"]["it"]["urgent"]["response_minutes"], 90);
    assert_eq!(s["warn_share"], 25);

    // The page speaks the reader's language.
    let sv = ada.get(&h, "/support/settings?lang=sv").await;
    assert!(sv.text.contains("Supportinställningar"), "{}", sv.text);

    // Anyone but an administrator is refused, as core refuses them the settings.
    let mut kim = Browser::default();
    kim.login(&h, "kim@example.se", identity::PASSWORD).await;
    assert_eq!(kim.get(&h, "/support/settings").await.status, StatusCode::FORBIDDEN);
    let csrf = kim.csrf(&h).await;
    let mut theirs = filled(&csrf);
    set(&mut theirs, "warn_share", "50");
    let r = post(&mut kim, &h, &theirs).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(h.get("/api/v1/support/settings").await.body["warn_share"], 25);
    // And a form without the session's token reaches no handler.
    let mut forged = filled("not-the-token");
    set(&mut forged, "warn_share", "50");
    assert_eq!(post(&mut ada, &h, &forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(h.get("/api/v1/support/settings").await.body["warn_share"], 25);
}
