//! A mailing's job: work out the snapshot once, then send through it at the mailing's pace.
//! Each spell of waiting (a start time, the throttle, a closed window, deferred recipients)
//! ends the job and queues the next, in one transaction with the mailing, so no worker holds a
//! lease for hours and only the mailing's current job ever sends.

use super::{
    BOUNCE_SAMPLE, HARD_BOUNCE_LIMIT, InvalidAddress, MAX_ATTEMPTS, Mailing, MailingState, Outcome, Recipient,
    RecipientStatus, SkipReason,
};
use crate::auth::Principal;
use crate::consent::{ConsentState, Skip, may_email};
use crate::error::{Error, ErrorCode, Result};
use crate::gdpr::PERSON;
use crate::ids::{JobId, MailingId, RecordId};
use crate::jobs::{Job, JobCtx, JobKind, NewJob};
use crate::mail::{Delivery, Email, Mailer};
use crate::record::Record;
use crate::service::Crm;
use crate::templates::Renderer;
use crate::value::{Value, normalise_email};
use crate::write::WriteCtx;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value as Json, json};
use std::collections::HashSet;

/// People read and written per step of the snapshot.
const SNAPSHOT_BATCH: usize = 1_000;
/// Messages claimed at once: sent side by side over the mailer's pooled connections. A server
/// killed mid-batch leaves at most this many uncertain.
const SEND_BATCH: u32 = 32;
/// Batches between readings of the snapshot's counts (bounce reports come in meanwhile).
const TALLY_EVERY: u64 = 20;
/// Characters of a message kept in its e-mail activity.
const ACTIVITY_BODY: usize = 20_000;

/// What a mailing sends through, and how links and bounce addresses are made.
pub struct Outbox<'a> {
    pub mailer: &'a dyn Mailer,
    /// Where recipients reach Anchora (unsubscribe links).
    pub public_url: &'a str,
    /// The bounce mailbox (`bounces@example.se`): each recipient's return path is
    /// `bounces+{tag}@example.se` (VERP). None: bounces go to the sender.
    pub bounce_address: Option<&'a str>,
}

/// A VERP address: `local+tag@domain`.
pub fn verp(bounce_address: &str, tag: &str) -> Option<String> {
    let (local, domain) = bounce_address.split_once('@')?;
    Some(format!("{local}+{tag}@{domain}"))
}

/// The pause before trying a deferred recipient again: 1, 2, 4, 8 … minutes, at most an hour.
fn deferral(attempts: u32) -> Duration {
    Duration::minutes((1i64 << attempts.saturating_sub(1).min(6)).min(60))
}

/// A tag for a recipient's VERP address: the workspace (so one bounce mailbox serves many),
/// then 128 random bits, joined by `-` (letters, digits, `-` and `_` pass every mail system
/// unchanged).
fn new_tag(workspace: &str) -> String {
    let bits: u128 = rand::random();
    format!("{workspace}-{bits:032x}")
}

/// The workspace a VERP tag names.
pub fn tag_workspace(tag: &str) -> Option<&str> {
    tag.rsplit_once('-').map(|(workspace, _)| workspace)
}

/// The unsubscribe link a message carries (its `List-Unsubscribe` header).
fn link_of(email: &Email) -> &str {
    email
        .headers
        .iter()
        .find(|(name, _)| name == "List-Unsubscribe")
        .map_or("", |(_, v)| v.trim_start_matches('<').trim_end_matches('>'))
}

/// A person's address as a mailing keeps it: checked, and folded to lower case whole, so one
/// mailbox written two ways (`Asa.Oberg@` and `asa.oberg@`) gets one message. Practically every
/// mail server treats the local part without regard to case.
fn address_of(person: &Record) -> Option<String> {
    let text = person.get("email").to_text()?;
    normalise_email(text.trim()).map(|e| e.to_lowercase())
}

/// Messages a mailing has sent and had bounced so far.
struct Tally {
    sent: u64,
    bounced: u64,
}

/// What a step of the job came to.
enum Step {
    /// Nothing more to send.
    Finished,
    /// Wait until then (throttle, window, deferred recipients).
    WaitUntil(DateTime<Utc>),
    /// The mailing was paused, cancelled, or another job took it over.
    Stop,
}

impl Crm {
    pub(crate) fn mailing_job(
        &self,
        mailing: MailingId,
        created_by: crate::ids::UserId,
        run_at: DateTime<Utc>,
    ) -> NewJob {
        NewJob {
            run_at,
            ..NewJob::now(
                JobKind::Mailing,
                json!({ "mailing": mailing.to_string() }),
                Some(created_by),
                self.clock.now(),
            )
        }
    }

    /// Run a mailing's job: the server's job handler calls this with its mailer.
    pub async fn run_mailing_job(&self, job: &Job, ctx: &JobCtx, outbox: &Outbox<'_>) -> Result<Option<Json>> {
        let id = job
            .payload
            .get("mailing")
            .and_then(Json::as_str)
            .and_then(MailingId::parse)
            .ok_or_else(|| Error::new(ErrorCode::ValidationFailed, "the job names no mailing"))?;
        let Some(mailing) = self.store.mailing(id).await? else {
            return Ok(Some(json!({ "mailing": "gone" })));
        };
        // Only the mailing's current job sends: an attempt of an older one (its worker died after
        // it queued the next) leaves it alone.
        if mailing.job != Some(job.id) || mailing.state != MailingState::Sending {
            return Ok(Some(json!({ "superseded": true })));
        }
        match self.send_mailing(job, ctx, outbox, mailing).await {
            Ok(out) => Ok(out),
            // The database or the mail server away: the job's next attempt goes on.
            Err(e) if matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable) && !ctx.stopped() => Err(e),
            // Anything else would fail again (the template or selection gone, the owner no
            // longer allowed, the job cancelled): the mailing pauses, saying why, and waits
            // for a person.
            Err(e) => {
                self.pause_because(id, &e.detail).await?;
                Ok(Some(json!({ "mailing": "paused", "because": e.detail })))
            }
        }
    }

    /// Pause a mailing that is sending, saying why.
    async fn pause_because(&self, id: MailingId, why: &str) -> Result<()> {
        let Some(now) = self.store.mailing(id).await? else {
            return Ok(());
        };
        if now.state != MailingState::Sending {
            return Ok(());
        }
        let mut paused = now.clone();
        paused.state = MailingState::Paused;
        paused.paused_because = Some(why.chars().take(500).collect());
        paused.version += 1;
        paused.updated_at = self.clock.now();
        self.store.update_mailing(&paused, now.version).await?;
        Ok(())
    }

    async fn send_mailing(
        &self,
        job: &Job,
        ctx: &JobCtx,
        outbox: &Outbox<'_>,
        mut mailing: Mailing,
    ) -> Result<Option<Json>> {
        let owner = self.starter(job).await?;
        // Whoever started it must still be allowed to send mass mailings.
        self.authorize(&owner, crate::auth::Permission::MassMail).await?;
        let now = self.clock.now();
        if let Some(start) = mailing.start_at.filter(|s| *s > now) {
            return self.wait(&mut mailing, job.id, start).await;
        }
        if mailing.prepared_at.is_none() {
            self.take_snapshot(&owner, &mut mailing, ctx).await?;
        }
        // What a dead attempt left on the way is of unknown fate; what a live one (an older
        // job finishing its batch after a pause and resume) holds, it settles itself.
        let claimer = format!("{}#{}", job.id, job.attempts);
        let mut dead = Vec::new();
        for other in self.store.claimers(mailing.id).await? {
            if self.claim_is_dead(&other, job).await? {
                dead.push(other);
            }
        }
        let uncertain = self.store.mark_uncertain(mailing.id, &dead).await?;
        if uncertain > 0 {
            tracing::warn!(mailing = %mailing.id, uncertain, "recipients cut off mid-send are marked uncertain");
        }
        match self
            .send_until_wait(&owner, &mut mailing, ctx, outbox, &claimer)
            .await?
        {
            Step::Finished => {
                let mut done = mailing.clone();
                done.state = MailingState::Done;
                done.finished_at = Some(self.clock.now());
                done.updated_at = self.clock.now();
                done.version += 1;
                self.store.update_mailing(&done, mailing.version).await?;
                Ok(Some(json!({ "mailing": "done" })))
            }
            Step::WaitUntil(at) => self.wait(&mut mailing, job.id, at).await,
            Step::Stop => Ok(Some(json!({ "mailing": "stopped" }))),
        }
    }

    /// Whether the attempt that made a claim (`{job}#{attempt}`) is over: an earlier attempt
    /// of this job, or a job that ended or whose lease ran out.
    async fn claim_is_dead(&self, claimer: &str, me: &Job) -> Result<bool> {
        let Some((job, attempt)) = claimer.split_once('#') else {
            return Ok(true);
        };
        let Some(job) = crate::ids::JobId::parse(job) else {
            return Ok(true);
        };
        if job == me.id {
            return Ok(attempt != me.attempts.to_string());
        }
        Ok(match self.store.job(job).await? {
            None => true,
            Some(other) => {
                other.state != crate::jobs::JobState::Running
                    || other.lease_until.is_none_or(|until| until < self.clock.now())
                    || other.attempts.to_string() != attempt
            }
        })
    }

    /// End this job and queue the next for `at`, unless someone changed the mailing meanwhile
    /// (paused or cancelled it: then it waits for them).
    async fn wait(&self, mailing: &mut Mailing, job: JobId, at: DateTime<Utc>) -> Result<Option<Json>> {
        let next = self.mailing_job(mailing.id, mailing.owner, at);
        let mut waiting = mailing.clone();
        waiting.job = Some(next.id);
        waiting.version += 1;
        waiting.updated_at = self.clock.now();
        let queued = self
            .store
            .update_mailing_with_job(&waiting, mailing.version, &next)
            .await?;
        Ok(Some(json!({
            "waiting_until": queued.then(|| crate::value::format_datetime(&at)),
            "after_job": job.to_string(),
        })))
    }

    /// Work out who gets the mailing, as its owner may see them, and who is left out and why:
    /// the snapshot the mailing keeps.
    async fn take_snapshot(&self, owner: &Principal, mailing: &mut Mailing, ctx: &JobCtx) -> Result<()> {
        ctx.phase("preparing", None);
        let template = self
            .store
            .template(mailing.template)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::Conflict, "the mailing's template was deleted"))?;
        let members = self
            .selection_members(owner, &mailing.selection.to_string())
            .await
            .map_err(|e| match e.code {
                ErrorCode::NotFound => Error::new(ErrorCode::Conflict, "the mailing's selection is gone"),
                _ => e,
            })?;
        ctx.phase("preparing", Some(members.len() as u64));
        let schema = self.schema().await?;
        let person = schema.object(PERSON)?.clone();
        let workspace = self.workspace().to_string();
        // First each person on their own; then the addresses: one that opted out under any
        // name in the selection (a person listed twice) keeps all its names out, and one that
        // is left goes to its first name only.
        let mut decided: Vec<Recipient> = Vec::with_capacity(members.len());
        let mut opted_out: HashSet<String> = HashSet::new();
        for chunk in members.chunks(SNAPSHOT_BATCH) {
            ctx.go_on()?;
            let mut people = self.records_by_id(&person, chunk, None).await?;
            people.sort_by_key(|p| p.id);
            let consents = self.store.latest_consents(&mailing.purpose, chunk).await?;
            let emails: Vec<String> = people.iter().filter_map(address_of).collect();
            let invalid = self.store.invalid_among(&emails).await?;
            for p in &people {
                let email = address_of(p);
                let consent = consents.get(&p.id).copied();
                let skip = match may_email(p, consent) {
                    Err(Skip::NoAddress) => Some(SkipReason::NoAddress),
                    Err(Skip::NoEmail) => Some(SkipReason::NoEmail),
                    Err(Skip::NoConsent) if consent == Some(ConsentState::Withdrawn) => Some(SkipReason::Unsubscribed),
                    Err(Skip::NoConsent) => Some(SkipReason::NoConsent),
                    Ok(()) => match &email {
                        None => Some(SkipReason::NoAddress),
                        Some(e) if invalid.contains(e) => Some(SkipReason::InvalidAddress),
                        Some(_) => None,
                    },
                };
                if let (Some(SkipReason::Unsubscribed | SkipReason::NoEmail), Some(e)) = (skip, &email) {
                    opted_out.insert(e.clone());
                }
                decided.push(Recipient {
                    mailing: mailing.id,
                    person: p.id,
                    email,
                    language: p.get("language").to_text(),
                    status: RecipientStatus::Queued,
                    skip,
                    attempts: 0,
                    next_try_at: None,
                    detail: None,
                    sent_at: None,
                    tag: new_tag(&workspace),
                });
            }
            ctx.advance(chunk.len() as u64 / 2);
        }
        let mut addresses: HashSet<String> = HashSet::new();
        for r in &mut decided {
            if r.skip.is_none()
                && let Some(e) = &r.email
            {
                if opted_out.contains(e) {
                    r.skip = Some(SkipReason::Unsubscribed);
                    r.detail = Some("the address opted out under another name".into());
                } else if !addresses.insert(e.clone()) {
                    r.skip = Some(SkipReason::DuplicateAddress);
                }
            }
            if r.skip.is_some() {
                r.status = RecipientStatus::Skipped;
            }
        }
        for batch in decided.chunks(SNAPSHOT_BATCH) {
            ctx.go_on()?;
            self.store.add_recipients(batch).await?;
            ctx.advance(batch.len() as u64 / 2);
        }
        let mut prepared = mailing.clone();
        prepared.prepared_at = Some(self.clock.now());
        prepared.template_copy = Some(template);
        prepared.version += 1;
        prepared.updated_at = self.clock.now();
        if !self.store.update_mailing(&prepared, mailing.version).await? {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the mailing was changed while it was prepared",
            ));
        }
        *mailing = prepared;
        Ok(())
    }

    /// Send batch after batch until nothing is left, the pace says wait, or a person stops it.
    async fn send_until_wait(
        &self,
        owner: &Principal,
        mailing: &mut Mailing,
        ctx: &JobCtx,
        outbox: &Outbox<'_>,
        claimer: &str,
    ) -> Result<Step> {
        let template = mailing
            .template_copy
            .clone()
            .ok_or_else(|| Error::internal("a prepared mailing keeps its template"))?;
        let renderer = Renderer::new(&template)?;
        let signer = self.unsubscribe_signer().await?;
        let schema = self.schema().await?;
        let person = schema.object(PERSON)?.clone();
        let activity = schema.objects.values().find(|o| o.is_activity()).cloned();
        let counts = self.store.recipient_counts(mailing.id).await?;
        let waiting = counts.get("queued").copied().unwrap_or(0) + counts.get("deferred").copied().unwrap_or(0);
        ctx.phase("sending", Some(waiting));
        // Tallies kept as the batches settle (counting the snapshot after each would read all
        // of it each time).
        let mut batches = 0u64;
        let mut tally = Tally {
            sent: counts.get("sent").copied().unwrap_or(0),
            bounced: counts.get("bounced").copied().unwrap_or(0),
        };
        loop {
            ctx.go_on()?;
            // A person may have paused or cancelled it since the last batch.
            match self.store.mailing(mailing.id).await? {
                Some(now) if now.state == MailingState::Sending && now.job == mailing.job => *mailing = now,
                _ => return Ok(Step::Stop),
            }
            let now = self.clock.now();
            if let Some(window) = &mailing.window
                && !window.is_open(now)
            {
                return match window.next_open(now) {
                    Some(at) => Ok(Step::WaitUntil(at)),
                    None => Err(Error::field("window", "the sending window never opens")),
                };
            }
            let mut allowed = SEND_BATCH;
            if let Some(throttle) = &mailing.throttle {
                let (sent, earliest) = self.store.sent_since(mailing.id, now - throttle.span()).await?;
                let (left, next) = throttle.allowance(sent, earliest, now);
                if left == 0 {
                    // Nothing left to send is not a reason to wait for the throttle.
                    return Ok(
                        match (
                            self.store.has_queued(mailing.id).await?,
                            self.store.next_deferred(mailing.id).await?,
                        ) {
                            (false, None) => Step::Finished,
                            (false, Some(at)) => Step::WaitUntil(at.max(next)),
                            (true, _) => Step::WaitUntil(next),
                        },
                    );
                }
                allowed = allowed.min(u32::try_from(left).unwrap_or(u32::MAX));
            }
            // A claim the database aborted (two claims deadlocked) took nothing: asked again
            // a few times before the job's own retry.
            let mut tries = 0;
            let claimed = loop {
                match self.store.claim_recipients(mailing.id, now, allowed, claimer).await {
                    Err(e) if e.code == ErrorCode::Unavailable && tries < 3 => {
                        tries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
                    }
                    other => break other?,
                }
            };
            if claimed.is_empty() {
                return match self.store.next_deferred(mailing.id).await? {
                    Some(at) => Ok(Step::WaitUntil(at.max(now))),
                    None => Ok(Step::Finished),
                };
            }
            let settled = self
                .send_batch(
                    owner,
                    mailing,
                    &claimed,
                    &renderer,
                    &signer,
                    &person,
                    activity.as_ref(),
                    outbox,
                    claimer,
                )
                .await?;
            ctx.advance(settled.len() as u64);
            for o in &settled {
                match o.status {
                    RecipientStatus::Sent => tally.sent += 1,
                    RecipientStatus::Bounced => tally.bounced += 1,
                    _ => {}
                }
            }
            batches += 1;
            // Bounce reports arrive on their own: the tally is read again now and then.
            if batches.is_multiple_of(TALLY_EVERY) {
                let counts = self.store.recipient_counts(mailing.id).await?;
                tally.sent = counts.get("sent").copied().unwrap_or(0);
                tally.bounced = counts.get("bounced").copied().unwrap_or(0);
            }
            if self.bounced_too_often(mailing, &tally).await? {
                return Ok(Step::Stop);
            }
        }
    }

    /// Render, send and settle one batch of claimed recipients; how each ended.
    #[allow(clippy::too_many_arguments)]
    async fn send_batch(
        &self,
        owner: &Principal,
        mailing: &Mailing,
        claimed: &[Recipient],
        renderer: &Renderer,
        signer: &crate::consent::Signer,
        person: &crate::meta::ObjectDef,
        activity: Option<&crate::meta::ObjectDef>,
        outbox: &Outbox<'_>,
        claimer: &str,
    ) -> Result<Vec<Outcome>> {
        let ids: Vec<RecordId> = claimed.iter().map(|r| r.person).collect();
        let schema = self.schema().await?;
        let people = self.records_by_id(person, &ids, None).await?;
        let contexts = self.merge_contexts(owner, &schema, person, &people).await?;
        // Consent is asked again as each message goes: someone who unsubscribed since the
        // snapshot is not written to.
        let consents = self.store.latest_consents(&mailing.purpose, &ids).await?;
        let now = self.clock.now();
        let mut outcomes = Vec::with_capacity(claimed.len());
        let mut messages = Vec::new();
        for r in claimed {
            let found = people.iter().position(|p| p.id == r.person);
            let settle = |status, skip, detail: &str| Outcome {
                person: r.person,
                status,
                skip,
                attempts: r.attempts,
                next_try_at: None,
                detail: Some(detail.to_string()),
                sent_at: None,
            };
            let Some(i) = found else {
                outcomes.push(settle(RecipientStatus::Failed, None, "the person was deleted"));
                continue;
            };
            let (Some(p), Some(context), Some(address)) = (people.get(i), contexts.get(i), r.email.as_ref()) else {
                outcomes.push(settle(RecipientStatus::Failed, None, "the person was deleted"));
                continue;
            };
            match may_email(p, consents.get(&r.person).copied()) {
                Ok(()) => {}
                Err(skip) => {
                    let reason = match skip {
                        Skip::NoAddress => SkipReason::NoAddress,
                        Skip::NoEmail => SkipReason::NoEmail,
                        Skip::NoConsent => SkipReason::Unsubscribed,
                    };
                    outcomes.push(settle(
                        RecipientStatus::Skipped,
                        Some(reason),
                        "consent changed before sending",
                    ));
                    continue;
                }
            }
            let token = signer.token(r.person, &mailing.purpose)?;
            let link = format!(
                "{}/u/{}/{token}",
                outbox.public_url.trim_end_matches('/'),
                self.workspace()
            );
            let mut context = context.clone();
            context.set("unsubscribe_url", Json::String(link.clone()));
            context.set("mailing", json!({ "name": mailing.name }));
            match renderer.render(r.language.as_deref(), &context) {
                Ok(words) => messages.push((
                    r,
                    p,
                    Email {
                        to: address.clone(),
                        subject: words.subject.clone(),
                        text: words.text.clone(),
                        html: Some(words.html.clone()).filter(|h| !h.trim().is_empty()),
                        headers: vec![
                            ("List-Unsubscribe".into(), format!("<{link}>")),
                            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
                        ],
                        return_path: outbox.bounce_address.and_then(|b| verp(b, &r.tag)),
                    },
                )),
                Err(e) => outcomes.push(settle(RecipientStatus::Failed, None, &e.detail)),
            }
        }
        let answers =
            futures_util::future::join_all(messages.iter().map(|(_, _, email)| outbox.mailer.deliver(email))).await;
        let mut activities = Vec::new();
        let mut invalid = Vec::new();
        let now_sent = self.clock.now();
        for ((r, p, email), answer) in messages.iter().zip(answers) {
            let attempts = r.attempts + 1;
            let mut outcome = Outcome {
                person: r.person,
                status: RecipientStatus::Sent,
                skip: None,
                attempts,
                next_try_at: None,
                detail: None,
                sent_at: None,
            };
            match answer {
                Delivery::Sent => {
                    outcome.sent_at = Some(now_sent);
                    activities.push((
                        r.person,
                        self.email_activity(mailing, p, email, link_of(email), now_sent),
                    ));
                }
                Delivery::Bounced(why) => {
                    outcome.status = RecipientStatus::Bounced;
                    // The server answered it: it counts against the throttle like a message sent.
                    outcome.sent_at = Some(now_sent);
                    invalid.push((
                        r.person,
                        InvalidAddress {
                            email: email.to.clone(),
                            reason: why.clone(),
                            at: now,
                            mailing: Some(mailing.id),
                        },
                    ));
                    outcome.detail = Some(why);
                }
                Delivery::Rejected(why) => {
                    outcome.status = RecipientStatus::Failed;
                    outcome.sent_at = Some(now_sent);
                    outcome.detail = Some(why);
                }
                Delivery::Deferred(why) if attempts >= MAX_ATTEMPTS => {
                    outcome.status = RecipientStatus::Failed;
                    outcome.detail = Some(why);
                }
                Delivery::Deferred(why) => {
                    outcome.status = RecipientStatus::Deferred;
                    outcome.next_try_at = Some(now + deferral(attempts));
                    outcome.detail = Some(why);
                }
                Delivery::Uncertain(why) => {
                    outcome.status = RecipientStatus::Uncertain;
                    outcome.detail = Some(why);
                }
            }
            outcomes.push(outcome);
        }
        let write = WriteCtx {
            actor: mailing.owner,
            now: now_sent,
        };
        self.store
            .settle_recipients(mailing.id, claimer, &outcomes, activity, &activities, &invalid, write)
            .await?;
        Ok(outcomes)
    }

    /// The sent message as an e-mail activity on the person's timeline.
    fn email_activity(
        &self,
        mailing: &Mailing,
        person: &Record,
        email: &Email,
        link: &str,
        at: DateTime<Utc>,
    ) -> Record {
        let mut a = Record::new("activity", RecordId::new_at(at), at, Some(mailing.owner));
        // The unsubscribe link is the recipient's own key: whoever reads the timeline must
        // not be able to opt them out.
        let text = if link.is_empty() {
            email.text.clone()
        } else {
            email.text.replace(link, "[unsubscribe link]")
        };
        let body: String = text.chars().take(ACTIVITY_BODY).collect();
        a.values.insert("type".into(), Value::Select("email".into()));
        a.values.insert(
            "subject".into(),
            Value::Text(email.subject.chars().take(crate::value::MAX_TEXT_CHARS).collect()),
        );
        a.values
            .insert("body".into(), Value::Text(format!("{body}\n\n— {}", mailing.name)));
        a.values.insert("due_at".into(), Value::DateTime(at));
        a.values.insert("done".into(), Value::Bool(true));
        a.values.insert("person".into(), Value::Relation(person.id));
        if let Value::Relation(company) = person.get("company") {
            a.values.insert("company".into(), Value::Relation(*company));
        }
        a
    }

    /// Pause the mailing when more than [`HARD_BOUNCE_LIMIT`] of what it tried bounced for good.
    async fn bounced_too_often(&self, mailing: &Mailing, tally: &Tally) -> Result<bool> {
        let bounced = tally.bounced;
        let tried = bounced + tally.sent;
        #[allow(clippy::cast_precision_loss)]
        let share = bounced as f64 / tried.max(1) as f64;
        if tried < BOUNCE_SAMPLE || share <= HARD_BOUNCE_LIMIT {
            return Ok(false);
        }
        let mut paused = mailing.clone();
        paused.state = MailingState::Paused;
        paused.paused_because = Some(format!(
            "{bounced} of {tried} messages bounced ({:.1}%, more than {:.0}%)",
            share * 100.0,
            HARD_BOUNCE_LIMIT * 100.0
        ));
        paused.version += 1;
        paused.updated_at = self.clock.now();
        self.store.update_mailing(&paused, mailing.version).await?;
        Ok(true)
    }
}
