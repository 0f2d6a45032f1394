//! R21 slips and reports over HTTP, on SQLite and (when configured) PostgreSQL: the merchant's
//! name from `terminal add --merchant-name` in the sign-in answer, and the terminal's settled
//! batches (its Z reports) at `GET /v1/settlements?since=`.

mod common;

use common::*;
use serde_json::{json, Value};

const NAME: &str = "示例茶叶店 Tea & Co";
const OTHER_TERMINAL: &str = "10000009";

fn add_named(db: &Db, terminal: &str, name: &str) -> String {
    let out = db.cli(
        &[
            "terminal",
            "add",
            "--merchant",
            MERCHANT,
            "--terminal",
            terminal,
            "--merchant-name",
            name,
        ],
        None,
    );
    out.lines().last().unwrap().trim().to_owned()
}

fn settle(c: &Counter, batch_no: u64, terminal_totals: Value) -> Value {
    let body =
        json!({"request_id": rid(), "batch_no": batch_no, "terminal_totals": terminal_totals});
    let (st, answer) = c.host.post("/v1/settlements", Some(&c.token), &body);
    assert_eq!(st, 200, "{answer}");
    answer
}

fn history(c: &Counter, query: &str) -> (u16, Value) {
    c.host
        .get(&format!("/v1/settlements{query}"), Some(&c.token))
}

#[test]
fn r21_merchant_name_from_terminal_add_is_in_every_sign_in_of_the_merchant() {
    each_backend(|b| {
        let mut c = Counter::new(b);
        // Named after the counter was made: absent until then.
        assert!(c.resign_in().get("merchant_name").is_none());
        let code = add_named(&c.db, OTHER_TERMINAL, NAME);
        let key = c.host.activate(MERCHANT, OTHER_TERMINAL, &code);
        let (st, body) = c.host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!((st, &body["merchant_name"]), (200, &json!(NAME)), "{body}");
        // One name per merchant: the first terminal prints it too.
        assert_eq!(c.resign_in()["merchant_name"], NAME);
        // Given again, it replaces the name.
        add_named(&c.db, TERMINAL, "  Tea House  ");
        assert_eq!(c.resign_in()["merchant_name"], "Tea House");
        // Too long, or with a control character: refused, nothing changed.
        for bad in ["x".repeat(41), "Tea\u{7}House".to_owned(), "   ".to_owned()] {
            terminal_add_refused(&c.db, &["--merchant-name", &bad]);
        }
        assert_eq!(c.resign_in()["merchant_name"], "Tea House");
    });
}

#[test]
fn r21_settlement_history_lists_this_terminals_settled_batches_with_both_totals() {
    each_backend(|b| {
        let c = Counter::new(b);
        let (st, body) = history(&c, "");
        assert_eq!((st, &body["settlements"]), (200, &json!([])), "{body}");
        // Batch 1 balanced, batch 2 unbalanced (the terminal counts one sale too many).
        assert_eq!(c.sale(1250, CARD).0, 200);
        settle(&c, 1, totals(1, (1, 1250), (0, 0), (0, 0)));
        assert_eq!(c.sale(800, CARD).0, 200);
        let answer = settle(&c, 2, totals(2, (2, 1600), (0, 0), (0, 0)));
        assert_eq!(answer["outcome"], "unbalanced", "{answer}");
        // Another terminal of the merchant settles too: not in this terminal's history.
        let activation = c.db.add_terminal(MERCHANT, OTHER_TERMINAL);
        let key = c.host.activate(MERCHANT, OTHER_TERMINAL, &activation);
        let (_, other) = c.host.sign_in(&key, "01", OPERATOR_PW);
        let other_token = other["session_token"].as_str().unwrap();
        let body = json!({"request_id": rid(), "batch_no": 1,
            "terminal_totals": totals(1, (0, 0), (0, 0), (0, 0))});
        assert_eq!(
            c.host.post("/v1/settlements", Some(other_token), &body).0,
            200
        );

        let (st, body) = history(&c, "");
        assert_eq!(st, 200, "{body}");
        let list = body["settlements"].as_array().unwrap();
        assert_eq!(list.len(), 2, "{body}");
        let (first, second) = (&list[0], &list[1]);
        assert_eq!(first["batch_no"], 1);
        assert_eq!(first["outcome"], "balanced");
        assert_eq!(first["discrepancy_count"], 0);
        assert_eq!(
            first["terminal_totals"]["sale"],
            json!({"count": 1, "amount": 1250})
        );
        assert_eq!(first["host_totals"]["net_amount"], 1250);
        assert!(
            first["settled_at"].as_str().unwrap().ends_with('Z'),
            "{first}"
        );
        let today = first["business_date"].as_str().unwrap().to_owned();
        assert_eq!(second["batch_no"], 2);
        assert_eq!(second["outcome"], "unbalanced");
        assert_eq!(second["terminal_totals"]["sale"]["count"], 2);
        assert_eq!(
            second["host_totals"]["sale"],
            json!({"count": 1, "amount": 800})
        );

        // `since` is the first business date: today's batches from today, none from tomorrow.
        let (_, body) = history(&c, &format!("?since={today}"));
        assert_eq!(body["settlements"].as_array().unwrap().len(), 2, "{body}");
        let tomorrow = jiff::civil::Date::strptime("%Y-%m-%d", &today)
            .unwrap()
            .tomorrow()
            .unwrap();
        let (_, body) = history(&c, &format!("?since={tomorrow}"));
        assert_eq!(body["settlements"], json!([]), "{body}");
        for bad in ["?since=2026-13-01", "?since=yesterday", "?since=2020-01-01"] {
            let (st, body) = history(&c, bad);
            assert_eq!((st, code(&body)), (422, "BAD_REQUEST"), "{bad}: {body}");
        }
        // A session's route: the terminal key alone is no session.
        let (st, _) = c.host.get("/v1/settlements", Some(&c.key));
        assert_eq!(st, 401);
        let (st, _) = c.host.get("/v1/settlements", None);
        assert_eq!(st, 401);
    });
}
