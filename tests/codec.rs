//! The browser module's codec against serde_json, which the host speaks: every wire and
//! storage type read from serde's JSON gives the same value, and written gives the same JSON.
//! Run twice over the same cases: natively through `serde_json::Value` (`cargo test --test
//! codec`) and in headless Chromium through `JsValue` (`scripts/test-wasm.sh`), the value the
//! shipped module reads.

use serde::{de::DeserializeOwned, Serialize};
use softpos::error::ErrorCode;
use softpos::protocol::codec::text::JsonText;
use softpos::protocol::codec::{Decode, Encode, Unreadable};
use softpos::protocol::*;
use softpos::terminal::{Meta, Recovery, SettlementResult, SignInResult, SignOffResult, TxResult};

#[cfg(target_arch = "wasm32")]
mod side {
    use js_sys::JSON;
    use softpos::protocol::codec::{Decode, Encode, Unreadable};
    use softpos::wasm::codec::{FromJs, ToJs};
    pub use wasm_bindgen_test::wasm_bindgen_test as test;

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    /// `JSON.parse`, then the codec, as the browser reads an answer.
    pub fn read<T: Decode>(json: &str) -> Result<T, Unreadable> {
        T::from_js(&JSON::parse(json).expect("JSON"))
    }

    /// The codec, then `JSON.stringify`, as the browser sends a request.
    pub fn write<T: Encode>(value: &T) -> String {
        JSON::stringify(&value.to_js())
            .ok()
            .and_then(|s| s.as_string())
            .expect("stringify")
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod side {
    pub use core::prelude::v1::test;
    use softpos::protocol::codec::{Decode, Encode, Unreadable};

    /// The same reader over `serde_json::Value`, which stands in for `JSON.parse`'s value.
    pub fn read<T: Decode>(json: &str) -> Result<T, Unreadable> {
        T::decode(&serde_json::from_str::<serde_json::Value>(json).expect("JSON"))
    }

    /// The same writer over `serde_json::Value`.
    pub fn write<T: Encode>(value: &T) -> String {
        value.encode::<serde_json::Value>().to_string()
    }
}

use side::{read, test};

/// Reads `json` with serde, then checks the codec reads the same JSON to the same value and
/// writes the value to the same JSON.
fn agrees<T: Serialize + DeserializeOwned + Decode + Encode + PartialEq>(json: &str) {
    let name = std::any::type_name::<T>();
    let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));
    let serde_text = serde_json::to_string(&value).expect("serialise");
    let read = read::<T>(&serde_text)
        .unwrap_or_else(|e| panic!("{name}: the codec cannot read serde's JSON: {e}"));
    assert!(
        read == value,
        "{name}: the codec read {serde_text} differently"
    );
    let written = side::write(&value);
    let ours: serde_json::Value = serde_json::from_str(&written).expect("our JSON");
    let theirs: serde_json::Value = serde_json::to_value(&value).expect("serde's JSON");
    assert_eq!(
        ours, theirs,
        "{name}: the codec wrote other JSON than serde"
    );
    // The same writers straight to text, as a request body leaves the browser.
    let text = value.encode::<JsonText>().0;
    let ours: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}: {text}"));
    assert_eq!(
        ours, theirs,
        "{name}: the codec wrote other JSON text than serde"
    );
}

const TOTALS: &str = r#"{"batch_no":7,"currency":"CNY","sale":{"count":3,"amount":4500},
  "void":{"count":1,"amount":1000},"refund":{"count":1,"amount":250},"net_amount":3250}"#;

fn settlement(discrepancies: &str) -> String {
    format!(
        r#"{{"batch_no":7,"outcome":"unbalanced","terminal_totals":{TOTALS},"host_totals":{TOTALS},
        "discrepancies":{discrepancies},"next_batch_no":8,"settled_at":"2026-11-28T10:00:00+08:00"}}"#
    )
}

const DISCREPANCIES: &str = r#"[
  {"request_id":"0f8fad5b-d9cb-469f-a165-70867728950a","trace_no":1,"kind":"missing_on_terminal"},
  {"request_id":"0f8fad5b-d9cb-469f-a165-70867728950b","trace_no":2,"kind":"missing_on_host"},
  {"request_id":"0f8fad5b-d9cb-469f-a165-70867728950c","trace_no":3,"kind":"amount_mismatch"},
  {"request_id":"0f8fad5b-d9cb-469f-a165-70867728950d","trace_no":4,"kind":"status_mismatch"}]"#;

fn entry(kind: &str, status: &str, optional: &str) -> String {
    format!(
        r#"{{"seq":3,"request_id":"00000000-0000-4000-8000-000000000003","kind":"{kind}","trace_no":12,"amount":-250,
        "currency":"CNY","status":"{status}",{optional}"operator":"01",
        "at":"2026-11-28T10:00:00+08:00","prev_hash":"00ff","hash":"ff00"}}"#
    )
}

const ENTRY_SOME: &str = r#""response_code":"00","rrn":"000000000012","auth_code":"A1B2C3",
  "masked_pan":"621234******1232","original_trace_no":9,"original_rrn":"000000000009","#;
const ENTRY_NONE: &str = r#""response_code":null,"rrn":null,"auth_code":null,
  "masked_pan":null,"original_trace_no":null,"original_rrn":null,"#;

#[test]
fn codec_reads_and_writes_every_request_as_serde_json_does() {
    agrees::<ActivateRequest>(
        r#"{"merchant_id":"898310048160001","terminal_id":"10000001","activation_code":"X"}"#,
    );
    agrees::<SignInRequest>(r#"{"operator":"01","password":"0101"}"#);
    agrees::<TransactionRequest>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","kind":"sale","trace_no":1,"amount":1250,"currency":"CNY",
        "card":{"pan":"6212345678901232","expiry":"12/30"}}"#,
    );
    agrees::<TransactionRequest>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","kind":"void","trace_no":2,"amount":1250,"currency":"CNY",
        "original":{"trace_no":1},"supervisor_password":"123456"}"#,
    );
    agrees::<TransactionRequest>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","kind":"refund","trace_no":3,"amount":50,"currency":"CNY",
        "original":{"rrn":"000000000001"},"supervisor_password":"123456"}"#,
    );
    agrees::<ReversalRequest>(r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}"#);
    agrees::<SettlementRequest>(&format!(
        r#"{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","batch_no":7,"terminal_totals":{TOTALS}}}"#
    ));
    agrees::<UploadRequest>(&format!(
        r#"{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","entries":[{},{}]}}"#,
        entry("sale", "approved", ENTRY_SOME),
        entry("reversal", "reversed", ENTRY_NONE)
    ));
    // A chunk of the journal (R11): where it starts, and that more follow.
    agrees::<UploadRequest>(&format!(
        r#"{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","entries":[{}],"from":1000,"more":true}}"#,
        entry("sale", "approved", ENTRY_SOME),
    ));
    agrees::<UploadRequest>(&format!(
        r#"{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","entries":[{}],"from":2000}}"#,
        entry("sale", "approved", ENTRY_NONE),
    ));
    agrees::<SignOffRequest>("{}");
    agrees::<SignOffRequest>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","settle":false}"#,
    );
}

#[test]
fn codec_reads_and_writes_every_host_answer_as_serde_json_does() {
    agrees::<ActivateResponse>(r#"{"terminal_key":"k"}"#);
    agrees::<SignInResponse>(&format!(
        r#"{{"session_token":"t","expires_at":"2026-11-28T20:00:00+08:00","operator":"01",
        "business_date":"2026-11-28","batch_no":8,"next_trace_no":13,"currency":"CNY",
        "closed_batches":[{{"batch_no":7,"business_date":"2026-11-27","host_totals":{TOTALS}}}]}}"#
    ));
    // A host that says where its business day runs (older hosts leave both out).
    agrees::<SignInResponse>(
        r#"{"session_token":"t","expires_at":"2026-11-28T20:00:00+08:00","operator":"01",
        "business_date":"2026-11-28","batch_no":8,"next_trace_no":13,"currency":"CNY",
        "closed_batches":[],"timezone":"Asia/Shanghai","utc_offset_minutes":480}"#,
    );
    // A host that sets the confirmation threshold; `null` reads as absent, the default.
    for threshold in ["50000", "1", "99999999999", "null"] {
        agrees::<SignInResponse>(&format!(
            r#"{{"session_token":"t","expires_at":"2026-11-28T20:00:00+08:00","operator":"01",
            "business_date":"2026-11-28","batch_no":8,"next_trace_no":13,"currency":"CNY",
            "closed_batches":[],"confirm_above":{threshold}}}"#
        ));
    }
    for (status, optional) in [
        (
            "approved",
            r#""rrn":"000000000012","auth_code":"A1","masked_pan":"621234******1232","#,
        ),
        (
            "declined",
            r#""rrn":null,"auth_code":null,"masked_pan":null,"#,
        ),
    ] {
        agrees::<TransactionResponse>(&format!(
            r#"{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"{status}","response_code":"00","message":"ok",
            {optional}"batch_no":7,"trace_no":12,"host_time":"2026-11-28T10:00:00+08:00"}}"#
        ));
    }
    agrees::<ReversalResponse>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","reversed":true}"#,
    );
    agrees::<ReversalResponse>(
        r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","reversed":false,"transaction":{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e",
        "status":"approved","response_code":"00","message":"ok","rrn":"000000000012",
        "auth_code":"A1","batch_no":7,"trace_no":12,"masked_pan":"621234******1232",
        "host_time":"2026-11-28T10:00:00+08:00"}}"#,
    );
    agrees::<SettlementResponse>(&format!(
        r#"{{"batch_no":7,"outcome":"balanced","host_totals":{TOTALS},"next_batch_no":8}}"#
    ));
    agrees::<UploadResponse>(&format!(
        r#"{{"batch_no":7,"outcome":"unbalanced","host_totals":{TOTALS},
        "discrepancies":{DISCREPANCIES},"next_batch_no":8}}"#
    ));
    // To a chunk of the batch upload (R11).
    agrees::<UploadProgress>(r#"{"batch_no":7,"received":1000}"#);
    for verdict in ["balanced", "unbalanced", "error", "pending"] {
        agrees::<SettlementResponse>(&format!(
            r#"{{"batch_no":7,"outcome":"balanced","host_totals":{TOTALS},"next_batch_no":8,
            "acquirer_outcome":"{verdict}"}}"#
        ));
        agrees::<UploadResponse>(&format!(
            r#"{{"batch_no":7,"outcome":"unbalanced","host_totals":{TOTALS},
            "discrepancies":{DISCREPANCIES},"next_batch_no":8,"acquirer_outcome":"{verdict}"}}"#
        ));
    }
    agrees::<SignOffResponse>(r#"{"signed_off_at":"2026-11-28T20:00:00+08:00"}"#);
    agrees::<ErrorBody>(r#"{"error":{"code":"NOT_SIGNED_IN","message":"sign in first"}}"#);
}

#[test]
fn codec_reads_and_writes_the_stored_state_and_the_results_as_serde_json_does() {
    for (kind, status) in [
        ("sale", "approved"),
        ("void", "declined"),
        ("refund", "unknown"),
        ("reversal", "reversed"),
        ("sale", "voided"),
    ] {
        agrees::<JournalEntry>(&entry(kind, status, ENTRY_SOME));
        agrees::<JournalEntry>(&entry(kind, status, ENTRY_NONE));
    }
    agrees::<Meta>(
        r#"{"version":1,"merchant_id":"m","terminal_id":"t","terminal_key":null,"currency":null,
        "batch_no":1,"business_date":null,"next_trace_no":1,"operator":null,"reversals":[],
        "in_flight":null,"settlement":null,"reconcile":[],"recent_settled":[],
        "last_settlement":null,"journal_len":0}"#,
    );
    agrees::<Meta>(&format!(
        r#"{{"version":1,"merchant_id":"m","terminal_id":"t","terminal_key":"k","currency":"CNY",
        "batch_no":7,"business_date":"2026-11-28","next_trace_no":13,"operator":"01",
        "reversals":[{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","batch_no":7,"trace_no":11,"amount":100}}],
        "in_flight":{{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","kind":"refund","trace_no":12,"amount":5,
          "masked_pan":null,"original_trace_no":null,"original_rrn":"000000000001","operator":"01"}},
        "settlement":{{"batch_no":7,"terminal_totals":{TOTALS},"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e",
          "upload_request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","upload":{{"host_totals":{TOTALS},"next_batch_no":8,"sent":3000}}}},
        "reconcile":[5,6],"recent_settled":[{{"batch_no":6,"first_trace":1,"last_trace":10}}],
        "last_settlement":{},"journal_len":12,"utc_offset":480}}"#,
        settlement(DISCREPANCIES)
    ));
    agrees::<Meta>(
        r#"{"version":1,"merchant_id":"m","terminal_id":"t","terminal_key":null,"currency":null,
        "batch_no":1,"business_date":null,"next_trace_no":1,"operator":null,"reversals":[],
        "in_flight":null,"settlement":null,"reconcile":[],"recent_settled":[],
        "last_settlement":null,"journal_len":0,"confirm_above":50000}"#,
    );
    agrees::<TxResult>(
        r#"{"kind":"refund","status":"approved","response_code":"00","message":"ok","trace_no":12,
        "batch_no":7,"rrn":"000000000012","auth_code":null,"amount":250,"currency":"CNY",
        "masked_pan":null,"at":"2026-11-28T10:00:00+08:00"}"#,
    );
    // Kept before the acquirer's verdict was added (none), and with it.
    agrees::<SettlementResult>(&settlement("[]"));
    agrees::<SettlementResult>(&settlement("[]").replace(
        r#""settled_at""#,
        r#""acquirer_outcome":"unbalanced","settled_at""#,
    ));
    agrees::<SignInResult>(&format!(
        r#"{{"operator":"01","business_date":"2026-11-28","batch_no":8,"currency":"CNY",
        "reconciled":[{}],"pending_reversals":2}}"#,
        settlement(DISCREPANCIES)
    ));
    agrees::<SignOffResult>(r#"{"signed_off_at":"2026-11-28T20:00:00+08:00","settlement":null}"#);
    agrees::<SignOffResult>(&format!(
        r#"{{"signed_off_at":"2026-11-28T20:00:00+08:00","settlement":{}}}"#,
        settlement("[]")
    ));
    for kind in ["not_signed_off", "not_settled"] {
        agrees::<Recovery>(&format!(
            r#"{{"kind":"{kind}","batch_no":7,"business_date":null,"operator":"01",
            "totals":{TOTALS},"pending_reversals":0}}"#
        ));
    }
}

/// The browser's reader refuses an answer whose ids are out of shape, naming the field, as
/// serde does: a trace or batch number outside 1..=999999, a request id that is no UUID.
#[test]
fn r9_r17_the_codec_refuses_an_answer_with_a_malformed_id() {
    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let tx = format!(
        r#"{{"request_id":"{ID}","status":"approved","response_code":"00","message":"ok",
        "rrn":null,"auth_code":null,"masked_pan":null,"batch_no":7,"trace_no":12,
        "host_time":"2026-11-28T10:00:00+08:00"}}"#
    );
    let sign_in = r#"{"session_token":"t","expires_at":"2026-11-28T20:00:00+08:00",
        "operator":"01","business_date":"2026-11-28","batch_no":8,"next_trace_no":13,
        "currency":"CNY","closed_batches":[]}"#;
    let upload = format!(
        r#"{{"batch_no":7,"outcome":"unbalanced","host_totals":{TOTALS},
        "discrepancies":{DISCREPANCIES},"next_batch_no":8}}"#
    );
    assert!(read::<TransactionResponse>(&tx).is_ok());
    assert!(read::<SignInResponse>(sign_in).is_ok());
    assert!(read::<UploadResponse>(&upload).is_ok());
    fn refused<T: Decode + DeserializeOwned>(json: &str, field: &'static str) {
        assert_eq!(read::<T>(json).err(), Some(Unreadable(field)), "{json}");
        assert!(
            serde_json::from_str::<T>(json).is_err(),
            "serde read {json}"
        );
    }
    for (from, to, field) in [
        (r#""trace_no":12"#, r#""trace_no":0"#, "trace_no"),
        (r#""trace_no":12"#, r#""trace_no":1000000"#, "trace_no"),
        (r#""batch_no":7"#, r#""batch_no":0"#, "batch_no"),
        (ID, "r-1", "request_id"),
    ] {
        refused::<TransactionResponse>(&tx.replace(from, to), field);
    }
    refused::<SignInResponse>(
        &sign_in.replace(r#""next_trace_no":13"#, r#""next_trace_no":0"#),
        "next_trace_no",
    );
    refused::<SignInResponse>(
        &sign_in.replace(r#""batch_no":8"#, r#""batch_no":1000000"#),
        "batch_no",
    );
    for threshold in ["0", "-5", "100000000000", "\"50000\""] {
        refused::<SignInResponse>(
            &sign_in.replace(
                r#""closed_batches":[]"#,
                &format!(r#""closed_batches":[],"confirm_above":{threshold}"#),
            ),
            "confirm_above",
        );
    }
    refused::<UploadResponse>(
        &upload.replace(r#""next_batch_no":8"#, r#""next_batch_no":0"#),
        "next_batch_no",
    );
    refused::<UploadResponse>(
        &upload.replace(r#""trace_no":1,"#, r#""trace_no":0,"#),
        "trace_no",
    );
    refused::<UploadResponse>(&upload.replace("70867728950a", "7086772895"), "request_id");
}

/// R8: an answer the terminal cannot read is no answer; the reason names the field.
#[test]
fn codec_refuses_a_field_of_the_wrong_type_and_names_it() {
    let good = r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"approved","response_code":"00","message":"ok",
        "rrn":null,"auth_code":null,"masked_pan":null,"batch_no":7,"trace_no":12,
        "host_time":"2026-11-28T10:00:00+08:00"}"#;
    assert!(read::<TransactionResponse>(good).is_ok());
    for (from, to, field) in [
        (r#""batch_no":7"#, r#""batch_no":"7""#, "batch_no"),
        (r#""batch_no":7"#, r#""batch_no":7.5"#, "batch_no"),
        (r#""batch_no":7"#, r#""batch_no":-7"#, "batch_no"),
        (r#""batch_no":7"#, r#""batch_no":4294967296"#, "batch_no"),
        (r#""batch_no":7"#, r#""batch_no":null"#, "batch_no"),
        (r#""batch_no":7,"#, "", "batch_no"),
        (r#""status":"approved""#, r#""status":"maybe""#, "status"),
        (r#""rrn":null"#, r#""rrn":12"#, "rrn"),
    ] {
        let json = good.replace(from, to);
        assert_eq!(
            read::<TransactionResponse>(&json).err(),
            Some(Unreadable(field)),
            "{to}"
        );
    }
    // Amounts beyond 2^53 cannot have come from the host exactly.
    let huge = r#"{"count":1,"amount":9007199254740993}"#;
    assert_eq!(read::<Totals>(huge).err(), Some(Unreadable("amount")));
    assert!(read::<ErrorCode>(r#""NO_SUCH_CODE""#).is_err());
    assert!(read::<TxKind>(r#""Sale""#).is_err());
}

/// The browser's reader refuses a malformed id as serde does, naming the field, never the value.
#[test]
fn r17_the_codec_refuses_a_malformed_id_as_serde_does() {
    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let cases: [(&str, &str); 5] = [
        (r#"{"request_id":"r-1"}"#, "request_id"),
        (
            r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950g"}"#,
            "request_id",
        ),
        (
            &format!(r#"{{"request_id":"{ID}","batch_no":0,"terminal_totals":{TOTALS}}}"#),
            "batch_no",
        ),
        (
            &format!(r#"{{"request_id":"{ID}","batch_no":1000000,"terminal_totals":{TOTALS}}}"#),
            "batch_no",
        ),
        (
            r#"{"request_id":"00000000000000000000000000000000000"}"#,
            "request_id",
        ),
    ];
    for (json, field) in &cases[..2] {
        assert!(
            serde_json::from_str::<ReversalRequest>(json).is_err(),
            "{json}"
        );
        assert_eq!(
            read::<ReversalRequest>(json),
            Err(Unreadable(field)),
            "{json}"
        );
    }
    for (json, field) in &cases[2..4] {
        assert!(
            serde_json::from_str::<SettlementRequest>(json).is_err(),
            "{json}"
        );
        assert_eq!(
            read::<SettlementRequest>(json),
            Err(Unreadable(field)),
            "{json}"
        );
    }
    let (json, field) = cases[4];
    assert_eq!(
        read::<SignOffRequest>(json),
        Err(Unreadable(field)),
        "{json}"
    );
    let tx = format!(
        r#"{{"request_id":"{ID}","kind":"sale","trace_no":0,"amount":1,"currency":"CNY"}}"#
    );
    assert!(serde_json::from_str::<TransactionRequest>(&tx).is_err());
    assert_eq!(read::<TransactionRequest>(&tx), Err(Unreadable("trace_no")));
}
