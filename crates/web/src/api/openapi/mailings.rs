//! Templates and mass mailings.

use super::{Doc, Op, data_of, line, optional_text, or_null, query, strict, uuid_param};
use serde_json::{Value as Json, json};

const TEMPLATES: &str = "Templates";
const MAILINGS: &str = "Mailings";

fn uuid() -> Json {
    json!({"type": "string", "format": "uuid"})
}

fn required(mut param: Json) -> Json {
    if let Some(p) = param.as_object_mut() {
        p.insert("required".into(), json!(true));
    }
    param
}

fn instant() -> Json {
    json!({"type": "string", "format": "date-time"})
}

pub(super) fn add(doc: &mut Doc) {
    templates(doc);
    mailings(doc);
}

fn templates(doc: &mut Doc) {
    let language = json!({"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)*$", "maxLength": 12});
    // An e-mail needs a subject (422 naming it when empty); a document's title may be empty.
    let variant = json!({"type": "object", "additionalProperties": false, "required": ["language", "subject", "html"],
        "properties": {"language": language.clone(), "subject": optional_text(100_000), "html": optional_text(100_000), "text": optional_text(100_000)}});
    let variant_read = json!({"type": "object", "required": ["language", "subject", "html", "text"],
        "properties": {"language": {"type": "string"}, "subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"}}});
    let template = doc.named(
        "Template",
        json!({"type": "object", "required": ["id", "name", "kind", "object", "default_language", "variants", "owner", "shared", "version", "created_at", "updated_at", "may_change"],
            "properties": {"id": uuid(), "name": {"type": "string"}, "kind": {"type": "string", "enum": ["email", "document"]},
                "object": {"type": "string"}, "default_language": {"type": "string"},
                "variants": {"type": "array", "items": variant_read}, "owner": uuid(), "shared": {"type": "boolean"},
                "version": {"type": "integer"}, "created_at": instant(), "updated_at": instant(), "may_change": {"type": "boolean"}}}),
    );
    let body = strict(
        &["name", "default_language", "variants"],
        json!({"name": line(100), "kind": {"type": "string", "enum": ["email", "document"]},
            "object": or_null(json!({"type": "string"})), "default_language": language,
            "variants": {"type": "array", "minItems": 1, "maxItems": 12, "items": variant},
            "shared": {"type": "boolean"}, "version": or_null(json!({"type": "integer"}))}),
    );
    let preview = doc.named(
        "TemplatePreview",
        json!({"type": "object", "required": ["record", "title", "language", "subject", "html", "text"],
            "properties": {"record": uuid(), "title": {"type": "string"}, "language": {"type": "string"},
                "subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"}}}),
    );
    let id = || uuid_param("id", "the template's id");
    doc.op(
        "get",
        "/templates",
        Op::new(
            "list_templates",
            TEMPLATES,
            "Your templates and the shared ones, newest first",
        )
        .ok("200", "Templates", data_of(template.clone())),
    );
    doc.op(
        "post",
        "/templates",
        Op::new(
            "create_template",
            TEMPLATES,
            "A template: checked for syntax, unknown merge fields and runaway loops (the part and line named)",
        )
        .body(body.clone())
        .ok("201", "The template", template.clone()),
    );
    doc.op(
        "get",
        "/templates/{id}",
        Op::new("get_template", TEMPLATES, "One template")
            .params(vec![id()])
            .ok("200", "The template", template.clone()),
    );
    doc.op(
        "put",
        "/templates/{id}",
        Op::new(
            "update_template",
            TEMPLATES,
            "Change a template (its version named; a stale one is 412 with the current)",
        )
        .params(vec![id()])
        .body(body)
        .ok("200", "The template", template.clone())
        .problems(&["412"]),
    );
    doc.op(
        "delete",
        "/templates/{id}",
        Op::new(
            "delete_template",
            TEMPLATES,
            "Let a template go (mailings under way keep their copy)",
        )
        .params(vec![id()])
        .no_content("Gone"),
    );
    let for_record = strict(
        &["record"],
        json!({"record": uuid(), "language": or_null(json!({"type": "string"}))}),
    );
    doc.op(
        "post",
        "/templates/{id}/preview",
        Op::new(
            "preview_template",
            TEMPLATES,
            "The template rendered for a record you may see",
        )
        .params(vec![id()])
        .body(for_record.clone())
        .ok("200", "The words", preview.clone()),
    );
    doc.op(
        "post",
        "/templates/{id}/test",
        Op::new(
            "test_send_template",
            TEMPLATES,
            "Send the template rendered for a record to your own address",
        )
        .params(vec![id()])
        .body(for_record)
        .ok("200", "What was sent", preview.clone())
        .problems(&["409"]),
    );
    doc.op(
        "post",
        "/templates/{id}/document",
        Op::new(
            "render_document",
            TEMPLATES,
            "A document for one record or each record of a selection (at most 500)",
        )
        .params(vec![id()])
        .body(strict(
            &[],
            json!({"record": or_null(uuid()), "selection": or_null(uuid())}),
        ))
        .ok("200", "One page per record", data_of(preview)),
    );
}

fn mailings(doc: &mut Doc) {
    let throttle = json!({"type": "object", "additionalProperties": false, "required": ["mails", "minutes"],
        "properties": {"mails": {"type": "integer", "minimum": 1, "maximum": 100_000}, "minutes": {"type": "integer", "minimum": 1, "maximum": 1440}}});
    let window = json!({"type": "object", "additionalProperties": false, "required": ["days", "from_hour", "to_hour", "time_zone"],
        "properties": {"days": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
            "from_hour": {"type": "integer", "minimum": 0, "maximum": 23}, "to_hour": {"type": "integer", "minimum": 1, "maximum": 24},
            "time_zone": {"type": "string", "description": "an IANA time zone such as Europe/Stockholm"}}});
    let counts = json!({"type": "object", "additionalProperties": {"type": "integer"},
        "description": "recipients per status (queued, sending, sent, deferred, failed, bounced, uncertain, skipped) and skipped ones per reason (skipped.no_consent …)"});
    let mailing = doc.named(
        "Mailing",
        json!({"type": "object", "required": ["id", "name", "selection", "template", "purpose", "state", "owner", "version", "created_at", "updated_at", "counts", "may_change"],
            "properties": {"id": uuid(), "name": {"type": "string"}, "selection": uuid(), "template": uuid(), "purpose": {"type": "string"},
                "state": {"type": "string", "enum": ["draft", "sending", "paused", "done", "cancelled"]},
                "start_at": or_null(instant()), "throttle": or_null(throttle.clone()), "window": or_null(window.clone()),
                "owner": uuid(), "job": or_null(uuid()), "template_copy": {"description": "the template as sending began"},
                "prepared_at": or_null(instant()), "paused_because": or_null(json!({"type": "string"})),
                "version": {"type": "integer"}, "created_at": instant(), "updated_at": instant(), "finished_at": or_null(instant()),
                "counts": counts, "may_change": {"type": "boolean"}}}),
    );
    let body = strict(
        &["name", "selection", "template", "purpose"],
        json!({"name": line(100), "selection": uuid(), "template": uuid(), "purpose": {"type": "string", "maxLength": 40},
            "start_at": or_null(instant()), "throttle": or_null(throttle), "window": or_null(window),
            "version": or_null(json!({"type": "integer"}))}),
    );
    let version = strict(&["version"], json!({"version": {"type": "integer"}}));
    let recipient = doc.named(
        "MailingRecipient",
        json!({"type": "object", "required": ["mailing", "person", "status", "attempts", "tag"],
            "properties": {"mailing": uuid(), "person": uuid(), "email": or_null(json!({"type": "string"})),
                "language": or_null(json!({"type": "string"})),
                "status": {"type": "string", "enum": ["queued", "sending", "sent", "deferred", "failed", "bounced", "uncertain", "skipped"]},
                "skip": or_null(json!({"type": "string", "enum": ["no_address", "no_email", "no_consent", "unsubscribed", "duplicate_address", "invalid_address"]})),
                "attempts": {"type": "integer"}, "next_try_at": or_null(instant()), "detail": or_null(json!({"type": "string"})),
                "sent_at": or_null(instant()), "tag": {"type": "string"}}}),
    );
    let id = || uuid_param("id", "the mailing's id");
    doc.op(
        "get",
        "/mailings",
        Op::new("list_mailings", MAILINGS, "Mailings, newest first, with their counts").ok(
            "200",
            "Mailings",
            data_of(mailing.clone()),
        ),
    );
    doc.op(
        "post",
        "/mailings",
        Op::new(
            "create_mailing",
            MAILINGS,
            "A draft mailing: a selection of people, an e-mail template, a purpose, a pace",
        )
        .body(body.clone())
        .ok("201", "The mailing", mailing.clone()),
    );
    doc.op(
        "get",
        "/mailings/{id}",
        Op::new("get_mailing", MAILINGS, "One mailing with its counts")
            .params(vec![id()])
            .ok("200", "The mailing", mailing.clone()),
    );
    doc.op(
        "put",
        "/mailings/{id}",
        Op::new("update_mailing", MAILINGS, "Change a draft (its version named)")
            .params(vec![id()])
            .body(body)
            .ok("200", "The mailing", mailing.clone())
            .problems(&["409", "412"]),
    );
    doc.op(
        "delete",
        "/mailings/{id}",
        Op::new("delete_mailing", MAILINGS, "Let a draft go (one that started is kept)")
            .params(vec![id()])
            .no_content("Gone")
            .problems(&["409"]),
    );
    for (path, op_id, summary) in [
        (
            "start",
            "start_mailing",
            "Start a draft: at its start time its job takes the snapshot of recipients and sends",
        ),
        ("pause", "pause_mailing", "Pause a mailing that is sending"),
        ("resume", "resume_mailing", "Resume a paused mailing"),
        (
            "cancel",
            "cancel_mailing",
            "Cancel a mailing: nobody not yet written to is",
        ),
        (
            "resend-uncertain",
            "resend_uncertain",
            "Send again to recipients whose exchange was cut off (a second message may reach them)",
        ),
    ] {
        doc.op(
            "post",
            &format!("/mailings/{{id}}/{path}"),
            Op::new(op_id, MAILINGS, summary)
                .params(vec![id()])
                .body(version.clone())
                .ok("200", "The mailing", mailing.clone())
                .problems(&["409", "412"]),
        );
    }
    doc.op(
        "get",
        "/mailings/{id}/recipients",
        Op::new("mailing_recipients", MAILINGS, "The snapshot: recipients you may see, with their status, in person order")
            .params(vec![
                id(),
                query(
                    "status",
                    json!({"type": "string", "enum": ["queued", "sending", "sent", "deferred", "failed", "bounced", "uncertain", "skipped"]}),
                    "only recipients of this status",
                ),
                query("after", uuid(), "the `next` of the page before"),
                query("limit", json!({"type": "integer", "minimum": 1, "maximum": 500}), "at most this many (100)"),
            ])
            .ok(
                "200",
                "A page",
                json!({"type": "object", "required": ["recipients", "next"], "properties": {
                    "recipients": {"type": "array", "items": recipient}, "next": or_null(uuid())}}),
            ),
    );
    doc.op(
        "get",
        "/mailings/{id}/changes",
        Op::new(
            "mailing_changes",
            MAILINGS,
            "Who joined and who left since an earlier mailing (people sent to)",
        )
        .params(vec![id(), required(query("since", uuid(), "the earlier mailing"))])
        .ok(
            "200",
            "People",
            json!({"type": "object", "required": ["joined", "left"], "properties": {
                    "joined": {"type": "array", "items": uuid()}, "left": {"type": "array", "items": uuid()}}}),
        ),
    );
}
