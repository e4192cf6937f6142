//! What the three marketing pages (selections, templates, mailings) share: their tab bar, the
//! messages a use case's refusal puts at the fields it names, and a count in words.

use super::{NavItem, Ui};
use crate::i18n::Tr;
use anchora_core::Error;
use std::collections::HashMap;

/// The tabs above each marketing page: mailings, templates, selections.
pub fn tabs(ui: &Ui, current: &str) -> Vec<NavItem> {
    [
        ("/mailings", "mailings", "nav-mailings"),
        ("/templates", "templates", "templates-title"),
        ("/selections", "selections", "selections-title"),
    ]
    .into_iter()
    .map(|(href, name, key)| NavItem {
        href: href.into(),
        label: ui.tr.t(key),
        current: current == name,
    })
    .collect()
}

/// A refusal's messages by the field they name (`name`, `variants.sv.html`, `throttle.mails`),
/// and what names no field.
#[derive(Default)]
pub struct FieldErrors {
    pub by_field: HashMap<String, String>,
    /// What the page says above the form.
    pub banner: Option<String>,
}

impl FieldErrors {
    /// The messages of a use case's error, in the user's language where there is a translation.
    pub fn of(tr: &Tr, e: &Error) -> FieldErrors {
        let mut out = FieldErrors::default();
        for f in &e.errors {
            let message = super::field_message(tr, &f.message);
            out.by_field
                .entry(f.field.clone())
                .and_modify(|m| {
                    m.push_str(" · ");
                    m.push_str(&message);
                })
                .or_insert(message);
        }
        if e.errors.is_empty() {
            out.banner = Some(e.detail.clone());
        } else {
            out.banner = Some(tr.t("marketing-fix-fields"));
        }
        out
    }

    /// Only a banner.
    pub fn banner(text: String) -> FieldErrors {
        FieldErrors {
            by_field: HashMap::new(),
            banner: Some(text),
        }
    }

    pub fn get(&self, field: &str) -> Option<&String> {
        self.by_field.get(field)
    }

    /// A field's message moved under another name (the form's own input for it).
    pub fn rename(&mut self, from: &str, to: &str) {
        if let Some(m) = self.by_field.remove(from) {
            self.by_field.insert(to.to_string(), m);
        }
    }
}

/// "1 record", "4,213 records".
pub fn records(tr: &Tr, n: u64) -> String {
    tr.counted(
        "marketing-records",
        usize::try_from(n).unwrap_or(usize::MAX),
        &[("n", super::format::number(tr.locale, n as f64, 0))],
    )
}

/// A number as the user writes it.
pub fn number(tr: &Tr, n: u64) -> String {
    super::format::number(tr.locale, n as f64, 0)
}
