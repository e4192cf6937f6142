//! `anchora`: serve the CRM, fill a demo, migrate, manage workspaces and tokens.

mod demo;
mod names;

use anchora_core::auth::{ApiToken, Role, User, generate_token, hash_token};
use anchora_core::workspace::DEFAULT_WORKSPACE;
use anchora_core::{Clock, Store, SystemClock, TokenId, UserId};
use anchora_store::{Instance, SqlStore};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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
    },
    /// Fill an empty database (SQLite or PostgreSQL) with demo data, for load tests and
    /// benchmarks; prints a token for the API.
    Generate {
        /// How many people (companies: a tenth; deals and activities follow).
        #[arg(long)]
        people: u64,
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
    /// Create a token for a new service account; prints the token alone on its last line.
    Create {
        /// A name that says what the token is for.
        #[arg(long)]
        name: String,
        /// admin, key_user, user or read_only.
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        /// Days until the token expires (never, when left out).
        #[arg(long)]
        expires: Option<u32>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ANCHORA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
        Command::Serve { db, listen } => {
            let instance = open(&db.url(), &*clock).await?;
            tracing::info!(database = %instance.url().redacted(), "database ready");
            serve(Arc::new(instance), clock, listen).await
        }
        Command::Demo {
            people,
            listen,
            data_dir,
            no_serve,
        } => {
            let url = format!("sqlite://{}", data_dir.join("demo.db").display());
            let instance = open(&url, &*clock).await?;
            let store = instance.main();
            let login = demo::ensure(&store, &data_dir, people, &*clock).await?;
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
            serve(Arc::new(instance), clock, listen).await
        }
        Command::Generate { people, db } => {
            let instance = open(&db.url(), &*clock).await?;
            let store = instance.main();
            let admin = demo::ensure_admin(&store, &*clock).await?;
            demo::generate(&store, people, admin, &*clock).await?;
            let token = create_service_token(&store, DEFAULT_WORKSPACE, "generate", Role::Admin, None, &*clock).await?;
            println!("{token}");
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
                    name,
                    role,
                    workspace,
                    expires,
                    db,
                },
        } => {
            let role =
                Role::parse(&role).ok_or_else(|| anyhow!("--role must be admin, key_user, user or read_only"))?;
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 80 {
                bail!("--name must be 1–80 characters");
            }
            let instance = open(&db.url(), &*clock).await?;
            let store = instance
                .workspace(&workspace, clock.now())
                .await
                .map_err(|e| anyhow!(e.detail))?
                .with_context(|| format!("no workspace named {workspace:?}"))?;
            let token = create_service_token(&store, &workspace, &name, role, expires, &*clock).await?;
            println!(
                "Token {name:?} ({}) for workspace {workspace}; it is shown once:",
                role.as_str()
            );
            println!("{token}");
            Ok(())
        }
    }
}

/// A service account with one token. Returns the token text; only its hash is stored.
pub async fn create_service_token(
    store: &SqlStore,
    workspace: &str,
    name: &str,
    role: Role,
    expires_days: Option<u32>,
    clock: &dyn Clock,
) -> Result<String> {
    let now = clock.now();
    let user = User {
        id: UserId::new_at(now),
        email: None,
        name: format!("Token: {name}"),
        role,
        active: true,
        password_hash: None,
        created_at: now,
    };
    store.create_user(&user).await.map_err(|e| anyhow!(e.detail))?;
    let token = generate_token(workspace);
    let api = ApiToken {
        id: TokenId::new_at(now),
        name: name.to_string(),
        user_id: user.id,
        token_hash: hash_token(&token),
        created_at: now,
        last_used_at: None,
        expires_at: expires_days.map(|d| now + chrono::Duration::days(i64::from(d))),
        revoked_at: None,
    };
    store.create_token(&api).await.map_err(|e| anyhow!(e.detail))?;
    Ok(token)
}

async fn serve(instance: Arc<Instance>, clock: Arc<dyn Clock>, listen: SocketAddr) -> Result<()> {
    let app = anchora_web::app(anchora_web::AppState {
        instance: instance.clone(),
        clock,
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "serving");
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
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
