//! Dashboards: kept under a name, shared with an audience of roles, viewed for a period and a
//! scope; the one a reader opens by default.

use super::{Doc, Op, data_of, line, or_null, query, strict, uuid_param};
use anchora_core::dashboards::{MAX_WIDGETS, Scope, SupportFigure};
use anchora_core::period::RelativePeriod;
use serde_json::{Value as Json, json};

const TAG: &str = "Dashboards";

fn widget_schemas(names: &[String]) -> (Json, Json, Json) {
    let width = json!({"type": "integer", "minimum": 1, "maximum": 3, "default": 1,
        "description": "the columns of the three it spans"});
    let report = strict(
        &["kind", "report"],
        json!({"kind": {"type": "string", "const": "report"},
            "report": {"type": "string", "format": "uuid", "description": "a saved report you may open"},
            "title": or_null(line(120)),
            "date_field": or_null(json!({"type": "string", "description": "the date the period applies to when the report's first grouping is no date"})),
            "width": width.clone()}),
    );
    let measure = strict(
        &[],
        json!({"func": {"type": "string", "enum": ["count", "sum", "avg", "min", "max"]},
            "field": or_null(json!({"type": "string", "description": "the number, percentage or amount measured; none for a count"}))}),
    );
    let figure = strict(
        &["kind", "title", "object", "date_field"],
        json!({"kind": {"type": "string", "const": "figure"},
            "title": line(120),
            "object": {"type": "string", "enum": names},
            "filter": or_null(json!({"$ref": "#/components/schemas/Filter"})),
            "measure": measure,
            "date_field": {"type": "string", "description": "a date or datetime of the object the period applies to"},
            "lower_is_better": {"type": "boolean", "default": false, "description": "a figure of what should shrink: a fall is good news"},
            "width": width.clone()}),
    );
    let figures: Vec<&str> = SupportFigure::ALL.iter().map(|f| f.as_str()).collect();
    let support = strict(
        &["kind", "figure"],
        json!({"kind": {"type": "string", "const": "support"},
            "figure": {"type": "string", "enum": figures, "description": "asked, solved and breaches are counts set against the period before; weekly, levels and categories a chart or table of the period"},
            "title": or_null(line(120)),
            "width": width}),
    );
    (report, figure, support)
}

pub(super) fn add(doc: &mut Doc) {
    let names = doc.object_names().into_iter().map(String::from).collect::<Vec<_>>();
    let (report, figure, support) = widget_schemas(&names);
    let report = doc.named("ReportWidget", report);
    let figure = doc.named("FigureWidget", figure);
    let support = doc.named("SupportWidget", support);
    let widget = json!({"oneOf": [report, figure, support]});
    let roles = json!({"type": "array", "items": {"type": "string", "enum": ["admin", "key_user", "user", "read_only"]},
        "description": "the roles a shared dashboard is shown to by default (sharing takes the right to share views)"});
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let scope = json!({"type": "string", "enum": scopes});
    let widgets = json!({"type": "array", "maxItems": MAX_WIDGETS, "items": widget});
    let dashboard = doc.named(
        "Dashboard",
        json!({"type": "object", "required": ["id", "name", "owner", "shared", "audience", "scope", "widgets", "version", "created_at", "updated_at", "may_change"], "properties": {
            "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "owner": {"type": "string", "format": "uuid"}, "shared": {"type": "boolean"},
            "audience": roles.clone(), "scope": scope.clone(), "widgets": widgets.clone(),
            "version": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
            "may_change": {"type": "boolean"}}}),
    );
    let figures = json!({"type": "object", "required": ["count", "value"], "properties": {
        "count": {"type": "integer"}, "value": {"type": ["number", "null"]}}});
    let range = json!({"type": "object", "required": ["first", "end"], "properties": {
        "first": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date", "description": "the day after the last"}}});
    let run = doc.named(
        "DashboardView",
        json!({"type": "object", "required": ["dashboard", "period", "scope", "current", "previous", "so_far", "previous_so_far", "widgets"], "properties": {
            "dashboard": dashboard.clone(),
            "period": {"type": "string"}, "scope": scope.clone(),
            "current": {"allOf": [range.clone()], "description": "the period the reports show"},
            "previous": {"allOf": [range.clone()], "description": "the period before, which figures on dates that may lie ahead are set against"},
            "so_far": {"allOf": [range.clone()], "description": "the period up to today, which figures of records made or changed count while it runs"},
            "previous_so_far": {"allOf": [range], "description": "the period before to the same point of the calendar"},
            "widgets": {"type": "array", "items": {"oneOf": [
                {"type": "object", "required": ["kind", "report", "title", "width", "period_field", "result"], "properties": {
                    "kind": {"type": "string", "const": "report"}, "report": {"type": "string", "format": "uuid"},
                    "title": {"type": "string"}, "width": {"type": "integer"},
                    "period_field": {"type": ["string", "null"]},
                    "result": {"$ref": "#/components/schemas/ReportResult"}}},
                {"type": "object", "required": ["kind", "title", "width", "object", "measure", "date_field", "current", "previous", "change", "lower_is_better", "currency", "money", "filter", "previous_filter"], "properties": {
                    "kind": {"type": "string", "const": "figure"}, "title": {"type": "string"}, "width": {"type": "integer"},
                    "object": {"type": "string"}, "measure": {"type": "object"}, "date_field": {"type": "string"},
                    "current": figures.clone(), "previous": figures,
                    "change": {"type": ["object", "null"], "required": ["delta", "percent"], "properties": {
                        "delta": {"type": "number"}, "percent": {"type": ["number", "null"]}}},
                    "lower_is_better": {"type": "boolean"},
                    "currency": {"type": ["string", "null"]}, "money": {"type": "boolean"},
                    "filter": {"description": "the filter that lists the period's records"},
                    "previous_filter": {"description": "the filter that lists the previous period's records"}}},
                {"type": "object", "required": ["kind", "figure", "title", "width", "figures", "previous", "change"], "properties": {
                    "kind": {"type": "string", "const": "support"},
                    "figure": {"type": "string", "enum": SupportFigure::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>()},
                    "title": {"type": ["string", "null"], "description": "the widget's own title; none for the figure's name"},
                    "width": {"type": "integer"},
                    "figures": {"$ref": "#/components/schemas/SupportFigures"},
                    "previous": {"oneOf": [{"$ref": "#/components/schemas/SupportFigures"}, {"type": "null"}], "description": "a count's figures for the period before, to the same point"},
                    "change": {"type": ["object", "null"], "required": ["delta", "percent"], "properties": {
                        "delta": {"type": "number"}, "percent": {"type": ["number", "null"]}}}},
                    "description": "a support figure of the questions you may see, narrowed by the scope to those you asked or were given, or your team's"},
                {"type": "object", "required": ["kind", "width"], "properties": {
                    "kind": {"type": "string", "const": "unavailable"}, "width": {"type": "integer"}},
                    "description": "a report you may not open, or a widget that no longer runs"}]}}}}),
    );
    let looking = || {
        vec![
            query(
                "period",
                json!({"type": "string", "enum": RelativePeriod::NAMES, "default": "this_month"}),
                "the period counted, beside the one before it",
            ),
            query(
                "scope",
                scope.clone(),
                "whose records: yours, your team's or all you may see (the dashboard's own unless given)",
            ),
        ]
    };
    doc.op(
        "get",
        "/dashboards",
        Op::new("list_dashboards", TAG, "Your dashboards and the shared ones, by name").ok(
            "200",
            "Dashboards",
            data_of(dashboard.clone()),
        ),
    );
    doc.op(
        "post",
        "/dashboards",
        Op::new(
            "create_dashboard",
            TAG,
            "Keep a dashboard: every widget is checked, each mistake named by its place (widgets[2].report)",
        )
        .body(strict(
            &["name"],
            json!({"name": line(120), "shared": {"type": "boolean"}, "audience": roles.clone(),
                "scope": scope.clone(), "widgets": widgets.clone()}),
        ))
        .ok("201", "The dashboard", dashboard.clone()),
    );
    doc.op(
        "get",
        "/dashboards/home",
        Op::new(
            "home_dashboard",
            TAG,
            "Your default dashboard (your own most recently changed, else the first shared with your role), viewed",
        )
        .params(looking())
        .ok("200", "The dashboard's widgets as you see them", run.clone())
        .problems(&["404"]),
    );
    let id = || uuid_param("id", "the dashboard's id");
    doc.op(
        "get",
        "/dashboards/{id}",
        Op::new("get_dashboard", TAG, "One dashboard")
            .params(vec![id()])
            .ok("200", "The dashboard", dashboard.clone()),
    );
    doc.op(
        "patch",
        "/dashboards/{id}",
        Op::new(
            "change_dashboard",
            TAG,
            "Rename, share or change a dashboard's widgets at the version you read",
        )
        .params(vec![id()])
        .body(strict(
            &["version"],
            json!({"version": {"type": "integer"}, "name": or_null(line(120)),
                "shared": or_null(json!({"type": "boolean"})), "audience": or_null(roles),
                "scope": or_null(scope.clone()), "widgets": or_null(widgets)}),
        ))
        .ok("200", "The dashboard", dashboard)
        .problems(&["412"]),
    );
    doc.op(
        "delete",
        "/dashboards/{id}",
        Op::new("delete_dashboard", TAG, "Delete a dashboard")
            .params(vec![id()])
            .no_content("Gone"),
    );
    let mut params = looking();
    params.insert(0, id());
    doc.op(
        "get",
        "/dashboards/{id}/view",
        Op::new(
            "view_dashboard",
            TAG,
            "A dashboard's widgets run as you for a period and a scope: only what you may see",
        )
        .params(params)
        .ok("200", "The dashboard's widgets as you see them", run),
    );
}
