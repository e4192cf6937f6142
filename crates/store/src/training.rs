//! Training records: courses (their audience as JSON), sessions of a course, and attendance
//! per user and session.

use crate::db::{Backend, Row, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{CourseId, TrainingSessionId, UserId};
use anchora_core::training::{Attendance, Attended, Course, TrainingSession, TrainingStore};
use async_trait::async_trait;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

/// Migration 20, its training half (before the onboarding tables).
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    let date = crate::codec::column_type(backend, anchora_core::meta::FieldType::Date);
    vec![
        format!(
            "CREATE TABLE courses (id {uuid} PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, \
             audience TEXT NOT NULL, refresh_months BIGINT, created_at {ts} NOT NULL, updated_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE training_sessions (id {uuid} PRIMARY KEY, course_id {uuid} NOT NULL REFERENCES courses(id), \
             on_day {date} NOT NULL, trainer {uuid} REFERENCES users(id), trainer_name TEXT NOT NULL, \
             place TEXT NOT NULL, online {boolean} NOT NULL, created_at {ts} NOT NULL, created_by {uuid} REFERENCES users(id))"
        ),
        "CREATE INDEX ix_training_sessions_course ON training_sessions (course_id, on_day)".to_string(),
        "CREATE INDEX ix_training_sessions_trainer ON training_sessions (trainer)".to_string(),
        "CREATE INDEX ix_training_sessions_created_by ON training_sessions (created_by)".to_string(),
        format!(
            "CREATE TABLE training_attendance (session_id {uuid} NOT NULL REFERENCES training_sessions(id), \
             user_id {uuid} NOT NULL REFERENCES users(id), attended {boolean} NOT NULL, \
             recorded_by {uuid} NOT NULL REFERENCES users(id), recorded_at {ts} NOT NULL, PRIMARY KEY (session_id, user_id))"
        ),
        "CREATE INDEX ix_training_attendance_user ON training_attendance (user_id)".to_string(),
        "CREATE INDEX ix_training_attendance_recorded_by ON training_attendance (recorded_by)".to_string(),
    ]
}

const COURSE_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "description",
    "audience",
    "refresh_months",
    "created_at",
    "updated_at",
];

const SESSION_COLUMNS: [&str; 9] = [
    "id",
    "course_id",
    "on_day",
    "trainer",
    "trainer_name",
    "place",
    "online",
    "created_at",
    "created_by",
];

fn decode_course(r: &Row) -> std::result::Result<Course, sqlx::Error> {
    Ok(Course {
        id: CourseId(r.uuid(0)?),
        name: r.string(1)?,
        description: r.string(2)?,
        audience: serde_json::from_str(&r.string(3)?).map_err(|e| bad_column("audience", e))?,
        refresh_months: r
            .opt_i64(4)?
            .map(u32::try_from)
            .transpose()
            .map_err(|e| bad_column("refresh_months", e))?,
        created_at: r.datetime(5)?,
        updated_at: r.datetime(6)?,
    })
}

fn decode_session(r: &Row) -> std::result::Result<TrainingSession, sqlx::Error> {
    Ok(TrainingSession {
        id: TrainingSessionId(r.uuid(0)?),
        course: CourseId(r.uuid(1)?),
        on: r.opt_date(2)?.ok_or_else(|| bad_column("on_day", "unexpected NULL"))?,
        trainer: r.opt_uuid(3)?.map(UserId),
        trainer_name: r.string(4)?,
        place: r.string(5)?,
        online: r.bool(6)?,
        created_at: r.datetime(7)?,
        created_by: r.opt_uuid(8)?.map(UserId),
    })
}

fn course_values(backend: Backend, c: &Course) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    let audience = serde_json::to_string(&c.audience).map_err(|e| bad_column("audience", e))?;
    Ok(vec![
        Expr::val(backend.uuid(Some(c.id.0))),
        c.name.clone().into(),
        c.description.clone().into(),
        audience.into(),
        c.refresh_months.map(i64::from).into(),
        Expr::val(backend.datetime(Some(c.created_at))),
        Expr::val(backend.datetime(Some(c.updated_at))),
    ])
}

impl SqlStore {
    async fn write(&self, sql: Vec<crate::db::Sql>) -> Result<u64> {
        in_write!(self.pool(), |tx| {
            let mut n = 0;
            for s in sql {
                n += tx.exec().execute(s).await.map_err(db_error)?;
            }
            Ok(n)
        })
    }
}

#[async_trait]
impl TrainingStore for SqlStore {
    async fn create_course(&self, course: &Course) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("courses")
            .columns(COURSE_COLUMNS)
            .values_panic(course_values(backend, course).map_err(db_error)?)
            .to_owned();
        self.write(vec![backend.build(&stmt)]).await.map(|_| ())
    }

    async fn update_course(&self, course: &Course) -> Result<bool> {
        let backend = self.backend_kind();
        let mut stmt = Query::update();
        stmt.table("courses");
        for (column, value) in COURSE_COLUMNS
            .iter()
            .zip(course_values(backend, course).map_err(db_error)?)
            .skip(1)
        {
            stmt.value(*column, value);
        }
        stmt.and_where(Expr::col("id").eq(Expr::val(backend.uuid(Some(course.id.0)))));
        Ok(self.write(vec![backend.build(&stmt)]).await? == 1)
    }

    async fn courses(&self) -> Result<Vec<Course>> {
        let stmt = Query::select()
            .from("courses")
            .columns(COURSE_COLUMNS)
            .order_by("created_at", Order::Asc)
            .to_owned();
        self.fetch_decoded(self.backend_kind().build(&stmt), decode_course)
            .await
    }

    async fn create_training_session(&self, s: &TrainingSession) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("training_sessions")
            .columns(SESSION_COLUMNS)
            .values_panic([
                Expr::val(backend.uuid(Some(s.id.0))),
                Expr::val(backend.uuid(Some(s.course.0))),
                Expr::val(backend.date(Some(s.on))),
                Expr::val(backend.uuid(s.trainer.map(|t| t.0))),
                s.trainer_name.clone().into(),
                s.place.clone().into(),
                s.online.into(),
                Expr::val(backend.datetime(Some(s.created_at))),
                Expr::val(backend.uuid(s.created_by.map(|u| u.0))),
            ])
            .to_owned();
        self.write(vec![backend.build(&stmt)]).await.map(|_| ())
    }

    async fn training_session(&self, id: TrainingSessionId) -> Result<Option<TrainingSession>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("training_sessions")
            .columns(SESSION_COLUMNS)
            .and_where(Expr::col("id").eq(Expr::val(backend.uuid(Some(id.0)))))
            .to_owned();
        Ok(self.fetch_decoded(backend.build(&stmt), decode_session).await?.pop())
    }

    async fn training_sessions(&self, course: Option<CourseId>) -> Result<Vec<TrainingSession>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.from("training_sessions")
            .columns(SESSION_COLUMNS)
            .order_by("on_day", Order::Desc)
            .order_by("created_at", Order::Desc);
        if let Some(c) = course {
            stmt.and_where(Expr::col("course_id").eq(Expr::val(backend.uuid(Some(c.0)))));
        }
        self.fetch_decoded(backend.build(&stmt), decode_session).await
    }

    async fn record_attendance(&self, rows: &[Attendance]) -> Result<()> {
        let backend = self.backend_kind();
        let sql = rows
            .iter()
            .map(|a| {
                backend.build(
                    &Query::insert()
                        .into_table("training_attendance")
                        .columns(["session_id", "user_id", "attended", "recorded_by", "recorded_at"])
                        .values_panic([
                            Expr::val(backend.uuid(Some(a.session.0))),
                            Expr::val(backend.uuid(Some(a.user.0))),
                            a.attended.into(),
                            Expr::val(backend.uuid(Some(a.recorded_by.0))),
                            Expr::val(backend.datetime(Some(a.recorded_at))),
                        ])
                        .on_conflict(
                            OnConflict::columns(["session_id", "user_id"])
                                .update_columns(["attended", "recorded_by", "recorded_at"])
                                .to_owned(),
                        )
                        .to_owned(),
                )
            })
            .collect();
        self.write(sql).await.map(|_| ())
    }

    async fn attendance(&self, session: TrainingSessionId) -> Result<Vec<Attendance>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("training_attendance")
            .columns(["session_id", "user_id", "attended", "recorded_by", "recorded_at"])
            .and_where(Expr::col("session_id").eq(Expr::val(backend.uuid(Some(session.0)))))
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(Attendance {
                session: TrainingSessionId(r.uuid(0)?),
                user: UserId(r.uuid(1)?),
                attended: r.bool(2)?,
                recorded_by: UserId(r.uuid(3)?),
                recorded_at: r.datetime(4)?,
            })
        })
        .await
    }

    async fn attended(&self, user: Option<UserId>) -> Result<Vec<Attended>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.from("training_attendance")
            .inner_join(
                "training_sessions",
                Expr::col(("training_sessions", "id")).equals(("training_attendance", "session_id")),
            )
            .column(("training_attendance", "user_id"))
            .column(("training_sessions", "course_id"))
            .column(("training_sessions", "id"))
            .column(("training_sessions", "on_day"))
            .column(("training_attendance", "recorded_at"))
            .and_where(Expr::col(("training_attendance", "attended")).eq(true));
        if let Some(u) = user {
            stmt.and_where(Expr::col(("training_attendance", "user_id")).eq(Expr::val(backend.uuid(Some(u.0)))));
        }
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(Attended {
                user: UserId(r.uuid(0)?),
                course: CourseId(r.uuid(1)?),
                session: TrainingSessionId(r.uuid(2)?),
                on: r.opt_date(3)?.ok_or_else(|| bad_column("on_day", "unexpected NULL"))?,
                recorded_at: r.datetime(4)?,
            })
        })
        .await
    }
}
