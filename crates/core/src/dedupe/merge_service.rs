//! Merging as a use case: two records into one, every pointer moved, journaled so it can be undone.

use super::{PairStatus, ordered};
use crate::auth::{Permission, Principal};
use crate::dedupe::merge::{BatchWrite, MergeEntry, MergeRequest, RecordBatch, pointers};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{ColumnRef, Compare, Condition};
use crate::ids::RecordId;
use crate::meta::ObjectDef;
use crate::record::{Link, Record, RecordInput, diff};
use crate::service::Crm;
use crate::value::Value;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl Crm {
    /// Every live record matching a condition.
    async fn all_matching(&self, object: &ObjectDef, condition: Condition) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.each_record(object, Some(condition), None, &mut |r| out.push(r))
            .await?;
        Ok(out)
    }

    /// Write a merge's (or an undo's) batch; a record changed since it was read stops it whole.
    async fn apply(&self, who: &Principal, batch: &RecordBatch, now: DateTime<Utc>, what: &str) -> Result<()> {
        let ctx = crate::store::WriteCtx {
            actor: who.user_id,
            now,
        };
        match self.store.write_records(batch, ctx).await? {
            BatchWrite::Written => Ok(()),
            BatchWrite::Stale(id) => Err(Error::new(
                ErrorCode::VersionConflict,
                format!("record {id} changed during the {what}; nothing was changed, try again"),
            )),
            BatchWrite::Taken { id, field, .. } => Err(Error::field(
                field.clone(),
                format!("the {what} would give record {id} a {field} another record holds; nothing was changed"),
            )),
        }
    }

    /// Merge `gone` into `keep`. Refused when either changed since the user saw it.
    pub async fn merge(&self, who: &Principal, object: &str, body: serde_json::Value) -> Result<MergeEntry> {
        let request: MergeRequest = crate::service::from_body(body)?;
        let schema = self.authorize(who, Permission::Import).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        who.require(Permission::DeleteRecords, &schema.policy)?;
        let def = schema.object(object)?.clone();
        // Both as the user sees them (a 404 for one they may not see), then as they are: a
        // relation withheld from the user is neither copied over nor cleared by the merge.
        let (_, keep_seen) = self.get(who, &def.name, &request.keep).await?;
        let (_, gone_seen) = self.get(who, &def.name, &request.gone).await?;
        let hidden: std::collections::HashSet<String> = keep_seen
            .withheld
            .fields
            .iter()
            .chain(&gone_seen.withheld.fields)
            .cloned()
            .collect();
        let unfiltered = |seen: &crate::record::Record| {
            let id = seen.id;
            let store = self.store.clone();
            let def = def.clone();
            async move {
                store
                    .get_record(&def, id)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("no {} with id {id}", def.name)))
            }
        };
        let keep = unfiltered(&keep_seen).await?;
        let gone = unfiltered(&gone_seen).await?;
        if keep.id == gone.id {
            return Err(Error::field("gone", "is the record that stays"));
        }
        if keep.deleted_at.is_some() || gone.deleted_at.is_some() {
            return Err(Error::new(ErrorCode::InTrash, "one of the records is in the trash"));
        }
        if keep.version != request.keep_version || gone.version != request.gone_version {
            let current = if keep.version != request.keep_version {
                &keep_seen
            } else {
                &gone_seen
            };
            return Err(Error::conflict(current.to_json(&def)));
        }
        let mut values = BTreeMap::new();
        for (field, side) in &request.values {
            let f = def.field(field).ok_or_else(|| {
                Error::field(
                    format!("values.{field}"),
                    format!("{} has no field {field:?}", def.name),
                )
            })?;
            match side.as_str() {
                "keep" => {}
                "gone" if hidden.contains(&f.name) => {
                    return Err(Error::field(
                        format!("values.{field}"),
                        "points at a record you may not see; it stays as it is",
                    ));
                }
                "gone" => {
                    values.insert(f.name.clone(), gone.get(&f.name).clone());
                }
                _ => return Err(Error::field(format!("values.{field}"), "must be \"keep\" or \"gone\"")),
            }
        }
        for f in def.active_fields() {
            if !request.values.contains_key(&f.name)
                && !hidden.contains(&f.name)
                && keep.get(&f.name).is_null()
                && !gone.get(&f.name).is_null()
            {
                values.insert(f.name.clone(), gone.get(&f.name).clone());
            }
        }
        if let Some(f) = def
            .active_fields()
            .find(|f| f.required && values.get(&f.name).is_some_and(Value::is_null))
        {
            return Err(Error::field(
                format!("values.{}", f.name),
                "is required and the other record has none",
            ));
        }
        let input = RecordInput {
            values,
            ..RecordInput::default()
        };
        let changes = diff(&keep, &input);
        let keep_before = changes.iter().map(|(f, old, _)| (f.clone(), old.to_json())).collect();
        let mut batch = RecordBatch::default();
        if !changes.is_empty() {
            batch.updates.push((def.clone(), keep.id, keep.version, input));
        }
        let mut relinked = Vec::new();
        for (other, field) in pointers(&schema, &def.name) {
            let column = other
                .field(field)
                .map(ColumnRef::of)
                .ok_or_else(|| Error::internal("field"))?;
            let condition = Condition::Compare {
                column,
                cmp: Compare::Eq,
                value: Value::Relation(gone.id),
            };
            for r in self.all_matching(other, condition).await? {
                batch.change(other, r.id, r.version, |input| {
                    input.values.insert(field.to_string(), Value::Relation(keep.id));
                });
                relinked.push((other.name.clone(), r.id, field.to_string()));
            }
        }
        let mut links_moved = Vec::new();
        if let Some(activity) = schema.objects.values().find(|o| o.is_activity()).cloned() {
            let linked = Condition::LinkedTo {
                object: def.name.clone(),
                id: gone.id,
            };
            for r in self.all_matching(&activity, linked).await? {
                let Some(current) = self.store.get_record(&activity, r.id).await? else {
                    continue;
                };
                let links = moved_links(&current.links, &def.name, gone.id, keep.id);
                batch.change(&activity, r.id, current.version, |input| input.links = Some(links));
                links_moved.push(r.id);
            }
        }
        batch.trash.push((def.clone(), gone.id, gone.version, true));
        let now = self.clock.now();
        let entry = MergeEntry {
            id: RecordId::new_at(now).0,
            object: def.name.clone(),
            keep: keep.id,
            gone: gone.id,
            by: who.user_id,
            at: now,
            keep_before,
            keep_version: keep.version + i64::from(!changes.is_empty()),
            relinked,
            links_moved,
            undone_at: None,
        };
        batch.merge = Some(entry.clone());
        if def.name == crate::gdpr::PERSON {
            // A withdrawal on the merged person must not be lost with them: carried over before
            // the merge, so a merge never stands without it (a merge that then fails leaves the
            // kept person with the stricter consent, which is safe).
            self.carry_consents(gone.id, keep.id, who.user_id).await?;
        }
        self.apply(who, &batch, now, "merge").await?;
        if def.name == crate::gdpr::PERSON {
            // The lists they were picked into, and the mailings under way, follow them.
            self.store.copy_membership(gone.id, keep.id, now).await?;
            self.store.move_recipients(gone.id, keep.id).await?;
        }
        let pair = ordered(keep.id, gone.id);
        self.store
            .decide_duplicate(&def.name, pair, PairStatus::Merged, who.user_id, now)
            .await?;
        Ok(entry)
    }

    /// Undo a merge: the gone record comes back from the trash, what pointed at it points at
    /// it again, and the kept record gets its own values back. Refused when the kept record has
    /// changed since.
    pub async fn undo_merge(&self, who: &Principal, id: &str) -> Result<MergeEntry> {
        let schema = self.authorize(who, Permission::Import).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        let entry = uuid::Uuid::try_parse(id)
            .ok()
            .map(|u| self.store.merge_entry(u))
            .ok_or_else(|| Error::not_found(format!("merge {id}")))?
            .await?
            .ok_or_else(|| Error::not_found(format!("merge {id}")))?;
        if entry.undone_at.is_some() {
            return Err(Error::new(ErrorCode::AlreadyExists, "this merge was undone already"));
        }
        let def = schema.object(&entry.object)?.clone();
        let keep = self
            .store
            .get_record(&def, entry.keep)
            .await?
            .ok_or_else(|| Error::not_found("the kept record"))?;
        if keep.version != entry.keep_version {
            return Err(Error::new(
                ErrorCode::VersionConflict,
                "the kept record has changed since the merge; undo those changes first or merge by hand",
            ));
        }
        let gone = self
            .store
            .get_record(&def, entry.gone)
            .await?
            .ok_or_else(|| Error::not_found("the merged record"))?;
        let mut batch = RecordBatch::default();
        let mut before = BTreeMap::new();
        for (field, json) in &entry.keep_before {
            if let Some(f) = def.any_field(field) {
                let value = crate::value::parse_value(f, json, self.clock.now()).unwrap_or(Value::Null);
                before.insert(field.clone(), value);
            }
        }
        if !before.is_empty() {
            batch.updates.push((
                def.clone(),
                keep.id,
                keep.version,
                RecordInput {
                    values: before,
                    ..RecordInput::default()
                },
            ));
        }
        for (object, id, field) in &entry.relinked {
            let Ok(other) = schema.object(object) else { continue };
            let Some(r) = self.store.get_record(other, *id).await? else {
                continue;
            };
            // Only what still points where the merge put it goes back.
            if r.get(field) == &Value::Relation(keep.id) {
                batch.change(other, r.id, r.version, |input| {
                    input.values.insert(field.clone(), Value::Relation(gone.id));
                });
            }
        }
        if let Some(activity) = schema.objects.values().find(|o| o.is_activity()).cloned() {
            for id in &entry.links_moved {
                let Some(r) = self.store.get_record(&activity, *id).await? else {
                    continue;
                };
                let links = moved_links(&r.links, &def.name, keep.id, gone.id);
                batch.change(&activity, r.id, r.version, |input| input.links = Some(links));
            }
        }
        batch.trash.push((def.clone(), gone.id, gone.version, false));
        batch.undo = Some(entry.id);
        let now = self.clock.now();
        self.apply(who, &batch, now, "undo").await?;
        let pair = ordered(keep.id, gone.id);
        self.store.reopen_duplicate(&def.name, pair).await?;
        Ok(MergeEntry {
            undone_at: Some(now),
            ..entry
        })
    }
}

/// An activity's links with one record replaced by another (once, sorted).
fn moved_links(links: &[Link], object: &str, from: RecordId, to: RecordId) -> Vec<Link> {
    let mut out: Vec<Link> = links
        .iter()
        .map(|l| {
            if l.object == object && l.id == from {
                Link {
                    object: l.object.clone(),
                    id: to,
                }
            } else {
                l.clone()
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
