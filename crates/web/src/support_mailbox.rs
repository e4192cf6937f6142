//! Answers e-mailed to the support chain's notices, read from the support mailbox over IMAP. A
//! notice goes out with `Reply-To: support+<reference>@<domain>` and the reference in its text,
//! so an answer names its question whether or not the mail program quotes. [`read_reply`] reads
//! one message; the job handler threads each into its workspace, where core's
//! `thread_email_reply` checks the reference's signature, the sender and their right to the
//! question.

use crate::bounces::dsn::raw_headers;
use crate::bounces::read_bounce;
use anchora_core::support::reference_candidates;
use mail_parser::{Message, MessageParser};

/// The headers, in this order, that may carry the `support+<reference>@` address.
const DELIVERED_TO: [&str; 5] = ["delivered-to", "x-original-to", "envelope-to", "to", "cc"];

/// The local part the notices' Reply-To addresses begin with when no support address names
/// another.
pub const PLUS_PREFIX: &str = "support+";

/// `helpdesk+` for the support address `helpdesk@example.se`: what the Reply-To addresses under
/// it begin with, in lower case.
pub fn plus_prefix(support_address: Option<&str>) -> String {
    support_address
        .and_then(|a| a.trim().rsplit_once('@'))
        .map(|(local, _)| format!("{}+", local.to_ascii_lowercase()))
        .unwrap_or_else(|| PLUS_PREFIX.to_string())
}

/// One answer read from the support mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailedReply {
    /// The sender's address (`From`).
    pub from: String,
    pub subject: String,
    /// The text part (an HTML-only message turned into text).
    pub text: String,
    /// The reference of the `support+<reference>@` address it was sent to, when it was.
    pub reference: Option<String>,
    /// Its `Message-ID`, by which it is kept once.
    pub message_id: Option<String>,
}

/// The reply address a notice carries: `support+12.AbC…@example.se` under the support address
/// `support@example.se`. None when the address is no plain `local@domain`.
pub fn reply_address(support_address: &str, token: &str) -> Option<String> {
    let (local, domain) = support_address.trim().rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || local.contains('+') {
        return None;
    }
    Some(format!("{local}+{token}@{domain}"))
}

/// Reads one raw message, the reference from an address beginning with `prefix` (see
/// [`plus_prefix`]). `None` when it is none of ours to thread: not parseable, no sender, sent by
/// a machine (an auto-reply, a bounce, a list), or naming no question. Those stay in the
/// mailbox, seen, for a person to look at.
pub fn read_reply(raw: &[u8], prefix: &str) -> Option<MailedReply> {
    let message = MessageParser::default().parse(raw)?;
    if sent_by_a_machine(&message) || read_bounce(raw).is_some() {
        return None;
    }
    let from = message.from()?.first()?.address()?.trim().to_string();
    if from.is_empty() {
        return None;
    }
    let subject = message.subject().unwrap_or_default().to_string();
    let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let reference = DELIVERED_TO
        .iter()
        .flat_map(|name| raw_headers(&message, name))
        .find_map(|value| reference_in(&value, prefix));
    if reference.is_none() && reference_candidates(&subject).is_empty() && reference_candidates(&text).is_empty() {
        return None;
    }
    Some(MailedReply {
        from,
        subject,
        text,
        reference,
        message_id: message.message_id().map(str::to_string),
    })
}

/// RFC 3834's `Auto-Submitted`, and what mail programs and lists say instead.
fn sent_by_a_machine(message: &Message<'_>) -> bool {
    let header = |name: &str| {
        raw_headers(message, name)
            .into_iter()
            .next()
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if header("auto-submitted").is_some_and(|v| v != "no") {
        return true;
    }
    if header("precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")) {
        return true;
    }
    ["x-autoreply", "x-autorespond", "list-id"]
        .iter()
        .any(|name| header(name).is_some())
}

/// The reference of the first `<prefix><reference>@` address in a header's text (the prefix,
/// lower case, in any case, at the start of a local part; the reference `[A-Za-z0-9._-]`, up
/// to 64 long).
fn reference_in(text: &str, prefix: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find(prefix)) {
        let start = from + found;
        from = start + 1;
        let at_boundary = start == 0
            || bytes
                .get(start - 1)
                .is_some_and(|b| matches!(b, b'<' | b' ' | b'\t' | b',' | b':' | b'"' | b'\r' | b'\n'));
        if !at_boundary {
            continue;
        }
        let rest = text.get(start + prefix.len()..)?;
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            .count();
        if len == 0 || len > 64 || rest.as_bytes().get(len) != Some(&b'@') {
            continue;
        }
        return rest.get(..len).map(str::to_string);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12.AbCdEfGhIj-_MnOp";

    fn message(headers: &str, body: &str) -> Vec<u8> {
        format!(
            "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jorg.muller@example.de>\r\n{headers}Subject: =?utf-8?q?AW:_[Q#12]_Eine_Antwort_auf_Ihre_Frage?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{body}"
        )
        .into_bytes()
    }

    #[test]
    fn a_reply_names_its_question_by_its_address_and_is_decoded() {
        let raw = message(
            &format!("To: \"Anchora Support\" <support+{TOKEN}@crm.example.se>\r\n"),
            "Danke, das hat geholfen. Gr=FC=DFe\r\n",
        );
        let reply = read_reply(&raw, PLUS_PREFIX).unwrap();
        assert_eq!(reply.from, "jorg.muller@example.de");
        assert_eq!(reply.reference.as_deref(), Some(TOKEN));
        assert_eq!(reply.subject, "AW: [Q#12] Eine Antwort auf Ihre Frage");
        assert!(reply.text.contains("Grüße"), "{}", reply.text);
    }

    #[test]
    fn a_reply_without_the_address_is_kept_when_its_text_quotes_the_reference() {
        let raw = message(
            "To: support@crm.example.se\r\n",
            &format!("Danke!\r\n\r\n> Referenz: {TOKEN}\r\n"),
        );
        let reply = read_reply(&raw, PLUS_PREFIX).unwrap();
        assert_eq!(reply.reference, None);
        let raw = message("To: support@crm.example.se\r\n", "Danke!\r\n");
        assert_eq!(
            read_reply(&raw, PLUS_PREFIX),
            None,
            "no question named: left for a person"
        );
    }

    #[test]
    fn machines_are_not_threaded() {
        let to = format!("To: <support+{TOKEN}@crm.example.se>\r\n");
        for header in [
            "Auto-Submitted: auto-replied\r\n",
            "Precedence: bulk\r\n",
            "X-Autoreply: yes\r\n",
            "List-Id: <users.lists.example.org>\r\n",
        ] {
            let raw = message(&format!("{to}{header}"), "Ich bin nicht im Büro.\r\n");
            assert_eq!(read_reply(&raw, PLUS_PREFIX), None, "{header}");
        }
        let raw = message(&format!("{to}Auto-Submitted: no\r\n"), "Danke\r\n");
        assert!(read_reply(&raw, PLUS_PREFIX).is_some());
        let bounce = include_bytes!("bounces/fixtures/postfix_failed.eml");
        assert_eq!(read_reply(bounce, PLUS_PREFIX), None);
        assert_eq!(read_reply(b"not a message at all", PLUS_PREFIX), None);
    }

    #[test]
    fn references_in_addresses() {
        assert_eq!(
            reference_in(&format!("Support <SUPPORT+{TOKEN}@x.se>"), PLUS_PREFIX).as_deref(),
            Some(TOKEN)
        );
        assert_eq!(reference_in(&format!("mysupport+{TOKEN}@x.se"), PLUS_PREFIX), None);
        assert_eq!(reference_in("support+@x.se", PLUS_PREFIX), None);
        assert_eq!(reference_in(&format!("support+{TOKEN}"), PLUS_PREFIX), None);
        assert_eq!(
            reference_in(&format!("a@b.se, support+{TOKEN}@x.se"), PLUS_PREFIX).as_deref(),
            Some(TOKEN)
        );
        assert_eq!(
            reply_address("support@crm.example.se", TOKEN).as_deref(),
            Some("support+12.AbCdEfGhIj-_MnOp@crm.example.se")
        );
        assert_eq!(reply_address("support+x@crm.example.se", TOKEN), None);
        assert_eq!(reply_address("support", TOKEN), None);
        // Another support address: its own local part marks the answers.
        let prefix = plus_prefix(Some("Helpdesk@crm.example.se"));
        assert_eq!(prefix, "helpdesk+");
        assert_eq!(
            reference_in(&format!("<helpdesk+{TOKEN}@crm.example.se>"), &prefix).as_deref(),
            Some(TOKEN)
        );
        assert_eq!(
            reference_in(&format!("<support+{TOKEN}@crm.example.se>"), &prefix),
            None
        );
        assert_eq!(plus_prefix(None), PLUS_PREFIX);
    }
}
