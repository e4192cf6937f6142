//! Names of objects, fields and choices in the user's language: standard ones from the Fluent
//! catalogue, custom ones as their administrator wrote them.

use crate::i18n::Tr;
use anchora_core::meta::{FieldDef, ObjectDef, system_field};

pub fn object(tr: &Tr, o: &ObjectDef) -> String {
    if o.standard {
        tr.t(&format!("object-{}", o.name))
    } else {
        o.label.clone()
    }
}

pub fn object_plural(tr: &Tr, o: &ObjectDef) -> String {
    if o.standard {
        tr.t(&format!("object-{}-plural", o.name))
    } else {
        o.label_plural.clone()
    }
}

pub fn field(tr: &Tr, o: &ObjectDef, f: &FieldDef) -> String {
    if system_field(&f.name).is_some() && o.field(&f.name).is_none() {
        return tr.t(&format!("field-{}", f.name));
    }
    if f.standard {
        tr.t(&format!("field-{}-{}", o.name, f.name))
    } else {
        f.label.clone()
    }
}

pub fn choice(tr: &Tr, o: &ObjectDef, f: &FieldDef, value: &str) -> String {
    let custom = || {
        f.choices
            .iter()
            .find(|c| c.value == value)
            .map_or_else(|| value.to_string(), |c| c.label.clone())
    };
    if !f.standard {
        return custom();
    }
    let key = format!("choice-{}-{}-{value}", o.name, f.name);
    let text = tr.t(&key);
    if text == key { custom() } else { text }
}

/// An object's name inside a sentence ("New company", "Skapa affär"); German keeps its nouns
/// capitalised.
pub fn object_in_sentence(tr: &Tr, o: &ObjectDef) -> String {
    let name = object(tr, o);
    if tr.locale == "de" { name } else { name.to_lowercase() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every standard object and field has its name in every language (a field added to the
    /// standard objects without one shows its Fluent key).
    #[test]
    fn standard_objects_and_fields_are_named_in_every_language() {
        for locale in ["en", "sv", "de", "da", "es"] {
            let tr = Tr::new(locale);
            for o in anchora_core::meta::standard_objects() {
                assert!(!object(&tr, &o).starts_with("object-"), "{locale}: {}", o.name);
                for f in &o.fields {
                    let label = field(&tr, &o, f);
                    assert!(!label.starts_with("field-"), "{locale}: {label}");
                }
            }
        }
    }
}
