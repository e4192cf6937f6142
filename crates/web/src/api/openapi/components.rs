//! What several areas share: the problem every error is, its responses by status, and the
//! schemas of the schema API (filters, changes, object and field definitions).

use anchora_core::filter::Op;
use anchora_core::meta::FieldType;
use serde_json::{Map, Value as Json, json};

/// The named schemas every document has; areas add theirs.
pub(super) fn schemas() -> Map<String, Json> {
    let mut schemas = Map::new();
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object", "required": ["type", "title", "status", "code"],
            "description": "RFC 9457 problem details, sent as application/problem+json.",
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "code": {"type": "string", "description": "stable; never renamed"},
                "instance": {"type": "string", "format": "uri-reference", "description": "this request (urn:anchora:request:ID, the same id as the x-request-id header and the server's log lines)"},
                "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                "current": {"description": "On a version conflict: the record or item as it is now."},
                "existing": {"type": "object", "description": "A value a unique field holds already: the record that holds it (only when the caller may see it).",
                    "properties": {"field": {"type": "string"}, "object": {"type": "string"}, "id": {"type": "string", "format": "uuid"}}}
            }
        }),
    );
    let ops: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
    schemas.insert("Filter".into(), json!({
        "description": "A filter: a leaf {field, op, value}, or {and: [...]}, {or: [...]}, {not: {...}}. Text, long text, e-mail and URL values compare ignoring case (the same on every database: Unicode lower case, composed letters, ß as ss), so eq, in, lt…, contains and starts_with find Öberg, ÖBERG and öberg alike. {field: id, op: in_selection, value: a selection's id} keeps the records of a selection (as you may see them): in lists, exports and reports.",
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
        "actor": {"type": ["string", "null"], "format": "uuid"}, "op": {"enum": ["create", "update", "delete", "restore", "erase"], "description": "erase: the personal data of the record was erased (GDPR)"},
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
        "name": {"type": "string"}, "label": {"type": "string"},
        "type": {"enum": types}, "required": {"type": "boolean"}, "filterable": {"type": "boolean"},
        "searchable": {"type": "boolean"}, "target": {"type": ["string", "null"]}, "archived": {"type": "boolean"},
        "unique": {"type": "boolean", "description": "No two live records hold the same value (text ignoring case); imports match on it."},
        "choices": {"type": "array", "items": {"$ref": "#/components/schemas/Choice"}}}}),
    );
    schemas.insert(
        "Choice".into(),
        json!({"type": "object", "required": ["value", "label"], "additionalProperties": false,
            "properties": {"value": {"type": "string"}, "label": {"type": "string"}}}),
    );
    schemas
}

/// `ProblemNNN`: one response per status an operation may answer with a problem.
pub(super) fn responses() -> Map<String, Json> {
    let mut responses = Map::new();
    for (code, desc) in [
        (
            "400",
            "Bad request: not JSON, a malformed query string, or a filter, sort or cursor that is not valid",
        ),
        (
            "401",
            "Authentication required: no token or session, or one that is not valid (WWW-Authenticate: Bearer)",
        ),
        (
            "403",
            "Not allowed: the caller's role, the token's scope, or (for a browser session) a missing CSRF token",
        ),
        (
            "404",
            "Not found: no such object, record, item or endpoint, or one the caller may not see",
        ),
        (
            "409",
            "Conflict: it exists already, the record is in the trash, or (code `conflict`) the request does not suit its state now, such as cancelling a job that has ended",
        ),
        (
            "412",
            "Stale version: someone changed it first; the current state is in `current` (and its ETag)",
        ),
        ("413", "The body is too large"),
        (
            "415",
            "The body is not of the content type the operation takes (application/json unless it says otherwise)",
        ),
        ("422", "Validation failed; `errors` names each field and why"),
        (
            "428",
            "The write must name the version it changes (If-Match or \"version\")",
        ),
        (
            "429",
            "Too many attempts or too many at once (password changes; uploads: four per server, two per user); see Retry-After",
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
    responses
}
