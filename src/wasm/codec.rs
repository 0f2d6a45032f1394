//! Plain JS values for the wire and storage types, without serde in the module.
//!
//! serde's derives stay the definition of every JSON shape (the host and the native tests
//! use them). In the browser the same shapes are read and written here through `Reflect`,
//! one line per type: the serde data model, serde_wasm_bindgen and the float formatting that
//! serde's error messages pull in cost about 40 KB of the gzipped module, a third of it, for
//! a storefront that pays for every byte it embeds. `tests/web.rs` checks every type here
//! against serde_json, both ways, so the two cannot drift apart.

use crate::error::ErrorCode;
use crate::protocol::{
    ActivateRequest, ActivateResponse, BatchTotals, CardData, ClosedBatch, Discrepancy,
    DiscrepancyKind, EntryKind, EntryStatus, ErrorBody, ErrorDetail, JournalEntry, OriginalRef,
    Outcome, ReversalRequest, ReversalResponse, SettlementRequest, SettlementResponse,
    SignInRequest, SignInResponse, SignOffRequest, SignOffResponse, Totals, TransactionRequest,
    TransactionResponse, TxKind, TxStatus, UploadRequest, UploadResponse,
};
use crate::terminal::time::UtcOffset;
use crate::terminal::{
    Call, InFlight, Meta, PendingSettlement, PendingUpload, QueuedReversal, Recovery, RecoveryKind,
    Reply, SettledRange, SettlementResult, SignInResult, SignOffResult, TxResult,
};
use js_sys::{Array, Object, Reflect};
use std::collections::VecDeque;
use wasm_bindgen::prelude::*;

/// Why a value could not be read: the innermost field that did not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable(pub &'static str);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            "" => f.write_str("the value is not of the expected type"),
            name => write!(f, "field `{name}` is missing or of the wrong type"),
        }
    }
}

/// Reads a type from a plain JS value (from `JSON.parse` or IndexedDB).
pub trait FromJs: Sized {
    /// `Unreadable("")` when the value itself does not fit; structs name the field.
    fn from_js(v: &JsValue) -> Result<Self, Unreadable>;

    /// A stand-in the struct reader puts in a field that did not fit, so it can go on with the
    /// next field and report the first misfit at the end. Never handed out: a struct with a
    /// stand-in in it is dropped and its reader returns the error.
    fn stand_in() -> Self;
}

/// Writes a type as the plain JS value `JSON.parse` would make of its serde JSON.
pub trait ToJs {
    /// The value, snake_case keys as on the wire.
    fn to_js(&self) -> JsValue;
}

const BAD: Unreadable = Unreadable("");

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads one field, naming it when the value inside does not fit.
pub fn field<T: FromJs>(obj: &JsValue, key: &'static str) -> Result<T, Unreadable> {
    T::from_js(&get(obj, key)).map_err(|e| if e.0.is_empty() { Unreadable(key) } else { e })
}

/// Reads one field of a struct being built; on a misfit, notes the first one in `first` and
/// gives a stand-in. Why not `?` per field: every early return must drop the fields read
/// before it, and for the 17-field journal entry that cleanup code was most of the reader.
/// Built this way a struct reader is one call per field and one check at the end.
#[inline(never)]
fn field_into<T: FromJs>(obj: &JsValue, key: &'static str, first: &mut Option<Unreadable>) -> T {
    match T::from_js(&get(obj, key)) {
        Ok(v) => v,
        Err(e) => {
            first.get_or_insert(if e.0.is_empty() { Unreadable(key) } else { e });
            T::stand_in()
        }
    }
}

fn put(obj: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value);
}

impl FromJs for String {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        v.as_string().ok_or(BAD)
    }
    fn stand_in() -> Self {
        String::new()
    }
}
impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}
impl FromJs for bool {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        v.as_bool().ok_or(BAD)
    }
    fn stand_in() -> Self {
        false
    }
}
impl ToJs for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

/// A JS number that is an integer JSON could carry exactly (|n| < 2^53).
fn safe_integer(v: &JsValue) -> Result<i64, Unreadable> {
    if js_sys::Number::is_safe_integer(v) {
        // A safe integer converts to i64 exactly.
        Ok(v.as_f64().unwrap_or(0.0) as i64)
    } else {
        Err(BAD)
    }
}

macro_rules! js_integer {
    ($($t:ty),*) => {$(
        impl FromJs for $t {
            fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
                <$t>::try_from(safe_integer(v)?).map_err(|_| BAD)
            }
            fn stand_in() -> Self {
                0
            }
        }
        impl ToJs for $t {
            fn to_js(&self) -> JsValue {
                // Every value the core keeps in these is far below 2^53 (R3 caps amounts).
                JsValue::from_f64(*self as f64)
            }
        }
    )*};
}
js_integer!(u32, u64, i64, i32, usize);

/// `null` or absent is `None`, as serde reads an `Option` field.
impl<T: FromJs> FromJs for Option<T> {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        if v.is_null() || v.is_undefined() {
            Ok(None)
        } else {
            T::from_js(v).map(Some)
        }
    }
    fn stand_in() -> Self {
        None
    }
}
impl<T: ToJs> ToJs for Option<T> {
    fn to_js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, ToJs::to_js)
    }
}

fn array<T: FromJs, C: FromIterator<T>>(v: &JsValue) -> Result<C, Unreadable> {
    if !Array::is_array(v) {
        return Err(BAD);
    }
    Array::from(v).iter().map(|x| T::from_js(&x)).collect()
}
fn to_array<'a, T: ToJs + 'a>(items: impl Iterator<Item = &'a T>) -> JsValue {
    items.map(ToJs::to_js).collect::<Array>().into()
}
impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        array(v)
    }
    fn stand_in() -> Self {
        Vec::new()
    }
}
impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        to_array(self.iter())
    }
}
impl<T: FromJs> FromJs for VecDeque<T> {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        array(v)
    }
    fn stand_in() -> Self {
        VecDeque::new()
    }
}
impl<T: ToJs> ToJs for VecDeque<T> {
    fn to_js(&self) -> JsValue {
        to_array(self.iter())
    }
}

/// A struct as an object of its fields; the fields after `;` are left out when `None`, as
/// `skip_serializing_if = "Option::is_none"` does.
macro_rules! js_struct {
    ($t:ident { $($f:ident),* $(,)? } $(; $($skip:ident),*)?) => {
        impl FromJs for $t {
            fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
                if !v.is_object() {
                    return Err(BAD);
                }
                let mut first = None;
                let out = $t {
                    $($f: field_into(v, stringify!($f), &mut first),)*
                    $($($skip: field_into(v, stringify!($skip), &mut first),)*)?
                };
                first.map_or(Ok(out), Err)
            }
            fn stand_in() -> Self {
                $t {
                    $($f: FromJs::stand_in(),)*
                    $($($skip: None,)*)?
                }
            }
        }
        impl ToJs for $t {
            fn to_js(&self) -> JsValue {
                let o = Object::new();
                $(put(&o, stringify!($f), self.$f.to_js());)*
                $($(if let Some(x) = &self.$skip {
                    put(&o, stringify!($skip), x.to_js());
                })*)?
                o.into()
            }
        }
    };
}

/// A unit enum as its snake_case name.
macro_rules! js_enum {
    (@first $first:expr $(, $rest:expr)*) => { $first };
    ($t:ident { $($v:ident = $name:literal),* $(,)? }) => {
        impl FromJs for $t {
            fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
                match v.as_string().as_deref() {
                    $(Some($name) => Ok($t::$v),)*
                    _ => Err(BAD),
                }
            }
            fn stand_in() -> Self {
                js_enum!(@first $($t::$v),*)
            }
        }
        impl ToJs for $t {
            fn to_js(&self) -> JsValue {
                JsValue::from_str(match self {
                    $($t::$v => $name,)*
                })
            }
        }
    };
}

js_enum!(TxKind { Sale = "sale", Void = "void", Refund = "refund" });
js_enum!(TxStatus { Approved = "approved", Declined = "declined" });
js_enum!(Outcome { Balanced = "balanced", Unbalanced = "unbalanced" });
js_enum!(EntryKind { Sale = "sale", Void = "void", Refund = "refund", Reversal = "reversal" });
js_enum!(EntryStatus {
    Approved = "approved",
    Declined = "declined",
    Unknown = "unknown",
    Reversed = "reversed",
    Voided = "voided",
});
js_enum!(DiscrepancyKind {
    MissingOnTerminal = "missing_on_terminal",
    MissingOnHost = "missing_on_host",
    AmountMismatch = "amount_mismatch",
    StatusMismatch = "status_mismatch",
});
js_enum!(RecoveryKind { NotSignedOff = "not_signed_off", NotSettled = "not_settled" });

impl FromJs for ErrorCode {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        v.as_string().and_then(|s| ErrorCode::parse(&s)).ok_or(BAD)
    }
    fn stand_in() -> Self {
        ErrorCode::BadRequest
    }
}
impl ToJs for ErrorCode {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self.as_str())
    }
}

/// Untagged: `{trace_no}` for a void, `{rrn}` for a refund.
impl FromJs for OriginalRef {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        match field(v, "trace_no") {
            Ok(trace_no) => Ok(OriginalRef::Trace { trace_no }),
            Err(_) => Ok(OriginalRef::Rrn {
                rrn: field(v, "rrn")?,
            }),
        }
    }
    fn stand_in() -> Self {
        OriginalRef::Trace { trace_no: 0 }
    }
}
impl ToJs for OriginalRef {
    fn to_js(&self) -> JsValue {
        let o = Object::new();
        match self {
            OriginalRef::Trace { trace_no } => put(&o, "trace_no", trace_no.to_js()),
            OriginalRef::Rrn { rrn } => put(&o, "rrn", rrn.to_js()),
        }
        o.into()
    }
}

// Requests (written).
js_struct!(ActivateRequest {
    merchant_id,
    terminal_id,
    activation_code
});
js_struct!(SignInRequest { operator, password });
js_struct!(CardData { pan, expiry });
js_struct!(TransactionRequest { request_id, kind, trace_no, amount, currency };
    card, original, supervisor_password);
js_struct!(ReversalRequest { request_id });
js_struct!(SettlementRequest {
    request_id,
    batch_no,
    terminal_totals
});
js_struct!(UploadRequest {
    request_id,
    entries
});
js_struct!(SignOffRequest {}; request_id, settle);

// Answers (read).
js_struct!(ActivateResponse { terminal_key });
js_struct!(ClosedBatch {
    batch_no,
    business_date,
    host_totals
});
js_struct!(SignInResponse {
    session_token,
    expires_at,
    operator,
    business_date,
    batch_no,
    next_trace_no,
    currency,
    closed_batches
}; timezone, utc_offset_minutes);
js_struct!(TransactionResponse {
    request_id,
    status,
    response_code,
    message,
    rrn,
    auth_code,
    batch_no,
    trace_no,
    masked_pan,
    host_time,
});
js_struct!(ReversalResponse {
    request_id,
    reversed
}; transaction);
js_struct!(SettlementResponse {
    batch_no,
    outcome,
    host_totals,
    next_batch_no
});
js_struct!(UploadResponse {
    batch_no,
    outcome,
    host_totals,
    discrepancies,
    next_batch_no
});
js_struct!(SignOffResponse { signed_off_at });
js_struct!(ErrorBody { error });
js_struct!(ErrorDetail { code, message });

// Shared, stored and shown.
js_struct!(Totals { count, amount });
js_struct!(BatchTotals {
    batch_no,
    currency,
    sale,
    void,
    refund,
    net_amount
});
js_struct!(Discrepancy {
    request_id,
    trace_no,
    kind
});
js_struct!(JournalEntry {
    seq,
    request_id,
    kind,
    trace_no,
    amount,
    currency,
    status,
    response_code,
    rrn,
    auth_code,
    masked_pan,
    original_trace_no,
    original_rrn,
    operator,
    at,
    prev_hash,
    hash,
});
js_struct!(TxResult {
    kind,
    status,
    response_code,
    message,
    trace_no,
    batch_no,
    rrn,
    auth_code,
    amount,
    currency,
    masked_pan,
    at,
});
js_struct!(SettlementResult {
    batch_no,
    outcome,
    terminal_totals,
    host_totals,
    discrepancies,
    next_batch_no,
    settled_at,
});
js_struct!(SignInResult {
    operator,
    business_date,
    batch_no,
    currency,
    reconciled,
    pending_reversals
});
js_struct!(SignOffResult {
    signed_off_at,
    settlement
});
js_struct!(Recovery {
    kind,
    batch_no,
    business_date,
    operator,
    totals,
    pending_reversals
});
js_struct!(InFlight {
    request_id,
    kind,
    trace_no,
    amount,
    masked_pan,
    original_trace_no,
    original_rrn,
    operator,
});
js_struct!(QueuedReversal {
    request_id,
    batch_no,
    trace_no,
    amount
});
js_struct!(PendingUpload {
    host_totals,
    next_batch_no
});
js_struct!(PendingSettlement {
    batch_no,
    terminal_totals,
    request_id,
    upload_request_id,
    upload
});
js_struct!(SettledRange {
    batch_no,
    first_trace,
    last_trace
});
js_struct!(Meta {
    version,
    merchant_id,
    terminal_id,
    terminal_key,
    currency,
    batch_no,
    business_date,
    next_trace_no,
    operator,
    reversals,
    in_flight,
    settlement,
    reconcile,
    recent_settled,
    last_settlement,
    journal_len,
    utc_offset,
});

/// Absent, as in a state record written before the terminal kept it, is UTC: serde's default.
impl FromJs for UtcOffset {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        match Option::<i32>::from_js(v)? {
            None => Ok(UtcOffset::UTC),
            Some(m) => UtcOffset::from_minutes(m).ok_or(BAD),
        }
    }
    fn stand_in() -> Self {
        UtcOffset::UTC
    }
}
impl ToJs for UtcOffset {
    fn to_js(&self) -> JsValue {
        self.minutes().to_js()
    }
}

/// The host's 2xx answer to `call`. One we cannot read is as good as no answer: the host
/// may have acted on the request (R8).
pub fn answer(call: &Call, v: &JsValue) -> Reply {
    fn read<T: FromJs>(v: &JsValue, wrap: fn(T) -> Reply) -> Reply {
        T::from_js(v).map_or(Reply::NoAnswer, wrap)
    }
    match call {
        Call::Activate(_) => read(v, Reply::Activated),
        Call::SignIn(_) => read(v, Reply::SignedIn),
        Call::Transaction(_) => read(v, Reply::Transaction),
        Call::Reversal(_) => read(v, Reply::Reversal),
        Call::Settlement(_) => read(v, Reply::Settlement),
        Call::Upload(..) => read(v, Reply::Upload),
        Call::SignOff(_) => read(v, Reply::SignedOff),
    }
}

/// A call is sent as its body.
impl ToJs for Call {
    fn to_js(&self) -> JsValue {
        match self {
            Call::Activate(b) => b.to_js(),
            Call::SignIn(b) => b.to_js(),
            Call::Transaction(b) => b.to_js(),
            Call::Reversal(b) => b.to_js(),
            Call::Settlement(b) => b.to_js(),
            Call::Upload(_, b) => b.to_js(),
            Call::SignOff(b) => b.to_js(),
        }
    }
}
