//! Record pages (fields, timeline, history, quick actions) and the forms that create and change
//! records. A stale edit shows the other person's change instead of overwriting it.

use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Cell, Resolver, Shell, Ui, labels};
use crate::i18n::Tr;
use anchora_core::dedupe::Match;
use anchora_core::identity::User;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef};
use anchora_core::number::NumberFormat;
use anchora_core::record::form_value;
use anchora_core::record::{Change, ChangeOp, Record};
use anchora_core::service::Page as ListedPage;
use anchora_core::value::Value;
use anchora_core::{Error, ErrorCode, RecordId};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value as Json, json};

const TIMELINE: u32 = 100;
const HISTORY: usize = 30;

pub struct FieldView {
    pub name: String,
    pub label: String,
    pub cell: Cell,
}

pub struct TimelineEntry {
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub when: String,
    pub iso: String,
    pub who: String,
    pub href: String,
    pub done: bool,
}

pub struct HistoryEntry {
    pub when: String,
    pub who: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "ui/record.html")]
struct RecordPage {
    shell: Shell,
    title: String,
    object: String,
    object_label: String,
    id: String,
    version: i64,
    fields: Vec<FieldView>,
    timeline: Vec<TimelineEntry>,
    history: Vec<HistoryEntry>,
    created: String,
    quick_kinds: Vec<(String, String)>,
    has_timeline: bool,
    related: Vec<Related>,
    editable: Vec<InlineField>,
    /// A person's consent to each purpose.
    consents: Option<super::consent::ConsentsView>,
}

/// Records of another object that point at this one (a company's people and deals).
pub struct Related {
    pub title: String,
    pub object: String,
    pub field: String,
    pub id: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<Cell>)>,
    pub more: bool,
}

/// How a field can be edited in place on the record page.
pub struct InlineField {
    pub name: String,
    /// text, number, date, email, tel, url — others open the full form.
    pub kind: &'static str,
    pub value: String,
}

const RELATED_ROWS: &str = "10";

/// The records of other objects that point at this one, a few of each, newest first.
async fn related(ui: &Ui, def: &ObjectDef, record: &Record, resolver: &mut Resolver) -> Vec<Related> {
    let mut out = Vec::new();
    for other in ui.schema.objects.values().filter(|o| !o.archived && !o.is_activity()) {
        for f in other
            .active_fields()
            .filter(|f| f.field_type == FieldType::Relation && f.target.as_deref() == Some(def.name.as_str()))
        {
            let params = related_params(f, record);
            let Ok((_, page)) = ui.authed.crm.list(&ui.authed.principal, &other.name, &params).await else {
                continue;
            };
            if page.records.is_empty() {
                continue;
            }
            resolver.add_titles(ui, other, &page.records).await;
            out.push(related_view(&ui.tr, def, record, other, f, &page, resolver));
        }
    }
    out
}

/// The newest records whose field `f` points at `record`.
fn related_params(f: &FieldDef, record: &Record) -> anchora_core::service::ListParams {
    anchora_core::service::ListParams {
        filter: Some(json!({"field": f.name, "op": "eq", "value": record.id.to_string()}).to_string()),
        sort: Some("-updated_at".into()),
        limit: Some(RELATED_ROWS.into()),
        cursor: None,
        trash: false,
        count: false,
    }
}

/// One table of related records: their titles and a few short fields.
fn related_view(
    tr: &Tr,
    def: &ObjectDef,
    record: &Record,
    other: &ObjectDef,
    f: &FieldDef,
    page: &ListedPage,
    resolver: &Resolver,
) -> Related {
    let shown: Vec<&FieldDef> = other
        .active_fields()
        .filter(|c| {
            c.name != f.name
                && !other.title_fields.contains(&c.name)
                && !matches!(c.field_type, FieldType::LongText | FieldType::Relation)
        })
        .take(3)
        .collect();
    Related {
        title: if other
            .fields
            .iter()
            .filter(|x| x.target.as_deref() == Some(def.name.as_str()))
            .count()
            > 1
        {
            format!("{} · {}", labels::object_plural(tr, other), labels::field(tr, other, f))
        } else {
            labels::object_plural(tr, other)
        },
        object: other.name.clone(),
        field: f.name.clone(),
        id: record.id.to_string(),
        columns: shown.iter().map(|c| labels::field(tr, other, c)).collect(),
        rows: page
            .records
            .iter()
            .map(|r| {
                (
                    format!("/o/{}/{}", other.name, r.id),
                    std::iter::once(Cell {
                        text: r.title(other),
                        href: None,
                        numeric: false,
                    })
                    .chain(shown.iter().map(|c| resolver.cell(tr, other, c, r)))
                    .collect(),
                )
            })
            .collect(),
        more: page.next_cursor.is_some(),
    }
}

/// One input of a record form.
pub struct Input {
    pub name: String,
    pub label: String,
    /// text, textarea, number, date, datetime-local, email, tel, url, checkbox, select, relation
    pub kind: &'static str,
    pub value: String,
    /// For relations: the related record's title, shown while the id travels hidden.
    pub display: String,
    pub target: String,
    pub checked: bool,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    /// The value this user typed, when someone else's change won (a conflict).
    pub yours: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/form.html")]
struct FormPage {
    shell: Shell,
    title: String,
    action: String,
    cancel: String,
    save_label: String,
    version: i64,
    inputs: Vec<Input>,
    error: Option<String>,
    conflict: Option<String>,
    /// Records the new one may duplicate: (title, link, why), shown before it is saved.
    duplicates: Vec<(String, String, String)>,
}

impl Input {
    /// Whether a multi-select holds this choice.
    pub fn has(&self, choice: &str) -> bool {
        self.value.split(',').any(|v| v == choice)
    }
}

fn input_kind(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::LongText => "textarea",
        FieldType::Number | FieldType::Money | FieldType::Percent => "number",
        FieldType::Date => "date",
        FieldType::Datetime => "datetime-local",
        FieldType::Boolean => "checkbox",
        FieldType::Select | FieldType::User => "select",
        FieldType::MultiSelect => "multiselect",
        FieldType::Email => "email",
        FieldType::Phone => "tel",
        FieldType::Url => "url",
        FieldType::Relation => "relation",
    }
}

/// A value as a form input holds it (dates as ISO, numbers with a dot).
fn input_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(s) | Value::Select(s) => s.clone(),
        Value::Number(n) | Value::Percent(n) => n.to_string(),
        Value::Money(m) => format!("{}.{:02}", m / 100, (m % 100).abs()),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::DateTime(t) => t.format("%Y-%m-%dT%H:%M").to_string(),
        Value::Bool(b) => b.to_string(),
        Value::MultiSelect(items) => items.join(","),
        Value::Relation(id) => id.to_string(),
        Value::User(u) => u.to_string(),
    }
}

async fn inputs(
    ui: &Ui,
    object: &ObjectDef,
    record: Option<&Record>,
    errors: &[anchora_core::FieldError],
) -> Vec<Input> {
    let resolver = Resolver::for_records(ui, object, record.map(std::slice::from_ref).unwrap_or_default()).await;
    object
        .active_fields()
        .map(|f| input(&ui.tr, object, f, record, errors, &resolver))
        .collect()
}

/// One field's input: its value, choices, and the message of a refused save.
fn input(
    tr: &Tr,
    object: &ObjectDef,
    f: &FieldDef,
    record: Option<&Record>,
    errors: &[anchora_core::FieldError],
    resolver: &Resolver,
) -> Input {
    let value = record.map(|r| r.get(&f.name).clone()).unwrap_or(Value::Null);
    // A relation to a record this user may not see is shown as such and not posted, so
    // saving the form leaves it as it is.
    let withheld = record.is_some_and(|r| r.withheld.fields.contains(&f.name));
    let display = match (&value, record) {
        (Value::Relation(_), Some(r)) => resolver.cell(tr, object, f, r).text,
        _ if withheld => tr.t("record-withheld"),
        _ => String::new(),
    };
    Input {
        name: f.name.clone(),
        label: labels::field(tr, object, f),
        kind: if withheld { "withheld" } else { input_kind(f.field_type) },
        checked: matches!(value, Value::Bool(true)),
        value: input_value(&value),
        display,
        target: f.target.clone().unwrap_or_default(),
        required: f.required,
        options: input_options(tr, object, f, &resolver.people),
        error: errors
            .iter()
            .find(|e| e.field == f.name)
            .map(|e| super::field_message(tr, &e.message)),
        yours: None,
    }
}

/// What a picklist or user field offers: its choices, or the active users.
fn input_options(tr: &Tr, object: &ObjectDef, f: &FieldDef, users: &[User]) -> Vec<(String, String)> {
    match f.field_type {
        FieldType::Select | FieldType::MultiSelect => f
            .choices
            .iter()
            .map(|c| (c.value.clone(), labels::choice(tr, object, f, &c.value)))
            .collect(),
        FieldType::User => users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Turn a submitted form into the JSON the CRM takes ([`form_value`]): an unchecked box is
/// false, a multi-select every ticked option.
fn form_json(locale: &str, object: &ObjectDef, form: &[(String, String)]) -> Json {
    let numbers = NumberFormat::of_locale(locale);
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut out = Map::new();
    for f in object.active_fields() {
        let json = match (f.field_type, get(&f.name)) {
            (FieldType::Boolean, None) => Json::Bool(false),
            (_, None) => continue,
            (FieldType::MultiSelect, _) => json!(
                form.iter()
                    .filter(|(k, v)| k == &f.name && !v.is_empty())
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
            ),
            (t, Some(v)) => form_value(t, v, numbers),
        };
        out.insert(f.name.clone(), json);
    }
    Json::Object(out)
}

/// The record a page shows, as the caller may see it: the not-found page for an unknown
/// object or a record out of sight, the unavailable page when the store fails.
async fn shown_record(ui: &Ui, object: &str, id: &str) -> Result<(ObjectDef, Record), PageError> {
    let def = ui.object(object).or_not_found(ui)?;
    let (_, record) = ui
        .authed
        .crm
        .get(&ui.authed.principal, &def.name, id)
        .await
        .or_not_found_else(ui, |e| unavailable(ui, &e))?;
    Ok((def, record))
}

pub async fn record_page(
    ui: Ui,
    Path((object, id)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> PageResult {
    let (def, record) = shown_record(&ui, &object, &id).await?;
    note_visit(&ui, &def, &record);
    let mut resolver = Resolver::for_records(&ui, &def, std::slice::from_ref(&record)).await;
    let fields = field_views(&ui.tr, &def, &record, &resolver);
    let timeline = timeline(&ui, &def, &record, &resolver).await;
    let history = history(&ui, &def, &record, &resolver).await;
    let related = related(&ui, &def, &record, &mut resolver).await;
    let consents = super::consent::consents_view(&ui, &def.name, &id, &query).await;
    let parts = RecordParts {
        fields,
        timeline,
        history,
        related,
        consents,
    };
    Ok(ui.page(
        StatusCode::OK,
        record_view(&ui, &def, &record, &resolver, parts).render(),
    ))
}

/// Note that the user opened the record (for the start page's recent records).
fn note_visit(ui: &Ui, def: &ObjectDef, record: &Record) {
    // Noted beside the page, not before it: on SQLite a write may wait its turn behind an
    // import's batch, and the page is worth more than the note on the start page.
    let (crm, who, object, id) = (
        ui.authed.crm.clone(),
        ui.authed.principal.clone(),
        def.name.clone(),
        record.id,
    );
    let at = crm.clock.now();
    tokio::spawn(async move {
        if let Err(e) = crm.note_visit(&who, &object, id, at).await {
            tracing::warn!(error = %e, "a record visit was not noted");
        }
    });
}

/// The record's fields, each with its label and shown value.
fn field_views(tr: &Tr, def: &ObjectDef, record: &Record, resolver: &Resolver) -> Vec<FieldView> {
    def.active_fields()
        .map(|f| FieldView {
            name: f.name.clone(),
            label: labels::field(tr, def, f),
            cell: resolver.cell(tr, def, f, record),
        })
        .collect()
}

/// The activities linked to the record, for objects that have a timeline.
async fn timeline(ui: &Ui, def: &ObjectDef, record: &Record, resolver: &Resolver) -> Vec<TimelineEntry> {
    let Some(activity) = activity_object(ui).filter(|_| !def.is_activity()) else {
        return Vec::new();
    };
    ui.authed
        .crm
        .timeline(&ui.authed.principal, &def.name, record.id, TIMELINE)
        .await
        .unwrap_or_default()
        .iter()
        .map(|a| timeline_entry(ui, activity, a, resolver))
        .collect()
}

/// The workspace's activity object, if it has one.
fn activity_object(ui: &Ui) -> Option<&ObjectDef> {
    ui.schema.objects.values().find(|o| o.is_activity())
}

/// What the record page shows beside the record itself, read before it is built.
struct RecordParts {
    fields: Vec<FieldView>,
    timeline: Vec<TimelineEntry>,
    history: Vec<HistoryEntry>,
    related: Vec<Related>,
    consents: Option<super::consent::ConsentsView>,
}

fn record_view(ui: &Ui, def: &ObjectDef, record: &Record, resolver: &Resolver, parts: RecordParts) -> RecordPage {
    let tr = &ui.tr;
    let created = tr.tn(
        "record-created-by",
        &[
            ("when", tr.datetime(record.created_at)),
            ("who", resolver.user(record.created_by)),
        ],
    );
    RecordPage {
        title: record.title(def),
        object: def.name.clone(),
        object_label: labels::object(tr, def),
        id: record.id.to_string(),
        version: record.version,
        fields: parts.fields,
        has_timeline: activity_object(ui).is_some() && !def.is_activity(),
        related: parts.related,
        editable: inline_fields(def, record),
        consents: parts.consents,
        timeline: parts.timeline,
        history: parts.history,
        created,
        quick_kinds: quick_kinds(tr),
        shell: ui.shell(&def.name),
    }
}

/// The fields that can be edited in place, with the input each takes.
fn inline_fields(def: &ObjectDef, record: &Record) -> Vec<InlineField> {
    def.active_fields()
        .filter_map(|f| {
            let kind = match f.field_type {
                FieldType::Text => "text",
                FieldType::Email => "email",
                FieldType::Phone => "tel",
                FieldType::Url => "url",
                FieldType::Date => "date",
                FieldType::Number | FieldType::Money | FieldType::Percent => "number",
                _ => return None,
            };
            Some(InlineField {
                name: f.name.clone(),
                kind,
                value: input_value(record.get(&f.name)),
            })
        })
        .collect()
}

/// The quick actions' kinds of activity and their buttons' words.
fn quick_kinds(tr: &Tr) -> Vec<(String, String)> {
    ["call", "note", "task"]
        .iter()
        .map(|k| {
            let key = match *k {
                "call" => "quick-log-call",
                "note" => "quick-add-note",
                _ => "quick-follow-up",
            };
            ((*k).to_string(), tr.t(key))
        })
        .collect()
}

fn timeline_entry(ui: &Ui, activity: &ObjectDef, a: &Record, resolver: &Resolver) -> TimelineEntry {
    let tr = &ui.tr;
    let kind = match (a.get("type"), activity.field("type")) {
        (Value::Select(t), Some(f)) => labels::choice(tr, activity, f, t),
        _ => String::new(),
    };
    let text = |name: &str| a.get(name).to_text().unwrap_or_default();
    TimelineEntry {
        kind,
        subject: text("subject"),
        body: text("body"),
        when: tr.datetime(a.created_at),
        iso: a.created_at.to_rfc3339(),
        who: resolver.user(a.created_by),
        href: format!("/o/{}/{}", activity.name, a.id),
        done: matches!(a.get("done"), Value::Bool(true)),
    }
}

async fn history(ui: &Ui, def: &ObjectDef, record: &Record, resolver: &Resolver) -> Vec<HistoryEntry> {
    let changes = ui
        .authed
        .crm
        .history(
            &ui.authed.principal,
            &def.name,
            &record.id.to_string(),
            None,
            Some("500"),
        )
        .await
        .unwrap_or_default();
    changes
        .iter()
        .rev()
        .take(HISTORY)
        .map(|c| HistoryEntry {
            when: ui.tr.datetime(c.at),
            who: resolver.user(c.actor),
            text: change_text(&ui.tr, def, c),
        })
        .collect()
}

/// One change in words: created, deleted, or a field set from one value to another.
fn change_text(tr: &Tr, def: &ObjectDef, c: &Change) -> String {
    match (c.op, &c.field) {
        (ChangeOp::Create, _) => tr.t("history-created"),
        (ChangeOp::Delete, _) => tr.t("history-deleted"),
        (ChangeOp::Restore, _) => tr.t("history-restored"),
        (ChangeOp::Erase, _) => tr.t("history-erased"),
        (ChangeOp::Update, Some(field)) => {
            let label = def
                .any_field(field)
                .map_or_else(|| field.clone(), |f| labels::field(tr, def, f));
            let show = |j: &Json| match j {
                Json::Null => "—".to_string(),
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            tr.tn(
                "history-set",
                &[("field", label), ("from", show(&c.old)), ("to", show(&c.new))],
            )
        }
        (ChangeOp::Update, None) => String::new(),
    }
}

pub(super) fn unavailable(ui: &Ui, e: &Error) -> Response {
    tracing::error!(error = %e, "a page could not be built");
    ui.page(StatusCode::SERVICE_UNAVAILABLE, Ok(String::new()))
}

pub async fn new_page(ui: Ui, Path(object): Path<String>) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let inputs = inputs(&ui, &def, None, &[]).await;
    Ok(render_form(&ui, &def, None, inputs, None, None, StatusCode::OK))
}

fn render_form(
    ui: &Ui,
    def: &ObjectDef,
    record: Option<&Record>,
    inputs: Vec<Input>,
    error: Option<String>,
    conflict: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = &ui.tr;
    let page = FormPage {
        title: match record {
            Some(r) => r.title(def),
            None => tr.t1("list-new", "object", labels::object_in_sentence(tr, def)),
        },
        action: match record {
            Some(r) => format!("/o/{}/{}/edit", def.name, r.id),
            None => format!("/o/{}/new", def.name),
        },
        cancel: match record {
            Some(r) => format!("/o/{}/{}", def.name, r.id),
            None => format!("/o/{}", def.name),
        },
        save_label: tr.t1("record-save", "object", labels::object_in_sentence(tr, def)),
        version: record.map_or(0, |r| r.version),
        inputs,
        error,
        conflict,
        duplicates: Vec::new(),
        shell: ui.shell(&def.name),
    };
    ui.page(status, page.render())
}

pub async fn create(Path(object): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let body = form_json(ui.tr.locale, &def, &form);
    // Likely duplicates are shown before the first save; "Save anyway" sends the form again
    // with `save_anyway`. A body the check cannot read goes on to the create, which says why.
    if super::form_value(&form, "save_anyway").is_empty()
        && let Ok(matches) = ui
            .authed
            .crm
            .possible_duplicates(&ui.authed.principal, &def.name, &body)
            .await
        && !matches.is_empty()
    {
        let mut inputs = inputs(&ui, &def, None, &[]).await;
        keep_typed(&mut inputs, &form);
        let page = duplicates_form(&ui, &def, inputs, &matches);
        return Ok(ui.page(StatusCode::OK, page.render()));
    }
    match ui.authed.crm.create(&ui.authed.principal, &def.name, &body).await {
        Ok((_, r)) => Ok(Redirect::to(&format!("/o/{}/{}", def.name, r.id)).into_response()),
        Err(e) if e.code == ErrorCode::ValidationFailed => Ok(refused_form(&ui, &def, None, &e, &form).await),
        Err(e) => Err(write_refused(&ui, e).into()),
    }
}

/// The new-record form again, with the records the new one may duplicate and why.
fn duplicates_form(ui: &Ui, def: &ObjectDef, inputs: Vec<Input>, matches: &[Match]) -> FormPage {
    let tr = &ui.tr;
    let duplicates = matches
        .iter()
        .map(|m| {
            let why: Vec<String> = m
                .reasons
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .filter_map(|v| v.as_str().map(|k| tr.t(&format!("dup-reason-{k}"))))
                .collect();
            (
                m.record.title(def),
                format!("/o/{}/{}", def.name, m.record.id),
                why.join(", "),
            )
        })
        .collect();
    FormPage {
        title: tr.t1("list-new", "object", labels::object_in_sentence(tr, def)),
        action: format!("/o/{}/new", def.name),
        cancel: format!("/o/{}", def.name),
        save_label: tr.t("dup-save-anyway"),
        version: 0,
        inputs,
        error: None,
        conflict: None,
        duplicates,
        shell: ui.shell(&def.name),
    }
}

/// The form again after a save the checks refused: what the user typed, each field's message.
async fn refused_form(
    ui: &Ui,
    def: &ObjectDef,
    record: Option<&Record>,
    e: &Error,
    form: &[(String, String)],
) -> Response {
    let mut inputs = inputs(ui, def, record, &e.errors).await;
    keep_typed(&mut inputs, form);
    render_form(
        ui,
        def,
        record,
        inputs,
        Some(ui.tr.t("validation-failed")),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// A write the user may not make says so in plain text; anything else is the unavailable page.
fn write_refused(ui: &Ui, e: Error) -> Response {
    if e.code == ErrorCode::Forbidden {
        (StatusCode::FORBIDDEN, e.detail).into_response()
    } else {
        unavailable(ui, &e)
    }
}

/// After a refused save, the inputs show what the user typed, not what is stored.
fn keep_typed(inputs: &mut [Input], form: &[(String, String)]) {
    for input in inputs {
        if input.kind == "checkbox" {
            input.checked = form.iter().any(|(k, v)| k == &input.name && (v == "on" || v == "true"));
        } else if let Some((_, v)) = form.iter().find(|(k, _)| k == &input.name) {
            input.value = v.clone();
        }
    }
}

pub async fn edit_page(ui: Ui, Path((object, id)): Path<(String, String)>) -> PageResult {
    let (def, record) = shown_record(&ui, &object, &id).await?;
    let inputs = inputs(&ui, &def, Some(&record), &[]).await;
    Ok(render_form(
        &ui,
        &def,
        Some(&record),
        inputs,
        None,
        None,
        StatusCode::OK,
    ))
}

pub async fn update(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let version = super::form_version(&form);
    let body = form_json(ui.tr.locale, &def, &form);
    let updated = ui
        .authed
        .crm
        .update(&ui.authed.principal, &def.name, &id, &body, version)
        .await;
    match updated {
        Ok(_) => Ok(Redirect::to(&format!("/o/{}/{id}", def.name)).into_response()),
        Err(e) if e.code == ErrorCode::VersionConflict => Ok(conflict(&ui, &def, &id, &form).await),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let record = ui.authed.crm.get(&ui.authed.principal, &def.name, &id).await;
            let record = record.ok().map(|(_, r)| r);
            let mut page = refused_form(&ui, &def, record.as_ref(), &e, &form).await;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e).or_not_found_else(&ui, |e| write_refused(&ui, e)),
    }
}

/// Someone else saved first: show their version, with this user's values beside the fields
/// they differ in, and the new version to save against.
async fn conflict(ui: &Ui, def: &ObjectDef, id: &str, form: &[(String, String)]) -> Response {
    let Ok((_, current)) = ui.authed.crm.get(&ui.authed.principal, &def.name, id).await else {
        return super::not_found(ui);
    };
    let resolver = Resolver::for_records(ui, def, std::slice::from_ref(&current)).await;
    let mut inputs = inputs(ui, def, Some(&current), &[]).await;
    for input in &mut inputs {
        if input.kind == "checkbox" {
            continue;
        }
        if let Some((_, typed)) = form.iter().find(|(k, _)| k == &input.name)
            && typed != &input.value
        {
            input.yours = Some(typed.clone());
        }
    }
    let who = resolver.user(current.updated_by);
    let message = ui.tr.t1("record-conflict", "who", who);
    render_form(
        ui,
        def,
        Some(&current),
        inputs,
        None,
        Some(message),
        StatusCode::CONFLICT,
    )
}

pub async fn delete(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let version = super::form_version(&form);
    let deleted = ui
        .authed
        .crm
        .delete(&ui.authed.principal, &def.name, &id, version)
        .await;
    match deleted {
        Ok(_) => Ok(Redirect::to(&format!("/o/{}?trashed={id}", def.name)).into_response()),
        Err(e) if e.code == ErrorCode::VersionConflict => {
            Ok(Redirect::to(&format!("/o/{}/{id}", def.name)).into_response())
        }
        Err(e) => Err(e).or_not_found_else(&ui, |e| write_refused(&ui, e)),
    }
}

/// Quick actions on a record page: log a call, add a note, schedule a follow-up task.
pub async fn add_activity(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let (def, rid) = ui.object(&object).zip(RecordId::parse(&id)).or_not_found(&ui)?;
    let activity = activity_object(&ui).cloned().or_not_found(&ui)?;
    if ui.authed.crm.get(&ui.authed.principal, &def.name, &id).await.is_err() {
        return Err(PageError::not_found(&ui));
    }
    let body = activity_body(&def, &activity, rid, &form);
    match ui.authed.crm.create(&ui.authed.principal, &activity.name, &body).await {
        Ok(_) | Err(_) => Ok(Redirect::to(&format!("/o/{}/{id}#timeline", def.name)).into_response()),
    }
}

/// The activity a quick action's form describes, linked to the record it was posted on.
fn activity_body(def: &ObjectDef, activity: &ObjectDef, rid: RecordId, form: &[(String, String)]) -> Json {
    let get = |k: &str| super::form_value(form, k);
    let kind = match get("type") {
        k @ ("call" | "note" | "task" | "meeting" | "email") => k,
        _ => "note",
    };
    let mut body = Map::new();
    body.insert("type".into(), json!(kind));
    body.insert("subject".into(), json!(get("subject")));
    body.insert("links".into(), json!([{"object": def.name, "id": rid.to_string()}]));
    if !get("body").trim().is_empty() {
        body.insert("body".into(), json!(get("body")));
    }
    if !get("due").is_empty() {
        body.insert("due_at".into(), json!(format!("{}T09:00:00Z", get("due"))));
        body.insert("done".into(), json!(false));
    } else if kind != "task" {
        body.insert("done".into(), json!(true));
    }
    let relation: Option<&FieldDef> = activity
        .active_fields()
        .find(|f| f.field_type == FieldType::Relation && f.target.as_deref() == Some(def.name.as_str()));
    if let Some(f) = relation {
        body.insert(f.name.clone(), json!(rid.to_string()));
    }
    Json::Object(body)
}

/// Inline edit of one field: the page's script posts here and gets back the outcome, with any
/// message already in the user's language.
pub async fn save_field(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let get = |k: &str| super::form_value(&form, k);
    let Some(field) = def.field(get("field")) else {
        let error = json!({"error": ui.tr.t("validation-failed")});
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(error)).into_response());
    };
    let body = form_json(ui.tr.locale, &def, &[(field.name.clone(), get("value").to_string())]);
    let version = get("version").parse::<i64>().ok();
    let saved = ui
        .authed
        .crm
        .update(&ui.authed.principal, &def.name, &id, &body, version)
        .await;
    saved
        .map(|(_, r)| axum::Json(json!({"version": r.version})).into_response())
        .or_not_found_else(&ui, |e| inline_refused(&ui, e))
}

/// Why an inline edit was not saved, as the page's script reads it.
fn inline_refused(ui: &Ui, e: Error) -> Response {
    match e.code {
        ErrorCode::VersionConflict => {
            (StatusCode::PRECONDITION_FAILED, axum::Json(json!({"conflict": true}))).into_response()
        }
        ErrorCode::ValidationFailed => {
            let message = e.errors.first().map_or_else(
                || ui.tr.t("validation-failed"),
                |f| super::field_message(&ui.tr, &f.message),
            );
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": message}))).into_response()
        }
        ErrorCode::Forbidden => (StatusCode::FORBIDDEN, axum::Json(json!({"error": e.detail}))).into_response(),
        _ => unavailable(ui, &e),
    }
}

/// Undo a move to the trash.
pub async fn restore(
    Path((object, id)): Path<(String, String)>,
    Posted { ui, form: _ }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    ui.authed
        .crm
        .restore(&ui.authed.principal, &def.name, &id, None)
        .await
        .or_not_found_else(&ui, |e| {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.detail).into_response()
        })?;
    Ok(Redirect::to(&format!("/o/{}/{id}", def.name)).into_response())
}
