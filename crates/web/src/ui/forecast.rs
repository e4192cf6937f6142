//! The pipeline forecast page (issue 21, point 4): per month or quarter, the deals expected to
//! close by forecast category (closed, commit, best case, pipeline) with the weighted figure and
//! the quota; per owner for the current period; win rate, deal size, cycle length, the stage
//! funnel and close dates pushed over the last year; each past period's weekly forecasts against
//! what closed; and, for those who may set them, the quotas of the periods shown. The figures
//! are `Crm::forecast`'s; this file only words and draws them.

use super::charts::{self, Band, Mark};
use super::page_error::{OrPage, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, format, labels, same_site_path};
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::auth::{Permission, SchemaChange};
use anchora_core::forecast::{Forecast, ForecastParams, Quota};
use anchora_core::identity::{Team, User};
use anchora_core::number::{NumberFormat, normalise};
use anchora_core::period::Bucket;
use anchora_core::views::query_pairs;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use serde_json::json;

type Pairs = Vec<(String, String)>;

/// One option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

fn opt(value: impl Into<String>, label: String, on: bool) -> Opt {
    Opt {
        value: value.into(),
        label,
        on,
    }
}

/// A period's row of the table, every figure as shown.
pub struct PeriodLine {
    pub label: String,
    pub closed: String,
    pub commit: String,
    pub best_case: String,
    pub pipeline: String,
    pub weighted: String,
    pub quota: String,
    pub attainment: String,
    pub open_deals: String,
}

pub struct OwnerLine {
    pub name: String,
    pub closed: String,
    pub commit: String,
    pub best_case: String,
    pub pipeline: String,
    pub weighted: String,
    pub quota: String,
    pub attainment: String,
    pub won: String,
    pub lost: String,
    pub win_rate: String,
}

pub struct StepLine {
    pub stage: String,
    pub reached: String,
    pub to_next: String,
}

pub struct PushedLine {
    pub name: String,
    pub href: String,
    pub pushes: String,
}

pub struct AccuracyLine {
    pub period: String,
    pub taken_on: String,
    pub forecast: String,
    pub weighted: String,
    pub actual: String,
    pub error: String,
}

pub struct QuotaLine {
    pub id: String,
    pub whose: String,
    pub period: String,
    pub amount: String,
}

/// What the forecast shows once it ran.
pub struct Shown {
    pub chart: String,
    pub empty: bool,
    pub current: String,
    pub periods: Vec<PeriodLine>,
    pub owners: Vec<OwnerLine>,
    pub since: String,
    pub facts: Vec<(String, String)>,
    pub funnel: String,
    pub steps: Vec<StepLine>,
    pub pushed: Vec<PushedLine>,
    pub accuracy: Vec<AccuracyLine>,
    pub quotas: Vec<QuotaLine>,
    /// The quota form's choices (for those who may set quotas).
    pub quota_targets: Vec<Opt>,
    pub quota_periods: Vec<Opt>,
    pub quota_currencies: Vec<Opt>,
    pub bucket: String,
}

#[derive(Template)]
#[template(path = "ui/forecast.html")]
struct ForecastPage {
    shell: Shell,
    title: String,
    buckets: Vec<Opt>,
    periods: Vec<Opt>,
    teams: Vec<Opt>,
    owners: Vec<Opt>,
    everyone: bool,
    errors: Vec<String>,
    notice: Option<String>,
    warning: Option<String>,
    may_set: bool,
    back: String,
    shown: Option<Shown>,
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> &'a str {
    q.iter().find(|(key, _)| key == k).map_or("", |(_, v)| v.as_str())
}

/// The forecast's parameters from the page's query: the form's `whose` (`team:…`, `owner:…`)
/// stands for `team` or `owner`, which links may also name themselves.
fn asked(q: &[(String, String)]) -> Pairs {
    // What the form left empty is not asked.
    let mut out: Pairs = q
        .iter()
        .filter(|(k, v)| k != "whose" && !v.is_empty())
        .cloned()
        .collect();
    if let Some((kind, id)) = get(q, "whose").split_once(':') {
        out.push((kind.to_string(), id.to_string()));
    }
    out
}

/// `/forecast`: the forecast the query asks for.
pub async fn forecast_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let back = ui.path.clone();
    show(&ui, &q, &back, None).await
}

/// The page for a query; a refused query (or a forecast that cannot be made) says why on it.
async fn show(ui: &Ui, q: &[(String, String)], back: &str, notice: Option<String>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let params = ForecastParams::from_pairs(&asked(q));
    let outcome = match &params {
        Ok(p) => crm.forecast(who, p).await.or_forbidden(ui)?,
        Err(e) => Err(e.clone()),
    };
    let users = crm.users(who).await.unwrap_or_default();
    let teams = crm.teams(who).await.unwrap_or_default();
    let mut page = controls_view(ui, q, &users, &teams, back, notice);
    match (params, outcome) {
        (Ok(p), Ok(f)) => {
            let quotas = quotas_of(ui, &f, p.bucket).await;
            let currencies = crm.currency_settings_for(who).await.map(|c| {
                let mut all: Vec<String> = c.rates.into_keys().collect();
                all.push(c.reporting);
                all
            });
            page.warning = warning_view(&ui.tr, &f);
            page.shown = Some(forecast_view(
                ui,
                &f,
                &quotas,
                &users,
                &teams,
                &currencies.unwrap_or_default(),
            ));
        }
        (_, Err(e)) | (Err(e), _) => page.errors = mistakes_view(&ui.tr, &e),
    }
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The quotas of the periods a forecast shows (none when they cannot be read).
async fn quotas_of(ui: &Ui, f: &Forecast, bucket: Bucket) -> Vec<Quota> {
    let (Some(first), Some(last)) = (f.periods.first(), f.periods.last()) else {
        return Vec::new();
    };
    let pairs = [
        ("bucket", bucket.as_str().to_string()),
        ("from", first.start.to_string()),
        ("to", bucket.step(last.start, 1).to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    (ui.authed.crm.quotas_asked(&ui.authed.principal, &pairs).await).unwrap_or_default()
}

/// The controls as the query set them (kept as asked, even when wrong).
fn controls_view(
    ui: &Ui,
    q: &[(String, String)],
    users: &[User],
    teams: &[Team],
    back: &str,
    notice: Option<String>,
) -> ForecastPage {
    let tr = &ui.tr;
    let bucket = match get(q, "bucket") {
        "" => "quarter",
        b => b,
    };
    let periods = match get(q, "periods") {
        "" => "4",
        n => n,
    };
    let whose = match (get(q, "whose"), get(q, "team"), get(q, "owner")) {
        ("", "", "") => String::new(),
        ("", "", o) => format!("owner:{o}"),
        ("", t, _) => format!("team:{t}"),
        (w, _, _) => w.to_string(),
    };
    ForecastPage {
        buckets: ["month", "quarter"]
            .into_iter()
            .map(|b| opt(b, tr.t(&format!("forecast-by-{b}")), b == bucket))
            .collect(),
        periods: (1..=8)
            .map(|n: u32| opt(n.to_string(), n.to_string(), n.to_string() == periods))
            .collect(),
        teams: teams
            .iter()
            .map(|t| {
                let v = format!("team:{}", t.id);
                let on = v == whose;
                opt(v, t.name.clone(), on)
            })
            .collect(),
        owners: users
            .iter()
            .filter(|u| u.active || format!("owner:{}", u.id) == whose)
            .map(|u| {
                let v = format!("owner:{}", u.id);
                let on = v == whose;
                opt(v, u.name.clone(), on)
            })
            .collect(),
        everyone: whose.is_empty(),
        errors: Vec::new(),
        notice,
        warning: None,
        may_set: ui
            .authed
            .principal
            .may(Permission::ChangeSchema(SchemaChange::SharedViews), &ui.schema.policy),
        back: back.to_string(),
        shown: None,
        title: tr.t("forecast-title"),
        shell: ui.shell("forecast"),
    }
}

/// A refused forecast, each mistake by its control.
fn mistakes_view(tr: &Tr, e: &Error) -> Vec<String> {
    if e.errors.is_empty() {
        return vec![super::field_message(tr, &e.detail)];
    }
    e.errors
        .iter()
        .map(|f| {
            let key = match f.field.as_str() {
                "team" if f.message.contains("not both") => "forecast-bad-both".to_string(),
                "bucket" | "periods" | "owner" | "team" => format!("forecast-bad-{}", f.field),
                _ => return super::field_message(tr, &f.message),
            };
            tr.t(&key)
        })
        .collect()
}

fn warning_view(tr: &Tr, f: &Forecast) -> Option<String> {
    (!f.without_rate.is_empty()).then(|| {
        tr.tn(
            "forecast-without-rate",
            &[
                ("currencies", f.without_rate.join(", ")),
                ("currency", f.currency.clone()),
            ],
        )
    })
}

/// How the page writes its figures.
struct Words<'a> {
    tr: &'a Tr,
    currency: &'a str,
}

impl Words<'_> {
    fn money(&self, minor: f64) -> String {
        #[allow(clippy::cast_possible_truncation)]
        format::money(self.tr.locale, minor.round() as i64, Some(self.currency))
    }

    fn maybe_money(&self, minor: Option<f64>) -> String {
        minor.map_or_else(|| "–".into(), |m| self.money(m))
    }

    fn share(&self, share: Option<f64>) -> String {
        share.map_or_else(|| "–".into(), |s| format::share(self.tr.locale, s))
    }

    fn count(&self, n: i64) -> String {
        #[allow(clippy::cast_precision_loss)]
        format::number(self.tr.locale, n as f64, 0)
    }

    fn period(&self, bucket: Bucket, start: NaiveDate) -> String {
        match bucket {
            Bucket::Month => format::month(self.tr.locale, start),
            other => other.key(start),
        }
    }
}

/// The forecast as the page shows it.
fn forecast_view(
    ui: &Ui,
    f: &Forecast,
    quotas: &[Quota],
    users: &[User],
    teams: &[Team],
    currencies: &[String],
) -> Shown {
    let tr = &ui.tr;
    let w = Words {
        tr,
        currency: &f.currency,
    };
    let periods: Vec<PeriodLine> = f
        .periods
        .iter()
        .map(|p| PeriodLine {
            label: w.period(f.bucket, p.start),
            closed: w.money(p.amounts.closed),
            commit: w.money(p.amounts.commit),
            best_case: w.money(p.amounts.best_case),
            pipeline: w.money(p.amounts.pipeline),
            weighted: w.money(p.amounts.weighted),
            quota: w.maybe_money(p.quota),
            attainment: w.share(p.attainment),
            open_deals: w.count(p.amounts.open_deals),
        })
        .collect();
    let owners = f
        .owners
        .iter()
        .map(|o| OwnerLine {
            name: o.name.clone(),
            closed: w.money(o.amounts.closed),
            commit: w.money(o.amounts.commit),
            best_case: w.money(o.amounts.best_case),
            pipeline: w.money(o.amounts.pipeline),
            weighted: w.money(o.amounts.weighted),
            quota: w.maybe_money(o.quota),
            attainment: w.share(o.attainment),
            won: w.count(o.won),
            lost: w.count(o.lost),
            win_rate: w.share(o.win_rate),
        })
        .collect();
    let empty = f.periods.iter().all(|p| {
        p.amounts.closed + p.amounts.commit + p.amounts.best_case + p.amounts.pipeline <= 0.0 && p.quota.is_none()
    });
    let (funnel, steps) = funnel_view(ui, f, &w);
    Shown {
        chart: if empty { String::new() } else { chart_view(f, &w) },
        empty,
        current: f
            .periods
            .first()
            .map(|p| w.period(f.bucket, p.start))
            .unwrap_or_default(),
        periods,
        owners,
        since: format::date(tr.tag, f.history_from),
        facts: facts_view(f, &w),
        funnel,
        steps,
        pushed: f
            .pushed
            .iter()
            .map(|p| PushedLine {
                name: p.name.clone(),
                href: format!("/o/deal/{}", p.record),
                pushes: tr.t1("forecast-pushes", "count", p.pushes),
            })
            .collect(),
        accuracy: f
            .accuracy
            .iter()
            .map(|a| AccuracyLine {
                period: w.period(f.bucket, a.period_start),
                taken_on: format::date(tr.tag, a.taken_on),
                forecast: w.money(a.forecast),
                weighted: w.money(a.weighted),
                actual: w.money(a.actual),
                error: a.error.map_or_else(
                    || "–".into(),
                    |e| {
                        let text = format::share(tr.locale, e);
                        if e > 0.0 { format!("+{text}") } else { text }
                    },
                ),
            })
            .collect(),
        quotas: quota_lines_view(f, quotas, users, teams, &w),
        quota_targets: users
            .iter()
            .filter(|u| u.active)
            .map(|u| opt(format!("user:{}", u.id), u.name.clone(), false))
            .chain(teams.iter().map(|t| {
                opt(
                    format!("team:{}", t.id),
                    tr.t1("forecast-team", "name", t.name.clone()),
                    false,
                )
            }))
            .collect(),
        quota_periods: f
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| opt(p.start.to_string(), w.period(f.bucket, p.start), i == 0))
            .collect(),
        quota_currencies: {
            let mut all = currencies.to_vec();
            all.sort();
            all.dedup();
            all.into_iter()
                .map(|c| {
                    let on = c == f.currency;
                    opt(c.clone(), c, on)
                })
                .collect()
        },
        bucket: f.bucket.as_str().to_string(),
    }
}

/// The stacked bars per period: closed, commit, best case, pipeline (each its colour and
/// pattern), the weighted figure and the quota marked across them.
fn chart_view(f: &Forecast, w: &Words) -> String {
    let tr = w.tr;
    let band = |key: &str,
                colour: usize,
                pattern: Option<&'static str>,
                pick: &dyn Fn(&anchora_core::forecast::PeriodRow) -> f64| Band {
        name: tr.t(key),
        colour,
        pattern,
        values: f.periods.iter().map(pick).collect(),
        texts: f.periods.iter().map(|p| w.money(pick(p))).collect(),
    };
    let bands = [
        band("forecast-closed", 2, None, &|p| p.amounts.closed),
        band("forecast-commit", 0, Some("hatch"), &|p| p.amounts.commit),
        band("forecast-best-case", 1, Some("dots"), &|p| p.amounts.best_case),
        band("forecast-pipeline", 7, Some("cross"), &|p| p.amounts.pipeline),
    ];
    let marks = [
        Mark {
            name: tr.t("forecast-weighted"),
            class: "mark weighted",
            values: f
                .periods
                .iter()
                .map(|p| Some(p.amounts.weighted).filter(|v| *v > 0.0))
                .collect(),
            texts: f.periods.iter().map(|p| w.money(p.amounts.weighted)).collect(),
        },
        Mark {
            name: tr.t("forecast-quota"),
            class: "mark quota",
            values: f.periods.iter().map(|p| p.quota).collect(),
            texts: f.periods.iter().map(|p| w.maybe_money(p.quota)).collect(),
        },
    ];
    let rows: Vec<String> = f.periods.iter().map(|p| w.period(f.bucket, p.start)).collect();
    let totals: Vec<String> = f
        .periods
        .iter()
        .map(|p| w.money(p.amounts.closed + p.amounts.commit + p.amounts.best_case + p.amounts.pipeline))
        .collect();
    charts::marked_bars(&tr.t("forecast-chart"), &rows, &bands, &marks, &totals)
}

fn facts_view(f: &Forecast, w: &Words) -> Vec<(String, String)> {
    let tr = w.tr;
    vec![
        (tr.t("forecast-win-rate"), w.share(f.win_rate)),
        (tr.t("forecast-won"), w.count(f.won)),
        (tr.t("forecast-lost"), w.count(f.lost)),
        (tr.t("forecast-average-deal"), w.maybe_money(f.average_deal_size)),
        (
            tr.t("forecast-cycle"),
            f.sales_cycle_days.map_or_else(
                || "–".into(),
                |d| tr.t1("forecast-days", "count", format::number(tr.locale, d, 1)),
            ),
        ),
    ]
}

/// The stage funnel as a chart (each stage's deals, the share that went on) and as a table.
fn funnel_view(ui: &Ui, f: &Forecast, w: &Words) -> (String, Vec<StepLine>) {
    let tr = w.tr;
    let deal = ui.object("deal");
    let stage = deal.as_ref().and_then(|d| d.field("stage").cloned());
    let label = |s: &str| match (&deal, &stage) {
        (Some(d), Some(field)) => labels::choice(tr, d, field, s),
        _ => s.to_string(),
    };
    #[allow(clippy::cast_precision_loss)]
    let bars: Vec<(String, f64, String)> = f
        .funnel
        .iter()
        .map(|s| {
            let text = match s.to_next {
                Some(share) => format!("{} · {} →", w.count(s.reached), format::share(tr.locale, share)),
                None => w.count(s.reached),
            };
            (label(&s.stage), s.reached as f64, text)
        })
        .collect();
    let chart = if f.funnel.iter().any(|s| s.reached > 0) {
        charts::funnel(&tr.t("forecast-funnel"), &bars)
    } else {
        String::new()
    };
    let steps = f
        .funnel
        .iter()
        .map(|s| StepLine {
            stage: label(&s.stage),
            reached: w.count(s.reached),
            to_next: w.share(s.to_next),
        })
        .collect();
    (chart, steps)
}

fn quota_lines_view(f: &Forecast, quotas: &[Quota], users: &[User], teams: &[Team], w: &Words) -> Vec<QuotaLine> {
    quotas
        .iter()
        .map(|q| {
            let whose = match (q.user, q.team) {
                (Some(u), _) => users.iter().find(|x| x.id == u).map(|x| x.name.clone()),
                (None, Some(t)) => teams
                    .iter()
                    .find(|x| x.id == t)
                    .map(|x| w.tr.t1("forecast-team", "name", x.name.clone())),
                (None, None) => None,
            };
            QuotaLine {
                id: q.id.to_string(),
                whose: whose.unwrap_or_default(),
                period: w.period(f.bucket, q.period_start),
                amount: format::money(w.tr.locale, q.amount, Some(&q.currency)),
            }
        })
        .collect()
}

/// Where a quota form returns: the forecast it was sent from, else the forecast.
fn back_of(back: &str) -> String {
    same_site_path(back)
        .filter(|b| *b == "/forecast" || b.starts_with("/forecast?"))
        .unwrap_or("/forecast")
        .to_string()
}

fn query_of(back: &str) -> Pairs {
    back.split_once('?').map(|(_, q)| query_pairs(q)).unwrap_or_default()
}

/// The quota form's fields.
#[derive(serde::Deserialize)]
pub struct QuotaForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    period_start: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    back: String,
}

/// Set a quota, back to the forecast it was set from; a refusal shows that forecast with why.
pub async fn set_quota(Posted { ui, form }: Posted<QuotaForm>) -> PageResult {
    let back = back_of(&form.back);
    // "250 000,50" as the reader's language writes it, "250000.50" as the quota takes it.
    let amount = normalise(&form.amount, NumberFormat::of_locale(ui.tr.locale))
        .unwrap_or_else(|| form.amount.trim().to_string());
    let (user, team) = match form.target.split_once(':') {
        Some(("user", id)) => (Some(id), None),
        Some(("team", id)) => (None, Some(id)),
        _ => (None, None),
    };
    let body = json!({"user": user, "team": team, "bucket": form.bucket, "period_start": form.period_start,
        "amount": amount, "currency": form.currency.trim().to_uppercase()});
    match (ui.authed.crm.set_quota(&ui.authed.principal, body).await).or_forbidden(&ui)? {
        Ok(_) => Ok(Redirect::to(&back).into_response()),
        Err(e) => show(&ui, &query_of(&back), &back, Some(quota_refusal(&ui.tr, &e))).await,
    }
}

fn quota_refusal(tr: &Tr, e: &Error) -> String {
    match e.errors.first() {
        Some(f) if ["user", "team", "period_start", "amount", "currency", "bucket"].contains(&f.field.as_str()) => {
            tr.t(&format!("forecast-quota-bad-{}", f.field.replace('_', "-")))
        }
        Some(f) => super::field_message(tr, &f.message),
        None => tr.t("forecast-quota-bad-form"),
    }
}

#[derive(serde::Deserialize)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

/// Delete a quota, back to the forecast.
pub async fn delete_quota(Path(id): Path<String>, Posted { ui, form }: Posted<BackForm>) -> PageResult {
    (ui.authed.crm.delete_quota(&ui.authed.principal, &id).await).or_page(&ui)?;
    Ok(Redirect::to(&back_of(&form.back)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whose_control_names_an_owner_or_a_team_and_returns_stay_on_the_forecast() {
        let q = vec![
            ("whose".to_string(), "team:abc".to_string()),
            ("bucket".to_string(), "month".to_string()),
        ];
        assert_eq!(
            asked(&q),
            vec![
                ("bucket".to_string(), "month".to_string()),
                ("team".to_string(), "abc".to_string())
            ]
        );
        assert_eq!(back_of("/forecast?bucket=month"), "/forecast?bucket=month");
        assert_eq!(back_of("//evil.example"), "/forecast");
        assert_eq!(back_of("/admin/users"), "/forecast");
        assert_eq!(
            query_of("/forecast?periods=2"),
            vec![("periods".to_string(), "2".to_string())]
        );
    }
}
