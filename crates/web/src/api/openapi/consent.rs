//! Consent per purpose: the purposes people may consent to, and a person's consents with the
//! history that proves them.

use super::{Doc, Op, data_of, line, optional_text, strict, uuid_param};
use serde_json::json;

const TAG: &str = "Consent";

pub(super) fn add(doc: &mut Doc) {
    let time = json!({"type": "string", "format": "date-time"});
    let purpose = doc.named(
        "Purpose",
        json!({"type": "object", "required": ["key", "name", "description", "created_at"], "properties": {
            "key": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
            "created_at": time}}),
    );
    let event = doc.named(
        "ConsentEvent",
        json!({"type": "object", "required": ["person", "purpose", "state", "source", "at"], "properties": {
            "person": {"type": "string", "format": "uuid"}, "purpose": {"type": "string"},
            "state": {"type": "string", "enum": ["granted", "withdrawn"]}, "source": {"type": "string"},
            "at": {"type": "string", "format": "date-time"}, "by": {"type": ["string", "null"], "format": "uuid"}}}),
    );
    doc.op(
        "get",
        "/consent-purposes",
        Op::new(
            "list_purposes",
            TAG,
            "The purposes people may consent to (newsletter, events …)",
        )
        .ok("200", "Purposes by name", data_of(purpose.clone())),
    );
    doc.op(
        "post",
        "/consent-purposes",
        Op::new("add_purpose", TAG, "A new purpose (those who may send mass mailings)")
            .body(strict(
                &["key", "name"],
                json!({"key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                    "name": line(100), "description": optional_text(2000)}),
            ))
            .ok("201", "The purpose", purpose.clone())
            .problems(&["409"]),
    );
    let object = json!({"name": "object", "in": "path", "required": true, "schema": {"type": "string", "enum": ["person"]},
        "description": "person: only people consent"});
    doc.op(
        "get",
        "/records/{object}/{id}/consents",
        Op::new(
            "person_consents",
            TAG,
            "A person's consent to each purpose now, whether they said no to e-mail altogether, and every consent given or withdrawn",
        )
        .params(vec![object.clone(), uuid_param("id", "the person's id")])
        .ok(
            "200",
            "Their consents",
            json!({"type": "object", "required": ["no_email", "purposes", "history"], "properties": {
                "no_email": {"type": "boolean"},
                "purposes": {"type": "array", "items": {"type": "object", "required": ["purpose"], "properties": {
                    "purpose": purpose, "consent": {"anyOf": [event.clone(), {"type": "null"}]}}}},
                "history": {"type": "array", "items": event.clone()}}}),
        ),
    );
    doc.op(
        "post",
        "/records/{object}/{id}/consents",
        Op::new(
            "record_consent",
            TAG,
            "Record a person's consent to a purpose, given or withdrawn, with where it came from",
        )
        .params(vec![object, uuid_param("id", "the person's id")])
        .body(strict(
            &["purpose", "state", "source"],
            json!({"purpose": {"type": "string", "minLength": 1},
                "state": {"type": "string", "enum": ["granted", "withdrawn"]}, "source": line(200)}),
        ))
        .ok("201", "The consent as kept", event),
    );
}
