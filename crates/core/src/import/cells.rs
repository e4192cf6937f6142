//! One spreadsheet cell, read as a field's value. Spreadsheets write numbers, dates and yes/no in
//! the habits of their country; this turns those into the API's form, which
//! [`parse_value`](crate::value::parse_value) then checks by the same rules as every other write.

use crate::meta::{FieldDef, FieldType};
use crate::number::NumberFormat;
use crate::value::{Value, parse_value};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value as Json;

/// How numbers are written in the file: a semicolon-separated file comes from a country with a
/// decimal comma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Habits {
    pub decimal_comma: bool,
}

/// The longest cell we read at all; longer ones are refused before any other check.
pub const MAX_CELL_BYTES: usize = 400_000;

/// Read a cell for a field. Empty cells are `Null` (the caller decides whether that is allowed).
pub fn read_cell(field: &FieldDef, text: &str, habits: Habits, now: DateTime<Utc>) -> Result<Value, String> {
    if text.len() > MAX_CELL_BYTES {
        return Err(format!(
            "is {} characters long, far beyond what any field holds",
            text.chars().count()
        ));
    }
    let text = text.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let text = &*match field.field_type {
        FieldType::LongText => std::borrow::Cow::Borrowed(text),
        _ => single_line(text),
    };
    let json = match field.field_type {
        FieldType::Text => Json::String(one_line(text)),
        FieldType::LongText => Json::String(text.replace("\r\n", "\n")),
        FieldType::Number => Json::from(number(text, habits).ok_or("must be a number")?),
        FieldType::Percent => {
            let n = number(text.trim_end_matches('%').trim_end(), habits).ok_or("must be a number")?;
            Json::from(n)
        }
        FieldType::Money => Json::String(money(text, habits).ok_or("must be an amount")?),
        FieldType::Date => {
            Json::String(date(text).map_or_else(|| text.to_string(), |d| d.format("%Y-%m-%d").to_string()))
        }
        FieldType::Datetime => Json::String(datetime(text).unwrap_or_else(|| text.to_string())),
        FieldType::Boolean => Json::Bool(boolean(text).ok_or("must be yes or no (true/false, ja/nej, 1/0)")?),
        FieldType::Select => Json::String(choice(field, text).unwrap_or_else(|| text.to_string())),
        FieldType::MultiSelect => Json::Array(
            text.split([';', '|', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Json::String(choice(field, s).unwrap_or_else(|| s.to_string())))
                .collect(),
        ),
        FieldType::Email => Json::String(email(text)),
        FieldType::Phone => Json::String(text.to_string()),
        FieldType::Url => Json::String(url(text)),
        FieldType::Relation | FieldType::User => Json::String(text.to_string()),
    };
    parse_value(field, &json, now)
}

/// Address lines in one cell become one line of a text field; a tab or another control
/// character becomes one space (`Bodø<TAB>Nordland` → `Bodø Nordland`).
fn one_line(text: &str) -> String {
    let joined = if text.contains(['\n', '\r']) {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        text.to_string()
    };
    if !joined.chars().any(char::is_control) {
        return joined;
    }
    joined
        .split(char::is_control)
        .flat_map(|part| part.split(' '))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A single-line value as a field takes it: what [`one_line`] does for text, for the types that
/// keep their text as it is (e-mail, phone, web address, choices).
fn single_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        std::borrow::Cow::Owned(one_line(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A number a spreadsheet showed in scientific notation and saved as shown (`4,67012E+10`,
/// `4.67012E+10`): a phone number or an id whose last digits are gone for good.
pub fn digits_lost(text: &str) -> bool {
    let text = text.trim();
    let Some((mantissa, exponent)) = text.split_once(['E', 'e']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let Some((whole, fraction)) = mantissa.split_once(['.', ',']) else {
        return false;
    };
    !whole.is_empty()
        && whole.len() <= 2
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.len() <= 2
        && exponent.bytes().all(|b| b.is_ascii_digit())
        // More digits than the mantissa shows: some were lost.
        && exponent.parse::<usize>().is_ok_and(|e| e > fraction.len())
}

/// A number cell, read with the file's habit for a lone comma ([`crate::number`]).
pub fn number(text: &str, habits: Habits) -> Option<f64> {
    crate::number::parse(text, format(habits))
}

fn format(habits: Habits) -> NumberFormat {
    NumberFormat {
        decimal_comma: habits.decimal_comma,
        grouping: true,
    }
}

/// An amount with its currency sign or code taken off, as the API's decimal text: its digits
/// exactly as written, with two decimals at least (more are refused by the money rule, not
/// rounded here).
fn money(text: &str, habits: Habits) -> Option<String> {
    let bare: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | ' ' | '\u{a0}' | '\''))
        .collect();
    let exact = crate::number::normalise(bare.trim(), format(habits))?;
    let (whole, fraction) = exact.split_once('.').unwrap_or((&exact, ""));
    let whole = if whole.is_empty() || whole == "-" {
        format!("{whole}0")
    } else {
        whole.to_string()
    };
    Some(format!("{whole}.{fraction:0<2}"))
}

/// ISO dates, day-first European dates (23.11.2026, 23/11/2026, 23-11-2026) and US dates when
/// the day cannot be the first number (11/23/2026).
pub fn date(text: &str) -> Option<NaiveDate> {
    let text = text.split(['T', ' ']).next().unwrap_or(text);
    let year_first = text.len() >= 8 && text.bytes().take(4).all(|b| b.is_ascii_digit());
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, format)
            && year_first
        {
            return Some(d);
        }
    }
    let parts: Vec<&str> = text.split(['.', '/', '-']).collect();
    let [a, b, y] = parts.as_slice() else { return None };
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    let mut y: i32 = y.parse().ok()?;
    if y < 100 {
        y += if y < 70 { 2000 } else { 1900 };
    }
    let (day, month) = if b > 12 && a <= 12 { (b, a) } else { (a, b) };
    NaiveDate::from_ymd_opt(y, month, day)
}

/// RFC 3339, or a local "2026-11-23 14:30[:00]" taken as UTC, or a date alone (midnight).
fn datetime(text: &str) -> Option<String> {
    if DateTime::parse_from_rfc3339(text).is_ok() {
        return Some(text.to_string());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().to_rfc3339());
        }
    }
    date(text).map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().to_rfc3339())
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "x" | "ja" | "j" | "sí" | "si" | "s" | "wahr" | "✓" | "✔" => Some(true),
        "false" | "no" | "n" | "0" | "nej" | "nein" | "falsch" | "-" => Some(false),
        _ => None,
    }
}

/// A choice by its value, or by its value or label in any case.
fn choice(field: &FieldDef, text: &str) -> Option<String> {
    if field.has_choice(text) {
        return Some(text.to_string());
    }
    let lower = text.to_lowercase();
    field
        .choices
        .iter()
        .find(|c| c.value.to_lowercase() == lower || c.label.to_lowercase() == lower)
        .map(|c| c.value.clone())
}

/// "Anna Berg <anna@x.se>" and "mailto:anna@x.se" are both anna@x.se.
fn email(text: &str) -> String {
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(a), Some(b)) if a < b => text.get(a + 1..b).unwrap_or(text),
        _ => text,
    };
    let inner = inner.trim();
    inner
        .strip_prefix("mailto:")
        .or_else(|| inner.strip_prefix("MAILTO:"))
        .unwrap_or(inner)
        .to_string()
}

/// "www.acme.se" is a web address too.
fn url(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || !text.contains('.') || text.contains(' ') {
        text.to_string()
    } else {
        format!("https://{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Choice;

    const EN: Habits = Habits { decimal_comma: false };
    const SV: Habits = Habits { decimal_comma: true };

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn read(t: FieldType, text: &str, habits: Habits) -> Result<Value, String> {
        let mut f = FieldDef::new("f", "F", t);
        f.choices = vec![
            Choice {
                value: "won".into(),
                label: "Won".into(),
            },
            Choice {
                value: "lost".into(),
                label: "Förlorad".into(),
            },
        ];
        read_cell(&f, text, habits, now())
    }

    #[test]
    fn a_tab_in_a_single_line_cell_becomes_one_space() {
        assert_eq!(
            read(FieldType::Text, "Bodø\tNordland", EN),
            Ok(Value::Text("Bodø Nordland".into()))
        );
        assert_eq!(
            read(FieldType::Text, "Bodø \t\u{1}Nordland", EN),
            Ok(Value::Text("Bodø Nordland".into()))
        );
        assert_eq!(
            read(FieldType::Text, "Hamngatan 3\r\nHus B", EN),
            Ok(Value::Text("Hamngatan 3, Hus B".into()))
        );
        assert_eq!(
            read(FieldType::Email, "kim@x.se\t", EN),
            Ok(Value::Text("kim@x.se".into()))
        );
        assert_eq!(
            read(FieldType::LongText, "one\ttwo", EN),
            Ok(Value::Text("one\ttwo".into())),
            "long text keeps its tabs"
        );
    }

    #[test]
    fn a_number_in_scientific_notation_has_lost_its_digits() {
        for lost in ["4,67012E+10", "4.67012E+10", " 4.67012e+10 ", "4,7E+9"] {
            assert!(digits_lost(lost), "{lost}");
        }
        for kept in [
            "+46 70 174 06 12",
            "070-1740612",
            "1E+3",
            "4.5E+1",
            "E+10",
            "4.67012E+1a",
            "12345",
        ] {
            assert!(!digits_lost(kept), "{kept}");
        }
    }

    #[test]
    fn numbers_in_every_habit() {
        assert_eq!(number("1 234,5", SV), Some(1234.5));
        assert_eq!(number("1.234,5", SV), Some(1234.5));
        assert_eq!(number("1,234.5", EN), Some(1234.5));
        assert_eq!(number("1,234", EN), Some(1234.0));
        assert_eq!(number("1,234", SV), Some(1.234));
        assert_eq!(number("2,5", EN), Some(2.5));
        assert_eq!(number("-3", EN), Some(-3.0));
        assert_eq!(number("1'000'000", EN), Some(1_000_000.0));
        assert_eq!(number("12abc", EN), None);
        assert_eq!(number("=1+1", EN), None);
        assert_eq!(read(FieldType::Money, "1 200,50 kr", SV), Ok(Value::Money(120_050)));
        assert_eq!(read(FieldType::Money, "€1,200.50", EN), Ok(Value::Money(120_050)));
        assert!(read(FieldType::Money, "1.005", EN).is_err());
        assert_eq!(read(FieldType::Percent, "45 %", EN), Ok(Value::Percent(45.0)));
        assert!(read(FieldType::Number, "1e400", EN).is_err());
    }

    #[test]
    fn dates_day_first_unless_they_cannot_be() {
        let d = |y, m, day| Some(NaiveDate::from_ymd_opt(y, m, day).unwrap());
        assert_eq!(date("2026-11-23"), d(2026, 11, 23));
        assert_eq!(date("23.11.2026"), d(2026, 11, 23));
        assert_eq!(date("23/11/2026"), d(2026, 11, 23));
        assert_eq!(date("11/23/2026"), d(2026, 11, 23));
        assert_eq!(date("05/04/2026"), d(2026, 4, 5));
        assert_eq!(date("23-11-26"), d(2026, 11, 23));
        assert_eq!(date("2026-11-23T10:00:00Z"), d(2026, 11, 23));
        assert_eq!(date("31.02.2026"), None);
        assert!(read(FieldType::Date, "someday", EN).is_err());
        assert!(read(FieldType::Date, "01.01.1066", EN).is_err(), "out of range");
        assert_eq!(
            read(FieldType::Datetime, "2026-11-23 14:30", EN),
            Ok(Value::DateTime(
                DateTime::parse_from_rfc3339("2026-11-23T14:30:00Z")
                    .unwrap()
                    .with_timezone(&Utc)
            ))
        );
    }

    #[test]
    fn yes_no_choices_addresses() {
        assert_eq!(read(FieldType::Boolean, "Ja", SV), Ok(Value::Bool(true)));
        assert_eq!(read(FieldType::Boolean, "nein", SV), Ok(Value::Bool(false)));
        assert!(read(FieldType::Boolean, "maybe", SV).is_err());
        assert_eq!(read(FieldType::Select, "WON", EN), Ok(Value::Select("won".into())));
        assert_eq!(
            read(FieldType::Select, "förlorad", EN),
            Ok(Value::Select("lost".into()))
        );
        assert!(read(FieldType::Select, "pending", EN).is_err());
        assert_eq!(
            read(FieldType::MultiSelect, "Won; lost", EN),
            Ok(Value::MultiSelect(vec!["won".into(), "lost".into()]))
        );
        assert_eq!(
            read(FieldType::Email, "Anna Berg <Anna@Example.COM>", EN),
            Ok(Value::Text("Anna@example.com".into()))
        );
        assert!(read(FieldType::Email, "anna at example", EN).is_err());
        assert_eq!(
            read(FieldType::Url, "www.acme.se", EN),
            Ok(Value::Text("https://www.acme.se".into()))
        );
        assert_eq!(
            read(FieldType::Text, "Storgatan 1\r\n111 22 Stockholm\n", EN),
            Ok(Value::Text("Storgatan 1, 111 22 Stockholm".into()))
        );
        assert_eq!(read(FieldType::Text, "   ", EN), Ok(Value::Null));
    }

    #[test]
    fn huge_cells_are_refused_before_anything_else() {
        let huge = "x".repeat(MAX_CELL_BYTES + 1);
        let err = read(FieldType::LongText, &huge, EN).unwrap_err();
        assert!(err.contains("characters long"), "{err}");
        let long = "x".repeat(2_000);
        assert!(read(FieldType::Text, &long, EN).unwrap_err().contains("at most"));
    }

    #[test]
    fn formulas_are_text_not_code() {
        // A formula in a text cell is kept as the text it is; export makes it harmless again.
        assert_eq!(
            read(FieldType::Text, "=HYPERLINK(\"http://x\")", EN),
            Ok(Value::Text("=HYPERLINK(\"http://x\")".into()))
        );
        assert!(read(FieldType::Number, "=1+2", EN).is_err());
    }
}
