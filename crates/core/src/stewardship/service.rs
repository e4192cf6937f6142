//! The stewardship use cases. Everyone who may read records reads the plan, its gaps, the
//! backlog and the published answers; administrators change the plan; key users and
//! administrators propose, vote on and comment on adjustments and write answers;
//! administrators and the plan's decider decide.

use super::answers::{Answer, LANGUAGES, search_words};
use super::gaps::{Gap, gaps};
use super::plan::{Level, Plan, PlanInput, Priority, StoredPlan, check_line, check_plan, check_text, stale_plan};
use super::requests::{
    AdjustmentComment, AdjustmentRequest, ChangeLink, LinkKind, RequestStatus, Vote, priority_score,
};
use super::store::DraftsSeen;
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::ids::{AdjustmentCommentId, AdjustmentRequestId, AnswerId, UserId};
use crate::project::meetings::Series;
use crate::service::Crm;
use crate::support::{EventKind, Status as QuestionStatus};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The plan as the page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: StoredPlan,
    pub gaps: Vec<Gap>,
    /// The implementation project's target date, offered when the plan names no go-live.
    pub project_go_live: Option<NaiveDate>,
    /// The forum's next meetings by its rhythm, each with its agenda (the open requests by
    /// priority).
    pub meetings: Vec<NaiveDate>,
    /// The key-user group's meetings the implementation project has planned from today on:
    /// the series continues from the project.
    pub project_meetings: Vec<NaiveDate>,
    /// Whether the reader may change the plan (administrators).
    pub may_edit: bool,
}

/// A request as the backlog shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestLine {
    #[serde(flatten)]
    pub request: AdjustmentRequest,
    pub votes: usize,
    /// Whether the reader voted for it.
    pub voted: bool,
    pub score: f64,
    pub requested_by_name: String,
    pub decided_by_name: Option<String>,
}

/// The backlog with what the reader may do.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    pub requests: Vec<RequestLine>,
    /// The forum's next meetings; their agenda is the open requests, in this order.
    pub meetings: Vec<NaiveDate>,
    pub may_propose: bool,
    pub may_decide: bool,
}

/// One request with its comments.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub line: RequestLine,
    pub comments: Vec<CommentLine>,
    pub may_edit: bool,
    pub may_decide: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentLine {
    #[serde(flatten)]
    pub comment: AdjustmentComment,
    pub author_name: String,
}

/// How the backlog is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BacklogOrder {
    #[default]
    Priority,
    Votes,
    Newest,
}

impl BacklogOrder {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "priority" => Some(BacklogOrder::Priority),
            "votes" => Some(BacklogOrder::Votes),
            "newest" => Some(BacklogOrder::Newest),
            _ => None,
        }
    }
}

/// An answer found by a search, with its rank.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerHit {
    #[serde(flatten)]
    pub answer: Answer,
    pub author_name: String,
    pub rank: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestInput {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    question: Option<String>,
    value: u8,
    effort: u8,
    #[serde(default)]
    links: Vec<ChangeLink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestChange {
    version: i64,
    #[serde(flatten)]
    input: RequestInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionInput {
    version: i64,
    status: RequestStatus,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerInput {
    title: String,
    body: String,
    language: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source_question: Option<String>,
    #[serde(default)]
    published: bool,
}

/// What a caller may give when turning a question into an answer; the rest comes from it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FromQuestionInput {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerChange {
    version: i64,
    #[serde(flatten)]
    input: AnswerInput,
}

fn no_request() -> Error {
    Error::not_found("no such adjustment request")
}

fn no_answer() -> Error {
    Error::not_found("no such answer")
}

fn writes(who: &Principal) -> bool {
    who.scope >= Scope::Write
}

/// Key users and administrators keep the backlog and the answers.
fn is_steward(who: &Principal) -> bool {
    matches!(who.role, Role::Admin | Role::KeyUser)
}

fn require_steward(who: &Principal, what: &str) -> Result<()> {
    if !is_steward(who) {
        Err(Error::new(
            ErrorCode::Forbidden,
            format!("only key users and administrators {what}"),
        ))
    } else if !writes(who) {
        Err(Error::new(
            ErrorCode::Forbidden,
            "this token's scope does not allow writing",
        ))
    } else {
        Ok(())
    }
}

/// A draft is seen by its author and administrators; a published answer by every reader.
fn may_read_answer(who: &Principal, a: &Answer) -> bool {
    a.published || a.author == who.user_id || who.role == Role::Admin
}

fn may_decide(who: &Principal, plan: &Plan) -> bool {
    writes(who) && (who.role == Role::Admin || plan.forum.decider == Some(who.user_id))
}

fn optional_uuid(errors: &mut Vec<FieldError>, field: &str, s: Option<&str>) -> Option<Uuid> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    match Uuid::try_parse(s) {
        Ok(u) => Some(u),
        Err(_) => {
            errors.push(FieldError::new(field, "is not an id"));
            None
        }
    }
}

fn check_score(errors: &mut Vec<FieldError>, field: &str, n: u8) {
    if !(1..=5).contains(&n) {
        errors.push(FieldError::new(field, "is 1 to 5"));
    }
}

impl Crm {
    /// The plan as kept (the empty plan before anyone wrote one).
    pub(crate) async fn current_plan(&self) -> Result<StoredPlan> {
        Ok(self.store.stewardship_plan().await?.unwrap_or(StoredPlan {
            version: 0,
            plan: Plan::default(),
            updated_at: None,
            updated_by: None,
        }))
    }

    async fn stewardship_today(&self) -> Result<NaiveDate> {
        let zone = self.time_zone().await?;
        Ok(self.clock.now().with_timezone(&zone).date_naive())
    }

    /// The plan with its gaps and the forum's next meetings.
    pub async fn stewardship_plan(&self, who: &Principal) -> Result<PlanView> {
        self.authorize(who, Permission::ReadRecords).await?;
        let plan = self.current_plan().await?;
        self.stewardship_view(who, plan).await
    }

    async fn stewardship_view(&self, who: &Principal, plan: StoredPlan) -> Result<PlanView> {
        let users = self.store.users().await?;
        let teams = self.store.teams().await?;
        let gaps = gaps(&plan.plan, &users, &teams);
        let projects = self.store.projects().await?;
        let project_go_live = if plan.plan.go_live.is_none() {
            projects.iter().map(|p| p.settings.target).max()
        } else {
            None
        };
        let today = self.stewardship_today().await?;
        let meetings = plan.plan.upcoming_meetings(today, 3);
        // The newest project's key-user group, which the plan's forum takes over.
        let project_meetings = match projects.iter().max_by_key(|p| p.created_at) {
            Some(p) => {
                let mut dates: Vec<NaiveDate> = self
                    .load_project(p.id)
                    .await?
                    .meetings
                    .iter()
                    .filter(|m| m.series == Series::KeyUserGroup && m.date >= today)
                    .map(|m| m.date)
                    .collect();
                dates.sort_unstable();
                dates
            }
            None => Vec::new(),
        };
        Ok(PlanView {
            gaps,
            project_go_live,
            meetings,
            project_meetings,
            may_edit: who.role == Role::Admin && writes(who),
            plan,
        })
    }

    /// The plan's gaps alone.
    pub async fn stewardship_gaps(&self, who: &Principal) -> Result<Vec<Gap>> {
        Ok(self.stewardship_plan(who).await?.gaps)
    }

    /// Change the plan as a whole, at the version read (administrators). Every person and team
    /// it names must exist; a stale version is refused with the plan as it is now.
    pub async fn update_stewardship_plan(&self, who: &Principal, body: Json) -> Result<PlanView> {
        self.authorize(who, Permission::ReadRecords).await?;
        if who.role != Role::Admin {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only administrators change the stewardship plan",
            ));
        }
        if !writes(who) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "this token's scope does not allow writing",
            ));
        }
        let input: PlanInput = crate::service::from_body(body)?;
        // The body's own mistakes first: a bad plan is a 422 whatever version it names.
        let plan = check_plan(input.plan)?;
        let current = self.current_plan().await?;
        if input.version != current.version {
            return Err(stale_plan(&current));
        }
        let users: HashSet<UserId> = self.store.users().await?.iter().map(|u| u.id).collect();
        let teams: HashSet<_> = self.store.teams().await?.iter().map(|t| t.id).collect();
        let mut errors: Vec<FieldError> = plan
            .people()
            .into_iter()
            .filter(|(_, u)| !users.contains(u))
            .map(|(field, _)| FieldError::new(field, "names no user"))
            .collect();
        for (i, t) in plan.key_users.iter().enumerate() {
            if !teams.contains(&t.team) {
                errors.push(FieldError::new(format!("key_users[{i}].team"), "names no team"));
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let next = StoredPlan {
            version: current.version + 1,
            plan,
            updated_at: Some(self.clock.now()),
            updated_by: Some(who.user_id),
        };
        if !self.store.write_stewardship_plan(&next, current.version).await? {
            return Err(stale_plan(&self.current_plan().await?));
        }
        self.stewardship_view(who, next).await
    }

    /// A question's priority by the plan's matrix (for the support chain).
    pub async fn priority_for(&self, impact: Level, urgency: Level) -> Result<Priority> {
        Ok(self.current_plan().await?.plan.matrix.priority(impact, urgency))
    }

    // ---- adjustment requests ----

    async fn adjustment_lines(&self, who: &Principal, requests: Vec<AdjustmentRequest>) -> Result<Vec<RequestLine>> {
        let names: HashMap<UserId, String> = self.store.users().await?.into_iter().map(|u| (u.id, u.name)).collect();
        let votes: Vec<Vote> = match requests.as_slice() {
            [one] => self.store.adjustment_votes(Some(one.id)).await?,
            _ => self.store.adjustment_votes(None).await?,
        };
        let mut counts: HashMap<AdjustmentRequestId, usize> = HashMap::new();
        let mut mine = HashSet::new();
        for v in &votes {
            *counts.entry(v.request).or_default() += 1;
            if v.user == who.user_id {
                mine.insert(v.request);
            }
        }
        Ok(requests
            .into_iter()
            .map(|r| {
                let votes = counts.get(&r.id).copied().unwrap_or(0);
                RequestLine {
                    votes,
                    voted: mine.contains(&r.id),
                    score: priority_score(r.value, r.effort, votes),
                    requested_by_name: names.get(&r.requested_by).cloned().unwrap_or_default(),
                    decided_by_name: r.decided_by.and_then(|u| names.get(&u).cloned()),
                    request: r,
                }
            })
            .collect())
    }

    /// The backlog, by priority (value per effort and votes), by votes or newest first.
    pub async fn adjustment_backlog(&self, who: &Principal, order: BacklogOrder) -> Result<Backlog> {
        self.authorize(who, Permission::ReadRecords).await?;
        let plan = self.current_plan().await?;
        let mut requests = self.adjustment_lines(who, self.store.adjustments().await?).await?;
        match order {
            BacklogOrder::Priority => requests.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(b.votes.cmp(&a.votes))
                    .then(a.request.created_at.cmp(&b.request.created_at))
            }),
            BacklogOrder::Votes => requests.sort_by(|a, b| {
                b.votes
                    .cmp(&a.votes)
                    .then(b.score.total_cmp(&a.score))
                    .then(a.request.created_at.cmp(&b.request.created_at))
            }),
            BacklogOrder::Newest => requests.sort_by_key(|r| std::cmp::Reverse(r.request.created_at)),
        }
        Ok(Backlog {
            requests,
            meetings: plan.plan.upcoming_meetings(self.stewardship_today().await?, 3),
            may_propose: is_steward(who) && writes(who),
            may_decide: may_decide(who, &plan.plan),
        })
    }

    async fn adjustment_by_id(&self, id: &str) -> Result<AdjustmentRequest> {
        let id = AdjustmentRequestId::parse(id).ok_or_else(no_request)?;
        self.store.adjustment(id).await?.ok_or_else(no_request)
    }

    /// One request with its comments.
    pub async fn adjustment_request(&self, who: &Principal, id: &str) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let request = self.adjustment_by_id(id).await?;
        self.adjustment_detail(who, request).await
    }

    async fn adjustment_detail(&self, who: &Principal, request: AdjustmentRequest) -> Result<RequestDetail> {
        let plan = self.current_plan().await?;
        let names: HashMap<UserId, String> = self.store.users().await?.into_iter().map(|u| (u.id, u.name)).collect();
        let comments = self
            .store
            .adjustment_comments(request.id)
            .await?
            .into_iter()
            .map(|c| CommentLine {
                author_name: names.get(&c.author).cloned().unwrap_or_default(),
                comment: c,
            })
            .collect();
        let line = self
            .adjustment_lines(who, vec![request])
            .await?
            .pop()
            .ok_or_else(no_request)?;
        Ok(RequestDetail {
            may_edit: is_steward(who) && writes(who),
            may_decide: may_decide(who, &plan.plan),
            line,
            comments,
        })
    }

    /// Check a request's input; links must name an object, a field (`object.field`) or a
    /// shared view (by name or id) that exists now.
    /// The question a request names must be one the caller may see (read through support's
    /// own use case); `kept` is the one it names already, which stays without a new look.
    async fn checked_adjustment(
        &self,
        who: &Principal,
        mut input: RequestInput,
        kept: Option<Uuid>,
    ) -> Result<(RequestInput, Option<Uuid>)> {
        let mut errors = Vec::new();
        check_line(&mut errors, "title", &mut input.title, 200, true);
        check_text(&mut errors, "description", &mut input.description, 10_000, false);
        check_score(&mut errors, "value", input.value);
        check_score(&mut errors, "effort", input.effort);
        let question = match input.question.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            None => None,
            Some(q) if Uuid::try_parse(q).ok().is_some_and(|u| Some(u) == kept) => kept,
            Some(q) => match self.question(who, q).await {
                Ok(view) => Some(view.line.question.id.0),
                Err(e) if e.code == ErrorCode::NotFound => {
                    errors.push(FieldError::new("question", "names no question you may see"));
                    None
                }
                Err(e) => return Err(e),
            },
        };
        if input.links.len() > 50 {
            errors.push(FieldError::new("links", "at most 50 links"));
        } else if !input.links.is_empty() {
            let schema = self.schema().await?;
            for (i, link) in input.links.iter_mut().enumerate() {
                let field = format!("links[{i}].target");
                let before = errors.len();
                check_line(&mut errors, &field, &mut link.target, 200, true);
                if errors.len() > before {
                    continue;
                }
                let exists =
                    match link.kind {
                        LinkKind::Object => schema.objects.get(&link.target).is_some_and(|o| !o.archived),
                        LinkKind::Field => link.target.split_once('.').is_some_and(|(o, f)| {
                            schema
                                .objects
                                .get(o)
                                .is_some_and(|o| !o.archived && o.active_fields().any(|x| x.name == f))
                        }),
                        LinkKind::View => {
                            let mut found = false;
                            for o in schema.objects.values().filter(|o| !o.archived) {
                                found =
                                    self.store.views(&o.name, who.user_id).await?.iter().any(|v| {
                                        v.shared && (v.name == link.target || v.id.to_string() == link.target)
                                    });
                                if found {
                                    break;
                                }
                            }
                            found
                        }
                    };
                if !exists {
                    let kind = match link.kind {
                        LinkKind::Object => "object",
                        LinkKind::Field => "field",
                        LinkKind::View => "shared view",
                    };
                    errors.push(FieldError::new(
                        format!("links[{i}].target"),
                        format!("there is no {kind} {:?}", link.target),
                    ));
                }
            }
            input.links.sort();
            input.links.dedup();
        }
        if errors.is_empty() {
            Ok((input, question))
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Propose an adjustment (key users and administrators).
    pub async fn create_adjustment_request(&self, who: &Principal, body: Json) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        require_steward(who, "propose adjustments")?;
        let input: RequestInput = crate::service::from_body(body)?;
        let (input, question) = self.checked_adjustment(who, input, None).await?;
        let now = self.clock.now();
        let request = AdjustmentRequest {
            id: AdjustmentRequestId::new_at(now),
            version: 1,
            title: input.title,
            description: input.description,
            question,
            requested_by: who.user_id,
            value: input.value,
            effort: input.effort,
            status: RequestStatus::Proposed,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            links: input.links,
            created_at: now,
            updated_at: now,
        };
        self.store.create_adjustment(&request).await?;
        self.adjustment_detail(who, request).await
    }

    /// A write at a version someone else has passed: the house's version conflict (412) with
    /// the request as it is now.
    fn stale_adjustment(detail: &RequestDetail) -> Error {
        Error::conflict(serde_json::to_value(detail).unwrap_or(Json::Null))
    }

    /// Change a request's text, worth and links, at the version read (key users and
    /// administrators).
    pub async fn update_adjustment_request(&self, who: &Principal, id: &str, body: Json) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        require_steward(who, "change adjustment requests")?;
        let change: RequestChange = crate::service::from_body(body)?;
        if change.version != current.version {
            return Err(Self::stale_adjustment(&self.adjustment_detail(who, current).await?));
        }
        let (input, question) = self.checked_adjustment(who, change.input, current.question).await?;
        // What was proposed is what the group decided on: once decided, its text and worth
        // stay; the question and the links to what changed may still be filled in.
        if current.status != RequestStatus::Proposed {
            let changed: Vec<FieldError> = [
                ("title", input.title != current.title),
                ("description", input.description != current.description),
                ("value", input.value != current.value),
                ("effort", input.effort != current.effort),
            ]
            .into_iter()
            .filter(|(_, changed)| *changed)
            .map(|(field, _)| {
                FieldError::new(
                    field,
                    format!(
                        "the request is {}: only a proposed request's text, value and effort change",
                        current.status.as_str()
                    ),
                )
            })
            .collect();
            if !changed.is_empty() {
                return Err(Error::validation(changed));
            }
        }
        let next = AdjustmentRequest {
            version: current.version + 1,
            title: input.title,
            description: input.description,
            question,
            value: input.value,
            effort: input.effort,
            links: input.links,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        self.write_adjustment(who, next, current.version).await
    }

    async fn write_adjustment(&self, who: &Principal, next: AdjustmentRequest, expected: i64) -> Result<RequestDetail> {
        if !self.store.update_adjustment(&next, expected).await? {
            let now = self.store.adjustment(next.id).await?.ok_or_else(no_request)?;
            return Err(Self::stale_adjustment(&self.adjustment_detail(who, now).await?));
        }
        self.adjustment_detail(who, next).await
    }

    /// Take a request out (administrators; its proposer while it is still proposed).
    pub async fn delete_adjustment_request(&self, who: &Principal, id: &str) -> Result<()> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        require_steward(who, "remove adjustment requests")?;
        let own_proposal = current.requested_by == who.user_id && current.status == RequestStatus::Proposed;
        if who.role != Role::Admin && !own_proposal {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only administrators, or its proposer while it is proposed, remove a request",
            ));
        }
        if !self.store.delete_adjustment(current.id).await? {
            return Err(no_request());
        }
        Ok(())
    }

    /// Vote for a request (key users and administrators), once each; voting again changes
    /// nothing.
    pub async fn vote_adjustment(&self, who: &Principal, id: &str) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        require_steward(who, "vote on adjustments")?;
        if !current.status.open() {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the request is decided and done with; votes are closed",
            ));
        }
        self.store
            .add_adjustment_vote(current.id, who.user_id, self.clock.now())
            .await?;
        self.adjustment_detail(who, current).await
    }

    /// Take one's vote back.
    pub async fn unvote_adjustment(&self, who: &Principal, id: &str) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        require_steward(who, "vote on adjustments")?;
        self.store.remove_adjustment_vote(current.id, who.user_id).await?;
        self.adjustment_detail(who, current).await
    }

    /// Comment on a request (key users and administrators).
    pub async fn comment_adjustment(&self, who: &Principal, id: &str, body: Json) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        require_steward(who, "comment on adjustments")?;
        let mut input: CommentInput = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        check_text(&mut errors, "body", &mut input.body, 5000, true);
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let now = self.clock.now();
        self.store
            .add_adjustment_comment(&AdjustmentComment {
                id: AdjustmentCommentId::new_at(now),
                request: current.id,
                author: who.user_id,
                body: input.body,
                created_at: now,
            })
            .await?;
        self.adjustment_detail(who, current).await
    }

    /// Decide a request or move decided work along (administrators and the plan's decider):
    /// accepting or rejecting keeps who, when and why; work then goes in progress and done.
    pub async fn decide_adjustment(&self, who: &Principal, id: &str, body: Json) -> Result<RequestDetail> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.adjustment_by_id(id).await?;
        let plan = self.current_plan().await?;
        if !may_decide(who, &plan.plan) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only administrators and the decider the stewardship plan names decide adjustments",
            ));
        }
        let mut input: DecisionInput = crate::service::from_body(body)?;
        if input.version != current.version {
            return Err(Self::stale_adjustment(&self.adjustment_detail(who, current).await?));
        }
        let mut errors = Vec::new();
        check_text(&mut errors, "note", &mut input.note, 5000, false);
        if !current.status.may_become(input.status) {
            errors.push(FieldError::new(
                "status",
                format!(
                    "a request that is {} cannot become {}",
                    current.status.as_str(),
                    input.status.as_str()
                ),
            ));
        }
        if input.status == RequestStatus::Rejected && input.note.is_empty() {
            errors.push(FieldError::new("note", "say why it is rejected"));
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let now = self.clock.now();
        let mut next = AdjustmentRequest {
            version: current.version + 1,
            status: input.status,
            updated_at: now,
            ..current.clone()
        };
        if matches!(
            input.status,
            RequestStatus::Accepted | RequestStatus::Rejected | RequestStatus::Proposed
        ) {
            next.decided_by = (input.status != RequestStatus::Proposed).then_some(who.user_id);
            next.decided_at = (input.status != RequestStatus::Proposed).then_some(now);
            next.decision_note = input.note;
        } else if !input.note.is_empty() {
            next.decision_note = input.note;
        }
        self.write_adjustment(who, next, current.version).await
    }

    // ---- answers ----

    async fn answer_lines(&self, answers: Vec<(Answer, f64)>) -> Result<Vec<AnswerHit>> {
        let names: HashMap<UserId, String> = self.store.users().await?.into_iter().map(|u| (u.id, u.name)).collect();
        Ok(answers
            .into_iter()
            .map(|(a, rank)| AnswerHit {
                author_name: names.get(&a.author).cloned().unwrap_or_default(),
                answer: a,
                rank,
            })
            .collect())
    }

    /// Answers: published ones for everyone; drafts for their authors and administrators.
    /// With words, those matching any of them, best first (the language named first); without,
    /// by title. Text with nothing to look for (only punctuation) finds nothing.
    pub async fn answers(&self, who: &Principal, text: Option<&str>, language: Option<&str>) -> Result<Vec<AnswerHit>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let language = match language.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) if LANGUAGES.contains(&l) => Some(l),
            Some(_) => return Err(Error::field("language", "is one of en, sv, de, da, es")),
            None => None,
        };
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        let words = search_words(text.unwrap_or(""));
        if text.is_none() {
            let mut all: Vec<(Answer, f64)> = self
                .store
                .answers()
                .await?
                .into_iter()
                .filter(|a| may_read_answer(who, a))
                .map(|a| (a, 0.0))
                .collect();
            all.sort_by_cached_key(|(a, _)| {
                (
                    language.is_some_and(|l| a.language != l),
                    crate::text::fold_case(&a.title),
                )
            });
            return self.answer_lines(all).await;
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let drafts = if who.role == Role::Admin {
            DraftsSeen::All
        } else {
            DraftsSeen::By(who.user_id)
        };
        self.found_answers(&words, drafts, language, 50).await
    }

    async fn found_answers(
        &self,
        words: &[String],
        drafts: DraftsSeen,
        language: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AnswerHit>> {
        // Only the hits are read, in the asker's language first, then by rank.
        let found = self.store.search_answers(words, language, drafts, limit).await?;
        self.answer_lines(found).await
    }

    /// The published answers that match what someone is about to ask, in their language first
    /// (the raise form shows them before a question is raised).
    pub async fn suggest_answers(&self, who: &Principal, text: &str, language: &str) -> Result<Vec<AnswerHit>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let words = search_words(text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        self.found_answers(&words, DraftsSeen::None, Some(language), 5).await
    }

    async fn readable_answer(&self, who: &Principal, id: &str) -> Result<Answer> {
        let id = AnswerId::parse(id).ok_or_else(no_answer)?;
        // A draft is out of sight for all but its author and administrators: 404, as if absent.
        self.store
            .answer(id)
            .await?
            .filter(|a| may_read_answer(who, a))
            .ok_or_else(no_answer)
    }

    pub async fn answer(&self, who: &Principal, id: &str) -> Result<AnswerHit> {
        self.authorize(who, Permission::ReadRecords).await?;
        let a = self.readable_answer(who, id).await?;
        self.answer_lines(vec![(a, 0.0)]).await?.pop().ok_or_else(no_answer)
    }

    fn checked_answer_input(mut input: AnswerInput) -> Result<(AnswerInput, Option<Uuid>)> {
        let mut errors = Vec::new();
        check_line(&mut errors, "title", &mut input.title, 200, true);
        check_text(&mut errors, "body", &mut input.body, 50_000, true);
        check_line(&mut errors, "category", &mut input.category, 100, false);
        input.language = input.language.trim().to_string();
        if !LANGUAGES.contains(&input.language.as_str()) {
            errors.push(FieldError::new("language", "is one of en, sv, de, da, es"));
        }
        let source = optional_uuid(&mut errors, "source_question", input.source_question.as_deref());
        if errors.is_empty() {
            Ok((input, source))
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Write an answer (key users and administrators).
    pub async fn create_answer(&self, who: &Principal, body: Json) -> Result<AnswerHit> {
        self.authorize(who, Permission::ReadRecords).await?;
        require_steward(who, "write answers")?;
        let input: AnswerInput = crate::service::from_body(body)?;
        let (input, source) = Self::checked_answer_input(input)?;
        let now = self.clock.now();
        let answer = Answer {
            id: AnswerId::new_at(now),
            version: 1,
            title: input.title,
            body: input.body,
            language: input.language,
            category: input.category,
            source_question: source,
            author: who.user_id,
            published: input.published,
            created_at: now,
            updated_at: now,
        };
        self.store.create_answer(&answer).await?;
        self.answer_lines(vec![(answer, 0.0)])
            .await?
            .pop()
            .ok_or_else(no_answer)
    }

    /// A draft answer from a solved question (key users and administrators): the question is
    /// read as the caller may see it (404 otherwise) and must be resolved or closed. The
    /// title, body and language the caller gives win; without them, the question's subject,
    /// its description with the last public reply that solved it, and its language.
    pub async fn answer_from_question(&self, who: &Principal, question: &str, body: Json) -> Result<AnswerHit> {
        self.authorize(who, Permission::ReadRecords).await?;
        let view = self.question(who, question).await?;
        require_steward(who, "write answers")?;
        let input: FromQuestionInput = crate::service::from_body(body)?;
        let q = &view.line.question;
        if !matches!(q.status, QuestionStatus::Resolved | QuestionStatus::Closed) {
            return Err(Error::field(
                "question",
                "is not resolved or closed yet: an answer is made from a solved question",
            ));
        }
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let title = given(&input.title).unwrap_or_else(|| q.subject.chars().take(200).collect());
        let body = given(&input.body).unwrap_or_else(|| {
            let solution = view
                .events
                .iter()
                .rev()
                .find(|e| {
                    matches!(e.kind, EventKind::Reply | EventKind::EmailReply)
                        && e.actor != Some(q.requester)
                        && !e.body.trim().is_empty()
                })
                .map(|e| e.body.trim().to_string());
            let mut text = q.description.trim().to_string();
            if let Some(s) = solution {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(&s);
            }
            if text.is_empty() { q.subject.clone() } else { text }
        });
        let language = given(&input.language).unwrap_or_else(|| {
            if LANGUAGES.contains(&q.language.as_str()) {
                q.language.clone()
            } else {
                "en".to_string()
            }
        });
        self.create_answer(
            who,
            serde_json::json!({
                "title": title,
                "body": body,
                "language": language,
                "category": input.category.unwrap_or_else(|| q.category.chars().take(100).collect()),
                "source_question": q.id.0.to_string(),
                "published": false,
            }),
        )
        .await
    }

    /// Change an answer at the version read (key users and administrators).
    pub async fn update_answer(&self, who: &Principal, id: &str, body: Json) -> Result<AnswerHit> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.readable_answer(who, id).await?;
        require_steward(who, "write answers")?;
        let change: AnswerChange = crate::service::from_body(body)?;
        let stale = |a: &Answer| Error::conflict(serde_json::to_value(a).unwrap_or(Json::Null));
        // The body's own mistakes first: a bad body is a 422 whatever version it names.
        let (input, source) = Self::checked_answer_input(change.input)?;
        if change.version < 1 {
            return Err(Error::field("version", "is at least 1"));
        }
        if change.version != current.version {
            return Err(stale(&current));
        }
        let next = Answer {
            version: current.version + 1,
            title: input.title,
            body: input.body,
            language: input.language,
            category: input.category,
            source_question: source.or(current.source_question),
            published: input.published,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        if !self.store.update_answer(&next, current.version).await? {
            let now = self.store.answer(current.id).await?.ok_or_else(no_answer)?;
            return Err(stale(&now));
        }
        self.answer_lines(vec![(next, 0.0)]).await?.pop().ok_or_else(no_answer)
    }

    /// Remove an answer (key users and administrators).
    pub async fn delete_answer(&self, who: &Principal, id: &str) -> Result<()> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.readable_answer(who, id).await?;
        require_steward(who, "remove answers")?;
        if !self.store.delete_answer(current.id).await? {
            return Err(no_answer());
        }
        Ok(())
    }
}
