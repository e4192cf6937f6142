//! The workspace's schema (`/objects`, their fields), full-text search across objects, and this
//! document itself.

use super::{Doc, Op, data_of, line, or_null, path_param, schema_ref, strict};
use anchora_core::meta::{FieldType, SYSTEM_COLUMNS};
use serde_json::{Value as Json, json};

const TAG: &str = "Schema";

/// Names the server refuses for objects and fields: its own columns and words the API uses.
fn reserved() -> Vec<&'static str> {
    let mut names: Vec<&str> = SYSTEM_COLUMNS.to_vec();
    names.extend(["object", "links", "withheld", "filter", "sort", "cursor", "limit"]);
    names
}

/// An API name: 1–40 of a–z, 0–9 and _, starting with a letter, not a reserved word.
fn api_name(taken: &[&str]) -> Json {
    let mut refused: Vec<&str> = reserved();
    refused.extend(taken);
    json!({"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$", "not": {"enum": refused},
        "description": "1–40 characters: a–z, 0–9 and _, starting with a letter; not a reserved word or a name in use (422)"})
}

fn new_field(taken: &[&str]) -> Json {
    let types: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
    strict(
        &["name", "label", "type"],
        json!({
            "name": api_name(taken), "label": line(80), "type": {"enum": types},
            "required": {"type": "boolean", "description": "refused while records lack a value"},
            "filterable": {"type": ["boolean", "null"]}, "searchable": {"type": "boolean"},
            "unique": {"type": "boolean", "description": "only for text, e-mail, phone and URL fields; refused while two records share a value"},
            "choices": {"type": "array", "items": schema_ref("NewChoice"),
                "description": "for select and multi_select fields (at least one), and only those"},
            "target": {"type": ["string", "null"], "description": "the object a relation field points at (relation fields only)"}}),
    )
}

pub(super) fn add(doc: &mut Doc) {
    let objects: Vec<String> = doc.object_names().iter().map(|s| (*s).to_string()).collect();
    let taken: Vec<&str> = objects.iter().map(String::as_str).collect();
    doc.named(
        "NewChoice",
        strict(
            &["value", "label"],
            json!({"value": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,59}$"}, "label": line(80)}),
        ),
    );
    let obj = schema_ref("ObjectDefinition");
    let field = schema_ref("FieldDefinition");
    let field_of_new_object = new_field(&[]);
    doc.op(
        "get",
        "/objects",
        Op::new("list_objects", TAG, "The live objects and their fields").ok("200", "Objects", data_of(obj.clone())),
    );
    doc.op(
        "post",
        "/objects",
        Op::new(
            "create_object",
            TAG,
            "Create a custom object (administrators); it gets a required `name` text field",
        )
        .body(strict(
            &["name", "label"],
            json!({"name": api_name(&taken), "label": line(80), "label_plural": or_null(line(80)),
                    "fields": {"type": "array", "items": field_of_new_object}}),
        ))
        .ok("201", "Created", obj.clone())
        .problems(&["409"]),
    );
    let object_param = doc.object_param();
    let object = || object_param.clone();
    doc.op(
        "get",
        "/objects/{object}",
        Op::new("get_object", TAG, "")
            .params(vec![object()])
            .ok("200", "The object", obj.clone()),
    );
    doc.op(
        "patch",
        "/objects/{object}",
        Op::new("update_object", TAG, "Rename or archive an object (administrators; standard objects are not archived)")
            .params(vec![object()])
            .body(strict(
                &[],
                json!({"label": or_null(line(80)), "label_plural": or_null(line(80)), "archived": {"type": ["boolean", "null"]}}),
            ))
            .ok("200", "Changed", obj),
    );
    doc.op(
        "post",
        "/objects/{object}/fields",
        Op::new(
            "add_field",
            TAG,
            "Add a custom field (administrators, and key users when the policy lets them)",
        )
        .params(vec![object()])
        .body(new_field(&[]))
        .ok("201", "Added", field.clone())
        .problems(&["409"]),
    );
    let field_param = path_param("field", json!({"type": "string"}), "a field's API name");
    doc.op(
        "patch",
        "/objects/{object}/fields/{field}",
        Op::new("update_field", TAG, "Change a field's label, choices, flags; archive or bring it back")
            .params(vec![object(), field_param.clone()])
            .body(strict(
                &[],
                json!({"label": or_null(line(80)), "filterable": {"type": ["boolean", "null"]}, "searchable": {"type": ["boolean", "null"]},
                    "archived": {"type": ["boolean", "null"]},
                    "unique": {"type": ["boolean", "null"], "description": "Refused with 422 naming the records while two share a value."},
                    "choices": {"type": ["array", "null"], "items": schema_ref("NewChoice")}}),
            ))
            .ok("200", "Changed", field.clone()),
    );
    doc.op(
        "delete",
        "/objects/{object}/fields/{field}",
        Op::new(
            "remove_field",
            TAG,
            "Archive a custom field; with purge=true, drop an archived field and its data",
        )
        .params(vec![
            object(),
            field_param,
            super::flag("purge", "drop an archived field and its data"),
        ])
        .ok(
            "200",
            "Archived or purged",
            json!({"type": "object", "properties": {"field": field, "purged": {"type": "boolean"}}}),
        ),
    );
    doc.op(
        "get",
        "/search",
        Op::new("search", "Search", "Full-text search over every object's searchable fields, as far as you may see")
            .params(vec![
                json!({"name": "q", "in": "query", "required": true, "description": "words to find (at least one)",
                    "schema": {"type": "string", "pattern": "[A-Za-z0-9]"}}),
                super::limit_query(),
            ])
            .ok("200", "Hits, best first", data_of(json!({
                "type": "object", "properties": {"object": {"type": "string"}, "id": {"type": "string", "format": "uuid"},
                    "title": {"type": "string"}, "rank": {"type": "number"}}}))),
    );
    doc.op(
        "get",
        "/openapi.json",
        Op::new("openapi", TAG, "This document, as the workspace's metadata is now").ok(
            "200",
            "This document",
            json!({"type": "object"}),
        ),
    );
}
