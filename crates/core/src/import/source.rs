//! Reading a spreadsheet as a header and rows of text cells: CSV in whatever encoding and
//! separator it came in, or the first sheet of an XLSX workbook.
//!
//! CSV streams (a million-row file never sits in memory); the encoding and the separator are
//! decided from the first 64 KiB.

use crate::error::{Error, ErrorCode, Result};
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::sync::{Arc, Mutex};

/// How much of the file decides the encoding and the separator.
const SNIFF_BYTES: usize = 64 * 1024;
/// At most this many columns; wider files are refused whole (they are not contact lists).
pub const MAX_COLUMNS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Decide the encoding from a file's first bytes: a byte-order mark, the zero bytes of UTF-16
/// text without one, valid UTF-8, or else Windows-1252 (what Excel writes on Windows in the
/// five languages we serve).
pub fn detect_encoding(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8Bom;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    let sample = head.get(..head.len().min(4096)).unwrap_or(head);
    let pairs = sample.len() / 2;
    if pairs >= 2 {
        let even_zeros = sample.iter().step_by(2).filter(|b| **b == 0).count();
        let odd_zeros = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        // Latin text in UTF-16 has a zero in every other byte.
        if odd_zeros * 10 >= pairs * 3 && even_zeros * 10 < pairs {
            return Encoding::Utf16Le;
        }
        if even_zeros * 10 >= pairs * 3 && odd_zeros * 10 < pairs {
            return Encoding::Utf16Be;
        }
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        // A multi-byte character cut by the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// Pick the separator of a CSV from its first line (outside quotes): the most frequent of comma,
/// semicolon, tab and pipe; a comma when there is none.
pub fn detect_separator(head: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for c in head.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(sep, _)| *sep == c) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .copied()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(sep, n)| (*n, *sep == b','))
        .map_or(b',', |(sep, _)| sep)
}

/// One row of cells as read, with its row number in the file (the header is row 1, as in a
/// spreadsheet program).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub number: u64,
    pub cells: Vec<String>,
}

/// A row the reader could not even split into cells.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRow {
    pub number: u64,
    pub reason: String,
    /// What could be recovered of it, for the rejected-rows file.
    pub cells: Vec<String>,
}

pub type RowResult = std::result::Result<RawRow, BrokenRow>;

/// What the file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub format: &'static str,
    pub encoding: Option<Encoding>,
    pub separator: Option<char>,
}

/// A table being read: its header, then its rows one at a time.
pub struct Table {
    pub headers: Vec<String>,
    pub info: SourceInfo,
    rows: Box<dyn Iterator<Item = RowResult> + Send>,
    /// Set when reading stopped because the file itself could not be read on.
    failure: Arc<Mutex<Option<String>>>,
}

impl Table {
    /// Why reading stopped before the end of the file, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    pub fn next_row(&mut self) -> Option<RowResult> {
        self.rows.next()
    }

    /// Up to `n` rows.
    pub fn take_rows(&mut self, n: usize) -> Vec<RowResult> {
        let mut out = Vec::with_capacity(n.min(10_000));
        while out.len() < n {
            match self.rows.next() {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }
}

fn unreadable(message: impl Into<String>) -> Error {
    Error::field("file", message)
}

/// Open a file by its name and first bytes: XLSX (a ZIP) when it starts like one, CSV otherwise.
pub fn open(name: &str, reader: impl Read + Seek + Send + 'static) -> Result<Table> {
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, reader);
    let head = reader
        .fill_buf()
        .map_err(|e| unreadable(format!("cannot be read: {e}")))?;
    let is_zip = head.starts_with(b"PK\x03\x04");
    let lower = name.to_ascii_lowercase();
    if is_zip || lower.ends_with(".xlsx") {
        if !is_zip {
            return Err(unreadable("is named .xlsx but is not an Excel workbook"));
        }
        return open_xlsx(reader);
    }
    if lower.ends_with(".xls") && head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(unreadable(
            "is an old Excel 97–2003 workbook; save it as .xlsx or CSV and try again",
        ));
    }
    open_csv(reader)
}

/// A CSV stream, encoding and separator detected.
pub fn open_csv(reader: impl Read + Send + 'static) -> Result<Table> {
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, reader);
    let head = reader
        .fill_buf()
        .map_err(|e| unreadable(format!("cannot be read: {e}")))?
        .to_vec();
    if head.is_empty() {
        return Err(unreadable("is empty"));
    }
    let encoding = detect_encoding(&head);
    let decoded: Box<dyn Read + Send> = match encoding {
        Encoding::Utf8 => Box::new(reader),
        Encoding::Utf8Bom => {
            reader.consume(3);
            Box::new(reader)
        }
        other => {
            let enc = match other {
                Encoding::Utf16Le => encoding_rs::UTF_16LE,
                Encoding::Utf16Be => encoding_rs::UTF_16BE,
                _ => encoding_rs::WINDOWS_1252,
            };
            Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(enc))
                    .bom_sniffing(false)
                    .strip_bom(true)
                    .build(reader),
            )
        }
    };
    // The separator is read off the decoded text, so UTF-16's zero bytes do not confuse it.
    let mut decoded = decoded;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut decoded)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| unreadable(format!("cannot be read: {e}")))?;
    let text_head = String::from_utf8_lossy(&head).into_owned();
    if text_head.trim().is_empty() {
        return Err(unreadable("is empty"));
    }
    let decoded = Cursor::new(head).chain(decoded);
    let separator = detect_separator(&text_head);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(decoded);
    let mut record = csv::ByteRecord::new();
    let headers = match csv.read_byte_record(&mut record) {
        Ok(true) => header_cells(&record)?,
        Ok(false) => return Err(unreadable("is empty")),
        Err(e) => return Err(unreadable(format!("has an unreadable header row: {e}"))),
    };
    let info = SourceInfo {
        format: "csv",
        encoding: Some(encoding),
        separator: Some(char::from(separator)),
    };
    let mut number = 1u64;
    let failure = Arc::new(Mutex::new(None));
    let failed = failure.clone();
    let rows = std::iter::from_fn(move || {
        let mut record = csv::ByteRecord::new();
        loop {
            number += 1;
            match csv.read_byte_record(&mut record) {
                Ok(false) => return None,
                Ok(true) if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) => continue,
                Ok(true) => return Some(decode_row(number, &record)),
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    if let Ok(mut f) = failed.lock() {
                        *f = Some(format!("the file could not be read past row {}: {e}", number - 1));
                    }
                    return None;
                }
                Err(e) => {
                    let recovered = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
                    return Some(Err(BrokenRow {
                        number,
                        reason: format!("cannot be read as CSV: {e}"),
                        cells: recovered,
                    }));
                }
            }
        }
    });
    Ok(Table {
        headers,
        info,
        rows: Box::new(rows),
        failure,
    })
}

fn header_cells(record: &csv::ByteRecord) -> Result<Vec<String>> {
    if record.len() > MAX_COLUMNS {
        return Err(unreadable(format!(
            "has {} columns; at most {MAX_COLUMNS} can be imported",
            record.len()
        )));
    }
    let headers: Vec<String> = record
        .iter()
        .map(|c| String::from_utf8_lossy(c).trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(unreadable(
            "has an empty header row; the first row must name the columns",
        ));
    }
    Ok(unique_headers(headers))
}

/// Column names a mapping can refer to: blank ones get "Column N", repeated ones " (2)".
fn unique_headers(headers: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(headers.len());
    for (i, h) in headers.into_iter().enumerate() {
        let base = if h.is_empty() { format!("Column {}", i + 1) } else { h };
        let mut name = base.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        out.push(name);
    }
    out
}

fn decode_row(number: u64, record: &csv::ByteRecord) -> RowResult {
    let mut cells = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        match std::str::from_utf8(cell) {
            Ok(s) => cells.push(s.to_string()),
            Err(_) => {
                let cells = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
                return Err(BrokenRow {
                    number,
                    reason: format!(
                        "column {} is not valid UTF-8 although the file starts as UTF-8; save the whole file as UTF-8",
                        i + 1
                    ),
                    cells,
                });
            }
        }
    }
    Ok(RawRow { number, cells })
}

/// A cell of a workbook as text: numbers without a needless ".0", dates as ISO dates.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::{Data, DataType};
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) => match cell.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => String::new(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Rows of a workbook read ahead of the import, at most this many at a time.
const XLSX_ROWS_AHEAD: usize = 256;

/// What the workbook's reader thread sends: a row (its sheet row number and cells), the end of
/// the sheet, or why reading stopped. A queue that closes without an end means the thread died.
enum SheetRow {
    Row(u64, Vec<String>),
    End,
    Failed(String),
}

/// The shared strings of a workbook are read whole before its first row, into a list sized by
/// the count the file states: a part bigger than this, or a count it cannot hold, is refused.
const MAX_SHARED_STRINGS_BYTES: u64 = 128 << 20;

/// Refuse a workbook whose shared strings would take more memory than an import may (a
/// made-up count of billions, or a part that unpacks to gigabytes), before the reader sizes
/// anything by them.
fn check_shared_strings<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), String> {
    let mut zip = zip::ZipArchive::new(&mut *reader).map_err(|e| format!("is not a readable Excel workbook: {e}"))?;
    let parts: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .filter(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"))
        .collect();
    for part in parts {
        let mut strings = zip
            .by_name(&part)
            .map_err(|e| format!("is not a readable Excel workbook: {e}"))?;
        let size = strings.size();
        if size > MAX_SHARED_STRINGS_BYTES {
            return Err(format!(
                "holds {} MB of text in its shared strings; at most {} MB can be imported (save it as CSV)",
                size >> 20,
                MAX_SHARED_STRINGS_BYTES >> 20
            ));
        }
        let mut head = Vec::new();
        (&mut strings)
            .take(4096)
            .read_to_end(&mut head)
            .map_err(|e| format!("is not a readable Excel workbook: {e}"))?;
        // Each string takes at least `<si><t>x</t></si>`: a count beyond that is made up.
        if stated_count(&head, "uniqueCount").is_some_and(|n| n > size / 16 + 16) {
            return Err("is not a readable Excel workbook: its shared strings are counted wrong".into());
        }
    }
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| format!("cannot be read: {e}"))?;
    Ok(())
}

/// The number an XML attribute states in the first bytes of a part (`uniqueCount="12"`).
fn stated_count(head: &[u8], attribute: &str) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let at = text.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    // More digits than a u64 holds is as made up as a huge count.
    Some(digits.parse().unwrap_or(u64::MAX))
}

/// Read the first sheet of a workbook cell by cell, sending whole rows (empty ones left out).
fn read_sheet<R: Read + Seek>(mut reader: R, rows: &std::sync::mpsc::SyncSender<SheetRow>) {
    use calamine::Reader;
    let send_error = |message: String| {
        let _ = rows.send(SheetRow::Failed(message));
    };
    if let Err(message) = check_shared_strings(&mut reader) {
        return send_error(message);
    }
    let mut book = match calamine::Xlsx::new(reader) {
        Ok(b) => b,
        Err(e) => return send_error(format!("is not a readable Excel workbook: {e}")),
    };
    let Some(first) = book.sheet_names().first().cloned() else {
        return send_error("has no sheets".into());
    };
    let mut cells = match book.worksheet_cells_reader(&first) {
        Ok(c) => c,
        Err(e) => return send_error(format!("has a first sheet that cannot be read: {e}")),
    };
    // The sheet says how wide it is: a file too wide is refused whole, before any row.
    let dimensions = cells.dimensions();
    if dimensions.end.1.saturating_sub(dimensions.start.1) as usize >= MAX_COLUMNS {
        return send_error(format!(
            "has {} columns; at most {MAX_COLUMNS} can be imported",
            dimensions.end.1 - dimensions.start.1 + 1
        ));
    }
    // Columns count from the first one the sheet uses, as a spreadsheet program shows them.
    let first_column = dimensions.start.1;
    let mut current: Option<(u32, Vec<String>)> = None;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => return send_error(format!("has a first sheet that cannot be read: {e}")),
        };
        let (row, column) = cell.get_position();
        let Some(column) = column.checked_sub(first_column) else {
            continue;
        };
        let column = column as usize;
        if column >= MAX_COLUMNS {
            return send_error(format!(
                "has more than {MAX_COLUMNS} columns; at most {MAX_COLUMNS} can be imported"
            ));
        }
        if current.as_ref().is_some_and(|(r, _)| *r != row)
            && let Some((r, row_cells)) = current.take()
            && row_cells.iter().any(|c| !c.trim().is_empty())
            && rows.send(SheetRow::Row(u64::from(r) + 1, row_cells)).is_err()
        {
            // The table was dropped (a preview read what it needed): stop reading.
            return;
        }
        let (_, row_cells) = current.get_or_insert_with(|| (row, Vec::new()));
        if row_cells.len() <= column {
            row_cells.resize(column + 1, String::new());
        }
        if let Some(slot) = row_cells.get_mut(column) {
            *slot = cell_text(&calamine::Data::from(cell.get_value().clone()));
        }
    }
    if let Some((r, row_cells)) = current
        && row_cells.iter().any(|c| !c.trim().is_empty())
        && rows.send(SheetRow::Row(u64::from(r) + 1, row_cells)).is_err()
    {
        return;
    }
    let _ = rows.send(SheetRow::End);
}

/// The first sheet of an XLSX workbook, read as it goes: a thread reads the workbook cell by
/// cell and hands whole rows over a short queue, so a big sheet never sits in memory.
pub fn open_xlsx(reader: impl Read + Seek + Send + 'static) -> Result<Table> {
    let (send, receive) = std::sync::mpsc::sync_channel::<SheetRow>(XLSX_ROWS_AHEAD);
    std::thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || read_sheet(reader, &send))
        .map_err(|e| unreadable(format!("cannot be read: {e}")))?;
    let header = match receive.recv() {
        Ok(SheetRow::Row(_, first)) => first,
        Ok(SheetRow::Failed(message)) => return Err(unreadable(message)),
        Ok(SheetRow::End) => return Err(unreadable("is empty")),
        Err(_) => return Err(unreadable("could not be read to its end")),
    };
    let headers: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    if headers.iter().all(String::is_empty) {
        return Err(unreadable(
            "has an empty header row; the first row must name the columns",
        ));
    }
    let headers = unique_headers(headers);
    let width = headers.len();
    let failure = Arc::new(Mutex::new(None));
    let failed = failure.clone();
    // The queue closing before the end (the reader thread died) fails the table like an
    // unreadable row would: an import never finishes short as if the sheet had ended there.
    let rows = receive
        .into_iter()
        .map(Some)
        .chain(std::iter::once(None))
        .map_while(move |row| {
            let failure = match row {
                Some(SheetRow::Row(number, mut cells)) => {
                    if cells.len() < width {
                        cells.resize(width, String::new());
                    }
                    return Some(Ok(RawRow { number, cells }));
                }
                Some(SheetRow::End) => return None,
                Some(SheetRow::Failed(message)) => message,
                None => "could not be read to its end".to_string(),
            };
            if let Ok(mut f) = failed.lock() {
                *f = Some(failure);
            }
            None
        });
    Ok(Table {
        headers,
        info: SourceInfo {
            format: "xlsx",
            encoding: None,
            separator: None,
        },
        rows: Box::new(rows),
        failure,
    })
}

/// Whether a file's name or content says it is something we cannot read at all.
pub fn refuse_unknown(name: &str) -> Result<()> {
    let lower = name.to_ascii_lowercase();
    let known = [".csv", ".txt", ".tsv", ".xlsx", ""];
    if lower.contains('.') && !known.iter().any(|ext| !ext.is_empty() && lower.ends_with(ext)) {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "only CSV (.csv, .txt, .tsv) and Excel (.xlsx) files can be imported",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: Vec<u8>) -> (Vec<String>, Vec<RowResult>, SourceInfo) {
        let mut t = open("people.csv", Cursor::new(bytes)).unwrap();
        let rows = t.take_rows(usize::MAX);
        (t.headers.clone(), rows, t.info.clone())
    }

    fn cells(rows: &[RowResult]) -> Vec<Vec<String>> {
        rows.iter().map(|r| r.as_ref().unwrap().cells.clone()).collect()
    }

    #[test]
    fn utf8_with_and_without_bom_read_the_same() {
        let plain = "first_name,last_name\nÅsa,Öberg\n".as_bytes().to_vec();
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(&plain);
        let (h1, r1, i1) = read_all(plain);
        let (h2, r2, i2) = read_all(bom);
        assert_eq!(h1, vec!["first_name", "last_name"]);
        assert_eq!(h1, h2);
        assert_eq!(cells(&r1), cells(&r2));
        assert_eq!(cells(&r1), vec![vec!["Åsa", "Öberg"]]);
        assert_eq!(i1.encoding, Some(Encoding::Utf8));
        assert_eq!(i2.encoding, Some(Encoding::Utf8Bom));
    }

    #[test]
    fn utf16_and_windows_1252_are_detected_and_decoded() {
        let text = "Förnamn;Efternamn\nJürgen;Müller\n";
        // encoding_rs encodes to UTF-16 as UTF-8 (the WHATWG rule), so it is built by hand.
        let mut utf16le = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            utf16le.extend_from_slice(&u.to_le_bytes());
        }
        let mut utf16be_no_bom = Vec::new();
        for u in text.encode_utf16() {
            utf16be_no_bom.extend_from_slice(&u.to_be_bytes());
        }
        let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        for (bytes, enc) in [
            (utf16le, Encoding::Utf16Le),
            (utf16be_no_bom, Encoding::Utf16Be),
            (cp1252.into_owned(), Encoding::Windows1252),
        ] {
            let (h, rows, info) = read_all(bytes);
            assert_eq!(info.encoding, Some(enc));
            assert_eq!(info.separator, Some(';'));
            assert_eq!(h, vec!["Förnamn", "Efternamn"]);
            assert_eq!(cells(&rows), vec![vec!["Jürgen", "Müller"]]);
        }
    }

    #[test]
    fn quoted_fields_keep_their_newlines_separators_and_quotes() {
        let text = "name;address;note\n\"Acme; AB\";\"Storgatan 1\r\n111 22 Stockholm\";\"say \"\"hi\"\"\"\n";
        let (_, rows, info) = read_all(text.as_bytes().to_vec());
        assert_eq!(info.separator, Some(';'));
        assert_eq!(
            cells(&rows),
            vec![vec!["Acme; AB", "Storgatan 1\r\n111 22 Stockholm", "say \"hi\""]]
        );
        // The row after a multi-line row still has its own row number.
        let text = "a,b\n\"x\ny\",1\nz,2\n";
        let (_, rows, _) = read_all(text.as_bytes().to_vec());
        let numbers: Vec<u64> = rows.iter().map(|r| r.as_ref().unwrap().number).collect();
        assert_eq!(numbers, vec![2, 3]);
    }

    #[test]
    fn separators_are_found_on_the_header_line() {
        assert_eq!(detect_separator("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(detect_separator("a;b;c\n"), b';');
        assert_eq!(detect_separator("a\tb\tc"), b'\t');
        assert_eq!(detect_separator("\"a;b\",c"), b',');
        assert_eq!(detect_separator("single"), b',');
    }

    #[test]
    fn empty_and_blank_files_are_refused_by_name() {
        for bytes in [Vec::new(), b"   \n\n".to_vec(), vec![0xEF, 0xBB, 0xBF]] {
            let err = open("x.csv", Cursor::new(bytes)).err().unwrap();
            assert_eq!(err.errors[0].field, "file");
        }
        let err = open("x.csv", Cursor::new(b",,,\n1,2,3,4\n".to_vec())).err().unwrap();
        assert!(err.errors[0].message.contains("empty header"), "{err:?}");
        let (h, _, _) = read_all(b"Name,,Name,Name\n".to_vec());
        assert_eq!(h, vec!["Name", "Column 2", "Name (2)", "Name (3)"]);
    }

    #[test]
    fn invalid_utf8_late_in_a_utf8_file_rejects_only_that_row() {
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"x,y\n".as_slice(), 20_000).flatten());
        bytes.extend_from_slice(b"caf\xE9,ok\nlast,row\n");
        let (_, rows, info) = read_all(bytes);
        assert_eq!(info.encoding, Some(Encoding::Utf8));
        assert_eq!(rows.len(), 20_002);
        let broken = rows.iter().filter(|r| r.is_err()).count();
        assert_eq!(broken, 1);
        assert!(rows.last().unwrap().is_ok());
    }

    #[test]
    fn a_reader_that_fails_ends_the_rows_and_says_why() {
        struct Failing(Cursor<Vec<u8>>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.read(buf)? {
                    0 => Err(std::io::Error::other("disk gone")),
                    n => Ok(n),
                }
            }
        }
        impl Seek for Failing {
            fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
                self.0.seek(to)
            }
        }
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"1,2\n".as_slice(), 50_000).flatten());
        let mut t = open("x.csv", Failing(Cursor::new(bytes))).unwrap();
        let rows = t.take_rows(100_000);
        assert!(rows.len() <= 50_000);
        assert!(rows.iter().all(Result::is_ok));
        assert!(t.failure().unwrap().contains("disk gone"));
    }

    #[test]
    fn too_many_columns_are_refused_and_a_hundred_are_fine() {
        let header: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let row: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let text = format!("{}\n{}\n", header.join(","), row.join(","));
        let (h, rows, _) = read_all(text.into_bytes());
        assert_eq!(h.len(), 100);
        assert_eq!(cells(&rows)[0].len(), 100);
        let wide: Vec<String> = (0..=MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        let err = open("x.csv", Cursor::new(wide.join(",").into_bytes())).err().unwrap();
        assert!(err.errors[0].message.contains("columns"));
    }

    #[test]
    fn xlsx_is_read_with_typed_cells_as_text() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Förnamn").unwrap();
        sheet.write_string(0, 1, "Anställda").unwrap();
        sheet.write_string(1, 0, "Åsa").unwrap();
        sheet.write_number(1, 1, 42.0).unwrap();
        sheet.write_string(3, 0, "Bo").unwrap();
        sheet.write_number(3, 1, 2.5).unwrap();
        // A row with only its second cell, and a date.
        sheet.write_number(4, 1, 7.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 2).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(5, 0, &date, &format).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut t = open("people.xlsx", Cursor::new(bytes)).unwrap();
        assert_eq!(t.headers, vec!["Förnamn", "Anställda"]);
        let rows = t.take_rows(10);
        assert_eq!(
            cells(&rows),
            vec![
                vec!["Åsa", "42"],
                vec!["Bo", "2.5"],
                vec!["", "7"],
                vec!["2026-12-02", ""]
            ]
        );
        assert_eq!(rows[1].as_ref().unwrap().number, 4);
        assert_eq!(rows[3].as_ref().unwrap().number, 6);
        assert!(t.failure().is_none());
        // A sheet that starts in column C counts its columns from there.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(1, 2, "Efternamn").unwrap();
        sheet.write_string(1, 3, "Ort").unwrap();
        sheet.write_string(2, 2, "Öberg").unwrap();
        sheet.write_string(2, 3, "Malmö").unwrap();
        let mut t = open("offset.xlsx", Cursor::new(book.save_to_buffer().unwrap())).unwrap();
        assert_eq!(t.headers, vec!["Efternamn", "Ort"]);
        let rows = t.take_rows(10);
        assert_eq!(cells(&rows), vec![vec!["Öberg", "Malmö"]]);
        assert_eq!(rows[0].as_ref().unwrap().number, 3);
        // Wider than we take: refused before any row.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "A").unwrap();
        sheet.write_string(0, 600, "Far out").unwrap();
        let err = open("wide.xlsx", Cursor::new(book.save_to_buffer().unwrap()))
            .err()
            .unwrap();
        assert!(err.errors[0].message.contains("columns"), "{err:?}");
        let err = open("fake.xlsx", Cursor::new(b"a,b\n".to_vec())).err().unwrap();
        assert!(err.errors[0].message.contains("not an Excel"));
    }

    /// A workbook like `book` with one part's text changed.
    fn with_part(book: Vec<u8>, part: &str, change: impl Fn(String) -> String) -> Vec<u8> {
        use std::io::Write as _;
        let mut from = zip::ZipArchive::new(Cursor::new(book)).unwrap();
        let mut to = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..from.len() {
            let mut file = from.by_index(i).unwrap();
            let name = file.name().unwrap().into_owned();
            let mut text = Vec::new();
            file.read_to_end(&mut text).unwrap();
            if name == part {
                text = change(String::from_utf8(text).unwrap()).into_bytes();
            }
            to.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            to.write_all(&text).unwrap();
        }
        to.finish().unwrap().into_inner()
    }

    #[test]
    fn xlsx_with_made_up_sizes_is_refused_not_allocated() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Efternamn").unwrap();
        sheet.write_string(1, 0, "Ærø").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        // The workbook as written reads; the same with a count of billions is refused (calamine
        // would try to reserve terabytes for it, and the process would abort).
        assert!(open("fine.xlsx", Cursor::new(bytes.clone())).is_ok());
        let lying = with_part(bytes.clone(), "xl/sharedStrings.xml", |xml| {
            xml.replace("uniqueCount=\"2\"", "uniqueCount=\"100000000000\"")
        });
        assert_ne!(lying, bytes);
        let err = open("lying.xlsx", Cursor::new(lying)).err().unwrap();
        assert!(err.errors[0].message.contains("counted wrong"), "{err:?}");
        let overflowing = with_part(bytes, "xl/sharedStrings.xml", |xml| {
            xml.replace("uniqueCount=\"2\"", "uniqueCount=\"99999999999999999999999\"")
        });
        assert!(open("overflowing.xlsx", Cursor::new(overflowing)).is_err());
    }
}
