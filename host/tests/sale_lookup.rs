//! R7: `GET /v1/sales`, the sales a refund may name, found by RRN, trace number or the card's
//! last 4 digits, on SQLite and (when configured) PostgreSQL.

mod common;

use common::*;
use serde_json::{json, Value};

const OTHER_MERCHANT: &str = "898310048160002";
const VISA: &str = "4012888888881881";
const MASTERCARD: &str = "5555555555554444";
const DECLINED_CARD: &str = "4000000000000002";

/// The sales found for `q`, asserting a 200.
fn find(c: &Counter, token: &str, q: &str) -> Vec<Value> {
    let (st, body) = c.host.get(&format!("/v1/sales?q={q}"), Some(token));
    assert_eq!(st, 200, "{q:?}: {body}");
    body["sales"].as_array().unwrap().clone()
}

fn rrns(sales: &[Value]) -> Vec<&str> {
    sales.iter().map(|s| s["rrn"].as_str().unwrap()).collect()
}

/// An approved sale: its RRN and trace number.
fn approved(c: &Counter, amount: i64, pan: &str) -> (String, u64) {
    let (st, sale) = c.sale(amount, pan);
    assert_eq!(
        (st, sale["status"].as_str()),
        (200, Some("approved")),
        "{sale}"
    );
    (
        sale["rrn"].as_str().unwrap().to_owned(),
        sale["trace_no"].as_u64().unwrap(),
    )
}

fn refund_body(trace_no: u32, rrn: &str, amount: i64) -> Value {
    json!({"request_id": rid(), "kind": "refund", "trace_no": trace_no, "amount": amount,
        "currency": "CNY", "original": {"rrn": rrn}, "supervisor_password": SUPERVISOR_PW})
}

#[test]
fn r7_sales_are_found_by_rrn_trace_number_and_last_4_newest_first() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (visa, visa_trace) = approved(&c, 1200, VISA);
        let (mc, mc_trace) = approved(&c, 3400, MASTERCARD);
        let (visa2, _) = approved(&c, 560, VISA);
        let (st, declined) = c.sale(999, DECLINED_CARD);
        assert_eq!((st, declined["status"].as_str()), (200, Some("declined")));
        let declined_trace = declined["trace_no"].as_u64().unwrap();

        let by_rrn = find(&c, &c.token, &mc);
        assert_eq!(rrns(&by_rrn), [mc.as_str()]);
        let sale = &by_rrn[0];
        assert_eq!(sale["trace_no"].as_u64(), Some(mc_trace));
        assert_eq!(sale["terminal_id"], TERMINAL);
        assert_eq!(sale["masked_pan"], "555555******4444");
        assert_eq!(
            (&sale["amount"], &sale["currency"]),
            (&json!(3400), &json!("CNY"))
        );
        assert_eq!(
            (&sale["refundable"], &sale["voided"]),
            (&json!(3400), &json!(false))
        );
        assert_eq!(sale["batch_no"], c.current()["batch_no"]);
        let at = sale["at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.len() == 24, "{at}");

        assert_eq!(rrns(&find(&c, &c.token, &mc_trace.to_string())), [&mc]);
        // Leading zeros: the trace number as a number.
        assert_eq!(
            rrns(&find(&c, &c.token, &format!("{visa_trace:06}"))),
            [&visa]
        );
        assert_eq!(rrns(&find(&c, &c.token, "1881")), [&visa2, &visa]);
        // Only approved sales: the declined one is not among the newest.
        assert_eq!(rrns(&find(&c, &c.token, "")), [&visa2, &mc, &visa]);
        assert_eq!(
            rrns(
                &c.host.get("/v1/sales", Some(&c.token)).1["sales"]
                    .as_array()
                    .unwrap()
                    .clone()
            ),
            [&visa2, &mc, &visa]
        );
        assert!(find(&c, &c.token, "999999999999").is_empty());
        assert!(find(&c, &c.token, &declined_trace.to_string()).is_empty());
        // Never a full card number.
        let (_, body) = c.host.get("/v1/sales", Some(&c.token));
        for pan in [VISA, MASTERCARD] {
            assert!(!body.to_string().contains(pan), "{body}");
        }
    });
}

#[test]
fn r7_a_sales_lookup_lists_at_most_20_the_newest() {
    each_backend(|b| {
        let c = Counter::new(b);
        let made: Vec<String> = (0..22).map(|i| approved(&c, 100 + i, VISA).0).collect();
        let newest: Vec<&str> = made.iter().rev().take(20).map(String::as_str).collect();
        assert_eq!(rrns(&find(&c, &c.token, "")), newest);
        assert_eq!(rrns(&find(&c, &c.token, "1881")), newest);
    });
}

#[test]
fn r7_a_sales_lookup_sees_every_terminal_of_the_merchant_and_no_other_merchant() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (rrn, trace) = approved(&c, 1500, VISA);
        // Another terminal of the same merchant finds it (a refund may be made there).
        let code = c.db.add_terminal(MERCHANT, "10000002");
        let key = c.host.activate(MERCHANT, "10000002", &code);
        let (_, s) = c.host.sign_in(&key, "01", OPERATOR_PW);
        let token2 = s["session_token"].as_str().unwrap().to_owned();
        assert_eq!(rrns(&find(&c, &token2, &rrn)), [&rrn]);
        assert_eq!(find(&c, &token2, "")[0]["terminal_id"], TERMINAL);

        // Merchant B never sees merchant A's sales, by any query.
        let code = c.db.add_terminal(OTHER_MERCHANT, "20000001");
        c.db.add_operator(OTHER_MERCHANT, "01", OPERATOR_PW);
        let key = c.host.activate(OTHER_MERCHANT, "20000001", &code);
        let (_, s) = c.host.sign_in(&key, "01", OPERATOR_PW);
        let token_b = s["session_token"].as_str().unwrap().to_owned();
        for q in [rrn.clone(), trace.to_string(), "1881".into(), String::new()] {
            assert!(find(&c, &token_b, &q).is_empty(), "{q:?}");
        }
    });
}

#[test]
fn r7_a_sale_older_than_30_days_is_not_listed() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (old, _) = approved(&c, 700, VISA);
        let (recent, _) = approved(&c, 800, VISA);
        let day_ms = 24 * 3600 * 1000_i64;
        c.db.exec(&format!(
            "UPDATE transactions SET created_at = created_at - {} WHERE rrn = '{old}'",
            31 * day_ms
        ))
        .unwrap();
        c.db.exec(&format!(
            "UPDATE transactions SET created_at = created_at - {} WHERE rrn = '{recent}'",
            29 * day_ms
        ))
        .unwrap();
        assert_eq!(rrns(&find(&c, &c.token, "")), [&recent]);
        assert!(find(&c, &c.token, &old).is_empty());
        assert_eq!(rrns(&find(&c, &c.token, "1881")), [&recent]);
    });
}

#[test]
fn r7_refundable_goes_down_after_a_partial_refund_and_a_voided_sale_shows_voided() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (rrn, _) = approved(&c, 1000, VISA);
        let (voided, voided_trace) = approved(&c, 500, MASTERCARD);
        let (st, body) = c.tx(&refund_body(c.trace(), &rrn, 300));
        assert_eq!(st, 200, "{body}");
        let sale = &find(&c, &c.token, &rrn)[0];
        assert_eq!(
            (&sale["amount"], &sale["refundable"]),
            (&json!(1000), &json!(700))
        );
        let (st, body) = c.tx(&refund_body(c.trace(), &rrn, 700));
        assert_eq!(st, 200, "{body}");
        assert_eq!(find(&c, &c.token, &rrn)[0]["refundable"], 0);

        let (st, body) = c.tx(
            &json!({"request_id": rid(), "kind": "void", "trace_no": c.trace(),
            "amount": 500, "currency": "CNY", "original": {"trace_no": voided_trace},
            "supervisor_password": SUPERVISOR_PW}),
        );
        assert_eq!(st, 200, "{body}");
        let sale = &find(&c, &c.token, &voided)[0];
        assert_eq!(
            (&sale["voided"], &sale["refundable"]),
            (&json!(true), &json!(0))
        );
    });
}

#[test]
fn r7_a_sales_lookup_with_a_bad_query_or_no_session_is_refused() {
    each_backend(|b| {
        let c = Counter::new(b);
        for q in [
            "abc",
            "1234567",
            "12345678901",
            "1234567890123",
            "4111111111111111",
            "12%2034",
            "-1",
            "%EF%BC%91",
        ] {
            let (st, body) = c.host.get(&format!("/v1/sales?q={q}"), Some(&c.token));
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{q:?}: {body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains("last 4"), "{message}");
            assert!(!message.contains(q), "{message}");
        }
        let (st, body) = c.host.get("/v1/sales?q=1&q=2", Some(&c.token));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        let (st, body) = c.host.get("/v1/sales?q=1", None);
        assert_eq!((st, code(&body)), (401, "NOT_SIGNED_IN"), "{body}");
        let (st, body) = c.host.get("/v1/sales?q=1", Some("no-such-token"));
        assert_eq!((st, code(&body)), (401, "SESSION_EXPIRED"), "{body}");
    });
}

#[test]
fn r21_r7_a_sales_lookup_finds_by_amount_in_minor_units() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (first, _) = approved(&c, 1250, VISA);
        approved(&c, 3400, MASTERCARD);
        let (second, _) = approved(&c, 1250, MASTERCARD);
        let (st, declined) = c.sale(1250, DECLINED_CARD);
        assert_eq!((st, declined["status"].as_str()), (200, Some("declined")));
        // Only the approved sales of exactly that amount, newest first.
        let (st, body) = c.host.get("/v1/sales?amount=1250", Some(&c.token));
        assert_eq!(st, 200, "{body}");
        let found = body["sales"].as_array().unwrap();
        assert_eq!(rrns(found), [second.as_str(), first.as_str()]);
        let (_, none) = c.host.get("/v1/sales?q=&amount=1251", Some(&c.token));
        assert_eq!(none["sales"], json!([]), "{none}");
        // A query and an amount at once, or an amount outside R3, are refused.
        for (path, want) in [
            ("/v1/sales?q=1234&amount=1250", "BAD_REQUEST"),
            ("/v1/sales?amount=0", "INVALID_AMOUNT"),
            ("/v1/sales?amount=100000000000", "INVALID_AMOUNT"),
            ("/v1/sales?amount=12.50", "BAD_REQUEST"),
        ] {
            let (st, body) = c.host.get(path, Some(&c.token));
            assert_eq!((st, code(&body)), (422, want), "{path}: {body}");
        }
    });
}
