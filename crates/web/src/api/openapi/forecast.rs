//! The pipeline forecast and quotas.

use super::{Doc, Op, data_of, query, uuid_param};
use serde_json::{Value as Json, json};

const TAG: &str = "Forecast";

fn money(description: &str) -> Json {
    json!({"type": "number", "description": description})
}

fn maybe(description: &str) -> Json {
    json!({"type": ["number", "null"], "description": description})
}

pub(super) fn add(doc: &mut Doc) {
    let amounts = json!({
        "closed": money("won, in minor units of the reporting currency"),
        "commit": money("open deals in the commit category"),
        "best_case": money("open deals in the best-case category"),
        "pipeline": money("open deals in the pipeline category"),
        "omitted": money("lost deals, and open ones left out"),
        "weighted": money("open deals' amounts times their probability (the stage's when a deal names none)"),
        "open_deals": {"type": "integer"}});
    let with = |extra: Json, required: &[&str]| {
        let mut props = amounts.as_object().cloned().unwrap_or_default();
        if let Some(e) = extra.as_object() {
            props.extend(e.clone());
        }
        let mut req: Vec<&str> = vec![
            "closed",
            "commit",
            "best_case",
            "pipeline",
            "omitted",
            "weighted",
            "open_deals",
        ];
        req.extend(required);
        json!({"type": "object", "required": req, "properties": props})
    };
    let period = with(
        json!({"start": {"type": "string", "format": "date"}, "key": {"type": "string"},
            "quota": maybe("the quota of the owners or team asked for"), "attainment": maybe("closed ÷ quota")}),
        &["start", "key", "quota", "attainment"],
    );
    let owner = with(
        json!({"owner": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "quota": maybe("this owner's quota for the current period"), "attainment": maybe("closed ÷ quota"),
            "won": {"type": "integer"}, "lost": {"type": "integer"}, "win_rate": maybe("won ÷ (won + lost) over the history window")}),
        &["owner", "name", "quota", "attainment", "won", "lost", "win_rate"],
    );
    let forecast = doc.named(
        "Forecast",
        json!({"type": "object",
            "required": ["bucket", "currency", "without_rate", "periods", "owners", "history_from", "won", "lost", "win_rate",
                "funnel", "average_deal_size", "sales_cycle_days", "pushed", "accuracy"],
            "properties": {
                "bucket": {"type": "string", "enum": ["month", "quarter"]},
                "currency": {"type": "string"},
                "without_rate": {"type": "array", "items": {"type": "string"}},
                "periods": {"type": "array", "items": period},
                "owners": {"type": "array", "items": owner},
                "history_from": {"type": "string", "format": "date", "description": "win rates, the funnel, deal size and cycle length look back to here"},
                "won": {"type": "integer"}, "lost": {"type": "integer"}, "win_rate": maybe("won ÷ (won + lost)"),
                "funnel": {"type": "array", "items": {"type": "object", "required": ["stage", "reached", "to_next"], "properties": {
                    "stage": {"type": "string"}, "reached": {"type": "integer"}, "to_next": maybe("share that reached the next stage")}}},
                "average_deal_size": maybe("won deals' average amount"),
                "sales_cycle_days": maybe("days from a deal's making to its winning, on average"),
                "pushed": {"type": "array", "items": {"type": "object", "required": ["record", "name", "pushes"], "properties": {
                    "record": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "pushes": {"type": "integer"}}}},
                "accuracy": {"type": "array", "items": {"type": "object",
                    "required": ["period_start", "key", "taken_on", "forecast", "weighted", "actual", "error"], "properties": {
                    "period_start": {"type": "string", "format": "date"}, "key": {"type": "string"},
                    "taken_on": {"type": "string", "format": "date"}, "forecast": money("closed + commit that week"),
                    "weighted": money("weighted that week"), "actual": money("won in the period"),
                    "error": maybe("(forecast − actual) ÷ actual")}}}}}),
    );
    let quota = doc.named(
        "Quota",
        json!({"type": "object", "required": ["id", "user", "team", "bucket", "period_start", "amount", "currency"], "properties": {
            "id": {"type": "string", "format": "uuid"},
            "user": {"type": ["string", "null"], "format": "uuid"}, "team": {"type": ["string", "null"], "format": "uuid"},
            "bucket": {"type": "string", "enum": ["month", "quarter"]},
            "period_start": {"type": "string", "format": "date"},
            "amount": {"type": "integer", "description": "minor units of the currency"},
            "currency": {"type": "string"}}}),
    );
    doc.op(
        "get",
        "/forecast",
        Op::new(
            "forecast",
            TAG,
            "The pipeline forecast over the deals you may see: per period, per owner, win rate, funnel, deal size, cycle, pushed close dates, accuracy",
        )
        .params(vec![
            query("bucket", json!({"type": "string", "enum": ["month", "quarter"], "default": "quarter"}), "the periods"),
            query("periods", json!({"type": "integer", "minimum": 1, "maximum": 8, "default": 4}), "how many from the current one"),
            query("owner", json!({"type": "string", "format": "uuid"}), "one owner's deals"),
            query("team", json!({"type": "string", "format": "uuid"}), "one team's deals"),
        ])
        .ok("200", "The forecast", forecast),
    );
    doc.op(
        "get",
        "/quotas",
        Op::new("list_quotas", TAG, "Quotas of the periods starting between two dates")
            .params(vec![
                query(
                    "bucket",
                    json!({"type": "string", "enum": ["month", "quarter"], "default": "quarter"}),
                    "the periods",
                ),
                query(
                    "from",
                    json!({"type": "string", "format": "date"}),
                    "the first period's start, at the earliest",
                ),
                query(
                    "to",
                    json!({"type": "string", "format": "date"}),
                    "periods starting before this",
                ),
            ])
            .ok("200", "Quotas", data_of(quota.clone())),
    );
    doc.op(
        "put",
        "/quotas",
        Op::new("set_quota", TAG, "Set an owner's or a team's quota for a period (replacing the one there is)")
            .body(json!({"type": "object", "additionalProperties": false,
                "required": ["bucket", "period_start", "amount", "currency"], "properties": {
                "user": {"type": ["string", "null"], "format": "uuid"}, "team": {"type": ["string", "null"], "format": "uuid"},
                "bucket": {"type": "string", "enum": ["month", "quarter"]},
                "period_start": {"type": "string", "format": "date", "description": "the first day of the month or quarter"},
                "amount": {"type": "string", "pattern": "^[0-9]{1,16}(\\.[0-9]{1,2})?$", "description": "a decimal amount such as 250000.00"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}))
            .ok("200", "The quota", quota),
    );
    doc.op(
        "delete",
        "/quotas/{id}",
        Op::new("delete_quota", TAG, "Remove a quota")
            .params(vec![uuid_param("id", "the quota's id")])
            .no_content("Gone"),
    );
}
