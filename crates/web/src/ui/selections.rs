//! Selections in the app: the ones the user may use, a builder that counts as it is built (a
//! filter as the list page writes it, other selections added or left out), a selection's
//! members, and the list page's "add ticked rows to a selection". Every count, check and
//! member comes from the selection use cases the API calls too.

use super::lists::{Choice, builder_ops, filter_fields};
use super::marketing::{FieldErrors, records, tabs};
use super::page_error::{OrNotFound, OrPage, PageResult};
use super::posted::Posted;
use super::{NavItem, Shell, Ui, form_value, labels};
use anchora_core::ErrorCode;
use anchora_core::auth::Permission;
use anchora_core::meta::ObjectDef;
use anchora_core::selections::SelectionView;
use anchora_core::views::{FilterRow, filter_of_rows, filter_rows, query_pairs, url_encode};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value as Json, json};

/// Members one page of a selection shows.
const MEMBER_PAGE: usize = 100;

/// One selection in the list.
pub struct SelectionRow {
    pub href: String,
    pub name: String,
    pub object: String,
    /// What it is made of, in words ("Filter · leaves out 1 selection").
    pub made_of: String,
    pub shared: bool,
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "ui/selections.html")]
struct SelectionsPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    rows: Vec<SelectionRow>,
    notice: Option<String>,
    error: Option<String>,
}

/// Another selection of the same object, to add or to leave out.
pub struct Part {
    pub id: String,
    pub name: String,
    pub included: bool,
    pub excluded: bool,
}

#[derive(Template)]
#[template(path = "ui/selection_new.html")]
struct BuilderPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    name: String,
    object: String,
    objects: Vec<(String, String)>,
    conditions: Vec<FilterRow>,
    fields: Vec<Choice>,
    ops: Vec<Choice>,
    /// Saved views of the object, to start from: (id, name).
    views: Vec<(String, String)>,
    parts: Vec<Part>,
    may_share: bool,
    shared: bool,
    /// How many records it holds as built so far.
    count: Option<String>,
    errors: FieldErrors,
}

pub struct Member {
    pub id: String,
    pub title: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "ui/selection.html")]
struct SelectionPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    id: String,
    object: String,
    object_label: String,
    shared: bool,
    may_change: bool,
    count: u64,
    count_text: String,
    /// The filter as rows the user reads: (field, operator, value).
    conditions: Vec<(String, String, String)>,
    /// A filter too intricate for rows, as its JSON.
    raw_filter: Option<String>,
    includes: Vec<(String, String)>,
    excludes: Vec<(String, String)>,
    members: Vec<Member>,
    range: Option<String>,
    next: Option<String>,
    previous: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// A new mailing to it (a selection of people, for those who may send mailings).
    mail_href: Option<String>,
    /// Document templates of its object, to print for each member: (id, name).
    documents: Vec<(String, String)>,
}

/// What a selection is made of, in words.
fn made_of(tr: &crate::i18n::Tr, s: &SelectionView) -> String {
    let s = &s.selection;
    let mut parts = vec![tr.t(if s.filter.is_some() {
        "selection-kind-filter"
    } else {
        "selection-kind-picked"
    })];
    if !s.include.is_empty() {
        parts.push(tr.counted("selection-adds", s.include.len(), &[]));
    }
    if !s.exclude.is_empty() {
        parts.push(tr.counted("selection-leaves-out", s.exclude.len(), &[]));
    }
    parts.join(" · ")
}

fn object_plural(ui: &Ui, object: &str) -> String {
    ui.object(object)
        .map(|o| labels::object_plural(&ui.tr, &o))
        .unwrap_or_else(|| object.to_string())
}

/// `/selections`: the selections the user may use, newest first.
pub async fn selections_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let found = ui.authed.crm.list_selections(&ui.authed.principal).await.or_page(&ui)?;
    let rows = found
        .iter()
        .map(|s| SelectionRow {
            href: format!("/selections/{}", s.selection.id),
            name: s.selection.name.clone(),
            object: object_plural(&ui, &s.selection.object),
            made_of: made_of(&ui.tr, s),
            shared: s.selection.shared,
            mine: s.selection.owner == ui.authed.user.id,
        })
        .collect();
    let page = SelectionsPage {
        shell: ui.shell("mailings"),
        title: ui.tr.t("selections-title"),
        tabs: tabs(&ui, "selections"),
        rows,
        notice: (form_value(&q, "deleted") == "1").then(|| ui.tr.t("selection-deleted")),
        error: Some(form_value(&q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty()),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// What the builder's form says.
struct Built {
    name: String,
    object: String,
    rows: Vec<FilterRow>,
    include: Vec<String>,
    exclude: Vec<String>,
    shared: bool,
}

impl Built {
    fn of(form: &[(String, String)]) -> Built {
        let all = |k: &str| -> Vec<String> {
            form.iter()
                .filter(|(key, v)| key == k && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect()
        };
        let object = Some(form_value(form, "object"))
            .filter(|o| !o.is_empty())
            .unwrap_or("person");
        // Another object than the form was built for: its conditions and parts do not apply.
        let same = form_value(form, "was_object").is_empty() || form_value(form, "was_object") == object;
        Built {
            name: form_value(form, "name").to_string(),
            object: object.to_string(),
            rows: if same { filter_rows(form) } else { Vec::new() },
            include: if same { all("include") } else { Vec::new() },
            exclude: if same { all("exclude") } else { Vec::new() },
            shared: form_value(form, "shared") == "on",
        }
    }

    /// The body the selection use cases take, named `name`.
    fn body(&self, def: &ObjectDef, name: &str, shared: bool) -> Json {
        json!({
            "name": name,
            "object": def.name,
            "filter": filter_of_rows(def, &self.rows),
            "include": self.include,
            "exclude": self.exclude,
            "shared": shared,
        })
    }
}

/// `/selections/new?object=…`: the builder, empty.
pub async fn new_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let built = Built::of(&q);
    let def = ui.object(&built.object).or_not_found(&ui)?;
    let count = count(&ui, &def, &built).await;
    let (count, errors) = match count {
        Ok(c) => (Some(c), FieldErrors::default()),
        Err(e) => (None, e),
    };
    let page = builder_view(&ui, &def, built, count, errors).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// How many records the selection as built holds for the user (nothing kept).
async fn count(ui: &Ui, def: &ObjectDef, built: &Built) -> Result<String, FieldErrors> {
    let name = if built.name.trim().is_empty() {
        ui.tr.t("selection-untitled")
    } else {
        built.name.clone()
    };
    // Sharing is decided when it is kept; the count is the same either way.
    let body = built.body(def, &name, false);
    match ui.authed.crm.preview_selection(&ui.authed.principal, body).await {
        Ok(n) => Ok(records(&ui.tr, n)),
        Err(e) => Err(errors_of(ui, &e)),
    }
}

fn errors_of(ui: &Ui, e: &anchora_core::Error) -> FieldErrors {
    let mut errors = FieldErrors::of(&ui.tr, e);
    if matches!(e.code, ErrorCode::InvalidFilter) {
        errors.by_field.insert("filter".into(), e.detail.clone());
    }
    errors
}

/// `POST /selections`: count the selection as built (any button but Save, and a change of
/// object or saved view), or keep it and go to its page.
pub async fn build(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let mut built = Built::of(&form);
    let def = ui.object(&built.object).or_not_found(&ui)?;
    let from_view = form_value(&form, "from_view");
    if !from_view.is_empty() {
        let views = ui
            .authed
            .crm
            .views(&ui.authed.principal, &def.name)
            .await
            .unwrap_or_default();
        if let Some(v) = views.iter().find(|v| v.id.to_string() == from_view) {
            built.rows = filter_rows(&query_pairs(&v.query));
        }
    }
    if form_value(&form, "step") == "save" {
        let body = built.body(&def, &built.name, built.shared);
        match ui.authed.crm.create_selection(&ui.authed.principal, body).await {
            Ok(view) => return Ok(Redirect::to(&format!("/selections/{}", view.selection.id)).into_response()),
            Err(e) if e.code == ErrorCode::Forbidden => return Err(super::page_error::PageError::forbidden(&ui)),
            Err(e) => {
                let errors = errors_of(&ui, &e);
                let count = count(&ui, &def, &built).await.ok();
                let page = builder_view(&ui, &def, built, count, errors).await;
                return Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()));
            }
        }
    }
    let (count, errors) = match count(&ui, &def, &built).await {
        Ok(c) => (Some(c), FieldErrors::default()),
        Err(e) => (None, e),
    };
    let page = builder_view(&ui, &def, built, count, errors).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

async fn builder_view(
    ui: &Ui,
    def: &ObjectDef,
    built: Built,
    count: Option<String>,
    errors: FieldErrors,
) -> BuilderPage {
    let tr = &ui.tr;
    let others = ui
        .authed
        .crm
        .list_selections(&ui.authed.principal)
        .await
        .unwrap_or_default();
    let views = ui
        .authed
        .crm
        .views(&ui.authed.principal, &def.name)
        .await
        .unwrap_or_default();
    BuilderPage {
        shell: ui.shell("mailings"),
        title: tr.t("selection-new"),
        tabs: tabs(ui, "selections"),
        object: def.name.clone(),
        objects: ui.object_choices(),
        conditions: built.rows,
        fields: filter_fields(tr, def),
        ops: builder_ops(tr),
        views: views.into_iter().map(|v| (v.id.to_string(), v.name)).collect(),
        parts: others
            .into_iter()
            .filter(|s| s.selection.object == def.name)
            .map(|s| {
                let id = s.selection.id.to_string();
                Part {
                    included: built.include.contains(&id),
                    excluded: built.exclude.contains(&id),
                    id,
                    name: s.selection.name,
                }
            })
            .collect(),
        may_share: ui.authed.principal.may(Permission::MassMail, &ui.schema.policy),
        shared: built.shared,
        name: built.name,
        count,
        errors,
    }
}

/// A filter the selection keeps, as rows a person reads, when it is one condition or an "and"
/// of them; else none (the page shows the JSON).
fn readable_filter(ui: &Ui, def: &ObjectDef, filter: &Json) -> Option<Vec<(String, String, String)>> {
    let leaves: Vec<&Json> = match filter.get("and").and_then(Json::as_array) {
        Some(all) => all.iter().collect(),
        None => vec![filter],
    };
    leaves
        .into_iter()
        .map(|leaf| {
            let field = leaf.get("field")?.as_str()?;
            let op = leaf.get("op")?.as_str()?;
            let label = def
                .field(field)
                .map(|f| labels::field(&ui.tr, def, f))
                .or_else(|| anchora_core::meta::system_field(field).map(|f| labels::field(&ui.tr, def, &f)))
                .unwrap_or_else(|| field.to_string());
            let value = match leaf.get("value") {
                Some(Json::String(s)) => s.clone(),
                Some(Json::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            Some((label, ui.tr.t(&format!("op-{op}")), value))
        })
        .collect()
}

/// `/selections/{id}`: what a selection is made of and who is in it, a page at a time.
pub async fn selection_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let crm = &ui.authed.crm;
    let view = crm.get_selection(&ui.authed.principal, &id).await.or_page(&ui)?;
    let members = crm.selection_members(&ui.authed.principal, &id).await.or_page(&ui)?;
    let at: usize = form_value(&q, "at").parse().unwrap_or(0).min(members.len());
    let shown: Vec<_> = members.iter().skip(at).take(MEMBER_PAGE).copied().collect();
    let titles = crm
        .titles(&ui.authed.principal, &view.selection.object, &shown)
        .await
        .unwrap_or_default();
    let names = part_names(&ui).await;
    let documents = crm
        .list_templates(&ui.authed.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            t.template.kind == anchora_core::templates::TemplateKind::Document
                && t.template.object == view.selection.object
        })
        .map(|t| (t.template.id.to_string(), t.template.name))
        .collect();
    let page = selection_view(&ui, view, &members, at, shown, &titles, &names, documents, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The names of the selections the user may use, by id.
async fn part_names(ui: &Ui) -> std::collections::HashMap<String, String> {
    ui.authed
        .crm
        .list_selections(&ui.authed.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.selection.id.to_string(), s.selection.name))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn selection_view(
    ui: &Ui,
    view: SelectionView,
    members: &[anchora_core::RecordId],
    at: usize,
    shown: Vec<anchora_core::RecordId>,
    titles: &std::collections::HashMap<anchora_core::RecordId, String>,
    names: &std::collections::HashMap<String, String>,
    documents: Vec<(String, String)>,
    q: &[(String, String)],
) -> SelectionPage {
    let tr = &ui.tr;
    let s = &view.selection;
    let def = ui.object(&s.object);
    let id = s.id.to_string();
    let (conditions, raw_filter) = match (&s.filter, &def) {
        (Some(f), Some(def)) => match readable_filter(ui, def, f) {
            Some(rows) => (rows, None),
            None => (Vec::new(), Some(f.to_string())),
        },
        (Some(f), None) => (Vec::new(), Some(f.to_string())),
        _ => (Vec::new(), None),
    };
    // A part the user may not use (someone else's suppression list) shows without a link.
    let part = |p: &anchora_core::SelectionId| {
        let key = p.to_string();
        match names.get(&key) {
            Some(name) => (format!("/selections/{key}"), name.clone()),
            None => (String::new(), tr.t("selection-part-hidden")),
        }
    };
    let total = members.len();
    let count = view.count.unwrap_or(total as u64);
    let range = (!shown.is_empty()).then(|| {
        tr.tn(
            "list-range",
            &[
                ("from", super::marketing::number(tr, at as u64 + 1)),
                ("to", super::marketing::number(tr, (at + shown.len()) as u64)),
                ("total", super::marketing::number(tr, total as u64)),
            ],
        )
    });
    let here = format!("/selections/{id}");
    let notice = match (
        form_value(q, "removed"),
        form_value(q, "picked"),
        form_value(q, "added"),
    ) {
        (n, _, _) if !n.is_empty() => Some(tr.t1("selection-removed", "n", n.to_string())),
        (_, n, _) if !n.is_empty() => Some(tr.t1("selection-picked", "n", n.to_string())),
        (_, _, "1") => Some(tr.t("selection-added")),
        _ => None,
    };
    SelectionPage {
        shell: ui.shell("mailings"),
        title: s.name.clone(),
        tabs: tabs(ui, "selections"),
        object: s.object.clone(),
        object_label: def
            .as_ref()
            .map_or_else(|| s.object.clone(), |d| labels::object_plural(tr, d)),
        shared: s.shared,
        may_change: view.may_change,
        count,
        count_text: records(tr, count),
        conditions,
        raw_filter,
        includes: s.include.iter().map(part).collect(),
        excludes: s.exclude.iter().map(part).collect(),
        members: shown
            .iter()
            .map(|r| Member {
                id: r.to_string(),
                title: titles
                    .get(r)
                    .cloned()
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "—".into()),
                href: format!("/o/{}/{r}", s.object),
            })
            .collect(),
        range,
        next: (at + MEMBER_PAGE < total).then(|| format!("{here}?at={}", at + MEMBER_PAGE)),
        previous: (at > 0).then(|| format!("{here}?at={}", at.saturating_sub(MEMBER_PAGE))),
        notice,
        error: Some(form_value(q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty()),
        mail_href: (s.object == anchora_core::gdpr::PERSON
            && ui.authed.principal.may(Permission::MassMail, &ui.schema.policy))
        .then(|| format!("/mailings/new?selection={id}")),
        documents,
        id,
    }
}

/// Back to a selection's page with an error to show.
fn back_with_error(id: &str, e: &anchora_core::Error) -> Response {
    Redirect::to(&format!(
        "/selections/{}?error={}",
        url_encode(id),
        url_encode(&super::admin::problem(e))
    ))
    .into_response()
}

/// The record ids a form ticked (`ids`, as `id` or `id:version`).
fn ticked(form: &[(String, String)]) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.split(':').next().map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect()
}

/// `POST /selections/{id}/remove`: take the ticked records out (those picked by hand).
pub async fn remove(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let before: u64 = form_value(&form, "count").parse().unwrap_or(0);
    let body = json!({ "records": ticked(&form) });
    let after = ui.authed.crm.pick_members(&ui.authed.principal, &id, body, true).await;
    let after = after.or_forbidden_else(&ui, |e| back_with_error(&id, &e))?;
    let removed = before.saturating_sub(after.count.unwrap_or(before));
    Ok(Redirect::to(&format!("/selections/{}?removed={removed}", url_encode(&id))).into_response())
}

/// `POST /selections/{id}/add`: pick one record in (found by name on the page).
pub async fn add(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let body = json!({ "records": [form_value(&form, "record")] });
    let added = ui.authed.crm.pick_members(&ui.authed.principal, &id, body, false).await;
    added.or_forbidden_else(&ui, |e| back_with_error(&id, &e))?;
    Ok(Redirect::to(&format!("/selections/{}?added=1", url_encode(&id))).into_response())
}

/// `POST /selections/{id}/delete`: let it go; one that others name stays, saying so.
pub async fn delete(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Vec<(String, String)>>) -> PageResult {
    let deleted = ui.authed.crm.delete_selection(&ui.authed.principal, &id).await;
    deleted.or_forbidden_else(&ui, |e| back_with_error(&id, &e))?;
    Ok(Redirect::to("/selections?deleted=1").into_response())
}

/// The selections of an object the user may change, for the list's bulk action: (id, name).
pub async fn changeable(ui: &Ui, object: &str) -> Vec<(String, String)> {
    ui.authed
        .crm
        .list_selections(&ui.authed.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.may_change && s.selection.object == object)
        .map(|s| (s.selection.id.to_string(), s.selection.name))
        .collect()
}

/// The list page's bulk action: the ticked records into a selection the user may change, or
/// into a new one by name; then that selection's page.
pub async fn add_ticked(ui: &Ui, def: &ObjectDef, form: &[(String, String)]) -> Response {
    let ids = ticked(form);
    let n = ids.len();
    let target = form_value(form, "selection");
    let done = if target.is_empty() || target == "new" {
        let body = json!({
            "name": form_value(form, "selection_name"),
            "object": def.name,
            "members": ids,
        });
        ui.authed.crm.create_selection(&ui.authed.principal, body).await
    } else {
        let body = json!({ "records": ids });
        ui.authed
            .crm
            .pick_members(&ui.authed.principal, target, body, false)
            .await
    };
    match done {
        Ok(view) => Redirect::to(&format!("/selections/{}?picked={n}", view.selection.id)).into_response(),
        Err(e) if e.code == ErrorCode::Forbidden => super::forbidden(ui),
        Err(e) => {
            Redirect::to(&format!("/selections?error={}", url_encode(&super::admin::problem(&e)))).into_response()
        }
    }
}

/// `/selections/{id}/print?template=…`: the chosen document template printed for each member.
pub async fn print(_ui: Ui, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> Response {
    Redirect::to(&format!(
        "/templates/{}/print?selection={}",
        url_encode(form_value(&q, "template")),
        url_encode(&id)
    ))
    .into_response()
}
