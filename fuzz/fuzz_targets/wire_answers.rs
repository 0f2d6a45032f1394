//! Whatever the network delivers as an answer to any call, decoding it gives a `Reply`
//! (`NoAnswer` when unreadable), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos::terminal::Call;

fn p<T: serde::de::DeserializeOwned>(s: &str) -> T {
    serde_json::from_str(s).expect("a valid request in the fuzz target")
}

/// One call of every kind, built from the wire JSON the host would receive.
fn calls() -> Vec<Call> {
    let totals = r#"{"batch_no":1,"currency":"CNY","sale":{"count":0,"amount":0},"void":{"count":0,"amount":0},"refund":{"count":0,"amount":0},"net_amount":0}"#;
    vec![
        Call::Activate(p(
            r#"{"merchant_id":"898310048160001","terminal_id":"10000001","activation_code":"x"}"#,
        )),
        Call::SignIn(p(r#"{"operator":"01","password":"x"}"#)),
        Call::Transaction(p(
            r#"{"request_id":"00000000-0000-4000-8000-000000000001","kind":"sale","trace_no":1,"amount":1,"currency":"CNY"}"#,
        )),
        Call::Reversal(p(r#"{"request_id":"00000000-0000-4000-8000-000000000001"}"#)),
        Call::Settlement(p(&format!(
            r#"{{"request_id":"00000000-0000-4000-8000-000000000001","batch_no":1,"terminal_totals":{totals}}}"#
        ))),
        Call::Upload(1, p(r#"{"request_id":"00000000-0000-4000-8000-000000000001","entries":[]}"#)),
        Call::SignOff(p(r#"{}"#)),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    for call in calls() {
        let _ = call.parse_answer(json);
    }
});
