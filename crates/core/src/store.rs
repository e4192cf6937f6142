//! The storage boundary. Core decides; the store keeps. Implemented in `anchora-store` for
//! SQLite and PostgreSQL.

use crate::audit::{AuditEvent, AuditKind, AuditQuery, ChangeQuery};
use crate::auth::AccessPolicy;
use crate::dedupe::merge::{BatchWrite, MergeEntry, RecordBatch};
use crate::dedupe::{PairStatus, StoredPair};
use crate::error::Result;
use crate::identity::{ApiToken, Session, Team, User};
use crate::ids::{ProjectId, RecordId, TeamId, TokenId, UserId, ViewId};
use crate::import::job::{ImportId, ImportJob, ImportSettings, ImportWrite, ImportWriteOutcome, JobStatus};
use crate::import::plan::Rejected;
use crate::meta::{FieldDef, ObjectDef, Schema};
use crate::project::model::Project;
use crate::project::plan::Dependency;
use crate::project::roles::RoleDef;
use crate::query::{AggregateQuery, AggregateRow, ListQuery};
use crate::record::{Change, Record, RecordInput};
use crate::views::SavedView;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Who writes, and when.
#[derive(Debug, Clone, Copy)]
pub struct WriteCtx {
    pub actor: UserId,
    pub now: DateTime<Utc>,
}

/// The result of a write that names the version it changes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written(Record),
    /// Someone else wrote first; this is the record as it is now.
    Stale(Record),
    NotFound,
}

/// One numbered item of a project (a member, a task, a work package) as stored: its body is
/// the item's JSON; number and version are the store's.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub kind: String,
    pub number: u32,
    pub version: i64,
    pub body: String,
}

/// One change to a project's items. Updates and deletes name the version they change.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemWrite {
    /// The store gives the item the project's next number and version 1.
    Insert { kind: &'static str, body: String },
    Update {
        kind: &'static str,
        number: u32,
        expected_version: i64,
        body: String,
    },
    /// Deleting a task deletes its dependencies too.
    Delete {
        kind: &'static str,
        number: u32,
        expected_version: i64,
    },
}

/// Changes to one project, written together or not at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectBatch {
    /// New settings (JSON) and the version they replace.
    pub settings: Option<(String, i64)>,
    /// When set, the plan must still be at this version; it is then bumped.
    pub expect_plan_version: Option<i64>,
    pub items: Vec<ItemWrite>,
    pub add_dependencies: Vec<Dependency>,
    pub remove_dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutcome {
    /// The numbers given to the inserted items, in order.
    Written(Vec<u32>),
    /// Someone changed this first ("project", "plan" or "<kind> <number>"); nothing was written.
    Stale(String),
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub object: String,
    pub id: RecordId,
    pub title: String,
    pub rank: f64,
}

/// Whose records a search may return, per object; objects not named are searched whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchScope {
    pub owners_by_object: Vec<(String, Vec<UserId>)>,
}

/// What erasing one record (GDPR, art. 17) removes, prepared by core; the store does it all in
/// one transaction.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub object: ObjectDef,
    pub id: RecordId,
    /// Records that point at it: their fields are cleared and their change-log values of those
    /// fields scrubbed. `blank` fields are set to NULL, `mark` (required) fields to `ERASED`.
    pub scrubs: Vec<Scrub>,
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

#[async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// The current schema; cheap when nothing changed (a version check, then a cached copy).
    async fn schema(&self) -> Result<Arc<Schema>>;

    /// The schema at a version the caller has just read: the cached copy when it is that
    /// version, without asking the database again.
    async fn schema_at(&self, version: i64) -> Result<Arc<Schema>> {
        let _ = version;
        self.schema().await
    }

    async fn create_object(&self, object: &ObjectDef, ctx: WriteCtx) -> Result<()>;
    async fn update_object(&self, object: &ObjectDef) -> Result<()>;
    /// Adds the column (and its index when filterable) in the same transaction as the row.
    async fn add_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()>;
    async fn update_field(&self, object: &ObjectDef, before: &FieldDef, after: &FieldDef) -> Result<()>;
    /// Drops an archived field's column and its data for good.
    async fn purge_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()>;

    /// Insert a new record (version 1) with its change-log row and search entry.
    async fn insert_record(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()>;
    /// Insert many records in one transaction (imports, demo data). All or nothing.
    async fn insert_records(&self, object: &ObjectDef, records: &[Record], ctx: WriteCtx) -> Result<()>;
    /// A record by id, in the trash or not.
    async fn get_record(&self, object: &ObjectDef, id: RecordId) -> Result<Option<Record>>;
    /// Apply an input to the record at `expected_version`.
    async fn update_record(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome>;
    /// Move into the trash (`deleted = true`) or back out of it.
    async fn set_deleted(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome>;
    /// Up to `limit + 1` records, so the caller can tell whether another page follows.
    async fn list_records(&self, object: &ObjectDef, query: &ListQuery) -> Result<Vec<Record>>;
    /// How many records a list query finds (its filter, liveness and owners; not its cursor or
    /// limit), counting no further than `cap + 1`.
    async fn count_listed(&self, object: &ObjectDef, query: &ListQuery, cap: u64) -> Result<u64>;
    async fn count_records(&self, object: &ObjectDef) -> Result<i64>;
    /// Live records counted (and summed) per group.
    async fn aggregate(&self, object: &ObjectDef, query: &AggregateQuery) -> Result<Vec<AggregateRow>>;
    /// The change log of one record, oldest first, after `after_seq`.
    async fn history(&self, object: &ObjectDef, id: RecordId, after_seq: i64, limit: u32) -> Result<Vec<Change>>;
    /// Full-text search over every object's searchable fields (live records only).
    async fn search(&self, terms: &[String], limit: u32) -> Result<Vec<SearchHit>>;

    /// Full-text search restricted by visibility.
    async fn search_scoped(&self, terms: &[String], limit: u32, scope: &SearchScope) -> Result<Vec<SearchHit>>;

    /// The access policy is versioned with the schema: setting it bumps the schema version.
    async fn set_policy(&self, policy: &AccessPolicy) -> Result<()>;

    async fn create_user(&self, user: &User) -> Result<()>;
    /// Writes every field of the user; sessions of a deactivated user end with it.
    async fn update_user(&self, user: &User) -> Result<()>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    async fn team_members(&self, team: TeamId) -> Result<Vec<UserId>>;
    async fn create_team(&self, team: &Team) -> Result<()>;
    async fn teams(&self) -> Result<Vec<Team>>;

    async fn create_token(&self, token: &ApiToken) -> Result<()>;
    /// The token with this hash, its user, and the schema version, read in one go.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User, i64)>>;
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;
    async fn token(&self, id: TokenId) -> Result<Option<ApiToken>>;
    /// Tokens of one user, or of everyone; newest first.
    async fn tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this id hash, its user, and the schema version, read in one go.
    async fn session_by_hash(&self, hash: &str) -> Result<Option<(Session, User, i64)>>;
    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, hash: &str) -> Result<()>;
    /// End every session of a user but `keep` (after a password change, a deactivation).
    async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> Result<()>;

    async fn create_password_reset(
        &self,
        hash: &str,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Use a reset link: its user when it is unused and unexpired, marking it used in the same
    /// statement so it works once.
    async fn take_password_reset(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>>;
    /// The user of an unused, unexpired reset link, without using it.
    async fn password_reset_user(&self, hash: &str, now: DateTime<Utc>) -> Result<Option<UserId>>;
    /// Void every reset link of a user (after their password changed).
    async fn clear_password_resets(&self, user: UserId) -> Result<()>;
    /// Delete sessions and reset links that can no longer be used.
    async fn purge_expired_credentials(&self, now: DateTime<Utc>) -> Result<()>;

    async fn record_audit(&self, event: &AuditEvent) -> Result<()>;
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// How many events of a kind about a subject (or from an address) happened since a time,
    /// and when the last did — the counts login throttling needs.
    async fn count_events(
        &self,
        kind: AuditKind,
        subject: Option<&str>,
        ip: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u32, Option<DateTime<Utc>>)>;
    /// The data change log across records, newest first.
    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>>;

    async fn create_view(&self, view: &SavedView) -> Result<()>;
    /// A user's own views of an object and every shared one.
    async fn views(&self, object: &str, user: UserId) -> Result<Vec<SavedView>>;
    async fn view(&self, id: ViewId) -> Result<Option<SavedView>>;
    async fn delete_view(&self, id: ViewId) -> Result<()>;

    async fn create_project(&self, project: &Project) -> Result<()>;
    async fn projects(&self) -> Result<Vec<Project>>;
    async fn project(&self, id: ProjectId) -> Result<Option<Project>>;
    /// Every member, task and work package of a project, by kind and number.
    async fn project_items(&self, id: ProjectId) -> Result<Vec<StoredItem>>;
    async fn project_dependencies(&self, id: ProjectId) -> Result<Vec<Dependency>>;
    async fn write_project(&self, id: ProjectId, batch: &ProjectBatch, at: DateTime<Utc>) -> Result<BatchOutcome>;
    /// The roles administrators added to the standard catalogue.
    async fn project_roles(&self) -> Result<Vec<RoleDef>>;
    async fn add_project_role(&self, role: &RoleDef) -> Result<()>;

    /// Erase a record for good, with everything `erasure` names, in one transaction.
    async fn erase_record(&self, erasure: &Erasure, ctx: WriteCtx) -> Result<ErasureCounts>;

    /// A new import job, with the uploaded file (read from `source`, kept in chunks) when the
    /// server is to read it later.
    async fn create_import_job(&self, job: &ImportJob, source: Option<&std::path::Path>) -> Result<()>;
    async fn import_job(&self, id: ImportId) -> Result<Option<ImportJob>>;
    /// Import jobs, newest first.
    async fn import_jobs(&self, limit: u32) -> Result<Vec<ImportJob>>;
    /// Write the kept file of a job into `to`, chunk by chunk; whether one is kept.
    async fn import_source(&self, id: ImportId, to: &std::path::Path) -> Result<bool>;
    /// Give a draft job its settings and queue it; whether it was still a draft.
    async fn start_import(&self, id: ImportId, settings: &ImportSettings, at: DateTime<Utc>) -> Result<bool>;
    /// Take a job to run: a queued or failed one, or a running one nobody has written since
    /// `stale_before` (its process stopped). Whether this caller got it.
    async fn claim_import(&self, id: ImportId, now: DateTime<Utc>, stale_before: DateTime<Utc>) -> Result<bool>;
    /// End a job as done or failed.
    async fn finish_import(
        &self,
        id: ImportId,
        status: JobStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// One batch of an import, with the job's progress and rejected rows, in one transaction.
    async fn write_import(&self, object: &ObjectDef, write: &ImportWrite, ctx: WriteCtx) -> Result<ImportWriteOutcome>;
    /// Which of these match keys (as [`crate::import::plan::match_key`] writes them) a live
    /// record of the object holds in `field`.
    async fn held_keys(
        &self,
        object: &ObjectDef,
        field: &str,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>>;
    /// Loading many rows into a table that holds few: drop its secondary indexes so rows go in
    /// without index maintenance, noting the job that loads it (`Some`), or build them again
    /// from the loaded rows (`None`). A load whose job stops is found by
    /// [`Store::repair_bulk_loads`].
    async fn set_bulk_load(&self, object: &ObjectDef, job: Option<ImportId>) -> Result<()>;
    /// Build the indexes of tables whose bulk load has died: its job ended, or has not written
    /// since `stale_before`. The objects repaired.
    async fn repair_bulk_loads(&self, stale_before: DateTime<Utc>) -> Result<Vec<String>>;
    /// Replace an object's open duplicate pairs with a scan's; decided pairs stay. How many
    /// pairs were put in the queue.
    async fn save_duplicate_scan(&self, object: &str, pairs: &[StoredPair]) -> Result<u64>;
    /// Pairs of an object in one state, best score first.
    async fn duplicate_pairs(&self, object: &str, status: PairStatus, limit: u32) -> Result<Vec<StoredPair>>;
    /// Decide an open pair; whether there was one.
    async fn decide_duplicate(
        &self,
        object: &str,
        pair: (RecordId, RecordId),
        status: PairStatus,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Put a decided pair back in the queue (after a merge is undone).
    async fn reopen_duplicate(&self, object: &str, pair: (RecordId, RecordId)) -> Result<()>;
    /// Many record writes at their versions, with a merge journal entry, in one transaction.
    async fn write_records(&self, batch: &RecordBatch, ctx: WriteCtx) -> Result<BatchWrite>;
    async fn merge_entry(&self, id: uuid::Uuid) -> Result<Option<MergeEntry>>;
    /// Keep a day's quality figures of an object (replacing that day's).
    async fn save_quality_day(
        &self,
        object: &str,
        day: chrono::NaiveDate,
        rows: &[crate::quality::QualityDay],
    ) -> Result<()>;
    /// Kept days of one scope and key of an object since a day, oldest first.
    async fn quality_days(
        &self,
        object: &str,
        scope: &str,
        key: &str,
        since: chrono::NaiveDate,
    ) -> Result<Vec<crate::quality::QualityDay>>;
    /// Every row (overall, per owner, per team) of the latest kept day of an object; empty
    /// when no day was kept yet.
    async fn latest_quality_day(&self, object: &str) -> Result<Vec<crate::quality::QualityDay>>;
    /// A workspace setting (JSON text) by key.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&self, key: &str, body: &str) -> Result<()>;
    /// How many rows of a job look like records already there, and the first `limit`.
    async fn import_matches(&self, id: ImportId, limit: u32)
    -> Result<(u64, Vec<crate::import::job::LikelyDuplicate>)>;
    /// Rejected rows of a job after a row number, in row order.
    async fn import_rejects(&self, id: ImportId, after_row: u64, limit: u32) -> Result<Vec<Rejected>>;
    /// Warnings of a job after a row number, in row order.
    async fn import_warnings(
        &self,
        id: ImportId,
        after_row: u64,
        limit: u32,
    ) -> Result<Vec<crate::import::job::Warning>>;
    /// The owner names of a job that matched no user, each once with its rows, most rows first.
    async fn import_unknown_owners(&self, id: ImportId, limit: u32) -> Result<Vec<crate::import::job::UnknownOwner>>;
    /// Note that a user opened a record (kept: each user's newest few dozen).
    async fn note_visit(&self, user: UserId, object: &str, record: RecordId, at: DateTime<Utc>) -> Result<()>;
    /// A user's newest visits, newest first: (object, record, when).
    async fn recent_visits(&self, user: UserId, limit: u32) -> Result<Vec<(String, RecordId, DateTime<Utc>)>>;
}
