//! R23: the hosted checkout on the host: checkout terminals bound to a storefront origin,
//! lanes made for each customer browser, their unattended sessions scoped to sales, the
//! storefront's reference, and the frame page's `frame-ancestors`; on SQLite and (when
//! configured) PostgreSQL.

mod common;

use common::*;
use serde_json::{json, Value};

const CHECKOUT: &str = "20000001";
const SHOP: &str = "https://shop.example";

/// `terminal add --checkout-origin`; returns its standard output.
fn add_checkout(db: &Db, terminal: &str, origin: &str) -> String {
    db.cli(
        &[
            "terminal",
            "add",
            "--merchant",
            MERCHANT,
            "--terminal",
            terminal,
            "--checkout-origin",
            origin,
        ],
        None,
    )
}

/// A lane of the checkout terminal, activated: its id and terminal key.
fn lane(host: &Host) -> (String, String) {
    let (st, body) = host.post(
        "/v1/checkout/lanes",
        None,
        &json!({"merchant_id": MERCHANT, "terminal_id": CHECKOUT}),
    );
    assert_eq!(st, 201, "{body}");
    let id = body["lane_id"].as_str().unwrap().to_owned();
    let key = host.activate(MERCHANT, &id, body["activation_code"].as_str().unwrap());
    (id, key)
}

/// A lane's session token.
fn lane_session(host: &Host, key: &str) -> Value {
    let (st, body) = host.post("/v1/checkout/sign-in", Some(key), &json!({}));
    assert_eq!(st, 200, "{body}");
    body
}

/// A counter terminal, a checkout terminal bound to [`SHOP`] and a host serving them.
fn shop(b: Backend, args: &[&str]) -> Counter {
    let c = Counter::with_args(b, args);
    let out = add_checkout(&c.db, CHECKOUT, SHOP);
    assert_eq!(
        out.lines().last(),
        Some(format!("checkout terminal {CHECKOUT} bound to {SHOP}").as_str()),
        "{out}"
    );
    c
}

#[test]
fn r23_a_checkout_terminal_is_bound_to_its_origin_and_each_lane_is_a_terminal_of_its_own() {
    each_backend(|b| {
        let c = shop(b, &[]);
        let path = format!("/v1/checkout/terminals/{MERCHANT}/{CHECKOUT}");
        let (st, body) = c.host.get(&path, None);
        assert_eq!(st, 200, "{body}");
        assert_eq!(
            body,
            json!({"merchant_id": MERCHANT, "terminal_id": CHECKOUT, "origin": SHOP, "currency": "CNY"})
        );
        // A counter terminal, an unknown one and a malformed id are no checkout terminals.
        for t in [TERMINAL, "20000009", "2000"] {
            let (st, body) = c
                .host
                .get(&format!("/v1/checkout/terminals/{MERCHANT}/{t}"), None);
            assert_eq!((st, code(&body)), (404, "NOT_ACTIVATED"), "{t}: {body}");
            let (st, body) = c.host.post(
                "/v1/checkout/lanes",
                None,
                &json!({"merchant_id": MERCHANT, "terminal_id": t}),
            );
            assert_eq!((st, code(&body)), (404, "NOT_ACTIVATED"), "{t}: {body}");
        }

        let (first, key) = lane(&c.host);
        let (second, _) = lane(&c.host);
        assert_ne!(first, second);
        for id in [&first, &second] {
            assert!(
                id.len() == 8
                    && id.starts_with('W')
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
                "{id}"
            );
        }
        let session = lane_session(&c.host, &key);
        assert_eq!(session["operator"], "web");
        assert_eq!(session["currency"], "CNY");
        assert_eq!(session["batch_no"], 1);
        assert_eq!(session["next_trace_no"], 1);
        // A lane's activation code is single use, as any.
        let (st, made) = c.host.post(
            "/v1/checkout/lanes",
            None,
            &json!({"merchant_id": MERCHANT, "terminal_id": CHECKOUT}),
        );
        assert_eq!((st, made["origin"].as_str()), (201, Some(SHOP)), "{made}");
        let activation = json!({"merchant_id": MERCHANT, "terminal_id": made["lane_id"],
            "activation_code": made["activation_code"]});
        assert_eq!(c.host.post("/v1/activate", None, &activation).0, 200);
        let (st, body) = c.host.post("/v1/activate", None, &activation);
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");

        // Given again, the origin is replaced, in the form browsers send.
        let out = add_checkout(&c.db, CHECKOUT, "HTTPS://Shop.Example:8443/");
        assert!(
            out.ends_with(&format!(
                "checkout terminal {CHECKOUT} bound to https://shop.example:8443\n"
            )),
            "{out}"
        );
        assert!(!out.contains("single use"), "no code is printed: {out}");
        let (_, body) = c.host.get(&path, None);
        assert_eq!(body["origin"], "https://shop.example:8443");
    });
}

#[test]
fn r23_lane_refuses_void_with_sales_only() {
    each_backend(|b| {
        let c = shop(b, &[]);
        let (_, key) = lane(&c.host);
        let token = lane_session(&c.host, &key)["session_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (st, sale) = c.host.post(
            "/v1/transactions",
            Some(&token),
            &sale_body(&rid(), 1, 1250, CARD),
        );
        assert_eq!(
            (st, sale["status"].as_str()),
            (200, Some("approved")),
            "{sale}"
        );
        let rrn = sale["rrn"].as_str().unwrap();

        let void = json!({"request_id": rid(), "kind": "void", "trace_no": 2, "amount": 1250,
            "currency": "CNY", "original": {"trace_no": 1}, "supervisor_password": SUPERVISOR_PW});
        let refund = json!({"request_id": rid(), "kind": "refund", "trace_no": 2, "amount": 100,
            "currency": "CNY", "original": {"rrn": rrn}, "supervisor_password": SUPERVISOR_PW});
        // Without the supervisor's password too: the lane is refused before anything else.
        let bare_void = json!({"request_id": rid(), "kind": "void", "trace_no": 2,
            "amount": 1250, "currency": "CNY", "original": {"trace_no": 1}});
        for body in [&void, &refund, &bare_void] {
            let (st, answer) = c.host.post("/v1/transactions", Some(&token), body);
            assert_eq!((st, code(&answer)), (403, "SALES_ONLY"), "{answer}");
            assert_eq!(
                answer["error"]["message"],
                "This checkout terminal takes sales only; voids and refunds are made at the counter"
            );
        }
        let (st, answer) = c.host.get("/v1/sales?q=", Some(&token));
        assert_eq!((st, code(&answer)), (403, "SALES_ONLY"), "{answer}");

        // The counter refunds the lane's sale by its RRN, as any sale of the merchant.
        let (st, refunded) = c.tx(&json!({"request_id": rid(), "kind": "refund",
            "trace_no": c.trace(), "amount": 250, "currency": "CNY", "original": {"rrn": rrn},
            "supervisor_password": SUPERVISOR_PW}));
        assert_eq!(
            (st, refunded["status"].as_str()),
            (200, Some("approved")),
            "{refunded}"
        );

        // What a lane may do besides sales: read, settle and sign off its own batch.
        let (st, current) = c.host.get("/v1/batches/current", Some(&token));
        assert_eq!(st, 200, "{current}");
        assert_eq!(
            current["host_totals"]["sale"],
            json!({"count": 1, "amount": 1250})
        );
        let settle = json!({"request_id": rid(), "batch_no": 1,
            "terminal_totals": totals(1, (1, 1250), (0, 0), (0, 0))});
        let (st, settled) = c.host.post("/v1/settlements", Some(&token), &settle);
        assert_eq!(
            (st, settled["outcome"].as_str()),
            (200, Some("balanced")),
            "{settled}"
        );
        let (st, off) = c.host.post("/v1/sign-off", Some(&token), &json!({}));
        assert_eq!(st, 200, "{off}");
    });
}

#[test]
fn r23_lane_session_cannot_sign_in_with_password() {
    each_backend(|b| {
        let c = shop(b, &[]);
        let (_, key) = lane(&c.host);
        // Not even with a right operator password: a lane has no cashier.
        let (st, body) = c.host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!((st, code(&body)), (403, "SALES_ONLY"), "{body}");
        // The checkout sign-in takes a lane's key only.
        let (st, body) = c
            .host
            .post("/v1/checkout/sign-in", Some(&c.key), &json!({}));
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
        let (st, body) = c.host.post("/v1/checkout/sign-in", None, &json!({}));
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
        let (st, body) = c.host.post(
            "/v1/checkout/sign-in",
            Some(&key),
            &json!({"operator": "01"}),
        );
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
        // The counter's session is untouched by any of it.
        assert_eq!(c.current()["batch_no"], 1);
        lane_session(&c.host, &key);
    });
}

/// `transactions.reference` of the transaction with this RRN, as stored.
fn stored_reference(db: &Db, rrn: &str) -> Option<String> {
    use sqlx::{Connection, Row};
    let sql = format!("SELECT reference FROM transactions WHERE rrn = '{rrn}'");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match db.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                let row = sqlx::query(&sql).fetch_one(&mut conn).await.unwrap();
                row.get::<Option<String>, _>("reference")
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
                let row = sqlx::query(&sql).fetch_one(&mut conn).await.unwrap();
                row.get::<Option<String>, _>("reference")
            }
        }
    })
}

#[test]
fn r23_reference_travels_with_the_sale() {
    each_backend(|b| {
        let c = shop(b, &[]);
        let (_, key) = lane(&c.host);
        let token = lane_session(&c.host, &key)["session_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut sale = sale_body(&rid(), 1, 990, CARD);
        sale["reference"] = json!("order-1042/A#7");
        let (st, first) = c.host.post("/v1/transactions", Some(&token), &sale);
        assert_eq!(
            (st, first["status"].as_str()),
            (200, Some("approved")),
            "{first}"
        );
        assert_eq!(first["reference"], "order-1042/A#7");
        let rrn = first["rrn"].as_str().unwrap().to_owned();
        assert_eq!(
            stored_reference(&c.db, &rrn).as_deref(),
            Some("order-1042/A#7")
        );

        // R9: the retry gets the same answer, reference and all; another reference under the
        // same request id is another request.
        let (_, again) = c.host.post("/v1/transactions", Some(&token), &sale);
        assert_eq!(again, first);
        let mut other = sale.clone();
        other["reference"] = json!("order-1043");
        let (st, body) = c.host.post("/v1/transactions", Some(&token), &other);
        assert_eq!((st, code(&body)), (409, "IDEMPOTENCY_CONFLICT"), "{body}");
        let mut none = sale.clone();
        none.as_object_mut().unwrap().remove("reference");
        let (st, body) = c.host.post("/v1/transactions", Some(&token), &none);
        assert_eq!((st, code(&body)), (409, "IDEMPOTENCY_CONFLICT"), "{body}");

        for bad in ["", "order 1042", "订单", &"R".repeat(65)] {
            let mut refused = sale_body(&rid(), 2, 990, CARD);
            refused["reference"] = json!(bad);
            let (st, body) = c.host.post("/v1/transactions", Some(&token), &refused);
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{bad:?}: {body}");
        }

        // Without one: null in the answer and in the row; at the counter too.
        let (st, plain) = c.sale(500, CARD);
        assert_eq!(st, 200, "{plain}");
        assert_eq!(plain["reference"], Value::Null);
        let plain_rrn = plain["rrn"].as_str().unwrap();
        assert_eq!(stored_reference(&c.db, plain_rrn), None);
    });
}

#[test]
fn r23_lanes_are_rate_limited() {
    each_backend(|b| {
        let c = shop(b, &["--activate-per-minute", "2"]);
        let ask = || {
            c.host.post(
                "/v1/checkout/lanes",
                None,
                &json!({"merchant_id": MERCHANT, "terminal_id": CHECKOUT}),
            )
        };
        assert_eq!(ask().0, 201);
        assert_eq!(ask().0, 201);
        let (st, body) = ask();
        assert_eq!((st, code(&body)), (429, "BUSY"), "{body}");
        // Its own allowance: activations from the same address still pass.
        let code = c.db.add_terminal(MERCHANT, "10000003");
        c.host.activate(MERCHANT, "10000003", &code);
    });
}

/// A `--www` with the two checkout files and an ordinary page.
fn www() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("checkout-frame.html"),
        "<!doctype html><title>frame</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("softpos-checkout.js"), "// loader\n").unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>counter</title>",
    )
    .unwrap();
    dir
}

#[test]
fn r23_frame_ancestors_is_the_bound_origin() {
    each_backend(|b| {
        let pages = www();
        let dir = pages.path().to_str().unwrap().to_owned();
        let c = shop(
            b,
            &["--www", &dir, "--allow-origin", "https://Shop.Example/"],
        );
        // Bound to an origin the host was not told to allow.
        add_checkout(&c.db, "20000002", "https://elsewhere.example");
        let csp = |path: &str| -> (u16, String, String) {
            let res = c.host.http.get(c.host.url(path)).send().unwrap();
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            let (csp, corp) = (
                header("content-security-policy"),
                header("cross-origin-resource-policy"),
            );
            (res.status().as_u16(), csp, corp)
        };
        let frame = |t: &str| {
            format!(
                "/checkout-frame.html?merchant_id={MERCHANT}&terminal_id={t}&amount=1250&locale=en"
            )
        };

        let (st, policy, _) = csp(&frame(CHECKOUT));
        assert_eq!(st, 200);
        assert!(
            policy.ends_with("; frame-ancestors https://shop.example"),
            "{policy}"
        );
        assert!(
            policy.starts_with(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self';"
            ),
            "{policy}"
        );
        assert!(policy.contains("; form-action 'none';"), "{policy}");
        for denied in [
            frame("20000002"),
            frame(TERMINAL),
            frame("nonsense"),
            "/checkout-frame.html".into(),
        ] {
            let (st, policy, _) = csp(&denied);
            assert_eq!(st, 200, "{denied}");
            assert!(
                policy.ends_with("; frame-ancestors 'none'"),
                "{denied}: {policy}"
            );
        }
        // Every other page keeps the host's own policy.
        let (st, policy, _) = csp("/index.html");
        assert_eq!(st, 200);
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        // The loader: the page policy, and loadable by a page of another origin.
        let (st, policy, corp) = csp("/softpos-checkout.js");
        assert_eq!(st, 200);
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        assert_eq!(corp, "cross-origin");
        // Without the files, the API's 404.
        std::fs::remove_file(pages.path().join("checkout-frame.html")).unwrap();
        let (st, body) = c.host.get(&frame(CHECKOUT), None);
        assert_eq!((st, code(&body)), (404, "BAD_REQUEST"), "{body}");
    });
}

/// The address on the demo's `shop on` line, once printed.
fn shop_address(host: &Host) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = host.stdout.lock().unwrap().clone();
        if let Some(addr) = out.lines().find_map(|l| l.strip_prefix("shop on ")) {
            return addr.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no shop line: {out}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn r23_the_demo_shop_is_served_on_its_own_origin_and_frames_the_checkout() {
    let pages = www();
    std::fs::create_dir(pages.path().join("shop")).unwrap();
    std::fs::write(
        pages.path().join("shop/index.html"),
        "<!doctype html><title>shop</title>\n\
         <script src=\"http://127.0.0.1:8080/softpos-checkout.js\"></script>",
    )
    .unwrap();
    let dir = pages.path().to_str().unwrap().to_owned();
    let db = Db::new(Backend::Sqlite);
    for _ in 0..2 {
        let mut host = Host::start_command(&db, "demo", &["--www", &dir]);
        let shop = shop_address(&host);
        assert!(shop.starts_with("http://127.0.0.1:"), "{shop}");
        assert_ne!(shop, host.base, "an origin of its own");
        let out = host.stdout.lock().unwrap().clone();
        assert!(
            out.contains(&format!("terminal 20000001 bound to {shop}")),
            "{out}"
        );
        let page = host.http.get(format!("{shop}/")).send().unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().unwrap();
        assert!(page.contains("<title>shop</title>"));
        // The page names the host where it listens, not at `make demo`'s default address.
        assert!(
            page.contains(&format!(
                "<script src=\"{}/softpos-checkout.js\">",
                host.base
            )),
            "{page}"
        );
        assert!(!page.contains("127.0.0.1:8080"), "{page}");
        let (st, body) = answer(
            host.http
                .get(format!("{shop}/v1/checkout/lanes"))
                .send()
                .unwrap(),
        );
        assert_eq!(
            (st, code(&body)),
            (404, "BAD_REQUEST"),
            "the shop has no API: {body}"
        );

        let (st, checkout) = host.get(&format!("/v1/checkout/terminals/{MERCHANT}/20000001"), None);
        assert_eq!(
            (st, checkout["origin"].as_str()),
            (200, Some(shop.as_str())),
            "{checkout}"
        );
        let frame = host
            .http
            .get(host.url(&format!(
                "/checkout-frame.html?merchant_id={MERCHANT}&terminal_id=20000001"
            )))
            .send()
            .unwrap();
        let csp = frame.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.ends_with(&format!("; frame-ancestors {shop}")), "{csp}");
        // The counter's banner lines are still there.
        assert!(
            out.lines().any(|l| l.starts_with("activation code:")),
            "{out}"
        );
        assert!(
            out.contains("checkout page:    terminal 10000002, activation code "),
            "{out}"
        );
        assert!(host.terminate().success());
    }
    // Without a shop directory, the shop answers 404.
    std::fs::remove_dir_all(pages.path().join("shop")).unwrap();
    let host = Host::start_command(
        &db,
        "demo",
        &["--www", &dir, "--shop-listen", "127.0.0.1:0"],
    );
    let shop = shop_address(&host);
    let (st, _) = answer(host.http.get(format!("{shop}/")).send().unwrap());
    assert_eq!(st, 404);
}

/// R22 with R23: the console shows a web shop as its checkout terminal, not as one terminal per
/// customer browser. A lane never signs off and its batch is closed by the cut-off, so lanes
/// listed one by one would flood the merchant's page with false "not signed off" alarms.
#[test]
fn r22_r23_the_console_shows_the_checkout_terminal_for_its_lanes() {
    each_backend(|b| {
        let c = shop(b, &[]);
        let out = c.db.cli(
            &["admin", "add", "--merchant", MERCHANT, "--user", "owner"],
            Some("console-Secret-42\n"),
        );
        assert!(out.contains("saved"), "{out}");
        let (lane_id, key) = lane(&c.host);
        let token = lane_session(&c.host, &key)["session_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (st, sale) = c.host.post(
            "/v1/transactions",
            Some(&token),
            &sale_body(&rid(), 1, 4200, CARD),
        );
        assert_eq!(
            (st, sale["status"].as_str()),
            (200, Some("approved")),
            "{sale}"
        );

        let (st, signed) = c.host.post(
            "/v1/console/sign-in",
            None,
            &json!({"merchant_id": MERCHANT, "user": "owner", "password": "console-Secret-42"}),
        );
        assert_eq!(st, 200, "{signed}");
        let console = signed["console_token"].as_str().unwrap();
        let (st, now) = c.host.get("/v1/console/terminals", Some(console));
        assert_eq!(st, 200, "{now}");
        let list = now["terminals"].as_array().unwrap();
        assert!(
            list.iter().all(|t| t["terminal_id"] != lane_id.as_str()),
            "a lane is not listed: {now}"
        );
        let checkout = list
            .iter()
            .find(|t| t["terminal_id"] == CHECKOUT)
            .unwrap_or_else(|| panic!("the checkout terminal is listed: {now}"));
        assert_eq!(checkout["state"], "checkout", "{checkout}");
        assert_eq!(checkout["flags"], json!([]), "{checkout}");
        assert!(
            checkout["last_seen"].is_string(),
            "its lanes' last sale: {checkout}"
        );

        let (st, daily) = c.host.get("/v1/console/daily?days=1", Some(console));
        assert_eq!(st, 200, "{daily}");
        let text = daily.to_string();
        assert!(!text.contains(&lane_id), "no bar per lane: {daily}");
        assert!(text.contains(CHECKOUT) && text.contains("4200"), "{daily}");
    });
}
