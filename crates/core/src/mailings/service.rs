//! Mailings as use cases: write one, start it (now or at a time), pause, resume, cancel, see its
//! progress and recipients, send uncertain recipients again, compare its snapshot with an
//! earlier mailing's, and take bounce reports in.

use super::{InvalidAddress, Mailing, MailingState, Recipient, RecipientStatus, Throttle, Window};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::gdpr::PERSON;
use crate::ids::{MailingId, RecordId};
use crate::service::Crm;
use crate::templates::TemplateKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

const MAX_NAME: usize = 100;
/// Recipients one page shows at most.
pub const MAX_RECIPIENT_PAGE: u32 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailingBody {
    name: String,
    selection: String,
    template: String,
    purpose: String,
    #[serde(default)]
    start_at: Option<DateTime<Utc>>,
    #[serde(default)]
    throttle: Option<Throttle>,
    #[serde(default)]
    window: Option<Window>,
    /// When changing: the version the change was made to.
    #[serde(default)]
    version: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionBody {
    version: i64,
}

/// A mailing with how far it has come.
#[derive(Debug, Clone, Serialize)]
pub struct MailingView {
    #[serde(flatten)]
    pub mailing: Mailing,
    /// Recipients per status, and skipped ones per reason (`skipped.no_consent` …).
    pub counts: BTreeMap<String, u64>,
    pub may_change: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientPage {
    pub recipients: Vec<Recipient>,
    /// Pass as `after` for the next page; none at the end.
    pub next: Option<RecordId>,
}

/// Who joined and who left between an earlier mailing's recipients and this one's.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotChanges {
    pub joined: Vec<RecordId>,
    pub left: Vec<RecordId>,
}

impl Crm {
    fn may_change_mailing(who: &Principal, m: &Mailing) -> bool {
        (m.owner == who.user_id || who.role == Role::Admin) && who.scope != Scope::Read
    }

    /// A mailing the caller may see (those who may send mass mailings see them all); 404
    /// otherwise.
    async fn visible_mailing(&self, who: &Principal, id: &str) -> Result<Mailing> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let allowed = who.require(Permission::MassMail, &schema.policy).is_ok();
        let found = match MailingId::parse(id) {
            Some(id) => self.store.mailing(id).await?,
            None => None,
        };
        found
            .filter(|m| allowed || m.owner == who.user_id)
            .ok_or_else(|| Error::not_found(format!("mailing {id}")))
    }

    async fn changeable_mailing(&self, who: &Principal, id: &str) -> Result<Mailing> {
        let mailing = self.visible_mailing(who, id).await?;
        if !Self::may_change_mailing(who, &mailing) {
            return Err(Error::new(ErrorCode::Forbidden, "only its owner changes a mailing"));
        }
        let schema = self.schema().await?;
        who.require(Permission::MassMail, &schema.policy)?;
        Ok(mailing)
    }

    /// A mailing as the caller sees it: its counts only for those who see every recipient
    /// (its owner, whose sight the snapshot was taken with, or who sees all people), the text
    /// it sends only for those who may use its template.
    async fn mailing_view(&self, who: &Principal, mut mailing: Mailing) -> Result<MailingView> {
        let schema = self.schema().await?;
        let sees_all = mailing.owner == who.user_id || self.visible_owners(who, &schema, PERSON).await?.is_none();
        let counts = if sees_all {
            self.store.recipient_counts(mailing.id).await?
        } else {
            BTreeMap::new()
        };
        if mailing
            .template_copy
            .as_ref()
            .is_some_and(|t| !Self::may_use_template(who, t))
        {
            mailing.template_copy = None;
        }
        // Whoever lost the mass-mail permission is offered nothing they would be refused.
        let may_send = who.require(Permission::MassMail, &schema.policy).is_ok();
        Ok(MailingView {
            counts,
            may_change: may_send && Self::may_change_mailing(who, &mailing),
            mailing,
        })
    }

    fn mailing_conflict(&self, who: &Principal, current: Mailing) -> Error {
        let view = MailingView {
            may_change: Self::may_change_mailing(who, &current),
            mailing: current,
            counts: BTreeMap::new(),
        };
        Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null))
    }

    /// Check a mailing's body against what it names: a selection of people and an e-mail
    /// template the caller may use, a purpose there is, a pace that holds.
    async fn shape_mailing(&self, who: &Principal, body: Json, was: Option<&Mailing>) -> Result<Mailing> {
        self.authorize(who, Permission::MassMail).await?;
        if who.scope == Scope::Read {
            return Err(Error::new(ErrorCode::Forbidden, "this token may only read"));
        }
        let body: MailingBody = crate::service::from_body(body)?;
        let name = body.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Error::field(
                "name",
                format!("is required: one line of at most {MAX_NAME} characters"),
            ));
        }
        let selection = self.usable_selection(who, &body.selection).await.map_err(|_| {
            Error::field(
                "selection",
                format!("there is no selection {} you may use", body.selection),
            )
        })?;
        if selection.object != PERSON {
            return Err(Error::field(
                "selection",
                format!(
                    "{} is a selection of {}, not of people",
                    selection.name, selection.object
                ),
            ));
        }
        let template = self.usable_template(who, &body.template).await.map_err(|_| {
            Error::field(
                "template",
                format!("there is no template {} you may use", body.template),
            )
        })?;
        if template.kind != TemplateKind::Email {
            return Err(Error::field(
                "template",
                format!("{} is not an e-mail template", template.name),
            ));
        }
        if !self.store.purposes().await?.iter().any(|p| p.key == body.purpose) {
            return Err(Error::field(
                "purpose",
                format!("there is no purpose {:?}", body.purpose),
            ));
        }
        if let Some(t) = &body.throttle {
            t.check()?;
        }
        if let Some(w) = &body.window {
            w.check()?;
        }
        if let (Some(was), Some(version)) = (was, body.version)
            && version != was.version
        {
            return Err(self.mailing_conflict(who, was.clone()));
        }
        if was.is_some() && body.version.is_none() {
            return Err(Error::field("version", "is required when changing a mailing"));
        }
        let now = self.clock.now();
        Ok(Mailing {
            id: was.map_or_else(|| MailingId::new_at(now), |w| w.id),
            name: name.to_string(),
            selection: selection.id,
            template: template.id,
            purpose: body.purpose,
            state: MailingState::Draft,
            start_at: body.start_at,
            throttle: body.throttle,
            window: body.window,
            owner: was.map_or(who.user_id, |w| w.owner),
            job: None,
            template_copy: None,
            prepared_at: None,
            paused_because: None,
            version: was.map_or(1, |w| w.version + 1),
            created_at: was.map_or(now, |w| w.created_at),
            updated_at: now,
            finished_at: None,
        })
    }

    pub async fn create_mailing(&self, who: &Principal, body: Json) -> Result<MailingView> {
        let mailing = self.shape_mailing(who, body, None).await?;
        self.store.create_mailing(&mailing).await?;
        self.mailing_view(who, mailing).await
    }

    /// Change a draft; a change made to an older version is refused with the current one.
    pub async fn update_mailing(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        let was = self.changeable_mailing(who, id).await?;
        if was.state != MailingState::Draft {
            return Err(Error::new(ErrorCode::Conflict, "only a draft mailing can be changed"));
        }
        let mailing = self.shape_mailing(who, body, Some(&was)).await?;
        if !self.store.update_mailing(&mailing, was.version).await? {
            let current = self.visible_mailing(who, id).await?;
            return Err(self.mailing_conflict(who, current));
        }
        self.mailing_view(who, mailing).await
    }

    pub async fn get_mailing(&self, who: &Principal, id: &str) -> Result<MailingView> {
        let mailing = self.visible_mailing(who, id).await?;
        self.mailing_view(who, mailing).await
    }

    /// The mailings the caller may see, newest first.
    pub async fn list_mailings(&self, who: &Principal) -> Result<Vec<MailingView>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let allowed = who.require(Permission::MassMail, &schema.policy).is_ok();
        let mut out = Vec::new();
        for m in self.store.mailings().await? {
            if allowed || m.owner == who.user_id {
                out.push(self.mailing_view(who, m).await?);
            }
        }
        Ok(out)
    }

    pub async fn delete_mailing(&self, who: &Principal, id: &str) -> Result<()> {
        let mailing = self.changeable_mailing(who, id).await?;
        if mailing.state != MailingState::Draft {
            return Err(Error::new(
                ErrorCode::Conflict,
                "a mailing that has started is kept (its recipients are its record); cancel it instead",
            ));
        }
        self.store.delete_mailing(mailing.id).await?;
        Ok(())
    }

    /// Move a mailing from one state to another with its version, queueing its job when it is
    /// to send.
    async fn move_mailing(
        &self,
        who: &Principal,
        id: &str,
        body: Json,
        from: &[MailingState],
        to: MailingState,
    ) -> Result<MailingView> {
        let was = self.changeable_mailing(who, id).await?;
        let body: VersionBody = crate::service::from_body(body)?;
        if body.version != was.version {
            return Err(self.mailing_conflict(who, was));
        }
        if !from.contains(&was.state) {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("a mailing that is {} cannot become {}", was.state.as_str(), to.as_str()),
            ));
        }
        let now = self.clock.now();
        let mut next = was.clone();
        next.state = to;
        next.version += 1;
        next.updated_at = now;
        next.paused_because = None;
        if to == MailingState::Cancelled {
            next.finished_at = Some(now);
        }
        let changed = if to == MailingState::Sending {
            let job = self.mailing_job(was.id, was.owner, next.start_at.unwrap_or(now).max(now));
            next.job = Some(job.id);
            let changed = self.store.update_mailing_with_job(&next, was.version, &job).await?;
            if changed {
                crate::jobs::wake();
            }
            changed
        } else {
            self.store.update_mailing(&next, was.version).await?
        };
        if !changed {
            let current = self.visible_mailing(who, id).await?;
            return Err(self.mailing_conflict(who, current));
        }
        self.mailing_view(who, next).await
    }

    /// Start a draft: its job works out the recipients at its start time and sends.
    pub async fn start_mailing(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        self.move_mailing(who, id, body, &[MailingState::Draft], MailingState::Sending)
            .await
    }

    /// Pause a mailing: its job stops after the messages on the way.
    pub async fn pause_mailing(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        self.move_mailing(who, id, body, &[MailingState::Sending], MailingState::Paused)
            .await
    }

    pub async fn resume_mailing(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        self.move_mailing(who, id, body, &[MailingState::Paused], MailingState::Sending)
            .await
    }

    /// Cancel a mailing: nobody not yet written to is.
    pub async fn cancel_mailing(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        self.move_mailing(
            who,
            id,
            body,
            &[MailingState::Draft, MailingState::Sending, MailingState::Paused],
            MailingState::Cancelled,
        )
        .await
    }

    /// Send the uncertain recipients again: a person decided a second message is better than
    /// none. A mailing that had finished sends again.
    pub async fn resend_uncertain(&self, who: &Principal, id: &str, body: Json) -> Result<MailingView> {
        let was = self.changeable_mailing(who, id).await?;
        let version: VersionBody = crate::service::from_body(body.clone())?;
        if version.version != was.version {
            return Err(self.mailing_conflict(who, was));
        }
        if matches!(was.state, MailingState::Draft | MailingState::Cancelled) {
            return Err(Error::new(ErrorCode::Conflict, "the mailing is not sending"));
        }
        self.store.requeue_uncertain(was.id).await?;
        if was.state == MailingState::Done {
            let now = self.clock.now();
            let job = self.mailing_job(was.id, was.owner, now);
            let mut next = was.clone();
            next.state = MailingState::Sending;
            next.finished_at = None;
            next.job = Some(job.id);
            next.version += 1;
            next.updated_at = now;
            if !self.store.update_mailing_with_job(&next, was.version, &job).await? {
                let current = self.visible_mailing(who, id).await?;
                return Err(self.mailing_conflict(who, current));
            }
            crate::jobs::wake();
            return self.mailing_view(who, next).await;
        }
        self.mailing_view(who, was).await
    }

    /// A page of a mailing's recipients (of one status when asked), only people the caller
    /// may see.
    pub async fn mailing_recipients(
        &self,
        who: &Principal,
        id: &str,
        status: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<RecipientPage> {
        let mailing = self.visible_mailing(who, id).await?;
        let status = status
            .map(|s| {
                RecipientStatus::parse(s)
                    .ok_or_else(|| Error::field("status", format!("{s:?} is not a recipient status")))
            })
            .transpose()?;
        let after = after
            .map(|a| RecordId::parse(a).ok_or_else(|| Error::field("after", "is not a record id")))
            .transpose()?;
        let limit = limit.unwrap_or(100).clamp(1, MAX_RECIPIENT_PAGE);
        // Pages of the snapshot are read until `limit` people the caller may see are found:
        // the cursor is always one of theirs, so it names nobody they may not see.
        let mut out = Vec::new();
        let mut from = after;
        loop {
            let page = self.store.recipients(mailing.id, status, from, limit).await?;
            let ended = page.len() < limit as usize;
            from = page.last().map(|r| r.person);
            let ids: Vec<RecordId> = page.iter().map(|r| r.person).collect();
            let seen = self.visible_among(who, PERSON, &ids).await?;
            out.extend(page.into_iter().filter(|r| seen.contains(&r.person)));
            if ended || out.len() >= limit as usize {
                let more = !ended || out.len() > limit as usize;
                out.truncate(limit as usize);
                let next = if more { out.last().map(|r| r.person) } else { None };
                return Ok(RecipientPage { recipients: out, next });
            }
        }
    }

    /// Who got this mailing but not an earlier one (`since`), and who got that one but not
    /// this, as far as the caller may see them.
    pub async fn mailing_changes(&self, who: &Principal, id: &str, since: &str) -> Result<SnapshotChanges> {
        let this = self.visible_mailing(who, id).await?;
        let earlier = self
            .visible_mailing(who, since)
            .await
            .map_err(|_| Error::field("since", format!("there is no mailing {since} you may see")))?;
        let now = self.store.sent_people(this.id).await?;
        let then = self.store.sent_people(earlier.id).await?;
        let mut joined: Vec<RecordId> = now.difference(&then).copied().collect();
        let mut left: Vec<RecordId> = then.difference(&now).copied().collect();
        let seen = self
            .visible_among(who, PERSON, &[joined.clone(), left.clone()].concat())
            .await?;
        joined.retain(|p| seen.contains(p));
        left.retain(|p| seen.contains(p));
        joined.sort();
        left.sort();
        Ok(SnapshotChanges { joined, left })
    }

    /// A bounce report for a recipient (found by its VERP tag): a permanent one marks the
    /// recipient bounced and the address invalid. Whether anything changed.
    pub async fn record_bounce(&self, tag: &str, permanent: bool, why: &str) -> Result<bool> {
        if !permanent {
            return Ok(false);
        }
        let Some(recipient) = self.store.recipient_by_tag(tag).await? else {
            return Ok(false);
        };
        let Some(email) = recipient.email.clone() else {
            return Ok(false);
        };
        let invalid = InvalidAddress {
            email,
            reason: why.chars().take(500).collect(),
            at: self.clock.now(),
            mailing: Some(recipient.mailing),
        };
        self.store
            .bounce_recipient(recipient.mailing, recipient.person, &invalid.reason, &invalid)
            .await
    }
}
