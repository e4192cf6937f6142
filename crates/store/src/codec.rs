//! Field values to columns and back: one mapping per field type, per backend.

use crate::db::{Backend, Row};
use anchora_core::meta::FieldType;
use anchora_core::value::Value;
use anchora_core::{RecordId, UserId};
use sea_query::Value as Sv;

/// The column type of a field on a backend.
pub fn column_type(backend: Backend, t: FieldType) -> &'static str {
    use FieldType::*;
    match (t, backend) {
        (Text | LongText | Email | Phone | Url | Select | MultiSelect, _) => "TEXT",
        (Number | Percent, Backend::Sqlite) => "REAL",
        (Number | Percent, Backend::Postgres) => "DOUBLE PRECISION",
        (Money, Backend::Sqlite) => "INTEGER",
        (Money, Backend::Postgres) => "BIGINT",
        (Date, Backend::Sqlite) => "TEXT",
        (Date, Backend::Postgres) => "DATE",
        (Datetime, b) => b.datetime_type(),
        (Boolean, Backend::Sqlite) => "INTEGER",
        (Boolean, Backend::Postgres) => "BOOLEAN",
        (Relation | User, b) => b.uuid_type(),
    }
}

/// Encode a value for a column of type `t`; NULL is typed too, as PostgreSQL needs.
pub fn encode(backend: Backend, t: FieldType, v: &Value) -> Sv {
    use FieldType::*;
    match v {
        Value::Null => match t {
            Text | LongText | Email | Phone | Url | Select | MultiSelect => Sv::String(None),
            Number | Percent => Sv::Double(None),
            Money => Sv::BigInt(None),
            Date => backend.date(None),
            Datetime => backend.datetime(None),
            Boolean => Sv::Bool(None),
            Relation | User => backend.uuid(None),
        },
        Value::Text(s) | Value::Select(s) => Sv::String(Some(s.clone())),
        Value::Number(n) | Value::Percent(n) => Sv::Double(Some(*n)),
        Value::Money(m) => Sv::BigInt(Some(*m)),
        Value::Date(d) => backend.date(Some(*d)),
        Value::DateTime(t) => backend.datetime(Some(*t)),
        Value::Bool(b) => Sv::Bool(Some(*b)),
        Value::MultiSelect(items) => Sv::String(Some(encode_choices(items))),
        Value::Relation(id) => backend.uuid(Some(id.0)),
        Value::User(id) => backend.uuid(Some(id.0)),
    }
}

/// Multi-select values are a JSON array in a TEXT column; a choice is found by its JSON form.
pub fn encode_choices(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub fn decode(row: &Row, i: usize, t: FieldType) -> Result<Value, sqlx::Error> {
    use FieldType::*;
    let v = match t {
        Text | LongText | Email | Phone | Url => row.opt_string(i)?.map(Value::Text),
        Select => row.opt_string(i)?.map(Value::Select),
        MultiSelect => row
            .opt_string(i)?
            .and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok())
            .filter(|v| !v.is_empty())
            .map(Value::MultiSelect),
        Number => row.opt_f64(i)?.map(Value::Number),
        Percent => row.opt_f64(i)?.map(Value::Percent),
        Money => row.opt_i64(i)?.map(Value::Money),
        Date => row.opt_date(i)?.map(Value::Date),
        Datetime => row.opt_datetime(i)?.map(Value::DateTime),
        Boolean => row.opt_bool(i)?.map(Value::Bool),
        Relation => row.opt_uuid(i)?.map(|u| Value::Relation(RecordId(u))),
        User => row.opt_uuid(i)?.map(|u| Value::User(UserId(u))),
    };
    Ok(v.unwrap_or(Value::Null))
}
