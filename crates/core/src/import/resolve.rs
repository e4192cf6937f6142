//! A planned batch meets the records there. The store reads, inside the transaction that
//! writes the batch, the live records holding the rows' keys and the unique values the batch
//! would write ([`Found`]); this decides, with nothing else to ask, what each row becomes: an
//! update of the record holding its key, nothing (it says what is there already), a new record,
//! or a rejection with its reason. Because it runs against the records as they are when the
//! batch is written, a record someone made while the import ran is updated, never doubled.

use super::job::{Applied, Counts, ImportWrite, LikelyDuplicate, Warning, WarningKind};
use super::plan::{PlannedRow, Rejected};
use crate::ids::{RecordId, UserId};
use crate::meta::ObjectDef;
use crate::record::{Record, RecordInput, diff};
use crate::value::{Value, unique_key};
use std::collections::{BTreeMap, HashMap};

/// What the store found among the live records, in the batch's transaction.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Records holding a row's match key, by the key.
    pub by_key: HashMap<String, Record>,
    /// (object, field, unique key) → the record holding it and its owner.
    pub unique: HashMap<(String, String, String), (RecordId, Option<UserId>)>,
    /// The live records rows without a key were matched to by their duplicate score.
    pub by_id: HashMap<RecordId, Record>,
}

/// The batch as it is to be written.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// New related records, per object, without those found under another id.
    pub related: Vec<(ObjectDef, Vec<Record>)>,
    pub creates: Vec<Record>,
    pub updates: Vec<(RecordId, i64, RecordInput)>,
    /// Every rejected row of the batch, the planner's and these, in row order.
    pub rejected: Vec<Rejected>,
    pub likely: Vec<LikelyDuplicate>,
    /// The warnings of the rows written (none for a row rejected after all).
    pub warnings: Vec<Warning>,
    pub applied: Applied,
}

fn sees(owners: &Option<Vec<UserId>>, owner: Option<UserId>) -> bool {
    owners.as_ref().is_none_or(|os| owner.is_some_and(|o| os.contains(&o)))
}

/// Unique values the batch assigns, so two of its rows cannot take the same one.
#[derive(Default)]
struct Claims(HashMap<(String, String), RecordId>);

impl Claims {
    /// The first unique value of `values` that another record holds or another row of this
    /// batch took; `target` is the record the values are written to.
    fn conflict(
        &self,
        object: &ObjectDef,
        values: &BTreeMap<String, Value>,
        target: RecordId,
        found: &Found,
    ) -> Option<String> {
        for field in object.active_fields().filter(|f| f.unique) {
            let Some(key) = values.get(&field.name).and_then(|v| unique_key(field.field_type, v)) else {
                continue;
            };
            let held = found
                .unique
                .get(&(object.name.clone(), field.name.clone(), key.clone()))
                .map(|(id, _)| *id);
            let claimed = self.0.get(&(field.name.clone(), key.clone())).copied();
            if held.is_some_and(|h| h != target) || claimed.is_some_and(|c| c != target) {
                let shown = values.get(&field.name).and_then(Value::to_text).unwrap_or_default();
                return Some(format!(
                    "{} {shown:?} is already another {}'s",
                    field.name,
                    object.label.to_lowercase()
                ));
            }
        }
        None
    }

    fn claim(&mut self, object: &ObjectDef, values: &BTreeMap<String, Value>, target: RecordId) {
        for field in object.active_fields().filter(|f| f.unique) {
            if let Some(key) = values.get(&field.name).and_then(|v| unique_key(field.field_type, v)) {
                self.0.insert((field.name.clone(), key), target);
            }
        }
    }
}

/// Decide what each row of a batch becomes, against what the store found.
pub fn resolve(write: &ImportWrite, object: &ObjectDef, found: &Found) -> Resolved {
    let mut out = Resolved::default();
    let mut remap: HashMap<RecordId, RecordId> = HashMap::new();
    let mut blocked: HashMap<RecordId, String> = HashMap::new();
    for related in &write.related {
        let def = &related.object;
        let mut kept = Vec::with_capacity(related.records.len());
        let mut claims = Claims::default();
        for record in &related.records {
            let mut holder = None;
            for field in def.active_fields().filter(|f| f.unique) {
                let Some(key) = unique_key(field.field_type, record.get(&field.name)) else {
                    continue;
                };
                if let Some((id, owner)) = found.unique.get(&(def.name.clone(), field.name.clone(), key.clone())) {
                    holder = Some(if sees(&related.owners, *owner) {
                        Ok(*id)
                    } else {
                        Err(format!(
                            "{}.{} {:?} belongs to a {} you may not see",
                            def.name,
                            field.name,
                            record.get(&field.name).to_text().unwrap_or_default(),
                            def.label.to_lowercase()
                        ))
                    });
                    break;
                }
                if let Some(other) = claims.0.get(&(field.name.clone(), key)) {
                    holder = Some(Ok(*other));
                    break;
                }
            }
            match holder {
                Some(Ok(id)) => {
                    remap.insert(record.id, id);
                }
                Some(Err(why)) => {
                    blocked.insert(record.id, why);
                }
                None => {
                    claims.claim(def, &record.values, record.id);
                    kept.push(record.clone());
                }
            }
        }
        if !kept.is_empty() {
            out.related.push((def.clone(), kept));
        }
    }
    let mut rejected: Vec<Rejected> = write.rejected.clone();
    let mut claims = Claims::default();
    let mut created_rows: HashMap<u64, RecordId> = HashMap::new();
    // Rows of this batch that found their record: an earlier row's likeness points at it.
    let mut redirect: HashMap<RecordId, RecordId> = HashMap::new();
    let mut unchanged = 0u64;
    let mut updated = 0u64;
    let mut merged = 0u64;
    let mut warnings: Vec<Warning> = Vec::new();
    // Where each record's update is in `out.updates`.
    let mut updated_at: HashMap<RecordId, usize> = HashMap::new();
    'rows: for row in &write.rows {
        let PlannedRow {
            number,
            key,
            record,
            owner,
            missing,
            cells: _,
            merged: merged_here,
            repeats,
            target,
        } = row;
        let reject = |reason: String| row.rejected(&reason);
        let merge_warnings = |warnings: &mut Vec<Warning>| {
            for (n, _) in merged_here {
                warnings.push(Warning::new(*n, WarningKind::MergedWith, number.to_string()));
            }
            merged_here.len() as u64
        };
        let mut values = record.values.clone();
        for value in values.values_mut() {
            if let Value::Relation(id) = value {
                if let Some(to) = remap.get(id) {
                    *id = *to;
                } else if let Some(why) = blocked.get(id) {
                    rejected.extend(reject(why.clone()));
                    continue 'rows;
                }
            }
        }
        let holder = match key {
            Some(k) => found.by_key.get(k),
            // Matched by its score to a record that has left the importer's sight meanwhile:
            // a new record, as without the match, and nothing said of the other.
            None => target
                .and_then(|id| found.by_id.get(&id))
                .filter(|r| sees(&write.owners, r.owner)),
        };
        match holder {
            Some(current) => {
                let key_field = write.key.as_deref().filter(|_| key.is_some()).unwrap_or_default();
                if !sees(&write.owners, current.owner) {
                    let shown = values.get(key_field).and_then(Value::to_text).unwrap_or_default();
                    rejected.extend(reject(format!(
                        "{key_field} {shown:?} belongs to a {} you may not see",
                        object.label.to_lowercase()
                    )));
                    continue;
                }
                // The key matched as it is folded; its spelling in the record stays.
                values.remove(key_field);
                let input = RecordInput {
                    values,
                    owner: owner.map(Some),
                    version: Some(current.version),
                    links: None,
                };
                let changes = diff(current, &input);
                redirect.insert(record.id, current.id);
                let changed_any = !changes.is_empty();
                if changed_any {
                    let changed: BTreeMap<String, Value> = changes.into_iter().map(|(f, _, v)| (f, v)).collect();
                    if let Some(why) = claims.conflict(object, &changed, current.id, found) {
                        rejected.extend(reject(why));
                        continue;
                    }
                    claims.claim(object, &changed, current.id);
                    // Two rows that came to one record (a row matched by its score and another
                    // by its key): one update, the later row's values winning.
                    match updated_at.get(&current.id).and_then(|i| out.updates.get_mut(*i)) {
                        Some((_, _, queued)) => {
                            queued.values.extend(input.values);
                            if input.owner.is_some() {
                                queued.owner = input.owner;
                            }
                        }
                        None => {
                            updated_at.insert(current.id, out.updates.len());
                            out.updates.push((current.id, current.version, input));
                        }
                    }
                }
                merged += merge_warnings(&mut warnings);
                match repeats {
                    // The record an earlier row of the file wrote: this row went into it.
                    Some(first) => {
                        merged += 1;
                        warnings.push(Warning::new(*number, WarningKind::MergedWith, first.to_string()));
                    }
                    None if !changed_any => unchanged += 1,
                    None => updated += 1,
                }
            }
            // In a dry run the earlier row made no record to update: this row would have
            // gone into it, as in the real run.
            None if write.dry_run && repeats.is_some() => {
                merged += 1 + merge_warnings(&mut warnings);
                let first = repeats.map(|n| n.to_string()).unwrap_or_default();
                warnings.push(Warning::new(*number, WarningKind::MergedWith, first));
            }
            None => {
                if !missing.is_empty() {
                    rejected.extend(reject(format!("{} is required", missing.join(", "))));
                    continue;
                }
                if let Some(why) = claims.conflict(object, &values, record.id, found) {
                    rejected.extend(reject(why));
                    continue;
                }
                claims.claim(object, &values, record.id);
                merged += merge_warnings(&mut warnings);
                created_rows.insert(*number, record.id);
                // Field by field: `..record.clone()` would copy the values only to drop them.
                out.creates.push(Record {
                    object: record.object.clone(),
                    id: record.id,
                    version: record.version,
                    created_at: record.created_at,
                    created_by: record.created_by,
                    updated_at: record.updated_at,
                    updated_by: record.updated_by,
                    owner: record.owner,
                    deleted_at: record.deleted_at,
                    values,
                    links: record.links.clone(),
                    withheld: record.withheld.clone(),
                });
            }
        }
    }
    for (from, to) in &remap {
        out.applied.remapped.push((*from, *to));
    }
    out.applied.blocked = blocked.into_iter().collect();
    out.applied.created_rows = created_rows.keys().copied().collect();
    out.applied.created_rows.sort_unstable();
    out.applied.records = out
        .creates
        .iter()
        .map(|r| r.id)
        .chain(out.updates.iter().map(|(id, _, _)| *id))
        .collect();
    let rejected_here: std::collections::HashSet<u64> = rejected.iter().map(|r| r.number).collect();
    out.likely = write
        .likely
        .iter()
        .filter(|l| created_rows.contains_key(&l.row))
        // An earlier row of this batch that was rejected made nothing to point at.
        .filter(|l| l.like_row.is_none_or(|n| !rejected_here.contains(&n)))
        .cloned()
        .map(|mut l| {
            // An earlier row of this batch that updated a record instead points at that one.
            if let Some(to) = l.like_record.and_then(|id| redirect.get(&id)) {
                l.like_record = Some(*to);
            }
            l
        })
        .collect();
    rejected.sort_by_key(|r| r.number);
    warnings.extend(
        write
            .warnings
            .iter()
            .filter(|w| !rejected_here.contains(&w.row))
            .cloned(),
    );
    warnings.sort_by_key(|w| w.row);
    let base = write.base;
    out.applied.counts = Counts {
        last_row: write.last_row.max(base.last_row),
        created: base.created + out.creates.len() as u64,
        updated: base.updated + updated,
        unchanged: base.unchanged + unchanged,
        merged: base.merged + merged,
        rejected: base.rejected + rejected.len() as u64,
        related_created: base.related_created + out.related.iter().map(|(_, r)| r.len() as u64).sum::<u64>(),
        warnings: base.warnings + warnings.len() as u64,
    };
    out.rejected = rejected;
    out.warnings = warnings;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::job::{Counts, ImportId, RelatedWrite};
    use crate::meta::standard_objects;

    fn object(name: &str) -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == name).unwrap()
    }

    fn record(object: &str, values: &[(&str, Value)]) -> Record {
        let now = chrono::Utc::now();
        Record {
            values: values.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect(),
            ..Record::new(object, RecordId::new_at(now), now, None)
        }
    }

    /// A batch whose row links to a company it plans to make with external id C-1.
    fn batch(company_owners: Option<Vec<UserId>>) -> (ImportWrite, RecordId) {
        let company = record(
            "company",
            &[
                ("name", Value::Text("Acme".into())),
                ("external_id", Value::Text("C-1".into())),
            ],
        );
        let planned = company.id;
        let person = record(
            "person",
            &[
                ("last_name", Value::Text("Öberg".into())),
                ("company", Value::Relation(planned)),
            ],
        );
        let write = ImportWrite {
            job: ImportId(uuid::Uuid::nil()),
            base: Counts::default(),
            last_row: 2,
            key: None,
            dry_run: false,
            owners: None,
            rejected: Vec::new(),
            related: vec![RelatedWrite {
                object: object("company"),
                records: vec![company],
                owners: company_owners,
            }],
            rows: vec![PlannedRow {
                number: 2,
                key: None,
                record: person,
                owner: None,
                missing: Vec::new(),
                cells: vec!["Öberg".into(), "C-1".into()],
                merged: Vec::new(),
                repeats: None,
                target: None,
            }],
            likely: Vec::new(),
            warnings: Vec::new(),
        };
        (write, planned)
    }

    fn held_by(holder: RecordId, owner: UserId) -> Found {
        let mut found = Found::default();
        found.unique.insert(
            ("company".into(), "external_id".into(), "c-1".into()),
            (holder, Some(owner)),
        );
        found
    }

    #[test]
    fn a_company_made_meanwhile_is_linked_instead_of_made_again() {
        let (holder, owner) = (RecordId::new_at(chrono::Utc::now()), UserId(uuid::Uuid::now_v7()));
        let (write, planned) = batch(None);
        let resolved = resolve(&write, &object("person"), &held_by(holder, owner));
        assert!(resolved.related.is_empty(), "not made twice");
        assert_eq!(resolved.applied.remapped, vec![(planned, holder)]);
        assert_eq!(resolved.creates[0].get("company"), &Value::Relation(holder));
        assert_eq!(resolved.applied.counts.created, 1);
        assert_eq!(resolved.applied.created_rows, vec![2]);
    }

    #[test]
    fn a_company_out_of_sight_is_neither_linked_nor_made() {
        let (holder, owner) = (RecordId::new_at(chrono::Utc::now()), UserId(uuid::Uuid::now_v7()));
        let me = UserId(uuid::Uuid::now_v7());
        let (write, planned) = batch(Some(vec![me]));
        let resolved = resolve(&write, &object("person"), &held_by(holder, owner));
        assert!(resolved.creates.is_empty() && resolved.related.is_empty());
        assert_eq!(resolved.rejected.len(), 1);
        assert!(
            resolved.rejected[0].reason.contains("you may not see"),
            "{}",
            resolved.rejected[0].reason
        );
        assert!(!resolved.rejected[0].reason.contains(&holder.to_string()));
        assert_eq!(resolved.applied.blocked.len(), 1);
        assert_eq!(resolved.applied.blocked[0].0, planned);
    }
}
