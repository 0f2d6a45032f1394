//! Native benchmarks of the terminal core. `make bench` runs them; each prints times.
//!
//! - append: one approved sale into the journal at batch sizes 10 … 100 000 (must be flat)
//! - sale through the state machine (validate, write-ahead, answer, journal) at 10 … 20 000
//! - fold: totals of a 100 000-entry journal from scratch
//! - compare: the R11 comparison of two 100 000-line journals
//! - snapshot/restore of a 20 000-entry batch (JSON, hash chain check, re-index)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use softpos::ids::{RequestId, TraceNo};
use softpos::protocol::{EntryKind, EntryStatus, TransactionResponse, TxStatus};
use softpos::terminal::journal::{ledger_lines, EntryDraft, Journal};
use softpos::terminal::settlement::{compare, fold};
use softpos::terminal::time::Timestamp;
use softpos::terminal::{
    Call, Command, Config, Meta, Reply, Snapshot, Step, Terminal, SNAPSHOT_VERSION,
};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

const MERCHANT: &str = "898310048160001";
const TERMINAL: &str = "10000001";
const NOW: Timestamp = Timestamp(1_795_831_200_000);

fn draft(i: u32) -> EntryDraft {
    EntryDraft {
        request_id: RequestId::parse(&format!("00000000-0000-4000-8000-{i:012x}")).expect("a UUID"),
        kind: EntryKind::Sale,
        trace_no: TraceNo::clamped(i % 999_999 + 1),
        amount: 100 + i64::from(i % 1000),
        currency: "CNY".into(),
        status: EntryStatus::Approved,
        response_code: Some("00".into()),
        rrn: Some(format!("{i:012}")),
        auth_code: Some("A1B2C3".into()),
        masked_pan: Some("621234******1232".into()),
        original_trace_no: None,
        original_rrn: None,
        operator: "01".into(),
        at: "2026-11-28T02:00:00.000Z".into(),
    }
}

fn journal_of(n: u32) -> Journal {
    let mut j = Journal::new(MERCHANT, TERMINAL, 1);
    for i in 0..n {
        j.append(draft(i)).expect("entries in range");
    }
    j
}

/// A signed-in terminal whose batch already holds `n` approved sales.
fn terminal_with(n: u32) -> Terminal {
    let meta = Meta {
        version: SNAPSHOT_VERSION,
        merchant_id: MERCHANT.into(),
        terminal_id: TERMINAL.into(),
        terminal_key: Some("key".into()),
        currency: Some("CNY".into()),
        batch_no: 1,
        business_date: Some("2026-11-28".into()),
        next_trace_no: n + 1,
        operator: None,
        reversals: VecDeque::new(),
        in_flight: None,
        settlement: None,
        reconcile: VecDeque::new(),
        recent_settled: Vec::new(),
        last_settlement: None,
        journal_len: n,
        utc_offset: Default::default(),
        confirm_above: Default::default(),
        merchant_name: None,
        history: Default::default(),
    };
    let snapshot = Snapshot {
        meta,
        entries: journal_of(n).entries().to_vec(),
    };
    signed_in(snapshot, n)
}

/// Restores a snapshot and signs in, as after a reload.
fn signed_in(snapshot: Snapshot, n: u32) -> Terminal {
    let mut config = Config::new(MERCHANT, TERMINAL);
    config.max_batch_entries = 1_000_000;
    let mut t = Terminal::restore(config, snapshot, NOW).expect("valid snapshot");
    t.begin(
        Command::SignIn {
            operator: "01".into(),
            password: "pw".into(),
        },
        NOW,
    )
    .expect("sign in starts");
    let Step::Send(out) = t.step(NOW, &mut || softpos::ids::RequestId::from_random([0; 16])) else {
        panic!("sign-in request")
    };
    let reply = out.call.parse_answer(&format!(
        r#"{{"session_token":"s","expires_at":"2026-11-28T15:00:00Z","operator":"01",
            "business_date":"2026-11-28","batch_no":1,"next_trace_no":{},"currency":"CNY",
            "closed_batches":[]}}"#,
        n + 1
    ));
    t.handle_reply(reply, NOW);
    assert!(matches!(
        t.step(NOW, &mut || softpos::ids::RequestId::from_random([0; 16])),
        Step::Done(Ok(_))
    ));
    t.take_writes();
    t
}

/// One sale through the core as the driver runs it, host answer synthesised.
fn one_sale(t: &mut Terminal, id: u64) {
    t.begin(
        Command::Sale {
            amount: 1250,
            pan: "6212345678901232".into(),
            expiry: "12/30".into(),
            reference: None,
        },
        NOW,
    )
    .expect("sale starts");
    let mut next = id;
    let Step::Send(out) = t.step(NOW, &mut || {
        next += 1;
        softpos::ids::RequestId::parse(&format!("00000000-0000-4000-8000-{next:012x}"))
            .expect("a UUID")
    }) else {
        panic!("sale request")
    };
    black_box(t.take_writes());
    let Call::Transaction(req) = &out.call else {
        panic!("transaction")
    };
    let reply = Reply::Transaction(TransactionResponse {
        request_id: req.request_id.clone(),
        status: TxStatus::Approved,
        response_code: "00".into(),
        message: "Approved".into(),
        rrn: Some(format!("{next:012}")),
        auth_code: Some("A1B2C3".into()),
        batch_no: softpos::ids::BatchNo::FIRST,
        trace_no: req.trace_no,
        masked_pan: Some("621234******1232".into()),
        host_time: "2026-11-28T02:00:00Z".into(),
        reference: None,
    });
    t.handle_reply(reply, NOW);
    black_box(t.step(NOW, &mut || unreachable!()));
    black_box(t.take_writes());
}

fn bench(c: &mut Criterion) {
    // Appends are timed in chunks of CHUNK onto a fresh copy of an n-entry batch, so the
    // size measured stays n (not n plus everything the benchmark itself appended). The
    // journal's Vec doubles as it grows: one copy per doubling, amortised O(1) per append.
    const CHUNK: u64 = 1_000;
    let mut g = c.benchmark_group("append");
    for n in [10u32, 1_000, 20_000, 100_000] {
        let base = journal_of(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let k = left.min(CHUNK);
                    let mut j = base.clone();
                    // A clone has no spare capacity; one untimed append gives it the
                    // doubling a long-lived journal has, so the figure is the amortised cost.
                    j.append(draft(n)).expect("entries in range");
                    let start = Instant::now();
                    for i in 0..k {
                        let _ = j.append(draft(n + 1 + i as u32));
                    }
                    total += start.elapsed();
                    left -= k;
                }
                total
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("sale_in_core");
    for n in [10u32, 1_000, 20_000] {
        let snapshot = terminal_with(n).snapshot();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                let mut id = 1_000_000u64;
                while left > 0 {
                    let k = left.min(CHUNK);
                    let mut t = signed_in(snapshot.clone(), n);
                    id += 10;
                    one_sale(&mut t, id);
                    let start = Instant::now();
                    for _ in 0..k {
                        id += 10;
                        one_sale(&mut t, id);
                    }
                    total += start.elapsed();
                    left -= k;
                }
                total
            })
        });
    }
    g.finish();

    // The whole-batch view of append: 100 000 sales from empty, every hash-table and vector
    // growth included. Divided by 100 000 it is the amortised append cost at any size.
    c.bench_function("append_100k_from_empty", |b| b.iter(|| journal_of(100_000)));

    let big = journal_of(100_000);
    let lines = ledger_lines(big.entries());
    c.bench_function("fold_100k", |b| b.iter(|| fold(black_box(&lines))));
    c.bench_function("ledger_and_fold_100k", |b| {
        b.iter(|| fold(&ledger_lines(black_box(big.entries()))))
    });
    let mut other = lines.clone();
    other[50_000].amount += 1;
    other.swap_remove(70_000);
    c.bench_function("compare_100k", |b| {
        b.iter(|| compare(black_box(&lines), black_box(&other)))
    });

    let t = terminal_with(20_000);
    let json = t.snapshot().to_json();
    println!("snapshot of 20 000 entries: {} bytes of JSON", json.len());
    c.bench_function("snapshot_20k", |b| b.iter(|| t.snapshot().to_json()));
    c.bench_function("restore_20k", |b| {
        b.iter(|| {
            let s = Snapshot::from_json(black_box(&json)).expect("valid");
            Terminal::restore(Config::new(MERCHANT, TERMINAL), s, NOW).expect("valid")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(300));
    targets = bench
}
criterion_main!(benches);
