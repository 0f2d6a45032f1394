//! Small helpers between JS values and Rust ones: reading a field, the contract's error as a
//! JS `Error`, the terminal's results and events as the camelCase objects the JS API speaks.

use super::codec::ToJs;
use crate::error::{Error, ErrorCode};
use crate::terminal::{Completion, Event, SignOffReason, State};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

/// A property of a JS value, `undefined` when it has none (or is no object).
pub(crate) fn field(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// A property that is a string, or `None`.
pub(crate) fn string_field(obj: &JsValue, key: &str) -> Option<String> {
    field(obj, key).as_string()
}

/// R3 at the JS boundary: a number that is a safe integer, else `INVALID_AMOUNT`; the terminal
/// checks the range.
pub(crate) fn amount_field(obj: &JsValue, key: &str) -> Result<i64, Error> {
    let v = field(obj, key);
    if !js_sys::Number::is_safe_integer(&v) {
        return Err(Error::with_detail(
            ErrorCode::InvalidAmount,
            format_args!("{key} must be an integer number of minor units"),
        ));
    }
    // A safe integer is exactly representable in i64.
    Ok(v.as_f64().unwrap_or(0.0) as i64)
}

/// A request's `card: {pan, expiry}` (R4 is the terminal's to check).
pub(crate) fn card_field(req: &JsValue) -> Result<(String, String), Error> {
    let card = field(req, "card");
    if !card.is_object() {
        return Err(Error::with_detail(
            ErrorCode::InvalidCard,
            "card is required",
        ));
    }
    let text = |k: &str| {
        string_field(&card, k).ok_or_else(|| {
            Error::with_detail(
                ErrorCode::InvalidCard,
                format_args!("card.{k} must be a string"),
            )
        })
    };
    Ok((text("pan")?, text("expiry")?))
}

/// A request's `traceNo`, a trace number.
pub(crate) fn trace_field(req: &JsValue) -> Result<u32, Error> {
    let trace = field(req, "traceNo");
    trace
        .as_f64()
        .filter(|_| js_sys::Number::is_safe_integer(&trace))
        .and_then(|t| u32::try_from(t as i64).ok())
        .ok_or_else(|| {
            Error::with_detail(
                ErrorCode::UnknownTransaction,
                "traceNo must be a trace number",
            )
        })
}

/// A request's `supervisorPassword`; missing is empty, which the terminal refuses.
pub(crate) fn supervisor_field(req: &JsValue) -> crate::secret::Secret {
    string_field(req, "supervisorPassword")
        .unwrap_or_default()
        .into()
}

/// R20: a request's `rrn` and `authCode`, naming a hold.
pub(crate) fn hold_fields(req: &JsValue) -> Result<(String, String), Error> {
    let text = |k: &str| {
        string_field(req, k).ok_or_else(|| {
            Error::with_detail(ErrorCode::BadRequest, format_args!("{k} must be a string"))
        })
    };
    Ok((text("rrn")?, text("authCode")?))
}

/// The contract's error as a JS `Error` with a `code`.
pub(crate) fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let _ = Reflect::set(&err, &"code".into(), &e.code.as_str().into());
    err.into()
}

/// A plain JS object with camelCase keys, as the JS API speaks.
pub(crate) fn to_js<T: ToJs + ?Sized>(value: &T) -> JsValue {
    camelize(value.to_js())
}

/// The wire's snake_case keys as camelCase, all the way down.
pub(crate) fn camelize(v: JsValue) -> JsValue {
    if Array::is_array(&v) {
        return Array::from(&v)
            .iter()
            .map(camelize)
            .collect::<Array>()
            .into();
    }
    if !v.is_object() {
        return v;
    }
    let out = Object::new();
    for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let name = key.as_string().unwrap_or_default();
        let mut camel = String::with_capacity(name.len());
        let mut upper = false;
        for ch in name.chars() {
            match ch {
                '_' => upper = true,
                _ if upper => {
                    camel.push(ch.to_ascii_uppercase());
                    upper = false;
                }
                _ => camel.push(ch),
            }
        }
        let _ = Reflect::set(&out, &camel.into(), &camelize(field(&v, &name)));
    }
    out.into()
}

/// The JS name of a terminal state (`TerminalState`).
pub(crate) fn state_name(state: State) -> &'static str {
    match state {
        State::Unactivated => "unactivated",
        State::SignedOff => "signed_off",
        State::SignedIn => "signed_in",
        State::Busy => "busy",
    }
}

/// What an operation's promise resolves with.
pub(crate) fn completion_to_js(c: Completion) -> JsValue {
    match c {
        Completion::Activated => JsValue::UNDEFINED,
        Completion::SignedIn(r) => to_js(&r),
        Completion::Transaction(r) => to_js(&r),
        Completion::Settled(r) => to_js(&r),
        Completion::SignedOff(r) => to_js(&r),
    }
}

/// A `TerminalEvent` for the subscribers.
pub(crate) fn event_to_js(event: &Event, state: State) -> JsValue {
    let obj = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&obj, &k.into(), &v);
    };
    let kind = match event {
        Event::State(_) => "state",
        Event::Transaction(r) => {
            set("result", to_js(r));
            "transaction"
        }
        Event::ReversalQueued { request_id } => {
            set("requestId", request_id.into());
            "reversal_queued"
        }
        Event::Reversed { request_id } => {
            set("requestId", request_id.into());
            "reversed"
        }
        Event::Settled(r) => {
            set("result", to_js(r));
            "settled"
        }
        Event::SignedOff { reason } => {
            let reason = match reason {
                SignOffReason::Requested => "requested",
                SignOffReason::AfterSettle => "after_settle",
                SignOffReason::Idle => "idle",
                SignOffReason::SessionExpired => "session_expired",
            };
            set("reason", reason.into());
            "signed_off"
        }
    };
    set("type", kind.into());
    set("state", state_name(state).into());
    obj.into()
}
