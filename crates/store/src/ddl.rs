//! Data definition: the system tables, and a real table per object with a typed column per
//! field. Hand-written because it is where the two databases differ most; identifiers come from
//! validated metadata and are quoted.

use crate::codec::column_type;
use crate::db::{Backend, ident};
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};

/// Filterable fields of indexable types carry a B-tree index (unique fields: their unique
/// index serves instead).
pub fn indexed(field: &FieldDef) -> bool {
    field.filterable && !field.archived && field.field_type.indexable() && !field.unique
}

/// Unique fields carry a unique index over their live records.
pub fn unique_indexed(field: &FieldDef) -> bool {
    field.unique && !field.archived && field.field_type.can_be_unique()
}

/// The column holding a text field's folded copy ([`anchora_core::text::fold_case`]). Field
/// names start with a letter, so no field can take this name.
pub fn fold_column(field: &str) -> String {
    format!("_fold_{field}")
}

/// The column filters, sorts and uniqueness read for a field: the folded copy for text that
/// folds, the value itself otherwise.
pub fn compare_column(field: &str, field_type: FieldType) -> String {
    if field_type.folds() {
        fold_column(field)
    } else {
        field.to_string()
    }
}

/// Every column a field occupies in its table, with its type.
pub fn field_columns(backend: Backend, field: &FieldDef) -> Vec<(String, &'static str)> {
    let mut out = vec![(field.name.clone(), column_type(backend, field.field_type))];
    if field.field_type.folds() {
        // Byte order on PostgreSQL too, as SQLite compares: prefix ranges and sorts agree.
        let folded = match backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "TEXT COLLATE \"C\"",
        };
        out.push((fold_column(&field.name), folded));
    }
    out
}

/// PostgreSQL keeps 63 bytes of a name and cuts the rest without an error, so two long names
/// could become one; a long name keeps its start and gets a hash of the whole.
fn short_name(name: String) -> String {
    if name.len() <= 63 {
        return name;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut cut = 46;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash:016x}", name.get(..cut).unwrap_or_default())
}

pub fn index_name(table: &str, column: &str) -> String {
    short_name(format!("ix_{table}_{column}"))
}

pub fn unique_index_name(table: &str, column: &str) -> String {
    short_name(format!("ux_{table}_{column}"))
}

/// Indexes sort NULL first ascending on both databases, the order lists use, so an index serves
/// both the filter and the keyset sort.
fn index_column(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => ident(column),
        Backend::Postgres => format!("{} ASC NULLS FIRST", ident(column)),
    }
}

pub fn create_index(backend: Backend, table: &str, column: &str) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({}, \"id\")",
        ident(&index_name(table, column)),
        ident(table),
        index_column(backend, column)
    )
}

pub fn drop_index(table: &str, column: &str) -> String {
    format!("DROP INDEX IF EXISTS {}", ident(&index_name(table, column)))
}

/// An index named before long names were hashed: its whole name (SQLite), which PostgreSQL
/// cuts to the 63 bytes it kept. `None` when the name was never long.
pub fn drop_legacy_index(table: &str, column: &str) -> Option<String> {
    let name = format!("ix_{table}_{column}");
    (name.len() > 63).then(|| format!("DROP INDEX IF EXISTS {}", ident(&name)))
}

/// A unique index over the live records' values: a value in the trash may return as a new
/// record's, and restoring the old one is then refused.
pub fn create_unique_index(table: &str, column: &str) -> String {
    format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({}) WHERE \"deleted_at\" IS NULL",
        ident(&unique_index_name(table, column)),
        ident(table),
        ident(column)
    )
}

pub fn drop_unique_index(table: &str, column: &str) -> String {
    format!("DROP INDEX IF EXISTS {}", ident(&unique_index_name(table, column)))
}

/// The indexes a field should have: (statement creating it, statement dropping it).
pub fn field_indexes(backend: Backend, table: &str, field: &FieldDef) -> Vec<(String, String)> {
    let column = compare_column(&field.name, field.field_type);
    let mut out = Vec::new();
    if indexed(field) {
        out.push((create_index(backend, table, &column), drop_index(table, &column)));
    }
    if unique_indexed(field) {
        out.push((create_unique_index(table, &column), drop_unique_index(table, &column)));
    }
    out
}

pub fn create_object_table(backend: Backend, object: &ObjectDef) -> Vec<String> {
    let mut out = vec![create_table_named(backend, object, &object.table())];
    out.extend(create_indexes(backend, object));
    out
}

/// The CREATE TABLE of an object's records, under a given name.
pub fn create_table_named(backend: Backend, object: &ObjectDef, table: &str) -> String {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let mut columns = vec![
        format!("\"id\" {uuid} PRIMARY KEY"),
        "\"version\" BIGINT NOT NULL".to_string(),
        format!("\"created_at\" {ts} NOT NULL"),
        format!("\"created_by\" {uuid}"),
        format!("\"updated_at\" {ts} NOT NULL"),
        format!("\"updated_by\" {uuid}"),
        format!("\"owner\" {uuid}"),
        format!("\"deleted_at\" {ts}"),
    ];
    for field in &object.fields {
        for (column, column_type) in field_columns(backend, field) {
            columns.push(format!("{} {column_type}", ident(&column)));
        }
    }
    // SQLite: a table keyed by its UUID needs no hidden rowid; secondary indexes then carry the
    // id, which is what keyset pagination sorts on last.
    let suffix = match backend {
        Backend::Sqlite => " WITHOUT ROWID",
        Backend::Postgres => "",
    };
    format!("CREATE TABLE {} ({}){suffix}", ident(table), columns.join(", "))
}

/// Columns with a plain secondary index: the sortable system columns and every indexed field
/// (its folded copy for text).
fn indexed_columns(object: &ObjectDef) -> Vec<String> {
    let mut cols: Vec<String> = ["created_at", "updated_at", "owner"].map(String::from).to_vec();
    cols.extend(
        object
            .fields
            .iter()
            .filter(|f| indexed(f))
            .map(|f| compare_column(&f.name, f.field_type)),
    );
    cols
}

/// Every secondary index the object should have, unique ones included (idempotent statements).
pub fn create_indexes(backend: Backend, object: &ObjectDef) -> Vec<String> {
    let table = object.table();
    let mut out: Vec<String> = indexed_columns(object)
        .iter()
        .map(|c| create_index(backend, &table, c))
        .collect();
    out.extend(create_unique_indexes(object));
    out
}

pub fn create_unique_indexes(object: &ObjectDef) -> Vec<String> {
    let table = object.table();
    object
        .fields
        .iter()
        .filter(|f| unique_indexed(f))
        .map(|f| create_unique_index(&table, &compare_column(&f.name, f.field_type)))
        .collect()
}

/// The plain indexes a bulk load goes without. Unique indexes stay: they are what keeps a
/// value unique while the load runs and other people write.
pub fn drop_indexes(object: &ObjectDef) -> Vec<String> {
    let table = object.table();
    indexed_columns(object).iter().map(|c| drop_index(&table, c)).collect()
}

pub fn add_column(backend: Backend, object: &ObjectDef, field: &FieldDef) -> Vec<String> {
    let table = object.table();
    let mut out: Vec<String> = field_columns(backend, field)
        .into_iter()
        .map(|(column, column_type)| {
            format!(
                "ALTER TABLE {} ADD COLUMN {} {column_type}",
                ident(&table),
                ident(&column)
            )
        })
        .collect();
    out.extend(
        field_indexes(backend, &table, field)
            .into_iter()
            .map(|(create, _)| create),
    );
    out
}

pub fn drop_column(backend: Backend, object: &ObjectDef, field: &FieldDef) -> Vec<String> {
    let table = object.table();
    let columns = field_columns(backend, field);
    // SQLite refuses to drop a column an index names: every index it may have goes first.
    let mut out: Vec<String> = columns
        .iter()
        .flat_map(|(column, _)| {
            [drop_index(&table, column), drop_unique_index(&table, column)]
                .into_iter()
                .chain(drop_legacy_index(&table, column))
        })
        .collect();
    out.extend(
        columns
            .iter()
            .map(|(column, _)| format!("ALTER TABLE {} DROP COLUMN {}", ident(&table), ident(column))),
    );
    out
}

/// The tables every workspace has besides its objects' tables.
pub fn system_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let serial = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    let boolean = match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BOOLEAN",
    };
    let no = false_literal(backend);
    let mut out = vec![
        "CREATE TABLE meta_state (id INTEGER PRIMARY KEY, schema_version BIGINT NOT NULL)".to_string(),
        "INSERT INTO meta_state (id, schema_version) VALUES (1, 1)".to_string(),
        format!(
            "CREATE TABLE meta_object (name TEXT PRIMARY KEY, label TEXT NOT NULL, label_plural TEXT NOT NULL, \
             standard {boolean} NOT NULL, archived {boolean} NOT NULL, title_fields TEXT NOT NULL, created_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE meta_field (object TEXT NOT NULL REFERENCES meta_object(name), name TEXT NOT NULL, \
             label TEXT NOT NULL, field_type TEXT NOT NULL, required {boolean} NOT NULL, filterable {boolean} NOT NULL, \
             searchable {boolean} NOT NULL, choices TEXT NOT NULL, target TEXT, standard {boolean} NOT NULL, \
             archived {boolean} NOT NULL, position BIGINT NOT NULL, unique_value {boolean} NOT NULL DEFAULT {no}, \
             PRIMARY KEY (object, name))"
        ),
        format!(
            "CREATE TABLE users (id {uuid} PRIMARY KEY, email TEXT UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, \
             active {boolean} NOT NULL, password_hash TEXT, created_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE api_tokens (id {uuid} PRIMARY KEY, name TEXT NOT NULL, user_id {uuid} NOT NULL REFERENCES users(id), \
             token_hash TEXT NOT NULL UNIQUE, created_at {ts} NOT NULL, last_used_at {ts}, expires_at {ts}, revoked_at {ts})"
        ),
        "CREATE INDEX ix_api_tokens_user ON api_tokens (user_id)".to_string(),
        format!(
            "CREATE TABLE change_log (seq {serial}, at {ts} NOT NULL, actor {uuid}, object TEXT NOT NULL, \
             record_id {uuid} NOT NULL, op TEXT NOT NULL, field TEXT, old_value TEXT, new_value TEXT)"
        ),
        "CREATE INDEX ix_change_log_record ON change_log (record_id, seq)".to_string(),
        "CREATE INDEX ix_change_log_at ON change_log (at)".to_string(),
        format!(
            "CREATE TABLE activity_link (activity_id {uuid} NOT NULL, object TEXT NOT NULL, record_id {uuid} NOT NULL, \
             PRIMARY KEY (activity_id, object, record_id))"
        ),
        "CREATE INDEX ix_activity_link_target ON activity_link (record_id)".to_string(),
        format!("CREATE TABLE workspaces (name TEXT PRIMARY KEY, created_at {ts} NOT NULL)"),
    ];
    match backend {
        Backend::Sqlite => {
            out.push(
                "CREATE TABLE search_doc (doc INTEGER PRIMARY KEY, object TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL)"
                    .to_string(),
            );
            // Contentless: the text lives in the record tables; search_doc maps rowids to records.
            out.push(
                "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='', contentless_delete=1, \
                 tokenize='unicode61 remove_diacritics 2')"
                    .to_string(),
            );
        }
        Backend::Postgres => {
            out.push(
                "CREATE TABLE search_doc (record_id UUID PRIMARY KEY, object TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, \
                 tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || body)) STORED)"
                    .to_string(),
            );
            out.push("CREATE INDEX ix_search_doc_tsv ON search_doc USING GIN (tsv)".to_string());
        }
    }
    out
}

/// Migration 2: teams, token scopes, sessions, reset links, the audit log, the access policy,
/// and record owners in search documents (for visibility).
pub fn identity_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let serial = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    vec![
        format!("CREATE TABLE teams (id {uuid} PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at {ts} NOT NULL)"),
        "ALTER TABLE users ADD COLUMN locale TEXT".to_string(),
        format!("ALTER TABLE users ADD COLUMN team_id {uuid} REFERENCES teams(id)"),
        "CREATE INDEX ix_users_team ON users (team_id)".to_string(),
        // Tokens made before scopes existed keep the power they had.
        "ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'".to_string(),
        format!(
            "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id {uuid} NOT NULL REFERENCES users(id), \
             csrf_token TEXT NOT NULL, created_at {ts} NOT NULL, last_seen_at {ts} NOT NULL, expires_at {ts} NOT NULL, \
             ip TEXT, user_agent TEXT)"
        ),
        "CREATE INDEX ix_sessions_user ON sessions (user_id)".to_string(),
        format!(
            "CREATE TABLE password_resets (token_hash TEXT PRIMARY KEY, user_id {uuid} NOT NULL REFERENCES users(id), \
             created_at {ts} NOT NULL, expires_at {ts} NOT NULL, used_at {ts})"
        ),
        format!(
            "CREATE TABLE audit_log (seq {serial}, at {ts} NOT NULL, actor {uuid}, kind TEXT NOT NULL, \
             subject TEXT, ip TEXT, detail TEXT)"
        ),
        "CREATE INDEX ix_audit_log_subject ON audit_log (kind, subject, at)".to_string(),
        "CREATE INDEX ix_audit_log_ip ON audit_log (kind, ip, at)".to_string(),
        "CREATE INDEX ix_audit_log_at ON audit_log (at)".to_string(),
        "ALTER TABLE meta_state ADD COLUMN access_policy TEXT NOT NULL DEFAULT '{}'".to_string(),
        format!("ALTER TABLE search_doc ADD COLUMN owner {uuid}"),
    ]
}

/// Fill `search_doc.owner` from an object's records (migration 2, for existing data).
pub fn backfill_search_owner(object: &ObjectDef) -> String {
    let table = ident(&object.table());
    format!(
        "UPDATE search_doc SET owner = (SELECT t.owner FROM {table} t WHERE t.id = search_doc.record_id) WHERE object = '{}'",
        object.name.replace('\'', "")
    )
}

/// Migration 3: saved views.
pub fn view_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BOOLEAN",
    };
    vec![
        format!(
            "CREATE TABLE saved_views (id {uuid} PRIMARY KEY, object TEXT NOT NULL, name TEXT NOT NULL, query TEXT NOT NULL, \
             owner {uuid} NOT NULL REFERENCES users(id), shared {boolean} NOT NULL, created_at {ts} NOT NULL)"
        ),
        "CREATE INDEX ix_saved_views_object ON saved_views (object, owner)".to_string(),
    ]
}

/// Migration 4: implementation projects (settings, numbered items, dependencies, extra roles).
pub fn project_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    vec![
        format!(
            "CREATE TABLE projects (id {uuid} PRIMARY KEY, version BIGINT NOT NULL, plan_version BIGINT NOT NULL, \
             next_number BIGINT NOT NULL, body TEXT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE project_items (project_id {uuid} NOT NULL REFERENCES projects(id), kind TEXT NOT NULL, \
             number BIGINT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL, updated_at {ts} NOT NULL, \
             PRIMARY KEY (project_id, number))"
        ),
        format!(
            "CREATE TABLE project_dependencies (project_id {uuid} NOT NULL REFERENCES projects(id), \
             before_number BIGINT NOT NULL, after_number BIGINT NOT NULL, \
             PRIMARY KEY (project_id, before_number, after_number))"
        ),
        "CREATE TABLE project_roles (role_key TEXT PRIMARY KEY, body TEXT NOT NULL)".to_string(),
    ]
}

fn false_literal(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "0",
        Backend::Postgres => "false",
    }
}

/// Migration 7: fields may be unique (workspaces made before have no column for it).
pub fn unique_flag_column(backend: Backend) -> String {
    let boolean = match backend {
        Backend::Sqlite => "INTEGER",
        Backend::Postgres => "BOOLEAN",
    };
    format!(
        "ALTER TABLE meta_field ADD COLUMN unique_value {boolean} NOT NULL DEFAULT {}",
        false_literal(backend)
    )
}
