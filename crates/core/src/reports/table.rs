//! A report as a sheet: one grouping is a list of groups with their count and measure; two are
//! a pivot with a total row and column. CSV goes through the export's writer, so a cell that
//! looks like a formula is kept as text; XLSX cells are written as strings, never formulas.

use super::{Figures, Header, MeasureFn, ReportResult};
use crate::error::{Error, Result};
use crate::export::{Cell, CsvSink, Format, Sink};

/// What a sheet's words are: the reader's language decides them.
pub struct SheetWords {
    pub count: String,
    pub measure: Option<String>,
    pub total: String,
}

fn number(figures: &Figures, func: MeasureFn, money: bool) -> Cell {
    #[allow(clippy::cast_precision_loss)]
    match (func, figures.value) {
        (MeasureFn::Count, _) => Cell::Number(figures.count as f64),
        (_, Some(v)) if money => Cell::Number(v.round() / 100.0),
        (_, Some(v)) => Cell::Number(v),
        (_, None) => Cell::Empty,
    }
}

/// The report as rows of cells; `label` names a group of the first (0) or second (1) grouping.
pub fn sheet(result: &ReportResult, words: &SheetWords, label: &dyn Fn(usize, &Header) -> String) -> Vec<Vec<Cell>> {
    let func = result.spec.measure.func;
    let money = result.money;
    let text = |s: String| Cell::Text(s);
    let mut out = Vec::new();
    if result.columns.is_empty() {
        let mut head = vec![text(String::new()), text(words.count.clone())];
        if let Some(m) = &words.measure {
            head.push(text(m.clone()));
        }
        out.push(head);
        let line = |name: String, f: &Figures| {
            let mut row = vec![text(name), number(f, MeasureFn::Count, false)];
            if words.measure.is_some() {
                row.push(number(f, func, money));
            }
            row
        };
        for h in &result.rows {
            out.push(line(label(0, h), &h.figures));
        }
        out.push(line(words.total.clone(), &result.total));
        return out;
    }
    let mut head = vec![text(String::new())];
    head.extend(result.columns.iter().map(|c| text(label(1, c))));
    head.push(text(words.total.clone()));
    out.push(head);
    for (r, h) in result.rows.iter().enumerate() {
        let mut row = vec![text(label(0, h))];
        for c in 0..result.columns.len() {
            row.push(number(&result.cell(r, Some(c)), func, money));
        }
        row.push(number(&h.figures, func, money));
        out.push(row);
    }
    let mut totals = vec![text(words.total.clone())];
    totals.extend(result.columns.iter().map(|c| number(&c.figures, func, money)));
    totals.push(number(&result.total, func, money));
    out.push(totals);
    out
}

/// The sheet as a file.
pub fn sheet_file(rows: &[Vec<Cell>], format: Format) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| Error::internal(format!("cannot write the report: {e}"));
    match format {
        Format::Csv => {
            let mut sink = CsvSink::new(Vec::new())?;
            for row in rows {
                sink.row(row)?;
            }
            sink.into_inner()
        }
        Format::Xlsx => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            for (r, row) in rows.iter().enumerate() {
                let r = u32::try_from(r).map_err(|e| failed(&e))?;
                for (c, cell) in row.iter().enumerate() {
                    let c = u16::try_from(c).map_err(|e| failed(&e))?;
                    match cell {
                        Cell::Text(t) => {
                            sheet.write_string(r, c, t).map_err(|e| failed(&e))?;
                        }
                        Cell::Number(n) => {
                            sheet.write_number(r, c, *n).map_err(|e| failed(&e))?;
                        }
                        Cell::Empty => {}
                    }
                }
            }
            workbook.save_to_buffer().map_err(|e| failed(&e))
        }
    }
}
