//! The reader the browser ships against serde's: the same generated code the wasm module runs
//! over `JsValue`, here over `serde_json::Value` as `JSON.parse` would make it. Whatever JSON
//! arrives, both read the same value or differ only as the browser is meant to
//! (softpos::protocol::codec::differential says how), and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos::protocol::codec::differential::compare;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = compare(data) {
        panic!("{e}");
    }
});
