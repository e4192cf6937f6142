//! Unsubscribing without signing in: a link per recipient and purpose, signed with a secret of
//! the workspace (HMAC-SHA256), so nobody can opt another person out by guessing. The link's
//! page lists the purposes the person has said yes to; RFC 8058's one-click POST to the same
//! address opts out of the link's purpose at once. Every opt-out is kept like any consent:
//! withdrawn, with its source and time, and no user behind it.

use super::{ConsentEvent, ConsentState};
use crate::error::{Error, Result};
use crate::gdpr::PERSON;
use crate::ids::RecordId;
use crate::service::Crm;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The workspace setting that holds the signing secret (made on first use).
const SECRET_SETTING: &str = "unsubscribe_secret";
/// Bytes of the signature kept in a link: 128 bits.
const SIGNATURE_BYTES: usize = 16;

/// A purpose on the unsubscribe page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsubscribePurpose {
    pub key: String,
    pub name: String,
    /// Whether the person's consent to it holds now.
    pub subscribed: bool,
    /// The purpose the link was sent for.
    pub this_link: bool,
}

/// What the public page shows: the address masked (whose link it is, without telling a
/// stranger the address), and the purposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsubscribeView {
    pub email_hint: String,
    pub purposes: Vec<UnsubscribePurpose>,
}

fn sign(secret: &[u8], payload: &str) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|e| Error::internal(e.to_string()))?;
    mac.update(payload.as_bytes());
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .take(SIGNATURE_BYTES)
        .copied()
        .collect())
}

/// `a…@example.se`: the first letter and the domain.
fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// Signs unsubscribe links with the workspace's secret.
pub(crate) struct Signer(Vec<u8>);

impl Signer {
    pub(crate) fn token(&self, person: RecordId, purpose: &str) -> Result<String> {
        let payload = format!("{person}:{purpose}");
        let signature = sign(&self.0, &payload)?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

fn not_found() -> Error {
    Error::not_found("this unsubscribe link is not valid")
}

impl Crm {
    /// The workspace's signing secret, made and kept the first time a link is needed.
    async fn unsubscribe_secret(&self) -> Result<Vec<u8>> {
        if let Some(text) = self.store.setting(SECRET_SETTING).await? {
            return URL_SAFE_NO_PAD
                .decode(text.trim_matches('"'))
                .map_err(|e| Error::internal(e.to_string()));
        }
        let secret: [u8; 32] = rand::random();
        let text =
            serde_json::to_string(&URL_SAFE_NO_PAD.encode(secret)).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting_if_absent(SECRET_SETTING, &text).await?;
        // Two made at once: the first kept stays, and every link is signed with it.
        Box::pin(self.unsubscribe_secret()).await
    }

    /// The token of a recipient's unsubscribe link for a purpose (`/u/{workspace}/{token}`).
    pub async fn unsubscribe_token(&self, person: RecordId, purpose: &str) -> Result<String> {
        self.unsubscribe_signer().await?.token(person, purpose)
    }

    /// What signs many links (a mailing's): the secret read once.
    pub(crate) async fn unsubscribe_signer(&self) -> Result<Signer> {
        Ok(Signer(self.unsubscribe_secret().await?))
    }

    /// The person and purpose a token names, when its signature holds; otherwise 404.
    async fn read_token(&self, token: &str) -> Result<(RecordId, String)> {
        let (payload, signature) = token.split_once('.').ok_or_else(not_found)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| not_found())?;
        let payload = String::from_utf8(payload).map_err(|_| not_found())?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| not_found())?;
        // A shorter signature would be easier to guess: only the whole one is taken.
        if signature.len() != SIGNATURE_BYTES {
            return Err(not_found());
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.unsubscribe_secret().await?)
            .map_err(|e| Error::internal(e.to_string()))?;
        mac.update(payload.as_bytes());
        mac.verify_truncated_left(&signature).map_err(|_| not_found())?;
        let (person, purpose) = payload.split_once(':').ok_or_else(not_found)?;
        Ok((RecordId::parse(person).ok_or_else(not_found)?, purpose.to_string()))
    }

    /// What the unsubscribe page shows for a token.
    pub async fn unsubscribe_view(&self, token: &str) -> Result<UnsubscribeView> {
        let (person, purpose) = self.read_token(token).await?;
        self.view_for(person, &purpose).await
    }

    /// The page for a person reached through a link for `purpose`.
    async fn view_for(&self, person: RecordId, purpose: &str) -> Result<UnsubscribeView> {
        let schema = self.schema().await?;
        let object = schema.object(PERSON)?;
        let record = self
            .store
            .get_record(object, person)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or_else(not_found)?;
        let email = record.get("email").to_text().unwrap_or_default();
        let history = self.store.consent_history(person).await?;
        let purposes = self
            .store
            .purposes()
            .await?
            .into_iter()
            .map(|p| UnsubscribePurpose {
                subscribed: history.iter().rev().find(|e| e.purpose == p.key).map(|e| e.state)
                    == Some(ConsentState::Granted),
                this_link: p.key == purpose,
                key: p.key,
                name: p.name,
            })
            .collect();
        Ok(UnsubscribeView {
            email_hint: mask(&email),
            purposes,
        })
    }

    /// Opt out of these purposes (those the person is subscribed to), from the page (`source`
    /// says which way). The page as it is afterwards.
    pub async fn unsubscribe(&self, token: &str, purposes: &[String], source: &str) -> Result<UnsubscribeView> {
        let (person, link_purpose) = self.read_token(token).await?;
        let view = self.view_for(person, &link_purpose).await?;
        for p in view
            .purposes
            .iter()
            .filter(|p| p.subscribed && purposes.contains(&p.key))
        {
            let event = ConsentEvent {
                person,
                purpose: p.key.clone(),
                state: ConsentState::Withdrawn,
                source: source.to_string(),
                at: self.clock.now(),
                by: None,
            };
            self.store.record_consent(&event).await?;
        }
        self.view_for(person, &link_purpose).await
    }

    /// RFC 8058 one-click: opt out of the link's own purpose, nothing asked.
    pub async fn one_click_unsubscribe(&self, token: &str) -> Result<()> {
        let (_, purpose) = self.read_token(token).await?;
        self.unsubscribe(token, &[purpose], "one-click unsubscribe")
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask("asa.oberg@firma.se"), "a…@firma.se");
        assert_eq!(mask("ö@ærø.dk"), "ö…@ærø.dk");
        assert_eq!(mask("nonsense"), "…");
    }

    #[test]
    fn a_signature_is_of_its_payload_and_secret() {
        let a = sign(b"secret", "p:newsletter").unwrap();
        assert_eq!(a.len(), SIGNATURE_BYTES);
        assert_ne!(a, sign(b"secret", "p:events").unwrap());
        assert_ne!(a, sign(b"other", "p:newsletter").unwrap());
    }
}
