//! Duplicates: the queue of likely pairs per object, a scan, dismissing a pair, merging two
//! records (and undoing it), and the check a form makes before it creates a record.

use super::{Doc, Op, data_of, limit_query, query, strict, uuid_param};
use serde_json::json;

const TAG: &str = "Duplicates";

pub(super) fn add(doc: &mut Doc) {
    let object_param = doc.object_param();
    let object = || object_param.clone();
    let record = json!({"type": "object", "description": "a record, as the object's schema has it"});
    let pair = json!({"type": "object", "properties": {"score": {"type": "number"},
        "reasons": {"type": "array", "items": {"type": "string"}}, "found_at": {"type": "string", "format": "date-time"},
        "a": record, "b": record}});
    doc.op(
        "get",
        "/duplicates/{object}",
        Op::new(
            "duplicate_queue",
            TAG,
            "Open pairs of likely duplicates, best first, with both records",
        )
        .params(vec![object(), limit_query()])
        .ok("200", "The queue", data_of(pair)),
    );
    let scan = Op::new(
        "scan_duplicates",
        TAG,
        "Scan every record you may see, as a job; when it is done the open pairs are replaced (dismissed ones stay dismissed) and the job's result says how many are open",
    )
    .params(vec![
        object(),
        query(
            "country",
            json!({"type": "string", "examples": ["46", "49"]}),
            "calling code for numbers written without one: its first three digits count, anything else is left out (default 46)",
        ),
    ]);
    let scan = super::jobs::accepted(doc, scan);
    doc.op("post", "/duplicates/{object}/scan", scan);
    doc.op(
        "post",
        "/duplicates/{object}/{a}/{b}/dismiss",
        Op::new(
            "dismiss_duplicate",
            TAG,
            "Not the same: later scans leave the pair alone",
        )
        .params(vec![
            object(),
            uuid_param("a", "one record's id"),
            uuid_param("b", "the other's"),
        ])
        .ok(
            "200",
            "Dismissed",
            json!({"type": "object", "properties": {"dismissed": {"const": true}}}),
        )
        .problems(&["422"]),
    );
    doc.op(
        "post",
        "/records/{object}/possible-duplicates",
        Op::new(
            "possible_duplicates",
            TAG,
            "Records that may be the one a create body describes (nothing is written)",
        )
        .params(vec![object()])
        .body(json!({"type": "object", "description": "a create body, as the object's schema has it"}))
        .ok(
            "200",
            "Likely matches, best first",
            data_of(json!({"type": "object", "properties": {"score": {"type": "number"},
                    "reasons": {"type": "array", "items": {"type": "string"}}, "record": record}})),
        ),
    );
    doc.op(
        "post",
        "/records/{object}/merge",
        Op::new("merge_records", TAG, "Merge `gone` into `keep`: chosen values, everything pointing at `gone` re-pointed, `gone` to the trash; undoable")
            .params(vec![object()])
            .body(strict(
                &["keep", "gone", "keep_version", "gone_version"],
                json!({"keep": {"type": "string", "format": "uuid"}, "gone": {"type": "string", "format": "uuid"},
                    "keep_version": {"type": "integer", "minimum": 1}, "gone_version": {"type": "integer", "minimum": 1},
                    "values": {"type": "object", "additionalProperties": {"type": "string", "enum": ["keep", "gone"]},
                        "description": "field → whose value stays"}}),
            ))
            .ok("200", "The merge, as the journal keeps it", json!({"type": "object"}))
            .problems(&["404", "409", "412"]),
    );
    doc.op(
        "post",
        "/merges/{id}/undo",
        Op::new(
            "undo_merge",
            TAG,
            "Undo a merge (refused when the kept record changed since)",
        )
        .params(vec![uuid_param("id", "the merge's id")])
        .ok("200", "Undone", json!({"type": "object"}))
        .problems(&["409", "412"]),
    );
}
