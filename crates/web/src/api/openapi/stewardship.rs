//! Stewardship: the plan, its gaps, adjustment requests, answers.

use super::{Doc, Op, data_of, line, optional_text, or_null, query, strict, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Stewardship";

fn uuid() -> Json {
    json!({"type": "string", "format": "uuid"})
}

fn date() -> Json {
    json!({"type": "string", "format": "date"})
}

fn datetime() -> Json {
    json!({"type": "string", "format": "date-time"})
}

fn priority() -> Json {
    json!({"type": "string", "enum": ["low", "normal", "high", "urgent"]})
}

fn status() -> Json {
    json!({"type": "string", "enum": ["proposed", "accepted", "rejected", "in_progress", "done"]})
}

fn language() -> Json {
    json!({"type": "string", "enum": ["en", "sv", "de", "da", "es"]})
}

/// A user's id, or null.
fn optional_user() -> Json {
    or_null(uuid())
}

fn plan_properties(write: bool) -> serde_json::Map<String, Json> {
    let vendor = if write {
        strict(
            &["name"],
            json!({"name": line(200), "company": optional_text(200), "email": optional_text(200),
                "phone": optional_text(50), "agreement": optional_text(5000)}),
        )
    } else {
        json!({"type": "object", "required": ["name", "company", "email", "phone", "agreement"], "properties": {
            "name": {"type": "string"}, "company": {"type": "string"}, "email": {"type": "string"},
            "phone": {"type": "string"}, "agreement": {"type": "string", "description": "the vendor's support hours and what the agreement promises"}}})
    };
    let row = json!({"type": "array", "minItems": 3, "maxItems": 3, "items": priority()});
    let matrix = json!({"type": "object", "required": ["rows"], "additionalProperties": !write, "properties": {
        "rows": {"type": "array", "minItems": 3, "maxItems": 3, "items": row,
            "description": "rows[impact][urgency], impact and urgency each low, medium, high"}}});
    let forum = json!({"type": "object", "additionalProperties": !write, "properties": {
        "name": if write { optional_text(200) } else { json!({"type": "string"}) },
        "every_weeks": {"type": ["integer", "null"], "minimum": 1, "maximum": 26, "description": "the forum meets every this many weeks"},
        "next_meeting": or_null(date()),
        "decider": optional_user(),
        "change_route": if write { optional_text(5000) } else { json!({"type": "string"}) }}});
    let props = json!({
        "system_owner": optional_user(),
        "administrators": {"type": "array", "maxItems": 200, "items": uuid(), "description": "administrators and IT contacts"},
        "key_users": {"type": "array", "maxItems": 200, "description": "the key users named per team (department)",
            "items": {"type": "object", "required": ["team", "users"], "additionalProperties": !write, "properties": {
                "team": uuid(), "users": {"type": "array", "maxItems": 200, "items": uuid()}}}},
        "vendor_contacts": {"type": "array", "maxItems": 50, "items": vendor},
        "matrix": matrix,
        "forum": forum,
        "go_live": or_null(date())});
    props.as_object().cloned().unwrap_or_default()
}

pub(super) fn add(doc: &mut Doc) {
    let gap = doc.named(
        "StewardshipGap",
        json!({"type": "object", "required": ["kind", "subject", "problem", "fix", "link"], "properties": {
            "kind": {"type": "string", "enum": ["no_system_owner", "no_administrator", "team_without_key_user",
                "inactive_person", "no_vendor_contact", "no_forum", "no_go_live"]},
            "subject": {"type": "string", "description": "the team or person it is about; empty for the plan as a whole"},
            "problem": {"type": "string"}, "fix": {"type": "string"},
            "link": {"type": "string", "description": "the page and section to fix it on"}}}),
    );
    let mut view_props = plan_properties(false);
    for (k, v) in [
        (
            "version",
            json!({"type": "integer", "description": "0 before anyone wrote the plan"}),
        ),
        ("updated_at", or_null(datetime())),
        ("updated_by", optional_user()),
        ("gaps", json!({"type": "array", "items": gap.clone()})),
        (
            "project_go_live",
            json!({"type": ["string", "null"], "format": "date", "description": "the implementation project's target, offered while the plan names no go-live"}),
        ),
        (
            "meetings",
            json!({"type": "array", "items": date(), "description": "the forum's next meetings by its rhythm"}),
        ),
        (
            "project_meetings",
            json!({"type": "array", "items": date(), "description": "the key-user group's meetings the implementation project has planned from today on"}),
        ),
        (
            "may_edit",
            json!({"type": "boolean", "description": "whether you may change the plan (administrators)"}),
        ),
    ] {
        view_props.insert(k.into(), v);
    }
    let plan_view = doc.named(
        "StewardshipPlan",
        json!({"type": "object", "required": ["version", "system_owner", "administrators", "key_users", "vendor_contacts",
            "matrix", "forum", "go_live", "gaps", "meetings", "project_meetings", "may_edit"], "properties": view_props}),
    );
    let mut write_props = plan_properties(true);
    write_props.insert(
        "version".into(),
        json!({"type": "integer", "description": "the version read (0: no plan yet); another than the plan's is refused with 412"}),
    );
    let plan_body =
        json!({"type": "object", "additionalProperties": false, "required": ["version"], "properties": write_props});

    let link = json!({"type": "object", "required": ["kind", "target"], "properties": {
        "kind": {"type": "string", "enum": ["object", "field", "view"]},
        "target": {"type": "string", "description": "an object's name, object.field, or a shared view's name or id"}}});
    let request_line = json!({"type": "object", "required": ["id", "version", "title", "description", "question", "requested_by",
        "value", "effort", "status", "decided_by", "decided_at", "decision_note", "links", "created_at", "updated_at",
        "votes", "voted", "score", "requested_by_name", "decided_by_name"], "properties": {
        "id": uuid(), "version": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
        "question": {"type": ["string", "null"], "format": "uuid", "description": "the question it came from"},
        "requested_by": uuid(), "value": {"type": "integer"}, "effort": {"type": "integer"}, "status": status(),
        "decided_by": optional_user(), "decided_at": or_null(datetime()), "decision_note": {"type": "string"},
        "links": {"type": "array", "items": link.clone()},
        "created_at": datetime(), "updated_at": datetime(),
        "votes": {"type": "integer"}, "voted": {"type": "boolean", "description": "whether you voted for it"},
        "score": {"type": "number", "description": "value per effort, and a tenth per vote"},
        "requested_by_name": {"type": "string"}, "decided_by_name": {"type": ["string", "null"]}}});
    let request_line = doc.named("AdjustmentRequestLine", request_line);
    let mut detail_props = json!({
        "comments": {"type": "array", "items": {"type": "object", "required": ["id", "request", "author", "body", "created_at", "author_name"],
            "properties": {"id": uuid(), "request": uuid(), "author": uuid(), "body": {"type": "string"},
                "created_at": datetime(), "author_name": {"type": "string"}}}},
        "may_edit": {"type": "boolean"}, "may_decide": {"type": "boolean"}});
    let detail = json!({"allOf": [request_line.clone(), {"type": "object", "required": ["comments", "may_edit", "may_decide"],
        "properties": detail_props.take()}]});
    let detail = doc.named("AdjustmentRequest", detail);
    let request_body = |extra: &[&str]| {
        let mut required = vec!["title", "value", "effort"];
        required.extend_from_slice(extra);
        let mut props = json!({
            "title": line(200), "description": optional_text(10_000),
            "question": {"type": ["string", "null"], "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$", "description": "the question it came from"},
            "value": {"type": "integer", "minimum": 1, "maximum": 5},
            "effort": {"type": "integer", "minimum": 1, "maximum": 5},
            "links": {"type": "array", "maxItems": 50, "items": strict(&["kind", "target"], json!({
                "kind": {"type": "string", "enum": ["object", "field", "view"]}, "target": line(200)}))}});
        if extra.contains(&"version")
            && let Some(p) = props.as_object_mut()
        {
            p.insert(
                "version".into(),
                json!({"type": "integer", "description": "the version read; another is refused with 412"}),
            );
        }
        strict(&required, props)
    };

    let answer = doc.named(
        "Answer",
        json!({"type": "object", "required": ["id", "version", "title", "body", "language", "category", "source_question",
            "author", "published", "created_at", "updated_at", "author_name", "rank"], "properties": {
            "id": uuid(), "version": {"type": "integer"}, "title": {"type": "string"},
            "body": {"type": "string", "description": "plain text; blank lines part paragraphs, lines starting \"- \" are lists"},
            "language": language(), "category": {"type": "string"}, "source_question": or_null(uuid()),
            "author": uuid(), "published": {"type": "boolean"}, "created_at": datetime(), "updated_at": datetime(),
            "author_name": {"type": "string"}, "rank": {"type": "number", "description": "how well it matched (higher is better); 0 without a search"}}}),
    );
    let answer_body = |versioned: bool| {
        let mut props = json!({
            "title": line(200), "body": super::text(50_000), "language": language(),
            "category": optional_text(100),
            "source_question": {"type": ["string", "null"], "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"},
            "published": {"type": "boolean", "default": false}});
        let mut required = vec!["title", "body", "language"];
        if versioned {
            required.push("version");
            if let Some(p) = props.as_object_mut() {
                p.insert("version".into(), json!({"type": "integer", "minimum": 1}));
            }
        }
        strict(&required, props)
    };
    let id = |what: &str| uuid_param("id", what);

    doc.op(
        "get",
        "/stewardship/plan",
        Op::new(
            "stewardship_plan",
            TAG,
            "The stewardship plan: who owns what, the priority matrix, the forum for further development, with its gaps",
        )
        .ok("200", "The plan", plan_view.clone()),
    );
    doc.op(
        "put",
        "/stewardship/plan",
        Op::new(
            "update_stewardship_plan",
            TAG,
            "Change the plan as a whole at the version read (administrators); a stale version is 412 (version_conflict) with the plan as it is now",
        )
        .body(plan_body)
        .ok("200", "The plan", plan_view)
        .problems(&["412"]),
    );
    doc.op(
        "get",
        "/stewardship/gaps",
        Op::new(
            "stewardship_gaps",
            TAG,
            "What the plan lacks, each with what to do and where",
        )
        .ok("200", "The gaps", data_of(gap)),
    );
    doc.op(
        "get",
        "/stewardship/requests",
        Op::new("adjustment_backlog", TAG, "The key-user group's adjustment requests")
            .params(vec![query(
                "sort",
                json!({"type": "string", "enum": ["priority", "votes", "newest"], "default": "priority"}),
                "the order: by priority (value per effort, then votes), by votes, or newest first",
            )])
            .ok(
                "200",
                "The backlog",
                json!({"type": "object", "required": ["requests", "meetings", "may_propose", "may_decide"], "properties": {
                    "requests": {"type": "array", "items": request_line},
                    "meetings": {"type": "array", "items": date(), "description": "the forum's next meetings; their agenda is the open requests"},
                    "may_propose": {"type": "boolean"}, "may_decide": {"type": "boolean"}}}),
            ),
    );
    doc.op(
        "post",
        "/stewardship/requests",
        Op::new(
            "create_adjustment_request",
            TAG,
            "Propose an adjustment (key users and administrators); links must name an object, field or shared view that exists",
        )
        .body(request_body(&[]))
        .ok("201", "The request", detail.clone()),
    );
    doc.op(
        "get",
        "/stewardship/requests/{id}",
        Op::new("get_adjustment_request", TAG, "One request with its comments")
            .params(vec![id("the request's id")])
            .ok("200", "The request", detail.clone()),
    );
    doc.op(
        "put",
        "/stewardship/requests/{id}",
        Op::new(
            "update_adjustment_request",
            TAG,
            "Change a request's text, worth, question and links at the version read (key users and administrators); once decided, a changed title, description, value or effort is 422 naming the field; a question the caller may not see is 422; a stale version is 412",
        )
        .params(vec![id("the request's id")])
        .body(request_body(&["version"]))
        .ok("200", "The request", detail.clone())
        .problems(&["412"]),
    );
    doc.op(
        "delete",
        "/stewardship/requests/{id}",
        Op::new(
            "delete_adjustment_request",
            TAG,
            "Remove a request with its votes and comments (administrators; its proposer while proposed)",
        )
        .params(vec![id("the request's id")])
        .no_content("Removed"),
    );
    doc.op(
        "post",
        "/stewardship/requests/{id}/vote",
        Op::new(
            "vote_adjustment",
            TAG,
            "Vote for a request, once (key users and administrators); 409 once it is rejected or done",
        )
        .params(vec![id("the request's id")])
        .ok("200", "The request", detail.clone())
        .problems(&["409"]),
    );
    doc.op(
        "delete",
        "/stewardship/requests/{id}/vote",
        Op::new("unvote_adjustment", TAG, "Take your vote back")
            .params(vec![id("the request's id")])
            .ok("200", "The request", detail.clone()),
    );
    doc.op(
        "post",
        "/stewardship/requests/{id}/decide",
        Op::new(
            "decide_adjustment",
            TAG,
            "Accept or reject a proposal, or move accepted work to in progress and done (administrators and the plan's decider)",
        )
        .params(vec![id("the request's id")])
        .body(strict(
            &["version", "status"],
            json!({"version": {"type": "integer", "minimum": 1}, "status": status(),
                "note": optional_text(5000)}),
        ))
        .ok("200", "The request", detail.clone())
        .problems(&["412"]),
    );
    doc.op(
        "post",
        "/stewardship/requests/{id}/comments",
        Op::new(
            "comment_adjustment",
            TAG,
            "Comment on a request (key users and administrators)",
        )
        .params(vec![id("the request's id")])
        .body(strict(&["body"], json!({"body": super::text(5000)})))
        .ok("200", "The request", detail),
    );
    doc.op(
        "get",
        "/stewardship/answers",
        Op::new(
            "list_answers",
            TAG,
            "Answers: published ones, and drafts for their authors and administrators; with q, those matching any word, best first",
        )
        .params(vec![
            query("q", json!({"type": "string"}), "words to look for (letters and digits; punctuation alone finds nothing)"),
            query(
                "language",
                json!({"type": "string", "enum": ["", "en", "sv", "de", "da", "es"]}),
                "whose answers come first",
            ),
        ])
        .ok("200", "The answers", data_of(answer.clone())),
    );
    doc.op(
        "get",
        "/stewardship/answers/suggest",
        Op::new(
            "suggest_answers",
            TAG,
            "The published answers that match what someone is about to ask, in their language first (at most 5)",
        )
        .params(vec![
            query("text", json!({"type": "string"}), "what they are about to ask"),
            query("language", language(), "their language (default en)"),
        ])
        .ok("200", "Matching answers", data_of(answer.clone())),
    );
    doc.op(
        "post",
        "/stewardship/answers",
        Op::new("create_answer", TAG, "Write an answer (key users and administrators)")
            .body(answer_body(false))
            .ok("201", "The answer", answer.clone()),
    );
    doc.op(
        "post",
        "/stewardship/answers/from-question/{id}",
        Op::new(
            "answer_from_question",
            TAG,
            "Turn a resolved or closed support question the caller may see into a draft answer (key users and administrators); what the body leaves out comes from the question",
        )
        .params(vec![id("the question's id")])
        .body(strict(
            &[],
            json!({"title": optional_text(200), "body": optional_text(50_000),
                "language": {"type": "string", "enum": ["", "en", "sv", "de", "da", "es"]},
                "category": optional_text(100)}),
        ))
        .ok("201", "The draft answer", answer.clone()),
    );
    doc.op(
        "get",
        "/stewardship/answers/{id}",
        Op::new(
            "get_answer",
            TAG,
            "One answer (a draft only for its author and administrators)",
        )
        .params(vec![id("the answer's id")])
        .ok("200", "The answer", answer.clone()),
    );
    doc.op(
        "put",
        "/stewardship/answers/{id}",
        Op::new(
            "update_answer",
            TAG,
            "Change an answer at the version read (key users and administrators)",
        )
        .params(vec![id("the answer's id")])
        .body(answer_body(true))
        .ok("200", "The answer", answer)
        .problems(&["412"]),
    );
    doc.op(
        "delete",
        "/stewardship/answers/{id}",
        Op::new("delete_answer", TAG, "Remove an answer (key users and administrators)")
            .params(vec![id("the answer's id")])
            .no_content("Removed"),
    );
}
