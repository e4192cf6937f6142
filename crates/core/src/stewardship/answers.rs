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
/// engine), at least two characters, without repeats.
pub fn search_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in crate::service::search_terms(text) {
        if w.chars().count() >= 2 && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}
