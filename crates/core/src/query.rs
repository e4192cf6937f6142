//! List queries: sort keys, keyset cursors and limits.

use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::filter::{ColumnRef, Condition, filter_field};
use crate::ids::{RecordId, UserId};
use crate::meta::{FieldDef, ObjectDef};
use crate::value::{Value, parse_value};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
pub const MAX_SORT_KEYS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: FieldDef,
    pub column: ColumnRef,
    pub descending: bool,
}

/// A sort that cannot be had, with why (400, naming `sort`).
pub fn invalid_sort(message: String) -> Error {
    Error {
        errors: vec![FieldError::new("sort", message.clone())],
        ..Error::new(ErrorCode::InvalidSort, message)
    }
}

/// Parse `f1,-f2`: filterable fields (they carry indexes) and the system timestamps.
pub fn parse_sort(object: &ObjectDef, text: &str) -> Result<Vec<SortKey>> {
    let bad = invalid_sort;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut keys: Vec<SortKey> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (name, descending) = match part.strip_prefix('-') {
            Some(n) => (n, true),
            None => (part.strip_prefix('+').unwrap_or(part), false),
        };
        let field = filter_field(object, name)
            .ok_or_else(|| bad(format!("{name:?} is not a sortable field of {}", object.name)))?;
        if !field.field_type.indexable() {
            return Err(bad(format!(
                "{name:?} is a {} field and cannot be sorted on",
                field.field_type.as_str()
            )));
        }
        if keys.iter().any(|k| k.field.name == field.name) {
            return Err(bad(format!("{name:?} appears twice")));
        }
        keys.push(SortKey {
            column: ColumnRef::of(&field),
            field,
            descending,
        });
        if keys.len() > MAX_SORT_KEYS {
            return Err(bad(format!("at most {MAX_SORT_KEYS} sort fields")));
        }
    }
    Ok(keys)
}

/// Where a page starts: the sort values and id of the last record of the previous page.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub values: Vec<Value>,
    pub id: RecordId,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut items: Vec<Json> = self.values.iter().map(Value::to_json).collect();
        items.push(Json::String(self.id.to_string()));
        URL_SAFE_NO_PAD.encode(Json::Array(items).to_string())
    }

    pub fn decode(text: &str, keys: &[SortKey], now: DateTime<Utc>) -> Result<Cursor> {
        let bad = || {
            Error::new(
                ErrorCode::InvalidCursor,
                "the cursor does not belong to this query; start again without it",
            )
        };
        if text.len() > 8 * 1024 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let json: Json = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let items = json.as_array().ok_or_else(bad)?;
        let (id, values) = items.split_last().ok_or_else(bad)?;
        if values.len() != keys.len() {
            return Err(bad());
        }
        let id = id.as_str().and_then(RecordId::parse).ok_or_else(bad)?;
        let values = values
            .iter()
            .zip(keys)
            .map(|(v, k)| parse_value(&k.field, v, now).map_err(|_| bad()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Cursor { values, id })
    }
}

/// Which records a list shows: live ones, or the trash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Liveness {
    #[default]
    Live,
    Trash,
    /// Live and in the trash (whether a caller may see a record at all).
    Any,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<Condition>,
    pub sort: Vec<SortKey>,
    pub limit: u32,
    pub after: Option<Cursor>,
    pub liveness: Liveness,
    /// Record visibility: only records owned by one of these users (`None`: everyone's).
    /// Kept apart from `filter` because the store plans it differently (see `records::list`).
    pub owners: Option<Vec<UserId>>,
}

impl ListQuery {
    pub fn all() -> Self {
        Self {
            filter: None,
            sort: Vec::new(),
            limit: DEFAULT_LIMIT,
            after: None,
            liveness: Liveness::Live,
            owners: None,
        }
    }
}

pub fn parse_limit(text: Option<&str>) -> Result<u32> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| Error::field("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))),
    }
}

/// Counts (and a sum) per group of records: kanban totals, reports.
#[derive(Debug, Clone)]
pub struct AggregateQuery {
    pub filter: Option<Condition>,
    pub owners: Option<Vec<UserId>>,
    /// Fields to group by (filterable ones; their values come back in order).
    pub group_by: Vec<FieldDef>,
    /// A number, money or percent field to add up per group.
    pub sum: Option<FieldDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRow {
    pub keys: Vec<Value>,
    pub count: i64,
    /// In the field's own unit: minor units for money.
    pub sum: Option<f64>,
}
