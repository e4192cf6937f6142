//! Asynchronous bounces: the reports (RFC 3464 delivery status notifications, and the classic
//! bounces of mail systems that send none) that come back to a mailing's envelope sender,
//! `bounces+<tag>@<domain>`, read from that address's mailbox over IMAP. [`read_bounce`] reads
//! one message, [`BounceMailbox::take_bounces`] takes them out of the mailbox, each once.

pub mod dsn;
pub mod imap;

pub use dsn::{Bounce, read_bounce};
pub use imap::BounceMailbox;
