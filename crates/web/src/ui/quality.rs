//! Data quality in the app: the dashboard (today's figures, the trend, per owner and per team),
//! the rules form for administrators, and the fix list on "My work".
//!
//! The dashboard reads the figures kept once a day rather than measuring every record on each
//! visit; those who import and review duplicates can measure again by hand.

use super::charts::{self, Series};
use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value, format, labels};
use crate::i18n::Tr;
use anchora_core::ErrorCode;
use anchora_core::auth::Permission;
use anchora_core::meta::ObjectDef;
use anchora_core::quality::{
    MAX_WEIGHT, Problem, QualityBoard, QualityDay, QualityRules, RecordQuality, STALE_MONTHS, Summary,
};
use anchora_core::record::Record;
use anchora_core::views::url_encode;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use std::collections::{BTreeMap, HashMap};

/// One summary as the page shows it.
pub struct FigureRow {
    pub name: String,
    pub records: String,
    pub score: String,
    pub completeness: String,
    pub invalid: String,
    pub stale: String,
    pub duplicates: String,
}

/// A headline figure.
pub struct Tile {
    pub label: String,
    pub value: String,
    pub key: &'static str,
}

#[derive(Template)]
#[template(path = "ui/quality.html")]
struct QualityPage {
    shell: Shell,
    title: String,
    object: String,
    objects: Vec<(String, String)>,
    may_measure: bool,
    may_set_rules: bool,
    /// "Measured on …" and whose records; empty before the first day is kept.
    measured: String,
    tiles: Vec<Tile>,
    trend: String,
    trend_one_day: bool,
    owners_chart: String,
    owners: Vec<FigureRow>,
    teams: Vec<FigureRow>,
    error: Option<String>,
    /// The measuring this page was sent to watch.
    job: Option<super::jobs::JobPanel>,
}

fn figure_row(locale: &str, name: String, s: &Summary) -> FigureRow {
    let count = |n: u64| {
        #[allow(clippy::cast_precision_loss)] // record counts
        format::number(locale, n as f64, 0)
    };
    FigureRow {
        name,
        records: count(s.records),
        score: format::share(locale, s.score),
        completeness: format::share(locale, s.completeness),
        invalid: count(s.invalid),
        stale: count(s.stale),
        duplicates: count(s.duplicates),
    }
}

fn tiles(ui: &Ui, s: &Summary) -> Vec<Tile> {
    let locale = ui.tr.locale;
    let row = figure_row(locale, String::new(), s);
    vec![
        Tile {
            label: ui.tr.t("quality-score"),
            value: row.score,
            key: "score",
        },
        Tile {
            label: ui.tr.t("quality-completeness"),
            value: row.completeness,
            key: "completeness",
        },
        Tile {
            label: ui.tr.t("quality-invalid-count"),
            value: row.invalid,
            key: "invalid",
        },
        Tile {
            label: ui.tr.t("quality-stale-count"),
            value: row.stale,
            key: "stale",
        },
        Tile {
            label: ui.tr.t("quality-duplicate-count"),
            value: row.duplicates,
            key: "duplicates",
        },
        Tile {
            label: ui.tr.t("quality-records"),
            value: row.records,
            key: "records",
        },
    ]
}

fn trend_chart(ui: &Ui, days: &[QualityDay]) -> String {
    let locale = ui.tr.locale;
    let series = [
        Series {
            name: ui.tr.t("quality-score"),
            class: "score",
            points: days.iter().map(|d| (d.day, d.summary.score)).collect(),
        },
        Series {
            name: ui.tr.t("quality-completeness"),
            class: "completeness",
            points: days.iter().map(|d| (d.day, d.summary.completeness)).collect(),
        },
    ];
    charts::shares_over_days(
        &ui.tr.t("quality-trend"),
        &series,
        |d| format::date(ui.tr.tag, d),
        |v| format::share(locale, v),
    )
}

pub async fn quality_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&q, "object");
    let object = if object.is_empty() { "person" } else { object };
    let def = ui.object(object).or_not_found(&ui)?;
    let (crm, principal) = (&ui.authed.crm, &ui.authed.principal);
    let board = crm.quality_board(principal, &def.name).await.or_page(&ui)?;
    let trend = crm.quality_trend(principal, &def.name, 180).await.unwrap_or_default();
    let users = crm.users(principal).await.unwrap_or_default();
    let teams = crm.teams(principal).await.unwrap_or_default();
    let names = ScopeNames {
        users: users.into_iter().map(|u| (u.id.to_string(), u.name)).collect(),
        teams: teams.into_iter().map(|t| (t.id.to_string(), t.name)).collect(),
    };
    let mut page = quality_view(&ui, &def, &board, &trend, &names, &q);
    let here = format!("/quality?object={}", url_encode(&def.name));
    page.job = super::jobs::watched(&ui, &q, &here).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The names of the owners and teams the figures are kept for, by id.
struct ScopeNames {
    users: HashMap<String, String>,
    teams: HashMap<String, String>,
}

impl ScopeNames {
    /// Whose figures a row holds: an owner's or team's name, or that there is none.
    fn of(&self, tr: &Tr, r: &QualityDay) -> String {
        match r.scope.as_str() {
            "owner" if r.key.is_empty() => tr.t("quality-no-owner"),
            "owner" => self.users.get(&r.key).cloned().unwrap_or_else(|| r.key.clone()),
            _ if r.key.is_empty() => tr.t("quality-no-team"),
            _ => self.teams.get(&r.key).cloned().unwrap_or_else(|| r.key.clone()),
        }
    }
}

/// The rows of one scope ("owner", "team"), worst first: the rows that need attention lead.
fn worst_first<'a>(board: &'a QualityBoard, scope: &str) -> Vec<&'a QualityDay> {
    let mut rows: Vec<&QualityDay> = board.rows.iter().filter(|r| r.scope == scope).collect();
    rows.sort_by(|a, b| a.summary.score.total_cmp(&b.summary.score).then(a.key.cmp(&b.key)));
    rows
}

/// When the figures were kept, and whose they are.
fn measured_line(tr: &Tr, board: &QualityBoard) -> String {
    match board.day {
        Some(day) => format!(
            "{} {}",
            tr.t1("quality-measured", "day", tr.date(day)),
            tr.t(if board.everyone {
                "quality-scope-everyone"
            } else {
                "quality-scope-own"
            })
        ),
        None => String::new(),
    }
}

/// Each owner's score as bars, for those who see everyone's figures and when there is more
/// than one owner.
fn owners_chart(tr: &Tr, board: &QualityBoard, owner_rows: &[&QualityDay], names: &ScopeNames) -> String {
    if board.everyone && owner_rows.len() > 1 {
        let bars: Vec<(String, f64, String)> = owner_rows
            .iter()
            .map(|r| {
                (
                    names.of(tr, r),
                    r.summary.score,
                    format::share(tr.locale, r.summary.score),
                )
            })
            .collect();
        charts::bars(&tr.t("quality-by-owner"), &bars)
    } else {
        String::new()
    }
}

fn quality_view(
    ui: &Ui,
    def: &ObjectDef,
    board: &QualityBoard,
    trend: &[QualityDay],
    names: &ScopeNames,
    q: &[(String, String)],
) -> QualityPage {
    let tr = &ui.tr;
    let principal = &ui.authed.principal;
    let owner_rows = worst_first(board, "owner");
    let figure_rows = |rows: &[&QualityDay]| -> Vec<FigureRow> {
        rows.iter()
            .map(|r| figure_row(tr.locale, names.of(tr, r), &r.summary))
            .collect()
    };
    // The headline: everything for data stewards, one's own records otherwise.
    let own = principal.user_id.to_string();
    let headline = if board.everyone {
        board.rows.iter().find(|r| r.scope == "all")
    } else {
        board.rows.iter().find(|r| r.scope == "owner" && r.key == own)
    };
    QualityPage {
        shell: ui.shell("quality"),
        title: tr.t("quality-title"),
        object: def.name.clone(),
        objects: ui.object_choices(),
        may_measure: principal.may(Permission::Import, &ui.schema.policy),
        may_set_rules: principal.may(Permission::ManageAccess, &ui.schema.policy),
        measured: measured_line(tr, board),
        tiles: headline.map(|h| tiles(ui, &h.summary)).unwrap_or_default(),
        trend_one_day: trend.len() == 1,
        trend: trend_chart(ui, trend),
        owners_chart: owners_chart(tr, board, &owner_rows, names),
        owners: figure_rows(&owner_rows),
        teams: figure_rows(&worst_first(board, "team")),
        error: Some(form_value(q, "error").chars().take(500).collect::<String>()).filter(|e| !e.is_empty()),
        job: None,
    }
}

/// Measure an object's records now and keep today's figures (the server does it once a day),
/// as a job the page watches.
pub async fn measure(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let object = form_value(&form, "object");
    let back = format!("/quality?object={}", url_encode(object));
    let started = ui.authed.crm.start_quality_measure(&ui.authed.principal, object).await;
    let job = started.or_forbidden_else(&ui, |e| match e.code {
        ErrorCode::NotFound | ErrorCode::UnknownObject => super::not_found(&ui),
        _ => Redirect::to(&format!("{back}&error={}", url_encode(&super::admin::problem(&e)))).into_response(),
    })?;
    Ok(Redirect::to(&super::jobs::watching(&back, &job)).into_response())
}

/// One object's fields in the rules form.
pub struct WeightGroup {
    pub object: String,
    pub label: String,
    /// Whether the administrators gave it weights (otherwise its title and required fields count).
    pub open: bool,
    /// (input name, field label, weight as typed, error).
    pub fields: Vec<(String, String, String, Option<String>)>,
}

#[derive(Template)]
#[template(path = "ui/quality_rules.html")]
struct RulesPage {
    shell: Shell,
    title: String,
    groups: Vec<WeightGroup>,
    stale_months: String,
    stale_error: Option<String>,
    error: Option<String>,
    saved: bool,
}

fn weight_input(object: &str, field: &str) -> String {
    format!("w.{object}.{field}")
}

/// The form as the rules stand, or as typed with each mistake beside its field.
fn rules_page(
    ui: &Ui,
    rules: &QualityRules,
    typed: Option<&[(String, String)]>,
    errors: &HashMap<String, String>,
) -> RulesPage {
    let tr = &ui.tr;
    let mut objects: Vec<&ObjectDef> = ui.schema.objects.values().filter(|o| !o.archived).collect();
    // Weighted objects first, then in the sidebar's order.
    let standard = ["company", "person", "deal", "activity"];
    objects.sort_by_key(|o| {
        (
            rules.weights.get(&o.name).is_none_or(|w| w.is_empty()),
            standard.iter().position(|s| *s == o.name).unwrap_or(standard.len()),
            o.name.clone(),
        )
    });
    let groups = objects
        .into_iter()
        .map(|o| {
            let weights: HashMap<String, u32> = rules.weights_of(o).into_iter().collect();
            WeightGroup {
                object: o.name.clone(),
                label: labels::object_plural(tr, o),
                open: rules.weights.get(&o.name).is_some_and(|w| !w.is_empty()),
                fields: o
                    .active_fields()
                    .map(|f| {
                        let name = weight_input(&o.name, &f.name);
                        let value = match typed {
                            Some(form) => form_value(form, &name).to_string(),
                            None => weights.get(&f.name).map(u32::to_string).unwrap_or_default(),
                        };
                        let error = errors.get(&format!("weights.{}.{}", o.name, f.name)).cloned();
                        (name, labels::field(tr, o, f), value, error)
                    })
                    .collect(),
            }
        })
        .collect();
    RulesPage {
        shell: ui.shell("quality"),
        title: tr.t("quality-rules-title"),
        groups,
        stale_months: typed.map_or_else(
            || rules.stale_months.to_string(),
            |f| form_value(f, "stale_months").to_string(),
        ),
        stale_error: errors.get("stale_months").cloned(),
        error: None,
        saved: false,
    }
}

pub async fn rules_form(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let rules = ui.authed.crm.quality_rules().await.ok().or_not_found(&ui)?;
    let mut page = rules_page(&ui, &rules, None, &HashMap::new());
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Read the form into rules: every weight a whole number 0–100 (blank is 0), each mistake
/// named by its field.
fn read_rules(ui: &Ui, form: &[(String, String)]) -> (serde_json::Value, HashMap<String, String>) {
    let mut weights: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let mut errors = HashMap::new();
    for (name, value) in form {
        let Some(rest) = name.strip_prefix("w.") else { continue };
        let Some((object, field)) = rest.split_once('.') else {
            continue;
        };
        let value = value.trim();
        let weight = if value.is_empty() { Ok(0) } else { value.parse::<u32>() };
        match weight {
            Ok(n) if n <= MAX_WEIGHT => {
                if n > 0 {
                    weights
                        .entry(object.to_string())
                        .or_default()
                        .insert(field.to_string(), n);
                }
            }
            _ => {
                errors.insert(format!("weights.{object}.{field}"), ui.tr.t("quality-weight-bad"));
            }
        }
    }
    let stale = form_value(form, "stale_months")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| STALE_MONTHS.contains(m));
    if stale.is_none() {
        errors.insert("stale_months".into(), ui.tr.t("quality-stale-bad"));
    }
    let body = serde_json::json!({"weights": weights, "stale_months": stale.unwrap_or(0)});
    (body, errors)
}

pub async fn save_rules(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::ManageAccess, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let current = ui.authed.crm.quality_rules().await.ok().or_not_found(&ui)?;
    let (body, mut errors) = read_rules(&ui, &form);
    let mut failure = None;
    if errors.is_empty() {
        let saved = ui.authed.crm.set_quality_rules(&ui.authed.principal, body).await;
        match saved.or_forbidden(&ui)? {
            Ok(_) => return Ok(Redirect::to("/quality/rules?saved=1").into_response()),
            Err(e) => {
                for f in &e.errors {
                    errors.insert(f.field.clone(), super::field_message(&ui.tr, &f.message));
                }
                failure = Some(super::admin::problem(&e));
            }
        }
    }
    let mut page = rules_page(&ui, &current, Some(&form), &errors);
    page.error = failure.or_else(|| Some(ui.tr.t("quality-rules-mistakes")));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

/// One record on the fix list, as "My work" shows it.
pub struct FixLine {
    pub href: String,
    pub title: String,
    pub object: String,
    pub problems: String,
    pub score: String,
}

/// What is wrong with a record, in words.
fn problems_text(ui: &Ui, def: &ObjectDef, q: &RecordQuality) -> String {
    let field_label = |name: &str| {
        def.field(name)
            .map_or_else(|| name.to_string(), |f| labels::field(&ui.tr, def, f))
    };
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut parts = Vec::new();
    for p in &q.problems {
        match p {
            Problem::Missing { field } => missing.push(field_label(field)),
            Problem::Invalid { field } => invalid.push(field_label(field)),
            Problem::Stale { since } => {
                parts.push(ui.tr.t1("quality-stale-since", "date", ui.tr.date(since.date_naive())))
            }
            Problem::Duplicate => parts.push(ui.tr.t("quality-duplicate")),
        }
    }
    if !invalid.is_empty() {
        parts.insert(0, ui.tr.t1("quality-invalid", "fields", invalid.join(", ")));
    }
    if !missing.is_empty() {
        parts.insert(0, ui.tr.t1("quality-missing", "fields", missing.join(", ")));
    }
    parts.join(" · ")
}

/// The caller's own records with most to fix, across the objects the rules weigh: how many
/// there are in all, and the `limit` worst.
pub async fn fix_lines(ui: &Ui, limit: usize) -> (usize, Vec<FixLine>) {
    let Ok(rules) = ui.authed.crm.quality_rules().await else {
        return (0, Vec::new());
    };
    let mut total = 0;
    let mut worst: Vec<(ObjectDef, Record, RecordQuality)> = Vec::new();
    for object in rules.weights.keys() {
        let Some(def) = ui.object(object) else { continue };
        if let Ok(list) = ui.authed.crm.fix_list(&ui.authed.principal, &def.name, limit).await {
            total += list.total;
            worst.extend(list.worst.into_iter().map(|(r, q)| (def.clone(), r, q)));
        }
    }
    worst.sort_by(|a, b| a.2.score.total_cmp(&b.2.score).then(a.1.id.cmp(&b.1.id)));
    worst.truncate(limit);
    let lines = worst
        .iter()
        .map(|(def, r, q)| FixLine {
            href: format!("/o/{}/{}", def.name, r.id),
            title: r.title(def),
            object: labels::object(&ui.tr, def),
            problems: problems_text(ui, def, q),
            score: format::share(ui.tr.locale, q.score),
        })
        .collect();
    (total, lines)
}
