//! Data quality: the rules administrators set, and per object the report, the daily figures
//! kept, and each user's fix list.

use super::{Doc, Op, data_of, limit_query, query, strict};
use serde_json::json;

const TAG: &str = "Data quality";

pub(super) fn add(doc: &mut Doc) {
    let weight = json!({"type": "integer", "minimum": 0, "maximum": anchora_core::quality::MAX_WEIGHT});
    let mut objects = serde_json::Map::new();
    for o in doc.schema.objects.values().filter(|o| !o.archived) {
        let fields: serde_json::Map<String, serde_json::Value> =
            o.fields.iter().map(|f| (f.name.clone(), weight.clone())).collect();
        objects.insert(
            o.name.clone(),
            json!({"type": "object", "additionalProperties": false, "properties": fields}),
        );
    }
    let rules = doc.named(
        "QualityRules",
        strict(
            &["weights", "stale_months"],
            json!({
                "weights": {"type": "object", "description": "object → field → weight of the fields that count (another object or field is 422)",
                    "additionalProperties": false, "properties": objects},
                "stale_months": {"type": "integer", "minimum": 1, "maximum": 120, "description": "months without a change after which a record is stale"}}),
        ),
    );
    doc.op(
        "get",
        "/quality-rules",
        Op::new("quality_rules", TAG, "The rules in force").ok("200", "The rules", rules.clone()),
    );
    doc.op(
        "put",
        "/quality-rules",
        Op::new(
            "set_quality_rules",
            TAG,
            "Weights of the important fields per object, and the months after which a record is stale (administrators)",
        )
        .body(rules.clone())
        .ok("200", "The rules", rules),
    );
    let object_param = doc.object_param();
    let object = || object_param.clone();
    doc.op(
        "get",
        "/quality/{object}",
        Op::new("quality_report", TAG, "Completeness, invalid values, staleness and open duplicates over the records you may see: overall, per owner, per team")
            .params(vec![object()])
            .ok("200", "The report", json!({"type": "object"})),
    );
    doc.op(
        "get",
        "/quality/{object}/trend",
        Op::new(
            "quality_trend",
            TAG,
            "The kept days, oldest first: overall for data stewards, your own records' otherwise",
        )
        .params(vec![
            object(),
            query(
                "days",
                json!({"type": "string", "examples": ["30", "90"]}),
                "how many days back: a whole number, else 90",
            ),
        ])
        .ok("200", "Days", data_of(json!({"type": "object"}))),
    );
    let measure = Op::new(
        "keep_quality_day",
        TAG,
        "Measure now, as a job: keep today's figures (the server keeps them once a day)",
    )
    .params(vec![object()]);
    let measure = super::jobs::accepted(doc, measure);
    doc.op("post", "/quality/{object}/snapshot", measure);
    doc.op(
        "get",
        "/quality/{object}/latest",
        Op::new(
            "quality_latest",
            TAG,
            "The newest kept day's figures: every row for key users and admins, your own and your team's otherwise",
        )
        .params(vec![object()])
        .ok(
            "200",
            "The day and its rows",
            json!({"type": "object", "properties": {
                "day": {"type": ["string", "null"], "format": "date"}, "everyone": {"type": "boolean"},
                "rows": {"type": "array", "items": {"type": "object"}}}}),
        ),
    );
    doc.op(
        "get",
        "/quality/{object}/fix-list",
        Op::new("fix_list", TAG, "Your own records with something to fix, worst first")
            .params(vec![object(), limit_query()])
            .ok(
                "200",
                "Records and their problems, and how many in all",
                json!({"type": "object", "properties": {
                "data": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"}}}),
            ),
    );
}
