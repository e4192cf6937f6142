//! Record lists: chosen columns, sort by clicking a header, a filter builder whose conditions
//! live in the URL, keyset pages.

use super::posted::Posted;
use super::{Cell, Resolver, Shell, Ui, labels};
use anchora_core::ErrorCode;
use anchora_core::auth::{Permission, SchemaChange};
use anchora_core::filter::{Op, filter_field};
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, system_field};
use anchora_core::service::ListParams;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

const DEFAULT_COLUMNS: usize = 6;
const PAGE_SIZE: &str = "50";

pub struct Column {
    pub name: String,
    pub label: String,
    pub numeric: bool,
    /// The link that sorts by this column (toggling direction), when it can be sorted.
    pub sort_href: Option<String>,
    /// "ascending" / "descending" when the list is sorted by it.
    pub sorted: &'static str,
}

pub struct Row {
    pub href: String,
    /// "id:version", what a bulk action names.
    pub key: String,
    pub cells: Vec<Cell>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    /// For fields: which operators fit (space-separated), read by the page's script.
    pub ops: String,
}

#[derive(Template)]
#[template(path = "ui/list.html")]
struct ListPage {
    shell: Shell,
    title: String,
    object: String,
    new_label: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    conditions: Vec<FilterRow>,
    fields: Vec<Choice>,
    ops: Vec<Choice>,
    error: Option<String>,
    empty: String,
    next: Option<String>,
    first: Option<String>,
    /// "1–50 of 4,213".
    counted: Option<String>,
    filtered: bool,
    board: bool,
    views: Vec<ViewLink>,
    current_query: String,
    may_share: bool,
    may_export: bool,
    users: Vec<(String, String)>,
    column_choices: Vec<(String, String, bool)>,
    hidden_view: Vec<(String, String)>,
    bulk_fields: Vec<Choice>,
    bulk_result: Option<String>,
    back: String,
    /// A record just moved to the trash, to offer Undo for.
    trashed: Option<String>,
}

pub struct ViewLink {
    pub id: String,
    pub name: String,
    pub href: String,
    pub current: bool,
    pub shared: bool,
    pub deletable: bool,
}

/// The operators the filter builder offers for a field, as core decides them.
fn ops_for(t: FieldType) -> String {
    Op::offered_for(t)
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

use anchora_core::bulk::{BulkAction, BulkTarget};
use anchora_core::number::NumberFormat;
use anchora_core::record::form_value;
use anchora_core::views::{FilterRow, filter_of_rows, filter_rows, query_string};

fn column_defs(object: &ObjectDef, wanted: Option<&str>) -> Vec<FieldDef> {
    let named: Vec<FieldDef> = wanted
        .map(|w| {
            w.split(',')
                .filter_map(|n| object.field(n.trim()).cloned().or_else(|| system_field(n.trim())))
                .collect()
        })
        .unwrap_or_default();
    if !named.is_empty() {
        return named;
    }
    object
        .active_fields()
        .filter(|f| f.field_type != FieldType::LongText && !object.title_fields.contains(&f.name))
        .take(DEFAULT_COLUMNS)
        .cloned()
        .collect()
}

pub async fn list_page(ui: Ui, Path(object): Path<String>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let Some(def) = ui.object(&object) else {
        return super::not_found(&ui);
    };
    let tr = &ui.tr;
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let all = |k: &str| {
        q.iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let conditions = filter_rows(&q);
    let sort = get("sort").unwrap_or_default();
    // The column chooser sends one `col` per ticked field; links carry them as `columns=a,b`.
    let ticked = all("col");
    let columns_param = if ticked.is_empty() {
        get("columns")
    } else {
        Some(ticked.join(","))
    };
    // Everything that defines the view, without the cursor: kept by sort and paging links.
    let mut view: Vec<(String, String)> = Vec::new();
    if let Some(c) = &columns_param {
        view.push(("columns".into(), c.clone()));
    }
    for c in &conditions {
        view.push(("ff".into(), c.field.clone()));
        view.push(("fo".into(), c.op.clone()));
        view.push(("fv".into(), c.value.clone()));
    }
    let params = ListParams {
        filter: filter_of_rows(&def, &conditions).map(|f| f.to_string()),
        sort: Some(sort.clone()),
        limit: Some(PAGE_SIZE.into()),
        cursor: get("cursor"),
        trash: false,
        count: true,
    };
    let (page, error) = match ui.authed.crm.list(&ui.authed.principal, &def.name, &params).await {
        Ok((_, page)) => (Some(page), None),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidFilter
                    | ErrorCode::InvalidSort
                    | ErrorCode::InvalidCursor
                    | ErrorCode::ValidationFailed
            ) =>
        {
            (None, Some(e.detail))
        }
        Err(e) => {
            tracing::error!(error = %e, "a list could not be read");
            return ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new()));
        }
    };
    let records = page.as_ref().map(|p| p.records.clone()).unwrap_or_default();
    let resolver = Resolver::for_records(&ui, &def, &records).await;
    let defs = column_defs(&def, columns_param.as_deref());
    let columns: Vec<Column> = defs
        .iter()
        .map(|f| {
            let sortable = filter_field(&def, &f.name).is_some_and(|f| f.field_type.indexable());
            let (sorted, next_sort) = if sort == f.name {
                ("ascending", format!("-{}", f.name))
            } else if sort == format!("-{}", f.name) {
                ("descending", f.name.clone())
            } else {
                ("", f.name.clone())
            };
            let mut pairs = view.clone();
            pairs.push(("sort".into(), next_sort));
            Column {
                name: f.name.clone(),
                label: labels::field(tr, &def, f),
                numeric: super::format::is_numeric(f.field_type),
                sort_href: sortable.then(|| format!("/o/{}?{}", def.name, query_string(&pairs))),
                sorted,
            }
        })
        .collect();
    // The first column is always the record's title, linking to it.
    let title_sort = def
        .title_fields
        .first()
        .and_then(|t| filter_field(&def, t))
        .map(|f| f.name);
    let mut columns: Vec<Column> = columns;
    let title_column = {
        let (sorted, next_sort) = match &title_sort {
            Some(t) if sort == *t => ("ascending", format!("-{t}")),
            Some(t) if sort == format!("-{t}") => ("descending", t.clone()),
            Some(t) => ("", t.clone()),
            None => ("", String::new()),
        };
        let mut pairs = view.clone();
        pairs.push(("sort".into(), next_sort));
        Column {
            name: "title".into(),
            label: labels::object(tr, &def),
            numeric: false,
            sort_href: title_sort
                .as_ref()
                .map(|_| format!("/o/{}?{}", def.name, query_string(&pairs))),
            sorted,
        }
    };
    columns.insert(0, title_column);
    let rows = records
        .iter()
        .map(|r| {
            let title = Cell {
                text: Some(r.title(&def))
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "—".into()),
                href: None,
                numeric: false,
            };
            Row {
                key: format!("{}:{}", r.id, r.version),
                href: format!("/o/{}/{}", def.name, r.id),
                cells: std::iter::once(title)
                    .chain(defs.iter().map(|f| resolver.cell(tr, &def, f, r)))
                    .collect(),
            }
        })
        .collect();
    let mut base = view.clone();
    if !sort.is_empty() {
        base.push(("sort".into(), sort.clone()));
    }
    // Where this page starts in the list (the cursor alone cannot say): carried by "next".
    let from: u64 = get("at")
        .and_then(|a| a.parse().ok())
        .filter(|a| (1..=anchora_core::service::COUNT_CAP * 100).contains(a))
        .unwrap_or(1);
    let shown = page.as_ref().map_or(0, |p| p.records.len() as u64);
    let next = page.as_ref().and_then(|p| p.next_cursor.clone()).map(|c| {
        let mut pairs = base.clone();
        pairs.push(("cursor".into(), c));
        pairs.push(("at".into(), from.saturating_add(shown).to_string()));
        format!("/o/{}?{}", def.name, query_string(&pairs))
    });
    let counted = page.as_ref().and_then(|p| p.total).and_then(|total| {
        if shown == 0 {
            return None;
        }
        let range = [
            ("from", super::format::number(ui.tr.locale, from as f64, 0)),
            (
                "to",
                super::format::number(ui.tr.locale, (from + shown).saturating_sub(1) as f64, 0),
            ),
            ("total", super::format::number(ui.tr.locale, total.count as f64, 0)),
        ];
        Some(if total.more {
            ui.tr.tn("list-range-more", &range)
        } else {
            ui.tr.tn("list-range", &range)
        })
    });
    let first = get("cursor").map(|_| format!("/o/{}?{}", def.name, query_string(&base)));
    let fields = def
        .active_fields()
        .filter(|f| f.filterable)
        .cloned()
        .chain(
            ["created_at", "updated_at", "owner"]
                .iter()
                .filter_map(|n| system_field(n)),
        )
        .map(|f| Choice {
            label: labels::field(tr, &def, &f),
            ops: ops_for(f.field_type),
            value: f.name,
        })
        .collect();
    let ops = Op::BUILDER
        .iter()
        .map(|o| Choice {
            value: o.as_str().to_string(),
            label: tr.t(&format!("op-{}", o.as_str())),
            ops: String::new(),
        })
        .collect();
    let current_view = get("view");
    let may_share = ui
        .authed
        .principal
        .may(Permission::ChangeSchema(SchemaChange::SharedViews), &ui.schema.policy);
    let views = ui
        .authed
        .crm
        .views(&ui.authed.principal, &def.name)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|v| ViewLink {
            href: format!(
                "/o/{}?{}{}view={}",
                def.name,
                v.query,
                if v.query.is_empty() { "" } else { "&" },
                v.id
            ),
            current: current_view.as_deref() == Some(v.id.to_string().as_str()),
            deletable: v.owner == ui.authed.user.id || may_share,
            id: v.id.to_string(),
            name: v.name,
            shared: v.shared,
        })
        .collect();
    let mut current_pairs = view.clone();
    if !sort.is_empty() {
        current_pairs.push(("sort".into(), sort.clone()));
    }
    let current_query = anchora_core::views::view_query(&current_pairs);
    let plural = labels::object_plural(tr, &def);
    let page = ListPage {
        title: plural.clone(),
        object: def.name.clone(),
        new_label: tr.t1("list-new", "object", labels::object_in_sentence(tr, &def)),
        columns,
        rows,
        filtered: !conditions.is_empty(),
        board: super::board::has_board(&def),
        views,
        current_query,
        may_share,
        may_export: ui.authed.principal.may(Permission::Export, &ui.schema.policy),
        users: ui
            .authed
            .crm
            .users(&ui.authed.principal)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u.active && u.email.is_some())
            .map(|u| (u.id.to_string(), u.name))
            .collect(),
        column_choices: def
            .active_fields()
            .filter(|f| !def.title_fields.contains(&f.name))
            .cloned()
            .chain(
                ["created_at", "updated_at", "owner"]
                    .iter()
                    .filter_map(|n| system_field(n)),
            )
            .map(|f| {
                let shown = defs.iter().any(|d| d.name == f.name);
                (f.name.clone(), labels::field(tr, &def, &f), shown)
            })
            .collect(),
        hidden_view: view
            .iter()
            .filter(|(k, _)| k != "columns")
            .cloned()
            .chain((!sort.is_empty()).then(|| ("sort".to_string(), sort.clone())))
            .collect(),
        bulk_fields: def
            .active_fields()
            .filter(|f| {
                !matches!(
                    f.field_type,
                    FieldType::Relation | FieldType::MultiSelect | FieldType::LongText | FieldType::User
                )
            })
            .map(|f| Choice {
                value: f.name.clone(),
                label: labels::field(tr, &def, f),
                ops: String::new(),
            })
            .collect(),
        bulk_result: match (get("done"), get("failed")) {
            (Some(done), Some(failed)) => Some(tr.tn("bulk-done", &[("done", done), ("failed", failed)])),
            _ => None,
        },
        back: ui.path.clone(),
        trashed: get("trashed").filter(|t| anchora_core::RecordId::parse(t).is_some()),
        conditions,
        fields,
        ops,
        error,
        empty: tr.t1("list-empty", "objects", plural.to_lowercase()),
        next,
        first,
        counted,
        shell: ui.shell(&def.name),
    };
    ui.page(StatusCode::OK, page.render())
}

/// Save the list as it is now as a named view.
pub async fn save_view(Path(object): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> Response {
    use axum::response::IntoResponse;
    let get = |k: &str| super::form_value(&form, k);
    let query: Vec<(String, String)> = anchora_core::views::query_pairs(get("query"));
    match ui
        .authed
        .crm
        .save_view(
            &ui.authed.principal,
            &object,
            get("name"),
            &query,
            get("shared") == "on",
        )
        .await
    {
        Ok(v) => {
            let sep = if v.query.is_empty() { "" } else { "&" };
            axum::response::Redirect::to(&format!("/o/{object}?{}{sep}view={}", v.query, v.id)).into_response()
        }
        Err(e) => (
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.detail,
        )
            .into_response(),
    }
}

pub async fn delete_view(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form: _ }: Posted<Vec<(String, String)>>,
) -> Response {
    use axum::response::IntoResponse;
    match ui.authed.crm.delete_view(&ui.authed.principal, &id).await {
        Ok(()) => axum::response::Redirect::to(&format!("/o/{object}")).into_response(),
        Err(e) => (
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.detail,
        )
            .into_response(),
    }
}

/// Apply one action to the selected records. Each record is its own write with its own version:
/// ones changed by someone else meanwhile are left alone and counted, never overwritten.
pub async fn bulk(Path(object): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> Response {
    use axum::response::IntoResponse;
    let Some(def) = ui.object(&object) else {
        return super::not_found(&ui);
    };
    let get = |k: &str| super::form_value(&form, k);
    let action = get("action");
    if action == "export" {
        let ids: Vec<anchora_core::RecordId> = form
            .iter()
            .filter(|(k, _)| k == "ids")
            .filter_map(|(_, v)| v.split(':').next().and_then(anchora_core::RecordId::parse))
            .collect();
        return super::exports::export_selection(&ui, &def, ids).await;
    }
    let numbers = NumberFormat::of_locale(ui.tr.locale);
    let bulk_action = match action {
        "delete" => Some(BulkAction::Delete),
        "owner" => Some(BulkAction::Set(json!({"owner": get("owner")}))),
        "set" => def
            .field(get("field"))
            .map(|f| BulkAction::Set(json!({ f.name.clone(): form_value(f.field_type, get("value"), numbers) }))),
        _ => None,
    };
    // A key that is no "id:version" names no record this page showed: it counts as failed.
    let mut malformed = 0u32;
    let targets: Vec<BulkTarget> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, key)| match key.split_once(':') {
            Some((id, version)) => Some(BulkTarget {
                id: id.to_string(),
                version: version.parse::<i64>().ok(),
            }),
            None => {
                malformed += 1;
                None
            }
        })
        .collect();
    let (done, failed) = match bulk_action {
        Some(bulk_action) if !targets.is_empty() => {
            match ui
                .authed
                .crm
                .bulk(&ui.authed.principal, &def.name, &bulk_action, &targets)
                .await
            {
                Ok(report) => (report.changed, report.not_changed + malformed),
                Err(e) if e.code == ErrorCode::Forbidden => return (StatusCode::FORBIDDEN, e.detail).into_response(),
                Err(_) => (0, u32::try_from(targets.len()).unwrap_or(u32::MAX) + malformed),
            }
        }
        _ => (0, u32::try_from(targets.len()).unwrap_or(u32::MAX) + malformed),
    };
    let back = super::same_site_path(get("back"))
        .filter(|b| b.starts_with(&format!("/o/{}", def.name)))
        .unwrap_or("");
    let base = if back.is_empty() {
        format!("/o/{}", def.name)
    } else {
        back.to_string()
    };
    let base: String = base
        .split('&')
        .filter(|p| !p.starts_with("done=") && !p.starts_with("failed="))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if base.contains('?') { "&" } else { "?" };
    axum::response::Redirect::to(&format!("{base}{sep}done={done}&failed={failed}")).into_response()
}
