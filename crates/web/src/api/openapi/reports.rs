//! Reports: run from a spec, kept under a name, exported; the workspace's time zone.

use super::{Doc, Op, data_of, line, or_null, query, strict, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Reports";

fn spec_schema(names: &[String]) -> Json {
    let grouping = strict(
        &["field"],
        json!({"field": {"type": "string", "description": "a field, owner, created_by, created_at, updated_at, or team (the owner's); or a related record's field one relation away, as relation.field (company.city on deals, company.owner too): a record whose related record is missing, in the trash or one you may not see counts under none"},
            "bucket": or_null(json!({"type": "string", "enum": ["day", "week", "month", "quarter", "year", null],
                "description": "for dates: the period counted by (month when left out); weeks are ISO weeks"}))}),
    );
    let measure = strict(
        &[],
        json!({"func": {"type": "string", "enum": ["count", "sum", "avg", "min", "max"]},
            "field": or_null(json!({"type": "string", "description": "the number, percentage or amount measured; none for a count"}))}),
    );
    strict(
        &["object"],
        json!({"object": {"type": "string", "enum": names},
            "filter": or_null(json!({"$ref": "#/components/schemas/Filter"})),
            "groups": {"type": "array", "maxItems": 2, "items": grouping},
            "measure": measure,
            "chart": {"type": "string", "enum": ["bar", "stacked_bar", "line", "donut", "funnel", "table"]}}),
    )
}

pub(super) fn add(doc: &mut Doc) {
    let names = doc.object_names().into_iter().map(String::from).collect::<Vec<_>>();
    let spec = doc.named("ReportSpec", spec_schema(&names));
    let figures = json!({"type": "object", "required": ["count", "value"], "properties": {
        "count": {"type": "integer"},
        "value": {"type": ["number", "null"], "description": "the measure; amounts in minor units of the reporting currency"}}});
    let header = json!({"type": "object", "required": ["value", "name", "filter", "figures"], "properties": {
        "value": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"type": "string", "enum": ["choice", "text", "bool", "user", "team", "record", "period", "other", "none"]},
            "value": {"description": "the choice, text, yes/no, id, or a period's first day"}}},
        "name": {"type": ["string", "null"], "description": "a person's, team's or record's name; a period's key such as 2026-Q1"},
        "filter": {"type": "object", "description": "the filter that lists this group's records (the report's own filter not included)"},
        "figures": figures.clone()}});
    let result = doc.named(
        "ReportResult",
        json!({"type": "object", "required": ["spec", "rows", "columns", "cells", "total", "currency", "money", "without_rate"], "properties": {
            "spec": {"$ref": "#/components/schemas/ReportSpec"},
            "rows": {"type": "array", "items": header.clone()},
            "columns": {"type": "array", "items": header},
            "cells": {"type": "array", "items": {"type": "object", "required": ["row", "column", "figures"], "properties": {
                "row": {"type": "integer"}, "column": {"type": ["integer", "null"]}, "figures": figures.clone()}}},
            "total": figures,
            "currency": {"type": ["string", "null"], "description": "the reporting currency an amount measure is in"},
            "money": {"type": "boolean", "description": "whether the measure is an amount (in minor units)"},
            "without_rate": {"type": "array", "items": {"type": "string"}, "description": "currencies left out of the measure for want of a rate (\"\" for amounts that name no currency)"}}}),
    );
    let report = doc.named(
        "SavedReport",
        json!({"type": "object", "required": ["id", "name", "owner", "shared", "spec", "version", "created_at", "updated_at", "may_change"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "owner": {"type": "string", "format": "uuid"}, "shared": {"type": "boolean"},
            "spec": {"$ref": "#/components/schemas/ReportSpec"}, "version": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
            "may_change": {"type": "boolean"}}}),
    );
    doc.op(
        "post",
        "/reports/run",
        Op::new(
            "run_report",
            TAG,
            "Run a report over the records you may see: up to two groupings (dates bucketed in the workspace's time zone), a count or a measure",
        )
        .body(spec.clone())
        .ok("200", "The report", result.clone()),
    );
    doc.op(
        "get",
        "/reports",
        Op::new("list_reports", TAG, "Your reports and the shared ones, by name").ok(
            "200",
            "Reports",
            data_of(report.clone()),
        ),
    );
    doc.op(
        "post",
        "/reports",
        Op::new(
            "save_report",
            TAG,
            "Keep a report under a name (sharing it takes the right to share views)",
        )
        .body(strict(
            &["name", "spec"],
            json!({"name": line(120), "shared": {"type": "boolean"}, "spec": spec.clone()}),
        ))
        .ok("201", "The report", report.clone()),
    );
    let id = || uuid_param("id", "the report's id");
    doc.op(
        "get",
        "/reports/{id}",
        Op::new("get_report", TAG, "One saved report")
            .params(vec![id()])
            .ok("200", "The report", report.clone()),
    );
    doc.op(
        "patch",
        "/reports/{id}",
        Op::new("change_report", TAG, "Rename, share or change a report at the version you read")
            .params(vec![id()])
            .body(strict(
                &["version"],
                json!({"version": {"type": "integer"}, "name": or_null(line(120)), "shared": or_null(json!({"type": "boolean"})),
                    "spec": or_null(spec)}),
            ))
            .ok("200", "The report", report.clone())
            .problems(&["412"]),
    );
    doc.op(
        "delete",
        "/reports/{id}",
        Op::new("delete_report", TAG, "Delete a report")
            .params(vec![id()])
            .no_content("Gone"),
    );
    doc.op(
        "get",
        "/reports/{id}/result",
        Op::new("report_result", TAG, "Run a saved report over the records you may see")
            .params(vec![id()])
            .ok(
                "200",
                "The report and its result",
                json!({"type": "object", "required": ["report", "result"], "properties": {"report": report, "result": result}}),
            )
            // A kept filter or grouping the metadata no longer allows (a field archived since).
            .problems(&["400", "422"]),
    );
    doc.op(
        "get",
        "/reports/{id}/export",
        Op::new("export_report", TAG, "A saved report as a sheet: its groups with count and measure, or a pivot with totals")
            .params(vec![
                id(),
                query("format", json!({"type": "string", "enum": ["csv", "xlsx"], "default": "csv"}), "the file's format"),
            ])
            .answer("200", json!({"description": "The sheet", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}))
            .problems(&["400"]),
    );
    let subscription = doc.named(
        "ReportSubscription",
        json!({"type": "object", "required": ["report", "user", "cadence", "last_sent", "created_at"], "properties": {
            "report": {"type": "string", "format": "uuid"}, "user": {"type": "string", "format": "uuid"},
            "cadence": {"type": "string", "enum": ["daily", "weekly", "monthly"]},
            "last_sent": {"type": ["string", "null"], "format": "date", "description": "the first day of the period last sent"},
            "created_at": {"type": "string", "format": "date-time"}}}),
    );
    doc.op(
        "get",
        "/reports/{id}/subscriptions",
        Op::new(
            "report_subscriptions",
            TAG,
            "Who gets a report by e-mail (all, for whoever may change it; else your own)",
        )
        .params(vec![id()])
        .ok("200", "Subscriptions", data_of(subscription.clone())),
    );
    doc.op(
        "put",
        "/reports/{id}/subscriptions",
        Op::new(
            "subscribe_report",
            TAG,
            "Get a report by e-mail daily, weekly or monthly, each copy run as its recipient (whoever may change the report may subscribe another reader)",
        )
        .params(vec![id()])
        .body(strict(
            &["cadence"],
            json!({"cadence": {"type": "string", "enum": ["daily", "weekly", "monthly"]},
                "user": or_null(json!({"type": "string", "format": "uuid"}))}),
        ))
        .ok("200", "The subscription", subscription),
    );
    doc.op(
        "delete",
        "/reports/{id}/subscriptions/{user}",
        Op::new(
            "unsubscribe_report",
            TAG,
            "Stop a report's e-mails to a reader (yourself, or anyone for whoever may change it)",
        )
        .params(vec![id(), uuid_param("user", "the reader")])
        .no_content("Stopped"),
    );
    let zone = doc.named(
        "TimeZone",
        json!({"type": "object", "additionalProperties": false, "required": ["time_zone"], "properties": {
            "time_zone": {"type": "string", "description": "an IANA zone such as Europe/Stockholm: where the workspace's days, weeks and months begin"}}}),
    );
    doc.op(
        "get",
        "/time-zone",
        Op::new(
            "time_zone",
            "Settings",
            "The workspace's time zone (UTC until an administrator sets one)",
        )
        .ok("200", "The zone", zone.clone()),
    );
    doc.op(
        "put",
        "/time-zone",
        Op::new(
            "set_time_zone",
            "Settings",
            "Set the workspace's time zone (administrators)",
        )
        .body(zone.clone())
        .ok("200", "The zone", zone),
    );
}
