//! Outgoing e-mail: SMTP through lettre in production, `.eml` files in a directory for
//! development and tests (set `ANCHORA_SMTP_URL` to send for real).

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), String>;
}

fn message(from: &Mailbox, email: &Email) -> Result<Message, String> {
    let to: Mailbox = email.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .body(email.text.clone())
        .map_err(|e| e.to_string())
}

/// Writes each message as an `.eml` file (RFC 5322) into a directory.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        Self { dir, from }
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Email) -> Result<(), String> {
        let bytes = message(&self.from, email)?.formatted();
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| e.to_string())?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            uuid::Uuid::now_v7().simple()
        );
        tokio::fs::write(self.dir.join(name), bytes)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Sends through an SMTP server named by a URL such as `smtps://user:pass@mail.example.com`
/// or `smtp://relay.internal:25`.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: Mailbox) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL is not valid: {e}"))?
            .build();
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), String> {
        let msg = message(&self.from, email)?;
        self.transport.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

pub fn parse_mailbox(text: &str) -> Result<Mailbox, String> {
    text.parse().map_err(|e| format!("not a mail address ({text}): {e}"))
}
