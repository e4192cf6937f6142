//! Jobs: long work on the queue. The endpoints that start long work answer 202 with the job
//! ([`accepted`]); the job's address gives its progress until it ends.

use super::{Doc, Op, data_of, limit_query, or_null, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Jobs";

/// The job schema, named once.
fn job(doc: &mut Doc) -> Json {
    let time = json!({"type": "string", "format": "date-time"});
    let states = json!(["queued", "running", "succeeded", "failed", "cancelled"]);
    let kinds: Vec<&str> = anchora_core::jobs::JobKind::ALL.iter().map(|k| k.as_str()).collect();
    doc.named(
        "Job",
        json!({"type": "object",
            "required": ["id", "kind", "state", "attempts", "max_attempts", "run_at", "progress", "cancel_requested", "created_at", "may_cancel"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "kind": {"type": "string", "examples": kinds},
                "payload": {"description": "what the job works on (its own shape per kind)"},
                "state": {"type": "string", "enum": states},
                "attempts": {"type": "integer", "minimum": 0, "description": "attempts begun so far"},
                "max_attempts": {"type": "integer", "minimum": 1},
                "run_at": time.clone(),
                "lease_until": or_null(time.clone()),
                "progress": {"type": "object", "required": ["done"], "properties": {
                    "done": {"type": "integer", "minimum": 0},
                    "total": {"type": ["integer", "null"], "minimum": 0},
                    "phase": {"type": ["string", "null"], "examples": ["reading", "comparing", "saving"]}}},
                "result": {"description": "what the job came to, once it succeeded (its own shape per kind)"},
                "error": {"type": ["string", "null"], "description": "why the last attempt failed"},
                "cancel_requested": {"type": "boolean"},
                "created_by": {"type": ["string", "null"], "format": "uuid"},
                "schedule": {"type": ["string", "null"], "description": "the schedule that queued it"},
                "created_at": time.clone(),
                "started_at": or_null(time.clone()),
                "finished_at": or_null(time),
                "may_cancel": {"type": "boolean"}}}),
    )
}

/// 202 Accepted: the job queued for long work, at the address in `Location`.
pub(super) fn accepted(doc: &mut Doc, op: Op) -> Op {
    let job = job(doc);
    op.answer(
        "202",
        json!({"description": "Queued as a job; follow its progress at the address in Location",
            "headers": {"Location": {"description": "the job: /api/v1/jobs/{id}", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": job}}}),
    )
}

pub(super) fn add(doc: &mut Doc) {
    let job = job(doc);
    doc.op(
        "get",
        "/jobs",
        Op::new(
            "list_jobs",
            TAG,
            "The newest jobs you may see: your own (an administrator: every job)",
        )
        .params(vec![limit_query()])
        .ok("200", "Jobs, newest first", data_of(job.clone())),
    );
    doc.op(
        "get",
        "/jobs/{id}",
        Op::new("get_job", TAG, "One job, with its progress")
            .params(vec![uuid_param("id", "the job's id")])
            .ok("200", "The job", job.clone()),
    );
    doc.op(
        "post",
        "/jobs/{id}/cancel",
        Op::new(
            "cancel_job",
            TAG,
            "Cancel a job: a queued one at once, a running one at its next step",
        )
        .params(vec![uuid_param("id", "the job's id")])
        .ok("200", "The job after", job)
        .problems(&["409"]),
    );
    doc.op(
        "get",
        "/jobs/{id}/file",
        Op::new(
            "job_file",
            TAG,
            "The file a job made (a large export), once it succeeded; kept for a week",
        )
        .params(vec![uuid_param("id", "the job's id")])
        .answer("200", json!({"description": "The file", "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}})),
    );
}
