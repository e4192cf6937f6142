//! Business hours and the agreed-time clock of a support question.
//!
//! A [`BusinessCalendar`] says when the support desk is open: opening spans per weekday in
//! wall-clock time of one IANA zone, holidays (a date, or a month and day every year) and
//! special days with hours of their own (a half day on Christmas Eve). Everything else is
//! closed. Agreed times (answer within 4 hours, solve within 2 days) count open time only.
//!
//! The model behind every computation: each local day's spans are turned into UTC instants
//! once, and the open instants are the union of those spans. `open_between`, `add_open`,
//! `is_open` and `next_open` all read that one union, so they agree with each other to the
//! nanosecond (the property tests below hold them to it). A computation walks day by day, never
//! minute by minute: a breach check costs a few days' spans, not thousands of steps.
//!
//! Wall-clock hours mean that on the day clocks go forward or back, 08:00–17:00 is still nine
//! hours. A local time the change of clocks skips (02:30 on the last Sunday of March in
//! Stockholm) is taken as the first instant after the gap (03:00 summer time); a local time that
//! happens twice (02:30 on the last Sunday of October) as its earlier instant. Both are one rule:
//! a local time is the first instant at which the clock on the wall shows it or later.
//!
//! Days outside the years 1900 to 2199 are closed, and no search looks further than
//! [`HORIZON_DAYS`] ahead, so no input, however odd, makes a computation long.
//!
//! [`AgreedTime`] is the clock of one agreed time: when it started, how long was agreed, and the
//! spans it stood still (waiting on the requester or on a vendor). Its [`SlaState`] says whether
//! it is running, close to its end, stopped, or breached.

use crate::error::{Error, FieldError, Result};
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// How far ahead a search for open time looks (ten years) before it gives up: a calendar that
/// never opens must answer "never", not loop.
pub const HORIZON_DAYS: u64 = 3653;

/// The first and last local days that can be open. Before and after them the calendar is
/// closed, which bounds the days any computation walks.
const FIRST_DAY: NaiveDate = ymd(1900, 1, 1);
const LAST_DAY: NaiveDate = ymd(2199, 12, 31);
/// Instants are clamped to a little more than those days before they are turned into local
/// time: a local day is then always well inside what chrono can represent.
const FLOOR: NaiveDate = ymd(1899, 12, 30);
const CEILING: NaiveDate = ymd(2200, 1, 2);

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A wall-clock time of day to the minute, from 00:00 to 24:00 (24:00 ends a span that runs to
/// midnight). Written as `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: Self = Self(0);
    pub const END_OF_DAY: Self = Self(MINUTES_PER_DAY);

    /// `hour:minute`, if it is a time of day (24:00 included).
    pub fn hm(hour: u16, minute: u16) -> Option<Self> {
        let fits = minute < 60 && (hour < 24 || (hour == 24 && minute == 0));
        fits.then(|| Self(hour * 60 + minute))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl FromStr for ClockTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let digits = |t: &str, widths: std::ops::RangeInclusive<usize>| {
            (widths.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u16>().ok())
                .flatten()
        };
        s.split_once(':')
            .and_then(|(h, m)| Self::hm(digits(h, 1..=2)?, digits(m, 2..=2)?))
            .ok_or_else(|| format!("{s:?} is not a time of day such as 08:00 (HH:MM, 00:00 to 24:00)"))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One stretch of a day the desk is open, from `start` up to (not including) `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSpan {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl OpenSpan {
    pub fn new(start: ClockTime, end: ClockTime) -> Self {
        Self { start, end }
    }
}

impl fmt::Display for OpenSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.start, self.end)
    }
}

/// The opening spans of each weekday; a day left out is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekHours {
    #[serde(default)]
    pub monday: Vec<OpenSpan>,
    #[serde(default)]
    pub tuesday: Vec<OpenSpan>,
    #[serde(default)]
    pub wednesday: Vec<OpenSpan>,
    #[serde(default)]
    pub thursday: Vec<OpenSpan>,
    #[serde(default)]
    pub friday: Vec<OpenSpan>,
    #[serde(default)]
    pub saturday: Vec<OpenSpan>,
    #[serde(default)]
    pub sunday: Vec<OpenSpan>,
}

impl WeekHours {
    pub fn on(&self, weekday: Weekday) -> &[OpenSpan] {
        match weekday {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }

    /// Each weekday with its field name, for messages that point at the field.
    fn named(&self) -> [(&'static str, &[OpenSpan]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// A day a holiday or a special day falls on: one date (`2025-06-06`) or a month and day every
/// year (`12-25`; `02-29` only in leap years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateRule {
    On(NaiveDate),
    Yearly { month: u32, day: u32 },
}

impl DateRule {
    pub fn matches(self, date: NaiveDate) -> bool {
        match self {
            Self::On(d) => d == date,
            Self::Yearly { month, day } => date.month() == month && date.day() == day,
        }
    }

    fn is_dated(self) -> bool {
        matches!(self, Self::On(_))
    }
}

impl FromStr for DateRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || format!("{s:?} is neither a date such as 2025-06-06 nor a yearly date such as 12-25");
        match s.split('-').count() {
            3 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Self::On)
                .map_err(|_| wrong()),
            2 => {
                let (month, day) = s.split_once('-').ok_or_else(wrong)?;
                let number = |t: &str| {
                    (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| t.parse::<u32>().ok())
                        .flatten()
                };
                let (month, day) = (number(month).ok_or_else(wrong)?, number(day).ok_or_else(wrong)?);
                // A leap year, so that 02-29 is a day (it matches only in leap years).
                NaiveDate::from_ymd_opt(2000, month, day)
                    .map(|_| Self::Yearly { month, day })
                    .ok_or_else(wrong)
            }
            _ => Err(wrong()),
        }
    }
}

impl fmt::Display for DateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::On(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Self::Yearly { month, day } => write!(f, "{month:02}-{day:02}"),
        }
    }
}

impl Serialize for DateRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A day with hours of its own instead of its weekday's (no hours: closed, like a holiday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialDay {
    pub day: DateRule,
    #[serde(default)]
    pub hours: Vec<OpenSpan>,
}

// ---------- as people type them (the settings form) ----------

impl FromStr for OpenSpan {
    type Err = String;

    /// `08:00–17:00` (an en dash, a hyphen or an em dash; spaces around it are fine).
    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || format!("{s:?} is not opening hours such as 08:00–17:00");
        let (start, end) = s.split_once(['–', '-', '—']).ok_or_else(wrong)?;
        let start = start.trim().parse().map_err(|_| wrong())?;
        let end = end.trim().parse().map_err(|_| wrong())?;
        Ok(Self::new(start, end))
    }
}

/// A day's opening spans as written: `08:00–12:00, 13:00–17:00`; empty (or blank) is closed.
///
/// # Errors
///
/// The first span that is not `HH:MM–HH:MM`. Whether the spans make sense (each ends after it
/// starts, none overlap) is [`BusinessCalendar::check`]'s to say.
pub fn parse_spans(text: &str) -> Result<Vec<OpenSpan>, String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// Spans as [`parse_spans`] reads them back.
pub fn spans_text(spans: &[OpenSpan]) -> String {
    spans.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl FromStr for SpecialDay {
    type Err = String;

    /// A day and its hours: `12-24 08:00–12:00`, `2026-12-31 09:00–12:00, 13:00–15:00`; a day
    /// alone has no hours (closed).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (day, hours) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
        Ok(Self {
            day: day.parse()?,
            hours: parse_spans(hours)?,
        })
    }
}

impl fmt::Display for SpecialDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hours.is_empty() {
            write!(f, "{}", self.day)
        } else {
            write!(f, "{} {}", self.day, spans_text(&self.hours))
        }
    }
}

/// The names of the time zones a calendar may be in (IANA's, such as `Europe/Stockholm`).
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())
}

/// An agreed time as written: `4h`, `90m`, `1h 30m`, `1h30m` or plain minutes (`90`). Upper or
/// lower case, spaces between a number and its unit allowed, hours before minutes, each once.
/// Zero is read (whether it is allowed is the settings' rule, not the reading's).
///
/// # Errors
///
/// Anything else, and a time too long to count in minutes.
pub fn parse_duration_minutes(text: &str) -> Result<i64, String> {
    let wrong = || format!("{text:?} is not a time such as 4h, 90m or 1h 30m");
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err(wrong());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| wrong());
    }
    let mut rest = t.as_str();
    let mut total: i64 = 0;
    // The largest unit still allowed: hours, then minutes; a unit may not come back.
    let mut allowed = 2;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, after) = rest.split_at(digits);
        let n: i64 = number.parse().map_err(|_| wrong())?;
        let after = after.trim_start();
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let (rank, per) = match unit {
            "h" => (2, 60),
            "m" | "min" => (1, 1),
            _ => return Err(wrong()),
        };
        if rank > allowed {
            return Err(wrong());
        }
        allowed = rank - 1;
        total = n
            .checked_mul(per)
            .and_then(|m| total.checked_add(m))
            .ok_or_else(wrong)?;
        rest = after.trim_start();
    }
    Ok(total)
}

/// An agreed time as people read it and [`parse_duration_minutes`] reads it back: `4h`,
/// `1h 30m`, `45m`.
pub fn duration_text(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// When the support desk is open. A field left out of the JSON takes the default's value
/// (Monday to Friday 08:00–17:00, Europe/Stockholm, no holidays).
///
/// What decides a day, most specific first: a special day on that date, a holiday on that
/// date, a yearly special day, a yearly holiday, the weekday's hours. [`check`](Self::check)
/// refuses two rules of the same rank for one day; unchecked, the first special day wins and a
/// holiday beats a special day of the same rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessCalendar {
    #[serde(with = "zone_name")]
    pub time_zone: Tz,
    pub hours: WeekHours,
    pub holidays: Vec<DateRule>,
    pub special_days: Vec<SpecialDay>,
}

mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("{name:?} is not a time zone such as Europe/Stockholm")))
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        let day = vec![OpenSpan::new(ClockTime(8 * 60), ClockTime(17 * 60))];
        Self {
            time_zone: chrono_tz::Europe::Stockholm,
            hours: WeekHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day,
                saturday: Vec::new(),
                sunday: Vec::new(),
            },
            holidays: Vec::new(),
            special_days: Vec::new(),
        }
    }
}

/// Open spans of one or more days as UTC instants, `[start, end)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

impl BusinessCalendar {
    /// A calendar from JSON as an administrator writes it, checked: an error names the field
    /// (`hours.monday[1].end`, `time_zone`, `holidays[2]`). A time that is not `HH:MM` or a
    /// zone that does not exist is caught while reading, the rest by [`check`](Self::check).
    ///
    /// # Errors
    ///
    /// A validation error naming the first field that cannot be read, or every field `check`
    /// refuses.
    pub fn parse(json: serde_json::Value) -> Result<Self> {
        let calendar: Self = crate::service::from_body(json)?;
        calendar.check()?;
        Ok(calendar)
    }

    /// Whether the calendar makes sense: every span ends after it starts, no two spans of a day
    /// overlap, no day has two rules of the same rank, and the week has open time somewhere
    /// (otherwise no agreed time could ever fall due).
    ///
    /// # Errors
    ///
    /// A validation error with every offence, each named by its field (`hours.monday[1].end`).
    pub fn check(&self) -> Result<()> {
        let mut errors = Vec::new();
        for (name, spans) in self.hours.named() {
            check_spans(&format!("hours.{name}"), spans, &mut errors);
        }
        let week_opens = self
            .hours
            .named()
            .iter()
            .any(|(_, spans)| spans.iter().any(|s| s.start < s.end));
        if !week_opens {
            errors.push(FieldError::new(
                "hours",
                "no day of the week has open hours, so no agreed time could ever fall due",
            ));
        }
        for (i, special) in self.special_days.iter().enumerate() {
            check_spans(&format!("special_days[{i}].hours"), &special.hours, &mut errors);
            if let Some(j) = self.special_days.iter().take(i).position(|o| o.day == special.day) {
                errors.push(FieldError::new(
                    format!("special_days[{i}].day"),
                    format!("{} has hours of its own already (special_days[{j}])", special.day),
                ));
            }
            if let Some(j) = self.holidays.iter().position(|h| *h == special.day) {
                errors.push(FieldError::new(
                    format!("special_days[{i}].day"),
                    format!("{} is a holiday too (holidays[{j}])", special.day),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Open time between two instants; zero if `to` is not after `from`.
    pub fn open_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        // A day's spans can reach into the next local day (a span to 24:00, a gap at midnight),
        // so the day after `to`'s is looked at as well.
        let last = self.local_date(to).succ_opt().unwrap_or(LAST_DAY);
        self.spans_from(from, last)
            .take_while(|(start, _)| *start < to)
            .map(|(start, end)| end.min(to) - start.max(from))
            .filter(|d| *d > Duration::zero())
            .fold(Duration::zero(), |sum, d| sum + d)
    }

    /// The instant at which `d` of open time has passed since `from`.
    ///
    /// A duration of zero (or less) is `from` itself, even when the desk is closed then: "due
    /// after nothing" is due at once, and `add_open(add_open(t, a), b) == add_open(t, a + b)`
    /// holds for every `a` and `b` of zero or more. Where the time runs out at the end of a span, the answer is
    /// that end (17:00 on Friday), not the next opening. `None` when the time is not reached
    /// within [`HORIZON_DAYS`] of `from`.
    pub fn add_open(&self, from: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
        if d <= Duration::zero() {
            return Some(from);
        }
        if !self.ever_opens() {
            return None;
        }
        let mut left = d;
        for (start, end) in self.spans_from(from, self.horizon(from)) {
            let start = start.max(from);
            if start >= end {
                continue;
            }
            let here = end - start;
            if left <= here {
                return start.checked_add_signed(left);
            }
            left -= here;
        }
        None
    }

    /// Whether the desk is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        // Where clocks go back over midnight, an instant of the repeated hour reads as the day
        // before while the next day's spans have begun; so that day is looked at too.
        let last = self.local_date(at).succ_opt().unwrap_or(LAST_DAY);
        self.spans_from(at, last)
            .take_while(|(start, _)| *start <= at)
            .any(|(_, end)| at < end)
    }

    /// The first open instant at or after `at` (`at` itself when open); `None` when the desk
    /// does not open within [`HORIZON_DAYS`].
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.ever_opens() {
            return None;
        }
        self.spans_from(at, self.horizon(at))
            .find(|(_, end)| *end > at)
            .map(|(start, _)| start.max(at))
    }

    /// Whether any day could have open time: the cheap answer for a calendar with no hours.
    fn ever_opens(&self) -> bool {
        let some = |spans: &[OpenSpan]| spans.iter().any(|s| s.start < s.end);
        self.hours.named().iter().any(|(_, spans)| some(spans)) || self.special_days.iter().any(|s| some(&s.hours))
    }

    fn horizon(&self, from: DateTime<Utc>) -> NaiveDate {
        self.local_date(from)
            .checked_add_days(Days::new(HORIZON_DAYS))
            .map_or(LAST_DAY, |d| d.min(LAST_DAY))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let floor = FLOOR.and_time(NaiveTime::MIN).and_utc();
        let ceiling = CEILING.and_time(NaiveTime::MIN).and_utc();
        self.time_zone
            .from_utc_datetime(&t.clamp(floor, ceiling).naive_utc())
            .date_naive()
    }

    /// The open spans of the local days from `from`'s to `last`, in order. Spans of earlier
    /// days all end by the first instant of `from`'s day, so none of them can matter.
    fn spans_from(&self, from: DateTime<Utc>, last: NaiveDate) -> OpenSpans<'_> {
        OpenSpans {
            calendar: self,
            next_day: Some(self.local_date(from)),
            last,
            pending: Vec::new().into_iter(),
        }
    }

    /// The local spans that decide a day (see the type's documentation for the ranks).
    fn hours_on(&self, day: NaiveDate) -> &[OpenSpan] {
        let special = |dated: bool| {
            self.special_days
                .iter()
                .find(|s| s.day.is_dated() == dated && s.day.matches(day))
        };
        let holiday = |dated: bool| self.holidays.iter().any(|h| h.is_dated() == dated && h.matches(day));
        if let Some(s) = special(true) {
            return &s.hours;
        }
        if holiday(true) {
            return &[];
        }
        if let Some(s) = special(false) {
            return &s.hours;
        }
        if holiday(false) {
            return &[];
        }
        self.hours.on(day.weekday())
    }

    /// One local day's open spans as instants, sorted and merged: an unchecked calendar's
    /// overlapping or reversed spans still give one clean set of open instants.
    fn spans_on(&self, day: NaiveDate) -> Vec<Span> {
        if !(FIRST_DAY..=LAST_DAY).contains(&day) {
            return Vec::new();
        }
        let mut spans: Vec<Span> = self
            .hours_on(day)
            .iter()
            .filter(|s| s.start < s.end)
            .filter_map(|s| {
                let start = local_instant(self.time_zone, day, s.start)?;
                let end = local_instant(self.time_zone, day, s.end)?;
                // A span wholly inside a skipped hour is no time at all.
                (start < end).then_some((start, end))
            })
            .collect();
        spans.sort_unstable();
        spans.dedup_by(|later, kept| {
            if later.0 <= kept.1 {
                kept.1 = kept.1.max(later.1);
                true
            } else {
                false
            }
        });
        spans
    }
}

/// The open spans of successive local days, as instants.
struct OpenSpans<'a> {
    calendar: &'a BusinessCalendar,
    next_day: Option<NaiveDate>,
    last: NaiveDate,
    pending: std::vec::IntoIter<Span>,
}

impl Iterator for OpenSpans<'_> {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        loop {
            if let Some(span) = self.pending.next() {
                return Some(span);
            }
            let day = self.next_day.filter(|d| *d <= self.last && *d <= LAST_DAY)?;
            self.next_day = day.succ_opt();
            self.pending = self.calendar.spans_on(day).into_iter();
        }
    }
}

fn check_spans(path: &str, spans: &[OpenSpan], errors: &mut Vec<FieldError>) {
    for (i, span) in spans.iter().enumerate() {
        if span.end <= span.start {
            errors.push(FieldError::new(
                format!("{path}[{i}].end"),
                format!("{} is not after the start, {}", span.end, span.start),
            ));
        }
    }
    for (j, later) in spans.iter().enumerate() {
        let overlapped = spans.iter().take(j).enumerate().find(|(_, earlier)| {
            earlier.start < earlier.end
                && later.start < later.end
                && earlier.start < later.end
                && later.start < earlier.end
        });
        if let Some((i, earlier)) = overlapped {
            errors.push(FieldError::new(
                format!("{path}[{j}]"),
                format!("{later} overlaps {earlier} ({path}[{i}])"),
            ));
        }
    }
}

/// The instant a local time of a local day stands for: the first instant at which the clock on
/// the wall shows it or later. That is the time itself on an ordinary day, the earlier of two on
/// the day clocks go back, and the end of the gap (the instant clocks jump) when they go
/// forward over it.
fn local_instant(zone: Tz, day: NaiveDate, time: ClockTime) -> Option<DateTime<Utc>> {
    let local = day
        .and_time(NaiveTime::MIN)
        .checked_add_signed(Duration::minutes(i64::from(time.minutes())))?;
    match zone.from_local_datetime(&local).earliest() {
        Some(t) => Some(t.with_timezone(&Utc)),
        None => end_of_gap(zone, local),
    }
}

/// The first instant whose wall-clock time is `local` or later, for a `local` that does not
/// exist. No offset is a day or more, so the instant lies within a day of `local` read as UTC;
/// a binary search to the second finds it (changes of clocks happen on whole seconds).
fn end_of_gap(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let wall = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0).map(|t| zone.from_utc_datetime(&t.naive_utc()).naive_local())
    };
    let middle = local.and_utc().timestamp();
    let (mut before, mut after) = (middle.checked_sub(86_400)?, middle.checked_add(86_400)?);
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if wall(mid)? >= local {
            after = mid;
        } else {
            before = mid;
        }
    }
    DateTime::from_timestamp(after, 0)
}

/// A span the agreed-time clock stood still, waiting on the requester or a vendor; without an
/// end it stands still yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// When a running clock is close enough to its end to warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarnAt {
    /// Less than this per cent of the agreed time is left (above 100 counts as 100).
    Share(u8),
    /// Less than this much open time is left.
    Left(Duration),
}

impl WarnAt {
    fn threshold(self, agreed: Duration) -> Duration {
        match self {
            Self::Share(per_cent) => agreed
                .checked_div(100)
                .and_then(|one| one.checked_mul(i32::from(per_cent.min(100))))
                .unwrap_or_else(Duration::zero),
            Self::Left(d) => d,
        }
    }
}

/// Where an agreed time stands at a moment. `left` is open time, not wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    Running {
        due: DateTime<Utc>,
        left: Duration,
    },
    /// Running, and less is left than the warning asks for.
    Warning {
        due: DateTime<Utc>,
        left: Duration,
    },
    /// Standing still: when it will fall due depends on when it runs again.
    Paused {
        left: Duration,
    },
    /// Ran out at `since`. A breach stays one while the clock is paused afterwards.
    Breached {
        since: DateTime<Utc>,
    },
    /// Running, but the calendar has not enough open time within [`HORIZON_DAYS`] for it to
    /// fall due (a calendar [`BusinessCalendar::check`] would refuse).
    NeverDue {
        left: Duration,
    },
}

/// One agreed time of a question: the clock started at `started`, `agreed` of open time was
/// promised, and it stood still during `pauses`.
///
/// Pauses may come in any order and overlap; they are merged. What is known at `now` counts: a
/// pause that starts after `now` has not happened, one that ends after `now` (or has no end) is
/// still going, and the parts of pauses before `started` mean nothing. Before `started` the clock
/// is running with all its time left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreedTime {
    pub started: DateTime<Utc>,
    pub agreed: Duration,
    pub pauses: Vec<Pause>,
}

/// When the clock reaches the agreed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    At(DateTime<Utc>),
    /// It stands still before reaching it.
    Stopped,
    /// Not within the horizon.
    Beyond,
}

impl AgreedTime {
    pub fn new(started: DateTime<Utc>, agreed: Duration) -> Self {
        Self {
            started,
            agreed,
            pauses: Vec::new(),
        }
    }

    /// Open time the clock has run by `now`, pauses left out.
    pub fn elapsed(&self, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Duration {
        self.runs(now)
            .iter()
            .map(|&(start, end)| calendar.open_between(start, end.map_or(now, |e| e.min(now))))
            .fold(Duration::zero(), |sum, d| sum + d)
    }

    /// When the agreed time runs out, as far as it is known at `now`: pushed out by the pauses
    /// so far, and `None` while the clock stands still before running out (its end depends on
    /// when it runs again) or when the calendar gives it no end. An instant already past is a
    /// breach.
    pub fn due(&self, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.reach(calendar, now) {
            Reach::At(due) => Some(due),
            Reach::Stopped | Reach::Beyond => None,
        }
    }

    /// Where the clock stands at `now`; a breach from the instant it runs out (`now == due` is
    /// breached: no time is left).
    pub fn state(&self, calendar: &BusinessCalendar, now: DateTime<Utc>, warn: WarnAt) -> SlaState {
        let reach = self.reach(calendar, now);
        if let Reach::At(due) = reach
            && due <= now
        {
            return SlaState::Breached { since: due };
        }
        let left = (self.agreed - self.elapsed(calendar, now)).max(Duration::zero());
        match reach {
            Reach::Stopped => SlaState::Paused { left },
            Reach::Beyond => SlaState::NeverDue { left },
            Reach::At(due) if left < warn.threshold(self.agreed) => SlaState::Warning { due, left },
            Reach::At(due) => SlaState::Running { due, left },
        }
    }

    fn reach(&self, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Reach {
        if self.agreed <= Duration::zero() {
            return Reach::At(self.started);
        }
        let mut counted = Duration::zero();
        for (start, end) in self.runs(now) {
            let Some(end) = end else {
                return calendar
                    .add_open(start, self.agreed - counted)
                    .map_or(Reach::Beyond, Reach::At);
            };
            let here = calendar.open_between(start, end);
            if counted + here >= self.agreed {
                return calendar
                    .add_open(start, self.agreed - counted)
                    .map_or(Reach::Beyond, Reach::At);
            }
            counted += here;
        }
        Reach::Stopped
    }

    /// The spans the clock runs, `[start, end)`, in order; the last has no end unless the clock
    /// stands still at `now`.
    fn runs(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        if now < self.started {
            return vec![(self.started, None)];
        }
        // A pause still going stands still for ever as far as `now` knows.
        let mut stops: Vec<Span> = self
            .pauses
            .iter()
            .filter(|p| p.start <= now)
            .filter_map(|p| {
                let start = p.start.max(self.started);
                let end = match p.end {
                    Some(end) if end <= now => end,
                    _ => DateTime::<Utc>::MAX_UTC,
                };
                (start < end).then_some((start, end))
            })
            .collect();
        stops.sort_unstable();
        let mut runs = Vec::with_capacity(stops.len() + 1);
        let mut cursor = self.started;
        for (start, end) in stops {
            if start > cursor {
                runs.push((cursor, Some(start)));
            }
            cursor = cursor.max(end);
        }
        if cursor < DateTime::<Utc>::MAX_UTC {
            runs.push((cursor, None));
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;
    use proptest::prelude::*;
    use std::time::Instant;

    fn t(s: &str) -> ClockTime {
        s.parse().unwrap()
    }

    fn span(start: &str, end: &str) -> OpenSpan {
        OpenSpan::new(t(start), t(end))
    }

    #[test]
    fn agreed_times_read_as_people_write_them() {
        for (text, minutes) in [
            ("4h", 240),
            ("90m", 90),
            ("1h 30m", 90),
            ("1h30m", 90),
            (" 2 H 5 min ", 125),
            ("90", 90),
            ("0", 0),
            ("0m", 0),
        ] {
            assert_eq!(parse_duration_minutes(text), Ok(minutes), "{text}");
        }
        for bad in [
            "",
            " ",
            "h",
            "4x",
            "1.5h",
            "-4h",
            "30m 1h",
            "1h 2h",
            "4 hours",
            "99999999999999999999h",
        ] {
            assert!(parse_duration_minutes(bad).is_err(), "{bad:?} was read");
        }
        for m in [1, 45, 60, 90, 240, 5400, 525_600] {
            assert_eq!(parse_duration_minutes(&duration_text(m)), Ok(m), "{m}");
        }
        assert_eq!(duration_text(90), "1h 30m");
        assert_eq!(duration_text(240), "4h");
        assert_eq!(duration_text(45), "45m");
    }

    #[test]
    fn spans_and_special_days_read_back_as_written() {
        assert_eq!(parse_spans(""), Ok(vec![]));
        assert_eq!(
            parse_spans("08:00-12:00, 13:00 – 17:00"),
            Ok(vec![span("08:00", "12:00"), span("13:00", "17:00")])
        );
        assert!(parse_spans("8-17").is_err());
        assert!(parse_spans("08:00").is_err());
        let spans = vec![span("08:00", "12:00"), span("13:00", "24:00")];
        assert_eq!(parse_spans(&spans_text(&spans)), Ok(spans));
        let half: SpecialDay = "12-24 08:00–12:00".parse().unwrap();
        assert_eq!(half.day, DateRule::Yearly { month: 12, day: 24 });
        assert_eq!(half.hours, vec![span("08:00", "12:00")]);
        assert_eq!(half.to_string().parse::<SpecialDay>(), Ok(half));
        let closed: SpecialDay = "2026-12-31".parse().unwrap();
        assert!(closed.hours.is_empty());
        assert_eq!(closed.to_string(), "2026-12-31");
        assert!("12-32 08:00–12:00".parse::<SpecialDay>().is_err());
        assert!("12-24 noon".parse::<SpecialDay>().is_err());
        assert!(zone_names().any(|z| z == "Europe/Stockholm"));
    }

    /// Monday to Friday 08:00–12:00 and 13:00–17:00 in Stockholm.
    fn lunch_calendar() -> BusinessCalendar {
        let day = vec![span("08:00", "12:00"), span("13:00", "17:00")];
        BusinessCalendar {
            hours: WeekHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day,
                ..WeekHours::default()
            },
            ..BusinessCalendar::default()
        }
    }

    /// Every day 08:00–12:00 and 13:00–17:00, Sundays (when clocks change) too.
    fn every_day_lunch() -> BusinessCalendar {
        let day = vec![span("08:00", "12:00"), span("13:00", "17:00")];
        every_day(day)
    }

    fn every_day(day: Vec<OpenSpan>) -> BusinessCalendar {
        BusinessCalendar {
            hours: WeekHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day.clone(),
                saturday: day.clone(),
                sunday: day,
            },
            ..BusinessCalendar::default()
        }
    }

    /// A Stockholm wall-clock time that exists once.
    fn sthlm(s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        Stockholm
            .from_local_datetime(&local)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hours(h: i64) -> Duration {
        Duration::hours(h)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn local_day(zone: Tz, d: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_instant(zone, d, ClockTime::MIDNIGHT).unwrap(),
            local_instant(zone, d, ClockTime::END_OF_DAY).unwrap(),
        )
    }

    #[test]
    fn friday_afternoon_question_is_due_monday_before_lunch() {
        let cal = lunch_calendar();
        // 16–17 on Friday, 08–11 on Monday.
        let due = cal.add_open(sthlm("2025-03-14 16:00"), hours(4));
        assert_eq!(due, Some(sthlm("2025-03-17 11:00")));
        assert_eq!(
            cal.open_between(sthlm("2025-03-14 16:00"), sthlm("2025-03-17 11:00")),
            hours(4)
        );
    }

    #[test]
    fn a_holiday_monday_moves_it_to_tuesday() {
        let mut cal = lunch_calendar();
        cal.holidays.push(DateRule::On(day("2025-03-17")));
        assert_eq!(
            cal.add_open(sthlm("2025-03-14 16:00"), hours(4)),
            Some(sthlm("2025-03-18 11:00"))
        );
    }

    #[test]
    fn christmas_eve_is_a_half_day_and_christmas_closed() {
        let mut cal = lunch_calendar();
        cal.holidays = vec!["12-25".parse().unwrap(), "12-26".parse().unwrap()];
        cal.special_days = vec![SpecialDay {
            day: "12-24".parse().unwrap(),
            hours: vec![span("08:00", "12:00")],
        }];
        cal.check().unwrap();
        // Tuesday 15–17, then 08–10 on Christmas Eve.
        assert_eq!(
            cal.add_open(sthlm("2025-12-23 15:00"), hours(4)),
            Some(sthlm("2025-12-24 10:00"))
        );
        // 11–12 on Christmas Eve; Thursday and Friday are holidays, then the weekend.
        assert_eq!(
            cal.add_open(sthlm("2025-12-24 11:00"), hours(2)),
            Some(sthlm("2025-12-29 09:00"))
        );
        assert!(!cal.is_open(sthlm("2025-12-24 13:30")));
        assert_eq!(
            cal.next_open(sthlm("2025-12-24 13:30")),
            Some(sthlm("2025-12-29 08:00"))
        );
    }

    #[test]
    fn a_dated_special_day_beats_a_yearly_holiday() {
        let mut cal = lunch_calendar();
        cal.holidays = vec!["12-24".parse().unwrap()];
        cal.special_days = vec![SpecialDay {
            day: DateRule::On(day("2025-12-24")),
            hours: vec![span("09:00", "10:00")],
        }];
        cal.check().unwrap();
        let (start, end) = local_day(Stockholm, day("2025-12-24"));
        assert_eq!(cal.open_between(start, end), hours(1));
        let (start, end) = local_day(Stockholm, day("2026-12-24"));
        assert_eq!(cal.open_between(start, end), Duration::zero());
    }

    #[test]
    fn a_pause_over_the_weekend_changes_nothing() {
        let cal = lunch_calendar();
        let mut question = AgreedTime::new(sthlm("2025-03-14 16:00"), hours(4));
        question.pauses.push(Pause {
            start: sthlm("2025-03-14 17:00"),
            end: Some(sthlm("2025-03-17 08:00")),
        });
        let now = sthlm("2025-03-17 09:00");
        assert_eq!(question.due(&cal, now), Some(sthlm("2025-03-17 11:00")));
        assert_eq!(question.elapsed(&cal, now), hours(2));
    }

    #[test]
    fn a_pause_in_business_hours_pushes_the_deadline_by_its_open_length() {
        let cal = lunch_calendar();
        let mut question = AgreedTime::new(sthlm("2025-03-14 16:00"), hours(4));
        // 1 h 15 of open time; the rest of the time then runs over lunch to 13:15.
        question.pauses.push(Pause {
            start: sthlm("2025-03-17 08:30"),
            end: Some(sthlm("2025-03-17 09:45")),
        });
        let now = sthlm("2025-03-17 10:00");
        assert_eq!(question.due(&cal, now), Some(sthlm("2025-03-17 13:15")));
        assert_eq!(
            cal.open_between(sthlm("2025-03-17 11:00"), sthlm("2025-03-17 13:15")),
            Duration::minutes(75)
        );
    }

    #[test]
    fn clocks_going_forward_or_back_keep_eight_business_hours() {
        let cal = every_day_lunch();
        for sunday in ["2025-03-30", "2025-10-26", "2024-03-31", "2024-10-27"] {
            let (start, end) = local_day(Stockholm, day(sunday));
            assert_eq!(cal.open_between(start, end), hours(8), "{sunday}");
        }
        // Round the clock, the same days are 23 and 25 hours long.
        let always = every_day(vec![span("00:00", "24:00")]);
        let (start, end) = local_day(Stockholm, day("2025-03-30"));
        assert_eq!(always.open_between(start, end), hours(23));
        let (start, end) = local_day(Stockholm, day("2025-10-26"));
        assert_eq!(always.open_between(start, end), hours(25));
    }

    #[test]
    fn a_skipped_time_starts_after_the_gap_and_a_doubled_one_at_its_first() {
        let cal = every_day(vec![span("02:30", "04:00")]);
        // 02:30 does not exist on 30 March 2025: the span starts at 03:00 summer time.
        let (start, end) = local_day(Stockholm, day("2025-03-30"));
        assert_eq!(cal.open_between(start, end), hours(1));
        assert_eq!(cal.next_open(start), Some(sthlm("2025-03-30 03:00")));
        // 02:30 happens twice on 26 October 2025: the span starts at the first (00:30 UTC).
        let (start, end) = local_day(Stockholm, day("2025-10-26"));
        assert_eq!(cal.open_between(start, end), Duration::minutes(150));
        let first = Utc.with_ymd_and_hms(2025, 10, 26, 0, 30, 0).unwrap();
        assert_eq!(cal.next_open(start), Some(first));
    }

    #[test]
    fn adding_nothing_stays_put_even_when_closed() {
        let cal = lunch_calendar();
        let saturday = sthlm("2025-03-15 10:00");
        assert_eq!(cal.add_open(saturday, Duration::zero()), Some(saturday));
        assert_eq!(cal.add_open(saturday, Duration::seconds(-5)), Some(saturday));
        // The time runs out at a span's end, not at the next opening.
        assert_eq!(
            cal.add_open(sthlm("2025-03-14 16:00"), hours(1)),
            Some(sthlm("2025-03-14 17:00"))
        );
    }

    #[test]
    fn a_calendar_with_no_hours_is_refused_and_never_falls_due() {
        let cal = BusinessCalendar {
            hours: WeekHours::default(),
            ..BusinessCalendar::default()
        };
        let error = cal.check().unwrap_err();
        assert_eq!(error.errors[0].field, "hours");
        let clock = Instant::now();
        assert_eq!(cal.add_open(sthlm("2025-03-14 16:00"), hours(1)), None);
        assert_eq!(cal.next_open(sthlm("2025-03-14 16:00")), None);
        // Hours that are all holidays: the search stops at the horizon.
        let mut closed = lunch_calendar();
        closed.holidays = (1..=12)
            .flat_map(|month| (1..=31).map(move |day| DateRule::Yearly { month, day }))
            .collect();
        assert_eq!(closed.add_open(sthlm("2025-03-14 16:00"), hours(1)), None);
        assert!(clock.elapsed() < std::time::Duration::from_secs(2));
        let question = AgreedTime::new(sthlm("2025-03-14 16:00"), hours(1));
        assert_eq!(
            question.state(&cal, sthlm("2025-03-20 16:00"), WarnAt::Share(20)),
            SlaState::NeverDue { left: hours(1) }
        );
    }

    #[test]
    fn check_names_each_offending_field() {
        let mut cal = lunch_calendar();
        cal.hours.monday = vec![span("08:00", "12:00"), span("13:00", "12:30"), span("11:00", "14:00")];
        cal.special_days = vec![
            SpecialDay {
                day: "12-24".parse().unwrap(),
                hours: vec![span("08:00", "12:00")],
            },
            SpecialDay {
                day: "12-24".parse().unwrap(),
                hours: Vec::new(),
            },
        ];
        cal.holidays = vec!["12-24".parse().unwrap()];
        let fields: Vec<String> = cal.check().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "hours.monday[1].end",
                "hours.monday[2]",
                "special_days[0].day",
                "special_days[1].day",
                "special_days[1].day",
            ]
        );
        assert!(lunch_calendar().check().is_ok());
        assert!(BusinessCalendar::default().check().is_ok());
    }

    #[test]
    fn reading_json_names_a_bad_time_zone_or_date() {
        let field = |json: serde_json::Value| BusinessCalendar::parse(json).unwrap_err().errors[0].field.clone();
        let bad_time = serde_json::json!({"hours": {"monday": [{"start": "08:00", "end": "17:00"}, {"start": "8:7x", "end": "19:00"}]}});
        assert_eq!(field(bad_time), "hours.monday[1].start");
        assert_eq!(field(serde_json::json!({"time_zone": "Mars/Olympus"})), "time_zone");
        assert_eq!(
            field(serde_json::json!({"holidays": ["2025-06-06", "13-01"]})),
            "holidays[1]"
        );
        let reversed = serde_json::json!({"hours": {"friday": [{"start": "17:00", "end": "08:00"}]}});
        assert_eq!(field(reversed), "hours.friday[0].end");
        assert_eq!(field(serde_json::json!({"hours": {}})), "hours");

        let cal = BusinessCalendar::parse(serde_json::json!({
            "time_zone": "Europe/Oslo",
            "holidays": ["2025-06-06", "12-25", "02-29"],
            "special_days": [{"day": "12-24", "hours": [{"start": "08:00", "end": "12:00"}]}],
        }))
        .unwrap();
        assert_eq!(cal.time_zone, chrono_tz::Europe::Oslo);
        assert_eq!(cal.hours, BusinessCalendar::default().hours);
        let again = BusinessCalendar::parse(serde_json::to_value(&cal).unwrap()).unwrap();
        assert_eq!(again, cal);
        assert_eq!(
            serde_json::to_value(&cal).unwrap()["special_days"][0],
            serde_json::json!({"day": "12-24", "hours": [{"start": "08:00", "end": "12:00"}]})
        );
    }

    #[test]
    fn clock_times_and_dates_read_strictly() {
        assert_eq!("24:00".parse::<ClockTime>(), Ok(ClockTime::END_OF_DAY));
        assert_eq!("8:05".parse::<ClockTime>().map(ClockTime::minutes), Ok(485));
        for bad in [
            "24:01", "25:00", "08:60", "08:5", "0800", "-1:00", "08:00:00", "", "+8:00",
        ] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
        assert_eq!("02-29".parse::<DateRule>(), Ok(DateRule::Yearly { month: 2, day: 29 }));
        for bad in ["02-30", "2-3", "00-10", "2025-02-29", "12", "1-2-3-4", "ab-cd"] {
            assert!(bad.parse::<DateRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_state_runs_warns_pauses_and_breaches() {
        let cal = lunch_calendar();
        let question = AgreedTime::new(sthlm("2025-03-14 16:00"), hours(4));
        let due = sthlm("2025-03-17 11:00");
        let warn = WarnAt::Share(20);
        assert_eq!(
            question.state(&cal, sthlm("2025-03-15 12:00"), warn),
            SlaState::Running { due, left: hours(3) }
        );
        // 40 minutes of 4 hours is less than a fifth.
        assert_eq!(
            question.state(&cal, sthlm("2025-03-17 10:20"), warn),
            SlaState::Warning {
                due,
                left: Duration::minutes(40)
            }
        );
        assert_eq!(
            question.state(&cal, sthlm("2025-03-17 10:20"), WarnAt::Left(Duration::minutes(30))),
            SlaState::Running {
                due,
                left: Duration::minutes(40)
            }
        );
        assert_eq!(question.state(&cal, due, warn), SlaState::Breached { since: due });

        let mut waiting = question.clone();
        waiting.pauses.push(Pause {
            start: sthlm("2025-03-17 09:00"),
            end: None,
        });
        let now = sthlm("2025-03-18 15:00");
        assert_eq!(waiting.state(&cal, now, warn), SlaState::Paused { left: hours(2) });
        assert_eq!(waiting.due(&cal, now), None);
        // A pause after the breach does not undo it.
        let mut late = question.clone();
        late.pauses.push(Pause {
            start: sthlm("2025-03-17 14:00"),
            end: None,
        });
        assert_eq!(late.state(&cal, now, warn), SlaState::Breached { since: due });
        // A pause recorded to end later than now is still going.
        let mut until_later = question.clone();
        until_later.pauses.push(Pause {
            start: sthlm("2025-03-17 09:00"),
            end: Some(sthlm("2025-03-19 09:00")),
        });
        assert_eq!(until_later.state(&cal, now, warn), SlaState::Paused { left: hours(2) });
        // Before the clock starts, everything is left.
        assert_eq!(
            question.state(&cal, sthlm("2025-03-01 12:00"), warn),
            SlaState::Running { due, left: hours(4) }
        );
    }

    #[test]
    fn overlapping_and_unsorted_pauses_are_merged() {
        let cal = lunch_calendar();
        let mut question = AgreedTime::new(sthlm("2025-03-17 08:00"), hours(8));
        question.pauses = vec![
            Pause {
                start: sthlm("2025-03-17 10:00"),
                end: Some(sthlm("2025-03-17 11:00")),
            },
            Pause {
                start: sthlm("2025-03-17 09:00"),
                end: Some(sthlm("2025-03-17 10:30")),
            },
            // Before the clock started: only its part after the start counts.
            Pause {
                start: sthlm("2025-03-14 09:00"),
                end: Some(sthlm("2025-03-17 08:30")),
            },
            // Reversed: no time at all.
            Pause {
                start: sthlm("2025-03-17 15:00"),
                end: Some(sthlm("2025-03-17 14:00")),
            },
        ];
        // 08:30–09:00 and 11:00–12:00 and 13:00–17:00 = 5.5 h by 17:00.
        assert_eq!(
            question.elapsed(&cal, sthlm("2025-03-17 17:00")),
            Duration::minutes(330)
        );
        assert_eq!(
            question.due(&cal, sthlm("2025-03-17 17:00")),
            Some(sthlm("2025-03-18 10:30"))
        );
    }

    #[test]
    fn ten_thousand_breach_checks_are_cheap() {
        let cal = lunch_calendar();
        let now = sthlm("2025-03-20 10:00");
        let questions: Vec<AgreedTime> = (0..10_000_i64)
            .map(|i| {
                let started = now - Duration::minutes(i * 7 % (14 * 24 * 60));
                let mut q = AgreedTime::new(started, hours(4 + i % 36));
                if i % 3 == 0 {
                    q.pauses.push(Pause {
                        start: started + hours(2),
                        end: (i % 2 == 0).then(|| started + hours(20)),
                    });
                }
                q
            })
            .collect();
        let clock = Instant::now();
        let breached = questions
            .iter()
            .filter(|q| matches!(q.state(&cal, now, WarnAt::Share(20)), SlaState::Breached { .. }))
            .count();
        let took = clock.elapsed();
        assert!(breached > 0 && breached < questions.len());
        // Optimised builds must stay well under the second issue 23 allows; debug builds are
        // several times slower and share the machine, so they are only reported.
        if cfg!(debug_assertions) {
            println!("10,000 breach checks took {took:?} (debug build)");
        } else {
            assert!(took < std::time::Duration::from_secs(1), "{took:?}");
        }
    }

    // Property tests: random calendars (also unchecked ones with overlapping or reversed
    // spans), random zones with all kinds of clock changes, instants over twelve years with
    // extra weight on the months clocks change.

    const ZONES: [Tz; 8] = [
        chrono_tz::Europe::Stockholm,
        chrono_tz::America::New_York,
        // Clocks go back at midnight to 23:00.
        chrono_tz::America::Santiago,
        // Clocks change at midnight.
        chrono_tz::America::Havana,
        // A half-hour change.
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Pacific::Apia,
        chrono_tz::UTC,
    ];

    fn arb_spans() -> impl Strategy<Value = Vec<OpenSpan>> {
        prop::collection::vec((0..=MINUTES_PER_DAY, 0..=MINUTES_PER_DAY), 0..4).prop_map(|cuts| {
            cuts.into_iter()
                .map(|(a, b)| OpenSpan::new(ClockTime(a.min(b)), ClockTime(a.max(b))))
                .collect()
        })
    }

    fn arb_date() -> impl Strategy<Value = NaiveDate> {
        (2019..2031_i32, 1..=12_u32, 1..=28_u32).prop_map(|(y, m, d)| ymd(y, m, d))
    }

    fn arb_rule() -> impl Strategy<Value = DateRule> {
        prop_oneof![
            arb_date().prop_map(DateRule::On),
            (1..=12_u32, 1..=31_u32).prop_map(|(month, day)| DateRule::Yearly { month, day }),
        ]
    }

    fn arb_random_calendar() -> impl Strategy<Value = BusinessCalendar> {
        (
            prop::sample::select(ZONES.to_vec()),
            prop::collection::vec(arb_spans(), 7),
            prop::collection::vec(arb_rule(), 0..8),
            prop::collection::vec((arb_rule(), arb_spans()), 0..3),
        )
            .prop_map(|(time_zone, mut week, holidays, special)| {
                let mut next = || week.pop().unwrap_or_default();
                BusinessCalendar {
                    time_zone,
                    hours: WeekHours {
                        monday: next(),
                        tuesday: next(),
                        wednesday: next(),
                        thursday: next(),
                        friday: next(),
                        saturday: next(),
                        sunday: next(),
                    },
                    holidays,
                    special_days: special
                        .into_iter()
                        .map(|(day, hours)| SpecialDay { day, hours })
                        .collect(),
                }
            })
    }

    fn arb_calendar() -> impl Strategy<Value = BusinessCalendar> {
        prop_oneof![
            1 => Just(BusinessCalendar::default()),
            1 => Just(lunch_calendar()),
            1 => Just(every_day_lunch()),
            1 => prop::sample::select(ZONES.to_vec()).prop_map(|time_zone| BusinessCalendar {
                time_zone,
                ..every_day(vec![span("00:00", "24:00")])
            }),
            4 => arb_random_calendar(),
        ]
    }

    fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let month = prop_oneof![1..=12_u32, prop::sample::select(vec![3_u32, 4, 9, 10, 11])];
        (2019..2031_i32, month, 1..=28_u32, 0..86_400_i64, 0..1_000_i64).prop_map(|(y, m, d, s, ms)| {
            ymd(y, m, d).and_time(NaiveTime::MIN).and_utc() + Duration::seconds(s) + Duration::milliseconds(ms)
        })
    }

    fn arb_duration(max_hours: i64) -> impl Strategy<Value = Duration> {
        prop_oneof![
            1 => Just(Duration::zero()),
            8 => (0..max_hours * 3_600_000).prop_map(Duration::milliseconds),
        ]
    }

    fn arb_pauses(started: DateTime<Utc>) -> impl Strategy<Value = Vec<Pause>> {
        prop::collection::vec(
            (-86_400..40 * 86_400_i64, prop::option::weighted(0.8, 0..6 * 86_400_i64)),
            0..5,
        )
        .prop_map(move |spans| {
            spans
                .into_iter()
                .map(|(offset, length)| {
                    let start = started + Duration::seconds(offset);
                    Pause {
                        start,
                        end: length.map(|l| start + Duration::seconds(l)),
                    }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn open_time_added_is_open_time_between(cal in arb_calendar(), from in arb_instant(), d in arb_duration(200)) {
            if let Some(to) = cal.add_open(from, d) {
                prop_assert!(to >= from);
                prop_assert_eq!(cal.open_between(from, to), d);
            }
        }

        #[test]
        fn adding_in_two_steps_is_adding_once(
            cal in arb_calendar(), from in arb_instant(), a in arb_duration(100), b in arb_duration(100),
        ) {
            if let (Some(once), Some(mid)) = (cal.add_open(from, a + b), cal.add_open(from, a)) {
                prop_assert_eq!(cal.add_open(mid, b), Some(once));
            }
        }

        #[test]
        fn open_time_between_adds_up(cal in arb_calendar(), mut times in prop::collection::vec(arb_instant(), 3)) {
            times.sort();
            let (a, b, c) = (times[0], times[1], times[2]);
            prop_assert_eq!(cal.open_between(a, c), cal.open_between(a, b) + cal.open_between(b, c));
            prop_assert!(cal.open_between(a, c) <= c - a);
            prop_assert_eq!(cal.open_between(c, a), Duration::zero());
        }

        #[test]
        fn more_time_is_never_earlier(cal in arb_calendar(), from in arb_instant(), a in arb_duration(200), b in arb_duration(200)) {
            let (short, long) = (a.min(b), a.max(b));
            if let (Some(s), Some(l)) = (cal.add_open(from, short), cal.add_open(from, long)) {
                prop_assert!(s <= l);
            }
        }

        #[test]
        fn closed_time_adds_nothing(cal in arb_calendar(), at in arb_instant(), d in arb_duration(50)) {
            let next = cal.next_open(at);
            if cal.is_open(at) {
                prop_assert_eq!(next, Some(at));
            } else if let Some(next) = next {
                prop_assert!(next > at);
                prop_assert_eq!(cal.open_between(at, next), Duration::zero());
                prop_assert!(cal.is_open(next));
                if d > Duration::zero() {
                    prop_assert_eq!(cal.add_open(at, d), cal.add_open(next, d));
                }
            }
            // Open just after an open instant: it is in a span, and the span has length.
            if let Some(next) = next {
                prop_assert!(cal.open_between(next, next + Duration::days(1)) > Duration::zero());
            }
        }

        #[test]
        fn a_holiday_has_no_open_time(mut cal in arb_calendar(), date in arb_date(), per_mille in 0..1000_i32) {
            cal.holidays.push(DateRule::On(date));
            cal.special_days.retain(|s| s.day != DateRule::On(date));
            let (start, end) = local_day(cal.time_zone, date);
            prop_assert_eq!(cal.open_between(start, end), Duration::zero());
            let at = start + (end - start) / 1000 * per_mille;
            prop_assert!(!cal.is_open(at));
        }

        #[test]
        fn pauses_never_add_time(
            cal in arb_calendar(),
            (started, pauses) in arb_instant().prop_flat_map(|s| (Just(s), arb_pauses(s))),
            agreed in arb_duration(60),
            later in 0..50 * 86_400_i64,
        ) {
            let now = started + Duration::seconds(later);
            let plain = AgreedTime::new(started, agreed);
            let paused = AgreedTime { pauses, ..plain.clone() };
            prop_assert!(paused.elapsed(&cal, now) <= plain.elapsed(&cal, now));
            prop_assert!(paused.elapsed(&cal, now) <= cal.open_between(started, now));
            if let (Some(p), Some(q)) = (plain.due(&cal, now), paused.due(&cal, now)) {
                prop_assert!(q >= p);
            }
            // The state agrees with the due instant and the time left.
            match paused.state(&cal, now, WarnAt::Share(20)) {
                SlaState::Breached { since } => {
                    prop_assert!(since <= now);
                    prop_assert_eq!(paused.due(&cal, now), Some(since));
                }
                SlaState::Running { due, left } | SlaState::Warning { due, left } => {
                    prop_assert!(due > now);
                    prop_assert!(left > Duration::zero());
                    prop_assert_eq!(left, agreed - paused.elapsed(&cal, now));
                }
                SlaState::Paused { left } | SlaState::NeverDue { left } => {
                    prop_assert_eq!(left, agreed - paused.elapsed(&cal, now));
                }
            }
        }

        #[test]
        fn a_pause_in_closed_time_changes_nothing(
            cal in arb_calendar(),
            (started, pauses) in arb_instant().prop_flat_map(|s| (Just(s), arb_pauses(s))),
            agreed in arb_duration(60),
            offset in 0..20 * 86_400_i64,
        ) {
            let at = started + Duration::seconds(offset);
            let next = match cal.next_open(at) {
                Some(next) if next > at => next,
                _ => return Ok(()),
            };
            let before = AgreedTime { started, agreed, pauses };
            let mut after = before.clone();
            after.pauses.push(Pause { start: at, end: Some(next) });
            // Once the closed pause has ended, nothing can tell the two apart.
            let now = next + Duration::days(3);
            prop_assert_eq!(after.elapsed(&cal, now), before.elapsed(&cal, now));
            prop_assert_eq!(after.due(&cal, now), before.due(&cal, now));
            prop_assert_eq!(after.state(&cal, now, WarnAt::Share(20)), before.state(&cal, now, WarnAt::Share(20)));
        }

        #[test]
        fn a_pause_pushes_the_deadline_by_its_open_length(
            cal in arb_calendar(),
            started in arb_instant(),
            agreed in arb_duration(60),
            (a, b) in (0..=1000_i32, 0..=1000_i32),
        ) {
            let plain = AgreedTime::new(started, agreed);
            let Some(due) = plain.due(&cal, started) else { return Ok(()) };
            let part = (due - started) / 1000;
            let pause = Pause {
                start: started + part * a.min(b),
                end: Some(started + part * a.max(b)),
            };
            let paused = AgreedTime { pauses: vec![pause], ..plain.clone() };
            let now = pause.end.unwrap_or(started);
            if let Some(later) = paused.due(&cal, now) {
                prop_assert!(later >= due);
                prop_assert_eq!(cal.open_between(due, later), cal.open_between(pause.start, now));
            }
        }
    }
}
