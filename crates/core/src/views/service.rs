//! Saved views as use cases: list, save and delete, with who may share.

use crate::auth::{Permission, Principal, SchemaChange};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::ViewId;
use crate::service::Crm;
use crate::views::{MAX_QUERY, SavedView, view_query};

impl Crm {
    /// The caller's own views of an object and everyone's shared ones, by name.
    pub async fn views(&self, who: &Principal, object: &str) -> Result<Vec<SavedView>> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let mut views = self.store.views(&object.name, who.user_id).await?;
        views.sort_by_key(|v| v.name.to_lowercase());
        Ok(views)
    }

    pub async fn save_view(
        &self,
        who: &Principal,
        object: &str,
        name: &str,
        query: &[(String, String)],
        shared: bool,
    ) -> Result<SavedView> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        if who.scope == crate::auth::Scope::Read {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "a read-scoped token cannot change anything",
            ));
        }
        if shared {
            who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(Error::field(
                "name",
                "must be 1–80 characters without control characters",
            ));
        }
        let query = view_query(query);
        if query.len() > MAX_QUERY {
            return Err(Error::field("query", "the view has too many conditions"));
        }
        let now = self.clock.now();
        let view = SavedView {
            id: ViewId::new_at(now),
            object: object.name.clone(),
            name: name.to_string(),
            query,
            owner: who.user_id,
            shared,
            created_at: now,
        };
        self.store.create_view(&view).await?;
        Ok(view)
    }

    /// Delete a view: one's own, or a shared one for those who manage shared views.
    pub async fn delete_view(&self, who: &Principal, id: &str) -> Result<()> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let missing = || Error::not_found(format!("no view with id {id:?}"));
        let vid = ViewId::parse(id).ok_or_else(missing)?;
        let view = self.store.view(vid).await?.ok_or_else(missing)?;
        let own = view.owner == who.user_id;
        if !own && !view.shared {
            return Err(missing());
        }
        if !own {
            who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
        }
        self.store.delete_view(vid).await
    }
}
