//! The host's error: a contract code, an HTTP status and a message, answered as
//! `{"error":{"code","message"}}` (`softpos::protocol::ErrorBody`).

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use softpos::protocol::{ErrorBody, ErrorDetail};
use softpos::{Error, ErrorCode};

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; usually `code.http_status()`, but 413/415/404 and a few 409s differ.
    pub status: u16,
    /// The contract's code.
    pub code: ErrorCode,
    /// For people; never carries a secret.
    pub message: String,
    /// Seconds for a `Retry-After` header (a `503` the client may simply retry).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// The code's standard status and message.
    pub fn new(code: ErrorCode) -> Self {
        Self::from(Error::new(code))
    }

    /// The code's standard status, with a detail added to its message.
    pub fn detail(code: ErrorCode, detail: impl std::fmt::Display) -> Self {
        Self::from(Error::with_detail(code, detail))
    }

    /// `BAD_REQUEST` with a detail.
    pub fn bad_request(detail: impl std::fmt::Display) -> Self {
        Self::detail(ErrorCode::BadRequest, detail)
    }

    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same error, telling the client to retry after `seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A fault on our side. The cause goes to the log (it never holds a secret: SQL errors
    /// carry statement text, never bound values), the client sees only `INTERNAL`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ErrorCode::Internal)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError {
            status: e.code.http_status(),
            code: e.code,
            message: e.message,
            retry_after: None,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
