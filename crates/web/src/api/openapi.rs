//! The OpenAPI 3.1 document, generated at run time from the workspace's metadata: a custom
//! field added a second ago is in it.

use anchora_core::filter::Op;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, Schema};
use serde_json::{Map, Value as Json, json};

fn field_schema(f: &FieldDef) -> Json {
    let base = match f.field_type {
        FieldType::Text => {
            json!({"type": ["string", "null"], "maxLength": anchora_core::value::MAX_TEXT_CHARS})
        }
        FieldType::LongText => {
            json!({"type": ["string", "null"], "maxLength": anchora_core::value::MAX_LONG_TEXT_CHARS})
        }
        FieldType::Number => json!({"type": ["number", "null"]}),
        FieldType::Money => {
            json!({"type": ["number", "string", "null"], "description": "An amount with at most two decimals."})
        }
        FieldType::Percent => json!({"type": ["number", "null"], "minimum": 0, "maximum": 100}),
        FieldType::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldType::Datetime => json!({"type": ["string", "null"], "format": "date-time"}),
        FieldType::Boolean => json!({"type": ["boolean", "null"]}),
        FieldType::Select => {
            let mut values: Vec<Json> = f.choices.iter().map(|c| Json::String(c.value.clone())).collect();
            values.push(Json::Null);
            json!({"enum": values})
        }
        FieldType::MultiSelect => {
            let values: Vec<Json> = f.choices.iter().map(|c| Json::String(c.value.clone())).collect();
            json!({"type": ["array", "null"], "items": {"enum": values}, "uniqueItems": true})
        }
        FieldType::Email => json!({"type": ["string", "null"], "format": "email"}),
        FieldType::Phone => json!({"type": ["string", "null"]}),
        FieldType::Url => json!({"type": ["string", "null"], "format": "uri"}),
        FieldType::Relation => json!({"type": ["string", "null"], "format": "uuid",
            "description": format!("Id of a {}.", f.target.as_deref().unwrap_or("record"))}),
        FieldType::User => {
            json!({"type": ["string", "null"], "format": "uuid", "description": "Id of a user."})
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

fn record_schemas(object: &ObjectDef) -> (Json, Json) {
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
    props.insert("owner".into(), json!({"type": ["string", "null"], "format": "uuid"}));
    let mut input = Map::new();
    input.insert("owner".into(), json!({"type": ["string", "null"], "format": "uuid"}));
    input.insert(
        "version".into(),
        json!({"type": "integer", "minimum": 1, "description": "The version being changed (or send If-Match)."}),
    );
    for f in object.active_fields() {
        props.insert(f.name.clone(), field_schema(f));
        input.insert(f.name.clone(), field_schema(f));
    }
    let withheld = json!({"type": "array", "items": {"type": "string"}, "readOnly": true,
        "description": "Relation fields left out because they point at a record the caller may not see; writing the record back keeps them (sent back, this is ignored)."});
    props.insert("withheld".into(), withheld.clone());
    input.insert("withheld".into(), withheld);
    if object.is_activity() {
        let link = json!({"type": "object", "required": ["object", "id"], "additionalProperties": false,
            "properties": {"object": {"type": "string"}, "id": {"type": "string", "format": "uuid"}}});
        let withheld = json!({"type": "object", "required": ["object", "withheld"], "additionalProperties": false,
            "description": "A link to a record the caller may not see; kept when the links are written back.",
            "properties": {"object": {"type": "string"}, "withheld": {"const": true}}});
        let links =
            json!({"type": "array", "maxItems": anchora_core::record::MAX_LINKS, "items": {"oneOf": [link, withheld]}});
        props.insert("links".into(), links.clone());
        input.insert("links".into(), links);
    }
    let required: Vec<&str> = object
        .active_fields()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    let record = json!({"type": "object", "title": object.label, "properties": props});
    let input = json!({"type": "object", "title": format!("{} input", object.label), "properties": input,
        "additionalProperties": false, "description": format!("Required when creating: {}.", if required.is_empty() { "nothing".to_string() } else { required.join(", ") })});
    (record, input)
}

fn problem_responses(codes: &[&str]) -> Map<String, Json> {
    codes
        .iter()
        .map(|c| {
            (
                (*c).to_string(),
                json!({"$ref": format!("#/components/responses/Problem{c}")}),
            )
        })
        .collect()
}

pub fn openapi_document(schema: &Schema, workspace: &str) -> Json {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let ops: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object", "required": ["type", "title", "status", "code"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "code": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                "current": {"type": "object", "description": "On a version conflict: the record as it is now."},
                "existing": {"type": "object", "description": "A value a unique field holds already: the record that holds it (only when the caller may see it).",
                    "properties": {"field": {"type": "string"}, "object": {"type": "string"}, "id": {"type": "string", "format": "uuid"}}}
            }
        }),
    );
    schemas.insert("Filter".into(), json!({
        "description": "A filter: a leaf {field, op, value}, or {and: [...]}, {or: [...]}, {not: {...}}. Text, long text, e-mail and URL values compare ignoring case (the same on every database: Unicode lower case, composed letters, ß as ss), so eq, in, lt…, contains and starts_with find Öberg, ÖBERG and öberg alike.",
        "oneOf": [
            {"type": "object", "required": ["field", "op"], "additionalProperties": false,
             "properties": {"field": {"type": "string"}, "op": {"enum": ops}, "value": {}}},
            {"type": "object", "required": ["and"], "additionalProperties": false, "properties": {"and": {"type": "array", "items": {"$ref": "#/components/schemas/Filter"}}}},
            {"type": "object", "required": ["or"], "additionalProperties": false, "properties": {"or": {"type": "array", "items": {"$ref": "#/components/schemas/Filter"}}}},
            {"type": "object", "required": ["not"], "additionalProperties": false, "properties": {"not": {"$ref": "#/components/schemas/Filter"}}}
        ]
    }));
    schemas.insert("Change".into(), json!({"type": "object", "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
        "actor": {"type": ["string", "null"], "format": "uuid"}, "op": {"enum": ["create", "update", "delete", "restore"]},
        "field": {"type": ["string", "null"]}, "old": {}, "new": {}}}));
    schemas.insert(
        "ObjectDefinition".into(),
        json!({"type": "object", "properties": {
        "name": {"type": "string"}, "label": {"type": "string"}, "label_plural": {"type": "string"},
        "standard": {"type": "boolean"}, "archived": {"type": "boolean"},
        "title_fields": {"type": "array", "items": {"type": "string"}},
        "fields": {"type": "array", "items": {"$ref": "#/components/schemas/FieldDefinition"}}}}),
    );
    let types: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
    schemas.insert(
        "FieldDefinition".into(),
        json!({"type": "object", "required": ["name", "label", "type"], "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"}, "label": {"type": "string"},
        "type": {"enum": types}, "required": {"type": "boolean"}, "filterable": {"type": "boolean"},
        "searchable": {"type": "boolean"}, "target": {"type": "string"}, "archived": {"type": "boolean"},
        "unique": {"type": "boolean", "description": "No two live records hold the same value (text ignoring case); imports match on it."},
        "choices": {"type": "array", "items": {"type": "object", "required": ["value", "label"],
            "properties": {"value": {"type": "string"}, "label": {"type": "string"}}}}}}),
    );

    let id_param =
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}});
    let if_match = json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
        "description": "The ETag of the version being changed. A change needs it unless the body has \"version\"; `*` matches any current version, so it names none (a delete or restore goes through, a change still needs \"version\")."});
    for object in schema.objects.values().filter(|o| !o.archived) {
        let name = schema_name(object);
        let (record, input) = record_schemas(object);
        schemas.insert(name.clone(), record);
        schemas.insert(format!("{name}Input"), input);
        let rec_ref = json!({"$ref": format!("#/components/schemas/{name}")});
        let input_ref = json!({"$ref": format!("#/components/schemas/{name}Input")});
        let one = |status: &str, desc: &str| -> Map<String, Json> {
            let mut m = Map::new();
            m.insert(
                status.into(),
                json!({"description": desc, "headers": {"ETag": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": rec_ref.clone()}}}),
            );
            m
        };
        let with_problems = |mut m: Map<String, Json>, codes: &[&str]| {
            m.extend(problem_responses(codes));
            Json::Object(m)
        };
        let sortable: Vec<&str> = object
            .active_fields()
            .filter(|f| f.filterable && f.field_type.indexable())
            .map(|f| f.name.as_str())
            .collect();
        paths.insert(format!("/records/{}", object.name), json!({
            "get": {
                "operationId": format!("list_{}", object.name), "summary": format!("List {}", object.label_plural), "tags": [object.label_plural],
                "parameters": [
                    {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Filter"}}}},
                    {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": format!("Comma-separated, '-' for descending. Sortable: {}, created_at, updated_at, owner.", sortable.join(", "))},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": anchora_core::query::MAX_LIMIT, "default": anchora_core::query::DEFAULT_LIMIT}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "trash", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "count", "in": "query", "schema": {"type": "boolean"}, "description": "also count the records the filter finds that you may see (`total`), up to 10,000"}
                ],
                "responses": with_problems({
                    let mut m = Map::new();
                    m.insert("200".into(), json!({"description": "A page", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["data", "next_cursor"], "properties": {
                            "data": {"type": "array", "items": rec_ref}, "next_cursor": {"type": ["string", "null"]},
                            "total": {"type": "object", "description": "with count=true", "properties": {"count": {"type": "integer"}, "more": {"type": "boolean", "description": "more than `count` (10,000) match"}}}}}}}}));
                    m
                }, &["400", "401", "403", "404"])
            },
            "post": {
                "operationId": format!("create_{}", object.name), "summary": format!("Create a {}", object.label), "tags": [object.label_plural],
                "requestBody": {"required": true, "content": {"application/json": {"schema": input_ref}}},
                "responses": with_problems(one("201", "Created"), &["400", "401", "403", "413", "415", "422"])
            }
        }));
        paths.insert(format!("/records/{}/{{id}}", object.name), json!({
            "parameters": [id_param],
            "get": {"operationId": format!("get_{}", object.name), "tags": [object.label_plural],
                "responses": with_problems(one("200", "The record"), &["401", "404"])},
            "patch": {"operationId": format!("update_{}", object.name), "tags": [object.label_plural],
                "parameters": [if_match],
                "requestBody": {"required": true, "content": {"application/json": {"schema": input_ref}}},
                "responses": with_problems(one("200", "Updated"), &["400", "401", "403", "404", "409", "412", "422", "428"])},
            "delete": {"operationId": format!("delete_{}", object.name), "summary": "Move to the trash", "tags": [object.label_plural],
                "parameters": [if_match],
                "responses": with_problems(one("200", "In the trash"), &["401", "403", "404", "412"])}
        }));
        paths.insert(
            format!("/records/{}/{{id}}/restore", object.name),
            json!({
                "parameters": [id_param],
                "post": {"operationId": format!("restore_{}", object.name), "tags": [object.label_plural],
                    "responses": with_problems(one("200", "Restored"), &["401", "403", "404", "412", "422"])}
            }),
        );
        paths.insert(format!("/records/{}/bulk", object.name), json!({
            "post": {
                "operationId": format!("bulk_{}", object.name),
                "summary": format!("Change or trash many {} at once: each record is its own write at the version given, so one changed meanwhile is left alone and listed, never overwritten", object.label_plural),
                "tags": [object.label_plural],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": false, "required": ["records"],
                    "description": "give `set` (the fields to set, as an update takes them) or `delete: true`",
                    "properties": {
                        "records": {"type": "array", "minItems": 1, "maxItems": anchora_core::bulk::MAX_BULK, "items": {
                            "type": "object", "additionalProperties": false, "required": ["id", "version"], "properties": {
                                "id": {"type": "string", "format": "uuid"},
                                "version": {"type": "integer", "description": "the version you saw, as a single write's If-Match"}}}},
                        "set": input_ref,
                        "delete": {"type": "boolean"}}}}}},
                "responses": with_problems({
                    let mut m = Map::new();
                    m.insert("200".into(), json!({"description": "How each record fared, in the order given", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["changed", "not_changed", "results"], "properties": {
                            "changed": {"type": "integer"}, "not_changed": {"type": "integer"},
                            "results": {"type": "array", "items": {"type": "object", "required": ["id", "changed"], "properties": {
                                "id": {"type": "string"}, "changed": {"type": "boolean"},
                                "version": {"type": "integer", "description": "the record's version after the change"},
                                "code": {"type": "string", "description": "why not: the error code one write would answer (version_conflict, not_found, validation_failed, …)"},
                                "detail": {"type": "string"},
                                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}}}}}}}}));
                    m
                }, &["400", "401", "403", "413", "415", "422"])
            }
        }));
        paths.insert(format!("/records/{}/{{id}}/history", object.name), json!({
            "parameters": [id_param],
            "get": {"operationId": format!("history_{}", object.name), "tags": [object.label_plural],
                "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "responses": with_problems({
                    let mut m = Map::new();
                    m.insert("200".into(), json!({"description": "Changes, oldest first", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                        "next_after": {"type": ["integer", "null"]}}}}}}));
                    m
                }, &["401", "404"])}
        }));
    }
    let obj_ref = json!({"$ref": "#/components/schemas/ObjectDefinition"});
    let field_ref = json!({"$ref": "#/components/schemas/FieldDefinition"});
    let ok =
        |desc: &str, schema: &Json| json!({"description": desc, "content": {"application/json": {"schema": schema}}});
    let with = |mut m: Map<String, Json>, codes: &[&str]| {
        m.extend(problem_responses(codes));
        Json::Object(m)
    };
    let single = |status: &str, desc: &str, schema: &Json| {
        let mut m = Map::new();
        m.insert(status.into(), ok(desc, schema));
        m
    };
    paths.insert("/objects".into(), json!({
        "get": {"operationId": "list_objects", "tags": ["Schema"], "responses": with(single("200", "Objects", &json!({"type": "object", "properties": {"data": {"type": "array", "items": obj_ref}}})), &["401"])},
        "post": {"operationId": "create_object", "tags": ["Schema"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "label"],
                "properties": {"name": {"type": "string"}, "label": {"type": "string"}, "label_plural": {"type": "string"},
                "fields": {"type": "array", "items": field_ref}}}}}},
            "responses": with(single("201", "Created", &obj_ref), &["400", "401", "403", "409", "422"])}
    }));
    let object_param = json!({"name": "object", "in": "path", "required": true, "schema": {"type": "string"}});
    let field_param = json!({"name": "field", "in": "path", "required": true, "schema": {"type": "string"}});
    paths.insert("/objects/{object}".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "get_object", "tags": ["Schema"], "responses": with(single("200", "The object", &obj_ref), &["401", "404"])},
        "patch": {"operationId": "update_object", "tags": ["Schema"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                "properties": {"label": {"type": "string"}, "label_plural": {"type": "string"}, "archived": {"type": "boolean"}}}}}},
            "responses": with(single("200", "Updated", &obj_ref), &["400", "401", "403", "404", "422"])}
    }));
    paths.insert(
        "/objects/{object}/fields".into(),
        json!({
            "parameters": [object_param],
            "post": {"operationId": "add_field", "tags": ["Schema"],
                "requestBody": {"required": true, "content": {"application/json": {"schema": field_ref}}},
                "responses": with(single("201", "Added", &field_ref), &["400", "401", "403", "404", "422"])}
        }),
    );
    paths.insert("/objects/{object}/fields/{field}".into(), json!({
        "parameters": [object_param, field_param],
        "patch": {"operationId": "update_field", "tags": ["Schema"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
                "label": {"type": "string"}, "filterable": {"type": "boolean"}, "searchable": {"type": "boolean"}, "archived": {"type": "boolean"},
                "unique": {"type": "boolean", "description": "Refused with 422 naming the records while two share a value."},
                "choices": {"type": "array", "items": {"type": "object"}}}}}}},
            "responses": with(single("200", "Updated", &field_ref), &["400", "401", "403", "404", "422"])},
        "delete": {"operationId": "remove_field", "summary": "Archive a field; with purge=true, drop an archived field and its data", "tags": ["Schema"],
            "parameters": [{"name": "purge", "in": "query", "schema": {"type": "boolean"}}],
            "responses": with(single("200", "Archived or purged", &json!({"type": "object"})), &["401", "403", "404", "422"])}
    }));
    paths.insert("/search".into(), json!({
        "get": {"operationId": "search", "tags": ["Search"],
            "parameters": [{"name": "q", "in": "query", "required": true, "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": with(single("200", "Hits, best first", &json!({"type": "object", "properties": {"data": {"type": "array", "items": {
                "type": "object", "properties": {"object": {"type": "string"}, "id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}, "rank": {"type": "number"}}}}}})), &["400", "401", "422"])}
    }));
    let id_path = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}});
    let job = json!({"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "object": {"type": "string"}, "file_name": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "queued", "running", "done", "failed"]},
        "settings": {"type": "object"}, "headers": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "object", "properties": {"last_row": {"type": "integer"}, "created": {"type": "integer"},
            "updated": {"type": "integer"}, "unchanged": {"type": "integer"}, "rejected": {"type": "integer"},
            "merged": {"type": "integer", "description": "rows that repeated an earlier row's match key and went into its record"},
            "warnings": {"type": "integer"}, "related_created": {"type": "integer"}}},
        "summary": {"type": "string", "description": "imported N, updated N, merged N, rejected N, warnings N"},
        "error": {"type": ["string", "null"]}, "rejected_csv": {"type": "string"}, "warnings_csv": {"type": "string"}}});
    paths.insert("/imports".into(), json!({
        "get": {"operationId": "list_imports", "tags": ["Import and export"],
            "responses": with(single("200", "Your imports (everyone's for administrators), newest first", &json!({"type": "object", "properties": {"data": {"type": "array", "items": job}}})), &["401", "403"])},
        "post": {"operationId": "upload_import", "summary": "Upload a CSV or XLSX file (form fields `object` and `file`, at most 64 MB): a draft import with its preview and suggested mapping", "tags": ["Import and export"],
            "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["object", "file"],
                "properties": {"object": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}}}},
            "responses": with(single("201", "The draft import and how the file reads", &json!({"type": "object", "properties": {"import": job, "preview": {"type": "object"}}})), &["401", "403", "404", "413", "415", "422", "429", "503"])}
    }));
    paths.insert("/imports/{id}".into(), json!({
        "parameters": [id_path],
        "get": {"operationId": "get_import", "tags": ["Import and export"], "summary": "The import, its progress, `likely_duplicates` (`total`, and the first 200 `rows`: a row that looks like a record already there, `like_record`, or an earlier row, `like_row`, with `score` and `reasons`), the first 200 `warnings` (`row`, `kind`: unknown_owner, digits_lost, merged_with or column_left_out, `detail`, `message`) and `unknown_owners` (each owner name that is no user, once, with its `rows`)", "responses": with(single("200", "The import and its progress", &job), &["401", "403", "404"])}
    }));
    paths.insert("/imports/{id}/start".into(), json!({
        "parameters": [id_path],
        "post": {"operationId": "start_import", "summary": "Start a draft import with its mapping (a finished one starts again as a new import of the same file); it runs in the background", "tags": ["Import and export"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
                "mapping": {"type": "object", "additionalProperties": {"type": ["string", "null"]}, "description": "column header → field (`first_name`, `company.org_number`, `owner`); null skips the column; a column not named keeps the field suggested for it, and a suggestion for a field a named column fills is left out (a warning on row 1)"},
                "match_on": {"type": ["string", "null"], "description": "the field rows are matched on to update records; \"\" always creates"},
                "create_related": {"type": "boolean"}, "dry_run": {"type": "boolean"},
                "default_owner": {"type": ["string", "null"], "description": "e-mail of the active user who owns new records whose owner column names no user (default: you); 422 naming `default_owner` when no active user has it"}}}}}},
            "responses": with(single("202", "Queued", &job), &["400", "401", "403", "404", "409", "422", "503"])}
    }));
    let csv_report = |operation: &str, summary: &str| {
        let mut ok = Map::new();
        ok.insert(
            "200".into(),
            json!({"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {"schema": {"type": "string"}}}}),
        );
        json!({
            "parameters": [id_path],
            "get": {"operationId": operation, "summary": summary, "tags": ["Import and export"],
                "responses": with(ok, &["401", "403", "404"])}
        })
    };
    paths.insert(
        "/imports/{id}/rejected.csv".into(),
        csv_report(
            "rejected_rows",
            "Every rejected row with its row number and reason, as CSV",
        ),
    );
    paths.insert(
        "/imports/{id}/warnings.csv".into(),
        csv_report(
            "import_warnings",
            "Every warning on an imported row (row, kind, warning), as CSV",
        ),
    );
    paths.insert("/records/{object}/export".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "export_records", "summary": "Stream the records you may see as CSV or XLSX", "tags": ["Import and export"],
            "parameters": [
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "xlsx"]}},
                {"name": "filter", "in": "query", "schema": {"type": "string"}},
                {"name": "sort", "in": "query", "schema": {"type": "string"}},
                {"name": "columns", "in": "query", "schema": {"type": "string"}, "description": "fields, comma-separated"},
                {"name": "ids", "in": "query", "schema": {"type": "string"}, "description": "a selection: record ids, comma-separated"}],
            "responses": with({
                let mut m = Map::new();
                m.insert("200".into(), json!({"description": "The file", "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}));
                m
            }, &["400", "401", "403", "404", "422"])}
    }));
    let pair_ref = json!({"type": "object", "properties": {"score": {"type": "number"},
        "reasons": {"type": "array", "items": {"type": "string"}}, "a": {"type": "object"}, "b": {"type": "object"}}});
    paths.insert("/duplicates/{object}".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "duplicate_queue", "summary": "Open pairs of likely duplicates, best first, with both records", "tags": ["Duplicates"],
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": with(single("200", "The queue", &json!({"type": "object", "properties": {"data": {"type": "array", "items": pair_ref}}})), &["401", "403", "404"])}
    }));
    paths.insert("/duplicates/{object}/scan".into(), json!({
        "parameters": [object_param],
        "post": {"operationId": "scan_duplicates", "summary": "Scan every record you may see; replaces the open pairs (dismissed ones stay dismissed)", "tags": ["Duplicates"],
            "parameters": [{"name": "country", "in": "query", "schema": {"type": "string"}, "description": "calling code for numbers written without one (default 46)"}],
            "responses": with(single("200", "How many pairs are open", &json!({"type": "object", "properties": {"open": {"type": "integer"}}})), &["401", "403", "404"])}
    }));
    paths.insert("/duplicates/{object}/{a}/{b}/dismiss".into(), json!({
        "parameters": [object_param,
            {"name": "a", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
            {"name": "b", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "post": {"operationId": "dismiss_duplicate", "summary": "Not the same: later scans leave the pair alone", "tags": ["Duplicates"],
            "responses": with(single("200", "Dismissed", &json!({"type": "object"})), &["401", "403", "404"])}
    }));
    paths.insert("/quality-rules".into(), json!({
        "get": {"operationId": "quality_rules", "tags": ["Data quality"], "responses": with(single("200", "The rules in force", &json!({"type": "object"})), &["401"])},
        "put": {"operationId": "set_quality_rules", "summary": "Weights of the important fields per object, and the months after which a record is stale (administrators)", "tags": ["Data quality"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["weights", "stale_months"], "properties": {
                "weights": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
                "stale_months": {"type": "integer"}}}}}},
            "responses": with(single("200", "The rules", &json!({"type": "object"})), &["400", "401", "403", "422"])}
    }));
    let currency_schema = json!({"type": "object", "additionalProperties": false, "required": ["reporting"], "properties": {
        "reporting": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code every sum across currencies is shown in"},
        "rates": {"type": "object", "description": "Currency code → units of the reporting currency one unit of it is worth; a currency without a rate is left out of converted sums and named",
            "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000}}}});
    paths.insert("/currency".into(), json!({
        "get": {"operationId": "currency_settings", "summary": "The reporting currency and exchange rates in force", "tags": ["Settings"],
            "responses": with(single("200", "The settings", &currency_schema), &["401", "403"])},
        "put": {"operationId": "set_currency_settings", "summary": "Set the reporting currency and exchange rates (administrators); the rates are read as units of the reporting currency given in the same body", "tags": ["Settings"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": currency_schema}}},
            "responses": with(single("200", "The settings as saved (a rate for the reporting currency itself is dropped)", &currency_schema), &["400", "401", "403", "413", "415", "422"])}
    }));
    paths.insert("/quality/{object}".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "quality_report", "summary": "Completeness, invalid values, staleness and open duplicates over the records you may see: overall, per owner, per team", "tags": ["Data quality"],
            "responses": with(single("200", "The report", &json!({"type": "object"})), &["401", "404"])}
    }));
    paths.insert("/quality/{object}/trend".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "quality_trend", "summary": "The kept days, oldest first: overall for data stewards, your own records' otherwise", "tags": ["Data quality"],
            "parameters": [{"name": "days", "in": "query", "schema": {"type": "integer"}}],
            "responses": with(single("200", "Days", &json!({"type": "object"})), &["401", "404"])}
    }));
    paths.insert("/quality/{object}/snapshot".into(), json!({
        "parameters": [object_param],
        "post": {"operationId": "keep_quality_day", "summary": "Keep today's figures now (the server keeps them once a day)", "tags": ["Data quality"],
            "responses": with(single("200", "Rows kept", &json!({"type": "object"})), &["401", "403", "404"])}
    }));
    paths.insert("/quality/{object}/latest".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "quality_latest", "summary": "The newest kept day's figures: every row for key users and admins, your own and your team's otherwise", "tags": ["Data quality"],
            "responses": with(single("200", "The day and its rows", &json!({"type": "object", "properties": {"day": {"type": ["string", "null"], "format": "date"}, "everyone": {"type": "boolean"}, "rows": {"type": "array", "items": {"type": "object"}}}})), &["401", "404"])}
    }));
    paths.insert("/quality/{object}/fix-list".into(), json!({
        "parameters": [object_param],
        "get": {"operationId": "fix_list", "summary": "Your own records with something to fix, worst first", "tags": ["Data quality"],
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": with(single("200", "Records and their problems, and how many in all", &json!({"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"}}})), &["401", "404"])}
    }));
    paths.insert("/records/{object}/merge".into(), json!({
        "parameters": [object_param],
        "post": {"operationId": "merge_records", "summary": "Merge `gone` into `keep`: chosen values, everything pointing at `gone` re-pointed, `gone` to the trash; undoable", "tags": ["Duplicates"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["keep", "gone", "keep_version", "gone_version"],
                "properties": {"keep": {"type": "string", "format": "uuid"}, "gone": {"type": "string", "format": "uuid"},
                "keep_version": {"type": "integer"}, "gone_version": {"type": "integer"},
                "values": {"type": "object", "additionalProperties": {"type": "string", "enum": ["keep", "gone"]}}}}}}},
            "responses": with(single("200", "The merge, as the journal keeps it", &json!({"type": "object"})), &["400", "401", "403", "404", "409", "412", "422"])}
    }));
    paths.insert("/merges/{id}/undo".into(), json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "post": {"operationId": "undo_merge", "summary": "Undo a merge (refused when the kept record changed since)", "tags": ["Duplicates"],
            "responses": with(single("200", "Undone", &json!({"type": "object"})), &["401", "403", "404", "409", "412"])}
    }));
    paths.insert("/records/{object}/possible-duplicates".into(), json!({
        "parameters": [object_param],
        "post": {"operationId": "possible_duplicates", "summary": "Records that may be the one a create body describes (nothing is written)", "tags": ["Duplicates"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": with(single("200", "Likely matches, best first", &json!({"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}}}})), &["400", "401", "404", "422"])}
    }));
    paths.insert("/openapi.json".into(), json!({
        "get": {"operationId": "openapi", "tags": ["Schema"], "responses": with(single("200", "This document", &json!({"type": "object"})), &["401"])}
    }));
    let mut responses = Map::new();
    for (code, desc) in [
        ("400", "Bad request"),
        ("401", "Authentication required"),
        ("403", "Not allowed"),
        ("404", "Not found"),
        ("409", "Conflict"),
        ("412", "Stale version; the current record is in `current`"),
        ("413", "Body too large"),
        ("415", "Not JSON"),
        ("422", "Validation failed; see `errors`"),
        ("428", "The version is missing"),
        (
            "429",
            "Too many attempts or too many at once (sign-ins, password changes; uploads: four per server, two per user); see Retry-After",
        ),
        (
            "503",
            "Unavailable for now (the database or the server's temporary storage); try again",
        ),
    ] {
        responses.insert(
            format!("Problem{code}"),
            json!({"description": desc,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": format!("Anchora API — workspace {workspace}"), "version": env!("CARGO_PKG_VERSION"),
            "description": "Records of every object, standard and custom, generated from the workspace's metadata."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": responses
        }
    })
}
