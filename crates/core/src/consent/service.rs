//! Consent as use cases: the purposes (key users and administrators add them), a person's
//! consents as the caller may see them, and recording one.

use super::{ConsentEvent, ConsentState, Purpose, check_key};
use crate::auth::{Permission, Principal};
use crate::error::{Error, ErrorCode, Result};
use crate::gdpr::{CONSENT_STATUS, PERSON};
use crate::ids::{RecordId, UserId};
use crate::service::Crm;
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// Longest purpose name and source a person writes.
const MAX_NAME: usize = 100;
const MAX_SOURCE: usize = 200;
const MAX_DESCRIPTION: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPurpose {
    key: String,
    name: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConsent {
    purpose: String,
    state: ConsentState,
    source: String,
}

/// A person's consent to one purpose now: the latest event, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentConsent {
    pub purpose: Purpose,
    pub consent: Option<ConsentEvent>,
}

/// What a person has consented to, with the history that proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonConsents {
    /// The person said no to e-mail altogether (their `email_consent` is withdrawn).
    pub no_email: bool,
    pub purposes: Vec<CurrentConsent>,
    /// Every consent given or withdrawn, oldest first.
    pub history: Vec<ConsentEvent>,
}

/// One line of text a person must write: trimmed, not empty, no control characters.
fn line(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::field(field, "is required"));
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(Error::field(
            field,
            format!("must be one line of at most {max} characters"),
        ));
    }
    Ok(text.to_string())
}

/// A name as people look it up: case folded, accents left out (É sorts with E).
fn reading_order(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    crate::text::fold_case(name)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

fn only_people(object: &str) -> Result<()> {
    if object == PERSON {
        Ok(())
    } else {
        Err(Error::not_found(format!(
            "{object} records have no consents; people do"
        )))
    }
}

impl Crm {
    /// The purposes people may consent to, by name.
    pub async fn purposes(&self, who: &Principal) -> Result<Vec<Purpose>> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.sorted_purposes().await
    }

    /// Every purpose, by name as people read it (case and accents folded as lists sort).
    async fn sorted_purposes(&self) -> Result<Vec<Purpose>> {
        let mut out = self.store.purposes().await?;
        out.sort_by_cached_key(|p| reading_order(&p.name));
        Ok(out)
    }

    /// A new purpose, by someone who may send mass mailings.
    pub async fn add_purpose(&self, who: &Principal, body: serde_json::Value) -> Result<Purpose> {
        self.authorize(who, Permission::MassMail).await?;
        let new: NewPurpose = crate::service::from_body(body)?;
        check_key(&new.key)?;
        let description = new.description.trim();
        let stray = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        if description.chars().count() > MAX_DESCRIPTION || description.chars().any(stray) {
            return Err(Error::field(
                "description",
                format!("must be text of at most {MAX_DESCRIPTION} characters (no control characters)"),
            ));
        }
        let purpose = Purpose {
            key: new.key,
            name: line("name", &new.name, MAX_NAME)?,
            description: description.to_string(),
            created_at: self.clock.now(),
        };
        if !self.store.add_purpose(&purpose).await? {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("a purpose with the key {} exists already", purpose.key),
            ));
        }
        Ok(purpose)
    }

    /// A person's consents, for someone who may see the person (`object` must be the person
    /// object: only people consent).
    pub async fn person_consents(&self, who: &Principal, object: &str, person: &str) -> Result<PersonConsents> {
        only_people(object)?;
        let (_, record) = self.get(who, PERSON, person).await?;
        let history = self.store.consent_history(record.id).await?;
        let purposes = self
            .sorted_purposes()
            .await?
            .into_iter()
            .map(|purpose| CurrentConsent {
                consent: history.iter().rev().find(|e| e.purpose == purpose.key).cloned(),
                purpose,
            })
            .collect();
        Ok(PersonConsents {
            no_email: matches!(record.get(CONSENT_STATUS), Value::Select(c) if c == "withdrawn"),
            purposes,
            history,
        })
    }

    /// Record a person's consent to a purpose, given or withdrawn, with where it came from; for
    /// someone who may change the person.
    pub async fn record_consent(
        &self,
        who: &Principal,
        object: &str,
        person: &str,
        body: serde_json::Value,
    ) -> Result<ConsentEvent> {
        only_people(object)?;
        self.authorize(who, Permission::WriteRecords).await?;
        let (_, record) = self.get(who, PERSON, person).await?;
        let new: NewConsent = crate::service::from_body(body)?;
        if !self.store.purposes().await?.iter().any(|p| p.key == new.purpose) {
            return Err(Error::field(
                "purpose",
                format!("there is no purpose {:?}", new.purpose),
            ));
        }
        let event = ConsentEvent {
            person: record.id,
            purpose: new.purpose,
            state: new.state,
            source: line("source", &new.source, MAX_SOURCE)?,
            at: self.clock.now(),
            by: Some(who.user_id),
        };
        self.store.record_consent(&event).await?;
        Ok(event)
    }

    /// A merge's consents: the kept person takes what the merged one said, the stricter way. A
    /// withdrawal on either holds; a consent only the merged one gave is carried over with its
    /// source. Each carried event is new (the proof of the old stays with the merged record).
    pub(crate) async fn carry_consents(&self, gone: RecordId, keep: RecordId, by: UserId) -> Result<()> {
        let theirs = self.store.consent_history(gone).await?;
        let ours = self.store.consent_history(keep).await?;
        let latest =
            |events: &[ConsentEvent], purpose: &str| events.iter().rev().find(|e| e.purpose == purpose).cloned();
        let purposes: std::collections::BTreeSet<String> = theirs.iter().map(|e| e.purpose.clone()).collect();
        for purpose in purposes {
            let Some(their) = latest(&theirs, &purpose) else {
                continue;
            };
            let our = latest(&ours, &purpose).map(|e| e.state);
            let carried = match (their.state, our) {
                (ConsentState::Withdrawn, Some(ConsentState::Withdrawn)) => None,
                (ConsentState::Withdrawn, _) => Some(ConsentState::Withdrawn),
                (ConsentState::Granted, None) => Some(ConsentState::Granted),
                (ConsentState::Granted, Some(_)) => None,
            };
            if let Some(state) = carried {
                let source: String = format!("merged from {gone}: {}", their.source)
                    .chars()
                    .take(MAX_SOURCE)
                    .collect();
                self.store
                    .record_consent(&ConsentEvent {
                        person: keep,
                        purpose,
                        state,
                        source,
                        at: self.clock.now(),
                        by: Some(by),
                    })
                    .await?;
            }
        }
        Ok(())
    }
}
