//! Purposes and consent events. Events are only ever added (the proof of consent); a person's
//! current consent to a purpose is their latest event for it.

use crate::db::bad_column;
use crate::db::{Backend, Row, Sql, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::consent::{ConsentEvent, ConsentState, ConsentStore, Purpose};
use anchora_core::error::Result;
use anchora_core::ids::{RecordId, UserId};
use async_trait::async_trait;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use std::collections::HashSet;

/// Migration 12: purposes and consent events.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let serial = backend.serial_key();
    vec![
        format!(
            "CREATE TABLE consent_purposes (key TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, \
             created_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE consent_events (seq {serial}, person_id {uuid} NOT NULL, \
             purpose TEXT NOT NULL REFERENCES consent_purposes(key), state TEXT NOT NULL, source TEXT NOT NULL, \
             at {ts} NOT NULL, by_user {uuid})"
        ),
        "CREATE INDEX consent_events_person ON consent_events (person_id, purpose, seq)".to_string(),
        "CREATE INDEX consent_events_purpose ON consent_events (purpose, person_id, seq)".to_string(),
    ]
}

fn decode_event(r: &Row) -> std::result::Result<ConsentEvent, sqlx::Error> {
    let state = r.string(2)?;
    Ok(ConsentEvent {
        person: RecordId(r.uuid(0)?),
        purpose: r.string(1)?,
        state: ConsentState::parse(&state).ok_or_else(|| bad_column("state", state))?,
        source: r.string(3)?,
        at: r.datetime(4)?,
        by: r.opt_uuid(5)?.map(UserId),
    })
}

/// Forget every consent of an erased person, inside the erasure's transaction.
pub async fn forget_person(
    tx: &mut crate::db::Tx,
    backend: Backend,
    person: RecordId,
) -> std::result::Result<u64, sqlx::Error> {
    let stmt = Query::delete()
        .from_table("consent_events")
        .and_where(Expr::col("person_id").eq(backend.uuid(Some(person.0))))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await
}

#[async_trait]
impl ConsentStore for SqlStore {
    async fn add_purpose(&self, purpose: &Purpose) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("consent_purposes")
            .columns(["key", "name", "description", "created_at"])
            .values_panic([
                purpose.key.clone().into(),
                purpose.name.clone().into(),
                purpose.description.clone().into(),
                Expr::val(backend.datetime(Some(purpose.created_at))),
            ])
            .on_conflict(OnConflict::column("key").do_nothing().to_owned())
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn purposes(&self) -> Result<Vec<Purpose>> {
        let stmt = Query::select()
            .columns(["key", "name", "description", "created_at"])
            .from("consent_purposes")
            .order_by("key", Order::Asc)
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(self.backend_kind().build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(Purpose {
                    key: r.string(0)?,
                    name: r.string(1)?,
                    description: r.string(2)?,
                    created_at: r.datetime(3)?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(db_error)
    }

    async fn record_consent(&self, event: &ConsentEvent) -> Result<()> {
        self.record_consents(std::slice::from_ref(event)).await
    }

    async fn record_consents(&self, events: &[ConsentEvent]) -> Result<()> {
        let backend = self.backend_kind();
        in_write!(self.pool(), |tx| {
            // In order, so each person's events keep the order given (their sequence numbers).
            for chunk in events.chunks(500) {
                let mut stmt = Query::insert();
                stmt.into_table("consent_events")
                    .columns(["person_id", "purpose", "state", "source", "at", "by_user"]);
                for event in chunk {
                    stmt.values_panic([
                        Expr::val(backend.uuid(Some(event.person.0))),
                        event.purpose.clone().into(),
                        event.state.as_str().into(),
                        event.source.clone().into(),
                        Expr::val(backend.datetime(Some(event.at))),
                        Expr::val(backend.uuid(event.by.map(|u| u.0))),
                    ]);
                }
                tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn consent_history(&self, person: RecordId) -> Result<Vec<ConsentEvent>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(["person_id", "purpose", "state", "source", "at", "by_user"])
            .from("consent_events")
            .and_where(Expr::col("person_id").eq(backend.uuid(Some(person.0))))
            .order_by("seq", Order::Asc)
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(backend.build(&stmt))
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(decode_event)
            .collect::<std::result::Result<_, _>>()
            .map_err(db_error)
    }

    async fn granted_among(&self, purpose: &str, people: &[RecordId]) -> Result<HashSet<RecordId>> {
        let backend = self.backend_kind();
        let mut out = HashSet::new();
        for chunk in people.chunks(500) {
            // Each person's latest event for the purpose, kept when it grants.
            let ids: Vec<String> = (0..chunk.len()).map(|i| backend.param(i + 2)).collect();
            let text = format!(
                "SELECT e.person_id FROM consent_events e WHERE e.purpose = {p} AND e.person_id IN ({ids}) \
                 AND e.state = 'granted' AND e.seq = (SELECT MAX(l.seq) FROM consent_events l \
                 WHERE l.person_id = e.person_id AND l.purpose = e.purpose)",
                p = backend.param(1),
                ids = ids.join(", "),
            );
            let mut values = vec![purpose.into()];
            values.extend(chunk.iter().map(|id| backend.uuid(Some(id.0))));
            for row in self
                .pool()
                .exec()
                .fetch_all(Sql::new(text, values))
                .await
                .map_err(db_error)?
            {
                out.insert(RecordId(row.uuid(0).map_err(db_error)?));
            }
        }
        Ok(out)
    }

    async fn latest_consents(
        &self,
        purpose: &str,
        people: &[RecordId],
    ) -> Result<std::collections::HashMap<RecordId, ConsentState>> {
        let backend = self.backend_kind();
        let mut out = std::collections::HashMap::new();
        for chunk in people.chunks(500) {
            let ids: Vec<String> = (0..chunk.len()).map(|i| backend.param(i + 2)).collect();
            let text = format!(
                "SELECT e.person_id, e.state FROM consent_events e WHERE e.purpose = {p} AND e.person_id IN ({ids}) \
                 AND e.seq = (SELECT MAX(l.seq) FROM consent_events l WHERE l.person_id = e.person_id AND l.purpose = e.purpose)",
                p = backend.param(1),
                ids = ids.join(", "),
            );
            let mut values = vec![purpose.into()];
            values.extend(chunk.iter().map(|id| backend.uuid(Some(id.0))));
            for row in self
                .pool()
                .exec()
                .fetch_all(Sql::new(text, values))
                .await
                .map_err(db_error)?
            {
                let state = row.string(1).map_err(db_error)?;
                if let Some(state) = ConsentState::parse(&state) {
                    out.insert(RecordId(row.uuid(0).map_err(db_error)?), state);
                }
            }
        }
        Ok(out)
    }
}
