//! Templates as use cases: write, change (refused when stale), preview against a real record,
//! send a test to yourself, print a document for a record or a selection.

use super::render::{MergeContext, MergeFields, Rendered, Renderer};
use super::{MAX_VARIANTS, Template, TemplateKind, Variant};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::User;
use crate::ids::{RecordId, TemplateId};
use crate::mail::{Email, Mailer};
use crate::meta::{ObjectDef, Schema};
use crate::record::Record;
use crate::service::Crm;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

const MAX_NAME: usize = 100;
/// Pages one printed document may have (a selection's letters).
pub const MAX_PAGES: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateBody {
    name: String,
    #[serde(default = "email_kind")]
    kind: TemplateKind,
    /// Documents may be written for any object; e-mails are written to people.
    #[serde(default)]
    object: Option<String>,
    default_language: String,
    variants: Vec<Variant>,
    #[serde(default)]
    shared: bool,
    /// When changing: the version the change was made to.
    #[serde(default)]
    version: Option<i64>,
}

fn email_kind() -> TemplateKind {
    TemplateKind::Email
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    record: String,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentBody {
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    selection: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    #[serde(flatten)]
    pub template: Template,
    pub may_change: bool,
}

/// A template rendered for one record.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub record: RecordId,
    pub title: String,
    #[serde(flatten)]
    pub rendered: Rendered,
}

/// A language code: letters, then optional `-` parts (`sv`, `en-GB`, `es-419`).
fn check_language(field: &str, code: &str) -> Result<()> {
    let mut parts = code.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    if first_ok && code.len() <= 12 && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())) {
        Ok(())
    } else {
        Err(Error::field(
            field,
            format!("{code:?} is not a language code such as sv or en-GB"),
        ))
    }
}

/// The merge context for one record: its values as text (empty ones left out, so `default`
/// applies), its company's, its owner's name and address, the sender's and today.
pub fn merge_context(
    object: &ObjectDef,
    record: &Record,
    company: Option<(&ObjectDef, &Record)>,
    owner: Option<&User>,
    me: Option<&User>,
    today: NaiveDate,
) -> MergeContext {
    fn values(object: &ObjectDef, record: &Record) -> Json {
        let mut map = Map::new();
        for f in object.fields.iter().filter(|f| !f.archived) {
            if let Some(text) = record.get(&f.name).to_text() {
                map.insert(f.name.clone(), Json::String(text));
            }
        }
        map.insert("id".into(), Json::String(record.id.to_string()));
        map.insert("name".into(), Json::String(record.title(object)));
        Json::Object(map)
    }
    fn user(u: &User) -> Json {
        let mut map = Map::new();
        map.insert("name".into(), Json::String(u.name.clone()));
        if let Some(e) = &u.email {
            map.insert("email".into(), Json::String(e.clone()));
        }
        Json::Object(map)
    }
    let mut context = MergeContext::default();
    context.set(&object.name, values(object, record));
    if let Some((def, company)) = company {
        context.set("company", values(def, company));
    }
    if let Some(owner) = owner {
        context.set("owner", user(owner));
    }
    if let Some(me) = me {
        context.set("me", user(me));
    }
    context.set("today", Json::String(today.format("%Y-%m-%d").to_string()));
    context
}

/// The company object a record's `company` field points at, if it has one.
pub fn company_of<'a>(schema: &'a Schema, object: &ObjectDef) -> Option<&'a ObjectDef> {
    let field = object.field("company")?;
    schema.objects.get(field.target.as_deref()?)
}

impl Crm {
    pub(crate) fn may_use_template(who: &Principal, t: &Template) -> bool {
        t.owner == who.user_id || t.shared || who.role == Role::Admin
    }

    fn may_change_template(who: &Principal, t: &Template) -> bool {
        (t.owner == who.user_id || who.role == Role::Admin) && who.scope != Scope::Read
    }

    /// A template the caller may use; anything else is 404.
    pub(crate) async fn usable_template(&self, who: &Principal, id: &str) -> Result<Template> {
        self.authorize(who, Permission::ReadRecords).await?;
        let found = match TemplateId::parse(id) {
            Some(id) => self.store.template(id).await?,
            None => None,
        };
        found
            .filter(|t| Self::may_use_template(who, t))
            .ok_or_else(|| Error::not_found(format!("template {id}")))
    }

    /// Check a template's body and shape the template (nothing kept): every part compiles,
    /// names only merge fields there are and renders within its limits.
    async fn shape_template(&self, who: &Principal, body: Json, was: Option<&Template>) -> Result<Template> {
        let schema = self.authorize(who, Permission::MassMail).await?;
        if who.scope == Scope::Read {
            return Err(Error::new(ErrorCode::Forbidden, "this token may only read"));
        }
        let body: TemplateBody = crate::service::from_body(body)?;
        let name = body.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Error::field(
                "name",
                format!("is required: one line of at most {MAX_NAME} characters"),
            ));
        }
        let object_name = match (body.kind, body.object.as_deref()) {
            (TemplateKind::Email, None | Some("person")) => "person",
            (TemplateKind::Email, Some(_)) => {
                return Err(Error::field("object", "e-mail templates are written to people"));
            }
            (TemplateKind::Document, Some(o)) => o,
            (TemplateKind::Document, None) => return Err(Error::field("object", "is required for a document")),
        };
        let object = schema
            .object(object_name)
            .map_err(|_| Error::field("object", format!("there is no object {object_name:?}")))?
            .clone();
        check_language("default_language", &body.default_language)?;
        if body.variants.is_empty() || body.variants.len() > MAX_VARIANTS {
            return Err(Error::field("variants", format!("one to {MAX_VARIANTS} languages")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, v) in body.variants.iter().enumerate() {
            check_language(&format!("variants[{i}].language"), &v.language)?;
            if !seen.insert(v.language.to_ascii_lowercase()) {
                return Err(Error::field(
                    format!("variants[{i}].language"),
                    format!("{} is written twice", v.language),
                ));
            }
            // A subject is a header: one line. The bodies are text: line breaks and tabs, no
            // other control characters (a NUL no database takes, C1 codes no mail reader shows).
            let bad = |c: char, line_breaks: bool| c.is_control() && !(line_breaks && matches!(c, '\n' | '\r' | '\t'));
            for (part, text, breaks) in [
                ("subject", &v.subject, false),
                ("html", &v.html, true),
                ("text", &v.text, true),
            ] {
                if text.chars().any(|c| bad(c, breaks)) {
                    return Err(Error::field(
                        format!("variants.{}.{part}", v.language),
                        if breaks {
                            "must not contain control characters other than line breaks and tabs"
                        } else {
                            "must be one line without control characters"
                        },
                    ));
                }
            }
            if body.kind == TemplateKind::Email && v.subject.trim().is_empty() {
                return Err(Error::field(format!("variants.{}.subject", v.language), "is required"));
            }
        }
        if !seen.contains(&body.default_language.to_ascii_lowercase()) {
            return Err(Error::field(
                "default_language",
                "must be one of the variants' languages",
            ));
        }
        // Sharing is for key users and administrators; keeping a template shared that one of
        // them shared is for its owner too.
        let shared_before = was.is_some_and(|w| w.shared);
        if body.shared && !shared_before && who.role != Role::Admin && who.role != Role::KeyUser {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only key users and administrators share templates",
            ));
        }
        let now = self.clock.now();
        let template = Template {
            id: was.map_or_else(|| TemplateId::new_at(now), |w| w.id),
            name: name.to_string(),
            kind: body.kind,
            object: object.name.clone(),
            default_language: body.default_language,
            variants: body.variants,
            owner: was.map_or(who.user_id, |w| w.owner),
            shared: body.shared,
            version: was.map_or(1, |w| w.version + 1),
            created_at: was.map_or(now, |w| w.created_at),
            updated_at: now,
        };
        if let (Some(was), Some(version)) = (was, body.version)
            && version != was.version
        {
            return Err(self.template_conflict(who, was.clone()));
        }
        if was.is_some() && body.version.is_none() {
            return Err(Error::field("version", "is required when changing a template"));
        }
        let fields = MergeFields::for_object(&object, company_of(&schema, &object), body.kind == TemplateKind::Email);
        Renderer::new(&template)?.check(&fields)?;
        Ok(template)
    }

    fn template_conflict(&self, who: &Principal, current: Template) -> Error {
        let view = TemplateView {
            may_change: Self::may_change_template(who, &current),
            template: current,
        };
        Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null))
    }

    pub async fn create_template(&self, who: &Principal, body: Json) -> Result<TemplateView> {
        let template = self.shape_template(who, body, None).await?;
        self.store.create_template(&template).await?;
        Ok(TemplateView {
            may_change: true,
            template,
        })
    }

    pub async fn get_template(&self, who: &Principal, id: &str) -> Result<TemplateView> {
        let template = self.usable_template(who, id).await?;
        Ok(TemplateView {
            may_change: Self::may_change_template(who, &template),
            template,
        })
    }

    /// The templates the caller may use, newest first.
    pub async fn list_templates(&self, who: &Principal) -> Result<Vec<TemplateView>> {
        self.authorize(who, Permission::ReadRecords).await?;
        Ok(self
            .store
            .templates()
            .await?
            .into_iter()
            .filter(|t| Self::may_use_template(who, t))
            .map(|template| TemplateView {
                may_change: Self::may_change_template(who, &template),
                template,
            })
            .collect())
    }

    /// Change a template; a change made to an older version is refused with the current one.
    pub async fn update_template(&self, who: &Principal, id: &str, body: Json) -> Result<TemplateView> {
        let was = self.usable_template(who, id).await?;
        if !Self::may_change_template(who, &was) {
            return Err(Error::new(ErrorCode::Forbidden, "only its owner changes a template"));
        }
        let template = self.shape_template(who, body, Some(&was)).await?;
        if !self.store.update_template(&template, was.version).await? {
            let current = self.usable_template(who, id).await?;
            return Err(self.template_conflict(who, current));
        }
        Ok(TemplateView {
            may_change: true,
            template,
        })
    }

    pub async fn delete_template(&self, who: &Principal, id: &str) -> Result<()> {
        self.authorize(who, Permission::MassMail).await?;
        let template = self.usable_template(who, id).await?;
        if !Self::may_change_template(who, &template) {
            return Err(Error::new(ErrorCode::Forbidden, "only its owner deletes a template"));
        }
        self.store.delete_template(template.id).await?;
        Ok(())
    }

    /// Merge contexts for records of one object, as `reader` may see their companies; owners
    /// and the sender read once.
    pub(crate) async fn merge_contexts(
        &self,
        who: &Principal,
        schema: &Schema,
        object: &ObjectDef,
        records: &[Record],
    ) -> Result<Vec<MergeContext>> {
        let users = self.store.users().await?;
        let user = |id: Option<crate::ids::UserId>| id.and_then(|id| users.iter().find(|u| u.id == id));
        let me = user(Some(who.user_id));
        let company_def = company_of(schema, object).cloned();
        let companies: Vec<Record> = match &company_def {
            Some(def) => {
                let ids: Vec<RecordId> = records
                    .iter()
                    .filter_map(|r| match r.get("company") {
                        crate::value::Value::Relation(id) => Some(*id),
                        _ => None,
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let owners = self.visible_owners(who, schema, &def.name).await?;
                self.records_by_id(def, &ids, owners).await?
            }
            None => Vec::new(),
        };
        let today = self.clock.now().date_naive();
        Ok(records
            .iter()
            .map(|r| {
                let company = match (r.get("company"), &company_def) {
                    (crate::value::Value::Relation(id), Some(def)) => {
                        companies.iter().find(|c| c.id == *id).map(|c| (def, c))
                    }
                    _ => None,
                };
                merge_context(object, r, company, user(r.owner), me, today)
            })
            .collect())
    }

    /// A template rendered for one record the caller may see, in a language (the record's own
    /// when none is asked for).
    pub async fn preview_template(&self, who: &Principal, id: &str, body: Json) -> Result<Preview> {
        let template = self.usable_template(who, id).await?;
        let body: PreviewBody = crate::service::from_body(body)?;
        let (object, record) = self
            .get(who, &template.object, &body.record)
            .await
            .map_err(|e| match e.code {
                ErrorCode::NotFound | ErrorCode::ValidationFailed => Error::field(
                    "record",
                    format!("there is no {} {} you may see", template.object, body.record),
                ),
                _ => e,
            })?;
        let schema = self.schema().await?;
        let mut context = self
            .merge_contexts(who, &schema, &object, std::slice::from_ref(&record))
            .await?
            .pop()
            .unwrap_or_default();
        if template.kind == TemplateKind::Email {
            let token = self.unsubscribe_token(record.id, "preview").await?;
            context.set(
                "unsubscribe_url",
                Json::String(format!("/u/{}/{token}", self.workspace())),
            );
            context.set("mailing", serde_json::json!({ "name": template.name }));
        }
        let language = body.language.or_else(|| record.get("language").to_text());
        let rendered = Renderer::new(&template)?.render(language.as_deref(), &context)?;
        Ok(Preview {
            record: record.id,
            title: record.title(&object),
            rendered,
        })
    }

    /// Send a template rendered for a record to the caller's own address.
    pub async fn test_send_template(
        &self,
        who: &Principal,
        id: &str,
        body: Json,
        mailer: &dyn Mailer,
    ) -> Result<Preview> {
        // Sending is a write, and a mass mailer's: a read-only token sends nothing.
        let schema = self.authorize(who, Permission::MassMail).await?;
        who.require(Permission::MassMail, &schema.policy)?;
        if who.scope == Scope::Read {
            return Err(Error::new(ErrorCode::Forbidden, "this token may only read"));
        }
        let preview = self.preview_template(who, id, body).await?;
        let me = self
            .store
            .user(who.user_id)
            .await?
            .and_then(|u| u.email)
            .ok_or_else(|| Error::new(ErrorCode::Conflict, "you have no e-mail address to send a test to"))?;
        mailer
            .send(&Email {
                to: me,
                subject: format!("[TEST] {}", preview.rendered.subject),
                text: preview.rendered.text.clone(),
                html: Some(preview.rendered.html.clone()),
                ..Email::default()
            })
            .await?;
        Ok(preview)
    }

    /// A document template rendered for one record or for each record of a selection (at most
    /// [`MAX_PAGES`]), as the caller may see them.
    pub async fn render_document(&self, who: &Principal, id: &str, body: Json) -> Result<Vec<Preview>> {
        let template = self.usable_template(who, id).await?;
        let body: DocumentBody = crate::service::from_body(body)?;
        let schema = self.schema().await?;
        let object = schema.object(&template.object)?.clone();
        let ids: Vec<RecordId> = match (&body.record, &body.selection) {
            (Some(record), None) => vec![
                self.get(who, &object.name, record)
                    .await
                    .map_err(|_| Error::field("record", format!("there is no {} {record} you may see", object.name)))?
                    .1
                    .id,
            ],
            (None, Some(selection)) => {
                let found = self
                    .usable_selection(who, selection)
                    .await
                    .map_err(|_| Error::field("selection", format!("there is no selection {selection} you may use")))?;
                if found.object != object.name {
                    return Err(Error::field(
                        "selection",
                        format!("{} is a selection of {}", found.name, found.object),
                    ));
                }
                self.selection_members(who, selection).await?
            }
            _ => return Err(Error::field("record", "name a record or a selection, not both")),
        };
        if ids.len() > MAX_PAGES {
            return Err(Error::field(
                "selection",
                format!("holds {} records; a document prints at most {MAX_PAGES}", ids.len()),
            ));
        }
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        let mut records = self.records_by_id(&object, &ids, owners).await?;
        records.sort_by_key(|r| r.title(&object).to_lowercase());
        let contexts = self.merge_contexts(who, &schema, &object, &records).await?;
        let renderer = Renderer::new(&template)?;
        records
            .iter()
            .zip(contexts)
            .map(|(record, context)| {
                let language = record.get("language").to_text();
                Ok(Preview {
                    record: record.id,
                    title: record.title(&object),
                    rendered: renderer.render(language.as_deref(), &context)?,
                })
            })
            .collect()
    }
}
