//! The host over HTTP, one test per rule of docs/rules.md, on SQLite and (when configured)
//! PostgreSQL. Each test starts the real binary with its own database.

mod common;

use common::*;
use serde_json::{json, Value};
use softpos::protocol::{EntryKind, EntryStatus};
use softpos::terminal::journal::Journal;
use std::time::{Duration, Instant};

#[test]
fn r17_activation_code_is_single_use_and_a_new_one_replaces_the_key() {
    each_backend(|b| {
        let db = Db::new(b);
        let code = db.add_terminal(MERCHANT, TERMINAL);
        db.add_operator(MERCHANT, "01", OPERATOR_PW);
        let host = Host::start(&db, &[]);
        let activate = |code: &str| {
            host.post(
                "/v1/activate",
                None,
                &json!({"merchant_id": MERCHANT, "terminal_id": TERMINAL, "activation_code": code}),
            )
        };
        let (st, body) = activate("AAAA-BBBB-CCCC-DDDD-EEEE");
        assert_eq!((st, code_of(&body)), (401, "BAD_CREDENTIALS"), "{body}");
        let (st, body) = activate(&code);
        assert_eq!(st, 200, "{body}");
        let key = body["terminal_key"].as_str().unwrap().to_owned();
        assert!(key.len() >= 32, "at least 128 bits");
        let (st, body) = activate(&code);
        assert_eq!(
            (st, code_of(&body)),
            (401, "BAD_CREDENTIALS"),
            "single use: {body}"
        );
        // The code belongs to this terminal only.
        let (st, body) = host.post(
            "/v1/activate",
            None,
            &json!({"merchant_id": MERCHANT, "terminal_id": "10000002", "activation_code": code}),
        );
        assert_eq!((st, code_of(&body)), (401, "BAD_CREDENTIALS"), "{body}");

        let (st, _) = host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!(st, 200);
        let (st, body) = host.post(
            "/v1/sign-in",
            None,
            &json!({"operator": "01", "password": OPERATOR_PW}),
        );
        assert_eq!(
            (st, code_of(&body)),
            (401, "BAD_CREDENTIALS"),
            "no key: {body}"
        );
        let (st, body) = host.sign_in("not-a-key", "01", OPERATOR_PW);
        assert_eq!((st, code_of(&body)), (401, "BAD_CREDENTIALS"), "{body}");

        // Re-provisioning issues a new code; activating it replaces the old key.
        let code2 = db.add_terminal(MERCHANT, TERMINAL);
        assert_ne!(code, code2);
        let key2 = host.activate(MERCHANT, TERMINAL, &code2);
        let (st, body) = host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!(
            (st, code_of(&body)),
            (401, "BAD_CREDENTIALS"),
            "old key: {body}"
        );
        let (st, body) = host.sign_in(&key2, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{body}");
        for field in ["session_token", "expires_at", "business_date", "currency"] {
            assert!(body[field].is_string(), "{field}: {body}");
        }
        assert_eq!(body["batch_no"], 1);
        assert_eq!(body["next_trace_no"], 1);
        assert_eq!(body["closed_batches"], json!([]));
    });
}

fn code_of(body: &Value) -> &str {
    code(body)
}

#[test]
fn r16_three_wrong_passwords_lock_the_operator() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        // The supervisor is an operator too and may sign in.
        let (st, body) = c.host.sign_in(&c.key, "00", SUPERVISOR_PW);
        assert_eq!(st, 200, "{body}");
        c.token = body["session_token"].as_str().unwrap().to_owned();
        let h = &c.host;
        // Wrong supervisor passwords on voids count toward the supervisor's lockout.
        let (_, sale) = c.sale(100, CARD);
        let t = sale["trace_no"].as_u64().unwrap();
        for i in 0..3 {
            let (st, body) = c.tx(&void_body(c.trace(), t, 100, Some("not-the-supervisor")));
            assert_eq!(
                (st, code(&body)),
                (403, "SUPERVISOR_REQUIRED"),
                "{i}: {body}"
            );
        }
        let (st, body) = c.tx(&void_body(c.trace(), t, 100, Some(SUPERVISOR_PW)));
        assert_eq!(
            (st, code(&body)),
            (403, "SUPERVISOR_REQUIRED"),
            "locked: {body}"
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains(" s"),
            "{body}"
        );
        assert_eq!(h.sign_in(&c.key, "00", SUPERVISOR_PW).0, 423);
        // A right password resets the count.
        for _ in 0..2 {
            let (st, body) = h.sign_in(&c.key, "01", "wrong-pw");
            assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
        }
        assert_eq!(h.sign_in(&c.key, "01", OPERATOR_PW).0, 200);
        for _ in 0..2 {
            assert_eq!(h.sign_in(&c.key, "01", "wrong-pw").0, 401);
        }
        let (st, body) = h.sign_in(&c.key, "01", "wrong-pw");
        assert_eq!((st, code(&body)), (423, "OPERATOR_LOCKED"), "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("900 s"),
            "{body}"
        );
        let (st, body) = h.sign_in(&c.key, "01", OPERATOR_PW);
        assert_eq!(
            (st, code(&body)),
            (423, "OPERATOR_LOCKED"),
            "still locked: {body}"
        );
        // Unknown operators look like wrong passwords.
        let (st, body) = h.sign_in(&c.key, "42", OPERATOR_PW);
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
    });
}

#[test]
fn r1_session_calls_need_a_live_session() {
    each_backend(|b| {
        let c = Counter::new(b);
        let h = &c.host;
        let sale = sale_body(&rid(), 1, 100, CARD);
        let posts: [(&str, Value); 5] = [
            ("/v1/transactions", sale.clone()),
            ("/v1/reversals", json!({"request_id": rid()})),
            (
                "/v1/settlements",
                json!({"request_id": rid(), "batch_no": 1, "terminal_totals": totals(1, (0, 0), (0, 0), (0, 0))}),
            ),
            (
                "/v1/settlements/1/upload",
                json!({"request_id": rid(), "entries": []}),
            ),
            ("/v1/sign-off", json!({})),
        ];
        for (path, body) in &posts {
            let (st, ans) = h.post(path, None, body);
            assert_eq!((st, code(&ans)), (401, "NOT_SIGNED_IN"), "{path}: {ans}");
            let (st, ans) = h.post(path, Some("no-such-token"), body);
            assert_eq!((st, code(&ans)), (401, "SESSION_EXPIRED"), "{path}: {ans}");
        }
        let (st, ans) = h.get("/v1/batches/current", None);
        assert_eq!((st, code(&ans)), (401, "NOT_SIGNED_IN"), "{ans}");
        // The terminal key is not a session token.
        let (st, ans) = h.post("/v1/transactions", Some(&c.key), &sale);
        assert_eq!((st, code(&ans)), (401, "SESSION_EXPIRED"), "{ans}");
        // A new sign-in ends the terminal's previous session.
        let old = c.token.clone();
        let (st, _) = h.sign_in(&c.key, "01", OPERATOR_PW);
        assert_eq!(st, 200);
        let (st, ans) = h.get("/v1/batches/current", Some(&old));
        assert_eq!((st, code(&ans)), (401, "SESSION_EXPIRED"), "{ans}");
    });
}

#[test]
fn r5_approved_sales_count_and_declined_ones_do_not() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (st, ok) = c.sale(1250, CARD);
        assert_eq!(st, 200, "{ok}");
        assert_eq!(ok["status"], "approved");
        assert_eq!(ok["response_code"], "00");
        assert_eq!(ok["rrn"].as_str().unwrap().len(), 12);
        assert_eq!(ok["auth_code"].as_str().unwrap().len(), 6);
        assert_eq!(ok["masked_pan"], "411111******1111");
        assert_eq!(ok["batch_no"], 1);
        let mut rrns = vec![ok["rrn"].clone()];
        for (pan, rc) in [
            ("4000000000000002", "05"),
            ("4000000000009995", "51"),
            ("4000000000000069", "54"),
        ] {
            let (st, d) = c.sale(999, pan);
            assert_eq!(st, 200, "{d}");
            assert_eq!(
                (d["status"].as_str(), d["response_code"].as_str()),
                (Some("declined"), Some(rc))
            );
            assert!(d["auth_code"].is_null(), "{d}");
            assert_eq!(
                d["rrn"].as_str().unwrap().len(),
                12,
                "every answer gets an RRN"
            );
            rrns.push(d["rrn"].clone());
        }
        rrns.sort_by_key(|v| v.to_string());
        rrns.dedup();
        assert_eq!(rrns.len(), 4, "RRNs are unique");
        let (st, ok2) = c.sale(750, "6212345678901232");
        assert_eq!((st, ok2["status"].as_str()), (200, Some("approved")));
        let cur = c.current();
        assert_eq!(cur["status"], "open");
        assert_eq!(
            sums(&cur["host_totals"]),
            totals(1, (2, 2000), (0, 0), (0, 0))
        );
    });
}

#[test]
fn r3_r4_invalid_amounts_cards_and_requests_are_refused() {
    each_backend(|b| {
        let c = Counter::new(b);
        for amount in [0i64, -1, 100_000_000_000] {
            let (st, body) = c.tx(&sale_body(&rid(), 1, amount, CARD));
            assert_eq!(
                (st, code(&body)),
                (422, "INVALID_AMOUNT"),
                "{amount}: {body}"
            );
        }
        let mut float = sale_body(&rid(), 1, 1, CARD);
        float["amount"] = json!(1.5);
        let (st, body) = c.tx(&float);
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        for (pan, expiry) in [
            ("4111111111111112", EXPIRY),
            ("41111", EXPIRY),
            (CARD, "01/20"),
            (CARD, "13/30"),
        ] {
            let mut req = sale_body(&rid(), 1, 100, pan);
            req["card"]["expiry"] = json!(expiry);
            let (st, body) = c.tx(&req);
            assert_eq!(
                (st, code(&body)),
                (422, "INVALID_CARD"),
                "{pan} {expiry}: {body}"
            );
            assert!(
                !body.to_string().contains(pan) || pan.len() < 6,
                "never echoed"
            );
        }
        let mut no_card = sale_body(&rid(), 1, 100, CARD);
        no_card.as_object_mut().unwrap().remove("card");
        assert_eq!(code(&c.tx(&no_card).1), "INVALID_CARD");
        let mut usd = sale_body(&rid(), 1, 100, CARD);
        usd["currency"] = json!("USD");
        assert_eq!(
            c.tx(&usd),
            (
                422,
                json!({"error": {"code": "BAD_REQUEST", "message": "Bad request: this terminal takes CNY only"}})
            )
        );
        let (st, body) = c.tx(&sale_body("not-a-uuid", 1, 100, CARD));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        let (st, body) = c.tx(&sale_body(&rid(), 0, 100, CARD));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "trace 0: {body}");
        let mut extra = sale_body(&rid(), 1, 100, CARD);
        extra["tip"] = json!(5);
        let (st, body) = c.tx(&extra);
        assert_eq!(
            (st, code(&body)),
            (422, "BAD_REQUEST"),
            "unknown field: {body}"
        );
        // A card number sent as a number is malformed, and its digits are not echoed back.
        let mut numeric = sale_body(&rid(), 1, 100, CARD);
        numeric["card"]["pan"] = json!(4111111111111111u64);
        let (st, body) = c.tx(&numeric);
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        assert!(!body.to_string().contains(CARD), "{body}");
        // A trace number is used once per batch.
        assert_eq!(c.tx(&sale_body(&rid(), 7, 100, CARD)).0, 200);
        let (st, body) = c.tx(&sale_body(&rid(), 7, 100, CARD));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        assert_eq!(c.current()["host_totals"]["sale"]["count"], 1);
    });
}

#[test]
fn r9_a_retry_gets_the_first_answer_and_a_changed_body_conflicts() {
    each_backend(|b| {
        let c = Counter::new(b);
        let id = rid();
        let first = c.tx(&sale_body(&id, 1, 500, CARD));
        assert_eq!(first.0, 200);
        let again = c.tx(&sale_body(&id, 1, 500, CARD));
        assert_eq!(first, again, "same answer, not a second charge");
        let (st, body) = c.tx(&sale_body(&id, 1, 501, CARD));
        assert_eq!((st, code(&body)), (409, "IDEMPOTENCY_CONFLICT"), "{body}");
        assert_eq!(
            c.current()["host_totals"]["sale"],
            json!({"count": 1, "amount": 500})
        );

        let settle = json!({"request_id": rid(), "batch_no": 1, "terminal_totals": totals(1, (1, 500), (0, 0), (0, 0))});
        let s1 = c.host.post("/v1/settlements", Some(&c.token), &settle);
        assert_eq!(s1.0, 200, "{}", s1.1);
        assert_eq!(s1.1["outcome"], "balanced");
        let s2 = c.host.post("/v1/settlements", Some(&c.token), &settle);
        assert_eq!(s1, s2, "a retried settlement settles once");
        assert_eq!(c.current()["batch_no"], 2);
        let mut changed = settle.clone();
        changed["terminal_totals"]["sale"]["count"] = json!(2);
        let (st, body) = c.host.post("/v1/settlements", Some(&c.token), &changed);
        assert_eq!((st, code(&body)), (409, "IDEMPOTENCY_CONFLICT"), "{body}");

        // The same request four times at once: one sale, every answer the same or BUSY.
        let twin = sale_body(&rid(), 2, 250, CARD);
        let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4).map(|_| s.spawn(|| c.tx(&twin))).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let oks: Vec<_> = answers.iter().filter(|a| a.0 == 200).collect();
        assert!(!oks.is_empty(), "{answers:?}");
        assert!(oks.iter().all(|a| a.1 == oks[0].1), "{answers:?}");
        assert!(
            answers.iter().all(|a| a.0 == 200 || code(&a.1) == "BUSY"),
            "{answers:?}"
        );
        assert_eq!(
            c.current()["host_totals"]["sale"],
            json!({"count": 1, "amount": 250})
        );

        let off = json!({"request_id": rid(), "settle": false});
        let o1 = c.host.post("/v1/sign-off", Some(&c.token), &off);
        assert_eq!(o1.0, 200, "{}", o1.1);
        let o2 = c.host.post("/v1/sign-off", Some(&c.token), &off);
        assert_eq!(o1, o2, "a retried sign-off answers the same");
        let (st, body) = c.host.post(
            "/v1/sign-off",
            Some(&c.token),
            &json!({"request_id": rid()}),
        );
        assert_eq!((st, code(&body)), (401, "SESSION_EXPIRED"), "{body}");
    });
}

fn void_body(trace_no: u32, original: u64, amount: i64, password: Option<&str>) -> Value {
    let mut v = json!({"request_id": rid(), "kind": "void", "trace_no": trace_no, "amount": amount,
        "currency": "CNY", "original": {"trace_no": original}});
    if let Some(p) = password {
        v["supervisor_password"] = json!(p);
    }
    v
}

fn refund_body(trace_no: u32, rrn: &str, amount: i64, password: Option<&str>) -> Value {
    let mut v = json!({"request_id": rid(), "kind": "refund", "trace_no": trace_no, "amount": amount,
        "currency": "CNY", "original": {"rrn": rrn}});
    if let Some(p) = password {
        v["supervisor_password"] = json!(p);
    }
    v
}

#[test]
fn r6_void_needs_the_supervisor_the_full_amount_and_the_open_batch() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (_, sale) = c.sale(3000, CARD);
        let t = sale["trace_no"].as_u64().unwrap();
        let (st, body) = c.tx(&void_body(c.trace(), t, 3000, None));
        assert_eq!((st, code(&body)), (403, "SUPERVISOR_REQUIRED"), "{body}");
        let (st, body) = c.tx(&void_body(c.trace(), t, 3000, Some("not-it")));
        assert_eq!((st, code(&body)), (403, "SUPERVISOR_REQUIRED"), "{body}");
        let (st, body) = c.tx(&void_body(c.trace(), 4242, 3000, Some(SUPERVISOR_PW)));
        assert_eq!((st, code(&body)), (404, "UNKNOWN_TRANSACTION"), "{body}");
        let (st, body) = c.tx(&void_body(c.trace(), t, 2999, Some(SUPERVISOR_PW)));
        assert_eq!((st, code(&body)), (422, "INVALID_AMOUNT"), "{body}");
        let (st, void) = c.tx(&void_body(c.trace(), t, 3000, Some(SUPERVISOR_PW)));
        assert_eq!(
            (st, void["status"].as_str()),
            (200, Some("approved")),
            "{void}"
        );
        assert_eq!(void["masked_pan"], "411111******1111");
        let (st, body) = c.tx(&void_body(c.trace(), t, 3000, Some(SUPERVISOR_PW)));
        assert_eq!((st, code(&body)), (409, "ALREADY_VOIDED"), "{body}");
        // A voided sale stays in the sale totals and adds to the void totals.
        let (_, other) = c.sale(700, CARD);
        let cur = c.current();
        assert_eq!(
            sums(&cur["host_totals"]),
            totals(1, (2, 3700), (1, 3000), (0, 0))
        );
        // A voided sale cannot be refunded.
        let rrn = sale["rrn"].as_str().unwrap();
        let (st, body) = c.tx(&refund_body(c.trace(), rrn, 100, Some(SUPERVISOR_PW)));
        assert_eq!((st, code(&body)), (409, "ALREADY_VOIDED"), "{body}");

        let settle =
            json!({"request_id": rid(), "batch_no": 1, "terminal_totals": cur["host_totals"]});
        assert_eq!(
            c.host.post("/v1/settlements", Some(&c.token), &settle).1["outcome"],
            "balanced"
        );
        let t2 = other["trace_no"].as_u64().unwrap();
        let (st, body) = c.tx(&void_body(c.trace(), t2, 700, Some(SUPERVISOR_PW)));
        assert_eq!(
            (st, code(&body)),
            (409, "VOID_NOT_ALLOWED_SETTLED"),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("refund"),
            "{body}"
        );
    });
}

#[test]
fn r7_refund_limit_holds_across_two_terminals() {
    each_backend(|b| {
        let c = Counter::new(b);
        let code2 = c.db.add_terminal(MERCHANT, "10000002");
        let key2 = c.host.activate(MERCHANT, "10000002", &code2);
        let (st, s2) = c.host.sign_in(&key2, "01", OPERATOR_PW);
        assert_eq!(st, 200);
        let token2 = s2["session_token"].as_str().unwrap().to_owned();
        let tx2 = |body: &Value| c.host.post("/v1/transactions", Some(&token2), body);

        let (_, sale) = c.sale(1000, CARD);
        let rrn = sale["rrn"].as_str().unwrap().to_owned();
        let (st, body) = tx2(&refund_body(1, &rrn, 600, None));
        assert_eq!((st, code(&body)), (403, "SUPERVISOR_REQUIRED"), "{body}");
        let (st, r1) = tx2(&refund_body(1, &rrn, 600, Some(SUPERVISOR_PW)));
        assert_eq!((st, r1["status"].as_str()), (200, Some("approved")), "{r1}");
        let (st, body) = c.tx(&refund_body(c.trace(), &rrn, 401, Some(SUPERVISOR_PW)));
        assert_eq!(
            (st, code(&body)),
            (422, "REFUND_EXCEEDS_ORIGINAL"),
            "{body}"
        );
        let (st, body) = c.tx(&refund_body(
            c.trace(),
            "999999999999",
            1,
            Some(SUPERVISOR_PW),
        ));
        assert_eq!((st, code(&body)), (404, "UNKNOWN_TRANSACTION"), "{body}");

        // Concurrent refunds from both terminals: never more than what is left (400).
        let results: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|i| {
                    let rrn = rrn.clone();
                    let token = if i % 2 == 0 {
                        c.token.clone()
                    } else {
                        token2.clone()
                    };
                    let trace = 100 + i;
                    let host = &c.host;
                    s.spawn(move || {
                        host.post(
                            "/v1/transactions",
                            Some(&token),
                            &refund_body(trace, &rrn, 150, Some(SUPERVISOR_PW)),
                        )
                        .0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|&&s| s == 200).count(),
            2,
            "{results:?}"
        );
        assert_eq!(
            results.iter().filter(|&&s| s == 422).count(),
            4,
            "{results:?}"
        );
        let refunded = c.current()["host_totals"]["refund"]["amount"]
            .as_i64()
            .unwrap()
            + c.host.get("/v1/batches/current", Some(&token2)).1["host_totals"]["refund"]["amount"]
                .as_i64()
                .unwrap();
        assert_eq!(refunded, 900);
        let cur = c.current();
        assert_eq!(
            cur["host_totals"]["net_amount"],
            1000 - cur["host_totals"]["refund"]["amount"].as_i64().unwrap()
        );
    });
}

#[test]
fn r8_reversal_undoes_and_a_tombstone_refuses_the_late_original() {
    each_backend(|b| {
        let c = Counter::new(b);
        let id = rid();
        let rev = |id: &str| {
            c.host
                .post("/v1/reversals", Some(&c.token), &json!({"request_id": id}))
        };
        assert_eq!(
            rev(&id),
            (200, json!({"request_id": id, "reversed": false}))
        );
        let (st, body) = c.tx(&sale_body(&id, c.trace(), 800, CARD));
        assert_eq!(
            (st, code(&body)),
            (409, "BAD_REQUEST"),
            "late original: {body}"
        );
        assert_eq!(rev(&id).1["reversed"], false, "idempotent");

        let id2 = rid();
        assert_eq!(c.tx(&sale_body(&id2, c.trace(), 900, CARD)).0, 200);
        assert_eq!(c.current()["host_totals"]["sale"]["amount"], 900);
        assert_eq!(
            rev(&id2),
            (200, json!({"request_id": id2, "reversed": true}))
        );
        assert_eq!(rev(&id2).1["reversed"], true, "idempotent");
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (0, 0), (0, 0), (0, 0))
        );

        // Reversing a void gives the sale back to be voided again.
        let (_, sale) = c.sale(400, CARD);
        let v = void_body(
            c.trace(),
            sale["trace_no"].as_u64().unwrap(),
            400,
            Some(SUPERVISOR_PW),
        );
        assert_eq!(c.tx(&v).0, 200);
        assert_eq!(rev(v["request_id"].as_str().unwrap()).1["reversed"], true);
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (1, 400), (0, 0), (0, 0))
        );
        let (st, body) = c.tx(&void_body(
            c.trace(),
            sale["trace_no"].as_u64().unwrap(),
            400,
            Some(SUPERVISOR_PW),
        ));
        assert_eq!(st, 200, "{body}");
        let (st, body) = c
            .host
            .post("/v1/reversals", Some(&c.token), &json!({"request_id": "x"}));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
    });
}

#[test]
fn r8_reversal_wins_the_race_with_the_held_back_card() {
    each_backend(|b| {
        let c = Counter::new(b);
        let id = rid();
        let slow = sale_body(&id, c.trace(), 3220, "4000000000003220");
        std::thread::scope(|s| {
            let started = Instant::now();
            let pending = s.spawn(|| c.tx(&slow));
            std::thread::sleep(Duration::from_millis(200));
            // The held-back answer blocks nothing else.
            let t0 = Instant::now();
            let (st, other) = c.sale(100, CARD);
            assert_eq!(st, 200, "{other}");
            assert!(t0.elapsed() < Duration::from_secs(10));
            // A retry while the first is in flight is BUSY, not a second charge.
            let (st, body) = c.tx(&slow);
            assert_eq!((st, code(&body)), (409, "BUSY"), "{body}");
            // The terminal gave up waiting: it reverses.
            let (st, rev) =
                c.host
                    .post("/v1/reversals", Some(&c.token), &json!({"request_id": id}));
            assert_eq!((st, rev["reversed"].as_bool()), (200, Some(true)), "{rev}");
            let (st, late) = pending.join().unwrap();
            assert!(started.elapsed() >= Duration::from_secs(29));
            assert_eq!((st, code(&late)), (409, "BAD_REQUEST"), "{late}");
        });
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (1, 100), (0, 0), (0, 0)),
            "the reversed sale counts nowhere"
        );
        let (st, body) = c.tx(&slow);
        assert_eq!((st, code(&body)), (409, "BAD_REQUEST"), "{body}");
    });
}

#[test]
fn r21_the_host_splits_its_totals_by_card_origin_and_settles_on_both_halves() {
    each_backend(|b| {
        let c = Counter::new(b);
        c.sale(1000, "6212345678901232");
        let (_, visa) = c.sale(600, CARD);
        // The void names no card: it counts in its sale's half.
        let t = visa["trace_no"].as_u64().unwrap();
        let (st, v) = c.tx(&void_body(c.trace(), t, 600, Some(SUPERVISOR_PW)));
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["masked_pan"], "411111******1111");
        let host = c.current()["host_totals"].clone();
        assert_eq!(
            host["domestic"]["sale"],
            json!({"count": 1, "amount": 1000})
        );
        assert_eq!(host["domestic"]["void"], json!({"count": 0, "amount": 0}));
        assert_eq!(host["foreign"]["sale"], json!({"count": 1, "amount": 600}));
        assert_eq!(host["foreign"]["void"], json!({"count": 1, "amount": 600}));
        assert_eq!(
            (
                host["domestic"]["net_amount"].as_i64(),
                host["foreign"]["net_amount"].as_i64()
            ),
            (Some(1000), Some(0))
        );
        // The same sums with the halves swapped are unbalanced.
        let mut swapped = host.clone();
        swapped["domestic"] = host["foreign"].clone();
        swapped["foreign"] = host["domestic"].clone();
        let (st, s) = c.host.post(
            "/v1/settlements",
            Some(&c.token),
            &json!({"request_id": rid(), "batch_no": 1, "terminal_totals": swapped}),
        );
        assert_eq!(st, 200, "{s}");
        assert_eq!(s["outcome"], "unbalanced", "{s}");
    });
}

#[test]
fn r11_settlement_balanced_then_unbalanced_with_batch_upload() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (_, a) = c.sale(1000, CARD);
        let settle = |batch: u64, t: Value| {
            c.host.post(
                "/v1/settlements",
                Some(&c.token),
                &json!({"request_id": rid(), "batch_no": batch, "terminal_totals": t}),
            )
        };
        let (st, s1) = settle(1, totals(1, (1, 1000), (0, 0), (0, 0)));
        assert_eq!(st, 200, "{s1}");
        assert_eq!(
            (s1["outcome"].as_str(), s1["next_batch_no"].as_u64()),
            (Some("balanced"), Some(2))
        );
        // The simulator settles each batch with the host at once, and agrees (R11's second level).
        assert_eq!(s1["acquirer_outcome"], "balanced", "{s1}");
        // Settling it again (another request id) answers what the first did.
        assert_eq!(settle(1, totals(1, (9, 9), (0, 0), (0, 0))).1, s1);
        let (st, body) = c.host.post(
            "/v1/settlements/1/upload",
            Some(&c.token),
            &json!({"request_id": rid(), "entries": []}),
        );
        assert_eq!(
            (st, code(&body)),
            (422, "BAD_REQUEST"),
            "a balanced batch takes no upload: {body}"
        );
        let (st, body) = settle(77, totals(77, (0, 0), (0, 0), (0, 0)));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        drop(a);

        // Batch 2: the host has x and y; the terminal has x and z (z never reached the host).
        let x = rid();
        let y = rid();
        let z = rid();
        assert_eq!(c.tx(&sale_body(&x, 10, 500, CARD)).0, 200);
        assert_eq!(c.tx(&sale_body(&y, 11, 300, CARD)).0, 200);
        let (st, s2) = settle(2, totals(2, (2, 700), (0, 0), (0, 0)));
        assert_eq!(st, 200, "{s2}");
        assert_eq!(s2["outcome"], "unbalanced");
        assert_eq!(
            sums(&s2["host_totals"]),
            totals(2, (2, 800), (0, 0), (0, 0))
        );
        assert_eq!(s2["next_batch_no"], 3);
        assert_eq!(s2["acquirer_outcome"], "balanced", "{s2}");

        let mut journal = Journal::new(MERCHANT, TERMINAL, 2);
        entry(
            &mut journal,
            &x,
            EntryKind::Sale,
            10,
            500,
            EntryStatus::Approved,
        );
        entry(
            &mut journal,
            &z,
            EntryKind::Sale,
            12,
            200,
            EntryStatus::Approved,
        );
        let entries = journal.entries().to_vec();
        let mut tampered = entries.clone();
        tampered[0].amount = 501;
        let upload = |entries: &Value, id: &str| {
            c.host.post(
                "/v1/settlements/2/upload",
                Some(&c.token),
                &json!({"request_id": id, "entries": entries}),
            )
        };
        let (st, body) = upload(&json!(tampered), &rid());
        assert_eq!((st, code(&body)), (422, "JOURNAL_TAMPERED"), "{body}");
        let up_id = rid();
        let (st, up) = upload(&json!(entries), &up_id);
        assert_eq!(st, 200, "{up}");
        assert_eq!(up["outcome"], "unbalanced");
        assert_eq!(
            sums(&up["host_totals"]),
            totals(2, (2, 800), (0, 0), (0, 0)),
            "the host's record stands"
        );
        assert_eq!(up["next_batch_no"], 3);
        assert_eq!(up["acquirer_outcome"], "balanced", "{up}");
        assert_eq!(
            up["discrepancies"],
            json!([
                {"request_id": y, "trace_no": 11, "kind": "missing_on_terminal"},
                {"request_id": z, "trace_no": 12, "kind": "missing_on_host"},
            ])
        );
        assert_eq!(upload(&json!(entries), &up_id), (200, up.clone()), "retry");
        let (st, body) = upload(&json!([]), &up_id);
        assert_eq!((st, code(&body)), (409, "IDEMPOTENCY_CONFLICT"), "{body}");
        // Settled batches stay settled: its sales cannot be voided.
        let (st, body) = c.tx(&void_body(c.trace() + 20, 10, 500, Some(SUPERVISOR_PW)));
        assert_eq!(
            (st, code(&body)),
            (409, "VOID_NOT_ALLOWED_SETTLED"),
            "{body}"
        );
        assert_eq!(c.current()["batch_no"], 3);
    });
}

#[test]
fn r12_sign_off_ends_the_session_and_refuses_to_skip_settlement() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        assert_eq!(c.sale(100, CARD).0, 200);
        let (st, body) = c
            .host
            .post("/v1/sign-off", Some(&c.token), &json!({"settle": true}));
        assert_eq!(
            (st, code(&body)),
            (409, "BAD_REQUEST"),
            "settle first: {body}"
        );
        let (st, body) = c
            .host
            .post("/v1/sign-off", Some(&c.token), &json!({"settle": false}));
        assert_eq!(st, 200, "{body}");
        assert!(body["signed_off_at"].is_string());
        let (st, body) = c.host.get("/v1/batches/current", Some(&c.token));
        assert_eq!((st, code(&body)), (401, "SESSION_EXPIRED"), "{body}");
        let (st, body) = c.sale(100, CARD);
        assert_eq!((st, code(&body)), (401, "SESSION_EXPIRED"), "{body}");
        // The batch stayed open with its sale.
        c.resign_in();
        assert_eq!(c.current()["host_totals"]["sale"]["count"], 1);
        let settle = json!({"request_id": rid(), "batch_no": 1, "terminal_totals": totals(1, (1, 100), (0, 0), (0, 0))});
        assert_eq!(
            c.host.post("/v1/settlements", Some(&c.token), &settle).0,
            200
        );
        let (st, body) = c
            .host
            .post("/v1/sign-off", Some(&c.token), &json!({"settle": true}));
        assert_eq!(st, 200, "nothing left to settle: {body}");
    });
}

#[test]
fn r14_sign_in_tells_the_terminal_the_time_zone_of_the_business_day() {
    // The terminal compares and shows dates on this clock (docs/browser.md): the zone given
    // to `serve`, and its offset from UTC now, in minutes east.
    each_backend(|b| {
        let c = Counter::with_args(b, &["--timezone", "Asia/Kolkata"]);
        let (st, body) = c.host.sign_in(&c.key, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["timezone"], "Asia/Kolkata", "{body}");
        assert_eq!(body["utc_offset_minutes"], 330, "{body}");
    });
}

#[test]
fn r15_cutoff_closes_batches_ends_sessions_and_reports_them_at_sign_in() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        let (_, sale) = c.sale(1500, CARD);
        let first_date = c.current()["business_date"].as_str().unwrap().to_owned();
        let out = c.db.cutoff();
        assert!(out.contains("1 batches closed"), "{out}");
        let (st, body) = c.host.get("/v1/batches/current", Some(&c.token));
        assert_eq!((st, code(&body)), (401, "SESSION_EXPIRED"), "{body}");
        let signed = c.resign_in();
        assert_eq!(signed["batch_no"], 2);
        assert_ne!(signed["business_date"], first_date);
        let closed = signed["closed_batches"].as_array().unwrap();
        assert_eq!(closed.len(), 1, "{signed}");
        let mut batch = closed[0].clone();
        batch["host_totals"] = sums(&batch["host_totals"]);
        assert_eq!(
            batch,
            json!({"batch_no": 1, "business_date": first_date, "host_totals": totals(1, (1, 1500), (0, 0), (0, 0))})
        );
        // A sale in a batch closed by the host cannot be voided any more.
        let (st, body) = c.tx(&void_body(
            c.trace(),
            sale["trace_no"].as_u64().unwrap(),
            1500,
            Some(SUPERVISOR_PW),
        ));
        assert_eq!(
            (st, code(&body)),
            (409, "VOID_NOT_ALLOWED_SETTLED"),
            "{body}"
        );
        assert_eq!(c.current()["batch_no"], 2);
        // R14: the terminal reconciles the closed batch; it is no longer reported.
        let settle = json!({"request_id": rid(), "batch_no": 1, "terminal_totals": totals(1, (1, 1500), (0, 0), (0, 0))});
        let (st, s) = c.host.post("/v1/settlements", Some(&c.token), &settle);
        assert_eq!(
            (st, s["outcome"].as_str(), s["next_batch_no"].as_u64()),
            (200, Some("balanced"), Some(2)),
            "{s}"
        );
        assert_eq!(c.resign_in()["closed_batches"], json!([]));
        // An empty batch is not closed by a cut-off.
        let out = c.db.cutoff();
        assert!(out.contains("0 batches closed"), "{out}");
        assert_eq!(c.resign_in()["batch_no"], 2);
    });
}

#[test]
fn r17_json_only_size_limits_cors_and_json_errors_everywhere() {
    each_backend(|b| {
        let c = Counter::with_args(b, &["--allow-origin", "http://shop.example"]);
        let h = &c.host;
        let res = h
            .http
            .post(h.url("/v1/activate"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .unwrap();
        let (st, body) = answer(res);
        assert_eq!((st, code(&body)), (415, "BAD_REQUEST"), "{body}");
        let big = "x".repeat(70 * 1024);
        let (st, body) = h.post(
            "/v1/transactions",
            Some(&c.token),
            &json!({"request_id": big}),
        );
        assert_eq!((st, code(&body)), (413, "BAD_REQUEST"), "{body}");
        // The upload takes far more than 64 KiB.
        let (st, body) = h.post(
            "/v1/settlements/1/upload",
            Some(&c.token),
            &json!({"request_id": rid(), "entries": [], "pad": "x".repeat(1 << 20)}),
        );
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        let (st, body) = h.post("/v1/activate", None, &json!({"merchant_id": 1}));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        let (st, body) = h.get("/v1/no-such-route", None);
        assert_eq!((st, code(&body)), (404, "BAD_REQUEST"), "{body}");
        let (st, body) = h.get("/v1/transactions", Some(&c.token));
        assert_eq!((st, code(&body)), (405, "BAD_REQUEST"), "{body}");
        assert_eq!(h.get("/healthz", None), (200, json!({"ok": true})));
        let (st, doc) = h.get("/v1/openapi.json", None);
        assert_eq!(st, 200);
        for path in [
            "/v1/activate",
            "/v1/sign-in",
            "/v1/transactions",
            "/v1/reversals",
            "/v1/batches/current",
            "/v1/settlements",
            "/v1/settlements/{batch_no}/upload",
            "/v1/sign-off",
            "/healthz",
        ] {
            assert!(doc["paths"][path].is_object(), "{path}");
        }

        let preflight = |origin: &str| {
            h.http
                .request(reqwest::Method::OPTIONS, h.url("/v1/transactions"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                )
                .send()
                .unwrap()
        };
        let ok = preflight("http://shop.example");
        assert_eq!(
            ok.headers().get("access-control-allow-origin").unwrap(),
            "http://shop.example"
        );
        let allowed = ok
            .headers()
            .get("access-control-allow-headers")
            .unwrap()
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
        assert!(ok
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
        let own = preflight(&h.base);
        assert_eq!(
            own.headers()
                .get("access-control-allow-origin")
                .unwrap()
                .to_str()
                .unwrap(),
            h.base
        );
        let denied = preflight("http://evil.example");
        assert!(denied
            .headers()
            .get("access-control-allow-origin")
            .is_none());
        let res = h
            .http
            .get(h.url("/healthz"))
            .header("origin", "http://evil.example")
            .send()
            .unwrap();
        assert!(res.headers().get("access-control-allow-origin").is_none());
    });
}

#[test]
fn r4_no_card_number_password_or_token_in_the_database_or_the_logs() {
    each_backend(|b| {
        let c = Counter::new(b);
        let pans = ["6212345678901232", "4000000000000002", "5555555555554444"];
        for pan in pans {
            c.sale(100, pan);
        }
        let (_, sale) = c.sale(100, CARD);
        c.tx(&void_body(
            c.trace(),
            sale["trace_no"].as_u64().unwrap(),
            100,
            Some(SUPERVISOR_PW),
        ));
        c.tx(&void_body(c.trace(), 1, 100, Some("wrong-sv-pass")));
        c.host.sign_in(&c.key, "01", "wrong-op-pass");
        c.tx(&sale_body(&rid(), c.trace(), 100, "4111111111111112"));
        let mut haystacks = vec![("logs", c.host.logs())];
        if b == Backend::Sqlite {
            for f in std::fs::read_dir(c.db.dir.path()).unwrap() {
                let path = f.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                haystacks.push((
                    Box::leak(path.display().to_string().into_boxed_str()),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
            assert!(haystacks.len() >= 2, "the database file was read");
        } else {
            let dump = c.db.pg_dump_text();
            assert!(dump.contains("411111******1111"), "the dump has the rows");
            haystacks.push(("database", dump));
        }
        let secrets = [
            CARD,
            "6212345678901232",
            "4000000000000002",
            "5555555555554444",
            "4111111111111112",
            EXPIRY,
            OPERATOR_PW,
            SUPERVISOR_PW,
            "wrong-sv-pass",
            "wrong-op-pass",
            &c.token,
            &c.key,
        ];
        for (name, text) in &haystacks {
            for s in secrets {
                assert!(
                    !text.contains(s),
                    "{name} contains a secret ({} chars)",
                    s.len()
                );
            }
        }
        assert!(
            c.host.logs().contains("transaction answered"),
            "the logs do say what happened"
        );
    });
}

#[test]
fn www_serves_the_pages_and_the_wasm_package() {
    let db = Db::new(Backend::Sqlite);
    let root = db.dir.path();
    std::fs::create_dir_all(root.join("www")).unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("www/index.html"),
        "<!doctype html><title>shop</title>",
    )
    .unwrap();
    std::fs::write(root.join("pkg/softpos_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(
        root.join("pkg/softpos.js"),
        "export default function init() {}",
    )
    .unwrap();
    let www = root.join("www").display().to_string();
    let host = Host::start(&db, &["--www", &www]);
    let get = |path: &str| host.http.get(host.url(path)).send().unwrap();
    let page = get("/");
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("shop"));
    let wasm = get("/pkg/softpos_bg.wasm");
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let js = get("/pkg/softpos.js");
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let (st, body) = answer(get("/missing.html"));
    assert_eq!((st, code(&body)), (404, "BAD_REQUEST"), "{body}");
    let (st, body) = answer(get("/v1/nothing"));
    assert_eq!((st, code(&body)), (404, "BAD_REQUEST"), "{body}");
    assert_eq!(host.get("/healthz", None), (200, json!({"ok": true})));
}

#[test]
fn demo_provisions_idempotently_prints_everything_and_serves() {
    let db = Db::new(Backend::Sqlite);
    let mut codes = Vec::new();
    for _ in 0..2 {
        let mut host = Host::start_command(&db, "demo", &["--allow-origin", "http://shop.example"]);
        let out = host.stdout.lock().unwrap().clone();
        for needle in [
            "898310048160001",
            "10000001",
            "operator 01",
            "supervisor 00",
            "activation code:",
        ] {
            assert!(out.contains(needle), "{needle}: {out}");
        }
        let code = out
            .lines()
            .find_map(|l| l.strip_prefix("activation code:"))
            .unwrap()
            .trim()
            .to_owned();
        let key = host.activate("898310048160001", "10000001", &code);
        let (st, body) = host.sign_in(&key, "01", "0101");
        assert_eq!(st, 200, "{body}");
        let (st, body) = host.sign_in(&key, "00", "123456");
        assert_eq!(st, 200, "{body}");
        // R22: the demo's console user, as printed.
        let console = out
            .lines()
            .find_map(|l| l.strip_prefix("console:"))
            .unwrap_or_else(|| panic!("no console line: {out}"));
        let (user, password) = console
            .trim()
            .strip_prefix("/console/ user ")
            .and_then(|rest| rest.split_once(", password "))
            .unwrap_or_else(|| panic!("{console}"));
        let (st, body) = host.post(
            "/v1/console/sign-in",
            None,
            &json!({"merchant_id": "898310048160001", "user": user, "password": password}),
        );
        assert_eq!(st, 200, "{body}");
        codes.push(code);
        assert!(host.terminate().success(), "graceful shutdown on SIGTERM");
    }
    assert_ne!(codes[0], codes[1], "a fresh activation code each start");
}

#[test]
fn r15_scheduled_cutoff_runs_once_with_two_hosts_on_one_database() {
    // The CLI dates the database with the default 23:00 Shanghai cut-off, so the test's
    // cut-off is in Shanghai time too, and the test stays away from 23:00 and midnight.
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let now = jiff::Timestamp::now().to_zoned(tz);
    if now.hour() >= 22 && now.minute() >= 57 || now.hour() == 23 {
        eprintln!("notice: skipped near the default cut-off and midnight (Shanghai time)");
        return;
    }
    // The next whole minute at least 5 s away.
    let at = (now + jiff::SignedDuration::from_secs(65))
        .strftime("%H:%M")
        .to_string();
    each_backend(move |b| {
        let args = ["--cutoff", at.as_str(), "--timezone", "Asia/Shanghai"];
        let mut c = Counter::with_args(b, &args);
        let other = Host::start(&c.db, &args);
        assert_eq!(c.sale(4200, CARD).0, 200);
        let deadline = Instant::now() + Duration::from_secs(100);
        loop {
            let (st, body) = c.host.get("/v1/batches/current", Some(&c.token));
            if st == 401 {
                assert_eq!(code(&body), "SESSION_EXPIRED");
                break;
            }
            assert!(Instant::now() < deadline, "no cut-off at {at} UTC");
            std::thread::sleep(Duration::from_millis(500));
        }
        let signed = c.resign_in();
        assert_eq!(signed["batch_no"], 2, "closed once, not twice: {signed}");
        let closed = signed["closed_batches"].as_array().unwrap();
        assert_eq!(closed.len(), 1, "{signed}");
        assert_eq!(closed[0]["host_totals"]["net_amount"], 4200);
        drop(other);
    });
}

#[test]
fn r17_cors_refuses_a_wildcard_origin_at_start() {
    let db = Db::new(Backend::Sqlite);
    let out = std::process::Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db.url,
            "--allow-origin",
            "*",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("explicit origins"));
}

#[test]
fn r15_a_host_that_was_down_at_cutoff_time_catches_up_at_start() {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let now = jiff::Timestamp::now().to_zoned(tz);
    // The CLI dates the database with the default 23:00 cut-off; the test needs a cut-off
    // time earlier today that is not 23:00 or later.
    if now.hour() == 0 && now.minute() < 2
        || now.hour() >= 23
        || now.hour() == 22 && now.minute() >= 58
    {
        eprintln!("notice: skipped near midnight or the default cut-off (Shanghai time)");
        return;
    }
    let past = (now - jiff::SignedDuration::from_secs(60))
        .strftime("%H:%M")
        .to_string();
    each_backend(move |b| {
        let mut c = Counter::new(b);
        assert_eq!(c.sale(321, CARD).0, 200);
        let date = c.current()["business_date"].as_str().unwrap().to_owned();
        // A catch-up that fails for a moment (the database busy with the whole suite) is tried
        // again after a second, not the default minute; the deadline is for a loaded machine.
        c.host = Host::start(
            &c.db,
            &[
                "--cutoff",
                &past,
                "--timezone",
                "Asia/Shanghai",
                "--cutoff-retry-secs",
                "1",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(45);
        let signed = loop {
            let signed = c.resign_in();
            if !signed["closed_batches"].as_array().unwrap().is_empty() {
                break signed;
            }
            assert!(
                Instant::now() < deadline,
                "no catch-up cut-off: {signed}\nthe host's log:\n{}",
                c.host.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(signed["closed_batches"][0]["batch_no"], 1);
        assert_eq!(signed["closed_batches"][0]["business_date"], date);
        assert_ne!(signed["business_date"], date);
        assert_eq!(signed["batch_no"], 2);
    });
}

// ===== issue 12, money path: R8, dependents =====

/// Activates and signs in another terminal of the merchant; its session token.
fn second_terminal(c: &Counter, terminal: &str) -> String {
    let code = c.db.add_terminal(MERCHANT, terminal);
    let key = c.host.activate(MERCHANT, terminal, &code);
    let (st, body) = c.host.sign_in(&key, "01", OPERATOR_PW);
    assert_eq!(st, 200, "{body}");
    body["session_token"].as_str().unwrap().to_owned()
}

#[test]
fn r8_a_sale_with_an_approved_refund_or_void_is_not_reversed() {
    each_backend(|b| {
        let c = Counter::new(b);
        let token2 = second_terminal(&c, "10000002");
        let tx2 = |body: &Value| c.host.post("/v1/transactions", Some(&token2), body);
        let rev = |id: &str| {
            c.host
                .post("/v1/reversals", Some(&c.token), &json!({"request_id": id}))
        };
        let totals2 = || c.host.get("/v1/batches/current", Some(&token2)).1["host_totals"].clone();

        // Terminal 1 sells 3000, terminal 2 refunds it by RRN, terminal 1 reverses the sale.
        let id = rid();
        let (st, sale) = c.tx(&sale_body(&id, c.trace(), 3000, CARD));
        assert_eq!(st, 200, "{sale}");
        let rrn = sale["rrn"].as_str().unwrap();
        let (st, body) = tx2(&refund_body(1, rrn, 3000, Some(SUPERVISOR_PW)));
        assert_eq!(st, 200, "{body}");
        let (st, ack) = rev(&id);
        assert_eq!(st, 200, "{ack}");
        assert_eq!(ack["reversed"], false, "{ack}");
        assert_eq!(ack["transaction"], sale, "the sale's own answer stands");
        assert_eq!(rev(&id), (200, ack), "idempotent");
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (1, 3000), (0, 0), (0, 0)),
            "the sale still counts"
        );
        assert_eq!(sums(&totals2()), totals(1, (0, 0), (0, 0), (1, 3000)));

        // A voided sale: the same; the void itself has no dependents and is reversed.
        let id2 = rid();
        let (_, sale2) = c.tx(&sale_body(&id2, c.trace(), 500, CARD));
        let t2 = sale2["trace_no"].as_u64().unwrap();
        let v = void_body(c.trace(), t2, 500, Some(SUPERVISOR_PW));
        assert_eq!(c.tx(&v).0, 200);
        let (_, ack) = rev(&id2);
        assert_eq!(
            (ack["reversed"].clone(), ack["transaction"].clone()),
            (json!(false), sale2)
        );
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (2, 3500), (1, 500), (0, 0))
        );
        let (_, ack) = rev(v["request_id"].as_str().unwrap());
        assert_eq!(ack["reversed"], true, "{ack}");
        assert!(ack.get("transaction").is_none(), "{ack}");

        // Dependents first: once its refund is reversed, the sale can be.
        let id3 = rid();
        let (_, sale3) = c.tx(&sale_body(&id3, c.trace(), 700, CARD));
        let r = refund_body(
            c.trace(),
            sale3["rrn"].as_str().unwrap(),
            200,
            Some(SUPERVISOR_PW),
        );
        assert_eq!(c.tx(&r).0, 200);
        assert_eq!(rev(r["request_id"].as_str().unwrap()).1["reversed"], true);
        assert_eq!(rev(&id3).1["reversed"], true);
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (2, 3500), (0, 0), (0, 0))
        );

        // A refund racing the reversal of its sale: one of them wins, never both.
        let mut expected1 = (2, 3500);
        let mut expected2 = (1, 3000);
        for round in 0..6 {
            let id = rid();
            let (_, sale) = c.tx(&sale_body(&id, c.trace(), 100, CARD));
            let rrn = sale["rrn"].as_str().unwrap().to_owned();
            let refund = refund_body(100 + round, &rrn, 100, Some(SUPERVISOR_PW));
            let ((rst, rbody), (_, ack)) = std::thread::scope(|s| {
                let r = s.spawn(|| tx2(&refund));
                let a = s.spawn(|| rev(&id));
                (r.join().unwrap(), a.join().unwrap())
            });
            match (rst, ack["reversed"].as_bool()) {
                (200, Some(false)) => {
                    assert_eq!(ack["transaction"], sale);
                    expected1 = (expected1.0 + 1, expected1.1 + 100);
                    expected2 = (expected2.0 + 1, expected2.1 + 100);
                }
                (404, Some(true)) => assert_eq!(code(&rbody), "UNKNOWN_TRANSACTION"),
                other => panic!("round {round}: {other:?} {rbody} {ack}"),
            }
        }
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, expected1, (0, 0), (0, 0))
        );
        assert_eq!(sums(&totals2()), totals(1, (0, 0), (0, 0), expected2));

        // Both batches settle balanced with what each terminal was told.
        for (token, t) in [
            (&c.token, totals(1, expected1, (0, 0), (0, 0))),
            (&token2, totals(1, (0, 0), (0, 0), expected2)),
        ] {
            let settle = json!({"request_id": rid(), "batch_no": 1, "terminal_totals": t});
            let (st, body) = c.host.post("/v1/settlements", Some(token), &settle);
            assert_eq!(
                (st, body["outcome"].as_str()),
                (200, Some("balanced")),
                "{body}"
            );
        }
    });
}

/// `terminal add --confirm-above`: the amount above which the terminal asks the cashier to
/// confirm a sale, told at every sign-in; a terminal added without it gets ¥10 000.00, one
/// re-added without it keeps its own, and the CLI refuses a threshold outside 1..=MAX_AMOUNT.
#[test]
fn terminal_add_sets_the_confirmation_threshold_the_sign_in_answer_carries() {
    each_backend(|b| {
        let db = Db::new(b);
        let add = |terminal: &str, extra: &[&str]| {
            let mut args = vec!["terminal", "add", "--merchant", MERCHANT];
            args.extend(["--terminal", terminal]);
            args.extend(extra);
            let out = db.cli(&args, None);
            out.lines().last().unwrap().trim().to_owned()
        };
        let code = add(TERMINAL, &["--confirm-above", "50000"]);
        let other = add("10000002", &[]);
        db.add_operator(MERCHANT, "01", OPERATOR_PW);
        let host = Host::start(&db, &[]);
        let key = host.activate(MERCHANT, TERMINAL, &code);
        let other_key = host.activate(MERCHANT, "10000002", &other);
        let threshold = |key: &str| {
            let (st, body) = host.sign_in(key, "01", OPERATOR_PW);
            assert_eq!(st, 200, "{b:?}: {body}");
            body["confirm_above"].clone()
        };
        assert_eq!(threshold(&key), json!(50000), "{b:?}");
        assert_eq!(
            threshold(&other_key),
            json!(1_000_000),
            "{b:?}: the default"
        );

        // A new code without the flag keeps the threshold; with it, the next sign-in says so.
        let code = add(TERMINAL, &[]);
        let key = host.activate(MERCHANT, TERMINAL, &code);
        assert_eq!(threshold(&key), json!(50000), "{b:?}");
        add(TERMINAL, &["--confirm-above", "99999999999"]);
        assert_eq!(threshold(&key), json!(99_999_999_999_i64), "{b:?}");

        for bad in ["0", "-1", "100000000000", "12.5", "¥100", ""] {
            let err = terminal_add_refused(&db, &["--confirm-above", bad]);
            assert!(
                err.contains("invalid value") && err.contains("--confirm-above <MINOR>"),
                "{bad:?}: {err}"
            );
        }
        assert_eq!(
            threshold(&key),
            json!(99_999_999_999_i64),
            "{b:?}: unchanged"
        );
    });
}
