//! Helpers shared by the browser test files (`web.rs`, `faults.rs`): reading plain JS
//! values and awaiting the terminal's promises.
#![allow(dead_code)]

use js_sys::{Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

const CODES: &str = env!("SOFTPOS_TEST_CODES");

/// The activation code provisioned for a terminal of this test run.
pub fn code(terminal: &str) -> String {
    CODES
        .split(',')
        .find_map(|pair| pair.strip_prefix(&format!("{terminal}=")))
        .unwrap_or_else(|| panic!("no activation code for {terminal}"))
        .to_owned()
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
