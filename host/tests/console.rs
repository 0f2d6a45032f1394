//! R22 the merchant's console over HTTP, on SQLite and (when configured) PostgreSQL: merchant
//! users, the console token kept apart from terminal credentials, the terminals it shows and
//! flags, the forced sign-off, and the settlement history.

mod common;

use common::*;
use serde_json::{json, Value};

const OWNER: &str = "owner";
const OWNER_PW: &str = "console-Secret-42";
const OTHER_MERCHANT: &str = "898310048160002";

/// `admin add`, password on stdin.
fn add_user(db: &Db, merchant: &str, user: &str, password: &str) {
    let out = db.cli(
        &["admin", "add", "--merchant", merchant, "--user", user],
        Some(&format!("{password}\n")),
    );
    assert!(out.contains("saved"), "{out}");
}

fn console_sign_in(host: &Host, merchant: &str, user: &str, password: &str) -> (u16, Value) {
    host.post(
        "/v1/console/sign-in",
        None,
        &json!({"merchant_id": merchant, "user": user, "password": password}),
    )
}

/// A console token of the owner of `merchant`.
fn console(host: &Host, merchant: &str) -> String {
    let (st, body) = console_sign_in(host, merchant, OWNER, OWNER_PW);
    assert_eq!(st, 200, "{body}");
    assert!(body["expires_at"].is_string(), "{body}");
    body["console_token"].as_str().unwrap().to_owned()
}

fn terminals(host: &Host, token: &str) -> Vec<Value> {
    let (st, body) = host.get("/v1/console/terminals", Some(token));
    assert_eq!(st, 200, "{body}");
    body["terminals"].as_array().unwrap().clone()
}

fn terminal<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter()
        .find(|t| t["terminal_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list:?}"))
}

fn flags(t: &Value) -> Vec<&str> {
    t["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

/// A second terminal of `merchant`, activated and signed in: its key and session token.
fn second_terminal(c: &Counter, merchant: &str, terminal: &str) -> (String, String) {
    let code = c.db.add_terminal(merchant, terminal);
    c.db.add_operator(merchant, "01", OPERATOR_PW);
    let key = c.host.activate(merchant, terminal, &code);
    let (st, body) = c.host.sign_in(&key, "01", OPERATOR_PW);
    assert_eq!(st, 200, "{body}");
    (key, body["session_token"].as_str().unwrap().to_owned())
}

fn sign_off(host: &Host, token: &str, terminal: &str) -> Value {
    let (st, body) = host.post(
        &format!("/v1/console/terminals/{terminal}/sign-off"),
        Some(token),
        &json!({}),
    );
    assert_eq!(st, 200, "{body}");
    body
}

#[test]
fn r22_merchant_a_never_sees_merchant_b() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (_, b_token) = second_terminal(&c, OTHER_MERCHANT, "20000001");
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        add_user(&c.db, OTHER_MERCHANT, OWNER, OWNER_PW);
        // Merchant B trades and settles.
        let (st, body) = c.host.post(
            "/v1/transactions",
            Some(&b_token),
            &sale_body(&rid(), 1, 900, CARD),
        );
        assert_eq!(st, 200, "{body}");
        let settle = json!({"request_id": rid(), "batch_no": 1,
            "terminal_totals": totals(1, (1, 900), (0, 0), (0, 0))});
        let (st, body) = c.host.post("/v1/settlements", Some(&b_token), &settle);
        assert_eq!(st, 200, "{body}");

        let a = console(&c.host, MERCHANT);
        let list = terminals(&c.host, &a);
        let ids: Vec<&str> = list
            .iter()
            .map(|t| t["terminal_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [TERMINAL], "merchant A sees its own terminal only");
        let (st, body) = c.host.get("/v1/console/settlements", Some(&a));
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["settlements"], json!([]), "{body}");
        let (st, body) = c
            .host
            .get("/v1/console/settlements?terminal_id=20000001", Some(&a));
        assert_eq!((st, &body["settlements"]), (200, &json!([])), "{body}");
        // Merchant A cannot sign off merchant B's terminal: it has no such terminal.
        let (st, body) = c.host.post(
            "/v1/console/terminals/20000001/sign-off",
            Some(&a),
            &json!({}),
        );
        assert_eq!(st, 404, "{body}");
        let (st, body) = c.host.get("/v1/batches/current", Some(&b_token));
        assert_eq!(st, 200, "B's session lives on: {body}");

        // Merchant B sees its own.
        let bt = console(&c.host, OTHER_MERCHANT);
        let list = terminals(&c.host, &bt);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["terminal_id"], "20000001");
        let (_, body) = c.host.get("/v1/console/settlements", Some(&bt));
        assert_eq!(body["settlements"].as_array().unwrap().len(), 1, "{body}");
        // The same user name and password at merchant A's id gives merchant A's console only.
        assert_ne!(a, bt);
    });
}

#[test]
fn r22_terminal_token_refused_on_console_routes() {
    each_backend(|b| {
        let c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        let routes: [(&str, &str); 3] = [
            ("GET", "/v1/console/terminals"),
            ("GET", "/v1/console/settlements"),
            ("POST", "/v1/console/terminals/10000001/sign-off"),
        ];
        for credential in [c.key.as_str(), c.token.as_str()] {
            for (method, path) in routes {
                let (st, body) = match method {
                    "GET" => c.host.get(path, Some(credential)),
                    _ => c.host.post(path, Some(credential), &json!({})),
                };
                assert_eq!(
                    (st, code(&body)),
                    (401, "BAD_CREDENTIALS"),
                    "{path}: {body}"
                );
            }
        }
        for (method, path) in routes {
            let (st, body) = match method {
                "GET" => c.host.get(path, None),
                _ => c.host.post(path, None, &json!({})),
            };
            assert_eq!((st, code(&body)), (401, "NOT_SIGNED_IN"), "{path}: {body}");
        }
        // The terminal's session was never ended by any of it.
        let (st, body) = c.sale(100, CARD);
        assert_eq!(st, 200, "{body}");
    });
}

#[test]
fn r22_console_token_refused_on_terminal_routes() {
    each_backend(|b| {
        let c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        let token = console(&c.host, MERCHANT);
        let posts = [
            (
                "/v1/sign-in",
                json!({"operator": "01", "password": OPERATOR_PW}),
            ),
            ("/v1/transactions", sale_body(&rid(), 1, 100, CARD)),
            ("/v1/reversals", json!({"request_id": rid()})),
            (
                "/v1/settlements",
                json!({"request_id": rid(), "batch_no": 1,
                    "terminal_totals": totals(1, (0, 0), (0, 0), (0, 0))}),
            ),
            (
                "/v1/settlements/1/upload",
                json!({"request_id": rid(), "entries": []}),
            ),
            ("/v1/sign-off", json!({})),
        ];
        for (path, body) in &posts {
            let (st, answer) = c.host.post(path, Some(&token), body);
            assert_eq!(
                (st, code(&answer)),
                (401, "BAD_CREDENTIALS"),
                "{path}: {answer}"
            );
        }
        for path in ["/v1/batches/current", "/v1/sales", "/v1/sales?q=1"] {
            let (st, answer) = c.host.get(path, Some(&token));
            assert_eq!(
                (st, code(&answer)),
                (401, "BAD_CREDENTIALS"),
                "{path}: {answer}"
            );
        }
        assert_eq!(
            sums(&c.current()["host_totals"]),
            totals(1, (0, 0), (0, 0), (0, 0))
        );
    });
}

#[test]
fn r22_forced_sign_off_changes_no_total() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        c.sale(1200, CARD);
        c.sale(300, CARD);
        let before = c.current();
        let token = console(&c.host, MERCHANT);
        let seen = terminals(&c.host, &token);
        let open = terminal(&seen, TERMINAL)["open_batch"].clone();
        assert_eq!(open["totals"], before["host_totals"], "{open}");
        assert_eq!(open["entries"], 2);

        let answer = sign_off(&c.host, &token, TERMINAL);
        assert_eq!(answer["ended_sessions"], 1, "{answer}");
        let again = sign_off(&c.host, &token, TERMINAL);
        assert_eq!(again["ended_sessions"], 0, "nothing left to end: {again}");

        let after = terminals(&c.host, &token);
        let t = terminal(&after, TERMINAL);
        assert_eq!(t["state"], "signed_off", "{t}");
        assert_eq!(t["open_batch"], open, "the open batch is as it was");
        c.resign_in();
        let now = c.current();
        assert_eq!(now["batch_no"], before["batch_no"]);
        assert_eq!(now["host_totals"], before["host_totals"]);
        assert_eq!(now["business_date"], before["business_date"]);
    });
}

#[test]
fn r22_forced_sign_off_answers_signed_off_remotely() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        let token = console(&c.host, MERCHANT);
        let t = terminals(&c.host, &token);
        assert_eq!(terminal(&t, TERMINAL)["state"], "signed_in");
        assert_eq!(terminal(&t, TERMINAL)["operator"], "01");
        sign_off(&c.host, &token, TERMINAL);
        let (st, body) = c.sale(100, CARD);
        assert_eq!((st, code(&body)), (401, "SIGNED_OFF_REMOTELY"), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signed this terminal off from the console"),
            "{body}"
        );
        for path in ["/v1/batches/current", "/v1/sales"] {
            let (st, body) = c.host.get(path, Some(&c.token));
            assert_eq!(
                (st, code(&body)),
                (401, "SIGNED_OFF_REMOTELY"),
                "{path}: {body}"
            );
        }
        let (st, body) = c.host.post("/v1/sign-off", Some(&c.token), &json!({}));
        assert_eq!((st, code(&body)), (401, "SIGNED_OFF_REMOTELY"), "{body}");
        // A sign-in starts over.
        c.resign_in();
        let (st, body) = c.sale(100, CARD);
        assert_eq!(st, 200, "{body}");
    });
}

#[test]
fn r22_flags_not_signed_off_past_cutoff() {
    each_backend(|b| {
        let c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        // Terminal 10000001 trades and is left signed in; 10000002 signs off properly.
        c.sale(500, CARD);
        let (_, tidy) = second_terminal(&c, MERCHANT, "10000002");
        let (st, body) = c.host.post("/v1/sign-off", Some(&tidy), &json!({}));
        assert_eq!(st, 200, "{body}");
        let token = console(&c.host, MERCHANT);
        let list = terminals(&c.host, &token);
        assert!(
            list.iter().all(|t| flags(t).is_empty()),
            "before the cut-off: {list:?}"
        );

        let out = c.db.cutoff();
        assert!(out.contains("1 batches closed"), "{out}");
        let list = terminals(&c.host, &token);
        assert_eq!(list[0]["terminal_id"], TERMINAL, "flagged first: {list:?}");
        assert_eq!(
            flags(&list[0]),
            ["not_signed_off", "not_settled_past_cutoff"],
            "{list:?}"
        );
        assert_eq!(
            list[0]["state"], "signed_off",
            "the cut-off ended its session"
        );
        assert!(flags(terminal(&list, "10000002")).is_empty(), "{list:?}");

        // The console closes it: the flag goes, the batch closed at the cut-off stays owed.
        sign_off(&c.host, &token, TERMINAL);
        let list = terminals(&c.host, &token);
        assert_eq!(
            flags(terminal(&list, TERMINAL)),
            ["not_settled_past_cutoff"]
        );
        let (st, body) = c.sale(100, CARD);
        assert_eq!((st, code(&body)), (401, "SIGNED_OFF_REMOTELY"), "{body}");
    });
}

#[test]
fn r22_console_sign_in_locks_after_three_wrong_passwords() {
    each_backend(|b| {
        let db = Db::new(b);
        db.add_terminal(MERCHANT, TERMINAL);
        add_user(&db, MERCHANT, OWNER, OWNER_PW);
        add_user(&db, MERCHANT, "clerk", "clerk-pw-1");
        let host = Host::start(&db, &[]);
        for attempt in 1..=2 {
            let (st, body) = console_sign_in(&host, MERCHANT, OWNER, "wrong");
            assert_eq!(
                (st, code(&body)),
                (401, "BAD_CREDENTIALS"),
                "{attempt}: {body}"
            );
        }
        let (st, body) = console_sign_in(&host, MERCHANT, OWNER, "wrong");
        assert_eq!((st, code(&body)), (423, "OPERATOR_LOCKED"), "third: {body}");
        let (st, body) = console_sign_in(&host, MERCHANT, OWNER, OWNER_PW);
        assert_eq!(
            (st, code(&body)),
            (423, "OPERATOR_LOCKED"),
            "locked: {body}"
        );
        // Another user of the merchant is not locked; an unknown one is refused alike.
        let (st, body) = console_sign_in(&host, MERCHANT, "clerk", "clerk-pw-1");
        assert_eq!(st, 200, "{body}");
        let (st, body) = console_sign_in(&host, MERCHANT, "nobody", OWNER_PW);
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
        // `admin add` sets the password again and lifts the lock.
        add_user(&db, MERCHANT, OWNER, OWNER_PW);
        let (st, body) = console_sign_in(&host, MERCHANT, OWNER, OWNER_PW);
        assert_eq!(st, 200, "{body}");
        let token = body["console_token"].as_str().unwrap();
        assert!(!db_contains(&db, token), "the token is stored hashed");
    });
}

/// Whether a value appears in the host's tables (SQLite: the file; PostgreSQL: every row).
fn db_contains(db: &Db, needle: &str) -> bool {
    match db.backend {
        Backend::Postgres => db.pg_dump_text().contains(needle),
        Backend::Sqlite => {
            let mut bytes = Vec::new();
            for f in std::fs::read_dir(db.dir.path()).unwrap() {
                bytes.extend(std::fs::read(f.unwrap().path()).unwrap());
            }
            String::from_utf8_lossy(&bytes).contains(needle)
        }
    }
}

#[test]
fn r22_settlements_csv() {
    each_backend(|b| {
        let c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        c.sale(1500, CARD);
        // The terminal counted one sale too few: unbalanced, waiting for its upload.
        let settle = json!({"request_id": rid(), "batch_no": 1,
            "terminal_totals": totals(1, (0, 0), (0, 0), (0, 0))});
        let (st, body) = c.host.post("/v1/settlements", Some(&c.token), &settle);
        assert_eq!(
            (st, body["outcome"].as_str()),
            (200, Some("unbalanced")),
            "{body}"
        );
        let token = console(&c.host, MERCHANT);
        let (st, json) = c.host.get("/v1/console/settlements", Some(&token));
        assert_eq!(st, 200, "{json}");
        let rows = json["settlements"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{json}");
        assert_eq!(rows[0]["terminal_id"], TERMINAL);
        assert_eq!(rows[0]["outcome"], "unbalanced");
        assert_eq!(rows[0]["awaiting_upload"], true);
        assert_eq!(rows[0]["host_totals"]["sale"]["amount"], 1500);
        assert_eq!(rows[0]["terminal_totals"]["sale"]["amount"], 0);
        let list = terminals(&c.host, &token);
        assert_eq!(
            flags(terminal(&list, TERMINAL)),
            ["unbalanced_last_settlement"]
        );

        let date = rows[0]["business_date"].as_str().unwrap();
        let res = c
            .host
            .http
            .get(c.host.url(&format!(
                "/v1/console/settlements?from={date}&to={date}&terminal_id={TERMINAL}&format=csv"
            )))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(res.status(), 200);
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/csv"), "{kind}");
        let csv = res.text().unwrap();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(
            lines[0].starts_with("business_date,terminal_id,batch_no,"),
            "{csv}"
        );
        assert!(
            lines[1].starts_with(&format!("{date},{TERMINAL},1,")),
            "{csv}"
        );
        assert!(lines[1].contains(",unbalanced,"), "{csv}");
        assert!(lines[1].contains(",CNY,0,0,0,1,1500,1500,"), "{csv}");

        let (st, body) = c.host.get(
            "/v1/console/settlements?from=2020-01-01&to=2025-01-01",
            Some(&token),
        );
        assert_eq!(
            (st, code(&body)),
            (422, "BAD_REQUEST"),
            "over a year: {body}"
        );
        let (st, body) = c
            .host
            .get("/v1/console/settlements?from=yesterday", Some(&token));
        assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{body}");
    });
}

#[test]
fn r22_console_sign_in_is_rate_limited_per_address() {
    let db = Db::new(Backend::Sqlite);
    db.add_terminal(MERCHANT, TERMINAL);
    add_user(&db, MERCHANT, OWNER, OWNER_PW);
    let host = Host::start(&db, &["--sign-in-per-minute", "2"]);
    let (st, body) = console_sign_in(&host, MERCHANT, OWNER, OWNER_PW);
    assert_eq!(st, 200, "{body}");
    let (st, body) = console_sign_in(&host, MERCHANT, "nobody", "wrong");
    assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
    // The third within the minute waits, right password or not, before any check.
    let res = host
        .http
        .post(host.url("/v1/console/sign-in"))
        .json(&json!({"merchant_id": MERCHANT, "user": OWNER, "password": OWNER_PW}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let (_, body) = answer(res);
    assert_eq!(code(&body), "BUSY", "{body}");
    // Terminal sign-ins have their own allowance.
    let (st, body) = host.post(
        "/v1/sign-in",
        Some("no-such-key"),
        &json!({"operator": "01", "password": OPERATOR_PW}),
    );
    assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
}

fn void_of(c: &Counter, original: u32, amount: i64) -> Value {
    let body = json!({"request_id": rid(), "kind": "void", "trace_no": c.trace(), "amount": amount,
        "currency": "CNY", "original": {"trace_no": original}, "supervisor_password": SUPERVISOR_PW});
    let (st, answer) = c.tx(&body);
    assert_eq!(
        (st, answer["status"].as_str()),
        (200, Some("approved")),
        "{answer}"
    );
    answer
}

fn refund_of(c: &Counter, rrn: &str, amount: i64) -> Value {
    let body = json!({"request_id": rid(), "kind": "refund", "trace_no": c.trace(), "amount": amount,
        "currency": "CNY", "original": {"rrn": rrn}, "supervisor_password": SUPERVISOR_PW});
    let (st, answer) = c.tx(&body);
    assert_eq!(
        (st, answer["status"].as_str()),
        (200, Some("approved")),
        "{answer}"
    );
    answer
}

/// An approved sale of the counter: its trace number and RRN.
fn approved_sale(c: &Counter, amount: i64) -> (u32, String) {
    let trace = c.trace();
    let (st, answer) = c.tx(&sale_body(&rid(), trace, amount, CARD));
    assert_eq!(
        (st, answer["status"].as_str()),
        (200, Some("approved")),
        "{answer}"
    );
    (trace, answer["rrn"].as_str().unwrap().to_owned())
}

fn nets(body: &Value) -> Vec<(String, String, i64)> {
    body["nets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["currency"], "CNY", "{n}");
            (
                n["business_date"].as_str().unwrap().to_owned(),
                n["terminal_id"].as_str().unwrap().to_owned(),
                n["net_amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn r22_daily_net_is_scoped_to_the_merchant() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        add_user(&c.db, OTHER_MERCHANT, OWNER, OWNER_PW);
        // Merchant A, terminal 10000001: 1200 + 300 sold, the 300 voided, 200 refunded, one
        // declined: net 1000.
        let (_, rrn) = approved_sale(&c, 1200);
        let (voided, _) = approved_sale(&c, 300);
        void_of(&c, voided, 300);
        refund_of(&c, &rrn, 200);
        let (st, body) = c.sale(5000, "4000000000000002");
        assert_eq!(
            (st, body["status"].as_str()),
            (200, Some("declined")),
            "{body}"
        );
        // Merchant A's second terminal sells 450; merchant B's terminal sells 900.
        let (_, a2) = second_terminal(&c, MERCHANT, "10000002");
        let (st, body) = c.host.post(
            "/v1/transactions",
            Some(&a2),
            &sale_body(&rid(), 1, 450, CARD),
        );
        assert_eq!(st, 200, "{body}");
        let (_, b1) = second_terminal(&c, OTHER_MERCHANT, "20000001");
        let (st, body) = c.host.post(
            "/v1/transactions",
            Some(&b1),
            &sale_body(&rid(), 1, 900, CARD),
        );
        assert_eq!(st, 200, "{body}");

        let a = console(&c.host, MERCHANT);
        let (st, day1) = c.host.get("/v1/console/daily?days=30", Some(&a));
        assert_eq!(st, 200, "{day1}");
        let today = c.current()["business_date"].as_str().unwrap().to_owned();
        assert_eq!(day1["to"], today.as_str(), "{day1}");
        assert_eq!(
            nets(&day1),
            [
                (today.clone(), TERMINAL.to_owned(), 1000),
                (today.clone(), "10000002".to_owned(), 450)
            ],
            "merchant A's own terminals only"
        );
        let bt = console(&c.host, OTHER_MERCHANT);
        let (_, other) = c.host.get("/v1/console/daily", Some(&bt));
        assert_eq!(nets(&other), [(today.clone(), "20000001".to_owned(), 900)]);

        // After the cut-off the next business day has its own net; the closed batch keeps
        // its day's.
        c.db.cutoff();
        c.resign_in();
        let (_, rrn2) = approved_sale(&c, 700);
        refund_of(&c, &rrn2, 700);
        approved_sale(&c, 80);
        let (_, day2) = c.host.get("/v1/console/daily", Some(&a));
        let tomorrow = day2["to"].as_str().unwrap().to_owned();
        assert!(tomorrow > today, "{day2}");
        assert_eq!(
            nets(&day2),
            [
                (today.clone(), TERMINAL.to_owned(), 1000),
                (today.clone(), "10000002".to_owned(), 450),
                (tomorrow.clone(), TERMINAL.to_owned(), 80)
            ]
        );
        let (_, one) = c.host.get("/v1/console/daily?days=1", Some(&a));
        assert_eq!(
            (&one["from"], &one["to"]),
            (&day2["to"], &day2["to"]),
            "{one}"
        );
        assert_eq!(nets(&one), [(tomorrow, TERMINAL.to_owned(), 80)]);
        for bad in ["0", "367", "x", "-1"] {
            let (st, body) = c
                .host
                .get(&format!("/v1/console/daily?days={bad}"), Some(&a));
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{bad}: {body}");
        }
        let (st, body) = c.host.get("/v1/console/daily", Some(&c.token));
        assert_eq!((st, code(&body)), (401, "BAD_CREDENTIALS"), "{body}");
    });
}

/// The hours' sales of an hourly answer: (local hour, count, amount) of the hours with any.
fn busy_hours(body: &Value) -> Vec<(u64, u64, i64)> {
    let mut out = Vec::new();
    for h in body["hours"].as_array().unwrap() {
        for s in h["sales"].as_array().unwrap() {
            assert_eq!(s["currency"], "CNY", "{h}");
            out.push((
                h["hour"].as_u64().unwrap(),
                s["count"].as_u64().unwrap(),
                s["amount"].as_i64().unwrap(),
            ));
        }
    }
    out
}

#[test]
fn r22_hourly_sales_in_local_time() {
    each_backend(|b| {
        // Kathmandu is UTC+05:45: no local hour starts on a UTC hour.
        let zone = "Asia/Kathmandu";
        let c = Counter::with_args(b, &["--timezone", zone]);
        add_user(&c.db, MERCHANT, OWNER, OWNER_PW);
        add_user(&c.db, OTHER_MERCHANT, OWNER, OWNER_PW);
        let tz = jiff::tz::TimeZone::get(zone).unwrap();
        let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
        let midnight = today.to_zoned(tz.clone()).unwrap().start_of_day().unwrap();
        let at = |h: i64, m: i64| midnight.timestamp().as_millisecond() + (h * 60 + m) * 60_000;
        // Three sales, moved to 00:10, 00:50 and 13:05 local; one to 23:59 the day before;
        // a declined one, a refund, and merchant B's sale count nowhere here.
        let mut moved = Vec::new();
        for (amount, when) in [
            (100, at(0, 10)),
            (250, at(0, 50)),
            (4000, at(13, 5)),
            (9, at(-1, 59)),
        ] {
            let (trace, rrn) = approved_sale(&c, amount);
            moved.push((trace, rrn.clone(), when));
        }
        let (st, body) = c.sale(5000, "4000000000000002");
        assert_eq!(
            (st, body["status"].as_str()),
            (200, Some("declined")),
            "{body}"
        );
        refund_of(&c, &moved[2].1, 1000);
        let (_, b1) = second_terminal(&c, OTHER_MERCHANT, "20000001");
        let (st, body) = c.host.post(
            "/v1/transactions",
            Some(&b1),
            &sale_body(&rid(), 1, 900, CARD),
        );
        assert_eq!(st, 200, "{body}");
        for (trace, _, when) in &moved {
            c.db.exec(&format!(
                "UPDATE transactions SET created_at = {when} WHERE trace_no = {trace} \
                 AND kind = 'sale' AND merchant_id = '{MERCHANT}'"
            ))
            .unwrap();
        }
        // The refund and the declined sale stay at now, and count nowhere in the picture.
        let a = console(&c.host, MERCHANT);
        let (st, body) = c
            .host
            .get(&format!("/v1/console/hourly?date={today}"), Some(&a));
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["date"], today.to_string());
        assert_eq!(body["timezone"], zone);
        let hours = body["hours"].as_array().unwrap();
        assert_eq!(hours.len(), 24, "{body}");
        assert_eq!(hours[0]["hour"], 0);
        assert_eq!(hours[13]["starts_at"], format!("{today}T13:00:00+05:45"));
        assert_eq!(busy_hours(&body), [(0, 2, 350), (13, 1, 4000)], "{body}");
        let (_, default) = c.host.get("/v1/console/hourly", Some(&a));
        assert_eq!(default["date"], today.to_string(), "today by default");
        let yesterday = today.yesterday().unwrap();
        let (_, before) = c
            .host
            .get(&format!("/v1/console/hourly?date={yesterday}"), Some(&a));
        assert_eq!(busy_hours(&before), [(23, 1, 9)], "{before}");
        // Merchant B sees its own sale only.
        let bt = console(&c.host, OTHER_MERCHANT);
        let (_, other) = c.host.get("/v1/console/hourly", Some(&bt));
        let now_hour = jiff::Timestamp::now().to_zoned(tz.clone()).hour() as u64;
        assert_eq!(busy_hours(&other), [(now_hour, 1, 900)], "{other}");
        for bad in ["2026-13-01", "today", "2026-1-1"] {
            let (st, body) = c
                .host
                .get(&format!("/v1/console/hourly?date={bad}"), Some(&a));
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{bad}: {body}");
        }
    });
}

#[test]
fn r22_hourly_day_of_a_daylight_saving_change_has_its_hours() {
    let db = Db::new(Backend::Sqlite);
    db.add_terminal(MERCHANT, TERMINAL);
    add_user(&db, MERCHANT, OWNER, OWNER_PW);
    let host = Host::start(&db, &["--timezone", "America/New_York"]);
    let token = console(&host, MERCHANT);
    let (_, fall) = host.get("/v1/console/hourly?date=2026-11-01", Some(&token));
    let hours: Vec<u64> = fall["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hour"].as_u64().unwrap())
        .collect();
    assert_eq!(hours.len(), 25, "{fall}");
    assert_eq!(&hours[..3], [0, 1, 1], "01:00 twice");
    assert_eq!(fall["hours"][1]["starts_at"], "2026-11-01T01:00:00-04:00");
    assert_eq!(fall["hours"][2]["starts_at"], "2026-11-01T01:00:00-05:00");
    let (_, spring) = host.get("/v1/console/hourly?date=2026-03-08", Some(&token));
    assert_eq!(spring["hours"].as_array().unwrap().len(), 23, "{spring}");
}
