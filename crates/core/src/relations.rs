//! Relations and activity links as a caller may see them. A record someone may not see is, to
//! them, one that does not exist: a write may not point at it (refused with the very words a
//! made-up id gets), and what they read does not name it — its id and title are withheld, and
//! a withheld link or relation is kept as it is when they write the record back.

use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use crate::ids::RecordId;
use crate::meta::{FieldType, ObjectDef, Schema};
use crate::query::{ListQuery, Liveness};
use crate::record::{Change, Link, Record, RecordInput};
use crate::service::Crm;
use crate::value::Value;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Record ids per object, to be checked together (one query per object).
type ByObject = BTreeMap<String, Vec<RecordId>>;

impl Crm {
    /// A condition worked out for a reader: the related records its leaves look at
    /// (`company.city`) only those the reader may see, decided per object as lists decide it.
    pub(crate) async fn see_related(
        &self,
        who: &Principal,
        schema: &Schema,
        condition: crate::filter::Condition,
    ) -> Result<crate::filter::Condition> {
        let objects = condition.related_objects();
        if objects.is_empty() {
            return Ok(condition);
        }
        let mut owners = BTreeMap::new();
        let mut team = None;
        for object in objects {
            let visibility = schema.policy.visibility(&object, who.role);
            let seen = self.owners_for(who, visibility, &mut team).await?;
            owners.insert(object, seen);
        }
        Ok(condition.see_related(&owners))
    }

    /// Of `wanted`, the records the caller may not see, per object. Objects whose every record
    /// the caller sees cost nothing.
    async fn unseen(&self, who: &Principal, schema: &Schema, wanted: ByObject) -> Result<HashSet<(String, RecordId)>> {
        let mut out = HashSet::new();
        let mut team = None;
        for (object, mut ids) in wanted {
            let visibility = schema.policy.visibility(&object, who.role);
            let Some(owners) = self.owners_for(who, visibility, &mut team).await? else {
                continue;
            };
            let Some(def) = schema.objects.get(&object) else {
                out.extend(ids.into_iter().map(|id| (object.clone(), id)));
                continue;
            };
            ids.sort();
            ids.dedup();
            let mut seen = HashSet::new();
            for chunk in ids.chunks(crate::query::MAX_LIMIT as usize) {
                let mut query = ListQuery::all();
                query.liveness = Liveness::Any;
                query.limit = crate::query::MAX_LIMIT;
                query.owners = Some(owners.clone());
                query.filter = Some(crate::filter::Condition::In {
                    column: crate::filter::ColumnRef {
                        column: "id".into(),
                        field_type: FieldType::Relation,
                    },
                    values: chunk.iter().map(|id| Value::Relation(*id)).collect(),
                });
                seen.extend(self.store.list_records(def, &query).await?.into_iter().map(|r| r.id));
            }
            out.extend(
                ids.into_iter()
                    .filter(|id| !seen.contains(id))
                    .map(|id| (object.clone(), id)),
            );
        }
        Ok(out)
    }

    /// Refuse a write that points at a record the caller may not see, exactly as the store
    /// refuses one that points at nothing.
    pub(crate) async fn check_seen(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        input: &RecordInput,
    ) -> Result<()> {
        let mut wanted = ByObject::new();
        for (_, value, target) in input.references(object) {
            if let (Value::Relation(id), Some(target)) = (value, target) {
                wanted.entry(target.to_string()).or_default().push(*id);
            }
        }
        for link in input.links.iter().flatten() {
            wanted.entry(link.object.clone()).or_default().push(link.id);
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let unseen = self.unseen(who, schema, wanted).await?;
        if unseen.is_empty() {
            return Ok(());
        }
        let mut errors = Vec::new();
        for (field, value, target) in input.references(object) {
            if let (Value::Relation(id), Some(target)) = (value, target)
                && unseen.contains(&(target.to_string(), *id))
            {
                errors.push(FieldError::new(field, format!("no {target} with this id")));
            }
        }
        for (i, link) in input.links.iter().flatten().enumerate() {
            if unseen.contains(&(link.object.clone(), link.id)) {
                errors.push(FieldError::new(
                    format!("links[{i}]"),
                    format!("no {} with this id", link.object),
                ));
            }
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(Error::validation(errors))
    }

    /// Take out of records read for the caller the relations and links that point at records
    /// they may not see.
    pub async fn withhold_unseen(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        records: &mut [Record],
    ) -> Result<()> {
        let relations: Vec<(&str, &str)> = object
            .active_fields()
            .filter(|f| f.field_type == FieldType::Relation)
            .filter_map(|f| Some((f.name.as_str(), f.target.as_deref()?)))
            .collect();
        let mut wanted = ByObject::new();
        for r in records.iter() {
            for (field, target) in &relations {
                if let Value::Relation(id) = r.get(field) {
                    wanted.entry((*target).to_string()).or_default().push(*id);
                }
            }
            for link in &r.links {
                wanted.entry(link.object.clone()).or_default().push(link.id);
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let unseen = self.unseen(who, schema, wanted).await?;
        if unseen.is_empty() {
            return Ok(());
        }
        for r in records.iter_mut() {
            for (field, target) in &relations {
                if let Value::Relation(id) = r.get(field)
                    && unseen.contains(&((*target).to_string(), *id))
                {
                    r.values.remove(*field);
                    r.withheld.fields.push((*field).to_string());
                }
            }
            let (hidden, seen): (Vec<Link>, Vec<Link>) = std::mem::take(&mut r.links)
                .into_iter()
                .partition(|l| unseen.contains(&(l.object.clone(), l.id)));
            r.links = seen;
            r.withheld.links.extend(hidden.into_iter().map(|l| l.object));
        }
        Ok(())
    }

    /// The links of a record the caller may not see: a write that replaces the links keeps
    /// these, as the caller could not name them.
    pub(crate) async fn unseen_links(&self, who: &Principal, schema: &Schema, links: &[Link]) -> Result<Vec<Link>> {
        let mut wanted = ByObject::new();
        for link in links {
            wanted.entry(link.object.clone()).or_default().push(link.id);
        }
        let unseen = self.unseen(who, schema, wanted).await?;
        Ok(links
            .iter()
            .filter(|l| unseen.contains(&(l.object.clone(), l.id)))
            .cloned()
            .collect())
    }

    /// A record's history as the caller may see it: relation values and links naming records
    /// they may not see become `{"withheld": true}`.
    pub(crate) async fn withhold_in_history(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        changes: &mut [Change],
    ) -> Result<()> {
        let targets: HashMap<&str, &str> = object
            .fields
            .iter()
            .filter(|f| f.field_type == FieldType::Relation)
            .filter_map(|f| Some((f.name.as_str(), f.target.as_deref()?)))
            .collect();
        let mut wanted = ByObject::new();
        let mut note = |target: &str, json: &Json| {
            if let Some(id) = json.as_str().and_then(RecordId::parse) {
                wanted.entry(target.to_string()).or_default().push(id);
            }
        };
        for c in changes.iter() {
            for side in [&c.old, &c.new] {
                match c.field.as_deref() {
                    Some("links") => {
                        for l in side.as_array().into_iter().flatten() {
                            if let Some(o) = l.get("object").and_then(Json::as_str) {
                                note(o, l.get("id").unwrap_or(&Json::Null));
                            }
                        }
                    }
                    Some(field) => {
                        if let Some(target) = targets.get(field) {
                            note(target, side);
                        }
                    }
                    None => {
                        for (field, target) in &targets {
                            if let Some(v) = side.get(*field) {
                                note(target, v);
                            }
                        }
                    }
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let unseen = self.unseen(who, schema, wanted).await?;
        if unseen.is_empty() {
            return Ok(());
        }
        let hidden = |target: &str, json: &Json| {
            json.as_str()
                .and_then(RecordId::parse)
                .is_some_and(|id| unseen.contains(&(target.to_string(), id)))
        };
        let withheld = || serde_json::json!({"withheld": true});
        for c in changes.iter_mut() {
            let field = c.field.clone();
            for side in [&mut c.old, &mut c.new] {
                match field.as_deref() {
                    Some("links") => {
                        for l in side.as_array_mut().into_iter().flatten() {
                            let object = l.get("object").and_then(Json::as_str).unwrap_or_default().to_string();
                            if hidden(&object, l.get("id").unwrap_or(&Json::Null)) {
                                *l = serde_json::json!({"object": object, "withheld": true});
                            }
                        }
                    }
                    Some(field) => {
                        if let Some(target) = targets.get(field)
                            && hidden(target, side)
                        {
                            *side = withheld();
                        }
                    }
                    None => {
                        for (field, target) in &targets {
                            if let Some(v) = side.get_mut(*field)
                                && hidden(target, v)
                            {
                                *v = withheld();
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
