//! The adoption pages (issue 22; C3, C7): how much each person uses Anchora, scored against
//! their own team, shown to the person, the lead of their team and administrators only.
//!
//! `/adoption` lists the people the caller may see (weakest first) with the rules each falls
//! under and, for leads and administrators, "plan extra support"; the teams' score trends; and,
//! for administrators, "count now" (the measuring job, watched by its panel) and the weights and
//! rules (`/adoption/settings`). `/adoption/users/{id}` is one person's figures against the
//! team's median and day by day. The figures are `Crm::adoption_board`'s and
//! `Crm::user_adoption`'s; this file only words and draws them.

use super::charts::{self, Plot};
use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::svg::escape;
use super::{Shell, Ui, form_value, format, same_site_path};
use crate::i18n::Tr;
use anchora_core::ErrorCode;
use anchora_core::adoption::{
    AdoptionBoard, Audience, Expectation, Expected, Measured, Metric, TeamTrend, UsageDay, UserAdoption, UserRow,
    Weakness,
};
use anchora_core::auth::{Permission, Role};
use anchora_core::identity::{Team, User};
use anchora_core::ids::TeamId;
use anchora_core::views::url_encode;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::{Duration, NaiveDate};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write;

type Pairs = Vec<(String, String)>;

/// One person as the adoption page lists them, every figure as shown.
pub struct PersonLine {
    pub id: String,
    pub href: String,
    pub name: String,
    pub team: String,
    pub score: String,
    pub access: String,
    pub process: String,
    pub quality: String,
    pub active_days: String,
    pub last_sign_in: String,
    pub last_active: String,
    /// The score of the trend's weeks as a small line (SVG), empty without any.
    pub trend: String,
    /// The rules they fall under, in words.
    pub weak: Vec<String>,
    pub weak_title: String,
    /// The open follow-up task of the support planned for them.
    pub support_href: Option<String>,
    /// Whether the caller may plan extra support for them (and none is planned).
    pub may_plan: bool,
}

/// The people the caller sees with what is expected of them, one column per figure anyone is
/// held to; those missing most first.
pub struct ExpectedBoard {
    pub figures: Vec<String>,
    pub rows: Vec<ExpectedRow>,
}

pub struct ExpectedRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub team: String,
    /// One per figure of the board, empty where nothing of that is expected of them.
    pub cells: Vec<Option<ExpectLine>>,
}

fn expected_board(tr: &Tr, users: &[UserRow]) -> ExpectedBoard {
    let figures: Vec<Expected> = Expected::ALL
        .into_iter()
        .filter(|e| users.iter().any(|u| u.expectations.iter().any(|m| m.metric == *e)))
        .collect();
    let mut rows: Vec<(usize, ExpectedRow)> = users
        .iter()
        .filter(|u| !u.expectations.is_empty())
        .map(|u| {
            let mut lines = expect_lines(tr, &u.expectations);
            let missed = lines.iter().filter(|x| !x.met).count();
            let cells = figures
                .iter()
                .map(|e| {
                    let i = lines.iter().position(|x| x.metric == *e)?;
                    Some(lines.swap_remove(i))
                })
                .collect();
            let row = ExpectedRow {
                id: u.user.to_string(),
                href: format!("/adoption/users/{}", u.user),
                name: u.name.clone(),
                team: team_name(tr, u),
                cells,
            };
            (missed, row)
        })
        .collect();
    // Those missing most first; otherwise the board's order (weakest first).
    rows.sort_by_key(|(missed, _)| std::cmp::Reverse(*missed));
    ExpectedBoard {
        figures: figures.iter().map(|e| expected_short(tr, *e)).collect(),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }
}

/// A team's (or the organisation's) score per trend week, as the table under the chart shows it.
pub struct TrendLine {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Template)]
#[template(path = "ui/adoption.html")]
struct AdoptionPage {
    shell: Shell,
    title: String,
    may_administer: bool,
    /// Whether the caller sets expectations (administrators, team leads).
    may_expect: bool,
    /// How the score is made, with the weights.
    about_score: String,
    /// Through which day the figures are counted, or that nothing is yet.
    counted: String,
    people_title: String,
    people: Vec<PersonLine>,
    expected: ExpectedBoard,
    weak: Vec<PersonLine>,
    teams_chart: String,
    weeks: Vec<String>,
    teams: Vec<TrendLine>,
    notice: Option<String>,
    error: Option<String>,
    /// The measuring this page was sent to watch.
    job: Option<super::jobs::JobPanel>,
}

/// A score (0–100) as a whole number; a dash for none.
fn score_text(locale: &str, score: Option<f64>) -> String {
    score.map_or_else(|| "–".to_string(), |s| format::number(locale, s.round(), 0))
}

fn count(n: i64) -> usize {
    usize::try_from(n.max(0)).unwrap_or(0)
}

/// A count as shown.
#[allow(clippy::cast_precision_loss)] // counts of days and records
fn whole(locale: &str, n: i64) -> String {
    format::number(locale, n as f64, 0)
}

/// Why someone counts as weak, in words.
pub fn weakness_text(tr: &Tr, w: &Weakness) -> String {
    match w {
        Weakness::NoSignIn { days: Some(days) } => tr.counted("adoption-weak-no-sign-in", count(*days), &[]),
        Weakness::NoSignIn { days: None } => tr.t("adoption-weak-never"),
        Weakness::BelowMedian { weeks } => tr.counted("adoption-weak-below", count(*weeks), &[]),
    }
}

/// How long ago someone last signed in: "Today", "3 days ago", "Never".
fn last_sign_in(tr: &Tr, days: Option<i64>) -> String {
    match days {
        Some(d) => tr.counted("adoption-days-ago", count(d), &[]),
        None => tr.t("adoption-never"),
    }
}

fn team_name(tr: &Tr, row: &UserRow) -> String {
    row.team_name.clone().unwrap_or_else(|| tr.t("adoption-no-team"))
}

/// The score week by week as a line 64 × 22 px on a fixed 0–100 scale (so two people's lines
/// compare), broken where a week has none; the newest week a dot. Empty without any score.
fn sparkline(label: &str, trend: &[Option<f64>]) -> String {
    const W: f64 = 64.0;
    const H: f64 = 22.0;
    const PAD: f64 = 3.0;
    let Some((last_i, last_v)) = trend.iter().enumerate().rev().find_map(|(i, v)| v.map(|v| (i, v))) else {
        return String::new();
    };
    #[allow(clippy::cast_precision_loss)] // eight weeks
    let x = |i: usize| {
        if trend.len() > 1 {
            PAD + (W - 2.0 * PAD) * i as f64 / (trend.len() - 1) as f64
        } else {
            W / 2.0
        }
    };
    let y = |v: f64| PAD + (H - 2.0 * PAD) * (1.0 - (v / 100.0).clamp(0.0, 1.0));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="report-chart spark" role="img" aria-label="{label}" viewBox="0 0 {W} {H}" width="{W}" height="{H}"><title>{label}</title><line class="grid" x1="{PAD}" x2="{right}" y1="{mid:.1}" y2="{mid:.1}"/><line class="grid" x1="{PAD}" x2="{right}" y1="{low:.1}" y2="{low:.1}"/><g class="series c0">"#,
        right = W - PAD,
        label = escape(label),
        mid = y(50.0),
        low = y(0.0)
    );
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, svg: &mut String| {
        if run.len() > 1 {
            let _ = write!(svg, r#"<polyline points="{}"/>"#, run.join(" "));
        }
        run.clear();
    };
    for (i, v) in trend.iter().enumerate() {
        match v {
            Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
            None => flush(&mut run, &mut svg),
        }
    }
    flush(&mut run, &mut svg);
    let _ = write!(
        svg,
        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5"/></g></svg>"#,
        x(last_i),
        y(last_v)
    );
    svg
}

/// The score of each trend week in words, for the sparkline's label.
fn trend_label(tr: &Tr, weeks: &[NaiveDate], trend: &[Option<f64>]) -> String {
    let values: Vec<String> = weeks
        .iter()
        .zip(trend)
        .map(|(w, v)| format!("{} {}", tr.date(*w), score_text(tr.locale, *v)))
        .collect();
    format!("{}: {}", tr.t("adoption-trend-label"), values.join(", "))
}

fn person_line(ui: &Ui, board_everyone: bool, weeks: &[NaiveDate], row: &UserRow) -> PersonLine {
    let tr = &ui.tr;
    let locale = tr.locale;
    let f = &row.scored.figures;
    let weak: Vec<String> = row.weak.iter().map(|w| weakness_text(tr, w)).collect();
    let me = ui.authed.principal.user_id;
    let may_write = ui.authed.principal.may(Permission::WriteRecords, &ui.schema.policy);
    PersonLine {
        id: row.user.to_string(),
        href: format!("/adoption/users/{}", row.user),
        name: row.name.clone(),
        team: team_name(tr, row),
        score: score_text(locale, row.scored.score),
        access: score_text(locale, row.scored.tiers.access),
        process: score_text(locale, row.scored.tiers.process),
        quality: score_text(locale, row.scored.tiers.quality),
        active_days: whole(locale, f.active_days),
        last_sign_in: last_sign_in(tr, f.days_since_sign_in),
        last_active: row.last_active.map_or_else(|| tr.t("adoption-never"), |d| tr.date(d)),
        trend: sparkline(&trend_label(tr, weeks, &row.trend), &row.trend),
        weak_title: weak.join(" · "),
        weak,
        support_href: row.support.map(|task| format!("/o/activity/{task}")),
        // Those who see others' figures lead their teams (or see everyone); one's own row is
        // left to them.
        may_plan: may_write && row.support.is_none() && (board_everyone || row.user != me),
    }
}

fn trend_name(tr: &Tr, t: &TeamTrend) -> String {
    if t.organisation {
        tr.t("adoption-organisation")
    } else {
        t.name.clone().unwrap_or_else(|| tr.t("adoption-no-team"))
    }
}

/// The teams' average scores week by week as lines; a team with a week without any score is
/// left out of the chart (and its legend), not drawn as a fall to nothing. The table below the
/// chart holds every figure.
fn teams_chart(tr: &Tr, weeks: &[String], teams: &[TeamTrend]) -> String {
    let plots: Vec<Plot> = teams
        .iter()
        .filter_map(|t| {
            let values: Option<Vec<f64>> = t.trend.iter().copied().collect();
            Some(Plot {
                name: trend_name(tr, t),
                values: values?,
            })
        })
        .collect();
    if plots.is_empty() {
        return String::new();
    }
    let locale = tr.locale;
    charts::lines(&tr.t("adoption-teams-title"), weeks, &plots, &|v| {
        format::number(locale, v.round(), 0)
    })
}

fn board_view(ui: &Ui, board: &AdoptionBoard) -> AdoptionPage {
    let tr = &ui.tr;
    let w = board.weights;
    let people: Vec<PersonLine> = board
        .users
        .iter()
        .map(|r| person_line(ui, board.everyone, &board.weeks, r))
        .collect();
    let weak = board
        .users
        .iter()
        .filter(|r| !r.weak.is_empty())
        .map(|r| person_line(ui, board.everyone, &board.weeks, r))
        .collect();
    let weeks: Vec<String> = board.weeks.iter().map(|d| tr.date(*d)).collect();
    AdoptionPage {
        shell: ui.shell("adoption"),
        title: tr.t("adoption-title"),
        may_administer: ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy),
        may_expect: board.everyone || !led_teams(board).is_empty(),
        about_score: tr.tn(
            "adoption-measured-score",
            &[
                ("access", w.access.to_string()),
                ("process", w.process.to_string()),
                ("quality", w.quality.to_string()),
            ],
        ),
        counted: match board.measured_through {
            Some(day) => tr.t1("adoption-counted-through", "date", tr.date(day)),
            None => tr.t("adoption-not-counted"),
        },
        people_title: tr.counted("adoption-people", people.len(), &[]),
        people,
        expected: expected_board(tr, &board.users),
        weak,
        teams_chart: teams_chart(tr, &weeks, &board.teams),
        teams: board
            .teams
            .iter()
            .map(|t| TrendLine {
                name: trend_name(tr, t),
                values: t.trend.iter().map(|v| score_text(tr.locale, *v)).collect(),
            })
            .collect(),
        weeks,
        notice: None,
        error: None,
        job: None,
    }
}

/// An error a redirect carried back (kept short; shown escaped).
fn carried_error(q: &[(String, String)]) -> Option<String> {
    Some(form_value(q, "error").chars().take(500).collect::<String>()).filter(|e| !e.is_empty())
}

/// After "plan extra support": whom the follow-up task went to, for the person planned for
/// (`planned`, one of `rows`) and the key user (`key`, empty when their team has none).
async fn planned_notice(ui: &Ui, rows: &[UserRow], q: &[(String, String)]) -> Option<String> {
    let planned = form_value(q, "planned");
    let row = rows
        .iter()
        .find(|r| !planned.is_empty() && r.user.to_string() == planned)?;
    let key = form_value(q, "key");
    if key.is_empty() {
        return Some(ui.tr.t1("adoption-planned-no-key-user", "user", row.name.clone()));
    }
    let users = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
    let key_user = users.into_iter().find(|u| u.id.to_string() == key)?;
    Some(ui.tr.tn(
        "adoption-planned-key-user",
        &[("user", row.name.clone()), ("key", key_user.name)],
    ))
}

/// `/adoption`: the people the caller may see, weakest first.
pub async fn adoption_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let board = ui.authed.crm.adoption_board(&ui.authed.principal).await.or_page(&ui)?;
    let mut page = board_view(&ui, &board);
    page.notice = planned_notice(&ui, &board.users, &q).await;
    page.error = carried_error(&q);
    page.job = super::jobs::watched(&ui, &q, "/adoption").await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A page's address with parameters added.
fn with(page: &str, params: &[(&str, &str)]) -> String {
    let mut out = page.to_string();
    for (k, v) in params {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(k);
        out.push('=');
        out.push_str(&url_encode(v));
    }
    out
}

/// Plan extra support for someone: a follow-up task, worded in the planner's language, for the
/// key user of their team; back to the page it was asked on, which names who got it.
pub async fn plan_support(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let back = match same_site_path(form_value(&form, "back")) {
        Some(b) if b.starts_with("/adoption") && !b.contains('?') => b.to_string(),
        _ => "/adoption".to_string(),
    };
    let person = crm.user(who, &id).await.or_page(&ui)?;
    let subject = ui.tr.t1("adoption-support-subject", "name", person.name);
    let planned = crm.plan_support(who, &id, json!({ "subject": subject })).await;
    let planned = planned.or_forbidden_else(&ui, |e| match e.code {
        ErrorCode::NotFound => super::not_found(&ui),
        _ => Redirect::to(&with(&back, &[("error", &super::admin::problem(&e))])).into_response(),
    })?;
    let key = planned.key_user.map(|k| k.to_string()).unwrap_or_default();
    Ok(Redirect::to(&with(&back, &[("planned", &id), ("key", &key)])).into_response())
}

/// Count usage now (administrators; the server does it every hour), as a job the page watches.
pub async fn measure(Posted { ui, .. }: Posted<Pairs>) -> PageResult {
    let started = ui
        .authed
        .crm
        .start_usage_measure(&ui.authed.principal, json!({ "from_scratch": false }))
        .await;
    let job = started.or_forbidden_else(&ui, |e| {
        Redirect::to(&with("/adoption", &[("error", &super::admin::problem(&e))])).into_response()
    })?;
    Ok(Redirect::to(&super::jobs::watching("/adoption", &job)).into_response())
}

/// One of a person's figures beside their team's median.
pub struct Against {
    pub label: String,
    pub theirs: String,
    pub median: String,
}

/// One trend week of a person's daily figures, summed.
pub struct WeekLine {
    pub label: String,
    pub figures: Vec<String>,
    pub active: String,
}

#[derive(Template)]
#[template(path = "ui/adoption_user.html")]
struct UserPage {
    shell: Shell,
    title: String,
    person: PersonLine,
    window: String,
    tiles: Vec<(String, String, &'static str)>,
    against: Vec<Against>,
    facts: Vec<(String, String)>,
    trend_chart: String,
    days_chart: String,
    metrics: Vec<String>,
    weeks: Vec<WeekLine>,
    /// What management expects of them against what they did.
    expected: Vec<ExpectLine>,
    notice: Option<String>,
    error: Option<String>,
}

/// The metrics as the day-by-day table's columns name them.
fn metric_label(tr: &Tr, m: Metric) -> String {
    tr.t(&format!("adoption-metric-{}", m.as_str().replace('_', "-")))
}

/// Each day's counts per metric, over `first..=last`.
fn per_day(days: &[UsageDay], first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, [i64; 5])> {
    let mut by_day: HashMap<NaiveDate, [i64; 5]> = HashMap::new();
    for d in days {
        if let Some(i) = Metric::ALL.iter().position(|m| *m == d.metric)
            && let Some(slot) = by_day.entry(d.day).or_default().get_mut(i)
        {
            *slot += d.n;
        }
    }
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        out.push((day, by_day.get(&day).copied().unwrap_or_default()));
        day += Duration::days(1);
    }
    out
}

/// The counts that are something done (all but sign-ins).
fn actions(counts: &[i64; 5]) -> i64 {
    counts.iter().skip(1).sum()
}

/// One bar per day for what was done (records created and changed, activities done, deals
/// moved), a dot under each day with a sign-in; the legend names only what is drawn. Empty
/// when nothing was counted.
fn days_chart(tr: &Tr, days: &[(NaiveDate, [i64; 5])]) -> String {
    const LEFT: f64 = 44.0;
    const SLOT: f64 = 11.0;
    const HEIGHT: f64 = 110.0;
    const TOP: f64 = 30.0;
    let max = days.iter().map(|(_, c)| actions(c)).max().unwrap_or(0);
    let signed = days.iter().any(|(_, c)| c.first().is_some_and(|n| *n > 0));
    if max == 0 && !signed {
        return String::new();
    }
    #[allow(clippy::cast_precision_loss)]
    let width = LEFT + SLOT * days.len() as f64 + 8.0;
    let dots = TOP + HEIGHT + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="report-chart lines days" role="img" aria-label="{}" viewBox="0 0 {width:.0} {:.0}" width="100%">"#,
        escape(&tr.t("adoption-day-by-day")),
        dots + 30.0
    );
    // The legend: what is drawn.
    let mut x = LEFT;
    if max > 0 {
        let name = tr.t("adoption-actions");
        let _ = write!(
            svg,
            r#"<g class="key"><rect class="c0" x="{x:.0}" y="6" width="12" height="12" rx="2"/><text class="label" x="{:.0}" y="16">{}</text></g>"#,
            x + 17.0,
            escape(&name)
        );
        #[allow(clippy::cast_precision_loss)]
        let w = 40.0 + 7.0 * name.chars().count() as f64;
        x += w;
    }
    if signed {
        let _ = write!(
            svg,
            r#"<g class="key"><circle class="c1" cx="{:.0}" cy="12" r="4"/><text class="label" x="{:.0}" y="16">{}</text></g>"#,
            x + 6.0,
            x + 17.0,
            escape(&tr.t("adoption-signed-in"))
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let top_value = max.max(1) as f64;
    let y = |v: f64| TOP + HEIGHT * (1.0 - v / top_value);
    for v in [0.0, top_value] {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{:.0}" y1="{y0:.1}" y2="{y0:.1}"/><text class="axis" x="{:.0}" y="{:.1}" text-anchor="end">{}</text>"#,
            width - 8.0,
            LEFT - 6.0,
            y(v) + 4.0,
            escape(&format::number(tr.locale, v, 0)),
            y0 = y(v)
        );
    }
    let metrics: Vec<String> = Metric::ALL.iter().map(|m| metric_label(tr, *m)).collect();
    for (i, (day, counts)) in days.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x0 = LEFT + SLOT * i as f64;
        let parts: Vec<String> = metrics
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(m, n)| format!("{m} {n}"))
            .collect();
        let tip = if parts.is_empty() {
            format!("{}: {}", tr.date(*day), tr.t("adoption-nothing"))
        } else {
            format!("{}: {}", tr.date(*day), parts.join(" · "))
        };
        let done = actions(counts);
        if done > 0 {
            #[allow(clippy::cast_precision_loss)]
            let top = y(done as f64);
            let _ = write!(
                svg,
                r#"<rect class="c0" x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
                x0 + 1.0,
                SLOT - 2.0,
                TOP + HEIGHT - top,
                escape(&tip)
            );
        }
        if counts.first().is_some_and(|n| *n > 0) {
            let _ = write!(
                svg,
                r#"<circle class="c1" cx="{:.1}" cy="{dots:.0}" r="3"><title>{}</title></circle>"#,
                x0 + SLOT / 2.0,
                escape(&tip)
            );
        }
        // The first day of every other week names its date.
        if i % 14 == 0 {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{x0:.1}" y="{:.0}">{}</text>"#,
                dots + 22.0,
                escape(&tr.date(*day))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Each trend week's sums per metric, and the days with anything counted.
fn week_lines(tr: &Tr, weeks: &[NaiveDate], days: &[(NaiveDate, [i64; 5])]) -> Vec<WeekLine> {
    weeks
        .iter()
        .map(|start| {
            let end = *start + Duration::days(6);
            let of_week: Vec<&[i64; 5]> = days
                .iter()
                .filter(|(d, _)| d >= start && *d <= end)
                .map(|(_, c)| c)
                .collect();
            let sums: Vec<String> = (0..Metric::ALL.len())
                .map(|m| whole(tr.locale, of_week.iter().filter_map(|c| c.get(m)).sum()))
                .collect();
            let active = of_week.iter().filter(|c| c.iter().any(|n| *n > 0)).count();
            WeekLine {
                label: tr.date(*start),
                figures: sums,
                active: whole(tr.locale, i64::try_from(active).unwrap_or(0)),
            }
        })
        .collect()
}

fn user_view(ui: &Ui, data: &UserAdoption) -> UserPage {
    let tr = &ui.tr;
    let locale = tr.locale;
    let row = &data.user;
    let f = &row.scored.figures;
    let median = |key: &str| {
        data.team_median
            .get(key)
            .map_or_else(String::new, |m| format::plain_number(locale, (m * 10.0).round() / 10.0))
    };
    let n = |v: i64| whole(locale, v);
    let against = [
        ("adoption-active-days", f.active_days, "active_days"),
        ("adoption-records", f.records, "records"),
        ("adoption-activities", f.activities, "activities"),
        ("adoption-deal-updates", f.deal_updates, "deal_updates"),
    ]
    .into_iter()
    .map(|(label, theirs, key)| Against {
        label: tr.t(label),
        theirs: n(theirs),
        median: median(key),
    })
    .collect();
    let share = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |s| format::share(locale, s));
    let facts = vec![
        (tr.t("adoption-last-sign-in"), last_sign_in(tr, f.days_since_sign_in)),
        (
            tr.t("adoption-last-active"),
            row.last_active.map_or_else(|| tr.t("adoption-never"), |d| tr.date(d)),
        ),
        (tr.t("adoption-data-quality"), share(f.quality)),
        (tr.t("adoption-stale"), share(f.stale_share)),
    ];
    let weeks: Vec<String> = data.weeks.iter().map(|d| tr.date(*d)).collect();
    let trend_chart = match row.trend.iter().copied().collect::<Option<Vec<f64>>>() {
        Some(values) if !values.is_empty() => charts::lines(
            &tr.t("adoption-score-by-week"),
            &weeks,
            &[Plot {
                name: tr.t("adoption-score"),
                values,
            }],
            &|v| format::number(locale, v.round(), 0),
        ),
        _ => String::new(),
    };
    let first = data.weeks.first().copied().unwrap_or(data.since);
    let days = per_day(&data.days, first, data.today);
    UserPage {
        shell: ui.shell("adoption"),
        title: row.name.clone(),
        person: person_line(
            ui,
            ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy),
            &data.weeks,
            row,
        ),
        window: tr.tn(
            "adoption-window",
            &[("from", tr.date(data.since)), ("to", tr.date(data.today))],
        ),
        tiles: vec![
            (tr.t("adoption-score"), score_text(locale, row.scored.score), "score"),
            (
                tr.t("adoption-access"),
                score_text(locale, row.scored.tiers.access),
                "access",
            ),
            (
                tr.t("adoption-process"),
                score_text(locale, row.scored.tiers.process),
                "process",
            ),
            (
                tr.t("adoption-quality"),
                score_text(locale, row.scored.tiers.quality),
                "quality",
            ),
        ],
        against,
        facts,
        trend_chart,
        days_chart: days_chart(tr, &days),
        metrics: Metric::ALL.iter().map(|m| metric_label(tr, *m)).collect(),
        weeks: week_lines(tr, &data.weeks, &days),
        expected: expect_lines(tr, &row.expectations),
        notice: None,
        error: None,
    }
}

/// `/adoption/users/{id}`: one person's figures, for themselves, the lead of their team and
/// administrators; anyone else gets the not-found page.
pub async fn user_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let data = ui
        .authed
        .crm
        .user_adoption(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let mut page = user_view(&ui, &data);
    page.notice = planned_notice(&ui, std::slice::from_ref(&data.user), &q).await;
    page.error = carried_error(&q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A number field of the settings form: its value as typed and its mistake.
pub struct SettingField {
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub min: u32,
    pub max: u32,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/adoption_settings.html")]
struct SettingsPage {
    shell: Shell,
    title: String,
    weights: Vec<SettingField>,
    rules: Vec<SettingField>,
    error: Option<String>,
    saved: bool,
}

/// (input name, label key, hint key, least, most, mistake key) of the weights, then the rules.
const WEIGHT_FIELDS: [(&str, &str, &str, u32, u32, &str); 3] = [
    (
        "access",
        "adoption-access",
        "adoption-access-hint",
        0,
        100,
        "adoption-weight-bad",
    ),
    (
        "process",
        "adoption-process",
        "adoption-process-hint",
        0,
        100,
        "adoption-weight-bad",
    ),
    (
        "quality",
        "adoption-quality",
        "adoption-quality-hint",
        0,
        100,
        "adoption-weight-bad",
    ),
];
const RULE_FIELDS: [(&str, &str, &str, u32, u32, &str); 2] = [
    (
        "no_sign_in_days",
        "adoption-rule-no-sign-in",
        "adoption-rule-no-sign-in-hint",
        1,
        365,
        "adoption-days-bad",
    ),
    (
        "below_half_weeks",
        "adoption-rule-below",
        "adoption-rule-below-hint",
        1,
        8,
        "adoption-weeks-bad",
    ),
];

fn setting_fields(
    tr: &Tr,
    spec: &[(&'static str, &str, &str, u32, u32, &str)],
    current: &serde_json::Value,
    typed: Option<&[(String, String)]>,
    errors: &HashMap<String, String>,
) -> Vec<SettingField> {
    spec.iter()
        .map(|(name, label, hint, min, max, _)| SettingField {
            name,
            label: tr.t(label),
            hint: tr.t(hint),
            value: match typed {
                Some(form) => form_value(form, name).to_string(),
                None => current.get(*name).map(ToString::to_string).unwrap_or_default(),
            },
            min: *min,
            max: *max,
            error: errors.get(*name).cloned(),
        })
        .collect()
}

/// The form as the weights and rules stand, or as typed with each mistake beside its field.
async fn settings_page(
    ui: &Ui,
    typed: Option<&[(String, String)]>,
    errors: &HashMap<String, String>,
) -> Result<SettingsPage, PageError> {
    let crm = &ui.authed.crm;
    let weights = crm.adoption_weights().await.or_page(ui)?;
    let rules = crm.adoption_rules().await.or_page(ui)?;
    let weights = serde_json::to_value(weights).unwrap_or_default();
    let rules = serde_json::to_value(rules).unwrap_or_default();
    Ok(SettingsPage {
        shell: ui.shell("adoption"),
        title: ui.tr.t("adoption-settings-title"),
        weights: setting_fields(&ui.tr, &WEIGHT_FIELDS, &weights, typed, errors),
        rules: setting_fields(&ui.tr, &RULE_FIELDS, &rules, typed, errors),
        error: None,
        saved: false,
    })
}

fn administrator(ui: &Ui) -> Result<(), PageError> {
    if ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy) {
        Ok(())
    } else {
        Err(PageError::forbidden(ui))
    }
}

/// `/adoption/settings`: how much each tier weighs and when someone needs extra support.
pub async fn settings_form(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    administrator(&ui)?;
    let mut page = settings_page(&ui, None, &HashMap::new()).await?;
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Read the form: every value a whole number in its range, at least one weight above 0; each
/// mistake named by its field. (weights, rules) as the use cases take them.
fn read_settings(
    tr: &Tr,
    form: &[(String, String)],
) -> (serde_json::Value, serde_json::Value, HashMap<String, String>) {
    let mut errors = HashMap::new();
    let mut read = |spec: &[(&'static str, &str, &str, u32, u32, &str)]| {
        let mut out = serde_json::Map::new();
        for (name, _, _, min, max, bad) in spec {
            match form_value(form, name).trim().parse::<u32>() {
                Ok(n) if (*min..=*max).contains(&n) => {
                    out.insert((*name).to_string(), json!(n));
                }
                _ => {
                    errors.insert((*name).to_string(), tr.t(bad));
                }
            }
        }
        serde_json::Value::Object(out)
    };
    let weights = read(&WEIGHT_FIELDS);
    let rules = read(&RULE_FIELDS);
    let all_zero = WEIGHT_FIELDS
        .iter()
        .all(|(name, ..)| weights.get(*name).and_then(serde_json::Value::as_u64) == Some(0));
    if all_zero {
        errors.insert("access".into(), tr.t("adoption-weights-zero"));
    }
    (weights, rules, errors)
}

pub async fn save_settings(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    administrator(&ui)?;
    let (weights, rules, mut errors) = read_settings(&ui.tr, &form);
    let mut failure = None;
    if errors.is_empty() {
        let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
        let saved = match crm.set_adoption_weights(who, weights).await.or_forbidden(&ui)? {
            Ok(_) => crm.set_adoption_rules(who, rules).await.or_forbidden(&ui)?.map(|_| ()),
            Err(e) => Err(e),
        };
        match saved {
            Ok(()) => return Ok(Redirect::to("/adoption/settings?saved=1").into_response()),
            Err(e) => {
                for f in &e.errors {
                    errors.insert(f.field.clone(), super::field_message(&ui.tr, &f.message));
                }
                failure = Some(super::admin::problem(&e));
            }
        }
    }
    let mut page = settings_page(&ui, Some(&form), &errors).await?;
    page.error = failure.or_else(|| Some(ui.tr.t("adoption-settings-mistakes")));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

/// An expectation against what someone did, as the pages say it.
pub struct ExpectLine {
    pub metric: Expected,
    /// "Activities: 2 of 3 this week (avg 2.5)".
    pub text: String,
    /// "2 of 3", for a table's cell under the figure's name.
    pub of: String,
    /// "avg 2.5".
    pub average: String,
    pub met: bool,
    /// "Met" or "Not met", beside the mark.
    pub mark: String,
    /// Whose it is: the team's or the role's.
    pub source: String,
}

/// A figure an expectation counts, short ("Activities").
fn expected_short(tr: &Tr, e: Expected) -> String {
    tr.t(&format!("adoption-expect-short-{}", e.as_str().replace('_', "-")))
}

/// A figure an expectation counts, in full ("Activities logged or done").
fn expected_label(tr: &Tr, e: Expected) -> String {
    tr.t(match e {
        Expected::ActiveDays => "adoption-active-days",
        Expected::Records => "adoption-records",
        Expected::Activities => "adoption-activities",
        Expected::DealUpdates => "adoption-deal-updates",
    })
}

/// Someone's expectations against their last seven days and their weekly average (the start
/// page shows one's own the same way).
pub fn expect_lines(tr: &Tr, measured: &[Measured]) -> Vec<ExpectLine> {
    measured
        .iter()
        .map(|m| {
            let args = [
                ("figure", expected_short(tr, m.metric)),
                ("done", whole(tr.locale, m.this_week)),
                ("expected", whole(tr.locale, i64::from(m.per_week))),
                (
                    "average",
                    format::plain_number(tr.locale, (m.average * 10.0).round() / 10.0),
                ),
            ];
            ExpectLine {
                metric: m.metric,
                text: tr.tn("adoption-expect-line", &args),
                of: tr.tn("adoption-expect-of", &args),
                average: tr.tn("adoption-expect-avg", &args),
                met: m.met,
                mark: tr.t(if m.met {
                    "adoption-expect-met"
                } else {
                    "adoption-expect-not-met"
                }),
                source: tr.t(if m.from_team {
                    "adoption-expect-from-team"
                } else {
                    "adoption-expect-from-role"
                }),
            }
        })
        .collect()
}

/// The teams the caller leads: those the board shows them whole (an administrator's are all).
fn led_teams(board: &AdoptionBoard) -> Vec<TeamId> {
    board
        .teams
        .iter()
        .filter(|t| !t.organisation)
        .filter_map(|t| t.team)
        .collect()
}

/// Whose expectations the caller sets: any (administrators) or their teams' (leads).
struct Rights {
    admin: bool,
    led: Vec<TeamId>,
}

impl Rights {
    fn may(&self, audience: Audience) -> bool {
        match audience {
            _ if self.admin => true,
            Audience::Team(t) => self.led.contains(&t),
            Audience::Role(_) => false,
        }
    }

    fn any(&self) -> bool {
        self.admin || !self.led.is_empty()
    }
}

async fn rights(ui: &Ui) -> Result<Rights, PageError> {
    let who = &ui.authed.principal;
    if who.role == Role::Admin {
        return Ok(Rights {
            admin: true,
            led: Vec::new(),
        });
    }
    let board = ui.authed.crm.adoption_board(who).await.or_page(ui)?;
    Ok(Rights {
        admin: false,
        led: led_teams(&board),
    })
}

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub on: bool,
}

/// An expectation as the list shows it.
pub struct ExpectationRow {
    pub id: String,
    pub who: String,
    pub figure: String,
    pub per_week: String,
    pub set_by: String,
    pub set_on: String,
    pub may_delete: bool,
}

#[derive(Template)]
#[template(path = "ui/adoption_expectations.html")]
struct ExpectationsPage {
    shell: Shell,
    title: String,
    rows: Vec<ExpectationRow>,
    may_set: bool,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    metrics: Vec<Choice>,
    per_week: String,
    max_per_week: u32,
    audience_error: Option<String>,
    metric_error: Option<String>,
    per_week_error: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

/// Whom an expectation is for, in words: "Role: User", "Team: North".
fn audience_text(tr: &Tr, audience: Audience, teams: &[Team]) -> String {
    match audience {
        Audience::Role(r) => tr.t1("adoption-expect-role", "role", tr.t(&format!("role-{}", r.as_str()))),
        Audience::Team(id) => {
            let name = teams
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| tr.t("adoption-expect-unknown"), |t| t.name.clone());
            tr.t1("adoption-expect-team", "team", name)
        }
    }
}

/// Roles in their order, then teams by name; each figure in its order.
fn audience_order(audience: Audience, teams: &[Team]) -> (usize, String) {
    match audience {
        Audience::Role(r) => (Role::ALL.iter().position(|x| *x == r).unwrap_or(0), String::new()),
        Audience::Team(id) => (
            Role::ALL.len(),
            teams
                .iter()
                .find(|t| t.id == id)
                .map_or_else(String::new, |t| t.name.to_lowercase()),
        ),
    }
}

fn expectation_rows(
    tr: &Tr,
    list: &[Expectation],
    teams: &[Team],
    users: &[User],
    rights: &Rights,
) -> Vec<ExpectationRow> {
    let mut list: Vec<&Expectation> = list.iter().collect();
    list.sort_by_cached_key(|e| (audience_order(e.audience, teams), e.metric));
    list.into_iter()
        .map(|e| ExpectationRow {
            id: e.id.to_string(),
            who: audience_text(tr, e.audience, teams),
            figure: expected_label(tr, e.metric),
            per_week: whole(tr.locale, i64::from(e.per_week)),
            set_by: users
                .iter()
                .find(|u| u.id == e.set_by)
                .map_or_else(|| tr.t("adoption-expect-unknown"), |u| u.name.clone()),
            set_on: tr.date(e.set_at.date_naive()),
            may_delete: rights.may(e.audience),
        })
        .collect()
}

/// The page as the expectations stand, and the form as typed (`typed`) or empty.
async fn expectations_page(ui: &Ui, typed: Option<&[(String, String)]>) -> Result<ExpectationsPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let tr = &ui.tr;
    let list = crm.expectations(who).await.or_page(ui)?;
    let all_teams = crm.teams(who).await.or_page(ui)?;
    let users = crm.users(who).await.unwrap_or_default();
    let rights = rights(ui).await?;
    // As typed; else everyone with the role User and activities, the usual first.
    let (audience, metric) = match typed {
        Some(form) => (form_value(form, "audience"), form_value(form, "metric")),
        None => ("role:user", "activities"),
    };
    let roles = if rights.admin {
        Role::ALL
            .iter()
            .map(|r| {
                let value = Audience::Role(*r).key();
                Choice {
                    on: value == audience,
                    label: tr.t(&format!("role-{}", r.as_str())),
                    value,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut teams: Vec<&Team> = all_teams.iter().filter(|t| rights.may(Audience::Team(t.id))).collect();
    teams.sort_by_cached_key(|t| t.name.to_lowercase());
    let teams = teams
        .into_iter()
        .map(|t| {
            let value = Audience::Team(t.id).key();
            Choice {
                on: value == audience,
                label: t.name.clone(),
                value,
            }
        })
        .collect();
    Ok(ExpectationsPage {
        shell: ui.shell("adoption"),
        title: tr.t("adoption-expect-title"),
        rows: expectation_rows(tr, &list, &all_teams, &users, &rights),
        may_set: rights.any(),
        roles,
        teams,
        metrics: Expected::ALL
            .iter()
            .map(|e| Choice {
                value: e.as_str().to_string(),
                label: expected_label(tr, *e),
                on: e.as_str() == metric,
            })
            .collect(),
        per_week: typed
            .map(|form| form_value(form, "per_week"))
            .unwrap_or_default()
            .to_string(),
        max_per_week: anchora_core::adoption::MAX_PER_WEEK,
        audience_error: None,
        metric_error: None,
        per_week_error: None,
        error: None,
        notice: None,
    })
}

/// `/adoption/expectations`: what is expected of whom, and (administrators, team leads) the
/// form that sets one.
pub async fn expectations(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let mut page = expectations_page(&ui, None).await?;
    page.notice = match form_value(&q, "done") {
        "saved" => Some(ui.tr.t("adoption-expect-saved")),
        "deleted" => Some(ui.tr.t("adoption-expect-deleted")),
        _ => None,
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The form's input a mistake belongs beside: the use case names `role` or `team` where the
/// form has one select for both.
fn expectation_input(field: &str) -> Option<&'static str> {
    match field {
        "role" | "team" => Some("audience"),
        "metric" => Some("metric"),
        "per_week" => Some("per_week"),
        _ => None,
    }
}

/// The form as the use case takes it: `role:user` → `{"role": "user"}`, `team:<id>` →
/// `{"team": "<id>"}`; else the inputs the use case cannot be asked with (no role or team
/// chosen, a per-week figure that is no whole number).
fn read_expectation(form: &[(String, String)]) -> Result<serde_json::Value, Vec<&'static str>> {
    let per_week = form_value(form, "per_week").trim().parse::<u32>().ok();
    let audience = match form_value(form, "audience").split_once(':') {
        Some((kind @ ("role" | "team"), value)) => Some((kind, value)),
        _ => None,
    };
    match (audience, per_week) {
        (Some((kind, value)), Some(per_week)) => {
            let mut body = serde_json::Map::new();
            body.insert(kind.to_string(), json!(value));
            body.insert("metric".into(), json!(form_value(form, "metric")));
            body.insert("per_week".into(), json!(per_week));
            Ok(serde_json::Value::Object(body))
        }
        (audience, per_week) => Err([
            audience.is_none().then_some("audience"),
            per_week.is_none().then_some("per_week"),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

pub async fn set_expectation(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let mut mistakes: Vec<&'static str> = Vec::new();
    let mut failure = None;
    match read_expectation(&form) {
        Err(inputs) => mistakes = inputs,
        Ok(body) => {
            let set = ui.authed.crm.set_expectation(&ui.authed.principal, body).await;
            match set.or_forbidden(&ui)? {
                Ok(_) => return Ok(Redirect::to("/adoption/expectations?done=saved").into_response()),
                Err(e) => {
                    mistakes.extend(e.errors.iter().filter_map(|f| expectation_input(&f.field)));
                    if mistakes.is_empty() {
                        failure = Some(super::admin::problem(&e));
                    }
                }
            }
        }
    }
    let mut page = expectations_page(&ui, Some(&form)).await?;
    let tr = &ui.tr;
    let said = |input: &str, key: &str| mistakes.contains(&input).then(|| tr.t(key));
    page.audience_error = said("audience", "adoption-expect-bad-audience");
    page.metric_error = said("metric", "adoption-expect-bad-metric");
    page.per_week_error = said("per_week", "adoption-expect-bad-per-week");
    page.error = failure.or_else(|| Some(tr.t("adoption-settings-mistakes")));
    Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
}

pub async fn delete_expectation(Path(id): Path<String>, Posted { ui, .. }: Posted<Pairs>) -> PageResult {
    (ui.authed.crm.delete_expectation(&ui.authed.principal, &id).await).or_page(&ui)?;
    Ok(Redirect::to("/adoption/expectations?done=deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_expectation_form_names_a_role_or_a_team_and_keeps_its_mistakes_by_input() {
        let body = read_expectation(&form(&[
            ("audience", "team:abc"),
            ("metric", "activities"),
            ("per_week", " 3 "),
        ]));
        assert_eq!(body, Ok(json!({"team": "abc", "metric": "activities", "per_week": 3})));
        let body = read_expectation(&form(&[("audience", "role:user"), ("per_week", "5000")]));
        assert_eq!(body, Ok(json!({"role": "user", "metric": "", "per_week": 5000})));
        assert_eq!(
            read_expectation(&form(&[("audience", "user"), ("per_week", "2,5")])),
            Err(vec!["audience", "per_week"])
        );
        assert_eq!(
            read_expectation(&form(&[("audience", "role:user"), ("per_week", "-1")])),
            Err(vec!["per_week"])
        );
        assert_eq!(expectation_input("team"), Some("audience"));
        assert_eq!(expectation_input("per_week"), Some("per_week"));
        assert_eq!(expectation_input("body"), None);
    }

    #[test]
    fn an_expectation_is_said_with_its_figures_and_whether_it_was_met() {
        let tr = Tr::new("en");
        let lines = expect_lines(
            &tr,
            &[Measured {
                metric: Expected::Activities,
                per_week: 3,
                from_team: true,
                this_week: 2,
                average: 2.46,
                met: false,
            }],
        );
        let line = lines.first().unwrap();
        assert_eq!(line.text, "Activities: 2 of 3 this week (avg 2.5)");
        assert_eq!((line.of.as_str(), line.average.as_str()), ("2 of 3", "avg 2.5"));
        assert_eq!(line.mark, "Not met");
        assert!(!line.met);
    }

    #[test]
    fn a_sparkline_breaks_where_a_week_has_no_score_and_dots_the_newest() {
        let svg = sparkline(
            "Score <8 weeks>",
            &[Some(0.0), Some(100.0), None, Some(50.0), Some(50.0)],
        );
        assert!(svg.contains("Score &lt;8 weeks&gt;"));
        // Two runs: the first two weeks, the last two; x from 3 to 61 in quarters.
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert!(svg.contains(r#"points="3.0,19.0 17.5,3.0""#), "{svg}");
        assert!(svg.contains(r#"<circle cx="61.0" cy="11.0""#), "{svg}");
        assert_eq!(sparkline("x", &[None, None]), "");
    }

    #[test]
    fn the_day_chart_names_only_what_it_draws() {
        let tr = Tr::new("en");
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let days: Vec<(NaiveDate, [i64; 5])> = (0..14)
            .map(|i| (first + Duration::days(i), if i == 3 { [1, 2, 0, 0, 0] } else { [0; 5] }))
            .collect();
        let svg = days_chart(&tr, &days);
        assert_eq!(svg.matches(r#"class="key""#).count(), 2, "{svg}");
        let only_signed: Vec<(NaiveDate, [i64; 5])> = vec![(first, [1, 0, 0, 0, 0])];
        let svg = days_chart(&tr, &only_signed);
        assert_eq!(svg.matches(r#"class="key""#).count(), 1, "{svg}");
        assert!(!svg.contains("<rect"), "{svg}");
        assert_eq!(days_chart(&tr, &[(first, [0; 5])]), "");
    }
}
