//! Adoption: usage per user and day, scores against the team, tiers' weights, teams' leads.

use super::{Doc, Op, data_of, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Adoption";

fn score(description: &str) -> Json {
    json!({"type": ["number", "null"], "minimum": 0, "maximum": 100, "description": description})
}

fn dates() -> Json {
    json!({"type": "array", "items": {"type": "string", "format": "date"}, "description": "the first day of each trend week, oldest first"})
}

fn metric() -> Json {
    json!({"type": "string", "enum": ["active_days", "records", "activities", "deal_updates"]})
}

pub(super) fn add(doc: &mut Doc) {
    let measured = doc.named(
        "MeasuredExpectation",
        json!({"type": "object", "required": ["metric", "per_week", "from_team", "this_week", "average", "met"], "properties": {
            "metric": metric(), "per_week": {"type": "integer"},
            "from_team": {"type": "boolean", "description": "set for the team (else for the role)"},
            "this_week": {"type": "integer", "description": "the last seven days"},
            "average": {"type": "number", "description": "a week on average over the last 28 days"},
            "met": {"type": "boolean"}}}),
    );
    let weights = doc.named(
        "AdoptionWeights",
        json!({"type": "object", "additionalProperties": false, "required": ["access", "process", "quality"], "properties": {
            "access": {"type": "integer", "minimum": 0, "maximum": 100, "description": "active days and how recently they signed in"},
            "process": {"type": "integer", "minimum": 0, "maximum": 100, "description": "records, activities and deal updates"},
            "quality": {"type": "integer", "minimum": 0, "maximum": 100, "description": "their records' data quality and stale deals"}}}),
    );
    let row = doc.named(
        "AdoptionUser",
        json!({"type": "object",
            "required": ["user", "name", "team", "team_name", "figures", "tiers", "score", "last_active", "trend", "weak", "support", "expectations"],
            "properties": {
                "user": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                "team": {"type": ["string", "null"], "format": "uuid"}, "team_name": {"type": ["string", "null"]},
                "figures": {"type": "object", "required": ["user", "active_days", "days_since_sign_in", "records", "activities", "deal_updates", "quality", "stale_share", "pushed_share"],
                    "description": "over the window (the last 28 days)", "properties": {
                    "user": {"type": "string", "format": "uuid"},
                    "active_days": {"type": "integer"},
                    "days_since_sign_in": {"type": ["integer", "null"], "description": "null: never signed in"},
                    "records": {"type": "integer", "description": "records other than activities created or changed"},
                    "activities": {"type": "integer", "description": "activities logged or marked done"},
                    "deal_updates": {"type": "integer", "description": "deals moved to another stage or changed"},
                    "quality": {"type": ["number", "null"], "description": "their records' average data-quality score, 0–1"},
                    "stale_share": {"type": ["number", "null"], "description": "share of their open deals untouched for 30 days"},
                    "pushed_share": {"type": ["number", "null"], "description": "deals whose close date they moved later in the window, against their open deals (at most 1)"}}},
                "tiers": {"type": "object", "required": ["access", "process", "quality"], "properties": {
                    "access": score("active days against the team's median, and recency of sign-in"),
                    "process": score("records, activities and deal updates against the team's medians"),
                    "quality": score("data quality and stale deals")}},
                "score": score("the tiers weighed together"),
                "last_active": {"type": ["string", "null"], "format": "date"},
                "trend": {"type": "array", "items": score("the score of one week")},
                "weak": {"type": "array", "description": "the weak-user rules this user falls under now", "items": {"oneOf": [
                    {"type": "object", "required": ["rule", "days"], "properties": {
                        "rule": {"const": "no_sign_in"}, "days": {"type": ["integer", "null"], "description": "days since the last sign-in; null: never"}}},
                    {"type": "object", "required": ["rule", "weeks"], "properties": {
                        "rule": {"const": "below_median"}, "weeks": {"type": "integer", "description": "weeks running below half the team's median"}}}]}},
                "support": {"type": ["string", "null"], "format": "uuid", "description": "the open follow-up task of extra support planned"},
                "expectations": {"type": "array", "items": measured.clone()}}}),
    );
    let rules = doc.named(
        "WeakUserRules",
        json!({"type": "object", "additionalProperties": false, "required": ["no_sign_in_days", "below_half_weeks"], "properties": {
            "no_sign_in_days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "weak after this many days without a sign-in"},
            "below_half_weeks": {"type": "integer", "minimum": 1, "maximum": 8, "description": "weak after this many weeks running below half the team's median"},
            "nudge": {"type": ["boolean", "null"], "description": "weak users get a friendly weekly e-mail naming their key user; left out when setting: as it was"}}}),
    );
    doc.op(
        "get",
        "/adoption/rules",
        Op::new("weak_user_rules", TAG, "When a user counts as weak").ok("200", "The rules", rules.clone()),
    );
    doc.op(
        "put",
        "/adoption/rules",
        Op::new(
            "set_weak_user_rules",
            TAG,
            "Set when a user counts as weak (administrators)",
        )
        .body(rules.clone())
        .ok("200", "The rules", rules),
    );
    doc.op(
        "post",
        "/adoption/users/{id}/support",
        Op::new(
            "plan_support",
            TAG,
            "Plan extra support for a user (their team's lead or an administrator): a task due today for the key user of their team, saying whom to check in with, never why",
        )
        .params(vec![uuid_param("id", "the user's id")])
        .body(json!({"type": ["object", "null"], "additionalProperties": false, "properties": {
            "subject": {"type": ["string", "null"], "maxLength": 200, "description": "the task's subject, in your language (by default \"Check in with\" and the name)"}}}))
        .ok(
            "201",
            "The task made and whom it was given to",
            json!({"type": "object", "required": ["task", "key_user", "key_user_name"], "properties": {
                "task": {"type": "string", "format": "uuid"},
                "key_user": {"type": ["string", "null"], "format": "uuid", "description": "null: the team has no key user; the task is yours"},
                "key_user_name": {"type": ["string", "null"]}}}),
        )
        .problems(&["404"]),
    );
    let board = json!({"type": "object",
        "required": ["today", "since", "weeks", "weights", "measured_through", "everyone", "users", "teams"],
        "properties": {
            "today": {"type": "string", "format": "date"},
            "since": {"type": "string", "format": "date", "description": "the first day of the score's window"},
            "weeks": dates(),
            "weights": weights.clone(),
            "measured_through": {"type": ["string", "null"], "format": "date", "description": "the last complete day counted"},
            "everyone": {"type": "boolean", "description": "whether you see every user (administrators)"},
            "users": {"type": "array", "items": row.clone(), "description": "lowest score first"},
            "teams": {"type": "array", "items": {"type": "object", "required": ["organisation", "team", "name", "trend"], "properties": {
                "organisation": {"type": "boolean"},
                "team": {"type": ["string", "null"], "format": "uuid"}, "name": {"type": ["string", "null"]},
                "trend": {"type": "array", "items": score("the members' average score that week")}}}}}});
    doc.op(
        "get",
        "/adoption",
        Op::new(
            "adoption_board",
            TAG,
            "Usage scores of the users you may see: yourself, the members of teams you lead, everyone for administrators",
        )
        .ok("200", "The users, their tiers, scores and trends", board),
    );
    doc.op(
        "get",
        "/adoption/users/{id}",
        Op::new(
            "user_adoption",
            TAG,
            "One user's figures day by day: for the user, the lead of their team and administrators (404 for anyone else)",
        )
        .params(vec![uuid_param("id", "the user's id")])
        .ok(
            "200",
            "The user's row, their team's medians and their days",
            json!({"type": "object", "required": ["today", "since", "weeks", "user", "team_median", "days"], "properties": {
                "today": {"type": "string", "format": "date"}, "since": {"type": "string", "format": "date"},
                "weeks": dates(), "user": row,
                "team_median": {"type": "object", "additionalProperties": {"type": "number"}},
                "days": {"type": "array", "items": {"type": "object", "required": ["user", "day", "metric", "object", "n"], "properties": {
                    "user": {"type": "string", "format": "uuid"}, "day": {"type": "string", "format": "date"},
                    "metric": {"type": "string", "enum": ["sign_in", "created", "updated", "completed", "moved"]},
                    "object": {"type": "string"}, "n": {"type": "integer"}}}}}}),
        )
        .problems(&["404"]),
    );
    doc.op(
        "get",
        "/adoption/weights",
        Op::new("adoption_weights", TAG, "How much each tier weighs in a score").ok(
            "200",
            "The weights",
            weights.clone(),
        ),
    );
    doc.op(
        "put",
        "/adoption/weights",
        Op::new(
            "set_adoption_weights",
            TAG,
            "Set how much each tier weighs (administrators)",
        )
        .body(weights.clone())
        .ok("200", "The weights", weights),
    );
    let measure = Op::new(
        "measure_usage",
        TAG,
        "Count usage now, as a job (the server counts hourly); from_scratch counts every day again",
    )
    .body(json!({"type": ["object", "null"], "additionalProperties": false, "properties": {"from_scratch": {"type": "boolean", "default": false}}}));
    let measure = super::jobs::accepted(doc, measure);
    doc.op("post", "/adoption/measure", measure);
    doc.op(
        "put",
        "/teams/{id}/lead",
        Op::new(
            "set_team_lead",
            TAG,
            "Name a team's lead, their manager, who sees the team's usage (administrators); null for none",
        )
        .params(vec![uuid_param("id", "the team's id")])
        .body(json!({"type": "object", "additionalProperties": false, "properties": {
            "lead": {"type": ["string", "null"], "format": "uuid", "description": "left out or null: no lead"}}}))
        .ok(
            "200",
            "The team and its lead",
            json!({"type": "object", "required": ["team", "lead"], "properties": {
                "team": {"type": "string", "format": "uuid"}, "lead": {"type": ["string", "null"], "format": "uuid"}}}),
        )
        .problems(&["404"]),
    );
    let expectation = doc.named(
        "Expectation",
        json!({"type": "object", "required": ["id", "audience", "metric", "per_week", "set_by", "set_at"], "properties": {
            "id": {"type": "string", "format": "uuid"},
            "audience": {"oneOf": [
                {"type": "object", "required": ["role"], "properties": {"role": {"type": "string", "enum": ["admin", "key_user", "user", "read_only"]}}},
                {"type": "object", "required": ["team"], "properties": {"team": {"type": "string", "format": "uuid"}}}]},
            "metric": metric(), "per_week": {"type": "integer"},
            "set_by": {"type": "string", "format": "uuid"}, "set_at": {"type": "string", "format": "date-time"}}}),
    );
    doc.op(
        "get",
        "/adoption/expectations",
        Op::new(
            "expectations",
            TAG,
            "What management expects per week, of each role and team",
        )
        .ok("200", "The expectations", data_of(expectation.clone())),
    );
    doc.op(
        "put",
        "/adoption/expectations",
        Op::new(
            "set_expectation",
            TAG,
            "Expect so much a week of a role (administrators) or a team (administrators and its lead), replacing the one for the same figure",
        )
        .body(json!({"type": "object", "additionalProperties": false, "required": ["metric", "per_week"], "properties": {
            "role": {"type": ["string", "null"], "enum": ["admin", "key_user", "user", "read_only", null]},
            "team": {"type": ["string", "null"], "format": "uuid"},
            "metric": metric(),
            "per_week": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "at most 7 for active days"}}}))
        .ok("200", "The expectation kept", expectation),
    );
    doc.op(
        "get",
        "/adoption/expectations/mine",
        Op::new("my_expectations", TAG, "What is expected of you, against what you did").ok(
            "200",
            "Your expectations",
            data_of(measured),
        ),
    );
    doc.op(
        "delete",
        "/adoption/expectations/{id}",
        Op::new(
            "delete_expectation",
            TAG,
            "Remove an expectation (administrators; a team's lead for their team)",
        )
        .params(vec![uuid_param("id", "the expectation's id")])
        .no_content("Gone")
        .problems(&["404"]),
    );
}
