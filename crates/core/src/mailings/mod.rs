//! Mass mailings: a template sent to a selection of people for one purpose, as a job on the
//! queue. Preparing takes a snapshot of the recipients (who is in, who is left out and why);
//! sending goes through the snapshot at the pace the mailing allows (N mails per M minutes,
//! inside sending windows), each recipient claimed before its message goes and settled after,
//! so a server killed mid-mailing sends nobody twice: a recipient whose exchange was cut off is
//! "uncertain" and goes again only when a person says so.

mod pace;
mod run;
mod service;

use crate::error::Result;
use crate::ids::{JobId, MailingId, RecordId, SelectionId, UserId};
use crate::record::Record;
use crate::templates::Template;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use pace::{Throttle, Window};
pub use run::{Outbox, tag_workspace, verp};
pub use service::{MailingView, RecipientPage, SnapshotChanges};

/// Share of hard bounces past which a mailing pauses itself (a bad list harms the sender's
/// reputation for every later mailing).
pub const HARD_BOUNCE_LIMIT: f64 = 0.05;
/// Messages tried before the bounce rate is judged.
pub const BOUNCE_SAMPLE: u64 = 20;
/// Attempts at a recipient the server defers (4xx) before giving up.
pub const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailingState {
    /// Being written; nothing sent.
    Draft,
    /// Started: its job works out the recipients and sends, from its start time on.
    Sending,
    Paused,
    Done,
    Cancelled,
}

impl MailingState {
    pub const ALL: [MailingState; 5] = [
        MailingState::Draft,
        MailingState::Sending,
        MailingState::Paused,
        MailingState::Done,
        MailingState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailingState::Draft => "draft",
            MailingState::Sending => "sending",
            MailingState::Paused => "paused",
            MailingState::Done => "done",
            MailingState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mailing {
    pub id: MailingId,
    pub name: String,
    pub selection: SelectionId,
    pub template: crate::ids::TemplateId,
    /// The consent purpose it is sent for: only people who said yes to it get it.
    pub purpose: String,
    pub state: MailingState,
    /// Not before this moment; at once when none.
    pub start_at: Option<DateTime<Utc>>,
    pub throttle: Option<Throttle>,
    pub window: Option<Window>,
    pub owner: UserId,
    /// The job that works on it now (each waiting spell queues the next).
    pub job: Option<JobId>,
    /// The template as it was when sending began: later edits do not change a mailing under way.
    pub template_copy: Option<Template>,
    /// When the recipients were worked out (the snapshot).
    pub prepared_at: Option<DateTime<Utc>>,
    /// Why it paused itself (too many hard bounces), when it did.
    pub paused_because: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    Queued,
    /// Claimed by the sender: its message is on the way.
    Sending,
    Sent,
    /// Refused for now (4xx); tried again later.
    Deferred,
    /// Given up after the attempts a deferral allows, or a message that could not be made.
    Failed,
    /// Refused for good (5xx) or reported undeliverable (a DSN); the address is marked invalid.
    Bounced,
    /// The exchange was cut off (the server was killed): whether it went is not known.
    Uncertain,
    Skipped,
}

impl RecipientStatus {
    pub const ALL: [RecipientStatus; 8] = [
        RecipientStatus::Queued,
        RecipientStatus::Sending,
        RecipientStatus::Sent,
        RecipientStatus::Deferred,
        RecipientStatus::Failed,
        RecipientStatus::Bounced,
        RecipientStatus::Uncertain,
        RecipientStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Queued => "queued",
            RecipientStatus::Sending => "sending",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Deferred => "deferred",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Bounced => "bounced",
            RecipientStatus::Uncertain => "uncertain",
            RecipientStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Why a recipient was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NoAddress,
    /// The person said no to e-mail altogether.
    NoEmail,
    /// Never said yes to the mailing's purpose.
    NoConsent,
    /// Said yes once and took it back (an unsubscribe link, a call …).
    Unsubscribed,
    /// Another recipient of the mailing has the same address: it goes once.
    DuplicateAddress,
    /// An earlier mailing bounced on the address.
    InvalidAddress,
}

impl SkipReason {
    pub const ALL: [SkipReason; 6] = [
        SkipReason::NoAddress,
        SkipReason::NoEmail,
        SkipReason::NoConsent,
        SkipReason::Unsubscribed,
        SkipReason::DuplicateAddress,
        SkipReason::InvalidAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoAddress => "no_address",
            SkipReason::NoEmail => "no_email",
            SkipReason::NoConsent => "no_consent",
            SkipReason::Unsubscribed => "unsubscribed",
            SkipReason::DuplicateAddress => "duplicate_address",
            SkipReason::InvalidAddress => "invalid_address",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One person in a mailing's snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipient {
    pub mailing: MailingId,
    pub person: RecordId,
    /// The address as the snapshot found it (folded to lower case); none when it had none.
    pub email: Option<String>,
    pub language: Option<String>,
    pub status: RecipientStatus,
    pub skip: Option<SkipReason>,
    pub attempts: u32,
    /// When a deferred recipient is tried again.
    pub next_try_at: Option<DateTime<Utc>>,
    /// What the mail server last said, or why it failed.
    pub detail: Option<String>,
    /// When the mail server took the message, or refused it for good (the throttle counts both).
    pub sent_at: Option<DateTime<Utc>>,
    /// The recipient's part of the VERP return path (`bounces+{tag}@…`): finds them from a
    /// bounce report.
    pub tag: String,
}

/// How a claimed recipient's attempt ended, written back in one transaction with the e-mail
/// activities of the messages that went.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub person: RecordId,
    pub status: RecipientStatus,
    pub skip: Option<SkipReason>,
    pub attempts: u32,
    pub next_try_at: Option<DateTime<Utc>>,
    pub detail: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// An address no mail goes to any more: a hard bounce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidAddress {
    pub email: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub mailing: Option<MailingId>,
}

/// Where mailings, their snapshots and invalid addresses are kept.
#[async_trait]
pub trait MailingStore: Send + Sync {
    async fn create_mailing(&self, mailing: &Mailing) -> Result<()>;
    async fn mailing(&self, id: MailingId) -> Result<Option<Mailing>>;
    /// Every mailing, newest first.
    async fn mailings(&self) -> Result<Vec<Mailing>>;
    /// Replace a mailing when it is still at `expected_version`; false when it is not.
    async fn update_mailing(&self, mailing: &Mailing, expected_version: i64) -> Result<bool>;
    /// Replace a mailing at `expected_version` and queue its next job, in one transaction.
    async fn update_mailing_with_job(
        &self,
        mailing: &Mailing,
        expected_version: i64,
        job: &crate::jobs::NewJob,
    ) -> Result<bool>;
    async fn delete_mailing(&self, id: MailingId) -> Result<bool>;
    /// Add recipients to a snapshot (a batch of it); one already there stays as it is.
    async fn add_recipients(&self, recipients: &[Recipient]) -> Result<()>;
    /// Claim up to `max` recipients due to go (queued, or deferred and due), in person order:
    /// they become `sending`, held by `claimer` (a job's attempt). Two claims never take one.
    async fn claim_recipients(
        &self,
        mailing: MailingId,
        now: DateTime<Utc>,
        max: u32,
        claimer: &str,
    ) -> Result<Vec<Recipient>>;
    /// Who holds the mailing's recipients that are `sending` (each claim's attempt).
    async fn claimers(&self, mailing: MailingId) -> Result<Vec<String>>;
    /// Settle recipients `claimer` claimed, and keep the e-mail activities of those sent (of
    /// `activity_object`) and the addresses that bounced, each by its person, in one
    /// transaction; only recipients the claim still holds change, and only theirs are kept.
    #[allow(clippy::too_many_arguments)]
    async fn settle_recipients(
        &self,
        mailing: MailingId,
        claimer: &str,
        outcomes: &[Outcome],
        activity_object: Option<&crate::meta::ObjectDef>,
        activities: &[(RecordId, Record)],
        invalid: &[(RecordId, InvalidAddress)],
        ctx: crate::write::WriteCtx,
    ) -> Result<()>;
    /// Recipients these (dead) claims left `sending` become `uncertain`; how many.
    async fn mark_uncertain(&self, mailing: MailingId, claimers: &[String]) -> Result<u64>;
    /// Uncertain recipients queued again (a person said so); how many.
    async fn requeue_uncertain(&self, mailing: MailingId) -> Result<u64>;
    /// Recipients in person order after `after`, of one status when given.
    async fn recipients(
        &self,
        mailing: MailingId,
        status: Option<RecipientStatus>,
        after: Option<RecordId>,
        limit: u32,
    ) -> Result<Vec<Recipient>>;
    /// How many recipients are in each status, and skipped ones by reason.
    async fn recipient_counts(&self, mailing: MailingId) -> Result<BTreeMap<String, u64>>;
    /// Messages sent since a moment, and the earliest of them (the throttle's window).
    async fn sent_since(&self, mailing: MailingId, since: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>)>;
    /// Whether any recipient waits to be sent (queued).
    async fn has_queued(&self, mailing: MailingId) -> Result<bool>;
    /// When the next deferred recipient is due, if any is.
    async fn next_deferred(&self, mailing: MailingId) -> Result<Option<DateTime<Utc>>>;
    /// A sent recipient reported undeliverable (a bounce report): bounced, and the address
    /// invalid, in one transaction; false when the recipient was not sent.
    async fn bounce_recipient(
        &self,
        mailing: MailingId,
        person: RecordId,
        detail: &str,
        invalid: &InvalidAddress,
    ) -> Result<bool>;
    /// The recipient a VERP tag names.
    async fn recipient_by_tag(&self, tag: &str) -> Result<Option<Recipient>>;
    /// Of these addresses (folded), those marked invalid.
    async fn invalid_among(&self, emails: &[String]) -> Result<std::collections::HashSet<String>>;
    /// People who were sent a mailing (its snapshot's sent recipients).
    async fn sent_people(&self, mailing: MailingId) -> Result<std::collections::HashSet<RecordId>>;
    /// A person's recipient rows move to another person (a merge); rows the other already has
    /// in the same mailing are dropped.
    async fn move_recipients(&self, from: RecordId, to: RecordId) -> Result<()>;
}
