//! One bounce report read from a raw message: a delivery status notification (RFC 3464) or, for
//! the mail systems that send none, a classic bounce known by its subject. The message's MIME
//! structure is read by `mail-parser`; the delivery-status fields by [`blocks`] here.

use mail_parser::{Message, MessageParser, MimeHeaders};

/// A mailing's message that did not arrive, as the report about it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The tag of the envelope sender the mailing used, `bounces+<verp>@<domain>`: it names the
    /// mailing and the recipient. Opaque here.
    pub verp: String,
    /// A hard bounce (the action `failed` with a 5.x.x status): the address will not work. False
    /// for a delay or a temporary failure (4.x.x), which may still resolve itself.
    pub permanent: bool,
    /// The enhanced status code (RFC 3463), such as `5.1.1`; `5.0.0` for a classic bounce.
    pub status: String,
    /// The report's final recipient, without its `rfc822;` type.
    pub recipient: Option<String>,
    /// What the remote server said, without its `smtp;` type, folded lines joined; at most
    /// [`MAX_DIAGNOSTIC`] bytes.
    pub diagnostic: Option<String>,
}

/// The longest diagnostic kept (some servers send pages).
pub const MAX_DIAGNOSTIC: usize = 1000;

/// The longest VERP tag taken.
const MAX_TAG: usize = 200;

/// The headers, in this order, that may carry the address a bounce was delivered to.
const DELIVERED_TO: [&str; 4] = ["to", "delivered-to", "x-original-to", "envelope-to"];

/// How bounces without a delivery-status part begin their subject (Postfix, Exim, Gmail,
/// Exchange, sendmail, qmail), in lower case.
const CLASSIC_SUBJECTS: [&str; 8] = [
    "undelivered mail returned to sender",
    "mail delivery failed",
    "delivery status notification (failure)",
    "undeliverable:",
    "undeliverable mail",
    "returned mail:",
    "failure notice",
    "mail delivery failure",
];

/// Reads one raw RFC 5322 message. `None` when it is no bounce of ours: not a report of a failed
/// or delayed delivery (a reply, an auto-reply, a success notice), or no VERP tag found.
pub fn read_bounce(raw: &[u8]) -> Option<Bounce> {
    let message = MessageParser::default().parse(raw)?;
    let report = delivery_status(&message);
    let verdict = match &report {
        Some(blocks) => verdict_of_report(blocks)?,
        None => classic_verdict(&message)?,
    };
    let verp = verp_of(&message, report.as_deref())?;
    Some(Bounce {
        verp,
        permanent: verdict.permanent,
        status: verdict.status,
        recipient: verdict.recipient,
        diagnostic: verdict.diagnostic,
    })
}

/// The fields of one block: names in lower case, values trimmed with folded lines joined.
type Fields = Vec<(String, String)>;

struct Verdict {
    permanent: bool,
    status: String,
    recipient: Option<String>,
    diagnostic: Option<String>,
}

/// The blocks of the message's `message/delivery-status` part (or RFC 6533's global one).
fn delivery_status(message: &Message<'_>) -> Option<Vec<Fields>> {
    message
        .parts
        .iter()
        .find(|part| {
            part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct.subtype().is_some_and(|sub| {
                        sub.eq_ignore_ascii_case("delivery-status")
                            || sub.eq_ignore_ascii_case("global-delivery-status")
                    })
            })
        })
        .map(|part| blocks(&String::from_utf8_lossy(part.contents())))
}

/// Header-like blocks separated by blank lines (RFC 3464 §2.1): CRLF or LF, folded lines,
/// field names in any case. Lines that are no field are skipped.
fn blocks(text: &str) -> Vec<Fields> {
    let mut out = Vec::new();
    let mut block: Fields = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                out.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !block.is_empty() {
        out.push(block);
    }
    out
}

/// The fields of a message's header: the text up to its first blank line.
fn header_fields(text: &str) -> Fields {
    let end = [text.find("\r\n\r\n"), text.find("\n\n")].into_iter().flatten().min();
    let head = end.and_then(|end| text.get(..end)).unwrap_or(text);
    blocks(head).into_iter().next().unwrap_or_default()
}

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Failed,
    Delayed,
    Delivered,
}

/// The report's verdict: the first recipient that failed for good, else the first one delayed
/// or failed for now; `None` when every recipient was delivered, relayed or expanded.
fn verdict_of_report(blocks: &[Fields]) -> Option<Verdict> {
    let recipients: Vec<(Outcome, &Fields)> = blocks
        .iter()
        .filter(|b| {
            ["action", "status", "final-recipient"]
                .iter()
                .any(|n| field(b, n).is_some())
        })
        .filter_map(|b| outcome(b).map(|o| (o, b)))
        .collect();
    let (outcome, fields) = recipients
        .iter()
        .find(|(o, _)| *o == Outcome::Failed)
        .or_else(|| recipients.iter().find(|(o, _)| *o == Outcome::Delayed))?;
    let permanent = *outcome == Outcome::Failed;
    let status = field(fields, "status")
        .and_then(status_code)
        .unwrap_or(if permanent { "5.0.0" } else { "4.0.0" })
        .to_string();
    Some(Verdict {
        permanent,
        status,
        recipient: field(fields, "final-recipient")
            .or_else(|| field(fields, "original-recipient"))
            .and_then(address_of),
        diagnostic: field(fields, "diagnostic-code").and_then(diagnostic_of),
    })
}

/// What happened to one recipient: `Action: failed` with a 5.x.x status (or none) is a failure
/// for good; `delayed`, or a 4.x.x status, one for now; delivered, relayed and expanded no
/// failure. Without an action, the status's class decides.
fn outcome(fields: &Fields) -> Option<Outcome> {
    let class = field(fields, "status")
        .and_then(status_code)
        .and_then(|s| s.chars().next());
    let action = field(fields, "action")
        .and_then(|a| a.split_whitespace().next())
        .map(str::to_ascii_lowercase);
    match (action.as_deref(), class) {
        (Some("delivered" | "relayed" | "expanded"), _) => Some(Outcome::Delivered),
        (Some("delayed"), _) | (_, Some('4')) => Some(Outcome::Delayed),
        (Some("failed"), _) | (_, Some('5')) => Some(Outcome::Failed),
        (_, Some('2')) => Some(Outcome::Delivered),
        _ => None,
    }
}

/// An enhanced status code (`class.subject.detail`, RFC 3463) at the start of a Status field;
/// a comment after it is dropped.
fn status_code(value: &str) -> Option<&str> {
    let code = value.split(|c: char| c.is_whitespace() || c == '(').next()?;
    let mut parts = code.split('.');
    let class = parts.next()?;
    let valid = matches!(class, "2" | "4" | "5")
        && parts.clone().count() == 2
        && parts.all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    valid.then_some(code)
}

/// `rfc822; <jane@example.net>` → `jane@example.net`.
fn address_of(value: &str) -> Option<String> {
    let address = strip_type(value)
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!address.is_empty()).then(|| address.to_string())
}

/// `smtp; 550 5.1.1 …` → `550 5.1.1 …`, cut at [`MAX_DIAGNOSTIC`] bytes.
fn diagnostic_of(value: &str) -> Option<String> {
    let mut text = strip_type(value).trim();
    if text.len() > MAX_DIAGNOSTIC {
        let mut end = MAX_DIAGNOSTIC;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = text.get(..end).unwrap_or_default();
    }
    (!text.is_empty()).then(|| text.to_string())
}

/// Drops the type before the first `;` (`rfc822`, `smtp`, `X-Postfix`), if there is one: a
/// single word.
fn strip_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest)) if !kind.trim().is_empty() && !kind.trim().contains(char::is_whitespace) => rest,
        _ => value,
    }
}

/// A bounce without a delivery-status part, known by how its subject begins: a failure for good
/// with status 5.0.0. Exim names the failed recipients in `X-Failed-Recipients`.
fn classic_verdict(message: &Message<'_>) -> Option<Verdict> {
    let subject = message.subject()?.trim().to_lowercase();
    if !CLASSIC_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return None;
    }
    let recipient = raw_headers(message, "x-failed-recipients")
        .into_iter()
        .find_map(|v| v.split(',').next().and_then(address_of));
    Some(Verdict {
        permanent: true,
        status: "5.0.0".to_string(),
        recipient,
        diagnostic: None,
    })
}

/// The values of the message's own headers of one name (any case), as text: bytes that are no
/// UTF-8 (raw Latin-1 names) become U+FFFD and do not hide the address beside them.
pub(crate) fn raw_headers(message: &Message<'_>, name: &str) -> Vec<String> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .filter_map(|h| message.raw_message.get(h.offset_start as usize..h.offset_end as usize))
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect()
}

/// The VERP tag: from the address the bounce was delivered to, else from the returned message's
/// `Return-Path`, else from Postfix's `X-Postfix-Sender` in the report.
fn verp_of(message: &Message<'_>, report: Option<&[Fields]>) -> Option<String> {
    for name in DELIVERED_TO {
        if let Some(tag) = raw_headers(message, name).iter().find_map(|v| find_tag(v)) {
            return Some(tag);
        }
    }
    let returned = message.parts.iter().filter(|part| {
        part.content_type().is_some_and(|ct| {
            let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
            match ct.ctype().to_ascii_lowercase().as_str() {
                "message" => matches!(sub.as_str(), "rfc822" | "global" | "rfc822-headers" | "global-headers"),
                "text" => sub == "rfc822-headers",
                _ => false,
            }
        })
    });
    for part in returned {
        let fields = header_fields(&String::from_utf8_lossy(part.contents()));
        if let Some(tag) = field(&fields, "return-path").and_then(find_tag) {
            return Some(tag);
        }
    }
    report?
        .iter()
        .find_map(|block| field(block, "x-postfix-sender").and_then(find_tag))
}

/// The tag of the first `bounces+<tag>@` address in a header's text: `bounces+` in any case,
/// at the start of a local part, then `[A-Za-z0-9_-]+` and `@`.
fn find_tag(text: &str) -> Option<String> {
    const PREFIX: &[u8] = b"bounces+";
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find("bounces+")) {
        let start = from + found;
        from = start + 1;
        let at_boundary = start == 0
            || bytes
                .get(start - 1)
                .is_some_and(|&b| !(b.is_ascii_alphanumeric() || b"._+-=!#$%&'*/?^`{|}~".contains(&b)));
        if !at_boundary {
            continue;
        }
        let tag_start = start + PREFIX.len();
        let tag_len = bytes
            .get(tag_start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
            .count();
        if tag_len == 0 || tag_len > MAX_TAG || bytes.get(tag_start + tag_len) != Some(&b'@') {
            continue;
        }
        return text.get(tag_start..tag_start + tag_len).map(str::to_string);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each fixture as stored (LF) and as an IMAP server hands it out (CRLF).
    fn both(raw: &[u8]) -> [Vec<u8>; 2] {
        let mut crlf = Vec::with_capacity(raw.len() + raw.len() / 20);
        for &b in raw {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        [raw.to_vec(), crlf]
    }

    fn read(raw: &[u8]) -> Bounce {
        let [lf, crlf] = both(raw);
        let bounce = read_bounce(&lf).expect("a bounce");
        assert_eq!(read_bounce(&crlf).as_ref(), Some(&bounce), "CRLF reads as LF does");
        bounce
    }

    fn none(raw: &[u8]) {
        for variant in both(raw) {
            assert_eq!(read_bounce(&variant), None);
        }
    }

    #[test]
    fn postfix_hard_bounce() {
        let b = read(include_bytes!("fixtures/postfix_failed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r91bc04");
        assert!(b.permanent);
        assert_eq!(b.status, "5.1.1");
        assert_eq!(b.recipient.as_deref(), Some("jane.doe@example.net"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.1.1 <jane.doe@example.net>: Recipient address rejected: User unknown in virtual mailbox table")
        );
    }

    #[test]
    fn postfix_delay_is_soft() {
        let b = read(include_bytes!("fixtures/postfix_delayed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r77aa10");
        assert!(!b.permanent);
        assert_eq!(b.status, "4.4.1");
        assert_eq!(b.recipient.as_deref(), Some("ops@slow.example.org"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("connect to mx.slow.example.org[203.0.113.9]:25: Connection timed out")
        );
    }

    #[test]
    fn exim_with_a_latin1_name_in_to() {
        let b = read(include_bytes!("fixtures/exim_failed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r5e6f70");
        assert!(b.permanent);
        assert_eq!(b.status, "5.0.0");
        assert_eq!(b.recipient.as_deref(), Some("j.mueller@example.de"));
        assert!(
            b.diagnostic
                .as_deref()
                .is_some_and(|d| d.starts_with("550 5.1.1 <j.mueller"))
        );
    }

    #[test]
    fn office_365_recipient_not_found() {
        let b = read(include_bytes!("fixtures/o365_failed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r0c0ffe");
        assert!(b.permanent);
        assert_eq!(b.status, "5.1.10");
        assert_eq!(b.recipient.as_deref(), Some("old.user@contoso.com"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
        );
    }

    #[test]
    fn exchange_delay_4_4_7_is_soft() {
        let b = read(include_bytes!("fixtures/exchange_delayed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r4d4d4d");
        assert!(!b.permanent);
        assert_eq!(b.status, "4.4.7");
        assert_eq!(b.recipient.as_deref(), Some("kari.nordmann@corp.example.com"));
        assert_eq!(b.diagnostic, None);
    }

    #[test]
    fn gmail_no_such_user_with_utf8_names_in_the_returned_headers() {
        let b = read(include_bytes!("fixtures/gmail_failed.eml"));
        assert_eq!(b.verp, "m3f2a9c-r1a2b3c");
        assert!(b.permanent);
        assert_eq!(b.status, "5.1.1");
        assert_eq!(b.recipient.as_deref(), Some("no.such.person.4711@gmail.com"));
        let diagnostic = b.diagnostic.unwrap();
        assert!(diagnostic.starts_with("550-5.1.1 The email account that you tried to reach does not exist."));
        assert!(diagnostic.ends_with("- gsmtp"), "folded lines are joined: {diagnostic}");
    }

    #[test]
    fn a_report_addressed_elsewhere_is_known_by_the_returned_return_path() {
        // sendmail, with a raw Latin-1 name in To (no UTF-8) and the report sent to From.
        let raw = include_bytes!("fixtures/sendmail_returned.eml");
        assert!(raw.contains(&0xd6), "a raw Latin-1 Ö");
        let b = read(raw);
        assert_eq!(b.verp, "m3f2a9c-r0b0e7e");
        assert!(b.permanent);
        assert_eq!(b.status, "5.2.1");
        assert_eq!(b.recipient.as_deref(), Some("lars.oberg@example.se"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.2.1 Mailbox disabled for this recipient")
        );
    }

    #[test]
    fn a_report_of_success_is_no_bounce() {
        none(include_bytes!("fixtures/relayed_success.eml"));
        let delivered = String::from_utf8_lossy(include_bytes!("fixtures/relayed_success.eml"))
            .replace("Action: relayed", "Action: delivered");
        none(delivered.as_bytes());
    }

    #[test]
    fn a_classic_bounce_without_a_report_is_permanent() {
        let b = read(include_bytes!("fixtures/exim_plain.eml"));
        assert_eq!(b.verp, "m3f2a9c-r3c3c3c");
        assert!(b.permanent);
        assert_eq!(b.status, "5.0.0");
        assert_eq!(b.recipient.as_deref(), Some("p.jones@example.org.uk"));
        assert_eq!(b.diagnostic, None);
        // qmail's subject; and no tag anywhere: no bounce of ours.
        let qmail = String::from_utf8_lossy(include_bytes!("fixtures/exim_plain.eml")).replace(
            "Subject: Mail delivery failed: returning message to sender",
            "Subject: failure notice",
        );
        assert_eq!(read(qmail.as_bytes()).verp, "m3f2a9c-r3c3c3c");
        let untagged = qmail.replace("bounces+m3f2a9c-r3c3c3c@", "newsletter@");
        none(untagged.as_bytes());
    }

    #[test]
    fn replies_and_auto_replies_are_no_bounces() {
        none(include_bytes!("fixtures/reply.eml"));
        none(include_bytes!("fixtures/autoreply.eml"));
        none(b"");
        none(b"not a message at all");
    }

    #[test]
    fn a_report_without_a_tag_is_none() {
        let raw = String::from_utf8_lossy(include_bytes!("fixtures/postfix_failed.eml"))
            .replace("bounces+m3f2a9c-r91bc04@", "newsletter@");
        none(raw.as_bytes());
    }

    #[test]
    fn of_several_recipients_the_failed_one_counts() {
        let raw = "To: bounces+t1@x.example\nSubject: report\nMIME-Version: 1.0\n\
            Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n\
            --b\nContent-Type: message/delivery-status\n\n\
            reporting-mta: dns; x.example\n\n\
            FINAL-RECIPIENT: rfc822; a@example.com\nACTION: delivered\nSTATUS: 2.0.0\n\n\
            final-recipient: rfc822; b@example.com\naction: delayed\nstatus: 4.2.2\n\n\
            final-recipient: RFC822;<c@example.com>\naction: Failed\nstatus: 5.2.2 (mailbox full)\n\n\
            --b--\n";
        let b = read(raw.as_bytes());
        assert_eq!((b.verp.as_str(), b.permanent, b.status.as_str()), ("t1", true, "5.2.2"));
        assert_eq!(b.recipient.as_deref(), Some("c@example.com"));
        // Without the failure, the delay; a failure with a 4.x.x status is soft too.
        let delayed = raw.replace("action: Failed\nstatus: 5.2.2 (mailbox full)", "action: delivered");
        let b = read(delayed.as_bytes());
        assert_eq!((b.permanent, b.status.as_str()), (false, "4.2.2"));
        let expired = raw.replace("status: 5.2.2 (mailbox full)", "status: 4.4.7");
        let b = read(expired.as_bytes());
        assert_eq!((b.permanent, b.status.as_str()), (false, "4.2.2"));
        assert_eq!(b.recipient.as_deref(), Some("b@example.com"));
    }

    #[test]
    fn status_codes() {
        assert_eq!(status_code("5.1.1"), Some("5.1.1"));
        assert_eq!(status_code("5.1.10 (whatever)"), Some("5.1.10"));
        assert_eq!(status_code("4.4.7(x)"), Some("4.4.7"));
        assert_eq!(status_code("550"), None);
        assert_eq!(status_code("3.1.1"), None);
        assert_eq!(status_code("5.1"), None);
        assert_eq!(status_code("5.1.1.1"), None);
        assert_eq!(status_code("5.a.1"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(find_tag("<bounces+m1-r2@x.example>").as_deref(), Some("m1-r2"));
        assert_eq!(find_tag("Name <BOUNCES+Ab_9@x.example>").as_deref(), Some("Ab_9"));
        assert_eq!(find_tag("bounces+a@x, bounces+b@y").as_deref(), Some("a"));
        assert_eq!(find_tag("rfc822; bounces+abc@x.example").as_deref(), Some("abc"));
        assert_eq!(find_tag("xbounces+abc@x.example"), None);
        assert_eq!(find_tag("bounces+@x.example"), None);
        assert_eq!(find_tag("bounces+a.b@x.example"), None);
        assert_eq!(find_tag("bounces+abc"), None);
        assert_eq!(find_tag("bounces+abc x@y"), None);
        assert_eq!(find_tag("no+bounces+abc@x, bounces+ok@y").as_deref(), Some("ok"));
        assert_eq!(find_tag(&format!("bounces+{}@x", "a".repeat(MAX_TAG + 1))), None);
    }

    #[test]
    fn blocks_fold_and_ignore_case() {
        let text = "Reporting-MTA: dns; a\r\n\r\n  \r\nFinal-Recipient: rfc822;x@y\r\nDiagnostic-Code: smtp; 550\r\n  5.1.1\r\n\tgone\r\nnonsense line\r\n\n";
        let b = blocks(text);
        assert_eq!(b.len(), 2);
        assert_eq!(field(&b[1], "diagnostic-code"), Some("smtp; 550 5.1.1 gone"));
        assert_eq!(field(&b[1], "final-recipient"), Some("rfc822;x@y"));
        assert_eq!(field(&b[0], "reporting-mta"), Some("dns; a"));
    }

    #[test]
    fn long_diagnostics_are_cut_at_a_character() {
        let long = format!("smtp; {}", "ö".repeat(MAX_DIAGNOSTIC));
        let cut = diagnostic_of(&long).unwrap();
        assert!(cut.len() <= MAX_DIAGNOSTIC && cut.chars().all(|c| c == 'ö'));
    }
}
