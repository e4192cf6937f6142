//! The weekly adoption digest: each team lead and key user gets the weak users of their teams
//! (names and reasons, no figures), once a week; weak users may get a friendly nudge naming
//! their key user. Worded by the web crate in each reader's language.

use super::{UserRow, Weakness};
use crate::error::Result;
use crate::identity::User;
use crate::ids::{TeamId, UserId};
use crate::period::Bucket;
use crate::service::Crm;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// A weak user as a digest names them.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestLine {
    pub user: UserId,
    pub name: String,
    pub team_name: Option<String>,
    pub weak: Vec<Weakness>,
    /// Whether extra support is planned already.
    pub supported: bool,
}

/// One e-mail owed: a digest to a lead or key user, or a nudge to a weak user.
#[derive(Debug, Clone, PartialEq)]
pub enum AdoptionMail {
    Digest {
        to: User,
        week: NaiveDate,
        lines: Vec<DigestLine>,
    },
    Nudge {
        to: User,
        week: NaiveDate,
        weak: Vec<Weakness>,
        key_user: Option<String>,
    },
}

impl AdoptionMail {
    /// What keeps it sent once: per recipient and week.
    pub fn key(&self) -> String {
        match self {
            AdoptionMail::Digest { to, week, .. } => format!("adoption-digest:{}:{week}", to.id),
            AdoptionMail::Nudge { to, week, .. } => format!("adoption-nudge:{}:{week}", to.id),
        }
    }

    pub fn to(&self) -> &User {
        match self {
            AdoptionMail::Digest { to, .. } | AdoptionMail::Nudge { to, .. } => to,
        }
    }
}

impl Crm {
    /// The digests and nudges of this week not sent yet. Only teams with weak users get a
    /// digest; nudges only when administrators turned them on.
    pub async fn due_adoption_mails(&self) -> Result<Vec<AdoptionMail>> {
        let zone = self.time_zone().await?;
        let week = Bucket::Week.start_of(self.clock.now().with_timezone(&zone).date_naive());
        let rules = self.adoption_rules().await?;
        let scores = self.scores().await?;
        let users: HashMap<UserId, User> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.id, u))
            .collect();
        let mut weak_by_team: BTreeMap<TeamId, Vec<&UserRow>> = BTreeMap::new();
        for row in scores.rows.iter().filter(|r| !r.weak.is_empty()) {
            if let Some(team) = row.team {
                weak_by_team.entry(team).or_default().push(row);
            }
        }
        let key_user_of = |team: Option<TeamId>| {
            let mut keys: Vec<&User> = users
                .values()
                .filter(|u| u.role == crate::auth::Role::KeyUser && team.is_some() && u.team == team)
                .collect();
            keys.sort_by(|a, b| a.name.cmp(&b.name));
            keys.first().map(|u| (*u).clone())
        };
        // Recipients: each team's lead and key users.
        let mut lines_for: BTreeMap<UserId, Vec<DigestLine>> = BTreeMap::new();
        for (team, rows) in &weak_by_team {
            let mut readers: Vec<UserId> = users
                .values()
                .filter(|u| u.role == crate::auth::Role::KeyUser && u.team == Some(*team))
                .map(|u| u.id)
                .collect();
            if let Some(lead) = scores.leads.get(team) {
                readers.push(*lead);
            }
            readers.sort();
            readers.dedup();
            for reader in readers {
                let lines = lines_for.entry(reader).or_default();
                lines.extend(rows.iter().filter(|r| r.user != reader).map(|r| DigestLine {
                    user: r.user,
                    name: r.name.clone(),
                    team_name: r.team_name.clone(),
                    weak: r.weak.clone(),
                    supported: r.support.is_some(),
                }));
            }
        }
        let mut owed = Vec::new();
        for (reader, lines) in lines_for {
            if let Some(to) = users.get(&reader).filter(|u| u.email.is_some())
                && !lines.is_empty()
            {
                owed.push(AdoptionMail::Digest {
                    to: to.clone(),
                    week,
                    lines,
                });
            }
        }
        if rules.nudge {
            for row in scores.rows.iter().filter(|r| !r.weak.is_empty()) {
                if let Some(to) = users.get(&row.user).filter(|u| u.email.is_some()) {
                    owed.push(AdoptionMail::Nudge {
                        to: to.clone(),
                        week,
                        weak: row.weak.clone(),
                        key_user: key_user_of(row.team).filter(|k| k.id != row.user).map(|k| k.name),
                    });
                }
            }
        }
        let keys: Vec<String> = owed.iter().map(AdoptionMail::key).collect();
        let sent = self.store.reminded(&keys).await?;
        owed.retain(|m| !sent.contains(&m.key()));
        Ok(owed)
    }

    /// Keep a mail as sent before sending it; false when another worker did.
    pub async fn mark_adoption_mail(&self, mail: &AdoptionMail) -> Result<bool> {
        self.store.mark_reminded(&mail.key(), self.clock.now()).await
    }

    /// Forget a mail that could not be sent: owed again at the next run.
    pub async fn unmark_adoption_mail(&self, mail: &AdoptionMail) -> Result<()> {
        self.store.unmark_reminded(&mail.key()).await
    }
}
