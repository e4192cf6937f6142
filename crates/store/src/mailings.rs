//! Mailings, their snapshots of recipients and the addresses that bounced. A recipient is
//! claimed (`sending`) in one transaction before its message goes and settled in another after,
//! so a process killed in between leaves it `sending`, found and marked uncertain by the next
//! attempt. An address goes to one recipient of a mailing at most: a unique index holds it.

use crate::db::{Backend, Row, Tx, bad_column, count_at, db_error, in_write, insert_rows};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{JobId, MailingId, RecordId, SelectionId, TemplateId, UserId};
use anchora_core::jobs::NewJob;
use anchora_core::mailings::{
    InvalidAddress, Mailing, MailingState, MailingStore, Outcome, Recipient, RecipientStatus, SkipReason,
};
use anchora_core::meta::ObjectDef;
use anchora_core::record::Record;
use anchora_core::write::WriteCtx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use std::collections::{BTreeMap, HashSet};

/// Migration 14: mailings, their recipients, invalid addresses.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    vec![
        format!(
            "CREATE TABLE mailings (id {uuid} PRIMARY KEY, name TEXT NOT NULL, selection_id {uuid} NOT NULL, \
             template_id {uuid} NOT NULL, purpose TEXT NOT NULL, state TEXT NOT NULL, start_at {ts}, throttle TEXT, \
             send_window TEXT, owner {uuid} NOT NULL, job_id {uuid}, template_copy TEXT, prepared_at {ts}, \
             paused_because TEXT, version BIGINT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL, \
             finished_at {ts})"
        ),
        format!(
            "CREATE TABLE mailing_recipients (mailing_id {uuid} NOT NULL REFERENCES mailings(id) ON DELETE CASCADE, \
             person_id {uuid} NOT NULL, email TEXT, language TEXT, status TEXT NOT NULL, skip TEXT, \
             attempts BIGINT NOT NULL, next_try_at {ts}, detail TEXT, sent_at {ts}, tag TEXT NOT NULL, \
             claimed_by TEXT, PRIMARY KEY (mailing_id, person_id))"
        ),
        "CREATE INDEX mailing_recipients_status ON mailing_recipients (mailing_id, status, person_id)".into(),
        "CREATE INDEX mailing_recipients_sent ON mailing_recipients (mailing_id, sent_at)".into(),
        "CREATE UNIQUE INDEX mailing_recipients_tag ON mailing_recipients (tag)".into(),
        // One message per address per mailing, whoever else has the address.
        "CREATE UNIQUE INDEX mailing_recipients_address ON mailing_recipients (mailing_id, email) \
         WHERE status <> 'skipped'"
            .into(),
        format!(
            "CREATE TABLE invalid_addresses (email TEXT PRIMARY KEY, reason TEXT NOT NULL, at {ts} NOT NULL, \
             mailing_id {uuid})"
        ),
    ]
}

const COLUMNS: [&str; 18] = [
    "id",
    "name",
    "selection_id",
    "template_id",
    "purpose",
    "state",
    "start_at",
    "throttle",
    "send_window",
    "owner",
    "job_id",
    "template_copy",
    "prepared_at",
    "paused_because",
    "version",
    "created_at",
    "updated_at",
    "finished_at",
];

const RECIPIENT: [&str; 11] = [
    "mailing_id",
    "person_id",
    "email",
    "language",
    "status",
    "skip",
    "attempts",
    "next_try_at",
    "detail",
    "sent_at",
    "tag",
];

fn json<T: serde::de::DeserializeOwned>(r: &Row, i: usize, name: &str) -> std::result::Result<Option<T>, sqlx::Error> {
    r.opt_string(i)?
        .map(|t| serde_json::from_str(&t).map_err(|e| bad_column(name, e)))
        .transpose()
}

fn decode(r: &Row) -> std::result::Result<Mailing, sqlx::Error> {
    let state = r.string(5)?;
    Ok(Mailing {
        id: MailingId(r.uuid(0)?),
        name: r.string(1)?,
        selection: SelectionId(r.uuid(2)?),
        template: TemplateId(r.uuid(3)?),
        purpose: r.string(4)?,
        state: MailingState::parse(&state).ok_or_else(|| bad_column("state", state))?,
        start_at: r.opt_datetime(6)?,
        throttle: json(r, 7, "throttle")?,
        window: json(r, 8, "send_window")?,
        owner: UserId(r.uuid(9)?),
        job: r.opt_uuid(10)?.map(JobId),
        template_copy: json(r, 11, "template_copy")?,
        prepared_at: r.opt_datetime(12)?,
        paused_because: r.opt_string(13)?,
        version: r.i64(14)?,
        created_at: r.datetime(15)?,
        updated_at: r.datetime(16)?,
        finished_at: r.opt_datetime(17)?,
    })
}

fn text<T: serde::Serialize>(value: Option<&T>, name: &str) -> std::result::Result<Option<String>, sqlx::Error> {
    value
        .map(|v| serde_json::to_string(v).map_err(|e| bad_column(name, e)))
        .transpose()
}

fn values(backend: Backend, m: &Mailing) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    Ok(vec![
        Expr::val(backend.uuid(Some(m.id.0))),
        m.name.clone().into(),
        Expr::val(backend.uuid(Some(m.selection.0))),
        Expr::val(backend.uuid(Some(m.template.0))),
        m.purpose.clone().into(),
        m.state.as_str().into(),
        Expr::val(backend.datetime(m.start_at)),
        text(m.throttle.as_ref(), "throttle")?.into(),
        text(m.window.as_ref(), "send_window")?.into(),
        Expr::val(backend.uuid(Some(m.owner.0))),
        Expr::val(backend.uuid(m.job.map(|j| j.0))),
        text(m.template_copy.as_ref(), "template_copy")?.into(),
        Expr::val(backend.datetime(m.prepared_at)),
        m.paused_because.clone().into(),
        m.version.into(),
        Expr::val(backend.datetime(Some(m.created_at))),
        Expr::val(backend.datetime(Some(m.updated_at))),
        Expr::val(backend.datetime(m.finished_at)),
    ])
}

fn decode_recipient(r: &Row) -> std::result::Result<Recipient, sqlx::Error> {
    let status = r.string(4)?;
    Ok(Recipient {
        mailing: MailingId(r.uuid(0)?),
        person: RecordId(r.uuid(1)?),
        email: r.opt_string(2)?,
        language: r.opt_string(3)?,
        status: RecipientStatus::parse(&status).ok_or_else(|| bad_column("status", status))?,
        skip: r.opt_string(5)?.and_then(|s| SkipReason::parse(&s)),
        attempts: u32::try_from(r.i64(6)?).unwrap_or(u32::MAX),
        next_try_at: r.opt_datetime(7)?,
        detail: r.opt_string(8)?,
        sent_at: r.opt_datetime(9)?,
        tag: r.string(10)?,
    })
}

fn recipient_columns() -> String {
    RECIPIENT.join(", ")
}

async fn update(tx: &mut Tx, backend: Backend, m: &Mailing, expected: i64) -> std::result::Result<bool, sqlx::Error> {
    let mut stmt = Query::update();
    stmt.table("mailings");
    for (column, value) in COLUMNS.iter().zip(values(backend, m)?).skip(1) {
        stmt.value(*column, value);
    }
    stmt.and_where(Expr::col("id").eq(backend.uuid(Some(m.id.0))))
        .and_where(Expr::col("version").eq(expected));
    Ok(tx.exec().execute(backend.build(&stmt)).await? == 1)
}

async fn add_invalid(
    tx: &mut Tx,
    backend: Backend,
    invalid: &[InvalidAddress],
) -> std::result::Result<(), sqlx::Error> {
    for i in invalid {
        let stmt = Query::insert()
            .into_table("invalid_addresses")
            .columns(["email", "reason", "at", "mailing_id"])
            .values_panic([
                i.email.to_lowercase().into(),
                i.reason.clone().into(),
                Expr::val(backend.datetime(Some(i.at))),
                Expr::val(backend.uuid(i.mailing.map(|m| m.0))),
            ])
            .on_conflict(OnConflict::column("email").do_nothing().to_owned())
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    Ok(())
}

/// An erased person leaves every mailing's snapshot (the erasure's transaction).
pub async fn forget_person(
    tx: &mut Tx,
    backend: Backend,
    person: RecordId,
    email: Option<&str>,
) -> std::result::Result<u64, sqlx::Error> {
    let stmt = Query::delete()
        .from_table("mailing_recipients")
        .and_where(Expr::col("person_id").eq(backend.uuid(Some(person.0))))
        .to_owned();
    let gone = tx.exec().execute(backend.build(&stmt)).await?;
    // The address they bounced on is theirs too.
    if let Some(email) = email {
        let stmt = Query::delete()
            .from_table("invalid_addresses")
            .and_where(Expr::col("email").eq(email.trim().to_lowercase()))
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    Ok(gone)
}

/// A merged person's recipient rows follow them (the merge's transaction); a mailing both were
/// in keeps the survivor's.
pub async fn move_person(
    tx: &mut Tx,
    backend: Backend,
    from: RecordId,
    to: RecordId,
) -> std::result::Result<(), sqlx::Error> {
    let (p1, p2) = (backend.param(1), backend.param(2));
    let drop = format!(
        "DELETE FROM mailing_recipients WHERE person_id = {p1} AND mailing_id IN \
         (SELECT mailing_id FROM mailing_recipients WHERE person_id = {p2})"
    );
    tx.exec()
        .execute(crate::db::Sql::new(
            drop,
            vec![backend.uuid(Some(from.0)), backend.uuid(Some(to.0))],
        ))
        .await?;
    let moved = format!("UPDATE mailing_recipients SET person_id = {p1} WHERE person_id = {p2}");
    tx.exec()
        .execute(crate::db::Sql::new(
            moved,
            vec![backend.uuid(Some(to.0)), backend.uuid(Some(from.0))],
        ))
        .await?;
    Ok(())
}

#[async_trait]
impl MailingStore for SqlStore {
    async fn create_mailing(&self, m: &Mailing) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("mailings")
            .columns(COLUMNS)
            .values_panic(values(backend, m).map_err(db_error)?)
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn mailing(&self, id: MailingId) -> Result<Option<Mailing>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("mailings")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        self.pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .map(|r| decode(&r))
            .transpose()
            .map_err(db_error)
    }

    async fn mailings(&self) -> Result<Vec<Mailing>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("mailings")
            .order_by("created_at", Order::Desc)
            .order_by("id", Order::Desc)
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(self.backend_kind().build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(decode)
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn update_mailing(&self, m: &Mailing, expected_version: i64) -> Result<bool> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            update(tx, backend, m, expected_version).await.map_err(db_error)
        })
    }

    async fn update_mailing_with_job(&self, m: &Mailing, expected_version: i64, job: &NewJob) -> Result<bool> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            if !update(tx, backend, m, expected_version).await.map_err(db_error)? {
                return Ok(false);
            }
            crate::jobs::insert(tx, backend, job).await.map_err(db_error)?;
            Ok(true)
        })
    }

    async fn delete_mailing(&self, id: MailingId) -> Result<bool> {
        let backend = self.backend_kind();
        let id = backend.uuid(Some(id.0));
        let recipients = Query::delete()
            .from_table("mailing_recipients")
            .and_where(Expr::col("mailing_id").eq(id.clone()))
            .to_owned();
        let mailing = Query::delete()
            .from_table("mailings")
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec().execute(backend.build(&recipients)).await.map_err(db_error)?;
            Ok(tx.exec().execute(backend.build(&mailing)).await.map_err(db_error)? == 1)
        })
    }

    async fn add_recipients(&self, recipients: &[Recipient]) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            for chunk in recipients.chunks(400) {
                let mut values = Vec::with_capacity(chunk.len() * RECIPIENT.len());
                for r in chunk {
                    values.extend([
                        backend.uuid(Some(r.mailing.0)),
                        backend.uuid(Some(r.person.0)),
                        r.email.clone().into(),
                        r.language.clone().into(),
                        r.status.as_str().into(),
                        r.skip.map(SkipReason::as_str).into(),
                        i64::from(r.attempts).into(),
                        backend.datetime(r.next_try_at),
                        r.detail.clone().into(),
                        backend.datetime(r.sent_at),
                        r.tag.clone().into(),
                    ]);
                }
                let mut sql = insert_rows(backend, "mailing_recipients", &RECIPIENT, values);
                // A snapshot taken again after a cut-off keeps the rows the first one wrote
                // (and an address another of its rows holds stays with that row).
                sql.text.push_str(" ON CONFLICT DO NOTHING");
                tx.exec().execute(sql).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn claim_recipients(
        &self,
        mailing: MailingId,
        now: DateTime<Utc>,
        max: u32,
        claimer: &str,
    ) -> Result<Vec<Recipient>> {
        let backend = self.backend_kind();
        let (p1, p2, p3) = (backend.param(1), backend.param(2), backend.param(3));
        // PostgreSQL: rows another claim holds are passed over (SKIP LOCKED), and the outer
        // condition is asked again, so two claims never take one recipient. The pick is
        // MATERIALIZED: a subquery with SKIP LOCKED run again for each row would pick other
        // rows each time and claim more than `max`.
        let skip_locked = if backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // Queued ones first, then deferred ones now due: each an ordered walk of the index on
        // (mailing, status, person), where one query with OR would read the whole snapshot.
        let queued = format!(
            "WITH picked AS MATERIALIZED (SELECT person_id FROM mailing_recipients WHERE mailing_id = {p1} \
             AND status = 'queued' ORDER BY person_id LIMIT {max}{skip_locked}) \
             UPDATE mailing_recipients SET status = 'sending', claimed_by = {p2} WHERE mailing_id = {p1} \
             AND status = 'queued' AND person_id IN (SELECT person_id FROM picked) RETURNING {}",
            recipient_columns()
        );
        let deferred = |room: usize| {
            format!(
                "WITH picked AS MATERIALIZED (SELECT person_id FROM mailing_recipients WHERE mailing_id = {p1} \
                 AND status = 'deferred' AND next_try_at <= {p3} ORDER BY person_id LIMIT {room}{skip_locked}) \
                 UPDATE mailing_recipients SET status = 'sending', claimed_by = {p2} WHERE mailing_id = {p1} \
                 AND status = 'deferred' AND next_try_at <= {p3} AND person_id IN (SELECT person_id FROM picked) \
                 RETURNING {}",
                recipient_columns()
            )
        };
        in_write!(self.pool(), |tx| {
            let mut rows = tx
                .exec()
                .fetch_all(crate::db::Sql::new(
                    queued,
                    vec![backend.uuid(Some(mailing.0)), claimer.into()],
                ))
                .await
                .map_err(db_error)?;
            let room = (max as usize).saturating_sub(rows.len());
            if room > 0 {
                rows.extend(
                    tx.exec()
                        .fetch_all(crate::db::Sql::new(
                            deferred(room),
                            vec![
                                backend.uuid(Some(mailing.0)),
                                claimer.into(),
                                backend.datetime(Some(now)),
                            ],
                        ))
                        .await
                        .map_err(db_error)?,
                );
            }
            let mut out = rows
                .iter()
                .map(decode_recipient)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(db_error)?;
            out.sort_by_key(|r| r.person);
            Ok(out)
        })
    }

    async fn claimers(&self, mailing: MailingId) -> Result<Vec<String>> {
        let backend = self.backend_kind();
        let text = format!(
            "SELECT DISTINCT claimed_by FROM mailing_recipients WHERE mailing_id = {} AND status = 'sending'",
            backend.param(1)
        );
        let rows = self
            .pool()
            .exec()
            .fetch_all(crate::db::Sql::new(text, vec![backend.uuid(Some(mailing.0))]))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| r.opt_string(0).map(Option::unwrap_or_default))
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn settle_recipients(
        &self,
        mailing: MailingId,
        claimer: &str,
        outcomes: &[Outcome],
        activity_object: Option<&ObjectDef>,
        activities: &[(RecordId, Record)],
        invalid: &[(RecordId, InvalidAddress)],
        ctx: WriteCtx,
    ) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            // Only rows this claim still holds change; what went for the others (erased, or
            // taken over as uncertain) leaves no activity and marks no address.
            let mut settled = HashSet::new();
            for o in outcomes {
                let stmt = Query::update()
                    .table("mailing_recipients")
                    .value("status", o.status.as_str())
                    .value("skip", o.skip.map(SkipReason::as_str))
                    .value("attempts", i64::from(o.attempts))
                    .value("next_try_at", Expr::val(backend.datetime(o.next_try_at)))
                    .value("detail", o.detail.clone())
                    .value("sent_at", Expr::val(backend.datetime(o.sent_at)))
                    .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
                    .and_where(Expr::col("person_id").eq(backend.uuid(Some(o.person.0))))
                    .and_where(Expr::col("status").eq("sending"))
                    .and_where(Expr::col("claimed_by").eq(claimer))
                    .to_owned();
                if tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1 {
                    settled.insert(o.person);
                }
            }
            let activities: Vec<Record> = activities
                .iter()
                .filter(|(person, _)| settled.contains(person))
                .map(|(_, a)| a.clone())
                .collect();
            if let Some(object) = activity_object
                && !activities.is_empty()
            {
                crate::records::insert_many(tx, backend, object, &activities, ctx)
                    .await
                    .map_err(db_error)?;
            }
            let invalid: Vec<InvalidAddress> = invalid
                .iter()
                .filter(|(person, _)| settled.contains(person))
                .map(|(_, i)| i.clone())
                .collect();
            add_invalid(tx, backend, &invalid).await.map_err(db_error)?;
            Ok(())
        })
    }

    async fn mark_uncertain(&self, mailing: MailingId, claimers: &[String]) -> Result<u64> {
        if claimers.is_empty() {
            return Ok(0);
        }
        let backend = self.backend_kind();
        let stmt = Query::update()
            .table("mailing_recipients")
            .value("status", RecipientStatus::Uncertain.as_str())
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .and_where(Expr::col("status").eq(RecipientStatus::Sending.as_str()))
            .and_where(Expr::col("claimed_by").is_in(claimers.iter().cloned()))
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)
        })
    }

    async fn requeue_uncertain(&self, mailing: MailingId) -> Result<u64> {
        self.move_status(mailing, RecipientStatus::Uncertain, RecipientStatus::Queued)
            .await
    }

    async fn recipients(
        &self,
        mailing: MailingId,
        status: Option<RecipientStatus>,
        after: Option<RecordId>,
        limit: u32,
    ) -> Result<Vec<Recipient>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.columns(RECIPIENT)
            .from("mailing_recipients")
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .order_by("person_id", Order::Asc)
            .limit(u64::from(limit));
        if let Some(s) = status {
            stmt.and_where(Expr::col("status").eq(s.as_str()));
        }
        if let Some(a) = after {
            stmt.and_where(Expr::col("person_id").gt(backend.uuid(Some(a.0))));
        }
        let rows = self
            .pool()
            .exec()
            .fetch_all(backend.build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(decode_recipient)
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn recipient_counts(&self, mailing: MailingId) -> Result<BTreeMap<String, u64>> {
        let backend = self.backend_kind();
        let text = format!(
            "SELECT status, skip, COUNT(*) FROM mailing_recipients WHERE mailing_id = {} GROUP BY status, skip",
            backend.param(1)
        );
        let rows = self
            .pool()
            .exec()
            .fetch_all(crate::db::Sql::new(text, vec![backend.uuid(Some(mailing.0))]))
            .await
            .map_err(db_error)?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let status = r.string(0).map_err(db_error)?;
            let n = count_at(r, 2).map_err(db_error)?;
            *out.entry(status.clone()).or_insert(0) += n;
            if let Some(skip) = r.opt_string(1).map_err(db_error)?
                && status == "skipped"
            {
                *out.entry(format!("skipped.{skip}")).or_insert(0) += n;
            }
        }
        Ok(out)
    }

    async fn sent_since(&self, mailing: MailingId, since: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>)> {
        let backend = self.backend_kind();
        let text = format!(
            "SELECT COUNT(*), MIN(sent_at) FROM mailing_recipients WHERE mailing_id = {} AND sent_at >= {}",
            backend.param(1),
            backend.param(2)
        );
        let row = self
            .pool()
            .exec()
            .fetch_optional(crate::db::Sql::new(
                text,
                vec![backend.uuid(Some(mailing.0)), backend.datetime(Some(since))],
            ))
            .await
            .map_err(db_error)?;
        match row {
            Some(r) => Ok((count_at(&r, 0).map_err(db_error)?, r.opt_datetime(1).map_err(db_error)?)),
            None => Ok((0, None)),
        }
    }

    async fn has_queued(&self, mailing: MailingId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .expr(Expr::val(1))
            .from("mailing_recipients")
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .and_where(Expr::col("status").eq(RecipientStatus::Queued.as_str()))
            .limit(1)
            .to_owned();
        Ok(self
            .pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .is_some())
    }

    async fn next_deferred(&self, mailing: MailingId) -> Result<Option<DateTime<Utc>>> {
        let backend = self.backend_kind();
        let text = format!(
            "SELECT MIN(next_try_at) FROM mailing_recipients WHERE mailing_id = {} AND status = 'deferred'",
            backend.param(1)
        );
        let row = self
            .pool()
            .exec()
            .fetch_optional(crate::db::Sql::new(text, vec![backend.uuid(Some(mailing.0))]))
            .await
            .map_err(db_error)?;
        match row {
            Some(r) => r.opt_datetime(0).map_err(db_error),
            None => Ok(None),
        }
    }

    async fn bounce_recipient(
        &self,
        mailing: MailingId,
        person: RecordId,
        detail: &str,
        invalid: &InvalidAddress,
    ) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::update()
            .table("mailing_recipients")
            .value("status", RecipientStatus::Bounced.as_str())
            .value("detail", detail)
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .and_where(Expr::col("person_id").eq(backend.uuid(Some(person.0))))
            .and_where(Expr::col("status").eq(RecipientStatus::Sent.as_str()))
            .to_owned();
        in_write!(self.pool(), |tx| {
            let changed = tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1;
            if changed {
                add_invalid(tx, backend, std::slice::from_ref(invalid))
                    .await
                    .map_err(db_error)?;
            }
            Ok(changed)
        })
    }

    async fn recipient_by_tag(&self, tag: &str) -> Result<Option<Recipient>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(RECIPIENT)
            .from("mailing_recipients")
            .and_where(Expr::col("tag").eq(tag))
            .to_owned();
        self.pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .map(|r| decode_recipient(&r))
            .transpose()
            .map_err(db_error)
    }

    async fn invalid_among(&self, emails: &[String]) -> Result<HashSet<String>> {
        let backend = self.backend_kind();
        let mut out = HashSet::new();
        for chunk in emails.chunks(500) {
            let stmt = Query::select()
                .column("email")
                .from("invalid_addresses")
                .and_where(Expr::col("email").is_in(chunk.iter().map(|e| e.to_lowercase())))
                .to_owned();
            for r in self
                .pool()
                .exec()
                .fetch_all(backend.build(&stmt))
                .await
                .map_err(db_error)?
            {
                out.insert(r.string(0).map_err(db_error)?);
            }
        }
        Ok(out)
    }

    async fn sent_people(&self, mailing: MailingId) -> Result<HashSet<RecordId>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .column("person_id")
            .from("mailing_recipients")
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .and_where(Expr::col("status").is_in(["sent", "bounced"]))
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(backend.build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| r.uuid(0).map(RecordId))
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn move_recipients(&self, from: RecordId, to: RecordId) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            move_person(tx, backend, from, to).await.map_err(db_error)
        })
    }
}

impl SqlStore {
    async fn move_status(&self, mailing: MailingId, from: RecipientStatus, to: RecipientStatus) -> Result<u64> {
        let backend = self.backend_kind();
        let stmt = Query::update()
            .table("mailing_recipients")
            .value("status", to.as_str())
            .and_where(Expr::col("mailing_id").eq(backend.uuid(Some(mailing.0))))
            .and_where(Expr::col("status").eq(from.as_str()))
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)
        })
    }
}
