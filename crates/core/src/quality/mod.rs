//! Data quality, measured per record: how complete it is (important fields, weighted by the
//! administrators), whether its values are valid (e-mail, phone, dates in range), whether it has
//! gone stale (untouched for months), and whether it is an open duplicate candidate. Summed per
//! object, owner and team, and turned into each user's fix list.

mod service;

use crate::dedupe::{DEFAULT_COUNTRY, keys};
use crate::error::{Error, Result};
use crate::ids::{RecordId, TeamId, UserId};
use crate::meta::{FieldType, ObjectDef};
use crate::record::Record;
use crate::value::Value;
use async_trait::async_trait;
use chrono::NaiveDate;
use chrono::{DateTime, Datelike, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What counts, set by administrators: per object, the weight of each important field; and after
/// how many months without a change a record is stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityRules {
    pub weights: BTreeMap<String, BTreeMap<String, u32>>,
    pub stale_months: u32,
}

impl Default for QualityRules {
    fn default() -> Self {
        let w = |pairs: &[(&str, u32)]| pairs.iter().map(|(f, n)| ((*f).to_string(), *n)).collect();
        let mut weights = BTreeMap::new();
        weights.insert(
            "person".into(),
            w(&[
                ("email", 3),
                ("phone", 2),
                ("company", 2),
                ("first_name", 1),
                ("title", 1),
                ("city", 1),
            ]),
        );
        weights.insert(
            "company".into(),
            w(&[
                ("org_number", 3),
                ("domain", 2),
                ("phone", 1),
                ("city", 1),
                ("country", 1),
            ]),
        );
        weights.insert(
            "deal".into(),
            w(&[("amount", 3), ("expected_close", 2), ("company", 2), ("probability", 1)]),
        );
        QualityRules {
            weights,
            stale_months: 12,
        }
    }
}

/// The settings key the rules are kept under.
pub const RULES_KEY: &str = "quality_rules";
/// The largest weight a field may have.
pub const MAX_WEIGHT: u32 = 100;
/// The months after which an untouched record may be called stale.
pub const STALE_MONTHS: std::ops::RangeInclusive<u32> = 1..=120;

impl QualityRules {
    /// Check rules against the schema: known objects and fields, weights 0–100, 1–120 months.
    pub fn check(&self, schema: &crate::meta::Schema) -> Result<()> {
        let mut errors = Vec::new();
        for (object, fields) in &self.weights {
            let Ok(def) = schema.object(object) else {
                errors.push(crate::FieldError::new(format!("weights.{object}"), "is no object"));
                continue;
            };
            for (field, weight) in fields {
                if def.field(field).is_none() {
                    errors.push(crate::FieldError::new(
                        format!("weights.{object}.{field}"),
                        "is no field",
                    ));
                } else if *weight > MAX_WEIGHT {
                    errors.push(crate::FieldError::new(
                        format!("weights.{object}.{field}"),
                        format!("must be at most {MAX_WEIGHT}"),
                    ));
                }
            }
        }
        if !STALE_MONTHS.contains(&self.stale_months) {
            errors.push(crate::FieldError::new("stale_months", "must be 1–120"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }

    /// The weighted fields of an object, the heaviest first: the rules', or else its title and
    /// required fields.
    pub fn weights_of(&self, object: &ObjectDef) -> Vec<(String, u32)> {
        let mut weights: Vec<(String, u32)> = match self.weights.get(&object.name) {
            Some(w) if !w.is_empty() => w
                .iter()
                .filter(|(f, n)| **n > 0 && object.field(f).is_some())
                .map(|(f, n)| (f.clone(), *n))
                .collect(),
            _ => object
                .active_fields()
                .filter(|f| f.required || object.title_fields.contains(&f.name))
                .map(|f| (f.name.clone(), 1))
                .collect(),
        };
        weights.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weights
    }
}

/// One thing wrong with a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Missing { field: String },
    Invalid { field: String },
    Stale { since: DateTime<Utc> },
    Duplicate,
}

/// A record's quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordQuality {
    /// Weighted share of the important fields that hold a value, 0–1.
    pub completeness: f64,
    pub problems: Vec<Problem>,
    /// 0–1: completeness, lowered for invalid values, staleness and being a duplicate.
    pub score: f64,
}

fn valid(field: FieldType, value: &Value) -> bool {
    match (field, value) {
        (FieldType::Email, Value::Text(t)) => crate::value::normalise_email(t).is_some(),
        (FieldType::Phone, Value::Text(t)) => keys::phone(t, DEFAULT_COUNTRY).is_some(),
        (FieldType::Url, Value::Text(t)) => t.starts_with("https://") || t.starts_with("http://"),
        (FieldType::Date, Value::Date(d)) => (1900..=2100).contains(&d.year()),
        (FieldType::Datetime, Value::DateTime(t)) => (1900..=2100).contains(&t.year()),
        _ => true,
    }
}

/// Measure one record.
pub fn assess(
    object: &ObjectDef,
    record: &Record,
    rules: &QualityRules,
    now: DateTime<Utc>,
    duplicates: &HashSet<RecordId>,
) -> RecordQuality {
    let mut problems = Vec::new();
    let weights = rules.weights_of(object);
    let total: u32 = weights.iter().map(|(_, n)| n).sum();
    let mut have = 0u32;
    for (field, weight) in &weights {
        if record.get(field).is_null() {
            problems.push(Problem::Missing { field: field.clone() });
        } else {
            have += weight;
        }
    }
    let completeness = if total == 0 {
        1.0
    } else {
        f64::from(have) / f64::from(total)
    };
    let mut invalid = 0u32;
    for f in object.active_fields() {
        let value = record.get(&f.name);
        if !value.is_null() && !valid(f.field_type, value) {
            invalid += 1;
            problems.push(Problem::Invalid { field: f.name.clone() });
        }
    }
    let stale_before = now.checked_sub_months(Months::new(rules.stale_months)).unwrap_or(now);
    let stale = record.updated_at < stale_before;
    if stale {
        problems.push(Problem::Stale {
            since: record.updated_at,
        });
    }
    let duplicate = duplicates.contains(&record.id);
    if duplicate {
        problems.push(Problem::Duplicate);
    }
    let mut score = completeness * (1.0 - 0.25 * f64::from(invalid.min(2)));
    if stale {
        score *= 0.8;
    }
    if duplicate {
        score *= 0.7;
    }
    RecordQuality {
        completeness,
        problems,
        score,
    }
}

/// Quality summed over a set of records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub records: u64,
    /// Averages, 0–1.
    pub completeness: f64,
    pub score: f64,
    /// Records with at least one invalid value, gone stale, or in an open duplicate pair.
    pub invalid: u64,
    pub stale: u64,
    pub duplicates: u64,
}

impl Summary {
    fn add(&mut self, q: &RecordQuality) {
        self.records += 1;
        self.completeness += q.completeness;
        self.score += q.score;
        self.invalid += u64::from(q.problems.iter().any(|p| matches!(p, Problem::Invalid { .. })));
        self.stale += u64::from(q.problems.iter().any(|p| matches!(p, Problem::Stale { .. })));
        self.duplicates += u64::from(q.problems.contains(&Problem::Duplicate));
    }

    fn finish(mut self) -> Self {
        if self.records > 0 {
            #[allow(clippy::cast_precision_loss)] // record counts are far below 2^52
            let n = self.records as f64;
            self.completeness /= n;
            self.score /= n;
        }
        self
    }
}

/// An object's quality: overall, per owner and per team.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QualityReport {
    pub object: String,
    pub overall: Summary,
    pub by_owner: Vec<(Option<UserId>, Summary)>,
    pub by_team: Vec<(Option<TeamId>, Summary)>,
}

/// One stored day of an object's quality: overall (`scope` "all", `key` ""), per owner
/// ("owner", the user's id) or per team ("team", the team's id; "" for no team).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityDay {
    pub day: chrono::NaiveDate,
    pub object: String,
    pub scope: String,
    pub key: String,
    pub summary: Summary,
}

/// Where the daily quality figures are kept.
#[async_trait]
pub trait QualityStore: Send + Sync {
    /// Keep a day's quality figures of an object (replacing that day's).
    async fn save_quality_day(&self, object: &str, day: NaiveDate, rows: &[QualityDay]) -> Result<()>;
    /// Kept days of one scope and key of an object since a day, oldest first.
    async fn quality_days(&self, object: &str, scope: &str, key: &str, since: NaiveDate) -> Result<Vec<QualityDay>>;
    /// Every row (overall, per owner, per team) of the latest kept day of an object; empty
    /// when no day was kept yet.
    async fn latest_quality_day(&self, object: &str) -> Result<Vec<QualityDay>>;
}

/// What the quality dashboard shows: the rows of the newest kept day the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QualityBoard {
    /// The day the figures were kept; `None` before the first.
    pub day: Option<chrono::NaiveDate>,
    /// Whether the rows are everyone's (data stewards), or only the caller's own and team's.
    pub everyone: bool,
    pub rows: Vec<QualityDay>,
}

/// A user's records with something to fix: how many, and the worst of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixList {
    pub total: usize,
    pub worst: Vec<(Record, RecordQuality)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::standard_objects;

    fn person() -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == "person").unwrap()
    }

    fn record(values: &[(&str, Value)], updated: DateTime<Utc>) -> Record {
        Record {
            values: values.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect(),
            ..Record::new("person", RecordId::new_at(updated), updated, None)
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn completeness_is_weighted_and_problems_are_named() {
        let now = at("2026-11-23T12:00:00Z");
        let rules = QualityRules::default();
        let full = record(
            &[
                ("email", Value::Text("a@b.se".into())),
                ("phone", Value::Text("+46 8 123 456".into())),
                ("company", Value::Relation(RecordId::new_at(now))),
                ("first_name", Value::Text("A".into())),
                ("title", Value::Text("CEO".into())),
                ("city", Value::Text("Lund".into())),
                ("last_name", Value::Text("B".into())),
            ],
            now,
        );
        let q = assess(&person(), &full, &rules, now, &HashSet::new());
        assert_eq!(q.completeness, 1.0);
        assert!(q.problems.is_empty());
        // Only the first name (1 of 10) is there; untouched since 2024 is stale; and it is in a
        // duplicate pair.
        let poor = record(
            &[
                ("last_name", Value::Text("B".into())),
                ("first_name", Value::Text("A".into())),
            ],
            at("2024-01-01T00:00:00Z"),
        );
        let dups: HashSet<RecordId> = [poor.id].into_iter().collect();
        let q = assess(&person(), &poor, &rules, now, &dups);
        assert!((q.completeness - 0.1).abs() < 1e-9, "{}", q.completeness);
        assert!(q.problems.contains(&Problem::Missing { field: "email".into() }));
        assert!(q.problems.iter().any(|p| matches!(p, Problem::Stale { .. })));
        assert!(q.problems.contains(&Problem::Duplicate));
        assert!(q.score < 0.1 * 0.8 * 0.7 + 1e-9);
        let bad = record(&[("phone", Value::Text("12".into()))], now);
        let q = assess(&person(), &bad, &rules, now, &HashSet::new());
        assert!(q.problems.contains(&Problem::Invalid { field: "phone".into() }));
    }

    #[test]
    fn rules_are_checked_against_the_schema() {
        let mut schema = crate::meta::Schema::default();
        for o in standard_objects() {
            schema.objects.insert(o.name.clone(), o);
        }
        assert!(QualityRules::default().check(&schema).is_ok());
        let mut bad = QualityRules::default();
        bad.weights.entry("person".into()).or_default().insert("shoe".into(), 1);
        bad.weights
            .entry("person".into())
            .or_default()
            .insert("email".into(), 1000);
        bad.weights.insert("nope".into(), BTreeMap::new());
        bad.stale_months = 0;
        let err = bad.check(&schema).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "weights.nope",
                "weights.person.email",
                "weights.person.shoe",
                "stale_months"
            ]
        );
    }
}
