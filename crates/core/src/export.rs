//! Exporting records to CSV or XLSX, page by page, so a million rows never sit in memory.
//! Only records the caller may see are written; relations are written as the related record's
//! name and the owner as an e-mail address, so the file reads well and imports back.

use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::ids::{RecordId, UserId};
use crate::meta::{FieldDef, FieldType, ObjectDef};
use crate::record::Record;
use crate::service::{Crm, ListParams};
use crate::value::{Value, format_datetime};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(Error::field("format", "must be csv or xlsx")),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// A cell a spreadsheet program would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a leading apostrophe, so it shows as the text it is (OWASP's advice for
/// CSV injection). Numbers we write ourselves are never text, so a negative amount stays one.
pub fn safe_text(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}') => {
            Cow::Owned(format!("'{text}"))
        }
        _ => Cow::Borrowed(text),
    }
}

/// One cell of an export row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// Where rows go.
#[async_trait::async_trait]
pub trait Sink: Send {
    fn row(&mut self, cells: &[Cell]) -> Result<()>;
    /// Called after every page of rows: a sink that streams hands on what it holds, and may
    /// make the export wait until the reader has taken it.
    async fn page_done(&mut self) -> Result<()> {
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()>;
}

fn io_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("cannot write the export: {e}"))
}

/// CSV in UTF-8 with a byte-order mark (so Excel reads å, ä, ö right), comma-separated.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut out: W) -> Result<Self> {
        out.write_all(b"\xEF\xBB\xBF").map_err(io_error)?;
        Ok(Self {
            writer: csv::WriterBuilder::new().flexible(true).from_writer(out),
        })
    }

    /// Write one row of plain text cells (made formula-safe).
    pub fn text_row(&mut self, cells: &[String]) -> Result<()> {
        self.writer
            .write_record(cells.iter().map(|c| safe_text(c).into_owned()))
            .map_err(io_error)
    }

    pub fn into_inner(self) -> Result<W> {
        self.writer.into_inner().map_err(io_error)
    }
}

/// A byte buffer a CSV sink writes into and a streaming reader empties as it goes.
#[derive(Clone, Default)]
pub struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CsvSink<SharedBuffer> {
    /// What has been written since the last call (the byte-order mark first), for a sink that
    /// streams.
    pub fn take_written(&mut self) -> Result<Vec<u8>> {
        self.writer.flush().map_err(io_error)?;
        let mut buffer = self.writer.get_ref().0.lock().map_err(io_error)?;
        Ok(std::mem::take(&mut *buffer))
    }
}

impl<W: Write + Send> Sink for CsvSink<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        let texts = cells.iter().map(|c| match c {
            Cell::Text(t) => safe_text(t).into_owned(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        });
        self.writer.write_record(texts).map_err(io_error)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let mut out = self.writer.into_inner().map_err(io_error)?;
        out.flush().map_err(io_error)
    }
}

/// XLSX in rust_xlsxwriter's constant-memory mode: each row goes to a temporary file as it is
/// written, and the workbook is assembled from it at the end.
pub struct XlsxSink {
    workbook: rust_xlsxwriter::Workbook,
    row: u32,
    path: std::path::PathBuf,
}

/// Excel's last row; an export longer than that continues on a new sheet.
const XLSX_MAX_ROWS: u32 = 1_048_576;

impl XlsxSink {
    pub fn new(path: &std::path::Path) -> Result<Self> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        workbook.add_worksheet_with_constant_memory().map_err(io_error)?;
        Ok(Self {
            workbook,
            row: 0,
            path: path.to_path_buf(),
        })
    }
}

impl Sink for XlsxSink {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        if self.row == XLSX_MAX_ROWS {
            self.workbook.add_worksheet_with_constant_memory().map_err(io_error)?;
            self.row = 0;
        }
        let index = self.workbook.worksheets().len().saturating_sub(1);
        let sheet = self.workbook.worksheet_from_index(index).map_err(io_error)?;
        for (col, cell) in cells.iter().enumerate() {
            let col = u16::try_from(col).map_err(io_error)?;
            match cell {
                // Written as strings, never formulas, so no cell runs anything.
                Cell::Text(t) => {
                    sheet.write_string(self.row, col, t).map_err(io_error)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(self.row, col, *n).map_err(io_error)?;
                }
                Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.workbook.save(&self.path).map_err(io_error)
    }
}

/// What to export: an object's records under a filter and sort (a view's or a list's), and
/// which fields (all active fields when none are named).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ExportRequest {
    pub object: String,
    pub filter: Option<String>,
    pub sort: Option<String>,
    pub columns: Vec<String>,
    /// Only these records (a selection), when given.
    pub ids: Option<Vec<RecordId>>,
}

/// The columns of an export: the record id, the fields, then owner and timestamps.
fn export_fields(object: &ObjectDef, names: &[String]) -> Result<Vec<FieldDef>> {
    if names.is_empty() {
        return Ok(object.active_fields().cloned().collect());
    }
    names
        .iter()
        .filter(|n| !matches!(n.as_str(), "id" | "owner" | "created_at" | "updated_at"))
        .map(|n| {
            object
                .field(n)
                .cloned()
                .ok_or_else(|| Error::field("columns", format!("{} has no field {n:?}", object.name)))
        })
        .collect()
}

/// Page size of an export: the largest page a list gives.
const EXPORT_PAGE: u32 = crate::query::MAX_LIMIT;

impl Crm {
    /// Everything about an export that can fail before its first row (rights, object, columns,
    /// filter, sort), so a download that starts does not stop on a mistake in the request.
    pub async fn check_export(&self, who: &Principal, request: &ExportRequest) -> Result<()> {
        let schema = self.authorize(who, Permission::Export).await?;
        let object = schema.object(&request.object)?;
        export_fields(object, &request.columns)?;
        if request.ids.is_none() {
            let probe = ListParams {
                filter: request.filter.clone(),
                sort: request.sort.clone(),
                limit: Some("1".into()),
                cursor: None,
                trash: false,
                count: false,
            };
            self.list(who, &request.object, &probe).await?;
        }
        Ok(())
    }

    /// Write every record the request names and the caller may see into `sink`; returns how
    /// many rows were written (besides the header).
    pub async fn export(&self, who: &Principal, request: &ExportRequest, sink: &mut dyn Sink) -> Result<u64> {
        let schema = self.authorize(who, Permission::Export).await?;
        let object = schema.object(&request.object)?.clone();
        let fields = export_fields(&object, &request.columns)?;
        let mut header = vec![Cell::Text("id".into())];
        header.extend(fields.iter().map(|f| Cell::Text(f.label.clone())));
        for h in ["Owner", "Created", "Updated"] {
            header.push(Cell::Text(h.into()));
        }
        sink.row(&header)?;
        let users: HashMap<UserId, String> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter_map(|u| Some((u.id, u.email?)))
            .collect();
        if let Some(ids) = &request.ids {
            return self.export_selection(who, &object, ids, &fields, &users, sink).await;
        }
        let mut params = ListParams {
            filter: request.filter.clone(),
            sort: request.sort.clone(),
            limit: Some(EXPORT_PAGE.to_string()),
            cursor: None,
            trash: false,
            count: false,
        };
        let mut written = 0u64;
        loop {
            let (_, page) = self.list(who, &object.name, &params).await?;
            let titles = self.relation_titles(who, &fields, &page.records).await?;
            for record in &page.records {
                sink.row(&row_cells(record, &fields, &titles, &users))?;
                written += 1;
            }
            match page.next_cursor {
                Some(c) => params.cursor = Some(c),
                None => break,
            }
        }
        Ok(written)
    }

    /// A selection: the named records the caller may see, in the order of their ids.
    async fn export_selection(
        &self,
        who: &Principal,
        object: &ObjectDef,
        ids: &[RecordId],
        fields: &[FieldDef],
        users: &HashMap<UserId, String>,
        sink: &mut dyn Sink,
    ) -> Result<u64> {
        let schema = self.schema().await?;
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        let mut written = 0u64;
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        for chunk in ids.chunks(EXPORT_PAGE as usize) {
            let records = self.records_by_id(object, chunk, owners.clone()).await?;
            let titles = self.relation_titles(who, fields, &records).await?;
            for record in &records {
                sink.row(&row_cells(record, fields, &titles, users))?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// The names of the records a page's relation fields point at, per related object.
    async fn relation_titles(
        &self,
        who: &Principal,
        fields: &[FieldDef],
        records: &[Record],
    ) -> Result<HashMap<(String, RecordId), String>> {
        let mut out = HashMap::new();
        for field in fields.iter().filter(|f| f.field_type == FieldType::Relation) {
            let Some(target) = field.target.as_deref() else {
                continue;
            };
            let mut ids: Vec<RecordId> = records
                .iter()
                .filter_map(|r| match r.get(&field.name) {
                    Value::Relation(id) => Some(*id),
                    _ => None,
                })
                .collect();
            ids.sort();
            ids.dedup();
            for (id, title) in self.titles(who, target, &ids).await? {
                out.insert((target.to_string(), id), title);
            }
        }
        Ok(out)
    }
}

fn row_cells(
    record: &Record,
    fields: &[FieldDef],
    titles: &HashMap<(String, RecordId), String>,
    users: &HashMap<UserId, String>,
) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(fields.len() + 4);
    cells.push(Cell::Text(record.id.to_string()));
    for field in fields {
        let cell = match (record.get(&field.name), field.field_type) {
            (Value::Null, _) => Cell::Empty,
            (Value::Number(n) | Value::Percent(n), _) => Cell::Number(*n),
            #[allow(clippy::cast_precision_loss)] // bounded by MAX_MONEY_MINOR, exact in f64
            (Value::Money(minor), _) => Cell::Number(*minor as f64 / 100.0),
            (Value::Relation(id), _) => {
                let target = field.target.clone().unwrap_or_default();
                // A related record the caller may not see is not named.
                titles
                    .get(&(target, *id))
                    .map_or(Cell::Empty, |t| Cell::Text(t.clone()))
            }
            (Value::User(id), _) => users.get(id).map_or(Cell::Empty, |e| Cell::Text(e.clone())),
            (Value::MultiSelect(v), _) => Cell::Text(v.join("; ")),
            (Value::Bool(b), _) => Cell::Text(if *b { "true" } else { "false" }.into()),
            (other, _) => other.to_text().map_or(Cell::Empty, Cell::Text),
        };
        cells.push(cell);
    }
    cells.push(
        record
            .owner
            .and_then(|o| users.get(&o))
            .map_or(Cell::Empty, |e| Cell::Text(e.clone())),
    );
    cells.push(Cell::Text(format_datetime(&record.created_at)));
    cells.push(Cell::Text(format_datetime(&record.updated_at)));
    cells
}

/// An export of more records than a list counts (10,000) is built as a job and kept as a file,
/// instead of inside the request that asks for it.
pub const EXPORT_INLINE_MAX: u64 = crate::service::COUNT_CAP;
/// Kept export files are forgotten after this many days.
pub const EXPORT_KEPT_DAYS: i64 = 7;

impl Crm {
    /// Whether an export is too large to build inside a request (more than
    /// [`EXPORT_INLINE_MAX`] records the caller may see).
    pub async fn export_is_large(&self, who: &Principal, request: &ExportRequest) -> Result<bool> {
        if let Some(ids) = &request.ids {
            return Ok(ids.len() as u64 > EXPORT_INLINE_MAX);
        }
        let probe = ListParams {
            filter: request.filter.clone(),
            sort: request.sort.clone(),
            limit: Some("1".into()),
            cursor: None,
            trash: false,
            count: true,
        };
        let (_, page) = self.list(who, &request.object, &probe).await?;
        Ok(page.total.is_some_and(|t| t.more))
    }

    /// Build an export as a job: checked now (rights, object, columns, filter), written by a
    /// worker as the caller, kept for a week for them to download.
    pub async fn start_export(
        &self,
        who: &Principal,
        request: &ExportRequest,
        format: Format,
    ) -> Result<crate::jobs::JobView> {
        self.check_export(who, request).await?;
        let payload = serde_json::json!({"request": request, "format": format});
        // The same export asked again while it waits or runs (a double click): that one.
        let waiting = self.store.jobs(Some(who.user_id), 50).await?.into_iter().find(|j| {
            j.kind() == Some(crate::jobs::JobKind::Export)
                && !j.state.finished()
                && !j.cancel_requested
                && j.payload == payload
        });
        if let Some(job) = waiting {
            return Ok(self.view_of(who, job));
        }
        let job = crate::jobs::NewJob::now(
            crate::jobs::JobKind::Export,
            payload,
            Some(who.user_id),
            self.clock.now(),
        );
        Ok(self.view_of(who, self.enqueue(job).await?))
    }

    /// The export job's work: the file written beside the worker, then kept in the database
    /// (any server may be asked for it).
    pub(crate) async fn export_as_job(
        &self,
        who: &Principal,
        job: &crate::jobs::Job,
        ctx: &crate::jobs::JobCtx,
    ) -> Result<Option<serde_json::Value>> {
        let payload = &job.payload;
        let bad = |e: serde_json::Error| Error::field("payload", e.to_string());
        let request: ExportRequest =
            serde_json::from_value(payload.get("request").cloned().unwrap_or_default()).map_err(bad)?;
        let format: Format = serde_json::from_value(payload.get("format").cloned().unwrap_or_default()).map_err(bad)?;
        self.check_export(who, &request).await?;
        let dir = tempfile::tempdir().map_err(io_error)?;
        let path = dir.path().join(format!("export.{}", format.extension()));
        let mut sink: Box<dyn Sink> = match format {
            Format::Csv => Box::new(CsvSink::new(std::io::BufWriter::new(
                std::fs::File::create(&path).map_err(io_error)?,
            ))?),
            Format::Xlsx => Box::new(XlsxSink::new(&path)?),
        };
        ctx.phase("exporting", None);
        let rows = self
            .export(
                who,
                &request,
                &mut Counting {
                    sink: sink.as_mut(),
                    ctx,
                },
            )
            .await?;
        ctx.go_on()?;
        ctx.phase("saving", None);
        tokio::task::spawn_blocking(move || sink.finish())
            .await
            .map_err(io_error)??;
        let name = format!(
            "{}-{}.{}",
            request.object,
            self.clock.now().format("%Y-%m-%d"),
            format.extension()
        );
        let bytes = std::fs::metadata(&path).map_err(io_error)?.len();
        self.store.keep_job_file(job.id, &name, &path).await?;
        Ok(Some(serde_json::json!({"rows": rows, "file": name, "bytes": bytes})))
    }
}

/// A sink that tells the job how many rows it has written, and stops when the job should.
struct Counting<'a> {
    sink: &'a mut dyn Sink,
    ctx: &'a crate::jobs::JobCtx,
}

#[async_trait::async_trait]
impl Sink for Counting<'_> {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        self.ctx.go_on()?;
        self.ctx.advance(1);
        self.sink.row(cells)
    }

    async fn page_done(&mut self) -> Result<()> {
        self.sink.page_done().await
    }

    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_defused_and_plain_text_is_not_touched() {
        for evil in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "＝1"] {
            assert!(safe_text(evil).starts_with('\''), "{evil}");
        }
        for plain in ["Anna", "1+1", "a=b", "", "'quoted"] {
            assert_eq!(safe_text(plain), plain);
        }
    }

    #[test]
    fn csv_has_a_bom_and_quotes_what_needs_quoting() {
        let mut sink = CsvSink::new(Vec::new()).unwrap();
        sink.row(&[
            Cell::Text("a,b".into()),
            Cell::Text("line\nbreak".into()),
            Cell::Number(-2.5),
            Cell::Text("=HYPERLINK(\"x\")".into()),
            Cell::Empty,
        ])
        .unwrap();
        let bytes = sink.into_inner().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}\"a,b\",\"line\nbreak\",-2.5,\"'=HYPERLINK(\"\"x\"\")\",\n"
        );
    }
}
