//! Status reports in the reader's language: the `Voice` core's report generator speaks with,
//! and the Markdown it produces turned into safe HTML for the web page and the print view.

use crate::i18n::Tr;
use crate::ui::format;
use anchora_core::project::report::Voice;
use chrono::NaiveDate;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

pub struct ReportVoice(pub Tr);

impl Voice for ReportVoice {
    fn text(&self, key: &str, args: &[(&str, String)]) -> String {
        self.0.tn(key, args)
    }

    fn date(&self, d: NaiveDate) -> String {
        self.0.date(d)
    }

    fn money(&self, minor: i64, currency: &str) -> String {
        format::money(self.0.locale, minor, Some(currency))
    }

    fn percent(&self, share: f64) -> String {
        format::share(self.0.locale, share)
    }
}

/// Links may lead to the web, to mail, or within Anchora; anything else (`javascript:`,
/// `data:`) is shown as text.
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

/// Markdown to HTML with raw HTML shown as text, unsafe links dropped and images shown by
/// their description: a template or an author's text cannot script the page or call out.
pub fn markdown_to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut in_image = 0usize;
    let events = parser.filter_map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(pulldown_cmark::TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_link(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_scripts_and_unsafe_links_do_not_survive() {
        let html = markdown_to_html(
            "# Status\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://example.com) \
             ![img](https://evil.example/p.png) <img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<h1>Status</h1>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="https://example.com""#), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("evil.example"), "{html}");
    }
}
