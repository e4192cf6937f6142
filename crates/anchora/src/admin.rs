//! Command-line administration: users, tokens, backups. Whoever can run these can read the
//! database anyway; each action is still written to the audit log (actor: the command line).

use crate::DatabaseArgs;
use anchora_core::accounts::Origin;
use anchora_core::audit::{AuditEvent, AuditKind};
use anchora_core::auth::Scope;
use anchora_core::identity::{NewUser, token_expiry};
use anchora_core::service::Crm;
use anchora_core::store::{AuditStore, UserStore};
use anchora_core::workspace::DEFAULT_WORKSPACE;
use anchora_core::{Clock, Store};
use anchora_store::{DatabaseUrl, Instance, SqlStore, postgres_schema};
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::json;
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input, or asked for on a terminal.
    Add {
        #[arg(long)]
        email: String,
        /// admin, key_user, user or read_only.
        #[arg(long)]
        role: String,
        /// Full name (default: the e-mail's local part).
        #[arg(long)]
        name: Option<String>,
        /// Team name; created when it does not exist.
        #[arg(long)]
        team: Option<String>,
        /// en (month-first dates), en-GB (day-first), sv, de, da or es.
        #[arg(long, default_value = "en")]
        locale: String,
        /// Create the user without a password (they set one through a reset link).
        #[arg(long)]
        no_password: bool,
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List users.
    List {
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub(crate) async fn workspace_store(instance: &Instance, workspace: &str, clock: &dyn Clock) -> Result<Arc<SqlStore>> {
    instance
        .workspace(workspace, clock.now())
        .await
        .map_err(|e| anyhow!(e.detail))?
        .with_context(|| format!("no workspace named {workspace:?}"))
}

fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

pub async fn user_command(command: UserCommand, clock: Arc<dyn Clock>) -> Result<()> {
    match command {
        UserCommand::Add {
            email,
            role,
            name,
            team,
            locale,
            no_password,
            workspace,
            db,
        } => {
            let password = if no_password { None } else { Some(read_password()?) };
            let instance = crate::open(&db.url(), &*clock).await?;
            let store = workspace_store(&instance, &workspace, &*clock).await?;
            let crm = Crm::new(store as Arc<dyn Store>, clock).in_workspace(&workspace);
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
            let new = NewUser {
                email,
                name,
                role,
                locale: Some(locale),
                team: None,
                password,
            };
            let user = crm
                .add_user_locally(new, team.as_deref())
                .await
                .map_err(|e| anyhow!(describe(&e)))?;
            println!(
                "User {} ({}) added to workspace {workspace}.",
                user.email.unwrap_or_default(),
                user.role.as_str()
            );
            Ok(())
        }
        UserCommand::List { workspace, db } => {
            let instance = crate::open(&db.url(), &*clock).await?;
            let store = workspace_store(&instance, &workspace, &*clock).await?;
            for u in store.users().await.map_err(|e| anyhow!(e.detail))? {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.email.unwrap_or_default(),
                    u.role.as_str(),
                    if u.active { "active" } else { "deactivated" },
                    u.name
                );
            }
            Ok(())
        }
    }
}

pub(crate) fn describe(e: &anchora_core::Error) -> String {
    if e.errors.is_empty() {
        return e.detail.clone();
    }
    e.errors
        .iter()
        .map(|f| format!("--{}: {}", f.field.replace('_', "-"), f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn create_token(
    instance: &Instance,
    workspace: &str,
    email: &str,
    scope: &str,
    name: &str,
    expires: Option<i64>,
    clock: Arc<dyn Clock>,
) -> Result<()> {
    let scope = Scope::parse(scope).ok_or_else(|| anyhow!("--scope must be read, write or admin"))?;
    let name = anchora_core::identity::check_token_name(name).map_err(|e| anyhow!(describe(&e)))?;
    let expires_at = token_expiry(clock.now(), expires).map_err(|_| {
        anyhow!(
            "--expires must be between 1 and {} days",
            anchora_core::identity::MAX_TOKEN_DAYS
        )
    })?;
    let store = workspace_store(instance, workspace, &*clock).await?;
    let user = store
        .user_by_email(&email.trim().to_lowercase())
        .await
        .map_err(|e| anyhow!(e.detail))?
        .filter(|u| u.active)
        .with_context(|| format!("no active user with the e-mail {email:?} in workspace {workspace}"))?;
    let crm = Crm::new(store as Arc<dyn Store>, clock).in_workspace(workspace);
    let (token, secret) = crm
        .issue_token(user.id, &name, scope, expires_at, None, &Origin::default())
        .await
        .map_err(|e| anyhow!(e.detail))?;
    let until = token.expires_at.map_or_else(
        || "never expires".to_string(),
        |t| format!("expires {}", t.format("%Y-%m-%d")),
    );
    println!(
        "Token {name:?} for {} ({} scope, {until}); it is shown once:",
        user.email.unwrap_or_default(),
        scope.as_str()
    );
    println!("{secret}");
    Ok(())
}

pub async fn backup(instance: &Instance, workspace: &str, to: &Path, clock: Arc<dyn Clock>) -> Result<()> {
    let store = workspace_store(instance, workspace, &*clock).await?;
    let started = std::time::Instant::now();
    let bytes = match instance.url() {
        DatabaseUrl::Sqlite(_) => anchora_store::backup::backup_sqlite(&store, to).await,
        DatabaseUrl::Postgres(url) => {
            let schema = (workspace != DEFAULT_WORKSPACE).then(|| postgres_schema(workspace));
            anchora_store::backup::backup_postgres(url, schema.as_deref(), to).await
        }
    }
    .map_err(|e| anyhow!("{}", e.detail))?;
    store
        .record_audit(
            &AuditEvent::new(clock.now(), None, AuditKind::Backup)
                .subject(workspace.to_string())
                .detail(json!({"file": to.display().to_string(), "bytes": bytes})),
        )
        .await
        .map_err(|e| anyhow!(e.detail))?;
    println!(
        "Backed up workspace {workspace} to {} ({bytes} bytes, {:.1} s).",
        to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
