//! Turning rows into writes: each row is read cell by cell against its mapping, matched to the
//! record it updates (by external id, e-mail or another key), linked to its company, and then
//! planned as a create, an update, nothing (it is already so) or a rejection with its reason.
//!
//! Planning is pure: the import service feeds it rows and the records they touch, writes the
//! plan in one transaction, and only then lets the planner remember what the plan created.

use super::cells::{Habits, digits_lost, read_cell};
use super::mapping::{Mapping, Target};
use super::source::{BrokenRow, RawRow, RowResult};
use super::warning::{Warning, WarningKind};
use crate::ids::{IdSequence, RecordId, UserId};
use crate::meta::{FieldDef, ObjectDef, Schema};
use crate::record::Record;
use crate::value::Value;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// A row that will not be imported, with why, and its cells as they came.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub number: u64,
    pub reason: String,
    pub cells: Vec<String>,
}

/// The most of one cell a rejected row keeps; the rest is cut with a note of its length.
const MAX_REJECTED_CELL: usize = 10_000;

impl Rejected {
    pub fn new(number: u64, reason: String, cells: Vec<String>) -> Self {
        let cells = cells
            .into_iter()
            .map(|c| {
                if c.len() <= MAX_REJECTED_CELL {
                    return c;
                }
                let mut end = MAX_REJECTED_CELL;
                while !c.is_char_boundary(end) {
                    end -= 1;
                }
                format!(
                    "{}… [cut; {} characters in all]",
                    c.get(..end).unwrap_or_default(),
                    c.chars().count()
                )
            })
            .collect();
        Rejected { number, reason, cells }
    }
}

/// What a batch of rows comes to before it meets the records there: the store's transaction
/// matches each row's key against the live records as they are when the batch is written
/// ([`super::resolve`]), so a record made meanwhile is updated, never doubled.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Related records (companies) the rows need and that do not exist yet, per object.
    pub related: BTreeMap<String, Vec<Record>>,
    pub rows: Vec<PlannedRow>,
    pub rejected: Vec<Rejected>,
    /// (relation, key field, normalised value, record), learned once the plan is written.
    learned_related: Vec<(String, String, String, RecordId)>,
    /// Keys this batch named first, with their rows.
    seen: Vec<(u64, u64)>,
    /// What reading the rows found to warn about ([`WarningKind::UnknownOwner`],
    /// [`WarningKind::DigitsLost`]).
    pub warnings: Vec<Warning>,
}

impl PlannedRow {
    /// The row rejected, with the rows merged into it: they had nowhere else to go.
    pub fn rejected(&self, reason: &str) -> Vec<Rejected> {
        let mut out = vec![Rejected::new(self.number, reason.to_string(), self.cells.clone())];
        out.extend(self.merged.iter().map(|(n, cells)| {
            Rejected::new(
                *n,
                format!("merged with row {}, rejected: {reason}", self.number),
                cells.clone(),
            )
        }));
        out
    }
}

impl Plan {
    pub fn related_count(&self) -> u64 {
        self.related.values().map(|v| v.len() as u64).sum()
    }
}

/// One row ready to write: the record it makes when no live record holds its key, or the
/// values it writes to the one that does.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub number: u64,
    /// The match key as the store compares it ([`match_key`]), when rows match on one.
    pub key: Option<String>,
    pub record: Record,
    /// The owner the row names: an update changes the owner only when the row names one.
    pub owner: Option<UserId>,
    /// Required fields the row leaves empty: fine for an update, a rejection for a new record.
    pub missing: Vec<String>,
    /// The row's cells, for the report if it is rejected after all.
    pub cells: Vec<String>,
    /// Later rows of the batch that repeat this row's key: their cells are in `record` (the
    /// later non-empty cell wins), and their own cells are kept for the report.
    pub merged: Vec<(u64, Vec<String>)>,
    /// The row of an earlier batch whose key this row repeats: the record that row wrote is
    /// updated, and the row counts as merged into it.
    pub repeats: Option<u64>,
    /// A row without a key that is, by its duplicate keys and score, a record already there:
    /// the row updates that record instead of making it again.
    pub target: Option<RecordId>,
}

/// A row read, with its key.
#[derive(Debug, Clone)]
pub struct ReadRow {
    number: u64,
    cells: Vec<String>,
    values: BTreeMap<String, Value>,
    /// Per relation field: the (key field, text) pairs given for it.
    related: BTreeMap<String, Vec<(String, String)>>,
    owner: Option<UserId>,
    key: Option<String>,
    warnings: Vec<Warning>,
}

/// One relation's lookup: records of the related object by the normalised value of each key
/// field the mapping matches on.
#[derive(Debug, Clone)]
struct RelatedIndex {
    object: ObjectDef,
    /// The fields rows name related records by (only these are indexed).
    keys: Vec<FieldDef>,
    by_key: HashMap<String, HashMap<String, RecordId>>,
}

pub struct Planner {
    object: ObjectDef,
    columns: Vec<Option<Target>>,
    headers: usize,
    /// The field rows are matched on, and its column.
    key: Option<(usize, FieldDef)>,
    habits: Habits,
    now: DateTime<Utc>,
    actor: UserId,
    /// Who owns a new record whose row names no user as its owner.
    default_owner: UserId,
    create_related: bool,
    /// The row of this file that had each match key first, by a 64-bit hash of the key: a
    /// million-row file has a million keys, and the keys themselves would take ten times the
    /// memory. The hash is keyed afresh for each import, so no file can be made to collide;
    /// by chance, two of a million keys share one about once in 37 million imports.
    first_rows: HashMap<u64, u64>,
    key_hasher: std::collections::hash_map::RandomState,
    related: BTreeMap<String, RelatedIndex>,
    users: HashMap<String, UserId>,

    ids: IdSequence,
}

/// The form a match key is compared in, the same as the store's: text that folds is folded
/// ([`crate::text::fold_case`]: case, composed letters and extra spaces ignored); phone numbers
/// as written, trimmed.
pub fn match_key(field: &FieldDef, text: &str) -> String {
    if field.field_type.folds() {
        crate::text::fold_case(text)
    } else {
        text.trim().to_string()
    }
}

/// The normalised form two related records' keys must share to be the same (a company named
/// by its organisation number or name): organisation numbers ignore dashes and spaces, other
/// text ignores case and extra spaces.
pub fn key_text(field: &FieldDef, text: &str) -> String {
    if field.name == "org_number" {
        return text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
    }
    crate::text::fold_case(text)
}

/// The fields an import matches rows on, in order of preference, when it is not told.
pub const MATCH_PREFERENCE: [&str; 3] = ["external_id", "email", "org_number"];

pub struct PlannerSetup<'a> {
    pub schema: &'a Schema,
    pub object: &'a ObjectDef,
    pub headers: &'a [String],
    pub mapping: &'a Mapping,
    /// `Some("")` matches on nothing (every row is new); `None` picks by [`MATCH_PREFERENCE`].
    pub match_on: Option<&'a str>,
    pub create_related: bool,
    pub habits: Habits,
    pub now: DateTime<Utc>,
    pub actor: UserId,
    /// Who owns a new record whose row names no user as owner (the actor, unless the user
    /// picked another).
    pub default_owner: UserId,
}

impl Planner {
    pub fn new(setup: PlannerSetup<'_>) -> crate::Result<Planner> {
        let PlannerSetup {
            schema,
            object,
            headers,
            mapping,
            match_on,
            create_related,
            habits,
            now,
            actor,
            default_owner,
        } = setup;
        let column_of = |name: &str| {
            mapping
                .columns
                .iter()
                .position(|t| matches!(t, Some(Target::Field { field }) if field == name))
        };
        let key = match match_on {
            Some("") => None,
            Some(name) => {
                let field = object
                    .field(name)
                    .filter(|f| f.field_type.is_textual() && f.field_type.indexable())
                    .ok_or_else(|| {
                        crate::Error::field("match_on", format!("{name:?} is not a text field to match on"))
                    })?;
                if !field.filterable && !field.unique {
                    return Err(crate::Error::field(
                        "match_on",
                        format!("{name} is not filterable (it has no index to match by); make it filterable first"),
                    ));
                }
                let col = column_of(name)
                    .ok_or_else(|| crate::Error::field("match_on", format!("no column is mapped to {name}")))?;
                Some((col, field.clone()))
            }
            None => MATCH_PREFERENCE.iter().find_map(|name| {
                let field = object.field(name)?;
                column_of(name).map(|col| (col, field.clone()))
            }),
        };
        let mut related = BTreeMap::new();
        for target in mapping.columns.iter().flatten() {
            if let Target::Related { field, .. } = target
                && !related.contains_key(field)
            {
                let target_object = object
                    .field(field)
                    .and_then(|f| f.target.as_deref())
                    .and_then(|t| schema.object(t).ok())
                    .ok_or_else(|| crate::Error::field(format!("mapping.{field}"), "relates to no object"))?;
                let keys = mapping
                    .columns
                    .iter()
                    .flatten()
                    .filter_map(|t| match t {
                        Target::Related { field: f, key } if f == field => target_object.field(key).cloned(),
                        _ => None,
                    })
                    .collect();
                related.insert(
                    field.clone(),
                    RelatedIndex {
                        object: target_object.clone(),
                        keys,
                        by_key: HashMap::new(),
                    },
                );
            }
        }
        Ok(Planner {
            object: object.clone(),
            columns: mapping.columns.clone(),
            headers: headers.len(),
            key,
            habits,
            now,
            actor,
            default_owner,
            create_related,
            first_rows: HashMap::new(),
            key_hasher: std::collections::hash_map::RandomState::new(),
            related,
            users: HashMap::new(),
            ids: IdSequence::default(),
        })
    }

    /// The field rows are matched on, if any.
    pub fn key_field(&self) -> Option<&FieldDef> {
        self.key.as_ref().map(|(_, f)| f)
    }

    /// Relations the rows link to: (relation field, related object, key fields it matches on).
    pub fn relations(&self) -> Vec<(String, ObjectDef, Vec<String>)> {
        self.related
            .iter()
            .map(|(field, index)| {
                let keys = self
                    .columns
                    .iter()
                    .flatten()
                    .filter_map(|t| match t {
                        Target::Related { field: f, key } if f == field => Some(key.clone()),
                        _ => None,
                    })
                    .collect();
                (field.clone(), index.object.clone(), keys)
            })
            .collect()
    }

    /// Remember an existing related record (a company) rows may link to.
    pub fn know_related(&mut self, relation: &str, record: &Record) {
        let Some(index) = self.related.get_mut(relation) else {
            return;
        };
        for field in &index.keys {
            if let Some(text) = record.get(&field.name).to_text() {
                index
                    .by_key
                    .entry(field.name.clone())
                    .or_default()
                    .entry(key_text(field, &text))
                    .or_insert(record.id);
            }
        }
    }

    /// Remember a user rows may name as owner, by e-mail address and by name.
    pub fn know_user(&mut self, id: UserId, email: &str, name: &str) {
        self.users.insert(email.trim().to_lowercase(), id);
        self.users.entry(name.trim().to_lowercase()).or_insert(id);
    }

    /// Read a batch of rows: cells to values, the match key to an existing record.
    pub fn read(&self, rows: Vec<RowResult>) -> (Vec<ReadRow>, Vec<Rejected>) {
        let mut read = Vec::with_capacity(rows.len());
        let mut rejected = Vec::new();
        for row in rows {
            match row {
                Err(BrokenRow { number, reason, cells }) => rejected.push(Rejected::new(number, reason, cells)),
                Ok(row) => match self.read_row(row) {
                    Ok(r) => read.push(r),
                    Err(r) => rejected.push(r),
                },
            }
        }
        (read, rejected)
    }

    fn read_row(&self, row: RawRow) -> Result<ReadRow, Rejected> {
        let RawRow { number, cells } = row;
        let reject = |reason: String, cells: Vec<String>| Rejected::new(number, reason, cells);
        if let Some(extra) = cells.get(self.headers..)
            && extra.iter().any(|c| !c.trim().is_empty())
        {
            let reason = format!(
                "has {} cells but the header names {} columns",
                cells.len(),
                self.headers
            );
            return Err(reject(reason, cells));
        }
        let mut values = BTreeMap::new();
        let mut related: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut owner = None;
        let mut problems: Vec<String> = Vec::new();
        let mut warnings = Vec::new();
        for (target, cell) in self.columns.iter().zip(&cells) {
            let Some(target) = target else { continue };
            match target {
                Target::Field { field } => {
                    let Some(def) = self.object.field(field) else { continue };
                    if def.field_type == crate::meta::FieldType::Phone && digits_lost(cell) {
                        warnings.push(Warning::new(number, WarningKind::DigitsLost, field.clone()));
                        continue;
                    }
                    match read_cell(def, cell, self.habits, self.now) {
                        Ok(Value::Null) => {}
                        Ok(v) => {
                            values.insert(field.clone(), v);
                        }
                        Err(message) => problems.push(format!("{field} {message}")),
                    }
                }
                Target::Related { field, key } => {
                    let text = cell.trim();
                    if text.len() > 1_000 {
                        problems.push(format!("{field}.{key} must be at most 1000 characters"));
                    } else if !text.is_empty() {
                        related
                            .entry(field.clone())
                            .or_default()
                            .push((key.clone(), text.to_string()));
                    }
                }
                Target::Owner => {
                    let text = cell.trim();
                    if !text.is_empty() {
                        match self.users.get(&text.to_lowercase()) {
                            Some(id) => owner = Some(*id),
                            // Kept, owned by the default owner; the job lists the name, so that
                            // an administrator can make the user and import again.
                            None => warnings.push(Warning::new(
                                number,
                                WarningKind::UnknownOwner,
                                text.chars().take(200).collect::<String>(),
                            )),
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(reject(problems.join("; "), cells));
        }
        let key = self.key.as_ref().and_then(|(_, field)| {
            let text = values.get(&field.name).and_then(Value::to_text)?;
            Some(match_key(field, &text)).filter(|k| !k.is_empty())
        });
        Ok(ReadRow {
            number,
            cells,
            values,
            related,
            owner,
            key,
            warnings,
        })
    }

    /// Plan the rows read: a row repeating the key of an earlier row of its batch goes into
    /// that row's record (its non-empty cells win); one repeating a row of an earlier batch
    /// updates the record that row wrote. Related records are found or made; whether a keyed
    /// row makes a record or updates one is for the write to decide, against the records as
    /// they are then.
    pub fn plan(&self, rows: Vec<ReadRow>, mut rejected: Vec<Rejected>) -> Plan {
        let mut plan = Plan::default();
        // Key hash → the row that had it first in this batch, and its place in `plan.rows`.
        let mut seen_here: HashMap<u64, (u64, usize)> = HashMap::new();
        let mut new_related: HashMap<(String, String, String), RecordId> = HashMap::new();
        for mut row in rows {
            plan.warnings.append(&mut row.warnings);
            let hash = row
                .key
                .as_deref()
                .map(|k| std::hash::BuildHasher::hash_one(&self.key_hasher, k));
            let here = hash.and_then(|h| seen_here.get(&h)).copied();
            let repeats = hash.and_then(|h| self.first_rows.get(&h)).copied();
            match self.link_related(&row, &mut plan, &mut new_related) {
                Ok(links) => {
                    for (field, id) in links {
                        row.values.insert(field, Value::Relation(id));
                    }
                }
                Err(reason) => {
                    rejected.push(Rejected::new(row.number, reason, row.cells));
                    continue;
                }
            }
            if let Some((_, index)) = here
                && let Some(first) = plan.rows.get_mut(index)
            {
                first.record.values.extend(row.values);
                if let Some(owner) = row.owner {
                    first.owner = Some(owner);
                    first.record.owner = Some(owner);
                }
                let values = &first.record.values;
                first.missing.retain(|f| !values.contains_key(f));
                first.merged.push((row.number, row.cells));
                continue;
            }
            let missing: Vec<String> = self
                .object
                .active_fields()
                .filter(|f| f.required && !row.values.contains_key(&f.name))
                .map(|f| f.name.clone())
                .collect();
            if row.key.is_none() && !missing.is_empty() {
                // Without a key the row can only make a record, and that needs them.
                rejected.push(Rejected::new(
                    row.number,
                    format!("{} is required", missing.join(", ")),
                    row.cells,
                ));
                continue;
            }
            if let Some(hash) = hash {
                seen_here.insert(hash, (row.number, plan.rows.len()));
            }
            let record = self.new_record(&self.object, row.values, row.owner);
            plan.rows.push(PlannedRow {
                number: row.number,
                key: row.key,
                record,
                owner: row.owner,
                missing,
                cells: row.cells,
                merged: Vec::new(),
                repeats,
                target: None,
            });
        }
        plan.seen = seen_here
            .into_iter()
            .map(|(hash, (number, _))| (hash, number))
            .collect();
        plan.learned_related = new_related
            .into_iter()
            .map(|((rel, k, v), id)| (rel, k, v, id))
            .collect();
        rejected.sort_by_key(|r| r.number);
        plan.rejected = rejected;
        plan
    }

    fn new_record(&self, object: &ObjectDef, values: BTreeMap<String, Value>, owner: Option<UserId>) -> Record {
        Record {
            owner: Some(owner.unwrap_or(self.default_owner)),
            values,
            ..Record::new(&object.name, self.ids.next(self.now), self.now, Some(self.actor))
        }
    }

    /// The related records a row names, found by the most specific key first (an organisation
    /// number before a name); created when allowed and the row names enough to make one.
    fn link_related(
        &self,
        row: &ReadRow,
        plan: &mut Plan,
        new_related: &mut HashMap<(String, String, String), RecordId>,
    ) -> Result<Vec<(String, RecordId)>, String> {
        let mut links = Vec::new();
        for (relation, given) in &row.related {
            let Some(index) = self.related.get(relation) else {
                continue;
            };
            let title = index.object.title_fields.first().cloned().unwrap_or_default();
            let mut ordered: Vec<&(String, String)> = given.iter().collect();
            ordered.sort_by_key(|(key, _)| *key == title);
            let normalised: Vec<(FieldDef, String, String)> = ordered
                .iter()
                .filter_map(|(key, text)| {
                    let field = index.object.field(key)?;
                    Some((field.clone(), key_text(field, text), text.clone()))
                })
                .collect();
            let found = normalised.iter().find_map(|(field, norm, _)| {
                index
                    .by_key
                    .get(&field.name)
                    .and_then(|m| m.get(norm))
                    .or_else(|| new_related.get(&(relation.clone(), field.name.clone(), norm.clone())))
                    .copied()
            });
            if let Some(id) = found {
                links.push((relation.clone(), id));
                continue;
            }
            let described = normalised
                .iter()
                .map(|(f, _, text)| format!("{} {text:?}", f.label.to_lowercase()))
                .collect::<Vec<_>>()
                .join(" or ");
            let label = index.object.label.to_lowercase();
            if !self.create_related {
                return Err(format!("no {label} with {described}"));
            }
            let mut values = BTreeMap::new();
            for (field, _, text) in &normalised {
                match read_cell(field, text, self.habits, self.now) {
                    Ok(Value::Null) => {}
                    Ok(v) => {
                        values.insert(field.name.clone(), v);
                    }
                    Err(m) => return Err(format!("{relation}.{} {m}", field.name)),
                }
            }
            let missing: Vec<&str> = index
                .object
                .active_fields()
                .filter(|f| f.required && !values.contains_key(&f.name))
                .map(|f| f.name.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "no {label} with {described}, and a new one needs {}",
                    missing.join(", ")
                ));
            }
            let record = self.new_record(&index.object, values, None);
            for (field, norm, _) in &normalised {
                new_related.insert((relation.clone(), field.name.clone(), norm.clone()), record.id);
            }
            links.push((relation.clone(), record.id));
            plan.related.entry(index.object.name.clone()).or_default().push(record);
        }
        Ok(links)
    }

    /// Once the plan is handed to the store: remember its companies and the rows that had
    /// each key first.
    pub fn learn(&mut self, plan: &Plan) {
        for (relation, key, norm, id) in &plan.learned_related {
            if let Some(index) = self.related.get_mut(relation) {
                index.by_key.entry(key.clone()).or_default().insert(norm.clone(), *id);
            }
        }
        for (hash, number) in &plan.seen {
            self.first_rows.entry(*hash).or_insert(*number);
        }
    }

    /// Related records the store found under other ids (a company someone made meanwhile
    /// with the same unique value): later rows link to those. Those it could not make are
    /// forgotten: a later row naming one plans it again, and is told why it cannot be.
    pub fn remap(&mut self, remapped: &HashMap<RecordId, RecordId>, blocked: &HashMap<RecordId, String>) {
        if remapped.is_empty() && blocked.is_empty() {
            return;
        }
        for index in self.related.values_mut() {
            for ids in index.by_key.values_mut() {
                ids.retain(|_, id| !blocked.contains_key(id));
                for id in ids.values_mut() {
                    if let Some(to) = remapped.get(id) {
                        *id = *to;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::mapping::Mapping;
    use crate::import::source;
    use crate::meta::standard_objects;
    use std::io::Cursor;

    fn schema() -> Schema {
        let mut schema = Schema::default();
        for o in standard_objects() {
            schema.objects.insert(o.name.clone(), o);
        }
        schema
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn planner_for(schema: &Schema, headers: &[String], names: &[(&str, &str)]) -> Planner {
        let person = schema.objects.get("person").unwrap();
        let names: BTreeMap<String, Option<String>> = names
            .iter()
            .map(|(h, t)| ((*h).to_string(), Some((*t).to_string())))
            .collect();
        let mapping = Mapping::from_names(schema, person, headers, &names).unwrap();
        Planner::new(PlannerSetup {
            schema,
            object: person,
            headers,
            mapping: &mapping,
            match_on: None,
            create_related: true,
            habits: Habits { decimal_comma: false },
            now: now(),
            actor: UserId::new_at(now()),
            default_owner: UserId::new_at(now()),
        })
        .unwrap()
    }

    #[test]
    fn a_hundred_megabyte_cell_is_rejected_and_cut_short_in_the_report() {
        let mut file = b"last_name,title\nBerg,".to_vec();
        file.extend(std::iter::repeat_n(b'x', 100 * 1024 * 1024));
        file.extend_from_slice(b"\nEk,Buyer\n");
        let mut table = source::open("big.csv", Cursor::new(file)).unwrap();
        let schema = schema();
        let planner = planner_for(
            &schema,
            &table.headers,
            &[("last_name", "last_name"), ("title", "title")],
        );
        let (read, rejected) = planner.read(table.take_rows(10));
        assert_eq!(read.len(), 1, "the row after the huge one is read");
        assert_eq!(rejected.len(), 1);
        assert!(
            rejected[0].reason.starts_with("title is 104857600 characters long"),
            "{}",
            rejected[0].reason
        );
        let kept = &rejected[0].cells[1];
        assert!(kept.len() < 20_000, "the report keeps a slice, not 100 MB");
        assert!(kept.ends_with("[cut; 104857600 characters in all]"));
    }

    #[test]
    fn rows_become_creates_updates_nothing_or_rejections() {
        use crate::import::job::{Counts, ImportId, ImportWrite};
        use crate::import::resolve::{Found, resolve};
        let schema = schema();
        let headers: Vec<String> = ["email", "last_name", "title"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let mut planner = planner_for(
            &schema,
            &headers,
            &[("email", "email"), ("last_name", "last_name"), ("title", "title")],
        );
        assert_eq!(planner.key_field().map(|f| f.name.as_str()), Some("email"));
        let person = schema.objects.get("person").unwrap();
        let existing = Record {
            version: 3,
            values: [
                ("email".to_string(), Value::Text("Kim@x.se".into())),
                ("last_name".to_string(), Value::Text("Kim".into())),
                ("title".to_string(), Value::Text("CEO".into())),
            ]
            .into_iter()
            .collect(),
            ..Record::new("person", RecordId::new_at(now()), now(), None)
        };
        let row = |n: u64, cells: &[&str]| -> RowResult {
            Ok(RawRow {
                number: n,
                cells: cells.iter().map(|s| (*s).to_string()).collect(),
            })
        };
        let (read, rejected) = planner.read(vec![
            row(2, &["new@x.se", "New", ""]),
            row(3, &["KIM@x.se", "", "CEO"]),
            row(4, &["kim@X.SE", "Kim", "CFO"]),
            row(5, &["other@x.se", "", ""]),
            row(6, &["new@x.se", "Again", ""]),
            row(7, &["", "", "Nobody"]),
        ]);
        assert!(rejected.is_empty());
        let plan = planner.plan(read, rejected);
        let reasons: Vec<(u64, &str)> = plan.rejected.iter().map(|r| (r.number, r.reason.as_str())).collect();
        assert_eq!(reasons, vec![(7, "last_name is required")]);
        assert_eq!(plan.rows.len(), 3, "rows 2, 3 and 5 go to the store");
        let merged: Vec<(u64, Vec<u64>)> = plan
            .rows
            .iter()
            .map(|r| (r.number, r.merged.iter().map(|(n, _)| *n).collect()))
            .collect();
        assert_eq!(merged, vec![(2, vec![6]), (3, vec![4]), (5, vec![])]);
        assert_eq!(
            plan.rows[0].record.get("last_name"),
            &Value::Text("Again".into()),
            "the later non-empty cell wins"
        );
        assert_eq!(plan.rows[1].record.get("title"), &Value::Text("CFO".into()));
        // Inside the write: row 3 names Kim, who is there; row 5 needs a last name to be new.
        let write = ImportWrite {
            job: ImportId(uuid::Uuid::nil()),
            base: Counts::default(),
            last_row: 7,
            key: Some("email".into()),
            dry_run: false,
            owners: None,
            rejected: plan.rejected.clone(),
            related: Vec::new(),
            rows: plan.rows.clone(),
            likely: Vec::new(),
            warnings: plan.warnings.clone(),
        };
        let mut found = Found::default();
        found.by_key.insert("kim@x.se".into(), existing.clone());
        let resolved = resolve(&write, person, &found);
        assert_eq!(resolved.creates.len(), 1);
        assert_eq!(resolved.updates.len(), 1, "row 4's title reaches Kim through row 3");
        let c = resolved.applied.counts;
        assert_eq!(
            (c.created, c.updated, c.unchanged, c.merged, c.rejected),
            (1, 1, 0, 2, 2)
        );
        assert_eq!(c.rows(), 6);
        let reasons: Vec<(u64, &str)> = resolved
            .rejected
            .iter()
            .map(|r| (r.number, r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![(5, "last_name is required"), (7, "last_name is required")]
        );
        let warnings: Vec<(u64, &str)> = resolved.warnings.iter().map(|w| (w.row, w.detail.as_str())).collect();
        assert_eq!(warnings, vec![(4, "3"), (6, "2")], "each merged row says where it went");
        planner.learn(&plan);
        // The next batch sees what this one did: the row updates the record row 2 made.
        let (read, _) = planner.read(vec![row(8, &["NEW@x.se", "New", "Boss"])]);
        let plan = planner.plan(read, Vec::new());
        assert!(plan.rejected.is_empty());
        assert_eq!(plan.rows[0].repeats, Some(2));
    }

    #[test]
    fn an_owner_who_is_no_user_and_a_mangled_phone_are_warnings_not_rejections() {
        let schema = schema();
        let headers: Vec<String> = ["last_name", "phone", "owner"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let mut planner = planner_for(
            &schema,
            &headers,
            &[("last_name", "last_name"), ("phone", "phone"), ("owner", "owner")],
        );
        let known = UserId::new_at(now());
        planner.know_user(known, "kim@x.se", "Kim Berg");
        let row = |n: u64, cells: &[&str]| -> RowResult {
            Ok(RawRow {
                number: n,
                cells: cells.iter().map(|s| (*s).to_string()).collect(),
            })
        };
        let (read, rejected) = planner.read(vec![
            row(2, &["Öberg", "4,67012E+10", "Annika Berglund"]),
            row(3, &["Ærø", "+46 70 174 06 12", "KIM BERG"]),
        ]);
        assert!(rejected.is_empty(), "{rejected:?}");
        let plan = planner.plan(read, Vec::new());
        assert_eq!(plan.rows.len(), 2);
        assert_eq!(plan.rows[0].record.get("phone"), &Value::Null);
        assert_eq!(
            plan.rows[0].record.owner,
            Some(planner.default_owner),
            "the default owner"
        );
        assert_eq!(plan.rows[1].record.owner, Some(known));
        let warnings: Vec<(u64, WarningKind, &str)> = plan
            .warnings
            .iter()
            .map(|w| (w.row, w.kind, w.detail.as_str()))
            .collect();
        assert_eq!(
            warnings,
            vec![
                (2, WarningKind::DigitsLost, "phone"),
                (2, WarningKind::UnknownOwner, "Annika Berglund"),
            ]
        );
    }
}
