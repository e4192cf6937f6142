//! Records: reads, writes with optimistic versions, the change log, activity links, and the
//! search documents that follow every write — all in the write's own transaction.

use crate::codec::{decode, encode};
use crate::db::db_error;
use crate::db::in_write;
use crate::db::{self, Backend, Exec, Row, Tx};
use crate::ddl::{compare_column, fold_column};
use crate::search;
use crate::sql_store::*;
use anchora_core::audit::ChangeQuery;
use anchora_core::error::{Error, ErrorCode, Result};
use anchora_core::filter::{ColumnRef, Compare, Condition, Sight};
use anchora_core::meta::{FieldType, ObjectDef, SYSTEM_COLUMNS, table_name};
use anchora_core::query::{Cursor, ListQuery, Liveness, SortKey};
use anchora_core::record::RecordStore;
use anchora_core::record::{Change, ChangeOp, Link, Record, RecordInput, diff, snapshot};
use anchora_core::store::WriteCtx;
use anchora_core::store::WriteOutcome;
use anchora_core::text::{fold_case, prefix_end};
use anchora_core::value::Value;
use anchora_core::{FieldError, RecordId, UserId};
use async_trait::async_trait;
use sea_query::{Cond, Expr, ExprTrait, LikeExpr, LockType, NullOrdering, Order, Query, SelectStatement};
use serde_json::Value as Json;

/// The columns a record is read from: the system columns, then every field's own.
pub fn columns(object: &ObjectDef) -> Vec<String> {
    SYSTEM_COLUMNS
        .iter()
        .map(|s| (*s).to_string())
        .chain(object.fields.iter().map(|f| f.name.clone()))
        .collect()
}

/// The columns a record is written to: those it is read from, then the folded copies of its
/// text fields.
pub fn insert_columns(object: &ObjectDef) -> Vec<String> {
    let mut out = columns(object);
    out.extend(folding_fields(object).map(|f| fold_column(&f.name)));
    out
}

fn folding_fields(object: &ObjectDef) -> impl Iterator<Item = &anchora_core::meta::FieldDef> {
    object.fields.iter().filter(|f| f.field_type.folds())
}

/// A text value's folded copy, as its column holds it.
pub fn folded(value: &Value) -> sea_query::Value {
    match value {
        Value::Text(t) => sea_query::Value::String(Some(fold_case(t))),
        _ => sea_query::Value::String(None),
    }
}

pub fn decode_record(object: &ObjectDef, row: &Row) -> Result<Record, sqlx::Error> {
    let mut values = std::collections::BTreeMap::new();
    for (i, f) in object.fields.iter().enumerate() {
        values.insert(f.name.clone(), decode(row, SYSTEM_COLUMNS.len() + i, f.field_type)?);
    }
    Ok(Record {
        object: object.name.clone(),
        id: RecordId(row.uuid(0)?),
        version: row.i64(1)?,
        created_at: row.datetime(2)?,
        created_by: row.opt_uuid(3)?.map(UserId),
        updated_at: row.datetime(4)?,
        updated_by: row.opt_uuid(5)?.map(UserId),
        owner: row.opt_uuid(6)?.map(UserId),
        deleted_at: row.opt_datetime(7)?,
        values,
        links: Vec::new(),
        withheld: Default::default(),
    })
}

/// Build a record SELECT, tagged with the table's shape. PostgreSQL caches a prepared plan per
/// SQL text and refuses it once a column's type changes (a field purged and added again under
/// its old name with another type); the tag makes such a SELECT a new text.
fn build_select(backend: Backend, object: &ObjectDef, stmt: &SelectStatement) -> crate::db::Sql {
    let mut sql = backend.build(stmt);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &object.fields {
        for b in f.name.bytes().chain(f.field_type.as_str().bytes()).chain([0u8]) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    sql.text.push_str(&format!(" /* shape {hash:016x} */"));
    sql
}

fn select(object: &ObjectDef) -> SelectStatement {
    Query::select().columns(columns(object)).from(object.table()).to_owned()
}

pub async fn get(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    id: RecordId,
    lock: bool,
) -> Result<Option<Record>, sqlx::Error> {
    let mut stmt = select(object);
    stmt.and_where(Expr::col("id").eq(backend.uuid(Some(id.0))));
    if lock && backend == Backend::Postgres {
        stmt.lock(LockType::Update);
    }
    let row = exec.fetch_optional(build_select(backend, object, &stmt)).await?;
    row.map(|r| decode_record(object, &r)).transpose()
}

/// A record SELECT with a condition.
pub fn select_where(object: &ObjectDef, condition: Expr) -> SelectStatement {
    let mut stmt = select(object);
    stmt.and_where(condition);
    stmt
}

/// The records a SELECT built by [`select_where`] finds.
pub async fn fetch(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    stmt: &SelectStatement,
) -> Result<Vec<Record>, sqlx::Error> {
    let rows = exec.fetch_all(build_select(backend, object, stmt)).await?;
    rows.iter().map(|r| decode_record(object, r)).collect()
}

/// A value as the column a filter, a sort or a unique index compares holds it.
pub fn compare_value(backend: Backend, column: &ColumnRef, value: &Value) -> sea_query::Value {
    column_value(backend, column, value)
}

/// A value as the column a filter or sort compares holds it: folded for text that folds.
fn column_value(backend: Backend, column: &ColumnRef, value: &Value) -> sea_query::Value {
    if column.field_type.folds() {
        folded(value)
    } else {
        encode(backend, column.field_type, value)
    }
}

/// The column a filter or sort on this field reads.
fn compared(column: &ColumnRef) -> String {
    compare_column(&column.column, column.field_type)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub fn condition(backend: Backend, c: &Condition) -> Cond {
    match c {
        Condition::And(items) => items.iter().fold(Cond::all(), |acc, i| acc.add(condition(backend, i))),
        Condition::Or(items) => items.iter().fold(Cond::any(), |acc, i| acc.add(condition(backend, i))),
        Condition::Not(inner) => condition(backend, inner).not(),
        Condition::Compare { column, cmp, value } => {
            let name = compared(column);
            let c = Expr::col(name.clone());
            let v = column_value(backend, column, value);
            let e = match cmp {
                Compare::Eq => c.eq(v),
                // "Not Malmö" includes people with no city, as a person reading the filter expects.
                Compare::Ne => {
                    return Cond::any()
                        .add(Expr::col(name.clone()).ne(v))
                        .add(Expr::col(name).is_null());
                }
                Compare::Lt => c.lt(v),
                Compare::Lte => c.lte(v),
                Compare::Gt => c.gt(v),
                Compare::Gte => c.gte(v),
            };
            Cond::all().add(e)
        }
        Condition::In { column, values } => {
            let vals: Vec<sea_query::Value> = values.iter().map(|v| column_value(backend, column, v)).collect();
            Cond::all().add(Expr::col(compared(column)).is_in(vals))
        }
        Condition::Like {
            column,
            needle,
            prefix_only,
        } => like(column, needle, *prefix_only),
        Condition::HasChoice { column, choice } => {
            let encoded = serde_json::to_string(choice).unwrap_or_default();
            let pattern = format!("%{}%", escape_like(&encoded));
            Cond::all().add(Expr::col(column.column.clone()).like(LikeExpr::new(pattern).escape('\\')))
        }
        Condition::IsEmpty { column, empty } => {
            let col = Expr::col(column.column.clone());
            Cond::all().add(if *empty { col.is_null() } else { col.is_not_null() })
        }
        Condition::LinkedTo { object, id } => {
            let links = Query::select()
                .column("activity_id")
                .from("activity_link")
                .and_where(Expr::col("object").eq(object.clone()))
                .and_where(Expr::col("record_id").eq(backend.uuid(Some(id.0))))
                .to_owned();
            Cond::all().add(Expr::col("id").in_subquery(links))
        }
        // One JSON list bound as one value, however many ids: no limit on bound parameters.
        Condition::AmongIds(ids) => {
            let list =
                serde_json::Value::Array(ids.iter().map(|id| serde_json::Value::String(id.to_string())).collect())
                    .to_string();
            let sql = match backend {
                Backend::Sqlite => "\"id\" IN (SELECT value FROM json_each(?))",
                Backend::Postgres => "\"id\" IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS uuid))",
            };
            Cond::all().add(Expr::cust_with_values(sql, [list]))
        }
        // Worked out into the ids before it gets here; one that was not matches nothing.
        Condition::InSelection(_) => Cond::all().add(Expr::cust("1 = 0")),
        // `company IN (SELECT id FROM obj_company WHERE <condition> AND deleted_at IS NULL AND
        // owner IN (…))`: only live related records the reader may see; an empty relation is
        // false, not unknown, so a `not` around it holds for records without one.
        Condition::Related {
            column,
            object,
            condition: inner,
            owners,
        } => {
            let mut targets = Query::select();
            targets
                .column("id")
                .from(table_name(object))
                .and_where(Expr::col("deleted_at").is_null());
            match owners {
                Sight::All => {}
                Sight::Owners(owners) => {
                    targets.and_where(owner_condition(backend, owners, OwnerPlan::Index));
                }
                // Never worked out for a reader: no related record is looked at.
                Sight::Unknown => {
                    targets.and_where(Expr::cust("1 = 0"));
                }
            }
            targets.cond_where(condition(backend, inner));
            Cond::all()
                .add(Expr::col(column.column.clone()).is_not_null())
                .add(Expr::col(column.column.clone()).in_subquery(targets))
        }
    }
}

/// Case-insensitive text search on the folded copy, the same on both databases. A prefix is a
/// range of the folded copy, which its index serves; a substring is a LIKE over it (phone
/// numbers, which do not fold, hold no letters to fold).
fn like(column: &ColumnRef, needle: &str, prefix_only: bool) -> Cond {
    let name = compared(column);
    let folds = column.field_type.folds();
    let needle = if folds {
        fold_case(needle)
    } else {
        needle.trim().to_string()
    };
    // Phone numbers (which do not fold) take a LIKE for a prefix too: a range would follow
    // PostgreSQL's collation, which passes over punctuation.
    if prefix_only && folds {
        let mut range = Cond::all().add(Expr::col(name.clone()).gte(needle.clone()));
        if let Some(end) = prefix_end(&needle) {
            range = range.add(Expr::col(name).lt(end));
        }
        return range;
    }
    let needle = escape_like(&needle);
    let pattern = if prefix_only {
        format!("{needle}%")
    } else {
        format!("%{needle}%")
    };
    Cond::all().add(Expr::col(name).like(LikeExpr::new(pattern).escape('\\')))
}

/// Rows strictly after the cursor in the list's order. NULL sorts first ascending (last
/// descending) on both databases; the id breaks ties in the direction of the last key.
fn after_cursor(backend: Backend, keys: &[SortKey], cursor: &Cursor) -> Cond {
    let id_desc = keys.last().is_some_and(|k| k.descending);
    let id_val = backend.uuid(Some(cursor.id.0));
    let all_asc_known = keys.iter().all(|k| !k.descending) && cursor.values.iter().all(|v| !v.is_null());
    if all_asc_known {
        // Row values let both databases seek the index directly.
        let mut cols: Vec<Expr> = keys.iter().map(|k| Expr::col(compared(&k.column))).collect();
        cols.push(Expr::col("id"));
        let mut vals: Vec<Expr> = keys
            .iter()
            .zip(&cursor.values)
            .map(|(k, v)| Expr::val(column_value(backend, &k.column, v)))
            .collect();
        vals.push(Expr::val(id_val));
        return Cond::all().add(Expr::tuple(cols).gt(Expr::tuple(vals)));
    }
    let mut any = Cond::any();
    for i in 0..=keys.len() {
        let mut all = Cond::all();
        for (k, v) in keys.iter().zip(&cursor.values).take(i) {
            let col = Expr::col(compared(&k.column));
            all = all.add(if v.is_null() {
                col.is_null()
            } else {
                col.eq(column_value(backend, &k.column, v))
            });
        }
        match keys.get(i).zip(cursor.values.get(i)) {
            Some((k, v)) => {
                let col = || Expr::col(compared(&k.column));
                let after = match (k.descending, v.is_null()) {
                    (false, false) => Cond::all().add(col().gt(column_value(backend, &k.column, v))),
                    (false, true) => Cond::all().add(col().is_not_null()),
                    (true, false) => Cond::any()
                        .add(col().lt(column_value(backend, &k.column, v)))
                        .add(col().is_null()),
                    (true, true) => continue,
                };
                all = all.add(after);
            }
            None => {
                let id = Expr::col("id");
                all = all.add(if id_desc {
                    id.lt(id_val.clone())
                } else {
                    id.gt(id_val.clone())
                });
            }
        }
        any = any.add(all);
    }
    any
}

/// The list query as plain SQL with its values inlined — for benchmarks that run the same query
/// in a database's own shell. Never executed by the store.
pub fn list_sql_inline(backend: Backend, object: &ObjectDef, q: &ListQuery) -> String {
    let stmt = list_statement(backend, object, q, OwnerPlan::Scan);
    match backend {
        Backend::Sqlite => stmt.to_string(sea_query::SqliteQueryBuilder),
        Backend::Postgres => stmt.to_string(sea_query::PostgresQueryBuilder),
    }
}

/// How a visibility restriction (`owner IN (…)`) should be planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerPlan {
    /// The owners have few records: find them through the owner index, then sort.
    Index,
    /// The owners have many: walk the sort (or filter) index and check the owner of each row,
    /// which fills a page after a few hundred rows. SQLite's planner would otherwise pick the
    /// owner index and sort a hundred thousand rows for a page of fifty (measured: 200 ms
    /// against 2 ms), so the owner term is kept out of index selection (`+owner`).
    Scan,
}

/// Below this many records, the owner index is the better way in.
pub const FEW_OWNED: i64 = 5_000;

/// Whether the owners have fewer than `FEW_OWNED` records of the object (a count bounded by
/// the limit, read from the owner index alone).
pub async fn owner_plan(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    owners: &[UserId],
) -> Result<OwnerPlan, sqlx::Error> {
    if backend == Backend::Postgres {
        // PostgreSQL's planner weighs the IN list against its statistics itself.
        return Ok(OwnerPlan::Index);
    }
    let inner = Query::select()
        .expr(Expr::val(1))
        .from(object.table())
        .and_where(Expr::col("owner").is_in(owners.iter().map(|u| backend.uuid(Some(u.0)))))
        .limit(FEW_OWNED as u64)
        .to_owned();
    let stmt = Query::select()
        .expr(Expr::col(sea_query::Asterisk).count())
        .from_subquery(inner, "owned")
        .to_owned();
    let n = match exec.fetch_optional(backend.build(&stmt)).await? {
        Some(r) => r.i64(0)?,
        None => 0,
    };
    Ok(if n < FEW_OWNED {
        OwnerPlan::Index
    } else {
        OwnerPlan::Scan
    })
}

pub async fn list(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    q: &ListQuery,
    plan: OwnerPlan,
) -> Result<Vec<Record>, sqlx::Error> {
    let stmt = list_statement(backend, object, q, plan);
    let rows = exec.fetch_all(build_select(backend, object, &stmt)).await?;
    rows.iter().map(|r| decode_record(object, r)).collect()
}

/// How many records a list query finds, counted no further than `cap + 1`: the filter and
/// visibility of the list without its order, cursor or page size.
pub async fn count_capped(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    q: &ListQuery,
    plan: OwnerPlan,
    cap: u64,
) -> Result<u64, sqlx::Error> {
    let unordered = ListQuery {
        sort: Vec::new(),
        after: None,
        ..q.clone()
    };
    let mut inner = list_statement(backend, object, &unordered, plan);
    inner.clear_order_by();
    inner.clear_selects();
    inner.expr(Expr::val(1));
    inner.limit(cap.saturating_add(1));
    let stmt = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(inner, "listed")
        .to_owned();
    let n = match exec.fetch_optional(build_select(backend, object, &stmt)).await? {
        Some(r) => r.i64(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

pub(crate) fn owner_condition(backend: Backend, owners: &[UserId], plan: OwnerPlan) -> Expr {
    if owners.is_empty() {
        return Expr::cust("1 = 0");
    }
    let values: Vec<sea_query::Value> = owners.iter().map(|u| backend.uuid(Some(u.0))).collect();
    match (backend, plan) {
        (Backend::Sqlite, OwnerPlan::Scan) => {
            let marks = vec!["?"; values.len()].join(", ");
            Expr::cust_with_values(format!("+\"owner\" IN ({marks})"), values)
        }
        _ => Expr::col("owner").is_in(values),
    }
}

fn list_statement(backend: Backend, object: &ObjectDef, q: &ListQuery, plan: OwnerPlan) -> SelectStatement {
    let mut stmt = select(object);
    match q.liveness {
        Liveness::Live => stmt.and_where(Expr::col("deleted_at").is_null()),
        Liveness::Trash => stmt.and_where(Expr::col("deleted_at").is_not_null()),
        Liveness::Any => &mut stmt,
    };
    if let Some(owners) = &q.owners {
        stmt.and_where(owner_condition(backend, owners, plan));
    }
    if let Some(filter) = &q.filter {
        stmt.cond_where(condition(backend, filter));
    }
    if let Some(cursor) = &q.after {
        stmt.cond_where(after_cursor(backend, &q.sort, cursor));
    }
    for k in &q.sort {
        let (order, nulls) = if k.descending {
            (Order::Desc, NullOrdering::Last)
        } else {
            (Order::Asc, NullOrdering::First)
        };
        stmt.order_by_with_nulls(compared(&k.column), order, nulls);
    }
    let id_desc = q.sort.last().is_some_and(|k| k.descending);
    stmt.order_by("id", if id_desc { Order::Desc } else { Order::Asc });
    stmt.limit(u64::from(q.limit) + 1);
    stmt
}

pub async fn load_links(exec: Exec<'_>, backend: Backend, records: &mut [Record]) -> Result<(), sqlx::Error> {
    if records.is_empty() {
        return Ok(());
    }
    let ids: Vec<sea_query::Value> = records.iter().map(|r| backend.uuid(Some(r.id.0))).collect();
    let stmt = Query::select()
        .columns(["activity_id", "object", "record_id"])
        .from("activity_link")
        .and_where(Expr::col("activity_id").is_in(ids))
        .order_by("object", Order::Asc)
        .order_by("record_id", Order::Asc)
        .to_owned();
    for row in exec.fetch_all(backend.build(&stmt)).await? {
        let activity = RecordId(row.uuid(0)?);
        let link = Link {
            object: row.string(1)?,
            id: RecordId(row.uuid(2)?),
        };
        if let Some(r) = records.iter_mut().find(|r| r.id == activity) {
            r.links.push(link);
        }
    }
    Ok(())
}

pub async fn replace_links(
    tx: &mut Tx,
    backend: Backend,
    activity: RecordId,
    links: &[Link],
) -> Result<(), sqlx::Error> {
    let del = Query::delete()
        .from_table("activity_link")
        .and_where(Expr::col("activity_id").eq(backend.uuid(Some(activity.0))))
        .to_owned();
    tx.exec().execute(backend.build(&del)).await?;
    if links.is_empty() {
        return Ok(());
    }
    let mut ins = Query::insert()
        .into_table("activity_link")
        .columns(["activity_id", "object", "record_id"])
        .to_owned();
    for l in links {
        ins.values_panic([
            Expr::val(backend.uuid(Some(activity.0))),
            l.object.clone().into(),
            Expr::val(backend.uuid(Some(l.id.0))),
        ]);
    }
    tx.exec().execute(backend.build(&ins)).await.map(|_| ())
}

/// Every relation, user and link named by a write must exist (relations: and be live).
pub async fn check_references(
    tx: &mut Tx,
    backend: Backend,
    object: &ObjectDef,
    input: &RecordInput,
) -> Result<Vec<FieldError>, sqlx::Error> {
    let mut errors = Vec::new();
    for (field, value, target) in input.references(object) {
        let found = match (value, target) {
            (Value::Relation(id), Some(target)) => record_exists(tx, backend, target, *id).await?,
            (Value::User(id), _) => user_exists(tx, backend, *id).await?,
            _ => true,
        };
        if !found {
            let what = target.map_or("user".to_string(), str::to_string);
            errors.push(FieldError::new(field, format!("no {what} with this id")));
        }
    }
    if let Some(Some(owner)) = input.owner
        && !user_exists(tx, backend, owner).await?
    {
        errors.push(FieldError::new("owner", "no user with this id"));
    }
    if let Some(links) = &input.links {
        for (i, l) in links.iter().enumerate() {
            if !record_exists(tx, backend, &l.object, l.id).await? {
                errors.push(FieldError::new(
                    format!("links[{i}]"),
                    format!("no {} with this id", l.object),
                ));
            }
        }
    }
    Ok(errors)
}

async fn record_exists(tx: &mut Tx, backend: Backend, object: &str, id: RecordId) -> Result<bool, sqlx::Error> {
    let stmt = Query::select()
        .expr(Expr::val(1))
        .from(table_name(object))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("deleted_at").is_null())
        .to_owned();
    Ok(tx.exec().fetch_optional(backend.build(&stmt)).await?.is_some())
}

async fn user_exists(tx: &mut Tx, backend: Backend, id: UserId) -> Result<bool, sqlx::Error> {
    let stmt = Query::select()
        .expr(Expr::val(1))
        .from("users")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    Ok(tx.exec().fetch_optional(backend.build(&stmt)).await?.is_some())
}

fn json_text(v: &Json) -> Option<String> {
    (!v.is_null()).then(|| v.to_string())
}

/// The change log's columns after its sequence number, in the order rows are written and read.
const CHANGE_COLUMNS: [&str; 8] = [
    "at",
    "actor",
    "object",
    "record_id",
    "op",
    "field",
    "old_value",
    "new_value",
];

pub struct ChangeRow<'a> {
    pub object: &'a str,
    pub record_id: RecordId,
    pub op: ChangeOp,
    pub field: Option<&'a str>,
    pub old: Json,
    pub new: Json,
}

pub async fn log_changes(
    tx: &mut Tx,
    backend: Backend,
    ctx: WriteCtx,
    rows: &[ChangeRow<'_>],
) -> Result<(), sqlx::Error> {
    tx.execute_overlapped(Box::new(change_log_inserts(
        backend,
        ctx,
        rows.iter().map(|r| change_values(backend, r)),
    )))
    .await
}

/// A change-log row's values after the time and the actor.
fn change_values(backend: Backend, r: &ChangeRow<'_>) -> [sea_query::Value; 6] {
    [
        Some(r.object.to_string()).into(),
        backend.uuid(Some(r.record_id.0)),
        r.op.as_str().to_string().into(),
        r.field.map(str::to_string).into(),
        json_text(&r.old).into(),
        json_text(&r.new).into(),
    ]
}

/// A change-log row's values in [`CHANGE_COLUMNS`] order.
fn change_log_row(backend: Backend, ctx: WriteCtx, row: [sea_query::Value; 6]) -> [sea_query::Value; 8] {
    let [object, record, op, field, old, new] = row;
    [
        backend.datetime(Some(ctx.now)),
        backend.uuid(Some(ctx.actor.0)),
        object,
        record,
        op,
        field,
        old,
        new,
    ]
}

/// The INSERTs of change-log rows, built as they are asked for.
fn change_log_inserts<'a>(
    backend: Backend,
    ctx: WriteCtx,
    rows: impl Iterator<Item = [sea_query::Value; 6]> + Send + 'a,
) -> impl Iterator<Item = db::Sql> + Send + 'a {
    // 8 parameters a row; stay well below SQLite's 32766.
    const ROWS: usize = 2000;
    let mut rows = rows.peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        let mut values = Vec::with_capacity(ROWS * CHANGE_COLUMNS.len());
        for row in rows.by_ref().take(ROWS) {
            values.extend(change_log_row(backend, ctx, row));
        }
        Some(db::insert_rows(backend, "change_log", &CHANGE_COLUMNS, values))
    })
}

/// A record's values in `columns` order, appended to `out`.
fn push_insert_values(backend: Backend, object: &ObjectDef, r: &Record, out: &mut Vec<sea_query::Value>) {
    out.extend([
        backend.uuid(Some(r.id.0)),
        r.version.into(),
        backend.datetime(Some(r.created_at)),
        backend.uuid(r.created_by.map(|u| u.0)),
        backend.datetime(Some(r.updated_at)),
        backend.uuid(r.updated_by.map(|u| u.0)),
        backend.uuid(r.owner.map(|u| u.0)),
        backend.datetime(r.deleted_at),
    ]);
    out.extend(
        object
            .fields
            .iter()
            .map(|f| encode(backend, f.field_type, r.get(&f.name))),
    );
    out.extend(folding_fields(object).map(|f| folded(r.get(&f.name))));
}

/// Up to this many records are written with one call ([`Tx::execute_together`]).
const FEW: usize = 8;
/// PostgreSQL takes batches from this size on with COPY. Below it, statements: each COPY is
/// a round of its own protocol (with a wait for the server's acknowledgement), which for a
/// mailing's batch of 32 e-mail activities cost 135 ms against a few for the INSERTs.
const COPY_FROM: usize = 500;

/// Insert records with their change-log rows and search documents, inside `tx`.
pub async fn insert_many(
    tx: &mut Tx,
    backend: Backend,
    object: &ObjectDef,
    records: &[Record],
    ctx: WriteCtx,
) -> Result<(), sqlx::Error> {
    let cols = insert_columns(object);
    let per_chunk = (30_000 / cols.len()).max(1);
    let table = object.table();
    let rows = records.chunks(per_chunk).map(|chunk| {
        let mut values = Vec::with_capacity(chunk.len() * cols.len());
        for r in chunk {
            push_insert_values(backend, object, r, &mut values);
        }
        db::insert_rows(backend, &table, &cols, values)
    });
    let changes = records.iter().map(|r| {
        change_values(
            backend,
            &ChangeRow {
                object: &object.name,
                record_id: r.id,
                op: ChangeOp::Create,
                field: None,
                old: Json::Null,
                new: snapshot(&r.values),
            },
        )
    });
    let docs = records
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .map(|r| search::Doc::of(object, r));
    if records.len() <= FEW || (backend == Backend::Postgres && records.len() < COPY_FROM) {
        // A record or a few (the API, the app): everything in one call.
        let mut statements: Vec<db::Sql> = rows.chain(change_log_inserts(backend, ctx, changes)).collect();
        statements.extend(search::few_doc_inserts(backend, docs));
        tx.execute_together(statements).await?;
    } else if backend == Backend::Postgres {
        // Many records (an import's batch): COPY instead of multi-row INSERTs. A million
        // people into an empty workspace: see bench/README.md, run 2026-12-03 (4).
        tx.copy_in(
            &table,
            &cols,
            records.iter().map(|r| {
                let mut values = Vec::with_capacity(cols.len());
                push_insert_values(backend, object, r, &mut values);
                values
            }),
        )
        .await?;
        tx.copy_in(
            "change_log",
            &CHANGE_COLUMNS,
            changes.map(|row| change_log_row(backend, ctx, row)),
        )
        .await?;
        tx.copy_in("search_doc", &search::PG_DOC_COLUMNS, docs.map(search::pg_doc_row))
            .await?;
    } else {
        let first_doc = search::next_doc(tx, backend).await?;
        let statements = rows
            .chain(change_log_inserts(backend, ctx, changes))
            .chain(search::doc_inserts(backend, docs, first_doc));
        tx.execute_overlapped(Box::new(statements)).await?;
    }
    if object.is_activity() {
        for r in records.iter().filter(|r| !r.links.is_empty()) {
            replace_links(tx, backend, r.id, &r.links).await?;
        }
    }
    Ok(())
}

/// What an update did.
pub enum Updated {
    Done(Record),
    Stale(Record),
    Missing,
    InTrash,
    /// A unique field's new value is another live record's already.
    Taken(Taken),
}

/// A unique field's value that another live record holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub field: String,
    pub value: Value,
    pub holder: RecordId,
}

/// The first value among `values` that a unique field of the object finds on another live
/// record (`except` is the record being written), read in one query through the unique
/// indexes. Only unique fields named in `values` are looked up.
pub async fn taken(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    values: &std::collections::BTreeMap<String, Value>,
    except: Option<RecordId>,
) -> Result<Option<Taken>, sqlx::Error> {
    let wanted: Vec<(&anchora_core::meta::FieldDef, &Value)> = object
        .active_fields()
        .filter(|f| f.unique)
        .filter_map(|f| Some((f, values.get(&f.name).filter(|v| !v.is_null())?)))
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut stmt = Query::select();
    stmt.column("id").from(object.table());
    let mut any = Cond::any();
    for (field, value) in &wanted {
        let column = ColumnRef::of(field);
        stmt.column(compared(&column));
        any = any.add(Expr::col(compared(&column)).eq(column_value(backend, &column, value)));
    }
    stmt.cond_where(any)
        .and_where(Expr::col("deleted_at").is_null())
        .limit(1);
    if let Some(id) = except {
        stmt.and_where(Expr::col("id").ne(backend.uuid(Some(id.0))));
    }
    let Some(row) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok(None);
    };
    let holder = RecordId(row.uuid(0)?);
    for (i, (field, value)) in wanted.iter().enumerate() {
        let held = if field.field_type.folds() {
            row.opt_string(i + 1)?.map_or(Value::Null, Value::Text)
        } else {
            crate::codec::decode(&row, i + 1, field.field_type)?
        };
        if anchora_core::value::unique_key(field.field_type, &held)
            == anchora_core::value::unique_key(field.field_type, value)
        {
            return Ok(Some(Taken {
                field: field.name.clone(),
                value: (*value).clone(),
                holder,
            }));
        }
    }
    Ok(None)
}

pub async fn update(
    tx: &mut Tx,
    backend: Backend,
    object: &ObjectDef,
    id: RecordId,
    expected_version: i64,
    input: &RecordInput,
    ctx: WriteCtx,
) -> Result<Result<Updated, Vec<FieldError>>, sqlx::Error> {
    let Some(mut current) = get(tx.exec(), backend, object, id, true).await? else {
        return Ok(Ok(Updated::Missing));
    };
    if object.is_activity() {
        load_links(tx.exec(), backend, std::slice::from_mut(&mut current)).await?;
    }
    if current.version != expected_version {
        return Ok(Ok(Updated::Stale(current)));
    }
    if current.deleted_at.is_some() {
        return Ok(Ok(Updated::InTrash));
    }
    let changes = diff(&current, input);
    let links_change = input.links.as_ref().filter(|l| **l != current.links);
    if changes.is_empty() && links_change.is_none() {
        return Ok(Ok(Updated::Done(current)));
    }
    let errors = check_references(tx, backend, object, input).await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let changed: std::collections::BTreeMap<String, Value> =
        changes.iter().map(|(n, _, v)| (n.clone(), v.clone())).collect();
    if let Some(t) = taken(tx.exec(), backend, object, &changed, Some(id)).await? {
        return Ok(Ok(Updated::Taken(t)));
    }
    let mut stmt = Query::update().table(object.table()).to_owned();
    for (name, _, new) in &changes {
        let t = object.any_field(name).map_or(FieldType::User, |f| f.field_type);
        stmt.value(name.clone(), Expr::val(encode(backend, t, new)));
        if t.folds() {
            stmt.value(fold_column(name), Expr::val(folded(new)));
        }
    }
    stmt.value("version", Expr::col("version").add(1))
        .value("updated_at", Expr::val(backend.datetime(Some(ctx.now))))
        .value("updated_by", Expr::val(backend.uuid(Some(ctx.actor.0))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("version").eq(expected_version));
    if tx.exec().execute(backend.build(&stmt)).await? != 1 {
        // Another writer got in between the read and the write (PostgreSQL, read committed).
        return match get(tx.exec(), backend, object, id, false).await? {
            Some(now) => Ok(Ok(Updated::Stale(now))),
            None => Ok(Ok(Updated::Missing)),
        };
    }
    let mut rows: Vec<ChangeRow<'_>> = changes
        .iter()
        .map(|(name, old, new)| ChangeRow {
            object: &object.name,
            record_id: id,
            op: ChangeOp::Update,
            field: Some(name.as_str()),
            old: old.to_json(),
            new: new.to_json(),
        })
        .collect();
    let mut next = current.clone();
    if let Some(links) = links_change {
        replace_links(tx, backend, id, links).await?;
        let as_json = |ls: &[Link]| {
            Json::Array(
                ls.iter()
                    .map(|l| serde_json::json!({"object": l.object, "id": l.id.to_string()}))
                    .collect(),
            )
        };
        rows.push(ChangeRow {
            object: &object.name,
            record_id: id,
            op: ChangeOp::Update,
            field: Some("links"),
            old: as_json(&current.links),
            new: as_json(links),
        });
        next.links = links.clone();
    }
    let mut statements: Vec<db::Sql> =
        change_log_inserts(backend, ctx, rows.iter().map(|r| change_values(backend, r))).collect();
    for (name, _, new) in changes {
        if name == "owner" {
            next.owner = match new {
                Value::User(u) => Some(u),
                _ => None,
            };
        } else {
            next.values.insert(name, new);
        }
    }
    next.version += 1;
    next.updated_at = ctx.now;
    next.updated_by = Some(ctx.actor);
    let text_changed = object
        .fields
        .iter()
        .filter(|f| f.searchable || object.title_fields.contains(&f.name))
        .any(|f| current.get(&f.name) != next.get(&f.name));
    // The owner rides in the search document too (visibility), so a new owner rewrites it.
    if text_changed || current.owner != next.owner {
        statements.extend(search::doc_removals(backend, id));
        statements.extend(search::few_doc_inserts(
            backend,
            std::iter::once(search::Doc::of(object, &next)),
        ));
    }
    tx.execute_together(statements).await?;
    Ok(Ok(Updated::Done(next)))
}

pub async fn set_deleted(
    tx: &mut Tx,
    backend: Backend,
    object: &ObjectDef,
    id: RecordId,
    deleted: bool,
    expected_version: Option<i64>,
    ctx: WriteCtx,
) -> Result<Updated, sqlx::Error> {
    let Some(current) = get(tx.exec(), backend, object, id, true).await? else {
        return Ok(Updated::Missing);
    };
    if expected_version.is_some_and(|v| v != current.version) {
        return Ok(Updated::Stale(current));
    }
    if current.deleted_at.is_some() == deleted {
        return Ok(Updated::Done(current));
    }
    // Back from the trash, its unique values must not have gone to another record meanwhile.
    if !deleted && let Some(t) = taken(tx.exec(), backend, object, &current.values, Some(id)).await? {
        return Ok(Updated::Taken(t));
    }
    let deleted_at = deleted.then_some(ctx.now);
    let stmt = Query::update()
        .table(object.table())
        .value("deleted_at", Expr::val(backend.datetime(deleted_at)))
        .value("version", Expr::col("version").add(1))
        .value("updated_at", Expr::val(backend.datetime(Some(ctx.now))))
        .value("updated_by", Expr::val(backend.uuid(Some(ctx.actor.0))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("version").eq(current.version))
        .to_owned();
    if tx.exec().execute(backend.build(&stmt)).await? != 1 {
        return match get(tx.exec(), backend, object, id, false).await? {
            Some(now) => Ok(Updated::Stale(now)),
            None => Ok(Updated::Missing),
        };
    }
    let op = if deleted { ChangeOp::Delete } else { ChangeOp::Restore };
    let row = ChangeRow {
        object: &object.name,
        record_id: id,
        op,
        field: None,
        old: Json::Null,
        new: Json::Null,
    };
    log_changes(tx, backend, ctx, &[row]).await?;
    let mut next = current;
    next.deleted_at = deleted_at;
    next.version += 1;
    next.updated_at = ctx.now;
    next.updated_by = Some(ctx.actor);
    if deleted {
        search::remove_doc(tx, backend, id).await?;
    } else {
        search::replace_doc(tx, backend, &search::Doc::of(object, &next)).await?;
    }
    Ok(Updated::Done(next))
}

pub async fn history(
    exec: Exec<'_>,
    backend: Backend,
    id: RecordId,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Change>, sqlx::Error> {
    let stmt = Query::select()
        .column("seq")
        .columns(CHANGE_COLUMNS)
        .from("change_log")
        .and_where(Expr::col("record_id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("seq").gt(after_seq))
        .order_by("seq", Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(decode_change)
        .collect()
}

/// The change log across records, newest first, filtered.
pub async fn changes(exec: Exec<'_>, backend: Backend, q: &ChangeQuery) -> Result<Vec<Change>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.column("seq").columns(CHANGE_COLUMNS).from("change_log");
    if let Some(o) = &q.object {
        stmt.and_where(Expr::col("object").eq(o.clone()));
    }
    if let Some(a) = q.actor {
        stmt.and_where(Expr::col("actor").eq(backend.uuid(Some(a.0))));
    }
    if let Some(t) = q.since {
        stmt.and_where(Expr::col("at").gte(backend.datetime(Some(t))));
    }
    if let Some(t) = q.until {
        stmt.and_where(Expr::col("at").lt(backend.datetime(Some(t))));
    }
    if let Some(b) = q.before_seq {
        stmt.and_where(Expr::col("seq").lt(b));
    }
    stmt.order_by("seq", Order::Desc).limit(u64::from(q.limit));
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(decode_change)
        .collect()
}

fn decode_change(r: &Row) -> Result<Change, sqlx::Error> {
    let parse = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Json::Null);
    Ok(Change {
        seq: r.i64(0)?,
        at: r.datetime(1)?,
        actor: r.opt_uuid(2)?.map(UserId),
        object: r.string(3)?,
        record_id: RecordId(r.uuid(4)?),
        op: ChangeOp::parse(&r.string(5)?).unwrap_or(ChangeOp::Update),
        field: r.opt_string(6)?,
        old: parse(r.opt_string(7)?),
        new: parse(r.opt_string(8)?),
    })
}

pub async fn count(exec: Exec<'_>, backend: Backend, object: &ObjectDef) -> Result<i64, sqlx::Error> {
    let stmt = Query::select()
        .expr(Expr::col(sea_query::Asterisk).count())
        .from(object.table())
        .and_where(Expr::col("deleted_at").is_null())
        .to_owned();
    match exec.fetch_optional(backend.build(&stmt)).await? {
        Some(r) => r.i64(0),
        None => Ok(0),
    }
}

/// Count and sum per group of live records.
pub async fn aggregate(
    exec: Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    q: &anchora_core::query::AggregateQuery,
) -> Result<Vec<anchora_core::query::AggregateRow>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.from(object.table());
    for g in &q.group_by {
        stmt.column(g.name.clone());
    }
    stmt.expr(Expr::col(sea_query::Asterisk).count());
    if let Some(s) = &q.sum {
        stmt.expr(Expr::cust(format!(
            "CAST(SUM({}) AS DOUBLE PRECISION)",
            crate::db::ident(&s.name)
        )));
    }
    stmt.and_where(Expr::col("deleted_at").is_null());
    if let Some(owners) = &q.owners {
        stmt.and_where(owner_condition(backend, owners, OwnerPlan::Index));
    }
    if let Some(filter) = &q.filter {
        stmt.cond_where(condition(backend, filter));
    }
    for g in &q.group_by {
        stmt.group_by_col(g.name.clone());
    }
    let rows = exec.fetch_all(backend.build(&stmt)).await?;
    rows.iter()
        .map(|r| {
            let n = q.group_by.len();
            let keys = q
                .group_by
                .iter()
                .enumerate()
                .map(|(i, g)| decode(r, i, g.field_type))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(anchora_core::query::AggregateRow {
                keys,
                count: r.i64(n)?,
                sum: if q.sum.is_some() { r.opt_f64(n + 1)? } else { None },
            })
        })
        .collect()
}

/// A record write, once: the port's writes run these again when a concurrent writer took a
/// unique value in between ([`retry_on_taken`]).
impl SqlStore {
    async fn insert_record_once(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()> {
        let backend = self.backend_kind();
        let mut txn = self.pool.begin_write().await.map_err(db_error)?;
        let out: Result<_> = async {
            let tx = &mut txn;
            {
                let input = RecordInput {
                    values: record.values.clone(),
                    // The writer owning what they write is there: they are writing.
                    owner: Some(record.owner).filter(|o| *o != Some(ctx.actor)),
                    version: None,
                    links: Some(record.links.clone()),
                };
                let errors = check_references(tx, backend, object, &input).await.map_err(db_error)?;
                if !errors.is_empty() {
                    return Err(Error::validation(errors));
                }
                // No look first: the unique indexes refuse a repeated value, and only then is
                // the record that holds it looked for (one call to the database fewer).
                insert_many(tx, backend, object, std::slice::from_ref(record), ctx)
                    .await
                    .map_err(db_error)
            }
        }
        .await;
        match out {
            Err(e) if e.code == ErrorCode::AlreadyExists => {
                drop(txn);
                match taken(self.pool.reader(), backend, object, &record.values, None)
                    .await
                    .map_err(db_error)?
                {
                    Some(t) => Err(taken_error(object, &t)),
                    // Gone again already: `retry_on_taken` writes once more.
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
            Ok(()) => txn.commit().await.map_err(db_error),
        }
    }

    async fn update_record_once(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            match update(tx, backend, object, id, expected_version, input, ctx)
                .await
                .map_err(db_error)?
            {
                Err(errors) => Err(Error::validation(errors)),
                Ok(u) => settle(object, u),
            }
        })
    }

    async fn set_deleted_once(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        let backend = self.backend_kind();
        in_write!(self.pool, |tx| {
            let u = set_deleted(tx, backend, object, id, deleted, expected_version, ctx)
                .await
                .map_err(db_error)?;
            settle(object, u)
        })
    }
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn insert_record(&self, object: &ObjectDef, record: &Record, ctx: WriteCtx) -> Result<()> {
        retry_on_taken(|| self.insert_record_once(object, record, ctx)).await
    }

    async fn insert_records(&self, object: &ObjectDef, batch: &[Record], ctx: WriteCtx) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool, |txn| {
            insert_many(txn, backend, object, batch, ctx).await.map_err(db_error)
        })
    }

    async fn get_record(&self, object: &ObjectDef, id: RecordId) -> Result<Option<Record>> {
        let backend = self.backend_kind();
        let mut record = get(self.pool.exec(), backend, object, id, false)
            .await
            .map_err(db_error)?;
        if object.is_activity()
            && let Some(r) = record.as_mut()
        {
            load_links(self.pool.exec(), backend, std::slice::from_mut(r))
                .await
                .map_err(db_error)?;
        }
        Ok(record)
    }

    async fn update_record(
        &self,
        object: &ObjectDef,
        id: RecordId,
        expected_version: i64,
        input: &RecordInput,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        retry_on_taken(|| self.update_record_once(object, id, expected_version, input, ctx)).await
    }

    async fn set_deleted(
        &self,
        object: &ObjectDef,
        id: RecordId,
        deleted: bool,
        expected_version: Option<i64>,
        ctx: WriteCtx,
    ) -> Result<WriteOutcome> {
        retry_on_taken(|| self.set_deleted_once(object, id, deleted, expected_version, ctx)).await
    }

    async fn list_records(&self, object: &ObjectDef, query: &ListQuery) -> Result<Vec<Record>> {
        let backend = self.backend_kind();
        let plan = self.owner_plan(object, query).await?;
        let mut out = list(self.pool.exec(), backend, object, query, plan)
            .await
            .map_err(db_error)?;
        if object.is_activity() {
            load_links(self.pool.exec(), backend, &mut out)
                .await
                .map_err(db_error)?;
        }
        Ok(out)
    }

    async fn count_listed(&self, object: &ObjectDef, query: &ListQuery, cap: u64) -> Result<u64> {
        let backend = self.backend_kind();
        let plan = self.owner_plan(object, query).await?;
        count_capped(self.pool.exec(), backend, object, query, plan, cap)
            .await
            .map_err(db_error)
    }

    async fn count_records(&self, object: &ObjectDef) -> Result<i64> {
        count(self.pool.exec(), self.backend_kind(), object)
            .await
            .map_err(db_error)
    }

    async fn aggregate(
        &self,
        object: &ObjectDef,
        query: &anchora_core::query::AggregateQuery,
    ) -> Result<Vec<anchora_core::query::AggregateRow>> {
        aggregate(self.pool.exec(), self.backend_kind(), object, query)
            .await
            .map_err(db_error)
    }

    async fn history(&self, _object: &ObjectDef, id: RecordId, after_seq: i64, limit: u32) -> Result<Vec<Change>> {
        history(self.pool.exec(), self.backend_kind(), id, after_seq, limit)
            .await
            .map_err(db_error)
    }
}

fn settle(object: &ObjectDef, u: Updated) -> Result<WriteOutcome> {
    Ok(match u {
        Updated::Done(r) => WriteOutcome::Written(r),
        Updated::Stale(r) => WriteOutcome::Stale(r),
        Updated::Missing => WriteOutcome::NotFound,
        Updated::InTrash => {
            return Err(Error::new(
                ErrorCode::InTrash,
                "the record is in the trash; restore it before changing it",
            ));
        }
        Updated::Taken(t) => return Err(taken_error(object, &t)),
    })
}

/// A unique value another record holds. Core names that record to a caller who may see it.
fn taken_error(object: &ObjectDef, t: &Taken) -> Error {
    let label = object
        .field(&t.field)
        .map_or(t.field.clone(), |f| f.label.to_lowercase());
    let value = t.value.to_text().unwrap_or_default();
    Error::taken(
        &t.field,
        format!("{value:?} is already another {}'s {label}", object.label.to_lowercase()),
        anchora_core::error::Existing {
            field: t.field.clone(),
            object: object.name.clone(),
            id: t.holder,
        },
    )
}

/// Run a write again when a concurrent writer took a unique value between this write's check
/// and its insert (PostgreSQL): the second run's check then finds the holder and says so.
async fn retry_on_taken<T, F, Fut>(mut write: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Err(e) if e.code == ErrorCode::AlreadyExists && attempt < 2 => attempt += 1,
            other => return other,
        }
    }
}
