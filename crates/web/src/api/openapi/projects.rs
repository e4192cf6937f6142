//! Implementation projects: the project whole with its verdicts, and each of its parts
//! (members, tasks, dependencies, work packages, change requests, meetings, actions,
//! escalations, the communication matrix, status reports, journeys, requirements and
//! configuration), the role catalogue, and each user's follow-up.
//!
//! Items are numbered within their project (`{n}`). A change names the version it changes
//! (`"version"` in the body, `?version=` on a delete): without it 428, a stale one 412.

use super::{Doc, Op, line, optional_text, or_null, path_param, query, strict, text, uuid_param};
use serde_json::{Map, Value as Json, json};

const TAG: &str = "Projects";
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 4000;
const MAX_LIST: usize = 100;

/// A date from 1900 to 2999 (a day every month has), as plans take them.
fn date() -> Json {
    json!({"type": "string", "pattern": "^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
        "description": "YYYY-MM-DD, from 1900 to 2999"})
}

fn number() -> Json {
    json!({"type": "integer", "minimum": 1, "maximum": u32::MAX, "description": "an item's number in the project"})
}

fn version() -> Json {
    json!({"type": "integer", "description": "the version being changed (another than the item's is 412)"})
}

fn hours() -> Json {
    json!({"type": "number", "minimum": 0, "maximum": 1_000_000})
}

fn money() -> Json {
    json!({"type": "integer", "minimum": 0, "maximum": 1_000_000_000_000_i64, "description": "minor units"})
}

fn names() -> Json {
    json!({"type": "array", "maxItems": MAX_LIST, "uniqueItems": true, "items": line(80),
        "description": "each named once (ignoring case)"})
}

fn enumeration(values: &[&str]) -> Json {
    json!({"type": "string", "enum": values})
}

/// Every property optional, `version` required: what a change of an item takes.
fn change_of(properties: &Json) -> Json {
    let mut props = properties.as_object().cloned().unwrap_or_default();
    props.insert("version".into(), version());
    strict(&["version"], Json::Object(props))
}

fn settings_properties() -> Json {
    json!({
        "name": line(120), "start": date(), "target": date(),
        "goals": {"type": "array", "maxItems": MAX_LIST, "items": strict(&["text"], json!({"text": text(MAX_TEXT), "strategy": optional_text(MAX_TEXT)}))},
        "phases": {"type": "array", "maxItems": MAX_LIST, "items": strict(&["name", "start", "finish"],
            json!({"name": line(80), "start": date(), "finish": date()}))},
        "mandate": {"oneOf": [{"type": "null"}, strict(&["granted_by", "granted_on", "scope"],
            json!({"granted_by": line(MAX_NAME), "granted_on": date(), "scope": text(MAX_TEXT)}))]},
        "budget": strict(&["currency", "amount", "buffer_percent"], json!({
            "currency": {"type": "string", "pattern": "^ *[A-Za-z]{3} *$"}, "amount": money(),
            "buffer_percent": {"type": "number", "minimum": 0, "maximum": 100}, "committed": money(), "spent": money()})),
        "cadence": {"$ref": "#/components/schemas/Cadence"},
        "departments": names(), "user_groups": names(),
        "thresholds": strict(&["max_core_team", "max_technical_share"], json!({
            "max_core_team": {"type": "integer", "minimum": 1, "maximum": 100},
            "max_technical_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}})),
        "max_system_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    })
}

fn task_properties() -> Json {
    json!({
        "name": line(MAX_NAME), "owner": {"type": ["integer", "null"], "minimum": 1, "description": "a member's number"},
        "phase": optional_text(80), "start": date(), "finish": or_null(date()), "milestone": {"type": "boolean"},
        "area": enumeration(&["business", "anchoring", "system"]),
        "status": or_null(enumeration(&["not_started", "in_progress", "blocked", "done"])),
        "percent_done": {"type": "number", "minimum": 0, "maximum": 100},
        "planned_hours": hours(), "actual_hours": hours(), "planned_cost": money(), "actual_cost": money(),
        "external": {"type": "array", "maxItems": MAX_LIST, "items": strict(&["kind", "party"], json!({
            "kind": enumeration(&["team", "vendor", "process_change"]), "party": line(MAX_NAME),
            "note": optional_text(MAX_TEXT), "resolved": {"type": "boolean"}}))}
    })
}

fn member_properties() -> Json {
    json!({
        "name": line(MAX_NAME), "email": optional_text(254), "organisation": optional_text(MAX_NAME),
        "roles": {"type": "array", "maxItems": MAX_LIST, "items": {"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string", "description": "a key of the role catalogue"},
            "department": {"type": ["string", "null"]}, "user_group": {"type": ["string", "null"]}}}}
    })
}

fn change_properties() -> Json {
    json!({
        "title": line(MAX_NAME), "description": optional_text(MAX_TEXT),
        "requested_by": {"type": ["integer", "null"], "minimum": 1, "description": "a member's number"},
        "scope_impact": optional_text(MAX_TEXT), "requirements_impact": optional_text(MAX_TEXT), "effort_hours": hours(),
        "effects": {"type": "array", "maxItems": MAX_LIST, "items": {"oneOf": [
            strict(&["kind", "task", "start", "finish"], json!({"kind": {"const": "move_task"}, "task": number(), "start": date(), "finish": date()})),
            strict(&["kind", "name", "start", "finish", "area"], json!({"kind": {"const": "add_task"}, "name": line(MAX_NAME),
                "start": date(), "finish": date(), "area": enumeration(&["business", "anchoring", "system"]),
                "planned_hours": hours(), "milestone": {"type": "boolean"}})),
            strict(&["kind", "delta"], json!({"kind": {"const": "budget"}, "delta": {"type": "integer"}}))]}},
        "affected": names(),
        "approvers": {"type": "array", "maxItems": MAX_LIST, "items": number(), "description": "members' numbers"}
    })
}

fn action_properties() -> Json {
    json!({"title": line(MAX_NAME), "owner": {"type": ["integer", "null"], "minimum": 1}, "due": date(),
        "meeting": {"type": ["integer", "null"], "minimum": 1}, "note": optional_text(MAX_TEXT)})
}

fn communication_properties() -> Json {
    json!({
        "sender_role": line(80), "audience": line(MAX_NAME), "content": text(MAX_TEXT), "channel": optional_text(MAX_NAME),
        "frequency": {"$ref": "#/components/schemas/Cadence"},
        "fulfilled_by": {"oneOf": [
            strict(&["by"], json!({"by": {"enum": ["status_report", "manual"]}})),
            strict(&["by", "series"], json!({"by": {"const": "minutes"}, "series": {"$ref": "#/components/schemas/Series"}}))]},
        "starts": {"oneOf": [{"type": "null"}, date()]}
    })
}

fn journey_properties() -> Json {
    json!({"name": line(MAX_NAME), "description": optional_text(MAX_TEXT),
        "touchpoints": {"type": "array", "maxItems": MAX_LIST, "items": {"type": "object", "required": ["name"], "properties": {
            "name": line(MAX_NAME), "tasks": {"type": "array", "maxItems": MAX_LIST, "items": {"type": "string"}}}}}})
}

fn requirement_properties() -> Json {
    json!({"text": text(MAX_TEXT), "journey": {"type": ["integer", "null"], "minimum": 1},
        "touchpoint": {"type": ["integer", "null"], "minimum": 0}, "priority": enumeration(&["must", "should", "could"]),
        "three_year": {"type": "boolean"}, "why": optional_text(MAX_TEXT), "phase": optional_text(80),
        "traces": {"type": "array", "maxItems": MAX_LIST, "items": {"type": "object", "required": ["kind", "target"], "properties": {
            "kind": {"$ref": "#/components/schemas/ConfigKind"}, "target": line(MAX_NAME)}}}})
}

/// The properties with those named made nullable.
fn nullable(properties: &Json, keys: &[&str]) -> Json {
    let mut props = properties.as_object().cloned().unwrap_or_default();
    for k in keys {
        if let Some(v) = props.remove(*k) {
            props.insert((*k).to_string(), or_null(v));
        }
    }
    Json::Object(props)
}

/// The properties of `all` named in `keys`.
fn pick(all: &Json, keys: &[&str]) -> Json {
    let map: Map<String, Json> = keys
        .iter()
        .filter_map(|k| all.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .collect();
    Json::Object(map)
}

/// `?version=N`: what a delete, which has no body, names.
fn version_query() -> Json {
    json!({"name": "version", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 1, "maximum": i64::MAX},
        "description": "the version being deleted (428 without it, 412 when stale)"})
}

/// `?format=` of a status report: JSON (default), Markdown or the web page's HTML.
fn report_answers(op: Op, json_schema: Json) -> Op {
    op.answer(
        "200",
        json!({"description": "The report", "content": {
            "application/json": {"schema": json_schema},
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}}}}),
    )
}

pub(super) fn add(doc: &mut Doc) {
    doc.named("Cadence", enumeration(&["weekly", "biweekly", "monthly", "quarterly"]));
    doc.named(
        "Series",
        enumeration(&["core_team", "steering_group", "key_user_group"]),
    );
    doc.named(
        "ConfigKind",
        enumeration(&["object", "field", "view", "report", "process", "training"]),
    );
    let item = json!({"type": "object", "properties": {"number": {"type": "integer"}, "version": {"type": "integer"}}});
    let id = || uuid_param("id", "the project's id");
    let n = || path_param("n", number(), "the item's number in the project");
    let settings = settings_properties();
    let project = json!({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"},
        "name": {"type": "string"}, "start": {"type": "string", "format": "date"}, "target": {"type": "string", "format": "date"}}});

    doc.op(
        "get",
        "/projects",
        Op::new("list_projects", TAG, "Every project, newest start first").ok(
            "200",
            "Projects",
            super::data_of(project.clone()),
        ),
    );
    doc.op(
        "post",
        "/projects",
        Op::new(
            "create_project",
            TAG,
            "Start a project (administrators and project managers)",
        )
        .body(strict(
            &["name", "start", "target"],
            nullable(&settings, &["budget", "cadence", "thresholds", "max_system_share"]),
        ))
        .ok("201", "Created", project.clone()),
    );
    doc.op(
        "get",
        "/projects/{id}",
        Op::new(
            "get_project",
            TAG,
            "The project whole, with its health, rule of thirds, budget, critical path, forecast and every part",
        )
        .params(vec![id()])
        .ok(
            "200",
            "The project",
            json!({"type": "object", "required": ["project", "rights"]}),
        ),
    );
    let mut project_change = settings.clone();
    if let Some(m) = project_change.as_object_mut() {
        m.insert("report_template".into(), json!({"type": ["string", "null"]}));
    }
    doc.op(
        "patch",
        "/projects/{id}",
        Op::new(
            "update_project",
            TAG,
            "Change the project's settings (the keys sent replace theirs)",
        )
        .params(vec![id()])
        .body(change_of(&project_change))
        .ok("200", "Changed", project)
        .problems(&["412", "428"]),
    );

    let writes = |op: Op| op.problems(&["409", "412", "428"]);
    let add_item = |doc: &mut Doc, path: &str, op_id: &str, summary: &str, required: &[&str], props: &Json| {
        doc.op(
            "post",
            path,
            writes(Op::new(op_id, TAG, summary))
                .params(vec![id()])
                .body(strict(required, props.clone()))
                .ok("201", "Added", item.clone()),
        );
    };
    let change_item = |doc: &mut Doc, path: &str, op_id: &str, summary: &str, props: &Json| {
        doc.op(
            "patch",
            path,
            writes(Op::new(op_id, TAG, summary))
                .params(vec![id(), n()])
                .body(change_of(props))
                .ok("200", "Changed", item.clone()),
        );
    };
    let step = |doc: &mut Doc, path: &str, op_id: &str, summary: &str, body: Json, status: &str| {
        doc.op(
            "post",
            path,
            writes(Op::new(op_id, TAG, summary))
                .params(vec![id(), n()])
                .body(body)
                .ok(status, "Done", item.clone()),
        );
    };
    let delete_item = |doc: &mut Doc, path: &str, op_id: &str, summary: &str| {
        doc.op(
            "delete",
            path,
            writes(Op::new(op_id, TAG, summary))
                .params(vec![id(), n(), version_query()])
                .no_content("Deleted"),
        );
    };

    // The project group.
    let member = member_properties();
    let mut new_member = member.clone();
    if let Some(m) = new_member.as_object_mut() {
        m.insert(
            "user".into(),
            json!({"type": ["string", "null"], "format": "uuid", "description": "a user's id (name and e-mail from it)"}),
        );
    }
    add_item(
        doc,
        "/projects/{id}/members",
        "add_member",
        "Add a member to the project group",
        &[],
        &new_member,
    );
    change_item(
        doc,
        "/projects/{id}/members/{n}",
        "update_member",
        "Change a member (new roles need a new confirmation)",
        &member,
    );
    delete_item(
        doc,
        "/projects/{id}/members/{n}",
        "remove_member",
        "Take a member out (their tasks and packages lose their owner)",
    );
    step(
        doc,
        "/projects/{id}/members/{n}/confirm",
        "confirm_roles",
        "The member confirms the roles they hold (the kick-off)",
        strict(&["version"], json!({"version": version()})),
        "200",
    );
    step(
        doc,
        "/projects/{id}/members/{n}/review",
        "review_role",
        "The member's feedback on their role",
        strict(
            &["rating"],
            json!({"rating": {"type": "integer", "minimum": 1, "maximum": 5}, "text": optional_text(MAX_TEXT)}),
        ),
        "200",
    );

    // The plan.
    let task = task_properties();
    add_item(
        doc,
        "/projects/{id}/tasks",
        "add_task",
        "Add a task or milestone",
        &["name", "start", "area"],
        &task,
    );
    change_item(
        doc,
        "/projects/{id}/tasks/{n}",
        "update_task",
        "Change a task (its owner may report progress: status, percent_done, actual_hours, actual_cost)",
        &task,
    );
    delete_item(
        doc,
        "/projects/{id}/tasks/{n}",
        "delete_task",
        "Delete a task and its dependencies",
    );
    doc.op(
        "post",
        "/projects/{id}/dependencies",
        writes(Op::new(
            "add_dependency",
            TAG,
            "`before` must finish before `after` starts (a cycle is refused, named)",
        ))
        .params(vec![id()])
        .body(strict(
            &["before", "after"],
            json!({"before": number(), "after": number()}),
        ))
        .ok(
            "201",
            "Added",
            json!({"type": "object", "properties": {"before": {"type": "integer"}, "after": {"type": "integer"}}}),
        ),
    );
    doc.op(
        "delete",
        "/projects/{id}/dependencies/{before}/{after}",
        writes(Op::new("remove_dependency", TAG, ""))
            .params(vec![
                id(),
                path_param("before", number(), "the task that comes first"),
                path_param("after", number(), "the task that waits for it"),
            ])
            .no_content("Removed"),
    );

    // Work packages.
    let package = json!({"title": line(MAX_NAME), "description": optional_text(MAX_TEXT),
        "vendor": {"type": ["integer", "null"], "minimum": 1, "description": "the vendor's member"}, "due": {"oneOf": [{"type": "null"}, date()]}});
    add_item(
        doc,
        "/projects/{id}/work-packages",
        "add_work_package",
        "Add a work package for the vendor",
        &["title"],
        &package,
    );
    step(
        doc,
        "/projects/{id}/work-packages/{n}/state",
        "move_work_package",
        "Hand over, deliver, accept or send back (with a reason) a work package",
        strict(
            &["state", "version"],
            json!({"state": enumeration(&["draft", "handed_over", "delivered", "accepted", "sent_back"]),
                "comment": optional_text(MAX_TEXT), "version": version()}),
        ),
        "200",
    );

    // Change requests.
    let change = change_properties();
    add_item(
        doc,
        "/projects/{id}/changes",
        "raise_change",
        "Raise a change request",
        &["title"],
        &change,
    );
    change_item(
        doc,
        "/projects/{id}/changes/{n}",
        "update_change",
        "Change a draft change request",
        &change,
    );
    let step_body = strict(
        &["version"],
        json!({"version": version(), "comment": optional_text(MAX_TEXT)}),
    );
    let decision = strict(
        &["verdict", "version"],
        json!({"approver": {"type": ["integer", "null"], "minimum": 1, "description": "the approver deciding; your own membership when left out"},
            "verdict": enumeration(&["approve", "reject"]), "comment": optional_text(MAX_TEXT), "version": version()}),
    );
    doc.op(
        "post",
        "/projects/{id}/changes/{n}/{step}",
        writes(Op::new(
            "change_step",
            TAG,
            "A step of a change request: submit, decide (an approver's verdict), defer, withdraw, carry-over",
        ))
        .params(vec![
            id(),
            n(),
            path_param(
                "step",
                enumeration(&["submit", "decide", "defer", "withdraw", "carry-over"]),
                "decide takes a verdict; the others a version and a comment",
            ),
        ])
        .body(json!({"oneOf": [step_body, decision]}))
        .ok("200", "Done", item.clone()),
    );

    // Meetings, actions, escalations.
    add_item(
        doc,
        "/projects/{id}/meetings",
        "add_meeting",
        "Plan a meeting of a series",
        &["series", "date"],
        &json!({"series": {"$ref": "#/components/schemas/Series"}, "date": date(), "title": optional_text(MAX_NAME),
            "attendees": {"type": "array", "maxItems": MAX_LIST, "items": number()}}),
    );
    doc.op(
        "get",
        "/projects/{id}/meetings/{n}",
        Op::new("get_meeting", TAG, "A meeting with its agenda")
            .params(vec![id(), n()])
            .ok("200", "The meeting", item.clone()),
    );
    let actions = action_properties();
    step(
        doc,
        "/projects/{id}/meetings/{n}/minutes",
        "record_minutes",
        "Minutes, decisions, attendees and new actions; held freezes the agenda",
        strict(
            &["version"],
            json!({"version": version(), "minutes": optional_text(20_000),
                "decisions": {"type": "array", "maxItems": MAX_LIST, "items": text(MAX_TEXT)},
                "attendees": {"type": ["array", "null"], "maxItems": MAX_LIST, "items": number()},
                "actions": {"type": "array", "maxItems": MAX_LIST, "items": strict(&["title", "due"], pick(&actions, &["title", "owner", "due", "note"]))},
                "held": {"type": "boolean"}}),
        ),
        "200",
    );
    add_item(
        doc,
        "/projects/{id}/actions",
        "add_action",
        "Add an action",
        &["title", "due"],
        &actions,
    );
    let mut action_change = actions.clone();
    if let Some(m) = action_change.as_object_mut() {
        m.insert(
            "done".into(),
            json!({"type": ["string", "null"], "format": "date-time"}),
        );
    }
    change_item(
        doc,
        "/projects/{id}/actions/{n}",
        "update_action",
        "Change an action, or mark it done",
        &action_change,
    );
    add_item(
        doc,
        "/projects/{id}/escalations",
        "escalate",
        "Escalate an issue, a risk or an action to the steering group",
        &["kind"],
        &json!({"kind": enumeration(&["issue", "risk", "action"]), "title": optional_text(MAX_NAME),
            "description": optional_text(MAX_TEXT), "action": {"type": ["integer", "null"], "minimum": 1}}),
    );
    step(
        doc,
        "/projects/{id}/escalations/{n}/decide",
        "decide_escalation",
        "The steering group's decision",
        strict(
            &["version", "decision"],
            json!({"version": version(), "decision": text(MAX_TEXT)}),
        ),
        "200",
    );

    // The communication matrix.
    let communication = communication_properties();
    doc.op(
        "get",
        "/projects/{id}/communications",
        Op::new(
            "communications",
            TAG,
            "The communication matrix with each row's next occasion",
        )
        .params(vec![id()])
        .ok("200", "Rows", super::data_of(json!({"type": "object"}))),
    );
    add_item(
        doc,
        "/projects/{id}/communications",
        "add_communication",
        "Add a row to the communication matrix",
        &["sender_role", "audience", "content", "frequency", "fulfilled_by"],
        &communication,
    );
    change_item(
        doc,
        "/projects/{id}/communications/{n}",
        "update_communication",
        "",
        &communication,
    );
    delete_item(doc, "/projects/{id}/communications/{n}", "delete_communication", "");
    step(
        doc,
        "/projects/{id}/communications/{n}/sent",
        "communication_sent",
        "Mark a manual row sent for its current occasion",
        strict(
            &["version"],
            json!({"version": version(), "comment": optional_text(MAX_TEXT)}),
        ),
        "200",
    );

    // Status reports.
    let format = query(
        "format",
        enumeration(&["json", "markdown", "md", "html"]),
        "JSON by default (the Markdown, the HTML, the differences, decisions and facts)",
    );
    let lang = query(
        "lang",
        json!({"type": "string"}),
        "the language generated text is in (else Accept-Language)",
    );
    doc.op(
        "get",
        "/projects/{id}/status-report",
        report_answers(
            Op::new("draft_status_report", TAG, "The status report as it would be sent now").params(vec![
                id(),
                format.clone(),
                lang.clone(),
                query("text", json!({"type": "string"}), "the leader's own words"),
            ]),
            json!({"type": "object", "properties": {"markdown": {"type": "string"}, "html": {"type": "string"}}}),
        ),
    );
    doc.op(
        "post",
        "/projects/{id}/status-reports",
        Op::new(
            "send_status_report",
            TAG,
            "Send the status report now; it is kept as sent",
        )
        .params(vec![id(), lang])
        .body(strict(
            &[],
            json!({"text": {"type": "string", "description": "the leader's own words"}}),
        ))
        .ok("201", "Sent", item.clone())
        .problems(&["409"]),
    );
    doc.op(
        "get",
        "/projects/{id}/status-reports/{n}",
        report_answers(
            Op::new("sent_status_report", TAG, "A status report as it was sent").params(vec![id(), n(), format]),
            json!({"type": "object"}),
        ),
    );

    // Journeys, requirements, configuration.
    let journey = journey_properties();
    add_item(
        doc,
        "/projects/{id}/journeys",
        "add_journey",
        "Add a customer or user journey",
        &["name"],
        &journey,
    );
    change_item(doc, "/projects/{id}/journeys/{n}", "update_journey", "", &journey);
    let requirement = requirement_properties();
    add_item(
        doc,
        "/projects/{id}/requirements",
        "add_requirement",
        "Add a requirement",
        &["text", "priority"],
        &requirement,
    );
    change_item(
        doc,
        "/projects/{id}/requirements/{n}",
        "update_requirement",
        "",
        &requirement,
    );
    add_item(
        doc,
        "/projects/{id}/configuration",
        "add_config_item",
        "Add a configuration item (a process, a training, …)",
        &["kind", "name"],
        &json!({"kind": {"$ref": "#/components/schemas/ConfigKind"}, "name": line(MAX_NAME), "description": optional_text(MAX_TEXT)}),
    );
    delete_item(doc, "/projects/{id}/configuration/{n}", "delete_config_item", "");
    doc.op(
        "get",
        "/projects/{id}/traceability",
        Op::new("traceability", TAG, "Requirements traced to nothing, configuration nothing requires, traces to what is not there")
            .params(vec![id()])
            .ok("200", "Traceability", json!({"type": "object", "properties": {"traceability": {"type": "object"}, "configuration": {"type": "array"}}})),
    );

    // The role catalogue and each user's follow-up.
    let role = json!({"type": "object", "required": ["key", "required", "technical", "core_team", "scope", "vendor"], "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}, "label": line(80),
        "required": {"type": "boolean"}, "technical": {"type": "boolean"}, "core_team": {"type": "boolean"},
        "scope": enumeration(&["project", "department", "user_group"]), "vendor": {"type": "boolean"}}});
    doc.op(
        "get",
        "/project-roles",
        Op::new("project_roles", TAG, "The role catalogue: the standard roles and those administrators added")
            .ok("200", "Roles", super::data_of(json!({"type": "object", "required": ["key", "scope"], "properties": {
                "key": {"type": "string"}, "label": {"type": "string", "description": "empty for the standard roles, whose names are translated"},
                "required": {"type": "boolean"}, "technical": {"type": "boolean"}, "core_team": {"type": "boolean"},
                "scope": {"type": "string"}, "vendor": {"type": "boolean"}}}))),
    );
    let mut new_role = role.clone();
    if let Some(m) = new_role.as_object_mut() {
        m.insert(
            "required".into(),
            json!(["key", "label", "required", "technical", "core_team", "scope", "vendor"]),
        );
        m.insert("description".into(), json!("a key the catalogue has already is 409"));
    }
    doc.op(
        "post",
        "/project-roles",
        Op::new(
            "add_project_role",
            TAG,
            "Add a role to the catalogue (administrators and project managers)",
        )
        .body(new_role)
        .ok(
            "201",
            "Added",
            json!({"type": "object", "properties": {"key": {"type": "string"}}}),
        )
        .problems(&["409"]),
    );
    doc.op(
        "get",
        "/me/follow-up",
        Op::new("follow_up", TAG, "Your actions, approvals waiting for you, communications due and open escalations, across projects")
            .ok("200", "What is yours to do", json!({"type": "object", "properties": {
                "actions": {"type": "array"}, "approvals": {"type": "array"}, "communications": {"type": "array"}, "escalations": {"type": "array"}}})),
    );
}
