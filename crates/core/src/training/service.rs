//! The training use cases: courses and sessions anyone may read; administrators and key users
//! add and change them and record who attended; a user's trainings are seen by the same people
//! who see their onboarding checklist (the user, their team's key users and lead,
//! administrators).

use super::{
    Attendance, AttendanceInput, Course, CourseInput, CourseStatus, SessionInput, TrainingSession, TrainingState,
    check_session_text, course_statuses,
};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::identity::User;
use crate::ids::{CourseId, TrainingSessionId, UserId};
use crate::service::Crm;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::HashMap;

/// A course with how its people stand today.
#[derive(Debug, Clone, Serialize)]
pub struct CourseLine {
    #[serde(flatten)]
    pub course: Course,
    pub sessions: usize,
    /// Active users of its audience whose training of it is valid, runs out within 30 days,
    /// ran out, or who never attended.
    pub valid: usize,
    pub expiring: usize,
    pub expired: usize,
    pub missing: usize,
}

/// A session as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionLine {
    #[serde(flatten)]
    pub session: TrainingSession,
    pub course_name: String,
    /// The trainer's name (the user's, when a user trains).
    pub trainer_label: String,
    /// How many attended.
    pub attended: usize,
}

/// The training page: every course and session.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingOverview {
    pub today: NaiveDate,
    pub courses: Vec<CourseLine>,
    /// Newest first.
    pub sessions: Vec<SessionLine>,
    /// Whether the reader may add courses and sessions and record attendance.
    pub may_manage: bool,
}

/// One person on a session's attendance list: recorded, or of the course's audience and not
/// recorded yet.
#[derive(Debug, Clone, Serialize)]
pub struct AttendanceLine {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    /// `None`: not recorded.
    pub attended: Option<bool>,
}

/// A session with its course and attendance.
#[derive(Debug, Clone, Serialize)]
pub struct SessionAttendance {
    pub session: SessionLine,
    pub course: Course,
    pub attendance: Vec<AttendanceLine>,
    /// Whether attendance may be recorded yet (the session's day has come).
    pub open: bool,
}

/// A user's trainings.
#[derive(Debug, Clone, Serialize)]
pub struct UserTrainings {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub today: NaiveDate,
    pub courses: Vec<CourseStatus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceBody {
    attendance: Vec<AttendanceInput>,
}

fn no_course() -> Error {
    Error::not_found("no such course")
}

fn no_session() -> Error {
    Error::not_found("no such training session")
}

/// Administrators and key users keep the training records (with a credential that writes).
fn may_manage(who: &Principal) -> bool {
    matches!(who.role, Role::Admin | Role::KeyUser) && who.scope >= Scope::Write
}

/// Whose attendance a training manager keeps: everyone for administrators, their own team's
/// people (and themselves) for a key user.
fn keeps_attendance_of(who: &Principal, user: &User) -> bool {
    who.role == Role::Admin || user.id == who.user_id || (who.team.is_some() && user.team == who.team)
}

fn require_manager(who: &Principal) -> Result<()> {
    if may_manage(who) {
        Ok(())
    } else if who.scope < Scope::Write && matches!(who.role, Role::Admin | Role::KeyUser) {
        Err(Error::new(
            ErrorCode::Forbidden,
            "this token's scope does not allow you to record training",
        ))
    } else {
        Err(Error::new(
            ErrorCode::Forbidden,
            "only administrators and key users keep training records",
        ))
    }
}

impl Crm {
    pub async fn courses(&self, who: &Principal) -> Result<Vec<Course>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let mut courses = self.store.courses().await?;
        courses.sort_by_cached_key(|c| crate::text::fold_case(&c.name));
        Ok(courses)
    }

    async fn course_by_id(&self, id: &str) -> Result<Course> {
        let id = CourseId::parse(id).ok_or_else(no_course)?;
        self.store
            .courses()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(no_course)
    }

    pub async fn course(&self, who: &Principal, id: &str) -> Result<Course> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.course_by_id(id).await
    }

    /// Add a course (administrators and key users).
    pub async fn create_course(&self, who: &Principal, body: Json) -> Result<Course> {
        self.authorize(who, Permission::ReadRecords).await?;
        require_manager(who)?;
        let input: CourseInput = crate::service::from_body(body)?;
        let valid = input.validate()?;
        let now = self.clock.now();
        let course = Course {
            id: CourseId::new_at(now),
            name: valid.name,
            description: valid.description,
            audience: valid.audience,
            refresh_months: valid.refresh_months,
            created_at: now,
            updated_at: now,
        };
        self.store.create_course(&course).await?;
        Ok(course)
    }

    /// Change a course: every field as it should be (administrators and key users).
    pub async fn update_course(&self, who: &Principal, id: &str, body: Json) -> Result<Course> {
        self.authorize(who, Permission::ReadRecords).await?;
        let current = self.course_by_id(id).await?;
        require_manager(who)?;
        let input: CourseInput = crate::service::from_body(body)?;
        let valid = input.validate()?;
        let course = Course {
            name: valid.name,
            description: valid.description,
            audience: valid.audience,
            refresh_months: valid.refresh_months,
            updated_at: self.clock.now(),
            ..current
        };
        if !self.store.update_course(&course).await? {
            return Err(no_course());
        }
        Ok(course)
    }

    /// Sessions, newest first (of one course when named).
    pub async fn training_sessions(&self, who: &Principal, course: Option<&str>) -> Result<Vec<SessionLine>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let course = match course.filter(|c| !c.is_empty()) {
            Some(c) => Some(CourseId::parse(c).ok_or_else(|| Error::field("course", "is not a course's id"))?),
            None => None,
        };
        let sessions = self.store.training_sessions(course).await?;
        self.session_lines(sessions).await
    }

    async fn session_lines(&self, sessions: Vec<TrainingSession>) -> Result<Vec<SessionLine>> {
        let courses: HashMap<CourseId, String> = self
            .store
            .courses()
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let names: HashMap<UserId, String> = self.store.users().await?.into_iter().map(|u| (u.id, u.name)).collect();
        let mut counts: HashMap<TrainingSessionId, usize> = HashMap::new();
        for a in self.store.attended(None).await? {
            *counts.entry(a.session).or_default() += 1;
        }
        Ok(sessions
            .into_iter()
            .map(|s| SessionLine {
                course_name: courses.get(&s.course).cloned().unwrap_or_default(),
                trainer_label: s
                    .trainer
                    .and_then(|t| names.get(&t).cloned())
                    .unwrap_or_else(|| s.trainer_name.clone()),
                attended: counts.get(&s.id).copied().unwrap_or(0),
                session: s,
            })
            .collect())
    }

    /// Add a session of a course (administrators and key users).
    pub async fn create_training_session(&self, who: &Principal, body: Json) -> Result<SessionLine> {
        self.authorize(who, Permission::ReadRecords).await?;
        require_manager(who)?;
        let input: SessionInput = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        let course = match CourseId::parse(&input.course) {
            Some(id) if self.store.courses().await?.iter().any(|c| c.id == id) => Some(id),
            _ => {
                errors.push(FieldError::new("course", "names no course"));
                None
            }
        };
        let trainer = match input.trainer.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => match UserId::parse(t) {
                Some(id) if self.store.user(id).await?.is_some_and(|u| u.active) => Some(id),
                _ => {
                    errors.push(FieldError::new("trainer", "names no active user"));
                    None
                }
            },
        };
        let text = check_session_text(&input);
        if let Err(e) = &text {
            errors.extend(
                e.errors
                    .iter()
                    .filter(|f| f.field != "trainer" || trainer.is_none())
                    .cloned(),
            );
        }
        let (trainer_name, place) = text.unwrap_or_default();
        let (Some(course), true) = (course, errors.is_empty()) else {
            return Err(Error::validation(errors));
        };
        let now = self.clock.now();
        let session = TrainingSession {
            id: TrainingSessionId::new_at(now),
            course,
            on: input.on,
            trainer,
            trainer_name,
            place,
            online: input.online,
            created_at: now,
            created_by: Some(who.user_id),
        };
        self.store.create_training_session(&session).await?;
        self.session_lines(vec![session]).await?.pop().ok_or_else(no_session)
    }

    pub async fn training_session(&self, who: &Principal, id: &str) -> Result<SessionLine> {
        self.authorize(who, Permission::ReadRecords).await?;
        let session = self.session_by_id(id).await?;
        self.session_lines(vec![session]).await?.pop().ok_or_else(no_session)
    }

    async fn session_by_id(&self, id: &str) -> Result<TrainingSession> {
        let id = TrainingSessionId::parse(id).ok_or_else(no_session)?;
        self.store.training_session(id).await?.ok_or_else(no_session)
    }

    /// A session's attendance: everyone recorded, and the active users of the course's
    /// audience not recorded yet (administrators and key users).
    pub async fn session_attendance(&self, who: &Principal, id: &str) -> Result<SessionAttendance> {
        self.authorize(who, Permission::ReadRecords).await?;
        let session = self.session_by_id(id).await?;
        require_manager(who)?;
        let course = self
            .store
            .courses()
            .await?
            .into_iter()
            .find(|c| c.id == session.course)
            .ok_or_else(no_course)?;
        let recorded: HashMap<UserId, bool> = self
            .store
            .attendance(session.id)
            .await?
            .into_iter()
            .map(|a| (a.user, a.attended))
            .collect();
        let mut attendance: Vec<AttendanceLine> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.email.is_some() && (recorded.contains_key(&u.id) || (u.active && course.is_for(u.role))))
            .filter(|u| keeps_attendance_of(who, u))
            .map(|u| AttendanceLine {
                attended: recorded.get(&u.id).copied(),
                user: u.id,
                name: u.name,
                role: u.role,
            })
            .collect();
        attendance.sort_by_cached_key(|a| crate::text::fold_case(&a.name));
        let today = self.today_here().await?;
        let open = session.on <= today;
        let session = self.session_lines(vec![session]).await?.pop().ok_or_else(no_session)?;
        Ok(SessionAttendance {
            session,
            course,
            attendance,
            open,
        })
    }

    async fn today_here(&self) -> Result<NaiveDate> {
        let zone = self.time_zone().await?;
        Ok(self.clock.now().with_timezone(&zone).date_naive())
    }

    /// Record who attended a session and who did not (administrators and key users), once its
    /// day has come; the training steps of those who attended tick at once.
    pub async fn record_attendance(&self, who: &Principal, id: &str, body: Json) -> Result<SessionAttendance> {
        self.authorize(who, Permission::ReadRecords).await?;
        let session = self.session_by_id(id).await?;
        require_manager(who)?;
        let body: AttendanceBody = crate::service::from_body(body)?;
        if session.on > self.today_here().await? {
            return Err(Error::field(
                "attendance",
                "the session has not taken place yet; record attendance on or after its day",
            ));
        }
        let users: HashMap<UserId, User> = self.store.users().await?.into_iter().map(|u| (u.id, u)).collect();
        let now = self.clock.now();
        let mut errors = Vec::new();
        let mut rows: Vec<Attendance> = Vec::new();
        for (i, a) in body.attendance.iter().enumerate() {
            let in_sight = |id: &UserId| {
                users
                    .get(id)
                    .is_some_and(|u| u.email.is_some() && keeps_attendance_of(who, u))
            };
            match UserId::parse(&a.user).filter(in_sight) {
                Some(user) => {
                    rows.retain(|r| r.user != user);
                    rows.push(Attendance {
                        session: session.id,
                        user,
                        attended: a.attended,
                        recorded_by: who.user_id,
                        recorded_at: now,
                    });
                }
                None => errors.push(FieldError::new(format!("attendance[{i}].user"), "names no user")),
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        self.store.record_attendance(&rows).await?;
        let present: Vec<UserId> = rows.iter().filter(|r| r.attended).map(|r| r.user).collect();
        self.tick_training_steps(&present).await?;
        self.session_attendance(who, id).await
    }

    /// A user's trainings: every course for their role and every course they attended, with
    /// when it runs out. Seen by the user, their team's key users and lead, and administrators.
    pub async fn user_trainings(&self, who: &Principal, user: &str) -> Result<UserTrainings> {
        self.authorize(who, Permission::ReadRecords).await?;
        let target = self.person_in_sight(who, user).await?;
        let courses = self.store.courses().await?;
        let attended = self.store.attended(Some(target.id)).await?;
        let today = self.today_here().await?;
        Ok(UserTrainings {
            courses: course_statuses(&courses, target.role, &attended, today),
            user: target.id,
            name: target.name,
            role: target.role,
            today,
        })
    }

    /// Every course with its sessions and how its audience stands, and every session.
    pub async fn training_overview(&self, who: &Principal) -> Result<TrainingOverview> {
        self.authorize(who, Permission::ReadRecords).await?;
        let today = self.today_here().await?;
        let courses = self.courses(who).await?;
        let sessions = self.store.training_sessions(None).await?;
        let attended = self.store.attended(None).await?;
        let users: Vec<User> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.email.is_some())
            .collect();
        let lines = courses
            .into_iter()
            .map(|c| {
                let mut line = CourseLine {
                    sessions: sessions.iter().filter(|s| s.course == c.id).count(),
                    valid: 0,
                    expiring: 0,
                    expired: 0,
                    missing: 0,
                    course: c,
                };
                for u in users.iter().filter(|u| line.course.is_for(u.role)) {
                    let latest = attended
                        .iter()
                        .filter(|a| a.user == u.id && a.course == line.course.id)
                        .map(|a| a.on)
                        .max();
                    let state = match latest {
                        None => TrainingState::Missing,
                        Some(on) => TrainingState::on(today, line.course.expires_on(on)),
                    };
                    match state {
                        TrainingState::Valid => line.valid += 1,
                        TrainingState::Expiring => line.expiring += 1,
                        TrainingState::Expired => line.expired += 1,
                        TrainingState::Missing => line.missing += 1,
                    }
                }
                line
            })
            .collect();
        Ok(TrainingOverview {
            today,
            courses: lines,
            sessions: self.session_lines(sessions).await?,
            may_manage: may_manage(who),
        })
    }
}
