//! Values as people in each locale read them: numbers, money, percentages, dates.

use anchora_core::meta::{FieldDef, FieldType};
use anchora_core::value::Value;
use chrono::{DateTime, NaiveDate, Utc};

/// Separators of a locale: (thousands, decimal, group numbers of four digits too).
fn separators(locale: &str) -> (&'static str, &'static str, bool) {
    match locale {
        // A no-break space keeps "1 234" on one line.
        "sv" => ("\u{a0}", ",", true),
        "de" | "da" => (".", ",", true),
        // Spanish groups only from five digits (RAE): 1234 but 12.345.
        "es" => (".", ",", false),
        _ => (",", ".", true),
    }
}

fn group(digits: &str, sep: &str, four: bool) -> String {
    if digits.len() <= 3 || (!four && digits.len() == 4) {
        return digits.to_string();
    }
    let mut out = String::new();
    let first = digits.len() % 3;
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (i + 3 - first).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// A number with `decimals` places (trailing zeros kept when `decimals` > 0).
pub fn number(locale: &str, value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let (thousands, decimal, four) = separators(locale);
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    let grouped = group(int, thousands, four);
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{decimal}{frac}")
    }
}

/// A number as typed: up to six decimals, none when whole.
pub fn plain_number(locale: &str, value: f64) -> String {
    let text = number(locale, value, 6);
    let (_, decimal, _) = separators(locale);
    if text.contains(decimal) {
        text.trim_end_matches('0').trim_end_matches(decimal).to_string()
    } else {
        text
    }
}

/// Money from minor units, with its currency when known: "1 234,50 kr", "1.234,50 €", "$1,234.50".
pub fn money(locale: &str, minor: i64, currency: Option<&str>) -> String {
    #[allow(clippy::cast_precision_loss)]
    let amount = number(locale, minor as f64 / 100.0, 2);
    match (currency, locale) {
        (None, _) => amount,
        (Some("SEK"), "sv") | (Some("DKK"), "da") => format!("{amount}\u{a0}kr"),
        (Some("EUR"), "en") => format!("€{amount}"),
        (Some("USD"), "en") => format!("${amount}"),
        (Some("GBP"), "en") => format!("£{amount}"),
        (Some("EUR"), _) => format!("{amount}\u{a0}€"),
        (Some(code), "en") => format!("{code}\u{a0}{amount}"),
        (Some(code), _) => format!("{amount}\u{a0}{code}"),
    }
}

pub fn percent(locale: &str, value: f64) -> String {
    let n = plain_number(locale, value);
    if locale == "en" {
        format!("{n}%")
    } else {
        format!("{n}\u{a0}%")
    }
}

/// A month as a chart's axis names it: "Sep 2026", "sep. 2026", "Sep. 2026".
pub fn month(locale: &str, d: NaiveDate) -> String {
    use chrono::Datelike;
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const SV: [&str; 12] = [
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ];
    const DE: [&str; 12] = [
        "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
    ];
    const DA: [&str; 12] = [
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ];
    const ES: [&str; 12] = [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
    ];
    let names = match locale {
        "sv" => SV,
        "de" => DE,
        "da" => DA,
        "es" => ES,
        _ => EN,
    };
    let name = names.get(d.month0() as usize).copied().unwrap_or("");
    format!("{name} {}", d.year())
}

/// A share (0–1) as a whole percentage.
pub fn share(locale: &str, share: f64) -> String {
    percent(locale, (share * 100.0).round())
}

/// `tag` is the user's locale choice: a language, or "en-GB" for English written day first.
fn date_pattern(tag: &str) -> &'static str {
    match tag {
        "sv" => "%Y-%m-%d",
        "en-GB" => "%d/%m/%Y",
        "de" => "%d.%m.%Y",
        "da" => "%d.%m.%Y",
        "es" => "%d/%m/%Y",
        _ => "%m/%d/%Y",
    }
}

pub fn date(tag: &str, d: NaiveDate) -> String {
    d.format(date_pattern(tag)).to_string()
}

pub fn datetime(tag: &str, t: DateTime<Utc>) -> String {
    let time = match tag {
        "da" => "%H.%M",
        "en" => "%-I:%M %p",
        _ => "%H:%M",
    };
    format!("{} {}", t.format(date_pattern(tag)), t.format(time))
}

/// A field's value for display. Relations and users are resolved by the caller (they need
/// lookups); here they show nothing. `tag` is the user's locale choice, for dates.
pub fn value(locale: &str, tag: &str, field: &FieldDef, v: &Value, currency: Option<&str>) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(s) => s.clone(),
        Value::Number(n) => plain_number(locale, *n),
        Value::Money(m) => money(locale, *m, currency),
        Value::Percent(p) => percent(locale, *p),
        Value::Date(d) => date(tag, *d),
        Value::DateTime(t) => datetime(tag, *t),
        Value::Bool(_) => String::new(),
        Value::Select(s) => choice_label(field, s),
        Value::MultiSelect(items) => items
            .iter()
            .map(|s| choice_label(field, s))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Relation(_) | Value::User(_) => String::new(),
    }
}

fn choice_label(field: &FieldDef, value: &str) -> String {
    field
        .choices
        .iter()
        .find(|c| c.value == value)
        .map_or_else(|| value.to_string(), |c| c.label.clone())
}

/// Whether a column holds numbers (right-aligned in tables).
pub fn is_numeric(t: FieldType) -> bool {
    matches!(t, FieldType::Number | FieldType::Money | FieldType::Percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_locale() {
        assert_eq!(number("sv", 1234.5, 2), "1\u{a0}234,50");
        assert_eq!(number("de", 1234.5, 2), "1.234,50");
        assert_eq!(number("da", -1234567.0, 0), "−1.234.567");
        assert_eq!(number("es", 1234.0, 0), "1234");
        assert_eq!(number("es", 12345.0, 0), "12.345");
        assert_eq!(number("en", 1234.5, 2), "1,234.50");
        assert_eq!(number("en", 999.0, 0), "999");
        assert_eq!(number("en", -0.001, 2), "0.00");
        assert_eq!(plain_number("de", 2.5), "2,5");
        assert_eq!(plain_number("en", 3.0), "3");
    }

    #[test]
    fn money_and_percent() {
        assert_eq!(money("sv", 123_450, Some("SEK")), "1\u{a0}234,50\u{a0}kr");
        assert_eq!(money("de", 123_450, Some("EUR")), "1.234,50\u{a0}€");
        assert_eq!(money("en", 123_450, Some("USD")), "$1,234.50");
        assert_eq!(money("da", 5, Some("DKK")), "0,05\u{a0}kr");
        assert_eq!(money("es", 123_450, Some("SEK")), "1234,50\u{a0}SEK");
        assert_eq!(money("en", 100, None), "1.00");
        assert_eq!(percent("sv", 45.0), "45\u{a0}%");
        assert_eq!(percent("en", 12.5), "12.5%");
    }

    #[test]
    fn dates_in_each_locale() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(date("de", d), "23.11.2026");
        assert_eq!(date("sv", d), "2026-11-23");
        assert_eq!(date("en", d), "11/23/2026");
        assert_eq!(date("es", d), "23/11/2026");
        let t = DateTime::parse_from_rfc3339("2026-11-23T14:05:00Z").unwrap().to_utc();
        assert_eq!(datetime("da", t), "23.11.2026 14.05");
        assert_eq!(datetime("en", t), "11/23/2026 2:05 PM");
        assert_eq!(date("en-GB", d), "23/11/2026");
        assert_eq!(datetime("en-GB", t), "23/11/2026 14:05");
    }
}
