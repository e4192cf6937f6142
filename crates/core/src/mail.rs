//! Outgoing e-mail, as core sees it: a message and something that sends it. The web crate
//! provides SMTP (lettre) and a directory of `.eml` files for development and tests.

use crate::error::Result;
use async_trait::async_trait;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// An HTML body sent beside the text (multipart/alternative).
    pub html: Option<String>,
    /// Further header fields (`List-Unsubscribe` …): printable ASCII names, values encoded by
    /// the sender.
    pub headers: Vec<(String, String)>,
    /// The envelope sender, where bounces go (a VERP address per recipient); the From address
    /// when none.
    pub return_path: Option<String>,
}

/// What became of one message handed to the mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server took it (250).
    Sent,
    /// The address does not take mail (a 5xx answer saying so: 5.1.x, a mailbox disabled).
    Bounced(String),
    /// Refused for good for another reason (the message, the sender, a policy, a message
    /// that could not be written): the address is not to blame.
    Rejected(String),
    /// Refused for now (a 4xx answer), or the server was not reached: nothing went; try later.
    Deferred(String),
    /// The exchange broke off when the message may already have been taken: whether it went
    /// is not known.
    Uncertain(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Send one message. Errors say what failed; they never contain the message body, which
    /// may hold a secret link.
    async fn send(&self, email: &Email) -> Result<()>;

    /// Send one message and say what the server answered, for senders that treat a refusal
    /// differently from a failure to connect (mass mailings).
    async fn deliver(&self, email: &Email) -> Delivery {
        match self.send(email).await {
            Ok(()) => Delivery::Sent,
            Err(e) => Delivery::Deferred(e.detail),
        }
    }
}
