//! The support chain after go-live (issue 23): questions, agreed times, answers.
//!
//! A question climbs the chain key user → IT (administrators) → vendor. Every step is an event
//! kept with who and when; the agreed-time clocks (response and resolution, per level and
//! priority, on the support calendar) are worked out from the question and its events, so the
//! breach check and the pages agree.

mod figures;
pub mod hours;
mod hypercare;
mod mail;
mod service;
mod store;

pub use figures::{CategoryFigure, LevelFigure, SupportFigures, WeekFigure};
pub use hypercare::{HypercareTeam, HypercareView};
pub use mail::{SupportMail, SupportMailKind, Threaded, reference_candidates, strip_quoted};
pub use service::{BreachRun, QuestionLine, QuestionQuery, QuestionView, SlaView};
pub use store::{Alert, FigureSpan, Narrowed, QuestionFilter, QuestionScope, QuestionTimes, Saved, SupportStore};

use crate::error::{Error, FieldError, Result};
use crate::ids::{AttachmentId, QuestionEventId, QuestionId, TeamId, UserId};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hours::{BusinessCalendar, Pause};
use serde::{Deserialize, Serialize};

/// An attachment's largest size.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// The longest subject, category, vendor field.
pub const MAX_SHORT_TEXT: usize = 200;
/// The longest description or reply.
pub const MAX_LONG_TEXT: usize = 20_000;

/// A question's priority; the stewardship plan's matrix gives it from impact and urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Open,
    WaitingOnRequester,
    WaitingOnVendor,
    Resolved,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    KeyUser,
    It,
    Vendor,
}

macro_rules! text_enum {
    ($t:ty, $($v:ident => $s:literal),+) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)+ _ => None }
            }
        }
    };
}

text_enum!(Priority, Low => "low", Normal => "normal", High => "high", Urgent => "urgent");
text_enum!(Status, New => "new", Open => "open", WaitingOnRequester => "waiting_on_requester",
    WaitingOnVendor => "waiting_on_vendor", Resolved => "resolved", Closed => "closed");
text_enum!(Level, KeyUser => "key_user", It => "it", Vendor => "vendor");

impl Status {
    /// The clock stands still: someone outside the chain's level owes the next step.
    pub fn pauses(self) -> bool {
        matches!(self, Self::WaitingOnRequester | Self::WaitingOnVendor)
    }

    /// Still someone's work (the breach check looks at these).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }

    /// The moves a person may make by hand. Reopening goes from resolved only; a closed
    /// question stays closed (a new one is raised).
    pub fn may_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (a, b) if a == b => false,
            (Closed, _) => false,
            (Resolved, Open | Closed) => true,
            (Resolved, _) => false,
            (_, New) => false,
            _ => true,
        }
    }

    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Open,
        Status::WaitingOnRequester,
        Status::WaitingOnVendor,
        Status::Resolved,
        Status::Closed,
    ];
}

impl Level {
    pub fn next(self) -> Option<Level> {
        match self {
            Self::KeyUser => Some(Self::It),
            Self::It => Some(Self::Vendor),
            Self::Vendor => None,
        }
    }
}

/// The vendor's side of a question escalated to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorTicket {
    pub name: String,
    pub contact: String,
    /// The vendor's own ticket reference.
    pub reference: String,
    /// Agreed times the vendor gave for this ticket, in open minutes; the settings' otherwise.
    pub response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

/// A question (ticket). `level_since` is when it reached its level (the clocks start there);
/// `level_response_at` when someone of the chain first answered publicly at this level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    /// `#12`: unique, given by the store.
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub category: String,
    pub priority: Priority,
    pub status: Status,
    pub level: Level,
    pub requester: UserId,
    /// The requester's team when it was raised: whose key users see it.
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub page: Option<String>,
    pub object: Option<String>,
    pub record: Option<String>,
    pub vendor: Option<VendorTicket>,
    pub language: String,
    /// Raised during hypercare: the tighter agreed times apply.
    pub hypercare: bool,
    pub opened_at: DateTime<Utc>,
    pub level_since: DateTime<Utc>,
    pub level_response_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Raised,
    Reply,
    Note,
    Status,
    Assigned,
    Escalated,
    VendorReference,
    Attachment,
    EmailReply,
    Warning,
}

text_enum!(EventKind, Raised => "raised", Reply => "reply", Note => "note", Status => "status",
    Assigned => "assigned", Escalated => "escalated", VendorReference => "vendor_reference",
    Attachment => "attachment", EmailReply => "email_reply", Warning => "warning");

impl EventKind {
    /// Seen by the chain only, never by the requester.
    pub fn internal(self) -> bool {
        matches!(self, Self::Note | Self::Warning)
    }
}

/// One step of a question. `actor` is `None` for the system (the breach check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionEvent {
    pub id: QuestionEventId,
    pub question: QuestionId,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub kind: EventKind,
    pub body: String,
    /// What changed: `{"from": "open", "to": "resolved"}`, `{"to": "it", "reason": "breach"}`.
    pub detail: serde_json::Value,
    /// The e-mail an answer came in (its Message-ID), kept once per question by the store;
    /// never shown (it may name the sender's mail servers).
    #[serde(skip)]
    pub message_id: Option<String>,
}

impl QuestionEvent {
    pub fn new(
        question: QuestionId,
        at: DateTime<Utc>,
        actor: Option<UserId>,
        kind: EventKind,
        body: impl Into<String>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            id: QuestionEventId::new_at(at),
            question,
            at,
            actor,
            kind,
            body: body.into(),
            detail,
            message_id: None,
        }
    }
}

/// An attachment without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub id: AttachmentId,
    pub question: QuestionId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub added_by: UserId,
    pub added_at: DateTime<Utc>,
}

/// The pauses of a question's clocks: the spans its status was waiting, or resolved (a question
/// reopened does not count the time it sat resolved), from its status events.
pub fn pauses(events: &[QuestionEvent]) -> Vec<Pause> {
    let mut out = Vec::new();
    let mut since: Option<DateTime<Utc>> = None;
    for e in events.iter().filter(|e| e.kind == EventKind::Status) {
        let to = e.detail.get("to").and_then(|v| v.as_str()).and_then(Status::parse);
        let waiting = to.is_some_and(|s| s.pauses() || s == Status::Resolved);
        match (since, waiting) {
            (None, true) => since = Some(e.at),
            (Some(start), false) => {
                out.push(Pause { start, end: Some(e.at) });
                since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = since {
        out.push(Pause { start, end: None });
    }
    out
}

/// Agreed open time to first response and to resolution, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Times {
    pub response_minutes: i64,
    pub resolution_minutes: i64,
}

const fn t(response_hours: i64, resolution_hours: i64) -> Times {
    Times {
        response_minutes: response_hours * 60,
        resolution_minutes: resolution_hours * 60,
    }
}

/// Times per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByPriority {
    pub low: Times,
    pub normal: Times,
    pub high: Times,
    pub urgent: Times,
}

impl ByPriority {
    pub fn of(&self, p: Priority) -> Times {
        match p {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }
}

/// Times per level. A business day is nine open hours on the default calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByLevel {
    pub key_user: ByPriority,
    pub it: ByPriority,
    pub vendor: ByPriority,
}

impl ByLevel {
    pub fn of(&self, level: Level, p: Priority) -> Times {
        match level {
            Level::KeyUser => self.key_user.of(p),
            Level::It => self.it.of(p),
            Level::Vendor => self.vendor.of(p),
        }
    }
}

impl Default for ByLevel {
    fn default() -> Self {
        Self {
            key_user: ByPriority {
                low: t(9, 90),
                normal: t(4, 45),
                high: t(2, 18),
                urgent: t(2, 9),
            },
            it: ByPriority {
                low: t(9, 90),
                normal: t(4, 45),
                high: t(2, 18),
                urgent: t(1, 9),
            },
            vendor: ByPriority {
                low: t(18, 180),
                normal: t(9, 90),
                high: t(4, 27),
                urgent: t(2, 9),
            },
        }
    }
}

fn hypercare_times() -> ByLevel {
    ByLevel {
        key_user: ByPriority {
            low: t(4, 45),
            normal: t(2, 18),
            high: t(1, 9),
            urgent: t(1, 4),
        },
        it: ByPriority {
            low: t(4, 45),
            normal: t(2, 18),
            high: t(1, 9),
            urgent: t(1, 4),
        },
        vendor: ByPriority {
            low: t(9, 90),
            normal: t(4, 27),
            high: t(2, 9),
            urgent: t(1, 4),
        },
    }
}

/// The first weeks after go-live (C2): tighter times, the vendor in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hypercare {
    pub go_live: NaiveDate,
    pub weeks: u32,
    #[serde(default = "hypercare_times")]
    pub times: ByLevel,
}

/// The support settings (the setting `support`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportSettings {
    pub calendar: BusinessCalendar,
    pub times: ByLevel,
    /// Warn when less than this per cent of an agreed time is left.
    pub warn_share: u8,
    pub hypercare: Option<Hypercare>,
    /// The vendor a question goes to when it breaches at IT (or during hypercare).
    pub vendor_name: String,
    pub vendor_contact: String,
    pub categories: Vec<String>,
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            calendar: BusinessCalendar::default(),
            times: ByLevel::default(),
            warn_share: 20,
            hypercare: None,
            vendor_name: String::new(),
            vendor_contact: String::new(),
            categories: ["usage", "data", "access", "error", "change"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl SupportSettings {
    /// Settings as an administrator writes them, every offence named by its field.
    pub fn parse(json: serde_json::Value) -> Result<Self> {
        let s: Self = crate::service::from_body(json)?;
        let mut errors = match s.calendar.check() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .errors
                .into_iter()
                .map(|f| FieldError::new(format!("calendar.{}", f.field), f.message))
                .collect(),
        };
        if s.warn_share > 100 {
            errors.push(FieldError::new("warn_share", "is a per cent from 0 to 100"));
        }
        let mut times = vec![("times", s.times)];
        if let Some(h) = &s.hypercare {
            if h.weeks == 0 || h.weeks > 52 {
                errors.push(FieldError::new("hypercare.weeks", "is from 1 to 52 weeks"));
            }
            if !(1900..=2200).contains(&h.go_live.year()) {
                errors.push(FieldError::new(
                    "hypercare.go_live",
                    "is a date in the years 1900 to 2200",
                ));
            }
            times.push(("hypercare.times", h.times));
        }
        for (prefix, by_level) in times {
            for (level, by) in [
                ("key_user", by_level.key_user),
                ("it", by_level.it),
                ("vendor", by_level.vendor),
            ] {
                for (p, t) in [
                    ("low", by.low),
                    ("normal", by.normal),
                    ("high", by.high),
                    ("urgent", by.urgent),
                ] {
                    for (name, v) in [
                        ("response_minutes", t.response_minutes),
                        ("resolution_minutes", t.resolution_minutes),
                    ] {
                        if !(1..=60 * 24 * 365).contains(&v) {
                            errors.push(FieldError::new(
                                format!("{prefix}.{level}.{p}.{name}"),
                                "is from 1 minute to a year",
                            ));
                        }
                    }
                }
            }
        }
        for (i, c) in s.categories.iter().enumerate() {
            if c.trim().is_empty() || c.chars().count() > MAX_SHORT_TEXT {
                errors.push(FieldError::new(format!("categories[{i}]"), "is a short text"));
            }
        }
        if s.vendor_name.chars().count() > MAX_SHORT_TEXT {
            errors.push(FieldError::new("vendor_name", "is too long"));
        }
        if s.vendor_contact.chars().count() > MAX_SHORT_TEXT {
            errors.push(FieldError::new("vendor_contact", "is too long"));
        }
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Whether a moment falls within hypercare (go-live day included, in the calendar's zone).
    pub fn in_hypercare(&self, at: DateTime<Utc>) -> bool {
        self.hypercare.as_ref().is_some_and(|h| {
            let day = at.with_timezone(&self.calendar.time_zone).date_naive();
            // Added checked: a go-live at the calendar's end has no end of hypercare after it.
            let end = h
                .go_live
                .checked_add_days(chrono::Days::new(u64::from(h.weeks).saturating_mul(7)));
            day >= h.go_live && end.is_none_or(|end| day < end)
        })
    }

    /// The agreed times of a question at its level now: the vendor's own when given, the
    /// hypercare table for a question raised during hypercare.
    pub fn times_of(&self, q: &Question) -> Times {
        let table = match (&self.hypercare, q.hypercare) {
            (Some(h), true) => h.times,
            _ => self.times,
        };
        let mut times = table.of(q.level, q.priority);
        if q.level == Level::Vendor
            && let Some(v) = &q.vendor
        {
            if let Some(r) = v.response_minutes {
                times.response_minutes = r;
            }
            if let Some(r) = v.resolution_minutes {
                times.resolution_minutes = r;
            }
        }
        times
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reopened_question_does_not_count_its_resolved_time() {
        let q = QuestionId::new_at(Utc::now());
        let at = |h: i64| DateTime::from_timestamp(h * 3600, 0).unwrap_or_default();
        let ev = |h, to: &str| QuestionEvent::new(q, at(h), None, EventKind::Status, "", serde_json::json!({"to": to}));
        let p = pauses(&[
            ev(1, "resolved"),
            ev(30, "open"),
            ev(31, "waiting_on_requester"),
            ev(32, "resolved"),
            ev(40, "open"),
        ]);
        assert_eq!(
            p,
            vec![
                Pause {
                    start: at(1),
                    end: Some(at(30))
                },
                Pause {
                    start: at(31),
                    end: Some(at(40))
                },
            ]
        );
    }

    #[test]
    fn a_far_go_live_is_refused_and_never_panics() {
        let e = SupportSettings::parse(serde_json::json!({"hypercare": {"go_live": "+262000-01-01", "weeks": 52}}))
            .unwrap_err();
        assert_eq!(e.errors[0].field, "hypercare.go_live", "{e:?}");
        // Even kept (read back from an older version), the calendar's end does not panic.
        let s = SupportSettings {
            hypercare: Some(Hypercare {
                go_live: NaiveDate::MAX,
                weeks: 52,
                times: hypercare_times(),
            }),
            ..SupportSettings::default()
        };
        assert!(!s.in_hypercare(Utc::now()));
    }

    #[test]
    fn pauses_follow_the_waiting_statuses() {
        let q = QuestionId::new_at(Utc::now());
        let at = |h: i64| DateTime::from_timestamp(h * 3600, 0).unwrap_or_default();
        let ev = |h, to: &str| QuestionEvent::new(q, at(h), None, EventKind::Status, "", serde_json::json!({"to": to}));
        let p = pauses(&[
            ev(1, "waiting_on_requester"),
            ev(2, "waiting_on_vendor"),
            ev(3, "open"),
            ev(5, "waiting_on_vendor"),
        ]);
        assert_eq!(
            p,
            vec![
                Pause {
                    start: at(1),
                    end: Some(at(3))
                },
                Pause {
                    start: at(5),
                    end: None
                }
            ]
        );
    }

    #[test]
    fn settings_name_the_field() {
        let e = SupportSettings::parse(serde_json::json!({"warn_share": 120})).unwrap_err();
        assert_eq!(e.errors[0].field, "warn_share");
        let e = SupportSettings::parse(serde_json::json!({"calendar": {"time_zone": "Mars/Olympus"}})).unwrap_err();
        assert!(e.errors[0].field.contains("time_zone"), "{e:?}");
        assert!(!Status::Closed.may_become(Status::Open));
        assert!(Status::Resolved.may_become(Status::Open));
    }
}
