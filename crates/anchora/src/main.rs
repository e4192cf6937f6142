//! `anchora`: serve the CRM, fill a demo, migrate, manage workspaces and tokens.

mod demo;
mod demo_adoption;
mod demo_onboarding;
mod demo_project;
mod names;

mod admin;
mod testset;
mod transfer;

use anchora_core::auth::Role;
use anchora_core::jobs::{self, Workspaces};
use anchora_core::service::Crm;
use anchora_core::workspace::DEFAULT_WORKSPACE;
use anchora_core::{Clock, Store, SystemClock};
use anchora_store::{Instance, InstanceWorkspaces, SqlStore};
use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// jemalloc instead of the C library's allocator, for Rust and for SQLite's C code alike
/// (`unprefixed_malloc`): bulk imports and busy servers allocate and free many small values,
/// where glibc's malloc spent about a third of an import's time, and glibc's per-thread arenas
/// kept SQLite's freed caches (~70 MB after an import). jemalloc's background threads hand
/// freed pages back to the OS while the server is idle (decay settings: `.cargo/config.toml`).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "anchora", version, about = "Anchora — the CRM that carries its own rollout")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB. Default: sqlite://<data dir>/anchora.db
    #[arg(long, env = "ANCHORA_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the embedded SQLite database lives when no URL is given.
    #[arg(long, env = "ANCHORA_DATA_DIR", default_value = "anchora-data")]
    data_dir: PathBuf,
}

impl DatabaseArgs {
    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("anchora.db").display()))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (pending migrations run first).
    Serve {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Address to listen on.
        #[arg(long, env = "ANCHORA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        web: WebArgs,
    },
    /// Run a demo: a SQLite database in the data directory, filled with realistic data when
    /// empty, a demo admin, and the server.
    Demo {
        /// How many people to generate (companies: a tenth; deals and activities follow).
        #[arg(long, default_value_t = 5000)]
        people: u64,
        #[arg(long, env = "ANCHORA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, env = "ANCHORA_DATA_DIR", default_value = "anchora-data")]
        data_dir: PathBuf,
        /// Fill the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        web: WebArgs,
    },
    /// Fill an empty database (SQLite or PostgreSQL) with demo data, for load tests and
    /// benchmarks; prints a token for the API.
    Generate {
        /// How many people (companies: a tenth; deals and activities follow).
        #[arg(long)]
        people: u64,
        /// How many deals (default: a fifth of the people).
        #[arg(long)]
        deals: Option<u64>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Bring the database schema up to date.
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Manage workspaces.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: admin::UserCommand,
    },
    /// Copy a workspace to FILE while the server runs and writes (SQLite: a consistent
    /// snapshot with VACUUM INTO; PostgreSQL: pg_dump).
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Import a CSV or XLSX file; prints `imported N, updated N, rejected N` and writes the
    /// rejected rows, with why, beside the file (FILE.rejected.csv).
    Import(transfer::ImportArgs),
    /// Export records to CSV or XLSX.
    Export(transfer::ExportArgs),
    /// Write a labelled set of people with known duplicates (typos, swapped names, phones and
    /// e-mails written differently, fields left out) for measuring duplicate detection.
    Testset {
        /// How many clean people.
        #[arg(long)]
        people: usize,
        /// The share of them that get a duplicate, in percent.
        #[arg(long, default_value_t = 10)]
        duplicates: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The CSV file to write.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty database.
    Restore {
        /// The backup file (from `anchora backup`).
        #[arg(long)]
        from: PathBuf,
        /// The database to restore into: sqlite://PATH or postgres://…
        #[arg(long)]
        database_url: String,
        /// Replace a database that holds data already.
        #[arg(long)]
        force: bool,
    },
}

/// How the web server presents itself.
#[derive(clap::Args, Clone)]
struct WebArgs {
    /// The URL users reach Anchora at; links in e-mails use it. https:// marks cookies Secure.
    #[arg(long, env = "ANCHORA_PUBLIC_URL")]
    public_url: Option<String>,
    /// Believe X-Forwarded-For and X-Forwarded-Proto (only behind your own reverse proxy).
    #[arg(long, env = "ANCHORA_TRUST_PROXY")]
    trust_proxy: bool,
    /// smtp://host:25 or smtps://user:password@host; without it, e-mails are written as files
    /// into <data dir>/mail.
    #[arg(long, env = "ANCHORA_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of Anchora's e-mails.
    #[arg(long, env = "ANCHORA_MAIL_FROM", default_value = "Anchora <anchora@localhost>")]
    mail_from: String,
    /// The bounce mailbox's address (bounces@example.se): mass mailings send with a return
    /// path bounces+{recipient}@example.se (VERP), so a bounce report names its recipient.
    #[arg(long, env = "ANCHORA_BOUNCE_ADDRESS")]
    bounce_address: Option<String>,
    /// The bounce mailbox, read every five minutes for bounce reports:
    /// imaps://user:password@mail.example.se/INBOX (or imap:// on a trusted network).
    #[arg(long, env = "ANCHORA_BOUNCE_IMAP_URL", hide_env_values = true)]
    bounce_imap_url: Option<String>,
    /// The support mailbox's address (support@example.se): the support chain's notices are
    /// answered to support+{reference}@example.se, so an answer finds its question.
    #[arg(long, env = "ANCHORA_SUPPORT_ADDRESS")]
    support_address: Option<String>,
    /// The support mailbox, read every two minutes for answers to the notices:
    /// imaps://user:password@mail.example.se/INBOX (or imap:// on a trusted network).
    #[arg(long, env = "ANCHORA_SUPPORT_IMAP_URL", hide_env_values = true)]
    support_imap_url: Option<String>,
    /// The most active fields an object may have (10–700: a text field takes two of a table's
    /// columns, and both databases must hold the table).
    #[arg(long, env = "ANCHORA_MAX_FIELDS", default_value_t = 500, value_parser = clap::value_parser!(u16).range(10..=700))]
    max_fields: u16,
    /// Background jobs this process runs at once (imports, scans, scheduled work); 0 makes a
    /// web-only process that leaves them to others sharing the database.
    #[arg(long, env = "ANCHORA_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    workers: u16,
    /// Seconds a worker's lease on a job holds without renewal (renewed every second with the
    /// job's progress): a job whose process died is taken over by another after this long.
    #[arg(long, env = "ANCHORA_JOB_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    job_lease_seconds: u64,
}

#[derive(Subcommand)]
enum WorkspaceCommand {
    /// Create a workspace (its own SQLite file, or its own PostgreSQL schema).
    Add {
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List the workspaces.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; prints the token alone on its last line.
    Create {
        /// The e-mail of the user the token acts for.
        #[arg(long)]
        user: String,
        /// read, write or admin — on top of what the user's role allows.
        #[arg(long)]
        scope: String,
        /// A name that says what the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        /// Days until the token expires (never, when left out).
        #[arg(long)]
        expires: Option<i64>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn main() -> Result<()> {
    use std::io::IsTerminal as _;
    let format = anchora_web::ops::LogFormat::parse(std::env::var("ANCHORA_LOG_FORMAT").ok().as_deref())
        .map_err(|e| anyhow!(e))?;
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ANCHORA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(format.ansi(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref()));
    match format {
        anchora_web::ops::LogFormat::Text => log.init(),
        anchora_web::ops::LogFormat::Json => log.json().init(),
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. } | Command::Demo { .. }) {
        // Before anything counts: imports resumed at start count their rows, mailers show 0.
        anchora_web::ops::metrics::install();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn open(url: &str, clock: &dyn Clock) -> Result<Instance> {
    Instance::open(url, clock.now())
        .await
        .map_err(|e| anyhow!("cannot open the database: {}", e.detail))
}

async fn run(cli: Cli) -> Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { db, listen, web } => {
            let instance = open(&db.url(), &*clock).await?;
            tracing::info!(database = %instance.url().redacted(), "database ready");
            serve(Arc::new(instance), clock, listen, &web, &db.data_dir).await
        }
        Command::Demo {
            people,
            listen,
            data_dir,
            no_serve,
            web,
        } => {
            let url = format!("sqlite://{}", data_dir.join("demo.db").display());
            let instance = open(&url, &*clock).await?;
            let store = instance.main();
            let login = demo::ensure(&store, &data_dir, people, clock.clone()).await?;
            let admin = demo::ensure_admin(&store, &*clock).await?;
            demo_project::ensure(store.clone(), clock.clone(), admin).await?;
            if no_serve {
                println!("Demo data ready in {}", data_dir.display());
                println!("Login: {} / {}", login.email, login.password);
                println!("API token: {}", login.token);
                return Ok(());
            }
            println!("Anchora demo: http://{listen}/");
            println!("Login: {} / {}", login.email, login.password);
            println!("API token: {}", login.token);
            println!(
                "Try: curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/records/person?limit=5",
                login.token
            );
            serve(Arc::new(instance), clock, listen, &web, &data_dir).await
        }
        Command::Generate { people, deals, db } => {
            let instance = open(&db.url(), &*clock).await?;
            let store = instance.main();
            let admin = demo::ensure_admin(&store, &*clock).await?;
            demo::generate(&store, people, deals, admin, &*clock).await?;
            let token =
                create_service_token(&store, DEFAULT_WORKSPACE, "generate", Role::Admin, None, clock.clone()).await?;
            println!("{token}");
            instance.close().await;
            Ok(())
        }
        Command::Migrate { db } => {
            let instance = open(&db.url(), &*clock).await?;
            for name in instance.workspace_names().await.map_err(|e| anyhow!(e.detail))? {
                instance
                    .workspace(&name, clock.now())
                    .await
                    .map_err(|e| anyhow!(e.detail))?;
            }
            println!("The database is up to date.");
            Ok(())
        }
        Command::Workspace {
            command: WorkspaceCommand::Add { name, db },
        } => {
            let instance = open(&db.url(), &*clock).await?;
            instance
                .add_workspace(&name, clock.now())
                .await
                .map_err(|e| anyhow!("{}", e.detail))?;
            println!("Workspace {name} created.");
            Ok(())
        }
        Command::Workspace {
            command: WorkspaceCommand::List { db },
        } => {
            let instance = open(&db.url(), &*clock).await?;
            for name in instance.workspace_names().await.map_err(|e| anyhow!(e.detail))? {
                println!("{name}");
            }
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    user,
                    scope,
                    name,
                    workspace,
                    expires,
                    db,
                },
        } => {
            let instance = open(&db.url(), &*clock).await?;
            admin::create_token(&instance, &workspace, &user, &scope, &name, expires, clock).await
        }
        Command::User { command } => admin::user_command(command, clock).await,
        Command::Backup { to, workspace, db } => {
            let instance = open(&db.url(), &*clock).await?;
            admin::backup(&instance, &workspace, &to, clock).await
        }
        Command::Import(args) => transfer::import(args, clock).await,
        Command::Testset {
            people,
            duplicates,
            seed,
            to,
        } => {
            let rows = testset::generate(people, duplicates, seed);
            let file = std::fs::File::create(&to).with_context(|| format!("cannot write {}", to.display()))?;
            testset::write_csv(&rows, std::io::BufWriter::new(file))?;
            let dups = rows.iter().filter(|r| r.duplicate_of.is_some()).count();
            println!(
                "wrote {} rows ({people} people, {dups} duplicates) to {}",
                rows.len(),
                to.display()
            );
            Ok(())
        }
        Command::Export(args) => transfer::export(args, clock).await,
        Command::Restore {
            from,
            database_url,
            force,
        } => {
            let url = anchora_store::DatabaseUrl::parse(&database_url).map_err(|e| anyhow!(e.detail))?;
            anchora_store::backup::restore(&from, &url, force)
                .await
                .map_err(|e| anyhow!("{}", e.detail))?;
            println!("Restored {} into {}.", from.display(), url.redacted());
            Ok(())
        }
    }
}

/// A service account with one token. Returns the token text; only its hash is stored.
pub async fn create_service_token(
    store: &Arc<SqlStore>,
    workspace: &str,
    name: &str,
    role: Role,
    expires_days: Option<u32>,
    clock: Arc<dyn Clock>,
) -> Result<String> {
    let expires_at = expires_days.map(|d| clock.now() + chrono::Duration::days(i64::from(d)));
    let crm = Crm::new(store.clone() as Arc<dyn Store>, clock).in_workspace(workspace);
    let (_, token) = crm
        .add_service_account(name, role, expires_at)
        .await
        .map_err(|e| anyhow!(admin::describe(&e)))?;
    Ok(token)
}

async fn serve(
    instance: Arc<Instance>,
    clock: Arc<dyn Clock>,
    listen: SocketAddr,
    web: &WebArgs,
    data_dir: &std::path::Path,
) -> Result<()> {
    let from = anchora_web::mail::parse_mailbox(&web.mail_from).map_err(|e| anyhow!("--mail-from: {e}"))?;
    let mailer: Arc<dyn anchora_web::mail::Mailer> = match &web.smtp_url {
        Some(url) => Arc::new(anchora_web::mail::SmtpMailer::new(url, from).map_err(|e| anyhow!(e))?),
        None => {
            let dir = data_dir.join("mail");
            tracing::info!(dir = %dir.display(), "no SMTP server configured; e-mails are written as files");
            Arc::new(anchora_web::mail::FileMailer::new(dir, from))
        }
    };
    let public_url = web.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
    let workspaces: Arc<dyn Workspaces> = Arc::new(InstanceWorkspaces {
        instance: instance.clone(),
        clock: clock.clone(),
    });
    if web.workers > 0 {
        let settings = jobs::WorkerSettings {
            workers: usize::from(web.workers),
            lease: std::time::Duration::from_secs(web.job_lease_seconds),
            observe: Some(Arc::new(anchora_web::ops::observe_jobs)),
            ..jobs::WorkerSettings::default()
        };
        let bounce_mailbox = match &web.bounce_imap_url {
            Some(url) => Some((
                Arc::new(
                    anchora_web::bounces::BounceMailbox::from_url(url)
                        .map_err(|e| anyhow!("--bounce-imap-url: {e}"))?,
                ),
                workspaces.clone() as Arc<dyn jobs::Workspaces>,
            )),
            None => None,
        };
        if let Some(address) = &web.bounce_address
            && (anchora_core::value::normalise_email(address).is_none()
                || !address.to_ascii_lowercase().starts_with("bounces@"))
        {
            // Bounce reports are recognised by their bounces+<tag>@ address.
            anyhow::bail!("--bounce-address: {address:?} must be a plain address bounces@<your domain>");
        }
        let support_mailbox = match &web.support_imap_url {
            Some(url) => Some((
                Arc::new(anchora_web::imap::Mailbox::from_url(url).map_err(|e| anyhow!("--support-imap-url: {e}"))?),
                workspaces.clone() as Arc<dyn jobs::Workspaces>,
            )),
            None => None,
        };
        if let Some(address) = &web.support_address
            && (anchora_core::value::normalise_email(address).is_none()
                || anchora_web::support_mailbox::reply_address(address, "1.x").is_none())
        {
            // Answers are recognised by their <local part>+<reference>@ address.
            anyhow::bail!(
                "--support-address: {address:?} must be a plain address such as support@<your domain>, without a +"
            );
        }
        let handler = Arc::new(anchora_web::reminders::ServerJobs {
            bounce_address: web.bounce_address.clone(),
            bounce_mailbox,
            support_address: web.support_address.clone(),
            support_mailbox,
            ..anchora_web::reminders::ServerJobs::new(mailer.clone(), &public_url)
        });
        tokio::spawn(jobs::run_workers(workspaces.clone(), handler, settings));
        tokio::spawn(jobs::repair_bulk_loads(workspaces));
    } else {
        tracing::info!("no job workers in this process (--workers 0): another process must run them");
    }
    let mut state = anchora_web::AppState::new(instance.clone(), clock, mailer, &public_url);
    state.trust_proxy = web.trust_proxy;
    state.max_fields = usize::from(web.max_fields);
    let app = anchora_web::app(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "serving");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    instance.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
