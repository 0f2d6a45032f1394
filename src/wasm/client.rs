//! The host client: one `fetch` per [`Outgoing`], with the timeout of R8, and the `GET` of a
//! lookup beside the operations (R7).
//!
//! Only a definite answer counts as one: a 2xx we can read, or a 4xx carrying the contract's
//! error body with a known code other than `BUSY`. A network error, a timeout, a 5xx, a bare
//! 4xx (a proxy's), `BUSY` or anything unreadable is `NoAnswer`, and the core turns an
//! unanswered transaction into a queued reversal (docs/browser.md, "What counts as an answer").

use crate::error::{Error, ErrorCode};
use crate::protocol::codec::text::JsonText;
use crate::protocol::codec::Encode;
use crate::protocol::ErrorBody;
use crate::terminal::{Auth, Outgoing, Reply};
use crate::wasm::codec::{self, FromJs};
use crate::wasm::scope::{self, Timeout};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

/// Sends one request and waits at most `timeout_ms` for its answer.
pub async fn send(host_url: &str, out: &Outgoing, timeout_ms: u32) -> Reply {
    // Written straight as JSON text (src/protocol/codec/text.rs): one crossing however big.
    let body = js_sys::JsString::from(out.call.encode::<JsonText>().0);
    let url = format!("{}{}", host_url.trim_end_matches('/'), out.call.path());
    let Some((status, json)) = exchange(&url, Some(&body), &out.auth, timeout_ms).await else {
        return Reply::NoAnswer;
    };
    match status {
        200..=299 => codec::answer(&out.call, &json),
        400..=499 => refusal(&json).map_or(Reply::NoAnswer, Reply::Refused),
        _ => Reply::NoAnswer,
    }
}

/// docs/rules.md, "R8 in detail": only the host's own error, with a code this terminal knows,
/// is a refusal. A bare 4xx may be a proxy's after it forwarded the request, and BUSY (the
/// host's limits, 429 or 503) means "not now": neither says the request was not booked, so
/// both go the way of no answer, which reverses a transaction.
fn refusal(json: &JsValue) -> Option<Error> {
    match ErrorBody::from_js(json) {
        Ok(body) if body.error.code != ErrorCode::Busy => Some(Error {
            code: body.error.code,
            message: body.error.message,
        }),
        _ => None,
    }
}

/// `GET` of a read that changes nothing on the host (R7's sales lookup): its 2xx answer as
/// the browser parsed it, the host's refusal, or `HOST_UNREACHABLE` for anything else.
pub async fn get(
    host_url: &str,
    path: &str,
    auth: &Auth,
    timeout_ms: u32,
) -> Result<JsValue, Error> {
    let url = format!("{}{path}", host_url.trim_end_matches('/'));
    let unreachable = || Error::from(ErrorCode::HostUnreachable);
    let (status, json) = exchange(&url, None, auth, timeout_ms)
        .await
        .ok_or_else(unreachable)?;
    match status {
        200..=299 => Ok(json),
        400..=499 => Err(refusal(&json).unwrap_or_else(unreachable)),
        _ => Err(unreachable()),
    }
}

/// One `fetch`: a `POST` of `body`, or a `GET` without one; the status and the parsed JSON
/// (`undefined` when it is not JSON), or `None` when nothing came back in time.
async fn exchange(
    url: &str,
    body: Option<&js_sys::JsString>,
    auth: &Auth,
    timeout_ms: u32,
) -> Option<(u16, JsValue)> {
    let controller = AbortController::new().ok()?;
    // The global scope's timer, so a terminal in a worker has its timeout too.
    let abort = controller.clone();
    let _timeout = Timeout::new(i64::from(timeout_ms), move || abort.abort());
    let headers = Headers::new().ok()?;
    match auth {
        Auth::None => {}
        Auth::TerminalKey(t) | Auth::Session(t) => {
            let _ = headers.set("Authorization", &format!("Bearer {t}"));
        }
    }
    let init = RequestInit::new();
    match body {
        Some(body) => {
            let _ = headers.set("Content-Type", "application/json");
            init.set_method("POST");
            init.set_body(body);
        }
        None => init.set_method("GET"),
    }
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    let request = Request::new_with_str_and_init(url, &init).ok()?;
    // `fetch` is on the window in a page and on the global scope in a worker.
    let response = JsFuture::from(scope::global().fetch(&request)).await.ok()?;
    let response: Response = response.unchecked_into();
    let status = response.status();
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    // The browser's JSON parser, not one compiled into the module: smaller wasm.
    Some((
        status,
        js_sys::JSON::parse(&text).unwrap_or(JsValue::UNDEFINED),
    ))
}
