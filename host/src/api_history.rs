//! R21: the terminal's settled batches, its Z reports, for reprinting (`GET /v1/settlements`).

use crate::api::{no_store, AppState, SessionAuth};
use crate::error::{ApiError, ApiResult};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{post, MethodRouter};
use axum::Json;
use softpos::protocol::{ErrorBody, SettlementsResponse};

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
