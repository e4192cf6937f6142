//! The physical side of record tables: which columns a table really has, the folded copies of
//! text fields filled in from their values, and how many columns a table may grow to.

use crate::db::{Backend, Exec, Sql, Tx, ident};
use crate::ddl::{self, fold_column};
use crate::records::folded;
use anchora_core::meta::ObjectDef;
use anchora_core::value::Value;
use std::collections::HashSet;

/// The columns a table has now (PostgreSQL: not counting dropped ones).
pub async fn table_columns(exec: Exec<'_>, backend: Backend, table: &str) -> Result<HashSet<String>, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => Sql::new("SELECT name FROM pragma_table_info(?1)", vec![table.into()]),
        Backend::Postgres => Sql::new(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            vec![table.into()],
        ),
    };
    exec.fetch_all(sql).await?.iter().map(|r| r.string(0)).collect()
}

/// The column slots a table uses against the database's limit. PostgreSQL counts a dropped
/// column until the table is rewritten; SQLite rewrites the table when a column is dropped.
pub async fn used_slots(exec: Exec<'_>, backend: Backend, table: &str) -> Result<i64, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => Sql::new("SELECT COUNT(*) FROM pragma_table_info(?1)", vec![table.into()]),
        Backend::Postgres => Sql::new(
            "SELECT COUNT(*) FROM pg_attribute WHERE attrelid = to_regclass(quote_ident($1)) AND attnum > 0",
            vec![table.into()],
        ),
    };
    match exec.fetch_optional(sql).await? {
        Some(r) => r.i64(0),
        None => Ok(0),
    }
}

/// How many of a PostgreSQL table's column slots are taken by dropped columns.
pub async fn dropped_slots(exec: Exec<'_>, backend: Backend, table: &str) -> Result<i64, sqlx::Error> {
    if backend == Backend::Sqlite {
        return Ok(0);
    }
    let sql = Sql::new(
        "SELECT COUNT(*) FROM pg_attribute WHERE attrelid = to_regclass(quote_ident($1)) AND attnum > 0 AND attisdropped",
        vec![table.into()],
    );
    match exec.fetch_optional(sql).await? {
        Some(r) => r.i64(0),
        None => Ok(0),
    }
}

/// The most columns a record table may have. PostgreSQL's hard limit is 1,600 (dropped columns
/// included), SQLite's 2,000; a margin is kept below the lower for the system columns and a
/// rewrite's working room.
pub const COLUMN_BUDGET: i64 = 1_500;

/// Fill the folded copies that are missing (records written before the copy existed, or
/// loaded by another program), a page at a time, each row with one UPDATE.
pub async fn backfill_folds(tx: &mut Tx, backend: Backend, object: &ObjectDef) -> Result<u64, sqlx::Error> {
    let fields: Vec<&str> = object
        .fields
        .iter()
        .filter(|f| f.field_type.folds())
        .map(|f| f.name.as_str())
        .collect();
    if fields.is_empty() {
        return Ok(0);
    }
    let table = ident(&object.table());
    let raw: Vec<String> = fields.iter().map(|f| ident(f)).collect();
    let missing = fields
        .iter()
        .map(|f| format!("({} IS NOT NULL AND {} IS NULL)", ident(f), ident(&fold_column(f))))
        .collect::<Vec<_>>()
        .join(" OR ");
    let sets = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} = {}", ident(&fold_column(f)), backend.param(i + 1)))
        .collect::<Vec<_>>()
        .join(", ");
    let update = format!(
        "UPDATE {table} SET {sets} WHERE id = {}",
        backend.param(fields.len() + 1)
    );
    let mut filled = 0;
    let mut after: Option<sea_query::Value> = None;
    loop {
        let (text, values) = match &after {
            None => (
                format!(
                    "SELECT id, {} FROM {table} WHERE {missing} ORDER BY id LIMIT 2000",
                    raw.join(", ")
                ),
                Vec::new(),
            ),
            Some(last) => (
                format!(
                    "SELECT id, {} FROM {table} WHERE ({missing}) AND id > {} ORDER BY id LIMIT 2000",
                    raw.join(", "),
                    backend.param(1)
                ),
                vec![last.clone()],
            ),
        };
        let rows = tx.exec().fetch_all(Sql::new(text, values)).await?;
        let Some(last) = rows.last() else { break };
        after = Some(backend.uuid(Some(last.uuid(0)?)));
        for row in &rows {
            let mut values = Vec::with_capacity(fields.len() + 1);
            for i in 0..fields.len() {
                let value = row.opt_string(i + 1)?.map_or(Value::Null, Value::Text);
                values.push(folded(&value));
            }
            values.push(backend.uuid(Some(row.uuid(0)?)));
            filled += tx.exec().execute(Sql::new(update.clone(), values)).await?;
        }
    }
    Ok(filled)
}

/// A value more than one live record holds in `column`, with (up to three of) their ids: what
/// stands in the way of making the column unique.
pub async fn first_repeated(
    exec: Exec<'_>,
    table: &str,
    column: &str,
) -> Result<Option<Vec<anchora_core::RecordId>>, sqlx::Error> {
    let (table, column) = (ident(table), ident(column));
    // Ids of two records sharing a value, read in one statement (a pool may hand out another
    // connection per statement).
    let sql = Sql::plain(format!(
        "SELECT a.id, b.id FROM {table} a JOIN {table} b ON a.{column} = b.{column} AND a.id < b.id \
         WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL AND a.{column} IS NOT NULL LIMIT 1"
    ));
    match exec.fetch_optional(sql).await? {
        Some(r) => Ok(Some(vec![
            anchora_core::RecordId(r.uuid(0)?),
            anchora_core::RecordId(r.uuid(1)?),
        ])),
        None => Ok(None),
    }
}

/// Rewrite a PostgreSQL table with only its live columns, freeing the slots of dropped ones:
/// a new table from the metadata, every row copied, the old one dropped, the new one renamed
/// and indexed. The caller holds the migration lock and its transaction.
pub async fn rewrite_table(tx: &mut Tx, backend: Backend, object: &ObjectDef) -> Result<(), sqlx::Error> {
    let table = object.table();
    let fresh = format!("{table}__rewrite");
    let columns: Vec<String> = crate::records::insert_columns(object)
        .iter()
        .map(|c| ident(c))
        .collect();
    let columns = columns.join(", ");
    let statements = [
        // Nobody writes (or reads half a copy) while the rows move.
        format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", ident(&table)),
        format!("DROP TABLE IF EXISTS {}", ident(&fresh)),
        ddl::create_table_named(backend, object, &fresh),
        format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
            ident(&fresh),
            ident(&table)
        ),
        format!("DROP TABLE {}", ident(&table)),
        format!("ALTER TABLE {} RENAME TO {}", ident(&fresh), ident(&table)),
    ];
    for stmt in statements.into_iter().chain(ddl::create_indexes(backend, object)) {
        tx.exec().execute(Sql::plain(stmt)).await?;
    }
    Ok(())
}
