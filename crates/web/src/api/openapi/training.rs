//! Training: courses, sessions, attendance, and a user's trainings with when each runs out.

use super::{Doc, Op, data_of, line, optional_text, optional_uuid, or_null, query, strict, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Training";

fn role() -> Json {
    json!({"type": "string", "enum": ["admin", "key_user", "user", "read_only"]})
}

fn uuid() -> Json {
    json!({"type": "string", "format": "uuid"})
}

fn date() -> Json {
    json!({"type": "string", "format": "date"})
}

fn datetime() -> Json {
    json!({"type": "string", "format": "date-time"})
}

fn course_properties() -> serde_json::Map<String, Json> {
    let props = json!({
        "id": uuid(), "name": {"type": "string"}, "description": {"type": "string"},
        "audience": {"type": "array", "items": role(), "description": "the roles the course is for"},
        "refresh_months": {"type": ["integer", "null"], "description": "months after which a training must be refreshed; null: it lasts"},
        "created_at": datetime(), "updated_at": datetime()});
    props.as_object().cloned().unwrap_or_default()
}

const COURSE_REQUIRED: [&str; 7] = [
    "id",
    "name",
    "description",
    "audience",
    "refresh_months",
    "created_at",
    "updated_at",
];

pub(super) fn add(doc: &mut Doc) {
    let course = doc.named(
        "Course",
        json!({"type": "object", "required": COURSE_REQUIRED, "properties": course_properties()}),
    );
    let mut line_props = course_properties();
    for (k, v) in [
        ("sessions", json!({"type": "integer"})),
        (
            "valid",
            json!({"type": "integer", "description": "active users of its audience whose training is valid"}),
        ),
        (
            "expiring",
            json!({"type": "integer", "description": "…runs out within 30 days"}),
        ),
        ("expired", json!({"type": "integer", "description": "…ran out"})),
        ("missing", json!({"type": "integer", "description": "…never attended"})),
    ] {
        line_props.insert(k.into(), v);
    }
    let mut line_required: Vec<&str> = COURSE_REQUIRED.to_vec();
    line_required.extend(["sessions", "valid", "expiring", "expired", "missing"]);
    let course_line = json!({"type": "object", "required": line_required, "properties": line_props});
    let session = doc.named(
        "TrainingSession",
        json!({"type": "object",
            "required": ["id", "course", "on", "trainer", "trainer_name", "place", "online", "created_at", "created_by", "course_name", "trainer_label", "attended"],
            "properties": {
                "id": uuid(), "course": uuid(), "on": date(),
                "trainer": {"type": ["string", "null"], "format": "uuid", "description": "the trainer, when a user"},
                "trainer_name": {"type": "string", "description": "the trainer's name, when no user"},
                "place": {"type": "string"}, "online": {"type": "boolean"},
                "created_at": datetime(), "created_by": or_null(uuid()),
                "course_name": {"type": "string"},
                "trainer_label": {"type": "string", "description": "the trainer's name as shown"},
                "attended": {"type": "integer", "description": "how many attended"}}}),
    );
    let attendance = doc.named(
        "SessionAttendance",
        json!({"type": "object", "required": ["session", "course", "attendance", "open"], "properties": {
            "session": session.clone(), "course": course.clone(),
            "attendance": {"type": "array", "description": "everyone recorded, and the active users of the course's audience not recorded yet",
                "items": {"type": "object", "required": ["user", "name", "role", "attended"], "properties": {
                    "user": uuid(), "name": {"type": "string"}, "role": role(),
                    "attended": {"type": ["boolean", "null"], "description": "null: not recorded"}}}},
            "open": {"type": "boolean", "description": "whether attendance may be recorded (the session's day has come)"}}}),
    );
    let course_body = strict(
        &["name", "audience"],
        json!({
            "name": line(120),
            "description": optional_text(5000),
            "audience": {"type": "array", "minItems": 1, "items": role()},
            "refresh_months": {"type": ["integer", "null"], "minimum": 1, "maximum": 120}}),
    );
    doc.op(
        "get",
        "/training",
        Op::new(
            "training_overview",
            TAG,
            "Every course with how its audience stands today, and every session, newest first",
        )
        .ok(
            "200",
            "Courses and sessions",
            json!({"type": "object", "required": ["today", "courses", "sessions", "may_manage"], "properties": {
                "today": date(),
                "courses": {"type": "array", "items": course_line},
                "sessions": {"type": "array", "items": session.clone()},
                "may_manage": {"type": "boolean", "description": "whether you may add courses and sessions and record attendance (administrators and key users)"}}}),
        ),
    );
    doc.op(
        "get",
        "/training/courses",
        Op::new("list_courses", TAG, "The courses, by name").ok("200", "The courses", data_of(course.clone())),
    );
    doc.op(
        "post",
        "/training/courses",
        Op::new("create_course", TAG, "Add a course (administrators and key users)")
            .body(course_body.clone())
            .ok("201", "The course", course.clone()),
    );
    let id = |what: &str| uuid_param("id", what);
    doc.op(
        "get",
        "/training/courses/{id}",
        Op::new("get_course", TAG, "One course")
            .params(vec![id("the course's id")])
            .ok("200", "The course", course.clone()),
    );
    doc.op(
        "put",
        "/training/courses/{id}",
        Op::new(
            "update_course",
            TAG,
            "Change a course, every field as it should be (administrators and key users)",
        )
        .params(vec![id("the course's id")])
        .body(course_body)
        .ok("200", "The course", course),
    );
    doc.op(
        "get",
        "/training/sessions",
        Op::new("list_training_sessions", TAG, "Sessions, newest first")
            .params(vec![query(
                "course",
                optional_uuid(),
                "only this course's sessions (empty: every course's)",
            )])
            .ok("200", "The sessions", data_of(session.clone())),
    );
    doc.op(
        "post",
        "/training/sessions",
        Op::new(
            "create_training_session",
            TAG,
            "Add a session of a course (administrators and key users); it names its trainer, a user or a name",
        )
        .body(strict(
            &["course", "on"],
            json!({
                "course": uuid(),
                "on": date(),
                "trainer": {"type": ["string", "null"], "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$", "description": "a user's id; empty or null: trainer_name"},
                "trainer_name": or_null(json!({"type": "string", "maxLength": 120, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"})),
                "place": or_null(json!({"type": "string", "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "description": "a room, an address or the meeting's link"})),
                "online": {"type": "boolean", "default": false}}),
        ))
        .ok("201", "The session", session.clone()),
    );
    doc.op(
        "get",
        "/training/sessions/{id}",
        Op::new("get_training_session", TAG, "One session")
            .params(vec![id("the session's id")])
            .ok("200", "The session", session),
    );
    doc.op(
        "get",
        "/training/sessions/{id}/attendance",
        Op::new(
            "session_attendance",
            TAG,
            "Who attended a session, and who of its course's audience is not recorded yet (administrators and key users)",
        )
        .params(vec![id("the session's id")])
        .ok("200", "The attendance", attendance.clone()),
    );
    doc.op(
        "put",
        "/training/sessions/{id}/attendance",
        Op::new(
            "record_attendance",
            TAG,
            "Record who attended and who did not (administrators and key users), on or after the session's day; the training steps of those who attended tick at once",
        )
        .params(vec![id("the session's id")])
        .body(strict(
            &["attendance"],
            json!({"attendance": {"type": "array", "items": strict(&["user", "attended"], json!({
                "user": uuid(), "attended": {"type": "boolean"}}))}}),
        ))
        .ok("200", "The attendance", attendance),
    );
    doc.op(
        "get",
        "/training/users/{id}",
        Op::new(
            "user_trainings",
            TAG,
            "A user's trainings: every course for their role and every course they attended, with when it runs out; for the user, their team's key users and lead, administrators (404 for anyone else)",
        )
        .params(vec![id("the user's id")])
        .ok(
            "200",
            "Their courses, what needs doing first",
            json!({"type": "object", "required": ["user", "name", "role", "today", "courses"], "properties": {
                "user": uuid(), "name": {"type": "string"}, "role": role(), "today": date(),
                "courses": {"type": "array", "items": {"type": "object",
                    "required": ["course", "name", "for_role", "session", "attended_on", "expires_on", "state"],
                    "properties": {
                        "course": uuid(), "name": {"type": "string"},
                        "for_role": {"type": "boolean", "description": "whether the course is for their role"},
                        "session": or_null(uuid()), "attended_on": or_null(date()), "expires_on": or_null(date()),
                        "state": {"type": "string", "enum": ["valid", "expiring", "expired", "missing"],
                            "description": "expiring: runs out within 30 days; missing: a course for their role never attended"}}}}}}),
        ),
    );
}
