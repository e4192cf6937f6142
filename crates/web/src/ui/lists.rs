//! Record lists: chosen columns, sort by clicking a header, a filter builder whose conditions
//! live in the URL, keyset pages.

use super::page_error::{OrNotFound, PageError, PageResult};
use super::posted::Posted;
use super::{Cell, Resolver, Shell, Ui, labels};
use crate::i18n::Tr;
use anchora_core::ErrorCode;
use anchora_core::auth::{Permission, SchemaChange};
use anchora_core::filter::{Op, filter_field};
use anchora_core::identity::User;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, system_field};
use anchora_core::record::Record;
use anchora_core::service::{ListParams, Page as ListedPage, Total};
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
    /// The drill-down filter a report's figure linked with, and the link that leaves it out.
    report_filter: Option<(String, String)>,
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
    /// Selections of this object the user may add ticked rows to: (id, name).
    selections: Vec<(String, String)>,
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
use anchora_core::views::{FilterRow, SavedView, filter_of_rows, filter_rows, query_string};

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

pub async fn list_page(ui: Ui, Path(object): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let state = ListState::of(&q);
    let params = state.params(&def, query_value(&q, "cursor"));
    let read = ui.authed.crm.list(&ui.authed.principal, &def.name, &params).await;
    let (page, error) = page_or_mistake(&ui, read)?;
    let records = page.as_ref().map(|p| p.records.clone()).unwrap_or_default();
    let resolver = Resolver::for_records(&ui, &def, &records).await;
    let saved = ui.authed.crm.views(&ui.authed.principal, &def.name).await;
    let users = ui.authed.crm.users(&ui.authed.principal).await;
    let (saved, users) = (saved.unwrap_or_default(), users.unwrap_or_default());
    let selections = super::selections::changeable(&ui, &def.name).await;
    let loaded = Loaded {
        page,
        error,
        resolver,
        saved,
        users,
    };
    let mut page = list_view(&ui, &def, &state, &q, loaded);
    page.selections = selections;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The page of records read, or the mistake in the URL (filter, sort, cursor) that kept it
/// from being read, shown on the page; anything else is the unavailable page.
fn page_or_mistake<T>(
    ui: &Ui,
    read: anchora_core::Result<(T, ListedPage)>,
) -> Result<(Option<ListedPage>, Option<String>), PageError> {
    match read {
        Ok((_, page)) => Ok((Some(page), None)),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidFilter
                    | ErrorCode::InvalidSort
                    | ErrorCode::InvalidCursor
                    | ErrorCode::ValidationFailed
            ) =>
        {
            Ok((None, Some(e.detail)))
        }
        Err(e) => {
            tracing::error!(error = %e, "a list could not be read");
            Err(ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new())).into())
        }
    }
}

/// A query parameter's value, if the request has it.
fn query_value(q: &[(String, String)], k: &str) -> Option<String> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
}

/// What the URL says the list is: its filter rows, its sort and its columns.
struct ListState {
    conditions: Vec<FilterRow>,
    /// Filter-language JSON from a report's drill-down link, ANDed with the rows.
    report_filter: Option<String>,
    sort: String,
    columns: Option<String>,
    /// Everything that defines the view, without the cursor: kept by sort and paging links.
    view: Vec<(String, String)>,
}

impl ListState {
    fn of(q: &[(String, String)]) -> ListState {
        let conditions = filter_rows(q);
        let sort = query_value(q, "sort").unwrap_or_default();
        // The column chooser sends one `col` per ticked field; links carry them as `columns=a,b`.
        let ticked: Vec<String> = q.iter().filter(|(k, _)| k == "col").map(|(_, v)| v.clone()).collect();
        let columns = if ticked.is_empty() {
            query_value(q, "columns")
        } else {
            Some(ticked.join(","))
        };
        let report_filter = query_value(q, "filter").filter(|f| !f.trim().is_empty());
        let mut view: Vec<(String, String)> = Vec::new();
        if let Some(c) = &columns {
            view.push(("columns".into(), c.clone()));
        }
        for c in &conditions {
            view.push(("ff".into(), c.field.clone()));
            view.push(("fo".into(), c.op.clone()));
            view.push(("fv".into(), c.value.clone()));
        }
        if let Some(f) = &report_filter {
            view.push(("filter".into(), f.clone()));
        }
        ListState {
            conditions,
            report_filter,
            sort,
            columns,
            view,
        }
    }

    /// The page of records to read, counted.
    fn params(&self, def: &ObjectDef, cursor: Option<String>) -> ListParams {
        ListParams {
            filter: self.filter(def),
            sort: Some(self.sort.clone()),
            limit: Some(PAGE_SIZE.into()),
            cursor,
            trash: false,
            count: true,
        }
    }

    /// The rows' filter and a report's, both applying. A report's filter that is no JSON is
    /// handed on as it came, so the list says what is wrong with it as with any filter.
    fn filter(&self, def: &ObjectDef) -> Option<String> {
        let rows = filter_of_rows(def, &self.conditions);
        let Some(text) = &self.report_filter else {
            return rows.map(|f| f.to_string());
        };
        match (rows, serde_json::from_str::<serde_json::Value>(text)) {
            (Some(rows), Ok(report)) => Some(json!({ "and": [rows, report] }).to_string()),
            (None, Ok(report)) => Some(report.to_string()),
            (_, Err(_)) => Some(text.clone()),
        }
    }

    /// The list without the report's filter: the link that leaves it out.
    fn without_report_filter(&self, def: &ObjectDef) -> String {
        let pairs: Vec<(String, String)> = (self.with_sort().into_iter()).filter(|(k, _)| k != "filter").collect();
        if pairs.is_empty() {
            format!("/o/{}", def.name)
        } else {
            format!("/o/{}?{}", def.name, query_string(&pairs))
        }
    }

    /// The view and its sort: what paging links and saved views keep.
    fn with_sort(&self) -> Vec<(String, String)> {
        let mut pairs = self.view.clone();
        if !self.sort.is_empty() {
            pairs.push(("sort".into(), self.sort.clone()));
        }
        pairs
    }

    /// The link that sorts the list by `next_sort`, keeping the view.
    fn sort_href(&self, def: &ObjectDef, next_sort: String) -> String {
        let mut pairs = self.view.clone();
        pairs.push(("sort".into(), next_sort));
        format!("/o/{}?{}", def.name, query_string(&pairs))
    }
}

/// What the list page shows, read before it is built.
struct Loaded {
    page: Option<ListedPage>,
    error: Option<String>,
    resolver: Resolver,
    saved: Vec<SavedView>,
    users: Vec<User>,
}

/// A column's sort state and the sort its header link asks for next (toggling direction).
fn sort_toggle(sort: &str, name: &str) -> (&'static str, String) {
    if sort == name {
        ("ascending", format!("-{name}"))
    } else if sort == format!("-{name}") {
        ("descending", name.to_string())
    } else {
        ("", name.to_string())
    }
}

/// The columns' headers: the record's title first, linking to it, then the chosen fields.
fn columns(tr: &Tr, def: &ObjectDef, state: &ListState, defs: &[FieldDef]) -> Vec<Column> {
    let title_sort = def
        .title_fields
        .first()
        .and_then(|t| filter_field(def, t))
        .map(|f| f.name);
    let (sorted, next_sort) = title_sort
        .as_ref()
        .map_or(("", String::new()), |t| sort_toggle(&state.sort, t));
    let title = Column {
        name: "title".into(),
        label: labels::object(tr, def),
        numeric: false,
        sort_href: title_sort.as_ref().map(|_| state.sort_href(def, next_sort)),
        sorted,
    };
    std::iter::once(title)
        .chain(defs.iter().map(|f| {
            let sortable = filter_field(def, &f.name).is_some_and(|f| f.field_type.indexable());
            let (sorted, next_sort) = sort_toggle(&state.sort, &f.name);
            Column {
                name: f.name.clone(),
                label: labels::field(tr, def, f),
                numeric: super::format::is_numeric(f.field_type),
                sort_href: sortable.then(|| state.sort_href(def, next_sort)),
                sorted,
            }
        }))
        .collect()
}

/// The records as rows: the title (a dash when empty), then each column's value.
fn rows(tr: &Tr, def: &ObjectDef, records: &[Record], defs: &[FieldDef], resolver: &Resolver) -> Vec<Row> {
    records
        .iter()
        .map(|r| {
            let title = Cell {
                text: Some(r.title(def))
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "—".into()),
                href: None,
                numeric: false,
            };
            Row {
                key: format!("{}:{}", r.id, r.version),
                href: format!("/o/{}/{}", def.name, r.id),
                cells: std::iter::once(title)
                    .chain(defs.iter().map(|f| resolver.cell(tr, def, f, r)))
                    .collect(),
            }
        })
        .collect()
}

/// The links to the next and the first page, and where this page is in the list ("1–50 of
/// 4,213").
fn paging(
    tr: &Tr,
    def: &ObjectDef,
    state: &ListState,
    page: Option<&ListedPage>,
    q: &[(String, String)],
) -> (Option<String>, Option<String>, Option<String>) {
    let base = state.with_sort();
    // Where this page starts in the list (the cursor alone cannot say): carried by "next".
    let from: u64 = query_value(q, "at")
        .and_then(|a| a.parse().ok())
        .filter(|a| (1..=anchora_core::service::COUNT_CAP * 100).contains(a))
        .unwrap_or(1);
    let shown = page.map_or(0, |p| p.records.len() as u64);
    let next = page.and_then(|p| p.next_cursor.clone()).map(|c| {
        let mut pairs = base.clone();
        pairs.push(("cursor".into(), c));
        pairs.push(("at".into(), from.saturating_add(shown).to_string()));
        format!("/o/{}?{}", def.name, query_string(&pairs))
    });
    let counted = page
        .and_then(|p| p.total)
        .filter(|_| shown > 0)
        .map(|total| counted(tr, from, shown, total));
    let first = query_value(q, "cursor").map(|_| format!("/o/{}?{}", def.name, query_string(&base)));
    (next, first, counted)
}

/// "1–50 of 4,213", or "of more than" when the count stopped at its cap.
fn counted(tr: &Tr, from: u64, shown: u64, total: Total) -> String {
    let range = [
        ("from", super::format::number(tr.locale, from as f64, 0)),
        (
            "to",
            super::format::number(tr.locale, (from + shown).saturating_sub(1) as f64, 0),
        ),
        ("total", super::format::number(tr.locale, total.count as f64, 0)),
    ];
    if total.more {
        tr.tn("list-range-more", &range)
    } else {
        tr.tn("list-range", &range)
    }
}

/// The fields the filter builder offers, system fields last, with the operators each takes.
pub(super) fn filter_fields(tr: &Tr, def: &ObjectDef) -> Vec<Choice> {
    def.active_fields()
        .filter(|f| f.filterable)
        .cloned()
        .chain(
            ["created_at", "updated_at", "owner"]
                .iter()
                .filter_map(|n| system_field(n)),
        )
        .map(|f| Choice {
            label: labels::field(tr, def, &f),
            ops: ops_for(f.field_type),
            value: f.name,
        })
        .collect()
}

/// Every operator of the filter builder, in words.
pub(super) fn builder_ops(tr: &Tr) -> Vec<Choice> {
    Op::BUILDER
        .iter()
        .map(|o| Choice {
            value: o.as_str().to_string(),
            label: tr.t(&format!("op-{}", o.as_str())),
            ops: String::new(),
        })
        .collect()
}

/// The saved views as links; the one the URL names is current.
fn view_links(
    ui: &Ui,
    def: &ObjectDef,
    saved: Vec<SavedView>,
    current: Option<&str>,
    may_share: bool,
) -> Vec<ViewLink> {
    saved
        .into_iter()
        .map(|v| ViewLink {
            href: format!(
                "/o/{}?{}{}view={}",
                def.name,
                v.query,
                if v.query.is_empty() { "" } else { "&" },
                v.id
            ),
            current: current == Some(v.id.to_string().as_str()),
            deletable: v.owner == ui.authed.user.id || may_share,
            id: v.id.to_string(),
            name: v.name,
            shared: v.shared,
        })
        .collect()
}

/// Every field the column chooser offers, ticked when shown.
fn column_choices(tr: &Tr, def: &ObjectDef, defs: &[FieldDef]) -> Vec<(String, String, bool)> {
    def.active_fields()
        .filter(|f| !def.title_fields.contains(&f.name))
        .cloned()
        .chain(
            ["created_at", "updated_at", "owner"]
                .iter()
                .filter_map(|n| system_field(n)),
        )
        .map(|f| {
            let shown = defs.iter().any(|d| d.name == f.name);
            (f.name.clone(), labels::field(tr, def, &f), shown)
        })
        .collect()
}

/// The fields a bulk edit may set: one value for many records.
fn bulk_fields(tr: &Tr, def: &ObjectDef) -> Vec<Choice> {
    def.active_fields()
        .filter(|f| {
            !matches!(
                f.field_type,
                FieldType::Relation | FieldType::MultiSelect | FieldType::LongText | FieldType::User
            )
        })
        .map(|f| Choice {
            value: f.name.clone(),
            label: labels::field(tr, def, f),
            ops: String::new(),
        })
        .collect()
}

fn list_view(ui: &Ui, def: &ObjectDef, state: &ListState, q: &[(String, String)], loaded: Loaded) -> ListPage {
    let tr = &ui.tr;
    let get = |k: &str| query_value(q, k);
    let defs = column_defs(def, state.columns.as_deref());
    let records = loaded.page.as_ref().map(|p| p.records.as_slice()).unwrap_or_default();
    let (next, first, counted) = paging(tr, def, state, loaded.page.as_ref(), q);
    let policy = &ui.schema.policy;
    let may_share = (ui.authed.principal).may(Permission::ChangeSchema(SchemaChange::SharedViews), policy);
    let plural = labels::object_plural(tr, def);
    ListPage {
        title: plural.clone(),
        object: def.name.clone(),
        new_label: tr.t1("list-new", "object", labels::object_in_sentence(tr, def)),
        columns: columns(tr, def, state, &defs),
        rows: rows(tr, def, records, &defs, &loaded.resolver),
        filtered: !state.conditions.is_empty() || state.report_filter.is_some(),
        report_filter: (state.report_filter.clone()).map(|f| (f, state.without_report_filter(def))),
        board: super::board::has_board(def),
        views: view_links(ui, def, loaded.saved, get("view").as_deref(), may_share),
        current_query: anchora_core::views::view_query(&state.with_sort()),
        may_share,
        may_export: ui.authed.principal.may(Permission::Export, policy),
        users: (loaded.users.into_iter())
            .filter(|u| u.active && u.email.is_some())
            .map(|u| (u.id.to_string(), u.name))
            .collect(),
        column_choices: column_choices(tr, def, &defs),
        hidden_view: state.with_sort().into_iter().filter(|(k, _)| k != "columns").collect(),
        bulk_fields: bulk_fields(tr, def),
        bulk_result: match (get("done"), get("failed")) {
            (Some(done), Some(failed)) => Some(tr.tn("bulk-done", &[("done", done), ("failed", failed)])),
            _ => None,
        },
        selections: Vec::new(),
        back: ui.path.clone(),
        trashed: get("trashed").filter(|t| anchora_core::RecordId::parse(t).is_some()),
        conditions: state.conditions.clone(),
        fields: filter_fields(tr, def),
        ops: builder_ops(tr),
        error: loaded.error,
        empty: tr.t1("list-empty", "objects", plural.to_lowercase()),
        next,
        first,
        counted,
        shell: ui.shell(&def.name),
    }
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
pub async fn bulk(Path(object): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    use axum::response::IntoResponse;
    let def = ui.object(&object).or_not_found(&ui)?;
    if super::form_value(&form, "action") == "export" {
        return Ok(super::exports::export_selection(&ui, &def, export_ids(&form)).await);
    }
    if super::form_value(&form, "action") == "selection" {
        return Ok(super::selections::add_ticked(&ui, &def, &form).await);
    }
    let action = bulk_action(&def, &form, NumberFormat::of_locale(ui.tr.locale));
    let (targets, malformed) = bulk_targets(&form);
    let not_done = u32::try_from(targets.len()).unwrap_or(u32::MAX) + malformed;
    let (done, failed) = match action {
        Some(action) if !targets.is_empty() => {
            match ui
                .authed
                .crm
                .bulk(&ui.authed.principal, &def.name, &action, &targets)
                .await
            {
                Ok(report) => (report.changed, report.not_changed + malformed),
                Err(e) if e.code == ErrorCode::Forbidden => {
                    return Ok((StatusCode::FORBIDDEN, e.detail).into_response());
                }
                Err(_) => (0, not_done),
            }
        }
        _ => (0, not_done),
    };
    let back = bulk_back(&def, super::form_value(&form, "back"));
    let sep = if back.contains('?') { "&" } else { "?" };
    Ok(axum::response::Redirect::to(&format!("{back}{sep}done={done}&failed={failed}")).into_response())
}

/// The ticked records to export, by id.
fn export_ids(form: &[(String, String)]) -> Vec<anchora_core::RecordId> {
    form.iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.split(':').next().and_then(anchora_core::RecordId::parse))
        .collect()
}

/// The change the form asks for, with a value typed as the user's language writes numbers.
fn bulk_action(def: &ObjectDef, form: &[(String, String)], numbers: NumberFormat) -> Option<BulkAction> {
    let get = |k: &str| super::form_value(form, k);
    match get("action") {
        "delete" => Some(BulkAction::Delete),
        "owner" => Some(BulkAction::Set(json!({"owner": get("owner")}))),
        "set" => def
            .field(get("field"))
            .map(|f| BulkAction::Set(json!({ f.name.clone(): form_value(f.field_type, get("value"), numbers) }))),
        _ => None,
    }
}

/// The ticked records at the versions the page showed, and how many keys named none.
fn bulk_targets(form: &[(String, String)]) -> (Vec<BulkTarget>, u32) {
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
    (targets, malformed)
}

/// The list the form came from (when it is this object's), without an earlier outcome.
fn bulk_back(def: &ObjectDef, back: &str) -> String {
    let back = super::same_site_path(back)
        .filter(|b| b.starts_with(&format!("/o/{}", def.name)))
        .unwrap_or("");
    let base = if back.is_empty() {
        format!("/o/{}", def.name)
    } else {
        back.to_string()
    };
    base.split('&')
        .filter(|p| !p.starts_with("done=") && !p.starts_with("failed="))
        .collect::<Vec<_>>()
        .join("&")
}
