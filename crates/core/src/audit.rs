//! The security audit log: who signed in, who failed, who changed whose rights, which tokens were
//! made and revoked, what was exported, purged or erased. Append-only; administrators read it.

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::query::parse_limit;
use crate::record::Change;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    UserCreated,
    UserChanged,
    TeamCreated,
    AccessPolicyChanged,
    TokenCreated,
    TokenRevoked,
    Export,
    Purge,
    PersonalDataExported,
    PersonErased,
    Backup,
}

impl AuditKind {
    pub const ALL: [AuditKind; 18] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::LoginThrottled,
        AuditKind::Logout,
        AuditKind::PasswordChanged,
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordReset,
        AuditKind::UserCreated,
        AuditKind::UserChanged,
        AuditKind::TeamCreated,
        AuditKind::AccessPolicyChanged,
        AuditKind::TokenCreated,
        AuditKind::TokenRevoked,
        AuditKind::Export,
        AuditKind::Purge,
        AuditKind::PersonalDataExported,
        AuditKind::PersonErased,
        AuditKind::Backup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::LoginThrottled => "login_throttled",
            AuditKind::Logout => "logout",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::UserCreated => "user_created",
            AuditKind::UserChanged => "user_changed",
            AuditKind::TeamCreated => "team_created",
            AuditKind::AccessPolicyChanged => "access_policy_changed",
            AuditKind::TokenCreated => "token_created",
            AuditKind::TokenRevoked => "token_revoked",
            AuditKind::Export => "export",
            AuditKind::Purge => "purge",
            AuditKind::PersonalDataExported => "personal_data_exported",
            AuditKind::PersonErased => "person_erased",
            AuditKind::Backup => "backup",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry. `subject` names what the event is about (an e-mail for logins, a user or token
/// id, an object); `ip` is the client's address when the event came over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub kind: AuditKind,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: Json,
}

impl AuditEvent {
    pub fn new(at: DateTime<Utc>, actor: Option<UserId>, kind: AuditKind) -> Self {
        Self {
            seq: 0,
            at,
            actor,
            kind,
            subject: None,
            ip: None,
            detail: Json::Null,
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(str::to_string);
        self
    }

    pub fn detail(mut self, detail: Json) -> Self {
        self.detail = detail;
        self
    }

    pub fn to_json(&self) -> Json {
        json!({
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor.map(|a| a.to_string()),
            "kind": self.kind,
            "subject": self.subject,
            "ip": self.ip,
            "detail": self.detail,
        })
    }
}

/// A filtered, paged read of the audit log (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub kinds: Vec<AuditKind>,
    pub actor: Option<UserId>,
    pub subject: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries older than this sequence number (the previous page's last).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::field(field, "must be an RFC 3339 time such as 2026-11-24T09:00:00Z"))
}

impl AuditQuery {
    /// From query-string parameters: `kind` (comma-separated), `actor`, `subject`, `since`,
    /// `until`, `before`, `limit`.
    pub fn parse(q: &HashMap<String, String>) -> Result<Self> {
        let mut out = AuditQuery {
            limit: parse_limit(q.get("limit").map(String::as_str))?,
            ..Default::default()
        };
        if let Some(kinds) = q.get("kind").filter(|k| !k.is_empty()) {
            for k in kinds.split(',') {
                out.kinds.push(
                    AuditKind::parse(k.trim()).ok_or_else(|| Error::field("kind", format!("no event kind {k:?}")))?,
                );
            }
        }
        if let Some(a) = q.get("actor").filter(|a| !a.is_empty()) {
            out.actor = Some(UserId::parse(a).ok_or_else(|| Error::field("actor", "must be a user id"))?);
        }
        out.subject = q.get("subject").filter(|s| !s.is_empty()).cloned();
        if let Some(s) = q.get("since") {
            out.since = Some(parse_time("since", s)?);
        }
        if let Some(s) = q.get("until") {
            out.until = Some(parse_time("until", s)?);
        }
        if let Some(b) = q.get("before") {
            out.before_seq = Some(
                b.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::field("before", "must be an audit sequence number"))?,
            );
        }
        Ok(out)
    }
}

/// A filtered, paged read of the data change log (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeQuery {
    pub object: Option<String>,
    pub actor: Option<UserId>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

impl ChangeQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<Self> {
        let audit = AuditQuery::parse(
            &q.iter()
                .filter(|(k, _)| k.as_str() != "object" && k.as_str() != "kind")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )?;
        Ok(ChangeQuery {
            object: q.get("object").filter(|o| !o.is_empty()).cloned(),
            actor: audit.actor,
            since: audit.since,
            until: audit.until,
            before_seq: audit.before_seq,
            limit: audit.limit,
        })
    }
}

/// Where the audit log is kept, and the data change log read.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_audit(&self, event: &AuditEvent) -> Result<()>;
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// How many events of a kind about a subject (or from an address) happened since a time,
    /// and when the last did — the counts login throttling needs.
    async fn count_events(
        &self,
        kind: AuditKind,
        subject: Option<&str>,
        ip: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u32, Option<DateTime<Utc>>)>;
    /// The data change log across records, newest first.
    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), Json::String(k.as_str().into()));
        }
    }

    #[test]
    fn queries_name_the_bad_parameter() {
        let q = |pairs: &[(&str, &str)]| {
            AuditQuery::parse(
                &pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect(),
            )
        };
        assert_eq!(q(&[("kind", "nope")]).unwrap_err().errors[0].field, "kind");
        assert_eq!(q(&[("since", "yesterday")]).unwrap_err().errors[0].field, "since");
        assert_eq!(q(&[("actor", "1; DROP")]).unwrap_err().errors[0].field, "actor");
        let ok = q(&[("kind", "login_failed,logout"), ("since", "2026-11-01T00:00:00Z")]).unwrap();
        assert_eq!(ok.kinds, vec![AuditKind::LoginFailed, AuditKind::Logout]);
        assert_eq!(ok.limit, crate::query::DEFAULT_LIMIT);
    }
}
