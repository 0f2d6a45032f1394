//! The extractors of the HTTP API's credentials (docs/api.md): the bearer token, a terminal
//! key (sign-in, R16), a live session (R1, R22), and the token of a sale, checked later in the
//! sale's first trip.

use crate::api::AppState;
use crate::error::{ApiError, ApiResult};
use crate::ledger::{Session, TerminalAuth};
use crate::merchant::http::API_KEY_PREFIX;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use softpos::ErrorCode;

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// The bearer token of a terminal route. The other kinds of credential open no terminal
/// route, whatever the route would say of an unknown token: a console token (R22) and a
/// merchant API key (R23) are `BAD_CREDENTIALS`.
fn terminal_bearer(parts: &Parts) -> ApiResult<Option<&str>> {
    match bearer(parts) {
        Some(token) if crate::console::is_console_token(token) => Err(ApiError::detail(
            ErrorCode::BadCredentials,
            "a console token opens the console's routes only",
        )),
        Some(token) if token.starts_with(API_KEY_PREFIX) => Err(ApiError::detail(
            ErrorCode::BadCredentials,
            "a merchant API key is for the merchant API only",
        )),
        token => Ok(token),
    }
}

/// The bearer token of a route that needs a session: missing → `NOT_SIGNED_IN`.
fn session_bearer(parts: &Parts) -> ApiResult<&str> {
    terminal_bearer(parts)?.ok_or_else(|| ApiError::new(ErrorCode::NotSignedIn))
}

/// A live session (R1): missing → `NOT_SIGNED_IN`, dead → `SESSION_EXPIRED`, ended from the
/// console → `SIGNED_OFF_REMOTELY` (R22).
pub struct SessionAuth(pub Session);

impl FromRequestParts<AppState> for SessionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_bearer(parts)?;
        Ok(SessionAuth(state.store.session(token, false).await?))
    }
}

/// The bearer token of a terminal route, not yet checked: missing → `NOT_SIGNED_IN`. The sale
/// checks it in its first trip (`Store::sale_by_token`).
pub struct BearerToken(pub String);

impl FromRequestParts<AppState> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let token = session_bearer(parts)?;
        Ok(BearerToken(token.to_owned()))
    }
}

/// Like [`SessionAuth`], but a session ended by sign-off passes too, so a retried sign-off
/// gets its stored answer (R9).
pub struct SignOffAuth(pub Session);

impl FromRequestParts<AppState> for SignOffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_bearer(parts)?;
        Ok(SignOffAuth(state.store.session(token, true).await?))
    }
}

/// The terminal key of sign-in: missing or unknown → `BAD_CREDENTIALS`.
pub struct TerminalKey(pub TerminalAuth);

impl FromRequestParts<AppState> for TerminalKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bad = || ApiError::detail(ErrorCode::BadCredentials, "unknown terminal key");
        let key = terminal_bearer(parts)?.ok_or_else(bad)?;
        state
            .store
            .terminal_by_key(key)
            .await?
            .map(TerminalKey)
            .ok_or_else(bad)
    }
}
