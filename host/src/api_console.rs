//! R22: the HTTP API of the merchant's console (`/v1/console/*`, docs/api.md): its own
//! credential, the console token, which no terminal route takes, and one handler per route.

use crate::api::{bearer, no_store, AppState};
use crate::console::{
    is_console_token, settlements_csv, ConsoleDaily, ConsoleHourly, ConsoleSettlements,
    ConsoleSignInRequest, ConsoleSignInResponse, ConsoleSignOffResponse, ConsoleTerminals,
    DailyQuery, HourlyQuery, SettlementsQuery,
};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::ledger::ConsoleSession;
use crate::limits::{self, Limiter};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use softpos::protocol::ErrorBody;
use softpos::ErrorCode;

/// A live console session: no credential → `NOT_SIGNED_IN`, a terminal key or session token
/// → `BAD_CREDENTIALS`, a console token unknown or run out → `SESSION_EXPIRED`.
pub struct ConsoleAuth(pub ConsoleSession);

impl FromRequestParts<AppState> for ConsoleAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| ApiError::new(ErrorCode::NotSignedIn))?;
        if !is_console_token(token) {
            return Err(ApiError::detail(
                ErrorCode::BadCredentials,
                "the console takes a console token only",
            ));
        }
        Ok(ConsoleAuth(state.store.console_session(token).await?))
    }
}

/// Sign a merchant user in to the console (R22).
#[utoipa::path(post, path = "/v1/console/sign-in", request_body = ConsoleSignInRequest,
    responses((status = 200, body = ConsoleSignInResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 423, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn console_sign_in(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ConsoleSignInRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(no_store(Json(st.store.console_sign_in(&req).await?)))
}

/// The merchant's terminals now, flagged ones first (R22).
#[utoipa::path(get, path = "/v1/console/terminals", security(("bearer" = [])),
    responses((status = 200, body = ConsoleTerminals), (status = 401, body = ErrorBody)))]
pub(crate) async fn console_terminals(
    State(st): State<AppState>,
    ConsoleAuth(s): ConsoleAuth,
) -> ApiResult<impl IntoResponse> {
    Ok(no_store(Json(st.store.console_terminals(&s).await?)))
}

/// End a terminal's session from the console (R22); no transaction or batch changes.
#[utoipa::path(post, path = "/v1/console/terminals/{terminal_id}/sign-off", security(("bearer" = [])),
    params(("terminal_id" = String, Path, description = "The merchant's terminal",
        pattern = "^[A-Za-z0-9]{8}$")),
    responses((status = 200, body = ConsoleSignOffResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn console_sign_off(
    State(st): State<AppState>,
    ConsoleAuth(s): ConsoleAuth,
    Path(terminal_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(no_store(Json(
        st.store.console_sign_off(&s, &terminal_id).await?,
    )))
}

/// The merchant's settlements per business day and terminal, and the host's cut-offs (R22).
#[utoipa::path(get, path = "/v1/console/settlements", security(("bearer" = [])),
    params(
        ("from" = Option<String>, Query, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description = "First business date; default 30 days before `to`."),
        ("to" = Option<String>, Query, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            description = "Last business date; default the host's business date."),
        ("terminal_id" = Option<String>, Query, pattern = "^[A-Za-z0-9]{8}$",
            description = "One terminal only."),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`.")),
    responses((status = 200, content((ConsoleSettlements = "application/json"),
            (String = "text/csv"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn console_settlements(
    State(st): State<AppState>,
    ConsoleAuth(s): ConsoleAuth,
    query: Result<Query<SettlementsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    let csv = match q.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_request("format is json or csv")),
    };
    let history = st.store.console_settlements(&s, &q).await?;
    if csv {
        let body = settlements_csv(&history);
        let csv_type = HeaderValue::from_static("text/csv; charset=utf-8");
        return Ok(no_store(([(CONTENT_TYPE, csv_type)], body)).into_response());
    }
    Ok(no_store(Json(history)).into_response())
}

/// The net amount per business day and terminal, for the console's picture (R22).
#[utoipa::path(get, path = "/v1/console/daily", security(("bearer" = [])),
    params(("days" = Option<u32>, Query, minimum = 1, maximum = 366,
        description = "Business days up to the host's business date; default 30.")),
    responses((status = 200, body = ConsoleDaily), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn console_daily(
    State(st): State<AppState>,
    ConsoleAuth(s): ConsoleAuth,
    query: Result<Query<DailyQuery>, QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    Ok(no_store(Json(st.store.console_daily(&s, &q).await?)))
}

/// Approved sales per local hour of a day (the host's time zone), for the console (R22).
#[utoipa::path(get, path = "/v1/console/hourly", security(("bearer" = [])),
    params(("date" = Option<String>, Query, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description = "The local date; default today in the host's time zone.")),
    responses((status = 200, body = ConsoleHourly), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn console_hourly(
    State(st): State<AppState>,
    ConsoleAuth(s): ConsoleAuth,
    query: Result<Query<HourlyQuery>, QueryRejection>,
) -> ApiResult<impl IntoResponse> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("the query could not be read"))?;
    Ok(no_store(Json(st.store.console_hourly(&s, &q).await?)))
}

/// The console's routes; its sign-in rate limited per client address as terminal sign-ins are.
pub(crate) fn console_routes(limiter: Limiter) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/console/sign-in",
            post(console_sign_in).layer(from_fn_with_state(limiter, limits::console_sign_in)),
        )
        .route("/v1/console/terminals", get(console_terminals))
        .route(
            "/v1/console/terminals/{terminal_id}/sign-off",
            post(console_sign_off),
        )
        .route("/v1/console/settlements", get(console_settlements))
        .route("/v1/console/daily", get(console_daily))
        .route("/v1/console/hourly", get(console_hourly))
}
