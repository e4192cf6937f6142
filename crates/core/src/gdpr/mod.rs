//! The GDPR's rights of access (art. 15) and erasure (art. 17) for a person, and the consent a
//! mass mailing must honour.

mod service;

use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::meta::{FieldType, ObjectDef};
use crate::record::Record;
use crate::value::Value;
use crate::write::WriteCtx;
use async_trait::async_trait;

/// What erasing one record (GDPR, art. 17) removes, prepared by core; the store does it all in
/// one transaction.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub object: ObjectDef,
    pub id: RecordId,
    /// Records that point at it: their fields are cleared and their change-log values of those
    /// fields scrubbed. `blank` fields are set to NULL, `mark` (required) fields to `ERASED`.
    pub scrubs: Vec<Scrub>,
    /// The person's e-mail address, for what is kept by address (addresses that bounced).
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Scrub {
    pub object: ObjectDef,
    pub ids: Vec<RecordId>,
    pub blank: Vec<String>,
    pub mark: Vec<String>,
}

/// What an erasure did, counted for its receipt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureCounts {
    pub records_changed: u64,
    pub change_log_entries_scrubbed: u64,
    pub links_removed: u64,
}

pub const ERASED: &str = "[erased]";

/// Where a record is erased for good.
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Erase a record for good, with everything `erasure` names, in one transaction.
    async fn erase_record(&self, erasure: &Erasure, ctx: WriteCtx) -> Result<ErasureCounts>;
}

pub const PERSON: &str = "person";

/// The person fields that record consent to marketing e-mail.
pub const CONSENT_STATUS: &str = "email_consent";
pub const CONSENT_AT: &str = "email_consent_at";
pub const CONSENT_SOURCE: &str = "email_consent_source";

/// Whether a mass mailing may go to this person: only with consent given and not withdrawn.
pub fn may_email(person: &Record) -> bool {
    matches!(person.get(CONSENT_STATUS), Value::Select(c) if c == "granted")
        && !matches!(person.get("email"), Value::Null)
}

/// Field types that can hold what someone wrote about a person.
fn holds_personal_text(t: FieldType) -> bool {
    matches!(
        t,
        FieldType::Text | FieldType::LongText | FieldType::Email | FieldType::Phone | FieldType::Url
    )
}

/// Relation fields of `object` that point at `target`.
fn relations_to<'a>(object: &'a ObjectDef, target: &'a str) -> impl Iterator<Item = &'a crate::meta::FieldDef> {
    object
        .fields
        .iter()
        .filter(move |f| f.field_type == FieldType::Relation && f.target.as_deref() == Some(target))
}

/// A person id for the GDPR endpoints; anything else is a 404 like an unknown id.
pub fn check_person_id(id: &str) -> Result<RecordId> {
    RecordId::parse(id).ok_or_else(|| Error::not_found(format!("no person with id {id:?}")))
}
