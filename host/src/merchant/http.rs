//! The merchant API's route and its credential: a merchant API key (`sk_…`), taken on no
//! terminal route, as no terminal key or session token is taken here.

use super::PaymentsResponse;
use crate::api::{bearer, AppState};
use crate::error::{ApiError, ApiResult};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::Json;
use softpos::protocol::ErrorBody;
use softpos::ErrorCode;

/// What every merchant API key starts with, and no terminal credential does (they are hex).
pub(crate) const API_KEY_PREFIX: &str = "sk_";

/// The merchant of a valid API key: missing, unknown, or a terminal's credential →
/// `BAD_CREDENTIALS`.
pub(crate) struct MerchantKey(pub String);

impl FromRequestParts<AppState> for MerchantKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::detail(
                ErrorCode::BadCredentials,
                "this call takes a merchant API key",
            )
        };
        let key = bearer(parts)
            .filter(|k| k.starts_with(API_KEY_PREFIX))
            .ok_or_else(bad)?;
        state
            .store
            .merchant_by_api_key(key)
            .await?
            .map(MerchantKey)
            .ok_or_else(bad)
    }
}

/// The query of `GET /v1/merchant/payments`.
#[derive(serde::Deserialize)]
pub(crate) struct PaymentsQuery {
    reference: Option<String>,
}

/// The merchant's payments carrying a reference, for the shop's server (R23).
#[utoipa::path(get, path = "/v1/merchant/payments", security(("bearer" = [])),
    params(("reference" = String, Query, pattern = "^[A-Za-z0-9._:/#-]{1,64}$", min_length = 1, max_length = 64,
        description = "The reference the shop gave with the sale.")),
    responses((status = 200, body = PaymentsResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn payments(
    State(st): State<AppState>,
    MerchantKey(merchant_id): MerchantKey,
    query: Result<Query<PaymentsQuery>, QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    let Query(query) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    let reference = query
        .reference
        .ok_or_else(|| ApiError::bad_request("reference is missing"))?;
    let answer = st.store.payments(&merchant_id, &reference).await?;
    Ok((
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(answer),
    ))
}
