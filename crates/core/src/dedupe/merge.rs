//! Merging two records into one: the user picks each field's value, everything that pointed at
//! the record that goes (relation fields of any object, activity links) is pointed at the one
//! that stays, the one that goes is moved to the trash with its history, and all of it is
//! written together. A merge is kept as a journal entry, so it can be undone.

use crate::ids::{RecordId, UserId};
use crate::meta::{FieldType, ObjectDef, Schema};
use crate::record::RecordInput;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Writes to many records at once, each at the version read: all or nothing.
#[derive(Debug, Clone, Default)]
pub struct RecordBatch {
    pub updates: Vec<(ObjectDef, RecordId, i64, RecordInput)>,
    /// (object, record, version, into the trash or out of it).
    pub trash: Vec<(ObjectDef, RecordId, i64, bool)>,
    /// A merge to keep in the journal, or one to mark undone.
    pub merge: Option<MergeEntry>,
    pub undo: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchWrite {
    Written,
    /// This record changed since it was read; nothing was written.
    Stale(RecordId),
    /// This record would take a unique value another record holds; nothing was written.
    Taken {
        id: RecordId,
        field: String,
        holder: RecordId,
    },
}

/// A merge as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeEntry {
    pub id: uuid::Uuid,
    pub object: String,
    pub keep: RecordId,
    pub gone: RecordId,
    pub by: UserId,
    pub at: DateTime<Utc>,
    /// The kept record's values before, of the fields the merge changed.
    pub keep_before: BTreeMap<String, serde_json::Value>,
    /// The kept record's version right after the merge (an undo needs it unchanged).
    pub keep_version: i64,
    /// (object, record, field) pointed from the gone record to the kept one.
    pub relinked: Vec<(String, RecordId, String)>,
    /// Activities whose links moved.
    pub links_moved: Vec<RecordId>,
    pub undone_at: Option<DateTime<Utc>>,
}

/// What the user chose: for each field, whose value stays (`"keep"` or `"gone"`). Fields not
/// named keep the kept record's value, or take the other's where the kept one has none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub keep: String,
    pub gone: String,
    /// The versions both records were seen at.
    pub keep_version: i64,
    pub gone_version: i64,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// Relation fields, of any object, that point at records of `object`.
pub(super) fn pointers<'a>(schema: &'a Schema, object: &'a str) -> impl Iterator<Item = (&'a ObjectDef, &'a str)> {
    schema.objects.values().filter(|o| !o.archived).flat_map(move |o| {
        o.active_fields()
            .filter(move |f| f.field_type == FieldType::Relation && f.target.as_deref() == Some(object))
            .map(move |f| (o, f.name.as_str()))
    })
}

impl RecordBatch {
    /// Add to the write of a record already in the batch, or add one: a record touched twice
    /// (an activity whose person and links both move) is written once.
    pub(super) fn change(
        &mut self,
        object: &ObjectDef,
        id: RecordId,
        version: i64,
        apply: impl FnOnce(&mut RecordInput),
    ) {
        if let Some((_, _, _, input)) = self.updates.iter_mut().find(|(_, r, _, _)| *r == id) {
            apply(input);
            return;
        }
        let mut input = RecordInput::default();
        apply(&mut input);
        self.updates.push((object.clone(), id, version, input));
    }
}
