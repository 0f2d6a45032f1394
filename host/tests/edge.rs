//! The host's edge (issue 12): slow clients, rate limits, reads beside the writer, the headers
//! of pages and token answers, and parse errors that echo nothing. Each test runs the real
//! host binary.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn host_addr(h: &Host) -> String {
    h.base.trim_start_matches("http://").to_owned()
}

/// Whether the host closed the socket (end of stream or a reset); a socket with nothing to
/// read within the wait is still open.
fn closed_by_host(mut s: &TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // An answer before the close (there is none today): read on to the end.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// Reads one whole `GET /healthz` answer off a keep-alive connection.
fn read_health(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("{\"ok\":true}") {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "closed before the answer: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: softpos.test\r\n\r\n";

#[test]
fn r17_slow_clients_are_closed_after_the_header_timeout_and_never_delay_a_request() {
    let db = Db::new(Backend::Sqlite);
    let host = Host::start(&db, &["--header-timeout", "2", "--idle-timeout", "5"]);
    let addr = host_addr(&host);
    let started = Instant::now();
    // Slowloris: a request line begun and never finished.
    let slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HT").unwrap();
            s
        })
        .collect();
    // A client that asked once and keeps its connection for the next request.
    let mut keep = TcpStream::connect(&addr).unwrap();
    keep.write_all(HEALTH).unwrap();
    assert!(read_health(&mut keep).starts_with("HTTP/1.1 200"));
    let kept_at = Instant::now();

    let t0 = Instant::now();
    let (st, body) = host.get("/healthz", None);
    let took = t0.elapsed();
    assert_eq!((st, body), (200, json!({"ok": true})));
    // Answered while the slow sockets were all still there, not after the host dropped them.
    assert!(
        took < Duration::from_secs(2),
        "a normal request waited {took:?} beside 100 slow sockets"
    );

    std::thread::sleep(Duration::from_millis(3500).saturating_sub(started.elapsed()));
    let closed = slow.iter().filter(|s| closed_by_host(s)).count();
    assert_eq!(
        closed, 100,
        "{closed} of 100 slow sockets closed after the header timeout"
    );
    // Idle between requests is not sending headers: the keep-alive connection is still open.
    assert!(
        !closed_by_host(&keep),
        "an idle keep-alive connection was closed after {:?}",
        kept_at.elapsed()
    );
    std::thread::sleep(Duration::from_millis(6500).saturating_sub(kept_at.elapsed()));
    assert!(
        closed_by_host(&keep),
        "an idle keep-alive connection is still open after {:?}",
        kept_at.elapsed()
    );
    // The host serves on.
    assert_eq!(host.get("/healthz", None).0, 200);
}

fn retry_after(res: &reqwest::blocking::Response) -> Option<u64> {
    res.headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// POSTs and returns status, `Retry-After` and the body.
fn post_limited(
    h: &Host,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Option<u64>, Value) {
    let mut req = h.http.post(h.url(path)).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().unwrap();
    let after = retry_after(&res);
    let (st, body) = answer(res);
    (st, after, body)
}

fn assert_limited(what: &str, (st, after, body): (u16, Option<u64>, Value)) {
    assert_eq!((st, code(&body)), (429, "BUSY"), "{what}: {body}");
    assert!(
        after.is_some_and(|s| s >= 1),
        "{what}: Retry-After {after:?}"
    );
}

#[test]
fn r17_activation_and_sign_in_are_rate_limited_per_address_and_per_terminal_key() {
    let db = Db::new(Backend::Sqlite);
    let codes = [
        db.add_terminal(MERCHANT, "10000001"),
        db.add_terminal(MERCHANT, "10000002"),
    ];
    db.add_operator(MERCHANT, "01", OPERATOR_PW);
    let host = Host::start(
        &db,
        &[
            "--activate-per-minute",
            "3",
            "--sign-in-per-minute",
            "4",
            "--sign-in-per-key-per-minute",
            "2",
        ],
    );
    let activate = |terminal: &str, code: &str| {
        post_limited(
            &host,
            "/v1/activate",
            None,
            &json!({"merchant_id": MERCHANT, "terminal_id": terminal, "activation_code": code}),
        )
    };
    // Three activations a minute from one address, right or wrong; the fourth waits.
    let (st, _, k1) = activate("10000001", &codes[0]);
    assert_eq!(st, 200, "{k1}");
    let (st, _, k2) = activate("10000002", &codes[1]);
    assert_eq!(st, 200, "{k2}");
    let (st, _, body) = activate("10000001", "AAAA-AAAA-AAAA-AAAA-AAAA");
    assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
    assert_limited(
        "4th activation",
        activate("10000001", "AAAA-AAAA-AAAA-AAAA-AAAA"),
    );

    let (k1, k2) = (
        k1["terminal_key"].as_str().unwrap(),
        k2["terminal_key"].as_str().unwrap(),
    );
    let sign_in = |key: &str| {
        post_limited(
            &host,
            "/v1/sign-in",
            Some(key),
            &json!({"operator": "01", "password": OPERATOR_PW}),
        )
    };
    // Two sign-ins a minute per terminal key...
    assert_eq!(sign_in(k1).0, 200);
    assert_eq!(sign_in(k1).0, 200);
    assert_limited("3rd sign-in with one key", sign_in(k1));
    // ...which leaves another terminal's key alone...
    assert_eq!(sign_in(k2).0, 200);
    // ...and four a minute per address, whatever the key.
    assert_limited("5th sign-in from one address", sign_in(k2));
    // Other calls are not limited.
    assert_eq!(host.get("/healthz", None).0, 200);
}

#[test]
fn r10_the_open_batch_is_read_while_another_writer_holds_the_database() {
    each_backend(|b| {
        let c = Counter::new(b);
        assert_eq!(c.sale(3000, CARD).0, 200);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Another writer (a `cutoff` run, a second host process) holds the write lock.
        let mut holder = rt.block_on(async {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&c.db.url).await.unwrap();
            let hold = match b {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN; LOCK TABLE batches, transactions IN EXCLUSIVE MODE",
            };
            conn.execute(hold).await.unwrap();
            conn
        });
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let res = http
            .get(c.host.url("/v1/batches/current"))
            .bearer_auth(&c.token)
            .send();
        rt.block_on(async {
            use sqlx::Executor;
            holder.execute("ROLLBACK").await.unwrap();
        });
        let res = res.unwrap_or_else(|e| panic!("{b:?}: the read waited on the writer: {e}"));
        let (st, body) = answer(res);
        assert_eq!(st, 200, "{b:?}: {body}");
        assert_eq!(body["host_totals"]["sale"]["amount"], 3000, "{body}");
        assert_eq!(c.sale(100, CARD).0, 200);
    });
}

#[test]
fn r17_pages_carry_csp_nosniff_and_no_referrer_and_token_answers_are_not_cached() {
    let db = Db::new(Backend::Sqlite);
    let code = db.add_terminal(MERCHANT, TERMINAL);
    db.add_operator(MERCHANT, "01", OPERATOR_PW);
    // A `--www` directory with its own `pkg/` and no `pkg/` beside it.
    let site = tempfile::tempdir().unwrap();
    let www = site.path().join("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(www.join("pkg/softpos.js"), "export {};").unwrap();
    let host = Host::start(&db, &["--www", www.to_str().unwrap()]);

    let page = host.http.get(host.url("/index.html")).send().unwrap();
    assert_eq!(page.status(), 200);
    let header = |res: &reqwest::blocking::Response, name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("<none>")
            .to_owned()
    };
    let csp = header(&page, "content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP {csp:?} lacks {part:?}");
    }
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");

    let js = host.http.get(host.url("/pkg/softpos.js")).send().unwrap();
    assert_eq!(
        js.status(),
        200,
        "DIR/pkg is served when DIR has no sibling pkg/"
    );
    assert_eq!(header(&js, "x-content-type-options"), "nosniff");

    let api = host.http.get(host.url("/healthz")).send().unwrap();
    assert_eq!(header(&api, "x-content-type-options"), "nosniff");

    let activated = host
        .http
        .post(host.url("/v1/activate"))
        .json(&json!({"merchant_id": MERCHANT, "terminal_id": TERMINAL, "activation_code": code}))
        .send()
        .unwrap();
    assert_eq!(header(&activated, "cache-control"), "no-store");
    let key = answer(activated).1["terminal_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed_in = host
        .http
        .post(host.url("/v1/sign-in"))
        .bearer_auth(&key)
        .json(&json!({"operator": "01", "password": OPERATOR_PW}))
        .send()
        .unwrap();
    assert_eq!(header(&signed_in, "cache-control"), "no-store");
    assert_eq!(answer(signed_in).0, 200);
}

/// A value no answer may carry: each body below puts it in another position and quoting.
const MARK: &str = "4412";

#[test]
fn r4_r17_parse_errors_name_the_field_and_never_echo_a_value() {
    each_backend(|b| {
        let c = Counter::new(b);
        let sale = |patch: Value| {
            let mut body = sale_body(&rid(), c.trace(), 100, CARD);
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let uuid = rid();
        let session_calls: Vec<(&str, String)> = vec![
            ("/v1/transactions", sale(json!({"amount": "4412"})).to_string()),
            ("/v1/transactions", sale(json!({"amount": 4412.5})).to_string()),
            ("/v1/transactions", sale(json!({"amount": -4412})).to_string()),
            ("/v1/transactions", sale(json!({"trace_no": "4412"})).to_string()),
            ("/v1/transactions", sale(json!({"trace_no": -4412})).to_string()),
            ("/v1/transactions", sale(json!({"kind": "sale4412"})).to_string()),
            ("/v1/transactions", sale(json!({"kind": 4412})).to_string()),
            ("/v1/transactions", sale(json!({"currency": "C\u{0}N4412"})).to_string()),
            ("/v1/transactions", sale(json!({"currency": 4412})).to_string()),
            ("/v1/transactions", sale(json!({"request_id": 4412})).to_string()),
            ("/v1/transactions", sale(json!({"card": {"pan": 4412, "expiry": EXPIRY}})).to_string()),
            ("/v1/transactions", sale(json!({"card": {"pan": CARD, "expiry": 4412}})).to_string()),
            ("/v1/transactions", sale(json!({"card": "4412"})).to_string()),
            ("/v1/transactions", sale(json!({"card": {"pan": CARD, "expiry": EXPIRY, "cvv4412": 1}})).to_string()),
            ("/v1/transactions", sale(json!({"original": {"trace_no": "4412"}})).to_string()),
            ("/v1/transactions", sale(json!({"supervisor_password": 4412})).to_string()),
            ("/v1/transactions", sale(json!({"x4412": true})).to_string()),
            ("/v1/transactions", "{\"amount\": `4412`}".to_owned()),
            ("/v1/transactions", "{\"amount\": 4412".to_owned()),
            ("/v1/transactions", "{\"amount\": 4412x}".to_owned()),
            ("/v1/transactions", "{\"card\": {\"pan\": \"4412\\u0000\"}, \"amount\": '4412'}".to_owned()),
            ("/v1/reversals", json!({"request_id": 4412}).to_string()),
            ("/v1/reversals", json!({"request_id": "4412"}).to_string()),
            ("/v1/settlements", json!({"request_id": uuid, "batch_no": "4412", "terminal_totals": {}}).to_string()),
            ("/v1/settlements", json!({"request_id": uuid, "batch_no": 1, "terminal_totals": {"batch_no": 1, "currency": "CNY", "sale": {"count": "4412", "amount": 0}}}).to_string()),
            ("/v1/settlements/1/upload", json!({"request_id": uuid, "entries": [{"seq": "4412"}]}).to_string()),
            ("/v1/settlements/1/upload", json!({"request_id": uuid, "entries": [{"seq": 1, "request_id": uuid, "kind": "sale4412"}]}).to_string()),
            ("/v1/sign-off", json!({"settle": "4412"}).to_string()),
        ];
        let open_calls: Vec<(&str, Option<&str>, String)> = vec![
            ("/v1/activate", None, json!({"merchant_id": 4412, "terminal_id": TERMINAL, "activation_code": "x"}).to_string()),
            ("/v1/activate", None, json!({"merchant_id": MERCHANT, "terminal_id": TERMINAL, "activation_code": ["4412"]}).to_string()),
            ("/v1/sign-in", Some(&c.key), json!({"operator": 4412, "password": "x"}).to_string()),
            ("/v1/sign-in", Some(&c.key), json!({"operator": "01", "password": 4412}).to_string()),
            ("/v1/sign-in", Some(&c.key), json!({"operator": "01", "password": {"4412": 1}}).to_string()),
        ];
        let calls = session_calls
            .into_iter()
            .map(|(path, body)| (path, Some(c.token.as_str()), body))
            .chain(open_calls);
        for (path, token, body) in calls {
            let mut req = c
                .host
                .http
                .post(c.host.url(path))
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req.send().unwrap();
            let st = res.status().as_u16();
            let text = res.text().unwrap();
            assert!((400..500).contains(&st), "{path} {body}: {st} {text}");
            assert!(
                !text.contains(MARK),
                "{b:?} {path} echoed the value: {body} → {text}"
            );
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert!(
                !code(&answer).is_empty() && code(&answer) != "<none>",
                "{text}"
            );
        }
        // The field is named: a developer can still see what was wrong.
        let (_, res) = c.tx(&sale(json!({"amount": "4412"})));
        let message = res["error"]["message"].as_str().unwrap();
        assert!(message.contains("amount"), "{message}");
        let (_, res) = c.tx(&sale(json!({"card": {"pan": 4412, "expiry": EXPIRY}})));
        let message = res["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("card.pan") && message.contains("string"),
            "{message}"
        );
    });
}
