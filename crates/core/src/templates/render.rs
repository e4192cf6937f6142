//! Turning a template into words for one record: compiled once per template (a mailing renders
//! thousands of messages from one), each rendering bounded by fuel and by size. The HTML body
//! escapes what it merges in; subject and plain text do not (they are not HTML).

use super::{MAX_PART, Template, TemplateKind, Variant};
use crate::error::{Error, Result};
use crate::meta::ObjectDef;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;

/// Instructions one rendering may run: far more than any letter needs, far less than a loop
/// that never ends.
const FUEL: u64 = 2_000_000;
/// Bytes one rendered part may have.
const MAX_OUTPUT: usize = 1_000_000;

/// What a template may merge in: the record (under its object's name), its company, its owner,
/// the sender, today's date and, in a mailing, the unsubscribe link and the mailing's name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MergeContext(pub Map<String, Json>);

impl MergeContext {
    pub fn set(&mut self, name: &str, value: Json) {
        self.0.insert(name.to_string(), value);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub language: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

const PARTS: [&str; 3] = ["subject", "html", "text"];

fn part<'a>(variant: &'a Variant, name: &str) -> &'a str {
    match name {
        "subject" => &variant.subject,
        "html" => &variant.html,
        _ => &variant.text,
    }
}

fn key(language: &str, part: &str) -> String {
    format!("{language}/{part}")
}

/// The field an error in a part names: `variants.sv.html`.
fn field(language: &str, part: &str) -> String {
    format!("variants.{language}.{part}")
}

/// Why a part cannot be used, with its line.
fn why(e: &minijinja::Error) -> String {
    let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string());
    match e.line() {
        Some(line) => format!("line {line}: {detail}"),
        None => detail,
    }
}

/// Where a part is written: refuses to hold more than [`MAX_OUTPUT`] bytes.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(std::io::Error::other("the output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A template's variants compiled, ready to render many times.
pub struct Renderer {
    env: Environment<'static>,
    template: Template,
}

impl Renderer {
    /// Compile every part of every variant; a syntax error names the part and its line.
    pub fn new(template: &Template) -> Result<Self> {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Filters whose numbers size what they build before fuel or the output limit can step
        // in (`indent(10**12)`, `"%999999999999d"|format`, `batch`/`slice` of a huge count):
        // a letter needs none of them, and a template must not be able to exhaust memory.
        for unbounded in ["indent", "format", "batch", "slice", "tojson"] {
            env.remove_filter(unbounded);
        }
        env.set_auto_escape_callback(|name| {
            if name.ends_with("/html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for variant in &template.variants {
            for name in PARTS {
                let source = part(variant, name);
                if source.chars().count() > MAX_PART {
                    return Err(Error::field(
                        field(&variant.language, name),
                        format!("must be at most {MAX_PART} characters"),
                    ));
                }
                env.add_template_owned(key(&variant.language, name), source.to_string())
                    .map_err(|e| Error::field(field(&variant.language, name), why(&e)))?;
            }
        }
        Ok(Self {
            env,
            template: template.clone(),
        })
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The words for one record in a recipient's language.
    pub fn render(&self, language: Option<&str>, context: &MergeContext) -> Result<Rendered> {
        let variant = self.template.variant_for(language);
        let mut out = [String::new(), String::new(), String::new()];
        for (slot, name) in out.iter_mut().zip(PARTS) {
            if self.template.kind == TemplateKind::Document && name == "text" {
                continue;
            }
            let compiled = self
                .env
                .get_template(&key(&variant.language, name))
                .map_err(|e| Error::field(field(&variant.language, name), why(&e)))?;
            // Written into a buffer that refuses past the limit: a template cannot make the
            // server hold more than that, whatever it loops over.
            let mut out = Bounded(Vec::new());
            compiled.render_captured_to(&context.0, &mut out).map_err(|e| {
                let message = if e.kind() == minijinja::ErrorKind::WriteFailure {
                    format!("would write more than {MAX_OUTPUT} bytes")
                } else {
                    why(&e)
                };
                Error::field(field(&variant.language, name), message)
            })?;
            *slot = String::from_utf8(out.0).map_err(|e| Error::internal(e.to_string()))?;
        }
        let [subject, html, text] = out;
        Ok(Rendered {
            language: variant.language.clone(),
            // A subject is one line, whatever the template's line breaks.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            html,
            text,
        })
    }

    /// Refuse what could only fail later: a merge field the records do not have (a typo
    /// renders as nothing, silently, in every message), and a part that cannot render within
    /// its limits for a record with every field filled (a runaway loop).
    pub fn check(&self, fields: &MergeFields) -> Result<()> {
        for variant in &self.template.variants {
            for name in PARTS {
                let compiled = self
                    .env
                    .get_template(&key(&variant.language, name))
                    .map_err(|e| Error::field(field(&variant.language, name), why(&e)))?;
                for used in compiled.undeclared_variables(true) {
                    if !fields.knows(&used) {
                        return Err(Error::field(
                            field(&variant.language, name),
                            format!("there is no merge field {used}"),
                        ));
                    }
                }
            }
            self.render(Some(&variant.language), &fields.sample())?;
        }
        Ok(())
    }
}

/// The merge fields a template may use: names at the top (`person`, `company`, `owner` …), each
/// with its fields when it has any.
#[derive(Debug, Clone, Default)]
pub struct MergeFields {
    roots: Vec<(String, Option<BTreeSet<String>>)>,
}

impl MergeFields {
    /// A record of `object`, its company (when it has one) and owner, the sender and today;
    /// `mailing`: the names only a mailing has.
    pub fn for_object(object: &ObjectDef, company: Option<&ObjectDef>, mailing: bool) -> Self {
        let names = |o: &ObjectDef| -> BTreeSet<String> {
            o.fields
                .iter()
                .filter(|f| !f.archived)
                .map(|f| f.name.clone())
                .chain(["id".to_string(), "name".to_string()])
                .collect()
        };
        let person_like: BTreeSet<String> = ["name", "email"].iter().map(|s| (*s).to_string()).collect();
        let mut roots = vec![
            (object.name.clone(), Some(names(object))),
            ("owner".to_string(), Some(person_like.clone())),
            ("me".to_string(), Some(person_like)),
            ("today".to_string(), None),
        ];
        if let Some(company) = company {
            roots.push(("company".to_string(), Some(names(company))));
        }
        if mailing {
            roots.push(("unsubscribe_url".to_string(), None));
            roots.push(("mailing".to_string(), Some(["name".to_string()].into_iter().collect())));
        }
        Self { roots }
    }

    /// Whether `used` (`person` or `person.first_name`; deeper parts are the value's own)
    /// names a merge field. Names a template sets itself are not asked about.
    fn knows(&self, used: &str) -> bool {
        let mut parts = used.split('.');
        let root = parts.next().unwrap_or_default();
        // Globals minijinja brings (range, loop helpers, namespace …) are not merge fields.
        if matches!(
            root,
            "range" | "namespace" | "dict" | "debug" | "loop" | "self" | "super"
        ) {
            return true;
        }
        match self.roots.iter().find(|(name, _)| name == root) {
            None => false,
            Some((_, None)) => true,
            Some((_, Some(fields))) => parts.next().is_none_or(|f| fields.contains(f)),
        }
    }

    /// A context with every merge field filled with a long value.
    pub fn sample(&self) -> MergeContext {
        let filler = "Åsa Öberg-Müller Núñez Ærø ".repeat(4);
        let mut context = MergeContext::default();
        for (root, fields) in &self.roots {
            let value = match fields {
                None => Json::String(filler.clone()),
                Some(fields) => Json::Object(
                    fields
                        .iter()
                        .map(|f| (f.clone(), Json::String(filler.clone())))
                        .collect(),
                ),
            };
            context.set(root, value);
        }
        context
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::{TemplateId, UserId};
    use crate::meta::standard_objects;

    fn template(variants: &[(&str, &str, &str, &str)]) -> Template {
        let now = chrono::Utc::now();
        Template {
            id: TemplateId::new_at(now),
            name: "t".into(),
            kind: TemplateKind::Email,
            object: "person".into(),
            default_language: "en".into(),
            variants: variants
                .iter()
                .map(|(l, s, h, t)| Variant {
                    language: (*l).into(),
                    subject: (*s).into(),
                    html: (*h).into(),
                    text: (*t).into(),
                })
                .collect(),
            owner: UserId::new_at(now),
            shared: false,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn fields() -> MergeFields {
        let objects = standard_objects();
        let person = objects.iter().find(|o| o.name == "person").unwrap();
        let company = objects.iter().find(|o| o.name == "company").unwrap();
        MergeFields::for_object(person, Some(company), true)
    }

    fn context(first: Option<&str>) -> MergeContext {
        let mut c = MergeContext::default();
        let mut person = Map::new();
        if let Some(f) = first {
            person.insert("first_name".into(), Json::String(f.into()));
        }
        person.insert("last_name".into(), Json::String("Núñez <script>".into()));
        c.set("person", Json::Object(person));
        c
    }

    #[test]
    fn merge_fields_default_and_html_is_escaped_but_text_is_not() {
        let t = template(&[(
            "en",
            "Hello {{ person.first_name | default(\"friend\") }}",
            "<p>{{ person.last_name }} at {{ company.name | default(\"your company\") }}</p>",
            "{{ person.last_name }}",
        )]);
        let r = Renderer::new(&t).unwrap();
        r.check(&fields()).unwrap();
        let out = r.render(Some("sv"), &context(None)).unwrap();
        assert_eq!(out.subject, "Hello friend");
        assert_eq!(out.html, "<p>Núñez &lt;script&gt; at your company</p>");
        assert_eq!(out.text, "Núñez <script>");
        let out = r.render(None, &context(Some("Ærø"))).unwrap();
        assert_eq!(out.subject, "Hello Ærø");
    }

    #[test]
    fn a_syntax_error_names_the_part_and_line() {
        let t = template(&[("sv", "Hej", "<p>\n{% for x in person %}\n{{ x }", "")]);
        let e = Renderer::new(&t).err().unwrap();
        let field = &e.errors.first().unwrap();
        assert_eq!(field.field, "variants.sv.html");
        assert!(field.message.starts_with("line 3"), "{}", field.message);
    }

    #[test]
    fn a_runaway_loop_is_refused_with_its_line() {
        let t = template(&[(
            "en",
            "Hi",
            "ok",
            "line one\n{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        )]);
        let e = Renderer::new(&t).unwrap().check(&fields()).err().unwrap();
        let field = &e.errors.first().unwrap();
        assert_eq!(field.field, "variants.en.text");
        assert!(field.message.starts_with("line 2"), "{}", field.message);
    }

    #[test]
    fn a_template_cannot_make_the_server_hold_more_than_its_limit() {
        let bomb = "{% for i in range(100000) %}{{ \"x\" * 10000000 }}{% endfor %}";
        let t = template(&[("en", "Hi", bomb, "ok")]);
        let e = Renderer::new(&t).unwrap().check(&fields()).err().unwrap();
        let field = &e.errors.first().unwrap();
        assert_eq!(field.field, "variants.en.html");
        assert!(field.message.contains("more than"), "{}", field.message);
        for filter in [
            "{{ \"a\\nb\" | indent(1000000000000) }}",
            "{{ \"%999999999999d\" | format(1) }}",
            "{{ range(3) | batch(1000000000000) }}",
        ] {
            let t = template(&[("en", "Hi", filter, "ok")]);
            assert!(Renderer::new(&t).unwrap().check(&fields()).is_err(), "{filter}");
        }
    }

    #[test]
    fn an_unknown_merge_field_is_refused_by_name() {
        let t = template(&[("de", "Hallo {{ person.frist_name }}", "", "")]);
        let e = Renderer::new(&t).unwrap().check(&fields()).err().unwrap();
        let field = &e.errors.first().unwrap();
        assert_eq!(field.field, "variants.de.subject");
        assert!(field.message.contains("person.frist_name"), "{}", field.message);
        let t = template(&[(
            "de",
            "{% set n = person.first_name %}{{ n }} {{ owner.name }} {{ unsubscribe_url }}",
            "{% for x in range(3) %}{{ loop.index }}{% endfor %}",
            "",
        )]);
        Renderer::new(&t).unwrap().check(&fields()).unwrap();
    }
}
