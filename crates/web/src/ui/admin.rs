//! Administration in the app: objects and fields, users and teams, and each user's API tokens.
//! Every action goes through the same use cases as the API, so the same rights apply.

use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, labels};
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::auth::{Permission, Role, SchemaChange, Scope};
use anchora_core::identity::{ApiToken, Team, User};
use anchora_core::meta::{FieldType, ObjectDef};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

type Fields = HashMap<String, String>;

/// What went wrong, for a banner: the detail and each field's message.
pub(super) fn problem(e: &Error) -> String {
    if e.errors.is_empty() {
        e.detail.clone()
    } else {
        e.errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Back to a page, with an error to show (kept in the query string, shown escaped).
fn back(path: &str, error: Option<String>) -> Response {
    match error {
        None => Redirect::to(&format!("{path}?saved=1")).into_response(),
        Some(e) => Redirect::to(&format!("{path}?error={}", anchora_core::views::url_encode(&e))).into_response(),
    }
}

pub(super) fn banner(q: &HashMap<String, String>, ui: &Ui) -> (Option<String>, Option<String>) {
    let error = q.get("error").map(|e| e.chars().take(500).collect());
    let saved = q.contains_key("saved").then(|| ui.tr.t("admin-saved"));
    (error, saved)
}

// ---- Objects and fields ----

pub struct ObjectRow {
    pub name: String,
    pub label: String,
    pub fields: String,
    pub standard: bool,
}

#[derive(Template)]
#[template(path = "ui/admin_objects.html")]
struct ObjectsPage {
    shell: Shell,
    title: String,
    objects: Vec<ObjectRow>,
    may_create: bool,
    error: Option<String>,
    saved: Option<String>,
}

pub async fn objects_page(
    ui: Ui,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> PageResult {
    let policy = &ui.schema.policy;
    let p = &ui.authed.principal;
    if !p.may(Permission::ChangeSchema(SchemaChange::AddField), policy)
        && !p.may(Permission::ChangeSchema(SchemaChange::EditPicklist), policy)
    {
        return Err(PageError::forbidden(&ui));
    }
    Ok(ui.page(StatusCode::OK, objects_view(&ui, &q).render()))
}

/// The objects in use, each with its count of fields.
fn objects_view(ui: &Ui, q: &HashMap<String, String>) -> ObjectsPage {
    let tr = &ui.tr;
    let objects = ui
        .schema
        .objects
        .values()
        .filter(|o| !o.archived)
        .map(|o| ObjectRow {
            name: o.name.clone(),
            label: labels::object_plural(tr, o),
            fields: tr.t1("admin-object-fields", "count", o.active_fields().count()),
            standard: o.standard,
        })
        .collect();
    let (error, saved) = banner(q, ui);
    ObjectsPage {
        title: tr.t("admin-objects-title"),
        objects,
        may_create: ui
            .authed
            .principal
            .may(Permission::ChangeSchema(SchemaChange::Structure), &ui.schema.policy),
        error,
        saved,
        shell: ui.shell("objects-admin"),
    }
}

pub async fn create_object(Posted { ui, form }: Posted<Fields>) -> PageResult {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!(get("name")));
    body.insert("label".into(), json!(get("label")));
    if !get("label_plural").is_empty() {
        body.insert("label_plural".into(), json!(get("label_plural")));
    }
    let def = ui
        .authed
        .crm
        .create_object(&ui.authed.principal, Json::Object(body))
        .await
        .or_forbidden_else(&ui, |e| back("/admin/objects", Some(problem(&e))))?;
    Ok(Redirect::to(&format!("/admin/objects/{}", def.name)).into_response())
}

pub struct FieldRow {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub standard: bool,
    pub required: bool,
    pub archived: bool,
    /// For picklists: the choices as "value = label" lines.
    pub choices: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/admin_fields.html")]
struct FieldsPage {
    shell: Shell,
    title: String,
    object: String,
    fields: Vec<FieldRow>,
    types: Vec<(String, String)>,
    targets: Vec<(String, String)>,
    may_add: bool,
    may_edit_choices: bool,
    may_archive: bool,
    error: Option<String>,
    saved: Option<String>,
}

pub async fn fields_page(
    ui: Ui,
    Path(object): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> PageResult {
    let def = ui.object(&object).or_not_found(&ui)?;
    let policy = &ui.schema.policy;
    let p = &ui.authed.principal;
    let may_add = p.may(Permission::ChangeSchema(SchemaChange::AddField), policy);
    let may_edit_choices = p.may(Permission::ChangeSchema(SchemaChange::EditPicklist), policy);
    if !may_add && !may_edit_choices {
        return Err(PageError::forbidden(&ui));
    }
    let page = fields_view(&ui, &def, &q, may_add, may_edit_choices);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// An object's fields as the admin table lists them, archived ones too.
fn field_rows(tr: &Tr, def: &ObjectDef) -> Vec<FieldRow> {
    def.fields
        .iter()
        .map(|f| FieldRow {
            name: f.name.clone(),
            label: labels::field(tr, def, f),
            kind: tr.t(&format!("type-{}", f.field_type.as_str())),
            standard: f.standard,
            required: f.required,
            archived: f.archived,
            choices: matches!(f.field_type, FieldType::Select | FieldType::MultiSelect).then(|| {
                f.choices
                    .iter()
                    .map(|c| format!("{} = {}", c.value, c.label))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        })
        .collect()
}

/// The fields page of one object, with the types and targets a new field may have.
fn fields_view(
    ui: &Ui,
    def: &ObjectDef,
    q: &HashMap<String, String>,
    may_add: bool,
    may_edit_choices: bool,
) -> FieldsPage {
    let tr = &ui.tr;
    let (error, saved) = banner(q, ui);
    FieldsPage {
        title: tr.t1("admin-fields-title", "object", labels::object(tr, def)),
        object: def.name.clone(),
        fields: field_rows(tr, def),
        types: FieldType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), tr.t(&format!("type-{}", t.as_str()))))
            .collect(),
        targets: ui
            .schema
            .objects
            .values()
            .filter(|o| !o.archived)
            .map(|o| (o.name.clone(), labels::object(tr, o)))
            .collect(),
        may_add,
        may_edit_choices,
        may_archive: ui
            .authed
            .principal
            .may(Permission::ChangeSchema(SchemaChange::Structure), &ui.schema.policy),
        error,
        saved,
        shell: ui.shell("objects-admin"),
    }
}

/// "value = label" lines → choices; a line without "=" uses the text for both.
fn parse_choices(text: &str) -> Vec<Json> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((v, label)) => json!({"value": v.trim(), "label": label.trim()}),
            None => json!({"value": l, "label": l}),
        })
        .collect()
}

pub async fn add_field(Path(object): Path<String>, Posted { ui, form }: Posted<Fields>) -> PageResult {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let field_type = get("type");
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!(get("name").trim()));
    body.insert("label".into(), json!(get("label")));
    body.insert("type".into(), json!(field_type));
    body.insert("required".into(), json!(form.contains_key("required")));
    if matches!(field_type.as_str(), "select" | "multi_select") {
        body.insert("choices".into(), Json::Array(parse_choices(&get("choices"))));
    }
    if field_type == "relation" {
        body.insert("target".into(), json!(get("target")));
    }
    let path = format!("/admin/objects/{object}");
    ui.authed
        .crm
        .add_field(&ui.authed.principal, &object, Json::Object(body))
        .await
        .or_forbidden_else(&ui, |e| back(&path, Some(problem(&e))))?;
    Ok(back(&path, None))
}

pub async fn save_choices(
    Path((object, field)): Path<(String, String)>,
    Posted { ui, form }: Posted<Fields>,
) -> PageResult {
    let choices = parse_choices(form.get("choices").map_or("", String::as_str));
    let path = format!("/admin/objects/{object}");
    ui.authed
        .crm
        .update_field(&ui.authed.principal, &object, &field, json!({ "choices": choices }))
        .await
        .or_forbidden_else(&ui, |e| back(&path, Some(problem(&e))))?;
    Ok(back(&path, None))
}

pub async fn archive_field(
    Path((object, field)): Path<(String, String)>,
    Posted { ui, form: _ }: Posted<Fields>,
) -> PageResult {
    let path = format!("/admin/objects/{object}");
    ui.authed
        .crm
        .remove_field(&ui.authed.principal, &object, &field, false)
        .await
        .or_forbidden_else(&ui, |e| back(&path, Some(problem(&e))))?;
    Ok(back(&path, None))
}

// ---- Users and teams ----

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub team: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "ui/admin_users.html")]
struct UsersPage {
    shell: Shell,
    title: String,
    users: Vec<UserRow>,
    roles: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    locales: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    saved: Option<String>,
}

pub async fn users_page(ui: Ui, axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>) -> PageResult {
    if !ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let teams = ui.authed.crm.teams(&ui.authed.principal).await.unwrap_or_default();
    let users = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
    let page = users_view(&ui, users, &teams, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The people who sign in (not the system's own users), the roles and teams to give them.
fn users_view(ui: &Ui, users: Vec<User>, teams: &[Team], q: &HashMap<String, String>) -> UsersPage {
    let tr = &ui.tr;
    let team_name: HashMap<_, _> = teams.iter().map(|t| (t.id, t.name.clone())).collect();
    let users = users
        .into_iter()
        .filter(|u| u.email.is_some())
        .map(|u| UserRow {
            id: u.id.to_string(),
            email: u.email.clone().unwrap_or_default(),
            role: u.role.as_str().to_string(),
            team: u.team.map(|t| t.to_string()).unwrap_or_default(),
            active: u.active,
            name: u.name,
        })
        .collect();
    let (error, saved) = banner(q, ui);
    UsersPage {
        title: tr.t("admin-users-title"),
        users,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), tr.t(&format!("role-{}", r.as_str()))))
            .collect(),
        teams: teams
            .iter()
            .map(|t| (t.id.to_string(), team_name.get(&t.id).cloned().unwrap_or_default()))
            .collect(),
        locales: super::LANGUAGE_NAMES.to_vec(),
        error,
        saved,
        shell: ui.shell("users"),
    }
}

pub async fn create_user(Posted { ui, form }: Posted<Fields>) -> PageResult {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut body = serde_json::Map::new();
    for key in ["email", "name", "role", "locale"] {
        body.insert(key.into(), json!(get(key)));
    }
    if !get("team").is_empty() {
        body.insert("team".into(), json!(get("team")));
    }
    if !get("password").is_empty() {
        body.insert("password".into(), json!(get("password")));
    }
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    ui.authed
        .crm
        .create_user(&ui.authed.principal, Json::Object(body), &origin)
        .await
        .or_forbidden_else(&ui, |e| back("/admin/users", Some(problem(&e))))?;
    Ok(back("/admin/users", None))
}

pub async fn update_user(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> PageResult {
    let mut body = serde_json::Map::new();
    if let Some(role) = form.get("role") {
        body.insert("role".into(), json!(role));
    }
    if let Some(team) = form.get("team") {
        body.insert("team".into(), if team.is_empty() { Json::Null } else { json!(team) });
    }
    if let Some(active) = form.get("active") {
        body.insert("active".into(), json!(active == "true"));
    }
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    ui.authed
        .crm
        .update_user(&ui.authed.principal, &id, Json::Object(body), &origin)
        .await
        .or_forbidden_else(&ui, |e| back("/admin/users", Some(problem(&e))))?;
    Ok(back("/admin/users", None))
}

pub async fn create_team(Posted { ui, form }: Posted<Fields>) -> PageResult {
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    let body = json!({"name": form.get("name").cloned().unwrap_or_default()});
    ui.authed
        .crm
        .create_team(&ui.authed.principal, body, &origin)
        .await
        .or_forbidden_else(&ui, |e| back("/admin/users", Some(problem(&e))))?;
    Ok(back("/admin/users", None))
}

// ---- API tokens ----

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub used: String,
    pub expires: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "ui/tokens.html")]
struct TokensPage {
    shell: Shell,
    title: String,
    tokens: Vec<TokenRow>,
    scopes: Vec<(String, String)>,
    new_token: Option<String>,
    error: Option<String>,
}

async fn render_tokens(ui: &Ui, new_token: Option<String>, error: Option<String>, status: StatusCode) -> Response {
    let tokens = ui
        .authed
        .crm
        .tokens(&ui.authed.principal, false)
        .await
        .unwrap_or_default();
    let page = tokens_view(ui, tokens, new_token, error);
    let mut response = ui.page(status, page.render());
    // A page that may show a secret is never cached.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// The user's tokens (when last used, when they expire), the scopes a new one may have, and
/// a new token's secret to copy once.
fn tokens_view(ui: &Ui, tokens: Vec<ApiToken>, new_token: Option<String>, error: Option<String>) -> TokensPage {
    let tr = &ui.tr;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            scope: tr.t(&format!("scope-{}", t.scope.as_str())),
            used: t.last_used_at.map_or_else(
                || tr.t("tokens-never-used"),
                |at| tr.t1("tokens-last-used", "when", tr.datetime(at)),
            ),
            expires: t
                .expires_at
                .map(|at| tr.t1("tokens-expires-at", "when", tr.date(at.date_naive())))
                .unwrap_or_default(),
            revoked: t.revoked_at.is_some(),
            name: t.name,
        })
        .collect();
    TokensPage {
        title: tr.t("tokens-title"),
        tokens,
        scopes: Scope::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), tr.t(&format!("scope-{}", s.as_str()))))
            .collect(),
        new_token,
        error,
        shell: ui.shell("tokens"),
    }
}

pub async fn tokens_page(ui: Ui) -> Response {
    render_tokens(&ui, None, None, StatusCode::OK).await
}

pub async fn create_token(Posted { ui, form }: Posted<Fields>) -> PageResult {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut body = serde_json::Map::new();
    body.insert("name".into(), json!(get("name")));
    body.insert("scope".into(), json!(get("scope")));
    if !get("expires").trim().is_empty() {
        match get("expires").trim().parse::<i64>() {
            Ok(days) => {
                body.insert("expires_in_days".into(), json!(days));
            }
            Err(_) => {
                body.insert("expires_in_days".into(), json!(get("expires")));
            }
        }
    }
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    let created = ui
        .authed
        .crm
        .create_token(&ui.authed.principal, Json::Object(body), &origin)
        .await;
    Ok(match created.or_forbidden(&ui)? {
        Ok((_, secret)) => render_tokens(&ui, Some(secret), None, StatusCode::CREATED).await,
        Err(e) => render_tokens(&ui, None, Some(problem(&e)), StatusCode::UNPROCESSABLE_ENTITY).await,
    })
}

pub async fn revoke_token(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Fields>) -> Response {
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    match ui.authed.crm.revoke_token(&ui.authed.principal, &id, &origin).await {
        Ok(_) => Redirect::to("/account/tokens").into_response(),
        Err(e) => render_tokens(&ui, None, Some(problem(&e)), StatusCode::NOT_FOUND).await,
    }
}
