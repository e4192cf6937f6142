//! The two `Mailer`s: SMTP through lettre in production, `.eml` files in a directory for
//! development and tests (set `ANCHORA_SMTP_URL` to send for real).

pub use anchora_core::mail::{Delivery, Email, Mailer};
use anchora_core::{Error, ErrorCode, Result};
use async_trait::async_trait;
use lettre::address::{Address, Envelope};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

fn failed(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Unavailable, format!("the e-mail could not be sent: {what}"))
}

fn message(from: &Mailbox, email: &Email) -> Result<Message> {
    let to: Mailbox = email.to.parse().map_err(|e| failed(format!("bad recipient: {e}")))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(email.subject.clone());
    for (name, value) in &email.headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| failed(format!("bad header name: {e}")))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    if let Some(return_path) = &email.return_path {
        let sender: Address = return_path
            .parse()
            .map_err(|e| failed(format!("bad return path: {e}")))?;
        let envelope = Envelope::new(Some(sender), vec![to.email]).map_err(failed)?;
        builder = builder.envelope(envelope);
    }
    match &email.html {
        Some(html) => builder
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), html.clone()))
            .map_err(failed),
        None => builder.body(email.text.clone()).map_err(failed),
    }
}

/// Writes each message as an `.eml` file (RFC 5322) into a directory.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        crate::ops::metrics::email_transport("file");
        Self { dir, from }
    }

    async fn write(&self, email: &Email) -> Result<()> {
        let bytes = message(&self.from, email)?.formatted();
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            uuid::Uuid::now_v7().simple()
        );
        // Written under a hidden name and renamed when whole: whoever reads the directory never
        // sees half a message (a test read one that had no link yet).
        let partial = self.dir.join(format!(".{name}.part"));
        tokio::fs::write(&partial, bytes).await.map_err(failed)?;
        tokio::fs::rename(&partial, self.dir.join(name)).await.map_err(failed)
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Email) -> Result<()> {
        let sent = self.write(email).await;
        crate::ops::metrics::email_sent("file", sent.is_ok());
        sent
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
        crate::ops::metrics::email_transport("smtp");
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<()> {
        let sent = match message(&self.from, email) {
            Ok(msg) => self.transport.send(msg).await.map(|_| ()).map_err(failed),
            Err(e) => Err(e),
        };
        crate::ops::metrics::email_sent("smtp", sent.is_ok());
        sent
    }

    async fn deliver(&self, email: &Email) -> Delivery {
        let msg = match message(&self.from, email) {
            Ok(msg) => msg,
            // A message that cannot be written (a bad address) is refused for good.
            Err(e) => return Delivery::Rejected(e.detail),
        };
        let outcome = match self.transport.send(msg).await {
            Ok(_) => Delivery::Sent,
            Err(e) => classify(&e),
        };
        crate::ops::metrics::email_sent("smtp", outcome == Delivery::Sent);
        outcome
    }
}

/// What an SMTP error means for the message: an answer says it (5xx for good, 4xx for now);
/// no connection means nothing went; a connection lost on the way may have delivered it.
fn classify(e: &lettre::transport::smtp::Error) -> Delivery {
    let why = e.to_string();
    if e.is_permanent() {
        Delivery::Rejected(why)
    } else if e.is_transient() {
        Delivery::Deferred(why)
    } else if e.is_timeout() || why.starts_with("network error") || e.is_response() {
        Delivery::Uncertain(why)
    } else {
        Delivery::Deferred(why)
    }
}

pub fn parse_mailbox(text: &str) -> Result<Mailbox, String> {
    text.parse().map_err(|e| format!("not a mail address ({text}): {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// Just enough of an SMTP server to receive one message.
    async fn fake_smtp(listener: tokio::net::TcpListener) -> String {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut transcript = String::new();
        let mut in_data = false;
        while let Some(line) = lines.next_line().await.unwrap() {
            transcript.push_str(&line);
            transcript.push('\n');
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else if line.starts_with("EHLO") {
                b"250-fake\r\n250 8BITMIME\r\n"
            } else if line == "DATA" {
                in_data = true;
                b"354 go on\r\n"
            } else if line == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        transcript
    }

    #[tokio::test]
    async fn smtp_delivers_and_files_are_written() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(fake_smtp(listener));
        let from = parse_mailbox("Anchora <crm@example.se>").unwrap();
        let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), from.clone()).unwrap();
        let email = Email {
            to: "anna@example.se".into(),
            subject: "Återställ".into(),
            text: "Hej Anna".into(),
            ..Email::default()
        };
        mailer.send(&email).await.unwrap();
        drop(mailer);
        let transcript = tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap();
        assert!(transcript.contains("RCPT TO:<anna@example.se>"), "{transcript}");
        assert!(transcript.contains("MAIL FROM:<crm@example.se>"), "{transcript}");
        assert!(transcript.contains("Hej Anna"), "{transcript}");

        let dir = tempfile::tempdir().unwrap();
        FileMailer::new(dir.path().to_path_buf(), from)
            .send(&email)
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let bad = Email {
            to: "not an address".into(),
            ..email
        };
        let e = FileMailer::new(dir.path().to_path_buf(), parse_mailbox("a@b.se").unwrap())
            .send(&bad)
            .await
            .unwrap_err();
        assert!(e.detail.contains("recipient"));
    }
}
