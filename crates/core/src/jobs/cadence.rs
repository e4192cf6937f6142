//! When a recurring job is due: `daily 02:00`, `weekly mon 07:30`, `every 15 minutes`, or any
//! five-field cron expression (`30 6 * * 1-5`), all in UTC. The words are turned into cron, and
//! croner (a maintained cron parser with the usual extensions: ranges, steps, names, `L`, `#`)
//! finds the next time.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use croner::Cron;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Cadence {
    /// As written (what is stored and shown).
    text: String,
    cron: Cron,
}

impl PartialEq for Cadence {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Cadence {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let pattern = as_cron(text).ok_or_else(|| invalid(text))?;
        let cron = Cron::from_str(&pattern).map_err(|_| invalid(text))?;
        Ok(Self {
            text: text.to_string(),
            cron,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first due time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn invalid(text: &str) -> Error {
    Error::field(
        "cadence",
        format!(
            "\"{text}\" is not a cadence: write daily HH:MM, weekly DAY HH:MM, every N minutes, or five cron fields"
        ),
    )
}

/// The cron pattern for the words, or the text itself when it has five fields.
fn as_cron(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    match lower.as_slice() {
        ["daily", at] => clock(at).map(|(h, m)| format!("{m} {h} * * *")),
        ["weekly", day, at] => {
            let day = weekday(day)?;
            clock(at).map(|(h, m)| format!("{m} {h} * * {day}"))
        }
        ["every", n, unit] if unit.starts_with("minute") => {
            let n: u32 = n.parse().ok().filter(|n| (1..=59).contains(n))?;
            Some(format!("*/{n} * * * *"))
        }
        ["every", n, unit] if unit.starts_with("hour") => {
            let n: u32 = n.parse().ok().filter(|n| (1..=23).contains(n))?;
            Some(format!("0 */{n} * * *"))
        }
        fields if fields.len() == 5 => Some(words.join(" ")),
        _ => None,
    }
}

fn clock(at: &str) -> Option<(u32, u32)> {
    let (h, m) = at.split_once(':')?;
    let h: u32 = h.parse().ok().filter(|h| *h < 24)?;
    let m: u32 = m.parse().ok().filter(|m| *m < 60)?;
    Some((h, m))
}

fn weekday(day: &str) -> Option<&'static str> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    DAYS.into_iter().find(|d| day.starts_with(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
    }

    #[test]
    fn daily_is_due_once_a_day_at_its_time() {
        let c = Cadence::parse("daily 02:00").unwrap();
        assert_eq!(c.next_after(at(2026, 12, 4, 1, 59)), Some(at(2026, 12, 4, 2, 0)));
        assert_eq!(c.next_after(at(2026, 12, 4, 2, 0)), Some(at(2026, 12, 5, 2, 0)));
        assert_eq!(c.next_after(at(2026, 12, 31, 3, 0)), Some(at(2027, 1, 1, 2, 0)));
    }

    #[test]
    fn weekly_names_its_day_in_any_case() {
        let c = Cadence::parse("Weekly MONDAY 07:30").unwrap();
        // 2026-12-04 is a Friday.
        assert_eq!(c.next_after(at(2026, 12, 4, 12, 0)), Some(at(2026, 12, 7, 7, 30)));
    }

    #[test]
    fn every_n_minutes_and_cron_fields() {
        let c = Cadence::parse("every 15 minutes").unwrap();
        assert_eq!(c.next_after(at(2026, 12, 4, 12, 7)), Some(at(2026, 12, 4, 12, 15)));
        let c = Cadence::parse("30 6 * * 1-5").unwrap();
        assert_eq!(c.next_after(at(2026, 12, 4, 7, 0)), Some(at(2026, 12, 7, 6, 30)));
        assert_eq!(c.as_str(), "30 6 * * 1-5");
    }

    #[test]
    fn nonsense_is_refused_naming_the_field() {
        for bad in [
            "",
            "daily",
            "daily 25:00",
            "weekly someday 07:00",
            "every 0 minutes",
            "1 2 3",
            "a b c d e",
        ] {
            let e = Cadence::parse(bad).unwrap_err();
            assert_eq!(e.errors[0].field, "cadence", "{bad}");
        }
    }
}
