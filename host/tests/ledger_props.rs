//! Properties of the host's ledger over any interleaving of sales, voids, refunds and reversals
//! from two terminals of one merchant (R6–R8, R10, R11), against the real host on SQLite and
//! (when configured) PostgreSQL.
//!
//! The model is what the terminals were told: a transaction counts when it was answered
//! approved and no reversal answered `reversed: true` for it. After every step each terminal's
//! batch totals on the host must be the fold of that, no sale may have more refunded (or
//! voided and refunded) than its amount, and nothing may count that depends on a sale that
//! does not; at the end of each case both batches settle balanced.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// Cases per backend; each case is a fresh pair of batches on the same host.
const CASES: u32 = 16;

#[derive(Debug, Clone)]
enum Op {
    /// A sale on terminal `term`.
    Sale { term: usize, amount: i64 },
    /// The voiding terminal is the sale's own (a void names a trace in its open batch).
    Void { sale: usize },
    /// By RRN, from either terminal.
    Refund {
        term: usize,
        sale: usize,
        amount: i64,
    },
    /// From the transaction's own terminal (the reversal names its request id).
    Reverse { target: usize },
    /// A request id the host never saw: a tombstone.
    ReverseUnseen { term: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 1..=3000i64).prop_map(|(term, amount)| Op::Sale { term, amount }),
        1 => any::<usize>().prop_map(|sale| Op::Void { sale }),
        3 => (0..2usize, any::<usize>(), 1..=3000i64)
            .prop_map(|(term, sale, amount)| Op::Refund { term, sale, amount }),
        3 => any::<usize>().prop_map(|target| Op::Reverse { target }),
        1 => (0..2usize).prop_map(|term| Op::ReverseUnseen { term }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sale,
    Void,
    Refund,
}

/// One transaction as its terminal was answered.
#[derive(Debug, Clone)]
struct Tx {
    term: usize,
    id: String,
    kind: Kind,
    amount: i64,
    trace_no: u64,
    rrn: Option<String>,
    /// For a void or refund: the sale's index.
    sale: Option<usize>,
    approved: bool,
    reversed: bool,
}

impl Tx {
    fn counts(&self) -> bool {
        self.approved && !self.reversed
    }
}

struct Terminals<'a> {
    c: &'a Counter,
    tokens: [String; 2],
}

impl Terminals<'_> {
    fn post(&self, term: usize, path: &str, body: &Value) -> (u16, Value) {
        self.c.host.post(path, Some(&self.tokens[term]), body)
    }

    fn current(&self, term: usize) -> Value {
        let (st, body) = self
            .c
            .host
            .get("/v1/batches/current", Some(&self.tokens[term]));
        assert_eq!(st, 200, "{body}");
        body
    }

    /// Settles the open batch with `terminal_totals`; the outcome.
    fn settle(&self, term: usize, terminal_totals: Value) -> String {
        let batch_no = self.current(term)["batch_no"].clone();
        let mut t = terminal_totals;
        t["batch_no"] = batch_no.clone();
        let body = json!({"request_id": rid(), "batch_no": batch_no, "terminal_totals": t});
        let (st, answer) = self.post(term, "/v1/settlements", &body);
        assert_eq!(st, 200, "{answer}");
        answer["outcome"].as_str().unwrap_or_default().to_owned()
    }
}

/// R10: the fold of what counts on one terminal, in the host's wire form (batch aside).
fn fold(txs: &[Tx], term: usize) -> Value {
    let mut parts = [(0u64, 0i64); 3];
    for t in txs.iter().filter(|t| t.term == term && t.counts()) {
        let p = &mut parts[t.kind as usize];
        p.0 += 1;
        p.1 += t.amount;
    }
    let [s, v, r] = parts;
    totals(0, s, v, r)
}

fn without_batch(mut totals: Value) -> Value {
    totals["batch_no"] = json!(0);
    totals
}

fn check(ts: &Terminals, txs: &[Tx]) -> Result<(), TestCaseError> {
    for term in 0..2 {
        let host = without_batch(sums(&ts.current(term)["host_totals"]));
        prop_assert_eq!(host, fold(txs, term), "terminal {}", term + 1);
    }
    for (i, sale) in txs.iter().enumerate().filter(|(_, t)| t.kind == Kind::Sale) {
        let deps: Vec<&Tx> = txs
            .iter()
            .filter(|t| t.sale == Some(i) && t.counts())
            .collect();
        let refunded: i64 = deps
            .iter()
            .filter(|t| t.kind == Kind::Refund)
            .map(|t| t.amount)
            .sum();
        let voided = deps.iter().any(|t| t.kind == Kind::Void);
        prop_assert!(
            refunded <= sale.amount,
            "refunds {} exceed sale {}",
            refunded,
            sale.amount
        );
        prop_assert!(!(voided && refunded > 0), "a voided sale refunded");
        prop_assert!(
            deps.is_empty() || sale.counts(),
            "a void or refund counts for a sale that does not: {:?}",
            sale
        );
    }
    Ok(())
}

fn run_case(ts: &Terminals, traces: &mut [u64; 2], ops: &[Op]) -> Result<(), TestCaseError> {
    // Each case starts from empty batches, even after a failed one.
    for term in 0..2 {
        let cur = ts.current(term)["host_totals"].clone();
        if cur["sale"]["count"] != 0 || cur["void"]["count"] != 0 || cur["refund"]["count"] != 0 {
            ts.settle(term, cur);
        }
    }
    let mut txs: Vec<Tx> = Vec::new();
    for op in ops {
        step(ts, traces, &mut txs, op)?;
        check(ts, &txs)?;
    }
    for term in 0..2 {
        prop_assert_eq!(ts.settle(term, fold(&txs, term)), "balanced");
    }
    Ok(())
}

fn pick(txs: &[Tx], n: usize, kind: Option<Kind>) -> Option<usize> {
    let found: Vec<usize> = (0..txs.len())
        .filter(|&i| kind.is_none_or(|k| txs[i].kind == k))
        .collect();
    (!found.is_empty()).then(|| found[n % found.len()])
}

fn step(
    ts: &Terminals,
    traces: &mut [u64; 2],
    txs: &mut Vec<Tx>,
    op: &Op,
) -> Result<(), TestCaseError> {
    let mut trace = |term: usize| {
        traces[term] += 1;
        traces[term]
    };
    let (term, kind, amount, sale, body) = match *op {
        Op::Sale { term, amount } => {
            let t = trace(term);
            let body = sale_body(&rid(), t as u32, amount, CARD);
            (term, Kind::Sale, amount, None, body)
        }
        Op::Void { sale } => {
            let Some(s) = pick(txs, sale, Some(Kind::Sale)) else {
                return Ok(());
            };
            let (term, amount) = (txs[s].term, txs[s].amount);
            let body = json!({"request_id": rid(), "kind": "void", "trace_no": trace(term),
                "amount": amount, "currency": "CNY",
                "original": {"trace_no": txs[s].trace_no},
                "supervisor_password": SUPERVISOR_PW});
            (term, Kind::Void, amount, Some(s), body)
        }
        Op::Refund { term, sale, amount } => {
            let Some(s) = pick(txs, sale, Some(Kind::Sale)) else {
                return Ok(());
            };
            let Some(rrn) = txs[s].rrn.clone() else {
                return Ok(());
            };
            let body = json!({"request_id": rid(), "kind": "refund", "trace_no": trace(term),
                "amount": amount, "currency": "CNY", "original": {"rrn": rrn},
                "supervisor_password": SUPERVISOR_PW});
            (term, Kind::Refund, amount, Some(s), body)
        }
        Op::Reverse { target } => {
            let Some(i) = pick(txs, target, None) else {
                return Ok(());
            };
            let t = &txs[i];
            let (st, ack) = ts.post(t.term, "/v1/reversals", &json!({"request_id": t.id}));
            prop_assert_eq!(st, 200, "{}", ack);
            match ack["reversed"].as_bool() {
                Some(true) => txs[i].reversed = true,
                Some(false) => {
                    // The host kept it: a transaction it booked comes with its answer, and an
                    // approved one that counted still does.
                    if t.counts() {
                        prop_assert_eq!(&ack["transaction"]["status"], "approved", "{}", ack);
                        prop_assert_eq!(&ack["transaction"]["request_id"], &json!(t.id));
                    }
                }
                None => prop_assert!(false, "no verdict: {}", ack),
            }
            return Ok(());
        }
        Op::ReverseUnseen { term } => {
            let (st, ack) = ts.post(term, "/v1/reversals", &json!({"request_id": rid()}));
            prop_assert_eq!((st, &ack["reversed"]), (200, &json!(false)), "{}", ack);
            prop_assert!(ack.get("transaction").is_none(), "{}", ack);
            return Ok(());
        }
    };
    let (st, answer) = ts.post(term, "/v1/transactions", &body);
    // A refusal books nothing; the model only keeps what was answered.
    if st == 200 {
        txs.push(Tx {
            term,
            id: body["request_id"].as_str().unwrap_or_default().to_owned(),
            kind,
            amount,
            trace_no: answer["trace_no"].as_u64().unwrap_or_default(),
            rrn: answer["rrn"].as_str().map(str::to_owned),
            sale,
            approved: answer["status"] == "approved",
            reversed: false,
        });
    } else {
        prop_assert!((400..500).contains(&st), "{} {}", st, answer);
    }
    Ok(())
}

#[test]
fn r8_r10_any_interleaving_from_two_terminals_keeps_the_ledger_consistent() {
    each_backend(|b| {
        let c = Counter::new(b);
        let code = c.db.add_terminal(MERCHANT, "10000002");
        let key = c.host.activate(MERCHANT, "10000002", &code);
        let (st, body) = c.host.sign_in(&key, "01", OPERATOR_PW);
        assert_eq!(st, 200, "{body}");
        let ts = Terminals {
            tokens: [
                c.token.clone(),
                body["session_token"].as_str().unwrap().to_owned(),
            ],
            c: &c,
        };
        // Trace numbers are never reused, so a shrunk case rerun on the same host is fresh too.
        let traces = std::cell::RefCell::new([1000u64, 1000u64]);
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&prop::collection::vec(op(), 2..16), |ops| {
            run_case(&ts, &mut traces.borrow_mut(), &ops)
        });
        if let Err(e) = result {
            panic!("{b:?}: {e}");
        }
    });
}
