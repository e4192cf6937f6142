//! Templates in the app: the list, the editor (a tab per language with subject, HTML and plain
//! text; each refusal shown at the part and line it names), a preview against a record in a
//! sandboxed frame, a test sent to yourself, and a document template printed for a record or a
//! selection. Checking, rendering and sending are the template use cases the API calls too.

use super::marketing::{FieldErrors, tabs};
use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{NavItem, Shell, Ui, form_value, labels};
use crate::AppState;
use anchora_core::ErrorCode;
use anchora_core::auth::{Permission, Role};
use anchora_core::meta::ObjectDef;
use anchora_core::templates::{Preview, Template, TemplateKind, TemplateView, Variant};
use anchora_core::views::url_encode;
use askama::Template as Askama;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::{Value as Json, json};

/// Languages offered when one is added, by their own names (any other code may be typed).
const LANGUAGES: [(&str, &str); 16] = [
    ("en", "English"),
    ("en-GB", "English (UK)"),
    ("sv", "Svenska"),
    ("de", "Deutsch"),
    ("da", "Dansk"),
    ("es", "Español"),
    ("fi", "Suomi"),
    ("nb", "Norsk bokmål"),
    ("nn", "Norsk nynorsk"),
    ("fr", "Français"),
    ("nl", "Nederlands"),
    ("it", "Italiano"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("is", "Íslenska"),
    ("et", "Eesti"),
];

/// Variants one form may carry (the core allows twelve; one more is refused by it, in words).
const MAX_FORM_VARIANTS: usize = 16;

pub struct TemplateRow {
    pub href: String,
    pub name: String,
    pub kind: String,
    pub object: String,
    pub languages: String,
    pub shared: bool,
    pub updated: String,
}

#[derive(Askama)]
#[template(path = "ui/templates.html")]
struct TemplatesPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    rows: Vec<TemplateRow>,
    may_write: bool,
    notice: Option<String>,
}

/// One language of the editor, with what the core said about each of its parts.
pub struct VariantForm {
    pub index: usize,
    pub language: String,
    /// The tab's label: the code and, when known, the language's own name.
    pub label: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub language_error: Option<String>,
    pub subject_error: Option<String>,
    pub html_error: Option<String>,
    pub text_error: Option<String>,
    /// The tab shown first: the first with an error, else the first.
    pub open: bool,
}

impl VariantForm {
    pub fn has_error(&self) -> bool {
        self.language_error.is_some()
            || self.subject_error.is_some()
            || self.html_error.is_some()
            || self.text_error.is_some()
    }
}

/// A template rendered for a record, as the preview panel shows it.
pub struct PreviewPanel {
    pub subject: String,
    /// The whole document for the sandboxed frame.
    pub srcdoc: String,
    pub text: String,
    pub language: String,
    pub record_title: String,
    pub record_href: String,
}

#[derive(Askama)]
#[template(path = "ui/template_edit.html")]
struct EditorPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    /// None while it is new.
    id: Option<String>,
    email: bool,
    kind: &'static str,
    name: String,
    object: String,
    object_label: String,
    objects: Vec<(String, String)>,
    shared: bool,
    may_share: bool,
    may_change: bool,
    default_language: String,
    version: i64,
    variants: Vec<VariantForm>,
    errors: FieldErrors,
    language_choices: Vec<(String, String)>,
    /// The merge fields the template may use, as written in it.
    merge_fields: Vec<String>,
    preview: Option<PreviewPanel>,
    preview_error: Option<String>,
    preview_record: String,
    preview_title: String,
    preview_language: String,
    notice: Option<String>,
    /// Selections of the document's object, to print for: (id, name).
    selections: Vec<(String, String)>,
}

fn kind_label(tr: &crate::i18n::Tr, kind: TemplateKind) -> String {
    tr.t(&format!("template-kind-{}", kind.as_str()))
}

/// `/templates`: the templates the user may use.
pub async fn templates_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let found = ui.authed.crm.list_templates(&ui.authed.principal).await.or_page(&ui)?;
    let tr = &ui.tr;
    let rows = found
        .iter()
        .map(|t| {
            let t = &t.template;
            TemplateRow {
                href: format!("/templates/{}", t.id),
                name: t.name.clone(),
                kind: kind_label(tr, t.kind),
                object: ui
                    .object(&t.object)
                    .map_or_else(|| t.object.clone(), |o| labels::object_plural(tr, &o)),
                languages: t
                    .variants
                    .iter()
                    .map(|v| v.language.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                shared: t.shared,
                updated: tr.datetime(t.updated_at),
            }
        })
        .collect();
    let page = TemplatesPage {
        shell: ui.shell("mailings"),
        title: tr.t("templates-title"),
        tabs: tabs(&ui, "templates"),
        rows,
        may_write: ui.authed.principal.may(Permission::MassMail, &ui.schema.policy),
        notice: (form_value(&q, "deleted") == "1").then(|| tr.t("template-deleted")),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// What the editor's form says.
struct Written {
    name: String,
    kind: TemplateKind,
    object: String,
    shared: bool,
    default_language: String,
    version: Option<i64>,
    variants: Vec<Variant>,
}

impl Written {
    fn of(form: &[(String, String)]) -> Written {
        let kind = TemplateKind::parse(form_value(form, "kind")).unwrap_or(TemplateKind::Email);
        let n: usize = form_value(form, "variants").parse().unwrap_or(0);
        let variants = (0..n.min(MAX_FORM_VARIANTS))
            .map(|i| Variant {
                language: form_value(form, &format!("v{i}_language")).trim().to_string(),
                subject: form_value(form, &format!("v{i}_subject")).to_string(),
                html: form_value(form, &format!("v{i}_html")).to_string(),
                text: form_value(form, &format!("v{i}_text")).to_string(),
            })
            .filter(|v| !(v.language.is_empty() && v.subject.is_empty() && v.html.is_empty() && v.text.is_empty()))
            .collect();
        Written {
            name: form_value(form, "name").to_string(),
            kind,
            object: match kind {
                TemplateKind::Email => anchora_core::gdpr::PERSON.to_string(),
                TemplateKind::Document => form_value(form, "object").to_string(),
            },
            shared: form_value(form, "shared") == "on",
            default_language: form_value(form, "default_language").to_string(),
            version: form_value(form, "version").parse().ok(),
            variants,
        }
    }

    fn of_template(t: &Template) -> Written {
        Written {
            name: t.name.clone(),
            kind: t.kind,
            object: t.object.clone(),
            shared: t.shared,
            default_language: t.default_language.clone(),
            version: Some(t.version),
            variants: t.variants.clone(),
        }
    }

    /// A new template: one variant in the user's language.
    fn blank(ui: &Ui, kind: TemplateKind, object: &str) -> Written {
        let language = ui.tr.tag.to_string();
        Written {
            name: String::new(),
            kind,
            object: object.to_string(),
            shared: false,
            default_language: language.clone(),
            version: None,
            variants: vec![Variant {
                language,
                subject: String::new(),
                html: String::new(),
                text: String::new(),
            }],
        }
    }

    fn body(&self) -> Json {
        json!({
            "name": self.name,
            "kind": self.kind.as_str(),
            "object": self.object,
            "default_language": self.default_language,
            "variants": self.variants,
            "shared": self.shared,
            "version": self.version,
        })
    }

    /// Whether it says something other than the template as kept.
    fn differs_from(&self, t: &Template) -> bool {
        self.name.trim() != t.name
            || self.shared != t.shared
            || self.default_language != t.default_language
            || self.variants != t.variants
            || self.object != t.object
    }
}

/// `/templates/new?kind=email|document&object=…`: the editor, empty.
pub async fn new_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::MassMail, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let kind = TemplateKind::parse(form_value(&q, "kind")).unwrap_or(TemplateKind::Email);
    let object = match (kind, form_value(&q, "object")) {
        (TemplateKind::Document, o) if ui.object(o).is_some() => o.to_string(),
        _ => anchora_core::gdpr::PERSON.to_string(),
    };
    let written = Written::blank(&ui, kind, &object);
    let page = editor_view(&ui, None, written, true, FieldErrors::default()).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// `/templates/{id}?record=…&language=…`: the editor with the template as kept, and its
/// preview for a record when one is named.
pub async fn edit_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let view = ui
        .authed
        .crm
        .get_template(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let written = Written::of_template(&view.template);
    let errors = match form_value(&q, "error") {
        "" => FieldErrors::default(),
        e => FieldErrors::banner(e.chars().take(300).collect()),
    };
    let mut page = editor_view(&ui, Some(&view), written, view.may_change, errors).await;
    page.notice = match (form_value(&q, "sent"), form_value(&q, "saved")) {
        ("1", _) => Some(ui.tr.t1(
            "template-test-sent",
            "email",
            ui.authed.user.email.clone().unwrap_or_default(),
        )),
        (_, "1") => Some(ui.tr.t("template-saved")),
        _ => None,
    };
    let record = form_value(&q, "record");
    if !record.is_empty() {
        preview_into(&ui, &mut page, &id, record, form_value(&q, "language")).await;
    }
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The template rendered for a record into the page's preview panel (or why it could not be).
async fn preview_into(ui: &Ui, page: &mut EditorPage, id: &str, record: &str, language: &str) {
    let body = json!({ "record": record, "language": Some(language).filter(|l| !l.is_empty()) });
    page.preview_record = record.to_string();
    page.preview_language = language.to_string();
    match ui.authed.crm.preview_template(&ui.authed.principal, id, body).await {
        Ok(p) => {
            page.preview_title = p.title.clone();
            page.preview = Some(panel(&page.object, p));
        }
        Err(e) => page.preview_error = Some(super::admin::problem(&e)),
    }
}

/// The whole document a sandboxed frame shows. The frame inherits the app's content security
/// policy, so it runs no script and takes no inline style: what shows is the template's markup.
fn srcdoc(html: &str) -> String {
    format!("<!doctype html><html><head><meta charset=\"utf-8\"></head><body>{html}</body></html>")
}

fn panel(object: &str, p: Preview) -> PreviewPanel {
    PreviewPanel {
        subject: p.rendered.subject,
        srcdoc: srcdoc(&p.rendered.html),
        text: p.rendered.text,
        language: language_label(&p.rendered.language),
        record_href: format!("/o/{object}/{}", p.record),
        record_title: p.title,
    }
}

/// A language code with its own name when it is one we know: "sv · Svenska".
fn language_label(code: &str) -> String {
    match LANGUAGES.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)) {
        Some((_, name)) => format!("{code} · {name}"),
        None => code.to_string(),
    }
}

/// The merge fields a template of this object may use, as they are written in one.
fn merge_fields(ui: &Ui, object: Option<&ObjectDef>, email: bool) -> Vec<String> {
    let Some(def) = object else { return Vec::new() };
    let mut out: Vec<String> = def
        .active_fields()
        .map(|f| format!("{{{{ {}.{} }}}}", def.name, f.name))
        .collect();
    let company = def
        .field("company")
        .and_then(|f| f.target.as_deref())
        .and_then(|t| ui.object(t));
    if let Some(c) = company {
        out.extend(c.active_fields().map(|f| format!("{{{{ company.{} }}}}", f.name)));
    }
    out.extend(
        ["owner.name", "owner.email", "me.name", "me.email", "today"]
            .iter()
            .map(|n| format!("{{{{ {n} }}}}")),
    );
    if email {
        out.push("{{ unsubscribe_url }}".into());
        out.push("{{ mailing.name }}".into());
    }
    out
}

/// The editor for a template as written, with the core's messages at the parts they name.
async fn editor_view(
    ui: &Ui,
    kept: Option<&TemplateView>,
    written: Written,
    may_change: bool,
    errors: FieldErrors,
) -> EditorPage {
    let tr = &ui.tr;
    let def = ui.object(&written.object);
    let mut variants: Vec<VariantForm> = written
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let part = |p: &str| errors.get(&format!("variants.{}.{p}", v.language)).cloned();
            VariantForm {
                index: i,
                label: language_label(&v.language),
                language: v.language.clone(),
                subject: v.subject.clone(),
                html: v.html.clone(),
                text: v.text.clone(),
                language_error: errors.get(&format!("variants[{i}].language")).cloned(),
                subject_error: part("subject"),
                html_error: part("html"),
                text_error: part("text"),
                open: false,
            }
        })
        .collect();
    let first_wrong = variants.iter().position(VariantForm::has_error).unwrap_or(0);
    if let Some(v) = variants.get_mut(first_wrong) {
        v.open = true;
    }
    let selections = match written.kind {
        TemplateKind::Document => ui
            .authed
            .crm
            .list_selections(&ui.authed.principal)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.selection.object == written.object)
            .map(|s| (s.selection.id.to_string(), s.selection.name))
            .collect(),
        TemplateKind::Email => Vec::new(),
    };
    let email = written.kind == TemplateKind::Email;
    let role = ui.authed.principal.role;
    EditorPage {
        shell: ui.shell("mailings"),
        title: match kept {
            Some(k) => k.template.name.clone(),
            None => tr.t(if email {
                "template-new-email"
            } else {
                "template-new-document"
            }),
        },
        tabs: tabs(ui, "templates"),
        id: kept.map(|k| k.template.id.to_string()),
        email,
        kind: written.kind.as_str(),
        object_label: def
            .as_ref()
            .map_or_else(|| written.object.clone(), |d| labels::object_plural(tr, d)),
        merge_fields: merge_fields(ui, def.as_ref(), email),
        objects: ui.object_choices(),
        name: written.name,
        object: written.object,
        shared: written.shared,
        may_share: matches!(role, Role::Admin | Role::KeyUser),
        may_change,
        default_language: written.default_language,
        version: written.version.unwrap_or(0),
        variants,
        errors,
        language_choices: LANGUAGES
            .iter()
            .map(|(c, n)| ((*c).to_string(), (*n).to_string()))
            .collect(),
        preview: None,
        preview_error: None,
        preview_record: String::new(),
        preview_title: String::new(),
        preview_language: String::new(),
        notice: None,
        selections,
    }
}

/// `POST /templates`: a new template's form (add or remove a language, save, save and
/// preview, save and send a test).
pub async fn create(State(state): State<AppState>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    submitted(&state, ui, None, form).await
}

/// `POST /templates/{id}`: the editor's form for a kept template.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let kept = ui
        .authed
        .crm
        .get_template(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    submitted(&state, ui, Some(kept), form).await
}

async fn submitted(state: &AppState, ui: Ui, kept: Option<TemplateView>, form: Vec<(String, String)>) -> PageResult {
    let mut written = Written::of(&form);
    let step = form_value(&form, "step");
    let may_change = kept.as_ref().is_none_or(|k| k.may_change);
    // Adding or removing a language only changes the form.
    if let Some(errors) = relanguage(&ui.tr, &mut written, step, form_value(&form, "new_language")) {
        let mut page = editor_view(&ui, kept.as_ref(), written, may_change, errors).await;
        if step == "add" {
            // The new language's tab is the one shown.
            let last = page.variants.len().saturating_sub(1);
            for v in &mut page.variants {
                v.open = v.index == last;
            }
        }
        return Ok(ui.page(StatusCode::OK, page.render()));
    }
    match keep(&ui, kept.as_ref(), &written, may_change).await {
        Ok(id) => Ok(Redirect::to(&after_keeping(state, &ui, &id, step, &form).await).into_response()),
        Err(e) => {
            let mut errors = FieldErrors::of(&ui.tr, &e);
            if e.code == ErrorCode::VersionConflict {
                // Keep what they wrote; saving again replaces the other version with it.
                errors.banner = Some(ui.tr.t("template-conflict"));
                written.version = e.current.as_ref().and_then(|c| c.get("version")).and_then(Json::as_i64);
            }
            let page = editor_view(&ui, kept.as_ref(), written, may_change, errors).await;
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

/// A language added (`add`, named in `code`) or removed (`remove:{i}`) in the form; what to say
/// about it. None for any other step.
fn relanguage(tr: &crate::i18n::Tr, written: &mut Written, step: &str, code: &str) -> Option<FieldErrors> {
    let mut errors = FieldErrors::default();
    if let Some(i) = step.strip_prefix("remove:") {
        if let Ok(i) = i.parse::<usize>()
            && i < written.variants.len()
            && written.variants.len() > 1
        {
            let gone = written.variants.remove(i);
            if gone.language == written.default_language {
                written.default_language = written.variants.first().map(|v| v.language.clone()).unwrap_or_default();
            }
        }
    } else if step == "add" {
        let code = code.trim();
        if code.is_empty() {
            errors
                .by_field
                .insert("new_language".into(), tr.t("template-language-needed"));
        } else {
            written.variants.push(Variant {
                language: code.to_string(),
                subject: String::new(),
                html: String::new(),
                text: String::new(),
            });
        }
    } else {
        return None;
    }
    Some(errors)
}

/// Where a kept template's form leads: its preview for a record (after sending the test when
/// asked), or the editor saying it was saved.
async fn after_keeping(state: &AppState, ui: &Ui, id: &str, step: &str, form: &[(String, String)]) -> String {
    let (record, language) = (form_value(form, "record"), form_value(form, "preview_language"));
    let preview = format!(
        "/templates/{id}?record={}&language={}",
        url_encode(record),
        url_encode(language)
    );
    match step {
        "preview" => format!("{preview}#preview"),
        "test" => {
            let body = json!({ "record": record, "language": Some(language).filter(|l| !l.is_empty()) });
            let sent = ui
                .authed
                .crm
                .test_send_template(&ui.authed.principal, id, body, state.mailer.as_ref())
                .await;
            match sent {
                Ok(_) => format!("{preview}&sent=1#preview"),
                Err(e) => format!("{preview}&error={}#preview", url_encode(&super::admin::problem(&e))),
            }
        }
        _ => format!("/templates/{id}?saved=1"),
    }
}

/// Keep what the form says: a new template is created; a kept one is changed when it says
/// something else and the user may change it. Its id.
async fn keep(
    ui: &Ui,
    kept: Option<&TemplateView>,
    written: &Written,
    may_change: bool,
) -> anchora_core::Result<String> {
    let crm = &ui.authed.crm;
    match kept {
        None => Ok(crm
            .create_template(&ui.authed.principal, written.body())
            .await?
            .template
            .id
            .to_string()),
        Some(k) if may_change && written.differs_from(&k.template) => {
            let id = k.template.id.to_string();
            crm.update_template(&ui.authed.principal, &id, written.body()).await?;
            Ok(id)
        }
        Some(k) => Ok(k.template.id.to_string()),
    }
}

/// `POST /templates/{id}/delete`.
pub async fn delete(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Vec<(String, String)>>) -> PageResult {
    let deleted = ui.authed.crm.delete_template(&ui.authed.principal, &id).await;
    deleted.or_forbidden_else(&ui, |e| {
        Redirect::to(&format!(
            "/templates/{}?error={}",
            url_encode(&id),
            url_encode(&super::admin::problem(&e))
        ))
        .into_response()
    })?;
    Ok(Redirect::to("/templates?deleted=1").into_response())
}

pub struct Sheet {
    pub title: String,
    pub srcdoc: String,
}

#[derive(Askama)]
#[template(path = "ui/template_print.html")]
struct PrintPage {
    shell: Shell,
    title: String,
    back: String,
    sheets: Vec<Sheet>,
    count: String,
}

/// `/templates/{id}/print?record=…` or `?selection=…`: a document template rendered for each
/// record, a sheet each, for the browser to print or save as PDF.
pub async fn print_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let view = ui
        .authed
        .crm
        .get_template(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let (record, selection) = (form_value(&q, "record"), form_value(&q, "selection"));
    let named = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let body = json!({ "record": named(record), "selection": named(selection) });
    let back = if selection.is_empty() {
        format!("/templates/{id}")
    } else {
        format!("/selections/{}", url_encode(selection))
    };
    let pages = ui.authed.crm.render_document(&ui.authed.principal, &id, body).await;
    let pages = pages.or_forbidden_else(&ui, |e| {
        Redirect::to(&format!("{back}?error={}", url_encode(&super::admin::problem(&e)))).into_response()
    })?;
    let page = PrintPage {
        shell: ui.shell("mailings"),
        title: view.template.name.clone(),
        count: super::marketing::records(&ui.tr, pages.len() as u64),
        sheets: pages
            .into_iter()
            .map(|p| Sheet {
                title: p.title,
                srcdoc: srcdoc(&p.rendered.html),
            })
            .collect(),
        back,
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}
