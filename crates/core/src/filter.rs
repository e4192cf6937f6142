//! The one filter language of views, selections, reports, exports and the API.
//!
//! A leaf is `{"field": "city", "op": "eq", "value": "Malmö"}`; nodes are `{"and": [...]}`,
//! `{"or": [...]}` and `{"not": {...}}`. [`Filter::parse`] checks the shape, [`Filter::resolve`]
//! checks it against the metadata and parses every value by the field's type, so the store
//! only ever sees a [`Condition`] that is known to be valid.
//!
//! A leaf may name a field of a related record, one hop away: `{"field": "company.city", ...}`
//! on deals. Resolved with the schema ([`Filter::resolve_related`]), it becomes a
//! [`Condition::Related`], which looks only at live related records, and only at those the
//! reader may see once worked out for them ([`Condition::see_related`]); until then at none.

use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::ids::{RecordId, UserId};
use crate::meta::{FieldDef, FieldType, ObjectDef, Schema, system_field};
use crate::period::RelativePeriod;
use crate::value::{Value, json_kind, parse_value};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_DEPTH: usize = 12;
pub const MAX_NODES: usize = 256;
pub const MAX_IN_VALUES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    Contains,
    StartsWith,
    In,
    IsEmpty,
    /// Dates and datetimes within the last N days (up to now).
    InLast,
    /// Dates and datetimes within the next N days (from now).
    InNext,
    /// Dates and datetimes within a period named relative to today in the workspace's time
    /// zone: `this_week`, `last_quarter`, `today`… ([`RelativePeriod`]).
    InPeriod,
    /// The record is in a selection (`{"field": "id", "op": "in_selection", "value": id}`),
    /// as the reader may see it.
    InSelection,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::Contains,
        Op::StartsWith,
        Op::In,
        Op::IsEmpty,
        Op::InLast,
        Op::InNext,
        Op::InPeriod,
        Op::InSelection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::In => "in",
            Op::IsEmpty => "is_empty",
            Op::InLast => "in_last",
            Op::InNext => "in_next",
            Op::InPeriod => "in_period",
            Op::InSelection => "in_selection",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The operators a filter builder offers for a field type, in the order it lists them:
    /// each one the type allows that a single typed value fills (`in` takes a list; `lte` and
    /// `gte` add little to `lt` and `gt`). The web UI's builder asks here, so it can offer
    /// nothing a filter would refuse.
    pub fn offered_for(t: FieldType) -> Vec<Op> {
        Op::BUILDER.into_iter().filter(|o| o.allowed_for(t)).collect()
    }

    /// Every operator a filter builder offers for some field type, in its order.
    pub const BUILDER: [Op; 9] = [
        Op::InLast,
        Op::InNext,
        Op::Contains,
        Op::Eq,
        Op::Ne,
        Op::StartsWith,
        Op::Lt,
        Op::Gt,
        Op::IsEmpty,
    ];

    /// Which operators a field type allows.
    pub fn allowed_for(self, t: FieldType) -> bool {
        use FieldType as T;
        match self {
            Op::IsEmpty => true,
            Op::Eq | Op::Ne => !matches!(t, T::MultiSelect | T::LongText),
            // Text compares alphabetically (byte order): "last names M–Z" splits a call list.
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => t.is_ordered() || matches!(t, T::Text | T::Email),
            Op::Contains => t.is_textual() || t == T::MultiSelect,
            Op::StartsWith => t.is_textual() && t != T::LongText,
            Op::In => matches!(
                t,
                T::Text | T::Email | T::Phone | T::Url | T::Select | T::Number | T::Relation | T::User | T::MultiSelect
            ),
            Op::InLast | Op::InNext | Op::InPeriod => matches!(t, T::Date | T::Datetime),
            // Only on `id`, which is no field (see `resolve_leaf`).
            Op::InSelection => false,
        }
    }
}

/// The filter as written: shape checked, fields and values not yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Leaf { field: String, op: Op, value: Json },
}

/// An invalid filter, naming where in it (`filter.and[0].value`).
pub fn invalid(path: &str, message: impl Into<String>) -> Error {
    let message = message.into();
    Error {
        code: ErrorCode::InvalidFilter,
        detail: format!("{path}: {message}"),
        errors: vec![FieldError::new(path, message)],
        current: None,
        retry_after: None,
        existing: None,
    }
}

impl Filter {
    /// Parse the filter text given in a URL or a saved view.
    pub fn parse_str(text: &str) -> Result<Filter> {
        if text.len() > 64 * 1024 {
            return Err(invalid("filter", "is longer than 64 KiB"));
        }
        let json: Json =
            serde_json::from_str(text).map_err(|e| invalid("filter", format!("is not valid JSON: {e}")))?;
        Filter::parse(&json)
    }

    pub fn parse(json: &Json) -> Result<Filter> {
        let mut nodes = 0;
        parse_node(json, "filter", 0, &mut nodes)
    }

    /// Whether a period relative to today is named anywhere in it (so resolving it needs the
    /// workspace's time zone).
    pub fn names_period(&self) -> bool {
        match self {
            Filter::And(items) | Filter::Or(items) => items.iter().any(Filter::names_period),
            Filter::Not(inner) => inner.names_period(),
            Filter::Leaf { op, .. } => *op == Op::InPeriod,
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Filter::And(items) => {
                json!({ "and": items.iter().map(Filter::to_json).collect::<Vec<_>>() })
            }
            Filter::Or(items) => {
                json!({ "or": items.iter().map(Filter::to_json).collect::<Vec<_>>() })
            }
            Filter::Not(inner) => json!({ "not": inner.to_json() }),
            Filter::Leaf { field, op, value } => {
                json!({ "field": field, "op": op.as_str(), "value": value })
            }
        }
    }

    /// Check against an object's fields and parse the values; `now` resolves relative dates,
    /// with days beginning in UTC.
    pub fn resolve(&self, object: &ObjectDef, now: DateTime<Utc>) -> Result<Condition> {
        self.resolve_in(object, now, Tz::UTC)
    }

    /// [`Filter::resolve`] with days, weeks and months beginning in a time zone (the
    /// workspace's). A field of a related record (`company.city`) needs the schema: see
    /// [`Filter::resolve_related`].
    pub fn resolve_in(&self, object: &ObjectDef, now: DateTime<Utc>, zone: Tz) -> Result<Condition> {
        resolve_node(
            self,
            object,
            At {
                now,
                zone,
                schema: None,
            },
            "filter",
        )
    }

    /// [`Filter::resolve_in`], with leaves on a related record's fields (`company.city`)
    /// checked against the related object in the schema. Their conditions look at no related
    /// record until worked out for a reader ([`Condition::see_related`]).
    pub fn resolve_related(
        &self,
        schema: &Schema,
        object: &ObjectDef,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Condition> {
        resolve_node(
            self,
            object,
            At {
                now,
                zone,
                schema: Some(schema),
            },
            "filter",
        )
    }
}

fn parse_node(json: &Json, path: &str, depth: usize, nodes: &mut usize) -> Result<Filter> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(invalid(path, format!("the filter has more than {MAX_NODES} nodes")));
    }
    if depth > MAX_DEPTH {
        return Err(invalid(
            path,
            format!("the filter nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let obj = json
        .as_object()
        .ok_or_else(|| invalid(path, format!("must be an object, not {}", json_kind(json))))?;
    for key in ["and", "or"] {
        if let Some(items) = obj.get(key) {
            only_key(obj, key, path)?;
            let items = items
                .as_array()
                .ok_or_else(|| invalid(&format!("{path}.{key}"), "must be a list"))?;
            if items.is_empty() {
                return Err(invalid(&format!("{path}.{key}"), "must not be empty"));
            }
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &format!("{path}.{key}[{i}]"), depth + 1, nodes))
                .collect::<Result<Vec<_>>>()?;
            return Ok(if key == "and" {
                Filter::And(parsed)
            } else {
                Filter::Or(parsed)
            });
        }
    }
    if let Some(inner) = obj.get("not") {
        only_key(obj, "not", path)?;
        return Ok(Filter::Not(Box::new(parse_node(
            inner,
            &format!("{path}.not"),
            depth + 1,
            nodes,
        )?)));
    }
    for key in obj.keys() {
        if !matches!(key.as_str(), "field" | "op" | "value") {
            return Err(invalid(
                path,
                format!("unknown key {key:?}; a leaf has field, op and value"),
            ));
        }
    }
    let field = obj
        .get("field")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid(&format!("{path}.field"), "must be a field name"))?;
    let op_text = obj
        .get("op")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid(&format!("{path}.op"), "must be an operator name"))?;
    let op = Op::parse(op_text).ok_or_else(|| {
        let names: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
        invalid(&format!("{path}.op"), format!("must be one of {}", names.join(", ")))
    })?;
    let value = obj.get("value").cloned().unwrap_or(Json::Null);
    Ok(Filter::Leaf {
        field: field.to_string(),
        op,
        value,
    })
}

fn only_key(obj: &Map<String, Json>, key: &str, path: &str) -> Result<()> {
    if obj.len() == 1 {
        Ok(())
    } else {
        Err(invalid(path, format!("a {key:?} node holds nothing else")))
    }
}

/// A column of a record table, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef {
    pub column: String,
    pub field_type: FieldType,
}

impl ColumnRef {
    pub fn of(field: &FieldDef) -> Self {
        Self {
            column: field.name.clone(),
            field_type: field.field_type,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A filter known to be valid, with typed values: what the store turns into SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        column: ColumnRef,
        cmp: Compare,
        value: Value,
    },
    In {
        column: ColumnRef,
        values: Vec<Value>,
    },
    /// Case-insensitive substring or prefix match on text.
    Like {
        column: ColumnRef,
        needle: String,
        prefix_only: bool,
    },
    /// A multi-select holds this choice (among others).
    HasChoice {
        column: ColumnRef,
        choice: String,
    },
    IsEmpty {
        column: ColumnRef,
        empty: bool,
    },
    /// An activity linked to this record (the timeline of a company, person or deal).
    LinkedTo {
        object: String,
        id: RecordId,
    },
    /// A member of a selection: worked out for the reader ([`Crm::expand_selections`]) into
    /// [`Condition::AmongIds`] before it reaches a store.
    ///
    /// [`Crm::expand_selections`]: crate::service::Crm::expand_selections
    InSelection(crate::ids::SelectionId),
    /// One of these records (however many: the store passes them as one value).
    AmongIds(std::sync::Arc<Vec<RecordId>>),
    /// The record's relation (`column`) holds a live record of `object` that matches
    /// `condition` and is among those `owners` allows (`company.city eq Malmö`, one hop).
    /// Never unknown: false when the relation is empty. A leaf saying "not" or "empty" of a
    /// related field is the negation of one of these (`ne` is "not eq", `is_empty` "not
    /// non-empty"), so a record whose related record is missing, in the trash or out of the
    /// reader's sight reads as one with no related record at all.
    Related {
        column: ColumnRef,
        object: String,
        condition: Box<Condition>,
        owners: Sight,
    },
}

/// Whose records of a related object a [`Condition::Related`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// Not worked out for a reader yet: no one's, so a condition that never was learns nothing
    /// about any related record.
    Unknown,
    /// Everyone's.
    All,
    /// These owners' only.
    Owners(Vec<UserId>),
}

impl Sight {
    /// A reader's visible owners of an object (`None`: all of them).
    pub fn of(owners: Option<Vec<UserId>>) -> Sight {
        owners.map_or(Sight::All, Sight::Owners)
    }
}

impl Condition {
    /// Whether a selection is named anywhere in it.
    pub fn names_selection(&self) -> bool {
        match self {
            Condition::And(items) | Condition::Or(items) => items.iter().any(Condition::names_selection),
            Condition::Not(inner) => inner.names_selection(),
            Condition::InSelection(_) => true,
            _ => false,
        }
    }

    /// The related objects it looks at (by name).
    pub fn related_objects(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_related(&mut out);
        out
    }

    fn collect_related(&self, out: &mut BTreeSet<String>) {
        match self {
            Condition::And(items) | Condition::Or(items) => {
                for item in items {
                    item.collect_related(out);
                }
            }
            Condition::Not(inner) => inner.collect_related(out),
            Condition::Related { object, .. } => {
                out.insert(object.clone());
            }
            _ => {}
        }
    }

    /// Work it out for a reader: each related object looked at only among the records the
    /// reader may see (their visible owners per object, `None` for all; an object not named
    /// stays unseen).
    pub fn see_related(self, owners: &BTreeMap<String, Option<Vec<UserId>>>) -> Condition {
        match self {
            Condition::And(items) => Condition::And(items.into_iter().map(|c| c.see_related(owners)).collect()),
            Condition::Or(items) => Condition::Or(items.into_iter().map(|c| c.see_related(owners)).collect()),
            Condition::Not(inner) => Condition::Not(Box::new(inner.see_related(owners))),
            Condition::Related {
                column,
                object,
                condition,
                owners: _,
            } => {
                let sight = owners.get(&object).map_or(Sight::Unknown, |o| Sight::of(o.clone()));
                Condition::Related {
                    column,
                    object,
                    condition,
                    owners: sight,
                }
            }
            other => other,
        }
    }
}

/// A relation of `object` that a related record's field is reached through (`company` of
/// `company.city`), and the object it points at; else why not.
pub fn relation_target<'a>(
    schema: &'a Schema,
    object: &ObjectDef,
    name: &str,
) -> std::result::Result<(FieldDef, &'a ObjectDef), String> {
    let field = match object.field(name) {
        Some(f) if !f.filterable => return Err(format!("{name:?} is not filterable")),
        Some(f) => f,
        None => return Err(format!("{} has no field {name:?}", object.name)),
    };
    if field.field_type != FieldType::Relation {
        return Err(format!(
            "{name:?} is no relation: it has no related record whose fields could be named"
        ));
    }
    let target = field
        .target
        .as_deref()
        .and_then(|t| schema.object(t).ok())
        .ok_or_else(|| format!("{name:?} points at no object there is"))?;
    Ok((field.clone(), target))
}

/// A related record's field split off its relation: `company.city` → (`company`, `city`);
/// none for an own field. A name reaching further than one relation is a mistake.
pub fn split_related(name: &str) -> Option<std::result::Result<(&str, &str), String>> {
    let (relation, field) = name.split_once('.')?;
    if field.contains('.') {
        return Some(Err(format!(
            "{name:?} reaches through more than one relation; a related record's own fields only"
        )));
    }
    Some(Ok((relation, field)))
}

/// A field that may appear in a filter or sort: an active, filterable field, or a system one.
pub fn filter_field(object: &ObjectDef, name: &str) -> Option<FieldDef> {
    match object.field(name) {
        Some(f) if f.filterable => Some(f.clone()),
        Some(_) => None,
        None => system_field(name),
    }
}

/// When a filter is resolved: now, where its days begin, and the schema related records are
/// found in (none: a related record's field is refused).
#[derive(Debug, Clone, Copy)]
struct At<'a> {
    now: DateTime<Utc>,
    zone: Tz,
    schema: Option<&'a Schema>,
}

fn resolve_node(node: &Filter, object: &ObjectDef, now: At<'_>, path: &str) -> Result<Condition> {
    match node {
        Filter::And(items) => Ok(Condition::And(
            items
                .iter()
                .enumerate()
                .map(|(i, f)| resolve_node(f, object, now, &format!("{path}.and[{i}]")))
                .collect::<Result<_>>()?,
        )),
        Filter::Or(items) => Ok(Condition::Or(
            items
                .iter()
                .enumerate()
                .map(|(i, f)| resolve_node(f, object, now, &format!("{path}.or[{i}]")))
                .collect::<Result<_>>()?,
        )),
        Filter::Not(inner) => Ok(Condition::Not(Box::new(resolve_node(
            inner,
            object,
            now,
            &format!("{path}.not"),
        )?))),
        Filter::Leaf { field, op, value } => resolve_leaf(field, *op, value, object, now, path),
    }
}

/// A leaf on a related record's field (`company.city`): the relation holds a live record the
/// reader may see whose field matches; `ne` and `is_empty` as the negations of `eq` and of
/// "not empty", so a record without a related record (or one in the trash, or out of sight)
/// is "not Malmö" and "empty", as one without a city of its own would be.
fn resolve_related_leaf(
    relation: &str,
    name: &str,
    op: Op,
    value: &Json,
    object: &ObjectDef,
    at: At<'_>,
    path: &str,
) -> Result<Condition> {
    let field_path = format!("{path}.field");
    let Some(schema) = at.schema else {
        return Err(invalid(
            &field_path,
            format!("{relation}.{name} is a related record's field, which this filter cannot reach"),
        ));
    };
    let (relation, target) = relation_target(schema, object, relation).map_err(|m| invalid(&field_path, m))?;
    if op == Op::InSelection || name == "id" {
        return Err(invalid(
            &format!("{path}.op"),
            "a related record is filtered by its fields; filter the relation itself for the record",
        ));
    }
    let inner = resolve_leaf(name, op, value, target, At { schema: None, ..at }, path)?;
    let related = |condition: Condition| Condition::Related {
        column: ColumnRef::of(&relation),
        object: target.name.clone(),
        condition: Box::new(condition),
        owners: Sight::Unknown,
    };
    Ok(match inner {
        Condition::IsEmpty { column, empty: true } => {
            Condition::Not(Box::new(related(Condition::IsEmpty { column, empty: false })))
        }
        Condition::Compare {
            column,
            cmp: Compare::Ne,
            value,
        } => Condition::Not(Box::new(related(Condition::Compare {
            column,
            cmp: Compare::Eq,
            value,
        }))),
        other => related(other),
    })
}

fn resolve_leaf(name: &str, op: Op, value: &Json, object: &ObjectDef, at: At<'_>, path: &str) -> Result<Condition> {
    let now = at.now;
    if let Some(split) = split_related(name) {
        let (relation, field) = split.map_err(|m| invalid(&format!("{path}.field"), m))?;
        return resolve_related_leaf(relation, field, op, value, object, at, path);
    }
    if op == Op::InSelection || name == "id" {
        if name != "id" || op != Op::InSelection {
            return Err(invalid(
                &format!("{path}.op"),
                "records are filtered by id only as members of a selection: field id, op in_selection",
            ));
        }
        return value
            .as_str()
            .and_then(crate::ids::SelectionId::parse)
            .map(Condition::InSelection)
            .ok_or_else(|| invalid(&format!("{path}.value"), "must be a selection's id"));
    }
    let field = match object.field(name) {
        Some(f) if !f.filterable => {
            return Err(invalid(&format!("{path}.field"), format!("{name:?} is not filterable")));
        }
        Some(f) => f.clone(),
        None => system_field(name).ok_or_else(|| {
            invalid(
                &format!("{path}.field"),
                format!("{} has no field {name:?}", object.name),
            )
        })?,
    };
    if !op.allowed_for(field.field_type) {
        return Err(invalid(
            &format!("{path}.op"),
            format!("{} does not apply to {} fields", op.as_str(), field.field_type.as_str()),
        ));
    }
    let column = ColumnRef::of(&field);
    let value_path = format!("{path}.value");
    let typed = |json: &Json| -> Result<Value> {
        match parse_value(&field, json, now) {
            Ok(Value::Null) => Err(invalid(&value_path, "must not be null; use is_empty")),
            Ok(v) => Ok(v),
            Err(message) => Err(invalid(&value_path, message)),
        }
    };
    let compare = |cmp: Compare| -> Result<Condition> {
        Ok(Condition::Compare {
            column: column.clone(),
            cmp,
            value: typed(value)?,
        })
    };
    match op {
        // Answered before the field is looked up.
        Op::InSelection => Err(invalid(&format!("{path}.op"), "in_selection applies to id only")),
        Op::Eq => compare(Compare::Eq),
        Op::Ne => compare(Compare::Ne),
        Op::Lt => compare(Compare::Lt),
        Op::Lte => compare(Compare::Lte),
        Op::Gt => compare(Compare::Gt),
        Op::Gte => compare(Compare::Gte),
        Op::Contains | Op::StartsWith => {
            let needle = value
                .as_str()
                .ok_or_else(|| invalid(&value_path, format!("must be a string, not {}", json_kind(value))))?;
            if needle.is_empty() || needle.chars().count() > 200 {
                return Err(invalid(&value_path, "must be 1–200 characters"));
            }
            if !crate::text::storable(needle) {
                return Err(invalid(&value_path, "must not contain NUL characters"));
            }
            if field.field_type == FieldType::MultiSelect {
                if !field.has_choice(needle) {
                    return Err(invalid(&value_path, format!("{needle:?} is not a choice of {name}")));
                }
                return Ok(Condition::HasChoice {
                    column,
                    choice: needle.to_string(),
                });
            }
            Ok(Condition::Like {
                column,
                needle: needle.to_string(),
                prefix_only: op == Op::StartsWith,
            })
        }
        Op::In => {
            let items = value
                .as_array()
                .ok_or_else(|| invalid(&value_path, format!("must be a list, not {}", json_kind(value))))?;
            if items.is_empty() || items.len() > MAX_IN_VALUES {
                return Err(invalid(&value_path, format!("must hold 1–{MAX_IN_VALUES} values")));
            }
            if field.field_type == FieldType::MultiSelect {
                let mut any = Vec::with_capacity(items.len());
                for item in items {
                    let choice = item
                        .as_str()
                        .filter(|c| field.has_choice(c))
                        .ok_or_else(|| invalid(&value_path, "must be a list of this field's choices"))?;
                    any.push(Condition::HasChoice {
                        column: column.clone(),
                        choice: choice.to_string(),
                    });
                }
                return Ok(Condition::Or(any));
            }
            let values = items.iter().map(typed).collect::<Result<Vec<_>>>()?;
            Ok(Condition::In { column, values })
        }
        Op::IsEmpty => {
            let empty = match value {
                Json::Null => true,
                Json::Bool(b) => *b,
                other => {
                    return Err(invalid(
                        &value_path,
                        format!("must be true, false or left out, not {}", json_kind(other)),
                    ));
                }
            };
            Ok(Condition::IsEmpty { column, empty })
        }
        Op::InPeriod => {
            let period = value.as_str().and_then(RelativePeriod::parse).ok_or_else(|| {
                invalid(
                    &value_path,
                    format!("must be one of {}", RelativePeriod::NAMES.join(", ")),
                )
            })?;
            let today = now.with_timezone(&at.zone).date_naive();
            let (first, end) = period.days(today);
            let bound = |day| match field.field_type {
                FieldType::Date => Value::Date(day),
                _ => Value::DateTime(crate::zone::start_of_day(at.zone, day)),
            };
            Ok(Condition::And(vec![
                Condition::Compare {
                    column: column.clone(),
                    cmp: Compare::Gte,
                    value: bound(first),
                },
                Condition::Compare {
                    column,
                    cmp: Compare::Lt,
                    value: bound(end),
                },
            ]))
        }
        Op::InLast | Op::InNext => {
            let days = value
                .as_u64()
                .filter(|d| (1..=36_500).contains(d))
                .ok_or_else(|| invalid(&value_path, "must be a whole number of days from 1 to 36500"))?;
            let span = chrono::Duration::days(i64::try_from(days).unwrap_or(36_500));
            let (from, to) = if op == Op::InLast {
                (now - span, now)
            } else {
                (now, now + span)
            };
            let bound = |t: DateTime<Utc>| match field.field_type {
                FieldType::Date => Value::Date(t.date_naive()),
                _ => Value::DateTime(t),
            };
            Ok(Condition::And(vec![
                Condition::Compare {
                    column: column.clone(),
                    cmp: Compare::Gte,
                    value: bound(from),
                },
                Condition::Compare {
                    column,
                    cmp: Compare::Lte,
                    value: bound(to),
                },
            ]))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_builder_offers_what_filters_accept_and_each_type_something() {
        use super::Op;
        use crate::meta::FieldType;
        for t in FieldType::ALL {
            let offered = Op::offered_for(t);
            assert!(offered.contains(&Op::IsEmpty), "{t:?}");
            assert!(offered.iter().all(|o| o.allowed_for(t)), "{t:?}: {offered:?}");
        }
        assert_eq!(
            Op::offered_for(FieldType::MultiSelect),
            [Op::Contains, Op::IsEmpty],
            "a multi-select is matched by a choice it holds, never equal to one"
        );
        assert!(Op::offered_for(FieldType::Date).contains(&Op::InNext));
        assert!(!Op::offered_for(FieldType::LongText).contains(&Op::Eq));
    }

    use super::*;
    use crate::meta::standard_objects;
    use proptest::prelude::*;

    fn person() -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == "person").unwrap()
    }

    fn deal() -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == "deal").unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn resolve(obj: &ObjectDef, j: Json) -> Result<Condition> {
        Filter::parse(&j)?.resolve(obj, now())
    }

    #[test]
    fn a_leaf_and_its_combinators() {
        let c = resolve(
            &person(),
            json!({"and": [
                {"field": "city", "op": "eq", "value": "Malmö"},
                {"not": {"field": "email", "op": "is_empty"}},
                {"or": [{"field": "last_name", "op": "starts_with", "value": "Berg"}]}
            ]}),
        )
        .unwrap();
        let Condition::And(items) = c else {
            panic!("and expected")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Condition::Compare { value: Value::Text(t), .. } if t == "Malmö"));
    }

    #[test]
    fn unknown_fields_and_wrong_operators_are_named() {
        let e = resolve(&person(), json!({"field": "nope", "op": "eq", "value": 1})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFilter);
        assert_eq!(e.errors[0].field, "filter.field");
        let e = resolve(&person(), json!({"field": "company", "op": "gt", "value": "a"})).unwrap_err();
        assert_eq!(e.errors[0].field, "filter.op");
        let e = resolve(&deal(), json!({"field": "amount", "op": "eq", "value": "lots"})).unwrap_err();
        assert_eq!(e.errors[0].field, "filter.value");
        let e = resolve(
            &deal(),
            json!({"field": "stage", "op": "eq", "value": "'; DROP TABLE obj_deal;--"}),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFilter);
        let e = resolve(
            &person(),
            json!({"field": "city", "op": "eq", "value": "x", "extra": 1}),
        )
        .unwrap_err();
        assert!(e.detail.contains("extra"));
        let e = resolve(&person(), json!({"and": []})).unwrap_err();
        assert_eq!(e.errors[0].field, "filter.and");
        let e = resolve(
            &person(),
            json!({"and": [{"field": "city", "op": "eq", "value": null}]}),
        )
        .unwrap_err();
        assert_eq!(e.errors[0].field, "filter.and[0].value");
    }

    #[test]
    fn a_related_records_field_is_checked_against_its_object_and_sees_nothing_until_worked_out() {
        let schema = Schema {
            objects: standard_objects().into_iter().map(|o| (o.name.clone(), o)).collect(),
            ..Default::default()
        };
        let related = |j: Json| Filter::parse(&j)?.resolve_related(&schema, &deal(), now(), Tz::UTC);
        let c = related(json!({"field": "company.city", "op": "eq", "value": "Malmö"})).unwrap();
        let Condition::Related {
            column,
            object,
            condition,
            owners,
        } = &c
        else {
            panic!("related expected: {c:?}")
        };
        assert_eq!((column.column.as_str(), object.as_str()), ("company", "company"));
        assert_eq!(
            owners,
            &Sight::Unknown,
            "no one's records until worked out for a reader"
        );
        assert!(
            matches!(condition.as_ref(), Condition::Compare { cmp: Compare::Eq, value: Value::Text(t), .. } if t == "Malmö")
        );
        // "Not" and "empty" are the negations, so no related record reads as an empty one.
        for (op, value) in [("ne", json!("Malmö")), ("is_empty", json!(true))] {
            let c = related(json!({"field": "company.city", "op": op, "value": value})).unwrap();
            assert!(
                matches!(&c, Condition::Not(inner) if matches!(inner.as_ref(), Condition::Related { .. })),
                "{op}"
            );
        }
        let c = related(json!({"field": "company.owner", "op": "is_empty", "value": false})).unwrap();
        assert!(matches!(c, Condition::Related { .. }));
        for (leaf, place) in [
            (
                json!({"field": "company.nope", "op": "eq", "value": "x"}),
                "filter.field",
            ),
            (json!({"field": "nope.city", "op": "eq", "value": "x"}), "filter.field"),
            (json!({"field": "stage.city", "op": "eq", "value": "x"}), "filter.field"),
            (
                json!({"field": "company.city.name", "op": "eq", "value": "x"}),
                "filter.field",
            ),
            (
                json!({"field": "company.address", "op": "eq", "value": "x"}),
                "filter.field",
            ),
            (
                json!({"field": "company.city", "op": "in_last", "value": 3}),
                "filter.op",
            ),
            (
                json!({"field": "company.id", "op": "in_selection", "value": "x"}),
                "filter.op",
            ),
            (
                json!({"not": {"field": "company.city", "op": "eq", "value": null}}),
                "filter.not.value",
            ),
        ] {
            let e = related(leaf.clone()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidFilter, "{leaf}");
            assert_eq!(e.errors[0].field, place, "{leaf}");
        }
        let e = resolve(&deal(), json!({"field": "company.city", "op": "eq", "value": "x"})).unwrap_err();
        assert_eq!(e.errors[0].field, "filter.field", "no schema, no related records");
        // Worked out for a reader: only the owners they may see, per related object.
        let nils = UserId(uuid::Uuid::nil());
        let c = related(json!({"or": [{"field": "company.city", "op": "eq", "value": "Lund"}]})).unwrap();
        assert_eq!(c.related_objects().into_iter().collect::<Vec<_>>(), ["company"]);
        let seen = c.see_related(&BTreeMap::from([("company".to_string(), Some(vec![nils]))]));
        let Condition::Or(items) = seen else { panic!() };
        assert!(matches!(&items[0], Condition::Related { owners: Sight::Owners(o), .. } if o == &[nils]));
    }

    #[test]
    fn relative_dates_become_ranges() {
        let c = resolve(
            &deal(),
            json!({"field": "expected_close", "op": "in_next", "value": 30}),
        )
        .unwrap();
        let Condition::And(bounds) = c else { panic!() };
        assert!(
            matches!(&bounds[1], Condition::Compare { value: Value::Date(d), .. } if d.to_string() == "2026-12-23")
        );
        let c = resolve(
            &deal(),
            json!({"field": "expected_close", "op": "gte", "value": "today-7d"}),
        )
        .unwrap();
        assert!(matches!(c, Condition::Compare { value: Value::Date(d), .. } if d.to_string() == "2026-11-16"));
    }

    #[test]
    fn deep_and_wide_filters_are_refused() {
        let mut j = json!({"field": "city", "op": "eq", "value": "x"});
        for _ in 0..20 {
            j = json!({"not": j});
        }
        assert!(Filter::parse(&j).is_err());
        let wide: Vec<Json> = (0..300)
            .map(|_| json!({"field": "city", "op": "eq", "value": "x"}))
            .collect();
        assert!(Filter::parse(&json!({"or": wide})).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null)),
            "[a-z_ ]{0,12}".prop_map(Json::String),
            prop_oneof![
                Just("and"),
                Just("or"),
                Just("not"),
                Just("field"),
                Just("op"),
                Just("value"),
                Just("eq"),
                Just("city"),
                Just("in")
            ]
            .prop_map(|s| Json::String(s.to_string())),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("and".to_string()),
                        Just("or".to_string()),
                        Just("not".to_string()),
                        Just("field".to_string()),
                        Just("op".to_string()),
                        Just("value".to_string()),
                        "[a-z]{1,4}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_leaf() -> impl Strategy<Value = Filter> {
        let fields = prop_oneof![
            Just("first_name"),
            Just("last_name"),
            Just("email"),
            Just("city"),
            Just("company"),
            Just("created_at"),
            Just("owner"),
            Just("nope")
        ];
        let ops = prop::sample::select(Op::ALL.to_vec());
        let values = prop_oneof![
            Just(Json::Null),
            "[A-Za-zåäö' %_;-]{0,10}".prop_map(Json::String),
            (0u64..100).prop_map(|n| json!(n)),
            Just(json!(["a", "b"])),
            Just(json!("2026-01-01T00:00:00Z")),
            Just(json!("0190f1c0-0000-7000-8000-000000000000")),
        ];
        (fields, ops, values).prop_map(|(f, op, value)| Filter::Leaf {
            field: f.to_string(),
            op,
            value,
        })
    }

    fn arb_filter() -> impl Strategy<Value = Filter> {
        arb_leaf().prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Filter::And),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Filter::Or),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_parses_or_fails_cleanly(j in arb_json()) {
            if let Ok(f) = Filter::parse(&j) {
                let _ = f.resolve(&person(), now());
            }
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(s in ".{0,200}") {
            let _ = Filter::parse_str(&s);
        }

        #[test]
        fn well_formed_filters_round_trip(f in arb_filter()) {
            let again = Filter::parse(&f.to_json()).unwrap();
            prop_assert_eq!(&again, &f);
            // Resolving either succeeds or fails with a filter error naming a path.
            match f.resolve(&person(), now()) {
                Ok(_) => {}
                Err(e) => {
                    prop_assert_eq!(e.code, ErrorCode::InvalidFilter);
                    prop_assert!(e.errors[0].field.starts_with("filter"));
                }
            }
        }
    }
}
