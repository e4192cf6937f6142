//! Reminders as use cases: what is owed now across the workspace's projects, and keeping each
//! as sent (the rule of who is reminded of what is in `reminders.rs`).

use super::reminders::{Reminder, owed};
use crate::error::Result;
use crate::ids::UserId;
use crate::service::Crm;
use std::collections::HashMap;

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
