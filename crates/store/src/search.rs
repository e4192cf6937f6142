//! Full-text search documents: FTS5 on SQLite, tsvector + GIN on PostgreSQL. One document per
//! live record, holding its title and its searchable fields; kept in step by every write.

use crate::db::db_error;
use crate::db::{Backend, Exec, Sql, Tx, insert_rows};
use crate::sql_store::*;
use anchora_core::error::Result;
use anchora_core::meta::ObjectDef;
use anchora_core::record::Record;
use anchora_core::record::SearchStore;
use anchora_core::store::SearchHit;
use anchora_core::store::SearchScope;
use anchora_core::{RecordId, UserId};
use async_trait::async_trait;
use sea_query::Value as Sv;

/// How many matches are ranked for relevance at most (see `search`).
pub const RANK_CANDIDATES: u32 = 1_000;

#[derive(Clone)]
pub struct Doc {
    pub object: String,
    pub id: RecordId,
    pub title: String,
    pub body: String,
    /// For visibility: searches of people who see only some owners' records filter on it.
    pub owner: Option<UserId>,
}

impl Doc {
    pub fn of(object: &ObjectDef, record: &Record) -> Self {
        let body: Vec<String> = object
            .active_fields()
            .filter(|f| f.searchable && !object.title_fields.contains(&f.name))
            .filter_map(|f| record.get(&f.name).to_text())
            .map(|text| words(&text))
            .collect();
        Doc {
            object: object.name.clone(),
            id: record.id,
            title: record.title(object),
            body: body.join(" "),
            owner: record.owner,
        }
    }
}

/// Text as plain words, so an e-mail or a URL is found by its parts on both engines
/// (PostgreSQL's parser would otherwise keep "anna@example.se" as one token).
fn words(text: &str) -> String {
    let parts: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    parts.join(" ")
}

/// FTS5 merges a few segments after a write when enough have piled up (`automerge` 4): every
/// 64th document waited tens of milliseconds for it, and in a bulk load the growing index was
/// reread and rewritten batch after batch (a million-people import took 38 s instead of 33).
/// Writes leave merging alone (segments are still merged sixteen at a time should a level fill:
/// `crisismerge`); the store's upkeep merges a little at a time beside them
/// ([`MERGE_A_LITTLE`]).
pub fn merge_settings(backend: Backend) -> Vec<String> {
    match backend {
        Backend::Postgres => Vec::new(),
        Backend::Sqlite => vec!["INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 0)".to_string()],
    }
}

/// Up to 200 pages of merging (a few milliseconds), segments four at a time.
pub const MERGE_A_LITTLE: &str = "INSERT INTO search_fts(search_fts, rank) VALUES ('merge', 200)";

pub async fn insert_docs(tx: &mut Tx, backend: Backend, docs: &[Doc]) -> Result<(), sqlx::Error> {
    let first = next_doc(tx, backend).await?;
    tx.execute_overlapped(Box::new(doc_inserts(backend, docs.iter().cloned(), first)))
        .await
}

/// The number the next SQLite document gets. Read inside the write transaction, which holds the
/// database's write lock, so nobody else takes it; PostgreSQL keys documents by record.
pub async fn next_doc(tx: &mut Tx, backend: Backend) -> Result<i64, sqlx::Error> {
    match backend {
        Backend::Postgres => Ok(0),
        Backend::Sqlite => {
            let row = tx
                .exec()
                .fetch_optional(Sql::plain("SELECT coalesce(max(doc), 0) + 1 FROM search_doc"))
                .await?;
            row.map_or(Ok(1), |r| r.i64(0))
        }
    }
}

/// PostgreSQL: merge the documents waiting in the full-text index's pending list into the
/// index (an import's batches let the list grow; see `records::insert_many`).
pub(crate) const MERGE_PENDING_DOCS: &str = "SELECT gin_clean_pending_list('ix_search_doc_tsv'::regclass)";

/// A document's columns in PostgreSQL's `search_doc` (the text vector is generated there).
pub const PG_DOC_COLUMNS: [&str; 5] = ["record_id", "object", "title", "body", "owner"];

/// A document's values in [`PG_DOC_COLUMNS`] order.
pub fn pg_doc_row(d: Doc) -> [Sv; 5] {
    let backend = Backend::Postgres;
    [
        backend.uuid(Some(d.id.0)),
        d.object.into(),
        d.title.into(),
        d.body.into(),
        backend.uuid(d.owner.map(|o| o.0)),
    ]
}

/// The INSERTs of `docs`, built as they are asked for. SQLite's documents are numbered from
/// `first` here rather than by the insert, so their full-text rows need no answer from it.
pub fn doc_inserts<'a>(
    backend: Backend,
    docs: impl Iterator<Item = Doc> + Send + 'a,
    first: i64,
) -> impl Iterator<Item = Sql> + Send + 'a {
    const ROWS: usize = 5000;
    let mut docs = docs.peekable();
    let mut number = first;
    std::iter::from_fn(move || {
        docs.peek()?;
        let chunk = docs.by_ref().take(ROWS);
        let statements = match backend {
            Backend::Postgres => {
                let values = chunk.flat_map(pg_doc_row).collect();
                vec![insert_rows(backend, "search_doc", &PG_DOC_COLUMNS, values)]
            }
            Backend::Sqlite => {
                let mut docs = Vec::with_capacity(ROWS * 5);
                let mut text = Vec::with_capacity(ROWS * 3);
                for d in chunk {
                    docs.extend([
                        Sv::from(number),
                        d.object.into(),
                        backend.uuid(Some(d.id.0)),
                        d.title.clone().into(),
                        backend.uuid(d.owner.map(|o| o.0)),
                    ]);
                    text.extend([Sv::from(number), d.title.into(), d.body.into()]);
                    number += 1;
                }
                let columns = ["doc", "object", "record_id", "title", "owner"];
                vec![
                    insert_rows(backend, "search_doc", &columns, docs),
                    insert_rows(backend, "search_fts", &["rowid", "title", "body"], text),
                ]
            }
        };
        Some(statements)
    })
    .flatten()
}

/// The statements that put a few records' documents in, for [`Tx::execute_together`]: SQLite
/// numbers each document in the statement itself and hands the number to its full-text row
/// (`last_insert_rowid()`), so nothing has to be asked first.
pub fn few_doc_inserts(backend: Backend, docs: impl Iterator<Item = Doc> + Send) -> Vec<Sql> {
    match backend {
        Backend::Postgres => doc_inserts(backend, docs, 0).collect(),
        Backend::Sqlite => docs
            .flat_map(|d| {
                [
                    Sql::new(
                        "INSERT INTO search_doc (doc, object, record_id, title, owner) \
                         VALUES ((SELECT coalesce(max(doc), 0) + 1 FROM search_doc), ?, ?, ?, ?)",
                        vec![
                            d.object.into(),
                            backend.uuid(Some(d.id.0)),
                            d.title.clone().into(),
                            backend.uuid(d.owner.map(|o| o.0)),
                        ],
                    ),
                    Sql::new(
                        "INSERT INTO search_fts (rowid, title, body) VALUES (last_insert_rowid(), ?, ?)",
                        vec![d.title.into(), d.body.into()],
                    ),
                ]
            })
            .collect(),
    }
}

/// The statements that take a record's document out, for [`Tx::execute_together`].
pub fn doc_removals(backend: Backend, id: RecordId) -> Vec<Sql> {
    match backend {
        Backend::Postgres => vec![Sql::new(
            "DELETE FROM search_doc WHERE record_id = $1",
            vec![backend.uuid(Some(id.0))],
        )],
        Backend::Sqlite => vec![
            Sql::new(
                "DELETE FROM search_fts WHERE rowid IN (SELECT doc FROM search_doc WHERE record_id = ?)",
                vec![backend.uuid(Some(id.0))],
            ),
            Sql::new(
                "DELETE FROM search_doc WHERE record_id = ?",
                vec![backend.uuid(Some(id.0))],
            ),
        ],
    }
}

pub async fn remove_doc(tx: &mut Tx, backend: Backend, id: RecordId) -> Result<(), sqlx::Error> {
    tx.execute_together(doc_removals(backend, id)).await
}

pub async fn replace_doc(tx: &mut Tx, backend: Backend, doc: &Doc) -> Result<(), sqlx::Error> {
    let mut statements = doc_removals(backend, doc.id);
    statements.extend(few_doc_inserts(backend, std::iter::once(doc.clone())));
    tx.execute_together(statements).await
}

/// Search live records for all terms, each as a prefix. Terms are letters and digits only
/// (see `anchora_core::service::search_terms`), so no query syntax reaches either engine.
pub async fn search(
    exec: Exec<'_>,
    backend: Backend,
    terms: &[String],
    limit: u32,
    scope: &SearchScope,
) -> Result<Vec<SearchHit>, sqlx::Error> {
    let safe: Vec<&String> = terms
        .iter()
        .filter(|t| t.chars().all(char::is_alphanumeric) && !t.is_empty())
        .collect();
    if safe.is_empty() {
        return Ok(Vec::new());
    }
    // Ranking every match of a common surname costs more than the answer is worth: relevance is
    // computed among the newest RANK_CANDIDATES matches (FTS5 walks its index newest first
    // cheaply; PostgreSQL stops its scan early), and the best of those are returned.
    let (visible, mut values) = visibility_clause(backend, scope, 3);
    let sql = match backend {
        Backend::Sqlite => {
            let query: Vec<String> = safe.iter().map(|t| format!("\"{t}\"*")).collect();
            // With visibility, candidates are the newest matches the caller may see.
            let candidates = if scope.owners_by_object.is_empty() {
                format!(
                    "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rowid DESC LIMIT {RANK_CANDIDATES}"
                )
            } else {
                format!(
                    "SELECT f.rowid, f.rank FROM search_fts f JOIN search_doc d ON d.doc = f.rowid \
                     WHERE search_fts MATCH ?1 AND {visible} ORDER BY f.rowid DESC LIMIT {RANK_CANDIDATES}"
                )
            };
            let mut all = vec![Sv::from(query.join(" AND ")), i64::from(limit).into()];
            all.append(&mut values);
            Sql::new(
                format!(
                    "SELECT d.object, d.record_id, d.title, c.rank FROM ({candidates}) c \
                     JOIN search_doc d ON d.doc = c.rowid ORDER BY c.rank, d.doc DESC LIMIT ?2"
                ),
                all,
            )
        }
        Backend::Postgres => {
            let query: Vec<String> = safe.iter().map(|t| format!("{t}:*")).collect();
            let mut all = vec![Sv::from(query.join(" & ")), i64::from(limit).into()];
            all.append(&mut values);
            Sql::new(
                format!(
                    "WITH q AS (SELECT to_tsquery('simple', $1) AS q), \
                     c AS (SELECT d.object, d.record_id, d.title, d.tsv FROM search_doc d, q WHERE d.tsv @@ q.q AND {visible} LIMIT {RANK_CANDIDATES}) \
                     SELECT c.object, c.record_id, c.title, ts_rank(c.tsv, q.q)::float8 AS rank FROM c, q \
                     ORDER BY rank DESC, c.record_id DESC LIMIT $2"
                ),
                all,
            )
        }
    };
    exec.fetch_all(sql)
        .await?
        .iter()
        .map(|r| {
            Ok(SearchHit {
                object: r.string(0)?,
                id: RecordId(r.uuid(1)?),
                title: r.string(2)?,
                // FTS5 ranks by bm25, lower is better; PostgreSQL by ts_rank, higher is better.
                rank: match backend {
                    Backend::Sqlite => -r.opt_f64(3)?.unwrap_or(0.0),
                    Backend::Postgres => r.opt_f64(3)?.unwrap_or(0.0),
                },
            })
        })
        .collect()
}

/// `d.object`/`d.owner` conditions for a search scope, with numbered parameters from `first`.
fn visibility_clause(backend: Backend, scope: &SearchScope, first: usize) -> (String, Vec<Sv>) {
    if scope.owners_by_object.is_empty() {
        return ("TRUE".into(), Vec::new());
    }
    let mut n = first;
    let mut values = Vec::new();
    let mut next = |v: Sv| {
        values.push(v);
        let p = backend.param(n);
        n += 1;
        p
    };
    let mut restricted = Vec::new();
    let mut clauses = Vec::new();
    for (object, owners) in &scope.owners_by_object {
        let o = next(Sv::from(object.clone()));
        restricted.push(o.clone());
        let owners: Vec<String> = owners.iter().map(|u| next(backend.uuid(Some(u.0)))).collect();
        if owners.is_empty() {
            continue;
        }
        clauses.push(format!("(d.object = {o} AND d.owner IN ({}))", owners.join(", ")));
    }
    clauses.push(format!("d.object NOT IN ({})", restricted.join(", ")));
    (format!("({})", clauses.join(" OR ")), values)
}

#[async_trait]
impl SearchStore for SqlStore {
    async fn search(&self, terms: &[String], limit: u32) -> Result<Vec<SearchHit>> {
        search(
            self.pool.exec(),
            self.backend_kind(),
            terms,
            limit,
            &SearchScope::default(),
        )
        .await
        .map_err(db_error)
    }

    async fn search_scoped(&self, terms: &[String], limit: u32, scope: &SearchScope) -> Result<Vec<SearchHit>> {
        search(self.pool.exec(), self.backend_kind(), terms, limit, scope)
            .await
            .map_err(db_error)
    }
}
