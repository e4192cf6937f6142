//! Saved views: a list's columns, sort and filter under a name, for one person or shared with
//! everyone (sharing is a schema right administrators may give key users).

mod service;

use crate::error::Result;
use crate::filter::filter_field;
use crate::ids::{UserId, ViewId};
use crate::meta::{FieldType, ObjectDef};
use crate::number::{self, NumberFormat};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

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

/// Where saved views are kept.
#[async_trait]
pub trait ViewStore: Send + Sync {
    async fn create_view(&self, view: &SavedView) -> Result<()>;
    /// A user's own views of an object and every shared one.
    async fn views(&self, object: &str, user: UserId) -> Result<Vec<SavedView>>;
    async fn view(&self, id: ViewId) -> Result<Option<SavedView>>;
    async fn delete_view(&self, id: ViewId) -> Result<()>;
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

/// One row of a list's filter builder as its URL carries it (`ff`, `fo`, `fv` in threes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRow {
    pub field: String,
    pub op: String,
    pub value: String,
}

/// The filter rows of a list's query string; a row without a field or operator, or without a
/// value its operator needs, is left out.
pub fn filter_rows(query: &[(String, String)]) -> Vec<FilterRow> {
    let all = |k: &'static str| query.iter().filter(move |(key, _)| key == k).map(|(_, v)| v.clone());
    all("ff")
        .zip(all("fo"))
        .zip(all("fv"))
        .filter(|((f, o), v)| !f.is_empty() && !o.is_empty() && (o == "is_empty" || !v.is_empty()))
        .map(|((field, op), value)| FilterRow { field, op, value })
        .collect()
}

/// How numbers in a link's filter are read: the same for every reader, since links and shared
/// views pass between languages. A lone mark is the decimal one (`1,5` and `1.5` alike).
const LINK_NUMBERS: NumberFormat = NumberFormat {
    decimal_comma: true,
    grouping: true,
};

/// The filter the rows name, in the filter language's JSON (what the API and
/// [`Crm::list`](crate::service::Crm::list) take): several rows all apply. Each value is typed
/// as its field wants it; a value that does not fit stays text, for the filter's own check to
/// refuse with the field named.
pub fn filter_of_rows(object: &ObjectDef, rows: &[FilterRow]) -> Option<Json> {
    let leaves: Vec<Json> = rows
        .iter()
        .map(|row| {
            let field_type = filter_field(object, &row.field).map(|f| f.field_type);
            let value = match (row.op.as_str(), field_type) {
                ("is_empty", _) => json!(row.value != "false"),
                // A number of days ("7", or "7d" as older links wrote it).
                ("in_last" | "in_next", _) => {
                    let days = row.value.trim().trim_end_matches('d').trim();
                    days.parse::<u64>().map_or_else(|_| json!(row.value), |n| json!(n))
                }
                (_, Some(FieldType::Number | FieldType::Percent | FieldType::Money)) => {
                    number::parse(&row.value, LINK_NUMBERS).map_or_else(|| json!(row.value), |n| json!(n))
                }
                (_, Some(FieldType::Boolean)) => json!(matches!(row.value.as_str(), "true" | "1" | "yes" | "on")),
                _ => json!(row.value),
            };
            json!({"field": row.field, "op": row.op, "value": value})
        })
        .collect();
    match leaves.len() {
        0 => None,
        1 => leaves.into_iter().next(),
        _ => Some(json!({ "and": leaves })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::standard_objects;

    #[test]
    fn filter_rows_become_one_filter_with_values_typed_alike_in_every_language() {
        let deal = standard_objects().into_iter().find(|o| o.name == "deal").unwrap();
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let rows = filter_rows(&q(&[
            ("ff", "amount"),
            ("fo", "gte"),
            ("fv", "1 234,5"),
            ("ff", "name"),
            ("fo", "contains"),
            ("fv", ""),
            ("ff", "close_date"),
            ("fo", "in_next"),
            ("fv", "7d"),
        ]));
        assert_eq!(rows.len(), 2, "a row without the value its operator needs is left out");
        let filter = filter_of_rows(&deal, &rows).unwrap();
        assert_eq!(
            filter,
            json!({"and": [
                {"field": "amount", "op": "gte", "value": 1234.5},
                {"field": "close_date", "op": "in_next", "value": 7}
            ]})
        );
        let one = filter_rows(&q(&[("ff", "amount"), ("fo", "eq"), ("fv", "1,5")]));
        assert_eq!(filter_of_rows(&deal, &one).unwrap()["value"], json!(1.5));
        let junk = filter_rows(&q(&[("ff", "amount"), ("fo", "eq"), ("fv", "23.11.2026")]));
        assert_eq!(filter_of_rows(&deal, &junk).unwrap()["value"], json!("23.11.2026"));
        assert_eq!(filter_of_rows(&deal, &[]), None);
    }

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
