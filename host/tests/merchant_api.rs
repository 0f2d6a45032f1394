//! R23, the shop's server: merchant API keys, payments by reference, and signed webhooks,
//! against the real host binary and a real HTTP receiver on 127.0.0.1 (an axum server in this
//! process, or the README's Node example), on SQLite and PostgreSQL.

mod common;

use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The host's first wait before posting an event again: short, so a retry comes within the
/// test.
const FIRST_RETRY: [&str; 2] = ["--webhook-first-retry-ms", "200"];
const DECLINED_CARD: &str = "4000000000000002";

/// One post the receiver got.
#[derive(Debug, Clone)]
struct Got {
    event_id: String,
    signature: String,
    body: String,
    answered: u16,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A shop's server: answers 500 to the first `failures` posts, then 200, each after `delay`;
/// stopped when dropped.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    fn start(failures: usize) -> Receiver {
        Receiver::answering_after(failures, Duration::ZERO)
    }

    fn answering_after(failures: usize, delay: Duration) -> Receiver {
        use axum::http::{HeaderMap, StatusCode};
        let got = Arc::new(Mutex::new(Vec::<Got>::new()));
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let seen = got.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let hook = move |headers: HeaderMap, body: String| {
                    let seen = seen.clone();
                    async move {
                        let header = |name: &str| {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned()
                        };
                        let answered = {
                            let mut seen = seen.lock().unwrap();
                            let answered = if seen.len() < failures { 500 } else { 200 };
                            seen.push(Got {
                                event_id: header("softpos-event-id"),
                                signature: header("softpos-signature"),
                                body,
                                answered,
                            });
                            answered
                        };
                        tokio::time::sleep(delay).await;
                        StatusCode::from_u16(answered).unwrap()
                    }
                };
                let app = axum::Router::new().route("/hook", axum::routing::post(hook));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        stopped.await.ok();
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            stop: Some(stop),
        }
    }

    /// The posts so far, once there are at least `n` (or after 20 s, whatever came).
    fn wait_for(&self, n: usize) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

/// `webhook set`; the secret (the last line).
fn set_webhook(db: &Db, merchant: &str, url: &str) -> String {
    let out = db.cli(
        &[
            "webhook",
            "set",
            "--merchant",
            merchant,
            "--webhook-url",
            url,
        ],
        None,
    );
    out.lines().last().unwrap().trim().to_owned()
}

/// `apikey add`; the key (the last line).
fn add_api_key(db: &Db, merchant: &str) -> String {
    let out = db.cli(&["apikey", "add", "--merchant", merchant], None);
    out.lines().last().unwrap().trim().to_owned()
}

/// What a shop's server checks: `t=<unix s>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`,
/// within 5 minutes of now.
fn signature_verifies(secret: &str, header: &str, body: &str) -> bool {
    let field = |name: &str| {
        header
            .split(',')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
    };
    let Ok(t) = field("t").parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let given: Vec<u8> = (0..field("v1").len() / 2)
        .filter_map(|i| u8::from_str_radix(field("v1").get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    (now - t).abs() <= 300 && mac.verify_slice(&given).is_ok()
}

/// A sale carrying the shop's reference.
fn sale_with_reference(trace_no: u32, amount: i64, pan: &str, reference: &str) -> Value {
    let mut body = sale_body(&rid(), trace_no, amount, pan);
    body["reference"] = json!(reference);
    body
}

#[test]
fn r23_payment_found_by_reference_only_for_its_merchant() {
    const OTHER: &str = "898310048160002";
    each_backend(|backend| {
        let c = Counter::new(backend);
        // Another merchant on the same host, whose shop happens to use the same reference.
        let activation = c.db.add_terminal(OTHER, "20000001");
        c.db.add_operator(OTHER, "01", OPERATOR_PW);
        let other_key = c.host.activate(OTHER, "20000001", &activation);
        let (st, other) = c.host.sign_in(&other_key, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{other}");
        let other_token = other["session_token"].as_str().unwrap();
        let other_trace = other["next_trace_no"].as_u64().unwrap() as u32;

        let (st, declined) = c.tx(&sale_with_reference(
            c.trace(),
            4200,
            DECLINED_CARD,
            "order-42",
        ));
        assert_eq!((st, &declined["status"]), (200, &json!("declined")));
        let mut retried = sale_with_reference(c.trace(), 4200, CARD, "order-42");
        let (st, approved) = c.tx(&retried);
        // R9: the same request again gets its answer; under another reference it conflicts.
        assert_eq!(c.tx(&retried), (st, approved.clone()));
        retried["reference"] = json!("order-41");
        let (st_conflict, conflict) = c.tx(&retried);
        assert_eq!(
            (st_conflict, code(&conflict)),
            (409, "IDEMPOTENCY_CONFLICT")
        );
        assert_eq!(
            (st, &approved["reference"]),
            (200, &json!("order-42")),
            "{approved}"
        );
        c.tx(&sale_with_reference(c.trace(), 99, CARD, "order-43"));
        let (st, theirs) = c.host.post(
            "/v1/transactions",
            Some(other_token),
            &sale_with_reference(other_trace, 777, CARD, "order-42"),
        );
        assert_eq!(st, 200, "{theirs}");

        let key = add_api_key(&c.db, MERCHANT);
        let other_api_key = add_api_key(&c.db, OTHER);
        let (st, mine) = c
            .host
            .get("/v1/merchant/payments?reference=order-42", Some(&key));
        assert_eq!(st, 200, "{mine}");
        let payments = mine["payments"].as_array().unwrap();
        assert_eq!(payments.len(), 2, "{mine}");
        // Newest first: the approved retry, then the declined first try.
        let p = &payments[0];
        assert_eq!(
            p,
            &json!({
                "reference": "order-42", "kind": "sale", "status": "approved", "amount": 4200,
                "currency": "CNY", "rrn": approved["rrn"], "auth_code": approved["auth_code"],
                "terminal_id": TERMINAL, "trace_no": approved["trace_no"],
                "batch_no": approved["batch_no"], "host_time": p["host_time"],
                "voided": false, "refunded_amount": 0, "reversed": false
            })
        );
        assert!(p["host_time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(payments[1]["status"], "declined");
        assert_eq!(payments[1]["trace_no"], declined["trace_no"]);
        assert!(!mine.to_string().contains(&CARD[6..12]), "no card digits");

        let (st, them) = c.host.get(
            "/v1/merchant/payments?reference=order-42",
            Some(&other_api_key),
        );
        assert_eq!(st, 200);
        let payments = them["payments"].as_array().unwrap();
        assert_eq!(payments.len(), 1, "{them}");
        assert_eq!(
            (&payments[0]["amount"], &payments[0]["terminal_id"]),
            (&json!(777), &json!("20000001"))
        );
        let (st, none) = c
            .host
            .get("/v1/merchant/payments?reference=order-44", Some(&key));
        assert_eq!((st, none), (200, json!({"payments": []})));
    });
}

#[test]
fn r23_api_key_refused_on_terminal_routes_and_terminal_token_on_merchant_routes() {
    each_backend(|backend| {
        let c = Counter::new(backend);
        let api_key = add_api_key(&c.db, MERCHANT);
        assert!(
            api_key.starts_with("sk_") && api_key.len() == 46,
            "{api_key}"
        );
        let payments = "/v1/merchant/payments?reference=order-1";
        let (st, body) = c.host.get(payments, Some(&api_key));
        assert_eq!((st, &body), (200, &json!({"payments": []})));

        // The terminal's credentials on the merchant route.
        for token in [Some(c.token.as_str()), Some(c.key.as_str()), None] {
            let (st, body) = c.host.get(payments, token);
            assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{token:?}");
        }
        // The API key on the terminal routes.
        let sale = sale_body(&rid(), c.trace(), 100, CARD);
        for (path, body) in [
            (
                "/v1/sign-in",
                json!({"operator": "01", "password": OPERATOR_PW}),
            ),
            ("/v1/transactions", sale),
            ("/v1/reversals", json!({"request_id": rid()})),
            ("/v1/sign-off", json!({"request_id": rid()})),
        ] {
            let (st, answer) = c.host.post(path, Some(&api_key), &body);
            assert_eq!((st, code(&answer)), (401, "BAD_CREDENTIALS"), "{path}");
        }
        for path in ["/v1/batches/current", "/v1/sales?q=1"] {
            let (st, answer) = c.host.get(path, Some(&api_key));
            assert_eq!((st, code(&answer)), (401, "BAD_CREDENTIALS"), "{path}");
        }
        // An unknown key of the right shape, and a bad reference.
        let forged = format!("sk_{}", "A".repeat(43));
        let (st, body) = c.host.get(payments, Some(&forged));
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"));
        for bad in ["", "a%20b", &"x".repeat(65)] {
            let (st, body) = c.host.get(
                &format!("/v1/merchant/payments?reference={bad}"),
                Some(&api_key),
            );
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{bad:?}");
        }
        let (st, body) = c.host.get("/v1/merchant/payments", Some(&api_key));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"));
        // Kept only hashed, and never logged.
        assert!(!c.host.logs().contains(&api_key));
        if backend == Backend::Postgres {
            assert!(!c.db.pg_dump_text().contains(&api_key));
        } else {
            for file in std::fs::read_dir(c.db.dir.path()).unwrap() {
                let bytes = std::fs::read(file.unwrap().path()).unwrap();
                assert!(!String::from_utf8_lossy(&bytes).contains(&api_key));
            }
        }
    });
}

#[test]
fn r23_webhook_signature_verifies() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let receiver = Receiver::start(0);
        let secret = set_webhook(&c.db, MERCHANT, &receiver.url);
        assert!(
            secret.starts_with("whsec_") && secret.len() == 49,
            "{secret}"
        );
        let (st, sale) = c.tx(&sale_with_reference(c.trace(), 1234, CARD, "shop/order#7"));
        assert_eq!(st, 200, "{sale}");

        let got = receiver.wait_for(1);
        assert_eq!(got.len(), 1, "{got:?}");
        let post = &got[0];
        assert!(signature_verifies(&secret, &post.signature, &post.body));
        assert!(!signature_verifies(
            "whsec_other",
            &post.signature,
            &post.body
        ));
        let tampered = post.body.replace("1234", "1235");
        assert!(!signature_verifies(&secret, &post.signature, &tampered));

        let event = post.json();
        assert_eq!(event["id"], post.event_id.as_str());
        assert!(post.event_id.starts_with("evt_"));
        assert_eq!(event["type"], "payment.approved");
        let payment = &event["data"]["payment"];
        assert_eq!(payment["status"], "approved");
        assert_eq!(payment["kind"], "sale");
        assert_eq!(payment["amount"], 1234);
        assert_eq!(payment["currency"], "CNY");
        assert_eq!(payment["rrn"], sale["rrn"]);
        assert_eq!(payment["auth_code"], sale["auth_code"]);
        assert_eq!(payment["trace_no"], sale["trace_no"]);
        assert_eq!(payment["batch_no"], sale["batch_no"]);
        assert_eq!(payment["terminal_id"], TERMINAL);
        assert_eq!(payment["reference"], "shop/order#7");
        assert_eq!(payment["reversed"], false);
        // No card data in an event, nor the secret in the log.
        assert!(!post.body.contains(CARD) && !post.body.contains(&CARD[6..12]));
        assert!(!post.body.contains(EXPIRY));
        assert!(!c.host.logs().contains(&secret));
    });
}

#[test]
fn r23_webhook_retried_until_2xx_with_the_same_event_id() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let receiver = Receiver::start(1);
        let secret = set_webhook(&c.db, MERCHANT, &receiver.url);
        let (st, sale) = c.sale(500, CARD);
        assert_eq!(st, 200, "{sale}");

        let got = receiver.wait_for(2);
        assert_eq!(got.len(), 2, "{got:?}");
        // Time for a third post, were the event not delivered.
        std::thread::sleep(Duration::from_millis(1500));
        let got = receiver.wait_for(3);
        assert_eq!(got.len(), 2, "delivered once: {got:?}");
        let answered: Vec<u16> = got.iter().map(|g| g.answered).collect();
        assert_eq!(answered, [500, 200]);
        assert_eq!(got[0].event_id, got[1].event_id);
        assert_eq!(got[0].body, got[1].body, "the same event, byte for byte");
        for post in &got {
            assert!(signature_verifies(&secret, &post.signature, &post.body));
        }
        assert!(c.host.logs().contains("webhook not delivered"));
    });
}

/// The types of the events posted, once `n` came.
fn event_types(receiver: &Receiver, n: usize) -> Vec<(String, Value)> {
    let got = receiver.wait_for(n);
    assert_eq!(got.len(), n, "{got:?}");
    let mut events: Vec<(String, Value)> = got
        .iter()
        .map(|g| {
            let e = g.json();
            (e["type"].as_str().unwrap().to_owned(), e)
        })
        .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0));
    events
}

#[test]
fn r23_reversed_sale_emits_payment_reversed() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let receiver = Receiver::start(0);
        set_webhook(&c.db, MERCHANT, &receiver.url);
        let request_id = rid();
        let (st, sale) = c.tx(&sale_body(&request_id, c.trace(), 700, CARD));
        assert_eq!(st, 200, "{sale}");
        let (st, rev) = c.host.post(
            "/v1/reversals",
            Some(&c.token),
            &json!({"request_id": request_id}),
        );
        assert_eq!((st, &rev["reversed"]), (200, &json!(true)), "{rev}");

        let events = event_types(&receiver, 2);
        let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["payment.approved", "payment.reversed"]);
        let reversed = &events[1].1["data"]["payment"];
        assert_eq!(reversed["status"], "reversed");
        assert_eq!(reversed["reversed"], true);
        assert_eq!(reversed["rrn"], sale["rrn"]);
        assert_ne!(events[0].1["id"], events[1].1["id"]);
        // A second reversal of the same request changes nothing and tells nothing new.
        let (st, _) = c.host.post(
            "/v1/reversals",
            Some(&c.token),
            &json!({"request_id": request_id}),
        );
        assert_eq!(st, 200);
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(receiver.wait_for(3).len(), 2);
    });
}

#[test]
fn r23_no_event_for_a_declined_sale() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let receiver = Receiver::start(0);
        set_webhook(&c.db, MERCHANT, &receiver.url);
        let (st, declined) = c.sale(300, DECLINED_CARD);
        assert_eq!((st, &declined["status"]), (200, &json!("declined")));
        // An approved sale after it: once its event came, the declined one's would have too.
        let (st, approved) = c.sale(400, CARD);
        assert_eq!((st, &approved["status"]), (200, &json!("approved")));
        let events = event_types(&receiver, 1);
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(receiver.wait_for(2).len(), 1, "one event only");
        let payment = &events[0].1["data"]["payment"];
        assert_eq!(payment["trace_no"], approved["trace_no"]);
        assert_eq!(payment["amount"], 400);
    });
}

#[test]
fn r23_void_and_refund_report_the_sale_as_it_stands() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let receiver = Receiver::start(0);
        set_webhook(&c.db, MERCHANT, &receiver.url);
        let (_, voided) = c.sale(900, CARD);
        let (_, refunded) = c.sale(1000, CARD);
        let void = json!({
            "request_id": rid(), "kind": "void", "trace_no": c.trace(), "amount": 900,
            "currency": "CNY", "original": {"trace_no": voided["trace_no"]},
            "supervisor_password": SUPERVISOR_PW
        });
        let (st, body) = c.tx(&void);
        assert_eq!((st, &body["status"]), (200, &json!("approved")), "{body}");
        let refund = json!({
            "request_id": rid(), "kind": "refund", "trace_no": c.trace(), "amount": 250,
            "currency": "CNY", "original": {"rrn": refunded["rrn"]},
            "supervisor_password": SUPERVISOR_PW
        });
        let (st, body) = c.tx(&refund);
        assert_eq!((st, &body["status"]), (200, &json!("approved")), "{body}");

        let events = event_types(&receiver, 4);
        let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            types,
            [
                "payment.approved",
                "payment.approved",
                "payment.refunded",
                "payment.voided"
            ]
        );
        let refund = &events[2].1["data"]["payment"];
        assert_eq!(refund["rrn"], refunded["rrn"]);
        assert_eq!(refund["kind"], "sale");
        assert_eq!(refund["refunded_amount"], 250);
        let void = &events[3].1["data"]["payment"];
        assert_eq!(void["rrn"], voided["rrn"]);
        assert_eq!(
            (&void["voided"], &void["status"]),
            (&json!(true), &json!("approved"))
        );
    });
}

/// The README's shop-server example (docs/examples/webhook-receiver.mjs) as a shop would run
/// it, taking a real webhook from the host and refusing a forged one.
#[test]
fn r23_the_readme_node_receiver_verifies_the_host_s_webhooks() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        // The secret first (the receiver starts with it), the receiver's own port after.
        let secret = set_webhook(&c.db, MERCHANT, "http://127.0.0.1:9/hook");
        let example = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/examples/webhook-receiver.mjs"
        );
        let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let code = std::fs::read_to_string(example).unwrap();
        assert!(
            std::fs::read_to_string(readme)
                .unwrap()
                .contains(&format!("```js\n{code}```\n")),
            "README.md shows docs/examples/webhook-receiver.mjs as it is"
        );
        let mut node = Command::new("node")
            .arg(example)
            .env("SOFTPOS_WEBHOOK_SECRET", &secret)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (20 or later) runs the README's example");
        let (lines_tx, lines) = mpsc::channel();
        let stdout = node.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(20)).unwrap();
        let port = first.strip_prefix("listening on ").unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        c.db.exec(&format!(
            "UPDATE merchant_webhooks SET url = '{url}' WHERE merchant_id = '{MERCHANT}'"
        ))
        .unwrap();

        // Forged, stale and unsigned posts are refused.
        let body = r#"{"id":"evt_x","type":"payment.approved","data":{"payment":{}}}"#;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let sign = |t: u64, key: &str| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(format!("{t}.{body}").as_bytes());
            let hex: String = mac
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("t={t},v1={hex}")
        };
        for header in [
            Some(sign(now, "whsec_wrong")),
            Some(sign(now - 301, &secret)),
            Some("t=1,v1=00".to_owned()),
            None,
        ] {
            let mut req = c.host.http.post(&url).body(body);
            if let Some(h) = &header {
                req = req.header("Softpos-Signature", h);
            }
            assert_eq!(req.send().unwrap().status().as_u16(), 400, "{header:?}");
        }

        let (st, sale) = c.tx(&sale_with_reference(c.trace(), 4200, CARD, "order-1042"));
        assert_eq!(st, 200, "{sale}");
        let line = lines.recv_timeout(Duration::from_secs(20)).unwrap();
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "payment.approved", "{line}");
        assert!(words[1].starts_with("evt_"), "{line}");
        assert_eq!(&words[2..], ["order-1042", "approved"], "{line}");
        let pid = node.id().to_string();
        Command::new("kill").arg(&pid).status().unwrap();
        node.wait().unwrap();
    });
}

/// Two hosts on one database both post webhooks: each event reaches the shop's server once,
/// since each post is taken with a lease (the shop answers slower than the hosts look for
/// events due, so both see every event while it is being posted).
#[test]
fn r23_two_hosts_on_one_database_post_each_event_once() {
    each_backend(|backend| {
        let c = Counter::with_args(backend, &FIRST_RETRY);
        let _other = Host::start(&c.db, &FIRST_RETRY);
        let receiver = Receiver::answering_after(0, Duration::from_millis(600));
        set_webhook(&c.db, MERCHANT, &receiver.url);
        for amount in 1..=6 {
            assert_eq!(c.sale(amount * 100, CARD).0, 200);
        }
        receiver.wait_for(6);
        std::thread::sleep(Duration::from_millis(1500));
        let got = receiver.wait_for(7);
        let mut ids: Vec<&str> = got.iter().map(|g| g.event_id.as_str()).collect();
        ids.sort_unstable();
        let posted = ids.len();
        ids.dedup();
        assert_eq!((posted, ids.len()), (6, 6), "posts, events");
    });
}

/// `softpos-host ARGS --db URL`, which must fail; its standard error.
fn refused(db: &Db, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(args)
        .args(["--db", &db.url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} was taken");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn r23_apikey_and_webhook_need_a_known_merchant_and_webhooks_an_http_url() {
    let db = Db::new(Backend::Sqlite);
    let unknown = refused(&db, &["apikey", "add", "--merchant", MERCHANT]);
    assert!(unknown.contains("has no terminal yet"), "{unknown}");
    db.add_terminal(MERCHANT, TERMINAL);
    for url in ["ftp://shop.example/hook", "shop.example/hook", "http://"] {
        let args = [
            "webhook",
            "set",
            "--merchant",
            MERCHANT,
            "--webhook-url",
            url,
        ];
        let e = refused(&db, &args);
        assert!(e.contains("http:// or https://"), "{url}: {e}");
    }
    let first = add_api_key(&db, MERCHANT);
    let second = add_api_key(&db, MERCHANT);
    assert_ne!(first, second, "a new key each time, the old one kept");
    let one = set_webhook(&db, MERCHANT, "https://shop.example/softpos");
    assert_ne!(
        one,
        set_webhook(&db, MERCHANT, "https://shop.example/softpos")
    );
}
