//! What a terminal looks back on: the merchant's sales a refund or the query may name (R7, R21,
//! `GET /v1/sales`) and the terminal's settled batches, its Z reports, for reprinting (R21,
//! `GET /v1/settlements`).

use crate::api::{no_store, AppState, SessionAuth};
use crate::error::{ApiError, ApiResult};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{post, MethodRouter};
use axum::Json;
use softpos::protocol::{ErrorBody, SalesResponse, SettlementsResponse};

/// The query of `GET /v1/settlements`.
#[derive(serde::Deserialize)]
pub(crate) struct HistoryQuery {
    since: Option<String>,
}

/// The terminal's settled batches, its Z reports, for reprinting (R21).
#[utoipa::path(get, path = "/v1/settlements", security(("bearer" = [])),
    params(("since" = Option<String>, Query, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description = "The first business date, YYYY-MM-DD, at most 366 days back; absent: \
            30 days before the host's business date.")),
    responses((status = 200, body = SettlementsResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn settlement_history(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    s.sales_only()?;
    let Query(query) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    Ok(no_store(Json(
        st.store
            .terminal_settlements(&s, query.since.as_deref())
            .await?,
    )))
}

/// `/v1/settlements`: a settlement is posted (R11), the history read (R21).
pub(crate) fn route() -> MethodRouter<AppState> {
    post(crate::api::settlements).get(settlement_history)
}

/// The query of `GET /v1/sales`.
#[derive(serde::Deserialize)]
pub(crate) struct SalesQuery {
    #[serde(default)]
    q: String,
    /// An amount in minor units (R21's query): the sales of exactly this amount.
    amount: Option<i64>,
}

/// The merchant's sales a refund may name (R7): by RRN, trace number or the card's last 4.
#[utoipa::path(get, path = "/v1/sales", security(("bearer" = [])),
    params(("q" = Option<String>, Query, pattern = "^([0-9]{1,6}|[0-9]{12})?$",
        description = "12 digits: the RRN. 1 to 6 digits: the trace number; 4 digits also the \
            card's last 4. Empty or absent: the newest sales."),
        ("amount" = Option<i64>, Query, minimum = 1, maximum = 99_999_999_999_i64,
        description = "Minor units: the sales of exactly this amount (with an empty `q`).")),
    responses((status = 200, body = SalesResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn sales(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
    query: Result<Query<SalesQuery>, QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    s.sales_only()?;
    // Neither the rejection nor the query is repeated: `q` may be a card number.
    let Query(query) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    Ok(no_store(Json(
        st.store.find_sales(&s, &query.q, query.amount).await?,
    )))
}
