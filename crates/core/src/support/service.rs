//! The support chain's use cases. Who sees a question is decided here for every path: the
//! requester, the key users of the team recorded on it (as the stewardship plan names them, the
//! same source routing asks), its assignee, the system owner once it is with the vendor,
//! administrators; anyone else is told
//! there is no such question (404), so its existence is not given away.

use super::hours::{AgreedTime, SlaState, WarnAt};
use super::store::{Alert, QuestionFilter, QuestionScope, Saved};
use super::{
    AttachmentInfo, EventKind, Level, MAX_ATTACHMENT_BYTES, MAX_LONG_TEXT, MAX_SHORT_TEXT, Priority, Question,
    QuestionEvent, Status, SupportSettings, VendorTicket, pauses,
};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::identity::User;
use crate::ids::{AttachmentId, QuestionId, UserId};
use crate::service::Crm;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};

const SETTINGS_KEY: &str = "support";
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 200;
/// Questions the breach check reads at a time.
const BREACH_PAGE: u32 = 200;

/// Where one agreed time of a question stands, for people and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaView {
    /// `running`, `warning`, `paused`, `breached`, `met`, `never_due`.
    pub state: &'static str,
    pub agreed_minutes: i64,
    pub due: Option<DateTime<Utc>>,
    /// Open minutes left (running, warning, paused).
    pub left_minutes: Option<i64>,
    /// When it breached, or was met.
    pub since: Option<DateTime<Utc>>,
}

/// A question as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionLine {
    #[serde(flatten)]
    pub question: Question,
    pub requester_name: String,
    pub assignee_name: Option<String>,
}

/// A question with what its reader may see of its steps.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionView {
    #[serde(flatten)]
    pub line: QuestionLine,
    pub events: Vec<QuestionEvent>,
    pub attachments: Vec<AttachmentInfo>,
    pub response: SlaView,
    pub resolution: SlaView,
    /// The reader is of the chain for it (key user of its team, administrator).
    pub in_chain: bool,
    /// The names of the people its steps name, by id.
    pub names: HashMap<UserId, String>,
}

/// What one breach check did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BreachRun {
    pub checked: u64,
    pub warned: Vec<QuestionId>,
    pub escalated: Vec<QuestionId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RaiseBody {
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: Option<String>,
    /// With `urgency`, the priority by the plan's matrix when none is given.
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    record: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    version: Option<i64>,
    subject: Option<String>,
    description: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    /// A user's id; `""` or null leaves it unassigned.
    #[serde(default, with = "double_option")]
    assignee: Option<Option<String>>,
    vendor_reference: Option<String>,
}

/// Tell a field left out from one set to null.
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    /// `reply` (public) or `note` (internal).
    kind: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    version: Option<i64>,
    status: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalateBody {
    version: Option<i64>,
    #[serde(default)]
    reason: String,
    vendor_name: Option<String>,
    vendor_contact: Option<String>,
    vendor_reference: Option<String>,
    response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
}

/// The list's filters as a query string gives them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuestionQuery {
    /// `mine`, `team`, `all` (the default: everything the reader may see).
    pub view: Option<String>,
    pub level: Option<String>,
    pub status: Option<String>,
    /// `open`: only questions not resolved or closed.
    pub open: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

impl QuestionQuery {
    /// The query from its pairs, as a query string gives them; a filter given twice is refused
    /// naming it (422), never guessed.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self> {
        let mut q = QuestionQuery::default();
        let mut errors = Vec::new();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "view" => &mut q.view,
                "level" => &mut q.level,
                "status" => &mut q.status,
                "open" => &mut q.open,
                "cursor" => &mut q.cursor,
                "limit" => &mut q.limit,
                _ => continue,
            };
            if slot.is_some() {
                errors.push(FieldError::new(k.as_str(), "is given once"));
            } else {
                *slot = Some(v.clone());
            }
        }
        check(errors)?;
        Ok(q)
    }
}

fn no_question() -> Error {
    Error::not_found("no such question")
}

fn short(field: &str, s: &str, required: bool, errors: &mut Vec<FieldError>) -> String {
    let s = s.trim();
    if required && s.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if s.chars().count() > MAX_SHORT_TEXT {
        errors.push(FieldError::new(
            field,
            format!("is longer than {MAX_SHORT_TEXT} characters"),
        ));
    } else if s.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "holds a control character"));
    }
    s.to_string()
}

fn long(field: &str, s: &str, required: bool, errors: &mut Vec<FieldError>) -> String {
    let s = s.trim();
    if required && s.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if s.chars().count() > MAX_LONG_TEXT {
        errors.push(FieldError::new(
            field,
            format!("is longer than {MAX_LONG_TEXT} characters"),
        ));
    } else if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError::new(field, "holds a control character"));
    }
    s.to_string()
}

fn optional(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

fn require_write(who: &Principal) -> Result<()> {
    if who.scope >= Scope::Write {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Forbidden,
            "this token's scope does not allow you to change questions",
        ))
    }
}

/// A write names the version it was made to; one other than the current is refused with the
/// question as it is now. Called after the body's own mistakes are named, so a bad body is a
/// 422 whatever its version.
fn stale(q: &Question, version: Option<i64>) -> Result<()> {
    match version {
        None => Err(Error::field(
            "version",
            "is required: the version the change is made to",
        )),
        Some(v) if v < 1 => Err(Error::field("version", "is at least 1")),
        Some(v) if v != q.version => Err(Error::conflict(serde_json::to_value(q).unwrap_or(Json::Null))),
        Some(_) => Ok(()),
    }
}

fn sla(
    settings: &SupportSettings,
    q: &Question,
    agreed_minutes: i64,
    met: Option<DateTime<Utc>>,
    events: &[QuestionEvent],
    now: DateTime<Utc>,
) -> SlaView {
    if let Some(at) = met {
        return SlaView {
            state: "met",
            agreed_minutes,
            due: None,
            left_minutes: None,
            since: Some(at),
        };
    }
    let clock = AgreedTime {
        started: q.level_since,
        agreed: Duration::minutes(agreed_minutes),
        pauses: pauses(events),
    };
    let warn = WarnAt::Share(settings.warn_share);
    let (state, due, left, since) = match clock.state(&settings.calendar, now, warn) {
        SlaState::Running { due, left } => ("running", Some(due), Some(left), None),
        SlaState::Warning { due, left } => ("warning", Some(due), Some(left), None),
        SlaState::Paused { left } => ("paused", None, Some(left), None),
        SlaState::Breached { since } => ("breached", None, None, Some(since)),
        SlaState::NeverDue { left } => ("never_due", None, Some(left), None),
    };
    SlaView {
        state,
        agreed_minutes,
        due,
        left_minutes: left.map(|d| d.num_minutes()),
        since,
    }
}

/// A question's two clocks at `now`.
fn clocks(
    settings: &SupportSettings,
    q: &Question,
    events: &[QuestionEvent],
    now: DateTime<Utc>,
) -> (SlaView, SlaView) {
    let times = settings.times_of(q);
    let resolved = q.resolved_at.or(q.closed_at).filter(|_| !q.status.is_open());
    let response = sla(
        settings,
        q,
        times.response_minutes,
        q.level_response_at.or(resolved),
        events,
        now,
    );
    let resolution = sla(settings, q, times.resolution_minutes, resolved, events, now);
    (response, resolution)
}

impl Crm {
    /// Whether the reader is of the chain for a question, from the same source routing asks:
    /// administrators, the key users `key_users_of` its team gives, its assignee, and (with the
    /// vendor or past it) the system owner.
    async fn in_chain(&self, who: &Principal, q: &Question) -> Result<bool> {
        if who.role == Role::Admin || q.assignee == Some(who.user_id) {
            return Ok(true);
        }
        if q.level == Level::Vendor && self.system_owner().await? == Some(who.user_id) {
            return Ok(true);
        }
        Ok(q.team.is_some() && self.key_users_of(q.team).await?.contains(&who.user_id))
    }

    /// Whether a user may take a question: an administrator, a key user of its team, or the
    /// system owner once it is with the vendor.
    async fn may_handle(&self, user: &User, q: &Question) -> Result<bool> {
        if user.role == Role::Admin {
            return Ok(true);
        }
        if q.level == Level::Vendor && self.system_owner().await? == Some(user.id) {
            return Ok(true);
        }
        Ok(q.team.is_some() && self.key_users_of(q.team).await?.contains(&user.id))
    }

    /// Whether the reader may see a question at all: its requester and the chain.
    async fn may_see(&self, who: &Principal, q: &Question) -> Result<bool> {
        Ok(q.requester == who.user_id || self.in_chain(who, q).await?)
    }

    /// The questions the reader may see, as the store filters them (the same rule as `may_see`).
    pub(crate) async fn scope_of(&self, who: &Principal) -> Result<QuestionScope> {
        if who.role == Role::Admin {
            return Ok(QuestionScope::All);
        }
        let teams = self.key_user_teams(who.user_id).await?;
        Ok(QuestionScope::Of {
            user: who.user_id,
            teams,
            owner: self.system_owner().await? == Some(who.user_id),
        })
    }

    /// The support settings, defaults where none were kept (or they no longer read).
    pub async fn support_settings_now(&self) -> Result<SupportSettings> {
        Ok(self
            .store
            .setting(SETTINGS_KEY)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    /// The settings (administrators).
    pub async fn support_settings(&self, who: &Principal) -> Result<SupportSettings> {
        self.authorize(who, Permission::ReadRecords).await?;
        if who.role != Role::Admin {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only administrators see the support settings",
            ));
        }
        self.support_settings_now().await
    }

    pub async fn set_support_settings(&self, who: &Principal, body: Json) -> Result<SupportSettings> {
        self.authorize(who, Permission::ReadRecords).await?;
        if who.role != Role::Admin {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only administrators change the support settings",
            ));
        }
        require_write(who)?;
        let settings = SupportSettings::parse(body)?;
        let text = serde_json::to_string(&settings).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(SETTINGS_KEY, &text).await?;
        Ok(settings)
    }

    /// Raise a question: it goes to the key users who cover the requester's team, or straight to
    /// IT when none does.
    pub async fn raise_question(&self, who: &Principal, body: Json) -> Result<QuestionView> {
        self.authorize(who, Permission::ReadRecords).await?;
        require_write(who)?;
        let input: RaiseBody = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        let subject = short("subject", &input.subject, true, &mut errors);
        let description = long("description", &input.description, false, &mut errors);
        let category = short("category", &input.category, false, &mut errors);
        let grade = |field: &str, value: &Option<String>, errors: &mut Vec<FieldError>| {
            let text = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            let level = crate::stewardship::Level::parse(text);
            if level.is_none() {
                errors.push(FieldError::new(field, "is one of low, medium, high"));
            }
            level
        };
        let impact = grade("impact", &input.impact, &mut errors);
        let urgency = grade("urgency", &input.urgency, &mut errors);
        let priority = match input.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Priority::parse(p).unwrap_or_else(|| {
                errors.push(FieldError::new("priority", "is one of low, normal, high, urgent"));
                Priority::Normal
            }),
            None => {
                // Empty and null are both "not given".
                let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
                match (impact, urgency) {
                    (Some(i), Some(u)) => self.priority_for(i, u).await?,
                    (Some(_), None) if !given(&input.urgency) => {
                        errors.push(FieldError::new("urgency", "is needed with impact to give a priority"));
                        Priority::Normal
                    }
                    (None, Some(_)) if !given(&input.impact) => {
                        errors.push(FieldError::new("impact", "is needed with urgency to give a priority"));
                        Priority::Normal
                    }
                    _ => Priority::Normal,
                }
            }
        };
        let page = optional(input.page).map(|p| short("page", &p, false, &mut errors));
        let object = optional(input.object).map(|p| short("object", &p, false, &mut errors));
        let record = optional(input.record).map(|p| short("record", &p, false, &mut errors));
        check(errors)?;
        let user = self.store.user(who.user_id).await?.ok_or_else(no_question)?;
        let settings = self.support_settings_now().await?;
        let now = self.clock.now();
        // A key user's own question goes to the team's other key users, or to IT.
        let key_users: Vec<UserId> = self
            .key_users_of(user.team)
            .await?
            .into_iter()
            .filter(|k| *k != who.user_id)
            .collect();
        // One key user takes it at once; several share it until one takes it.
        let (level, assignee) = match key_users.as_slice() {
            [] => (Level::It, None),
            [one] => (Level::KeyUser, Some(*one)),
            _ => (Level::KeyUser, None),
        };
        let hypercare = settings.in_hypercare(now);
        let id = QuestionId::new_at(now);
        let mut q = Question {
            id,
            number: 0,
            subject,
            description,
            category,
            priority,
            status: Status::New,
            level,
            requester: who.user_id,
            team: user.team,
            assignee,
            page,
            object,
            record,
            vendor: (hypercare && !settings.vendor_name.is_empty()).then(|| VendorTicket {
                name: settings.vendor_name.clone(),
                contact: settings.vendor_contact.clone(),
                ..VendorTicket::default()
            }),
            language: user.locale.clone(),
            hypercare,
            opened_at: now,
            level_since: now,
            level_response_at: None,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            updated_at: now,
            version: 1,
        };
        let event = QuestionEvent::new(
            id,
            now,
            Some(who.user_id),
            EventKind::Raised,
            "",
            json!({"level": level.as_str(), "routed_to": key_users, "hypercare": hypercare}),
        );
        q.number = self.store.create_question(&q, std::slice::from_ref(&event)).await?;
        self.question_view(who, q).await
    }

    /// A question the reader may see, by id or `#number`/number.
    async fn visible_question(&self, who: &Principal, id: &str) -> Result<Question> {
        self.authorize(who, Permission::ReadRecords).await?;
        let id = id.trim();
        let found = if let Some(q) = QuestionId::parse(id) {
            self.store.question(q).await?
        } else if let Ok(n) = id.trim_start_matches('#').parse::<i64>() {
            self.store.question_by_number(n).await?
        } else {
            None
        };
        match found {
            Some(q) if self.may_see(who, &q).await? => Ok(q),
            _ => Err(no_question()),
        }
    }

    /// Questions as a list shows them, their people's names read in one go.
    async fn question_lines(&self, qs: Vec<Question>) -> Result<Vec<QuestionLine>> {
        let mut ids: Vec<UserId> = qs
            .iter()
            .flat_map(|q| [Some(q.requester), q.assignee])
            .flatten()
            .collect();
        ids.sort_unstable_by_key(|u| u.0);
        ids.dedup();
        let names: HashMap<UserId, String> = self.store.support_user_names(&ids).await?.into_iter().collect();
        Ok(qs
            .into_iter()
            .map(|q| QuestionLine {
                requester_name: names.get(&q.requester).cloned().unwrap_or_default(),
                assignee_name: q.assignee.and_then(|a| names.get(&a).cloned()),
                question: q,
            })
            .collect())
    }

    async fn question_view(&self, who: &Principal, q: Question) -> Result<QuestionView> {
        let chain = self.in_chain(who, &q).await?;
        let all_events = self.store.question_events(q.id).await?;
        let settings = self.support_settings_now().await?;
        let (response, resolution) = clocks(&settings, &q, &all_events, self.clock.now());
        let events: Vec<QuestionEvent> = all_events.into_iter().filter(|e| chain || !e.kind.internal()).collect();
        let mut ids: Vec<UserId> = events.iter().filter_map(|e| e.actor).collect();
        ids.sort_unstable_by_key(|u| u.0);
        ids.dedup();
        let names: HashMap<UserId, String> = self.store.support_user_names(&ids).await?.into_iter().collect();
        let attachments = self.store.attachments(q.id).await?;
        let line = self.question_lines(vec![q]).await?.pop().ok_or_else(no_question)?;
        Ok(QuestionView {
            line,
            events,
            attachments,
            response,
            resolution,
            in_chain: chain,
            names,
        })
    }

    pub async fn question(&self, who: &Principal, id: &str) -> Result<QuestionView> {
        let q = self.visible_question(who, id).await?;
        self.question_view(who, q).await
    }

    /// The events of a question its reader may see (internal notes for the chain only).
    pub async fn question_events(&self, who: &Principal, id: &str) -> Result<Vec<QuestionEvent>> {
        Ok(self.question(who, id).await?.events)
    }

    /// A page of the questions the reader may see, newest first, and the next page's cursor.
    pub async fn questions(
        &self,
        who: &Principal,
        query: &QuestionQuery,
    ) -> Result<(Vec<QuestionLine>, Option<String>)> {
        self.authorize(who, Permission::ReadRecords).await?;
        let mut errors = Vec::new();
        let mut filter = QuestionFilter {
            scope: self.scope_of(who).await?,
            requester: None,
            team: None,
            level: None,
            status: None,
            open: false,
            before: None,
            limit: PAGE_DEFAULT,
        };
        match query.view.as_deref().unwrap_or("all") {
            "all" | "" => {}
            "mine" => filter.requester = Some(who.user_id),
            "team" => match who.team {
                Some(t) => filter.team = Some(t),
                None => {
                    filter.scope = QuestionScope::Of {
                        user: who.user_id,
                        teams: Vec::new(),
                        owner: false,
                    }
                }
            },
            _ => errors.push(FieldError::new("view", "is one of mine, team, all")),
        }
        if let Some(l) = query.level.as_deref().filter(|s| !s.is_empty()) {
            filter.level = Level::parse(l);
            if filter.level.is_none() {
                errors.push(FieldError::new("level", "is one of key_user, it, vendor"));
            }
        }
        if let Some(s) = query.status.as_deref().filter(|s| !s.is_empty()) {
            filter.status = Status::parse(s);
            if filter.status.is_none() {
                errors.push(FieldError::new(
                    "status",
                    "is one of new, open, waiting_on_requester, waiting_on_vendor, resolved, closed",
                ));
            }
        }
        match query.open.as_deref() {
            None | Some("" | "false" | "0") => {}
            Some("true" | "1") => filter.open = true,
            Some(_) => errors.push(FieldError::new("open", "is true or false")),
        }
        if let Some(c) = query.cursor.as_deref().filter(|s| !s.is_empty()) {
            match c.parse::<i64>() {
                Ok(n) if n > 0 => filter.before = Some(n),
                _ => {
                    return Err(Error::new(
                        ErrorCode::InvalidCursor,
                        "the cursor is not one this list gave",
                    ));
                }
            }
        }
        if let Some(l) = query.limit.as_deref().filter(|s| !s.is_empty()) {
            match l.parse::<u32>() {
                Ok(n) if (1..=PAGE_MAX).contains(&n) => filter.limit = n,
                _ => errors.push(FieldError::new("limit", format!("is a number from 1 to {PAGE_MAX}"))),
            }
        }
        check(errors)?;
        let limit = filter.limit as usize;
        filter.limit += 1;
        let mut found = self.store.questions(&filter).await?;
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|q| q.number.to_string())
        } else {
            None
        };
        Ok((self.question_lines(found).await?, next))
    }

    /// Write a changed question at the version it was read; a stale write is refused with the
    /// question as it is now.
    async fn save_question_at(
        &self,
        before: &Question,
        mut q: Question,
        events: Vec<QuestionEvent>,
    ) -> Result<Question> {
        q.version = before.version + 1;
        q.updated_at = self.clock.now();
        if self.store.save_question(&q, before.version, &events, None).await? == Saved::Written {
            Ok(q)
        } else {
            let current = self.store.question(q.id).await?.ok_or_else(no_question)?;
            Err(Error::conflict(serde_json::to_value(&current).unwrap_or(Json::Null)))
        }
    }

    /// Change subject, description, category, priority, assignee or the vendor's reference
    /// (the chain; the requester their own subject and description).
    pub async fn update_question(&self, who: &Principal, id: &str, body: Json) -> Result<QuestionView> {
        let before = self.visible_question(who, id).await?;
        require_write(who)?;
        let input: PatchBody = crate::service::from_body(body)?;
        let chain = self.in_chain(who, &before).await?;
        let chain_only = input.category.is_some()
            || input.priority.is_some()
            || input.assignee.is_some()
            || input.vendor_reference.is_some();
        if !chain && chain_only {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only the key users of the question's team and administrators change these",
            ));
        }
        let now = self.clock.now();
        let mut q = before.clone();
        let mut errors = Vec::new();
        let mut events = Vec::new();
        if let Some(s) = &input.subject {
            q.subject = short("subject", s, true, &mut errors);
        }
        if let Some(s) = &input.description {
            q.description = long("description", s, false, &mut errors);
        }
        if let Some(s) = &input.category {
            q.category = short("category", s, false, &mut errors);
        }
        if let Some(p) = &input.priority {
            match Priority::parse(p.trim()) {
                Some(p) => q.priority = p,
                None => errors.push(FieldError::new("priority", "is one of low, normal, high, urgent")),
            }
        }
        if let Some(a) = &input.assignee {
            let a = a.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let assignee = match a {
                None => None,
                Some(a) => match UserId::parse(a) {
                    Some(u) => match self.store.user(u).await?.filter(|u| u.active) {
                        // Whoever handles a question sees it whole: only its chain may.
                        Some(user) if self.may_handle(&user, &q).await? => Some(user.id),
                        Some(_) => {
                            errors.push(FieldError::new(
                                "assignee",
                                "is not of the question's chain: a key user of its team or an administrator",
                            ));
                            None
                        }
                        None => {
                            errors.push(FieldError::new("assignee", "names no active user"));
                            None
                        }
                    },
                    None => {
                        errors.push(FieldError::new("assignee", "names no active user"));
                        None
                    }
                },
            };
            if assignee != q.assignee {
                q.assignee = assignee;
                events.push(QuestionEvent::new(
                    q.id,
                    now,
                    Some(who.user_id),
                    EventKind::Assigned,
                    "",
                    json!({"to": assignee}),
                ));
            }
        }
        if let Some(r) = &input.vendor_reference {
            let r = short("vendor_reference", r, false, &mut errors);
            match q.vendor.as_mut() {
                Some(v) if q.level == Level::Vendor => {
                    v.reference = r.clone();
                    events.push(QuestionEvent::new(
                        q.id,
                        now,
                        Some(who.user_id),
                        EventKind::VendorReference,
                        "",
                        json!({"reference": r}),
                    ));
                }
                _ => errors.push(FieldError::new(
                    "vendor_reference",
                    "is kept once the question is with the vendor",
                )),
            }
        }
        check(errors)?;
        stale(&before, input.version)?;
        let q = self.save_question_at(&before, q, events).await?;
        self.question_view(who, q).await
    }

    /// A public reply or (the chain's) internal note. A reply from the chain is the response;
    /// the requester's reply while they were waited on opens the question again.
    pub async fn add_question_event(&self, who: &Principal, id: &str, body: Json) -> Result<QuestionView> {
        let input: EventBody = crate::service::from_body(body)?;
        let kind = match input.kind.as_str() {
            "reply" => EventKind::Reply,
            "note" => EventKind::Note,
            _ => return Err(Error::field("kind", "is reply or note")),
        };
        self.reply_to_question(who, id, kind, &input.body, None)
            .await?
            .ok_or_else(|| Error::internal("a reply without an e-mail was taken for one kept already"))
    }

    /// A public reply or internal note; `None` when it came by e-mail and that e-mail (its
    /// Message-ID) was kept on the question already.
    pub(crate) async fn reply_to_question(
        &self,
        who: &Principal,
        id: &str,
        kind: EventKind,
        text: &str,
        message_id: Option<&str>,
    ) -> Result<Option<QuestionView>> {
        // A reply appends: it is not refused for a version it never named, so it is tried again
        // on a fresh read when someone changed the question meanwhile.
        for _ in 0..3 {
            let before = self.visible_question(who, id).await?;
            require_write(who)?;
            let chain = self.in_chain(who, &before).await?;
            if kind == EventKind::Note && !chain {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    "internal notes are for the support chain",
                ));
            }
            let mut errors = Vec::new();
            let text = long("body", text, true, &mut errors);
            check(errors)?;
            let now = self.clock.now();
            let mut q = before.clone();
            let mut reply = QuestionEvent::new(q.id, now, Some(who.user_id), kind, text, json!({}));
            // An e-mailed answer names its message: the store keeps each message once a question.
            reply.message_id = message_id.map(str::to_string);
            let mut events = vec![reply];
            let public = matches!(kind, EventKind::Reply | EventKind::EmailReply);
            if public && who.user_id != q.requester {
                q.first_response_at.get_or_insert(now);
                // A level's own agreed response is met by that level: IT's and the vendor's by an
                // administrator (who speaks for the vendor here), not by a key user's word.
                let of_the_level = match q.level {
                    Level::KeyUser => true,
                    Level::It | Level::Vendor => who.role == Role::Admin,
                };
                if of_the_level {
                    q.level_response_at.get_or_insert(now);
                }
                if q.status == Status::New {
                    q.status = Status::Open;
                    events.push(status_event(&q, now, Some(who.user_id), Status::New, Status::Open));
                }
            }
            if public && who.user_id == q.requester && q.status == Status::WaitingOnRequester {
                q.status = Status::Open;
                events.push(status_event(
                    &q,
                    now,
                    Some(who.user_id),
                    Status::WaitingOnRequester,
                    Status::Open,
                ));
            }
            q.version = before.version + 1;
            q.updated_at = now;
            match self.store.save_question(&q, before.version, &events, None).await? {
                Saved::Written => return self.question_view(who, q).await.map(Some),
                // The same e-mail read again: kept once, nothing to do.
                Saved::MailKeptAlready => return Ok(None),
                Saved::Stale => {}
            }
        }
        Err(Error::new(
            ErrorCode::Unavailable,
            "the question is being changed; try again",
        ))
    }

    /// Move a question's status: the chain any way allowed; the requester reopens or closes a
    /// resolved one of theirs.
    pub async fn set_question_status(&self, who: &Principal, id: &str, body: Json) -> Result<QuestionView> {
        let before = self.visible_question(who, id).await?;
        require_write(who)?;
        let input: StatusBody = crate::service::from_body(body)?;
        let to = Status::parse(input.status.trim()).ok_or_else(|| {
            Error::field(
                "status",
                "is one of new, open, waiting_on_requester, waiting_on_vendor, resolved, closed",
            )
        })?;
        stale(&before, input.version)?;
        let chain = self.in_chain(who, &before).await?;
        let requester_may = before.status == Status::Resolved && matches!(to, Status::Open | Status::Closed);
        if !chain && !requester_may {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "the requester may only reopen or close a resolved question",
            ));
        }
        if !before.status.may_become(to) {
            return Err(Error::field(
                "status",
                format!("a question {} cannot become {}", before.status.as_str(), to.as_str()),
            ));
        }
        let now = self.clock.now();
        let mut q = before.clone();
        q.status = to;
        match to {
            Status::Resolved => q.resolved_at = Some(now),
            Status::Closed => {
                q.resolved_at.get_or_insert(now);
                q.closed_at = Some(now);
            }
            Status::Open if before.status == Status::Resolved => {
                q.resolved_at = None;
            }
            _ => {}
        }
        let events = vec![status_event(&q, now, Some(who.user_id), before.status, to)];
        let q = self.save_question_at(&before, q, events).await?;
        self.question_view(who, q).await
    }

    /// Pass a question on by hand: a key user to IT, an administrator to the vendor (naming
    /// it, with its reference and agreed times when known).
    pub async fn escalate_question(&self, who: &Principal, id: &str, body: Json) -> Result<QuestionView> {
        let before = self.visible_question(who, id).await?;
        require_write(who)?;
        let input: EscalateBody = crate::service::from_body(body)?;
        if !self.in_chain(who, &before).await? {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only the key users of the question's team and administrators pass it on",
            ));
        }
        stale(&before, input.version)?;
        if !before.status.is_open() {
            return Err(Error::new(
                ErrorCode::Conflict,
                "a resolved or closed question is not passed on",
            ));
        }
        let Some(to) = before.level.next() else {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the question is with the vendor, the last level",
            ));
        };
        if to == Level::Vendor && who.role != Role::Admin {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "administrators pass questions on to the vendor",
            ));
        }
        let mut errors = Vec::new();
        let reason = long("reason", &input.reason, false, &mut errors);
        let settings = self.support_settings_now().await?;
        let vendor = if to == Level::Vendor {
            let prior = before.vendor.clone().unwrap_or_default();
            let name = optional(input.vendor_name)
                .or_else(|| Some(prior.name.clone()).filter(|n| !n.is_empty()))
                .or_else(|| Some(settings.vendor_name.clone()).filter(|n| !n.is_empty()))
                .unwrap_or_default();
            let name = short("vendor_name", &name, true, &mut errors);
            let contact = optional(input.vendor_contact)
                .or_else(|| Some(prior.contact.clone()).filter(|n| !n.is_empty()))
                .unwrap_or_else(|| settings.vendor_contact.clone());
            let contact = short("vendor_contact", &contact, false, &mut errors);
            let reference = short(
                "vendor_reference",
                &input.vendor_reference.unwrap_or_default(),
                false,
                &mut errors,
            );
            for (field, v) in [
                ("response_minutes", input.response_minutes),
                ("resolution_minutes", input.resolution_minutes),
            ] {
                if v.is_some_and(|v| !(1..=60 * 24 * 365).contains(&v)) {
                    errors.push(FieldError::new(field, "is from 1 minute to a year"));
                }
            }
            Some(VendorTicket {
                name,
                contact,
                reference,
                response_minutes: input.response_minutes,
                resolution_minutes: input.resolution_minutes,
            })
        } else {
            if input.vendor_name.is_some() || input.vendor_reference.is_some() {
                errors.push(FieldError::new("vendor_name", "is given when passing on to the vendor"));
            }
            before.vendor.clone()
        };
        check(errors)?;
        let now = self.clock.now();
        let mut q = before.clone();
        move_up(&mut q, to, vendor, None, now);
        let events = vec![QuestionEvent::new(
            q.id,
            now,
            Some(who.user_id),
            EventKind::Escalated,
            reason,
            json!({"from": before.level.as_str(), "to": to.as_str(), "reason": "by_hand",
                "vendor": q.vendor}),
        )];
        let q = self.save_question_at(&before, q, events).await?;
        self.question_view(who, q).await
    }

    /// Add an attachment (anyone who sees the question and may write).
    pub async fn add_question_attachment(
        &self,
        who: &Principal,
        id: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<AttachmentInfo> {
        let q = self.visible_question(who, id).await?;
        require_write(who)?;
        let mut errors = Vec::new();
        let name = short("file", name, true, &mut errors);
        if name.chars().any(char::is_control) {
            errors.push(FieldError::new("file", "has a control character in its name"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            errors.push(FieldError::new(
                "file",
                format!("is larger than {} MB", MAX_ATTACHMENT_BYTES / (1024 * 1024)),
            ));
        }
        if bytes.is_empty() {
            errors.push(FieldError::new("file", "is empty"));
        }
        check(errors)?;
        let now = self.clock.now();
        let info = AttachmentInfo {
            id: AttachmentId::new_at(now),
            question: q.id,
            name,
            content_type: Some(content_type.trim())
                .filter(|c| !c.is_empty() && c.len() <= MAX_SHORT_TEXT)
                .unwrap_or("application/octet-stream")
                .to_string(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            added_by: who.user_id,
            added_at: now,
        };
        let event = QuestionEvent::new(
            q.id,
            now,
            Some(who.user_id),
            EventKind::Attachment,
            info.name.clone(),
            json!({"attachment": info.id, "size": info.size}),
        );
        self.store.add_attachment(&info, bytes, &event).await?;
        Ok(info)
    }

    pub async fn question_attachments(&self, who: &Principal, id: &str) -> Result<Vec<AttachmentInfo>> {
        let q = self.visible_question(who, id).await?;
        self.store.attachments(q.id).await
    }

    pub async fn question_attachment(
        &self,
        who: &Principal,
        id: &str,
        attachment: &str,
    ) -> Result<(AttachmentInfo, Vec<u8>)> {
        let q = self.visible_question(who, id).await?;
        let a = AttachmentId::parse(attachment).ok_or_else(|| Error::not_found("no such attachment"))?;
        self.store
            .attachment(q.id, a)
            .await?
            .ok_or_else(|| Error::not_found("no such attachment"))
    }

    /// The breach check (the `support-breaches` job): every open question, a page at a time; a
    /// warning once per level and clock before it runs out, and on a breach one escalation to
    /// the next level (past the vendor: to the system owner, or administrators). Each is kept
    /// under a unique key with a version check, so runs racing each other act once.
    pub async fn check_support_breaches(&self) -> Result<BreachRun> {
        let settings = self.support_settings_now().await?;
        let owner = self.system_owner().await?;
        let mut run = BreachRun::default();
        let mut before = None;
        loop {
            let page = self
                .store
                .questions(&QuestionFilter::every(true, before, BREACH_PAGE))
                .await?;
            let Some(last) = page.last() else { break };
            before = Some(last.number);
            let full = page.len() >= BREACH_PAGE as usize;
            // The page's steps and the alerts handled already, one read each.
            let ids: Vec<QuestionId> = page.iter().map(|q| q.id).collect();
            let mut events: HashMap<QuestionId, Vec<QuestionEvent>> = HashMap::new();
            for e in self.store.events_of_questions(&ids).await? {
                events.entry(e.question).or_default().push(e);
            }
            let alerted: HashSet<(QuestionId, Level, String)> = self
                .store
                .alerts_of_questions(&ids)
                .await?
                .into_iter()
                .map(|a| (a.question, a.level, a.kind))
                .collect();
            for q in page {
                run.checked += 1;
                let steps = events.remove(&q.id).unwrap_or_default();
                self.check_question_breach(&settings, owner, q, &steps, &alerted, &mut run)
                    .await?;
            }
            if !full {
                break;
            }
        }
        Ok(run)
    }

    async fn check_question_breach(
        &self,
        settings: &SupportSettings,
        owner: Option<UserId>,
        q: Question,
        events: &[QuestionEvent],
        alerted: &HashSet<(QuestionId, Level, String)>,
        run: &mut BreachRun,
    ) -> Result<()> {
        let now = self.clock.now();
        let handled = |kind: &str| alerted.contains(&(q.id, q.level, kind.to_string()));
        let (response, resolution) = clocks(settings, &q, events, now);
        if response.state == "breached" || resolution.state == "breached" {
            if handled("breach") {
                return Ok(());
            }
            let which = if response.state == "breached" {
                "response"
            } else {
                "resolution"
            };
            let alert = Alert {
                question: q.id,
                level: q.level,
                kind: "breach".into(),
                at: now,
            };
            let mut next = q.clone();
            let detail = match q.level.next() {
                Some(to) => {
                    let vendor = if to == Level::Vendor {
                        q.vendor.clone().or_else(|| {
                            Some(VendorTicket {
                                name: settings.vendor_name.clone(),
                                contact: settings.vendor_contact.clone(),
                                ..VendorTicket::default()
                            })
                        })
                    } else {
                        q.vendor.clone()
                    };
                    move_up(&mut next, to, vendor, None, now);
                    json!({"from": q.level.as_str(), "to": to.as_str(), "reason": "breach", "clock": which})
                }
                None => {
                    next.assignee = owner;
                    let to = if owner.is_some() {
                        "system_owner"
                    } else {
                        "administrators"
                    };
                    json!({"from": q.level.as_str(), "to": to, "reason": "breach", "clock": which})
                }
            };
            next.version = q.version + 1;
            next.updated_at = now;
            let event = QuestionEvent::new(q.id, now, None, EventKind::Escalated, "", detail);
            if self
                .store
                .save_question(&next, q.version, &[event], Some(&alert))
                .await?
                == Saved::Written
            {
                run.escalated.push(q.id);
            }
            return Ok(());
        }
        for (which, view) in [("response", &response), ("resolution", &resolution)] {
            if view.state != "warning" || handled(&format!("{which}_warning")) {
                continue;
            }
            let alert = Alert {
                question: q.id,
                level: q.level,
                kind: format!("{which}_warning"),
                at: now,
            };
            let event = QuestionEvent::new(
                q.id,
                now,
                None,
                EventKind::Warning,
                "",
                json!({"clock": which, "due": view.due, "level": q.level.as_str()}),
            );
            if self.store.record_alert(&alert, &event).await? && !run.warned.contains(&q.id) {
                run.warned.push(q.id);
            }
        }
        Ok(())
    }
}

fn status_event(q: &Question, at: DateTime<Utc>, actor: Option<UserId>, from: Status, to: Status) -> QuestionEvent {
    QuestionEvent::new(
        q.id,
        at,
        actor,
        EventKind::Status,
        "",
        json!({"from": from.as_str(), "to": to.as_str()}),
    )
}

/// A question reaches the next level: its clocks start again there.
fn move_up(q: &mut Question, to: Level, vendor: Option<VendorTicket>, assignee: Option<UserId>, now: DateTime<Utc>) {
    q.level = to;
    q.level_since = now;
    q.level_response_at = None;
    q.assignee = assignee;
    q.vendor = vendor;
    if q.status == Status::New {
        q.status = Status::Open;
    }
}
