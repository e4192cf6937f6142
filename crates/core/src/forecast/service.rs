//! The forecast's use cases: the forecast page's figures for a reader (only deals they may
//! see), quotas, and the weekly snapshot job.

use super::{Category, Quota, SnapshotRow, StageChange, category_of, default_probability};
use crate::auth::{Permission, Principal, SchemaChange};
use crate::currency::CurrencySettings;
use crate::error::{Error, FieldError, Result};
use crate::filter::{ColumnRef, Compare, Condition};
use crate::ids::{RecordId, TeamId, UserId};
use crate::meta::{FieldDef, FieldType, ObjectDef, system_field};
use crate::period::Bucket;
use crate::reports::{GroupKey, ReportQuery};
use crate::service::Crm;
use crate::value::Value;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How far back win rates, the funnel, deal sizes and cycle lengths look.
const HISTORY_DAYS: i64 = 365;
/// Deals whose close date moved most, shown.
const MOST_PUSHED: usize = 10;

/// What the forecast page asks: by month or quarter, how many periods from the current one,
/// and whose deals (one owner, one team, or everyone the reader may see).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastParams {
    pub bucket: Bucket,
    pub periods: u32,
    pub owner: Option<UserId>,
    pub team: Option<TeamId>,
}

impl Default for ForecastParams {
    fn default() -> Self {
        Self {
            bucket: Bucket::Quarter,
            periods: 4,
            owner: None,
            team: None,
        }
    }
}

impl ForecastParams {
    /// From a query string's pairs; each mistake named by its parameter (an empty value is
    /// one: a page drops what its form left empty before asking).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self> {
        let mut p = Self::default();
        let mut errors = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "bucket" => match Bucket::parse(value).filter(|b| matches!(b, Bucket::Month | Bucket::Quarter)) {
                    Some(b) => p.bucket = b,
                    None => errors.push(FieldError::new("bucket", "must be month or quarter")),
                },
                "periods" => match value.parse::<u32>().ok().filter(|n| (1..=8).contains(n)) {
                    Some(n) => p.periods = n,
                    None => errors.push(FieldError::new("periods", "must be a whole number from 1 to 8")),
                },
                "owner" => match UserId::parse(value) {
                    Some(u) => p.owner = Some(u),
                    None => errors.push(FieldError::new("owner", "must be a user's id")),
                },
                "team" => match TeamId::parse(value) {
                    Some(t) => p.team = Some(t),
                    None => errors.push(FieldError::new("team", "must be a team's id")),
                },
                _ => {}
            }
        }
        if p.owner.is_some() && p.team.is_some() {
            errors.push(FieldError::new("team", "ask for one owner or one team, not both"));
        }
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(Error::validation(errors))
        }
    }
}

/// Money in minor units of the reporting currency, per category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Amounts {
    pub closed: f64,
    pub commit: f64,
    pub best_case: f64,
    pub pipeline: f64,
    pub omitted: f64,
    /// Open deals' amounts times their probability (a stage's when the deal names none).
    pub weighted: f64,
    pub open_deals: i64,
}

impl Amounts {
    fn add(&mut self, o: &Amounts) {
        self.closed += o.closed;
        self.commit += o.commit;
        self.best_case += o.best_case;
        self.pipeline += o.pipeline;
        self.omitted += o.omitted;
        self.weighted += o.weighted;
        self.open_deals += o.open_deals;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodRow {
    pub start: NaiveDate,
    /// `2026-Q4`, `2026-11`.
    pub key: String,
    #[serde(flatten)]
    pub amounts: Amounts,
    pub quota: Option<f64>,
    /// Closed against quota (1.0 is the quota met).
    pub attainment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerRow {
    pub owner: UserId,
    pub name: String,
    /// The current period.
    #[serde(flatten)]
    pub amounts: Amounts,
    pub quota: Option<f64>,
    pub attainment: Option<f64>,
    /// Over the history window.
    pub won: i64,
    pub lost: i64,
    pub win_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStep {
    pub stage: String,
    /// Deals made in the history window that reached this stage (or a later one).
    pub reached: i64,
    /// Of those, the share that reached the next stage.
    pub to_next: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pushed {
    pub record: RecordId,
    pub name: String,
    pub pushes: i64,
}

/// A past period's forecast as one week saw it, against what closed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub period_start: NaiveDate,
    pub key: String,
    pub taken_on: NaiveDate,
    /// Closed plus commit when the snapshot was taken.
    pub forecast: f64,
    pub weighted: f64,
    /// Won in the period, as it stands now.
    pub actual: f64,
    /// (forecast − actual) / actual.
    pub error: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub bucket: Bucket,
    pub currency: String,
    pub without_rate: Vec<String>,
    pub periods: Vec<PeriodRow>,
    pub owners: Vec<OwnerRow>,
    pub history_from: NaiveDate,
    pub won: i64,
    pub lost: i64,
    pub win_rate: Option<f64>,
    pub funnel: Vec<FunnelStep>,
    pub average_deal_size: Option<f64>,
    pub sales_cycle_days: Option<f64>,
    pub pushed: Vec<Pushed>,
    pub accuracy: Vec<Accuracy>,
}

/// The deal fields a forecast reads.
struct DealFields {
    object: ObjectDef,
    stage: FieldDef,
    amount: FieldDef,
    close: FieldDef,
    currency: Option<FieldDef>,
    probability: Option<FieldDef>,
    category: Option<FieldDef>,
}

fn deal_fields(object: &ObjectDef) -> Result<DealFields> {
    let typed = |name: &str, t: FieldType| object.field(name).filter(|f| f.field_type == t).cloned();
    let missing = |name: &str| {
        Error::new(
            crate::error::ErrorCode::UnknownObject,
            format!("deals have no {name} field to forecast with"),
        )
    };
    Ok(DealFields {
        object: object.clone(),
        stage: typed("stage", FieldType::Select).ok_or_else(|| missing("stage"))?,
        amount: typed("amount", FieldType::Money).ok_or_else(|| missing("amount"))?,
        close: typed("expected_close", FieldType::Date).ok_or_else(|| missing("expected_close"))?,
        currency: typed("currency", FieldType::Select),
        probability: typed("probability", FieldType::Percent),
        category: typed("forecast_category", FieldType::Select),
    })
}

fn range(field: &FieldDef, from: NaiveDate, to: NaiveDate) -> Condition {
    let column = ColumnRef::of(field);
    Condition::And(vec![
        Condition::Compare {
            column: column.clone(),
            cmp: Compare::Gte,
            value: Value::Date(from),
        },
        Condition::Compare {
            column,
            cmp: Compare::Lt,
            value: Value::Date(to),
        },
    ])
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Select(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The pipeline per month of expected close, stage, owner, currency and category.
fn pipeline_query(deals: &DealFields, owners: Option<Vec<UserId>>, from: NaiveDate, to: NaiveDate) -> ReportQuery {
    let mut keys = vec![
        GroupKey::Month(deals.close.clone()),
        GroupKey::Column(deals.stage.clone()),
    ];
    let owner = system_field("owner").unwrap_or_else(|| FieldDef::new("owner", "Owner", FieldType::User));
    keys.push(GroupKey::Column(owner));
    for f in [&deals.currency, &deals.category].into_iter().flatten() {
        keys.push(GroupKey::Column(f.clone()));
    }
    ReportQuery {
        filter: Some(range(&deals.close, from, to)),
        owners,
        keys,
        measure: Some(deals.amount.clone()),
        weight: deals.probability.clone(),
    }
}

/// Live deals made since a moment, per current stage and owner.
fn made_query(deals: &DealFields, owners: Option<Vec<UserId>>, since: DateTime<Utc>) -> ReportQuery {
    let created =
        system_field("created_at").unwrap_or_else(|| FieldDef::new("created_at", "Created", FieldType::Datetime));
    let owner = system_field("owner").unwrap_or_else(|| FieldDef::new("owner", "Owner", FieldType::User));
    ReportQuery {
        filter: Some(Condition::Compare {
            column: ColumnRef::of(&created),
            cmp: Compare::Gte,
            value: Value::DateTime(since),
        }),
        owners,
        keys: vec![GroupKey::Column(deals.stage.clone()), GroupKey::Column(owner)],
        measure: None,
        weight: None,
    }
}

/// Won deals closing from a day through today, per currency.
fn won_query(deals: &DealFields, owners: Option<Vec<UserId>>, from: NaiveDate, today: NaiveDate) -> ReportQuery {
    let won = Condition::Compare {
        column: ColumnRef::of(&deals.stage),
        cmp: Compare::Eq,
        value: Value::Select("won".into()),
    };
    let to = today.succ_opt().unwrap_or(today);
    ReportQuery {
        filter: Some(Condition::And(vec![won, range(&deals.close, from, to)])),
        owners,
        keys: deals.currency.iter().cloned().map(GroupKey::Column).collect(),
        measure: Some(deals.amount.clone()),
        weight: None,
    }
}

/// Won deals per month of their close and currency, closing in `[from, to)`.
fn closed_query(deals: &DealFields, owners: Option<Vec<UserId>>, from: NaiveDate, to: NaiveDate) -> ReportQuery {
    let won = Condition::Compare {
        column: ColumnRef::of(&deals.stage),
        cmp: Compare::Eq,
        value: Value::Select("won".into()),
    };
    let mut keys = vec![GroupKey::Month(deals.close.clone())];
    keys.extend(deals.currency.iter().cloned().map(GroupKey::Column));
    ReportQuery {
        filter: Some(Condition::And(vec![won, range(&deals.close, from, to)])),
        owners,
        keys,
        measure: Some(deals.amount.clone()),
        weight: None,
    }
}

/// The countings the forecast page asks of the store, by their shape (the days are any):
/// kept served by indexes where the store wants them ([`Crm::keep_report_indexes`]).
pub(crate) fn forecast_countings(object: &ObjectDef) -> Result<Vec<ReportQuery>> {
    let deals = deal_fields(object)?;
    let day = NaiveDate::default();
    Ok(vec![
        pipeline_query(&deals, None, day, day),
        made_query(&deals, None, DateTime::<Utc>::default()),
        won_query(&deals, None, day, day),
        closed_query(&deals, None, day, day),
    ])
}

/// Amounts per (period start, owner): the pipeline's rows folded, in the reporting currency.
type ByPeriodOwner = BTreeMap<(NaiveDate, Option<UserId>), Amounts>;

impl Crm {
    async fn forecast_rows(
        &self,
        deals: &DealFields,
        owners: Option<Vec<UserId>>,
        bucket: Bucket,
        (from, to): (NaiveDate, NaiveDate),
        money: &CurrencySettings,
        without_rate: &mut HashSet<String>,
    ) -> Result<ByPeriodOwner> {
        let query = pipeline_query(deals, owners, from, to);
        let rows = self.store.report_rows(&deals.object, &query).await?;
        let mut out = ByPeriodOwner::new();
        for row in rows {
            let Some(Value::Date(month)) = row.keys.first() else {
                continue;
            };
            let stage = text_of(row.keys.get(1)).unwrap_or_default();
            let owner = match row.keys.get(2) {
                Some(Value::User(u)) => Some(*u),
                _ => None,
            };
            let mut at = 3;
            let code = if deals.currency.is_some() {
                at += 1;
                text_of(row.keys.get(at - 1)).unwrap_or_default()
            } else {
                money.reporting.clone()
            };
            let own = if deals.category.is_some() {
                text_of(row.keys.get(at))
            } else {
                None
            };
            let Some(rate) = money.rate(&code) else {
                if row.measured > 0 {
                    without_rate.insert(code);
                }
                continue;
            };
            let amount = row.sum.unwrap_or(0.0) * rate;
            let mut a = Amounts::default();
            match category_of(&stage, own.as_deref()) {
                Category::Closed => a.closed = amount,
                Category::Omitted => a.omitted = amount,
                open => {
                    match open {
                        Category::Commit => a.commit = amount,
                        Category::BestCase => a.best_case = amount,
                        _ => a.pipeline = amount,
                    }
                    let weighted = row.weighted.unwrap_or(0.0) / 100.0
                        + row.unweighted.unwrap_or(match deals.probability {
                            Some(_) => 0.0,
                            None => row.sum.unwrap_or(0.0),
                        }) * default_probability(&stage)
                            / 100.0;
                    a.weighted = weighted * rate;
                    a.open_deals = row.count;
                }
            }
            out.entry((bucket.start_of(*month), owner)).or_default().add(&a);
        }
        Ok(out)
    }

    /// The quotas of periods `[from, to)` of a bucket: those set for the bucket, and where an
    /// owner or a team has none for a period, the sum of those set for its months (and
    /// quarters, for a year) — a team that sets monthly targets sees its quarter's.
    async fn period_quotas(&self, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<Quota>> {
        let mut out = self.store.quotas(bucket, from, to).await?;
        let direct: HashSet<(NaiveDate, Option<UserId>, Option<TeamId>)> =
            out.iter().map(|q| (q.period_start, q.user, q.team)).collect();
        // Quarters a year sums: their months are not counted again.
        let mut quarters: HashSet<(NaiveDate, Option<UserId>, Option<TeamId>)> = HashSet::new();
        for finer in [Bucket::Quarter, Bucket::Month].into_iter().filter(|b| *b < bucket) {
            for mut q in self.store.quotas(finer, from, to).await? {
                let period = bucket.start_of(q.period_start);
                let quarter = (Bucket::Quarter.start_of(q.period_start), q.user, q.team);
                if direct.contains(&(period, q.user, q.team)) || (finer == Bucket::Month && quarters.contains(&quarter))
                {
                    continue;
                }
                if finer == Bucket::Quarter {
                    quarters.insert(quarter);
                }
                q.bucket = bucket;
                q.period_start = period;
                out.push(q);
            }
        }
        Ok(out)
    }

    /// The owners a forecast is about: the ones asked for (an owner, a team's members), among
    /// those the reader may see.
    async fn forecast_owners(&self, who: &Principal, p: &ForecastParams) -> Result<Option<Vec<UserId>>> {
        let schema = self.schema().await?;
        let visible = self.visible_owners(who, &schema, "deal").await?;
        let asked = match (p.owner, p.team) {
            (Some(u), _) => Some(vec![u]),
            (None, Some(t)) => Some(self.store.team_members(t).await?),
            (None, None) => None,
        };
        Ok(match (visible, asked) {
            (None, asked) => asked,
            (Some(v), None) => Some(v),
            (Some(v), Some(a)) => Some(a.into_iter().filter(|u| v.contains(u)).collect()),
        })
    }

    /// The forecast as the reader may see it.
    pub async fn forecast(&self, who: &Principal, p: &ForecastParams) -> Result<Forecast> {
        let (schema, object) = self.object("deal").await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let deals = deal_fields(&object)?;
        let owners = self.forecast_owners(who, p).await?;
        let zone = self.time_zone().await?;
        let now = self.clock.now();
        let today = now.with_timezone(&zone).date_naive();
        let start = p.bucket.start_of(today);
        let end = p.bucket.step(start, i32::try_from(p.periods).unwrap_or(4));
        let money = self.currency_settings().await?;
        let mut without_rate = HashSet::new();
        let rows = self
            .forecast_rows(
                &deals,
                owners.clone(),
                p.bucket,
                (start, end),
                &money,
                &mut without_rate,
            )
            .await?;
        let quotas = self.period_quotas(p.bucket, start, end).await?;
        // A quota the reader is shown, in a currency without a rate, cannot be set against
        // anything: named, as an amount without a rate is, rather than left out in silence.
        // (A Mutex, not a RefCell: the page's future is sent between threads.)
        let quota_without_rate: std::sync::Mutex<HashSet<String>> = std::sync::Mutex::default();
        let users = self.store.users().await?;
        let names: HashMap<UserId, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
        let in_scope = |u: &Option<UserId>| match (&owners, u) {
            (None, _) => true,
            (Some(list), Some(u)) => list.contains(u),
            (Some(_), None) => false,
        };
        // A team's quota only for readers who see every deal or are in the team.
        let sees_all = self.visible_owners(who, &schema, "deal").await?.is_none();
        let sees_team = |t: TeamId| sees_all || who.team == Some(t);
        let quota_of = |period: NaiveDate, user: Option<UserId>| -> Option<f64> {
            let mut found = None;
            for q in quotas.iter().filter(|q| q.period_start == period) {
                // Only quotas of owners (and teams) the reader may see.
                let counts = match (user, p.team) {
                    (Some(u), _) => q.user == Some(u) && in_scope(&Some(u)),
                    (None, Some(t)) => q.team == Some(t) && sees_team(t),
                    (None, None) => q.user.is_some_and(|u| in_scope(&Some(u))),
                };
                if !counts {
                    continue;
                }
                match money.rate(&q.currency) {
                    Some(rate) => {
                        #[allow(clippy::cast_precision_loss)]
                        let amount = q.amount as f64 * rate;
                        *found.get_or_insert(0.0) += amount;
                    }
                    None => {
                        if let Ok(mut missing) = quota_without_rate.lock() {
                            missing.insert(q.currency.clone());
                        }
                    }
                }
            }
            found
        };
        let attainment = |closed: f64, quota: Option<f64>| quota.filter(|q| *q > 0.0).map(|q| closed / q);
        let mut periods = Vec::new();
        let mut at = start;
        while at < end {
            let mut amounts = Amounts::default();
            for ((_, _), a) in rows.range((at, None)..=(at, Some(UserId(uuid::Uuid::max())))) {
                amounts.add(a);
            }
            let quota = quota_of(at, p.owner);
            periods.push(PeriodRow {
                start: at,
                key: p.bucket.key(at),
                attainment: attainment(amounts.closed, quota),
                amounts,
                quota,
            });
            at = p.bucket.step(at, 1);
        }
        // The stage history: win rates, the funnel, cycle lengths.
        let since = now - Duration::days(HISTORY_DAYS);
        let changes = self
            .store
            .stage_changes(&object, &deals.stage.name, owners.as_deref(), since)
            .await?;
        let made = self.deals_made(&deals, owners.clone(), since).await?;
        let history = History::of(&changes, made, since, &deals.stage);
        let mut owner_rows: Vec<OwnerRow> = Vec::new();
        let owner_ids: HashSet<UserId> = rows
            .keys()
            .filter(|(period, _)| *period == start)
            .filter_map(|(_, o)| *o)
            .chain(history.per_owner.keys().copied())
            .chain(quotas.iter().filter(|q| q.period_start == start).filter_map(|q| q.user))
            .filter(|u| in_scope(&Some(*u)))
            .collect();
        for owner in owner_ids {
            let amounts = rows.get(&(start, Some(owner))).copied().unwrap_or_default();
            let quota = quota_of(start, Some(owner));
            let (won, lost) = history.per_owner.get(&owner).copied().unwrap_or((0, 0));
            owner_rows.push(OwnerRow {
                owner,
                name: names.get(&owner).cloned().unwrap_or_default(),
                attainment: attainment(amounts.closed, quota),
                amounts,
                quota,
                won,
                lost,
                win_rate: rate(won, lost),
            });
        }
        owner_rows.sort_by_cached_key(|r| crate::text::fold_case(&r.name));
        let history_from = since.with_timezone(&zone).date_naive();
        let average_deal_size = self
            .average_won(&deals, owners.clone(), history_from, today, &money)
            .await?;
        let pushed = self.most_pushed(&deals, owners.as_deref(), since).await?;
        let accuracy = self
            .accuracy(&deals, owners.clone(), p, start, &money, &mut without_rate)
            .await?;
        without_rate.extend(quota_without_rate.into_inner().unwrap_or_default());
        let mut without_rate: Vec<String> = without_rate.into_iter().collect();
        without_rate.sort();
        Ok(Forecast {
            bucket: p.bucket,
            currency: money.reporting.clone(),
            without_rate,
            periods,
            owners: owner_rows,
            history_from,
            won: history.won,
            lost: history.lost,
            win_rate: rate(history.won, history.lost),
            funnel: history.funnel,
            average_deal_size,
            sales_cycle_days: history.cycle_days,
            pushed,
            accuracy,
        })
    }

    /// Live deals made since a moment, per current stage and owner.
    async fn deals_made(&self, deals: &DealFields, owners: Option<Vec<UserId>>, since: DateTime<Utc>) -> Result<Made> {
        let query = made_query(deals, owners, since);
        let mut made = Made::new();
        for row in self.store.report_rows(&deals.object, &query).await? {
            let stage = text_of(row.keys.first()).unwrap_or_default();
            let owner = match row.keys.get(1) {
                Some(Value::User(u)) => Some(*u),
                _ => None,
            };
            *made.entry((stage, owner)).or_default() += row.count;
        }
        Ok(made)
    }

    async fn average_won(
        &self,
        deals: &DealFields,
        owners: Option<Vec<UserId>>,
        from: NaiveDate,
        today: NaiveDate,
        money: &CurrencySettings,
    ) -> Result<Option<f64>> {
        let query = won_query(deals, owners, from, today);
        let (mut sum, mut count) = (0.0, 0_i64);
        for row in self.store.report_rows(&deals.object, &query).await? {
            let code = text_of(row.keys.first()).unwrap_or_else(|| money.reporting.clone());
            if let Some(rate) = money.rate(&code) {
                sum += row.sum.unwrap_or(0.0) * rate;
                count += row.measured;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        Ok((count > 0).then(|| sum / count as f64))
    }

    async fn most_pushed(
        &self,
        deals: &DealFields,
        owners: Option<&[UserId]>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Pushed>> {
        let mut pushes = self
            .store
            .date_pushes(&deals.object, &deals.close.name, owners, since)
            .await?;
        pushes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        pushes.truncate(MOST_PUSHED);
        let ids: Vec<RecordId> = pushes.iter().map(|(id, _)| *id).collect();
        let owners = owners.map(<[UserId]>::to_vec);
        let records = self.records_by_id(&deals.object, &ids, owners).await?;
        let titles: HashMap<RecordId, String> = records.iter().map(|r| (r.id, r.title(&deals.object))).collect();
        Ok(pushes
            .into_iter()
            .filter_map(|(record, pushes)| {
                Some(Pushed {
                    record,
                    name: titles.get(&record)?.clone(),
                    pushes,
                })
            })
            .collect())
    }

    /// The two periods before the current one: each week's snapshot against what closed.
    async fn accuracy(
        &self,
        deals: &DealFields,
        owners: Option<Vec<UserId>>,
        p: &ForecastParams,
        start: NaiveDate,
        money: &CurrencySettings,
        without_rate: &mut HashSet<String>,
    ) -> Result<Vec<Accuracy>> {
        let from = p.bucket.step(start, -2);
        // What closed, per period: the won deals alone (the pipeline of past periods is not
        // looked at here).
        let mut actual: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for row in self
            .store
            .report_rows(&deals.object, &closed_query(deals, owners.clone(), from, start))
            .await?
        {
            let Some(Value::Date(month)) = row.keys.first() else {
                continue;
            };
            let code = text_of(row.keys.get(1)).unwrap_or_else(|| money.reporting.clone());
            match money.rate(&code) {
                Some(rate) => *actual.entry(p.bucket.start_of(*month)).or_default() += row.sum.unwrap_or(0.0) * rate,
                None if row.measured > 0 => {
                    without_rate.insert(code);
                }
                None => {}
            }
        }
        let snapshots = self.store.snapshots(p.bucket, from, start).await?;
        let mut weeks: BTreeMap<(NaiveDate, NaiveDate), (f64, f64)> = BTreeMap::new();
        for s in snapshots.iter().filter(|s| match (&owners, s.owner) {
            (None, _) => true,
            (Some(list), Some(o)) => list.contains(&o),
            (Some(_), None) => false,
        }) {
            // A snapshot in another reporting currency than today's is converted by today's rates.
            let Some(rate) = money.rate(&s.currency) else {
                continue;
            };
            let e = weeks.entry((s.period_start, s.taken_on)).or_default();
            e.0 += (s.closed + s.commit) * rate;
            e.1 += s.weighted * rate;
        }
        Ok(weeks
            .into_iter()
            .map(|((period, taken_on), (forecast, weighted))| {
                let won = actual.get(&period).copied().unwrap_or(0.0);
                Accuracy {
                    period_start: period,
                    key: p.bucket.key(period),
                    taken_on,
                    forecast,
                    weighted,
                    actual: won,
                    error: (won > 0.0).then(|| (forecast - won) / won),
                }
            })
            .collect())
    }

    /// Keep this week's forecast per owner, by month and by quarter, for the current period
    /// and the three after (the weekly schedule). A week kept already is left as it was.
    pub async fn snapshot_forecast(&self) -> Result<u64> {
        let (_, object) = self.object("deal").await?;
        let deals = deal_fields(&object)?;
        let zone = self.time_zone().await?;
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let taken_on = Bucket::Week.start_of(today);
        let money = self.currency_settings().await?;
        let mut kept = 0;
        for bucket in [Bucket::Month, Bucket::Quarter] {
            let start = bucket.start_of(today);
            let end = bucket.step(start, 4);
            let mut without_rate = HashSet::new();
            let rows = self
                .forecast_rows(&deals, None, bucket, (start, end), &money, &mut without_rate)
                .await?;
            let snapshot: Vec<SnapshotRow> = rows
                .into_iter()
                .map(|((period_start, owner), a)| SnapshotRow {
                    taken_on,
                    bucket,
                    period_start,
                    owner,
                    currency: money.reporting.clone(),
                    closed: a.closed,
                    commit: a.commit,
                    best_case: a.best_case,
                    pipeline: a.pipeline,
                    weighted: a.weighted,
                })
                .collect();
            kept += self.store.keep_snapshot(&snapshot).await?;
        }
        Ok(kept)
    }

    /// Quotas of a period range: those of owners the reader may see, and of teams when they
    /// see everyone's deals or are in the team.
    pub async fn quotas(&self, who: &Principal, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<Quota>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let visible = self.visible_owners(who, &schema, "deal").await?;
        let all = self.store.quotas(bucket, from, to).await?;
        Ok(all
            .into_iter()
            .filter(|q| match (&visible, q.user, q.team) {
                (None, _, _) => true,
                (Some(v), Some(u), _) => v.contains(&u),
                (Some(_), None, Some(t)) => who.team == Some(t),
                (Some(_), None, None) => false,
            })
            .collect())
    }

    /// Quotas as a query string asks: `bucket` (month or quarter, quarter when left out),
    /// `from` and `to` (dates, the periods starting in between).
    pub async fn quotas_asked(&self, who: &Principal, pairs: &[(String, String)]) -> Result<Vec<Quota>> {
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let mut errors = Vec::new();
        let bucket = match get("bucket") {
            None => Bucket::Quarter,
            Some(b) => Bucket::parse(b)
                .filter(|b| matches!(b, Bucket::Month | Bucket::Quarter))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new("bucket", "must be month or quarter"));
                    Bucket::Quarter
                }),
        };
        let mut date = |k: &str, default: NaiveDate| match get(k) {
            None => default,
            Some(d) => d.parse().unwrap_or_else(|_| {
                errors.push(FieldError::new(k, "must be a date such as 2027-01-01"));
                default
            }),
        };
        // Four-digit years: dates are compared as text on SQLite.
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
        let (from, to) = (date("from", first), date("to", last));
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        self.quotas(who, bucket, from, to).await
    }

    /// Set a quota (those who may share reports: managers, key users with the right,
    /// administrators): `{"user"|"team", "bucket", "period_start", "amount", "currency"}`.
    pub async fn set_quota(&self, who: &Principal, body: Json) -> Result<Quota> {
        self.authorize(who, Permission::ChangeSchema(SchemaChange::SharedViews))
            .await?;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NewQuota {
            #[serde(default)]
            user: Option<UserId>,
            #[serde(default)]
            team: Option<TeamId>,
            bucket: Bucket,
            period_start: NaiveDate,
            amount: String,
            currency: String,
        }
        let new: NewQuota = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        if new.user.is_some() == new.team.is_some() {
            errors.push(FieldError::new("user", "name one user or one team"));
        }
        if !matches!(new.bucket, Bucket::Month | Bucket::Quarter) {
            errors.push(FieldError::new("bucket", "must be month or quarter"));
        } else if new.bucket.start_of(new.period_start) != new.period_start {
            errors.push(FieldError::new(
                "period_start",
                "must be the first day of the month or quarter",
            ));
        }
        let amount = crate::value::parse_money(&new.amount);
        match amount {
            Some(a) if a >= 0 => {}
            _ => errors.push(FieldError::new(
                "amount",
                "must be an amount such as 250000.00, not below 0",
            )),
        }
        if new.currency.len() != 3 || !new.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new(
                "currency",
                "must be a three-letter currency code such as SEK",
            ));
        }
        if let Some(u) = new.user
            && self.store.user(u).await?.is_none()
        {
            errors.push(FieldError::new("user", "is no user here"));
        }
        if let Some(t) = new.team
            && !self.store.teams().await?.iter().any(|x| x.id == t)
        {
            errors.push(FieldError::new("team", "is no team here"));
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let quota = Quota {
            id: RecordId::new_at(self.clock.now()),
            user: new.user,
            team: new.team,
            bucket: new.bucket,
            period_start: new.period_start,
            amount: amount.unwrap_or(0),
            currency: new.currency,
        };
        self.store.put_quota(&quota).await?;
        // A quota replaced keeps its id: answer with the one kept.
        let next = quota.bucket.step(quota.period_start, 1);
        let kept = self.store.quotas(quota.bucket, quota.period_start, next).await?;
        Ok(kept
            .into_iter()
            .find(|q| q.user == quota.user && q.team == quota.team)
            .unwrap_or(quota))
    }

    pub async fn delete_quota(&self, who: &Principal, id: &str) -> Result<()> {
        self.authorize(who, Permission::ChangeSchema(SchemaChange::SharedViews))
            .await?;
        let id = RecordId::parse(id).ok_or_else(|| Error::not_found(format!("no quota {id}")))?;
        if !self.store.delete_quota(id).await? {
            return Err(Error::not_found(format!("no quota {id}")));
        }
        Ok(())
    }
}

fn rate(won: i64, lost: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (won + lost > 0).then(|| won as f64 / (won + lost) as f64)
}

/// What the stage history says.
#[derive(Debug, Default, PartialEq)]
struct History {
    won: i64,
    lost: i64,
    per_owner: HashMap<UserId, (i64, i64)>,
    funnel: Vec<FunnelStep>,
    cycle_days: Option<f64>,
}

/// Live deals made in the history window, counted per current stage and owner.
type Made = HashMap<(String, Option<UserId>), i64>;

impl History {
    /// Win rate: deals whose stage ended at won or lost in the window (one reopened since
    /// counts for neither). The funnel and cycle: deals made in the window, each counted at
    /// the furthest stage it reached (a deal that skipped a stage passed it; won is the last
    /// step, lost none). Changed deals are read from their changes; the others (most) from
    /// their current stage, counted per stage and owner.
    fn of(changes: &[StageChange], mut made: Made, since: DateTime<Utc>, stage: &FieldDef) -> History {
        // Open stages in the pipeline's order (a stage of one's own among them), won last.
        let mut order: Vec<&str> = stage
            .choices
            .iter()
            .map(|c| c.value.as_str())
            .filter(|v| !matches!(*v, "lost" | "won"))
            .collect();
        if stage.has_choice("won") {
            order.push("won");
        }
        let position = |s: Option<&str>| s.and_then(|s| order.iter().position(|x| *x == s));
        let mut h = History::default();
        let mut reached = vec![0_i64; order.len()];
        let mut cycles: Vec<f64> = Vec::new();
        let count_closed = |h: &mut History, stage: &str, owner: Option<UserId>, n: i64| {
            let won = match stage {
                "won" => true,
                "lost" => false,
                _ => return,
            };
            if won {
                h.won += n;
            } else {
                h.lost += n;
            }
            if let Some(owner) = owner {
                let entry = h.per_owner.entry(owner).or_default();
                if won {
                    entry.0 += n;
                } else {
                    entry.1 += n;
                }
            }
        };
        let mut by_record: BTreeMap<RecordId, Vec<&StageChange>> = BTreeMap::new();
        for c in changes {
            by_record.entry(c.record).or_default().push(c);
        }
        for list in by_record.values() {
            let (Some(first), Some(last)) = (list.first(), list.last()) else {
                continue;
            };
            let current = last.new.clone().unwrap_or_default();
            count_closed(&mut h, &current, last.owner, 1);
            if first.made_at < since {
                continue;
            }
            // Made in the window: counted here, not among the unchanged.
            if let Some(n) = made.get_mut(&(current.clone(), last.owner)) {
                *n -= 1;
            }
            let furthest = std::iter::once(first.old.as_deref())
                .chain(list.iter().map(|c| c.new.as_deref()))
                .filter_map(position)
                .max();
            if let Some(f) = furthest {
                for slot in reached.iter_mut().take(f + 1) {
                    *slot += 1;
                }
            }
            if current == "won" {
                #[allow(clippy::cast_precision_loss)]
                cycles.push((last.at - first.made_at).num_minutes() as f64 / (24.0 * 60.0));
            }
        }
        for ((current, owner), n) in made.into_iter().filter(|(_, n)| *n > 0) {
            count_closed(&mut h, &current, owner, n);
            if let Some(f) = position(Some(&current)) {
                for slot in reached.iter_mut().take(f + 1) {
                    *slot += n;
                }
            }
        }
        h.funnel = order
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let here = reached.get(i).copied().unwrap_or(0);
                #[allow(clippy::cast_precision_loss)]
                let to_next = reached
                    .get(i + 1)
                    .filter(|_| here > 0)
                    .map(|next| *next as f64 / here as f64);
                FunnelStep {
                    stage: (*s).to_string(),
                    reached: here,
                    to_next,
                }
            })
            .collect();
        // Only deals seen to move: one made won has no cycle to measure.
        #[allow(clippy::cast_precision_loss)]
        {
            h.cycle_days = (!cycles.is_empty()).then(|| cycles.iter().sum::<f64>() / cycles.len() as f64);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::standard_objects;

    fn stage() -> FieldDef {
        standard_objects()
            .into_iter()
            .find(|o| o.name == "deal")
            .unwrap()
            .field("stage")
            .unwrap()
            .clone()
    }

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-{day:02}T10:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_funnel_and_win_rate_come_from_a_known_stage_history() {
        let owner = UserId(uuid::Uuid::from_u128(1));
        let ch = |r: u128, made: u32, day: u32, old: &str, new: &str| StageChange {
            record: RecordId(uuid::Uuid::from_u128(r)),
            owner: Some(owner),
            made_at: at(made),
            at: at(day),
            old: Some(old.into()),
            new: Some(new.into()),
        };
        let changes = vec![
            // 1: lead → qualified → proposal → won in 10 days.
            ch(1, 1, 3, "lead", "qualified"),
            ch(1, 1, 5, "qualified", "proposal"),
            ch(1, 1, 11, "proposal", "won"),
            // 2: lead → lost.
            ch(2, 1, 2, "lead", "lost"),
            // 3: made at qualified, skipped to negotiation, still open.
            ch(3, 1, 4, "qualified", "negotiation"),
            // 4: made before the window, won in it.
            ch(4, 1, 6, "negotiation", "won"),
            // 5: won, then reopened: counts for neither.
            ch(5, 1, 7, "proposal", "won"),
            ch(5, 1, 8, "won", "negotiation"),
        ];
        let since = at(1) - Duration::minutes(1);
        let mut made = Made::new();
        // The deals made in the window as they stand: the five above (but 4, made before) and
        // two never changed, one lead and one made won.
        for (stage, n) in [("won", 2), ("lost", 1), ("negotiation", 2), ("lead", 1)] {
            made.insert((stage.to_string(), Some(owner)), n);
        }
        let mut changes = changes;
        changes[5].made_at = at(1) - Duration::days(30);
        let h = History::of(&changes, made, since, &stage());
        assert_eq!((h.won, h.lost), (3, 1), "1, 4 and the one made won; 2 lost; 5 reopened");
        assert_eq!(h.per_owner.get(&owner), Some(&(3, 1)));
        let reached: Vec<(String, i64)> = h.funnel.iter().map(|s| (s.stage.clone(), s.reached)).collect();
        assert_eq!(
            reached,
            [
                ("lead".to_string(), 6),
                ("qualified".to_string(), 4),
                ("proposal".to_string(), 4),
                ("negotiation".to_string(), 4),
                ("won".to_string(), 3)
            ],
            "a deal that skipped a stage passed it; one reopened after won did reach it"
        );
        assert_eq!(h.funnel[0].to_next, Some(4.0 / 6.0));
        assert_eq!(h.funnel[4].to_next, None);
        assert_eq!(h.cycle_days, Some(10.0), "only deals seen to move");
    }

    #[test]
    fn parameters_are_named_when_wrong() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let e = ForecastParams::from_pairs(&pairs(&[("bucket", "week"), ("periods", "9")])).unwrap_err();
        let names: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["bucket", "periods"]);
        let ok = ForecastParams::from_pairs(&pairs(&[("bucket", "month")])).unwrap();
        assert_eq!((ok.bucket, ok.periods), (Bucket::Month, 4));
        let empty = ForecastParams::from_pairs(&pairs(&[("team", "")])).unwrap_err();
        assert_eq!(empty.errors[0].field, "team", "an empty value is a mistake too");
    }
}
