//! `/support/settings`: the support settings an administrator keeps (issue 23) — the business
//! calendar the agreed times count on (zone, weekly hours, holidays, special days), the agreed
//! times per level and priority, when to warn, hypercare after go-live, the vendor and the
//! categories. The form's texts are read with core's readers (`parse_duration_minutes`,
//! `parse_spans`, `DateRule`, `SpecialDay`); whether the settings make sense, and who may see
//! and change them, is `Crm`'s. Every mistake is shown next to the input it was typed in, with
//! what was typed kept.

use super::page_error::{OrPage, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::support::hours::{
    DateRule, SpecialDay, duration_text, parse_duration_minutes, parse_spans, spans_text, zone_names,
};
use anchora_core::support::{ByLevel, Hypercare, Level, Priority, SupportSettings};
use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;
/// Input name → text, as kept or as typed.
type Values = HashMap<String, String>;
/// Input name → what is wrong with it, in the reader's words.
type Mistakes = HashMap<String, Vec<String>>;

pub fn routes() -> Router<AppState> {
    Router::new().route("/support/settings", get(settings_page).post(save_settings))
}

const LEVELS: [Level; 3] = [Level::KeyUser, Level::It, Level::Vendor];
const PRIORITIES: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
const MEASURES: [&str; 2] = ["response_minutes", "resolution_minutes"];
/// The weekdays' names in the settings and their labels' keys.
const WEEKDAYS: [(&str, &str); 7] = [
    ("monday", "day-mon"),
    ("tuesday", "day-tue"),
    ("wednesday", "day-wed"),
    ("thursday", "day-thu"),
    ("friday", "day-fri"),
    ("saturday", "day-sat"),
    ("sunday", "day-sun"),
];
/// The inputs that take one item per line; core names an item by its place among the lines
/// that are not blank (`calendar.holidays[2]`).
const LISTS: [&str; 3] = ["calendar.holidays", "calendar.special_days", "categories"];

fn level_label(tr: &Tr, l: Level) -> String {
    tr.t(&format!("support-level-{}", l.as_str().replace('_', "-")))
}

fn priority_label(tr: &Tr, p: Priority) -> String {
    tr.t(&format!("support-priority-{}", p.as_str()))
}

fn measure_label(tr: &Tr, measure: &str) -> String {
    tr.t(if measure == "response_minutes" {
        "support-clock-response"
    } else {
        "support-clock-resolution"
    })
}

/// One input of the form.
pub struct SettingField {
    pub name: String,
    pub id: String,
    pub label: String,
    /// `text`, `number`, `date` or `textarea`.
    pub kind: &'static str,
    pub value: String,
    pub hint: String,
    pub errors: Vec<String>,
    pub described: String,
    pub min: &'static str,
    pub max: &'static str,
    /// A datalist's id, or empty.
    pub list: &'static str,
    pub wide: bool,
}

fn input_id(name: &str) -> String {
    format!("ss-{}", name.replace(['.', '_'], "-"))
}

/// One agreed time's input in a times table.
pub struct TimeCell {
    pub name: String,
    pub id: String,
    pub label: String,
    pub value: String,
    pub errors: Vec<String>,
}

pub struct TimesRow {
    pub level: String,
    /// The level's first row (its name spans both).
    pub first: bool,
    pub measure: String,
    pub cells: Vec<TimeCell>,
}

pub struct TimesTable {
    pub id: String,
    pub caption: String,
    pub rows: Vec<TimesRow>,
}

#[derive(Template)]
#[template(path = "ui/support_settings.html")]
struct SettingsPage {
    shell: Shell,
    title: String,
    saved: bool,
    error: Option<String>,
    /// Mistakes no input of the form stands for.
    general: Vec<String>,
    zones: Vec<&'static str>,
    calendar: Vec<SettingField>,
    week: Vec<SettingField>,
    week_errors: Vec<String>,
    days: Vec<SettingField>,
    priorities: Vec<String>,
    times: Vec<TimesTable>,
    warning: Vec<SettingField>,
    hypercare: Vec<SettingField>,
    hypercare_times: Vec<TimesTable>,
    vendor: Vec<SettingField>,
    categories: Vec<SettingField>,
}

/// The hypercare times a workspace starts from (core's defaults for a hypercare given without
/// times of its own).
fn default_hypercare_times() -> ByLevel {
    serde_json::from_value::<Hypercare>(json!({"go_live": "2000-01-01", "weeks": 1}))
        .map_or_else(|_| ByLevel::default(), |h| h.times)
}

fn times_values(values: &mut Values, prefix: &str, times: &ByLevel) {
    for level in LEVELS {
        for p in PRIORITIES {
            let t = times.of(level, p);
            for (measure, minutes) in [
                ("response_minutes", t.response_minutes),
                ("resolution_minutes", t.resolution_minutes),
            ] {
                values.insert(
                    format!("{prefix}.{}.{}.{measure}", level.as_str(), p.as_str()),
                    duration_text(minutes),
                );
            }
        }
    }
}

/// The settings as the form shows them.
fn settings_values(s: &SupportSettings) -> Values {
    let mut v = Values::new();
    let lines = |items: Vec<String>| items.join("\n");
    v.insert("calendar.time_zone".into(), s.calendar.time_zone.name().to_string());
    for (day, spans) in [
        ("monday", &s.calendar.hours.monday),
        ("tuesday", &s.calendar.hours.tuesday),
        ("wednesday", &s.calendar.hours.wednesday),
        ("thursday", &s.calendar.hours.thursday),
        ("friday", &s.calendar.hours.friday),
        ("saturday", &s.calendar.hours.saturday),
        ("sunday", &s.calendar.hours.sunday),
    ] {
        v.insert(format!("calendar.hours.{day}"), spans_text(spans));
    }
    v.insert(
        "calendar.holidays".into(),
        lines(s.calendar.holidays.iter().map(ToString::to_string).collect()),
    );
    v.insert(
        "calendar.special_days".into(),
        lines(s.calendar.special_days.iter().map(ToString::to_string).collect()),
    );
    times_values(&mut v, "times", &s.times);
    v.insert("warn_share".into(), s.warn_share.to_string());
    match &s.hypercare {
        Some(h) => {
            v.insert("hypercare.go_live".into(), h.go_live.format("%Y-%m-%d").to_string());
            v.insert("hypercare.weeks".into(), h.weeks.to_string());
            times_values(&mut v, "hypercare.times", &h.times);
        }
        None => times_values(&mut v, "hypercare.times", &default_hypercare_times()),
    }
    v.insert("vendor_name".into(), s.vendor_name.clone());
    v.insert("vendor_contact".into(), s.vendor_contact.clone());
    v.insert("categories".into(), lines(s.categories.clone()));
    v
}

/// The lines of a list input that are not blank, trimmed, with their line numbers (from 1).
fn list_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

fn on_line(tr: &Tr, line: usize, message: String) -> String {
    tr.tn(
        "support-settings-line",
        &[("line", line.to_string()), ("message", message)],
    )
}

/// The form as the use case takes it, and the mistakes found while reading it.
fn read_form(tr: &Tr, v: &Values) -> (Json, Mistakes) {
    let mut errors = Mistakes::new();
    let mut wrong = |name: &str, message: String| errors.entry(name.to_string()).or_default().push(message);
    let text = |name: &str| v.get(name).map_or("", |s| s.as_str()).trim();

    let zone = text("calendar.time_zone");
    if !zone_names().any(|z| z == zone) {
        wrong(
            "calendar.time_zone",
            tr.t1("support-settings-bad-zone", "value", zone.to_string()),
        );
    }
    let mut hours = Map::new();
    for (day, _) in WEEKDAYS {
        let name = format!("calendar.hours.{day}");
        match parse_spans(text(&name)) {
            Ok(spans) => {
                hours.insert(day.to_string(), json!(spans));
            }
            Err(_) => wrong(
                &name,
                tr.t1("support-settings-bad-hours", "value", text(&name).to_string()),
            ),
        }
    }
    let mut holidays = Vec::new();
    for (line, typed) in list_lines(text("calendar.holidays")) {
        match typed.parse::<DateRule>() {
            Ok(day) => holidays.push(json!(day)),
            Err(_) => wrong(
                "calendar.holidays",
                on_line(tr, line, tr.t1("support-settings-bad-day", "value", typed.to_string())),
            ),
        }
    }
    let mut special_days = Vec::new();
    for (line, typed) in list_lines(text("calendar.special_days")) {
        match typed.parse::<SpecialDay>() {
            Ok(day) => special_days.push(json!(day)),
            Err(_) => wrong(
                "calendar.special_days",
                on_line(
                    tr,
                    line,
                    tr.t1("support-settings-bad-special-day", "value", typed.to_string()),
                ),
            ),
        }
    }
    let mut times_of = |prefix: &str| -> Json {
        let mut by_level = Map::new();
        for level in LEVELS {
            let mut by_priority = Map::new();
            for p in PRIORITIES {
                let mut times = Map::new();
                for measure in MEASURES {
                    let name = format!("{prefix}.{}.{}.{measure}", level.as_str(), p.as_str());
                    match parse_duration_minutes(text(&name)) {
                        Ok(minutes) => {
                            times.insert(measure.to_string(), json!(minutes));
                        }
                        Err(_) => wrong(
                            &name,
                            tr.t1("support-settings-bad-duration", "value", text(&name).to_string()),
                        ),
                    }
                }
                by_priority.insert(p.as_str().to_string(), Json::Object(times));
            }
            by_level.insert(level.as_str().to_string(), Json::Object(by_priority));
        }
        Json::Object(by_level)
    };
    let times = times_of("times");
    let hypercare = match text("hypercare.go_live") {
        "" => Json::Null,
        go_live => {
            let times = times_of("hypercare.times");
            if chrono::NaiveDate::parse_from_str(go_live, "%Y-%m-%d").is_err() {
                wrong("hypercare.go_live", tr.t("support-settings-bad-go-live"));
            }
            let weeks = text("hypercare.weeks").parse::<u32>().unwrap_or_else(|_| {
                wrong("hypercare.weeks", tr.t("support-settings-bad-weeks"));
                0
            });
            json!({"go_live": go_live, "weeks": weeks, "times": times})
        }
    };
    let share = text("warn_share").trim_end_matches('%').trim();
    let warn_share = share.parse::<u8>().unwrap_or_else(|_| {
        wrong("warn_share", tr.t("support-settings-bad-share"));
        0
    });
    let categories: Vec<&str> = list_lines(text("categories")).into_iter().map(|(_, c)| c).collect();
    let body = json!({
        "calendar": {"time_zone": zone, "hours": hours, "holidays": holidays, "special_days": special_days},
        "times": times,
        "warn_share": warn_share,
        "hypercare": hypercare,
        "vendor_name": text("vendor_name"),
        "vendor_contact": text("vendor_contact"),
        "categories": categories,
    });
    (body, errors)
}

/// `calendar.special_days[3].hours[0].end` → (`calendar.special_days`, 3, `hours[0].end`).
fn list_item(field: &str) -> Option<(&'static str, usize, &str)> {
    LISTS.iter().find_map(|list| {
        let rest = field.strip_prefix(list)?.strip_prefix('[')?;
        let (index, after) = rest.split_once(']')?;
        Some((*list, index.parse().ok()?, after.trim_start_matches('.')))
    })
}

/// A refused span's words: an end not after its start (`…[1].end`), or an overlap (`…[1]`).
fn span_message(tr: &Tr, rest: &str) -> String {
    if rest.ends_with(".end") {
        tr.t("support-settings-span-order")
    } else {
        tr.t("support-settings-span-overlap")
    }
}

/// The mistakes the use case found, each on the input it was typed in, in the reader's words.
fn place_refused(tr: &Tr, e: &Error, v: &Values, errors: &mut Mistakes) {
    for f in &e.errors {
        let field = f.field.as_str();
        let (input, message) = if let Some((list, index, rest)) = list_item(field) {
            let lines = list_lines(v.get(list).map_or("", |s| s.as_str()));
            let (line, typed) = lines.get(index).copied().unwrap_or((index + 1, ""));
            let message = match list {
                "categories" => tr.t("support-settings-bad-category"),
                "calendar.holidays" => tr.t1("support-settings-bad-day", "value", typed.to_string()),
                _ if rest == "day" => tr.t("support-settings-day-twice"),
                _ if rest.starts_with("hours") => span_message(tr, rest),
                _ => super::field_message(tr, &f.message),
            };
            (list.to_string(), on_line(tr, line, message))
        } else if let Some(rest) = field.strip_prefix("calendar.hours.") {
            let day = rest.split(['[', '.']).next().unwrap_or(rest);
            (format!("calendar.hours.{day}"), span_message(tr, rest))
        } else {
            let message = match field {
                "calendar.hours" => tr.t("support-settings-never-open"),
                "calendar.time_zone" => tr.t1(
                    "support-settings-bad-zone",
                    "value",
                    v.get(field).cloned().unwrap_or_default(),
                ),
                "warn_share" => tr.t("support-settings-bad-share"),
                "hypercare.weeks" => tr.t("support-settings-bad-weeks"),
                "hypercare.go_live" => tr.t("support-settings-bad-go-live"),
                "vendor_name" | "vendor_contact" => tr.t("support-settings-too-long"),
                other if other.ends_with("_minutes") => tr.t("support-settings-times-range"),
                _ => super::field_message(tr, &f.message),
            };
            (field.to_string(), message)
        };
        errors.entry(input).or_default().push(message);
    }
}

/// The page builder's state: the values to show and the mistakes not yet placed on an input.
struct Form<'a> {
    tr: &'a Tr,
    values: &'a Values,
    errors: Mistakes,
}

impl Form<'_> {
    fn field(&mut self, name: &str, label: String, kind: &'static str, hint: &str) -> SettingField {
        let id = input_id(name);
        let errors = self.errors.remove(name).unwrap_or_default();
        let hint = if hint.is_empty() {
            String::new()
        } else {
            self.tr.t(hint)
        };
        let mut described = Vec::new();
        if !hint.is_empty() {
            described.push(format!("{id}-hint"));
        }
        if !errors.is_empty() {
            described.push(format!("{id}-error"));
        }
        SettingField {
            name: name.to_string(),
            label,
            kind,
            value: self.values.get(name).cloned().unwrap_or_default(),
            hint,
            errors,
            described: described.join(" "),
            min: "",
            max: "",
            list: "",
            wide: kind == "textarea",
            id,
        }
    }

    fn labelled(&mut self, name: &str, label: &str, kind: &'static str, hint: &str) -> SettingField {
        let label = self.tr.t(label);
        self.field(name, label, kind, hint)
    }

    fn times(&mut self, prefix: &str, caption: &str) -> TimesTable {
        let tr = self.tr;
        let mut rows = Vec::new();
        for level in LEVELS {
            for (i, measure) in MEASURES.iter().enumerate() {
                let cells = PRIORITIES
                    .iter()
                    .map(|p| {
                        let name = format!("{prefix}.{}.{}.{measure}", level.as_str(), p.as_str());
                        TimeCell {
                            id: input_id(&name),
                            label: format!(
                                "{} · {} · {}",
                                level_label(tr, level),
                                priority_label(tr, *p),
                                measure_label(tr, measure)
                            ),
                            value: self.values.get(&name).cloned().unwrap_or_default(),
                            errors: self.errors.remove(&name).unwrap_or_default(),
                            name,
                        }
                    })
                    .collect();
                rows.push(TimesRow {
                    level: level_label(tr, level),
                    first: i == 0,
                    measure: measure_label(tr, measure),
                    cells,
                });
            }
        }
        TimesTable {
            id: input_id(prefix),
            caption: tr.t(caption),
            rows,
        }
    }
}

fn page(ui: &Ui, values: &Values, errors: Mistakes) -> SettingsPage {
    let tr = &ui.tr;
    let mut f = Form { tr, values, errors };
    let mut zone = f.labelled("calendar.time_zone", "support-settings-zone", "text", "");
    zone.list = "ss-zones";
    let week = WEEKDAYS
        .iter()
        .map(|(day, key)| f.labelled(&format!("calendar.hours.{day}"), key, "text", ""))
        .collect();
    let week_errors = f.errors.remove("calendar.hours").unwrap_or_default();
    let days = vec![
        f.labelled(
            "calendar.holidays",
            "support-settings-holidays",
            "textarea",
            "support-settings-holidays-hint",
        ),
        f.labelled(
            "calendar.special_days",
            "support-settings-special-days",
            "textarea",
            "support-settings-special-days-hint",
        ),
    ];
    let times = vec![f.times("times", "support-settings-times-hint")];
    let mut share = f.labelled(
        "warn_share",
        "support-settings-warn-share",
        "number",
        "support-settings-warn-share-hint",
    );
    (share.min, share.max) = ("0", "100");
    let go_live = f.labelled(
        "hypercare.go_live",
        "support-settings-go-live",
        "date",
        "support-settings-go-live-hint",
    );
    let mut weeks = f.labelled("hypercare.weeks", "support-settings-weeks", "number", "");
    (weeks.min, weeks.max) = ("1", "52");
    let hypercare_times = vec![f.times("hypercare.times", "support-settings-hypercare-times-hint")];
    let vendor = vec![
        f.labelled("vendor_name", "support-vendor", "text", ""),
        f.labelled("vendor_contact", "support-vendor-contact", "text", ""),
    ];
    let categories = vec![f.labelled(
        "categories",
        "support-settings-categories",
        "textarea",
        "support-settings-categories-hint",
    )];
    let mut general: Vec<(String, Vec<String>)> = f.errors.into_iter().collect();
    general.sort();
    SettingsPage {
        shell: ui.shell("support"),
        title: tr.t("support-settings-title"),
        saved: false,
        error: None,
        general: general
            .into_iter()
            .flat_map(|(field, messages)| messages.into_iter().map(move |m| format!("{field}: {m}")))
            .collect(),
        zones: zone_names().collect(),
        calendar: vec![zone],
        week,
        week_errors,
        days,
        priorities: PRIORITIES.iter().map(|p| priority_label(tr, *p)).collect(),
        times,
        warning: vec![share],
        hypercare: vec![go_live, weeks],
        hypercare_times,
        vendor,
        categories,
    }
}

/// `/support/settings`: the form (administrators; anyone else is refused, as core refuses).
pub async fn settings_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let settings = crm.support_settings(who).await.or_page(&ui)?;
    let mut page = page(&ui, &settings_values(&settings), Mistakes::new());
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Save the settings: back to the form with "saved", or the form as typed with each mistake
/// next to its input (422). The settings have no version: the last save wins.
pub async fn save_settings(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    // Refused before anything is read from the form, as the page is.
    crm.support_settings(who).await.or_page(&ui)?;
    let values: Values = form.into_iter().filter(|(k, _)| k != "csrf").collect();
    let (body, mut errors) = read_form(&ui.tr, &values);
    if errors.is_empty() {
        match crm.set_support_settings(who, body).await.or_forbidden(&ui)? {
            Ok(_) => return Ok(Redirect::to("/support/settings?saved=1").into_response()),
            Err(e) if e.errors.is_empty() => return Err(super::records::unavailable(&ui, &e).into()),
            Err(e) => place_refused(&ui.tr, &e, &values, &mut errors),
        }
    }
    let mut page = page(&ui, &values, errors);
    page.error = Some(ui.tr.t("support-settings-mistakes"));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_settings_read_back_unchanged() {
        let tr = Tr::new("en");
        let mut s = SupportSettings::default();
        s.calendar.holidays = vec!["12-25".parse().unwrap(), "2026-06-06".parse().unwrap()];
        s.calendar.special_days = vec!["12-24 08:00–12:00".parse().unwrap()];
        s.times.it.urgent.response_minutes = 90;
        let (body, errors) = read_form(&tr, &settings_values(&s));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(SupportSettings::parse(body).unwrap(), s);
    }

    #[test]
    fn a_refused_item_is_placed_on_its_line() {
        assert_eq!(
            list_item("calendar.special_days[1].hours[0].end"),
            Some(("calendar.special_days", 1, "hours[0].end"))
        );
        assert_eq!(list_item("categories[2]"), Some(("categories", 2, "")));
        assert_eq!(list_item("calendar.hours.monday[1]"), None);
        let tr = Tr::new("en");
        let mut v = Values::new();
        v.insert("categories".into(), "usage\n\n \ndata".into());
        let e = Error::validation(vec![anchora_core::error::FieldError::new(
            "categories[1]",
            "is a short text",
        )]);
        let mut errors = Mistakes::new();
        place_refused(&tr, &e, &v, &mut errors);
        assert!(errors["categories"][0].starts_with("Line 4"), "{errors:?}");
    }
}
