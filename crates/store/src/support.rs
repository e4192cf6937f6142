//! The support chain's tables (migration 22): questions, their steps, attachments, and the
//! alerts the breach check handled (one per question, level and kind, so racing checks act
//! once).

use crate::db::{Backend, Row, Tx, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::{Error, Result};
use anchora_core::ids::{AttachmentId, QuestionEventId, QuestionId, TeamId, UserId};
use anchora_core::support::{
    Alert, AttachmentInfo, EventKind, FigureSpan, Level, Narrowed, Priority, Question, QuestionEvent, QuestionFilter,
    QuestionScope, QuestionTimes, Saved, Status, SupportStore, VendorTicket,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Cond, Expr, ExprTrait, OnConflict, Order, Query};

/// Migration 22.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let bytes = backend.bytes_type();
    vec![
        format!(
            "CREATE TABLE support_questions (id {uuid} PRIMARY KEY, number BIGINT NOT NULL UNIQUE, \
             subject TEXT NOT NULL, description TEXT NOT NULL, category TEXT NOT NULL, priority TEXT NOT NULL, \
             status TEXT NOT NULL, level TEXT NOT NULL, requester {uuid} NOT NULL REFERENCES users(id), \
             team {uuid} REFERENCES teams(id), assignee {uuid} REFERENCES users(id), page TEXT, object TEXT, \
             record TEXT, vendor TEXT, language TEXT NOT NULL, hypercare BIGINT NOT NULL, opened_at {ts} NOT NULL, \
             level_since {ts} NOT NULL, level_response_at {ts}, first_response_at {ts}, resolved_at {ts}, \
             closed_at {ts}, updated_at {ts} NOT NULL, version BIGINT NOT NULL)"
        ),
        "CREATE INDEX ix_support_questions_requester ON support_questions (requester, number)".to_string(),
        "CREATE INDEX ix_support_questions_team ON support_questions (team, number)".to_string(),
        "CREATE INDEX ix_support_questions_assignee ON support_questions (assignee)".to_string(),
        "CREATE INDEX ix_support_questions_status ON support_questions (status, number)".to_string(),
        format!(
            "CREATE TABLE support_events (id {uuid} PRIMARY KEY, question_id {uuid} NOT NULL REFERENCES support_questions(id), \
             at {ts} NOT NULL, actor {uuid} REFERENCES users(id), kind TEXT NOT NULL, body TEXT NOT NULL, detail TEXT NOT NULL, \
             ord BIGINT NOT NULL)"
        ),
        "CREATE INDEX ix_support_events_question ON support_events (question_id, at)".to_string(),
        "CREATE INDEX ix_support_events_actor ON support_events (actor)".to_string(),
        format!(
            "CREATE TABLE support_attachments (id {uuid} PRIMARY KEY, question_id {uuid} NOT NULL REFERENCES support_questions(id), \
             name TEXT NOT NULL, content_type TEXT NOT NULL, size BIGINT NOT NULL, body {bytes} NOT NULL, \
             added_by {uuid} NOT NULL REFERENCES users(id), added_at {ts} NOT NULL)"
        ),
        "CREATE INDEX ix_support_attachments_question ON support_attachments (question_id)".to_string(),
        "CREATE INDEX ix_support_attachments_added_by ON support_attachments (added_by)".to_string(),
        format!(
            "CREATE TABLE support_alerts (question_id {uuid} NOT NULL REFERENCES support_questions(id), \
             level TEXT NOT NULL, kind TEXT NOT NULL, at {ts} NOT NULL, PRIMARY KEY (question_id, level, kind))"
        ),
        "CREATE INDEX ix_support_events_at ON support_events (at)".to_string(),
        format!(
            "CREATE TABLE support_mails (event_id {uuid} NOT NULL REFERENCES support_events(id), \
             recipient {uuid} NOT NULL REFERENCES users(id), sent_at {ts} NOT NULL, PRIMARY KEY (event_id, recipient))"
        ),
        "CREATE INDEX ix_support_mails_recipient ON support_mails (recipient)".to_string(),
        // The last question number given, one row: raising a question counts it up in its own
        // transaction, so writers racing each other wait on the row instead of colliding.
        "CREATE TABLE support_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)".to_string(),
        "INSERT INTO support_counter (id, n) VALUES (1, 0)".to_string(),
    ]
}

/// Migration 24: the e-mails threaded into questions, by their Message-ID and question, so
/// one read twice (two mailbox runs overlapping, a message left unseen after its answer was
/// kept) is kept once; one answer sent to two questions' notices is kept on each. The key is
/// written in the transaction that keeps the answer.
pub fn mail_in_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    vec![format!(
        "CREATE TABLE support_mail_in (message_id TEXT NOT NULL, \
         question_id {uuid} NOT NULL REFERENCES support_questions(id), \
         event_id {uuid} NOT NULL REFERENCES support_events(id), PRIMARY KEY (message_id, question_id))"
    )]
}

const COLUMNS: [&str; 25] = [
    "id",
    "number",
    "subject",
    "description",
    "category",
    "priority",
    "status",
    "level",
    "requester",
    "team",
    "assignee",
    "page",
    "object",
    "record",
    "vendor",
    "language",
    "hypercare",
    "opened_at",
    "level_since",
    "level_response_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "updated_at",
    "version",
];

const EVENT_COLUMNS: [&str; 7] = ["id", "question_id", "at", "actor", "kind", "body", "detail"];

const ATTACHMENT_COLUMNS: [&str; 7] = [
    "id",
    "question_id",
    "name",
    "content_type",
    "size",
    "added_by",
    "added_at",
];

fn decode(r: &Row) -> std::result::Result<Question, sqlx::Error> {
    let text = |i: usize, column: &str| -> std::result::Result<String, sqlx::Error> {
        r.string(i).map_err(|e| bad_column(column, e))
    };
    let vendor: Option<VendorTicket> = r
        .opt_string(14)?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| bad_column("vendor", e))?;
    Ok(Question {
        id: QuestionId(r.uuid(0)?),
        number: r.i64(1)?,
        subject: r.string(2)?,
        description: r.string(3)?,
        category: r.string(4)?,
        priority: Priority::parse(&text(5, "priority")?).ok_or_else(|| bad_column("priority", "unknown"))?,
        status: Status::parse(&text(6, "status")?).ok_or_else(|| bad_column("status", "unknown"))?,
        level: Level::parse(&text(7, "level")?).ok_or_else(|| bad_column("level", "unknown"))?,
        requester: UserId(r.uuid(8)?),
        team: r.opt_uuid(9)?.map(TeamId),
        assignee: r.opt_uuid(10)?.map(UserId),
        page: r.opt_string(11)?,
        object: r.opt_string(12)?,
        record: r.opt_string(13)?,
        vendor,
        language: r.string(15)?,
        hypercare: r.i64(16)? != 0,
        opened_at: r.datetime(17)?,
        level_since: r.datetime(18)?,
        level_response_at: r.opt_datetime(19)?,
        first_response_at: r.opt_datetime(20)?,
        resolved_at: r.opt_datetime(21)?,
        closed_at: r.opt_datetime(22)?,
        updated_at: r.datetime(23)?,
        version: r.i64(24)?,
    })
}

fn values(backend: Backend, q: &Question) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    let vendor = q
        .vendor
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| bad_column("vendor", e))?;
    Ok(vec![
        Expr::val(backend.uuid(Some(q.id.0))),
        q.number.into(),
        q.subject.clone().into(),
        q.description.clone().into(),
        q.category.clone().into(),
        q.priority.as_str().into(),
        q.status.as_str().into(),
        q.level.as_str().into(),
        Expr::val(backend.uuid(Some(q.requester.0))),
        Expr::val(backend.uuid(q.team.map(|t| t.0))),
        Expr::val(backend.uuid(q.assignee.map(|t| t.0))),
        q.page.clone().into(),
        q.object.clone().into(),
        q.record.clone().into(),
        vendor.into(),
        q.language.clone().into(),
        i64::from(q.hypercare).into(),
        Expr::val(backend.datetime(Some(q.opened_at))),
        Expr::val(backend.datetime(Some(q.level_since))),
        Expr::val(backend.datetime(q.level_response_at)),
        Expr::val(backend.datetime(q.first_response_at)),
        Expr::val(backend.datetime(q.resolved_at)),
        Expr::val(backend.datetime(q.closed_at)),
        Expr::val(backend.datetime(Some(q.updated_at))),
        q.version.into(),
    ])
}

fn decode_event(r: &Row) -> std::result::Result<QuestionEvent, sqlx::Error> {
    let kind = r.string(4)?;
    Ok(QuestionEvent {
        id: QuestionEventId(r.uuid(0)?),
        question: QuestionId(r.uuid(1)?),
        at: r.datetime(2)?,
        actor: r.opt_uuid(3)?.map(UserId),
        kind: EventKind::parse(&kind).ok_or_else(|| bad_column("kind", "unknown"))?,
        body: r.string(5)?,
        detail: serde_json::from_str(&r.string(6)?).map_err(|e| bad_column("detail", e))?,
        message_id: None,
    })
}

fn decode_attachment(r: &Row) -> std::result::Result<AttachmentInfo, sqlx::Error> {
    Ok(AttachmentInfo {
        id: AttachmentId(r.uuid(0)?),
        question: QuestionId(r.uuid(1)?),
        name: r.string(2)?,
        content_type: r.string(3)?,
        size: r.i64(4)?,
        added_by: UserId(r.uuid(5)?),
        added_at: r.datetime(6)?,
    })
}

async fn insert_events(tx: &mut Tx, backend: Backend, events: &[QuestionEvent]) -> Result<()> {
    // `ord` keeps the order of the steps one write makes at one instant (a reply and the status
    // it moves): ids made in the same millisecond do not sort by when they were made.
    for (ord, e) in events.iter().enumerate() {
        let detail = serde_json::to_string(&e.detail).map_err(|e| Error::internal(e.to_string()))?;
        let stmt = Query::insert()
            .into_table("support_events")
            .columns(EVENT_COLUMNS.iter().copied().chain(["ord"]))
            .values_panic([
                Expr::val(backend.uuid(Some(e.id.0))),
                Expr::val(backend.uuid(Some(e.question.0))),
                Expr::val(backend.datetime(Some(e.at))),
                Expr::val(backend.uuid(e.actor.map(|a| a.0))),
                e.kind.as_str().into(),
                e.body.clone().into(),
                detail.into(),
                i64::try_from(ord).unwrap_or(i64::MAX).into(),
            ])
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
    }
    Ok(())
}

/// Note an e-mail's Message-ID as kept on an event's question, unless it was already; whether
/// it was new.
async fn insert_mail_in(tx: &mut Tx, backend: Backend, message: &str, e: &QuestionEvent) -> Result<bool> {
    let stmt = Query::insert()
        .into_table("support_mail_in")
        .columns(["message_id", "question_id", "event_id"])
        .values_panic([
            message.into(),
            Expr::val(backend.uuid(Some(e.question.0))),
            Expr::val(backend.uuid(Some(e.id.0))),
        ])
        .on_conflict(
            OnConflict::columns(["message_id", "question_id"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
}

/// Keep an alert unless it was kept already; whether it was new.
async fn insert_alert(tx: &mut Tx, backend: Backend, a: &Alert) -> Result<bool> {
    let stmt = Query::insert()
        .into_table("support_alerts")
        .columns(["question_id", "level", "kind", "at"])
        .values_panic([
            Expr::val(backend.uuid(Some(a.question.0))),
            a.level.as_str().into(),
            a.kind.clone().into(),
            Expr::val(backend.datetime(Some(a.at))),
        ])
        .on_conflict(
            OnConflict::columns(["question_id", "level", "kind"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
}

/// The questions a reader may see, as a condition on `table`'s columns.
fn scope_cond(backend: Backend, scope: &QuestionScope, table: &str) -> Cond {
    let col = |c: &str| Expr::col((sea_query::Alias::new(table), sea_query::Alias::new(c)));
    match scope {
        QuestionScope::All => Cond::all(),
        QuestionScope::Of { user, teams, owner } => {
            let me = || Expr::val(backend.uuid(Some(user.0)));
            let mut who = Cond::any().add(col("requester").eq(me())).add(col("assignee").eq(me()));
            if !teams.is_empty() {
                who = who.add(col("team").is_in(teams.iter().map(|t| Expr::val(backend.uuid(Some(t.0))))));
            }
            if *owner {
                who = who.add(col("level").eq(Level::Vendor.as_str()));
            }
            Cond::all().add(who)
        }
    }
}

/// A figure span's questions: the reader's scope, narrowed to a person's (raised or assigned)
/// or a team's.
fn span_cond(backend: Backend, span: &FigureSpan) -> Cond {
    let col = |c: &str| Expr::col((sea_query::Alias::new("support_questions"), sea_query::Alias::new(c)));
    let cond = scope_cond(backend, &span.scope, "support_questions");
    match span.narrowed {
        Narrowed::Not => cond,
        Narrowed::Person(u) => {
            let me = || Expr::val(backend.uuid(Some(u.0)));
            cond.add(Cond::any().add(col("requester").eq(me())).add(col("assignee").eq(me())))
        }
        Narrowed::Team(t) => cond.add(col("team").eq(Expr::val(backend.uuid(Some(t.0))))),
    }
}

/// A moment within a span: `[since, until)`.
fn within(backend: Backend, at: Expr, span: &FigureSpan) -> Cond {
    Cond::all()
        .add(at.clone().gte(Expr::val(backend.datetime(Some(span.since)))))
        .add(at.lt(Expr::val(backend.datetime(Some(span.until)))))
}

impl SqlStore {
    async fn select_questions(&self, cond: Cond, before: Option<i64>, limit: u32) -> Result<Vec<Question>> {
        let mut stmt = Query::select();
        stmt.from("support_questions")
            .columns(COLUMNS)
            .cond_where(cond)
            .order_by("number", Order::Desc)
            .limit(u64::from(limit));
        if let Some(b) = before {
            stmt.and_where(Expr::col("number").lt(b));
        }
        self.fetch_decoded(self.backend_kind().build(&stmt), decode).await
    }
}

#[async_trait]
impl SupportStore for SqlStore {
    async fn create_question(&self, q: &Question, events: &[QuestionEvent]) -> Result<i64> {
        let backend = self.backend_kind();
        // The counter row is counted up in the writing transaction: a second writer waits on the
        // row (PostgreSQL) or the write lock (SQLite) and gets the next number.
        let next = Query::update()
            .table("support_counter")
            .value("n", Expr::col("n").add(1))
            .and_where(Expr::col("id").eq(1))
            .returning_col("n")
            .to_owned();
        in_write!(self.pool(), |tx| {
            let row = tx
                .exec()
                .fetch_optional(backend.build(&next))
                .await
                .map_err(db_error)?
                .ok_or_else(|| Error::internal("the question counter is missing"))?;
            let mut q = q.clone();
            q.number = row.i64(0).map_err(db_error)?;
            let stmt = Query::insert()
                .into_table("support_questions")
                .columns(COLUMNS)
                .values_panic(values(backend, &q).map_err(db_error)?)
                .to_owned();
            tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
            insert_events(tx, backend, events).await?;
            Ok(q.number)
        })
    }

    async fn question(&self, id: QuestionId) -> Result<Option<Question>> {
        let backend = self.backend_kind();
        let cond = Cond::all().add(Expr::col("id").eq(Expr::val(backend.uuid(Some(id.0)))));
        Ok(self.select_questions(cond, None, 1).await?.pop())
    }

    async fn question_by_number(&self, number: i64) -> Result<Option<Question>> {
        let cond = Cond::all().add(Expr::col("number").eq(number));
        Ok(self.select_questions(cond, None, 1).await?.pop())
    }

    async fn save_question(
        &self,
        q: &Question,
        expected_version: i64,
        events: &[QuestionEvent],
        alert: Option<&Alert>,
    ) -> Result<Saved> {
        let backend = self.backend_kind();
        let mut stmt = Query::update();
        stmt.table("support_questions");
        // The number and the first values never change.
        for (column, value) in COLUMNS.iter().zip(values(backend, q).map_err(db_error)?).skip(2) {
            if matches!(*column, "requester" | "opened_at") {
                continue;
            }
            stmt.value(*column, value);
        }
        stmt.and_where(Expr::col("id").eq(Expr::val(backend.uuid(Some(q.id.0)))))
            .and_where(Expr::col("version").eq(expected_version));
        let mut tx = self.pool().begin_write().await.map_err(db_error)?;
        // The alert first: a breach handled already writes nothing (and is not updated first
        // only to be rolled back).
        if let Some(a) = alert
            && !insert_alert(&mut tx, backend, a).await?
        {
            return Ok(Saved::Stale);
        }
        if tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? != 1 {
            // Dropped unfinished: the alert above is rolled back.
            return Ok(Saved::Stale);
        }
        insert_events(&mut tx, backend, events).await?;
        // An e-mail kept already on this question writes nothing: the transaction is dropped
        // unfinished.
        for e in events {
            if let Some(message) = &e.message_id
                && !insert_mail_in(&mut tx, backend, message, e).await?
            {
                return Ok(Saved::MailKeptAlready);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Saved::Written)
    }

    async fn questions(&self, f: &QuestionFilter) -> Result<Vec<Question>> {
        let backend = self.backend_kind();
        let mut cond = scope_cond(backend, &f.scope, "support_questions");
        if let Some(u) = f.requester {
            cond = cond.add(Expr::col("requester").eq(Expr::val(backend.uuid(Some(u.0)))));
        }
        if let Some(t) = f.team {
            cond = cond.add(Expr::col("team").eq(Expr::val(backend.uuid(Some(t.0)))));
        }
        if let Some(l) = f.level {
            cond = cond.add(Expr::col("level").eq(l.as_str()));
        }
        if let Some(s) = f.status {
            cond = cond.add(Expr::col("status").eq(s.as_str()));
        }
        if f.open {
            cond = cond.add(Expr::col("status").is_not_in([Status::Resolved.as_str(), Status::Closed.as_str()]));
        }
        self.select_questions(cond, f.before, f.limit).await
    }

    async fn question_events(&self, id: QuestionId) -> Result<Vec<QuestionEvent>> {
        self.events_of_questions(&[id]).await
    }

    async fn events_of_questions(&self, ids: &[QuestionId]) -> Result<Vec<QuestionEvent>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_events")
            .columns(EVENT_COLUMNS)
            .and_where(Expr::col("question_id").is_in(ids.iter().map(|q| Expr::val(backend.uuid(Some(q.0))))))
            .order_by("question_id", Order::Asc)
            .order_by("at", Order::Asc)
            .order_by("ord", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), decode_event).await
    }

    async fn alerts_of_questions(&self, ids: &[QuestionId]) -> Result<Vec<Alert>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_alerts")
            .columns(["question_id", "level", "kind", "at"])
            .and_where(Expr::col("question_id").is_in(ids.iter().map(|q| Expr::val(backend.uuid(Some(q.0))))))
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(Alert {
                question: QuestionId(r.uuid(0)?),
                level: Level::parse(&r.string(1)?).ok_or_else(|| bad_column("level", "unknown"))?,
                kind: r.string(2)?,
                at: r.datetime(3)?,
            })
        })
        .await
    }

    async fn support_user_names(&self, ids: &[UserId]) -> Result<Vec<(UserId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("users")
            .columns(["id", "name"])
            .and_where(Expr::col("id").is_in(ids.iter().map(|u| Expr::val(backend.uuid(Some(u.0))))))
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| Ok((UserId(r.uuid(0)?), r.string(1)?)))
            .await
    }

    async fn record_alert(&self, alert: &Alert, event: &QuestionEvent) -> Result<bool> {
        let backend = self.backend_kind();
        let mut tx = self.pool().begin_write().await.map_err(db_error)?;
        if !insert_alert(&mut tx, backend, alert).await? {
            return Ok(false);
        }
        insert_events(&mut tx, backend, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn add_attachment(&self, info: &AttachmentInfo, bytes: &[u8], event: &QuestionEvent) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            let stmt = Query::insert()
                .into_table("support_attachments")
                .columns([
                    "id",
                    "question_id",
                    "name",
                    "content_type",
                    "size",
                    "added_by",
                    "added_at",
                    "body",
                ])
                .values_panic([
                    Expr::val(backend.uuid(Some(info.id.0))),
                    Expr::val(backend.uuid(Some(info.question.0))),
                    info.name.clone().into(),
                    info.content_type.clone().into(),
                    info.size.into(),
                    Expr::val(backend.uuid(Some(info.added_by.0))),
                    Expr::val(backend.datetime(Some(info.added_at))),
                    Expr::val(sea_query::Value::Bytes(Some(bytes.to_vec()))),
                ])
                .to_owned();
            tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
            insert_events(tx, backend, std::slice::from_ref(event)).await
        })
    }

    async fn attachments(&self, question: QuestionId) -> Result<Vec<AttachmentInfo>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_attachments")
            .columns(ATTACHMENT_COLUMNS)
            .and_where(Expr::col("question_id").eq(Expr::val(backend.uuid(Some(question.0)))))
            .order_by("added_at", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), decode_attachment).await
    }

    async fn attachment(&self, question: QuestionId, id: AttachmentId) -> Result<Option<(AttachmentInfo, Vec<u8>)>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_attachments")
            .columns(ATTACHMENT_COLUMNS)
            .column("body")
            .and_where(Expr::col("question_id").eq(Expr::val(backend.uuid(Some(question.0)))))
            .and_where(Expr::col("id").eq(Expr::val(backend.uuid(Some(id.0)))))
            .to_owned();
        Ok(self
            .fetch_decoded(backend.build(&stmt), |r| Ok((decode_attachment(r)?, r.bytes(7)?)))
            .await?
            .pop())
    }

    async fn support_events_since(&self, since: DateTime<Utc>) -> Result<Vec<QuestionEvent>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_events")
            .columns(EVENT_COLUMNS)
            .and_where(Expr::col("at").gte(Expr::val(backend.datetime(Some(since)))))
            .order_by("at", Order::Asc)
            .order_by("ord", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), decode_event).await
    }

    async fn support_mail_sent(&self, event: QuestionEventId, to: UserId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_mails")
            .column("event_id")
            .and_where(Expr::col("event_id").eq(Expr::val(backend.uuid(Some(event.0)))))
            .and_where(Expr::col("recipient").eq(Expr::val(backend.uuid(Some(to.0)))))
            .to_owned();
        Ok(!self.fetch_decoded(backend.build(&stmt), |_| Ok(())).await?.is_empty())
    }

    async fn mark_support_mail(&self, event: QuestionEventId, to: UserId, at: DateTime<Utc>) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("support_mails")
            .columns(["event_id", "recipient", "sent_at"])
            .values_panic([
                Expr::val(backend.uuid(Some(event.0))),
                Expr::val(backend.uuid(Some(to.0))),
                Expr::val(backend.datetime(Some(at))),
            ])
            .on_conflict(OnConflict::columns(["event_id", "recipient"]).do_nothing().to_owned())
            .to_owned();
        Ok(self.write_one(backend.build(&stmt)).await? == 1)
    }

    async fn unmark_support_mail(&self, event: QuestionEventId, to: UserId) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("support_mails")
            .and_where(Expr::col("event_id").eq(Expr::val(backend.uuid(Some(event.0)))))
            .and_where(Expr::col("recipient").eq(Expr::val(backend.uuid(Some(to.0)))))
            .to_owned();
        self.write_one(backend.build(&stmt)).await.map(|_| ())
    }

    async fn question_times(&self, span: &FigureSpan) -> Result<Vec<QuestionTimes>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_questions")
            .columns(["level", "opened_at", "first_response_at", "resolved_at"])
            .cond_where(
                span_cond(backend, span).add(
                    Cond::any()
                        .add(within(backend, Expr::col("opened_at"), span))
                        .add(within(backend, Expr::col("resolved_at"), span)),
                ),
            )
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(QuestionTimes {
                level: Level::parse(&r.string(0)?).ok_or_else(|| bad_column("level", "unknown"))?,
                opened_at: r.datetime(1)?,
                first_response_at: r.opt_datetime(2)?,
                resolved_at: r.opt_datetime(3)?,
            })
        })
        .await
    }

    async fn breach_count(&self, span: &FigureSpan) -> Result<u64> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .expr(Expr::col(("support_alerts", "question_id")).count())
            .from("support_alerts")
            .inner_join(
                "support_questions",
                Expr::col(("support_questions", "id")).equals(("support_alerts", "question_id")),
            )
            .cond_where(
                span_cond(backend, span)
                    .add(Expr::col(("support_alerts", "kind")).eq("breach"))
                    .add(within(backend, Expr::col(("support_alerts", "at")), span)),
            )
            .to_owned();
        let counts = self
            .fetch_decoded(backend.build(&stmt), |r| crate::db::count_at(r, 0))
            .await?;
        Ok(counts.first().copied().unwrap_or(0))
    }

    async fn category_counts(&self, span: &FigureSpan, limit: u32) -> Result<Vec<(String, u64)>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .column("category")
            .expr_as(Expr::col("id").count(), sea_query::Alias::new("n"))
            .from("support_questions")
            .cond_where(
                span_cond(backend, span)
                    .add(within(backend, Expr::col("opened_at"), span))
                    .add(Expr::col("category").ne("")),
            )
            .group_by_col("category")
            .order_by_expr(Expr::col("id").count(), Order::Desc)
            .order_by("category", Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| Ok((r.string(0)?, crate::db::count_at(r, 1)?)))
            .await
    }
}
