//! The kanban board: records in columns by a picklist (deals by stage), with counts and sums
//! per column over every record, not just the cards shown; sums in the reporting currency,
//! each currency's own amount on demand. Cards move by drag and drop (a
//! write with a version check) or, without a mouse, by their "Move to" form.

use super::page_error::{OrNotFound, OrPage, PageResult};
use super::posted::Posted;
use super::totals::MoneyTotal;
use super::{Resolver, Shell, Ui, labels};
use crate::i18n::Tr;
use anchora_core::ErrorCode;
use anchora_core::currency::MoneyByGroup;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};
use anchora_core::record::Record;
use anchora_core::service::{ListParams, Page as ListedPage};
use anchora_core::value::Value;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::json;
use std::collections::HashMap;

const CARDS_PER_COLUMN: &str = "50";

pub struct Card {
    pub id: String,
    pub href: String,
    pub title: String,
    pub version: i64,
    pub amount: String,
    pub minor: i64,
    pub currency: String,
    pub company: String,
}

pub struct Column {
    pub value: String,
    pub label: String,
    pub count: i64,
    /// The column's money in the reporting currency; `None` when the object has no money.
    pub total: Option<MoneyTotal>,
    pub cards: Vec<Card>,
    pub more: bool,
}

#[derive(Template)]
#[template(path = "ui/board.html")]
struct BoardPage {
    shell: Shell,
    title: String,
    object: String,
    by: String,
    columns: Vec<Column>,
    choices: Vec<(String, String)>,
    conflict_text: String,
    failed_text: String,
    list_href: String,
    new_label: String,
    stale: bool,
}

/// The picklist a board groups by: the one asked for, or the object's first required one.
fn group_field(object: &ObjectDef, by: Option<&str>) -> Option<FieldDef> {
    let is_pick = |f: &&FieldDef| f.field_type == FieldType::Select && f.filterable;
    match by {
        Some(name) => object.active_fields().filter(is_pick).find(|f| f.name == name).cloned(),
        // Without a choice, only a required picklist makes a board (a deal's stage, an
        // activity's type); an optional one (a person's consent) would mostly be "empty".
        None => object.active_fields().filter(is_pick).find(|f| f.required).cloned(),
    }
}

/// Whether an object has a picklist to put on a board.
pub fn has_board(object: &ObjectDef) -> bool {
    group_field(object, None).is_some()
}

pub async fn board_page(ui: Ui, Path(object): Path<String>, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let by = group_field(&def, q.get("by").map(String::as_str)).or_not_found(&ui)?;
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let totals = crm.money_by(who, &def.name, &by.name).await.map_err(|e| {
        tracing::error!(error = %e, "board totals could not be read");
        ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new()))
    })?;
    let mut resolver = Resolver::new(&ui).await;
    let mut pages = Vec::new();
    for choice in &by.choices {
        let (_, page) = crm
            .list(who, &def.name, &column_params(&by, &choice.value))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "a board column could not be read");
                ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new()))
            })?;
        resolver.add_titles(&ui, &def, &page.records).await;
        pages.push(page);
    }
    let columns = columns(&ui.tr, &def, &by, pages, totals, &resolver);
    Ok(ui.page(StatusCode::OK, board_view(&ui, &def, &by, columns, &q).render()))
}

/// The newest cards of one column.
fn column_params(by: &FieldDef, value: &str) -> ListParams {
    let filter = json!({"field": by.name, "op": "eq", "value": value}).to_string();
    ListParams {
        filter: Some(filter),
        sort: Some("-updated_at".into()),
        limit: Some(CARDS_PER_COLUMN.into()),
        cursor: None,
        trash: false,
        count: false,
    }
}

/// One column per choice, in the choices' order, with its cards and its count and sum over
/// every record in it.
fn columns(
    tr: &Tr,
    def: &ObjectDef,
    by: &FieldDef,
    pages: Vec<ListedPage>,
    mut totals: MoneyByGroup,
    resolver: &Resolver,
) -> Vec<Column> {
    let money = def.active_fields().find(|f| f.field_type == FieldType::Money);
    let reporting = totals
        .currency
        .as_ref()
        .map(|c| c.reporting.clone())
        .unwrap_or_default();
    by.choices
        .iter()
        .zip(pages)
        .map(|(choice, page)| {
            let (group, converted) = totals.groups.remove(&choice.value).unwrap_or_default();
            let total = MoneyTotal::new(tr, &reporting, &group.amounts, &converted);
            Column {
                value: choice.value.clone(),
                label: labels::choice(tr, def, by, &choice.value),
                count: group.count,
                total: money.is_some().then_some(total),
                more: page.next_cursor.is_some(),
                cards: page.records.iter().map(|r| card(tr, def, money, r, resolver)).collect(),
            }
        })
        .collect()
}

/// A record as a card: its title, its amount and the record it belongs to.
fn card(tr: &Tr, def: &ObjectDef, money: Option<&FieldDef>, r: &Record, resolver: &Resolver) -> Card {
    let company = def.active_fields().find(|f| f.field_type == FieldType::Relation);
    let minor = money
        .and_then(|m| match r.get(&m.name) {
            Value::Money(v) => Some(*v),
            _ => None,
        })
        .unwrap_or(0);
    let cur = match r.get("currency") {
        Value::Select(c) => c.clone(),
        _ => String::new(),
    };
    Card {
        id: r.id.to_string(),
        href: format!("/o/{}/{}", def.name, r.id),
        title: r.title(def),
        version: r.version,
        amount: money.map(|m| resolver.cell(tr, def, m, r).text).unwrap_or_default(),
        minor,
        currency: cur,
        company: company.map(|c| resolver.cell(tr, def, c, r).text).unwrap_or_default(),
    }
}

fn board_view(ui: &Ui, def: &ObjectDef, by: &FieldDef, columns: Vec<Column>, q: &HashMap<String, String>) -> BoardPage {
    let tr = &ui.tr;
    BoardPage {
        title: labels::object_plural(tr, def),
        object: def.name.clone(),
        choices: columns.iter().map(|c| (c.value.clone(), c.label.clone())).collect(),
        by: by.name.clone(),
        conflict_text: tr.t1("board-conflict", "stage", "{stage}"),
        failed_text: tr.t("board-failed"),
        list_href: format!("/o/{}", def.name),
        new_label: tr.t1("list-new", "object", labels::object_in_sentence(tr, def)),
        stale: q.contains_key("conflict"),
        columns,
        shell: ui.shell(&def.name),
    }
}

/// The keyboard and no-script way to move a card: a form per card.
pub async fn move_card(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<HashMap<String, String>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let by = group_field(&def, form.get("by").map(String::as_str)).or_not_found(&ui)?;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let to = form.get("to").cloned().unwrap_or_default();
    let body = json!({ by.name.clone(): to });
    let board = format!("/o/{}/board?by={}", def.name, by.name);
    let moved = ui
        .authed
        .crm
        .update(&ui.authed.principal, &def.name, &id, &body, version)
        .await;
    match moved {
        // A stale move lands on the board as it is now: the other person's change stands.
        Ok(_) => Ok(Redirect::to(&board).into_response()),
        Err(e) if e.code == ErrorCode::VersionConflict => {
            Ok(Redirect::to(&format!("{board}&conflict={id}")).into_response())
        }
        Err(e) => Err(e).or_not_found_else(&ui, |e| (StatusCode::UNPROCESSABLE_ENTITY, e.detail).into_response()),
    }
}
