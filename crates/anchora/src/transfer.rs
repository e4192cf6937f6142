//! `anchora import` and `anchora export`: files in and out from the command line, for files too
//! big to upload and for scripts. Both act as a named user (the first administrator when none
//! is named), so rights and record visibility apply as in the app.

use crate::DatabaseArgs;
use crate::admin::workspace_store;
use anchora_core::auth::{Credential, Principal, Role};
use anchora_core::export::{CsvSink, ExportRequest, Format, Sink, XlsxSink};
use anchora_core::import::mapping::{LeftOut, Names, combine, suggest};
use anchora_core::import::{ImportSettings, JobStatus, source};
use anchora_core::service::Crm;
use anchora_core::workspace::DEFAULT_WORKSPACE;
use anchora_core::{Clock, Store};
use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The object to import into: person, company, deal, … or a custom object.
    #[arg(long)]
    object: String,
    /// The CSV or XLSX file.
    file: PathBuf,
    /// Map a column to a field: `--map "E-post=email"`, `--map "Org.nr=company.org_number"`;
    /// `--map "Notes="` skips a column. Columns not named keep their suggested field.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    map: Vec<String>,
    /// Only suggested mappings named by --map are used; other columns are skipped.
    #[arg(long)]
    only_mapped: bool,
    /// The field rows are matched on to update records (default: external_id, then email,
    /// then org_number, whichever is mapped; "" to always create).
    #[arg(long)]
    match_on: Option<String>,
    /// Reject rows naming a company that does not exist, instead of creating it.
    #[arg(long)]
    no_new_companies: bool,
    /// Check and count everything, write nothing but the rejected rows.
    #[arg(long)]
    dry_run: bool,
    /// The e-mail of the user the import acts as (default: the first administrator).
    #[arg(long = "as")]
    acting: Option<String>,
    /// The e-mail of the user who owns new records whose owner column names no user
    /// (default: the user the import acts as).
    #[arg(long, value_name = "EMAIL")]
    default_owner: Option<String>,
    #[arg(long, default_value = DEFAULT_WORKSPACE)]
    workspace: String,
    #[command(flatten)]
    db: DatabaseArgs,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[arg(long)]
    object: String,
    /// A filter in the API's JSON form, e.g. '{"field":"city","op":"eq","value":"Lund"}'.
    #[arg(long)]
    filter: Option<String>,
    /// Sort as in the API: `last_name,-created_at`.
    #[arg(long)]
    sort: Option<String>,
    /// Fields to export, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// csv or xlsx.
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write.
    #[arg(long)]
    to: PathBuf,
    /// The e-mail of the user the export acts as (default: the first administrator).
    #[arg(long = "as")]
    acting: Option<String>,
    #[arg(long, default_value = DEFAULT_WORKSPACE)]
    workspace: String,
    #[command(flatten)]
    db: DatabaseArgs,
}

async fn acting_user(store: &dyn Store, email: Option<&str>) -> Result<Principal> {
    let users = store.users().await.map_err(|e| anyhow!(e.detail))?;
    let user = match email {
        Some(e) => users
            .into_iter()
            .find(|u| u.active && u.email.as_deref() == Some(e.trim().to_lowercase().as_str()))
            .with_context(|| format!("no active user with the e-mail {e:?}"))?,
        None => users
            .into_iter()
            .filter(|u| u.active && u.role == Role::Admin && u.email.is_some())
            .min_by_key(|u| u.created_at)
            .context("no active administrator to act as; name a user with --as")?,
    };
    Ok(Principal::new(user.id, user.role, user.team, Credential::Local))
}

fn describe(e: &anchora_core::Error) -> String {
    if e.errors.is_empty() {
        return e.detail.clone();
    }
    e.errors
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `people.csv` → `people.rejected.csv`, beside it.
pub fn rejected_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.rejected.csv"))
}

fn file_hash(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The mapping: suggestions for every column, then `--map` on top (a column the user names
/// wins over a suggestion for the same field), and the columns left out, with why.
fn mapping(
    crm_schema: &anchora_core::meta::Schema,
    object: &anchora_core::meta::ObjectDef,
    headers: &[String],
    args: &ImportArgs,
) -> Result<(Names, Vec<LeftOut>)> {
    let suggested: BTreeMap<String, Option<String>> = if args.only_mapped {
        BTreeMap::new()
    } else {
        suggest(crm_schema, object, headers)
            .into_iter()
            .map(|s| (s.header, s.target))
            .collect()
    };
    let mut chosen = BTreeMap::new();
    for pair in &args.map {
        let (header, field) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--map {pair:?}: write it as HEADER=FIELD"))?;
        let field = field.trim();
        chosen.insert(
            header.trim().to_string(),
            (!field.is_empty()).then(|| field.to_string()),
        );
    }
    Ok(combine(headers, &suggested, &chosen))
}

/// `people.csv` → `people.warnings.csv`, beside it.
pub fn warnings_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.warnings.csv"))
}

pub async fn import(args: ImportArgs, clock: Arc<dyn Clock>) -> Result<()> {
    let instance = crate::open(&args.db.url(), &*clock).await?;
    let store = workspace_store(&instance, &args.workspace, &*clock).await?;
    let who = acting_user(&*store, args.acting.as_deref()).await?;
    let crm = Crm::new(store.clone() as Arc<dyn Store>, clock.clone()).in_workspace(&args.workspace);
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let open_file = || -> Result<BufReader<std::fs::File>> {
        let f = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
        Ok(BufReader::with_capacity(1 << 20, f))
    };
    let schema = crm.schema().await.map_err(|e| anyhow!(describe(&e)))?;
    let object = schema.object(&args.object).map_err(|e| anyhow!(describe(&e)))?.clone();
    let headers = source::open(&name, open_file()?)
        .map_err(|e| anyhow!(describe(&e)))?
        .headers;
    let (mapping, left_out) = mapping(&schema, &object, &headers, &args)?;
    let settings = ImportSettings {
        object: args.object.clone(),
        mapping,
        match_on: args.match_on.clone(),
        create_related: !args.no_new_companies,
        dry_run: args.dry_run,
        default_owner: args.default_owner.clone(),
        left_out: left_out.iter().map(|l| l.column.clone()).collect(),
        selection: None,
    };
    for (header, target) in &settings.mapping {
        eprintln!("  {header} → {}", target.as_deref().unwrap_or("(skipped)"));
    }
    for note in &left_out {
        eprintln!("  warning: {note}");
    }
    let started = std::time::Instant::now();
    let mut last_report = std::time::Instant::now();
    let job = crm
        .import_now(
            &who,
            settings,
            &name,
            file_hash(&args.file)?,
            open_file()?,
            &mut |job| {
                if last_report.elapsed().as_secs() >= 5 {
                    last_report = std::time::Instant::now();
                    eprintln!("  … row {}: {}", job.counts.last_row, job.counts.summary());
                }
                true
            },
        )
        .await
        .map_err(|e| anyhow!(describe(&e)))?;
    let rejected = rejected_path(&args.file);
    if job.counts.rejected > 0 {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&rejected).with_context(|| format!("cannot write {}", rejected.display()))?,
        );
        crm.write_rejected_csv(&who, &job.id.to_string(), &mut out)
            .await
            .map_err(|e| anyhow!(describe(&e)))?;
        out.flush()?;
    } else if rejected.exists() {
        // A report from an earlier run would be mistaken for this one's.
        std::fs::remove_file(&rejected)?;
    }
    let warned = warnings_path(&args.file);
    if job.counts.warnings > 0 {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&warned).with_context(|| format!("cannot write {}", warned.display()))?,
        );
        crm.write_warnings_csv(&who, &job.id.to_string(), &mut out)
            .await
            .map_err(|e| anyhow!(describe(&e)))?;
        out.flush()?;
        let (_, owners) = crm
            .import_warnings(&who, &job.id.to_string(), 0)
            .await
            .map_err(|e| anyhow!(describe(&e)))?;
        if !owners.is_empty() {
            eprintln!("owners that are no user (their new records went to the default owner):");
            for owner in &owners {
                eprintln!("  {} ({} rows)", owner.name, owner.rows);
            }
        }
    } else if warned.exists() {
        std::fs::remove_file(&warned)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows = job.counts.rows();
    eprintln!(
        "{} rows in {seconds:.1} s ({:.0} rows/s); {} unchanged, {} related records created; import {}",
        rows,
        rows as f64 / seconds.max(0.001),
        job.counts.unchanged,
        job.counts.related_created,
        job.id
    );
    if job.counts.rejected > 0 {
        eprintln!("rejected rows and why: {}", rejected.display());
    }
    if job.counts.warnings > 0 {
        eprintln!("warnings: {}", warned.display());
    }
    let prefix = if job.settings.dry_run { "dry run: " } else { "" };
    println!("{prefix}{}", job.counts.summary());
    instance.close().await;
    if job.status != JobStatus::Done {
        bail!("the import stopped: {}", job.error.unwrap_or_default());
    }
    Ok(())
}

pub async fn export(args: ExportArgs, clock: Arc<dyn Clock>) -> Result<()> {
    let format = Format::parse(&args.format).map_err(|_| anyhow!("--format must be csv or xlsx"))?;
    let instance = crate::open(&args.db.url(), &*clock).await?;
    let store = workspace_store(&instance, &args.workspace, &*clock).await?;
    let who = acting_user(&*store, args.acting.as_deref()).await?;
    let crm = Crm::new(store as Arc<dyn Store>, clock).in_workspace(&args.workspace);
    let request = ExportRequest {
        object: args.object,
        filter: args.filter,
        sort: args.sort,
        columns: args.columns,
        ids: None,
    };
    let started = std::time::Instant::now();
    let mut sink: Box<dyn Sink> = match format {
        Format::Csv => {
            let file =
                std::fs::File::create(&args.to).with_context(|| format!("cannot write {}", args.to.display()))?;
            Box::new(CsvSink::new(std::io::BufWriter::with_capacity(1 << 20, file)).map_err(|e| anyhow!(e.detail))?)
        }
        Format::Xlsx => Box::new(XlsxSink::new(&args.to).map_err(|e| anyhow!(e.detail))?),
    };
    let rows = crm
        .export(&who, &request, sink.as_mut())
        .await
        .map_err(|e| anyhow!(describe(&e)))?;
    sink.finish().map_err(|e| anyhow!(e.detail))?;
    println!(
        "exported {rows} rows to {} in {:.1} s",
        args.to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
