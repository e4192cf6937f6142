//! Consent per purpose (GDPR art. 6/7): subscription types (newsletter, events, product news …),
//! each person's consent to each with its source and time, kept as an append-only history so
//! it can be proven, and the one question a mailing asks: may this person be written to for
//! this purpose? A person's global "no e-mail" (the `email_consent` field withdrawn) overrides
//! every purpose.

mod service;
mod unsubscribe;

use crate::error::{Error, Result};
use crate::gdpr::CONSENT_STATUS;
use crate::ids::{RecordId, UserId};
use crate::record::Record;
use crate::value::Value;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use service::PersonConsents;
pub(crate) use unsubscribe::Signer;
pub use unsubscribe::{UnsubscribePurpose, UnsubscribeView};

/// A purpose a person may consent to, named by a stable key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purpose {
    pub key: String,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Granted,
    Withdrawn,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Granted => "granted",
            ConsentState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "granted" => Some(ConsentState::Granted),
            "withdrawn" => Some(ConsentState::Withdrawn),
            _ => None,
        }
    }
}

/// One consent given or withdrawn: never changed afterwards (the proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEvent {
    pub person: RecordId,
    pub purpose: String,
    pub state: ConsentState,
    /// Where it came from: a web form, a phone call, an import, an unsubscribe link …
    pub source: String,
    pub at: DateTime<Utc>,
    /// Who recorded it; none when the person did it themselves (an unsubscribe link).
    pub by: Option<UserId>,
}

/// Why a mailing leaves a person out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// The person has no e-mail address.
    NoAddress,
    /// The person said no to e-mail altogether.
    NoEmail,
    /// No consent to this purpose, or withdrawn.
    NoConsent,
}

/// Whether a mailing for `purpose` may go to `person`, given the person's current consent to
/// it (`consent`, the latest event, if any).
pub fn may_email(person: &Record, consent: Option<ConsentState>) -> std::result::Result<(), Skip> {
    if matches!(person.get("email"), Value::Null) {
        return Err(Skip::NoAddress);
    }
    if matches!(person.get(CONSENT_STATUS), Value::Select(c) if c == ConsentState::Withdrawn.as_str()) {
        return Err(Skip::NoEmail);
    }
    match consent {
        Some(ConsentState::Granted) => Ok(()),
        _ => Err(Skip::NoConsent),
    }
}

/// A purpose's key: lower-case letters, digits and `_`, starting with a letter, at most 40.
pub fn check_key(key: &str) -> Result<()> {
    let ok = key.len() <= 40
        && key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "key",
            "must be lower-case letters, digits and _, starting with a letter, at most 40",
        ))
    }
}

/// Where purposes and consents are kept.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// A new purpose; false when its key is taken.
    async fn add_purpose(&self, purpose: &Purpose) -> Result<bool>;
    async fn purposes(&self) -> Result<Vec<Purpose>>;
    async fn record_consent(&self, event: &ConsentEvent) -> Result<()>;
    /// Many events at once (an import of consents), in the order given.
    async fn record_consents(&self, events: &[ConsentEvent]) -> Result<()>;
    /// A person's consent events, oldest first.
    async fn consent_history(&self, person: RecordId) -> Result<Vec<ConsentEvent>>;
    /// Of these people, those whose latest consent to `purpose` is granted.
    async fn granted_among(&self, purpose: &str, people: &[RecordId]) -> Result<std::collections::HashSet<RecordId>>;
    /// Of these people, each one's latest consent to `purpose` (none when they never gave or
    /// withdrew one).
    async fn latest_consents(
        &self,
        purpose: &str,
        people: &[RecordId],
    ) -> Result<std::collections::HashMap<RecordId, ConsentState>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: Option<&str>, global: Option<&str>) -> Record {
        let now = chrono::Utc::now();
        let mut r = Record::new("person", RecordId::new_at(now), now, None);
        if let Some(e) = email {
            r.values.insert("email".into(), Value::Text(e.into()));
        }
        if let Some(g) = global {
            r.values.insert(CONSENT_STATUS.into(), Value::Select(g.into()));
        }
        r
    }

    #[test]
    fn a_mailing_needs_an_address_no_global_opt_out_and_consent_to_its_purpose() {
        let granted = Some(ConsentState::Granted);
        assert_eq!(may_email(&person(Some("a@b.se"), None), granted), Ok(()));
        assert_eq!(may_email(&person(Some("a@b.se"), Some("granted")), granted), Ok(()));
        assert_eq!(may_email(&person(None, None), granted), Err(Skip::NoAddress));
        assert_eq!(
            may_email(&person(Some("a@b.se"), Some("withdrawn")), granted),
            Err(Skip::NoEmail)
        );
        assert_eq!(may_email(&person(Some("a@b.se"), None), None), Err(Skip::NoConsent));
        assert_eq!(
            may_email(&person(Some("a@b.se"), None), Some(ConsentState::Withdrawn)),
            Err(Skip::NoConsent)
        );
    }

    #[test]
    fn purpose_keys_are_plain() {
        for ok in ["newsletter", "events_2027", "n"] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "News", "1st", "news letter", "nyhetsbrev-å", &"x".repeat(41)] {
            assert_eq!(check_key(bad).unwrap_err().errors[0].field, "key", "{bad}");
        }
    }
}
