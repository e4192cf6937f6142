//! Records: their system properties, their typed values, and the input that changes them.

use crate::error::{Error, FieldError, Result};
use crate::ids::{RecordId, UserId};
use crate::meta::{FieldType, ObjectDef, SYSTEM_COLUMNS, Schema};
use crate::number::{self, NumberFormat};
use crate::query::{AggregateQuery, AggregateRow, ListQuery};
use crate::value::{Value, format_datetime, parse_value};
use crate::write::WriteCtx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// An activity's link to any record ("links to any records").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    pub object: String,
    pub id: RecordId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub object: String,
    pub id: RecordId,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<UserId>,
    pub owner: Option<UserId>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Values of every field the table holds, archived ones included; the API shows active ones.
    pub values: BTreeMap<String, Value>,
    pub links: Vec<Link>,
    /// What the caller reading it may not see of what it points at (set by the use cases that
    /// read for a caller; empty as stored).
    pub withheld: Withheld,
}

/// Relations and links of a record that point at records the caller may not see. Their values
/// are taken out of the record: "a record you may not see", never its id or name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Withheld {
    /// Relation fields whose value was taken out.
    pub fields: Vec<String>,
    /// The object of each link taken out.
    pub links: Vec<String>,
}

impl Withheld {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.links.is_empty()
    }
}

impl Record {
    /// A new record of `object`, made at `at` by `by` (its owner too), version 1, no values
    /// yet: the fields that differ are set on top (`Record { values, ..Record::new(…) }`).
    pub fn new(object: impl Into<String>, id: RecordId, at: DateTime<Utc>, by: Option<UserId>) -> Record {
        Record {
            object: object.into(),
            id,
            version: 1,
            created_at: at,
            created_by: by,
            updated_at: at,
            updated_by: by,
            owner: by,
            deleted_at: None,
            values: BTreeMap::new(),
            links: Vec::new(),
            withheld: Withheld::default(),
        }
    }

    pub fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }

    /// The value a sort key reads: a field's, or one of the sortable system properties.
    pub fn sort_value(&self, name: &str) -> Value {
        match name {
            "created_at" => Value::DateTime(self.created_at),
            "updated_at" => Value::DateTime(self.updated_at),
            "owner" => self.owner.map_or(Value::Null, Value::User),
            "created_by" => self.created_by.map_or(Value::Null, Value::User),
            field => self.get(field).clone(),
        }
    }

    /// The record's name as lists and search show it.
    pub fn title(&self, object: &ObjectDef) -> String {
        let parts: Vec<String> = object
            .title_fields
            .iter()
            .filter_map(|f| self.get(f).to_text())
            .collect();
        parts.join(" ")
    }

    /// The API representation: system properties, then every active field.
    pub fn to_json(&self, object: &ObjectDef) -> Json {
        let mut map = Map::new();
        let opt = |v: Option<String>| v.map_or(Json::Null, Json::String);
        map.insert("id".into(), Json::String(self.id.to_string()));
        map.insert("object".into(), Json::String(self.object.clone()));
        map.insert("version".into(), Json::from(self.version));
        map.insert("created_at".into(), Json::String(format_datetime(&self.created_at)));
        map.insert("created_by".into(), opt(self.created_by.map(|u| u.to_string())));
        map.insert("updated_at".into(), Json::String(format_datetime(&self.updated_at)));
        map.insert("updated_by".into(), opt(self.updated_by.map(|u| u.to_string())));
        map.insert("owner".into(), opt(self.owner.map(|u| u.to_string())));
        map.insert("deleted_at".into(), opt(self.deleted_at.as_ref().map(format_datetime)));
        for field in object.active_fields() {
            // A relation to a record the caller may not see is left out: sent back unchanged,
            // nothing is lost; the list below says it is there.
            if self.withheld.fields.contains(&field.name) {
                continue;
            }
            map.insert(field.name.clone(), self.get(&field.name).to_json());
        }
        if object.is_activity() {
            let links: Vec<Json> = self
                .links
                .iter()
                .map(|l| serde_json::json!({"object": l.object, "id": l.id.to_string()}))
                .chain(
                    self.withheld
                        .links
                        .iter()
                        .map(|o| serde_json::json!({"object": o, "withheld": true})),
                )
                .collect();
            map.insert("links".into(), Json::Array(links));
        }
        // A field named so before the name was reserved keeps its value.
        if !self.withheld.fields.is_empty() && object.field("withheld").is_none() {
            map.insert("withheld".into(), serde_json::json!(self.withheld.fields));
        }
        Json::Object(map)
    }

    /// The ETag of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Whether the input makes a record or changes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Create,
    Update,
}

/// A parsed, validated write: typed values for named fields, plus the system properties a
/// client may set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordInput {
    pub values: BTreeMap<String, Value>,
    pub owner: Option<Option<UserId>>,
    pub version: Option<i64>,
    pub links: Option<Vec<Link>>,
}

pub const MAX_LINKS: usize = 100;

impl RecordInput {
    /// Parse a JSON body for an object. Every problem is collected, each naming its field.
    pub fn parse(
        schema: &Schema,
        object: &ObjectDef,
        body: &Json,
        mode: InputMode,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let map = body
            .as_object()
            .ok_or_else(|| Error::field("body", "must be a JSON object of field names and values"))?;
        let mut input = RecordInput::default();
        let mut errors: Vec<FieldError> = Vec::new();
        for (key, json) in map {
            match key.as_str() {
                "version" => match json.as_i64() {
                    Some(v) if v >= 1 => input.version = Some(v),
                    _ => errors.push(FieldError::new(
                        "version",
                        "must be the record's version, a whole number from 1",
                    )),
                },
                "owner" => match json {
                    Json::Null => input.owner = Some(None),
                    Json::String(s) => match UserId::parse(s) {
                        Some(u) => input.owner = Some(Some(u)),
                        None => errors.push(FieldError::new("owner", "must be a user id")),
                    },
                    _ => errors.push(FieldError::new("owner", "must be a user id")),
                },
                // Echoed back from a GET: which relations were withheld is not the client's to say.
                "withheld" if object.any_field("withheld").is_none() => {}
                "links" if object.is_activity() => match parse_links(schema, json) {
                    Ok(links) => input.links = Some(links),
                    Err(e) => errors.push(e),
                },
                "object" | "id" => {
                    // Echoing these back from a GET is harmless when they match.
                    let matches = match key.as_str() {
                        "object" => json.as_str() == Some(object.name.as_str()),
                        _ => mode == InputMode::Update,
                    };
                    if !matches {
                        errors.push(FieldError::new(key.clone(), "is set by the system"));
                    }
                }
                k if SYSTEM_COLUMNS.contains(&k) => {
                    // Read-only system properties sent back unchanged are ignored, so a client
                    // can PATCH what it got from GET.
                }
                k => match object.any_field(k) {
                    None => errors.push(FieldError::new(k, format!("{} has no field {k:?}", object.name))),
                    Some(f) if f.archived => errors.push(FieldError::new(k, "is archived and cannot be written")),
                    Some(f) => match parse_value(f, json, now) {
                        Ok(Value::Null) if f.required => errors.push(FieldError::new(k, "is required")),
                        Ok(v) => {
                            input.values.insert(k.to_string(), v);
                        }
                        Err(message) => errors.push(FieldError::new(k, message)),
                    },
                },
            }
        }
        if mode == InputMode::Create {
            for f in object.active_fields().filter(|f| f.required) {
                if !input.values.contains_key(&f.name) && !errors.iter().any(|e| e.field == f.name) {
                    errors.push(FieldError::new(f.name.clone(), "is required"));
                }
            }
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(Error::validation(errors))
        }
    }

    /// Relations and users named in this input, to be checked for existence by the store.
    pub fn references<'a>(
        &'a self,
        object: &'a ObjectDef,
    ) -> impl Iterator<Item = (&'a str, &'a Value, Option<&'a str>)> {
        self.values.iter().filter_map(move |(name, value)| {
            let field = object.any_field(name)?;
            match (field.field_type, value) {
                (FieldType::Relation, Value::Relation(_)) => Some((name.as_str(), value, field.target.as_deref())),
                (FieldType::User, Value::User(_)) => Some((name.as_str(), value, None)),
                _ => None,
            }
        })
    }
}

fn parse_links(schema: &Schema, json: &Json) -> std::result::Result<Vec<Link>, FieldError> {
    let bad = || FieldError::new("links", "must be a list of {\"object\": name, \"id\": record id}");
    let items = json.as_array().ok_or_else(bad)?;
    if items.len() > MAX_LINKS {
        return Err(FieldError::new("links", format!("at most {MAX_LINKS} links")));
    }
    let mut links = Vec::with_capacity(items.len());
    for item in items {
        // A link shown as withheld, sent back: kept as it is (the use case keeps those).
        if item.get("withheld") == Some(&Json::Bool(true)) {
            continue;
        }
        let object = item.get("object").and_then(Json::as_str).ok_or_else(bad)?;
        let id = item
            .get("id")
            .and_then(Json::as_str)
            .and_then(RecordId::parse)
            .ok_or_else(bad)?;
        if schema.object(object).is_err() {
            return Err(FieldError::new("links", format!("no object named {object:?}")));
        }
        links.push(Link {
            object: object.to_string(),
            id,
        });
    }
    links.sort();
    links.dedup();
    Ok(links)
}

/// One row of the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub object: String,
    pub record_id: RecordId,
    pub op: ChangeOp,
    pub field: Option<String>,
    pub old: Json,
    pub new: Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
    Restore,
    /// The record's personal data was erased; its earlier entries hold no values any more.
    Erase,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
            ChangeOp::Restore => "restore",
            ChangeOp::Erase => "erase",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ChangeOp::Create,
            ChangeOp::Update,
            ChangeOp::Delete,
            ChangeOp::Restore,
            ChangeOp::Erase,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

impl Change {
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "seq": self.seq,
            "at": format_datetime(&self.at),
            "actor": self.actor.map(|a| a.to_string()),
            "op": self.op.as_str(),
            "field": self.field,
            "old": self.old,
            "new": self.new,
        })
    }
}

/// The field-level differences an update makes: (field, old, new), unchanged values left out.
pub fn diff(current: &Record, input: &RecordInput) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    for (name, new) in &input.values {
        let old = current.get(name);
        if old != new {
            out.push((name.clone(), old.clone(), new.clone()));
        }
    }
    if let Some(owner) = input.owner
        && owner != current.owner
    {
        out.push((
            "owner".into(),
            current.owner.map_or(Value::Null, Value::User),
            owner.map_or(Value::Null, Value::User),
        ));
    }
    out
}

/// A snapshot of a new record's values, for the change log's create row.
pub fn snapshot(values: &BTreeMap<String, Value>) -> Json {
    let map: Map<String, Json> = values
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    Json::Object(map)
}

/// The result of a write that names the version it changes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written(Record),
    /// Someone else wrote first; this is the record as it is now.
    Stale(Record),
    NotFound,
}

/// Where records are kept: each in its object's table, with its change log and search entry.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Insert a new record (version 1) with its change-log row and search entry.
    async fn insert_record(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()>;
    /// Insert many records in one transaction (imports, demo data). All or nothing.
    async fn insert_records(&self, object: &ObjectDef, records: &[Record], ctx: WriteCtx) -> Result<()>;
    /// A record by id, in the trash or not.
    async fn get_record(&self, object: &ObjectDef, id: RecordId) -> Result<Option<Record>>;
    /// Apply an input to the record at `expected_version`.
    async fn update_record(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome>;
    /// Move into the trash (`deleted = true`) or back out of it.
    async fn set_deleted(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome>;
    /// Up to `limit + 1` records, so the caller can tell whether another page follows.
    async fn list_records(&self, object: &ObjectDef, query: &ListQuery) -> Result<Vec<Record>>;
    /// How many records a list query finds (its filter, liveness and owners; not its cursor or
    /// limit), counting no further than `cap + 1`.
    async fn count_listed(&self, object: &ObjectDef, query: &ListQuery, cap: u64) -> Result<u64>;
    async fn count_records(&self, object: &ObjectDef) -> Result<i64>;
    /// Live records counted (and summed) per group.
    async fn aggregate(&self, object: &ObjectDef, query: &AggregateQuery) -> Result<Vec<AggregateRow>>;
    /// The change log of one record, oldest first, after `after_seq`.
    async fn history(&self, object: &ObjectDef, id: RecordId, after_seq: i64, limit: u32) -> Result<Vec<Change>>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub object: String,
    pub id: RecordId,
    pub title: String,
    pub rank: f64,
}

/// Whose records a search may return, per object; objects not named are searched whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchScope {
    pub owners_by_object: Vec<(String, Vec<UserId>)>,
}

/// Full-text search over every object's searchable fields (live records only).
#[async_trait]
pub trait SearchStore: Send + Sync {
    async fn search(&self, terms: &[String], limit: u32) -> Result<Vec<SearchHit>>;
    /// Restricted by visibility.
    async fn search_scoped(&self, terms: &[String], limit: u32, scope: &SearchScope) -> Result<Vec<SearchHit>>;
}

/// The records each user opened last (the start page's "recent").
#[async_trait]
pub trait VisitStore: Send + Sync {
    /// Note that a user opened a record (kept: each user's newest few dozen).
    async fn note_visit(&self, user: UserId, object: &str, record: RecordId, at: DateTime<Utc>) -> Result<()>;
    /// A user's newest visits, newest first: (object, record, when).
    async fn recent_visits(&self, user: UserId, limit: u32) -> Result<Vec<(String, RecordId, DateTime<Utc>)>>;
}

/// A value as a form's text input sends it, as the JSON a write takes: an empty input clears
/// the field; numbers are read as the writer's language writes them, money kept as its exact
/// decimal text; a minute from a `datetime-local` input is taken as UTC. A value that does not
/// fit stays text, for the field's own check to refuse by name.
pub fn form_value(field_type: FieldType, text: &str, numbers: NumberFormat) -> Json {
    match field_type {
        FieldType::Boolean => Json::Bool(matches!(text, "true" | "1" | "yes" | "on")),
        _ if text.trim().is_empty() => Json::Null,
        FieldType::Number | FieldType::Percent => {
            number::parse(text, numbers).map_or_else(|| Json::from(text), Json::from)
        }
        FieldType::Money => Json::from(number::normalise(text, numbers).unwrap_or_else(|| text.to_string())),
        FieldType::Datetime if text.len() == 16 => Json::from(format!("{text}:00Z")),
        _ => Json::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_shown_in_a_form_reads_back_the_same_in_every_language() {
        for locale in ["en", "sv", "de", "da", "es"] {
            let numbers = NumberFormat::of_locale(locale);
            for n in [0.125, 1234.567, 12.5, -3.0, 1_000_000.0] {
                assert_eq!(
                    form_value(FieldType::Number, &n.to_string(), numbers),
                    Json::from(n),
                    "{locale} {n}"
                );
            }
            assert_eq!(form_value(FieldType::Number, "  ", numbers), Json::Null);
            assert_eq!(
                form_value(FieldType::Number, "23.11.2026", numbers),
                Json::from("23.11.2026")
            );
            assert_eq!(form_value(FieldType::Boolean, "on", numbers), Json::Bool(true));
            assert_eq!(form_value(FieldType::Boolean, "", numbers), Json::Bool(false));
            assert_eq!(
                form_value(FieldType::Datetime, "2026-12-03T10:15", numbers),
                Json::from("2026-12-03T10:15:00Z")
            );
        }
        assert_eq!(
            form_value(FieldType::Money, "1 234,50", NumberFormat::of_locale("sv")),
            Json::from("1234.50")
        );
        assert_eq!(
            form_value(FieldType::Number, "1,234", NumberFormat::of_locale("en")),
            Json::from(1234.0)
        );
        assert_eq!(
            form_value(FieldType::Number, "1,234", NumberFormat::of_locale("sv")),
            Json::from(1.234)
        );
    }
}
