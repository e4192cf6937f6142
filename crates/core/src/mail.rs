//! Outgoing e-mail, as core sees it: a message and something that sends it. The web crate
//! provides SMTP (lettre) and a directory of `.eml` files for development and tests.

use crate::error::Result;
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Send one message. Errors say what failed; they never contain the message body, which
    /// may hold a secret link.
    async fn send(&self, email: &Email) -> Result<()>;
}
