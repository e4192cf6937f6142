//! Where questions and everything about them are kept.

use super::{AttachmentInfo, Level, Question, QuestionEvent, Status};
use crate::error::Result;
use crate::ids::{AttachmentId, QuestionEventId, QuestionId, TeamId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Which questions a reader may see, as the store filters them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionScope {
    All,
    /// Their own, those assigned to them, those of the teams they are a key user of (as the
    /// stewardship plan says), and (the system owner) those with the vendor.
    Of {
        user: UserId,
        teams: Vec<TeamId>,
        owner: bool,
    },
}

/// A page of questions, newest number first; `before` the last number of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionFilter {
    pub scope: QuestionScope,
    pub requester: Option<UserId>,
    pub team: Option<TeamId>,
    pub level: Option<Level>,
    pub status: Option<Status>,
    /// Only questions still open (not resolved or closed).
    pub open: bool,
    pub before: Option<i64>,
    pub limit: u32,
}

impl QuestionFilter {
    /// A page of every question (or every open one) for the system's own passes over them,
    /// whoever may see what: the breach check, the hypercare view.
    pub fn every(open: bool, before: Option<i64>, limit: u32) -> Self {
        Self {
            scope: QuestionScope::All,
            requester: None,
            team: None,
            level: None,
            status: None,
            open,
            before,
            limit,
        }
    }
}

/// What became of a write of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Written,
    /// Another writer changed it first, or the alert was handled already: nothing written.
    Stale,
    /// The e-mail an event came in was kept on this question already: nothing written.
    MailKeptAlready,
}

/// A warning or breach handled once per question, level and clock: the store keeps it under a
/// unique key so two breach checks racing act once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub question: QuestionId,
    pub level: Level,
    /// `response_warning`, `resolution_warning`, `breach`.
    pub kind: String,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait SupportStore: Send + Sync {
    /// Keep a new question with its first events; the store gives it the next number (the
    /// `number` passed in is ignored) and returns it.
    async fn create_question(&self, q: &Question, events: &[QuestionEvent]) -> Result<i64>;

    async fn question(&self, id: QuestionId) -> Result<Option<Question>>;

    async fn question_by_number(&self, number: i64) -> Result<Option<Question>>;

    /// Write a question as it is now, with its new events and (optionally) an alert, when it is
    /// still at `expected_version`, the alert was not handled yet and no event's e-mail was kept
    /// on it already; nothing is written otherwise.
    async fn save_question(
        &self,
        q: &Question,
        expected_version: i64,
        events: &[QuestionEvent],
        alert: Option<&Alert>,
    ) -> Result<Saved>;

    async fn questions(&self, filter: &QuestionFilter) -> Result<Vec<Question>>;

    /// Every event, oldest first.
    async fn question_events(&self, id: QuestionId) -> Result<Vec<QuestionEvent>>;

    /// The events of several questions in one read, each question's oldest first.
    async fn events_of_questions(&self, ids: &[QuestionId]) -> Result<Vec<QuestionEvent>>;

    /// The alerts kept for several questions, in one read.
    async fn alerts_of_questions(&self, ids: &[QuestionId]) -> Result<Vec<Alert>>;

    /// The names of several users, in one read (those that exist).
    async fn support_user_names(&self, ids: &[UserId]) -> Result<Vec<(UserId, String)>>;

    /// Keep an alert that needs no change to the question (a warning) with its event; `false`
    /// when it was kept already.
    async fn record_alert(&self, alert: &Alert, event: &QuestionEvent) -> Result<bool>;

    async fn add_attachment(&self, info: &AttachmentInfo, bytes: &[u8], event: &QuestionEvent) -> Result<()>;

    async fn attachments(&self, question: QuestionId) -> Result<Vec<AttachmentInfo>>;

    async fn attachment(&self, question: QuestionId, id: AttachmentId) -> Result<Option<(AttachmentInfo, Vec<u8>)>>;

    /// Steps since a moment, oldest first (the notices look at these).
    async fn support_events_since(&self, since: DateTime<Utc>) -> Result<Vec<QuestionEvent>>;

    async fn support_mail_sent(&self, event: QuestionEventId, to: UserId) -> Result<bool>;

    /// Mark a notice sent; `false` when it was marked already.
    async fn mark_support_mail(&self, event: QuestionEventId, to: UserId, at: DateTime<Utc>) -> Result<bool>;

    async fn unmark_support_mail(&self, event: QuestionEventId, to: UserId) -> Result<()>;

    /// The times of the questions of a span opened or resolved in it.
    async fn question_times(&self, span: &FigureSpan) -> Result<Vec<QuestionTimes>>;

    /// Breaches in a span of its questions.
    async fn breach_count(&self, span: &FigureSpan) -> Result<u64>;

    /// The most asked categories of a span's questions opened in it, most first.
    async fn category_counts(&self, span: &FigureSpan, limit: u32) -> Result<Vec<(String, u64)>>;
}

/// The questions figures count: those in a reader's scope, narrowed, over `[since, until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureSpan {
    pub scope: QuestionScope,
    pub narrowed: Narrowed,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// Whose questions, of those the reader may see, the figures count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Narrowed {
    /// All the reader may see.
    Not,
    /// Those the reader raised or is assigned.
    Person(UserId),
    /// Those raised in a team.
    Team(TeamId),
}

/// What the figures read of one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionTimes {
    pub level: Level,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}
