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
            // A message that cannot be written is refused for good, without blaming the address.
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

/// What an SMTP error means for the message: a 5xx answer blames the address only when it
/// says so (an enhanced status 5.1.x, bad mailbox or address, or 5.2.1, mailbox disabled;
/// without one, 550/551/553 naming the user, mailbox or recipient); any other 5xx (a policy,
/// the message's size, the sender, authentication) refuses this message only. 4xx is for now;
/// no connection means nothing went; a connection lost on the way may have delivered it.
fn classify(e: &lettre::transport::smtp::Error) -> Delivery {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_permanent() {
        if blames_address(e.status().map(|c| c.to_string()).as_deref(), &why) {
            Delivery::Bounced(why)
        } else {
            Delivery::Rejected(why)
        }
    } else if e.is_transient() {
        Delivery::Deferred(why)
    } else if e.is_timeout() || why.starts_with("network error") || e.is_response() {
        Delivery::Uncertain(why)
    } else {
        Delivery::Deferred(why)
    }
}

/// Whether a permanent refusal (`code`, the server's words `text`) says the address takes no
/// mail.
fn blames_address(code: Option<&str>, text: &str) -> bool {
    let enhanced = text
        .split(|c: char| c.is_whitespace() || c == ':' || c == ';')
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        });
    match enhanced {
        Some(status) => status.starts_with("5.1.") || status == "5.2.1",
        None => {
            let lower = text.to_lowercase();
            matches!(code, Some("550" | "551" | "553"))
                && ["user", "mailbox", "recipient", "address"]
                    .iter()
                    .any(|w| lower.contains(w))
        }
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

    #[test]
    fn only_a_refusal_that_blames_the_address_marks_it() {
        assert!(blames_address(
            Some("550"),
            "permanent error (550): 5.1.1 <a@b.se>: Recipient address rejected: User unknown"
        ));
        assert!(blames_address(
            Some("550"),
            "permanent error (550): 5.1.10 RESOLVER.ADR.RecipientNotFound"
        ));
        assert!(blames_address(
            Some("550"),
            "permanent error (550): 5.2.1 The email account that you tried to reach is disabled"
        ));
        assert!(blames_address(Some("550"), "permanent error (550): No such user here"));
        assert!(!blames_address(
            Some("554"),
            "permanent error (554): 5.7.1 Message rejected due to DMARC policy"
        ));
        assert!(!blames_address(
            Some("552"),
            "permanent error (552): 5.3.4 Message size exceeds fixed limit"
        ));
        assert!(!blames_address(
            Some("535"),
            "permanent error (535): 5.7.8 Authentication credentials invalid"
        ));
        assert!(!blames_address(
            Some("550"),
            "permanent error (550): 5.7.1 Service unavailable; client host blocked"
        ));
        assert!(!blames_address(Some("550"), "permanent error (550): spam detected"));
    }
}
