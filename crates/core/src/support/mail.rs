//! Who is told what by e-mail about a question, worked out from its recent steps: the level's
//! people when it is raised, passed on or about to breach, the requester when the chain
//! answers or resolves it, the one handling it when the requester answers. Each (step,
//! recipient) is marked before it is sent, so it goes once however many senders run; the web
//! crate words and sends them. A reply token signs the question's number for its recipient, so
//! an e-mailed answer can be threaded back — from that recipient only: a notice forwarded, or
//! its reference copied, lets nobody else write as someone who may answer.

use super::{EventKind, Level, Question, QuestionEvent, Status};
use crate::auth::Role;
use crate::error::{Error, Result};
use crate::identity::User;
use crate::ids::{QuestionEventId, UserId};
use crate::service::Crm;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Steps older than this are not e-mailed any more (a server that was down does not flood).
const MAIL_WINDOW_HOURS: i64 = 48;
const SECRET_SETTING: &str = "support_reply_secret";

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportMailKind {
    Raised,
    Escalated,
    /// The chain answered the requester.
    Answered,
    /// The requester answered the chain.
    RequesterReplied,
    Resolved,
    Warning,
}

/// One notice owed.
#[derive(Debug, Clone)]
pub struct SupportMail {
    pub event: QuestionEventId,
    pub kind: SupportMailKind,
    pub question: Question,
    pub to: User,
    /// The step's text (a reply's), empty for others.
    pub text: String,
    /// Signs the question's number for the recipient: `12.<signature>`, carried in the
    /// reply address and the text.
    pub token: String,
}

/// The most references one e-mail is searched for: a stranger's long mail full of look-alikes
/// costs a few keyed hashes per user, not one per word.
const MAX_REFERENCES: usize = 8;

fn mac_of(secret: &[u8], number: i64, to: UserId) -> Result<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|e| Error::internal(e.to_string()))?;
    mac.update(format!("question:{number}:to:{to}").as_bytes());
    Ok(mac)
}

fn sign(secret: &[u8], number: i64, to: UserId) -> Result<String> {
    let sig = mac_of(secret, number, to)?.finalize().into_bytes();
    Ok(URL_SAFE_NO_PAD.encode(sig.get(..12).unwrap_or_default()))
}

/// A reference's question number and signature bytes, when it reads as one.
fn parse_reference(token: &str) -> Option<(i64, Vec<u8>)> {
    let (number, sig) = token.trim().split_once('.')?;
    let number = number.parse::<i64>().ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    (sig.len() == 12).then_some((number, sig))
}

/// Whether a reference was signed for `to` (compared in constant time).
fn signed_for(secret: &[u8], number: i64, sig: &[u8], to: UserId) -> Result<bool> {
    Ok(mac_of(secret, number, to)?.verify_truncated_left(sig).is_ok())
}

impl Crm {
    async fn support_secret(&self) -> Result<Vec<u8>> {
        if let Some(text) = self.store.setting(SECRET_SETTING).await? {
            return URL_SAFE_NO_PAD
                .decode(text.trim_matches('"'))
                .map_err(|e| Error::internal(e.to_string()));
        }
        let secret: [u8; 32] = rand::random();
        let text =
            serde_json::to_string(&URL_SAFE_NO_PAD.encode(secret)).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting_if_absent(SECRET_SETTING, &text).await?;
        // Two made at once: the first kept stays.
        Box::pin(self.support_secret()).await
    }

    /// The token a question's e-mails to one person carry (`12.AbC…`).
    pub async fn support_reply_token(&self, number: i64, to: UserId) -> Result<String> {
        Ok(format!("{number}.{}", sign(&self.support_secret().await?, number, to)?))
    }

    /// The question a token names and the person it was given to, when its signature holds
    /// for one of this workspace's users.
    pub async fn question_of_reply_token(&self, token: &str) -> Result<Option<(i64, UserId)>> {
        let secret = self.support_secret().await?;
        let users = self.store.users().await?;
        whose_reference(&secret, &[token], &users)
    }

    /// Who answers a question at its level now: its assignee while active, else the level's
    /// people.
    async fn level_people(&self, q: &Question, users: &[User]) -> Result<Vec<UserId>> {
        // An assignee who can no longer sign in hears nothing: the level's people do.
        if let Some(a) = q.assignee
            && users.iter().any(|u| u.id == a && u.active)
        {
            return Ok(vec![a]);
        }
        Ok(match q.level {
            Level::KeyUser => self.key_users_of(q.team).await?,
            Level::It | Level::Vendor => users.iter().filter(|u| u.role == Role::Admin).map(|u| u.id).collect(),
        })
    }

    /// The notices owed for the steps of the last two days, not yet marked as sent.
    pub async fn due_support_mails(&self) -> Result<Vec<SupportMail>> {
        let since = self.clock.now() - Duration::hours(MAIL_WINDOW_HOURS);
        let events = self.store.support_events_since(since).await?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let users = self.store.users().await?;
        let secret = self.support_secret().await?;
        let mut out = Vec::new();
        for e in events {
            let Some(q) = self.store.question(e.question).await? else {
                continue;
            };
            let Some((kind, to)) = self.notice_of(&e, &q, &users).await? else {
                continue;
            };
            for id in to {
                if Some(id) == e.actor || self.store.support_mail_sent(e.id, id).await? {
                    continue;
                }
                let Some(user) = users.iter().find(|u| u.id == id && u.active && u.email.is_some()) else {
                    continue;
                };
                out.push(SupportMail {
                    event: e.id,
                    kind,
                    token: format!("{}.{}", q.number, sign(&secret, q.number, user.id)?),
                    question: q.clone(),
                    to: user.clone(),
                    text: e.body.clone(),
                });
            }
        }
        Ok(out)
    }

    async fn notice_of(
        &self,
        e: &QuestionEvent,
        q: &Question,
        users: &[User],
    ) -> Result<Option<(SupportMailKind, Vec<UserId>)>> {
        let level_people = || self.level_people(q, users);
        Ok(match e.kind {
            EventKind::Raised => Some((SupportMailKind::Raised, level_people().await?)),
            EventKind::Escalated => {
                let to = match e.detail.get("to").and_then(|v| v.as_str()) {
                    Some("system_owner") => q.assignee.into_iter().collect(),
                    Some("administrators") => users.iter().filter(|u| u.role == Role::Admin).map(|u| u.id).collect(),
                    _ => level_people().await?,
                };
                Some((SupportMailKind::Escalated, to))
            }
            EventKind::Reply | EventKind::EmailReply if e.actor == Some(q.requester) => {
                Some((SupportMailKind::RequesterReplied, level_people().await?))
            }
            EventKind::Reply | EventKind::EmailReply => Some((SupportMailKind::Answered, vec![q.requester])),
            EventKind::Status if e.detail.get("to").and_then(|v| v.as_str()) == Some(Status::Resolved.as_str()) => {
                Some((SupportMailKind::Resolved, vec![q.requester]))
            }
            EventKind::Warning => Some((SupportMailKind::Warning, level_people().await?)),
            _ => None,
        })
    }

    /// Mark a notice as sent before it goes; `false` when another sender has it.
    pub async fn mark_support_mail(&self, m: &SupportMail) -> Result<bool> {
        self.store.mark_support_mail(m.event, m.to.id, self.clock.now()).await
    }

    /// A notice the mail server refused is owed again.
    pub async fn unmark_support_mail(&self, m: &SupportMail) -> Result<()> {
        self.store.unmark_support_mail(m.event, m.to.id).await
    }
}

/// What became of an e-mail read from the support mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threaded {
    /// Kept as a public reply on question #n.
    Into(i64),
    /// No valid reference in it.
    NoReference,
    /// Its sender is no active user.
    UnknownSender,
    /// Its sender may not see the question (or may not write), or the reference was given to
    /// someone else.
    NotAllowed,
    /// Nothing left once the quoted text is taken away.
    Empty,
    /// Kept on question #n already (the same message read again).
    Again(i64),
}

/// What may be a signed reference anywhere in a text: `12.` and 16 URL-safe characters (the
/// signature is checked by [`Crm::question_of_reply_token`]).
pub fn reference_candidates(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| {
            w.split_once('.')
                .is_some_and(|(n, sig)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && sig.len() == 16)
        })
        .collect()
}

/// The new text of a reply: what comes before the quoted message (`> ` lines, "On … wrote:",
/// a forwarded or original message's header, in the five languages), trimmed.
pub fn strip_quoted(text: &str) -> String {
    let mut kept = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        // "On … Kim <kim@…> wrote:", "Den … skrev Kim:", "Am … schrieb Kim:", "El … escribió:".
        let said = ["wrote", "skrev", "schrieb", "escribió"]
            .iter()
            .any(|w| lower.contains(&format!(" {w}")) || lower.starts_with(w));
        let quote_head = (lower.ends_with(':')
            && said
            && ["on ", "den ", "am ", "el ", "d. "]
                .iter()
                .any(|p| lower.starts_with(p)))
            || [
                "-----original message",
                "-----ursprüngliche nachricht",
                "-----ursprungligt meddelande",
                "-----oprindelig meddelelse",
                "-----mensaje original",
            ]
            .iter()
            .any(|p| lower.starts_with(p))
            // Outlook's header block of the message answered: "From: Kim <kim@…>" in each
            // language ("Från:", "Von:", "Fra:", "De:"), known by the address it names.
            || (["from:", "från:", "von:", "fra:", "de:"].iter().any(|p| lower.starts_with(p))
                && (t.contains('@') || t.contains('<')));
        if quote_head {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

impl Crm {
    /// Thread an e-mail into its question: a valid signed reference (in the given header, the
    /// subject or the text), sent by the active user it was given to, who may see and write to
    /// it; a message (by its Message-ID) is kept once, however often it is read;
    /// the text without what it quotes becomes a public reply from them. Anything else is
    /// left out and said why (the caller logs it).
    pub async fn thread_email_reply(
        &self,
        from: &str,
        subject: &str,
        text: &str,
        header: Option<&str>,
        message_id: Option<&str>,
    ) -> Result<Threaded> {
        let mut candidates: Vec<&str> = Vec::new();
        for c in header
            .into_iter()
            .chain(reference_candidates(subject))
            .chain(reference_candidates(text))
        {
            if !candidates.contains(&c) && candidates.len() < MAX_REFERENCES {
                candidates.push(c);
            }
        }
        if candidates.is_empty() {
            return Ok(Threaded::NoReference);
        }
        let secret = self.support_secret().await?;
        // Users' addresses are kept in lower case (as `identity` makes them); mail programs
        // write them as people typed them.
        let from = from.trim().to_lowercase();
        let sender = self.store.user_by_email(&from).await?.filter(|u| u.active);
        // The sender's own reference, checked for them alone first.
        let mut number = None;
        if let Some(user) = &sender {
            for c in &candidates {
                if let Some((n, sig)) = parse_reference(c)
                    && signed_for(&secret, n, &sig, user.id)?
                {
                    number = Some(n);
                    break;
                }
            }
        }
        let (Some(number), Some(user)) = (number, sender.as_ref()) else {
            // Someone else's reference (a notice forwarded, a sender forged), or none of ours.
            let users = self.store.users().await?;
            return Ok(match (whose_reference(&secret, &candidates, &users)?, sender) {
                (None, _) => Threaded::NoReference,
                (Some(_), None) => Threaded::UnknownSender,
                (Some(_), Some(_)) => Threaded::NotAllowed,
            });
        };
        let body = mailed_text(&strip_quoted(text));
        if body.is_empty() {
            return Ok(Threaded::Empty);
        }
        let who = crate::auth::Principal::new(user.id, user.role, user.team, crate::auth::Credential::Session);
        match self
            .reply_to_question(
                &who,
                &number.to_string(),
                EventKind::EmailReply,
                &body,
                message_key(message_id).as_deref(),
            )
            .await
        {
            Ok(Some(_)) => Ok(Threaded::Into(number)),
            Ok(None) => Ok(Threaded::Again(number)),
            Err(e)
                if matches!(
                    e.code,
                    crate::error::ErrorCode::NotFound | crate::error::ErrorCode::Forbidden
                ) =>
            {
                Ok(Threaded::NotAllowed)
            }
            Err(e) => Err(e),
        }
    }
}

/// The question a reference names and whom it was given to, of the first that holds for one
/// of the users.
fn whose_reference(secret: &[u8], candidates: &[&str], users: &[User]) -> Result<Option<(i64, UserId)>> {
    for c in candidates {
        let Some((number, sig)) = parse_reference(c) else {
            continue;
        };
        for user in users {
            if signed_for(secret, number, &sig, user.id)? {
                return Ok(Some((number, user.id)));
            }
        }
    }
    Ok(None)
}

/// A Message-ID as kept: without its angle brackets, none when empty or longer than a header
/// line may be.
fn message_key(message_id: Option<&str>) -> Option<String> {
    let id = message_id?.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= 998 && !id.chars().any(char::is_control)).then(|| id.to_string())
}

/// A mailed text as a reply takes it: without the control characters some mail programs leave
/// in (a form feed, a NUL), and cut to the longest reply with an ellipsis rather than refused.
fn mailed_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect();
    if clean.chars().count() <= super::MAX_LONG_TEXT {
        return clean.trim().to_string();
    }
    let mut cut: String = clean.chars().take(super::MAX_LONG_TEXT - 1).collect();
    cut.push('…');
    cut.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_left_out() {
        let text = "Thanks, that worked.\n\nOn Mon, 23 Nov 2026 Kim wrote:\n> Use the export button\n";
        assert_eq!(strip_quoted(text), "Thanks, that worked.");
        assert_eq!(strip_quoted("> only quoted\n"), "");
        assert_eq!(strip_quoted("Tack!\nDen 23 nov. 2026 skrev Kim:\n> x"), "Tack!");
        assert_eq!(
            strip_quoted("Danke!\n\nVon: Kim Berg <kim@example.se>\nGesendet: Montag\nBetreff: [Q#1]"),
            "Danke!"
        );
        assert_eq!(strip_quoted("Gracias\n-----Mensaje original-----\nDe: Kim"), "Gracias");
        assert_eq!(strip_quoted("Tak\nFra: Kim <kim@example.se>"), "Tak");
        // A line that only begins like a header stays.
        assert_eq!(
            strip_quoted("De: la lista de Núñez falta"),
            "De: la lista de Núñez falta"
        );
        assert_eq!(
            reference_candidates("Referens: 12.AbCdEfGhIjKlMnOp."),
            vec!["12.AbCdEfGhIjKlMnOp"]
        );
        assert!(reference_candidates("version 1.2 of 3.4").is_empty());
    }

    #[test]
    fn a_mailed_text_is_kept_whole_or_cut_never_refused() {
        assert_eq!(mailed_text("Tack\u{c}!\u{0}\r\n"), "Tack!");
        let long = "ö".repeat(super::super::MAX_LONG_TEXT + 10);
        let cut = mailed_text(&long);
        assert_eq!(cut.chars().count(), super::super::MAX_LONG_TEXT);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_token_signs_its_number_for_its_recipient() {
        let (kim, anna) = (UserId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)));
        let a = sign(b"secret", 12, kim).unwrap();
        assert_eq!(a, sign(b"secret", 12, kim).unwrap());
        assert_eq!(a.len(), 16, "what reference_candidates looks for");
        assert_ne!(a, sign(b"secret", 13, kim).unwrap());
        assert_ne!(a, sign(b"secret", 12, anna).unwrap());
        assert_ne!(a, sign(b"other", 12, kim).unwrap());
    }
}
