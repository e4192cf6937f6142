//! Templates: an e-mail (subject, HTML body, plain-text body) or a printable document, written
//! once with merge fields of a record, the record's company and its owner
//! (`{{ person.first_name | default("there") }}`), in one or more languages. A recipient gets the
//! variant in their language. Rendering is sandboxed (minijinja, no file or network access) and
//! bounded: a template that would run for ever or write without end is stopped, and refused
//! when it is saved.

mod render;
mod service;

use crate::error::Result;
use crate::ids::{TemplateId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use render::{MergeContext, Rendered, Renderer};
pub use service::{Preview, TemplateView};

/// Characters one part of a template may hold.
pub const MAX_PART: usize = 100_000;
/// Languages one template may be written in.
pub const MAX_VARIANTS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// Sent to people: subject, HTML and plain text.
    Email,
    /// Printed or saved as PDF from the browser: a title and an HTML body.
    Document,
}

impl TemplateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::Email => "email",
            TemplateKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(TemplateKind::Email),
            "document" => Some(TemplateKind::Document),
            _ => None,
        }
    }
}

/// One language's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// A language code (`sv`, `de`, `en-GB` …).
    pub language: String,
    /// The subject of an e-mail, the title of a document.
    pub subject: String,
    pub html: String,
    /// The plain-text body of an e-mail (documents have none).
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub kind: TemplateKind,
    /// The object whose records it is written for (e-mails: people).
    pub object: String,
    /// The variant for recipients whose language has none.
    pub default_language: String,
    pub variants: Vec<Variant>,
    pub owner: UserId,
    pub shared: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// The variant for a recipient's language: the same code, else the same language
    /// (`en-GB` for `en`), else the default language's, else the first.
    pub fn variant_for(&self, language: Option<&str>) -> &Variant {
        let primary = |code: &str| code.split(['-', '_']).next().unwrap_or(code).to_ascii_lowercase();
        let wanted = language.map(|l| l.trim().to_ascii_lowercase());
        let exact = wanted
            .as_deref()
            .and_then(|w| self.variants.iter().find(|v| v.language.eq_ignore_ascii_case(w)));
        let same_language = || {
            wanted.as_deref().and_then(|w| {
                let w = primary(w);
                self.variants.iter().find(|v| primary(&v.language) == w)
            })
        };
        let default = || {
            self.variants
                .iter()
                .find(|v| v.language.eq_ignore_ascii_case(&self.default_language))
        };
        match exact.or_else(same_language).or_else(default) {
            Some(v) => v,
            // A template is never kept without a variant; the first stands in for a broken one.
            None => self.variants.first().unwrap_or(&EMPTY_VARIANT),
        }
    }
}

static EMPTY_VARIANT: Variant = Variant {
    language: String::new(),
    subject: String::new(),
    html: String::new(),
    text: String::new(),
};

/// Where templates are kept.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn create_template(&self, template: &Template) -> Result<()>;
    async fn template(&self, id: TemplateId) -> Result<Option<Template>>;
    /// Every template, newest first.
    async fn templates(&self) -> Result<Vec<Template>>;
    /// Replace a template when it is still at `expected_version`; false when it is not.
    async fn update_template(&self, template: &Template, expected_version: i64) -> Result<bool>;
    async fn delete_template(&self, id: TemplateId) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(languages: &[&str], default: &str) -> Template {
        let now = Utc::now();
        Template {
            id: TemplateId::new_at(now),
            name: "t".into(),
            kind: TemplateKind::Email,
            object: "person".into(),
            default_language: default.into(),
            variants: languages
                .iter()
                .map(|l| Variant {
                    language: (*l).into(),
                    subject: format!("subject {l}"),
                    html: String::new(),
                    text: String::new(),
                })
                .collect(),
            owner: UserId::new_at(now),
            shared: false,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_recipient_gets_their_language_else_the_same_language_else_the_default() {
        let t = template(&["en", "sv", "de-AT"], "en");
        assert_eq!(t.variant_for(Some("sv")).language, "sv");
        assert_eq!(t.variant_for(Some("SV")).language, "sv");
        assert_eq!(t.variant_for(Some("sv-FI")).language, "sv");
        assert_eq!(t.variant_for(Some("de")).language, "de-AT");
        assert_eq!(t.variant_for(Some("da")).language, "en");
        assert_eq!(t.variant_for(None).language, "en");
        let t = template(&["es"], "en");
        assert_eq!(t.variant_for(Some("da")).language, "es");
    }
}
