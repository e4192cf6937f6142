//! Reminders by e-mail: an overdue action to its owner, and each occasion of the communication
//! matrix to the members who send it, from the day it is due soon. Each goes once: a reminder
//! is kept as sent under a key naming what it is about and for which due date, so an action
//! moved to a later date, or the matrix's next occasion, is reminded again.
//! The job that sends them (`reminders`, every 15 minutes) words them in each reader's language
//! in the web crate; this module decides who is reminded of what.

use super::state::ProjectState;
use crate::error::Result;
use crate::ids::{ProjectId, UserId};
use crate::service::Crm;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{HashMap, HashSet};

/// What a reminder is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nudge {
    /// An open action past its due date.
    Action { number: u32, title: String, due: NaiveDate },
    /// An occasion of the communication matrix: what to send, to whom, by when.
    Communication {
        number: u32,
        content: String,
        audience: String,
        channel: String,
        due: NaiveDate,
        overdue: bool,
    },
}

/// One reminder to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// What makes it this reminder and no other (kept once sent).
    pub key: String,
    pub project: ProjectId,
    pub project_name: String,
    /// The member's name, their address, and (when they are a user) their language.
    pub name: String,
    pub email: String,
    pub user: Option<UserId>,
    pub locale: Option<String>,
    pub nudge: Nudge,
}

/// Where sent reminders are kept.
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Which of these keys were sent already.
    async fn reminded(&self, keys: &[String]) -> Result<HashSet<String>>;
    /// Keep a key as sent; false when it was kept already (another worker sent it).
    async fn mark_reminded(&self, key: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Forget a key whose e-mail could not be sent, so the next run tries again.
    async fn unmark_reminded(&self, key: &str) -> Result<()>;
}

/// The reminders a project owes on `today`, before the sent ones are left out; members without
/// an address of their own get their user's (`emails`).
pub fn owed(state: &ProjectState, today: NaiveDate, emails: &HashMap<UserId, (String, String)>) -> Vec<Reminder> {
    let id = state.project.id;
    let member = |number: u32| state.members.iter().find(|m| m.number == number);
    let address = |m: &super::model::Member| -> Option<(String, Option<String>)> {
        let (email, locale) = match m.user.and_then(|u| emails.get(&u)) {
            Some((email, locale)) => (email.clone(), Some(locale.clone())),
            None => (String::new(), None),
        };
        let email = if m.email.trim().is_empty() {
            email
        } else {
            m.email.trim().to_string()
        };
        (!email.is_empty()).then_some((email, locale))
    };
    let mut out = Vec::new();
    for a in state.actions.iter().filter(|a| a.overdue(today)) {
        let Some(m) = a.owner.and_then(member) else { continue };
        let Some((email, locale)) = address(m) else { continue };
        out.push(Reminder {
            key: format!("action/{id}/{}/{}", a.number, a.due),
            project: id,
            project_name: state.project.settings.name.clone(),
            name: m.name.clone(),
            email,
            user: m.user,
            locale,
            nudge: Nudge::Action {
                number: a.number,
                title: a.title.clone(),
                due: a.due,
            },
        });
    }
    for (c, due, state_of) in state.communications_due(today) {
        if !state_of.remind() {
            continue;
        }
        for m in state.senders(c).into_iter().filter_map(member) {
            let Some((email, locale)) = address(m) else { continue };
            out.push(Reminder {
                key: format!("communication/{id}/{}/{due}/{}", c.number, m.number),
                project: id,
                project_name: state.project.settings.name.clone(),
                name: m.name.clone(),
                email,
                user: m.user,
                locale,
                nudge: Nudge::Communication {
                    number: c.number,
                    content: c.content.clone(),
                    audience: c.audience.clone(),
                    channel: c.channel.clone(),
                    due,
                    overdue: state_of == super::matrix::Due::Overdue,
                },
            });
        }
    }
    out
}

impl Crm {
    /// Every reminder owed today across the workspace's projects that was not sent yet (run by
    /// the reminders job, as the system).
    pub async fn due_reminders(&self) -> Result<Vec<Reminder>> {
        let today = self.clock.now().date_naive();
        let emails: HashMap<UserId, (String, String)> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active)
            .filter_map(|u| Some((u.id, (u.email?, u.locale))))
            .collect();
        let mut owed_now = Vec::new();
        for project in self.store.projects().await? {
            let state = self.load_project(project.id).await?;
            owed_now.extend(owed(&state, today, &emails));
        }
        let keys: Vec<String> = owed_now.iter().map(|r| r.key.clone()).collect();
        let sent = self.store.reminded(&keys).await?;
        Ok(owed_now.into_iter().filter(|r| !sent.contains(&r.key)).collect())
    }

    /// Keep a reminder as sent before sending it; false when someone else has.
    pub async fn mark_reminded(&self, reminder: &Reminder) -> Result<bool> {
        self.store.mark_reminded(&reminder.key, self.clock.now()).await
    }

    /// A reminder whose e-mail failed is owed again.
    pub async fn unmark_reminded(&self, reminder: &Reminder) -> Result<()> {
        self.store.unmark_reminded(&reminder.key).await
    }
}
