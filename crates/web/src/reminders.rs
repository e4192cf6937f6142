//! The server's job handler: every kind of job is core's, except the reminders, which are
//! worded here in each reader's language (Fluent) and sent through the server's mailer. A
//! reminder is kept as sent before its e-mail goes, and forgotten again when the e-mail fails,
//! so each goes once and a failed one is tried at the next run.

use crate::bounces::BounceMailbox;
use crate::i18n::Tr;
use crate::imap::Mailbox;
use crate::support_mailbox::{MailedReply, plus_prefix, read_reply, reply_address};
use anchora_core::adoption::{AdoptionMail, Weakness};
use anchora_core::export::Cell;
use anchora_core::jobs::{CrmJobs, Job, JobCtx, JobHandler, JobKind, Workspaces};
use anchora_core::mail::{Email, Mailer};
use anchora_core::mailings::Outbox;
use anchora_core::project::reminders::{Nudge, Reminder};
use anchora_core::reports::DueReport;
use anchora_core::service::Crm;
use anchora_core::support::{SupportMail, SupportMailKind, Threaded};
use async_trait::async_trait;
use serde_json::{Value as Json, json};
use std::sync::Arc;

pub struct ServerJobs {
    pub mailer: Arc<dyn Mailer>,
    /// Where users reach Anchora: links in reminders and unsubscribe links are built from it.
    pub public_url: String,
    /// The bounce mailbox's address (`bounces@example.se`): mailings send with a VERP return
    /// path `bounces+{tag}@example.se` under it. None: bounces go to the sender.
    pub bounce_address: Option<String>,
    /// The bounce mailbox read for bounce reports, with every workspace's CRM (a report names
    /// its workspace in its tag; one mailbox serves them all).
    pub bounce_mailbox: Option<(Arc<BounceMailbox>, Arc<dyn Workspaces>)>,
    /// The support mailbox's address (`support@example.se`): the support chain's notices are
    /// answered to `support+{reference}@example.se` under it. None: answers go to the sender.
    pub support_address: Option<String>,
    /// The support mailbox read for answers to the notices, with every workspace's CRM (a
    /// reference is signed by one workspace's secret; one mailbox serves them all).
    pub support_mailbox: Option<(Arc<Mailbox>, Arc<dyn Workspaces>)>,
}

/// Reports read from the bounce mailbox per run at most.
const BOUNCES_PER_RUN: usize = 500;

impl ServerJobs {
    pub fn new(mailer: Arc<dyn Mailer>, public_url: &str) -> Self {
        Self {
            mailer,
            public_url: public_url.to_string(),
            bounce_address: None,
            bounce_mailbox: None,
            support_address: None,
            support_mailbox: None,
        }
    }

    /// Take the bounce reports waiting in the bounce mailbox and mark each one's recipient
    /// bounced (a permanent failure) in its workspace. A report read twice changes nothing the
    /// second time.
    pub async fn read_bounces(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let Some((mailbox, workspaces)) = &self.bounce_mailbox else {
            return Ok(Some(json!({"mailbox": "none"})));
        };
        // One mailbox serves every workspace: the main workspace's schedule reads it.
        if crm.workspace() != anchora_core::workspace::DEFAULT_WORKSPACE {
            return Ok(Some(json!({"mailbox": "read by the main workspace"})));
        }
        ctx.phase("reading", None);
        let bounces = mailbox.take_bounces(BOUNCES_PER_RUN).await.map_err(|e| {
            anchora_core::Error::new(anchora_core::ErrorCode::Unavailable, format!("the bounce mailbox: {e}"))
        })?;
        let crms = workspaces.all().await;
        let (mut marked, mut soft, mut unknown) = (0u64, 0u64, 0u64);
        for bounce in &bounces {
            let workspace = anchora_core::mailings::tag_workspace(&bounce.verp).unwrap_or_default();
            let Some((_, crm)) = crms.iter().find(|(name, _)| name == workspace) else {
                unknown += 1;
                continue;
            };
            if !bounce.permanent {
                soft += 1;
                continue;
            }
            let why = match &bounce.diagnostic {
                Some(d) => format!("{} {d}", bounce.status),
                None => bounce.status.clone(),
            };
            // One report the database cannot take does not lose the others read with it.
            match crm.record_bounce(&bounce.verp, true, &why).await {
                Ok(true) => marked += 1,
                Ok(false) => unknown += 1,
                Err(e) => {
                    tracing::warn!(error = %e.detail, "a bounce report could not be recorded");
                    unknown += 1;
                }
            }
            ctx.advance(1);
        }
        Ok(Some(
            json!({"read": bounces.len(), "marked": marked, "soft": soft, "unknown": unknown}),
        ))
    }
}

#[async_trait]
impl JobHandler for ServerJobs {
    async fn run(&self, crm: &Crm, job: &Job, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        match job.kind() {
            Some(JobKind::Reminders) => self.send_reminders(crm, ctx).await,
            Some(JobKind::Mailing) => {
                let outbox = Outbox {
                    mailer: self.mailer.as_ref(),
                    public_url: &self.public_url,
                    bounce_address: self.bounce_address.as_deref(),
                };
                crm.run_mailing_job(job, ctx, &outbox).await
            }
            Some(JobKind::Bounces) => self.read_bounces(crm, ctx).await,
            Some(JobKind::ReportMails) => self.send_reports(crm, ctx).await,
            Some(JobKind::AdoptionDigest) => self.send_adoption_mails(crm, ctx).await,
            Some(JobKind::SupportBreaches) => self.run_support_job(crm, ctx).await,
            Some(JobKind::SupportMailbox) => self.read_support_mailbox(crm, ctx).await,
            _ => CrmJobs.run(crm, job, ctx).await,
        }
    }
}

/// What a run of owed e-mails came to. One address the server refuses does not hold up the
/// others: it is owed again (its caller unmarks it) and tried at the next run.
#[derive(Default)]
struct Tally {
    sent: u64,
    failed: u64,
    last_error: Option<anchora_core::Error>,
}

impl Tally {
    fn count(&mut self, sent: anchora_core::Result<()>, what: &str) {
        match sent {
            Ok(()) => self.sent += 1,
            Err(e) => {
                tracing::warn!(error = %e.detail, "{what} could not be sent");
                self.failed += 1;
                self.last_error = Some(e);
            }
        }
    }

    /// None went at all: the mail server is likely down, and the job is tried again.
    fn outcome(self) -> anchora_core::Result<Option<Json>> {
        if let (0, Some(e)) = (self.sent, self.last_error) {
            return Err(e);
        }
        Ok(Some(json!({"sent": self.sent, "failed": self.failed})))
    }
}

impl ServerJobs {
    /// Each subscriber's copy of a saved report, run as them, once per period.
    async fn send_reports(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let owed = crm.due_report_mails().await?;
        ctx.phase("sending", Some(owed.len() as u64));
        let schema = crm.schema().await?;
        let mut tally = Tally::default();
        for due in &owed {
            ctx.go_on()?;
            let Ok(def) = schema.object(&due.report.spec.object) else {
                continue;
            };
            if !crm.mark_report_sent(due).await? {
                continue;
            }
            let sent = self.mailer.send(&self.report_email(&schema, def, due)).await;
            if sent.is_err() {
                crm.unmark_report_sent(due).await?;
            }
            tally.count(sent, "a report");
            ctx.advance(1);
        }
        tally.outcome()
    }

    /// A report as a plain-text table in the recipient's language, with a link to it.
    fn report_email(
        &self,
        schema: &anchora_core::meta::Schema,
        def: &anchora_core::meta::ObjectDef,
        due: &DueReport,
    ) -> Email {
        let tr = Tr::new(&due.user.locale);
        let rows = crate::ui::sheet_rows(&tr, schema, def, &due.result);
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        Cell::Text(t) => t.clone(),
                        Cell::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
                        Cell::Number(n) => format!("{n:.2}"),
                        Cell::Empty => String::new(),
                    })
                    .collect()
            })
            .collect();
        let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                cells
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let table: Vec<String> = cells
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, w))| {
                        let pad = w.saturating_sub(c.chars().count());
                        if i == 0 {
                            format!("{c}{}", " ".repeat(pad))
                        } else {
                            format!("{}{c}", " ".repeat(pad))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            })
            .collect();
        let base = self.public_url.trim_end_matches('/');
        let args = [
            ("name", due.user.name.clone()),
            ("report", due.report.name.clone()),
            ("table", table.join("\n")),
            ("link", format!("{base}/reports/{}", due.report.id)),
            (
                "currency",
                due.result
                    .currency
                    .clone()
                    .filter(|_| due.result.money)
                    .unwrap_or_else(|| "none".into()),
            ),
        ];
        Email {
            to: due.user.email.clone().unwrap_or_default(),
            subject: tr.tn("report-mail-subject", &args),
            text: tr.tn("report-mail-body", &args),
            ..Email::default()
        }
    }

    /// This week's adoption digests (and nudges, when on), each once.
    async fn send_adoption_mails(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let owed = crm.due_adoption_mails().await?;
        ctx.phase("sending", Some(owed.len() as u64));
        let mut tally = Tally::default();
        for mail in &owed {
            ctx.go_on()?;
            if !crm.mark_adoption_mail(mail).await? {
                continue;
            }
            let sent = self.mailer.send(&self.adoption_email(mail)).await;
            if sent.is_err() {
                crm.unmark_adoption_mail(mail).await?;
            }
            tally.count(sent, "an adoption e-mail");
            ctx.advance(1);
        }
        tally.outcome()
    }

    /// A weak user's reasons in words, in a reader's language.
    fn weakness_words(tr: &Tr, weak: &[Weakness]) -> String {
        weak.iter()
            .map(|w| match w {
                Weakness::NoSignIn { days: Some(days) } => tr.t1("adoption-mail-no-sign-in", "days", *days),
                Weakness::NoSignIn { days: None } => tr.tn("adoption-mail-never-signed-in", &[]),
                Weakness::BelowMedian { weeks } => tr.t1("adoption-mail-below-median", "weeks", *weeks),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn adoption_email(&self, mail: &AdoptionMail) -> Email {
        let to = mail.to();
        let tr = Tr::new(&to.locale);
        let base = self.public_url.trim_end_matches('/');
        let (subject, text) = match mail {
            AdoptionMail::Digest { lines, .. } => {
                let list: Vec<String> = lines
                    .iter()
                    .map(|l| {
                        let support = if l.supported {
                            format!(" ({})", tr.tn("adoption-mail-supported", &[]))
                        } else {
                            String::new()
                        };
                        let team = l.team_name.as_deref().map(|t| format!(", {t}")).unwrap_or_default();
                        format!("- {}{team}: {}{support}", l.name, Self::weakness_words(&tr, &l.weak))
                    })
                    .collect();
                let args = [
                    ("name", to.name.clone()),
                    ("list", list.join("\n")),
                    ("link", format!("{base}/adoption")),
                ];
                (
                    tr.counted("adoption-digest-subject", lines.len(), &args),
                    tr.counted("adoption-digest-body", lines.len(), &args),
                )
            }
            AdoptionMail::Nudge { weak, key_user, .. } => {
                let args = [
                    ("name", to.name.clone()),
                    ("why", Self::weakness_words(&tr, weak)),
                    ("key_user", key_user.clone().unwrap_or_else(|| "none".into())),
                    ("link", format!("{base}/")),
                ];
                (
                    tr.tn("adoption-nudge-subject", &args),
                    tr.tn("adoption-nudge-body", &args),
                )
            }
        };
        Email {
            to: to.email.clone().unwrap_or_default(),
            subject,
            text,
            ..Email::default()
        }
    }

    async fn send_reminders(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let owed = crm.due_reminders().await?;
        ctx.phase("sending", Some(owed.len() as u64));
        let mut tally = Tally::default();
        for reminder in &owed {
            ctx.go_on()?;
            if !crm.mark_reminded(reminder).await? {
                continue;
            }
            let sent = self.mailer.send(&self.email(reminder)).await;
            if sent.is_err() {
                crm.unmark_reminded(reminder).await?;
            }
            tally.count(sent, "a reminder");
            ctx.advance(1);
        }
        tally.outcome()
    }

    fn email(&self, r: &Reminder) -> Email {
        let tr = Tr::new(r.locale.as_deref().unwrap_or("en"));
        let base = self.public_url.trim_end_matches('/');
        let (subject, text) = match &r.nudge {
            Nudge::Action { title, due, .. } => {
                let args = [
                    ("name", r.name.clone()),
                    ("title", title.clone()),
                    ("project", r.project_name.clone()),
                    ("due", tr.date(*due)),
                    ("link", format!("{base}/projects/{}/meetings", r.project)),
                ];
                (
                    tr.tn("reminder-action-subject", &args),
                    tr.tn("reminder-action-body", &args),
                )
            }
            Nudge::Communication {
                content,
                audience,
                channel,
                due,
                overdue,
                ..
            } => {
                let args = [
                    ("name", r.name.clone()),
                    ("content", content.clone()),
                    ("audience", audience.clone()),
                    ("channel", channel.clone()),
                    ("project", r.project_name.clone()),
                    ("due", tr.date(*due)),
                    ("link", format!("{base}/projects/{}/communication", r.project)),
                ];
                let subject = if *overdue {
                    "reminder-communication-overdue-subject"
                } else {
                    "reminder-communication-subject"
                };
                (tr.tn(subject, &args), tr.tn("reminder-communication-body", &args))
            }
        };
        Email {
            to: r.email.clone(),
            subject,
            text,
            ..Email::default()
        }
    }
}

// The support chain's notices (issue 23): kept apart from the other mails of this file.
impl ServerJobs {
    /// The breach check, then every notice owed (raised, passed on, answered, resolved, about
    /// to breach), each marked before it goes so it goes once.
    async fn run_support_job(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let run = crm.check_support_breaches().await?;
        let owed = crm.due_support_mails().await?;
        ctx.phase("sending", Some(owed.len() as u64));
        let mut tally = Tally::default();
        for mail in &owed {
            ctx.go_on()?;
            if !crm.mark_support_mail(mail).await? {
                continue;
            }
            let sent = self.mailer.send(&self.support_email(mail)).await;
            if sent.is_err() {
                crm.unmark_support_mail(mail).await?;
            }
            tally.count(sent, "a support notice");
            ctx.advance(1);
        }
        let mut out = match tally.outcome()? {
            Some(Json::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        out.insert("checked".into(), json!(run.checked));
        out.insert("warned".into(), json!(run.warned.len()));
        out.insert("escalated".into(), json!(run.escalated.len()));
        Ok(Some(Json::Object(out)))
    }

    /// A notice in its reader's language. The subject carries `[Q#12]` and the body the signed
    /// token, so an answer by e-mail can be threaded back to its question.
    fn support_email(&self, mail: &SupportMail) -> Email {
        let tr = Tr::new(&mail.to.locale);
        let q = &mail.question;
        let base = self.public_url.trim_end_matches('/');
        let key = match mail.kind {
            SupportMailKind::Raised => "raised",
            SupportMailKind::Escalated => "escalated",
            SupportMailKind::Answered => "answered",
            SupportMailKind::RequesterReplied => "requester-replied",
            SupportMailKind::Resolved => "resolved",
            SupportMailKind::Warning => "warning",
        };
        let args = [
            ("number", q.number.to_string()),
            ("subject", q.subject.clone()),
            ("name", mail.to.name.clone()),
            ("text", mail.text.clone()),
            ("link", format!("{base}/support/{}", q.number)),
            ("token", mail.token.clone()),
        ];
        // Machine-sent (RFC 3834), so that out-of-office replies are not sent back to be taken
        // for an answer.
        let mut headers = vec![
            ("X-Anchora-Question".to_string(), mail.token.clone()),
            ("Auto-Submitted".to_string(), "auto-generated".to_string()),
            ("X-Auto-Response-Suppress".to_string(), "All".to_string()),
        ];
        if let Some(reply_to) = self
            .support_address
            .as_deref()
            .and_then(|a| reply_address(a, &mail.token))
        {
            headers.push(("Reply-To".into(), reply_to));
        }
        Email {
            to: mail.to.email.clone().unwrap_or_default(),
            subject: format!(
                "[Q#{}] {}",
                q.number,
                tr.tn(&format!("support-mail-{key}-subject"), &args)
            ),
            text: format!(
                "{}\n\n{}",
                tr.tn(&format!("support-mail-{key}-body"), &args),
                tr.tn("support-mail-footer", &args)
            ),
            headers,
            ..Email::default()
        }
    }

    /// Take the answers waiting in the support mailbox and thread each into its question, in
    /// the workspace whose secret signed its reference. Only what is kept in its question
    /// (now, or by a run before) is deleted. What cannot be threaded (a stranger, a forged,
    /// forwarded or stale reference, a sender who may not see the question) is counted and
    /// left in the mailbox, seen, for a person, as machines' mail and mail naming no question
    /// are: no answer is lost.
    pub async fn read_support_mailbox(&self, crm: &Crm, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        let Some((mailbox, workspaces)) = &self.support_mailbox else {
            return Ok(Some(json!({"mailbox": "none"})));
        };
        // One mailbox serves every workspace: the main workspace's schedule reads it.
        if crm.workspace() != anchora_core::workspace::DEFAULT_WORKSPACE {
            return Ok(Some(json!({"mailbox": "read by the main workspace"})));
        }
        ctx.phase("reading", None);
        let unavailable = |e: String| {
            anchora_core::Error::new(
                anchora_core::ErrorCode::Unavailable,
                format!("the support mailbox: {e}"),
            )
        };
        let prefix = plus_prefix(self.support_address.as_deref());
        // Read and marked seen first, deleted only once kept in its question: a database that
        // fails meanwhile loses no answer.
        let replies = mailbox
            .read_unseen(SUPPORT_REPLIES_PER_RUN, |raw| read_reply(raw, &prefix))
            .await
            .map_err(unavailable)?;
        ctx.phase("threading", Some(replies.len() as u64));
        let crms = workspaces.all().await;
        let mut counts = std::collections::BTreeMap::<&str, u64>::new();
        let (mut done, mut again) = (Vec::new(), Vec::new());
        for (uid, reply) in &replies {
            let outcome = thread_into_any(&crms, reply).await;
            *counts.entry(outcome).or_default() += 1;
            match outcome {
                "failed" => again.push(*uid),
                "threaded" | "kept_already" => done.push(*uid),
                // Left seen for a person to read.
                _ => {}
            }
            ctx.advance(1);
        }
        mailbox.settle(&done, &again).await.map_err(unavailable)?;
        let mut out = serde_json::Map::new();
        out.insert("read".into(), json!(replies.len()));
        for (what, n) in counts {
            out.insert(what.into(), json!(n));
        }
        Ok(Some(Json::Object(out)))
    }
}

/// Answers read from the support mailbox per run at most.
const SUPPORT_REPLIES_PER_RUN: usize = 200;

/// Threads one answer into the workspace whose secret signed its reference (only one can), and
/// says what became of it. A failure is logged without the text (it is the sender's).
async fn thread_into_any(crms: &[(String, Crm)], reply: &MailedReply) -> &'static str {
    for (workspace, crm) in crms {
        match crm
            .thread_email_reply(
                &reply.from,
                &reply.subject,
                &reply.text,
                reply.reference.as_deref(),
                reply.message_id.as_deref(),
            )
            .await
        {
            Ok(Threaded::NoReference) => continue,
            Ok(Threaded::Into(_)) => return "threaded",
            Ok(Threaded::Again(_)) => return "kept_already",
            Ok(Threaded::UnknownSender) => return "unknown_sender",
            Ok(Threaded::NotAllowed) => return "not_allowed",
            Ok(Threaded::Empty) => return "empty",
            Err(e) => {
                tracing::warn!(%workspace, error = %e.detail, "an answer by e-mail could not be threaded");
                return "failed";
            }
        }
    }
    "no_reference"
}
