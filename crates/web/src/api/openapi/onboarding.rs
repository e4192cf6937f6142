//! Onboarding: each role's checklist template, a user's checklist, ticking a manual step.

use super::{Doc, Op, line, or_null, path_param, strict, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Onboarding";

fn roles() -> Json {
    json!({"type": "string", "enum": ["admin", "key_user", "user", "read_only"]})
}

fn date() -> Json {
    json!({"type": "string", "format": "date"})
}

fn datetime() -> Json {
    json!({"type": "string", "format": "date-time"})
}

fn uuid() -> Json {
    json!({"type": "string", "format": "uuid"})
}

/// What ticks a step, as the server writes it and takes it.
fn condition(objects: &[&str]) -> Json {
    let kind = |k: &str, more: Json, required: &[&str]| {
        let mut props = json!({"kind": {"const": k}});
        if let (Some(p), Some(m)) = (props.as_object_mut(), more.as_object()) {
            p.extend(m.clone());
        }
        strict(required, props)
    };
    json!({"oneOf": [
        kind("account_created", json!({}), &["kind"]),
        kind("first_sign_in", json!({}), &["kind"]),
        kind("first_record", json!({"object": {"type": "string", "enum": objects, "description": "the object whose first record the user creates"}}), &["kind", "object"]),
        kind("training", json!({"course": or_null(json!({"type": "string", "format": "uuid", "description": "a course; none: any course for the user's role"}))}), &["kind"]),
    ], "description": "what ticks the step by itself: the account made, the first sign-in, the first record of an object, a training attended"})
}

pub(super) fn add(doc: &mut Doc) {
    let objects = doc.object_names();
    let condition = doc.named("OnboardingCondition", condition(&objects));
    let template_step = doc.named(
        "OnboardingTemplateStep",
        strict(
            &["title"],
            json!({
                "title": line(200),
                "due_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 365, "description": "due this many days after the user's first day; null: whenever"},
                "condition": {"anyOf": [condition.clone(), {"type": "null"}], "description": "null or absent: ticked by hand"}}),
        ),
    );
    let template = doc.named(
        "OnboardingTemplate",
        json!({"type": "object", "required": ["role", "steps", "version", "updated_at", "updated_by"], "properties": {
            "role": roles(),
            "steps": {"type": "array", "items": template_step.clone()},
            "version": {"type": "integer", "description": "0: the standard template nobody has changed"},
            "updated_at": or_null(datetime()),
            "updated_by": or_null(uuid())}}),
    );
    let step = json!({"type": "object",
        "required": ["number", "title", "due_on", "condition", "done", "done_at", "done_by", "done_by_name", "done_automatically", "overdue"],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "title": {"type": "string"},
            "due_on": or_null(date()),
            "condition": {"anyOf": [condition, {"type": "null"}]},
            "done": {"type": "boolean"},
            "done_at": or_null(datetime()),
            "done_by": {"type": ["string", "null"], "format": "uuid", "description": "who ticked it by hand"},
            "done_by_name": {"type": ["string", "null"]},
            "done_automatically": {"type": "boolean", "description": "ticked by the system, having seen it happen"},
            "overdue": {"type": "boolean"}}});
    let checklist = doc.named(
        "Checklist",
        json!({"type": "object",
            "required": ["user", "name", "team", "team_name", "role", "started_at", "today", "steps", "done", "total", "overdue", "complete", "may_tick"],
            "properties": {
                "user": uuid(), "name": {"type": "string"},
                "team": or_null(uuid()), "team_name": {"type": ["string", "null"]},
                "role": roles(), "started_at": datetime(), "today": date(),
                "steps": {"type": "array", "items": step},
                "done": {"type": "integer"}, "total": {"type": "integer"}, "overdue": {"type": "integer"},
                "complete": {"type": "boolean"},
                "may_tick": {"type": "boolean", "description": "whether you may tick its manual steps"}}}),
    );
    let progress = doc.named(
        "OnboardingProgress",
        json!({"type": "object",
            "required": ["user", "name", "team_name", "role", "started_at", "done", "total", "overdue", "complete", "next"],
            "properties": {
                "user": uuid(), "name": {"type": "string"}, "team_name": {"type": ["string", "null"]},
                "role": roles(), "started_at": datetime(),
                "done": {"type": "integer"}, "total": {"type": "integer"}, "overdue": {"type": "integer"},
                "complete": {"type": "boolean"},
                "next": {"type": ["string", "null"], "description": "the first open step"}}}),
    );
    doc.op(
        "get",
        "/onboarding",
        Op::new(
            "onboarding_board",
            TAG,
            "Your own checklist's progress and that of the people you help: your team's members if you are its key user or lead, everyone for administrators",
        )
        .ok(
            "200",
            "Your progress and theirs, open checklists first",
            json!({"type": "object", "required": ["today", "mine", "people", "without"], "properties": {
                "today": date(),
                "mine": {"anyOf": [progress.clone(), {"type": "null"}]},
                "people": {"type": "array", "items": progress},
                "without": {"type": "array", "description": "for administrators: active users with no checklist, by name",
                    "items": {"type": "object", "required": ["user", "name", "team_name", "role"], "properties": {
                        "user": uuid(), "name": {"type": "string"}, "team_name": {"type": ["string", "null"]}, "role": roles()}}}}}),
        ),
    );
    doc.op(
        "get",
        "/onboarding/templates",
        Op::new(
            "onboarding_templates",
            TAG,
            "Each role's checklist template: the one administrators saved, else the standard one",
        )
        .ok("200", "One template per role", super::data_of(template.clone())),
    );
    doc.op(
        "put",
        "/onboarding/templates/{role}",
        Op::new(
            "set_onboarding_template",
            TAG,
            "Replace a role's template (administrators); checklists already started keep their steps",
        )
        .params(vec![path_param("role", roles(), "the role whose new users get it")])
        .body(strict(
            &["steps"],
            json!({
                "steps": {"type": "array", "maxItems": 30, "items": template_step},
                "version": {"type": ["integer", "null"], "description": "the version you read; another is refused with 412 (null or absent: whatever is there)"}}),
        ))
        .ok("200", "The template saved", template)
        .problems(&["412"]),
    );
    let user = || uuid_param("id", "the user's id");
    doc.op(
        "get",
        "/onboarding/users/{id}",
        Op::new(
            "checklist",
            TAG,
            "A user's checklist, its steps ticked as far as the system can see: for the user, their team's key users and lead, and administrators (404 for anyone else)",
        )
        .params(vec![user()])
        .ok("200", "The checklist", checklist.clone()),
    );
    doc.op(
        "post",
        "/onboarding/users/{id}",
        Op::new(
            "start_checklist",
            TAG,
            "Start a checklist for a user who has none, due days from today (administrators)",
        )
        .params(vec![user()])
        .ok("201", "The checklist started", checklist.clone())
        .problems(&["409", "422"]),
    );
    doc.op(
        "put",
        "/onboarding/users/{id}/steps/{number}",
        Op::new(
            "tick_step",
            TAG,
            "Tick a manual step, or take the tick back: the user, their team's key users and lead, administrators",
        )
        .params(vec![
            user(),
            path_param("number", json!({"type": "integer", "minimum": 1}), "the step's number"),
        ])
        .body(strict(&["done"], json!({"done": {"type": "boolean"}})))
        .ok("200", "The checklist", checklist),
    );
}
