//! Saved views: a list's columns, sort and filter under a name, for one person or shared with
//! everyone (sharing is a schema right administrators may give key users).

use crate::auth::{Permission, Principal, SchemaChange};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{UserId, ViewId};
use crate::service::Crm;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub id: ViewId,
    pub object: String,
    pub name: String,
    /// The list's query string, limited to the parameters that define a view.
    pub query: String,
    pub owner: UserId,
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

/// The parameters a view keeps; anything else (a cursor, a language) is dropped.
pub const VIEW_PARAMETERS: [&str; 5] = ["columns", "sort", "ff", "fo", "fv"];
const MAX_QUERY: usize = 4000;

/// Percent-encode a query-string component (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decode `%XX` escapes (a URL's user info, path); `+` stays itself. Invalid UTF-8 becomes
/// U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decode a query-string component (`%XX` and `+` for a space); invalid UTF-8 becomes U+FFFD.
pub fn url_decode(s: &str) -> String {
    percent_decode(&s.replace('+', "%20"))
}

/// `a=1&b=x%20y` → pairs, decoded.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (url_decode(k), url_decode(v)))
        .collect()
}

/// Pairs → `a=1&b=x%20y`.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Keep only a view's own parameters, in order, re-encoded.
pub fn view_query(pairs: &[(String, String)]) -> String {
    let kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| VIEW_PARAMETERS.contains(&k.as_str()))
        .cloned()
        .collect();
    query_string(&kept)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_round_trip_and_views_keep_their_own_parameters() {
        let pairs = vec![
            ("ff".to_string(), "city".to_string()),
            ("fv".to_string(), "Malmö & Lund".to_string()),
            ("cursor".to_string(), "abc".to_string()),
        ];
        assert_eq!(query_pairs(&query_string(&pairs)), pairs);
        assert_eq!(view_query(&pairs), "ff=city&fv=Malm%C3%B6%20%26%20Lund");
        assert_eq!(url_decode("a+b%2"), "a b%2");
    }
}
