//! The browser's side of the codec: `JsValue` as a [`Value`], and the `FromJs`/`ToJs` the
//! JS API calls.
//!
//! The readers and writers themselves are generated with each shape's declaration
//! (src/protocol/shape.rs) and are generic over [`Value`]; the browser instantiates them for
//! `JsValue` only, so they cost what the hand-written ones did. Why no serde here:
//! src/protocol/codec/mod.rs. `tests/codec.rs` checks every type against serde_json, both
//! ways, and `fuzz/fuzz_targets/codec_vs_serde.rs` runs the same readers natively.

use crate::protocol::codec::text::JsonText;
pub use crate::protocol::codec::Unreadable;
use crate::protocol::codec::{Decode, Encode, Value};
use crate::terminal::{Call, Reply};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

impl Value for JsValue {
    fn get(&self, key: &str) -> Self {
        Reflect::get(self, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
    fn is_object(&self) -> bool {
        JsValue::is_object(self)
    }
    fn is_absent(&self) -> bool {
        self.is_null() || self.is_undefined()
    }
    fn as_string(&self) -> Option<String> {
        JsValue::as_string(self)
    }
    fn as_bool(&self) -> Option<bool> {
        JsValue::as_bool(self)
    }
    fn as_safe_integer(&self) -> Option<i64> {
        // A safe integer converts to i64 exactly.
        js_sys::Number::is_safe_integer(self).then(|| self.as_f64().unwrap_or(0.0) as i64)
    }
    fn read_items<T, C: FromIterator<T>>(
        &self,
        mut read: impl FnMut(&Self) -> Result<T, Unreadable>,
    ) -> Option<Result<C, Unreadable>> {
        Array::is_array(self).then(|| Array::from(self).iter().map(|x| read(&x)).collect())
    }

    fn string(s: &str) -> Self {
        JsValue::from_str(s)
    }
    fn boolean(b: bool) -> Self {
        JsValue::from_bool(b)
    }
    fn integer(n: i64) -> Self {
        JsValue::from_f64(n as f64)
    }
    fn null() -> Self {
        JsValue::NULL
    }
    fn array(items: impl Iterator<Item = Self>) -> Self {
        items.collect::<Array>().into()
    }
    fn object() -> Self {
        Object::new().into()
    }
    fn set(&mut self, key: &str, value: Self) {
        let _ = Reflect::set(self, &JsValue::from_str(key), &value);
    }
}

/// Reads a type from a plain JS value (from `JSON.parse` or IndexedDB).
pub trait FromJs: Sized {
    /// `Unreadable("")` when the value itself does not fit; structs name the field.
    fn from_js(v: &JsValue) -> Result<Self, Unreadable>;
}
impl<T: Decode> FromJs for T {
    fn from_js(v: &JsValue) -> Result<Self, Unreadable> {
        T::decode(v)
    }
}

/// Writes a type as the plain JS value `JSON.parse` would make of its serde JSON.
pub trait ToJs {
    /// The value, snake_case keys as on the wire.
    fn to_js(&self) -> JsValue;
}
impl<T: Encode + ?Sized> ToJs for T {
    /// Written as JSON text and parsed by the browser: one crossing for the whole value
    /// instead of one per field and string (src/protocol/codec/text.rs).
    fn to_js(&self) -> JsValue {
        js_sys::JSON::parse(&self.encode::<JsonText>().0).unwrap_or(JsValue::NULL)
    }
}

/// Reads one field, naming it when the value inside does not fit.
pub fn field<T: Decode>(obj: &JsValue, key: &'static str) -> Result<T, Unreadable> {
    crate::protocol::codec::field(obj, key)
}

/// The host's 2xx answer to `call`. One we cannot read is as good as no answer: the host
/// may have acted on the request (R8).
pub fn answer(call: &Call, v: &JsValue) -> Reply {
    fn read<T: FromJs>(v: &JsValue, wrap: fn(T) -> Reply) -> Reply {
        T::from_js(v).map_or(Reply::NoAnswer, wrap)
    }
    match call {
        Call::Activate(_) => read(v, Reply::Activated),
        Call::SignIn(_) | Call::CheckoutSignIn => read(v, Reply::SignedIn),
        Call::Transaction(_) => read(v, Reply::Transaction),
        Call::Reversal(_) => read(v, Reply::Reversal),
        Call::Settlement(_) => read(v, Reply::Settlement),
        // A chunk's answer says how much the host holds; the last one's is the upload's.
        Call::Upload(..) if !v.get("received").is_absent() => read(v, Reply::UploadProgress),
        Call::Upload(..) => read(v, Reply::Upload),
        Call::SignOff(_) => read(v, Reply::SignedOff),
    }
}

/// A call is sent as its body.
impl Encode for Call {
    fn encode<V: Value>(&self) -> V {
        match self {
            Call::Activate(b) => b.encode(),
            Call::SignIn(b) => b.encode(),
            Call::CheckoutSignIn => V::object(),
            Call::Transaction(b) => b.encode(),
            Call::Reversal(b) => b.encode(),
            Call::Settlement(b) => b.encode(),
            Call::Upload(_, b) => b.encode(),
            Call::SignOff(b) => b.encode(),
        }
    }
}

/// The TypeScript of the JS API's own shapes, which are no wire shape: the configuration,
/// the requests it takes, its events. Every wire shape and result brings its own declaration
/// (src/protocol/shape.rs); JS sees those camelCase, as `to_js` in src/wasm/js.rs hands them out.
#[wasm_bindgen(typescript_custom_section)]
const API_TYPES: &str = r#"
export type Config = {
  hostUrl: string; merchantId: string; terminalId: string;
  storage?: "browser" | "memory";
  timeoutMs?: number;
  autoSignOffAfterSettle?: boolean;
  idleSignOffMinutes?: number;
  maxBatchEntries?: number;
};
export type TerminalState = "unactivated" | "signed_off" | "signed_in" | "busy";
/** Every rejection is an Error with one of the contract's codes. */
export type SoftposError = Error & { code: ErrorCode };
export type SaleRequest = { amount: number; card: { pan: string; expiry: string }; reference?: string };
export type VoidRequest = { traceNo: number; supervisorPassword: string };
export type RefundRequest = { rrn: string; amount: number; supervisorPassword: string };
export type PreAuthRequest = { amount: number; card: { pan: string; expiry: string } };
export type PreAuthVoidRequest = { rrn: string; authCode: string; amount: number; supervisorPassword: string };
export type CompletionRequest = { rrn: string; authCode: string; amount: number; card: { pan: string; expiry: string } };
export type CompletionVoidRequest = { traceNo: number; supervisorPassword: string };
/** As `journal()` hands it out: `status` is the entry's status now (a voided sale shows
 *  "voided"); `recordedStatus` is the one its hash covers. */
export interface JournalEntry { recordedStatus: Exclude<EntryStatus, "voided"> }
export type TerminalEvent = { type: "state" | "transaction" | "reversal_queued" | "reversed" |
  "settled" | "signed_off"; state: TerminalState; result?: TxResult | SettlementResult;
  requestId?: string; reason?: "requested" | "after_settle" | "idle" | "session_expired" };
"#;
