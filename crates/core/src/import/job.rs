//! An import as a job: what was asked, how far it got, and what it did. Every batch of rows is
//! written together with the job's progress, so a job that stops resumes after its last
//! written row and never leaves half a row.

use super::plan::Rejected;
pub use super::warning::{Warning, WarningKind};
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImportId(pub Uuid);

impl ImportId {
    pub fn new_at(now: DateTime<Utc>) -> Self {
        ImportId(crate::ids::RecordId::new_at(now).0)
    }

    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(ImportId)
    }
}

impl std::fmt::Display for ImportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    pub object: String,
    /// Column header → target (`first_name`, `company.org_number`, `owner`); null skips it.
    #[serde(default)]
    pub mapping: BTreeMap<String, Option<String>>,
    /// The field rows are matched on to update records: `external_id`, `email`… `""` for none;
    /// absent: the first of external id, e-mail and organisation number that is mapped.
    #[serde(default)]
    pub match_on: Option<String>,
    /// Create the companies rows name when none matches (default), or reject those rows.
    #[serde(default = "yes")]
    pub create_related: bool,
    /// Read, check and count everything; write nothing but the report.
    #[serde(default)]
    pub dry_run: bool,
    /// The e-mail address of the user who owns new records whose row names no user as owner
    /// (or none at all); absent: the importing user.
    #[serde(default)]
    pub default_owner: Option<String>,
    /// Columns the importer left out of the mapping because another column fills their
    /// field (said as warnings on row 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// The selection the records the import writes (made or updated) are picked into: made
    /// when the import starts, named by the importer (`into_selection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::ids::SelectionId>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Uploaded and previewed; waiting for its mapping.
    Draft,
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Draft => "draft",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            JobStatus::Draft,
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }

    pub fn finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

/// What a user sends to start an uploaded import: its mapping and options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    #[serde(default)]
    pub mapping: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub match_on: Option<String>,
    #[serde(default = "yes")]
    pub create_related: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub default_owner: Option<String>,
    /// Put the imported records into a new selection of this name (a static one, yours).
    #[serde(default)]
    pub into_selection: Option<String>,
}

/// What a job has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// The last row number written (the header is row 1); a resumed job starts after it.
    pub last_row: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows that repeated an earlier row's match key and went into that row's record.
    #[serde(default)]
    pub merged: u64,
    pub rejected: u64,
    /// Related records (companies) created for rows that named one not there yet.
    pub related_created: u64,
    /// Warnings on rows that were imported all the same (and on the mapping: row 1).
    #[serde(default)]
    pub warnings: u64,
}

impl Counts {
    pub fn rows(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.merged + self.rejected
    }

    /// The line the CLI prints and scripts read.
    pub fn summary(&self) -> String {
        format!(
            "imported {}, updated {}, merged {}, rejected {}, warnings {}",
            self.created, self.updated, self.merged, self.rejected, self.warnings
        )
    }
}

/// Unmatched owner names of a job, each once, with the number of rows naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownOwner {
    pub name: String,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportJob {
    pub id: ImportId,
    pub settings: ImportSettings,
    pub file_name: String,
    /// SHA-256 of the file, so importing the same file again without a match key is caught.
    pub sha256: String,
    pub headers: Vec<String>,
    pub status: JobStatus,
    pub counts: Counts,
    pub error: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportJob {
    /// A new job of a file, with nothing done yet (file names are kept to 200 characters).
    pub fn new(
        settings: ImportSettings,
        file_name: &str,
        sha256: String,
        headers: Vec<String>,
        status: JobStatus,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Self {
        ImportJob {
            id: ImportId::new_at(now),
            settings,
            // Kept as a label only: control characters (a NUL no database takes) go.
            file_name: file_name.chars().filter(|c| !c.is_control()).take(200).collect(),
            sha256,
            headers,
            status,
            counts: Counts::default(),
            error: None,
            created_by: by,
            created_at: now,
            updated_at: now,
            finished_at: None,
        }
    }
}

/// One batch as the store writes it: the rows as planned, the related records they need, the
/// rejected rows and the job's counts so far. The store matches the rows against the records
/// there inside its transaction ([`super::resolve::resolve`]) and writes all of it together.
#[derive(Debug, Clone)]
pub struct ImportWrite {
    pub job: ImportId,
    /// The job's counts before this batch.
    pub base: Counts,
    /// The last row of the file this batch reaches.
    pub last_row: u64,
    /// The field rows match on, if any.
    pub key: Option<String>,
    pub dry_run: bool,
    /// Whose records of the object the importer sees (`None`: everyone's). A key or unique
    /// value held by a record outside them rejects the row: it may neither be updated nor
    /// doubled.
    pub owners: Option<Vec<crate::ids::UserId>>,
    pub rejected: Vec<Rejected>,
    pub related: Vec<RelatedWrite>,
    pub rows: Vec<super::plan::PlannedRow>,
    pub likely: Vec<LikelyDuplicate>,
    /// Warnings on the batch's rows found while reading them; those about merges are added
    /// when the batch is resolved.
    pub warnings: Vec<Warning>,
}

/// Related records (companies) a batch makes, and whose of them the importer sees.
#[derive(Debug, Clone)]
pub struct RelatedWrite {
    pub object: crate::meta::ObjectDef,
    pub records: Vec<crate::record::Record>,
    pub owners: Option<Vec<crate::ids::UserId>>,
}

impl ImportWrite {
    /// The values of unique fields the batch would write, per object and field, for the store
    /// to look up before it resolves the batch.
    pub fn unique_values(&self, object: &crate::meta::ObjectDef) -> Vec<UniqueLookup> {
        let mut out = Vec::new();
        let mut collect = |def: &crate::meta::ObjectDef, records: &mut dyn Iterator<Item = &crate::record::Record>| {
            let records: Vec<&crate::record::Record> = records.collect();
            for field in def.active_fields().filter(|f| f.unique) {
                let mut values: Vec<crate::value::Value> = Vec::new();
                let mut keys = std::collections::HashSet::new();
                for r in &records {
                    let v = r.get(&field.name);
                    if let Some(k) = crate::value::unique_key(field.field_type, v)
                        && keys.insert(k)
                    {
                        values.push(v.clone());
                    }
                }
                if !values.is_empty() {
                    out.push(UniqueLookup {
                        object: def.clone(),
                        field: field.clone(),
                        values,
                    });
                }
            }
        };
        collect(object, &mut self.rows.iter().map(|r| &r.record));
        for related in &self.related {
            collect(&related.object, &mut related.records.iter());
        }
        out
    }
}

/// Values of one unique field to look for among the live records.
#[derive(Debug, Clone)]
pub struct UniqueLookup {
    pub object: crate::meta::ObjectDef,
    pub field: crate::meta::FieldDef,
    pub values: Vec<crate::value::Value>,
}

/// A new row that looks like a record already there, or like an earlier row of the same file:
/// shown in the check before importing, and on the job after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LikelyDuplicate {
    pub row: u64,
    /// The record it looks like (for an earlier row: its new record, once written).
    pub like_record: Option<crate::ids::RecordId>,
    /// The earlier row of this file it looks like.
    pub like_row: Option<u64>,
    pub score: f64,
    pub reasons: Vec<crate::dedupe::scan::Reason>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ImportWriteOutcome {
    Written(Applied),
    /// A record changed between reading and writing; nothing of the batch was written.
    Stale(crate::ids::RecordId),
}

/// What a written batch came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The job's counts with this batch.
    pub counts: Counts,
    /// Related records the batch planned under one id and found under another (a company
    /// someone made meanwhile with the same unique value): later batches link to the second.
    pub remapped: Vec<(crate::ids::RecordId, crate::ids::RecordId)>,
    /// Related records the batch could not make (a record the importer may not see holds one
    /// of their unique values), with why: later rows that name them are rejected.
    pub blocked: Vec<(crate::ids::RecordId, String)>,
    /// The rows that became new records.
    pub created_rows: Vec<u64>,
    /// The object's records the batch made or updated (not the related ones), for the import's
    /// selection.
    pub records: Vec<crate::ids::RecordId>,
}

/// Rejected rows as CSV: the row number, the reason, then the row's own cells under its own
/// header, so the file can be fixed and imported again. UTF-8 with a BOM for Excel; cells that
/// a spreadsheet would run as formulas are made plain text.
pub fn rejected_csv_header(headers: &[String]) -> Vec<String> {
    let mut out = vec!["row".to_string(), "reason".to_string()];
    out.extend(headers.iter().cloned());
    out
}

pub fn rejected_csv_row(r: &Rejected) -> Vec<String> {
    let mut out = vec![r.number.to_string(), r.reason.clone()];
    out.extend(r.cells.iter().cloned());
    out
}
