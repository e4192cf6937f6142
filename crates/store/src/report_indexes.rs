//! Indexes for kept reports, on SQLite. SQLite groups by sorting every row it counts: a
//! report of a million people by city and owner spends seconds sorting (3.2 s measured), while
//! an index holding `_fold_city, owner` and the rest the report reads makes it one ordered
//! walk of the index with no sort (0.09 s). PostgreSQL groups by hashing and meets its
//! targets without them, and its b-tree entries are limited in size (a long text in an
//! indexed column would refuse the record's save), so it is given none.
//!
//! An index is named by its table and a hash of its columns, so the same columns asked for by
//! two reports are one index, and an index is recognised from its name alone.

use crate::db::{Backend, Exec, Sql, ident};
use crate::ddl::{compare_column, fold_column};
use anchora_core::filter::Condition;
use anchora_core::meta::ObjectDef;
use anchora_core::reports::{GroupKey, ReportQuery};

/// What the names of these indexes begin with (and no other index's does).
pub(crate) const PREFIX: &str = "rx_";

/// More columns than this and the index is nearly the table: not worth its writes.
const MOST_COLUMNS: usize = 13;

/// Indexes kept on one table at most: each is written on every insert and update of it.
const MOST_PER_TABLE: usize = 8;

/// The index that serves a counting on this backend: its name and columns.
pub(crate) fn plan(backend: Backend, object: &ObjectDef, query: &ReportQuery) -> Option<(String, Vec<String>)> {
    if backend != Backend::Sqlite {
        return None;
    }
    let (grouped, read) = columns_of(query)?;
    let columns = listed(&grouped, &read);
    let table = object.table();
    Some((name(&table, &columns), columns))
}

/// The indexes that serve these countings, each named with the counting it is built from.
/// A counting whose grouping and reading another's index holds (the same grouping first,
/// fewer columns read) is served by that one; past [`MOST_PER_TABLE`] on a table, the
/// countings listed later go without.
pub(crate) fn plan_all(backend: Backend, countings: &[(ObjectDef, ReportQuery)]) -> Vec<(String, usize)> {
    if backend != Backend::Sqlite {
        return Vec::new();
    }
    struct Wanted {
        table: String,
        grouped: Vec<String>,
        read: Vec<String>,
        counting: usize,
    }
    let mut wanted: Vec<Wanted> = Vec::new();
    for (i, (object, query)) in countings.iter().enumerate() {
        let Some((grouped, read)) = columns_of(query) else {
            continue;
        };
        let table = object.table();
        let holds = |w: &Wanted, grouped: &[String], read: &[String]| {
            w.table == table && w.grouped == grouped && read.iter().all(|c| w.read.contains(c))
        };
        if wanted.iter().any(|w| holds(w, &grouped, &read)) {
            continue;
        }
        // This one holds some wanted before it: it serves them instead.
        wanted.retain(|w| !(w.table == table && w.grouped == grouped && w.read.iter().all(|c| read.contains(c))));
        wanted.push(Wanted {
            table,
            grouped,
            read,
            counting: i,
        });
    }
    wanted.sort_by_key(|w| w.counting);
    let mut per_table: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for w in wanted {
        let n = per_table.entry(w.table.clone()).or_default();
        if *n >= MOST_PER_TABLE {
            continue;
        }
        *n += 1;
        out.push((name(&w.table, &listed(&w.grouped, &w.read)), w.counting));
    }
    out
}

/// The grouping's columns first, in the order the report groups by (so the index walk is the
/// grouping), then every other column the counting reads: text's spelling beside its folded
/// copy, the measure and its weight, the filter's columns, the owner (a reader's sight).
/// Rows in the trash are left out of the index altogether (it is partial).
fn columns_of(query: &ReportQuery) -> Option<(Vec<String>, Vec<String>)> {
    let mut grouped = Vec::new();
    let mut read = Vec::new();
    for key in &query.keys {
        match key {
            GroupKey::Column(f) if f.field_type.folds() => {
                grouped.push(fold_column(&f.name));
                read.push(f.name.clone());
            }
            GroupKey::Column(f) | GroupKey::Month(f) | GroupKey::LocalDay { field: f, .. } => {
                grouped.push(f.name.clone());
            }
            GroupKey::Related { relation, .. } => grouped.push(relation.clone()),
        }
    }
    read.extend(query.measure.iter().map(|m| m.name.clone()));
    read.extend(query.weight.iter().map(|w| w.name.clone()));
    if let Some(filter) = &query.filter {
        condition_columns(filter, &mut read);
    }
    read.push("owner".to_string());
    // Implied by the index's own condition, yet SQLite reads an index as covering only when it
    // holds every column the statement names.
    read.push("deleted_at".to_string());
    let mut unique: Vec<String> = Vec::new();
    read.retain(|c| {
        let new = !grouped.contains(c) && !unique.contains(c);
        if new {
            unique.push(c.clone());
        }
        new
    });
    (grouped.len() + read.len() <= MOST_COLUMNS).then_some((grouped, read))
}

/// An index's columns: the grouping's in order, then the rest read.
fn listed(grouped: &[String], read: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in grouped.iter().chain(read) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// The columns of its own table a filter reads (as `records::condition` compiles it).
fn condition_columns(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::And(items) | Condition::Or(items) => {
            for i in items {
                condition_columns(i, out);
            }
        }
        Condition::Not(inner) => condition_columns(inner, out),
        Condition::Compare { column, .. } | Condition::In { column, .. } | Condition::Like { column, .. } => {
            out.push(compare_column(&column.column, column.field_type));
        }
        Condition::HasChoice { column, .. } | Condition::IsEmpty { column, .. } | Condition::Related { column, .. } => {
            out.push(column.column.clone());
        }
        Condition::LinkedTo { .. } | Condition::AmongIds(_) => out.push("id".to_string()),
        Condition::InSelection(_) => {}
    }
}

/// `rx_<table>_<hash of the columns>`: FNV-1a, stable across builds and platforms.
fn name(table: &str, columns: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in columns.join(",").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{PREFIX}{table}_{hash:016x}")
}

/// The statement that builds an index.
pub(crate) fn create(table: &str, name: &str, columns: &[String]) -> String {
    let list: Vec<String> = columns.iter().map(|c| ident(c)).collect();
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({}) WHERE \"deleted_at\" IS NULL",
        ident(name),
        ident(table),
        list.join(", ")
    )
}

/// The names of the report indexes, of one table or all.
pub(crate) async fn existing(
    exec: Exec<'_>,
    backend: Backend,
    table: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    if backend != Backend::Sqlite {
        return Ok(Vec::new());
    }
    let mut text = "SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, 3) = ?".to_string();
    let mut values: Vec<sea_query::Value> = vec![PREFIX.into()];
    if let Some(t) = table {
        text.push_str(" AND tbl_name = ?");
        values.push(t.into());
    }
    let rows = exec.fetch_all(Sql::new(text, values)).await?;
    rows.iter().map(|r| r.string(0)).collect()
}

/// Drop the report indexes of a table that hold any of these columns (SQLite refuses to drop
/// a column an index names). The next run of the indexes job builds what is still wanted.
pub(crate) async fn drop_naming(
    tx: &mut crate::db::Tx,
    backend: Backend,
    table: &str,
    columns: &[String],
) -> Result<(), sqlx::Error> {
    for index in existing(tx.exec(), backend, Some(table)).await? {
        let named = tx
            .exec()
            .fetch_all(Sql::new(
                "SELECT name FROM pragma_index_info(?)",
                vec![index.clone().into()],
            ))
            .await?
            .iter()
            .map(|r| r.string(0))
            .collect::<Result<Vec<String>, _>>()?;
        if named.iter().any(|c| columns.contains(c)) {
            tx.exec()
                .execute(Sql::plain(format!("DROP INDEX IF EXISTS {}", ident(&index))))
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchora_core::filter::{ColumnRef, Compare};
    use anchora_core::meta::{FieldDef, FieldType};
    use anchora_core::value::Value;

    fn field(name: &str, t: FieldType) -> FieldDef {
        FieldDef::new(name, name, t)
    }

    #[test]
    fn the_grouping_comes_first_then_what_else_is_read() {
        let query = ReportQuery {
            filter: Some(Condition::Compare {
                column: ColumnRef::of(&field("created_at", FieldType::Datetime)),
                cmp: Compare::Gte,
                value: Value::Null,
            }),
            owners: None,
            keys: vec![
                GroupKey::Column(field("city", FieldType::Text)),
                GroupKey::Column(field("owner", FieldType::User)),
            ],
            measure: None,
            weight: None,
        };
        let (grouped, read) = columns_of(&query).unwrap();
        let columns = listed(&grouped, &read);
        assert_eq!(
            columns,
            ["_fold_city", "owner", "city", "created_at", "deleted_at"].map(String::from)
        );
        // The name is the same on every build and platform: an index built by one release is
        // recognised by the next.
        assert_eq!(name("obj_person", &columns), "rx_obj_person_c7c9c5379adbcb6a");
    }

    #[test]
    fn an_index_that_holds_anothers_columns_serves_both_and_a_table_has_a_few_at_most() {
        let person = anchora_core::meta::standard_objects()
            .into_iter()
            .find(|o| o.name == "person")
            .unwrap();
        let by = |group: &str, filter: Option<&str>| ReportQuery {
            filter: filter.map(|f| Condition::Compare {
                column: ColumnRef::of(&field(f, FieldType::Datetime)),
                cmp: Compare::Gte,
                value: Value::Null,
            }),
            owners: None,
            keys: vec![GroupKey::Column(field(group, FieldType::Text))],
            measure: None,
            weight: None,
        };
        // By city; by city this year (a dashboard's period): one index, the wider.
        let countings = vec![
            (person.clone(), by("city", None)),
            (person.clone(), by("city", Some("created_at"))),
            (person.clone(), by("title", None)),
        ];
        let plan = plan_all(Backend::Sqlite, &countings);
        assert_eq!(plan.iter().map(|(_, i)| *i).collect::<Vec<_>>(), [1, 2]);
        assert!(plan_all(Backend::Postgres, &countings).is_empty());
        let many: Vec<_> = (0..20).map(|i| (person.clone(), by(&format!("f{i}"), None))).collect();
        assert_eq!(plan_all(Backend::Sqlite, &many).len(), MOST_PER_TABLE);
    }
}
