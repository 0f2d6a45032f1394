//! The host client: one `fetch` per [`Outgoing`], with the timeout of R8.
//!
//! Only a definite answer counts as one: a 2xx we can read, or a 4xx carrying the contract's
//! error body with a known code other than `BUSY`. A network error, a timeout, a 5xx, a bare
//! 4xx (a proxy's), `BUSY` or anything unreadable is `NoAnswer`, and the core turns an
//! unanswered transaction into a queued reversal (docs/browser.md, "What counts as an answer").

use crate::error::{Error, ErrorCode};
use crate::protocol::ErrorBody;
use crate::terminal::{Auth, Outgoing, Reply};
use crate::wasm::codec::{self, FromJs, ToJs};
use crate::wasm::scope::{self, Timeout};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

/// Sends one request and waits at most `timeout_ms` for its answer.
pub async fn send(host_url: &str, out: &Outgoing, timeout_ms: u32) -> Reply {
    let url = format!("{}{}", host_url.trim_end_matches('/'), out.call.path());
    let Ok(controller) = AbortController::new() else {
        return Reply::NoAnswer;
    };
    // The global scope's timer, so a terminal in a worker has its timeout too.
    let abort = controller.clone();
    let _timeout = Timeout::new(i64::from(timeout_ms), move || abort.abort());
    let Ok(body) = js_sys::JSON::stringify(&out.call.to_js()) else {
        return Reply::NoAnswer;
    };
    let Ok(headers) = Headers::new() else {
        return Reply::NoAnswer;
    };
    let _ = headers.set("Content-Type", "application/json");
    match &out.auth {
        Auth::None => {}
        Auth::TerminalKey(t) | Auth::Session(t) => {
            let _ = headers.set("Authorization", &format!("Bearer {t}"));
        }
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&body);
    init.set_signal(Some(&controller.signal()));
    let Ok(request) = Request::new_with_str_and_init(&url, &init) else {
        return Reply::NoAnswer;
    };
    // `fetch` is on the window in a page and on the global scope in a worker.
    let Ok(response) = JsFuture::from(scope::global().fetch(&request)).await else {
        return Reply::NoAnswer;
    };
    let response: Response = response.unchecked_into();
    let status = response.status();
    let Ok(text) = response.text() else {
        return Reply::NoAnswer;
    };
    let Some(text) = JsFuture::from(text).await.ok().and_then(|t| t.as_string()) else {
        return Reply::NoAnswer;
    };
    // The browser's JSON parser, not one compiled into the module: smaller wasm.
    let json = js_sys::JSON::parse(&text).unwrap_or(JsValue::UNDEFINED);
    match status {
        200..=299 => codec::answer(&out.call, &json),

        // docs/rules.md, "R8 in detail": only the host's own error, with a code this terminal knows,
        // is a refusal. A bare 4xx may be a proxy's after it forwarded the request, and BUSY
        // (the host's limits, 429 or 503) means "not now": neither says the request was not
        // booked, so both go the way of no answer, which reverses a transaction.
        400..=499 => match ErrorBody::from_js(&json) {
            Ok(body) if body.error.code != ErrorCode::Busy => Reply::Refused(Error {
                code: body.error.code,
                message: body.error.message,
            }),
            _ => Reply::NoAnswer,
        },
        _ => Reply::NoAnswer,
    }
}
