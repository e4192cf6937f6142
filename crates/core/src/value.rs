//! Typed field values: parsed from JSON once, at the edge, by the field's type.

use crate::ids::{RecordId, UserId};
use crate::meta::{FieldDef, FieldType};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value as Json;

pub const MAX_TEXT_CHARS: usize = 1_000;
pub const MAX_LONG_TEXT_CHARS: usize = 100_000;
/// Money is kept in minor units (cents/öre) as a 64-bit integer; this bound keeps every amount
/// exactly representable as a JSON number too.
pub const MAX_MONEY_MINOR: i64 = 9_000_000_000_000_000 / 1000;
pub const MAX_NUMBER: f64 = 1e15;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Number(f64),
    /// Minor units (two decimals).
    Money(i64),
    Percent(f64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Bool(bool),
    Select(String),
    MultiSelect(Vec<String>),
    Relation(RecordId),
    User(UserId),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Text(s) | Value::Select(s) => Json::String(s.clone()),
            Value::Number(n) | Value::Percent(n) => {
                serde_json::Number::from_f64(*n).map(Json::Number).unwrap_or(Json::Null)
            }
            Value::Money(minor) => money_to_json(*minor),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => Json::String(format_datetime(t)),
            Value::Bool(b) => Json::Bool(*b),
            Value::MultiSelect(v) => Json::Array(v.iter().cloned().map(Json::String).collect()),
            Value::Relation(id) => Json::String(id.to_string()),
            Value::User(id) => Json::String(id.to_string()),
        }
    }

    /// Plain text for search indexes and titles.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Text(s) | Value::Select(s) => Some(s.clone()),
            Value::MultiSelect(v) => Some(v.join(" ")),
            other => match other.to_json() {
                Json::String(s) => Some(s),
                Json::Null => None,
                j => Some(j.to_string()),
            },
        }
    }
}

/// The form in which two values of a unique field are the same: folded text for text that
/// folds, the value as written otherwise. `None` for an empty value (never held unique).
pub fn unique_key(field_type: crate::meta::FieldType, value: &Value) -> Option<String> {
    let text = match value {
        // -0 is 0 to the databases' unique indexes; to the text of the number it is not.
        Value::Number(n) | Value::Percent(n) if *n == 0.0 => Value::Number(0.0).to_text()?,
        v => v.to_text()?,
    };
    let key = if field_type.folds() {
        crate::text::fold_case(&text)
    } else {
        text.trim().to_string()
    };
    (!key.is_empty()).then_some(key)
}

/// Timestamps always print the same way (UTC, microseconds), so their text sorts as time does.
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    // Keep microseconds only: both databases store that precision.
    let micros = t.timestamp_micros();
    DateTime::from_timestamp_micros(micros)
}

fn money_to_json(minor: i64) -> Json {
    #[allow(clippy::cast_precision_loss)] // bounded by MAX_MONEY_MINOR, exact in f64
    let amount = minor as f64 / 100.0;
    serde_json::Number::from_f64(amount)
        .map(Json::Number)
        .unwrap_or(Json::Null)
}

/// Parse a decimal with at most two fraction digits into minor units, exactly.
pub fn parse_money(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() || whole.len() > 16 || frac.len() > 2 {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else if frac.len() == 1 {
        frac.parse::<i64>().ok()? * 10
    } else {
        frac.parse().ok()?
    };
    let minor = whole.checked_mul(100)?.checked_add(frac)?;
    if minor > MAX_MONEY_MINOR {
        return None;
    }
    Some(if negative { -minor } else { minor })
}

/// A date value, absolute ("2026-11-23") or relative to today ("today", "today-30d",
/// "today+2w", "today-3m").
pub fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Some(rest) = text.strip_prefix("today") {
        if rest.is_empty() {
            return Some(today);
        }
        let (sign, rest) = match rest.as_bytes().first()? {
            b'+' => (1i64, rest.get(1..)?),
            b'-' => (-1i64, rest.get(1..)?),
            _ => return None,
        };
        let unit = rest.chars().last()?;
        let amount: i64 = rest.get(..rest.len() - unit.len_utf8())?.parse().ok()?;
        if !(0..=100_000).contains(&amount) {
            return None;
        }
        let amount = sign * amount;
        return match unit {
            'd' => today.checked_add_signed(chrono::Duration::days(amount)),
            'w' => today.checked_add_signed(chrono::Duration::weeks(amount)),
            'm' => {
                let months = chrono::Months::new(u32::try_from(amount.unsigned_abs()).ok()?);
                if amount >= 0 {
                    today.checked_add_months(months)
                } else {
                    today.checked_sub_months(months)
                }
            }
            'y' => {
                let months = chrono::Months::new(u32::try_from(amount.unsigned_abs()).ok()?.checked_mul(12)?);
                if amount >= 0 {
                    today.checked_add_months(months)
                } else {
                    today.checked_sub_months(months)
                }
            }
            _ => None,
        };
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    date_in_range(date).then_some(date)
}

fn date_in_range(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (1800..=2300).contains(&date.year())
}

/// Parse one JSON value for a field. `now` resolves relative dates. The error is a message for
/// the field, in plain words.
pub fn parse_value(field: &FieldDef, json: &Json, now: DateTime<Utc>) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let expect_string = || -> Result<&str, String> {
        json.as_str()
            .ok_or_else(|| format!("must be a string, not {}", json_kind(json)))
    };
    match field.field_type {
        FieldType::Text | FieldType::LongText => {
            let s = expect_string()?;
            let max = if field.field_type == FieldType::Text {
                MAX_TEXT_CHARS
            } else {
                MAX_LONG_TEXT_CHARS
            };
            if s.chars().count() > max {
                return Err(format!("must be at most {max} characters"));
            }
            if field.field_type == FieldType::Text && s.chars().any(|c| c.is_control()) {
                return Err("must be a single line without control characters".into());
            }
            if s.chars().any(|c| c == '\0') {
                return Err("must not contain NUL characters".into());
            }
            Ok(if s.trim().is_empty() {
                Value::Null
            } else {
                Value::Text(s.to_string())
            })
        }
        FieldType::Number => {
            let n = json
                .as_f64()
                .ok_or_else(|| format!("must be a number, not {}", json_kind(json)))?;
            if !n.is_finite() || n.abs() > MAX_NUMBER {
                return Err(format!("must be between -{MAX_NUMBER:e} and {MAX_NUMBER:e}"));
            }
            Ok(Value::Number(n))
        }
        FieldType::Percent => {
            let n = json
                .as_f64()
                .ok_or_else(|| format!("must be a number, not {}", json_kind(json)))?;
            if !(0.0..=100.0).contains(&n) {
                return Err("must be a percentage from 0 to 100".into());
            }
            Ok(Value::Percent(n))
        }
        FieldType::Money => {
            let text = match json {
                Json::Number(n) => n.to_string(),
                Json::String(s) => s.clone(),
                other => return Err(format!("must be an amount, not {}", json_kind(other))),
            };
            parse_money(&text)
                .map(Value::Money)
                .ok_or_else(|| "must be an amount with at most two decimals, below 9 × 10^12".into())
        }
        FieldType::Date => {
            let s = expect_string()?;
            parse_date(s, now.date_naive())
                .map(Value::Date)
                .ok_or_else(|| "must be a date as YYYY-MM-DD".into())
        }
        FieldType::Datetime => {
            let s = expect_string()?;
            parse_datetime(s)
                .filter(|t| date_in_range(t.date_naive()))
                .map(Value::DateTime)
                .ok_or_else(|| "must be a date and time as RFC 3339, e.g. 2026-11-23T14:30:00Z".into())
        }
        FieldType::Boolean => json
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| format!("must be true or false, not {}", json_kind(json))),
        FieldType::Select => {
            let s = expect_string()?;
            if field.has_choice(s) {
                Ok(Value::Select(s.to_string()))
            } else {
                Err(format!("must be one of: {}", choice_list(field)))
            }
        }
        FieldType::MultiSelect => {
            let items = json
                .as_array()
                .ok_or_else(|| format!("must be a list, not {}", json_kind(json)))?;
            if items.len() > field.choices.len() {
                return Err("has more values than there are choices".into());
            }
            let mut out: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or("must be a list of strings")?;
                if !field.has_choice(s) {
                    return Err(format!("{s:?} is not one of: {}", choice_list(field)));
                }
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_string());
                }
            }
            Ok(if out.is_empty() {
                Value::Null
            } else {
                Value::MultiSelect(out)
            })
        }
        FieldType::Email => {
            let s = expect_string()?.trim();
            if s.is_empty() {
                return Ok(Value::Null);
            }
            normalise_email(s)
                .map(Value::Text)
                .ok_or_else(|| "must be an e-mail address like name@example.com".into())
        }
        FieldType::Phone => {
            let s = expect_string()?.trim();
            if s.is_empty() {
                return Ok(Value::Null);
            }
            validate_phone(s).map(|()| Value::Text(s.to_string()))
        }
        FieldType::Url => {
            let s = expect_string()?.trim();
            if s.is_empty() {
                return Ok(Value::Null);
            }
            validate_url(s).map(|()| Value::Text(s.to_string()))
        }
        FieldType::Relation => {
            let s = expect_string()?;
            RecordId::parse(s)
                .map(Value::Relation)
                .ok_or_else(|| "must be a record id".into())
        }
        FieldType::User => {
            let s = expect_string()?;
            UserId::parse(s)
                .map(Value::User)
                .ok_or_else(|| "must be a user id".into())
        }
    }
}

fn choice_list(field: &FieldDef) -> String {
    let shown: Vec<&str> = field.choices.iter().take(20).map(|c| c.value.as_str()).collect();
    let more = if field.choices.len() > 20 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

pub fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// A practical address check (RFC 5321 sizes, a dotted domain of letters, digits and hyphens);
/// the domain is lower-cased so the same address is always stored the same way.
pub fn normalise_email(s: &str) -> Option<String> {
    if s.len() > 254 {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.len() >= 2);
    (local_ok && domain_ok).then(|| format!("{local}@{}", domain.to_lowercase()))
}

fn validate_phone(s: &str) -> Result<(), String> {
    let allowed = s.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c));
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let plus_ok = s.find('+').is_none_or(|i| i == 0) && s.matches('+').count() <= 1;
    if allowed && plus_ok && (5..=17).contains(&digits) && s.len() <= 40 {
        Ok(())
    } else {
        Err("must be a phone number of 5–17 digits, e.g. +46 8 123 456".into())
    }
}

fn validate_url(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let ok = s.len() <= 2048
        && rest.is_some_and(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            let host = host.split(':').next().unwrap_or("");
            host.contains('.') && host.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err("must be a web address starting with http:// or https://".into())
    }
}

/// The kind of a validation message this module (and record input parsing) produces, so a UI
/// can say it in the user's language; `None` for messages without a translation.
pub fn message_kind(message: &str) -> Option<&'static str> {
    const KINDS: [(&str, &str); 14] = [
        ("is required", "required"),
        ("must be an e-mail address", "email"),
        ("must be a phone number", "phone"),
        ("must be a web address", "url"),
        ("must be a number", "number"),
        ("must be between", "number"),
        ("must be an amount", "money"),
        ("must be a percentage", "percent"),
        ("must be a date and time", "datetime"),
        ("must be a date", "date"),
        ("must be one of", "choice"),
        ("must be at most", "too_long"),
        ("must be a single line", "single_line"),
        ("must be a record id", "relation"),
    ];
    KINDS
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keys_are_equal_where_the_database_sees_one_value() {
        use crate::meta::FieldType;
        let key = |t, v| unique_key(t, &v);
        assert_eq!(
            key(FieldType::Number, Value::Number(-0.0)),
            key(FieldType::Number, Value::Number(0.0))
        );
        assert_eq!(
            key(FieldType::Percent, Value::Percent(-0.0)),
            key(FieldType::Percent, Value::Percent(0.0))
        );
        assert_ne!(
            key(FieldType::Number, Value::Number(1.0)),
            key(FieldType::Number, Value::Number(-1.0))
        );
        assert_eq!(
            key(FieldType::Text, Value::Text("ÖBERG".into())),
            key(FieldType::Text, Value::Text("öberg".into()))
        );
        assert_eq!(key(FieldType::Text, Value::Text("  ".into())), None);
    }

    #[test]
    fn validation_messages_have_kinds_for_translation() {
        let field = |t| crate::meta::FieldDef::new("f", "F", t);
        let now = chrono::Utc::now();
        for (t, json, kind) in [
            (crate::meta::FieldType::Email, serde_json::json!("nope"), "email"),
            (crate::meta::FieldType::Phone, serde_json::json!("12"), "phone"),
            (crate::meta::FieldType::Url, serde_json::json!("ftp:x"), "url"),
            (crate::meta::FieldType::Number, serde_json::json!("x"), "number"),
            (crate::meta::FieldType::Money, serde_json::json!("1.234"), "money"),
            (crate::meta::FieldType::Percent, serde_json::json!(120), "percent"),
            (crate::meta::FieldType::Date, serde_json::json!("tomorrowish"), "date"),
            (crate::meta::FieldType::Datetime, serde_json::json!("x"), "datetime"),
            (crate::meta::FieldType::Relation, serde_json::json!("x"), "relation"),
        ] {
            let message = parse_value(&field(t), &json, now).unwrap_err();
            assert_eq!(message_kind(&message), Some(kind), "{message}");
        }
    }
    use crate::meta::FieldDef;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn parse(t: FieldType, j: Json) -> Result<Value, String> {
        parse_value(&FieldDef::new("f", "F", t), &j, now())
    }

    #[test]
    fn email_refuses_garbage_and_lowercases_domain() {
        assert!(parse(FieldType::Email, json!("abc")).is_err());
        assert!(parse(FieldType::Email, json!("a@b")).is_err());
        assert!(parse(FieldType::Email, json!("a@@b.se")).is_err());
        assert!(parse(FieldType::Email, json!("'; DROP TABLE x;--@x.se")).is_err());
        assert_eq!(
            parse(FieldType::Email, json!("Anna.Berg@Example.SE")),
            Ok(Value::Text("Anna.Berg@example.se".into()))
        );
        assert_eq!(
            parse(FieldType::Email, json!("märta@företag.se")),
            Ok(Value::Text("märta@företag.se".into()))
        );
    }

    #[test]
    fn money_is_exact_to_the_cent() {
        assert_eq!(parse(FieldType::Money, json!(1234.5)), Ok(Value::Money(123_450)));
        assert_eq!(parse(FieldType::Money, json!("0.07")), Ok(Value::Money(7)));
        assert_eq!(parse(FieldType::Money, json!("-10")), Ok(Value::Money(-1000)));
        assert!(parse(FieldType::Money, json!(1.234)).is_err());
        assert!(parse(FieldType::Money, json!("1e3")).is_err());
        assert!(parse(FieldType::Money, json!(1e300)).is_err());
        assert!(parse(FieldType::Money, json!(true)).is_err());
        assert_eq!(Value::Money(123_450).to_json(), json!(1234.5));
    }

    #[test]
    fn wrong_json_types_are_named() {
        let err = parse(FieldType::Number, json!("12")).unwrap_err();
        assert!(err.contains("a string"), "{err}");
        assert!(parse(FieldType::Boolean, json!(1)).is_err());
        assert!(parse(FieldType::Date, json!(20261123)).is_err());
        assert!(parse(FieldType::Percent, json!(101)).is_err());
        assert!(parse(FieldType::Number, json!(1e16)).is_err());
    }

    #[test]
    fn relative_dates_resolve_against_the_clock() {
        let today = now().date_naive();
        assert_eq!(parse_date("today", today), Some(today));
        assert_eq!(parse_date("today-30d", today), NaiveDate::from_ymd_opt(2026, 10, 24));
        assert_eq!(parse_date("today+1m", today), NaiveDate::from_ymd_opt(2026, 12, 23));
        assert_eq!(parse_date("today-1y", today), NaiveDate::from_ymd_opt(2025, 11, 23));
        assert_eq!(parse_date("today*3d", today), None);
        assert_eq!(parse_date("2026-02-30", today), None);
        assert_eq!(parse_date("9999-01-01", today), None);
    }

    #[test]
    fn text_limits_and_control_characters() {
        assert!(parse(FieldType::Text, json!("x".repeat(1001))).is_err());
        assert!(parse(FieldType::Text, json!("a\nb")).is_err());
        assert!(parse(FieldType::LongText, json!("a\nb")).is_ok());
        assert_eq!(parse(FieldType::Text, json!("   ")), Ok(Value::Null));
    }

    #[test]
    fn phones_and_urls() {
        assert!(parse(FieldType::Phone, json!("+46 8 123 456 78")).is_ok());
        assert!(parse(FieldType::Phone, json!("(030) 1234-5678")).is_ok());
        assert!(parse(FieldType::Phone, json!("call me")).is_err());
        assert!(parse(FieldType::Phone, json!("12+34567")).is_err());
        assert!(parse(FieldType::Url, json!("https://anchora.example/x?y=1")).is_ok());
        assert!(parse(FieldType::Url, json!("javascript:alert(1)")).is_err());
        assert!(parse(FieldType::Url, json!("https://")).is_err());
    }

    #[test]
    fn datetimes_normalise_to_utc_micros() {
        let v = parse(FieldType::Datetime, json!("2026-11-23T15:30:00.1234567+01:00")).unwrap();
        assert_eq!(v.to_json(), json!("2026-11-23T14:30:00.123456Z"));
    }
}
