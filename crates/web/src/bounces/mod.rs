//! Asynchronous bounces: the reports (RFC 3464 delivery status notifications, and the classic
//! bounces of mail systems that send none) that come back to a mailing's envelope sender,
//! `bounces+<tag>@<domain>`, read from that address's mailbox over IMAP. [`read_bounce`] reads
//! one message, [`BounceMailbox::take_bounces`] takes them out of the mailbox, each once.

pub mod dsn;

pub use dsn::{Bounce, read_bounce};

/// The mailbox that receives the bounces of the mailings (the envelope sender's domain
/// delivers `bounces+…@` there).
pub type BounceMailbox = crate::imap::Mailbox;

impl crate::imap::Mailbox {
    /// Takes up to `max` unseen bounce reports, oldest first; other messages stay, seen.
    pub async fn take_bounces(&self, max: usize) -> Result<Vec<Bounce>, String> {
        self.take(max, read_bounce).await
    }
}
