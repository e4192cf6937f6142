//! Stewardship's tables (migration 23): the plan (one row, its body as JSON, at a version),
//! adjustment requests with their votes (one per user and request, by the primary key) and
//! comments, and answers with their full-text search (FTS5 on SQLite, a generated tsvector
//! with a GIN index on PostgreSQL, as record search does).

use crate::db::{Backend, Row, Sql, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{AdjustmentCommentId, AdjustmentRequestId, AnswerId, UserId};
use anchora_core::stewardship::answers::search_fold;
use anchora_core::stewardship::{
    AdjustmentComment, AdjustmentRequest, Answer, DraftsSeen, Plan, RequestStatus, StewardshipStore, StoredPlan, Vote,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, Value as Sv};

/// Migration 23.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    let mut out = vec![
        // One row: the CHECK keeps a second plan out.
        format!(
            "CREATE TABLE stewardship_plan (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL, \
             body TEXT NOT NULL, updated_at {ts}, updated_by {uuid} REFERENCES users(id))"
        ),
        "CREATE INDEX ix_stewardship_plan_updated_by ON stewardship_plan (updated_by)".to_string(),
        // `question_id` has no foreign key: questions are another module's, and a request
        // outlives the question it came from.
        format!(
            "CREATE TABLE adjustment_requests (id {uuid} PRIMARY KEY, version BIGINT NOT NULL, title TEXT NOT NULL, \
             description TEXT NOT NULL, question_id {uuid}, requested_by {uuid} NOT NULL REFERENCES users(id), \
             value BIGINT NOT NULL CHECK (value BETWEEN 1 AND 5), effort BIGINT NOT NULL CHECK (effort BETWEEN 1 AND 5), \
             status TEXT NOT NULL, decided_by {uuid} REFERENCES users(id), decided_at {ts}, decision_note TEXT NOT NULL, \
             links TEXT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL)"
        ),
        "CREATE INDEX ix_adjustment_requests_requested_by ON adjustment_requests (requested_by)".to_string(),
        "CREATE INDEX ix_adjustment_requests_decided_by ON adjustment_requests (decided_by)".to_string(),
        "CREATE INDEX ix_adjustment_requests_question ON adjustment_requests (question_id)".to_string(),
        format!(
            "CREATE TABLE adjustment_votes (request_id {uuid} NOT NULL REFERENCES adjustment_requests(id), \
             user_id {uuid} NOT NULL REFERENCES users(id), voted_at {ts} NOT NULL, PRIMARY KEY (request_id, user_id))"
        ),
        "CREATE INDEX ix_adjustment_votes_user ON adjustment_votes (user_id)".to_string(),
        format!(
            "CREATE TABLE adjustment_comments (id {uuid} PRIMARY KEY, request_id {uuid} NOT NULL REFERENCES adjustment_requests(id), \
             author {uuid} NOT NULL REFERENCES users(id), body TEXT NOT NULL, created_at {ts} NOT NULL)"
        ),
        "CREATE INDEX ix_adjustment_comments_request ON adjustment_comments (request_id, created_at)".to_string(),
        "CREATE INDEX ix_adjustment_comments_author ON adjustment_comments (author)".to_string(),
    ];
    let answer_columns = format!(
        "id {uuid} PRIMARY KEY, version BIGINT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, \
         language TEXT NOT NULL, category TEXT NOT NULL, source_question {uuid}, author {uuid} NOT NULL REFERENCES users(id), \
         published {boolean} NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL, \
         search_text TEXT NOT NULL DEFAULT ''"
    );
    match backend {
        Backend::Sqlite => {
            out.push(format!("CREATE TABLE stewardship_answers ({answer_columns})"));
            // The text is kept twice (the table and the index) rather than as external content:
            // the answers' rowids are not stable keys, and there are few answers.
            out.push(
                "CREATE VIRTUAL TABLE stewardship_answer_fts USING fts5(answer_id UNINDEXED, title, body, \
                 tokenize='unicode61 remove_diacritics 2')"
                    .to_string(),
            );
        }
        Backend::Postgres => {
            out.push(format!(
                "CREATE TABLE stewardship_answers ({answer_columns}, \
                 tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED)"
            ));
            out.push("CREATE INDEX ix_stewardship_answers_tsv ON stewardship_answers USING GIN (tsv)".to_string());
        }
    }
    out.push("CREATE INDEX ix_stewardship_answers_author ON stewardship_answers (author)".to_string());
    out.push("CREATE INDEX ix_stewardship_answers_source ON stewardship_answers (source_question)".to_string());
    out
}

const REQUEST_COLUMNS: [&str; 15] = [
    "id",
    "version",
    "title",
    "description",
    "question_id",
    "requested_by",
    "value",
    "effort",
    "status",
    "decided_by",
    "decided_at",
    "decision_note",
    "links",
    "created_at",
    "updated_at",
];

const ANSWER_COLUMNS: [&str; 11] = [
    "id",
    "version",
    "title",
    "body",
    "language",
    "category",
    "source_question",
    "author",
    "published",
    "created_at",
    "updated_at",
];

fn request_values(backend: Backend, r: &AdjustmentRequest) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    let links = serde_json::to_string(&r.links).map_err(|e| bad_column("links", e))?;
    Ok(vec![
        Expr::val(backend.uuid(Some(r.id.0))),
        r.version.into(),
        r.title.clone().into(),
        r.description.clone().into(),
        Expr::val(backend.uuid(r.question)),
        Expr::val(backend.uuid(Some(r.requested_by.0))),
        i64::from(r.value).into(),
        i64::from(r.effort).into(),
        r.status.as_str().into(),
        Expr::val(backend.uuid(r.decided_by.map(|u| u.0))),
        Expr::val(backend.datetime(r.decided_at)),
        r.decision_note.clone().into(),
        links.into(),
        Expr::val(backend.datetime(Some(r.created_at))),
        Expr::val(backend.datetime(Some(r.updated_at))),
    ])
}

fn small(r: &Row, i: usize, column: &str) -> std::result::Result<u8, sqlx::Error> {
    u8::try_from(r.i64(i)?).map_err(|e| bad_column(column, e))
}

fn decode_request(r: &Row) -> std::result::Result<AdjustmentRequest, sqlx::Error> {
    let status = r.string(8)?;
    Ok(AdjustmentRequest {
        id: AdjustmentRequestId(r.uuid(0)?),
        version: r.i64(1)?,
        title: r.string(2)?,
        description: r.string(3)?,
        question: r.opt_uuid(4)?,
        requested_by: UserId(r.uuid(5)?),
        value: small(r, 6, "value")?,
        effort: small(r, 7, "effort")?,
        status: RequestStatus::parse(&status).ok_or_else(|| bad_column("status", status))?,
        decided_by: r.opt_uuid(9)?.map(UserId),
        decided_at: r.opt_datetime(10)?,
        decision_note: r.string(11)?,
        links: serde_json::from_str(&r.string(12)?).map_err(|e| bad_column("links", e))?,
        created_at: r.datetime(13)?,
        updated_at: r.datetime(14)?,
    })
}

fn answer_values(backend: Backend, a: &Answer) -> Vec<Expr> {
    vec![
        Expr::val(backend.uuid(Some(a.id.0))),
        a.version.into(),
        a.title.clone().into(),
        a.body.clone().into(),
        a.language.clone().into(),
        a.category.clone().into(),
        Expr::val(backend.uuid(a.source_question)),
        Expr::val(backend.uuid(Some(a.author.0))),
        a.published.into(),
        Expr::val(backend.datetime(Some(a.created_at))),
        Expr::val(backend.datetime(Some(a.updated_at))),
    ]
}

/// The columns an answer is written with: its own and `search_text`, its title and body
/// folded in Rust (`search_fold`) so both databases index the same text.
fn answer_write(backend: Backend, a: &Answer) -> (Vec<&'static str>, Vec<Expr>) {
    let mut columns = ANSWER_COLUMNS.to_vec();
    columns.push("search_text");
    let mut values = answer_values(backend, a);
    values.push(search_text(a).into());
    (columns, values)
}

fn search_text(a: &Answer) -> String {
    search_fold(&format!("{}\n{}", a.title, a.body))
}

fn decode_answer(r: &Row) -> std::result::Result<Answer, sqlx::Error> {
    Ok(Answer {
        id: AnswerId(r.uuid(0)?),
        version: r.i64(1)?,
        title: r.string(2)?,
        body: r.string(3)?,
        language: r.string(4)?,
        category: r.string(5)?,
        source_question: r.opt_uuid(6)?,
        author: UserId(r.uuid(7)?),
        published: r.bool(8)?,
        created_at: r.datetime(9)?,
        updated_at: r.datetime(10)?,
    })
}

fn by_id(backend: Backend, id: uuid::Uuid) -> Expr {
    Expr::col("id").eq(Expr::val(backend.uuid(Some(id))))
}

/// The statements that keep an answer's SQLite search document in step (PostgreSQL's is a
/// generated column).
fn answer_doc(backend: Backend, a: &Answer, insert: bool) -> Vec<Sql> {
    match backend {
        Backend::Postgres => Vec::new(),
        Backend::Sqlite => {
            let mut out = vec![Sql::new(
                "DELETE FROM stewardship_answer_fts WHERE answer_id = ?",
                vec![backend.uuid(Some(a.id.0))],
            )];
            if insert {
                out.push(Sql::new(
                    "INSERT INTO stewardship_answer_fts (answer_id, title, body) VALUES (?, ?, ?)",
                    vec![
                        backend.uuid(Some(a.id.0)),
                        Sv::from(search_fold(&a.title)),
                        Sv::from(search_fold(&a.body)),
                    ],
                ));
            }
            out
        }
    }
}

impl SqlStore {
    /// Statements in one write transaction; the rows the first touched.
    async fn stewardship_write(&self, sql: Vec<Sql>) -> Result<u64> {
        in_write!(self.pool(), |tx| {
            let mut first = None;
            for s in sql {
                let n = tx.exec().execute(s).await.map_err(db_error)?;
                first.get_or_insert(n);
            }
            Ok(first.unwrap_or(0))
        })
    }

    /// Statements in one write transaction if the first touches exactly one row; otherwise
    /// nothing is written (a stale version) and false.
    async fn stewardship_write_if(&self, sql: Vec<Sql>) -> Result<bool> {
        in_write!(self.pool(), |tx| {
            let mut iter = sql.into_iter();
            let Some(first) = iter.next() else {
                return Ok(false);
            };
            if tx.exec().execute(first).await.map_err(db_error)? != 1 {
                return Ok(false);
            }
            for s in iter {
                tx.exec().execute(s).await.map_err(db_error)?;
            }
            Ok(true)
        })
    }
}

#[async_trait]
impl StewardshipStore for SqlStore {
    async fn stewardship_plan(&self) -> Result<Option<StoredPlan>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("stewardship_plan")
            .columns(["version", "body", "updated_at", "updated_by"])
            .and_where(Expr::col("id").eq(1))
            .to_owned();
        Ok(self
            .fetch_decoded(backend.build(&stmt), |r| {
                let plan: Plan = serde_json::from_str(&r.string(1)?).map_err(|e| bad_column("body", e))?;
                Ok(StoredPlan {
                    version: r.i64(0)?,
                    plan,
                    updated_at: r.opt_datetime(2)?,
                    updated_by: r.opt_uuid(3)?.map(UserId),
                })
            })
            .await?
            .pop())
    }

    async fn write_stewardship_plan(&self, plan: &StoredPlan, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let body = serde_json::to_string(&plan.plan).map_err(|e| db_error(bad_column("body", e)))?;
        let values: [(&str, Expr); 4] = [
            ("version", plan.version.into()),
            ("body", body.into()),
            ("updated_at", Expr::val(backend.datetime(plan.updated_at))),
            ("updated_by", Expr::val(backend.uuid(plan.updated_by.map(|u| u.0)))),
        ];
        let sql = if expected == 0 {
            // The first plan: two first writers race on the key; the loser writes nothing.
            let mut stmt = Query::insert();
            stmt.into_table("stewardship_plan")
                .columns(["id", "version", "body", "updated_at", "updated_by"])
                .values_panic(std::iter::once(Expr::val(1i64)).chain(values.into_iter().map(|(_, v)| v)))
                .on_conflict(OnConflict::column("id").do_nothing().to_owned());
            backend.build(&stmt)
        } else {
            let mut stmt = Query::update();
            stmt.table("stewardship_plan");
            for (c, v) in values {
                stmt.value(c, v);
            }
            stmt.and_where(Expr::col("id").eq(1))
                .and_where(Expr::col("version").eq(expected));
            backend.build(&stmt)
        };
        self.stewardship_write_if(vec![sql]).await
    }

    async fn create_adjustment(&self, request: &AdjustmentRequest) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("adjustment_requests")
            .columns(REQUEST_COLUMNS)
            .values_panic(request_values(backend, request).map_err(db_error)?)
            .to_owned();
        self.stewardship_write(vec![backend.build(&stmt)]).await.map(|_| ())
    }

    async fn update_adjustment(&self, request: &AdjustmentRequest, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let mut stmt = Query::update();
        stmt.table("adjustment_requests");
        for (column, value) in REQUEST_COLUMNS
            .iter()
            .zip(request_values(backend, request).map_err(db_error)?)
            .skip(1)
        {
            stmt.value(*column, value);
        }
        stmt.and_where(by_id(backend, request.id.0))
            .and_where(Expr::col("version").eq(expected));
        self.stewardship_write_if(vec![backend.build(&stmt)]).await
    }

    async fn delete_adjustment(&self, id: AdjustmentRequestId) -> Result<bool> {
        let backend = self.backend_kind();
        let of = |table: &str| {
            backend.build(
                &Query::delete()
                    .from_table(table.to_string())
                    .and_where(Expr::col("request_id").eq(Expr::val(backend.uuid(Some(id.0)))))
                    .to_owned(),
            )
        };
        let request = backend.build(
            &Query::delete()
                .from_table("adjustment_requests")
                .and_where(by_id(backend, id.0))
                .to_owned(),
        );
        // The request's row first, so a request already gone writes nothing.
        let deleted = in_write!(self.pool(), |tx| {
            tx.exec().execute(of("adjustment_votes")).await.map_err(db_error)?;
            tx.exec().execute(of("adjustment_comments")).await.map_err(db_error)?;
            tx.exec().execute(request).await.map_err(db_error)
        })?;
        Ok(deleted == 1)
    }

    async fn adjustment(&self, id: AdjustmentRequestId) -> Result<Option<AdjustmentRequest>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("adjustment_requests")
            .columns(REQUEST_COLUMNS)
            .and_where(by_id(backend, id.0))
            .to_owned();
        Ok(self.fetch_decoded(backend.build(&stmt), decode_request).await?.pop())
    }

    async fn adjustments(&self) -> Result<Vec<AdjustmentRequest>> {
        let stmt = Query::select()
            .from("adjustment_requests")
            .columns(REQUEST_COLUMNS)
            .order_by("created_at", Order::Asc)
            .to_owned();
        self.fetch_decoded(self.backend_kind().build(&stmt), decode_request)
            .await
    }

    async fn adjustment_votes(&self, request: Option<AdjustmentRequestId>) -> Result<Vec<Vote>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.from("adjustment_votes")
            .columns(["request_id", "user_id", "voted_at"]);
        if let Some(r) = request {
            stmt.and_where(Expr::col("request_id").eq(Expr::val(backend.uuid(Some(r.0)))));
        }
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(Vote {
                request: AdjustmentRequestId(r.uuid(0)?),
                user: UserId(r.uuid(1)?),
                at: r.datetime(2)?,
            })
        })
        .await
    }

    async fn add_adjustment_vote(&self, request: AdjustmentRequestId, user: UserId, at: DateTime<Utc>) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("adjustment_votes")
            .columns(["request_id", "user_id", "voted_at"])
            .values_panic([
                Expr::val(backend.uuid(Some(request.0))),
                Expr::val(backend.uuid(Some(user.0))),
                Expr::val(backend.datetime(Some(at))),
            ])
            .on_conflict(OnConflict::columns(["request_id", "user_id"]).do_nothing().to_owned())
            .to_owned();
        Ok(self.stewardship_write(vec![backend.build(&stmt)]).await? == 1)
    }

    async fn remove_adjustment_vote(&self, request: AdjustmentRequestId, user: UserId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("adjustment_votes")
            .and_where(Expr::col("request_id").eq(Expr::val(backend.uuid(Some(request.0)))))
            .and_where(Expr::col("user_id").eq(Expr::val(backend.uuid(Some(user.0)))))
            .to_owned();
        Ok(self.stewardship_write(vec![backend.build(&stmt)]).await? == 1)
    }

    async fn add_adjustment_comment(&self, c: &AdjustmentComment) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("adjustment_comments")
            .columns(["id", "request_id", "author", "body", "created_at"])
            .values_panic([
                Expr::val(backend.uuid(Some(c.id.0))),
                Expr::val(backend.uuid(Some(c.request.0))),
                Expr::val(backend.uuid(Some(c.author.0))),
                c.body.clone().into(),
                Expr::val(backend.datetime(Some(c.created_at))),
            ])
            .to_owned();
        self.stewardship_write(vec![backend.build(&stmt)]).await.map(|_| ())
    }

    async fn adjustment_comments(&self, request: AdjustmentRequestId) -> Result<Vec<AdjustmentComment>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("adjustment_comments")
            .columns(["id", "request_id", "author", "body", "created_at"])
            .and_where(Expr::col("request_id").eq(Expr::val(backend.uuid(Some(request.0)))))
            .order_by("created_at", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(AdjustmentComment {
                id: AdjustmentCommentId(r.uuid(0)?),
                request: AdjustmentRequestId(r.uuid(1)?),
                author: UserId(r.uuid(2)?),
                body: r.string(3)?,
                created_at: r.datetime(4)?,
            })
        })
        .await
    }

    async fn create_answer(&self, answer: &Answer) -> Result<()> {
        let backend = self.backend_kind();
        let (columns, values) = answer_write(backend, answer);
        let stmt = Query::insert()
            .into_table("stewardship_answers")
            .columns(columns)
            .values_panic(values)
            .to_owned();
        let mut sql = vec![backend.build(&stmt)];
        sql.extend(answer_doc(backend, answer, true));
        self.stewardship_write(sql).await.map(|_| ())
    }

    async fn update_answer(&self, answer: &Answer, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let mut stmt = Query::update();
        stmt.table("stewardship_answers");
        let (columns, values) = answer_write(backend, answer);
        for (column, value) in columns.iter().zip(values).skip(1) {
            stmt.value(*column, value);
        }
        stmt.and_where(by_id(backend, answer.id.0))
            .and_where(Expr::col("version").eq(expected));
        let mut sql = vec![backend.build(&stmt)];
        sql.extend(answer_doc(backend, answer, true));
        self.stewardship_write_if(sql).await
    }

    async fn delete_answer(&self, id: AnswerId) -> Result<bool> {
        let backend = self.backend_kind();
        let mut sql = vec![
            backend.build(
                &Query::delete()
                    .from_table("stewardship_answers")
                    .and_where(by_id(backend, id.0))
                    .to_owned(),
            ),
        ];
        if backend == Backend::Sqlite {
            sql.push(Sql::new(
                "DELETE FROM stewardship_answer_fts WHERE answer_id = ?",
                vec![backend.uuid(Some(id.0))],
            ));
        }
        self.stewardship_write_if(sql).await
    }

    async fn answer(&self, id: AnswerId) -> Result<Option<Answer>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("stewardship_answers")
            .columns(ANSWER_COLUMNS)
            .and_where(by_id(backend, id.0))
            .to_owned();
        Ok(self.fetch_decoded(backend.build(&stmt), decode_answer).await?.pop())
    }

    async fn answers(&self) -> Result<Vec<Answer>> {
        let stmt = Query::select()
            .from("stewardship_answers")
            .columns(ANSWER_COLUMNS)
            .order_by("created_at", Order::Asc)
            .to_owned();
        self.fetch_decoded(self.backend_kind().build(&stmt), decode_answer)
            .await
    }

    async fn search_answers(
        &self,
        words: &[String],
        language: Option<&str>,
        drafts: DraftsSeen,
        limit: u32,
    ) -> Result<Vec<(Answer, f64)>> {
        // Folded as the indexed text is; letters and digits only: no query syntax reaches
        // either engine.
        let folded: Vec<String> = words.iter().map(|w| search_fold(w)).collect();
        let safe: Vec<&String> = folded
            .iter()
            .filter(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric))
            .take(32)
            .collect();
        if safe.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let p = |n: usize| match backend {
            Backend::Sqlite => format!("?{n}"),
            Backend::Postgres => format!("${n}"),
        };
        let query = match backend {
            Backend::Sqlite => safe
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" OR "),
            Backend::Postgres => safe.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" | "),
        };
        let mut values = vec![
            Sv::from(query),
            Sv::from(language.unwrap_or("").to_string()),
            i64::from(limit).into(),
        ];
        let seen = match drafts {
            DraftsSeen::All => String::new(),
            DraftsSeen::None => " AND a.published = TRUE".to_string(),
            DraftsSeen::By(user) => {
                values.push(backend.uuid(Some(user.0)));
                format!(" AND (a.published = TRUE OR a.author = {})", p(4))
            }
        };
        let columns = ANSWER_COLUMNS.map(|c| format!("a.{c}")).join(", ");
        let (q, lang, lim) = (p(1), p(2), p(3));
        // Any word matches (a question is many words; an answer holds some of them), each as a
        // prefix; the engines' ranking puts answers holding more of them first. The rank is
        // turned so that higher is better on both (FTS5's bm25 is lower for better).
        let sql = match backend {
            Backend::Sqlite => format!(
                "SELECT {columns}, -c.r AS r FROM (SELECT answer_id, bm25(stewardship_answer_fts) AS r \
                 FROM stewardship_answer_fts WHERE stewardship_answer_fts MATCH {q}) c \
                 JOIN stewardship_answers a ON a.id = c.answer_id WHERE TRUE{seen} \
                 ORDER BY CASE WHEN a.language = {lang} THEN 0 ELSE 1 END, c.r, a.id LIMIT {lim}"
            ),
            Backend::Postgres => format!(
                "SELECT {columns}, ts_rank(a.tsv, q.q)::float8 AS r FROM stewardship_answers a, \
                 (SELECT to_tsquery('simple', {q}) AS q) q WHERE a.tsv @@ q.q{seen} \
                 ORDER BY CASE WHEN a.language = {lang} THEN 0 ELSE 1 END, r DESC, a.id LIMIT {lim}"
            ),
        };
        let rank = ANSWER_COLUMNS.len();
        self.fetch_decoded(Sql::new(sql, values), |r| {
            Ok((decode_answer(r)?, r.opt_f64(rank)?.unwrap_or(0.0)))
        })
        .await
    }
}
