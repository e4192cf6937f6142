//! Saved reports by e-mail: a reader subscribes to a report daily, weekly or monthly; the job
//! runs the report as each recipient (so each copy holds only what that recipient may see) and
//! sends it once per period. A copy is kept as sent before it goes and forgotten again when
//! the sending fails, so it goes once and a failed one is tried at the next run.

use super::{ReportResult, SavedReport};
use crate::auth::{Credential, Permission, Principal};
use crate::error::{Error, Result};
use crate::identity::User;
use crate::ids::{ReportId, UserId};
use crate::period::Bucket;
use crate::service::Crm;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    pub fn parse(s: &str) -> Option<Cadence> {
        [Cadence::Daily, Cadence::Weekly, Cadence::Monthly]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    /// The first day of the period a local day is in: a copy goes once per period.
    pub fn period_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Cadence::Daily => day,
            Cadence::Weekly => Bucket::Week.start_of(day),
            Cadence::Monthly => Bucket::Month.start_of(day),
        }
    }
}

/// Who gets a report by e-mail, how often, and the period last sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    pub report: ReportId,
    pub user: UserId,
    pub cadence: Cadence,
    pub last_sent: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// A copy owed: the report as its recipient sees it now.
#[derive(Debug, Clone)]
pub struct DueReport {
    pub subscription: Subscription,
    pub period: NaiveDate,
    pub user: User,
    pub report: SavedReport,
    pub result: ReportResult,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubscription {
    cadence: Cadence,
    /// Another reader (only whoever may change the report subscribes others); the caller when
    /// left out.
    #[serde(default)]
    user: Option<UserId>,
}

fn principal_of(user: &User) -> Principal {
    Principal::new(user.id, user.role, user.team, Credential::Local)
}

impl Crm {
    /// Subscribe to a saved report by e-mail (or, for whoever may change it, subscribe another
    /// reader who may open it). Subscribing again changes the cadence.
    pub async fn subscribe_report(&self, who: &Principal, id: &str, body: Json) -> Result<Subscription> {
        let view = self.saved_report(who, id).await?;
        let new: NewSubscription = crate::service::from_body(body)?;
        let user = new.user.unwrap_or(who.user_id);
        if user != who.user_id {
            if !view.may_change {
                return Err(Error::new(
                    crate::error::ErrorCode::Forbidden,
                    "only whoever may change a report subscribes others to it",
                ));
            }
            let reader = self.store.user(user).await?.filter(|u| u.active);
            let may_open = view.report.shared || view.report.owner == user;
            if reader.is_none() || !may_open {
                return Err(Error::field("user", "is no active user who may open this report"));
            }
        }
        let subscription = Subscription {
            report: view.report.id,
            user,
            cadence: new.cadence,
            last_sent: None,
            created_at: self.clock.now(),
        };
        self.store.put_subscription(&subscription).await?;
        Ok(subscription)
    }

    /// A report's subscriptions: all of them for whoever may change it, else the caller's own.
    pub async fn report_subscriptions(&self, who: &Principal, id: &str) -> Result<Vec<Subscription>> {
        let view = self.saved_report(who, id).await?;
        let all = self.store.subscriptions_of(view.report.id).await?;
        Ok(all
            .into_iter()
            .filter(|s| view.may_change || s.user == who.user_id)
            .collect())
    }

    /// Stop a subscription: one's own, or any for whoever may change the report.
    pub async fn unsubscribe_report(&self, who: &Principal, id: &str, user: Option<&str>) -> Result<()> {
        let view = self.saved_report(who, id).await?;
        let user = match user {
            None => who.user_id,
            Some(u) => UserId::parse(u).ok_or_else(|| Error::not_found(format!("no subscription of {u}")))?,
        };
        if user != who.user_id && !view.may_change {
            return Err(Error::not_found(format!("no subscription of {user}")));
        }
        if !self.store.delete_subscription(view.report.id, user).await? {
            return Err(Error::not_found(format!("no subscription of {user}")));
        }
        Ok(())
    }

    /// The copies owed now, each run as its recipient. A recipient who can no longer sign in,
    /// has no address, or may no longer open the report gets none.
    pub async fn due_report_mails(&self) -> Result<Vec<DueReport>> {
        let zone = self.time_zone().await?;
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let mut out = Vec::new();
        for s in self.store.all_subscriptions().await? {
            let period = s.cadence.period_of(today);
            if s.last_sent.is_some_and(|last| last >= period) {
                continue;
            }
            let Some(user) = self.store.user(s.user).await?.filter(|u| u.active && u.email.is_some()) else {
                continue;
            };
            let Some(report) = self.store.report(s.report).await? else {
                continue;
            };
            if report.owner != user.id && !report.shared {
                continue;
            }
            let reader = principal_of(&user);
            if self.authorize(&reader, Permission::ReadRecords).await.is_err() {
                continue;
            }
            // A report that no longer runs (a field archived since) is not sent; the others are.
            let result = match self.run_report(&reader, &report.spec).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(report = %report.id, error = %e.detail, "a subscribed report could not be run");
                    continue;
                }
            };
            out.push(DueReport {
                subscription: s,
                period,
                user,
                report,
                result,
            });
        }
        Ok(out)
    }

    /// Keep a copy as sent for its period; false when another run kept it first.
    pub async fn mark_report_sent(&self, due: &DueReport) -> Result<bool> {
        self.store
            .mark_subscription_sent(
                due.subscription.report,
                due.subscription.user,
                due.period,
                due.subscription.last_sent,
            )
            .await
    }

    /// Forget a copy kept as sent whose e-mail failed: owed again at the next run.
    pub async fn unmark_report_sent(&self, due: &DueReport) -> Result<()> {
        self.store
            .restore_subscription(
                due.subscription.report,
                due.subscription.user,
                due.period,
                due.subscription.last_sent,
            )
            .await
    }
}
