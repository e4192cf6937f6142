//! The storage boundary. Core decides; the store keeps. Implemented in `anchora-store` for
//! SQLite and PostgreSQL.

use crate::auth::{ApiToken, User};
use crate::error::Result;
use crate::ids::{RecordId, TokenId, UserId};
use crate::meta::{FieldDef, ObjectDef, Schema};
use crate::query::ListQuery;
use crate::record::{Change, Record, RecordInput};
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

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub object: String,
    pub id: RecordId,
    pub title: String,
    pub rank: f64,
}

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
    async fn count_records(&self, object: &ObjectDef) -> Result<i64>;
    /// The change log of one record, oldest first, after `after_seq`.
    async fn history(&self, object: &ObjectDef, id: RecordId, after_seq: i64, limit: u32) -> Result<Vec<Change>>;
    /// Full-text search over every object's searchable fields (live records only).
    async fn search(&self, terms: &[String], limit: u32) -> Result<Vec<SearchHit>>;

    async fn create_user(&self, user: &User) -> Result<()>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    async fn create_token(&self, token: &ApiToken) -> Result<()>;
    /// The token with this hash, its user, and the schema version, read in one go.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<(ApiToken, User, i64)>>;
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;
}
