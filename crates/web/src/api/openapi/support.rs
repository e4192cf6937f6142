//! The support chain: questions, their steps, agreed times.

use super::{Doc, Op, data_of, line, optional_text, or_null, query, strict, text};
use serde_json::{Value as Json, json};

const TAG: &str = "Support";

fn datetime() -> Json {
    json!({"type": "string", "format": "date-time"})
}

fn uuid() -> Json {
    json!({"type": "string", "format": "uuid"})
}

const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const STATUSES: [&str; 6] = [
    "new",
    "open",
    "waiting_on_requester",
    "waiting_on_vendor",
    "resolved",
    "closed",
];
const LEVELS: [&str; 3] = ["key_user", "it", "vendor"];

fn id_param() -> Json {
    super::path_param(
        "id",
        json!({"type": "string", "minLength": 1}),
        "the question's id, or its number (12 or #12)",
    )
}

fn sla() -> Json {
    json!({"type": "object", "required": ["state", "agreed_minutes", "due", "left_minutes", "since"], "properties": {
        "state": {"type": "string", "enum": ["running", "warning", "paused", "breached", "met", "never_due"]},
        "agreed_minutes": {"type": "integer", "description": "open minutes agreed at the question's level"},
        "due": or_null(datetime()),
        "left_minutes": {"type": ["integer", "null"], "description": "open minutes left"},
        "since": {"type": ["string", "null"], "format": "date-time", "description": "when it breached or was met"}}})
}

pub(super) fn add(doc: &mut Doc) {
    let vendor = json!({"type": ["object", "null"], "required": ["name", "contact", "reference", "response_minutes", "resolution_minutes"], "properties": {
        "name": {"type": "string"}, "contact": {"type": "string"},
        "reference": {"type": "string", "description": "the vendor's own ticket reference"},
        "response_minutes": {"type": ["integer", "null"]}, "resolution_minutes": {"type": ["integer", "null"]}}});
    let question_props = json!({
        "id": uuid(), "number": {"type": "integer", "description": "the question's number, #12"},
        "subject": {"type": "string"}, "description": {"type": "string"}, "category": {"type": "string"},
        "priority": {"type": "string", "enum": PRIORITIES},
        "status": {"type": "string", "enum": STATUSES},
        "level": {"type": "string", "enum": LEVELS},
        "requester": uuid(), "team": or_null(uuid()), "assignee": or_null(uuid()),
        "page": {"type": ["string", "null"]}, "object": {"type": ["string", "null"]}, "record": {"type": ["string", "null"]},
        "vendor": vendor, "language": {"type": "string"},
        "hypercare": {"type": "boolean", "description": "raised during hypercare: the tighter agreed times apply"},
        "opened_at": datetime(), "level_since": datetime(),
        "level_response_at": or_null(datetime()), "first_response_at": or_null(datetime()),
        "resolved_at": or_null(datetime()), "closed_at": or_null(datetime()),
        "updated_at": datetime(), "version": {"type": "integer"},
        "requester_name": {"type": "string"}, "assignee_name": {"type": ["string", "null"]}});
    let line_required = [
        "id",
        "number",
        "subject",
        "status",
        "priority",
        "level",
        "requester",
        "version",
        "requester_name",
    ];
    let question_line = doc.named(
        "QuestionLine",
        json!({"type": "object", "required": line_required, "properties": question_props.clone()}),
    );
    let event = doc.named(
        "QuestionEvent",
        json!({"type": "object", "required": ["id", "question", "at", "actor", "kind", "body", "detail"], "properties": {
            "id": uuid(), "question": uuid(), "at": datetime(),
            "actor": {"type": ["string", "null"], "format": "uuid", "description": "null: the system (the breach check)"},
            "kind": {"type": "string", "enum": ["raised", "reply", "note", "status", "assigned", "escalated", "vendor_reference", "attachment", "email_reply", "warning"],
                "description": "notes and warnings are shown to the support chain only"},
            "body": {"type": "string"}, "detail": {"description": "what changed"}}}),
    );
    let attachment = doc.named(
        "QuestionAttachment",
        json!({"type": "object", "required": ["id", "question", "name", "content_type", "size", "added_by", "added_at"], "properties": {
            "id": uuid(), "question": uuid(), "name": {"type": "string"}, "content_type": {"type": "string"},
            "size": {"type": "integer"}, "added_by": uuid(), "added_at": datetime()}}),
    );
    let mut view_props = question_props.as_object().cloned().unwrap_or_default();
    for (k, v) in [
        ("events", json!({"type": "array", "items": event.clone()})),
        ("attachments", json!({"type": "array", "items": attachment.clone()})),
        ("response", sla()),
        ("resolution", sla()),
        (
            "names",
            json!({"type": "object", "additionalProperties": {"type": "string"}, "description": "the names of the people its steps name, by id"}),
        ),
        (
            "in_chain",
            json!({"type": "boolean", "description": "whether you answer it (its team's key user, an administrator)"}),
        ),
    ] {
        view_props.insert(k.into(), v);
    }
    let mut view_required = line_required.to_vec();
    view_required.extend(["events", "attachments", "response", "resolution", "in_chain"]);
    let view = doc.named(
        "Question",
        json!({"type": "object", "required": view_required, "properties": view_props}),
    );
    let settings = doc.named(
        "SupportSettings",
        json!({"type": "object", "description": "the support calendar, agreed times per level and priority (open minutes), the warning share, hypercare, the vendor",
            "properties": {
                "calendar": {"type": "object"}, "times": {"type": "object"}, "warn_share": {"type": "integer"},
                "hypercare": {"type": ["object", "null"]}, "vendor_name": {"type": "string"},
                "vendor_contact": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}}}}),
    );
    let version = json!({"type": "integer", "minimum": 1, "description": "the version the change is made to"});
    let path = "/support/questions";
    doc.op(
        "get",
        path,
        Op::new(
            "list_questions",
            TAG,
            "The questions you may see (your own; your team's as its key user; all as an administrator), newest first",
        )
        .params(vec![
            query(
                "view",
                json!({"type": "string", "enum": ["all", "mine", "team"]}),
                "whose questions",
            ),
            query("level", json!({"type": "string", "enum": LEVELS}), "only at this level"),
            query(
                "status",
                json!({"type": "string", "enum": STATUSES}),
                "only in this status",
            ),
            query(
                "open",
                json!({"type": "string", "enum": ["true", "false", "1", "0", ""]}),
                "only questions not resolved or closed",
            ),
            query(
                "cursor",
                json!({"type": "string"}),
                "the next_cursor of the page before",
            ),
            query(
                "limit",
                json!({"type": "string", "pattern": "^([1-9][0-9]?|1[0-9]{2}|200)?$"}),
                "questions per page, 1 to 200 (50 when empty or left out)",
            ),
        ])
        .ok(
            "200",
            "A page of questions",
            json!({"type": "object", "required": ["data", "next_cursor"], "properties": {
                "data": {"type": "array", "items": question_line},
                "next_cursor": {"type": ["string", "null"]}}}),
        ),
    );
    doc.op(
        "post",
        path,
        Op::new(
            "raise_question",
            TAG,
            "Ask for help: the question goes to the key users of your team, or to IT when it has none. Without a priority, impact and urgency together give it by the stewardship plan's priority matrix",
        )
        .body(strict(
            &["subject"],
            json!({
                "subject": line(200), "description": optional_text(20000), "category": optional_text(200),
                "priority": {"anyOf": [{"type": "string", "enum": ["", "low", "normal", "high", "urgent"]}, {"type": "null"}], "default": "normal", "description": "empty or null: by impact and urgency, else normal"},
                "impact": {"anyOf": [{"type": "string", "enum": ["", "low", "medium", "high"]}, {"type": "null"}], "description": "empty or null: not given"},
                "urgency": {"anyOf": [{"type": "string", "enum": ["", "low", "medium", "high"]}, {"type": "null"}], "description": "empty or null: not given"},
                "page": or_null(optional_text(200)), "object": or_null(optional_text(200)), "record": or_null(optional_text(200))}),
        ))
        .ok("201", "The question", view.clone()),
    );
    let one = format!("{path}/{{id}}");
    doc.op(
        "get",
        &one,
        Op::new(
            "get_question",
            TAG,
            "One question with its steps (internal notes for the chain only); 404 for anyone who may not see it",
        )
        .params(vec![id_param()])
        .ok("200", "The question", view.clone()),
    );
    doc.op(
        "patch",
        &one,
        Op::new(
            "update_question",
            TAG,
            "Change a question at its version: the chain its category, priority, assignee and the vendor's reference, the requester subject and description",
        )
        .params(vec![id_param()])
        .body(strict(
            &["version"],
            json!({"version": version, "subject": or_null(line(200)), "description": or_null(optional_text(20000)),
                "category": or_null(optional_text(200)), "priority": {"anyOf": [{"type": "string", "enum": PRIORITIES}, {"type": "null"}]},
                "assignee": {"type": ["string", "null"], "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"},
                "vendor_reference": or_null(optional_text(200))}),
        ))
        .ok("200", "The question", view.clone())
        .problems(&["409", "412"]),
    );
    doc.op(
        "get",
        &format!("{one}/events"),
        Op::new("question_events", TAG, "A question's steps, oldest first")
            .params(vec![id_param()])
            .ok("200", "The steps", data_of(event)),
    );
    doc.op(
        "post",
        &format!("{one}/events"),
        Op::new(
            "add_question_event",
            TAG,
            "A public reply, or an internal note (the chain only); a reply from the chain is the response, the requester's reopens a question waiting on them",
        )
        .params(vec![id_param()])
        .body(strict(
            &["kind", "body"],
            json!({"kind": {"type": "string", "enum": ["reply", "note"]}, "body": text(20000)}),
        ))
        .ok("201", "The question", view.clone())
        .problems(&["409"]),
    );
    doc.op(
        "post",
        &format!("{one}/escalate"),
        Op::new(
            "escalate_question",
            TAG,
            "Pass a question on: a key user to IT, an administrator to the vendor (its name, contact, ticket reference and agreed times)",
        )
        .params(vec![id_param()])
        .body(strict(
            &["version"],
            json!({"version": version, "reason": optional_text(20000),
                "vendor_name": or_null(optional_text(200)), "vendor_contact": or_null(optional_text(200)), "vendor_reference": or_null(optional_text(200)),
                "response_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": 525600},
                "resolution_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": 525600}}),
        ))
        .ok("200", "The question", view.clone())
        .problems(&["409", "412"]),
    );
    doc.op(
        "post",
        &format!("{one}/status"),
        Op::new(
            "set_question_status",
            TAG,
            "Move a question's status (waiting on the requester or the vendor stops its clocks); the requester reopens or closes a resolved one",
        )
        .params(vec![id_param()])
        .body(strict(
            &["version", "status"],
            json!({"version": version, "status": {"type": "string", "enum": STATUSES}}),
        ))
        .ok("200", "The question", view)
        .problems(&["409", "412"]),
    );
    doc.op(
        "get",
        &format!("{one}/attachments"),
        Op::new("question_attachments", TAG, "A question's attachments")
            .params(vec![id_param()])
            .ok("200", "The attachments", data_of(attachment.clone())),
    );
    doc.op(
        "post",
        &format!("{one}/attachments"),
        Op::new("add_question_attachment", TAG, "Attach a file of at most 5 MB")
            .params(vec![id_param()])
            .raw_body(json!({"required": true, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}}}}))
            .ok("201", "The attachment", attachment)
            .problems(&["413", "422"]),
    );
    doc.op(
        "get",
        &format!("{one}/attachments/{{attachment}}"),
        Op::new("question_attachment", TAG, "An attachment's file, as a download")
            .params(vec![
                id_param(),
                super::uuid_param("attachment", "the attachment's id"),
            ])
            .answer(
                "200",
                json!({"description": "The file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}),
            ),
    );
    doc.op(
        "get",
        "/support/settings",
        Op::new("support_settings", TAG, "The support settings (administrators)").ok(
            "200",
            "The settings",
            settings.clone(),
        ),
    );
    doc.op(
        "put",
        "/support/settings",
        Op::new(
            "set_support_settings",
            TAG,
            "Change the support settings (administrators); a field left out takes its default",
        )
        .body(json!({"type": "object", "additionalProperties": false, "properties": {
            "calendar": {"type": "object"}, "times": {"type": "object"},
            "warn_share": {"type": "integer", "minimum": 0, "maximum": 100},
            "hypercare": {"type": ["object", "null"]}, "vendor_name": optional_text(200),
            "vendor_contact": optional_text(200), "categories": {"type": "array", "items": line(200)}}}))
        .ok("200", "The settings", settings),
    );
    let figures = doc.named(
        "SupportFigures",
        json!({"type": "object", "required": ["since", "until", "weeks", "levels", "breaches", "categories"], "properties": {
            "since": datetime(),
            "until": {"type": "string", "format": "date-time", "description": "the end of the span, not in it"},
            "weeks": {"type": "array", "items": {"type": "object", "required": ["week", "opened", "solved"], "properties": {
                "week": {"type": "string", "description": "ISO week, 2026-W48"}, "opened": {"type": "integer"}, "solved": {"type": "integer"}}}},
            "levels": {"type": "array", "items": {"type": "object", "required": ["level", "questions", "median_response_minutes", "median_resolution_minutes"], "properties": {
                "level": {"type": "string", "enum": LEVELS}, "questions": {"type": "integer"},
                "median_response_minutes": {"type": ["integer", "null"]}, "median_resolution_minutes": {"type": ["integer", "null"]}}}},
            "breaches": {"type": "integer"},
            "categories": {"type": "array", "items": {"type": "object", "required": ["category", "questions"], "properties": {
                "category": {"type": "string"}, "questions": {"type": "integer"}}}}}}),
    );
    doc.op(
        "get",
        "/support/figures",
        Op::new(
            "support_figures",
            TAG,
            "Questions opened and solved per week, median minutes to first response and to resolution per level, breaches and the top categories, of the questions you may see",
        )
        .params(vec![query(
            "weeks",
            json!({"type": "string", "pattern": "^[0-9]{0,3}$"}),
            "how many weeks back, 1 to 104 (12 when empty or left out)",
        )])
        .ok(
            "200",
            "The figures",
            figures,
        ),
    );
    let team = json!({"type": "object", "required": ["team", "name", "raised", "open", "oldest_open_since",
        "oldest_open_business_minutes", "median_resolution_business_minutes", "breaches"], "properties": {
        "team": {"type": ["string", "null"], "format": "uuid", "description": "null: people without a team (or a team removed since)"},
        "name": {"type": "string"},
        "raised": {"type": "integer", "description": "questions raised within the window"},
        "open": {"type": "integer", "description": "of those, not resolved or closed"},
        "oldest_open_since": or_null(datetime()),
        "oldest_open_business_minutes": {"type": ["integer", "null"], "description": "the oldest open question's age in open minutes of the support calendar, waiting included"},
        "median_resolution_business_minutes": {"type": ["integer", "null"], "description": "median open minutes of the support calendar from raised to resolved"},
        "breaches": {"type": "integer", "description": "agreed times breached, at any level"}}});
    doc.op(
        "get",
        "/support/hypercare",
        Op::new(
            "support_hypercare",
            TAG,
            "Per team (department), the questions raised during hypercare: how many, how many still open, the oldest open one's age, the median time to resolution and the breaches",
        )
        .description("Administrators and the system owner see every team; a key user the teams the stewardship plan has them answer for; anyone else is refused (403). Ages and times count the support calendar's open time (`age_basis` is `business`). Without hypercare in the support settings, `go_live` is null and `teams` empty.")
        .ok(
            "200",
            "The hypercare view",
            json!({"type": "object", "required": ["go_live", "weeks", "ends", "running", "coming", "time_zone", "age_basis", "teams", "total"], "properties": {
                "go_live": {"type": ["string", "null"], "format": "date"},
                "weeks": {"type": ["integer", "null"]},
                "ends": {"type": ["string", "null"], "format": "date", "description": "the first day after the window"},
                "running": {"type": "boolean", "description": "today is within the window"},
                "coming": {"type": "boolean", "description": "the window is still to begin (go-live after today)"},
                "time_zone": {"type": "string"},
                "age_basis": {"type": "string", "enum": ["business"]},
                "teams": {"type": "array", "items": team.clone()},
                "total": team}}),
        ),
    );
}
