//! How the server writes its log (`anchora`'s `main` sets the subscriber up from this).

/// The log's format, from `ANCHORA_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event (the default).
    Text,
    /// One JSON object per line, with the spans (a request's `request_id`) as fields.
    Json,
}

impl LogFormat {
    /// `ANCHORA_LOG_FORMAT`'s value: unset, empty or `text` is text, `json` JSON (either in any
    /// case); anything else is refused with what is allowed.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Some(v) => Err(format!("ANCHORA_LOG_FORMAT is {v:?}; use text or json")),
        }
    }

    /// Whether to write terminal colour codes: only in text written to a terminal, and not
    /// when `NO_COLOR` is set to anything but the empty string (no-color.org).
    pub fn ansi(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        self == LogFormat::Text && terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_format_is_text_unless_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("")).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("Text")).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some(" json ")).unwrap(), LogFormat::Json);
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("text or json"));
    }

    #[test]
    fn colours_only_in_text_on_a_terminal() {
        assert!(LogFormat::Text.ansi(true, None));
        assert!(LogFormat::Text.ansi(true, Some(OsStr::new(""))));
        assert!(
            !LogFormat::Text.ansi(false, None),
            "a file or a pipe gets no colour codes"
        );
        assert!(!LogFormat::Text.ansi(true, Some(OsStr::new("1"))));
        assert!(!LogFormat::Json.ansi(true, None));
    }
}
