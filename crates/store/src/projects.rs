//! Implementation projects: the project row (settings as JSON, its versions and the counter
//! that numbers its items), the numbered items (members, tasks, work packages; JSON bodies
//! with their own versions) and the plan's dependencies as rows.
//!
//! The items are read whole per project, never queried inside, so a JSON body per item keeps
//! the schema stable as the project module grows, while versions, numbers and dependencies are
//! columns the database enforces. A batch is one transaction that holds the project row's lock
//! (PostgreSQL `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`), so numbers are handed out once and
//! two batches on one project never interleave.

use crate::db::db_error;
use crate::db::{Backend, Exec, Pool, Row, Sql};
use crate::sql_store::*;
use anchora_core::ProjectId;
use anchora_core::error::Result;
use anchora_core::project::model::{Project, Settings};
use anchora_core::project::plan::Dependency;
use anchora_core::project::roles::RoleDef;
use anchora_core::project::store::ProjectStore;
use anchora_core::store::{BatchOutcome, ItemWrite, ProjectBatch, StoredItem};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

const PROJECT_COLUMNS: [&str; 7] = [
    "id",
    "version",
    "plan_version",
    "body",
    "created_at",
    "updated_at",
    "next_number",
];

fn bad_body(e: &serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(format!("a stored project is not readable: {e}").into())
}

fn decode_project(r: &Row) -> Result<Project, sqlx::Error> {
    let settings: Settings = serde_json::from_str(&r.string(3)?).map_err(|e| bad_body(&e))?;
    Ok(Project {
        id: ProjectId(r.uuid(0)?),
        version: r.i64(1)?,
        plan_version: r.i64(2)?,
        created_at: r.datetime(4)?,
        updated_at: r.datetime(5)?,
        settings,
    })
}

fn settings_json(p: &Project) -> Result<String, sqlx::Error> {
    serde_json::to_string(&p.settings).map_err(|e| bad_body(&e))
}

pub async fn create(exec: Exec<'_>, backend: Backend, p: &Project) -> Result<(), sqlx::Error> {
    let stmt = Query::insert()
        .into_table("projects")
        .columns(PROJECT_COLUMNS)
        .values_panic([
            Expr::val(backend.uuid(Some(p.id.0))),
            p.version.into(),
            p.plan_version.into(),
            settings_json(p)?.into(),
            Expr::val(backend.datetime(Some(p.created_at))),
            Expr::val(backend.datetime(Some(p.updated_at))),
            1i64.into(),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

pub async fn list(exec: Exec<'_>, backend: Backend) -> Result<Vec<Project>, sqlx::Error> {
    let stmt = Query::select().columns(PROJECT_COLUMNS).from("projects").to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(decode_project)
        .collect()
}

pub async fn get(exec: Exec<'_>, backend: Backend, id: ProjectId) -> Result<Option<Project>, sqlx::Error> {
    let stmt = Query::select()
        .columns(PROJECT_COLUMNS)
        .from("projects")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode_project(&r))
        .transpose()
}

fn number(r: &Row, i: usize) -> Result<u32, sqlx::Error> {
    u32::try_from(r.i64(i)?).map_err(|_| sqlx::Error::Decode("a project number is out of range".into()))
}

pub async fn items(exec: Exec<'_>, backend: Backend, id: ProjectId) -> Result<Vec<StoredItem>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["kind", "number", "version", "body"])
        .from("project_items")
        .and_where(Expr::col("project_id").eq(backend.uuid(Some(id.0))))
        .order_by("number", Order::Asc)
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(StoredItem {
                kind: r.string(0)?,
                number: number(r, 1)?,
                version: r.i64(2)?,
                body: r.string(3)?,
            })
        })
        .collect()
}

pub async fn dependencies(exec: Exec<'_>, backend: Backend, id: ProjectId) -> Result<Vec<Dependency>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["before_number", "after_number"])
        .from("project_dependencies")
        .and_where(Expr::col("project_id").eq(backend.uuid(Some(id.0))))
        .order_by("before_number", Order::Asc)
        .order_by("after_number", Order::Asc)
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(Dependency {
                before: number(r, 0)?,
                after: number(r, 1)?,
            })
        })
        .collect()
}

/// Write a batch in one transaction; on any stale version nothing is written.
pub async fn write(
    pool: &Pool,
    id: ProjectId,
    batch: &ProjectBatch,
    at: DateTime<Utc>,
) -> Result<BatchOutcome, sqlx::Error> {
    let backend = pool.backend();
    let mut tx = pool.begin_write().await?;
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let head = tx
        .exec()
        .fetch_optional(Sql::new(
            format!(
                "SELECT version, plan_version, next_number FROM projects WHERE id = {}{lock}",
                backend.param(1)
            ),
            vec![backend.uuid(Some(id.0))],
        ))
        .await?;
    let Some(head) = head else {
        return Ok(BatchOutcome::NotFound);
    };
    let (version, plan_version, mut next) = (head.i64(0)?, head.i64(1)?, head.i64(2)?);
    if let Some((_, expected)) = &batch.settings
        && *expected != version
    {
        return Ok(BatchOutcome::Stale("project".into()));
    }
    if let Some(expected) = batch.expect_plan_version
        && expected != plan_version
    {
        return Ok(BatchOutcome::Stale("plan".into()));
    }
    let pid = || Expr::val(backend.uuid(Some(id.0)));
    let mut numbers = Vec::new();
    for write in &batch.items {
        match write {
            ItemWrite::Insert { kind, body } => {
                let stmt = Query::insert()
                    .into_table("project_items")
                    .columns(["project_id", "kind", "number", "version", "body", "updated_at"])
                    .values_panic([
                        pid(),
                        (*kind).into(),
                        next.into(),
                        1i64.into(),
                        body.clone().into(),
                        Expr::val(backend.datetime(Some(at))),
                    ])
                    .to_owned();
                tx.exec().execute(backend.build(&stmt)).await?;
                numbers.push(u32::try_from(next).unwrap_or(u32::MAX));
                next += 1;
            }
            ItemWrite::Update {
                kind,
                number,
                expected_version,
                body,
            } => {
                let stmt = Query::update()
                    .table("project_items")
                    .value("body", body.clone())
                    .value("version", Expr::col("version").add(1))
                    .value("updated_at", Expr::val(backend.datetime(Some(at))))
                    .and_where(Expr::col("project_id").eq(pid()))
                    .and_where(Expr::col("kind").eq(*kind))
                    .and_where(Expr::col("number").eq(i64::from(*number)))
                    .and_where(Expr::col("version").eq(*expected_version))
                    .to_owned();
                if tx.exec().execute(backend.build(&stmt)).await? == 0 {
                    return Ok(BatchOutcome::Stale(format!("{kind} {number}")));
                }
            }
            ItemWrite::Delete {
                kind,
                number,
                expected_version,
            } => {
                let stmt = Query::delete()
                    .from_table("project_items")
                    .and_where(Expr::col("project_id").eq(pid()))
                    .and_where(Expr::col("kind").eq(*kind))
                    .and_where(Expr::col("number").eq(i64::from(*number)))
                    .and_where(Expr::col("version").eq(*expected_version))
                    .to_owned();
                if tx.exec().execute(backend.build(&stmt)).await? == 0 {
                    return Ok(BatchOutcome::Stale(format!("{kind} {number}")));
                }
                if *kind == anchora_core::project::model::TASK {
                    let n = i64::from(*number);
                    let stmt = Query::delete()
                        .from_table("project_dependencies")
                        .and_where(Expr::col("project_id").eq(pid()))
                        .and_where(Expr::col("before_number").eq(n).or(Expr::col("after_number").eq(n)))
                        .to_owned();
                    tx.exec().execute(backend.build(&stmt)).await?;
                }
            }
        }
    }
    for d in &batch.add_dependencies {
        let stmt = Query::insert()
            .into_table("project_dependencies")
            .columns(["project_id", "before_number", "after_number"])
            .values_panic([pid(), i64::from(d.before).into(), i64::from(d.after).into()])
            .on_conflict(
                OnConflict::columns(["project_id", "before_number", "after_number"])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    for d in &batch.remove_dependencies {
        let stmt = Query::delete()
            .from_table("project_dependencies")
            .and_where(Expr::col("project_id").eq(pid()))
            .and_where(Expr::col("before_number").eq(i64::from(d.before)))
            .and_where(Expr::col("after_number").eq(i64::from(d.after)))
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    let mut head = Query::update()
        .table("projects")
        .value("next_number", next)
        .value("updated_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id").eq(pid()))
        .to_owned();
    if let Some((body, _)) = &batch.settings {
        head.value("body", body.clone()).value("version", version + 1);
    }
    if batch.expect_plan_version.is_some() {
        head.value("plan_version", plan_version + 1);
    }
    tx.exec().execute(backend.build(&head)).await?;
    tx.commit().await?;
    Ok(BatchOutcome::Written(numbers))
}

pub async fn roles(exec: Exec<'_>, backend: Backend) -> Result<Vec<RoleDef>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["body"])
        .from("project_roles")
        .order_by("role_key", Order::Asc)
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.string(0)?).map_err(|e| bad_body(&e)))
        .collect()
}

pub async fn add_role(exec: Exec<'_>, backend: Backend, role: &RoleDef) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(role).map_err(|e| bad_body(&e))?;
    let stmt = Query::insert()
        .into_table("project_roles")
        .columns(["role_key", "body"])
        .values_panic([role.key.clone().into(), body.into()])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

#[async_trait]
impl ProjectStore for SqlStore {
    async fn create_project(&self, project: &Project) -> Result<()> {
        create(self.pool.exec(), self.backend_kind(), project)
            .await
            .map_err(db_error)
    }

    async fn projects(&self) -> Result<Vec<Project>> {
        list(self.pool.exec(), self.backend_kind()).await.map_err(db_error)
    }

    async fn project(&self, id: ProjectId) -> Result<Option<Project>> {
        get(self.pool.exec(), self.backend_kind(), id).await.map_err(db_error)
    }

    async fn project_items(&self, id: ProjectId) -> Result<Vec<StoredItem>> {
        items(self.pool.exec(), self.backend_kind(), id).await.map_err(db_error)
    }

    async fn project_dependencies(&self, id: ProjectId) -> Result<Vec<Dependency>> {
        dependencies(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }

    async fn write_project(&self, id: ProjectId, batch: &ProjectBatch, at: DateTime<Utc>) -> Result<BatchOutcome> {
        write(&self.pool, id, batch, at).await.map_err(db_error)
    }

    async fn project_roles(&self) -> Result<Vec<RoleDef>> {
        roles(self.pool.exec(), self.backend_kind()).await.map_err(db_error)
    }

    async fn add_project_role(&self, role: &RoleDef) -> Result<()> {
        add_role(self.pool.exec(), self.backend_kind(), role)
            .await
            .map_err(db_error)
    }
}
