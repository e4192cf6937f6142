//! One change to many records: a list's ticked rows, or an integrator's batch. Each record is
//! its own write at the version the caller saw, so a record someone else changed meanwhile is
//! left alone and reported, never overwritten; the others are changed.

use crate::auth::{Permission, Principal};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::service::{Crm, from_body};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The most records one bulk change takes (a list shows at most 200 rows a page).
pub const MAX_BULK: usize = 1000;

/// A record to change, at the version the caller saw (`None` is refused for that record, as a
/// write without `If-Match` is).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkTarget {
    pub id: String,
    pub version: Option<i64>,
}

/// What to do to each record: set some fields (a partial record, as an update takes), or move
/// it to the trash.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkAction {
    Set(Json),
    Delete,
}

/// A record as the API names it: the version is required, as a single write's `If-Match` is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestedRecord {
    id: String,
    version: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    records: Vec<RequestedRecord>,
    set: Option<Json>,
    #[serde(default)]
    delete: bool,
}

/// How one record fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkResult {
    pub id: String,
    pub changed: bool,
    /// The record's version after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Why it was not changed: the error code a single write would have answered…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// …its explanation…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// …and the fields it names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every record's result, in the order asked, with the counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BulkReport {
    pub changed: u32,
    pub not_changed: u32,
    pub results: Vec<BulkResult>,
}

impl Crm {
    /// Read a bulk request as the API takes it: `{"records": [{"id", "version"}…], "set": {…}}`
    /// or `{"records": […], "delete": true}`.
    pub async fn bulk_from_body(&self, who: &Principal, object: &str, body: Json) -> Result<BulkReport> {
        let request: BulkRequest = from_body(body)?;
        if request.records.is_empty() {
            return Err(Error::field("records", "choose at least one record"));
        }
        if request.records.iter().any(|r| r.version < 1) {
            return Err(Error::field("version", "must be the record's version, 1 or more"));
        }
        if request.set.as_ref().and_then(|s| s.get("version")).is_some() {
            return Err(Error::field("set", "give each record's version in records, not in set"));
        }
        let action = match (request.set, request.delete) {
            (Some(_), true) => return Err(Error::field("delete", "give either set or delete, not both")),
            (Some(set), false) => BulkAction::Set(set),
            (None, true) => BulkAction::Delete,
            (None, false) => return Err(Error::field("set", "give the fields to set, or delete: true")),
        };
        let targets: Vec<BulkTarget> = request
            .records
            .into_iter()
            .map(|r| BulkTarget {
                id: r.id,
                version: Some(r.version),
            })
            .collect();
        self.bulk(who, object, &action, &targets).await
    }

    /// Apply one action to each record in turn. The caller must be allowed to write at all (a
    /// refusal ends the whole request); what stops one record (a newer version, a record the
    /// caller may not see or change, a value its field refuses) is reported for that record.
    pub async fn bulk(
        &self,
        who: &Principal,
        object: &str,
        action: &BulkAction,
        targets: &[BulkTarget],
    ) -> Result<BulkReport> {
        let (schema, def) = self.object(object).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        if *action == BulkAction::Delete {
            who.require(Permission::DeleteRecords, &schema.policy)?;
        }
        if targets.is_empty() {
            return Err(Error::field("records", "choose at least one record"));
        }
        if targets.len() > MAX_BULK {
            return Err(Error::field("records", format!("at most {MAX_BULK} records at a time")));
        }
        if let BulkAction::Set(set) = action
            && set.as_object().is_none_or(|fields| fields.is_empty())
        {
            return Err(Error::field("set", "give the fields to set as an object"));
        }
        let mut report = BulkReport::default();
        for target in targets {
            let written = match action {
                BulkAction::Set(set) => self.update(who, &def.name, &target.id, set, target.version).await,
                BulkAction::Delete => self.delete(who, &def.name, &target.id, target.version).await,
            };
            let result = match written {
                Ok((_, record)) => BulkResult {
                    id: target.id.clone(),
                    changed: true,
                    version: Some(record.version),
                    code: None,
                    detail: None,
                    errors: Vec::new(),
                },
                // A refusal of the action itself ends the request (records the caller may not
                // see answer "not found", one by one), and so does a database that fails: the
                // records not reached are left as they were.
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::Forbidden | ErrorCode::Internal | ErrorCode::Unavailable
                    ) =>
                {
                    return Err(e);
                }
                Err(e) => BulkResult {
                    id: target.id.clone(),
                    changed: false,
                    version: None,
                    code: Some(e.code.as_str()),
                    detail: Some(e.detail),
                    errors: e.errors,
                },
            };
            if result.changed {
                report.changed += 1;
            } else {
                report.not_changed += 1;
            }
            report.results.push(result);
        }
        Ok(report)
    }
}
