//! The import use cases: look at a file, queue it, run it in batches (each batch and the job's
//! progress in one transaction), and hand back its rejected rows.

use super::cells::Habits;
use super::job::{
    Counts, ImportId, ImportJob, ImportSettings, ImportWrite, ImportWriteOutcome, JobStatus, LikelyDuplicate,
    RelatedWrite, StartImport, UnknownOwner, Warning, WarningKind, rejected_csv_header, rejected_csv_row,
};
use super::mapping::{Mapping, Suggestion, combine, suggest};
use super::plan::{Plan, Planner, PlannerSetup};
use super::source::{self, RowResult, SourceInfo, Table};
use super::upload::Upload;
pub use super::upload::{MAX_UPLOAD_BYTES, sha256_hex};
use crate::auth::{Credential, Permission, Principal, Role};
use crate::dedupe::DEFAULT_COUNTRY;
use crate::dedupe::scan::{BlockIndex, Features, KeyIndex};
use crate::error::{Error, ErrorCode, Result};
use crate::export::CsvSink;
use crate::ids::RecordId;
use crate::jobs::{JobKind, NewJob};
use crate::meta::ObjectDef;
use crate::query::MAX_LIMIT;
use crate::service::Crm;
use crate::store::WriteCtx;
use crate::value::Value;
use chrono::Duration;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::Arc;

/// Rows per transaction: large enough to amortise a commit, small enough that a retry after a
/// conflict is cheap and progress shows.
pub const BATCH_ROWS: usize = 5_000;
/// Below this many records, an import loads the table without its indexes and builds them at
/// the end (an initial load); above, indexes are kept up to date row by row.
const BULK_BELOW: i64 = 10_000;
/// Rows shown in a preview.
const PREVIEW_ROWS: usize = 20;
/// A running job not written for this long is taken to have stopped with its process.
const STALE_AFTER_SECONDS: i64 = 120;

/// What a file looks like before anything is imported.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub file_name: String,
    pub format: &'static str,
    pub encoding: Option<&'static str>,
    pub separator: Option<char>,
    pub headers: Vec<String>,
    pub suggestions: Vec<Suggestion>,
    /// The first rows as read (cells as text).
    pub rows: Vec<Vec<String>>,
    /// Rows of the first few the reader could not split, with why.
    pub broken: Vec<(u64, String)>,
}

/// A file's columns and how it is written, kept apart from its rows (which cannot be shared
/// across threads while they are read).
struct Shape {
    headers: Vec<String>,
    info: SourceInfo,
}

impl Shape {
    fn of(table: &Table) -> Shape {
        Shape {
            headers: table.headers.clone(),
            info: table.info.clone(),
        }
    }
}

fn habits(info: &SourceInfo) -> Habits {
    Habits {
        decimal_comma: info.separator.is_some_and(|s| s != ','),
    }
}

fn row_number(r: &RowResult) -> u64 {
    match r {
        Ok(row) => row.number,
        Err(broken) => broken.number,
    }
}

impl Crm {
    /// Read the head of a file: its columns, suggested targets and first rows.
    pub async fn import_preview(&self, who: &Principal, object: &str, upload: &Upload) -> Result<Preview> {
        let schema = self.authorize(who, Permission::Import).await?;
        let object = schema.object(object)?.clone();
        check_upload(upload)?;
        let mut table = source::open(&upload.name, upload.reader()?)?;
        let suggestions = suggest(&schema, &object, &table.headers);
        let mut rows = Vec::new();
        let mut broken = Vec::new();
        for r in table.take_rows(PREVIEW_ROWS) {
            match r {
                Ok(row) => rows.push(row.cells),
                Err(b) => broken.push((b.number, b.reason)),
            }
        }
        Ok(Preview {
            file_name: upload.name.clone(),
            format: table.info.format,
            encoding: table.info.encoding.map(source::Encoding::as_str),
            separator: table.info.separator,
            headers: table.headers.clone(),
            suggestions,
            rows,
            broken,
        })
    }

    /// Keep an uploaded file as a draft import, with the mapping suggested for it, and show
    /// what it looks like.
    pub async fn upload_import(&self, who: &Principal, object: &str, upload: Upload) -> Result<(ImportJob, Preview)> {
        let preview = self.import_preview(who, object, &upload).await?;
        let now = self.clock.now();
        let settings = ImportSettings {
            object: object.to_string(),
            mapping: preview
                .suggestions
                .iter()
                .map(|s| (s.header.clone(), s.target.clone()))
                .collect(),
            match_on: None,
            create_related: true,
            dry_run: false,
            default_owner: None,
            selection: None,
            left_out: Vec::new(),
        };
        let job = ImportJob::new(
            settings,
            &upload.name,
            upload.sha256.clone(),
            preview.headers.clone(),
            JobStatus::Draft,
            who.user_id,
            now,
        );
        self.store.create_import_job(&job, Some(upload.path()), None).await?;
        Ok((job, preview))
    }

    /// The uploaded file of an import the server keeps, back in a temporary file.
    async fn kept_file(&self, job: &ImportJob) -> Result<Upload> {
        let (mut upload, _) = Upload::empty(&job.file_name)?;
        if !self.store.import_source(job.id, upload.path()).await? {
            return Err(Error::not_found(format!("the file of import {}", job.id)));
        }
        upload.sha256.clone_from(&job.sha256);
        Ok(upload)
    }

    /// The preview of an uploaded import, read again from the kept file.
    pub async fn uploaded_preview(&self, who: &Principal, id: &str) -> Result<(ImportJob, Preview)> {
        let job = self.import_job(who, id).await?;
        let upload = self.kept_file(&job).await?;
        let preview = self.import_preview(who, &job.settings.object, &upload).await?;
        Ok((job, preview))
    }

    /// Start an uploaded import with its mapping. A draft is queued as it is; a finished job
    /// (a dry run, say) starts a new job on the same file.
    pub async fn start_import(&self, who: &Principal, id: &str, body: serde_json::Value) -> Result<ImportJob> {
        let start: StartImport = crate::service::from_body(body)?;
        let job = self.import_job(who, id).await?;
        let upload = self.kept_file(&job).await?;
        let shape = Shape::of(&source::open(&job.file_name, upload.reader()?)?);
        // What the user changed of the draft's suggestions wins over the rest of them.
        let chosen: BTreeMap<String, Option<String>> = start
            .mapping
            .into_iter()
            .filter(|(header, target)| job.settings.mapping.get(header) != Some(target))
            .collect();
        let (mapping, left_out) = combine(&shape.headers, &job.settings.mapping, &chosen);
        let settings = ImportSettings {
            object: job.settings.object.clone(),
            mapping,
            match_on: start.match_on,
            create_related: start.create_related,
            dry_run: start.dry_run,
            default_owner: start.default_owner,
            left_out: left_out.into_iter().map(|l| l.column).collect(),
            selection: None,
        };
        // A selection of what the import writes: made now, empty, filled batch by batch (so
        // an import resumed after a stop keeps filling the same one).
        let mut settings = settings;
        if let Some(name) = start.into_selection.filter(|n| !n.trim().is_empty())
            && !settings.dry_run
        {
            let made = self
                .create_selection(who, serde_json::json!({"name": name, "object": settings.object}))
                .await
                .map_err(|e| match e.errors.first() {
                    Some(f) if f.field == "name" => Error::field("into_selection", f.message.clone()),
                    _ => e,
                })?;
            settings.selection = Some(made.selection.id);
        }
        let mut next = self
            .new_job(who, settings, &job.file_name, job.sha256.clone(), &shape)
            .await?;
        let run = |id: ImportId| {
            NewJob::now(
                JobKind::Import,
                serde_json::json!({"import": id}),
                Some(who.user_id),
                next.updated_at,
            )
        };
        match job.status {
            JobStatus::Draft => {
                next.id = job.id;
                next.created_at = job.created_at;
                if !self
                    .store
                    .start_import(job.id, &next.settings, next.updated_at, &run(job.id))
                    .await?
                {
                    return Err(Error::new(
                        ErrorCode::VersionConflict,
                        "this import was started already",
                    ));
                }
            }
            status if status.finished() => {
                self.store
                    .create_import_job(&next, Some(upload.path()), Some(&run(next.id)))
                    .await?
            }
            _ => return Err(Error::new(ErrorCode::VersionConflict, "this import is running")),
        }
        crate::jobs::wake();
        Ok(next)
    }

    /// Check an import and keep it (with its file) as a queued job for `run_import`.
    pub async fn queue_import(&self, who: &Principal, settings: ImportSettings, upload: &Upload) -> Result<ImportJob> {
        check_upload(upload)?;
        let shape = Shape::of(&source::open(&upload.name, upload.reader()?)?);
        let job = self
            .new_job(who, settings, &upload.name, upload.sha256.clone(), &shape)
            .await?;
        self.store.create_import_job(&job, Some(upload.path()), None).await?;
        Ok(job)
    }

    /// Import from a reader now (the command line): the job is recorded, without the file, and
    /// run at once. `progress` hears about every batch written.
    pub async fn import_now(
        &self,
        who: &Principal,
        settings: ImportSettings,
        file_name: &str,
        sha256: String,
        reader: impl Read + std::io::Seek + Send + 'static,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<ImportJob> {
        let table = source::open(file_name, reader)?;
        let shape = Shape::of(&table);
        let mut job = self.new_job(who, settings, file_name, sha256, &shape).await?;
        self.store.create_import_job(&job, None, None).await?;
        let now = self.clock.now();
        self.store.claim_import(job.id, now, now).await?;
        job.status = JobStatus::Running;
        self.finish(who, job, table, progress).await
    }

    /// Run a queued job whose file the server keeps, or resume a failed or abandoned one after
    /// its last written row.
    /// `Ok(None)` when someone else is running it.
    pub async fn run_import(
        &self,
        id: ImportId,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<Option<ImportJob>> {
        let now = self.clock.now();
        if !self
            .store
            .claim_import(id, now, now - Duration::seconds(STALE_AFTER_SECONDS))
            .await?
        {
            return Ok(None);
        }
        let mut job = self
            .store
            .import_job(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("import {id}")))?;
        job.status = JobStatus::Running;
        let user = self
            .store
            .user(job.created_by)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Forbidden,
                    "the user who started the import is no longer active",
                )
            });
        let who = match user {
            Ok(u) => Principal::new(u.id, u.role, u.team, Credential::Local),
            Err(e) => return self.fail(job, e).await.map(Some),
        };
        let upload = match self.kept_file(&job).await {
            Ok(u) => u,
            Err(e) if e.code == ErrorCode::NotFound => {
                let e = Error::internal("the file of this import is not kept; run it again from the file");
                return self.fail(job, e).await.map(Some);
            }
            Err(e) => return Err(e),
        };
        // The table reads the temporary file as it goes; the file is deleted when the job ends.
        let table = match upload.reader().and_then(|r| source::open(&job.file_name, r)) {
            Ok(t) => t,
            Err(e) => return self.fail(job, e).await.map(Some),
        };
        let done = self.finish(&who, job, table, progress).await.map(Some);
        drop(upload);
        done
    }

    /// Build again the indexes a bulk load dropped when its job has stopped (its process was
    /// killed, say): a running server checks now and then, so lists are not left without them.
    pub async fn repair_bulk_loads(&self) -> Result<Vec<String>> {
        let stale_before = self.clock.now() - Duration::seconds(STALE_AFTER_SECONDS);
        self.store.repair_bulk_loads(stale_before).await
    }

    pub async fn import_job(&self, who: &Principal, id: &str) -> Result<ImportJob> {
        self.authorize(who, Permission::Import).await?;
        let job = ImportId::parse(id)
            .map(|id| self.store.import_job(id))
            .ok_or_else(|| Error::not_found(format!("import {id}")))?
            .await?
            .filter(|j| j.created_by == who.user_id || who.role == Role::Admin)
            .ok_or_else(|| Error::not_found(format!("import {id}")))?;
        Ok(job)
    }

    /// The rows of a job that look like records already there (or earlier rows): how many,
    /// and the first `limit` in row order.
    pub async fn import_likely_duplicates(
        &self,
        who: &Principal,
        id: &str,
        limit: u32,
    ) -> Result<(u64, Vec<LikelyDuplicate>)> {
        let job = self.import_job(who, id).await?;
        self.store.import_matches(job.id, limit.min(MAX_LIMIT)).await
    }

    /// A job's warnings, the first `limit` in row order, and the owner names it met that are
    /// no user's (each once, with its rows).
    pub async fn import_warnings(
        &self,
        who: &Principal,
        id: &str,
        limit: u32,
    ) -> Result<(Vec<Warning>, Vec<UnknownOwner>)> {
        let job = self.import_job(who, id).await?;
        let warnings = self.store.import_warnings(job.id, 0, limit.min(MAX_LIMIT)).await?;
        let owners = self.store.import_unknown_owners(job.id, MAX_LIMIT).await?;
        Ok((warnings, owners))
    }

    /// Every warning of a job as CSV (row, warning), streamed in pages.
    pub async fn write_warnings_csv(&self, who: &Principal, id: &str, out: &mut (dyn Write + Send)) -> Result<u64> {
        let job = self.import_job(who, id).await?;
        let mut sink = CsvSink::new(out)?;
        sink.text_row(&["row".to_string(), "kind".to_string(), "warning".to_string()])?;
        let mut after = 0;
        let mut written = 0;
        loop {
            let mut page = self.store.import_warnings(job.id, after, MAX_LIMIT).await?;
            let full = page.len() == MAX_LIMIT as usize;
            if full {
                // A page may end inside a row's warnings: that row is read whole next time.
                let last = page.last().map_or(0, |w| w.row);
                page.retain(|w| w.row < last);
            }
            for w in &page {
                sink.text_row(&[w.row.to_string(), w.kind.as_str().to_string(), w.message()])?;
                written += 1;
            }
            match page.last() {
                Some(last) if full => after = last.row,
                _ => break,
            }
        }
        sink.into_inner()?.flush().map_err(|e| Error::internal(e.to_string()))?;
        Ok(written)
    }

    /// The caller's imports (everyone's for administrators), newest first.
    pub async fn import_jobs(&self, who: &Principal, limit: u32) -> Result<Vec<ImportJob>> {
        self.authorize(who, Permission::Import).await?;
        Ok(self
            .store
            .import_jobs(limit)
            .await?
            .into_iter()
            .filter(|j| j.created_by == who.user_id || who.role == Role::Admin)
            .collect())
    }

    /// Every rejected row of a job as CSV, streamed in pages.
    pub async fn write_rejected_csv(&self, who: &Principal, id: &str, out: &mut (dyn Write + Send)) -> Result<u64> {
        let job = self.import_job(who, id).await?;
        let mut sink = CsvSink::new(out)?;
        sink.text_row(&rejected_csv_header(&job.headers))?;
        let mut after = 0;
        let mut written = 0;
        loop {
            let page = self.store.import_rejects(job.id, after, MAX_LIMIT).await?;
            for r in &page {
                sink.text_row(&rejected_csv_row(r))?;
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() == MAX_LIMIT as usize => after = last.number,
                _ => break,
            }
        }
        sink.into_inner()?.flush().map_err(|e| Error::internal(e.to_string()))?;
        Ok(written)
    }

    async fn new_job(
        &self,
        who: &Principal,
        settings: ImportSettings,
        file_name: &str,
        sha256: String,
        shape: &Shape,
    ) -> Result<ImportJob> {
        let schema = self.authorize(who, Permission::Import).await?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        let object = schema.object(&settings.object)?.clone();
        let mapping = Mapping::from_names(&schema, &object, &shape.headers, &settings.mapping)?;
        if mapping.columns.iter().all(Option::is_none) {
            return Err(Error::field("mapping", "maps no column to a field"));
        }
        let now = self.clock.now();
        let default_owner = Self::default_owner(&settings, who, &self.store.users().await?)?;
        let planner = Planner::new(self.setup(
            &schema,
            &object,
            shape,
            &mapping,
            &settings,
            (who.user_id, default_owner),
        ))?;
        if planner.key_field().is_none() && !settings.dry_run {
            let earlier = self.store.import_jobs(MAX_LIMIT).await?.into_iter().find(|j| {
                j.sha256 == sha256
                    && j.settings.object == settings.object
                    && !j.settings.dry_run
                    && j.status == JobStatus::Done
            });
            if let Some(earlier) = earlier {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!(
                        "this file was imported already (import {} of {}); without a column to match rows on \
                         (external id, e-mail) it would create every row again",
                        earlier.id,
                        earlier.created_at.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
        }
        Ok(ImportJob::new(
            settings,
            file_name,
            sha256,
            shape.headers.clone(),
            JobStatus::Queued,
            who.user_id,
            now,
        ))
    }

    fn setup<'a>(
        &self,
        schema: &'a crate::meta::Schema,
        object: &'a ObjectDef,
        shape: &'a Shape,
        mapping: &'a Mapping,
        settings: &'a ImportSettings,
        // The importing user, and who owns new records whose row names no user.
        (actor, default_owner): (crate::ids::UserId, crate::ids::UserId),
    ) -> PlannerSetup<'a> {
        PlannerSetup {
            schema,
            object,
            headers: &shape.headers,
            mapping,
            match_on: settings.match_on.as_deref(),
            create_related: settings.create_related,
            habits: habits(&shape.info),
            now: self.clock.now(),
            actor,
            default_owner,
        }
    }

    /// The user who owns new records whose row names no user: the one the settings name by
    /// e-mail address (an active user among `users`), else the importing user.
    fn default_owner(
        settings: &ImportSettings,
        who: &Principal,
        users: &[crate::identity::User],
    ) -> Result<crate::ids::UserId> {
        let Some(email) = settings
            .default_owner
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        else {
            return Ok(who.user_id);
        };
        let wanted = email.to_lowercase();
        users
            .iter()
            .find(|u| u.active && u.email.as_deref().is_some_and(|e| e.to_lowercase() == wanted))
            .map(|u| u.id)
            .ok_or_else(|| Error::field("default_owner", format!("{email:?} is no active user's e-mail address")))
    }

    async fn fail(&self, mut job: ImportJob, error: Error) -> Result<ImportJob> {
        let now = self.clock.now();
        let message = match error.errors.first() {
            Some(fe) => format!("{}: {}", fe.field, fe.message),
            None => error.detail.clone(),
        };
        self.store
            .finish_import(job.id, JobStatus::Failed, Some(&message), now)
            .await?;
        job.status = JobStatus::Failed;
        job.error = Some(message);
        job.finished_at = Some(now);
        Ok(job)
    }

    async fn finish(
        &self,
        who: &Principal,
        mut job: ImportJob,
        table: Table,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<ImportJob> {
        match self.drive(who, &mut job, table, progress).await {
            Ok(()) => {
                let now = self.clock.now();
                self.store.finish_import(job.id, JobStatus::Done, None, now).await?;
                job.status = JobStatus::Done;
                job.finished_at = Some(now);
                Ok(job)
            }
            Err(e) => self.fail(job, e).await,
        }
    }

    /// Run the batches; an import into an (almost) empty table loads it without its indexes
    /// and builds them once at the end, whatever happens in between.
    async fn drive(
        &self,
        who: &Principal,
        job: &mut ImportJob,
        table: Table,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<()> {
        let schema = self.schema().await?;
        let object = schema.object(&job.settings.object)?.clone();
        // The object, and the objects its mapped relations point at (companies made on the way).
        let mut loaded: Vec<ObjectDef> = vec![object.clone()];
        for target in job.settings.mapping.values().flatten() {
            let field = target.split('.').next().unwrap_or_default();
            if let Some(related) = object.field(field).and_then(|f| f.target.as_deref())
                && let Ok(def) = schema.object(related)
                && !loaded.iter().any(|o| o.name == def.name)
            {
                loaded.push(def.clone());
            }
        }
        let mut bulk = Vec::new();
        let mut started: Result<()> = Ok(());
        if !job.settings.dry_run {
            for def in loaded {
                match self.store.count_records(&def).await {
                    Ok(n) if n >= BULK_BELOW => {}
                    Ok(_) => {
                        // Noted before it starts: a load that fails half way through starting
                        // is ended like the others (its writer closed, its indexes built).
                        bulk.push(def.clone());
                        started = self.store.set_bulk_load(&def, Some(job.id)).await;
                    }
                    Err(e) => started = Err(e),
                }
                if started.is_err() {
                    break;
                }
            }
        }
        let mut result = match started {
            Ok(()) => self.batches(who, job, table, progress).await,
            Err(e) => Err(e),
        };
        // Every load is ended, whatever failed on the way; the first failure is the answer.
        for def in &bulk {
            let ended = self.store.set_bulk_load(def, None).await;
            if result.is_ok() {
                result = ended;
            }
        }
        // A bulk load dropped the table's indexes for kept reports.
        if !bulk.is_empty() {
            self.ask_for_report_indexes().await;
        }
        result
    }

    async fn batches(
        &self,
        who: &Principal,
        job: &mut ImportJob,
        mut table: Table,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<()> {
        let schema = self.schema().await?;
        who.require(Permission::Import, &schema.policy)?;
        who.require(Permission::WriteRecords, &schema.policy)?;
        let object = schema.object(&job.settings.object)?.clone();
        let shape = Shape::of(&table);
        let mapping = Mapping::from_names(&schema, &object, &shape.headers, &job.settings.mapping)?;
        let users = self.store.users().await?;
        let default_owner = Self::default_owner(&job.settings, who, &users)?;
        let mut planner = Planner::new(self.setup(
            &schema,
            &object,
            &shape,
            &mapping,
            &job.settings,
            (who.user_id, default_owner),
        ))?;
        for user in &users {
            planner.know_user(user.id, user.email.as_deref().unwrap_or_default(), &user.name);
        }
        let key = planner.key_field().cloned();
        // The records there, by their duplicate keys alone, for the rows that look like one of
        // them; which record a row updates is found when its batch is written.
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        let mut existing = KeyIndex::default();
        self.each_record(&object, None, owners.clone(), &mut |r| {
            existing.add(&Features::of(&object, &r, DEFAULT_COUNTRY), r.id);
        })
        .await?;
        existing.finish();
        let mut rows_seen: BlockIndex<Known> = BlockIndex::new();
        let mut related_owners: HashMap<String, Option<Vec<crate::ids::UserId>>> = HashMap::new();
        for (relation, related, _) in planner.relations() {
            let owners = self.visible_owners(who, &schema, &related.name).await?;
            self.each_record(&related, None, owners.clone(), &mut |r| {
                planner.know_related(&relation, &r)
            })
            .await?;
            related_owners.insert(related.name.clone(), owners);
        }
        let related_defs: HashMap<String, ObjectDef> = planner
            .relations()
            .into_iter()
            .map(|(_, o, _)| (o.name.clone(), o))
            .collect();
        // Each batch is written in the background while the next is read and planned (two
        // cores: planning on one, the database on the other). Planning asks nothing of the
        // records there, so it need not wait; related records a batch found under other ids
        // reach the next batch before it is written.
        let mut learned = Learned::default();
        let mut pending: Option<PendingWrite> = None;
        // The mapping's notes go with the first batch, once: a resumed job wrote them already.
        let mut mapping_warnings: Vec<Warning> = if job.counts.last_row == 0 {
            job.settings
                .left_out
                .iter()
                .map(|column| Warning::new(1, WarningKind::ColumnLeftOut, column.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let fed: Result<()> = async {
            loop {
                let batch = table.take_rows(BATCH_ROWS);
                if batch.is_empty() {
                    break;
                }
                // A resumed job passes over the rows an earlier run wrote.
                let rows: Vec<RowResult> = batch
                    .into_iter()
                    .filter(|r| row_number(r) > job.counts.last_row)
                    .collect();
                let Some(last_row) = rows.iter().map(row_number).max() else {
                    continue;
                };
                let (read, rejected) = planner.read(rows);
                let mut plan = planner.plan(read, rejected);
                let held = match &key {
                    Some(field) => {
                        let keys: Vec<String> = plan.rows.iter().filter_map(|r| r.key.clone()).collect();
                        self.store.held_keys(&object, &field.name, &keys).await?
                    }
                    None => HashSet::new(),
                };
                let (likely, indexed) = self
                    .likely_duplicates(
                        &object,
                        &mut plan,
                        &held,
                        &existing,
                        (&mut rows_seen, &learned.dead_rows),
                        job.settings.dry_run,
                    )
                    .await?;
                planner.learn(&plan);
                let ctx = WriteCtx {
                    actor: who.user_id,
                    now: self.clock.now(),
                };
                let related = std::mem::take(&mut plan.related)
                    .into_iter()
                    .filter_map(|(name, records)| {
                        let object = related_defs.get(&name)?.clone();
                        let owners = related_owners.get(&name).cloned().flatten();
                        Some(RelatedWrite {
                            object,
                            records,
                            owners,
                        })
                    })
                    .collect();
                let mut write = ImportWrite {
                    job: job.id,
                    base: Counts::default(),
                    last_row,
                    key: key.as_ref().map(|f| f.name.clone()),
                    dry_run: job.settings.dry_run,
                    owners: owners.clone(),
                    rejected: std::mem::take(&mut plan.rejected),
                    related,
                    rows: std::mem::take(&mut plan.rows),
                    likely,
                    warnings: std::mem::take(&mut mapping_warnings)
                        .into_iter()
                        .chain(std::mem::take(&mut plan.warnings))
                        .collect(),
                };
                // The batch before must be written before this one starts: its counts are this
                // one's base, and the companies it found elsewhere are this one's links.
                self.settle(pending.take(), job, &mut planner, &mut learned, progress)
                    .await?;
                write.base = job.counts;
                learned.apply(&mut write);
                let store = self.store.clone();
                let object = object.clone();
                let write = Arc::new(write);
                let sent = write.clone();
                pending = Some(PendingWrite {
                    write,
                    indexed,
                    at: ctx.now,
                    task: tokio::spawn(async move { store.write_import(&object, &sent, ctx).await }),
                });
            }
            self.settle(pending.take(), job, &mut planner, &mut learned, progress)
                .await
        }
        .await;
        // Failed half-way: a batch already handed to the database finishes (or not) before the
        // indexes are built and the failure is recorded; resuming starts after what it wrote.
        if let Some(p) = pending.take()
            && let Ok(Ok(ImportWriteOutcome::Written(applied))) = p.task.await
        {
            job.counts = applied.counts;
        }
        fed?;
        match table.failure() {
            Some(reason) => Err(Error::field("file", reason)),
            None => Ok(()),
        }
    }

    /// Wait for a batch written in the background, then count it in. A batch that met a record
    /// changed under it (which the store's locks should make impossible) is written again.
    async fn settle(
        &self,
        pending: Option<PendingWrite>,
        job: &mut ImportJob,
        planner: &mut Planner,
        learned: &mut Learned,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<()> {
        let Some(p) = pending else { return Ok(()) };
        let first = p
            .task
            .await
            .map_err(|e| Error::internal(format!("an import batch stopped: {e}")))?;
        let object = self.schema().await?.object(&job.settings.object)?.clone();
        let ctx = WriteCtx {
            actor: job.created_by,
            now: p.at,
        };
        // Written again, whole, when it met a changed record or the database gave up on it (a
        // deadlock with another writer on PostgreSQL, a busy SQLite file): nothing of it stayed.
        let mut outcome = first;
        for _ in 0..3 {
            match &outcome {
                Ok(ImportWriteOutcome::Stale(_)) => {}
                Err(e) if e.code == ErrorCode::Unavailable => {}
                _ => break,
            }
            outcome = self.store.write_import(&object, &p.write, ctx).await;
        }
        match outcome? {
            ImportWriteOutcome::Written(applied) => {
                learned.take(&applied, &p.indexed);
                if let Some(selection) = job.settings.selection
                    && !applied.records.is_empty()
                {
                    self.store.add_members(selection, &applied.records, p.at).await?;
                }
                // The planner already points past what earlier batches taught it (nothing it
                // learns after a remap names the old id): this batch's news is enough.
                planner.remap(
                    &applied.remapped.iter().copied().collect(),
                    &applied.blocked.iter().cloned().collect(),
                );
                self.written(job, applied.counts, p.at, progress)
            }
            ImportWriteOutcome::Stale(id) => Err(Error::new(
                ErrorCode::VersionConflict,
                format!(
                    "record {id} kept changing while rows up to {} were imported",
                    p.write.last_row
                ),
            )),
        }
    }

    /// The rows of a batch that look like a record there or an earlier row of the file, for
    /// the rows whose key no record holds (those will be new). The records there are found by
    /// their duplicate keys and read back from the store to be compared whole. A row with no
    /// key at all that is, by its score, surely a record there (the same name and company, the
    /// same name and phone: a file imported again) is pointed at that record to update it.
    async fn likely_duplicates(
        &self,
        object: &ObjectDef,
        plan: &mut Plan,
        held: &HashSet<String>,
        existing: &KeyIndex,
        (rows_seen, dead_rows): (&mut BlockIndex<Known>, &HashSet<u64>),
        dry_run: bool,
    ) -> Result<(Vec<LikelyDuplicate>, Vec<u64>)> {
        let new_rows: Vec<(usize, Features)> = plan
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.key.as_ref().is_none_or(|k| !held.contains(k)))
            .map(|(i, r)| (i, Features::of(object, &r.record, DEFAULT_COUNTRY)))
            .collect();
        let mut wanted = Vec::new();
        for (_, features) in &new_rows {
            existing.candidates(features, &mut wanted);
        }
        wanted.sort();
        wanted.dedup();
        let there: HashMap<RecordId, (Features, crate::record::Record)> = self
            .records_by_id(object, &wanted, None)
            .await?
            .into_iter()
            .map(|r| (r.id, (Features::of(object, &r, DEFAULT_COUNTRY), r)))
            .collect();
        let mut out = Vec::new();
        let mut indexed = Vec::new();
        let mut reach = Vec::new();
        for (index, features) in new_rows {
            let Some(row) = plan.rows.get_mut(index) else { continue };
            reach.clear();
            existing.candidates(&features, &mut reach);
            let mut best: Option<LikelyDuplicate> = None;
            let mut same: Option<(f64, usize, RecordId)> = None;
            for id in &reach {
                let Some((known, record)) = there.get(id) else { continue };
                let (score, name, reasons) = crate::dedupe::scan::score(&features, known);
                if row.key.is_none() && score >= SAME_RECORD_SCORE && name >= SAME_RECORD_NAME {
                    // Two records as alike: the one holding more of the row's values as they are.
                    let equal = row
                        .record
                        .values
                        .iter()
                        .filter(|(f, v)| record.values.get(*f) == Some(*v))
                        .count();
                    if same.is_none_or(|(s, e, _)| (score, equal) > (s, e)) {
                        same = Some((score, equal, *id));
                    }
                }
                if score >= crate::dedupe::scan::THRESHOLD && best.as_ref().is_none_or(|b| score > b.score) {
                    best = Some(LikelyDuplicate {
                        row: row.number,
                        like_record: Some(*id),
                        like_row: None,
                        score,
                        reasons,
                    });
                }
            }
            if let Some((_, _, id)) = same {
                row.target = Some(id);
                continue;
            }
            if let Some((Known::Row(n, id), score, reasons)) = rows_seen.best_match(&features)
                && !dead_rows.contains(n)
                && best.as_ref().is_none_or(|b| score > b.score)
            {
                best = Some(LikelyDuplicate {
                    row: row.number,
                    // A dry run makes no records.
                    like_record: (!dry_run).then_some(*id),
                    like_row: Some(*n),
                    score,
                    reasons,
                });
            }
            out.extend(best);
            if rows_seen.len() < ROWS_COMPARED {
                rows_seen.add(features, Known::Row(row.number, row.record.id));
                indexed.push(row.number);
            }
        }
        Ok((out, indexed))
    }

    /// A batch is committed: the job counts it, and the caller may stop the import here.
    fn written(
        &self,
        job: &mut ImportJob,
        counts: Counts,
        at: chrono::DateTime<chrono::Utc>,
        progress: &mut (dyn FnMut(&ImportJob) -> bool + Send),
    ) -> Result<()> {
        // Through the metrics facade (a no-op until a server installs a recorder): imports run
        // in the server's background work and from the command line, beside no request.
        let imported = |c: &Counts| c.rows().saturating_sub(c.rejected);
        if !job.settings.dry_run {
            metrics::counter!("anchora_import_rows_total")
                .increment(imported(&counts).saturating_sub(imported(&job.counts)));
        }
        job.counts = counts;
        job.updated_at = at;
        if progress(job) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Unavailable,
                format!(
                    "stopped after row {}; run the import again to go on from there",
                    counts.last_row
                ),
            ))
        }
    }
}

/// What the index of the file's rows keeps of each: the row and the id its new record gets.
#[derive(Debug, Clone, Copy)]
enum Known {
    Row(u64, RecordId),
}

/// The score at which a row without a key is taken to be a record already there (the same
/// name and company scores 0.93, the same name and phone 1.0), with a name alike at least this
/// much: the same name, but for case, accents and word order.
const SAME_RECORD_SCORE: f64 = 0.925;
const SAME_RECORD_NAME: f64 = 0.99;

/// New rows compared with the rows before them up to this many; beyond, the duplicate scan
/// after the import finds them (the index would hold the whole file in memory).
const ROWS_COMPARED: usize = 100_000;

/// What the batches written so far taught the import, for the batches after them.
#[derive(Default)]
struct Learned {
    /// Related records planned under one id and found under another.
    remapped: HashMap<RecordId, RecordId>,
    /// Related records that could not be made, with why.
    blocked: HashMap<RecordId, String>,
    /// Rows compared with later ones that did not become new records after all (rejected, or
    /// an update of a record someone made meanwhile): not "an earlier row" to point at.
    dead_rows: HashSet<u64>,
}

impl Learned {
    fn take(&mut self, applied: &super::job::Applied, indexed: &[u64]) {
        self.remapped.extend(applied.remapped.iter().copied());
        self.blocked.extend(applied.blocked.iter().cloned());
        let created: HashSet<u64> = applied.created_rows.iter().copied().collect();
        self.dead_rows
            .extend(indexed.iter().copied().filter(|n| !created.contains(n)));
    }

    /// A batch planned before the one before it was written: its rows link to related records
    /// found elsewhere, rows naming one that could not be made are rejected, and likenesses to
    /// rows that made no record go.
    fn apply(&self, write: &mut ImportWrite) {
        write
            .likely
            .retain(|l| l.like_row.is_none_or(|n| !self.dead_rows.contains(&n)));
        if self.remapped.is_empty() && self.blocked.is_empty() {
            return;
        }
        let mut kept = Vec::with_capacity(write.rows.len());
        for mut row in std::mem::take(&mut write.rows) {
            let mut why = None;
            for value in row.record.values.values_mut() {
                if let Value::Relation(id) = value {
                    if let Some(to) = self.remapped.get(id) {
                        *id = *to;
                    } else if let Some(reason) = self.blocked.get(id) {
                        why = Some(reason.clone());
                    }
                }
            }
            match why {
                Some(reason) => write.rejected.extend(row.rejected(&reason)),
                None => kept.push(row),
            }
        }
        write.rows = kept;
        write.rejected.sort_by_key(|r| r.number);
    }
}

/// A batch being written in the background.
struct PendingWrite {
    write: Arc<ImportWrite>,
    /// Its rows that later rows are compared with.
    indexed: Vec<u64>,
    at: chrono::DateTime<chrono::Utc>,
    task: tokio::task::JoinHandle<Result<ImportWriteOutcome>>,
}

fn check_upload(upload: &Upload) -> Result<()> {
    source::refuse_unknown(&upload.name)?;
    if upload.len > MAX_UPLOAD_BYTES as u64 {
        return Err(super::upload::too_large());
    }
    Ok(())
}
