//! Running a report: the store counts and measures per stored key (a field's value, a local
//! day, and the currency of an amount); this module folds those rows into the report's groups
//! (periods, teams, the rest beyond [`MAX_GROUPS`] as "other"), converts amounts into the
//! reporting currency, orders the groups as people read them and says, per group, the filter
//! that lists its records (drill-down).

use super::spec::{Dim, Plan};
use super::{GroupKey, MAX_GROUPS, ReportQuery, ReportRow, ReportSpec};
use crate::auth::Principal;
use crate::currency::CurrencySettings;
use crate::error::{Error, Result};
use crate::ids::{RecordId, TeamId, UserId};
use crate::meta::{FieldType, system_field};
use crate::service::Crm;
use crate::value::Value;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most periods one date grouping spans (ten years of days).
const MAX_PERIODS: usize = 3_660;

/// One group's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum GroupValue {
    Choice(String),
    Text(String),
    Bool(bool),
    User(UserId),
    Team(TeamId),
    Record(RecordId),
    /// The first day of the period.
    Period(NaiveDate),
    /// The groups beyond the first [`MAX_GROUPS`], added up.
    Other,
    /// Records without a value (or whose value the reader may not see).
    None,
}

/// A count and the measure.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Figures {
    pub count: i64,
    /// The measure (none for a count, or when no record has a value): in the field's unit,
    /// amounts in minor units of the reporting currency.
    pub value: Option<f64>,
}

/// A row or column of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub value: GroupValue,
    /// A person's, team's or record's name; a period's key (`2026-Q1`).
    pub name: Option<String>,
    /// The records of this group, in the filter language (without the report's own filter).
    pub filter: Json,
    pub figures: Figures,
}

/// A pivot cell: a row, and a column when the report has two groupings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub row: usize,
    pub column: Option<usize>,
    pub figures: Figures,
}

/// A report as run for one reader.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportResult {
    pub spec: ReportSpec,
    pub rows: Vec<Header>,
    pub columns: Vec<Header>,
    pub cells: Vec<Cell>,
    pub total: Figures,
    /// The currency a money measure is in.
    pub currency: Option<String>,
    /// Whether the measure is an amount (in minor units).
    pub money: bool,
    /// Currencies with amounts but no rate to the reporting currency: left out of the measure.
    pub without_rate: Vec<String>,
}

impl ReportResult {
    /// The filter that lists a cell's (or a row's, or the whole report's) records: the
    /// report's own and the groups', all applying.
    pub fn drill(&self, row: Option<usize>, column: Option<usize>) -> Json {
        let mut parts: Vec<Json> = Vec::new();
        if let Some(f) = self.spec.filter.clone().filter(|f| !f.is_null()) {
            parts.push(f);
        }
        if let Some(h) = row.and_then(|r| self.rows.get(r)) {
            parts.push(h.filter.clone());
        }
        if let Some(h) = column.and_then(|c| self.columns.get(c)) {
            parts.push(h.filter.clone());
        }
        match parts.len() {
            0 => Json::Null,
            1 => parts.pop().unwrap_or(Json::Null),
            _ => json!({ "and": parts }),
        }
    }

    /// A cell's figures (zero when no record falls in it). The cells are in (row, column)
    /// order, so this is a binary search.
    pub fn cell(&self, row: usize, column: Option<usize>) -> Figures {
        self.cells
            .binary_search_by_key(&(row, column), |c| (c.row, c.column))
            .ok()
            .and_then(|i| self.cells.get(i))
            .map(|c| c.figures)
            .unwrap_or_default()
    }
}

/// A measure's parts in one currency.
#[derive(Debug, Clone, Copy, Default)]
struct Part {
    measured: i64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
}

impl Part {
    fn add(&mut self, other: &Part) {
        self.measured += other.measured;
        self.sum += other.sum;
        self.min = fold(self.min, other.min, f64::min);
        self.max = fold(self.max, other.max, f64::max);
    }
}

fn fold(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

/// A group's records so far: counted, and measured per currency (`""` without one).
#[derive(Debug, Clone, Default)]
struct Acc {
    count: i64,
    parts: BTreeMap<String, Part>,
}

impl Acc {
    fn add(&mut self, other: &Acc) {
        self.count += other.count;
        for (code, part) in &other.parts {
            self.parts.entry(code.clone()).or_default().add(part);
        }
    }
}

/// What a group's figures are worked out with.
struct Measuring<'a> {
    plan: &'a Plan,
    currency: Option<CurrencySettings>,
    without_rate: BTreeSet<String>,
}

impl Measuring<'_> {
    fn figures(&mut self, acc: &Acc) -> Figures {
        let Some(_) = &self.plan.measure else {
            return Figures {
                count: acc.count,
                value: None,
            };
        };
        let mut total = Part::default();
        for (code, part) in &acc.parts {
            let rate = match &self.currency {
                None => Some(1.0),
                Some(c) => c.rate(code),
            };
            match rate {
                Some(rate) => total.add(&Part {
                    measured: part.measured,
                    sum: part.sum * rate,
                    min: part.min.map(|m| m * rate),
                    max: part.max.map(|m| m * rate),
                }),
                None if part.measured > 0 => {
                    self.without_rate.insert(code.clone());
                }
                None => {}
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let value = match self.plan.func {
            _ if total.measured == 0 => None,
            super::MeasureFn::Count => None,
            super::MeasureFn::Sum => Some(total.sum),
            super::MeasureFn::Avg => Some(total.sum / total.measured as f64),
            super::MeasureFn::Min => total.min,
            super::MeasureFn::Max => total.max,
        };
        Figures {
            count: acc.count,
            value,
        }
    }
}

/// Names and members the folding needs: who is in which team, and names to order by.
#[derive(Default)]
struct Directory {
    team_of: HashMap<UserId, TeamId>,
    members: HashMap<Option<TeamId>, Vec<UserId>>,
    user_names: HashMap<UserId, String>,
    team_names: HashMap<TeamId, String>,
    /// Titles of the related records the reader may see, per grouping.
    titles: Vec<HashMap<RecordId, String>>,
}

/// A report's counting and what running it needs besides.
pub(crate) struct Counting {
    pub schema: std::sync::Arc<crate::meta::Schema>,
    pub object: crate::meta::ObjectDef,
    pub plan: Plan,
    pub query: ReportQuery,
    pub currency_field: Option<crate::meta::FieldDef>,
    pub zone: Tz,
}

impl Crm {
    /// Run a report over the records the caller may see.
    pub async fn run_report(&self, who: &Principal, spec: &ReportSpec) -> Result<ReportResult> {
        let Counting {
            schema,
            object,
            plan,
            query,
            currency_field,
            zone,
        } = self.counting(spec, Some(who)).await?;
        let rows = self.store.report_rows(&object, &query).await?;
        let directory = self.directory(who, &schema, &plan, &rows).await?;
        let currency = match currency_field {
            Some(_) => Some(self.currency_settings().await?),
            None => None,
        };
        let mut measuring = Measuring {
            plan: &plan,
            currency,
            without_rate: BTreeSet::new(),
        };
        let folded = fold_rows(&plan, &rows, &directory)?;
        let mut result = assemble(spec, &plan, folded, &directory, zone, &mut measuring);
        result.currency = measuring.currency.as_ref().map(|c| c.reporting.clone());
        result.without_rate = measuring.without_rate.into_iter().collect();
        Ok(result)
    }

    /// What a report asks the store to count: for a reader, over what they may see; with no
    /// reader, its shape alone (every owner, related records unresolved), for the indexes
    /// that serve it ([`Crm::keep_report_indexes`]).
    pub(crate) async fn counting(&self, spec: &ReportSpec, reader: Option<&Principal>) -> Result<Counting> {
        let (schema, object) = self.object(&spec.object).await?;
        if let Some(who) = reader {
            who.require(crate::auth::Permission::ReadRecords, &schema.policy)?;
        }
        let plan = spec.plan(&schema, &object)?;
        let zone = self.time_zone().await?;
        let filter = match (&plan.filter, reader) {
            (Some(f), Some(who)) => {
                let condition = self.resolve_filter_in(who, f, &object, zone).await?;
                Some(self.expand_selections(who, &object.name, condition).await?)
            }
            (Some(f), None) => Some(f.resolve_related(&schema, &object, self.clock.now(), zone)?),
            (None, _) => None,
        };
        let currency_field = plan
            .measure
            .as_ref()
            .filter(|m| m.field_type == FieldType::Money)
            .and_then(|_| object.field("currency"))
            .filter(|f| f.field_type == FieldType::Select)
            .cloned();
        let mut keys: Vec<GroupKey> = Vec::with_capacity(plan.dims.len() + 1);
        for d in &plan.dims {
            keys.push(match d {
                // A related record the reader may not see is no group of theirs.
                Dim::Related {
                    relation,
                    object: target,
                    inner,
                } => GroupKey::Related {
                    relation: relation.name.clone(),
                    object: target.clone(),
                    owners: match reader {
                        Some(who) => self.visible_owners(who, &schema, target).await?,
                        None => None,
                    },
                    key: Box::new(group_key(inner, zone)),
                },
                d => group_key(d, zone),
            });
        }
        if let Some(c) = &currency_field {
            keys.push(GroupKey::Column(c.clone()));
        }
        let owners = match reader {
            Some(who) => self.visible_owners(who, &schema, &object.name).await?,
            None => None,
        };
        let query = ReportQuery {
            filter,
            owners,
            keys,
            measure: plan.measure.clone(),
            weight: None,
        };
        Ok(Counting {
            schema,
            object,
            plan,
            query,
            currency_field,
            zone,
        })
    }

    async fn directory(
        &self,
        who: &Principal,
        schema: &crate::meta::Schema,
        plan: &Plan,
        rows: &[ReportRow],
    ) -> Result<Directory> {
        let mut d = Directory::default();
        let needs_people = plan.dims.iter().any(|dim| {
            matches!(dim.leaf(), Dim::Team) || matches!(dim.leaf(), Dim::Field(f) if f.field_type == FieldType::User)
        });
        if needs_people {
            for user in self.store.users().await? {
                if let Some(t) = user.team {
                    d.team_of.insert(user.id, t);
                }
                d.members.entry(user.team).or_default().push(user.id);
                d.user_names.insert(user.id, user.name);
            }
            for team in self.store.teams().await? {
                d.team_names.insert(team.id, team.name);
            }
        }
        for (i, dim) in plan.dims.iter().enumerate() {
            let mut titles = HashMap::new();
            if let Dim::Field(f) = dim.leaf()
                && f.field_type == FieldType::Relation
                && let Some(target) = f.target.as_deref().and_then(|t| schema.object(t).ok())
            {
                let ids: BTreeSet<RecordId> = rows
                    .iter()
                    .filter_map(|r| match r.keys.get(i) {
                        Some(Value::Relation(id)) => Some(*id),
                        _ => None,
                    })
                    .collect();
                let ids: Vec<RecordId> = ids.into_iter().collect();
                let owners = self.visible_owners(who, schema, &target.name).await?;
                for record in self.records_by_id(target, &ids, owners).await? {
                    titles.insert(record.id, record.title(target));
                }
            }
            d.titles.push(titles);
        }
        Ok(d)
    }
}

fn group_key(dim: &Dim, zone: Tz) -> GroupKey {
    match dim {
        Dim::Field(f) => GroupKey::Column(f.clone()),
        // Worked out with the reader's sight in `run_report`; never nested.
        Dim::Related { inner, .. } => group_key(inner, zone),
        Dim::Team => GroupKey::Column(
            system_field("owner").unwrap_or_else(|| crate::meta::FieldDef::new("owner", "Owner", FieldType::User)),
        ),
        Dim::Period { field, .. } if field.field_type == FieldType::Datetime => GroupKey::LocalDay {
            field: field.clone(),
            offsets: crate::zone::offsets(zone),
        },
        Dim::Period { field, bucket } if *bucket >= crate::period::Bucket::Month => GroupKey::Month(field.clone()),
        Dim::Period { field, .. } => GroupKey::Column(field.clone()),
    }
}

/// The report's groups before ordering: per (row, column) value, what fell in it.
type Folded = HashMap<(GroupValue, Option<GroupValue>), Acc>;

fn group_value(dim: &Dim, key: &Value, i: usize, directory: &Directory) -> GroupValue {
    match (dim.leaf(), key) {
        (_, Value::Null) => GroupValue::None,
        (Dim::Team, Value::User(u)) => directory
            .team_of
            .get(u)
            .map_or(GroupValue::None, |t| GroupValue::Team(*t)),
        (Dim::Period { bucket, .. }, Value::Date(d)) => GroupValue::Period(bucket.start_of(*d)),
        (Dim::Field(_), Value::Select(s)) => GroupValue::Choice(s.clone()),
        (Dim::Field(_), Value::Bool(b)) => GroupValue::Bool(*b),
        (Dim::Field(_), Value::User(u)) => GroupValue::User(*u),
        // A related record the reader may not see is as if there were none.
        (Dim::Field(_), Value::Relation(r)) => match directory.titles.get(i).is_some_and(|t| t.contains_key(r)) {
            true => GroupValue::Record(*r),
            false => GroupValue::None,
        },
        (_, other) => other.to_text().map_or(GroupValue::None, GroupValue::Text),
    }
}

fn fold_rows(plan: &Plan, rows: &[ReportRow], directory: &Directory) -> Result<Folded> {
    let dims = plan.dims.len();
    let mut folded: Folded = HashMap::new();
    for row in rows {
        let value_at = |i: usize| {
            plan.dims
                .get(i)
                .map(|d| group_value(d, row.keys.get(i).unwrap_or(&Value::Null), i, directory))
        };
        let row_value = value_at(0).unwrap_or(GroupValue::None);
        let column_value = value_at(1);
        let code = match row.keys.get(dims) {
            Some(Value::Select(c)) => c.clone(),
            _ => String::new(),
        };
        let acc = folded.entry((row_value, column_value)).or_default();
        acc.count += row.count;
        acc.parts.entry(code).or_default().add(&Part {
            measured: row.measured,
            sum: row.sum.unwrap_or(0.0),
            min: row.min,
            max: row.max,
        });
    }
    // Beyond MAX_GROUPS values in a grouping, the smallest are added up as "other".
    for axis in 0..dims {
        let Some(dim) = plan.dims.get(axis).map(Dim::leaf) else {
            continue;
        };
        let mut counts: HashMap<GroupValue, i64> = HashMap::new();
        for ((r, c), acc) in &folded {
            let v = if axis == 0 { Some(r) } else { c.as_ref() };
            if let Some(v) = v {
                *counts.entry(v.clone()).or_default() += acc.count;
            }
        }
        if let Dim::Period { bucket, .. } = dim {
            let days: BTreeSet<NaiveDate> = counts
                .keys()
                .filter_map(|v| match v {
                    GroupValue::Period(d) => Some(*d),
                    _ => None,
                })
                .collect();
            let span = match (days.first(), days.last()) {
                (Some(first), Some(last)) => span_of(*bucket, *first, *last),
                _ => 0,
            };
            if span > MAX_PERIODS {
                return Err(Error::field(
                    format!("groups[{axis}].bucket"),
                    format!(
                        "spans more than {MAX_PERIODS} periods; choose a longer one than {}",
                        bucket.as_str()
                    ),
                ));
            }
            continue;
        }
        if counts.len() <= MAX_GROUPS {
            continue;
        }
        let mut ranked: Vec<(GroupValue, i64)> = counts.into_iter().filter(|(v, _)| *v != GroupValue::None).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let kept: BTreeSet<GroupValue> = ranked.into_iter().take(MAX_GROUPS).map(|(v, _)| v).collect();
        let mut merged: Folded = HashMap::new();
        for ((r, c), acc) in folded {
            let keep = |v: GroupValue| {
                if v == GroupValue::None || kept.contains(&v) {
                    v
                } else {
                    GroupValue::Other
                }
            };
            let key = if axis == 0 { (keep(r), c) } else { (r, c.map(keep)) };
            merged.entry(key).or_default().add(&acc);
        }
        folded = merged;
    }
    Ok(folded)
}

/// How many periods lie from the one starting on `first` to the one starting on `last`
/// (both counted), however far apart: counted by arithmetic, not by stepping.
fn span_of(bucket: crate::period::Bucket, first: NaiveDate, last: NaiveDate) -> usize {
    use crate::period::Bucket as B;
    use chrono::Datelike;
    let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let between = match bucket {
        B::Day => (last - first).num_days(),
        B::Week => (last - first).num_days() / 7,
        B::Month => months(last) - months(first),
        B::Quarter => (months(last) - months(first)) / 3,
        B::Year => i64::from(last.year() - first.year()),
    };
    usize::try_from(between.saturating_add(1)).unwrap_or(usize::MAX)
}

/// The values of one axis in reading order, with the empty periods between filled in.
fn axis_values(dim: &Dim, values: BTreeSet<GroupValue>, directory: &Directory, axis: usize) -> Vec<GroupValue> {
    let dim = dim.leaf();
    let mut values: Vec<GroupValue> = values.into_iter().collect();
    if let Dim::Period { bucket, .. } = dim {
        let days: Vec<NaiveDate> = values
            .iter()
            .filter_map(|v| match v {
                GroupValue::Period(d) => Some(*d),
                _ => None,
            })
            .collect();
        if let (Some(first), Some(last)) = (days.first(), days.last()) {
            let mut filled = Vec::new();
            let mut at = *first;
            while at <= *last && filled.len() < MAX_PERIODS {
                filled.push(GroupValue::Period(at));
                at = bucket.step(at, 1);
            }
            let none = values.contains(&GroupValue::None);
            values = filled;
            if none {
                values.push(GroupValue::None);
            }
        }
        return values;
    }
    let field = match dim {
        Dim::Field(f) => Some(f),
        _ => None,
    };
    let rank = |v: &GroupValue| -> (u8, usize, String) {
        match v {
            GroupValue::Choice(c) => (
                0,
                field
                    .and_then(|f| f.choices.iter().position(|x| &x.value == c))
                    .unwrap_or(usize::MAX),
                c.clone(),
            ),
            GroupValue::Bool(b) => (0, usize::from(!*b), String::new()),
            GroupValue::User(u) => (
                0,
                0,
                directory
                    .user_names
                    .get(u)
                    .map(|n| n.to_lowercase())
                    .unwrap_or_default(),
            ),
            GroupValue::Team(t) => (
                0,
                0,
                directory
                    .team_names
                    .get(t)
                    .map(|n| n.to_lowercase())
                    .unwrap_or_default(),
            ),
            GroupValue::Record(r) => (
                0,
                0,
                directory
                    .titles
                    .get(axis)
                    .and_then(|t| t.get(r))
                    .map(|n| n.to_lowercase())
                    .unwrap_or_default(),
            ),
            GroupValue::Text(t) => (0, 0, crate::text::fold_case(t)),
            GroupValue::Period(d) => (0, 0, d.to_string()),
            GroupValue::Other => (1, 0, String::new()),
            GroupValue::None => (2, 0, String::new()),
        }
    };
    values.sort_by_cached_key(|v| rank(v));
    values
}

fn name_of(dim: &Dim, value: &GroupValue, directory: &Directory, axis: usize) -> Option<String> {
    match value {
        GroupValue::User(u) => directory.user_names.get(u).cloned(),
        GroupValue::Team(t) => directory.team_names.get(t).cloned(),
        GroupValue::Record(r) => directory.titles.get(axis).and_then(|t| t.get(r)).cloned(),
        GroupValue::Period(d) => match dim.leaf() {
            Dim::Period { bucket, .. } => Some(bucket.key(*d)),
            _ => None,
        },
        _ => None,
    }
}

/// The filter that picks one group's records: for a related record's field, the same leaves
/// on `relation.field` (its "none" holds the records without a related record, or with one in
/// the trash or out of the reader's sight, as the counting does).
fn filter_of(dim: &Dim, value: &GroupValue, shown: &[GroupValue], directory: &Directory, zone: Tz) -> Json {
    let field_name = dim.filter_name();
    let empty = || json!({"field": field_name, "op": "is_empty", "value": true});
    match (dim.leaf(), value) {
        (Dim::Team, GroupValue::Team(t)) => team_filter(directory.members.get(&Some(*t))),
        // Owned by someone in no team, or by no one.
        (Dim::Team, _) => json!({"or": [
            team_filter(directory.members.get(&None)),
            {"field": "owner", "op": "is_empty", "value": true}
        ]}),
        (Dim::Period { field, bucket }, GroupValue::Period(start)) => {
            let end = bucket.step(*start, 1);
            let bound = |d: NaiveDate| match field.field_type {
                FieldType::Datetime => json!(crate::value::format_datetime(&crate::zone::start_of_day(zone, d))),
                _ => json!(d.format("%Y-%m-%d").to_string()),
            };
            json!({"and": [
                {"field": field_name, "op": "gte", "value": bound(*start)},
                {"field": field_name, "op": "lt", "value": bound(end)}
            ]})
        }
        (_, GroupValue::None) => empty(),
        (_, GroupValue::Other) => {
            let named: Vec<Json> = shown.iter().filter_map(value_json).collect();
            json!({"not": {"or": [
                {"field": field_name, "op": "in", "value": named},
                {"field": field_name, "op": "is_empty", "value": true}
            ]}})
        }
        (_, v) => json!({"field": field_name, "op": "eq", "value": value_json(v).unwrap_or(Json::Null)}),
    }
}

fn team_filter(members: Option<&Vec<UserId>>) -> Json {
    let ids: Vec<Json> = members
        .map(|m| m.iter().map(|u| json!(u.to_string())).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        // No one: a filter that holds for no record (every record has a creation time).
        return json!({"field": "created_at", "op": "is_empty", "value": true});
    }
    json!({"field": "owner", "op": "in", "value": ids})
}

fn value_json(v: &GroupValue) -> Option<Json> {
    match v {
        GroupValue::Choice(s) | GroupValue::Text(s) => Some(json!(s)),
        GroupValue::Bool(b) => Some(json!(b)),
        GroupValue::User(u) => Some(json!(u.to_string())),
        GroupValue::Team(t) => Some(json!(t.to_string())),
        GroupValue::Record(r) => Some(json!(r.to_string())),
        GroupValue::Period(d) => Some(json!(d.to_string())),
        GroupValue::Other | GroupValue::None => None,
    }
}

fn assemble(
    spec: &ReportSpec,
    plan: &Plan,
    folded: Folded,
    directory: &Directory,
    zone: Tz,
    measuring: &mut Measuring<'_>,
) -> ReportResult {
    // One pass: each group's totals per row and per column, and the whole.
    let mut row_accs: HashMap<GroupValue, Acc> = HashMap::new();
    let mut column_accs: HashMap<GroupValue, Acc> = HashMap::new();
    let mut total = Acc::default();
    for ((r, c), acc) in &folded {
        row_accs.entry(r.clone()).or_default().add(acc);
        if let Some(c) = c {
            column_accs.entry(c.clone()).or_default().add(acc);
        }
        total.add(acc);
    }
    let axis = |i: usize, accs: &HashMap<GroupValue, Acc>| -> Vec<GroupValue> {
        match plan.dims.get(i) {
            Some(dim) => axis_values(dim, accs.keys().cloned().collect(), directory, i),
            None => Vec::new(),
        }
    };
    let row_values = axis(0, &row_accs);
    let column_values = axis(1, &column_accs);
    let mut headers = |i: usize, values: &[GroupValue], accs: &HashMap<GroupValue, Acc>| -> Vec<Header> {
        let Some(dim) = plan.dims.get(i) else {
            return Vec::new();
        };
        let empty = Acc::default();
        values
            .iter()
            .map(|v| Header {
                value: v.clone(),
                name: name_of(dim, v, directory, i),
                filter: filter_of(dim, v, values, directory, zone),
                figures: measuring.figures(accs.get(v).unwrap_or(&empty)),
            })
            .collect()
    };
    let rows = headers(0, &row_values, &row_accs);
    let columns = headers(1, &column_values, &column_accs);
    let index = |values: &[GroupValue]| -> HashMap<GroupValue, usize> {
        values.iter().enumerate().map(|(i, v)| (v.clone(), i)).collect()
    };
    let (row_index, column_index) = (index(&row_values), index(&column_values));
    let mut cells: Vec<Cell> = folded
        .iter()
        .filter_map(|((r, c), acc)| {
            let row = *row_index.get(r)?;
            let column = match c {
                Some(c) => Some(*column_index.get(c)?),
                None => None,
            };
            Some(Cell {
                row,
                column,
                figures: measuring.figures(acc),
            })
        })
        .collect();
    cells.sort_by_key(|c| (c.row, c.column));
    // A report without groupings is one figure: its total.
    let total = measuring.figures(&total);
    ReportResult {
        spec: spec.clone(),
        rows,
        columns,
        cells,
        total,
        currency: None,
        money: plan.measure.as_ref().is_some_and(|m| m.field_type == FieldType::Money),
        without_rate: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{ObjectDef, standard_objects};

    fn deal() -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == "deal").unwrap()
    }

    fn schema() -> crate::meta::Schema {
        crate::meta::Schema {
            objects: standard_objects().into_iter().map(|o| (o.name.clone(), o)).collect(),
            ..Default::default()
        }
    }

    fn spec(json: Json) -> ReportSpec {
        serde_json::from_value(json).unwrap()
    }

    fn row(keys: Vec<Value>, count: i64, sum: Option<f64>) -> ReportRow {
        ReportRow {
            keys,
            count,
            measured: if sum.is_some() { count } else { 0 },
            sum,
            min: sum,
            max: sum,
            weighted: None,
            unweighted: None,
        }
    }

    fn date(s: &str) -> Value {
        Value::Date(s.parse().unwrap())
    }

    #[test]
    fn days_fold_into_iso_weeks_across_the_year_and_empty_weeks_are_shown() {
        let s = spec(json!({"object": "deal", "groups": [{"field": "expected_close", "bucket": "week"}]}));
        let plan = s.plan(&schema(), &deal()).unwrap();
        let rows = vec![
            row(vec![date("2026-12-28")], 1, None),
            row(vec![date("2027-01-03")], 2, None),
            row(vec![date("2027-01-18")], 4, None),
            row(vec![Value::Null], 3, None),
        ];
        let d = Directory::default();
        let folded = fold_rows(&plan, &rows, &d).unwrap();
        let mut m = Measuring {
            plan: &plan,
            currency: None,
            without_rate: BTreeSet::new(),
        };
        let r = assemble(&s, &plan, folded, &d, Tz::UTC, &mut m);
        let names: Vec<Option<&str>> = r.rows.iter().map(|h| h.name.as_deref()).collect();
        assert_eq!(
            names,
            [
                Some("2026-W53"),
                Some("2027-W01"),
                Some("2027-W02"),
                Some("2027-W03"),
                None
            ]
        );
        let counts: Vec<i64> = r.rows.iter().map(|h| h.figures.count).collect();
        assert_eq!(counts, [3, 0, 0, 4, 3]);
        assert_eq!(r.total.count, 10);
        assert_eq!(
            r.rows[0].filter,
            json!({"and": [
                {"field": "expected_close", "op": "gte", "value": "2026-12-28"},
                {"field": "expected_close", "op": "lt", "value": "2027-01-04"}
            ]})
        );
    }

    #[test]
    fn amounts_are_measured_in_the_reporting_currency_and_a_missing_rate_is_named() {
        let s = spec(json!({
            "object": "deal",
            "groups": [{"field": "stage"}],
            "measure": {"func": "avg", "field": "amount"}
        }));
        let plan = s.plan(&schema(), &deal()).unwrap();
        let sel = |v: &str| Value::Select(v.into());
        let rows = vec![
            row(vec![sel("won"), sel("SEK")], 2, Some(200_000.0)),
            row(vec![sel("won"), sel("EUR")], 2, Some(20_000.0)),
            row(vec![sel("lead"), sel("NOK")], 1, Some(50_000.0)),
        ];
        let d = Directory::default();
        let folded = fold_rows(&plan, &rows, &d).unwrap();
        let mut m = Measuring {
            plan: &plan,
            currency: Some(CurrencySettings {
                reporting: "SEK".into(),
                rates: BTreeMap::from([("EUR".into(), 11.0)]),
            }),
            without_rate: BTreeSet::new(),
        };
        let r = assemble(&s, &plan, folded, &d, Tz::UTC, &mut m);
        assert_eq!(r.rows[0].value, GroupValue::Choice("lead".into()), "pipeline order");
        assert_eq!(r.rows[0].figures.value, None, "NOK has no rate");
        assert_eq!(r.rows[1].figures.value, Some((200_000.0 + 220_000.0) / 4.0));
        assert_eq!(m.without_rate.into_iter().collect::<Vec<_>>(), ["NOK"]);
    }

    #[test]
    fn beyond_the_most_groups_the_smallest_are_other() {
        let person = standard_objects().into_iter().find(|o| o.name == "person").unwrap();
        let field = person
            .active_fields()
            .find(|f| f.field_type == FieldType::Text && f.filterable)
            .unwrap()
            .name
            .clone();
        let s = spec(json!({"object": "person", "groups": [{"field": field}]}));
        let plan = s.plan(&schema(), &person).unwrap();
        let rows: Vec<ReportRow> = (0..MAX_GROUPS + 5)
            .map(|i| {
                row(
                    vec![Value::Text(format!("v{i:04}"))],
                    i64::try_from(i + 1).unwrap(),
                    None,
                )
            })
            .collect();
        let d = Directory::default();
        let folded = fold_rows(&plan, &rows, &d).unwrap();
        let mut m = Measuring {
            plan: &plan,
            currency: None,
            without_rate: BTreeSet::new(),
        };
        let r = assemble(&s, &plan, folded, &d, Tz::UTC, &mut m);
        assert_eq!(r.rows.len(), MAX_GROUPS + 1);
        let other = r.rows.last().unwrap();
        assert_eq!(other.value, GroupValue::Other);
        assert_eq!(other.figures.count, 1 + 2 + 3 + 4 + 5);
        assert_eq!(r.total.count, rows.iter().map(|r| r.count).sum::<i64>());
    }
}
