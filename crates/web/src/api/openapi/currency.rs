//! `/currency`: the reporting currency and the exchange rates administrators keep.

use super::{Doc, Op};
use serde_json::json;

pub(super) fn add(doc: &mut Doc) {
    let settings = doc.named(
        "CurrencySettings",
        json!({"type": "object", "additionalProperties": false, "required": ["reporting"], "properties": {
            "reporting": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code every sum across currencies is shown in"},
            "rates": {"type": "object", "description": "Currency code → units of the reporting currency one unit of it is worth; a currency without a rate is left out of converted sums and named",
                "propertyNames": {"pattern": "^[A-Z]{3}$"},
                "additionalProperties": {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000}}}}),
    );
    doc.op(
        "get",
        "/currency",
        Op::new(
            "currency_settings",
            "Settings",
            "The reporting currency and exchange rates in force",
        )
        .ok("200", "The settings", settings.clone()),
    );
    doc.op(
        "put",
        "/currency",
        Op::new("set_currency_settings", "Settings", "Set the reporting currency and exchange rates (administrators); the rates are read as units of the reporting currency given in the same body")
            .body(settings.clone())
            .ok("200", "The settings as saved (a rate for the reporting currency itself is dropped)", settings),
    );
}
