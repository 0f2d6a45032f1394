//! The global scope, a window or a worker's, and what the terminal takes from it: `fetch`,
//! the clock and its timer, random bytes, IndexedDB, `navigator`. Reached through
//! `globalThis` rather than `window`, so a terminal runs in a worker too, and through APIs a
//! page that is not a secure context has as well (docs/browser.md).

use crate::ids::RequestId;
use crate::terminal::time::Timestamp;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{Crypto, IdbFactory, Request};

#[wasm_bindgen]
extern "C" {
    /// `globalThis`: a window, or a worker's global scope.
    pub type Global;
    #[wasm_bindgen(method)]
    pub fn fetch(this: &Global, request: &Request) -> Promise;
    #[wasm_bindgen(method, getter)]
    fn crypto(this: &Global) -> Option<Crypto>;
    #[wasm_bindgen(method, getter, catch, js_name = indexedDB)]
    fn indexed_db(this: &Global) -> Result<Option<IdbFactory>, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn navigator(this: &Global) -> JsValue;
    #[wasm_bindgen(method, catch, js_name = setTimeout)]
    fn set_timeout(this: &Global, handler: &Function, ms: i32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, js_name = clearTimeout)]
    fn clear_timeout(this: &Global, id: &JsValue);
}

/// The global scope of wherever the module runs.
pub fn global() -> Global {
    js_sys::global().unchecked_into()
}

/// IndexedDB, where the scope offers it.
pub fn indexed_db() -> Option<IdbFactory> {
    global().indexed_db().ok().flatten()
}

/// The one timer of the module, after gloo-timers' `Timeout`: set on creation on the global
/// scope's clock (`setTimeout`, a window's or a worker's), cleared when dropped. Whatever
/// repeats re-arms one from its callback, so there is one kind of timer to reason about.
pub struct Timeout {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `f` once, after `ms` milliseconds (at once if `ms` is not positive).
    pub fn new(ms: i64, f: impl FnMut() + 'static) -> Option<Timeout> {
        Timeout::set(ms, Closure::new(f))
    }

    /// The part that is the same for every callback, compiled once.
    fn set(ms: i64, callback: Closure<dyn FnMut()>) -> Option<Timeout> {
        let ms = i32::try_from(ms.max(0)).unwrap_or(i32::MAX);
        let id = global()
            .set_timeout(callback.as_ref().unchecked_ref(), ms)
            .ok()?;
        Some(Timeout {
            id,
            _callback: callback,
        })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        global().clear_timeout(&self.id);
    }
}

/// The clock, as the terminal counts time.
pub fn now() -> Timestamp {
    // Date.now() is an integral number of milliseconds well inside i64.
    Timestamp(js_sys::Date::now() as i64)
}

/// A UUID v4 from `crypto.getRandomValues`, which every browser and worker has, secure
/// context or not (`crypto.randomUUID` is for secure contexts only).
pub fn new_uuid() -> RequestId {
    let mut b = [0u8; 16];
    let drawn = global()
        .crypto()
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
    if !drawn {
        // Not seen in any browser; an id must still be unique, which this is in practice, and
        // it is never a secret.
        for x in &mut b {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    RequestId::from_random(b)
}
