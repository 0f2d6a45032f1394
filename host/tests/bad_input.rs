//! Bad input at the host's door (issue 7, hand-written beside schemathesis): whatever arrives,
//! the answer is a 4xx with a contract code, never a 5xx, a hang or a charge.

mod common;

use common::*;
use serde_json::{json, Value};

fn raw(c: &Counter, path: &str, content_type: &str, body: &'static [u8]) -> (u16, Value) {
    let h = &c.host;
    answer(
        h.http
            .post(h.url(path))
            .bearer_auth(&c.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap(),
    )
}

fn is_contract_4xx(st: u16, body: &Value) -> bool {
    (400..500).contains(&st) && !code(body).is_empty()
}

#[test]
fn r3_r17_malformed_bodies_and_overflowing_amounts_get_a_4xx_with_a_code() {
    each_backend(|b| {
        let c = Counter::new(b);
        for body in [
            &b"{"[..],
            b"",
            b"null",
            b"[]",
            b"{\"request_id\":\"\xff\xfe\"}",
            b"{\"amount\":1e400}",
            b"\x00\x01\x02",
        ] {
            let (st, res) = raw(&c, "/v1/transactions", "application/json", body);
            assert!(is_contract_4xx(st, &res), "{body:?}: {st} {res}");
        }
        // A JSON body under another content type, and one with a charset parameter still counts.
        let (st, res) = raw(
            &c,
            "/v1/transactions",
            "application/x-www-form-urlencoded",
            b"a=1",
        );
        assert_eq!((st, code(&res)), (415, "BAD_REQUEST"), "{res}");
        // Amounts past i64 and exactly at its edges: refused, not wrapped into a small charge.
        for amount in [
            json!(9_223_372_036_854_775_807i64),
            json!(9_223_372_036_854_775_808u64),
            json!(u64::MAX),
            json!(-9_223_372_036_854_775_808i64),
            json!(1e19),
            json!("100"),
        ] {
            let mut req = sale_body(&rid(), c.trace(), 1, CARD);
            req["amount"] = amount.clone();
            let (st, res) = c.tx(&req);
            assert!(is_contract_4xx(st, &res), "{amount}: {st} {res}");
            assert!(
                ["INVALID_AMOUNT", "BAD_REQUEST"].contains(&code(&res)),
                "{amount}: {res}"
            );
        }
        assert_eq!(
            c.current()["host_totals"]["sale"]["count"],
            0,
            "nothing charged"
        );
    });
}

#[test]
fn r9_r17_non_ascii_and_sql_looking_ids_are_refused_or_harmless() {
    each_backend(|b| {
        let c = Counter::new(b);
        let weird = [
            "'; DROP TABLE transactions; --",
            "1' OR '1'='1",
            "交易-0001",
            "\u{0}",
            "ﬀ\u{202e}",
        ];
        for id in weird {
            let (st, res) = c.tx(&sale_body(id, c.trace(), 100, CARD));
            assert_eq!((st, code(&res)), (422, "BAD_REQUEST"), "{id:?}: {res}");
            let (st, res) =
                c.host
                    .post("/v1/reversals", Some(&c.token), &json!({"request_id": id}));
            assert!(is_contract_4xx(st, &res), "{id:?}: {st} {res}");
            let refund = json!({
                "request_id": rid(), "kind": "refund", "trace_no": c.trace(), "amount": 1,
                "currency": "CNY", "original": {"rrn": id}, "supervisor_password": SUPERVISOR_PW
            });
            let (st, res) = c.tx(&refund);
            assert!(is_contract_4xx(st, &res), "{id:?}: {st} {res}");
            let (st, res) = c.host.post(
                "/v1/activate",
                None,
                &json!({"merchant_id": id, "terminal_id": id, "activation_code": id}),
            );
            // Found on PostgreSQL: a NUL in these ids reached the database and came back as a 500.
            assert!(is_contract_4xx(st, &res), "{id:?}: {st} {res}");
            let (st, res) = c.host.sign_in(&c.key, id, id);
            assert!(is_contract_4xx(st, &res), "{id:?}: {st} {res}");
        }
        // The tables are all still there and still count.
        assert_eq!(c.sale(100, CARD).0, 200);
        assert_eq!(c.current()["host_totals"]["sale"]["count"], 1);
    });
}

#[test]
fn r12_r17_replayed_forged_and_dead_tokens_are_refused() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        let old = c.token.clone();
        c.resign_in();
        let (st, res) = c.host.post(
            "/v1/transactions",
            Some(&old),
            &sale_body(&rid(), 90, 100, CARD),
        );
        assert_eq!(
            (st, code(&res)),
            (401, "SESSION_EXPIRED"),
            "replayed: {res}"
        );
        let (st, _) = c
            .host
            .post("/v1/sign-off", Some(&c.token), &json!({"settle": false}));
        assert_eq!(st, 200);
        let (st, res) = c.host.get("/v1/batches/current", Some(&c.token));
        assert_eq!(
            (st, code(&res)),
            (401, "SESSION_EXPIRED"),
            "after sign-off: {res}"
        );
        for forged in ["", "x", "Bearer", &"a".repeat(5000), "交易", &c.key] {
            let (st, res) = c.host.post(
                "/v1/transactions",
                Some(forged),
                &sale_body(&rid(), 91, 100, CARD),
            );
            assert!(is_contract_4xx(st, &res), "{forged:?}: {st} {res}");
        }
    });
}

/// Each identifier is parsed once, as the body is read (softpos::ids): a malformed one is a
/// 4xx naming the field and the kind of id, never repeating the value, and nothing is booked.
/// The batch upload's entries carry typed ids too: an entry with a malformed request id or
/// trace number is refused as the body is read, naming the entry's field, never the value.
#[test]
fn r9_r17_an_uploaded_entry_with_a_malformed_id_is_refused_as_the_body_is_read() {
    each_backend(|b| {
        let c = Counter::new(b);
        let entry = |request_id: &str, trace_no: Value, original_trace_no: Value| {
            json!({"seq": 1, "request_id": request_id, "kind": "void", "trace_no": trace_no,
                "amount": 100, "currency": "CNY", "status": "approved", "response_code": "00",
                "rrn": null, "auth_code": null, "masked_pan": null,
                "original_trace_no": original_trace_no, "original_rrn": null, "operator": "01",
                "at": "2026-11-28T10:00:00Z", "prev_hash": "00", "hash": "11"})
        };
        let good = rid();
        let cases = [
            (
                entry("sale-0427", json!(2), json!(1)),
                "entries[0].request_id: a request id is a UUID",
                "sale-0427",
            ),
            (
                entry(&good, json!(0), json!(1)),
                "entries[0].trace_no: a trace number is 1..=999999",
                "trace_no\":0",
            ),
            (
                entry(&good, json!(2), json!(1_000_000)),
                "entries[0].original_trace_no: a trace number is 1..=999999",
                "1000000",
            ),
        ];
        for (bad, named, sent) in cases {
            let body = json!({"request_id": rid(), "entries": [bad]});
            let (st, res) = c
                .host
                .post("/v1/settlements/1/upload", Some(&c.token), &body);
            let message = res["error"]["message"].as_str().unwrap_or_default();
            assert_eq!(code(&res), "BAD_REQUEST", "{named}: {st} {res}");
            assert!((400..500).contains(&st), "{named}: {st}");
            assert!(message.contains(named), "{named}: {message}");
            assert!(!message.contains(sent), "echoed {sent:?}: {message}");
        }
    });
}

#[test]
fn r9_r17_a_malformed_id_is_refused_as_the_body_is_read_naming_the_field_not_the_value() {
    each_backend(|b| {
        let c = Counter::new(b);
        let refused = |st: u16, res: &Value, field: &str, kind: &str, sent: &str| {
            let message = res["error"]["message"].as_str().unwrap_or_default();
            assert_eq!(code(res), "BAD_REQUEST", "{field}: {st} {res}");
            assert!((400..500).contains(&st), "{field}: {st}");
            assert!(message.contains(&format!("{field}: {kind}")), "{message}");
            assert!(!message.contains(sent), "echoed {sent:?}: {message}");
        };
        let uuid = "a request id is a UUID";
        let mut req = sale_body("not-a-uuid-0427", c.trace(), 100, CARD);
        let (st, res) = c.tx(&req);
        refused(st, &res, "request_id", uuid, "not-a-uuid-0427");
        for bad in [0u32, 1_000_000, 4_294_967_295] {
            req = sale_body(&rid(), bad, 100, CARD);
            let (st, res) = c.tx(&req);
            refused(
                st,
                &res,
                "trace_no",
                "a trace number is 1..=999999",
                &bad.to_string(),
            );
        }
        let body = json!({"request_id": "rev-0427"});
        let (st, res) = c.host.post("/v1/reversals", Some(&c.token), &body);
        refused(st, &res, "request_id", uuid, "rev-0427");
        let zero = json!({"count": 0, "amount": 0});
        let totals = json!({"sale": zero, "void": zero, "refund": zero});
        for batch_no in [0u32, 1_000_000] {
            let body =
                json!({"request_id": rid(), "batch_no": batch_no, "terminal_totals": totals});
            let (st, res) = c.host.post("/v1/settlements", Some(&c.token), &body);
            refused(
                st,
                &res,
                "batch_no",
                "a batch number is 1..=999999",
                "1000000",
            );
        }
        // Activation and sign-in ids of the wrong shape are unknown credentials (R16): the
        // answer does not tell a malformed id from a wrong one.
        let (st, res) = c.host.post(
            "/v1/activate",
            None,
            &json!({"merchant_id": "12345", "terminal_id": "T0000001", "activation_code": "x"}),
        );
        assert_eq!((st, code(&res)), (401, "BAD_CREDENTIALS"), "{res}");
        let (st, res) = c.host.sign_in(&c.key, "1", "secret");
        assert_eq!((st, code(&res)), (401, "BAD_CREDENTIALS"), "{res}");
        assert_eq!(
            c.current()["host_totals"]["sale"]["count"],
            0,
            "nothing booked"
        );
    });
}

/// A sale checks its session inside its first trip to the database (docs/architecture.md,
/// "Scale"); what the terminal is told, and in which order, is as before: a dead session is
/// told so whatever the body says, and a live one's refused sale leaves nothing held.
#[test]
fn r1_r9_a_sale_is_told_its_session_is_dead_before_anything_about_its_body() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        let dead = c.token.clone();
        c.resign_in();
        let with = |field: &str, value: Value| {
            let mut body = sale_body(&rid(), 7, 100, CARD);
            body[field] = value;
            body
        };
        let bodies = [
            sale_body(&rid(), 7, 100, CARD),
            json!({"kind": "sale"}),
            with("amount", json!(0)),
            with("currency", json!("USD")),
            with("card", json!({"pan": "4111111111111112", "expiry": "0120"})),
        ];
        for body in &bodies {
            let (st, res) = c.host.post("/v1/transactions", Some(&dead), body);
            assert_eq!((st, code(&res)), (401, "SESSION_EXPIRED"), "{body}: {res}");
        }
        // The live session's sale in the wrong currency is refused after its first trip, which
        // is rolled back: the next sale, with the same trace number, goes through.
        let (st, res) = c.host.post("/v1/transactions", Some(&c.token), &bodies[3]);
        assert_eq!((st, code(&res)), (422, "BAD_REQUEST"), "{res}");
        let (st, res) = c.tx(&sale_body(&rid(), 7, 100, CARD));
        assert_eq!(
            (st, res["status"].as_str()),
            (200, Some("approved")),
            "{res}"
        );
    });
}

/// A session that outlived its 12 hours without being ended is dead (R1): a sale, which checks
/// it in its first trip, and a read, which checks it on its own, are both told so.
#[test]
fn r1_a_session_past_its_time_is_expired_for_a_sale_and_for_a_read() {
    each_backend(|b| {
        let c = Counter::new(b);
        c.db.exec("UPDATE sessions SET expires_at = 1").unwrap();
        let (st, res) = c.tx(&sale_body(&rid(), 7, 100, CARD));
        assert_eq!((st, code(&res)), (401, "SESSION_EXPIRED"), "{res}");
        let (st, res) = c.host.get("/v1/batches/current", Some(&c.token));
        assert_eq!((st, code(&res)), (401, "SESSION_EXPIRED"), "{res}");
    });
}
