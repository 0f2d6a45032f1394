//! The hosted checkout's routes (R23, docs/rules.md): the three calls a checkout frame makes
//! before it is an ordinary terminal, and the two files a storefront loads from the host, the
//! frame page with its own CSP and the loader script.

use crate::api::{no_store, AppState, TerminalKey, PAGE_CSP};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::ledger::parse_origin;
use crate::store::Store;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use softpos::protocol::{
    CheckoutSignInRequest, CheckoutTerminal, ErrorBody, LaneRequest, LaneResponse, SignInResponse,
};
use std::path::PathBuf;
use std::sync::Arc;

/// The checkout terminal a frame names: the origin it is bound to and its currency.
#[utoipa::path(get, path = "/v1/checkout/terminals/{merchant_id}/{terminal_id}",
    params(
        ("merchant_id" = String, Path, pattern = r"^[0-9]{15}$", description = "15-digit merchant id"),
        ("terminal_id" = String, Path, pattern = r"^[0-9A-Za-z]{8}$", description = "The checkout terminal's id")),
    responses((status = 200, body = CheckoutTerminal), (status = 404, body = ErrorBody)))]
pub(crate) async fn checkout_terminal(
    State(st): State<AppState>,
    Path((merchant_id, terminal_id)): Path<(String, String)>,
) -> ApiResult<Json<CheckoutTerminal>> {
    let req = LaneRequest {
        merchant_id,
        terminal_id,
    };
    Ok(Json(st.store.checkout_terminal(&req).await?))
}

/// A new lane of a checkout terminal for one customer browser, with its activation code.
#[utoipa::path(post, path = "/v1/checkout/lanes", request_body = LaneRequest,
    responses((status = 201, body = LaneResponse), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn lanes(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<LaneRequest>,
) -> ApiResult<impl IntoResponse> {
    let lane = st.store.open_lane(&req).await?;
    tracing::info!(merchant = %req.merchant_id, checkout = %req.terminal_id, lane = %lane.lane_id, "checkout lane made");
    Ok((StatusCode::CREATED, no_store(Json(lane))))
}

/// A lane's unattended session, with the lane's terminal key: the answer of a sign-in.
#[utoipa::path(post, path = "/v1/checkout/sign-in", security(("bearer" = [])),
    request_body = CheckoutSignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn sign_in(
    State(st): State<AppState>,
    TerminalKey(terminal): TerminalKey,
    ApiJson(_req): ApiJson<CheckoutSignInRequest>,
) -> ApiResult<impl IntoResponse> {
    let answer = st
        .store
        .checkout_sign_in(&terminal, st.acquirer.as_ref())
        .await?;
    tracing::info!(terminal = %terminal.terminal_id, "checkout lane signed in");
    Ok(no_store(Json(answer)))
}

/// What the two file routes read: the pages and the origins allowed to call the host.
#[derive(Clone)]
struct Pages {
    store: Store,
    www: PathBuf,
    allowed: Arc<Vec<String>>,
}

/// The frame's own policy: the page CSP, with no form target, and framed only by `ancestor`.
fn frame_csp(ancestor: Option<&str>) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; \
         img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {}",
        ancestor.unwrap_or("'none'")
    )
}

/// The query of the frame page; the rest of it (amount, reference, …) is the frame's.
#[derive(serde::Deserialize)]
struct FrameQuery {
    merchant_id: Option<String>,
    terminal_id: Option<String>,
}

impl Pages {
    /// The origin the named checkout terminal is bound to, when it is one the host was told
    /// to allow (`--allow-origin`); anything else, a lookup that fails included, frames for
    /// no one.
    async fn ancestor(&self, query: Option<FrameQuery>) -> Option<String> {
        let FrameQuery {
            merchant_id: Some(merchant_id),
            terminal_id: Some(terminal_id),
        } = query?
        else {
            return None;
        };
        let req = LaneRequest {
            merchant_id,
            terminal_id,
        };
        let origin = self.store.checkout_terminal(&req).await.ok()?.origin;
        self.allowed.contains(&origin).then_some(origin)
    }

    /// A file of `--www` with these headers, or the API's 404.
    async fn file(&self, name: &str, headers: [(HeaderName, HeaderValue); 3]) -> Response {
        match tokio::fs::read(self.www.join(name)).await {
            Ok(bytes) => (headers, bytes).into_response(),
            Err(_) => ApiError::bad_request("no such route")
                .with_status(404)
                .into_response(),
        }
    }
}

/// `GET /checkout-frame.html`: the page, framed only by its checkout terminal's origin.
async fn frame(
    State(pages): State<Pages>,
    query: Result<Query<FrameQuery>, QueryRejection>,
) -> Response {
    let ancestor = pages.ancestor(query.ok().map(|Query(q)| q)).await;
    let csp = HeaderValue::from_str(&frame_csp(ancestor.as_deref()))
        .unwrap_or(HeaderValue::from_static("frame-ancestors 'none'"));
    let headers = [
        (
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (CONTENT_SECURITY_POLICY, csp),
        // The policy depends on the query and the database: never reused from a cache.
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    pages.file("checkout-frame.html", headers).await
}

/// `GET /softpos-checkout.js`: the loader, which a storefront on another origin includes.
async fn loader(State(pages): State<Pages>) -> Response {
    let headers = [
        (
            CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        ),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP)),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ];
    pages.file("softpos-checkout.js", headers).await
}

/// The two file routes over `www`. `allowed` are the CORS origins, compared in the form the
/// checkout origins are stored in.
pub(crate) fn page_routes(store: Store, www: PathBuf, allowed: &[HeaderValue]) -> Router {
    let allowed = allowed
        .iter()
        .filter_map(|o| o.to_str().ok())
        .filter_map(|o| parse_origin(o).ok())
        .collect();
    Router::new()
        .route("/checkout-frame.html", get(frame))
        .route("/softpos-checkout.js", get(loader))
        .with_state(Pages {
            store,
            www,
            allowed: Arc::new(allowed),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r23_the_frame_policy_is_the_page_policy_framed_by_one_origin() {
        let framed = frame_csp(Some("https://shop.example"));
        assert!(
            framed.ends_with("; frame-ancestors https://shop.example"),
            "{framed}"
        );
        assert!(framed.contains("form-action 'none'"), "{framed}");
        assert!(
            framed.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{framed}"
        );
        assert!(frame_csp(None).ends_with("; frame-ancestors 'none'"));
    }
}
