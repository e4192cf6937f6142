//! Selections as use cases: build one (counted as it is built), pick records in and out, see
//! who is in it as the caller may see them, and let it go.

use super::{MAX_PARTS, MAX_PICKED, Selection};
use crate::auth::{Permission, Principal, Role};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{Condition, Filter};
use crate::ids::{RecordId, SelectionId};
use crate::service::Crm;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::HashSet;

/// How deep selections may name selections that name selections.
const MAX_DEPTH: usize = 5;
/// Selections one selection may draw on, in all its depth.
const MAX_VISITED: usize = 50;
const MAX_NAME: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSelection {
    #[serde(default)]
    name: String,
    object: String,
    #[serde(default)]
    filter: Option<Json>,
    /// A saved view whose filter the selection takes (views do not change once saved).
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    shared: bool,
    /// Records picked by hand.
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Picked {
    records: Vec<String>,
}

/// A selection as its reader sees it: how many records in it they may see, and whether they
/// may change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectionView {
    #[serde(flatten)]
    pub selection: Selection,
    /// Counted for the reader; none in lists (each count works the selection out).
    pub count: Option<u64>,
    pub may_change: bool,
}

fn ids(field: &str, texts: &[String]) -> Result<Vec<RecordId>> {
    texts
        .iter()
        .map(|t| RecordId::parse(t).ok_or_else(|| Error::field(field, format!("{t:?} is not a record id"))))
        .collect()
}

impl Crm {
    fn may_use(who: &Principal, s: &Selection) -> bool {
        s.owner == who.user_id || s.shared || who.role == Role::Admin
    }

    fn may_change(who: &Principal, s: &Selection) -> bool {
        (s.owner == who.user_id || who.role == Role::Admin) && who.scope != crate::auth::Scope::Read
    }

    /// A selection the caller may use; anything else is 404, as if it did not exist.
    pub(crate) async fn usable_selection(&self, who: &Principal, id: &str) -> Result<Selection> {
        self.authorize(who, Permission::ReadRecords).await?;
        let found = match SelectionId::parse(id) {
            Some(id) => self.store.selection(id).await?,
            None => None,
        };
        found
            .filter(|s| Self::may_use(who, s))
            .ok_or_else(|| Error::not_found(format!("selection {id}")))
    }

    /// Check and shape a new selection (nothing kept yet): its parts must be selections of the
    /// same object the caller may use, its filter valid for the object.
    async fn shape_selection(&self, who: &Principal, body: Json) -> Result<(Selection, Vec<RecordId>)> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let mut new: NewSelection = crate::service::from_body(body)?;
        // A body names its object: an unknown one is a mistake in the body (422), not a path.
        let object = schema
            .object(&new.object)
            .map_err(|_| Error::field("object", format!("there is no object {:?}", new.object)))?
            .clone();
        if new.shared {
            who.require(Permission::MassMail, &schema.policy)?;
        }
        if let Some(view) = &new.view {
            if new.filter.is_some() {
                return Err(Error::field("view", "a selection takes a filter or a view, not both"));
            }
            let unusable = || {
                Error::field(
                    "view",
                    format!("there is no view {view} of {} you may use", object.name),
                )
            };
            let found = match crate::ids::ViewId::parse(view) {
                Some(id) => self.store.view(id).await?,
                None => None,
            }
            .filter(|v| v.object == object.name && (v.owner == who.user_id || v.shared))
            .ok_or_else(unusable)?;
            let rows = crate::views::filter_rows(&crate::views::query_pairs(&found.query));
            new.filter = crate::views::filter_of_rows(&object, &rows);
        }
        if let Some(filter) = &new.filter
            && self
                .resolve_filter(who, &Filter::parse(filter)?, &object)
                .await?
                .names_selection()
        {
            return Err(Error::field(
                "filter",
                "a selection takes in other selections through include and exclude, not its filter",
            ));
        }
        if new.include.len() + new.exclude.len() > MAX_PARTS {
            return Err(Error::field(
                "include",
                format!("at most {MAX_PARTS} selections in and out"),
            ));
        }
        let named: HashSet<&String> = new.include.iter().chain(&new.exclude).collect();
        if named.len() < new.include.len() + new.exclude.len() {
            return Err(Error::field("include", "names a selection twice"));
        }
        let mut parts = Vec::new();
        for (field, list) in [("include", &new.include), ("exclude", &new.exclude)] {
            let mut ids = Vec::new();
            for id in list {
                let part = self
                    .usable_selection(who, id)
                    .await
                    .map_err(|_| Error::field(field, format!("there is no selection {id} you may use")))?;
                if part.object != object.name {
                    return Err(Error::field(
                        field,
                        format!("{} is a selection of {}", part.name, part.object),
                    ));
                }
                ids.push(part.id);
            }
            parts.push(ids);
        }
        let members = ids("members", &new.members)?;
        if members.len() > MAX_PICKED {
            return Err(Error::field("members", format!("at most {MAX_PICKED} at once")));
        }
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Error::field(
                "name",
                format!("is required: one line of at most {MAX_NAME} characters"),
            ));
        }
        let now = self.clock.now();
        let exclude = parts.pop().unwrap_or_default();
        let include = parts.pop().unwrap_or_default();
        let selection = Selection {
            id: SelectionId::new_at(now),
            name: name.to_string(),
            object: object.name,
            filter: new.filter,
            include,
            exclude,
            owner: who.user_id,
            shared: new.shared,
            created_at: now,
        };
        Ok((selection, members))
    }

    /// How many records a selection being built would hold for the caller (nothing kept).
    pub async fn preview_selection(&self, who: &Principal, body: Json) -> Result<u64> {
        let (selection, picked) = self.shape_selection(who, body).await?;
        let picked: HashSet<RecordId> = picked.into_iter().collect();
        Ok(self.work_out_root(who, &selection, Some(picked)).await?.len() as u64)
    }

    /// Keep a new selection, with the records picked for it that the caller may see. It is
    /// worked out before it is kept, so one that nests too deep is refused, not kept broken.
    pub async fn create_selection(&self, who: &Principal, body: Json) -> Result<SelectionView> {
        if who.scope == crate::auth::Scope::Read {
            return Err(Error::new(ErrorCode::Forbidden, "this token may only read"));
        }
        let (selection, picked) = self.shape_selection(who, body).await?;
        let picked: Vec<RecordId> = self
            .visible_among(who, &selection.object, &picked)
            .await?
            .into_iter()
            .collect();
        let count = self
            .work_out_root(who, &selection, Some(picked.iter().copied().collect()))
            .await?
            .len() as u64;
        self.store.create_selection(&selection).await?;
        if !picked.is_empty() {
            self.store
                .add_members(selection.id, &picked, selection.created_at)
                .await?;
        }
        Ok(SelectionView {
            may_change: Self::may_change(who, &selection),
            selection,
            count: Some(count),
        })
    }

    async fn selection_view(&self, who: &Principal, selection: Selection, count: bool) -> Result<SelectionView> {
        let count = if count {
            Some(self.work_out_root(who, &selection, None).await?.len() as u64)
        } else {
            None
        };
        Ok(SelectionView {
            may_change: Self::may_change(who, &selection),
            selection,
            count,
        })
    }

    /// One selection with its count.
    pub async fn get_selection(&self, who: &Principal, id: &str) -> Result<SelectionView> {
        let selection = self.usable_selection(who, id).await?;
        self.selection_view(who, selection, true).await
    }

    /// The selections the caller may use (their own and the shared ones), newest first.
    pub async fn list_selections(&self, who: &Principal) -> Result<Vec<SelectionView>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let mut out = Vec::new();
        for s in self
            .store
            .selections()
            .await?
            .into_iter()
            .filter(|s| Self::may_use(who, s))
        {
            out.push(self.selection_view(who, s, false).await?);
        }
        Ok(out)
    }

    /// Who is in a selection, as the caller may see them, in id order.
    pub async fn selection_members(&self, who: &Principal, id: &str) -> Result<Vec<RecordId>> {
        let selection = self.usable_selection(who, id).await?;
        let mut members: Vec<RecordId> = self.work_out_root(who, &selection, None).await?.into_iter().collect();
        members.sort();
        Ok(members)
    }

    /// Pick records into a selection (`remove`: out of it); only records the caller may see.
    pub async fn pick_members(&self, who: &Principal, id: &str, body: Json, remove: bool) -> Result<SelectionView> {
        let selection = self.usable_selection(who, id).await?;
        if !Self::may_change(who, &selection) {
            return Err(Error::new(ErrorCode::Forbidden, "only its owner changes a selection"));
        }
        let picked: Picked = crate::service::from_body(body)?;
        let records = ids("records", &picked.records)?;
        if records.len() > MAX_PICKED {
            return Err(Error::field("records", format!("at most {MAX_PICKED} at once")));
        }
        if remove {
            self.store.remove_members(selection.id, &records).await?;
        } else {
            let seen = self.visible_among(who, &selection.object, &records).await?;
            let seen: Vec<RecordId> = seen.into_iter().collect();
            self.store.add_members(selection.id, &seen, self.clock.now()).await?;
        }
        self.selection_view(who, selection, true).await
    }

    /// Let a selection go; one that others name, in or out, stays until they no longer do.
    pub async fn delete_selection(&self, who: &Principal, id: &str) -> Result<()> {
        let selection = self.usable_selection(who, id).await?;
        if !Self::may_change(who, &selection) {
            return Err(Error::new(ErrorCode::Forbidden, "only its owner deletes a selection"));
        }
        if !self.store.selections_naming(selection.id).await?.is_empty() {
            return Err(Error::new(
                ErrorCode::Conflict,
                "other selections name this one; take it out of them first",
            ));
        }
        self.store.delete_selection(selection.id).await?;
        Ok(())
    }

    /// Of these records of an object, those that exist and the caller may see.
    pub(crate) async fn visible_among(
        &self,
        who: &Principal,
        object: &str,
        records: &[RecordId],
    ) -> Result<HashSet<RecordId>> {
        let schema = self.schema().await?;
        let def = schema.object(object)?.clone();
        let owners = self.visible_owners(who, &schema, object).await?;
        Ok(self
            .records_by_id(&def, records, owners)
            .await?
            .into_iter()
            .filter(|r| r.deleted_at.is_none())
            .map(|r| r.id)
            .collect())
    }

    /// Who is in a selection for the caller (see [`Crm::work_out`]).
    async fn work_out_root(
        &self,
        who: &Principal,
        selection: &Selection,
        picked: Option<HashSet<RecordId>>,
    ) -> Result<HashSet<RecordId>> {
        let mut memo = Memo::default();
        self.work_out(who, selection, picked, 0, false, &mut memo).await
    }

    /// Who is in a selection for the caller: the picked members and the filter's matches they
    /// may see, with the included selections' members, less the excluded ones'. `picked`
    /// stands in for the kept members of a selection not kept yet. Inside a suppression list
    /// (`suppressing`) every part counts, usable by the reader or not: a list that keeps people
    /// out must keep all of them out. Each selection is worked out once per call (`memo`), and
    /// at most [`MAX_VISITED`] of them.
    async fn work_out(
        &self,
        who: &Principal,
        selection: &Selection,
        picked: Option<HashSet<RecordId>>,
        depth: usize,
        suppressing: bool,
        memo: &mut Memo,
    ) -> Result<HashSet<RecordId>> {
        if depth > MAX_DEPTH {
            return Err(Error::field(
                "include",
                format!("selections nest at most {MAX_DEPTH} deep"),
            ));
        }
        let picked: Vec<RecordId> = match picked {
            Some(p) => p.into_iter().collect(),
            None => self.store.members(selection.id).await?.into_iter().collect(),
        };
        let mut members = self.visible_among(who, &selection.object, &picked).await?;
        if let Some(filter) = &selection.filter {
            let schema = self.schema().await?;
            let def = schema.object(&selection.object)?.clone();
            let condition = self.resolve_filter(who, &Filter::parse(filter)?, &def).await?;
            let owners = self.visible_owners(who, &schema, &def.name).await?;
            self.each_record(&def, Some(condition), owners, &mut |r| {
                members.insert(r.id);
            })
            .await?;
        }
        for id in &selection.include {
            let Some(part) = self.store.selection(*id).await? else {
                continue;
            };
            if suppressing || Self::may_use(who, &part) {
                members.extend(self.part(who, &part, depth, suppressing, memo).await?);
            }
        }
        for id in &selection.exclude {
            // A suppression list that is gone is an error, not a list that keeps no one out.
            let part = self.store.selection(*id).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::Conflict,
                    format!("{} excludes a selection that is gone", selection.name),
                )
            })?;
            let out = self.part(who, &part, depth, true, memo).await?;
            members.retain(|m| !out.contains(m));
        }
        Ok(members)
    }

    /// A part of a selection, worked out once per call.
    async fn part(
        &self,
        who: &Principal,
        part: &Selection,
        depth: usize,
        suppressing: bool,
        memo: &mut Memo,
    ) -> Result<HashSet<RecordId>> {
        if let Some(done) = memo.done.get(&(part.id, suppressing)) {
            return Ok(done.clone());
        }
        memo.visited += 1;
        if memo.visited > MAX_VISITED {
            return Err(Error::field(
                "include",
                format!("at most {MAX_VISITED} selections in all"),
            ));
        }
        let members = Box::pin(self.work_out(who, part, None, depth + 1, suppressing, memo)).await?;
        memo.done.insert((part.id, suppressing), members.clone());
        Ok(members)
    }
}

/// The parts of a selection already worked out in one call, and how many were.
#[derive(Default)]
struct Memo {
    done: std::collections::HashMap<(SelectionId, bool), HashSet<RecordId>>,
    visited: usize,
}

impl Crm {
    /// A condition with every selection it names worked out for the reader: the members they
    /// may see in place of the name. A selection of another object, or one the reader may not
    /// use, makes the filter invalid.
    pub async fn expand_selections(&self, who: &Principal, object: &str, condition: Condition) -> Result<Condition> {
        if !condition.names_selection() {
            return Ok(condition);
        }
        match condition {
            Condition::And(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(Box::pin(self.expand_selections(who, object, item)).await?);
                }
                Ok(Condition::And(out))
            }
            Condition::Or(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(Box::pin(self.expand_selections(who, object, item)).await?);
                }
                Ok(Condition::Or(out))
            }
            Condition::Not(inner) => Ok(Condition::Not(Box::new(
                Box::pin(self.expand_selections(who, object, *inner)).await?,
            ))),
            Condition::InSelection(id) => {
                let selection = self
                    .usable_selection(who, &id.to_string())
                    .await
                    .map_err(|_| crate::filter::invalid("filter", format!("there is no selection {id} you may use")))?;
                if selection.object != object {
                    return Err(crate::filter::invalid(
                        "filter",
                        format!(
                            "{} is a selection of {}, not of {object}",
                            selection.name, selection.object
                        ),
                    ));
                }
                let mut members: Vec<RecordId> = self.work_out_root(who, &selection, None).await?.into_iter().collect();
                members.sort();
                Ok(Condition::AmongIds(std::sync::Arc::new(members)))
            }
            other => Ok(other),
        }
    }
}
