//! Numbers as people write them: "1 234,50" in Swedish, "1.234,50" in German, "1,234.50" in
//! English, "1'234.50" in Switzerland. One reader for every place a person or a file hands us a
//! number as text (import cells, record and project forms, list filters, bulk edits, rates), so
//! "12,5" means the same wherever it is typed.

/// How to read a number's marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// Whether a lone mark that could be either (`1,234`, `1.234`) is a decimal comma: the
    /// writer's language (or the file's habit) writes decimals with a comma.
    pub decimal_comma: bool,
    /// Whether thousands may be grouped. Without grouping (exchange rates, which banks write
    /// `11.45` or `11,45` everywhere), a lone mark is always the decimal one.
    pub grouping: bool,
}

impl NumberFormat {
    /// The format of a UI language: English writes a decimal point, the other four a comma.
    pub fn of_locale(locale: &str) -> Self {
        NumberFormat {
            decimal_comma: locale != "en",
            grouping: true,
        }
    }

    /// One decimal mark, point or comma, and no grouping.
    pub const PLAIN: NumberFormat = NumberFormat {
        decimal_comma: false,
        grouping: false,
    };
}

/// The number as plain decimal text (`-1234.5`), or `None` when the text is not one.
///
/// - Spaces, no-break spaces (and, where thousands may be grouped, apostrophes) between digits
///   are grouping.
/// - With both marks, the last is the decimal one.
/// - A mark that comes more than once groups thousands: the first group has one to three
///   digits, every later one three (so `23.11.2026` is no number).
/// - A lone point is decimal in every language: forms are filled in with values written that
///   way, and an input of type number sends it.
/// - A lone comma is decimal unless exactly three digits follow it and the format writes a
///   decimal point (English `1,234`).
pub fn normalise(text: &str, format: NumberFormat) -> Option<String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !(matches!(c, ' ' | '\u{a0}' | '\u{202f}') || (format.grouping && *c == '\'')))
        .collect();
    let (sign, digits) = match cleaned.strip_prefix(['-', '+']) {
        Some(rest) => (if cleaned.starts_with('-') { "-" } else { "" }, rest),
        None => ("", cleaned.as_str()),
    };
    if !digits.chars().any(|c| c.is_ascii_digit())
        || !digits.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    let (commas, dots) = (digits.matches(',').count(), digits.matches('.').count());
    let decimal_mark = match (commas, dots) {
        (0, 0) => None,
        _ if !format.grouping => match (commas, dots) {
            (1, 0) => Some(','),
            (0, 1) => Some('.'),
            _ => return None,
        },
        (c, d) if c > 0 && d > 0 => {
            let last = if digits.rfind(',') > digits.rfind('.') {
                ','
            } else {
                '.'
            };
            // The decimal mark comes once.
            if (last == ',' && c > 1) || (last == '.' && d > 1) {
                return None;
            }
            Some(last)
        }
        (0, 1) => Some('.'),
        (1, 0) => {
            let after = digits.len() - digits.find(',').map_or(0, |i| i + 1);
            (after != 3 || format.decimal_comma).then_some(',')
        }
        _ => None,
    };
    let (whole, fraction) = match decimal_mark {
        Some(mark) => digits.split_once(mark)?,
        None => (digits, ""),
    };
    if !grouped_well(whole) || fraction.contains([',', '.']) {
        return None;
    }
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    Some(match decimal_mark {
        Some(_) => format!("{sign}{whole}.{fraction}"),
        None => format!("{sign}{whole}"),
    })
}

/// Digits with or without thousands marks: with them, one to three digits, then groups of three.
fn grouped_well(whole: &str) -> bool {
    let mut groups = whole.split([',', '.']);
    let first = groups.next().unwrap_or_default();
    let mut rest = groups.peekable();
    if rest.peek().is_none() {
        return true;
    }
    (1..=3).contains(&first.len()) && rest.all(|g| g.len() == 3)
}

/// The number as a float, when the text is one and it is finite.
pub fn parse(text: &str, format: NumberFormat) -> Option<f64> {
    normalise(text, format)?.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SV: NumberFormat = NumberFormat {
        decimal_comma: true,
        grouping: true,
    };
    const EN: NumberFormat = NumberFormat {
        decimal_comma: false,
        grouping: true,
    };

    #[test]
    fn each_language_reads_its_own_way_of_writing() {
        for (text, format, want) in [
            ("1 234,50", SV, Some(1234.5)),
            ("1\u{a0}234,50", SV, Some(1234.5)),
            ("1\u{202f}234,50", SV, Some(1234.5)),
            ("1.234,50", SV, Some(1234.5)),
            ("1,234.50", EN, Some(1234.5)),
            ("1'234.50", EN, Some(1234.5)),
            ("12,5", SV, Some(12.5)),
            ("12,5", EN, Some(12.5)),
            ("12.5", SV, Some(12.5)),
            ("-3", EN, Some(-3.0)),
            ("+3", SV, Some(3.0)),
            ("1,234", SV, Some(1.234)),
            ("1,234", EN, Some(1234.0)),
            ("1.234", SV, Some(1.234)),
            ("1.234", EN, Some(1.234)),
            ("0.125", SV, Some(0.125)),
            ("1234.567", SV, Some(1234.567)),
            ("1.234.567", SV, Some(1_234_567.0)),
            ("1,234,567", EN, Some(1_234_567.0)),
            ("1.234.567,89", SV, Some(1_234_567.89)),
            (",5", SV, Some(0.5)),
            ("5,", SV, Some(5.0)),
        ] {
            assert_eq!(parse(text, format), want, "{text:?} {format:?}");
        }
    }

    #[test]
    fn what_is_no_number_is_refused() {
        for text in [
            "",
            " ",
            "-",
            "abc",
            "12a",
            "1,2,3.4.5",
            "1.234,5.6",
            "1,2.3,4",
            "--1",
            "1e5",
            "∞",
            ",",
            ".",
            "-,",
        ] {
            assert_eq!(parse(text, SV), None, "{text:?}");
            assert_eq!(parse(text, EN), None, "{text:?}");
        }
    }

    #[test]
    fn without_grouping_a_lone_mark_is_decimal_and_two_are_refused() {
        assert_eq!(parse("11,45", NumberFormat::PLAIN), Some(11.45));
        assert_eq!(parse("1,085", NumberFormat::PLAIN), Some(1.085));
        assert_eq!(parse("1.085", NumberFormat::PLAIN), Some(1.085));
        assert_eq!(parse("1.234,5", NumberFormat::PLAIN), None);
        assert_eq!(parse("11'45", NumberFormat::PLAIN), None);
        assert_eq!(parse(" 11,45 ", NumberFormat::PLAIN), Some(11.45));
    }

    #[test]
    fn money_keeps_its_digits_as_text() {
        assert_eq!(normalise("1 234,50", SV).as_deref(), Some("1234.50"));
        assert_eq!(normalise("-0,05", SV).as_deref(), Some("-0.05"));
        assert_eq!(
            normalise("99999999999999999.99", EN).as_deref(),
            Some("99999999999999999.99")
        );
    }
}
