//! `/records/{object}…` for each live object: its record schemas (as read, as created, as
//! changed) from the workspace's metadata, and the list, create, read, change, trash, restore,
//! bulk and history operations.

use super::{Doc, Op, query, schema_ref, uuid_param};
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};
use anchora_core::value::{MAX_LONG_TEXT_CHARS, MAX_NUMBER, MAX_TEXT_CHARS};
use serde_json::{Map, Value as Json, json};

/// A year from 1800 to 2299 and a day every month has: what the server takes for sure.
const DATE: &str = "(18|19|20|21|22)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";

/// A field's value as the API answers it: its type, without the checks a write passes (values
/// kept before a rule was tightened still read).
fn read_schema(f: &FieldDef) -> Json {
    let base = match f.field_type {
        FieldType::Text | FieldType::LongText | FieldType::Phone => json!({"type": ["string", "null"]}),
        FieldType::Number | FieldType::Percent => json!({"type": ["number", "null"]}),
        FieldType::Money => {
            json!({"type": ["number", "string", "null"], "description": "An amount with at most two decimals."})
        }
        FieldType::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldType::Datetime => json!({"type": ["string", "null"], "format": "date-time"}),
        FieldType::Boolean => json!({"type": ["boolean", "null"]}),
        FieldType::Select => json!({"type": ["string", "null"]}),
        FieldType::MultiSelect => json!({"type": ["array", "null"], "items": {"type": "string"}}),
        FieldType::Email => json!({"type": ["string", "null"], "format": "email"}),
        FieldType::Url => json!({"type": ["string", "null"], "format": "uri"}),
        FieldType::Relation | FieldType::User => json!({"type": ["string", "null"], "format": "uuid"}),
    };
    let mut map = base.as_object().cloned().unwrap_or_default();
    map.insert("title".into(), Json::String(f.label.clone()));
    map.insert("x-anchora-type".into(), Json::String(f.field_type.as_str().into()));
    Json::Object(map)
}

/// A field's value as a write takes it. Patterns say what the server takes: text
/// on one line, e-mail addresses, phone numbers and web addresses as it checks them, dates in
/// its range.
fn field_schema(f: &FieldDef, required: bool) -> Json {
    let base = match f.field_type {
        FieldType::Text if required => json!({"type": "string", "maxLength": MAX_TEXT_CHARS,
            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$",
            "description": "one line; required, so not blank"}),
        FieldType::Text => json!({"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS,
            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "description": "one line; blank is null"}),
        FieldType::LongText if required => {
            json!({"type": "string", "maxLength": MAX_LONG_TEXT_CHARS, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$"})
        }
        FieldType::LongText => {
            json!({"type": ["string", "null"], "maxLength": MAX_LONG_TEXT_CHARS, "pattern": "^[^\\u0000]*$"})
        }
        FieldType::Number => json!({"type": ["number", "null"], "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}),
        FieldType::Money => json!({"anyOf": [
            {"type": "integer", "minimum": -8_999_999_999_999_i64, "maximum": 8_999_999_999_999_i64},
            {"type": "string", "pattern": "^-?[0-9]{1,12}(\\.[0-9]{1,2})?$"},
            {"type": "null"}],
            "description": "An amount with at most two decimals, below 9 × 10^12: a number, or text such as \"1250.50\"."}),
        FieldType::Percent => json!({"type": ["number", "null"], "minimum": 0, "maximum": 100}),
        FieldType::Date => json!({"type": ["string", "null"], "pattern": format!("^{DATE}$"),
            "description": "YYYY-MM-DD (the server also takes today, today+3d, today-2w, …)"}),
        FieldType::Datetime => json!({"type": ["string", "null"],
            "pattern": format!("^{DATE}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"),
            "description": "RFC 3339, e.g. 2026-11-23T14:30:00Z"}),
        FieldType::Boolean => json!({"type": ["boolean", "null"]}),
        FieldType::Select => {
            let mut values: Vec<Json> = f.choices.iter().map(|c| Json::String(c.value.clone())).collect();
            values.push(Json::Null);
            json!({"enum": values})
        }
        FieldType::MultiSelect => {
            let values: Vec<Json> = f.choices.iter().map(|c| Json::String(c.value.clone())).collect();
            json!({"type": ["array", "null"], "items": {"enum": values}, "uniqueItems": true, "maxItems": f.choices.len()})
        }
        FieldType::Email => json!({"type": ["string", "null"], "maxLength": 254,
            "pattern": "^[A-Za-z0-9_+-]{1,40}(\\.[A-Za-z0-9_+-]{1,20})?@([A-Za-z0-9]{1,30}\\.){1,3}[A-Za-z]{2,12}$",
            "description": "An e-mail address (kept in lower case)."}),
        FieldType::Phone => json!({"type": ["string", "null"], "pattern": "^\\+?([ ()./-]?[0-9]){5,17}$",
            "description": "5–17 digits, with + first if at all, and spaces, ( ) . / - between."}),
        FieldType::Url => json!({"type": ["string", "null"], "maxLength": 2048,
            "pattern": "^https?://[A-Za-z0-9-]{1,30}(\\.[A-Za-z0-9-]{1,30}){1,3}(/[A-Za-z0-9._~/-]{0,60})?$",
            "description": "A web address starting with http:// or https://."}),
        FieldType::Relation => json!({"type": ["string", "null"], "format": "uuid",
            "x-anchora-target": f.target.as_deref().unwrap_or(""),
            "description": format!("Id of a {} you may see (another id is refused with 422).", f.target.as_deref().unwrap_or("record"))}),
        FieldType::User => {
            json!({"type": ["string", "null"], "format": "uuid", "description": "Id of a user (another id is refused with 422)."})
        }
    };
    let mut map = base.as_object().cloned().unwrap_or_default();
    map.insert("title".into(), Json::String(f.label.clone()));
    map.insert("x-anchora-type".into(), Json::String(f.field_type.as_str().into()));
    Json::Object(map)
}

fn schema_name(object: &ObjectDef) -> String {
    let mut name = String::new();
    let mut upper = true;
    for c in object.name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            name.extend(c.to_uppercase());
            upper = false;
        } else {
            name.push(c);
        }
    }
    name
}

/// The record as read, as a create takes it, and as a change takes it.
fn record_schemas(object: &ObjectDef) -> (Json, Json, Json) {
    let mut props = Map::new();
    props.insert(
        "id".into(),
        json!({"type": "string", "format": "uuid", "readOnly": true}),
    );
    props.insert("object".into(), json!({"const": object.name, "readOnly": true}));
    props.insert("version".into(), json!({"type": "integer", "minimum": 1}));
    for ts in ["created_at", "updated_at"] {
        props.insert(
            ts.into(),
            json!({"type": "string", "format": "date-time", "readOnly": true}),
        );
    }
    props.insert(
        "deleted_at".into(),
        json!({"type": ["string", "null"], "format": "date-time", "readOnly": true}),
    );
    for u in ["created_by", "updated_by"] {
        props.insert(
            u.into(),
            json!({"type": ["string", "null"], "format": "uuid", "readOnly": true}),
        );
    }
    let owner = json!({"type": ["string", "null"], "format": "uuid", "x-anchora-type": "user",
        "description": "Id of a user (another id is refused with 422); you by default."});
    props.insert("owner".into(), json!({"type": ["string", "null"], "format": "uuid"}));
    let mut create = Map::new();
    create.insert("owner".into(), owner);
    let mut change = create.clone();
    change.insert(
        "version".into(),
        json!({"type": "integer", "minimum": 1, "maximum": i64::MAX,
            "description": "The version being changed; or send it as If-Match instead (both: they must agree)."}),
    );
    for f in object.active_fields() {
        props.insert(f.name.clone(), read_schema(f));
        create.insert(f.name.clone(), field_schema(f, f.required));
        change.insert(f.name.clone(), field_schema(f, f.required));
    }
    let withheld = json!({"type": "array", "items": {"type": "string"}, "readOnly": true,
        "description": "Relation fields left out because they point at a record the caller may not see; writing the record back keeps them (sent back, this is ignored)."});
    props.insert("withheld".into(), withheld.clone());
    create.insert("withheld".into(), withheld.clone());
    change.insert("withheld".into(), withheld);
    if object.is_activity() {
        let link = json!({"type": "object", "required": ["object", "id"], "additionalProperties": false,
            "properties": {"object": {"type": "string"}, "id": {"type": "string", "format": "uuid"}}});
        let withheld = json!({"type": "object", "required": ["object", "withheld"], "additionalProperties": false,
            "description": "A link to a record the caller may not see; kept when the links are written back.",
            "properties": {"object": {"type": "string"}, "withheld": {"const": true}}});
        let links = json!({"type": "array", "maxItems": anchora_core::record::MAX_LINKS, "items": {"oneOf": [link, withheld]},
            "description": "Records this activity is about; each must exist and be one you may see (else 422)."});
        props.insert("links".into(), links.clone());
        create.insert("links".into(), links.clone());
        change.insert("links".into(), links);
    }
    let required: Vec<&str> = object
        .active_fields()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    let record = json!({"type": "object", "title": object.label, "properties": props});
    let create = json!({"type": "object", "title": format!("New {}", object.label), "properties": create,
        "additionalProperties": false, "required": required});
    let change = json!({"type": "object", "title": format!("{} change", object.label), "properties": change,
        "additionalProperties": false, "required": ["version"],
        "description": "Only the fields sent change. `version` may be left out when If-Match names it."});
    (record, create, change)
}

/// The record as an answer, with its version as ETag.
fn record_answer(record: &Json, description: &str) -> Json {
    json!({"description": description, "headers": {"ETag": {"schema": {"type": "string"}, "description": "the version, as \"N\""}},
        "content": {"application/json": {"schema": record}}})
}

/// `If-Match` on a delete or a restore: optional; `*` matches any current version.
fn if_match(required_for_change: bool) -> Json {
    let description = if required_for_change {
        "The ETag of the version being changed (`\"3\"`, `W/\"3\"` or `3`); instead of \"version\" in the body."
    } else {
        "The ETag of the version being changed (`\"3\"`, `W/\"3\"` or `3`); `*` matches any current version, so the write goes through whatever it is."
    };
    let pattern = if required_for_change {
        "^(W/)?\"?[1-9][0-9]{0,17}\"?$"
    } else {
        "^(\\*|(W/)?\"?[1-9][0-9]{0,17}\"?)$"
    };
    json!({"name": "If-Match", "in": "header", "required": false, "description": description,
        "schema": {"type": "string", "pattern": pattern}})
}

pub(super) fn add(doc: &mut Doc) {
    let objects: Vec<ObjectDef> = doc.schema.objects.values().filter(|o| !o.archived).cloned().collect();
    for object in &objects {
        add_object(doc, object);
    }
}

fn add_object(doc: &mut Doc, object: &ObjectDef) {
    let name = schema_name(object);
    let (record, create, change) = record_schemas(object);
    // A value a record refuses is reported in that record's result (200), so the request takes
    // any fields.
    let set = json!({"type": "object", "description": "the fields to set, as a change takes them (without version); a value a record refuses is reported in its result"});
    let mut filterable: Vec<String> = object
        .active_fields()
        .filter(|f| f.filterable)
        .map(|f| f.name.clone())
        .collect();
    // A related record's fields, one hop away: `company.city`.
    for relation in object.active_fields().filter(|f| f.field_type == FieldType::Relation) {
        if let Ok((relation, target)) = anchora_core::filter::relation_target(doc.schema, object, &relation.name) {
            let fields = target.active_fields().filter(|f| f.filterable).map(|f| f.name.clone());
            let system = ["owner", "created_by", "created_at", "updated_at"]
                .into_iter()
                .filter(|n| target.field(n).is_none())
                .map(String::from);
            filterable.extend(fields.chain(system).map(|f| format!("{}.{f}", relation.name)));
        }
    }
    let filter = doc.named(
        &format!("{name}Filter"),
        json!({
            "description": format!("A filter on {}: a leaf {{field, op, value}}, or {{and: [...]}}, {{or: [...]}}, {{not: {{...}}}}; the op must suit the field's type and the value the op (else 400 invalid_filter). Text compares ignoring case. A leaf's field may be a related record's, one relation away (`company.city`): it holds when the relation points at a live record you may see whose field matches; `ne` and `is_empty` hold for records without one.", object.label_plural),
            "oneOf": [
                {"type": "object", "required": ["field", "op"], "additionalProperties": false,
                 "properties": {"field": {"enum": filterable}, "op": {"enum": anchora_core::filter::Op::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>()}, "value": {}}},
                {"type": "object", "required": ["and"], "additionalProperties": false, "properties": {"and": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}Filter")}}}},
                {"type": "object", "required": ["or"], "additionalProperties": false, "properties": {"or": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}Filter")}}}},
                {"type": "object", "required": ["not"], "additionalProperties": false, "properties": {"not": {"$ref": format!("#/components/schemas/{name}Filter")}}}
            ]
        }),
    );
    let record = doc.named(&name, record);
    let create = doc.named(&format!("{name}Input"), create);
    let change = doc.named(&format!("{name}Change"), change);
    let tag = object.label_plural.as_str();
    let base = format!("/records/{}", object.name);
    let o = &object.name;
    let id = || uuid_param("id", "the record's id");
    let sortable: Vec<&str> = object
        .active_fields()
        .filter(|f| f.filterable && f.field_type.indexable())
        .map(|f| f.name.as_str())
        .collect();
    let page = json!({"type": "object", "required": ["data", "next_cursor"], "properties": {
        "data": {"type": "array", "items": record}, "next_cursor": {"type": ["string", "null"]},
        "total": {"type": "object", "description": "with count=true", "properties": {"count": {"type": "integer"},
            "more": {"type": "boolean", "description": "more than `count` (10,000) match"}}}}});
    doc.op(
        "get",
        &base,
        Op::new(&format!("list_{o}"), tag, &format!("List {}", object.label_plural))
            .params(vec![
                json!({"name": "filter", "in": "query", "content": {"application/json": {"schema": filter}}}),
                query(
                    "sort",
                    json!({"type": "string", "pattern": format!("^(-?({0})(,-?({0}))*)?$", sortable.iter().copied().chain(["created_at", "updated_at", "owner"]).collect::<Vec<_>>().join("|"))}),
                    &format!(
                        "Comma-separated, '-' for descending. Sortable: {}, created_at, updated_at, owner.",
                        sortable.join(", ")
                    ),
                ),
                super::limit_query(),
                query("cursor", json!({"type": "string"}), "next_cursor of the page before"),
                super::flag("trash", "the records in the trash instead"),
                super::flag(
                    "count",
                    "also count the records the filter finds that you may see (`total`), up to 10,000",
                ),
            ])
            .ok("200", "A page", page),
    );
    doc.op(
        "post",
        &base,
        Op::new(&format!("create_{o}"), tag, &format!("Create a {}", object.label))
            .body(create)
            .answer("201", record_answer(&record, "Created (Location names it)"))
            .problems(&["409"]),
    );
    let one = format!("{base}/{{id}}");
    doc.op(
        "get",
        &one,
        Op::new(&format!("get_{o}"), tag, "")
            .params(vec![id()])
            .answer("200", record_answer(&record, "The record")),
    );
    doc.op(
        "patch",
        &one,
        Op::new(&format!("update_{o}"), tag, "Change the fields sent")
            .params(vec![id(), if_match(true)])
            .body(change)
            .answer("200", record_answer(&record, "Changed"))
            .problems(&["409", "412", "428"]),
    );
    doc.op(
        "delete",
        &one,
        Op::new(&format!("delete_{o}"), tag, "Move to the trash")
            .params(vec![id(), if_match(false)])
            .answer("200", record_answer(&record, "In the trash"))
            .problems(&["409", "412", "422"]),
    );
    doc.op(
        "post",
        &format!("{one}/restore"),
        Op::new(&format!("restore_{o}"), tag, "Take out of the trash")
            .params(vec![id(), if_match(false)])
            .answer("200", record_answer(&record, "Restored"))
            .problems(&["409", "412", "422"]),
    );
    doc.op(
        "get",
        &format!("{one}/history"),
        Op::new(&format!("history_{o}"), tag, "The record's changes, oldest first")
            .params(vec![
                id(),
                query(
                    "after",
                    json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
                    "next_after of the page before",
                ),
                super::limit_query(),
            ])
            .ok(
                "200",
                "Changes, oldest first",
                json!({"type": "object", "properties": {"data": {"type": "array", "items": schema_ref("Change")},
                    "next_after": {"type": ["integer", "null"]}}}),
            ),
    );
    doc.op("post", &format!("{base}/bulk"), bulk(object, set));
}

fn bulk(object: &ObjectDef, set: Json) -> Op {
    Op::new(
        &format!("bulk_{}", object.name),
        &object.label_plural,
        &format!("Change or trash many {} at once: each record is its own write at the version given, so one changed meanwhile is left alone and listed, never overwritten", object.label_plural),
    )
    .body(json!({
        "type": "object", "additionalProperties": false, "required": ["records"],
        "description": "give `set` (the fields to set) or `delete: true`, not both",
        "oneOf": [{"required": ["set"], "properties": {"delete": {"const": false}}},
            {"required": ["delete"], "not": {"required": ["set"]}, "properties": {"delete": {"const": true}}}],
        "properties": {
            "records": {"type": "array", "minItems": 1, "maxItems": anchora_core::bulk::MAX_BULK, "items": {
                "type": "object", "additionalProperties": false, "required": ["id", "version"], "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "version": {"type": "integer", "minimum": 1, "description": "the version you saw, as a single write's If-Match"}}}},
            "set": set,
            "delete": {"type": "boolean"}}}))
    .ok("200", "How each record fared, in the order given", json!({
        "type": "object", "required": ["changed", "not_changed", "results"], "properties": {
            "changed": {"type": "integer"}, "not_changed": {"type": "integer"},
            "results": {"type": "array", "items": {"type": "object", "required": ["id", "changed"], "properties": {
                "id": {"type": "string"}, "changed": {"type": "boolean"},
                "version": {"type": "integer", "description": "the record's version after the change"},
                "code": {"type": "string", "description": "why not: the error code one write would answer (version_conflict, not_found, validation_failed, …)"},
                "detail": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}}}}}))
}
