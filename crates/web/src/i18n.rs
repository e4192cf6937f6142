//! UI text in English, Swedish, German, Danish and Spanish, through Fluent. The catalogues are
//! compiled into the binary; a missing key in any language fails a test, never a page.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::HashMap;
use std::sync::LazyLock;
use unic_langid::LanguageIdentifier;

pub use anchora_core::identity::{LOCALE_CHOICES, LOCALES};

const SOURCES: [(&str, &str); 5] = [
    ("en", include_str!("../locales/en.ftl")),
    ("sv", include_str!("../locales/sv.ftl")),
    ("de", include_str!("../locales/de.ftl")),
    ("da", include_str!("../locales/da.ftl")),
    ("es", include_str!("../locales/es.ftl")),
];

pub struct Catalog {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::load);

impl Catalog {
    fn load() -> Self {
        let mut bundles = HashMap::new();
        for (locale, source) in SOURCES {
            let lang: LanguageIdentifier = locale.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            // Text goes into HTML, not mixed-direction prose: no Unicode isolation marks.
            bundle.set_use_isolating(false);
            let resource = match FluentResource::try_new(source.to_string()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    tracing::error!(locale, ?errors, "the catalogue has syntax errors; the rest is used");
                    r
                }
            };
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(locale, ?errors, "the catalogue repeats keys");
            }
            bundles.insert(locale, bundle);
        }
        Catalog { bundles }
    }

    pub fn get() -> &'static Catalog {
        &CATALOG
    }

    /// The text for `key` in `locale`, falling back to English, then to the key itself.
    pub fn text(&self, locale: &str, key: &str, args: Option<&FluentArgs>) -> String {
        for l in [locale, "en"] {
            if let Some(bundle) = self.bundles.get(l)
                && let Some(pattern) = bundle.get_message(key).and_then(|m| m.value())
            {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, args, &mut errors).into_owned();
            }
        }
        key.to_string()
    }

    /// Every message key of a locale (for the completeness test).
    pub fn keys(locale: &str) -> Vec<String> {
        let source = SOURCES.iter().find(|(l, _)| *l == locale).map_or("", |(_, s)| s);
        source
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
            .collect()
    }
}

/// The language of the UI for one request, and how it writes dates.
#[derive(Clone, Debug)]
pub struct Tr {
    /// The language texts and numbers are in: one of [`LOCALES`].
    pub locale: &'static str,
    /// The user's full choice, one of [`LOCALE_CHOICES`]: what dates and times follow.
    pub tag: &'static str,
}

impl Tr {
    /// For a user's locale choice ("en-GB" reads English texts with day-first dates); an
    /// unknown one is English.
    pub fn new(locale: &str) -> Self {
        let tag = LOCALE_CHOICES.iter().copied().find(|l| *l == locale).unwrap_or("en");
        let language = tag.split('-').next().unwrap_or(tag);
        Tr {
            locale: LOCALES.iter().copied().find(|l| *l == language).unwrap_or("en"),
            tag,
        }
    }

    /// A date as this user writes it.
    pub fn date(&self, d: chrono::NaiveDate) -> String {
        crate::ui::format::date(self.tag, d)
    }

    /// A moment as this user writes it (in UTC).
    pub fn datetime(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        crate::ui::format::datetime(self.tag, t)
    }

    pub fn t(&self, key: &str) -> String {
        Catalog::get().text(self.locale, key, None)
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_string(), value.into());
        Catalog::get().text(self.locale, key, Some(&args))
    }

    /// A message that picks its words by `count` (a number, for plural forms), with text
    /// arguments besides.
    pub fn counted(&self, key: &str, count: usize, values: &[(&str, String)]) -> String {
        let mut args = FluentArgs::new();
        args.set("count", FluentValue::from(count));
        for (name, value) in values {
            args.set(name.to_string(), FluentValue::from(value.clone()));
        }
        Catalog::get().text(self.locale, key, Some(&args))
    }

    /// A message with several arguments.
    pub fn tn(&self, key: &str, values: &[(&str, String)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(name.to_string(), FluentValue::from(value.clone()));
        }
        Catalog::get().text(self.locale, key, Some(&args))
    }
}

/// The header's tags with q > 0, the most wanted first.
fn wanted(accept_language: &str) -> Vec<&str> {
    let mut choices: Vec<(f32, &str)> = accept_language
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, tag))
        })
        .collect();
    // Stable: equal weights keep the header's order.
    choices.sort_by(|a, b| b.0.total_cmp(&a.0));
    choices
        .into_iter()
        .filter(|(q, _)| *q > 0.0)
        .map(|(_, tag)| tag)
        .collect()
}

/// The best of our locale choices for an `Accept-Language` header, English when none fits;
/// English written day first ("en-GB") for every region but those that write month first.
pub fn negotiate(accept_language: Option<&str>) -> &'static str {
    let Some(header) = accept_language else {
        return "en";
    };
    for tag in wanted(header) {
        let mut subtags = tag.split(['-', '_']);
        let primary = subtags.next().unwrap_or_default().to_ascii_lowercase();
        // Norwegian readers understand Danish and Swedish better than English.
        let primary = match primary.as_str() {
            "nb" | "nn" | "no" => "da",
            other => other,
        };
        let Some(language) = LOCALES.iter().copied().find(|l| *l == primary) else {
            continue;
        };
        if language != "en" {
            return language;
        }
        // The region is the first two-letter or three-digit subtag (after a script, if any).
        let region = subtags.find(|s| s.len() == 2 || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())));
        return match region {
            Some(r) if !["US", "CA", "PH"].iter().any(|m| m.eq_ignore_ascii_case(r)) => "en-GB",
            _ => "en",
        };
    }
    "en"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_no_extra() {
        let english = Catalog::keys("en");
        assert!(english.len() > 20);
        for locale in LOCALES {
            let keys = Catalog::keys(locale);
            for k in &english {
                assert!(keys.contains(k), "{locale} lacks {k}");
                let text = Tr::new(locale).t(k);
                assert_ne!(&text, k, "{locale}: {k} does not resolve");
            }
            for k in &keys {
                assert!(english.contains(k), "{locale} has {k}, which English lacks");
            }
        }
    }

    #[test]
    fn arguments_and_fallbacks() {
        assert_eq!(Tr::new("sv").t1("home-welcome", "name", "Anna"), "Välkommen, Anna");
        assert_eq!(Tr::new("xx").t("logout"), "Sign out");
        assert_eq!(Tr::new("de").t("no-such-key"), "no-such-key");
        let body = Tr::new("en").tn(
            "reset-mail-body",
            &[("email", "a@b.se".into()), ("link", "http://x/y".into())],
        );
        assert!(body.contains("a@b.se") && body.contains("http://x/y\n"), "{body}");
    }

    #[test]
    fn accept_language_negotiation() {
        assert_eq!(negotiate(None), "en");
        assert_eq!(negotiate(Some("sv-SE,sv;q=0.9,en;q=0.8")), "sv");
        assert_eq!(negotiate(Some("fr-FR, de;q=0.5, en;q=0.4")), "de");
        assert_eq!(negotiate(Some("nb-NO")), "da");
        assert_eq!(negotiate(Some("es;q=0, da")), "da");
        assert_eq!(negotiate(Some("garbage;;q=x")), "en");
        assert_eq!(negotiate(Some("en-GB,en;q=0.9")), "en-GB");
        assert_eq!(negotiate(Some("en-US,en-GB;q=0.9")), "en");
        assert_eq!(negotiate(Some("en_ie")), "en-GB");
        assert_eq!(negotiate(Some("aé, éé-x, en")), "en");
        assert_eq!(negotiate(Some("en-US;q=0.5, en-GB")), "en-GB");
        assert_eq!(negotiate(Some("en-GB;q=0, en-US")), "en");
        assert_eq!(negotiate(Some("en-Latn-US")), "en");
        assert_eq!(negotiate(Some("en-AU")), "en-GB");
    }

    #[test]
    fn british_english_reads_english_and_writes_dates_day_first() {
        let tr = Tr::new("en-GB");
        assert_eq!((tr.locale, tr.tag), ("en", "en-GB"));
        assert_eq!(tr.t("logout"), Tr::new("en").t("logout"));
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        assert_eq!(tr.date(d), "04/03/2026");
        assert_eq!(Tr::new("en").date(d), "03/04/2026");
        assert_eq!(Tr::new("xx-YY").tag, "en");
    }
}

/// Templates hold no words of their own: every text node and every human-facing attribute
/// comes from the catalogue, and every key they name exists.
#[cfg(test)]
mod template_tests {
    use super::*;
    use std::path::Path;

    fn templates() -> Vec<(String, String)> {
        fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "html") {
                    out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), &mut out);
        assert!(out.len() >= 10, "templates found: {}", out.len());
        out
    }

    /// The template with every `{{ … }}`, `{% … %}` and `{# … #}` removed.
    fn without_expressions(t: &str) -> String {
        let mut out = String::new();
        let mut rest = t;
        while let Some(start) = rest.find(['{']) {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let close = match after.get(..2) {
                Some("{{") => "}}",
                Some("{%") => "%}",
                Some("{#") => "#}",
                _ => {
                    out.push('{');
                    rest = &after[1..];
                    continue;
                }
            };
            match after.find(close) {
                Some(end) => rest = &after[end + 2..],
                None => rest = "",
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn no_literal_text_in_templates() {
        const HUMAN_ATTRIBUTES: [&str; 5] = ["placeholder=", "title=", "aria-label=", "alt=", "data-empty="];
        for (name, text) in templates() {
            let bare = without_expressions(&text);
            // Text between tags.
            for (i, chunk) in bare.split('<').enumerate() {
                let outside = if i == 0 {
                    chunk
                } else {
                    chunk.split_once('>').map_or("", |(_, t)| t)
                };
                assert!(
                    !outside.chars().any(char::is_alphabetic),
                    "{name}: literal text {:?}",
                    outside.trim()
                );
                // Attributes people read.
                let tag = chunk.split_once('>').map_or(chunk, |(t, _)| t);
                for attr in HUMAN_ATTRIBUTES {
                    for part in tag.split(attr).skip(1) {
                        let value = part.strip_prefix('"').unwrap_or(part).split('"').next().unwrap_or("");
                        assert!(
                            !value.chars().any(char::is_alphabetic),
                            "{name}: literal {attr}{value:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_key_a_template_names_exists() {
        let english = Catalog::keys("en");
        for (name, text) in templates() {
            for marker in [".t(\"", ".t1(\""] {
                for part in text.split(marker).skip(1) {
                    let key = part.split('"').next().unwrap_or("");
                    assert!(english.iter().any(|k| k == key), "{name} names a missing key {key:?}");
                }
            }
        }
    }
}
