//! The HTTP API (docs/api.md): one router, one handler per route (the extractors for the
//! credentials in `api_auth.rs`), and every failure as `{"error":{"code","message"}}`.

use crate::acquirer::Acquirer;
pub(crate) use crate::api_auth::{bearer, BearerToken, SessionAuth, SignOffAuth, TerminalKey};
use crate::checkout;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::ledger::Answer;
use crate::limits::{self, Limiter};
use crate::merchant;
use crate::serve::DEMO_HOST_URL;
use crate::store::Store;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use softpos::protocol::{
    check_upload_path, ActivateRequest, ActivateResponse, CurrentBatchResponse, ErrorBody, Health,
    ReversalRequest, ReversalResponse, SettlementRequest, SettlementResponse, SignInRequest,
    SignInResponse, SignOffRequest, SignOffResponse, TransactionRequest, TransactionResponse,
    TxKind, UploadRequest,
};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Body limit of every call but the batch upload (R17).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Body limit of the batch upload: a full batch of 20 000 entries fits.
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The acquirer every operation is forwarded to.
    pub acquirer: Arc<dyn Acquirer>,
}

/// How the router is set up.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Origins answered for CORS (the host's own among them).
    pub allow_origins: Vec<HeaderValue>,
    /// Served at `/`.
    pub www: Option<PathBuf>,
    /// Served at `/pkg/`.
    pub pkg: Option<PathBuf>,
    /// The rate limits of activation and sign-in.
    pub limiter: Limiter,
}

/// The policy of the pages served from `--www` and `/pkg/`: scripts and wasm from the host
/// only, no inline script or style, and no other site may frame them (clickjacking of the
/// card form). `data:` images are the pages' empty favicon. The checkout frame has a policy
/// of its own (`crate::checkout`): its storefront may frame it (R23).
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Answers that carry a credential (a terminal key, a session token) are never cached, by the
/// browser or by a proxy on the way.
pub(crate) fn no_store<T>(answer: T) -> ([(axum::http::HeaderName, HeaderValue); 1], T) {
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        answer,
    )
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.body,
        )
            .into_response()
    }
}

/// Activate a terminal with its single-use code.
#[utoipa::path(post, path = "/v1/activate", request_body = ActivateRequest,
    responses((status = 200, body = ActivateResponse), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn activate(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ActivateRequest>,
) -> ApiResult<impl IntoResponse> {
    req.check()?;
    let answer = st.store.activate(&req).await?;
    tracing::info!(merchant = %req.merchant_id, terminal = %req.terminal_id, "terminal activated");
    Ok(no_store(Json(answer)))
}

/// Sign an operator in with the terminal key (R16).
#[utoipa::path(post, path = "/v1/sign-in", security(("bearer" = [])), request_body = SignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 423, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn sign_in(
    State(st): State<AppState>,
    TerminalKey(terminal): TerminalKey,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<impl IntoResponse> {
    req.check()?;
    let answer = st
        .store
        .sign_in(&terminal, &req, st.acquirer.as_ref())
        .await?;
    tracing::info!(terminal = %terminal.terminal_id, operator = %req.operator, "signed in");
    Ok(no_store(Json(answer)))
}

/// Sale, void, refund (R5–R7, R9) and pre-authorisation with its voids and completion (R20).
#[utoipa::path(post, path = "/v1/transactions", security(("bearer" = [])), request_body = TransactionRequest,
    responses((status = 200, body = TransactionResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn transactions(
    State(st): State<AppState>,
    BearerToken(token): BearerToken,
    body: Result<ApiJson<TransactionRequest>, ApiError>,
) -> ApiResult<Answer> {
    let acquirer = st.acquirer.as_ref();
    match body {
        // A well-formed sale checks its session in its first trip (docs/architecture.md,
        // "Scale"): no trip of its own.
        Ok(ApiJson(req)) if req.kind == TxKind::Sale && req.check().is_ok() => {
            let said = Said::of(&req);
            said.log(st.store.sale_by_token(&token, req, acquirer).await)
        }
        body => {
            // R1 first: a request without a live session is told so, whatever its body says.
            let s = st.store.session(&token, false).await?;
            let ApiJson(req) = body?;
            if req.kind != TxKind::Sale {
                s.sales_only()?;
            }
            req.check()?;
            let said = Said::of(&req);
            said.log(st.store.transaction(&s, req, acquirer).await)
        }
    }
}

/// What the log says of a transaction request: never its card or amount.
struct Said {
    request_id: softpos::ids::RequestId,
    kind: TxKind,
    trace_no: u32,
}

impl Said {
    fn of(req: &TransactionRequest) -> Said {
        Said {
            request_id: req.request_id.clone(),
            kind: req.kind,
            trace_no: req.trace_no.get(),
        }
    }

    fn log(self, answer: ApiResult<Answer>) -> ApiResult<Answer> {
        let Said {
            request_id,
            kind,
            trace_no,
        } = self;
        match &answer {
            Ok(_) => {
                tracing::info!(%request_id, kind = kind.as_str(), trace_no, "transaction answered")
            }
            Err(e) => {
                tracing::info!(%request_id, kind = kind.as_str(), trace_no, code = %e.code, "transaction refused")
            }
        }
        answer
    }
}

/// Reverse a transaction that got no definite answer (R8).
#[utoipa::path(post, path = "/v1/reversals", security(("bearer" = [])), request_body = ReversalRequest,
    responses((status = 200, body = ReversalResponse), (status = 401, body = ErrorBody)))]
pub(crate) async fn reversals(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
    ApiJson(req): ApiJson<ReversalRequest>,
) -> ApiResult<Json<ReversalResponse>> {
    Ok(Json(st.store.reversal(&s, &req).await?))
}

/// The open batch and what the host counted in it (R10).
#[utoipa::path(get, path = "/v1/batches/current", security(("bearer" = [])),
    responses((status = 200, body = CurrentBatchResponse), (status = 401, body = ErrorBody)))]
pub(crate) async fn current_batch(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
) -> ApiResult<Json<CurrentBatchResponse>> {
    Ok(Json(st.store.current_batch(&s).await?))
}

/// Settle a batch [结算] (R11, R14).
#[utoipa::path(post, path = "/v1/settlements", security(("bearer" = [])), request_body = SettlementRequest,
    responses((status = 200, body = SettlementResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn settlements(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
    ApiJson(req): ApiJson<SettlementRequest>,
) -> ApiResult<Answer> {
    req.check()?;
    st.store.settle(&s, &req, &st.acquirer).await
}

/// Upload the batch journal after an unbalanced settlement [批上送] (R11, R19): whole, or in
/// chunks (`from`, `more`) that the host keeps until the last one, each answered with how much
/// of the journal it holds.
#[utoipa::path(post, path = "/v1/settlements/{batch_no}/upload", security(("bearer" = [])), request_body = UploadRequest,
    params(("batch_no" = u32, Path, description = "The batch settled unbalanced", minimum = 1, maximum = 999_999)),
    responses((status = 200, body = crate::openapi::UploadAnswer), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn upload(
    State(st): State<AppState>,
    SessionAuth(s): SessionAuth,
    Path(batch_no): Path<String>,
    ApiJson(req): ApiJson<UploadRequest>,
) -> ApiResult<Answer> {
    let batch_no = check_upload_path(&batch_no)?;
    st.store.upload(&s, batch_no.get(), &req).await
}

/// Sign off [签退] (R12).
#[utoipa::path(post, path = "/v1/sign-off", security(("bearer" = [])), request_body = SignOffRequest,
    responses((status = 200, body = SignOffResponse), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(crate) async fn sign_off(
    State(st): State<AppState>,
    SignOffAuth(s): SignOffAuth,
    ApiJson(req): ApiJson<SignOffRequest>,
) -> ApiResult<Answer> {
    st.store.sign_off(&s, &req, st.acquirer.as_ref()).await
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { ok: true })
}

async fn openapi() -> Answer {
    Answer {
        status: 200,
        body: crate::openapi::openapi_json(),
    }
}

fn not_found_error() -> ApiError {
    ApiError::bad_request("no such route").with_status(404)
}

async fn not_found() -> ApiError {
    not_found_error()
}

async fn method_not_allowed() -> ApiError {
    ApiError::bad_request("method not allowed").with_status(405)
}

/// The API's routes, each with its body limit and, for the calls that test a credential, its
/// rate limit.
fn api_routes(state: AppState, limiter: Limiter) -> Router {
    Router::new()
        .route(
            "/v1/activate",
            post(activate).layer(from_fn_with_state(limiter.clone(), limits::activate)),
        )
        .route(
            "/v1/sign-in",
            post(sign_in).layer(from_fn_with_state(limiter.clone(), limits::sign_in)),
        )
        .route(
            "/v1/checkout/terminals/{merchant_id}/{terminal_id}",
            get(checkout::checkout_terminal),
        )
        .route(
            "/v1/checkout/lanes",
            post(checkout::lanes).layer(from_fn_with_state(limiter.clone(), limits::lanes)),
        )
        .route(
            "/v1/checkout/sign-in",
            post(checkout::sign_in).layer(from_fn_with_state(limiter.clone(), limits::sign_in)),
        )
        .merge(crate::api_console::console_routes(limiter))
        .route("/v1/transactions", post(transactions))
        .route("/v1/reversals", post(reversals))
        .route("/v1/batches/current", get(current_batch))
        .route("/v1/sales", get(super::api_history::sales))
        .route("/v1/settlements", super::api_history::route())
        .route(
            "/v1/settlements/{batch_no}/upload",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/v1/sign-off", post(sign_off))
        .route("/v1/merchant/payments", get(merchant::http::payments))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The pages of `--www` at `/` and the module at `/pkg/`, under [`PAGE_CSP`] (the checkout
/// frame and its loader under their own headers); any other path is the API's own 404.
fn with_pages(mut app: Router, store: Store, config: &HttpConfig) -> Router {
    let page_csp = || {
        SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        )
    };
    if let Some(pkg) = &config.pkg {
        app = app.nest_service("/pkg", page_csp().layer(ServeDir::new(pkg)));
    }
    match &config.www {
        Some(www) => {
            app = app.merge(checkout::page_routes(
                store,
                www.clone(),
                &config.allow_origins,
            ));
            let nf = tower::service_fn(|_req: Request<Body>| async {
                Ok::<_, Infallible>(not_found_error().into_response())
            });
            app.fallback_service(page_csp().layer(ServeDir::new(www).not_found_service(nf)))
        }
        None => app.fallback(not_found),
    }
}

/// The demo shop (`demo`, R23): the files of `shop`, else the API's 404, with no CORS and no
/// API of its own. It is a storefront: its pages decide their own policy. Its page names the
/// host at `host_url` (`http://ADDR` of the host's listener) where the file says
/// [`DEMO_HOST_URL`], so the demo on another `--listen` still loads the host's checkout.
pub fn shop_router(shop: Option<PathBuf>, host_url: &str) -> Router {
    let nf = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(not_found_error().into_response())
    });
    let app = match shop {
        Some(dir) => {
            let page = Arc::new((dir.join("index.html"), host_url.to_owned()));
            let index = move || {
                let page = page.clone();
                async move { shop_page(&page.0, &page.1).await }
            };
            Router::new()
                .route("/", get(index.clone()))
                .route("/index.html", get(index))
                .fallback_service(ServeDir::new(dir).not_found_service(nf))
        }
        None => Router::new().fallback(not_found),
    };
    app.layer(SetResponseHeaderLayer::if_not_present(
        X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
}

/// The demo shop's page with the host's address in place of [`DEMO_HOST_URL`].
async fn shop_page(file: &std::path::Path, host_url: &str) -> Response {
    match tokio::fs::read_to_string(file).await {
        Ok(page) => (
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            page.replace(DEMO_HOST_URL, host_url),
        )
            .into_response(),
        Err(_) => not_found_error().into_response(),
    }
}

/// The whole application.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(config.allow_origins.clone()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    let store = state.store.clone();
    let app = with_pages(api_routes(state, config.limiter.clone()), store, config);
    // A bug in one request answers INTERNAL in the usual body instead of dropping the
    // connection (the `host` profile unwinds; see the workspace Cargo.toml).
    let catch_panic = CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
        ApiError::internal("a handler panicked").into_response()
    });
    app.layer(catch_panic)
        .layer(cors)
        // Every answer: no content sniffing (a JSON answer is never run as a script), and no
        // URL of a page leaks to another site.
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http()
                // Only method and path: headers (Authorization) and bodies (cards, passwords)
                // never reach the log.
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!(
                        "http",
                        id = %uuid::Uuid::new_v4(),
                        method = %req.method(),
                        path = %req.uri().path(),
                    )
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                        "answered"
                    );
                }),
        )
}
