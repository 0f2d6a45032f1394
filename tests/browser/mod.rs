//! Helpers shared by the browser test files (`web.rs`, `faults.rs`): reading plain JS
//! values and awaiting the terminal's promises.
#![allow(dead_code)]

use js_sys::{Promise, Reflect, JSON};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Where scripts/test-wasm.sh provisions terminals on demand: a loopback helper of the test
/// run that calls the host's admin CLI (`softpos-host terminal add`), so the product itself
/// needs no provisioning endpoint.
const PROVISIONER: &str = env!("SOFTPOS_TEST_PROVISIONER");

#[wasm_bindgen(inline_js = r#"
export async function provision(url) {
  const r = await fetch(url, { method: 'POST' });
  if (!r.ok) throw new Error('provisioning failed: ' + r.status + ' ' + (await r.text()));
  return r.json();
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn provision(url: &str) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// The activation code of each terminal this test binary was given.
    static CODES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// A terminal of the test merchant that no test has used yet, made now on the host (currency
/// CNY); its single-use activation code is kept for [`code`].
pub async fn fresh_terminal() -> String {
    let made = provision(&format!("{PROVISIONER}/terminals"))
        .await
        .unwrap_or_else(|e| panic!("no fresh terminal: {e:?}"));
    let terminal = text(&made, "terminalId");
    let code = text(&made, "code");
    assert!(
        !terminal.is_empty() && !code.is_empty(),
        "the provisioner answers a terminal id and its code"
    );
    CODES.with(|c| c.borrow_mut().insert(terminal.clone(), code));
    terminal
}

/// The activation code of a terminal [`fresh_terminal`] gave this test run.
pub fn code(terminal: &str) -> String {
    CODES
        .with(|c| c.borrow().get(terminal).cloned())
        .unwrap_or_else(|| panic!("no activation code for {terminal}"))
}

pub fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or_else(|_| panic!("bad JSON in a test: {text}"))
}

pub fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |v, k| {
        Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED)
    })
}

pub fn num(v: &JsValue, path: &str) -> f64 {
    get(v, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number"))
}

pub fn text(v: &JsValue, path: &str) -> String {
    get(v, path).as_string().unwrap_or_default()
}

pub async fn ok(p: Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!(
            "expected success, got {}: {}",
            text(&e, "code"),
            text(&e, "message")
        ),
    }
}
