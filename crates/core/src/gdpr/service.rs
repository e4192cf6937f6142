//! GDPR as use cases: a person's data exported, consent recorded, a record erased for good.

use crate::audit::{AuditEvent, AuditKind};
use crate::auth::{Permission, Principal};
use crate::error::Result;
use crate::filter::{ColumnRef, Compare, Condition};
use crate::gdpr::{PERSON, holds_personal_text, relations_to};
use crate::ids::RecordId;
use crate::meta::{ObjectDef, Schema};
use crate::query::{ListQuery, MAX_LIMIT};
use crate::record::Record;
use crate::store::{Erasure, Scrub};
use crate::value::Value;
use serde_json::{Value as Json, json};

impl crate::service::Crm {
    /// Every record of `object` matching `condition`, live or in the trash, page by page.
    async fn every_record(
        &self,
        object: &ObjectDef,
        condition: Condition,
        owners: Option<Vec<crate::ids::UserId>>,
    ) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for liveness in [crate::query::Liveness::Live, crate::query::Liveness::Trash] {
            let mut query = ListQuery::all();
            query.filter = Some(condition.clone());
            query.owners = owners.clone();
            query.liveness = liveness;
            self.each_listed(object, query, &mut |r| out.push(r)).await?;
        }
        Ok(out)
    }

    /// Records of every object that point at the person: activities linked to them or naming
    /// them, and records of any object with a relation to people. With `viewer`, only those
    /// the viewer may see (an export); without, all of them (an erasure must reach everything).
    async fn records_about(
        &self,
        schema: &Schema,
        id: RecordId,
        viewer: Option<&Principal>,
    ) -> Result<Vec<(ObjectDef, Vec<Record>)>> {
        let mut out = Vec::new();
        for object in schema.objects.values() {
            let mut any = Vec::new();
            for f in relations_to(object, PERSON) {
                any.push(Condition::Compare {
                    column: ColumnRef::of(f),
                    cmp: Compare::Eq,
                    value: Value::Relation(id),
                });
            }
            if object.is_activity() {
                any.push(Condition::LinkedTo {
                    object: PERSON.into(),
                    id,
                });
            }
            if any.is_empty() {
                continue;
            }
            let owners = match viewer {
                Some(who) => self.visible_owners(who, schema, &object.name).await?,
                None => None,
            };
            let records = self.every_record(object, Condition::Or(any), owners).await?;
            if !records.is_empty() {
                out.push((object.clone(), records));
            }
        }
        Ok(out)
    }

    /// Everything Anchora holds about one person, as one JSON document.
    pub async fn export_person(&self, who: &Principal, id: &str, ip: Option<&str>) -> Result<Json> {
        self.authorize(who, Permission::Export).await?;
        let (_, person) = self.get(who, PERSON, id).await?;
        let schema = self.schema().await?;
        let object = schema.object(PERSON)?.clone();
        let mut history = Vec::new();
        let mut after = 0;
        loop {
            let mut page = self.store.history(&object, person.id, after, MAX_LIMIT).await?;
            let done = page.len() < MAX_LIMIT as usize;
            after = page.last().map_or(after, |c| c.seq);
            self.withhold_in_history(who, &schema, &object, &mut page).await?;
            history.extend(page.iter().map(|c| c.to_json()));
            if done {
                break;
            }
        }
        let mut related = serde_json::Map::new();
        for (object, mut records) in self.records_about(&schema, person.id, Some(who)).await? {
            self.withhold_unseen(who, &schema, &object, &mut records).await?;
            related.insert(
                object.name.clone(),
                Json::Array(records.iter().map(|r| r.to_json(&object)).collect()),
            );
        }
        let now = self.clock.now();
        self.record_event(
            AuditEvent::new(now, Some(who.user_id), AuditKind::PersonalDataExported)
                .subject(person.id.to_string())
                .ip(ip),
        )
        .await?;
        Ok(json!({
            "exported_at": now,
            "person": person.to_json(&object),
            "history": history,
            "related": related,
            "consents": self.store.consent_history(person.id).await?,
        }))
    }

    /// Erase a person for good: their record and search entry, the values in their change log,
    /// the personal fields of activities about them and every reference to them. Returns the
    /// receipt, which is also kept in the audit log (without personal data).
    pub async fn erase_person(&self, who: &Principal, id: &str, ip: Option<&str>) -> Result<Json> {
        self.authorize(who, Permission::Purge).await?;
        let (_, person) = self.get(who, PERSON, id).await?;
        let schema = self.schema().await?;
        let object = schema.object(PERSON)?.clone();
        let mut scrubs = Vec::new();
        for (about, records) in self.records_about(&schema, person.id, None).await? {
            let mut blank: Vec<String> = relations_to(&about, PERSON).map(|f| f.name.clone()).collect();
            let mut mark = Vec::new();
            if about.is_activity() {
                for f in about.fields.iter().filter(|f| holds_personal_text(f.field_type)) {
                    if f.required {
                        mark.push(f.name.clone());
                    } else {
                        blank.push(f.name.clone());
                    }
                }
            }
            scrubs.push(Scrub {
                ids: records.iter().map(|r| r.id).collect(),
                object: about,
                blank,
                mark,
            });
        }
        let erasure = Erasure {
            object,
            id: person.id,
            scrubs,
            email: person.get("email").to_text(),
        };
        let ctx = crate::store::WriteCtx {
            actor: who.user_id,
            now: self.clock.now(),
        };
        let counts = self.store.erase_record(&erasure, ctx).await?;
        let receipt = json!({
            "receipt": RecordId::new_at(ctx.now).to_string(),
            "erased_at": ctx.now,
            "erased_by": who.user_id.to_string(),
            "object": PERSON,
            "id": person.id.to_string(),
            "records_changed": counts.records_changed,
            "change_log_entries_scrubbed": counts.change_log_entries_scrubbed,
            "links_removed": counts.links_removed,
            "related": erasure.scrubs.iter().map(|s| json!({"object": s.object.name, "count": s.ids.len()})).collect::<Vec<_>>(),
        });
        self.record_event(
            AuditEvent::new(ctx.now, Some(who.user_id), AuditKind::PersonErased)
                .subject(person.id.to_string())
                .ip(ip)
                .detail(receipt.clone()),
        )
        .await?;
        Ok(receipt)
    }
}
