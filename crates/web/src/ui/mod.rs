//! The web UI people use every day: the app shell, record lists, record pages and forms.
//! Server-rendered (askama), every string through Fluent, state in the URL.

mod admin;
mod adoption;
mod board;
mod charts;
mod consent;
mod currency;
mod dashboards;
mod duplicates;
mod exports;
mod forecast;
pub mod format;
pub mod gantt;
mod home;
mod imports;
mod jobs;
mod labels;
mod lists;
mod logs;
mod mailings;
mod marketing;
mod onboarding;
mod page_error;
mod posted;
mod projects;
mod quality;
mod records;
mod reports;
mod selections;
mod stewardship;
mod support;
mod support_figures;
mod support_hypercare;
mod support_settings;
mod svg;
mod templates;
mod totals;
mod training;

use crate::AppState;
use crate::extract::{Authed, authenticate_session};
use crate::i18n::Tr;
use crate::pages::context::PageCtx;
use anchora_core::auth::{Permission, Role, SchemaChange};
use anchora_core::identity::User;
use anchora_core::meta::{FieldDef, FieldType, ObjectDef, Schema};
use anchora_core::record::Record;
use anchora_core::value::Value;
use anchora_core::{RecordId, UserId};
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
pub use posted::Posted;
pub(crate) use reports::sheet_rows;
use std::collections::HashMap;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/o/{object}", get(lists::list_page))
        .route("/o/{object}/new", get(records::new_page).post(records::create))
        .route("/o/{object}/board", get(board::board_page))
        .route("/o/{object}/views", post(lists::save_view))
        .route("/o/{object}/bulk", post(lists::bulk))
        .route("/o/{object}/export", get(exports::export_list))
        .route("/o/{object}/views/{id}/delete", post(lists::delete_view))
        .route("/o/{object}/{id}/move", post(board::move_card))
        .route("/o/{object}/{id}", get(records::record_page))
        .route("/o/{object}/{id}/edit", get(records::edit_page).post(records::update))
        .route("/o/{object}/{id}/delete", post(records::delete))
        .route("/o/{object}/{id}/restore", post(records::restore))
        .route("/o/{object}/{id}/activities", post(records::add_activity))
        .route("/o/{object}/{id}/field", post(records::save_field))
        .route("/o/{object}/{id}/consents", post(consent::record))
        .route("/o/activity/{id}/done", post(home::tick_done))
        .route("/admin/audit", get(logs::audit_page))
        .route("/admin/changes", get(logs::changes_page))
        .route("/admin/objects", get(admin::objects_page).post(admin::create_object))
        .route("/admin/objects/{object}", get(admin::fields_page))
        .route("/admin/objects/{object}/fields", post(admin::add_field))
        .route(
            "/admin/objects/{object}/fields/{field}/choices",
            post(admin::save_choices),
        )
        .route(
            "/admin/objects/{object}/fields/{field}/archive",
            post(admin::archive_field),
        )
        .route(
            "/admin/currency",
            get(currency::currency_form).post(currency::save_currency),
        )
        .route("/admin/users", get(admin::users_page).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/teams", post(admin::create_team))
        .route("/account/tokens", get(admin::tokens_page).post(admin::create_token))
        .route("/reports", get(reports::reports_page))
        .route("/reports/export", get(reports::export))
        .route("/reports/save", post(reports::save))
        .route("/reports/{id}", get(reports::saved_page))
        .route("/reports/{id}/delete", post(reports::delete))
        .route("/reports/{id}/dashboard", post(dashboards::add_report))
        .route("/dashboards", get(dashboards::home_page))
        .route("/dashboards/new", post(dashboards::create))
        .route("/dashboards/{id}", get(dashboards::dashboard_page))
        .route("/dashboards/{id}/settings", post(dashboards::settings))
        .route("/dashboards/{id}/widgets", post(dashboards::add_widget))
        .route("/dashboards/{id}/widgets/{n}", post(dashboards::widget))
        .route("/dashboards/{id}/delete", post(dashboards::delete))
        .route("/forecast", get(forecast::forecast_page))
        .route("/forecast/quotas", post(forecast::set_quota))
        .route("/forecast/quotas/{id}/delete", post(forecast::delete_quota))
        .route("/adoption", get(adoption::adoption_page))
        .route("/adoption/measure", post(adoption::measure))
        .route(
            "/adoption/settings",
            get(adoption::settings_form).post(adoption::save_settings),
        )
        .route("/adoption/users/{id}", get(adoption::user_page))
        .route("/adoption/users/{id}/support", post(adoption::plan_support))
        .route(
            "/adoption/expectations",
            get(adoption::expectations).post(adoption::set_expectation),
        )
        .route("/adoption/expectations/{id}/delete", post(adoption::delete_expectation))
        .route("/home", get(home::home_page))
        .route("/projects", get(projects::projects_page).post(projects::create_project))
        .route("/projects/roles", post(projects::add_catalogue_role))
        .route("/projects/{id}", get(projects::overview))
        .route("/projects/{id}/group", get(projects::group))
        .route("/projects/{id}/plan", get(projects::plan))
        .route(
            "/projects/{id}/packages",
            get(projects::packages).post(projects::add_package),
        )
        .route(
            "/projects/{id}/settings",
            get(projects::settings_page).post(projects::save_settings),
        )
        .route("/projects/{id}/members", post(projects::add_member))
        .route("/projects/{id}/members/{n}/roles", post(projects::member_roles))
        .route("/projects/{id}/members/{n}/remove", post(projects::remove_member))
        .route("/projects/{id}/members/{n}/confirm", post(projects::confirm_roles))
        .route("/projects/{id}/members/{n}/review", post(projects::review_role))
        .route("/projects/{id}/tasks", post(projects::add_task))
        .route(
            "/projects/{id}/tasks/{n}",
            get(projects::task_page).post(projects::save_task),
        )
        .route("/projects/{id}/tasks/{n}/delete", post(projects::delete_task))
        .route("/projects/{id}/dependencies", post(projects::dependencies))
        .route("/projects/{id}/packages/{n}/state", post(projects::move_package))
        .route(
            "/projects/{id}/changes",
            get(projects::changes_page).post(projects::raise_change),
        )
        .route("/projects/{id}/changes/{n}/{step}", post(projects::change_step))
        .route(
            "/projects/{id}/meetings",
            get(projects::meetings_page).post(projects::add_meeting),
        )
        .route("/projects/{id}/meetings/{n}/minutes", post(projects::minutes))
        .route("/projects/{id}/actions", post(projects::add_action))
        .route("/projects/{id}/actions/{n}/{step}", post(projects::action_step))
        .route("/projects/{id}/escalations", post(projects::escalate))
        .route(
            "/projects/{id}/escalations/{n}/decide",
            post(projects::decide_escalation),
        )
        .route("/projects/{id}/communication", get(projects::communication_page))
        .route(
            "/projects/{id}/reports",
            get(projects::reports_page).post(projects::send_report),
        )
        .route("/projects/{id}/reports/template", post(projects::save_template))
        .route("/projects/{id}/reports/{n}", get(projects::report_page))
        .route("/projects/{id}/reports/{n}/print", get(projects::print_page))
        .route("/projects/{id}/reports/{n}/markdown", get(projects::markdown))
        .route(
            "/projects/{id}/journeys",
            get(projects::journeys_page).post(projects::add_journey),
        )
        .route("/projects/{id}/requirements", post(projects::add_requirement))
        .route("/projects/{id}/requirements/{n}/traces", post(projects::add_trace))
        .route("/projects/{id}/configuration", post(projects::add_config_item))
        .route(
            "/projects/{id}/configuration/{n}/delete",
            post(projects::delete_config_item),
        )
        .route("/projects/{id}/communications", post(projects::add_communication))
        .route(
            "/projects/{id}/communications/{n}/{step}",
            post(projects::communication_step),
        )
        .route("/account/tokens/{id}/revoke", post(admin::revoke_token))
        .route(
            "/imports",
            get(imports::imports_page)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    anchora_core::import::service::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
        )
        .route("/imports/{id}", get(imports::import_page))
        .route("/quality", get(quality::quality_page))
        .route("/quality/measure", post(quality::measure))
        .route("/quality/rules", get(quality::rules_form).post(quality::save_rules))
        .route("/jobs", get(jobs::jobs_page))
        .route("/jobs/{id}/panel", get(jobs::panel_fragment))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/file", get(jobs::file))
        .route("/onboarding", get(onboarding::board_page))
        .route(
            "/onboarding/templates",
            get(onboarding::templates_form).post(onboarding::save_templates),
        )
        .route("/onboarding/users/{id}", get(onboarding::checklist_page))
        .route("/onboarding/users/{id}/start", post(onboarding::start))
        .route("/onboarding/users/{id}/steps/{number}", post(onboarding::tick))
        .route("/training", get(training::training_page))
        .route("/training/courses", post(training::create_course))
        .route(
            "/training/courses/{id}",
            get(training::course_view).post(training::update_course),
        )
        .route("/training/sessions", post(training::create_session))
        .route("/training/sessions/{id}", get(training::session_page))
        .route("/training/sessions/{id}/attendance", post(training::record_attendance))
        .route("/duplicates", get(duplicates::duplicates_page))
        .route("/duplicates/scan", post(duplicates::scan))
        .route("/duplicates/dismiss", post(duplicates::dismiss))
        .route("/duplicates/merge", post(duplicates::merge))
        .route("/duplicates/undo", post(duplicates::undo))
        .route("/selections", get(selections::selections_page).post(selections::build))
        .route("/selections/new", get(selections::new_page))
        .route("/selections/{id}", get(selections::selection_page))
        .route("/selections/{id}/add", post(selections::add))
        .route("/selections/{id}/remove", post(selections::remove))
        .route("/selections/{id}/delete", post(selections::delete))
        .route("/selections/{id}/print", get(selections::print))
        .route("/templates", get(templates::templates_page).post(templates::create))
        .route("/templates/new", get(templates::new_page))
        .route("/templates/{id}", get(templates::edit_page).post(templates::save))
        .route("/templates/{id}/delete", post(templates::delete))
        .route("/templates/{id}/print", get(templates::print_page))
        .route("/mailings", get(mailings::mailings_page).post(mailings::create))
        .route("/mailings/new", get(mailings::new_page))
        .route("/mailings/{id}", get(mailings::mailing_page).post(mailings::update))
        .route("/mailings/{id}/edit", get(mailings::edit_page))
        .route("/mailings/{id}/{step}", post(mailings::step))
        .route("/imports/{id}/start", post(imports::start))
        .route("/imports/{id}/rejected.csv", get(imports::rejected))
        .route("/imports/{id}/warnings.csv", get(imports::warnings_csv))
        .merge(support::routes())
        .merge(support_figures::routes())
        .merge(support_hypercare::routes())
        .merge(support_settings::routes())
        .merge(stewardship::routes())
}

/// One entry of the sidebar.
pub struct NavItem {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// What every page of the app shows around its content.
pub struct Shell {
    pub tr: Tr,
    pub workspace: String,
    pub user_name: String,
    pub csrf: String,
    pub objects: Vec<NavItem>,
    /// Beyond records: the implementation project (and reports).
    pub work: Vec<NavItem>,
    pub admin: Vec<NavItem>,
    /// Object names → labels, for the search palette's script.
    pub labels_json: String,
    /// (code, name in its own language, chosen) for the language switcher.
    pub languages: Vec<(&'static str, &'static str, bool)>,
    /// Where the language switcher returns to.
    pub back: String,
    /// Whether to offer actions that change records (the server checks again).
    pub may_write: bool,
    pub may_delete: bool,
}

/// Each language by its own name.
pub const LANGUAGE_NAMES: [(&str, &str); 6] = [
    ("en", "English (US)"),
    ("en-GB", "English (UK)"),
    ("sv", "Svenska"),
    ("de", "Deutsch"),
    ("da", "Dansk"),
    ("es", "Español"),
];

/// A signed-in request: who, in which language, with the schema it started with.
pub struct Ui {
    pub authed: Authed,
    pub tr: Tr,
    pub schema: Arc<Schema>,
    pub ctx: PageCtx,
    /// The page's path and query, for links back to it.
    pub path: String,
}

impl axum::extract::FromRequestParts<AppState> for Ui {
    /// Not signed in: a redirect to the login page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = match PageCtx::from_request_parts(parts, state).await {
            Ok(ctx) => ctx,
            Err(never) => match never {},
        };
        Ui::from(state, parts, ctx).await
    }
}

impl Ui {
    /// The session's user, or a redirect to the login page.
    pub async fn from(state: &AppState, parts: &Parts, ctx: PageCtx) -> Result<Ui, Response> {
        let a = authenticate_session(parts, state)
            .await
            .map_err(|_| Redirect::to("/login").into_response())?;
        let tr = if ctx.chosen_lang().is_some() {
            ctx.tr().clone()
        } else {
            Tr::new(&a.user.locale)
        };
        let schema = a.crm.schema().await.map_err(|e| {
            tracing::error!(error = %e, "the schema could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        })?;
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        Ok(Ui {
            authed: a,
            tr,
            schema,
            ctx,
            path,
        })
    }

    pub fn shell(&self, current: &str) -> Shell {
        let tr = &self.tr;
        let objects = self
            .schema
            .objects
            .values()
            .filter(|o| !o.archived)
            .map(|o| NavItem {
                href: format!("/o/{}", o.name),
                label: labels::object_plural(tr, o),
                current: current == o.name,
            })
            .collect::<Vec<_>>();
        let mut ordered = Vec::new();
        // The standard objects first, in the order people work with them.
        for name in ["company", "person", "deal", "activity"] {
            if let Some(i) = objects.iter().position(|n| n.href == format!("/o/{name}")) {
                ordered.push(i);
            }
        }
        let mut objects: Vec<Option<NavItem>> = objects.into_iter().map(Some).collect();
        let mut nav: Vec<NavItem> = ordered
            .iter()
            .filter_map(|i| objects.get_mut(*i).and_then(Option::take))
            .collect();
        nav.extend(objects.into_iter().flatten());
        let policy = &self.schema.policy;
        let p = &self.authed.principal;
        let mut admin = Vec::new();
        if p.may(Permission::ChangeSchema(SchemaChange::AddField), policy)
            || p.may(Permission::ChangeSchema(SchemaChange::EditPicklist), policy)
        {
            admin.push(NavItem {
                href: "/admin/objects".into(),
                label: tr.t("nav-objects-admin"),
                current: current == "objects-admin",
            });
        }
        if p.may(Permission::ManageUsers, policy) {
            admin.push(NavItem {
                href: "/admin/users".into(),
                label: tr.t("nav-users"),
                current: current == "users",
            });
        }
        if p.may(Permission::Import, policy) {
            admin.push(NavItem {
                href: "/imports".into(),
                label: tr.t("nav-imports"),
                current: current == "imports",
            });
            admin.push(NavItem {
                href: "/duplicates".into(),
                label: tr.t("nav-duplicates"),
                current: current == "duplicates",
            });
        }
        admin.extend(if self.authed.user.role == Role::Admin {
            vec![
                NavItem {
                    href: "/admin/audit".into(),
                    label: tr.t("nav-audit"),
                    current: current == "audit",
                },
                NavItem {
                    href: "/admin/changes".into(),
                    label: tr.t("nav-changes"),
                    current: current == "changes",
                },
                NavItem {
                    href: "/admin/currency".into(),
                    label: tr.t("nav-currency"),
                    current: current == "currency",
                },
            ]
        } else {
            Vec::new()
        });
        admin.push(NavItem {
            href: "/jobs".into(),
            label: tr.t("nav-jobs"),
            current: current == "jobs",
        });
        admin.push(NavItem {
            href: "/account/tokens".into(),
            label: tr.t("nav-tokens"),
            current: current == "tokens",
        });
        let item = |href: &str, key: &str, name: &str| NavItem {
            href: href.into(),
            label: tr.t(key),
            current: current == name,
        };
        let mut work = vec![
            item("/home", "nav-my-work", "home"),
            item("/reports", "nav-reports", "reports"),
            item("/dashboards", "nav-dashboards", "dashboards"),
            item("/forecast", "nav-forecast", "forecast"),
            item("/adoption", "nav-adoption", "adoption"),
            item("/onboarding", "nav-onboarding", "onboarding"),
            item("/training", "nav-training", "training"),
            item("/support", "nav-support", "support"),
            item("/stewardship", "nav-stewardship", "stewardship"),
        ];
        // Selections, templates and mailings, for those who may send mass mailings.
        if p.may(Permission::MassMail, policy) {
            work.push(item("/mailings", "nav-mailings", "mailings"));
        }
        work.push(item("/quality", "nav-quality", "quality"));
        work.push(item("/projects", "nav-project", "projects"));
        let labels_json = serde_json::Value::Object(
            self.schema
                .objects
                .values()
                .map(|o| (o.name.clone(), serde_json::Value::String(labels::object(tr, o))))
                .collect(),
        )
        .to_string();
        Shell {
            languages: LANGUAGE_NAMES
                .iter()
                .map(|(code, name)| (*code, *name, *code == tr.tag))
                .collect(),
            back: self.path.clone(),
            may_write: p.may(Permission::WriteRecords, policy),
            may_delete: p.may(Permission::DeleteRecords, policy),
            labels_json,
            tr: tr.clone(),
            workspace: self.authed.workspace.clone(),
            user_name: self.authed.user.name.clone(),
            csrf: self
                .authed
                .session
                .as_ref()
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            objects: nav,
            work,
            admin,
        }
    }

    /// The objects in use, (name, plural label), for a page's object picker.
    pub fn object_choices(&self) -> Vec<(String, String)> {
        self.schema
            .objects
            .values()
            .filter(|o| !o.archived)
            .map(|o| (o.name.clone(), labels::object_plural(&self.tr, o)))
            .collect()
    }

    pub fn object(&self, name: &str) -> Option<ObjectDef> {
        self.schema.objects.get(name).filter(|o| !o.archived).cloned()
    }

    /// Whether a form carries this session's CSRF token.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        self.authed
            .session
            .as_ref()
            .is_some_and(|s| anchora_core::secret::constant_time_eq(sent, &s.csrf_token))
    }

    pub fn page(&self, status: StatusCode, html: Result<String, askama::Error>) -> Response {
        self.ctx.page(status, html, Vec::new())
    }
}

/// A value as shown on a page: its text, and a link when it points somewhere.
#[derive(Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub numeric: bool,
}

/// Everything needed to show values: user names and the titles of related records.
pub struct Resolver {
    /// Everyone in the workspace, read once per page (owner names, user pickers).
    pub people: Vec<User>,
    users: HashMap<UserId, String>,
    titles: HashMap<(String, RecordId), String>,
}

impl Resolver {
    /// The workspace's users, with no related records looked up yet.
    pub async fn new(ui: &Ui) -> Resolver {
        let people = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
        Resolver {
            users: people.iter().map(|u: &User| (u.id, u.name.clone())).collect(),
            people,
            titles: HashMap::new(),
        }
    }

    /// The users, and every related record the given records point at.
    pub async fn for_records(ui: &Ui, object: &ObjectDef, records: &[Record]) -> Resolver {
        let mut resolver = Resolver::new(ui).await;
        resolver.add_titles(ui, object, records).await;
        resolver
    }

    /// Look up the titles of the records these records point at (one query per related object).
    pub async fn add_titles(&mut self, ui: &Ui, object: &ObjectDef, records: &[Record]) {
        let mut wanted: HashMap<String, Vec<RecordId>> = HashMap::new();
        for f in object.active_fields().filter(|f| f.field_type == FieldType::Relation) {
            let Some(target) = &f.target else { continue };
            for r in records {
                if let Value::Relation(id) = r.get(&f.name) {
                    wanted.entry(target.clone()).or_default().push(*id);
                }
            }
        }
        for (target, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            ids.retain(|id| !self.titles.contains_key(&(target.clone(), *id)));
            if let Ok(found) = ui.authed.crm.titles(&ui.authed.principal, &target, &ids).await {
                for (id, title) in found {
                    self.titles.insert((target.clone(), id), title);
                }
            }
        }
    }

    pub fn user(&self, id: Option<UserId>) -> String {
        id.and_then(|u| self.users.get(&u).cloned()).unwrap_or_default()
    }

    pub fn cell(&self, tr: &Tr, object: &ObjectDef, field: &FieldDef, record: &Record) -> Cell {
        let value = match field.name.as_str() {
            "created_at" if object.field("created_at").is_none() => Value::DateTime(record.created_at),
            "updated_at" if object.field("updated_at").is_none() => Value::DateTime(record.updated_at),
            "owner" if object.field("owner").is_none() => {
                return Cell {
                    text: self.user(record.owner),
                    ..Cell::default()
                };
            }
            name => record.get(name).clone(),
        };
        if record.withheld.fields.contains(&field.name) {
            return Cell {
                text: tr.t("record-withheld"),
                ..Cell::default()
            };
        }
        let locale = tr.locale;
        match (&value, field.field_type) {
            (Value::Relation(id), _) => {
                let target = field.target.clone().unwrap_or_default();
                match self.titles.get(&(target.clone(), *id)) {
                    Some(title) => Cell {
                        text: title.clone(),
                        href: Some(format!("/o/{target}/{id}")),
                        numeric: false,
                    },
                    // A record the user may not see shows as nothing at all.
                    None => Cell::default(),
                }
            }
            (Value::User(u), _) => Cell {
                text: self.user(Some(*u)),
                ..Cell::default()
            },
            (Value::Bool(b), _) => Cell {
                text: tr.t(if *b { "bool-yes" } else { "bool-no" }),
                ..Cell::default()
            },
            (Value::Select(s), _) => Cell {
                text: labels::choice(tr, object, field, s),
                ..Cell::default()
            },
            (Value::MultiSelect(items), _) => Cell {
                text: items
                    .iter()
                    .map(|s| labels::choice(tr, object, field, s))
                    .collect::<Vec<_>>()
                    .join(", "),
                ..Cell::default()
            },
            (Value::Text(t), FieldType::Email) => Cell {
                text: t.clone(),
                href: Some(format!("mailto:{t}")),
                numeric: false,
            },
            (Value::Text(t), FieldType::Phone) => Cell {
                text: t.clone(),
                href: Some(format!("tel:{}", t.replace(' ', ""))),
                numeric: false,
            },
            (Value::Text(t), FieldType::Url) if t.starts_with("https://") || t.starts_with("http://") => Cell {
                text: t.clone(),
                href: Some(t.clone()),
                numeric: false,
            },
            _ => {
                let currency = match record.get("currency") {
                    Value::Select(c) => Some(c.as_str()),
                    _ => None,
                };
                Cell {
                    text: format::value(locale, tr.tag, field, &value, currency),
                    href: None,
                    numeric: format::is_numeric(field.field_type),
                }
            }
        }
    }
}

/// A validation message in the user's language when it has a translation; as the core said it
/// otherwise.
pub fn field_message(tr: &Tr, message: &str) -> String {
    match anchora_core::value::message_kind(message) {
        Some(kind) => tr.t(&format!("error-{kind}")),
        None => message.to_string(),
    }
}

/// A page that only says something: its title and one line.
fn message(ui: &Ui, status: StatusCode, title_key: &str, text_key: &str) -> Response {
    #[derive(askama::Template)]
    #[template(path = "ui/message.html")]
    struct Message {
        shell: Shell,
        title: String,
        text: String,
    }
    let page = Message {
        shell: ui.shell(""),
        title: ui.tr.t(title_key),
        text: ui.tr.t(text_key),
    };
    ui.page(status, askama::Template::render(&page))
}

/// The page for an unknown object or record: the same whether it does not exist or is hidden.
pub fn not_found(ui: &Ui) -> Response {
    message(ui, StatusCode::NOT_FOUND, "record-not-found", "record-not-found")
}

/// The page for what the caller's role does not allow.
pub fn forbidden(ui: &Ui) -> Response {
    message(ui, StatusCode::FORBIDDEN, "forbidden-title", "forbidden-text")
}

/// The answer to a form without this session's CSRF token.
pub fn form_expired(ui: &Ui) -> Response {
    message(ui, StatusCode::FORBIDDEN, "forbidden-title", "form-expired")
}

/// A redirect target a request named, when it is a path of this site: it starts with one `/`
/// and holds no backslash (browsers read `/\\evil.example` as another host), no control
/// character or space, and parses as a path and query. Anything else is `None`.
pub fn same_site_path(target: &str) -> Option<&str> {
    let mut chars = target.chars();
    let ok = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !target.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        && target.len() <= 2048
        && target.parse::<axum::http::uri::PathAndQuery>().is_ok();
    ok.then_some(target)
}

/// A form's value by name ("" when absent).
pub fn form_value<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// The version a form names, if any.
pub fn form_version(form: &[(String, String)]) -> Option<i64> {
    form_value(form, "version").parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn only_paths_of_this_site_are_redirect_targets() {
        for ok in ["/", "/o/person?sort=last_name", "/o/person/0190?lang=sv&x=%2F"] {
            assert_eq!(same_site_path(ok), Some(ok));
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "/o/person\\..\\..",
            "https://evil.example",
            "evil.example",
            "",
            "/\t/evil.example",
            "/ /evil",
            "/o\r\nLocation: https://evil.example",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
