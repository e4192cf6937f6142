//! Every error Anchora can report, with a stable code, an HTTP status and a title in one table
//! (the Meilisearch habit): the web layer maps these to RFC 9457 problem+json, never guessing.

use serde::Serialize;

/// The stable error codes. Clients may match on the string form; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationFailed,
    InvalidFilter,
    InvalidSort,
    InvalidCursor,
    InvalidJson,
    PayloadTooLarge,
    UnknownObject,
    UnknownField,
    NotFound,
    VersionConflict,
    InTrash,
    PreconditionRequired,
    AlreadyExists,
    Unauthenticated,
    Forbidden,
    CsrfFailed,
    RateLimited,
    UnsupportedMediaType,
    MethodNotAllowed,
    /// The request does not suit the thing's state now (a job that has ended).
    Conflict,
    Internal,
    Unavailable,
}

impl ErrorCode {
    /// (code, HTTP status, title) — the one table.
    pub fn describe(self) -> (&'static str, u16, &'static str) {
        use ErrorCode::*;
        match self {
            ValidationFailed => ("validation_failed", 422, "The input is not valid"),
            InvalidFilter => ("invalid_filter", 400, "The filter is not valid"),
            InvalidSort => ("invalid_sort", 400, "The sort is not valid"),
            InvalidCursor => ("invalid_cursor", 400, "The cursor is not valid"),
            InvalidJson => ("invalid_json", 400, "The body is not valid JSON"),
            PayloadTooLarge => ("payload_too_large", 413, "The body is too large"),
            UnknownObject => ("unknown_object", 404, "No such object"),
            UnknownField => ("unknown_field", 404, "No such field"),
            NotFound => ("not_found", 404, "Not found"),
            VersionConflict => ("version_conflict", 412, "The record was changed by someone else"),
            InTrash => ("in_trash", 409, "The record is in the trash"),
            PreconditionRequired => (
                "precondition_required",
                428,
                "The write must name the version it changes",
            ),
            AlreadyExists => ("already_exists", 409, "It exists already"),
            Unauthenticated => ("unauthenticated", 401, "Authentication required"),
            Forbidden => ("forbidden", 403, "Not allowed"),
            CsrfFailed => ("csrf_failed", 403, "The form or request is missing its CSRF token"),
            RateLimited => ("rate_limited", 429, "Too many attempts; wait before trying again"),
            UnsupportedMediaType => ("unsupported_media_type", 415, "The body must be application/json"),
            MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed"),
            Conflict => ("conflict", 409, "The request does not suit the current state"),
            Internal => ("internal", 500, "Internal error"),
            Unavailable => ("unavailable", 503, "The service is unavailable"),
        }
    }

    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    pub fn status(self) -> u16 {
        self.describe().1
    }

    pub fn title(self) -> &'static str {
        self.describe().2
    }
}

/// One offending field of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {detail}")]
pub struct Error {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// For a version conflict: the record as it is now, so the client can show it.
    pub current: Option<Box<serde_json::Value>>,
    /// For throttling: seconds until another attempt is allowed.
    pub retry_after: Option<u64>,
    /// For a value a unique field holds already: the record that holds it. Shown only to a
    /// caller who may see that record.
    pub existing: Option<Box<Existing>>,
}

/// The record that already holds a value a write would repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Existing {
    pub field: String,
    pub object: String,
    pub id: crate::ids::RecordId,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            current: None,
            retry_after: None,
            existing: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are not valid", many.len()),
        };
        Self {
            code: ErrorCode::ValidationFailed,
            detail,
            errors,
            current: None,
            retry_after: None,
            existing: None,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, what)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, detail)
    }

    pub fn rate_limited(detail: impl Into<String>, retry_after_seconds: u64) -> Self {
        Self {
            retry_after: Some(retry_after_seconds.max(1)),
            ..Self::new(ErrorCode::RateLimited, detail)
        }
    }

    pub fn conflict(current: serde_json::Value) -> Self {
        Self {
            code: ErrorCode::VersionConflict,
            detail: "the record has a newer version; its current state is attached".into(),
            errors: Vec::new(),
            current: Some(Box::new(current)),
            retry_after: None,
            existing: None,
        }
    }
}

impl Error {
    /// A value of a unique field that `existing` holds already.
    pub fn taken(field: &str, message: impl Into<String>, existing: Existing) -> Self {
        Self {
            existing: Some(Box::new(existing)),
            ..Self::field(field, message)
        }
    }
}
