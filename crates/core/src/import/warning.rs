//! What an import notes about a row it imported all the same.

use serde::{Deserialize, Serialize};

/// Something about a row that was imported all the same: what the user may want to fix at the
/// source before the next run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The row (1: the header, for warnings about the mapping).
    pub row: u64,
    pub kind: WarningKind,
    /// What the warning is about: the owner named, the field, the earlier row, the column.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The row names an owner who is no user: its new record went to the default owner.
    UnknownOwner,
    /// A number a spreadsheet turned into scientific notation (`4,67012E+10`): its digits are
    /// gone, so the field was left empty.
    DigitsLost,
    /// The row repeats an earlier row's match key: its cells went into that row's record.
    MergedWith,
    /// A column suggested for a field another column fills was left out.
    ColumnLeftOut,
}

impl WarningKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::UnknownOwner => "unknown_owner",
            WarningKind::DigitsLost => "digits_lost",
            WarningKind::MergedWith => "merged_with",
            WarningKind::ColumnLeftOut => "column_left_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            WarningKind::UnknownOwner,
            WarningKind::DigitsLost,
            WarningKind::MergedWith,
            WarningKind::ColumnLeftOut,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl Warning {
    /// The detail is kept as a label: control characters (a NUL no database takes) go, and
    /// it is cut to 200 characters (it is indexed).
    pub fn new(row: u64, kind: WarningKind, detail: impl Into<String>) -> Self {
        Warning {
            row,
            kind,
            detail: detail.into().chars().filter(|c| !c.is_control()).take(200).collect(),
        }
    }

    /// The warning in English, for the API, the CLI and the report (the UI says it in the
    /// user's language).
    pub fn message(&self) -> String {
        let d = &self.detail;
        match self.kind {
            WarningKind::UnknownOwner => {
                format!("owner {d:?} is no user: the new record went to the default owner")
            }
            WarningKind::DigitsLost => format!("{d} left empty: digits lost by a spreadsheet"),
            WarningKind::MergedWith => format!("merged with row {d}"),
            WarningKind::ColumnLeftOut => {
                format!("column {d:?} was not imported: another column fills the same field")
            }
        }
    }
}
