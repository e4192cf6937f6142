//! Erasing a record's personal data for good (GDPR art. 17), in one transaction: the related
//! records' fields, the change-log values that held them, the links, the record itself.

use crate::db::db_error;
use crate::db::in_write;
use crate::db::{Backend, Sql, Tx};
use crate::records::{self, ChangeRow};
use crate::search;
use crate::sql_store::*;
use anchora_core::RecordId;
use anchora_core::error::Result;
use anchora_core::gdpr::ErasureStore;
use anchora_core::record::ChangeOp;
use anchora_core::store::{ERASED, Erasure, ErasureCounts, Scrub, WriteCtx};
use async_trait::async_trait;
use sea_query::{Expr, ExprTrait, Query};
use serde_json::Value as Json;

pub async fn erase(tx: &mut Tx, backend: Backend, e: &Erasure, ctx: WriteCtx) -> Result<ErasureCounts, sqlx::Error> {
    let mut counts = ErasureCounts::default();
    for scrub in &e.scrubs {
        scrub_records(tx, backend, scrub, ctx, &mut counts).await?;
    }
    let id = backend.uuid(Some(e.id.0));
    counts.links_removed += tx
        .exec()
        .execute(
            backend.build(
                &Query::delete()
                    .from_table("activity_link")
                    .and_where(Expr::col("object").eq(e.object.name.clone()))
                    .and_where(Expr::col("record_id").eq(id.clone()))
                    .to_owned(),
            ),
        )
        .await?;
    search::remove_doc(tx, backend, e.id).await?;
    crate::visits::forget_record(tx, backend, e.id).await?;
    // Consent events name the person: they go with them.
    crate::consent::forget_person(tx, backend, e.id).await?;
    crate::selections::forget_record(tx, backend, e.id).await?;
    crate::mailings::forget_person(tx, backend, e.id, e.email.as_deref()).await?;
    tx.exec()
        .execute(
            backend.build(
                &Query::delete()
                    .from_table(e.object.table())
                    .and_where(Expr::col("id").eq(id.clone()))
                    .to_owned(),
            ),
        )
        .await?;
    counts.change_log_entries_scrubbed += tx
        .exec()
        .execute(
            backend.build(
                &Query::update()
                    .table("change_log")
                    .value("old_value", Option::<String>::None)
                    .value("new_value", Option::<String>::None)
                    .and_where(Expr::col("record_id").eq(id))
                    .to_owned(),
            ),
        )
        .await?;
    records::log_changes(
        tx,
        backend,
        ctx,
        &[ChangeRow {
            object: &e.object.name,
            record_id: e.id,
            op: ChangeOp::Erase,
            field: None,
            old: Json::Null,
            new: Json::Null,
        }],
    )
    .await?;
    counts.records_changed += 1;
    Ok(counts)
}

async fn scrub_records(
    tx: &mut Tx,
    backend: Backend,
    scrub: &Scrub,
    ctx: WriteCtx,
    counts: &mut ErasureCounts,
) -> Result<(), sqlx::Error> {
    let fields: Vec<&String> = scrub.blank.iter().chain(&scrub.mark).collect();
    if fields.is_empty() || scrub.ids.is_empty() {
        return Ok(());
    }
    for chunk in scrub.ids.chunks(500) {
        let ids: Vec<sea_query::Value> = chunk.iter().map(|i| backend.uuid(Some(i.0))).collect();
        let mut update = Query::update();
        update.table(scrub.object.table());
        // A text field's folded copy goes with it: nothing of the erased value stays behind.
        let folds = |f: &String| scrub.object.any_field(f).is_some_and(|d| d.field_type.folds());
        for f in &scrub.blank {
            update.value(f.clone(), Expr::cust("NULL"));
            if folds(f) {
                update.value(crate::ddl::fold_column(f), Expr::cust("NULL"));
            }
        }
        let unique = |f: &String| scrub.object.any_field(f).is_some_and(|d| d.unique);
        for f in scrub.mark.iter().filter(|f| !unique(f)) {
            update.value(f.clone(), ERASED.to_string());
            if folds(f) {
                update.value(crate::ddl::fold_column(f), anchora_core::text::fold_case(ERASED));
            }
        }
        // A unique field cannot hold the same marker twice: each record gets its own, in one
        // statement for all its unique fields.
        let unique_fields: Vec<&String> = scrub.mark.iter().filter(|f| unique(f)).collect();
        if !unique_fields.is_empty() {
            for id in chunk {
                let marker = format!("{ERASED} {id}");
                let mut one = Query::update();
                one.table(scrub.object.table())
                    .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))));
                for f in &unique_fields {
                    one.value((*f).clone(), marker.clone());
                    if folds(f) {
                        one.value(crate::ddl::fold_column(f), anchora_core::text::fold_case(&marker));
                    }
                }
                tx.exec().execute(backend.build(&one)).await?;
            }
        }
        update
            .value("version", Expr::col("version").add(1))
            .value("updated_at", Expr::val(backend.datetime(Some(ctx.now))))
            .value("updated_by", Expr::val(backend.uuid(Some(ctx.actor.0))))
            .and_where(Expr::col("id").is_in(ids.clone()));
        counts.records_changed += tx.exec().execute(backend.build(&update)).await?;
        // Field-level entries of the scrubbed fields lose their values.
        let scrubbed = Query::update()
            .table("change_log")
            .value("old_value", Option::<String>::None)
            .value("new_value", Option::<String>::None)
            .and_where(Expr::col("record_id").is_in(ids.clone()))
            .and_where(Expr::col("field").is_in(fields.iter().map(|f| (*f).clone())))
            .to_owned();
        counts.change_log_entries_scrubbed += tx.exec().execute(backend.build(&scrubbed)).await?;
        // Whole-record snapshots (create, delete) lose those keys.
        let snapshots = Query::select()
            .columns(["seq", "old_value", "new_value"])
            .from("change_log")
            .and_where(Expr::col("record_id").is_in(ids))
            .and_where(Expr::col("field").is_null())
            .to_owned();
        for row in tx.exec().fetch_all(backend.build(&snapshots)).await? {
            let seq = row.i64(0)?;
            let mut changed = false;
            let mut strip = |text: Option<String>| -> Option<String> {
                let mut json: Json = serde_json::from_str(&text?).ok()?;
                if let Some(map) = json.as_object_mut() {
                    for f in &fields {
                        changed |= map.remove(f.as_str()).is_some();
                    }
                }
                Some(json.to_string())
            };
            let (old, new) = (strip(row.opt_string(1)?), strip(row.opt_string(2)?));
            if changed {
                tx.exec()
                    .execute(Sql::new(
                        format!(
                            "UPDATE change_log SET old_value = {}, new_value = {} WHERE seq = {}",
                            backend.param(1),
                            backend.param(2),
                            backend.param(3)
                        ),
                        vec![old.into(), new.into(), seq.into()],
                    ))
                    .await?;
                counts.change_log_entries_scrubbed += 1;
            }
        }
        let rows: Vec<ChangeRow<'_>> = chunk
            .iter()
            .map(|id| ChangeRow {
                object: &scrub.object.name,
                record_id: *id,
                op: ChangeOp::Erase,
                field: None,
                old: Json::Null,
                new: Json::Null,
            })
            .collect();
        records::log_changes(tx, backend, ctx, &rows).await?;
        refresh_search(tx, backend, scrub, chunk).await?;
    }
    Ok(())
}

/// Search documents of scrubbed records must not keep the erased words.
async fn refresh_search(tx: &mut Tx, backend: Backend, scrub: &Scrub, ids: &[RecordId]) -> Result<(), sqlx::Error> {
    for id in ids {
        if let Some(record) = records::get(tx.exec(), backend, &scrub.object, *id, false).await?
            && record.deleted_at.is_none()
        {
            search::replace_doc(tx, backend, &search::Doc::of(&scrub.object, &record)).await?;
        }
    }
    Ok(())
}

#[async_trait]
impl ErasureStore for SqlStore {
    async fn erase_record(&self, erasure: &Erasure, ctx: WriteCtx) -> Result<ErasureCounts> {
        in_write!(self.pool, |tx| {
            erase(tx, self.backend_kind(), erasure, ctx).await.map_err(db_error)
        })
    }
}
