//! Edges of the core rules that no other test pinned down: each was found by mutation testing
//! (`make mutants`, docs/mutants.md) as a change to the core that every test let pass. Most
//! drive the sans-IO core with the model host; where a test needs an answer the model host
//! never gives (another request id, an odd trace number, a lost reconciliation), it scripts it.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use softpos::ids::{BatchNo, RequestId, TraceNo};
use softpos::protocol::{
    ActivateRequest, BatchTotals, EntryKind, EntryStatus, JournalEntry, OriginalRef, Outcome,
    ReversalRequest, ReversalResponse, SettlementRequest, SettlementResponse, SignInRequest,
    SignOffRequest, SignOffResponse, Totals, TransactionRequest, TransactionResponse, TxKind,
    TxStatus, UploadProgress, UploadRequest, UploadResponse,
};
use softpos::terminal::card::{mask_digits, Expiry, Pan};
use softpos::terminal::journal::{
    entry_hash, genesis_hash, ledger_lines, verify_chain, EntryDraft, Journal,
};
use softpos::terminal::money::Currency;
use softpos::terminal::settlement::{outcome, LineStatus};
use softpos::terminal::time::Timestamp;
use softpos::terminal::{
    Auth, Call, Command, Completion, Config, Event, Outgoing, RecoveryKind, Reply, State, Terminal,
};
use softpos::{Error, ErrorCode};
use support::*;

/// Runs one operation as `Bench::run` does, but every request goes through `answer`, which
/// may pass it to the model host (`host.handle(out)`), change that answer, or make one up.
fn run_scripted(
    b: &mut Bench,
    command: Command,
    answer: impl FnMut(&Outgoing, &mut ModelHost) -> Reply,
) -> Result<Completion, Error> {
    b.terminal.begin(command, b.now)?;
    // No operation here takes more than a handful of requests; more is a loop.
    b.drive_scripted(100, answer)
}

/// Signs in with a host that hands out `next_trace_no` as the next trace number.
fn sign_in_with_next_trace(b: &mut Bench, next_trace_no: u32) {
    run_scripted(
        b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |out, host| match host.handle(out) {
            Reply::SignedIn(mut resp) => {
                resp.next_trace_no = tn(next_trace_no);
                Reply::SignedIn(resp)
            }
            other => other,
        },
    )
    .unwrap();
}

fn settlements_of(b: &Bench, batch_no: u32) -> usize {
    b.host
        .requests
        .iter()
        .filter(|c| matches!(c, Call::Settlement(s) if s.batch_no == batch_no))
        .count()
}

fn uploads_of(b: &Bench, batch_no: u32) -> usize {
    b.host
        .requests
        .iter()
        .filter(|c| matches!(c, Call::Upload(n, _) if *n == batch_no))
        .count()
}

// ----- R11: the outcome compares every part -------------------------------------------------

fn totals(sale: (u64, i64), void: (u64, i64), refund: (u64, i64)) -> BatchTotals {
    let t = |(count, amount)| Totals { count, amount };
    BatchTotals {
        batch_no: 1,
        currency: "CNY".into(),
        sale: t(sale),
        void: t(void),
        refund: t(refund),
        net_amount: sale.1 - void.1 - refund.1,
        completion: None,
        domestic: None,
        foreign: None,
    }
}

#[test]
fn r11_only_the_void_totals_differing_is_unbalanced() {
    let terminal = totals((2, 3000), (1, 1000), (0, 0));
    let host = totals((2, 3000), (2, 1000), (0, 0));
    assert_eq!(outcome(&terminal, &terminal.clone()), Outcome::Balanced);
    assert_eq!(outcome(&terminal, &host), Outcome::Unbalanced);
    assert_eq!(outcome(&host, &terminal), Outcome::Unbalanced);
}

#[test]
fn r11_only_the_refund_totals_differing_is_unbalanced() {
    let terminal = totals((2, 3000), (0, 0), (1, 500));
    let host = totals((2, 3000), (0, 0), (2, 500));
    assert_eq!(outcome(&terminal, &host), Outcome::Unbalanced);
    assert_eq!(outcome(&host, &terminal), Outcome::Unbalanced);
}

#[test]
fn r11_parts_that_differ_with_the_same_net_are_unbalanced() {
    // One sale more on one side, the same amount: the nets agree, the batches do not.
    let terminal = totals((1, 3000), (0, 0), (0, 0));
    let host = totals((2, 3000), (0, 0), (0, 0));
    assert_eq!(terminal.net_amount, host.net_amount);
    assert_eq!(outcome(&terminal, &host), Outcome::Unbalanced);
    // A void on one side, a refund of the same amount on the other.
    let voided = totals((1, 3000), (1, 1000), (0, 0));
    let refunded = totals((1, 3000), (0, 0), (1, 1000));
    assert_eq!(voided.net_amount, refunded.net_amount);
    assert_eq!(outcome(&voided, &refunded), Outcome::Unbalanced);
}

#[test]
fn r11_only_the_net_or_the_currency_differing_is_unbalanced() {
    let terminal = totals((1, 3000), (0, 0), (0, 0));
    let mut net = terminal.clone();
    net.net_amount += 1;
    assert_eq!(outcome(&terminal, &net), Outcome::Unbalanced);
    let mut currency = terminal.clone();
    currency.currency = "HKD".into();
    assert_eq!(outcome(&terminal, &currency), Outcome::Unbalanced);
    let mut batch = terminal.clone();
    batch.batch_no = 2;
    assert_eq!(
        outcome(&terminal, &batch),
        Outcome::Balanced,
        "the batch number is the request's, not a total"
    );
}

// ----- R19: the chain's encoding --------------------------------------------------------------

fn golden_draft(id: &str, kind: EntryKind, trace_no: u32, status: EntryStatus) -> EntryDraft {
    EntryDraft {
        request_id: RequestId::parse(id).expect("a UUID"),
        kind,
        trace_no: TraceNo::try_from(trace_no).expect("a trace number"),
        amount: 12_345,
        currency: "CNY".into(),
        status,
        response_code: None,
        rrn: None,
        auth_code: None,
        masked_pan: None,
        original_trace_no: None,
        original_rrn: None,
        operator: "01".into(),
        at: "2026-11-28T02:00:00.000Z".into(),
    }
}

/// One entry of each kind and each status, every optional field both set and unset.
fn golden_journal() -> Journal {
    let mut j = Journal::new("898310048160001", "10000001", 7);
    let mut sale = golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Sale,
        1,
        EntryStatus::Approved,
    );
    sale.response_code = Some("00".into());
    sale.rrn = Some("000000000001".into());
    sale.auth_code = Some("A1B2C3".into());
    sale.masked_pan = Some("621234******1232".into());
    j.append(sale).expect("an entry within R3 appends");
    let mut declined = golden_draft(
        "00000000-0000-4000-8000-000000000002",
        EntryKind::Sale,
        2,
        EntryStatus::Declined,
    );
    declined.response_code = Some("05".into());
    j.append(declined).expect("an entry within R3 appends");
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000003",
        EntryKind::Sale,
        3,
        EntryStatus::Unknown,
    ))
    .expect("an entry within R3 appends");
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000003",
        EntryKind::Reversal,
        3,
        EntryStatus::Reversed,
    ))
    .expect("an entry within R3 appends");
    let mut void = golden_draft(
        "00000000-0000-4000-8000-000000000004",
        EntryKind::Void,
        4,
        EntryStatus::Approved,
    );
    void.original_trace_no = Some(TraceNo::FIRST);
    j.append(void).expect("an entry within R3 appends");
    let mut refund = golden_draft(
        "00000000-0000-4000-8000-000000000005",
        EntryKind::Refund,
        5,
        EntryStatus::Approved,
    );
    refund.original_rrn = Some("000000000001".into());
    j.append(refund).expect("an entry within R3 appends");
    // No terminal writes `voided` (it is derived), but the encoding has a name for it.
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000006",
        EntryKind::Sale,
        6,
        EntryStatus::Voided,
    ))
    .expect("an entry within R3 appends");
    j
}

/// Stored journals and the host's upload check hash entries this way: changing any byte of
/// the encoding (a field's order, a kind's or a status's name) breaks every journal already
/// stored in a browser. These hashes were computed once, outside Rust (Python's hashlib over
/// the encoding as `entry_hash` documents it), and must never change.
#[test]
fn r19_a_reversal_of_an_answered_transaction_is_journal_tampered() {
    let mut j = Journal::new("898310048160001", "10000001", 7);
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Sale,
        1,
        EntryStatus::Approved,
    ))
    .expect("an entry within R3 appends");
    let before = j.tally();
    let e = j
        .append(golden_draft(
            "00000000-0000-4000-8000-000000000001",
            EntryKind::Reversal,
            1,
            EntryStatus::Reversed,
        ))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::JournalTampered);
    assert_eq!(j.tally(), before, "the approved sale still counts");
    // The terminal's own case: an unknown sale, then its reversal.
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000002",
        EntryKind::Sale,
        2,
        EntryStatus::Unknown,
    ))
    .expect("an entry within R3 appends");
    j.append(golden_draft(
        "00000000-0000-4000-8000-000000000002",
        EntryKind::Reversal,
        2,
        EntryStatus::Reversed,
    ))
    .expect("an unknown transaction's reversal appends");
}

#[test]
fn r10_the_fold_resolves_only_a_transaction_without_an_answer() {
    // The host folds uploaded entries with the same function: a reversal entry naming an
    // answered transaction (a journal no terminal writes) changes nothing there either, so
    // the host's fold agrees with the terminal's running totals.
    let mut answered = Journal::new("898310048160001", "10000001", 7);
    answered
        .append(golden_draft(
            "00000000-0000-4000-8000-000000000001",
            EntryKind::Sale,
            1,
            EntryStatus::Approved,
        ))
        .expect("an entry within R3 appends");
    let mut lost = Journal::new("898310048160001", "10000001", 7);
    lost.append(golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Sale,
        1,
        EntryStatus::Unknown,
    ))
    .expect("an entry within R3 appends");
    lost.append(golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Reversal,
        1,
        EntryStatus::Reversed,
    ))
    .expect("an unknown transaction's reversal appends");
    let mut kept = Journal::new("898310048160001", "10000001", 7);
    kept.append(golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Sale,
        1,
        EntryStatus::Declined,
    ))
    .expect("an entry within R3 appends");
    let mut approved_later = golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Reversal,
        1,
        EntryStatus::Approved,
    );
    approved_later.rrn = Some("000000000001".into());
    let mut host_kept = Journal::new("898310048160001", "10000001", 7);
    host_kept
        .append(golden_draft(
            "00000000-0000-4000-8000-000000000001",
            EntryKind::Sale,
            1,
            EntryStatus::Unknown,
        ))
        .expect("an entry within R3 appends");
    host_kept
        .append(approved_later)
        .expect("the host's final answer appends");
    let status = |entries: Vec<JournalEntry>| ledger_lines(&entries)[0].status;
    // The terminal's own journals.
    assert_eq!(status(lost.entries().to_vec()), LineStatus::Reversed);
    assert_eq!(status(host_kept.entries().to_vec()), LineStatus::Approved);
    // An approved sale with a `reversed` verdict, a declined one with an `approved` one.
    let forged = vec![answered.entries()[0].clone(), lost.entries()[1].clone()];
    assert_eq!(status(forged), LineStatus::Approved);
    let forged = vec![kept.entries()[0].clone(), host_kept.entries()[1].clone()];
    assert_eq!(status(forged), LineStatus::Declined);
}

#[test]
fn r19_the_chain_encoding_is_pinned_by_golden_hashes() {
    const GENESIS: &str = "0ec43a6bb267da548acd3a7ba925efbfedf932809041ffe338bbe2032922d094";
    const HASHES: [&str; 7] = [
        "ea387b106267ae5967b5694a6183aa3aec4485be395457a5ec373c89a59e0a9f",
        "e8e3e44326ae73505d9f128df269205c6480b13dd7d0d1bc37d6fb77016e01c7",
        "d9e407620385193d0d5f179fb55157f8cca1de87e5f5af239cd8108d67b2e8c6",
        "56895da2f6a0f7d07dc0fbd24b68cb8bb577b52a52f23e857c10eae563f51fed",
        "a9da6b01f0d83456f0af5c3856b17ba6af946f408b16f69169be5fd6492d67ab",
        "57f86b030b984e044ac139ef946152db63e5ead4561080c978eb7f643cef891a",
        "af57632342e77e88422d8023c5c3622e7a36d7f768959a29fecf02f4ec36ff10",
    ];
    assert_eq!(genesis_hash("898310048160001", "10000001", 7), GENESIS);
    let j = golden_journal();
    assert_eq!(j.genesis(), GENESIS);
    let got: Vec<&str> = j.entries().iter().map(|e| e.hash.as_str()).collect();
    assert_eq!(got, HASHES);
    for e in j.entries() {
        assert_eq!(entry_hash(e), e.hash);
    }
    verify_chain(GENESIS, j.entries()).unwrap();
}

#[test]
fn r19_changing_any_field_changes_the_hash() {
    let j = golden_journal();
    let base: JournalEntry = j.entries()[0].clone();
    let edits: Vec<fn(&mut JournalEntry)> = vec![
        |e| e.prev_hash.push('0'),
        |e| e.seq += 1,
        |e| e.request_id = RequestId::from_random([7; 16]),
        |e| e.kind = EntryKind::Refund,
        |e| e.trace_no = e.trace_no.next(),
        |e| e.amount += 1,
        |e| e.currency = "HKD".into(),
        |e| e.status = EntryStatus::Declined,
        |e| e.response_code = None,
        |e| e.rrn = None,
        |e| e.auth_code = None,
        |e| e.masked_pan = None,
        |e| e.original_trace_no = Some(TraceNo::FIRST),
        |e| e.original_rrn = Some(String::new()),
        |e| e.operator = "02".into(),
        |e| e.at.push('0'),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut e = base.clone();
        edit(&mut e);
        assert_ne!(entry_hash(&e), base.hash, "edit {i}");
    }
}

// ----- R7: what counts against a sale's refundable rest ---------------------------------------

#[test]
fn r7_declined_or_unknown_refunds_do_not_use_up_the_refundable_rest() {
    let mut j = Journal::new(MERCHANT, TERMINAL, 1);
    let mut sale = golden_draft(
        "00000000-0000-4000-8000-000000000001",
        EntryKind::Sale,
        1,
        EntryStatus::Approved,
    );
    sale.rrn = Some("000000000001".into());
    j.append(sale).expect("an entry within R3 appends");
    for (id, trace, status) in [
        (
            "00000000-0000-4000-8000-000000000002",
            2,
            EntryStatus::Declined,
        ),
        (
            "00000000-0000-4000-8000-000000000003",
            3,
            EntryStatus::Unknown,
        ),
    ] {
        let mut r = golden_draft(id, EntryKind::Refund, trace, status);
        r.original_rrn = Some("000000000001".into());
        r.amount = 300;
        j.append(r).expect("an entry within R3 appends");
    }
    assert_eq!(j.refunded("000000000001"), 0);
    for (id, trace, amount) in [
        ("00000000-0000-4000-8000-000000000004", 4, 100),
        ("00000000-0000-4000-8000-000000000005", 5, 250),
    ] {
        let mut r = golden_draft(id, EntryKind::Refund, trace, EntryStatus::Approved);
        r.original_rrn = Some("000000000001".into());
        r.amount = amount;
        j.append(r).expect("an entry within R3 appends");
    }
    assert_eq!(j.refunded("000000000001"), 350);
    assert_eq!(j.refunded("000000000002"), 0);
    let restored = Journal::restore(MERCHANT, TERMINAL, 1, j.entries().to_vec()).unwrap();
    assert_eq!(restored.refunded("000000000001"), 350);
}

#[test]
fn r7_a_refund_lost_on_the_way_does_not_use_up_the_sale() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    let rrn = sale.rrn.unwrap();
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.run(refund(&rrn, 600)).unwrap_err();
    assert_eq!(b.terminal.journal().refunded(&rrn), 0);
    // Its reversal goes first; the whole sale is refundable again.
    let r = tx(b.run(refund(&rrn, 1000)).unwrap());
    assert_eq!(r.status, TxStatus::Approved);
    assert_eq!(b.terminal.totals().refund.amount, 1000);
}

#[test]
fn r7_a_declined_sale_is_not_found_by_its_rrn() {
    let mut j = Journal::new(MERCHANT, TERMINAL, 1);
    for (id, trace, status) in [
        (
            "00000000-0000-4000-8000-000000000001",
            1,
            EntryStatus::Declined,
        ),
        (
            "00000000-0000-4000-8000-000000000002",
            2,
            EntryStatus::Unknown,
        ),
        (
            "00000000-0000-4000-8000-000000000003",
            3,
            EntryStatus::Approved,
        ),
    ] {
        let mut d = golden_draft(id, EntryKind::Sale, trace, status);
        d.rrn = Some(format!("00000000000{trace}"));
        j.append(d).expect("an entry within R3 appends");
    }
    let mut refund = golden_draft(
        "00000000-0000-4000-8000-000000000004",
        EntryKind::Refund,
        4,
        EntryStatus::Approved,
    );
    refund.rrn = Some("000000000004".into());
    j.append(refund).expect("an entry within R3 appends");
    assert!(j.sale_by_rrn("000000000001").is_none());
    assert!(j.sale_by_rrn("000000000002").is_none());
    assert_eq!(
        j.sale_by_rrn("000000000003").map(|e| e.request_id.as_str()),
        Some("00000000-0000-4000-8000-000000000003")
    );
    assert!(
        j.sale_by_rrn("000000000004").is_none(),
        "a refund is no sale"
    );
}

#[test]
fn r7_a_voided_sale_is_refused_locally_without_a_request() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.run(void(sale.trace_no)).unwrap();
    let sent = b.requests_sent();
    let e = b.run(refund(&sale.rrn.unwrap(), 100)).unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyVoided);
    assert_eq!(b.requests_sent(), sent, "the terminal knows its own void");
}

// ----- R8: an answer belongs to its request ---------------------------------------------------

#[test]
fn r8_an_answer_carrying_another_request_id_is_no_answer() {
    let mut b = Bench::signed_in();
    let e = run_scripted(
        &mut b,
        Command::Sale {
            amount: 1000,
            pan: CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        },
        |out, host| match host.handle(out) {
            Reply::Transaction(mut resp) => {
                resp.request_id = rid("00000000-0000-4000-8000-ffffffffffff");
                Reply::Transaction(resp)
            }
            other => other,
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::HostUnreachable);
    assert_eq!(b.terminal.totals().sale.count, 0, "it does not count");
    assert_eq!(
        b.terminal.journal().entries()[0].status,
        EntryStatus::Unknown
    );
    assert_eq!(b.terminal.pending_reversals(), 1, "it is reversed instead");
    tx(b.sale(300).unwrap());
    assert_eq!(b.terminal.pending_reversals(), 0);
    assert_eq!(b.host.totals(1).sale.amount, 300);
}

// ----- R6: void after settlement, by the settled batch's trace range --------------------------

#[test]
fn r6_a_trace_outside_the_settled_range_is_unknown_transaction() {
    let mut b = Bench::signed_in();
    for amount in [100, 200, 300] {
        b.sale(amount).unwrap();
    }
    settled(b.run(Command::Settle).unwrap());
    for trace in [1, 2, 3] {
        assert_eq!(
            b.run(void(trace)).unwrap_err().code,
            ErrorCode::VoidNotAllowedSettled,
            "trace {trace}"
        );
    }
    for trace in [0, 4, 50, 999_999] {
        assert_eq!(
            b.run(void(trace)).unwrap_err().code,
            ErrorCode::UnknownTransaction,
            "trace {trace}"
        );
    }
}

#[test]
fn r6_a_settled_range_that_wrapped_past_999_999_still_says_refund_instead() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    sign_in_with_next_trace(&mut b, 999_998);
    let traces: Vec<u32> = (0..4).map(|_| tx(b.sale(100).unwrap()).trace_no).collect();
    assert_eq!(traces, [999_998, 999_999, 1, 2]);
    settled(b.run(Command::Settle).unwrap());
    for trace in [999_998, 999_999, 1, 2] {
        assert_eq!(
            b.run(void(trace)).unwrap_err().code,
            ErrorCode::VoidNotAllowedSettled,
            "trace {trace}"
        );
    }
    for trace in [3, 50, 999_997] {
        assert_eq!(
            b.run(void(trace)).unwrap_err().code,
            ErrorCode::UnknownTransaction,
            "trace {trace}"
        );
    }
}

// ----- R14: batches closed at cut-off that the terminal holds no journal for ------------------

/// The host closes `batches.len()` batches at cut-off, each with a sale the terminal never
/// heard of (its storage was lost), starting at batch 5.
fn host_closed_foreign_batches(b: &mut Bench, amounts: &[i64]) {
    b.host.open_batch = 5;
    for &amount in amounts {
        b.host.inject_sale(amount);
        b.host.cutoff();
    }
}

#[test]
fn r14_one_batch_closed_at_cut_off_without_a_journal_is_settled_once() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    host_closed_foreign_batches(&mut b, &[700]);
    let Completion::SignedIn(s) = b.sign_in().unwrap() else {
        panic!("not signed in")
    };
    assert_eq!(s.reconciled.len(), 1);
    let r = &s.reconciled[0];
    assert_eq!((r.batch_no, r.outcome), (5, Outcome::Unbalanced));
    assert_eq!(r.terminal_totals.batch_no, 5);
    assert_eq!(
        r.terminal_totals.sale.count, 0,
        "the terminal counted nothing"
    );
    assert_eq!(r.host_totals.sale.amount, 700);
    assert_eq!((settlements_of(&b, 5), uploads_of(&b, 5)), (1, 1));
    assert_eq!(b.terminal.batch_no(), Some(6));
    assert_eq!(b.terminal.meta().settlement, None);
    assert!(b.terminal.meta().reconcile.is_empty());
    tx(b.sale(100).unwrap());
    assert_eq!((settlements_of(&b, 5), uploads_of(&b, 5)), (1, 1));
    assert_eq!(b.host.totals(6).sale.amount, 100);
}

#[test]
fn r14_two_batches_closed_at_cut_off_without_a_journal_are_each_settled_once() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    host_closed_foreign_batches(&mut b, &[700, 300]);
    let Completion::SignedIn(s) = b.sign_in().unwrap() else {
        panic!("not signed in")
    };
    let mut got: Vec<(u32, i64, u64)> = s
        .reconciled
        .iter()
        .map(|r| {
            (
                r.batch_no,
                r.host_totals.sale.amount,
                r.terminal_totals.sale.count,
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, [(5, 700, 0), (6, 300, 0)]);
    for batch in [5, 6] {
        assert_eq!(
            (settlements_of(&b, batch), uploads_of(&b, batch)),
            (1, 1),
            "batch {batch}"
        );
    }
    assert_eq!(b.terminal.batch_no(), Some(7));
    tx(b.sale(100).unwrap());
    b.run(Command::Settle).unwrap();
    for batch in [5, 6] {
        assert_eq!(settlements_of(&b, batch), 1, "batch {batch}");
    }
    assert_eq!(settlements_of(&b, 7), 1);
}

#[test]
fn r14_sign_in_succeeds_while_a_cut_off_settlement_is_unanswered() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    host_closed_foreign_batches(&mut b, &[700]);
    let signed_in = run_scripted(
        &mut b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |out, host| match out.call {
            Call::Settlement(_) => Reply::NoAnswer,
            _ => host.handle(out),
        },
    );
    let Ok(Completion::SignedIn(s)) = signed_in else {
        panic!("{signed_in:?}")
    };
    assert!(s.reconciled.is_empty());
    let pending = b
        .terminal
        .meta()
        .settlement
        .clone()
        .expect("kept for later");
    assert_eq!(pending.batch_no, 5);
    assert_eq!(settlements_of(&b, 5), 0, "the host never saw it");
    // The next operation finishes it first, with the same request id (R9), then sells.
    tx(b.sale(100).unwrap());
    assert_eq!(b.terminal.meta().settlement, None);
    assert_eq!((settlements_of(&b, 5), uploads_of(&b, 5)), (1, 1));
    let sent_id = b.host.requests.iter().find_map(|c| match c {
        Call::Settlement(s) if s.batch_no == 5 => Some(s.request_id.clone()),
        _ => None,
    });
    assert_eq!(sent_id, Some(pending.request_id));
    assert_eq!(b.terminal.batch_no(), Some(6));
    assert_eq!(b.host.totals(6).sale.amount, 100);
}

// ----- section 1: identifiers -----------------------------------------------------------------

#[test]
fn ids_a_config_with_a_bad_identifier_is_bad_request() {
    assert!(Config::new(MERCHANT, TERMINAL).validate().is_ok());
    assert!(Config::new(MERCHANT, "ABcd1234").validate().is_ok());
    let mut bad = vec![
        Config::new("89831004816000", TERMINAL),
        Config::new("8983100481600012", TERMINAL),
        Config::new("89831004816000a", TERMINAL),
        Config::new("", TERMINAL),
        Config::new(MERCHANT, "1000000"),
        Config::new(MERCHANT, "100000001"),
        Config::new(MERCHANT, "1000-001"),
        Config::new(MERCHANT, "1000000é"),
        Config::new(MERCHANT, ""),
    ];
    let mut empty_batch = config();
    empty_batch.max_batch_entries = 0;
    bad.push(empty_batch);
    let good = Bench::signed_in();
    for cfg in bad {
        let what = format!(
            "{} {} {}",
            cfg.merchant_id, cfg.terminal_id, cfg.max_batch_entries
        );
        assert_eq!(
            cfg.validate().unwrap_err().code,
            ErrorCode::BadRequest,
            "{what}"
        );
        assert_eq!(
            Terminal::new(cfg.clone(), T0).unwrap_err().code,
            ErrorCode::BadRequest,
            "{what}"
        );
        assert_eq!(
            Terminal::restore(cfg, good.terminal.snapshot(), T0)
                .unwrap_err()
                .code,
            ErrorCode::BadRequest,
            "{what}"
        );
    }
}

#[test]
fn r1_an_operator_is_two_digits_and_anything_else_is_bad_request() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    let sent = b.requests_sent();
    for operator in ["1", "ab", "a1", "001", "", "１２"] {
        let e = b
            .run(Command::SignIn {
                operator: operator.into(),
                password: PASSWORD.into(),
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest, "{operator:?}");
    }
    let e = b
        .run(Command::SignIn {
            operator: OPERATOR.into(),
            password: String::new().into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest, "an empty password");
    assert_eq!(b.requests_sent(), sent, "nothing is sent");
    // "00" is the supervisor, a valid operator.
    b.run(Command::SignIn {
        operator: "00".into(),
        password: SUPERVISOR.into(),
    })
    .unwrap();
    assert_eq!(b.terminal.operator(), Some("00"));
}

// ----- R17: each call's path, body and answer ---------------------------------------------------

fn totals_of(batch_no: u32) -> BatchTotals {
    BatchTotals {
        batch_no,
        ..totals((1, 100), (0, 0), (0, 0))
    }
}

#[test]
fn r17_each_call_goes_to_its_path_with_its_body() {
    let tx = TransactionRequest {
        request_id: RequestId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
        kind: TxKind::Refund,
        trace_no: TraceNo::try_from(7u32).unwrap(),
        amount: 100,
        currency: "CNY".into(),
        card: None,
        original: Some(OriginalRef::Rrn {
            rrn: "000000000001".into(),
        }),
        supervisor_password: Some(SUPERVISOR.into()),
        reference: None,
    };
    let calls = [
        (
            Call::Activate(ActivateRequest {
                merchant_id: MERCHANT.into(),
                terminal_id: TERMINAL.into(),
                activation_code: CODE.into(),
            }),
            "/v1/activate",
        ),
        (
            Call::SignIn(SignInRequest {
                operator: OPERATOR.into(),
                password: PASSWORD.into(),
            }),
            "/v1/sign-in",
        ),
        (Call::Transaction(tx.clone()), "/v1/transactions"),
        (
            Call::Reversal(ReversalRequest {
                request_id: tx.request_id.clone(),
            }),
            "/v1/reversals",
        ),
        (
            Call::Settlement(SettlementRequest {
                request_id: tx.request_id.clone(),
                batch_no: BatchNo::try_from(3u32).unwrap(),
                terminal_totals: totals_of(3),
            }),
            "/v1/settlements",
        ),
        (
            Call::Upload(
                3,
                UploadRequest {
                    request_id: tx.request_id.clone(),
                    entries: Vec::new(),
                    from: None,
                    more: None,
                },
            ),
            "/v1/settlements/3/upload",
        ),
        (
            Call::SignOff(SignOffRequest {
                request_id: Some(tx.request_id.clone()),
                settle: Some(false),
            }),
            "/v1/sign-off",
        ),
        (Call::CheckoutSignIn, "/v1/checkout/sign-in"),
    ];
    for (call, path) in &calls {
        assert_eq!(call.path(), *path);
        let body: serde_json::Value = serde_json::from_str(&call.body_json()).unwrap();
        let inner = match call {
            Call::Activate(r) => serde_json::to_value(r),
            Call::SignIn(r) => serde_json::to_value(r),
            Call::Transaction(r) => serde_json::to_value(r),
            Call::Reversal(r) => serde_json::to_value(r),
            Call::Settlement(r) => serde_json::to_value(r),
            Call::Upload(_, r) => serde_json::to_value(r),
            Call::SignOff(r) => serde_json::to_value(r),
            Call::CheckoutSignIn => Ok(serde_json::json!({})),
        }
        .unwrap();
        assert_eq!(body, inner, "{path}: the body is the request itself");
    }
    assert_eq!(
        serde_json::to_value(&calls[2].0).unwrap()["supervisor_password"],
        SUPERVISOR,
        "the one request that carries it"
    );
}

/// A sale's call and the JSON of its approved answer, which the call reads as its answer.
fn sale_call_and_its_answer() -> (Call, String) {
    let tx_call = Call::Transaction(TransactionRequest {
        request_id: RequestId::from_random([1; 16]),
        kind: TxKind::Sale,
        trace_no: TraceNo::FIRST,
        amount: 100,
        currency: "CNY".into(),
        card: None,
        original: None,
        supervisor_password: None,
        reference: None,
    });
    let answer = TransactionResponse {
        request_id: RequestId::from_random([1; 16]),
        status: TxStatus::Approved,
        response_code: "00".into(),
        message: "Approved".into(),
        rrn: Some("000000000001".into()),
        auth_code: None,
        batch_no: BatchNo::FIRST,
        trace_no: TraceNo::FIRST,
        masked_pan: None,
        host_time: "2026-11-28T02:00:00Z".into(),
        reference: None,
    };
    let json = serde_json::to_string(&answer).unwrap();
    assert_eq!(tx_call.parse_answer(&json), Reply::Transaction(answer));
    (tx_call, json)
}

/// The ids of an answer are checked as it is read: one out of shape is no answer (R8), as
/// any answer that does not fit is.
#[test]
fn r9_r17_an_answer_with_a_malformed_trace_batch_or_request_id_is_no_answer() {
    let (tx_call, json) = sale_call_and_its_answer();
    let id = RequestId::from_random([1; 16]);
    for (from, to) in [
        (r#""trace_no":1,"#, r#""trace_no":0,"#),
        (r#""trace_no":1,"#, r#""trace_no":1000000,"#),
        (r#""batch_no":1,"#, r#""batch_no":0,"#),
        (id.as_str(), "r-1"),
    ] {
        let bad = json.replace(from, to);
        assert_ne!(bad, json, "{from}");
        assert_eq!(tx_call.parse_answer(&bad), Reply::NoAnswer, "{bad}");
    }
}

#[test]
fn r8_an_answer_that_cannot_be_read_is_no_answer() {
    let (tx_call, json) = sale_call_and_its_answer();
    for unreadable in ["", "{}", "null", &json[..json.len() - 1]] {
        assert_eq!(
            tx_call.parse_answer(unreadable),
            Reply::NoAnswer,
            "{unreadable}"
        );
    }
    // Each call reads its own answer type.
    let answers: [(Call, &str); 7] = [
        (
            Call::Activate(ActivateRequest {
                merchant_id: MERCHANT.into(),
                terminal_id: TERMINAL.into(),
                activation_code: CODE.into(),
            }),
            r#"{"terminal_key":"k"}"#,
        ),
        (
            Call::SignIn(SignInRequest {
                operator: OPERATOR.into(),
                password: PASSWORD.into(),
            }),
            r#"{"session_token":"t","expires_at":"x","operator":"01","business_date":"2026-11-28",
                "batch_no":1,"next_trace_no":1,"currency":"CNY","closed_batches":[]}"#,
        ),
        (
            Call::CheckoutSignIn,
            r#"{"session_token":"t","expires_at":"x","operator":"web","business_date":"2026-11-28",
                "batch_no":1,"next_trace_no":1,"currency":"CNY","closed_batches":[]}"#,
        ),
        (
            Call::Reversal(ReversalRequest {
                request_id: RequestId::from_random([1; 16]),
            }),
            r#"{"request_id":"0f8fad5b-d9cb-469f-a165-70867728950e","reversed":true}"#,
        ),
        (
            Call::Settlement(SettlementRequest {
                request_id: RequestId::from_random([2; 16]),
                batch_no: BatchNo::FIRST,
                terminal_totals: totals_of(1),
            }),
            &SETTLEMENT_ANSWER,
        ),
        (
            Call::Upload(
                1,
                UploadRequest {
                    request_id: RequestId::from_random([3; 16]),
                    entries: Vec::new(),
                    from: None,
                    more: None,
                },
            ),
            &UPLOAD_ANSWER,
        ),
        (
            Call::SignOff(SignOffRequest::default()),
            r#"{"signed_off_at":"2026-11-28T10:00:00Z"}"#,
        ),
    ];
    for (call, json) in &answers {
        let reply = call.parse_answer(json);
        let ok = matches!(
            (call, &reply),
            (Call::Activate(_), Reply::Activated(_))
                | (Call::SignIn(_) | Call::CheckoutSignIn, Reply::SignedIn(_))
                | (Call::Reversal(_), Reply::Reversal(_))
                | (Call::Settlement(_), Reply::Settlement(_))
                | (Call::Upload(..), Reply::Upload(_))
                | (Call::SignOff(_), Reply::SignedOff(_))
        );
        assert!(ok, "{}: {reply:?}", call.path());
        assert_eq!(call.parse_answer("[]"), Reply::NoAnswer, "{}", call.path());
    }
    // R11: a chunk of the upload is answered with how much of the journal the host holds.
    let chunk = &answers[5].0;
    assert!(matches!(chunk, Call::Upload(..)));
    assert_eq!(
        chunk.parse_answer(r#"{"batch_no":1,"received":1000}"#),
        Reply::UploadProgress(UploadProgress {
            batch_no: bn(1),
            received: 1000
        })
    );
}

static SETTLEMENT_ANSWER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    serde_json::to_string(&SettlementResponse {
        batch_no: bn(1),
        outcome: Outcome::Balanced,
        host_totals: totals_of(1),
        next_batch_no: bn(2),
        acquirer_outcome: None,
    })
    .unwrap()
});

static UPLOAD_ANSWER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    serde_json::to_string(&UploadResponse {
        batch_no: bn(1),
        outcome: Outcome::Unbalanced,
        host_totals: totals_of(1),
        discrepancies: Vec::new(),
        next_batch_no: bn(2),
        acquirer_outcome: None,
    })
    .unwrap()
});

// ----- R4: nothing secret in debug output -------------------------------------------------------

#[test]
fn r4_debug_output_never_shows_a_card_a_password_or_a_token() {
    let shown = [
        (
            format!("{:?}", Command::Activate { code: CODE.into() }),
            "Activate",
        ),
        (
            format!(
                "{:?}",
                Command::SignIn {
                    operator: OPERATOR.into(),
                    password: PASSWORD.into(),
                }
            ),
            "SignIn(01)",
        ),
        (
            format!(
                "{:?}",
                Command::Sale {
                    amount: 1250,
                    pan: CARD.into(),
                    expiry: EXPIRY.into(),
                    reference: None,
                }
            ),
            "Sale(1250)",
        ),
        (format!("{:?}", void(7)), "Void(7)"),
        (
            format!("{:?}", refund("000000000001", 300)),
            "Refund(000000000001, 300)",
        ),
        (format!("{:?}", Command::Settle), "Settle"),
        (
            format!("{:?}", Command::SignOff { settle: true }),
            "SignOff(settle: true)",
        ),
        (format!("{:?}", Auth::None), "None"),
        (
            format!("{:?}", Auth::TerminalKey("terminal-key".into())),
            "TerminalKey(..)",
        ),
        (
            format!("{:?}", Auth::Session("token-1".into())),
            "Session(..)",
        ),
    ];
    for (text, want) in shown {
        assert_eq!(text, want);
    }
}

// ----- R8: only the right answer counts ---------------------------------------------------------

#[test]
fn r8_no_answer_to_activation_or_sign_in_is_host_unreachable() {
    let mut b = Bench::new();
    b.fault(&[Some(Fault::Unreachable)]);
    let e = b.run(Command::Activate { code: CODE.into() }).unwrap_err();
    assert_eq!(e.code, ErrorCode::HostUnreachable);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.fault(&[Some(Fault::LoseAnswer)]);
    assert_eq!(b.sign_in().unwrap_err().code, ErrorCode::HostUnreachable);
    assert_eq!(b.terminal.state(), State::SignedOff);
    let e = run_scripted(
        &mut b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |_, _| {
            Reply::SignedOff(SignOffResponse {
                signed_off_at: "x".into(),
            })
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal, "an answer to another request");
    b.sign_in().unwrap();
}

#[test]
fn r8_a_reversal_acknowledged_for_another_request_is_not_taken() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.sale(1000).unwrap_err();
    let e = run_scripted(
        &mut b,
        Command::Sale {
            amount: 300,
            pan: CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        },
        |out, host| match &out.call {
            Call::Reversal(_) => Reply::Reversal(ReversalResponse {
                request_id: rid("00000000-0000-4000-8000-ffffffffffff"),
                reversed: true,
                transaction: None,
            }),
            _ => host.handle(out),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    assert_eq!(b.terminal.pending_reversals(), 1, "still queued");
    assert_eq!(b.terminal.journal().len(), 1, "no reversal entry, no sale");
    tx(b.sale(300).unwrap());
    assert_eq!(b.terminal.pending_reversals(), 0);
    assert_eq!(b.host.totals(1).sale.amount, 300);
}

// ----- R11: settlement answers ------------------------------------------------------------------

#[test]
fn r11_a_settlement_answer_for_another_batch_is_not_taken() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let e = run_scripted(&mut b, Command::Settle, |out, host| {
        match (&out.call, host.handle(out)) {
            (Call::Settlement(_), Reply::Settlement(mut resp)) => {
                resp.batch_no = resp.batch_no.next();
                Reply::Settlement(resp)
            }
            (_, other) => other,
        }
    })
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    assert_eq!(b.terminal.batch_no(), Some(1), "the batch stays open");
    let pending = b.terminal.meta().settlement.clone().expect("kept");
    assert!(pending.upload.is_none());
    // Settling again finishes it with the same request id.
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!((s.batch_no, s.outcome), (1, Outcome::Balanced));
    assert_eq!(settlements_of(&b, 1), 2);
}

#[test]
fn r11_an_upload_answer_for_another_batch_is_not_taken() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.inject_sale(5);
    let e = run_scripted(&mut b, Command::Settle, |out, host| {
        match (&out.call, host.handle(out)) {
            (Call::Upload(..), Reply::Upload(mut resp)) => {
                resp.batch_no = resp.batch_no.next();
                Reply::Upload(resp)
            }
            (_, other) => other,
        }
    })
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    let pending = b.terminal.meta().settlement.clone().expect("kept");
    assert!(pending.upload.is_some(), "the upload is still due");
    assert_eq!(b.terminal.batch_no(), Some(1));
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!((s.batch_no, s.outcome), (1, Outcome::Unbalanced));
    assert_eq!(s.discrepancies.len(), 1);
}

#[test]
fn r11_a_refused_settlement_is_dropped_and_its_reason_shown() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let e = run_scripted(&mut b, Command::Settle, |out, host| match &out.call {
        Call::Settlement(_) => Reply::Refused(Error::new(ErrorCode::BadRequest)),
        _ => host.handle(out),
    })
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert_eq!(
        b.terminal.meta().settlement,
        None,
        "a definite no is dropped"
    );
    assert_eq!(b.terminal.state(), State::SignedIn);
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
}

#[test]
fn r11_an_upload_refused_for_an_ended_session_is_kept_and_finished_after_sign_in() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.inject_sale(5);
    let e = run_scripted(&mut b, Command::Settle, |out, host| match &out.call {
        Call::Upload(..) => Reply::Refused(Error::new(ErrorCode::SessionExpired)),
        _ => host.handle(out),
    })
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
    assert_eq!(b.terminal.state(), State::SignedOff);
    let pending = b.terminal.meta().settlement.clone().expect("kept");
    assert!(pending.upload.is_some(), "the host said unbalanced already");
    b.reload().unwrap();
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSettled),
        "a settlement cut off is left to finish"
    );
    let Completion::SignedIn(s) = b.sign_in().unwrap() else {
        panic!("not signed in")
    };
    assert_eq!(s.reconciled.len(), 1);
    assert_eq!(
        (s.reconciled[0].batch_no, s.reconciled[0].outcome),
        (1, Outcome::Unbalanced)
    );
    assert_eq!(
        settlements_of(&b, 1),
        1,
        "settled once, uploaded after sign-in"
    );
    assert_eq!(b.terminal.batch_no(), Some(2));
}

// ----- R12, R13: sign-off -----------------------------------------------------------------------

#[test]
fn r12_sign_off_of_an_empty_batch_settles_nothing() {
    let mut b = Bench::signed_in();
    let Completion::SignedOff(off) = b.run(Command::SignOff { settle: true }).unwrap() else {
        panic!("not signed off")
    };
    assert!(off.settlement.is_none());
    assert_eq!(settlements_of(&b, 1), 0);
    assert_eq!(b.terminal.state(), State::SignedOff);
}

#[test]
fn r13_no_idle_timer_unless_configured_and_none_fires_while_busy() {
    let mut b = Bench::signed_in();
    assert_eq!(
        b.terminal.next_timer(),
        None,
        "idle sign-off is off by default"
    );
    assert!(!b.terminal.handle_timer(Timestamp(T0.0 + 86_400_000)));

    let mut cfg = config();
    cfg.idle_sign_off_minutes = 5;
    let mut b = Bench::with_config(cfg);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    assert_eq!(b.terminal.next_timer(), None, "nobody signed in");
    b.sign_in().unwrap();
    let due = b.terminal.next_timer().expect("a timer");
    b.terminal
        .begin(
            Command::Sale {
                amount: 100,
                pan: CARD.into(),
                expiry: EXPIRY.into(),
                reference: None,
            },
            b.now,
        )
        .unwrap();
    assert!(!b.terminal.handle_timer(due), "an operation is in flight");
    tx(b.drive().unwrap());
    assert_eq!(b.terminal.state(), State::SignedIn);
}

// ----- R14: what a reload reports -------------------------------------------------------------

#[test]
fn r14_a_kept_session_of_an_earlier_business_day_is_not_resumed() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let kept = b.terminal.resumable().expect("signed in");
    b.now = Timestamp(b.now.0 + 86_400_000);
    b.reload().unwrap();
    assert!(!b.terminal.resume(kept, b.now));
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSignedOff)
    );
}

#[test]
fn r14_a_kept_session_of_another_operator_or_batch_or_date_is_not_resumed() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let kept = b.terminal.resumable().expect("signed in");
    assert_eq!(kept.operator, OPERATOR);
    assert_eq!(kept.batch_no, 1);
    assert_eq!(kept.business_date, "2026-11-28");
    assert!(
        !format!("{kept:?}").contains(&kept.token),
        "no token in a log"
    );
    b.reload().unwrap();
    let mut other = kept.clone();
    other.operator = "02".into();
    assert!(!b.terminal.resume(other, b.now), "another operator");
    let mut other = kept.clone();
    other.batch_no = 2;
    assert!(!b.terminal.resume(other, b.now), "another batch");
    let mut other = kept.clone();
    other.business_date = "2026-11-29".into();
    assert!(!b.terminal.resume(other, b.now), "another business date");
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSignedOff)
    );
    assert!(
        b.terminal.resume(kept.clone(), b.now),
        "the kept one itself"
    );
    assert_eq!(b.terminal.recovery(), None);
    assert!(!b.terminal.resume(kept, b.now), "once");
}

#[test]
fn r14_a_resumed_session_still_reports_a_settlement_cut_off() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.inject_sale(1);
    // The settlement answer arrives (unbalanced) but the upload is cut off.
    b.fault(&[None, Some(Fault::Unreachable)]);
    b.run(Command::Settle).unwrap_err();
    assert!(b.reload_tab().unwrap());
    assert_eq!(b.terminal.state(), State::SignedIn);
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSettled)
    );
}

#[test]
fn r14_the_recovery_reports_the_open_batchs_figures_as_they_are_now() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.reload().unwrap();
    assert_eq!(
        b.terminal.recovery().map(|r| r.totals.sale.amount),
        Some(1000)
    );
    b.sign_in().unwrap();
    b.sale(500).unwrap();
    let r = b.terminal.recovery().expect("until the sign-off");
    assert_eq!(r.kind, RecoveryKind::NotSignedOff);
    assert_eq!((r.totals.sale.count, r.totals.sale.amount), (2, 1500));
    assert_eq!(r.totals, b.terminal.totals());
    // Settled, the report keeps the figures of its batch, not the new batch's.
    settled(b.run(Command::Settle).unwrap());
    b.sale(300).unwrap();
    let r = b.terminal.recovery().expect("until the sign-off");
    assert_eq!((r.batch_no, r.totals.sale.amount), (1, 1500));
}

#[test]
fn r14_a_batch_of_today_left_open_at_sign_off_is_nothing_to_recover() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.run(Command::SignOff { settle: false }).unwrap();
    b.reload().unwrap();
    assert_eq!(b.terminal.recovery(), None);
}

#[test]
fn r14_not_signed_off_stays_until_sign_off_and_not_settled_goes_with_the_settlement() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.reload().unwrap();
    b.sign_in().unwrap();
    settled(b.run(Command::Settle).unwrap());
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSignedOff),
        "until the operator signs off"
    );
    b.run(Command::SignOff { settle: true }).unwrap();
    assert_eq!(b.terminal.recovery(), None);

    b.sign_in().unwrap();
    b.sale(500).unwrap();
    b.run(Command::SignOff { settle: false }).unwrap();
    b.now = Timestamp(T0.0 + 86_400_000);
    b.reload().unwrap();
    assert_eq!(
        b.terminal.recovery().map(|r| r.kind),
        Some(RecoveryKind::NotSettled)
    );
    b.sign_in().unwrap();
    settled(b.run(Command::Settle).unwrap());
    assert_eq!(b.terminal.recovery(), None, "settled: nothing left");
}

#[test]
fn r14_a_local_batch_the_host_moved_past_is_reconciled_at_sign_in() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.run(Command::SignOff { settle: false }).unwrap();
    // The host's open batch is 2 and it reports no batch closed: the terminal's batch 1,
    // still holding a sale, is settled before anything else.
    let signed_in = run_scripted(
        &mut b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |out, host| match host.handle(out) {
            Reply::SignedIn(mut resp) => {
                resp.batch_no = bn(2);
                Reply::SignedIn(resp)
            }
            other => other,
        },
    );
    let Ok(Completion::SignedIn(s)) = signed_in else {
        panic!("{signed_in:?}")
    };
    assert_eq!(s.reconciled.len(), 1);
    assert_eq!(
        (s.reconciled[0].batch_no, s.reconciled[0].outcome),
        (1, Outcome::Balanced)
    );
    assert_eq!(s.reconciled[0].terminal_totals.sale.amount, 1000);
    assert_eq!(b.terminal.batch_no(), Some(2));
}

// ----- section 1: one currency per terminal ---------------------------------------------------

#[test]
fn ids_a_host_that_changes_the_terminals_currency_is_refused() {
    let mut b = Bench::new();
    assert_eq!(b.terminal.currency(), None);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    assert_eq!(b.terminal.currency(), Some(Currency::Cny));
    b.run(Command::SignOff { settle: false }).unwrap();
    for currency in ["HKD", "XXX"] {
        let e = run_scripted(
            &mut b,
            Command::SignIn {
                operator: OPERATOR.into(),
                password: PASSWORD.into(),
            },
            |out, host| match host.handle(out) {
                Reply::SignedIn(mut resp) => {
                    resp.currency = currency.into();
                    Reply::SignedIn(resp)
                }
                other => other,
            },
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest, "{currency}");
        assert_eq!(b.terminal.state(), State::SignedOff);
        assert_eq!(b.terminal.currency(), Some(Currency::Cny));
    }
    b.sign_in().unwrap();
}

// ----- R4: cards as shown ---------------------------------------------------------------------

#[test]
fn r4_a_card_shows_only_its_masked_number_and_no_expiry() {
    let pan = Pan::parse(CARD).unwrap();
    assert_eq!(format!("{pan:?}"), "Pan(621234******1232)");
    let expiry = Expiry::parse(EXPIRY, T0).unwrap();
    assert_eq!(format!("{expiry:?}"), "Expiry(**/**)");
}

#[test]
fn r4_masking_keeps_six_and_four_only_of_a_whole_card_number() {
    assert_eq!(mask_digits("1234567890123"), "123456***0123");
    assert_eq!(mask_digits("1234567890123456789"), "123456*********6789");
    // Too short to be a card number, or not plain digits: nothing of it is shown.
    assert_eq!(mask_digits("123456789012"), "************");
    assert_eq!(mask_digits("12345"), "*****");
    assert_eq!(mask_digits(""), "");
    assert_eq!(mask_digits("123456ééé7890"), "*".repeat(16));
}

#[test]
fn currencies_show_their_iso_code() {
    for c in Currency::ALL {
        assert_eq!(c.to_string(), c.code());
    }
    assert_eq!(format!("{}", Currency::Cny), "CNY");
}

// ----- section 1: trace numbers ---------------------------------------------------------------

#[test]
fn ids_a_trace_number_is_never_reused_inside_a_batch() {
    let mut b = Bench::signed_in();
    assert_eq!(tx(b.sale(100).unwrap()).trace_no, 1);
    assert_eq!(tx(b.sale(100).unwrap()).trace_no, 2);
    b.run(Command::SignOff { settle: false }).unwrap();
    // The host hands out trace 1 again (it lost count): the terminal skips what it used.
    sign_in_with_next_trace(&mut b, 1);
    assert_eq!(tx(b.sale(100).unwrap()).trace_no, 3);
    assert_eq!(
        b.terminal.journal().by_trace(3).map(|e| e.amount),
        Some(100)
    );
}

// ----- R8: the reversal entry -------------------------------------------------------------------

#[test]
fn r8_a_reversal_entry_carries_the_reversed_transactions_card_operator_and_time() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.sale(1000).unwrap_err();
    b.now = Timestamp(b.now.0 + 60_000);
    tx(b.sale(300).unwrap());
    let j = b.terminal.journal();
    let (lost, reversal) = (&j.entries()[0], &j.entries()[1]);
    assert_eq!(reversal.kind, EntryKind::Reversal);
    assert_eq!(
        j.by_request(lost.request_id.as_str()),
        Some(lost),
        "the transaction, not its reversal"
    );
    assert_eq!(
        (
            reversal.request_id.as_str(),
            reversal.trace_no,
            reversal.amount
        ),
        (lost.request_id.as_str(), lost.trace_no, lost.amount)
    );
    assert_eq!(reversal.masked_pan.as_deref(), Some("621234******1232"));
    assert_eq!(reversal.operator, OPERATOR);
    assert_eq!(
        reversal.at, lost.at,
        "the time of the transaction it undoes"
    );
    assert_eq!(j.current_status(lost), EntryStatus::Reversed);
}

// ----- R6: only a sale is voided ------------------------------------------------------------------

#[test]
fn r6_a_void_of_a_void_or_a_refund_is_refused_without_a_request() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    let other = tx(b.sale(2000).unwrap());
    let v = tx(b.run(void(sale.trace_no)).unwrap());
    let r = tx(b.run(refund(&other.rrn.unwrap(), 500)).unwrap());
    let sent = b.requests_sent();
    for trace in [v.trace_no, r.trace_no] {
        assert_eq!(
            b.run(void(trace)).unwrap_err().code,
            ErrorCode::UnknownTransaction,
            "trace {trace}"
        );
    }
    assert_eq!(b.requests_sent(), sent, "refused by the terminal itself");
}

#[test]
fn r8_a_refused_reversal_stops_the_operation_at_once_and_stays_queued() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.sale(1000).unwrap_err();
    let mut reversals = 0;
    let e = run_scripted(
        &mut b,
        Command::Sale {
            amount: 300,
            pan: CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        },
        |out, host| match &out.call {
            Call::Reversal(_) => {
                reversals += 1;
                Reply::Refused(Error::new(ErrorCode::BadRequest))
            }
            _ => host.handle(out),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::HostUnreachable);
    assert!(e.message.contains("refused the reversal"), "{}", e.message);
    assert_eq!(
        reversals, 1,
        "a definite no is not asked again in the same operation"
    );
    assert_eq!(b.terminal.pending_reversals(), 1);
    tx(b.sale(300).unwrap());
    assert_eq!(b.terminal.pending_reversals(), 0);
}

#[test]
fn r12_a_sign_off_reports_its_own_batchs_settlement_not_a_reconciled_one() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    host_closed_foreign_batches(&mut b, &[700]);
    run_scripted(
        &mut b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |out, host| match out.call {
            Call::Settlement(_) => Reply::NoAnswer,
            _ => host.handle(out),
        },
    )
    .unwrap();
    while b.terminal.poll_event().is_some() {}
    // Sign-off finishes the cut-off batch first; the operator's own batch is empty.
    let Completion::SignedOff(off) = b.run(Command::SignOff { settle: true }).unwrap() else {
        panic!("not signed off")
    };
    assert_eq!(off.settlement, None, "batch 5 was a reconciliation");
    let mut settled_batches = Vec::new();
    while let Some(e) = b.terminal.poll_event() {
        if let Event::Settled(s) = e {
            settled_batches.push(s.batch_no);
        }
    }
    assert_eq!(settled_batches, [5]);
    assert_eq!((settlements_of(&b, 5), settlements_of(&b, 6)), (1, 0));
}

#[test]
fn r21_dates_show_on_the_clock_the_host_gave_at_the_last_sign_in() {
    let mut b = Bench::new();
    b.host.utc_offset_minutes = Some(480);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    assert_eq!(
        b.terminal.utc_offset().minutes(),
        0,
        "UTC until a host says where it is"
    );
    b.sign_in().unwrap();
    assert_eq!(b.terminal.utc_offset().minutes(), 480);
    b.reload().unwrap();
    assert_eq!(
        b.terminal.utc_offset().minutes(),
        480,
        "kept across a reload"
    );
    b.host.utc_offset_minutes = Some(-300);
    b.sign_in().unwrap();
    assert_eq!(
        b.terminal.utc_offset().minutes(),
        -300,
        "each sign-in tells it again"
    );
}

#[test]
fn r11_a_batch_whose_settlement_the_host_refused_is_never_cleared() {
    let mut b = Bench::signed_in();
    tx(b.sale(700).unwrap());
    b.host.cutoff();
    // The host closed the batch; its settlement at the next sign-in is flatly refused.
    let signed_in = run_scripted(
        &mut b,
        Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        |out, host| match out.call {
            Call::Settlement(_) => Reply::Refused(ErrorCode::BadRequest.into()),
            _ => host.handle(out),
        },
    );
    assert!(
        matches!(signed_in, Ok(Completion::SignedIn(_))),
        "{signed_in:?}"
    );
    // Whatever the next operation does, the unsettled sale stays in the terminal's journal.
    let _ = b.sale(100);
    assert!(
        b.terminal
            .journal()
            .entries()
            .iter()
            .any(|e| e.amount == 700),
        "the refused batch's sale was cleared"
    );
}

/// R16: a password is sent, never shown: a `{:?}` of the command, of the terminal holding the
/// sign-in in flight and of the request that carries it prints no password.
#[test]
fn r16_a_password_never_shows_in_debug_output() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    let secret = "pw-7f3a9c";
    let command = Command::SignIn {
        operator: OPERATOR.into(),
        password: secret.into(),
    };
    assert!(!format!("{command:?}").contains(secret), "{command:?}");
    b.terminal.begin(command, b.now).unwrap();
    let shown = format!("{:?}", b.terminal);
    assert!(
        shown.contains("[redacted]") && !shown.contains(secret),
        "{shown}"
    );
    let mut sent = Vec::new();
    let _ = b.drive_scripted(100, |out, host| {
        sent.push(format!("{out:?}"));
        host.handle(out)
    });
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|s| !s.contains(secret)), "{sent:?}");
}
