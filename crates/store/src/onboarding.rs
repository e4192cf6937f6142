//! Onboarding: the templates administrators saved (one per role, its steps as JSON), each
//! user's checklist and its steps, and the first sign-in and first records a checklist's steps
//! wait for, read from the audit log and the change log by time.

use crate::db::{Backend, Row, bad_column, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::auth::Role;
use anchora_core::error::Result;
use anchora_core::ids::UserId;
use anchora_core::onboarding::{Checklist, Condition, Done, FirstEvent, OnboardingStore, Step, Template, Ticks};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use std::collections::HashMap;

/// Migration 20, its onboarding half (the training tables come first: see [`crate::training`]).
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let date = crate::codec::column_type(backend, anchora_core::meta::FieldType::Date);
    vec![
        format!(
            "CREATE TABLE onboarding_templates (role TEXT PRIMARY KEY, steps TEXT NOT NULL, version BIGINT NOT NULL, \
             updated_at {ts} NOT NULL, updated_by {uuid} REFERENCES users(id))"
        ),
        format!(
            "CREATE TABLE checklists (user_id {uuid} PRIMARY KEY REFERENCES users(id), role TEXT NOT NULL, \
             started_at {ts} NOT NULL, checked_at {ts} NOT NULL)"
        ),
        // `condition` is the step's condition as JSON, NULL for a step ticked by hand;
        // `done_by` NULL on a ticked step: it ticked itself.
        format!(
            "CREATE TABLE checklist_steps (user_id {uuid} NOT NULL REFERENCES checklists(user_id), number BIGINT NOT NULL, \
             title TEXT NOT NULL, due_on {date}, condition TEXT, done_at {ts}, done_by {uuid} REFERENCES users(id), \
             PRIMARY KEY (user_id, number))"
        ),
        "CREATE INDEX ix_checklist_steps_done_by ON checklist_steps (done_by)".to_string(),
        "CREATE INDEX ix_onboarding_templates_by ON onboarding_templates (updated_by)".to_string(),
    ]
}

fn uuid(backend: Backend, id: UserId) -> Expr {
    Expr::val(backend.uuid(Some(id.0)))
}

fn decode_template(r: &Row) -> std::result::Result<Template, sqlx::Error> {
    let role = r.string(0)?;
    Ok(Template {
        role: Role::parse(&role).ok_or_else(|| bad_column("role", "unknown role"))?,
        steps: serde_json::from_str(&r.string(1)?).map_err(|e| bad_column("steps", e))?,
        version: r.i64(2)?,
        updated_at: Some(r.datetime(3)?),
        updated_by: r.opt_uuid(4)?.map(UserId),
    })
}

fn decode_step(r: &Row) -> std::result::Result<(UserId, Step), sqlx::Error> {
    let condition: Option<Condition> = r
        .opt_string(4)?
        .map(|c| serde_json::from_str(&c).map_err(|e| bad_column("condition", e)))
        .transpose()?;
    let by = r.opt_uuid(6)?.map(UserId);
    let done = r.opt_datetime(5)?.map(|at| Done { at, by });
    Ok((
        UserId(r.uuid(0)?),
        Step {
            number: u32::try_from(r.i64(1)?).map_err(|e| bad_column("number", e))?,
            title: r.string(2)?,
            due_on: r.opt_date(3)?,
            condition,
            done,
        },
    ))
}

const STEP_COLUMNS: [&str; 7] = [
    "user_id",
    "number",
    "title",
    "due_on",
    "condition",
    "done_at",
    "done_by",
];

impl SqlStore {
    /// The checklists of these users with their steps in order.
    async fn read_checklists(&self, users: &[UserId]) -> Result<Vec<Checklist>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let mut heads = Query::select();
        heads
            .from("checklists")
            .columns(["user_id", "role", "started_at", "checked_at"]);
        let mut steps = Query::select();
        steps
            .from("checklist_steps")
            .columns(STEP_COLUMNS)
            .order_by("user_id", Order::Asc)
            .order_by("number", Order::Asc);
        let ids: Vec<Expr> = users.iter().map(|u| uuid(backend, *u)).collect();
        heads.and_where(Expr::col("user_id").is_in(ids.clone()));
        steps.and_where(Expr::col("user_id").is_in(ids));
        let mut by_user: HashMap<UserId, Vec<Step>> = HashMap::new();
        for (u, step) in self.fetch_decoded(backend.build(&steps), decode_step).await? {
            by_user.entry(u).or_default().push(step);
        }
        self.fetch_decoded(backend.build(&heads), |r| {
            let role = r.string(1)?;
            Ok(Checklist {
                user: UserId(r.uuid(0)?),
                role: Role::parse(&role).ok_or_else(|| bad_column("role", "unknown role"))?,
                started_at: r.datetime(2)?,
                checked_at: r.datetime(3)?,
                steps: Vec::new(),
            })
        })
        .await
        .map(|heads| {
            heads
                .into_iter()
                .map(|mut c| {
                    c.steps = by_user.remove(&c.user).unwrap_or_default();
                    c
                })
                .collect()
        })
    }
}

#[async_trait]
impl OnboardingStore for SqlStore {
    async fn onboarding_templates(&self) -> Result<Vec<Template>> {
        let stmt = Query::select()
            .from("onboarding_templates")
            .columns(["role", "steps", "version", "updated_at", "updated_by"])
            .to_owned();
        self.fetch_decoded(self.backend_kind().build(&stmt), decode_template)
            .await
    }

    async fn put_onboarding_template(&self, template: &Template, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let steps = serde_json::to_string(&template.steps).map_err(|e| db_error(bad_column("steps", e)))?;
        let at = template.updated_at.unwrap_or_else(Utc::now);
        let by = template.updated_by.map(|u| u.0);
        let sql = if expected == 0 {
            // Never saved: the first save inserts; a racing first save finds the row there.
            backend.build(
                &Query::insert()
                    .into_table("onboarding_templates")
                    .columns(["role", "steps", "version", "updated_at", "updated_by"])
                    .values_panic([
                        template.role.as_str().into(),
                        steps.into(),
                        template.version.into(),
                        Expr::val(backend.datetime(Some(at))),
                        Expr::val(backend.uuid(by)),
                    ])
                    .on_conflict(OnConflict::column("role").do_nothing().to_owned())
                    .to_owned(),
            )
        } else {
            backend.build(
                &Query::update()
                    .table("onboarding_templates")
                    .value("steps", steps)
                    .value("version", template.version)
                    .value("updated_at", Expr::val(backend.datetime(Some(at))))
                    .value("updated_by", Expr::val(backend.uuid(by)))
                    .and_where(Expr::col("role").eq(template.role.as_str()))
                    .and_where(Expr::col("version").eq(expected))
                    .to_owned(),
            )
        };
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(sql).await.map_err(db_error)? == 1)
        })
    }

    async fn start_checklist(&self, checklist: &Checklist) -> Result<bool> {
        let backend = self.backend_kind();
        let head = Query::insert()
            .into_table("checklists")
            .columns(["user_id", "role", "started_at", "checked_at"])
            .values_panic([
                uuid(backend, checklist.user),
                checklist.role.as_str().into(),
                Expr::val(backend.datetime(Some(checklist.started_at))),
                Expr::val(backend.datetime(Some(checklist.checked_at))),
            ])
            .on_conflict(OnConflict::column("user_id").do_nothing().to_owned())
            .to_owned();
        let mut steps = Vec::new();
        for s in &checklist.steps {
            let condition = s
                .condition
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| db_error(bad_column("condition", e)))?;
            steps.push(
                Query::insert()
                    .into_table("checklist_steps")
                    .columns(STEP_COLUMNS)
                    .values_panic([
                        uuid(backend, checklist.user),
                        i64::from(s.number).into(),
                        s.title.clone().into(),
                        Expr::val(backend.date(s.due_on)),
                        condition.into(),
                        Expr::val(backend.datetime(s.done.map(|d| d.at))),
                        Expr::val(backend.uuid(s.done.and_then(|d| d.by).map(|u| u.0))),
                    ])
                    .to_owned(),
            );
        }
        in_write!(self.pool(), |tx| {
            if tx.exec().execute(backend.build(&head)).await.map_err(db_error)? == 0 {
                return Ok(false);
            }
            for stmt in &steps {
                tx.exec().execute(backend.build(stmt)).await.map_err(db_error)?;
            }
            Ok(true)
        })
    }

    async fn checklist(&self, user: UserId) -> Result<Option<Checklist>> {
        Ok(self.read_checklists(&[user]).await?.pop())
    }

    async fn checklists(&self, users: &[UserId]) -> Result<Vec<Checklist>> {
        let mut out = Vec::with_capacity(users.len());
        // A few hundred ids to a statement keeps well within both databases' limits.
        for chunk in users.chunks(500) {
            out.extend(self.read_checklists(chunk).await?);
        }
        Ok(out)
    }

    async fn tick_steps(&self, ticks: &[Ticks]) -> Result<()> {
        let backend = self.backend_kind();
        let mut statements = Vec::new();
        for t in ticks {
            for (number, done) in &t.steps {
                statements.push(
                    backend.build(
                        &Query::update()
                            .table("checklist_steps")
                            .value("done_at", Expr::val(backend.datetime(Some(done.at))))
                            .value("done_by", Expr::val(backend.uuid(done.by.map(|u| u.0))))
                            .and_where(Expr::col("user_id").eq(uuid(backend, t.user)))
                            .and_where(Expr::col("number").eq(i64::from(*number)))
                            .and_where(Expr::col("done_at").is_null())
                            .to_owned(),
                    ),
                );
            }
            // Never back: two readers may race, the later having looked less far.
            statements.push(
                backend.build(
                    &Query::update()
                        .table("checklists")
                        .value("checked_at", Expr::val(backend.datetime(Some(t.checked_at))))
                        .and_where(Expr::col("user_id").eq(uuid(backend, t.user)))
                        .and_where(Expr::col("checked_at").lt(Expr::val(backend.datetime(Some(t.checked_at)))))
                        .to_owned(),
                ),
            );
        }
        in_write!(self.pool(), |tx| {
            for sql in statements {
                tx.exec().execute(sql).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn set_step(&self, user: UserId, number: u32, done: Option<Done>) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::update()
            .table("checklist_steps")
            .value("done_at", Expr::val(backend.datetime(done.map(|d| d.at))))
            .value("done_by", Expr::val(backend.uuid(done.and_then(|d| d.by).map(|u| u.0))))
            .and_where(Expr::col("user_id").eq(uuid(backend, user)))
            .and_where(Expr::col("number").eq(i64::from(number)))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn first_events(&self, users: &[UserId], since: DateTime<Utc>) -> Result<Vec<FirstEvent>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend_kind();
        let actors: Vec<Expr> = users.iter().map(|u| uuid(backend, *u)).collect();
        let sign_ins = Query::select()
            .from("audit_log")
            .column("actor")
            .expr(Expr::cust("MIN(at)"))
            .and_where(Expr::col("kind").eq("login_succeeded"))
            .and_where(Expr::col("at").gte(Expr::val(backend.datetime(Some(since)))))
            .and_where(Expr::col("actor").is_in(actors.clone()))
            .group_by_col("actor")
            .to_owned();
        let mut out = self
            .fetch_decoded(backend.build(&sign_ins), |r| {
                Ok(FirstEvent::SignIn {
                    user: UserId(r.uuid(0)?),
                    at: r.datetime(1)?,
                })
            })
            .await?;
        let created = Query::select()
            .from("change_log")
            .columns(["actor", "object"])
            .expr(Expr::cust("MIN(at)"))
            .and_where(Expr::col("op").eq("create"))
            .and_where(Expr::col("at").gte(Expr::val(backend.datetime(Some(since)))))
            .and_where(Expr::col("actor").is_in(actors))
            .group_by_col("actor")
            .group_by_col("object")
            .to_owned();
        out.extend(
            self.fetch_decoded(backend.build(&created), |r| {
                Ok(FirstEvent::Created {
                    user: UserId(r.uuid(0)?),
                    object: r.string(1)?,
                    at: r.datetime(2)?,
                })
            })
            .await?,
        );
        Ok(out)
    }
}
