//! The answer a UI handler gives instead of the page it was asked for.
//!
//! Every page used to end its use case calls in the same `match`: a refusal is the forbidden
//! page, anything else the not-found page (something hidden looks the same as something that
//! is not there), and a few codes something of the page's own. [`PageError`] holds that answer
//! already rendered, so a handler returns [`PageResult`] and writes `?`; [`OrPage`] turns a use
//! case's [`Error`] into it with the request's [`Ui`], and [`OrNotFound`] does the same for an
//! object or record the request names that is not there. The pages and status codes are the
//! ones `not_found`, `forbidden` and the handlers' own answers have always given.

use super::Ui;
use anchora_core::{Error, ErrorCode};
use axum::response::{IntoResponse, Response};

/// A rendered page (or other answer) that stands in for the one asked for; boxed, so the
/// `Result`s that carry it stay small.
pub struct PageError(Box<Response>);

/// What a UI handler returns: its page, or the page that says why not.
pub type PageResult = Result<Response, PageError>;

impl PageError {
    /// The page for an unknown object or record.
    pub fn not_found(ui: &Ui) -> PageError {
        PageError::from(super::not_found(ui))
    }

    /// The page for what the caller's role does not allow.
    pub fn forbidden(ui: &Ui) -> PageError {
        PageError::from(super::forbidden(ui))
    }
}

impl From<Response> for PageError {
    fn from(response: Response) -> PageError {
        PageError(Box::new(response))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A use case's result as a page's: its value, or the page to show instead.
pub trait OrPage<T> {
    /// Forbidden → the forbidden page; anything else → the not-found page.
    fn or_page(self, ui: &Ui) -> Result<T, PageError>;

    /// Forbidden → the forbidden page; anything else → what `other` answers (a form shown
    /// again with its errors, a redirect with a banner).
    fn or_forbidden_else(self, ui: &Ui, other: impl FnOnce(Error) -> Response) -> Result<T, PageError>;

    /// Not found → the not-found page; anything else → what `other` answers.
    fn or_not_found_else(self, ui: &Ui, other: impl FnOnce(Error) -> Response) -> Result<T, PageError>;

    /// Forbidden → the forbidden page; any other outcome is handed back as it was, for a page
    /// whose answer to it needs more work (reading again, rendering a form).
    fn or_forbidden(self, ui: &Ui) -> Result<Result<T, Error>, PageError>;
}

impl<T> OrPage<T> for Result<T, Error> {
    fn or_page(self, ui: &Ui) -> Result<T, PageError> {
        self.or_forbidden_else(ui, |_| super::not_found(ui))
    }

    fn or_forbidden_else(self, ui: &Ui, other: impl FnOnce(Error) -> Response) -> Result<T, PageError> {
        self.map_err(|e| match e.code {
            ErrorCode::Forbidden => PageError::forbidden(ui),
            _ => PageError::from(other(e)),
        })
    }

    fn or_not_found_else(self, ui: &Ui, other: impl FnOnce(Error) -> Response) -> Result<T, PageError> {
        self.map_err(|e| match e.code {
            ErrorCode::NotFound => PageError::not_found(ui),
            _ => PageError::from(other(e)),
        })
    }

    fn or_forbidden(self, ui: &Ui) -> Result<Result<T, Error>, PageError> {
        match self {
            Err(e) if e.code == ErrorCode::Forbidden => Err(PageError::forbidden(ui)),
            other => Ok(other),
        }
    }
}

/// Something the request names, or the not-found page.
pub trait OrNotFound<T> {
    fn or_not_found(self, ui: &Ui) -> Result<T, PageError>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, ui: &Ui) -> Result<T, PageError> {
        self.ok_or_else(|| PageError::not_found(ui))
    }
}
