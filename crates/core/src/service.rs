//! The CRM's use cases. Handlers call these; these check permissions, parse and validate, and
//! ask the store. Nothing here knows about HTTP or SQL.

use crate::auth::{Permission, Principal, SchemaChange, Visibility};
use crate::clock::Clock;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::ids::{RecordId, UserId};
use crate::meta::{FieldPatch, NewField, NewObject, ObjectDef, Schema, validate_label};
use crate::query::{Cursor, ListQuery, Liveness, parse_limit, parse_sort};
use crate::record::{Change, InputMode, Record, RecordInput};
use crate::store::{SearchHit, SearchScope, Store, WriteCtx, WriteOutcome};
use serde::Deserialize;
use serde_json::Value as Json;
use std::sync::Arc;

/// One workspace's CRM.
#[derive(Clone)]
pub struct Crm {
    pub(crate) store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The schema version this request already read (with its token), so the schema need not
    /// be checked again; `None` checks it.
    known_schema_version: Option<i64>,
    workspace: String,
    max_fields: usize,
}

/// Active fields an object may have unless the server is told otherwise.
pub const DEFAULT_MAX_FIELDS: usize = 500;
/// What the field limit may be set to: a text field takes two columns (its value and its
/// folded copy), and both databases must hold an object's table (PostgreSQL 1,600 columns,
/// SQLite 2,000), archived fields' columns and all.
pub const MAX_FIELDS_RANGE: std::ops::RangeInclusive<usize> = 10..=700;

/// What a list request asks, as given (the API's query string).
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub trash: bool,
    /// Count the records the filter finds (up to [`COUNT_CAP`]) with the page.
    pub count: bool,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
    /// The records the filter finds that the caller may see, when asked for.
    pub total: Option<Total>,
}

/// How many records a list has: counted up to [`COUNT_CAP`], beyond which it says "more".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Total {
    pub count: u64,
    /// More than `count` (the cap) match: counting further would read them all.
    pub more: bool,
}

/// Lists count their records up to this many; past it, "more than 10,000".
pub const COUNT_CAP: u64 = 10_000;

pub const MAX_SEARCH_TERMS: usize = 8;

/// Turn a serde error on a typed body into a validation error that names the field.
pub fn body_error(e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let field = text.split('`').nth(1).unwrap_or("body").to_string();
    let message = text.split(" at line").next().unwrap_or(&text).to_string();
    Error::field(field, message)
}

/// Read a JSON body into `T`; an error names where in the body it is (`priority`,
/// `effects[0].delta`), not the offending value.
pub fn from_body<T: for<'de> Deserialize<'de>>(body: Json) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = inner.to_string();
        // An unknown or missing field is named by serde itself, where it belongs.
        if text.starts_with("unknown field") || text.starts_with("missing field") || path == "." || path.is_empty() {
            return body_error(&inner);
        }
        let message = text.split(" at line").next().unwrap_or(&text).to_string();
        Error::field(path, message)
    })
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: Json) -> Result<T> {
    from_body(body)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectPatch {
    label: Option<String>,
    label_plural: Option<String>,
    archived: Option<bool>,
}

impl Crm {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            known_schema_version: None,
            workspace: crate::workspace::DEFAULT_WORKSPACE.to_string(),
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }

    /// The most active fields an object may have (kept within [`MAX_FIELDS_RANGE`]).
    pub fn with_max_fields(mut self, max: usize) -> Self {
        self.max_fields = max.clamp(*MAX_FIELDS_RANGE.start(), *MAX_FIELDS_RANGE.end());
        self
    }

    pub fn max_fields(&self) -> usize {
        self.max_fields
    }

    /// The CRM of a named workspace (tokens and sessions it issues carry the name).
    pub fn in_workspace(mut self, workspace: &str) -> Self {
        self.workspace = workspace.to_string();
        self
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The same CRM for work that outlives the request that started it: it reads the schema
    /// afresh instead of trusting the version the request had read.
    pub fn for_background(&self) -> Crm {
        Crm {
            known_schema_version: None,
            ..self.clone()
        }
    }

    /// A CRM for one request that has read the schema version already.
    pub fn at_schema_version(mut self, version: i64) -> Self {
        self.known_schema_version = Some(version);
        self
    }

    fn ctx(&self, who: &Principal) -> WriteCtx {
        WriteCtx {
            actor: who.user_id,
            now: self.clock.now(),
        }
    }

    pub async fn schema(&self) -> Result<Arc<Schema>> {
        match self.known_schema_version {
            Some(v) => self.store.schema_at(v).await,
            None => self.store.schema().await,
        }
    }

    pub async fn object(&self, name: &str) -> Result<(Arc<Schema>, ObjectDef)> {
        let schema = self.schema().await?;
        let object = schema.object(name)?.clone();
        Ok((schema, object))
    }

    pub async fn create_object(&self, who: &Principal, body: Json) -> Result<ObjectDef> {
        let schema = self
            .authorize(who, Permission::ChangeSchema(SchemaChange::Structure))
            .await?;
        let new: NewObject = parse_body(body)?;
        let def = new.into_def(&schema)?;
        self.store.create_object(&def, self.ctx(who)).await?;
        Ok(def)
    }

    pub async fn update_object(&self, who: &Principal, name: &str, body: Json) -> Result<ObjectDef> {
        let schema = self
            .authorize(who, Permission::ChangeSchema(SchemaChange::Structure))
            .await?;
        let patch: ObjectPatch = parse_body(body)?;
        let mut def = schema
            .objects
            .get(name)
            .cloned()
            .ok_or_else(|| Error::new(ErrorCode::UnknownObject, format!("no object named {name:?}")))?;
        if let Some(label) = patch.label {
            validate_label("label", &label).map_err(|e| Error::validation(vec![e]))?;
            def.label = label.trim().into();
        }
        if let Some(label) = patch.label_plural {
            validate_label("label_plural", &label).map_err(|e| Error::validation(vec![e]))?;
            def.label_plural = label.trim().into();
        }
        if let Some(archived) = patch.archived {
            if archived && def.standard {
                return Err(Error::field("archived", "standard objects cannot be archived"));
            }
            def.archived = archived;
        }
        self.store.update_object(&def).await?;
        Ok(def)
    }

    pub async fn add_field(&self, who: &Principal, object: &str, body: Json) -> Result<crate::meta::FieldDef> {
        self.authorize(who, Permission::ChangeSchema(SchemaChange::AddField))
            .await?;
        let new: NewField = parse_body(body)?;
        let (schema, object) = self.object(object).await?;
        let active = object.active_fields().count();
        if active >= self.max_fields {
            return Err(Error::field(
                "name",
                format!(
                    "{} has {active} active fields, the most an object may have; archive or purge fields no one uses before adding one",
                    object.label_plural
                ),
            ));
        }
        let field = new.into_def(&schema, &object)?;
        self.store.add_field(&object, &field).await?;
        Ok(field)
    }

    pub async fn update_field(
        &self,
        who: &Principal,
        object: &str,
        field: &str,
        body: Json,
    ) -> Result<crate::meta::FieldDef> {
        let patch: FieldPatch = parse_body(body)?;
        let change = if patch.only_choices() {
            SchemaChange::EditPicklist
        } else {
            SchemaChange::Structure
        };
        self.authorize(who, Permission::ChangeSchema(change)).await?;
        let (_, object) = self.object(object).await?;
        let current = object
            .any_field(field)
            .ok_or_else(|| unknown_field(&object, field))?
            .clone();
        let next = patch.apply(&current)?;
        self.store.update_field(&object, &current, &next).await?;
        Ok(next)
    }

    /// Archive a field (its data stays), or, with `purge`, drop an archived field for good.
    pub async fn remove_field(
        &self,
        who: &Principal,
        object: &str,
        field: &str,
        purge: bool,
    ) -> Result<crate::meta::FieldDef> {
        self.authorize(who, Permission::ChangeSchema(SchemaChange::Structure))
            .await?;
        if purge {
            self.authorize(who, Permission::Purge).await?;
        }
        let (_, object) = self.object(object).await?;
        let current = object
            .any_field(field)
            .ok_or_else(|| unknown_field(&object, field))?
            .clone();
        if current.standard {
            return Err(Error::field(field, "standard fields cannot be archived or purged"));
        }
        if purge {
            if !current.archived {
                return Err(Error::field(field, "archive the field before purging it"));
            }
            self.store.purge_field(&object, &current).await?;
            self.record_event(
                crate::audit::AuditEvent::new(self.clock.now(), Some(who.user_id), crate::audit::AuditKind::Purge)
                    .subject(format!("{}.{}", object.name, current.name))
                    .detail(serde_json::json!({"what": "field", "object": object.name, "field": current.name})),
            )
            .await?;
            return Ok(current);
        }
        let mut next = current.clone();
        next.archived = true;
        self.store.update_field(&object, &current, &next).await?;
        Ok(next)
    }

    pub async fn list(&self, who: &Principal, object: &str, params: &ListParams) -> Result<(ObjectDef, Page)> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let filter = match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(text) => {
                let condition = self.resolve_filter(who, &Filter::parse_str(text)?, &object).await?;
                Some(self.expand_selections(who, &object.name, condition).await?)
            }
            None => None,
        };
        let sort = parse_sort(&object, params.sort.as_deref().unwrap_or(""))?;
        // A page's cursor holds its last record's sort values: a relation withheld from the
        // caller could not be in it without giving its id away.
        if let Some(key) = sort.iter().find(|k| {
            k.field.field_type == crate::meta::FieldType::Relation
                && k.field
                    .target
                    .as_deref()
                    .is_some_and(|t| schema.policy.visibility(t, who.role) != Visibility::All)
        }) {
            return Err(crate::query::invalid_sort(format!(
                "{} points at records some of which you may not see; sort by another field",
                key.field.name
            )));
        }
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        let limit = parse_limit(params.limit.as_deref())?;
        let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(text) => Some(Cursor::decode(text, &sort, self.clock.now())?),
            None => None,
        };
        let liveness = if params.trash { Liveness::Trash } else { Liveness::Live };
        let query = ListQuery {
            filter,
            sort,
            limit,
            after,
            liveness,
            owners,
        };
        let total = if params.count {
            let counted = ListQuery {
                after: None,
                ..query.clone()
            };
            let n = self.store.count_listed(&object, &counted, COUNT_CAP).await?;
            Some(Total {
                count: n.min(COUNT_CAP),
                more: n > COUNT_CAP,
            })
        } else {
            None
        };
        let mut records = self.store.list_records(&object, &query).await?;
        self.withhold_unseen(who, &schema, &object, &mut records).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|last| {
                let values = query.sort.iter().map(|k| last.sort_value(&k.field.name)).collect();
                Cursor { values, id: last.id }.encode()
            })
        } else {
            None
        };
        Ok((
            object,
            Page {
                records,
                next_cursor,
                total,
            },
        ))
    }

    pub async fn create(&self, who: &Principal, object: &str, body: &Json) -> Result<(ObjectDef, Record)> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        let ctx = self.ctx(who);
        let input = RecordInput::parse(&schema, &object, body, InputMode::Create, ctx.now)?;
        self.check_seen(who, &schema, &object, &input).await?;
        let record = Record {
            owner: input.owner.unwrap_or(Some(who.user_id)),
            values: input.values,
            links: input.links.unwrap_or_default(),
            ..Record::new(&object.name, RecordId::new_at(ctx.now), ctx.now, Some(who.user_id))
        };
        if let Err(e) = self.store.insert_record(&object, &record, ctx).await {
            return Err(self.name_existing(who, &schema, e).await);
        }
        Ok((object, record))
    }

    /// A write's outcome as the caller sees it: the record written, or the current one when
    /// someone else wrote first — without what the caller may not see of either.
    async fn settle_write(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        id: RecordId,
        outcome: WriteOutcome,
    ) -> Result<(ObjectDef, Record)> {
        match outcome {
            WriteOutcome::Written(mut record) => {
                self.withhold_unseen(who, schema, object, std::slice::from_mut(&mut record))
                    .await?;
                Ok((object.clone(), record))
            }
            WriteOutcome::Stale(mut current) => {
                self.withhold_unseen(who, schema, object, std::slice::from_mut(&mut current))
                    .await?;
                Err(Error::conflict(current.to_json(object)))
            }
            WriteOutcome::NotFound => Err(not_found(object, id)),
        }
    }

    /// A unique value another record holds: that record is named to a caller who may see it,
    /// and to no one else.
    async fn name_existing(&self, who: &Principal, schema: &Schema, mut e: Error) -> Error {
        let Some(existing) = e.existing.take() else {
            return e;
        };
        let Ok(object) = schema.object(&existing.object) else {
            return e;
        };
        if let Ok(record) = self.visible_record(who, schema, object, existing.id).await {
            let title = record.title(object);
            for fe in e.errors.iter_mut().filter(|fe| fe.field == existing.field) {
                fe.message = format!("{}: {title} ({})", fe.message, existing.id);
            }
            e.detail = format!("{}: {title} ({})", e.detail, existing.id);
            e.existing = Some(existing);
        }
        e
    }

    pub async fn get(&self, who: &Principal, object: &str, id: &str) -> Result<(ObjectDef, Record)> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let id = parse_id(&object, id)?;
        let mut record = self.visible_record(who, &schema, &object, id).await?;
        self.withhold_unseen(who, &schema, &object, std::slice::from_mut(&mut record))
            .await?;
        Ok((object, record))
    }

    /// The record, when it exists and the caller may see it; otherwise 404, the same answer
    /// whether it does not exist or is someone else's — ids reveal nothing.
    async fn visible_record(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        id: RecordId,
    ) -> Result<Record> {
        let record = self
            .store
            .get_record(object, id)
            .await?
            .ok_or_else(|| not_found(object, id))?;
        match self.visible_owners(who, schema, &object.name).await? {
            Some(owners) if !record.owner.is_some_and(|o| owners.contains(&o)) => Err(not_found(object, id)),
            _ => Ok(record),
        }
    }

    /// Fail with 404 unless the caller may see the record (for writes, before the store's own
    /// version check). Costs a read only when visibility is restricted.
    async fn check_visible(&self, who: &Principal, schema: &Schema, object: &ObjectDef, id: RecordId) -> Result<()> {
        if schema.policy.visibility(&object.name, who.role) == Visibility::All {
            return Ok(());
        }
        self.visible_record(who, schema, object, id).await.map(|_| ())
    }

    /// Whose records the caller sees of an object: `None` for everyone's.
    pub async fn visible_owners(&self, who: &Principal, schema: &Schema, object: &str) -> Result<Option<Vec<UserId>>> {
        self.owners_for(who, schema.policy.visibility(object, who.role), &mut None)
            .await
    }

    /// The owners a visibility lets the caller see. `team` keeps the team's members once read,
    /// for callers that ask about several objects.
    pub(crate) async fn owners_for(
        &self,
        who: &Principal,
        visibility: Visibility,
        team: &mut Option<Vec<UserId>>,
    ) -> Result<Option<Vec<UserId>>> {
        match visibility {
            Visibility::All => Ok(None),
            Visibility::Own => Ok(Some(vec![who.user_id])),
            Visibility::Team => {
                if team.is_none() {
                    let mut owners = match who.team {
                        Some(t) => self.store.team_members(t).await?,
                        None => Vec::new(),
                    };
                    if !owners.contains(&who.user_id) {
                        owners.push(who.user_id);
                    }
                    *team = Some(owners);
                }
                Ok(team.clone())
            }
        }
    }

    /// The current schema, after checking the caller may do this.
    pub async fn authorize(&self, who: &Principal, permission: Permission) -> Result<Arc<Schema>> {
        let schema = self.schema().await?;
        who.require(permission, &schema.policy)?;
        Ok(schema)
    }

    /// Change a record. The version must come from `If-Match` or the body; a stale one is
    /// refused with the current record attached.
    pub async fn update(
        &self,
        who: &Principal,
        object: &str,
        id: &str,
        body: &Json,
        if_match: Option<i64>,
    ) -> Result<(ObjectDef, Record)> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        let id = parse_id(&object, id)?;
        self.check_visible(who, &schema, &object, id).await?;
        let ctx = self.ctx(who);
        let mut input = RecordInput::parse(&schema, &object, body, InputMode::Update, ctx.now)?;
        self.check_seen(who, &schema, &object, &input).await?;
        if object.name == "deal"
            && matches!(input.values.get("stage"), Some(crate::value::Value::Select(s)) if crate::start::CLOSED_STAGES.contains(&s.as_str()))
        {
            let today = ctx.now.with_timezone(&self.time_zone().await?).date_naive();
            if let Some(before) = self.store.get_record(&object, id).await? {
                crate::forecast::close_on_closing(&object, &mut input, &before, today);
            }
        }
        if let Some(links) = input.links.as_mut()
            && let Some(current) = self.store.get_record(&object, id).await?
        {
            // The caller can neither see nor name these links; replacing the links keeps them.
            links.extend(self.unseen_links(who, &schema, &current.links).await?);
            links.sort();
            links.dedup();
        }
        let version = match (if_match, input.version) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::field("version", "differs from the If-Match header"));
            }
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => {
                return Err(Error::new(
                    ErrorCode::PreconditionRequired,
                    "send the version you are changing, as If-Match or as \"version\" in the body",
                ));
            }
        };
        let outcome = match self.store.update_record(&object, id, version, &input, ctx).await {
            Ok(o) => o,
            Err(e) => return Err(self.name_existing(who, &schema, e).await),
        };
        self.settle_write(who, &schema, &object, id, outcome).await
    }

    pub async fn delete(
        &self,
        who: &Principal,
        object: &str,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<(ObjectDef, Record)> {
        self.set_deleted(who, object, id, true, if_match).await
    }

    pub async fn restore(
        &self,
        who: &Principal,
        object: &str,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<(ObjectDef, Record)> {
        self.set_deleted(who, object, id, false, if_match).await
    }

    async fn set_deleted(
        &self,
        who: &Principal,
        object: &str,
        id: &str,
        deleted: bool,
        if_match: Option<i64>,
    ) -> Result<(ObjectDef, Record)> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::DeleteRecords, &schema.policy)?;
        let id = parse_id(&object, id)?;
        self.check_visible(who, &schema, &object, id).await?;
        let outcome = match self
            .store
            .set_deleted(&object, id, deleted, if_match, self.ctx(who))
            .await
        {
            Ok(o) => o,
            Err(e) => return Err(self.name_existing(who, &schema, e).await),
        };
        self.settle_write(who, &schema, &object, id, outcome).await
    }

    pub async fn history(
        &self,
        who: &Principal,
        object: &str,
        id: &str,
        after: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Vec<Change>> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let id = parse_id(&object, id)?;
        self.visible_record(who, &schema, &object, id).await?;
        let after = match after {
            None => 0,
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Error::field("after", "must be a change sequence number"))?,
        };
        let limit = parse_limit(limit)?;
        let mut changes = self.store.history(&object, id, after, limit).await?;
        self.withhold_in_history(who, &schema, &object, &mut changes).await?;
        Ok(changes)
    }

    /// Counts and sums per group, over the records the caller may see.
    pub async fn aggregate(
        &self,
        who: &Principal,
        object: &str,
        group_by: &[&str],
        sum: Option<&str>,
        filter: Option<&str>,
    ) -> Result<Vec<crate::query::AggregateRow>> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let field = |name: &str| {
            crate::filter::filter_field(&object, name)
                .ok_or_else(|| Error::field("group_by", format!("{name:?} is not a field to group by")))
        };
        let group_by = group_by.iter().map(|n| field(n)).collect::<Result<Vec<_>>>()?;
        let sum = match sum {
            Some(name) => {
                let f = field(name)?;
                if !crate::meta::FieldType::is_ordered(f.field_type)
                    || !matches!(
                        f.field_type,
                        crate::meta::FieldType::Number
                            | crate::meta::FieldType::Money
                            | crate::meta::FieldType::Percent
                    )
                {
                    return Err(Error::field("sum", format!("{name:?} is not a number to add up")));
                }
                Some(f)
            }
            None => None,
        };
        let filter = match filter.filter(|f| !f.trim().is_empty()) {
            Some(text) => {
                let condition = self.resolve_filter(who, &Filter::parse_str(text)?, &object).await?;
                Some(self.expand_selections(who, &object.name, condition).await?)
            }
            None => None,
        };
        let query = crate::query::AggregateQuery {
            filter,
            owners: self.visible_owners(who, &schema, &object.name).await?,
            group_by,
            sum,
        };
        self.store.aggregate(&object, &query).await
    }

    /// Live records of an object by id (in pages of the largest list), only those the owners
    /// allow (`None`: everyone's); ids not found are left out.
    pub(crate) async fn records_by_id(
        &self,
        object: &ObjectDef,
        ids: &[RecordId],
        owners: Option<Vec<UserId>>,
    ) -> Result<Vec<Record>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::query::MAX_LIMIT as usize) {
            let mut query = ListQuery::all();
            query.filter = Some(crate::filter::Condition::In {
                column: crate::filter::ColumnRef {
                    column: "id".into(),
                    field_type: crate::meta::FieldType::Relation,
                },
                values: chunk.iter().map(|id| crate::value::Value::Relation(*id)).collect(),
            });
            query.limit = crate::query::MAX_LIMIT;
            query.owners = owners.clone();
            out.extend(self.store.list_records(object, &query).await?);
        }
        Ok(out)
    }

    /// Every live record of an object matching a condition (all, without one) that the owners
    /// allow, a page at a time, handed to `each` in id order.
    pub(crate) async fn each_record(
        &self,
        object: &ObjectDef,
        condition: Option<crate::filter::Condition>,
        owners: Option<Vec<UserId>>,
        each: &mut (dyn FnMut(Record) + Send),
    ) -> Result<()> {
        let mut query = ListQuery::all();
        query.filter = condition;
        query.owners = owners;
        self.each_listed(object, query, each).await
    }

    /// Every record a list query finds, page after page in id order (its limit and cursor are
    /// set here).
    pub(crate) async fn each_listed(
        &self,
        object: &ObjectDef,
        mut query: ListQuery,
        each: &mut (dyn FnMut(Record) + Send),
    ) -> Result<()> {
        let max = crate::query::MAX_LIMIT;
        query.limit = max;
        query.after = None;
        loop {
            let mut page = self.store.list_records(object, &query).await?;
            let more = page.len() > max as usize;
            page.truncate(max as usize);
            let last = page.last().map(|r| r.id);
            for r in page {
                each(r);
            }
            match last {
                Some(id) if more => query.after = Some(Cursor { values: Vec::new(), id }),
                _ => return Ok(()),
            }
        }
    }

    /// Titles of records of one object, for showing relations; records the caller may not see
    /// are left out.
    pub async fn titles(
        &self,
        who: &Principal,
        object: &str,
        ids: &[RecordId],
    ) -> Result<std::collections::HashMap<RecordId, String>> {
        let mut out = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        for r in self.records_by_id(&object, ids, owners).await? {
            out.insert(r.id, r.title(&object));
        }
        Ok(out)
    }

    /// The newest activities about a record (linked to it, or naming it in a relation field),
    /// newest first, at most `limit`. One indexed query per way in, merged.
    pub async fn timeline(&self, who: &Principal, object: &str, id: RecordId, limit: u32) -> Result<Vec<Record>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let Some(activity) = schema.objects.values().find(|o| o.is_activity()).cloned() else {
            return Ok(Vec::new());
        };
        let owners = self.visible_owners(who, &schema, &activity.name).await?;
        let mut ways = vec![crate::filter::Condition::LinkedTo {
            object: object.to_string(),
            id,
        }];
        for f in activity
            .active_fields()
            .filter(|f| f.field_type == crate::meta::FieldType::Relation && f.target.as_deref() == Some(object))
        {
            ways.push(crate::filter::Condition::Compare {
                column: crate::filter::ColumnRef::of(f),
                cmp: crate::filter::Compare::Eq,
                value: crate::value::Value::Relation(id),
            });
        }
        let newest = parse_sort(&activity, "-created_at")?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for way in ways {
            let mut query = ListQuery::all();
            query.filter = Some(way);
            query.sort = newest.clone();
            query.limit = limit;
            query.owners = owners.clone();
            for r in self.store.list_records(&activity, &query).await? {
                if seen.insert(r.id) {
                    out.push(r);
                }
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        self.withhold_unseen(who, &schema, &activity, &mut out).await?;
        Ok(out)
    }

    pub async fn search(&self, who: &Principal, q: &str, limit: Option<&str>) -> Result<Vec<SearchHit>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let limit = parse_limit(limit)?;
        let terms = search_terms(q);
        if terms.is_empty() {
            return Err(Error::field("q", "give at least one word to search for"));
        }
        let mut scope = SearchScope::default();
        let mut team = None;
        for name in schema.objects.keys() {
            let visibility = schema.policy.visibility(name, who.role);
            if let Some(owners) = self.owners_for(who, visibility, &mut team).await? {
                scope.owners_by_object.push((name.clone(), owners));
            }
        }
        if scope.owners_by_object.is_empty() {
            self.store.search(&terms, limit).await
        } else {
            self.store.search_scoped(&terms, limit, &scope).await
        }
    }
}

/// Split a search text into words of letters and digits; everything else separates them, so no
/// query syntax of either database can be injected.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
        .take(MAX_SEARCH_TERMS)
        .collect()
}

fn parse_id(object: &ObjectDef, id: &str) -> Result<RecordId> {
    // A malformed id is simply an id that names nothing: 404, like any other.
    RecordId::parse(id).ok_or_else(|| Error::not_found(format!("no {} with id {id:?}", object.name)))
}

fn not_found(object: &ObjectDef, id: RecordId) -> Error {
    Error::not_found(format!("no {} with id {id}", object.name))
}

fn unknown_field(object: &ObjectDef, field: &str) -> Error {
    Error::new(
        ErrorCode::UnknownField,
        format!("{} has no field {field:?}", object.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_strip_every_operator() {
        assert_eq!(search_terms("Lindqvist"), vec!["lindqvist"]);
        assert_eq!(
            search_terms("o'brien AND \"x\"* NEAR(a b) -- ;"),
            vec!["o", "brien", "and", "x", "near", "a", "b"]
        );
        assert_eq!(search_terms("Malmö Åhus"), vec!["malmö", "åhus"]);
        assert!(search_terms("*** ''' ---").is_empty());
    }

    #[test]
    fn serde_errors_name_the_field() {
        let e = serde_json::from_value::<NewField>(
            serde_json::json!({"name": "x", "label": "X", "type": "text", "colour": 1}),
        )
        .unwrap_err();
        let e = body_error(&e);
        assert_eq!(e.errors[0].field, "colour");
    }
}
