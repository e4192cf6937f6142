//! Answers (the knowledge base): a key user turns a solved question into an answer, so the next
//! colleague who asks finds it before raising a question at all. Each answer is in one of the
//! five languages; search shows the asker's language first.

use crate::ids::{AnswerId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The languages answers are written in (those of the UI).
pub const LANGUAGES: [&str; 5] = ["en", "sv", "de", "da", "es"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub id: AnswerId,
    pub version: i64,
    pub title: String,
    /// Plain text with light markup (paragraphs, "- " lists); shown escaped.
    pub body: String,
    pub language: String,
    pub category: String,
    /// The question it was made from, if any (no foreign key: see `AdjustmentRequest::question`).
    pub source_question: Option<Uuid>,
    pub author: UserId,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The words a search looks for: letters and digits only (so no query syntax reaches either
/// engine), folded by [`search_fold`] as the indexed text is, at least two characters, without
/// repeats.
pub fn search_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in crate::service::search_terms(text) {
        let w = search_fold(&w);
        if w.chars().count() >= 2 && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The form answers are indexed and searched in, the same for both databases (SQLite's FTS5
/// would strip accents itself, PostgreSQL's `simple` configuration would not): case folded as
/// [`crate::text::fold_case`] does, then without accents (`försäljning` → `forsaljning`,
/// `Crème` → `creme`), and the letters that carry no accent to strip written as they are
/// spelled without them: `æ` → `ae`, `ø` → `o`, `œ` → `oe`, `ð`/`đ` → `d`, `þ` → `th`, `ł` → `l`,
/// `ı` → `i`. So `aero` finds `Ærø`, as a Dane typing without the letters would expect; a search
/// for `Öberg` also finds `Oberg`, which is fine for finding answers though not for names.
pub fn search_fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let folded = crate::text::fold_case(text);
    if folded.is_ascii() {
        return folded;
    }
    let mut out = String::with_capacity(folded.len());
    for c in folded.nfd() {
        match c {
            c if is_combining_mark(c) => {}
            'æ' => out.push_str("ae"),
            'ø' => out.push('o'),
            'œ' => out.push_str("oe"),
            'ð' | 'đ' => out.push('d'),
            'þ' => out.push_str("th"),
            'ł' => out.push('l'),
            'ı' => out.push('i'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_folds_case_and_accents_alike() {
        for s in ["forsaljning", "Försäljning", "FÖRSÄLJNING", "fo\u{308}rsa\u{308}ljning"] {
            assert_eq!(search_fold(s), "forsaljning", "{s:?}");
        }
        assert_eq!(search_fold("Ærø"), "aero");
        assert_eq!(search_fold("ÆRØ"), "aero");
        assert_eq!(search_fold("Straße Crème Œuvre"), "strasse creme oeuvre");
        assert_eq!(search_words("\"Försäljning\" AND Ærø*"), ["forsaljning", "and", "aero"]);
    }
}
