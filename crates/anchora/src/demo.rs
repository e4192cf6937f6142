//! Demo data: a realistic CRM in seconds. Deterministic (a fixed seed), spread over the last
//! 18 months, with names, cities and phone formats from Sweden, Germany, Denmark, Spain and the
//! UK/US. Written in batches through the store's bulk insert, so a million people is a minute.

use crate::names::{COUNTRIES, Country, Locale, ascii_slug, locale};
use anchora_core::auth::Role;
use anchora_core::identity::{Team, User};
use anchora_core::meta::ObjectDef;
use anchora_core::record::Record;
use anchora_core::store::WriteCtx;
use anchora_core::store::{RecordStore, SchemaStore, SettingStore, UserStore};
use anchora_core::value::Value;
use anchora_core::{Clock, RecordId, TeamId, UserId};
use anchora_store::SqlStore;
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

// Declared here rather than beside the other demo modules in `main.rs`, which is being
// changed elsewhere; it is the demo's, as they are.
#[path = "demo_support.rs"]
mod demo_support;

pub const DEMO_ADMIN: &str = "admin@example.com";
const BATCH: usize = 5_000;
const SPAN_DAYS: i64 = 548;

pub struct DemoLogin {
    pub email: String,
    pub password: String,
    pub token: String,
}

/// Fill the store when it is empty; return the demo login either way.
pub async fn ensure(store: &Arc<SqlStore>, data_dir: &Path, people: u64, clock: Arc<dyn Clock>) -> Result<DemoLogin> {
    let login_file = data_dir.join("demo-login.txt");
    if let Ok(text) = std::fs::read_to_string(&login_file) {
        let mut lines = text.lines();
        if let (Some(email), Some(password), Some(token)) = (lines.next(), lines.next(), lines.next()) {
            return Ok(DemoLogin {
                email: email.into(),
                password: password.into(),
                token: token.into(),
            });
        }
    }
    let now = clock.now();
    let password = random_secret(16);
    let mut admin = User::new(
        UserId::new_at(now),
        Some(DEMO_ADMIN.into()),
        "Demo Admin",
        Role::Admin,
        now,
    );
    admin.password_hash = Some(hash_password(&password)?);
    if store
        .user_by_email(DEMO_ADMIN)
        .await
        .map_err(|e| anyhow!(e.detail))?
        .is_none()
    {
        store.create_user(&admin).await.map_err(|e| anyhow!(e.detail))?;
    }
    let schema = store.schema().await.map_err(|e| anyhow!(e.detail))?;
    let person = schema.object("person").map_err(|e| anyhow!(e.detail))?;
    if store.count_records(person).await.map_err(|e| anyhow!(e.detail))? == 0 {
        generate(store, people, None, admin.id, &*clock).await?;
        consents(store, person, admin.id, &*clock).await?;
        reports(store, admin.id, &*clock).await?;
        dashboards(store, admin.id, &*clock).await?;
        quotas(store, &clock).await?;
        let mut sales = Vec::new();
        for (_, members) in SALES_TEAMS {
            for (_, email, _) in members {
                if let Some(u) = store.user_by_email(email).await.map_err(|e| anyhow!(e.detail))? {
                    sales.push(u.id);
                }
            }
        }
        crate::demo_adoption::seed(store, &sales, admin.id, clock.clone()).await?;
        crate::demo_onboarding::seed(store, admin.id, clock.clone()).await?;
        demo_support::seed(store, admin.id, clock.clone()).await?;
    }
    let token = crate::create_service_token(
        store,
        anchora_core::workspace::DEFAULT_WORKSPACE,
        "demo",
        Role::Admin,
        None,
        clock,
    )
    .await?;
    std::fs::create_dir_all(data_dir)?;
    write_private(&login_file, &format!("{DEMO_ADMIN}\n{password}\n{token}\n"))?;
    Ok(DemoLogin {
        email: DEMO_ADMIN.into(),
        password,
        token,
    })
}

/// The demo's workspace keeps Swedish time, and its shared reports are the ones a sales
/// manager opens every week.
async fn reports(store: &Arc<SqlStore>, admin: UserId, clock: &dyn Clock) -> Result<()> {
    use anchora_core::reports::{ReportStore, SavedReport};
    let zone = serde_json::json!({"time_zone": "Europe/Stockholm"}).to_string();
    store
        .put_setting(anchora_core::zone::TIME_ZONE_KEY, &zone)
        .await
        .map_err(|e| anyhow!(e.detail))?;
    let open =
        serde_json::json!({"field": "stage", "op": "in", "value": ["lead", "qualified", "proposal", "negotiation"]});
    let specs = [
        (
            "Pipeline by stage and owner",
            serde_json::json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "owner"}],
                "measure": {"func": "sum", "field": "amount"}, "chart": "stacked_bar"}),
        ),
        (
            "Open deals by expected close month",
            serde_json::json!({"object": "deal", "filter": open, "groups": [{"field": "expected_close", "bucket": "month"}],
                "measure": {"func": "sum", "field": "amount"}, "chart": "line"}),
        ),
        (
            "Won deals per quarter and team",
            serde_json::json!({"object": "deal", "filter": {"field": "stage", "op": "eq", "value": "won"},
                "groups": [{"field": "expected_close", "bucket": "quarter"}, {"field": "team"}],
                "measure": {"func": "sum", "field": "amount"}, "chart": "stacked_bar"}),
        ),
        (
            "Activities by type",
            serde_json::json!({"object": "activity", "groups": [{"field": "type"}], "chart": "donut"}),
        ),
    ];
    let now = clock.now();
    for (name, spec) in specs {
        let report = SavedReport {
            id: anchora_core::ids::ReportId::new_at(now),
            name: name.to_string(),
            owner: admin,
            shared: true,
            spec: serde_json::from_value(spec)?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store.create_report(&report).await.map_err(|e| anyhow!(e.detail))?;
    }
    Ok(())
}

/// The default dashboards, one per role, built from the shared reports and a few more, with
/// figures that tell the week's story: what was won against the month before, what is open,
/// who works on it, and where the data has gaps.
/// Quotas for the sellers this quarter and next, about what their open pipeline can reach, and
/// this week's forecast snapshot (accuracy shows once periods with snapshots have ended).
async fn quotas(store: &Arc<SqlStore>, clock: &Arc<dyn Clock>) -> Result<()> {
    use anchora_core::forecast::{ForecastStore, Quota};
    use anchora_core::period::Bucket;
    let crm = anchora_core::service::Crm::new(store.clone(), clock.clone());
    let zone = crm.time_zone().await.map_err(|e| anyhow!(e.detail))?;
    let today = clock.now().with_timezone(&zone).date_naive();
    let quarter = Bucket::Quarter.start_of(today);
    let sellers: Vec<_> = store
        .users()
        .await
        .map_err(|e| anyhow!(e.detail))?
        .into_iter()
        .filter(|u| u.role == Role::User && u.active)
        .collect();
    for (i, seller) in sellers.iter().enumerate() {
        for (n, period) in [quarter, Bucket::Quarter.step(quarter, 1)].into_iter().enumerate() {
            // 400,000–700,000 SEK a quarter, a little more next quarter.
            let base = 400_000 + 50_000 * i64::try_from(i % 7).unwrap_or(0);
            let amount = (base + 50_000 * i64::try_from(n).unwrap_or(0)) * 100;
            let quota = Quota {
                id: anchora_core::ids::RecordId::new_at(clock.now()),
                user: Some(seller.id),
                team: None,
                bucket: Bucket::Quarter,
                period_start: period,
                amount,
                currency: "SEK".into(),
            };
            store.put_quota(&quota).await.map_err(|e| anyhow!(e.detail))?;
        }
    }
    crm.snapshot_forecast().await.map_err(|e| anyhow!(e.detail))?;
    Ok(())
}

async fn dashboards(store: &Arc<SqlStore>, admin: UserId, clock: &dyn Clock) -> Result<()> {
    use anchora_core::dashboards::{Dashboard, DashboardId, DashboardStore, Scope};
    use anchora_core::reports::{ReportStore, SavedReport};
    use serde_json::json;
    let now = clock.now();
    let open = json!({"field": "stage", "op": "in", "value": ["lead", "qualified", "proposal", "negotiation"]});
    let more = [
        (
            "My open pipeline by stage",
            json!({"object": "deal", "filter": open, "groups": [{"field": "stage"}],
                "measure": {"func": "sum", "field": "amount"}, "chart": "funnel"}),
        ),
        (
            "People added per week",
            json!({"object": "person", "groups": [{"field": "created_at", "bucket": "week"}], "chart": "line"}),
        ),
        (
            "Deals per team",
            json!({"object": "deal", "groups": [{"field": "team"}], "chart": "bar"}),
        ),
    ];
    for (name, spec) in more {
        let report = SavedReport {
            id: anchora_core::ids::ReportId::new_at(now),
            name: name.to_string(),
            owner: admin,
            shared: true,
            spec: serde_json::from_value(spec)?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store.create_report(&report).await.map_err(|e| anyhow!(e.detail))?;
    }
    let saved = store.reports(admin).await.map_err(|e| anyhow!(e.detail))?;
    let report = |name: &str, width: u8, date_field: Option<&str>| -> Result<serde_json::Value> {
        let r = saved
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| anyhow!("no demo report {name}"))?;
        Ok(json!({"kind": "report", "report": r.id, "width": width, "date_field": date_field}))
    };
    let figure =
        |title: &str, object: &str, filter: Option<serde_json::Value>, measure: serde_json::Value, date: &str| {
            json!({"kind": "figure", "title": title, "object": object, "filter": filter, "measure": measure,
            "date_field": date, "width": 1})
        };
    // One of the support chain's figures, of the questions the reader may see.
    let support = |figure: &str, width: u8| json!({"kind": "support", "figure": figure, "width": width});
    // A figure of gaps in the data: fewer is better.
    let gaps = |mut w: serde_json::Value| {
        if let Some(o) = w.as_object_mut() {
            o.insert("lower_is_better".into(), json!(true));
        }
        w
    };
    let won = || Some(json!({"field": "stage", "op": "eq", "value": "won"}));
    let sum = json!({"func": "sum", "field": "amount"});
    let count = json!({"func": "count"});
    let boards = [
        (
            "Sales",
            vec![Role::User],
            Scope::Me,
            vec![
                report("My open pipeline by stage", 2, None)?,
                figure("Won this period", "deal", won(), sum.clone(), "expected_close"),
                figure("Deals won", "deal", won(), count.clone(), "expected_close"),
                figure(
                    "Activities done",
                    "activity",
                    Some(json!({"field": "done", "op": "eq", "value": true})),
                    count.clone(),
                    "due_at",
                ),
                report("Activities by type", 1, Some("due_at"))?,
            ],
        ),
        (
            "Sales management",
            vec![Role::Admin, Role::ReadOnly],
            Scope::Everyone,
            vec![
                figure("Won amount", "deal", won(), sum.clone(), "expected_close"),
                figure("Deals won", "deal", won(), count.clone(), "expected_close"),
                figure("New deals", "deal", None, count.clone(), "created_at"),
                report("Pipeline by stage and owner", 3, None)?,
                report("Won deals per quarter and team", 2, None)?,
                report("Open deals by expected close month", 1, None)?,
            ],
        ),
        (
            "Key users",
            vec![Role::KeyUser],
            Scope::Everyone,
            vec![
                figure("People added", "person", None, count.clone(), "created_at"),
                gaps(figure(
                    "People added without e-mail",
                    "person",
                    Some(json!({"field": "email", "op": "is_empty", "value": true})),
                    count.clone(),
                    "created_at",
                )),
                gaps(figure(
                    "Companies added without a city",
                    "company",
                    Some(json!({"field": "city", "op": "is_empty", "value": true})),
                    count.clone(),
                    "created_at",
                )),
                report("People added per week", 2, None)?,
                report("Activities by type", 1, Some("due_at"))?,
                support("asked", 1),
            ],
        ),
        (
            "Support",
            vec![Role::Admin, Role::KeyUser],
            Scope::Everyone,
            vec![
                support("asked", 1),
                support("solved", 1),
                support("breaches", 1),
                support("weekly", 3),
                support("levels", 2),
                support("categories", 1),
            ],
        ),
        (
            "Administration",
            vec![Role::Admin],
            Scope::Everyone,
            vec![
                figure("People added", "person", None, count.clone(), "created_at"),
                figure("Companies added", "company", None, count.clone(), "created_at"),
                figure("Deals changed", "deal", None, count, "updated_at"),
                report("Deals per team", 2, Some("created_at"))?,
                report("People added per week", 1, None)?,
            ],
        ),
    ];
    for (name, audience, scope, widgets) in boards {
        let dashboard = Dashboard {
            id: DashboardId::new_at(now),
            name: name.to_string(),
            owner: admin,
            shared: true,
            audience,
            scope,
            widgets: widgets
                .into_iter()
                .map(serde_json::from_value)
                .collect::<std::result::Result<_, _>>()?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store
            .create_dashboard(&dashboard)
            .await
            .map_err(|e| anyhow!(e.detail))?;
    }
    Ok(())
}

/// Three subscription types, and the consents of the first people to them as a CRM that has
/// asked for a while would hold them: most said yes to the newsletter (on a form, at a fair, in
/// the old system), some took it back later, fewer signed up for events.
async fn consents(
    store: &Arc<SqlStore>,
    person: &anchora_core::meta::ObjectDef,
    admin: UserId,
    clock: &dyn Clock,
) -> Result<()> {
    use anchora_core::consent::{ConsentEvent, ConsentState, Purpose};
    use anchora_core::store::{ConsentStore, RecordStore};
    let now = clock.now();
    for (key, name, description) in [
        ("newsletter", "Newsletter", "The monthly newsletter"),
        (
            "events",
            "Events and webinars",
            "Invitations to events, fairs and webinars",
        ),
        ("product_news", "Product news", "Releases and product changes"),
    ] {
        let purpose = Purpose {
            key: key.into(),
            name: name.into(),
            description: description.into(),
            created_at: now,
        };
        store.add_purpose(&purpose).await.map_err(|e| anyhow!(e.detail))?;
    }
    let mut query = anchora_core::query::ListQuery::all();
    query.limit = 400;
    let people = store
        .list_records(person, &query)
        .await
        .map_err(|e| anyhow!(e.detail))?;
    let sources = ["web form", "trade fair", "import from the old CRM", "phone call"];
    let source = |k: usize| sources.iter().cycle().nth(k).copied().unwrap_or("web form");
    for (n, p) in people.iter().enumerate() {
        let given = now - chrono::Duration::days(300 - (n % 280) as i64);
        let mut events = Vec::new();
        if n % 5 != 4 {
            events.push(("newsletter", ConsentState::Granted, source(n), given));
        }
        // Some who said yes took it back later (never in the future).
        if n % 11 == 3 && n % 5 != 4 {
            let later = (given + chrono::Duration::days(40)).min(now);
            events.push(("newsletter", ConsentState::Withdrawn, "unsubscribe link", later));
        }
        if n % 3 == 0 {
            events.push((
                "events",
                ConsentState::Granted,
                "webinar sign-up",
                given + chrono::Duration::days(5),
            ));
        }
        if n % 7 == 0 {
            events.push(("product_news", ConsentState::Granted, source(n + 1), given));
        }
        for (purpose, state, source, at) in events {
            let event = ConsentEvent {
                person: p.id,
                purpose: purpose.into(),
                state,
                source: source.into(),
                at,
                by: (source != "unsubscribe link").then_some(admin),
            };
            store.record_consent(&event).await.map_err(|e| anyhow!(e.detail))?;
        }
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn random_secret(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| {
            ALPHABET
                .get(rng.random_range(0..ALPHABET.len()))
                .map_or('x', |b| char::from(*b))
        })
        .collect()
}

/// argon2id with OWASP's parameters (see `anchora_core::password`).
pub fn hash_password(password: &str) -> Result<String> {
    anchora_core::password::hash_password(password).map_err(|e| anyhow!(e.detail))
}

struct Gen {
    rng: StdRng,
    now: DateTime<Utc>,
}

impl Gen {
    /// A random element. Only ever called with the static, non-empty lists of this module and
    /// vectors it has just filled, never with user input.
    #[allow(clippy::indexing_slicing)]
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn country(&mut self) -> Country {
        let total: u32 = COUNTRIES.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.random_range(0..total);
        for (c, w) in COUNTRIES {
            if roll < w {
                return c;
            }
            roll -= w;
        }
        Country::Se
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.random_range(0..10u8)))
            .collect()
    }

    fn phone(&mut self, c: Country) -> String {
        match c {
            Country::Se => {
                if self.rng.random_bool(0.5) {
                    format!("+46 8 {} {} {}", self.digits(3), self.digits(2), self.digits(2))
                } else {
                    format!("+46 70 {} {} {}", self.digits(3), self.digits(2), self.digits(2))
                }
            }
            Country::De => format!("+49 {} {}", self.pick(&["30", "40", "89", "221", "69"]), self.digits(7)),
            Country::Dk => format!(
                "+45 {} {} {} {}",
                self.digits(2),
                self.digits(2),
                self.digits(2),
                self.digits(2)
            ),
            Country::Es => format!("+34 9{} {} {}", self.digits(2), self.digits(3), self.digits(3)),
            Country::Uk => format!("+44 20 {} {}", self.digits(4), self.digits(4)),
            Country::Us => format!(
                "+1 ({}) 555-{}",
                self.pick(&["212", "312", "617", "206", "512", "415"]),
                self.digits(4)
            ),
        }
    }

    fn org_number(&mut self, c: Country) -> String {
        match c {
            Country::Se => format!("556{}-{}", self.digits(3), self.digits(4)),
            Country::De => format!("HRB {}", self.digits(6)),
            Country::Dk => format!("CVR {}", self.digits(8)),
            Country::Es => format!("B{}", self.digits(8)),
            Country::Uk => format!("0{}", self.digits(7)),
            Country::Us => format!("EIN {}-{}", self.digits(2), self.digits(7)),
        }
    }

    /// A moment in the last 18 months, the i-th of n in order.
    fn created(&mut self, i: usize, n: usize) -> DateTime<Utc> {
        let span = Duration::days(SPAN_DAYS).num_seconds();
        let n = i64::try_from(n.max(1)).unwrap_or(1);
        let i = i64::try_from(i).unwrap_or(0);
        self.now - Duration::seconds(span - span * i / n)
    }
}

/// Writes each batch in a task of its own, so the next batch is generated while the last one
/// is written: the generator and SQLite then use both cores.
struct Loader {
    store: Arc<SqlStore>,
    ctx: WriteCtx,
    pending: Option<tokio::task::JoinHandle<anchora_core::Result<()>>>,
}

impl Loader {
    async fn push(&mut self, object: &ObjectDef, batch: &mut Vec<Record>) -> Result<()> {
        self.wait().await?;
        let records = std::mem::replace(batch, Vec::with_capacity(BATCH));
        let (store, object, ctx) = (self.store.clone(), object.clone(), self.ctx);
        self.pending = Some(tokio::spawn(async move {
            store.insert_records(&object, &records, ctx).await
        }));
        Ok(())
    }

    /// Write what is left of an object's batch, wait for every write, then build the object's
    /// indexes (see `SqlStore::begin_bulk_load`).
    async fn finish(&mut self, object: &ObjectDef, batch: &mut Vec<Record>) -> Result<()> {
        if !batch.is_empty() {
            self.push(object, batch).await?;
        }
        self.wait().await?;
        self.store.finish_bulk_load(object).await.map_err(|e| anyhow!(e.detail))
    }

    async fn wait(&mut self) -> Result<()> {
        if let Some(task) = self.pending.take() {
            task.await
                .map_err(|e| anyhow!("a write task failed: {e}"))?
                .map_err(|e| anyhow!(e.detail))?;
        }
        Ok(())
    }
}

struct CompanyRef {
    id: RecordId,
    country: Country,
    city: &'static str,
    domain: String,
    /// The name without its legal form ("Lindqvist Logistik"), as people name deals.
    short_name: String,
}

fn record(
    object: &ObjectDef,
    id: RecordId,
    at: DateTime<Utc>,
    actor: UserId,
    owner: UserId,
    values: BTreeMap<String, Value>,
) -> Record {
    Record {
        owner: Some(owner),
        values,
        ..Record::new(&object.name, id, at, Some(actor))
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// The demo admin's id, created (without a password) when missing.
pub async fn ensure_admin(store: &SqlStore, clock: &dyn Clock) -> Result<UserId> {
    if let Some(u) = store.user_by_email(DEMO_ADMIN).await.map_err(|e| anyhow!(e.detail))? {
        return Ok(u.id);
    }
    let now = clock.now();
    let admin = User::new(
        UserId::new_at(now),
        Some(DEMO_ADMIN.into()),
        "Demo Admin",
        Role::Admin,
        now,
    );
    store.create_user(&admin).await.map_err(|e| anyhow!(e.detail))?;
    Ok(admin.id)
}

type Member = (&'static str, &'static str, &'static str);

const SALES_TEAMS: [(&str, [Member; 2]); 10] = [
    (
        "Stockholm",
        [
            ("Sara Lindberg", "sara.lindberg@example.com", "sv"),
            ("Emma Johansson", "emma.johansson@example.com", "sv"),
        ],
    ),
    (
        "Göteborg",
        [
            ("Anders Berg", "anders.berg@example.com", "sv"),
            ("Linnea Holm", "linnea.holm@example.com", "sv"),
        ],
    ),
    (
        "Hamburg",
        [
            ("Jonas Weber", "jonas.weber@example.com", "de"),
            ("Lena Fischer", "lena.fischer@example.com", "de"),
        ],
    ),
    (
        "München",
        [
            ("Felix Schneider", "felix.schneider@example.com", "de"),
            ("Anna Huber", "anna.huber@example.com", "de"),
        ],
    ),
    (
        "København",
        [
            ("Mette Nielsen", "mette.nielsen@example.com", "da"),
            ("Rasmus Møller", "rasmus.moller@example.com", "da"),
        ],
    ),
    (
        "Aarhus",
        [
            ("Freja Kristensen", "freja.kristensen@example.com", "da"),
            ("Mads Jensen", "mads.jensen@example.com", "da"),
        ],
    ),
    (
        "Madrid",
        [
            ("Lucía Romero", "lucia.romero@example.com", "es"),
            ("Javier Molina", "javier.molina@example.com", "es"),
        ],
    ),
    (
        "Barcelona",
        [
            ("Carmen Ortega", "carmen.ortega@example.com", "es"),
            ("Pau Serra", "pau.serra@example.com", "es"),
        ],
    ),
    (
        "London",
        [
            ("Oliver Hughes", "oliver.hughes@example.com", "en"),
            ("Amelia Clarke", "amelia.clarke@example.com", "en"),
        ],
    ),
    (
        "New York",
        [
            ("Ethan Brooks", "ethan.brooks@example.com", "en"),
            ("Grace Miller", "grace.miller@example.com", "en"),
        ],
    ),
];

async fn demo_team(store: &SqlStore, name: &str, now: DateTime<Utc>) -> Result<TeamId> {
    if let Some(t) = store
        .teams()
        .await
        .map_err(|e| anyhow!(e.detail))?
        .into_iter()
        .find(|t| t.name == name)
    {
        return Ok(t.id);
    }
    let team = Team {
        id: TeamId::new_at(now),
        name: name.to_string(),
        created_at: now,
    };
    store.create_team(&team).await.map_err(|e| anyhow!(e.detail))?;
    Ok(team.id)
}

/// Fill the standard objects. Refuses a database that already holds people.
pub async fn generate(
    store: &Arc<SqlStore>,
    people: u64,
    deals: Option<u64>,
    admin: UserId,
    clock: &dyn Clock,
) -> Result<()> {
    let started = std::time::Instant::now();
    let now = clock.now();
    {
        let schema = store.schema().await.map_err(|e| anyhow!(e.detail))?;
        let person = schema.object("person").map_err(|e| anyhow!(e.detail))?;
        if store.count_records(person).await.map_err(|e| anyhow!(e.detail))? > 0 {
            return Err(anyhow!(
                "the database holds people already; generate fills empty ones only"
            ));
        }
    }
    // The demo's deals are in six currencies: example rates into SEK, so its board and
    // pipeline add up (an administrator keeps the real ones under Currencies).
    let rates = anchora_core::currency::CurrencySettings {
        reporting: "SEK".into(),
        rates: [("EUR", 11.2), ("DKK", 1.5), ("NOK", 0.98), ("GBP", 13.1), ("USD", 10.4)]
            .into_iter()
            .map(|(code, rate)| (code.to_string(), rate))
            .collect(),
    };
    let key = anchora_core::currency::CURRENCY_KEY;
    if store.setting(key).await.map_err(|e| anyhow!(e.detail))?.is_none() {
        store
            .put_setting(key, &serde_json::to_string(&rates)?)
            .await
            .map_err(|e| anyhow!(e.detail))?;
    }
    let mut g = Gen {
        rng: StdRng::seed_from_u64(20_261_123),
        now,
    };
    let ctx = WriteCtx { actor: admin, now };
    let mut loader = Loader {
        store: store.clone(),
        ctx,
        pending: None,
    };
    let schema = store.schema().await.map_err(|e| anyhow!(e.detail))?;
    let obj = |name: &str| schema.object(name).cloned().map_err(|e| anyhow!(e.detail));
    let (company_def, person_def, deal_def, activity_def) =
        (obj("company")?, obj("person")?, obj("deal")?, obj("activity")?);

    for object in [&company_def, &person_def, &deal_def, &activity_def] {
        store.begin_bulk_load(object).await.map_err(|e| anyhow!(e.detail))?;
    }
    // Twenty sales people in ten regional teams own the records, so each team owns a tenth.
    let mut owners = Vec::new();
    for (team_name, members) in SALES_TEAMS {
        let team = demo_team(store, team_name, now).await?;
        for (name, email, locale) in members {
            let id = match store.user_by_email(email).await.map_err(|e| anyhow!(e.detail))? {
                Some(u) => u.id,
                None => {
                    let mut u = User::new(UserId::new_at(now), Some(email.to_string()), name, Role::User, now);
                    u.locale = locale.to_string();
                    u.team = Some(team);
                    store.create_user(&u).await.map_err(|e| anyhow!(e.detail))?;
                    u.id
                }
            };
            owners.push(id);
        }
    }

    let people = usize::try_from(people).unwrap_or(usize::MAX).max(1);
    let n_companies = (people / 10).max(1);
    let mut companies: Vec<CompanyRef> = Vec::with_capacity(n_companies);
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..n_companies {
        let c = g.country();
        let l: &Locale = locale(c);
        let family = *g.pick(l.last_names);
        let word = *g.pick(l.company_words);
        let short_name = match c {
            Country::Es => format!("{word} {family}"),
            _ => format!("{family} {word}"),
        };
        let name = format!("{short_name} {}", l.company_suffix);
        let domain = format!("{}-{}{}.{}", ascii_slug(family), ascii_slug(word), i % 997, l.tld);
        let city = *g.pick(l.cities);
        let at = g.created(i, n_companies);
        let id = RecordId::new_at(at);
        let mut v = BTreeMap::new();
        v.insert("name".into(), text(name));
        v.insert("org_number".into(), text(g.org_number(c)));
        v.insert("domain".into(), text(domain.clone()));
        v.insert("phone".into(), text(g.phone(c)));
        let street = *g.pick(l.streets);
        v.insert(
            "address".into(),
            text(format!("{street} {}", g.rng.random_range(1..150))),
        );
        v.insert("city".into(), text(city));
        v.insert("country".into(), text(l.code));
        let owner = *g.pick(&owners);
        batch.push(record(&company_def, id, at, admin, owner, v));
        companies.push(CompanyRef {
            id,
            country: c,
            city,
            domain,
            short_name,
        });
        if batch.len() == BATCH {
            loader.push(&company_def, &mut batch).await?;
        }
    }
    loader.finish(&company_def, &mut batch).await?;
    eprintln!(
        "demo: {n_companies} companies ({:.1} s)",
        started.elapsed().as_secs_f64()
    );

    let mut person_ids: Vec<(RecordId, usize)> = Vec::with_capacity(people);
    for i in 0..people {
        let ci = g.rng.random_range(0..companies.len());
        let company = companies.get(ci).ok_or_else(|| anyhow!("no company"))?;
        let l = locale(company.country);
        let first = *g.pick(l.first_names);
        let last = *g.pick(l.last_names);
        let at = g.created(i, people);
        let id = RecordId::new_at(at);
        let mut v = BTreeMap::new();
        v.insert("first_name".into(), text(first));
        v.insert("last_name".into(), text(last));
        if g.rng.random_bool(0.92) {
            v.insert(
                "email".into(),
                text(format!(
                    "{}.{}{}@{}",
                    ascii_slug(first),
                    ascii_slug(last),
                    i % 100,
                    company.domain
                )),
            );
        }
        if g.rng.random_bool(0.8) {
            v.insert("phone".into(), text(g.phone(company.country)));
        }
        v.insert("title".into(), text(*g.pick(l.titles)));
        let city = if g.rng.random_bool(0.85) {
            company.city
        } else {
            *g.pick(l.cities)
        };
        v.insert("city".into(), text(city));
        v.insert("company".into(), Value::Relation(company.id));
        let owner = *g.pick(&owners);
        batch.push(record(&person_def, id, at, admin, owner, v));
        person_ids.push((id, ci));
        if batch.len() == BATCH {
            loader.push(&person_def, &mut batch).await?;
            if (i + 1) % 100_000 == 0 {
                eprintln!("demo: {} people ({:.1} s)", i + 1, started.elapsed().as_secs_f64());
            }
        }
    }
    loader.finish(&person_def, &mut batch).await?;
    eprintln!("demo: {people} people ({:.1} s)", started.elapsed().as_secs_f64());

    let stages: [(&str, u32, f64); 6] = [
        ("lead", 25, 10.0),
        ("qualified", 20, 25.0),
        ("proposal", 18, 50.0),
        ("negotiation", 12, 75.0),
        ("won", 15, 100.0),
        ("lost", 10, 0.0),
    ];
    let n_deals = deals
        .map_or(people / 5, |d| usize::try_from(d).unwrap_or(usize::MAX))
        .max(1);
    let mut deal_of_company: Vec<Option<RecordId>> = vec![None; companies.len()];
    for i in 0..n_deals {
        let ci = g.rng.random_range(0..companies.len());
        let company = companies.get(ci).ok_or_else(|| anyhow!("no company"))?;
        let l = locale(company.country);
        let mut roll = g.rng.random_range(0..100u32);
        let (stage, probability) = stages
            .iter()
            .find(|(_, w, _)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .map_or(("lead", 10.0), |(s, _, p)| (*s, *p));
        let at = g.created(i, n_deals);
        let id = RecordId::new_at(at);
        let kind = *g.pick(&[
            "Licences",
            "Implementation",
            "Support agreement",
            "Training",
            "Integration",
            "Expansion",
            "Renewal",
        ]);
        let scale: i64 = if l.currency == "SEK" || l.currency == "DKK" {
            10
        } else {
            1
        };
        let amount = g.rng.random_range(5..500i64) * 1_000 * scale * 100;
        let close_offset = if matches!(stage, "won" | "lost") {
            -g.rng.random_range(1..300i64)
        } else {
            g.rng.random_range(-30..270i64)
        };
        let mut v = BTreeMap::new();
        v.insert("name".into(), text(format!("{kind} – {}", company.short_name)));
        v.insert("stage".into(), Value::Select(stage.into()));
        v.insert("amount".into(), Value::Money(amount));
        v.insert("currency".into(), Value::Select(l.currency.into()));
        v.insert("probability".into(), Value::Percent(probability));
        v.insert(
            "expected_close".into(),
            Value::Date((now + Duration::days(close_offset)).date_naive()),
        );
        v.insert("company".into(), Value::Relation(company.id));
        let owner = *g.pick(&owners);
        batch.push(record(&deal_def, id, at, admin, owner, v));
        if let Some(slot) = deal_of_company.get_mut(ci) {
            *slot = Some(id);
        }
        if batch.len() == BATCH {
            loader.push(&deal_def, &mut batch).await?;
        }
    }
    loader.finish(&deal_def, &mut batch).await?;
    eprintln!("demo: {n_deals} deals ({:.1} s)", started.elapsed().as_secs_f64());

    let n_activities = (people / 2).max(1);
    let subjects: [(&str, &[&str]); 5] = [
        (
            "call",
            &[
                "Intro call",
                "Follow-up call",
                "Budget check",
                "Call about renewal",
                "Reference call",
            ],
        ),
        (
            "meeting",
            &[
                "Kick-off meeting",
                "Demo meeting",
                "Steering group",
                "Workshop: requirements",
                "Quarterly review",
            ],
        ),
        (
            "email",
            &[
                "Sent proposal",
                "Sent contract draft",
                "Answered questions about pricing",
                "Sent meeting notes",
            ],
        ),
        (
            "task",
            &[
                "Send quote",
                "Prepare demo",
                "Update contact details",
                "Book training",
                "Check data quality",
            ],
        ),
        (
            "note",
            &[
                "Decision maker is the CFO",
                "Budget approved for next year",
                "Prefers e-mail over phone",
                "Competitor is also in the process",
            ],
        ),
    ];
    for i in 0..n_activities {
        let (pid, ci) = *g.pick(&person_ids);
        let company = companies.get(ci).ok_or_else(|| anyhow!("no company"))?;
        let (kind, options) = *g.pick(&subjects);
        let subject = *g.pick(options);
        let at = g.created(i, n_activities);
        let id = RecordId::new_at(at);
        let mut v = BTreeMap::new();
        v.insert("type".into(), Value::Select(kind.into()));
        v.insert("subject".into(), text(subject));
        if kind == "note" || g.rng.random_bool(0.3) {
            v.insert(
                "body".into(),
                text(format!("{subject}. Talked with the customer in {}.", company.city)),
            );
        }
        // Tasks may lie ahead; everything else happened when it was logged.
        let due = if kind == "task" {
            at + Duration::days(g.rng.random_range(1..30))
        } else {
            at
        };
        v.insert("due_at".into(), Value::DateTime(due));
        v.insert("done".into(), Value::Bool(due < now && g.rng.random_bool(0.9)));
        v.insert("company".into(), Value::Relation(company.id));
        v.insert("person".into(), Value::Relation(pid));
        if g.rng.random_bool(0.3)
            && let Some(Some(deal)) = deal_of_company.get(ci)
        {
            v.insert("deal".into(), Value::Relation(*deal));
        }
        let owner = *g.pick(&owners);
        batch.push(record(&activity_def, id, at, admin, owner, v));
        if batch.len() == BATCH {
            loader.push(&activity_def, &mut batch).await?;
        }
    }
    loader.finish(&activity_def, &mut batch).await?;
    store.analyze().await.map_err(|e| anyhow!(e.detail))?;
    eprintln!(
        "demo: {n_activities} activities, done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
