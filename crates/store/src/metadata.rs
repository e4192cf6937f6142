//! Metadata rows: reading the schema, and writing object and field definitions in the same
//! transaction as their DDL.

use crate::db::{Backend, Exec, Row, Sql, Tx};
use anchora_core::auth::AccessPolicy;
use anchora_core::meta::{Choice, FieldDef, FieldType, ObjectDef, Schema};
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Query};
use std::collections::BTreeMap;

pub async fn schema_version(exec: Exec<'_>) -> Result<i64, sqlx::Error> {
    let row = exec
        .fetch_optional(Sql::plain("SELECT schema_version FROM meta_state WHERE id = 1"))
        .await?;
    match row {
        Some(r) => r.i64(0),
        None => Ok(0),
    }
}

pub async fn bump_version(tx: &mut Tx) -> Result<(), sqlx::Error> {
    tx.exec()
        .execute(Sql::plain(
            "UPDATE meta_state SET schema_version = schema_version + 1 WHERE id = 1",
        ))
        .await
        .map(|_| ())
}

const OBJECTS_SQL: &str =
    "SELECT name, label, label_plural, standard, archived, title_fields FROM meta_object ORDER BY name";
const FIELDS_SQL: &str = "SELECT object, name, label, field_type, required, filterable, searchable, choices, target, standard, archived, position, unique_value \
     FROM meta_field ORDER BY object, position, name";
const POLICY_SQL: &str = "SELECT access_policy FROM meta_state WHERE id = 1";

pub async fn load_schema(pool: &crate::db::Pool) -> Result<Schema, sqlx::Error> {
    // Read the version before and after: a schema changed in between is read again.
    for _ in 0..5 {
        let version = schema_version(pool.exec()).await?;
        let objects = pool.exec().fetch_all(Sql::plain(OBJECTS_SQL)).await?;
        let fields = pool.exec().fetch_all(Sql::plain(FIELDS_SQL)).await?;
        let policy = pool.exec().fetch_optional(Sql::plain(POLICY_SQL)).await?;
        if schema_version(pool.exec()).await? == version {
            return assemble(version, &objects, &fields, policy.as_ref());
        }
    }
    Err(sqlx::Error::Protocol(
        "the schema kept changing while it was read".into(),
    ))
}

/// The schema as a transaction sees it (migrations).
pub async fn load_schema_in(tx: &mut Tx) -> Result<Schema, sqlx::Error> {
    let version = schema_version(tx.exec()).await?;
    let objects = tx.exec().fetch_all(Sql::plain(OBJECTS_SQL)).await?;
    let fields = tx.exec().fetch_all(Sql::plain(FIELDS_SQL)).await?;
    let policy = tx.exec().fetch_optional(Sql::plain(POLICY_SQL)).await?;
    assemble(version, &objects, &fields, policy.as_ref())
}

fn assemble(version: i64, objects: &[Row], fields: &[Row], policy: Option<&Row>) -> Result<Schema, sqlx::Error> {
    let mut map: BTreeMap<String, ObjectDef> = BTreeMap::new();
    for r in objects {
        let title: String = r.string(5)?;
        let def = ObjectDef {
            name: r.string(0)?,
            label: r.string(1)?,
            label_plural: r.string(2)?,
            standard: r.bool(3)?,
            archived: r.bool(4)?,
            title_fields: serde_json::from_str(&title).unwrap_or_default(),
            fields: Vec::new(),
        };
        map.insert(def.name.clone(), def);
    }
    for r in fields {
        let object = r.string(0)?;
        let type_name = r.string(3)?;
        let Some(field_type) = FieldType::parse(&type_name) else {
            tracing::error!(object, type_name, "unknown field type in metadata; field skipped");
            continue;
        };
        let choices: Vec<Choice> = serde_json::from_str(&r.string(7)?).unwrap_or_default();
        let field = FieldDef {
            name: r.string(1)?,
            label: r.string(2)?,
            field_type,
            required: r.bool(4)?,
            filterable: r.bool(5)?,
            searchable: r.bool(6)?,
            choices,
            target: r.opt_string(8)?,
            standard: r.bool(9)?,
            archived: r.bool(10)?,
            position: i32::try_from(r.i64(11)?).unwrap_or(i32::MAX),
            unique: r.bool(12)?,
        };
        if let Some(o) = map.get_mut(&object) {
            o.fields.push(field);
        }
    }
    let policy = match policy {
        Some(r) => {
            let text = r.string(0)?;
            serde_json::from_str(&text)
                .map_err(|e| sqlx::Error::Protocol(format!("the stored access policy is not valid: {e}")))?
        }
        None => Default::default(),
    };
    Ok(Schema {
        version,
        objects: map,
        policy,
    })
}

/// Store the access policy and bump the schema version, so every process reads it anew.
pub async fn set_policy(tx: &mut Tx, backend: Backend, policy: &AccessPolicy) -> Result<(), sqlx::Error> {
    let text = serde_json::to_string(policy).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    tx.exec()
        .execute(Sql::new(
            format!(
                "UPDATE meta_state SET access_policy = {}, schema_version = schema_version + 1 WHERE id = 1",
                backend.param(1)
            ),
            vec![text.into()],
        ))
        .await
        .map(|_| ())
}

pub async fn insert_object(
    tx: &mut Tx,
    backend: Backend,
    def: &ObjectDef,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("meta_object")
        .columns([
            "name",
            "label",
            "label_plural",
            "standard",
            "archived",
            "title_fields",
            "created_at",
        ])
        .values_panic([
            def.name.clone().into(),
            def.label.clone().into(),
            def.label_plural.clone().into(),
            def.standard.into(),
            def.archived.into(),
            serde_json::to_string(&def.title_fields)
                .unwrap_or_else(|_| "[]".into())
                .into(),
            Expr::val(backend.datetime(Some(now))),
        ])
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await?;
    for field in &def.fields {
        insert_field(tx, backend, &def.name, field).await?;
    }
    Ok(())
}

pub async fn update_object(tx: &mut Tx, backend: Backend, def: &ObjectDef) -> Result<u64, sqlx::Error> {
    let stmt = Query::update()
        .table("meta_object")
        .values([
            ("label", def.label.clone().into()),
            ("label_plural", def.label_plural.clone().into()),
            ("archived", def.archived.into()),
        ])
        .and_where(Expr::col("name").eq(def.name.clone()))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await
}

pub async fn insert_field(tx: &mut Tx, backend: Backend, object: &str, f: &FieldDef) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("meta_field")
        .columns([
            "object",
            "name",
            "label",
            "field_type",
            "required",
            "filterable",
            "searchable",
            "choices",
            "target",
            "standard",
            "archived",
            "position",
            "unique_value",
        ])
        .values_panic([
            object.to_string().into(),
            f.name.clone().into(),
            f.label.clone().into(),
            f.field_type.as_str().to_string().into(),
            f.required.into(),
            f.filterable.into(),
            f.searchable.into(),
            serde_json::to_string(&f.choices).unwrap_or_else(|_| "[]".into()).into(),
            f.target.clone().into(),
            f.standard.into(),
            f.archived.into(),
            i64::from(f.position).into(),
            f.unique.into(),
        ])
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn update_field(tx: &mut Tx, backend: Backend, object: &str, f: &FieldDef) -> Result<u64, sqlx::Error> {
    let stmt = Query::update()
        .table("meta_field")
        .values([
            ("label", f.label.clone().into()),
            ("filterable", f.filterable.into()),
            ("searchable", f.searchable.into()),
            (
                "choices",
                serde_json::to_string(&f.choices).unwrap_or_else(|_| "[]".into()).into(),
            ),
            ("archived", f.archived.into()),
            ("required", f.required.into()),
            ("unique_value", f.unique.into()),
        ])
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("name").eq(f.name.clone()))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await
}

pub async fn delete_field(tx: &mut Tx, backend: Backend, object: &str, name: &str) -> Result<u64, sqlx::Error> {
    let stmt = Query::delete()
        .from_table("meta_field")
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("name").eq(name.to_string()))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await
}
