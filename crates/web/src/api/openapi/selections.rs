//! Selections: sets of one object's records to write to, report on or export.

use super::{Doc, Op, data_of, line, or_null, strict, uuid_param};
use serde_json::json;

const TAG: &str = "Selections";

pub(super) fn add(doc: &mut Doc) {
    let names = doc.object_names().into_iter().map(String::from).collect::<Vec<_>>();
    let ids = json!({"type": "array", "items": {"type": "string", "format": "uuid"}});
    let selection = doc.named(
        "Selection",
        json!({"type": "object", "required": ["id", "name", "object", "include", "exclude", "owner", "shared", "created_at", "may_change"],
            "properties": {
                "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "object": {"type": "string"},
                "filter": {"description": "the filter (as in lists) whose matches belong; null for picked records only"},
                "include": ids.clone(), "exclude": ids.clone(), "owner": {"type": "string", "format": "uuid"},
                "shared": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
                "count": {"type": ["integer", "null"], "description": "records in it the reader may see (not in lists)"},
                "may_change": {"type": "boolean"}}}),
    );
    let new = strict(
        &["name", "object"],
        json!({"name": line(100), "object": {"type": "string", "enum": names},
            "filter": or_null(json!({"$ref": "#/components/schemas/Filter"})),
            "view": or_null(json!({"type": "string", "format": "uuid", "description": "a saved view whose filter the selection takes (instead of filter)"})),
            "include": ids.clone(), "exclude": ids.clone(), "shared": {"type": "boolean"},
            "members": {"type": "array", "maxItems": 10000, "items": {"type": "string", "format": "uuid"}}}),
    );
    let picked = strict(
        &["records"],
        json!({"records": {"type": "array", "maxItems": 10000, "items": {"type": "string", "format": "uuid"}}}),
    );
    doc.op(
        "get",
        "/selections",
        Op::new(
            "list_selections",
            TAG,
            "Your selections and the shared ones, newest first",
        )
        .ok("200", "Selections", data_of(selection.clone())),
    );
    doc.op(
        "post",
        "/selections",
        Op::new(
            "create_selection",
            TAG,
            "A selection: records picked by hand, a filter's matches, other selections added, suppression lists taken away",
        )
        .body(new.clone())
        .ok("201", "The selection, counted", selection.clone()),
    );
    doc.op(
        "post",
        "/selections/preview",
        Op::new(
            "preview_selection",
            TAG,
            "How many records a selection being built would hold (nothing kept)",
        )
        .body(new)
        .ok(
            "200",
            "The count",
            json!({"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}),
        ),
    );
    let id = || uuid_param("id", "the selection's id");
    doc.op(
        "get",
        "/selections/{id}",
        Op::new("get_selection", TAG, "One selection, counted for you")
            .params(vec![id()])
            .ok("200", "The selection", selection.clone()),
    );
    doc.op(
        "delete",
        "/selections/{id}",
        Op::new("delete_selection", TAG, "Let a selection go (not while others name it)")
            .params(vec![id()])
            .no_content("Gone")
            .problems(&["409"]),
    );
    doc.op(
        "get",
        "/selections/{id}/members",
        Op::new(
            "selection_members",
            TAG,
            "Who is in it, as you may see them, in id order",
        )
        .params(vec![id()])
        .ok(
            "200",
            "Record ids",
            data_of(json!({"type": "string", "format": "uuid"})),
        ),
    );
    doc.op(
        "post",
        "/selections/{id}/members",
        Op::new(
            "add_selection_members",
            TAG,
            "Pick records into it (only those you may see)",
        )
        .params(vec![id()])
        .body(picked.clone())
        .ok("200", "The selection, counted", selection.clone()),
    );
    doc.op(
        "post",
        "/selections/{id}/members/remove",
        Op::new("remove_selection_members", TAG, "Take picked records out of it")
            .params(vec![id()])
            .body(picked)
            .ok("200", "The selection, counted", selection),
    );
}
