//! One test (or a few) per terminal rule of docs/rules.md, named after it.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use softpos::protocol::{
    AcquirerVerdict, DiscrepancyKind, EntryKind, EntryStatus, Outcome, TxKind, TxStatus,
    UploadProgress,
};
use softpos::terminal::journal::ledger_lines;
use softpos::terminal::money::ConfirmAbove;
use softpos::terminal::settlement::fold;
use softpos::terminal::time::Timestamp;
use softpos::terminal::{
    Auth, Call, Command, Completion, Config, Event, RecoveryKind, Reply, SignOffReason, Snapshot,
    State, Terminal,
};
use softpos::ErrorCode;
use support::*;

// ----- R1 ---------------------------------------------------------------------------------

#[test]
fn r1_operations_before_sign_in_are_refused_and_nothing_is_sent() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    let sent = b.requests_sent();
    for cmd in [
        Command::Sale {
            amount: 100,
            pan: CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        },
        void(1),
        refund("000000000001", 100),
        Command::Settle,
        Command::SignOff { settle: true },
    ] {
        let err = b.run(cmd).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSignedIn);
        assert_eq!(err.code.message_zh(), "请先签到");
    }
    assert_eq!(b.requests_sent(), sent, "R1: nothing is sent");
    assert_eq!(b.terminal.state(), State::SignedOff);
}

#[test]
fn r1_sign_in_needs_activation_first() {
    let mut b = Bench::new();
    assert_eq!(b.terminal.state(), State::Unactivated);
    assert_eq!(b.sign_in().unwrap_err().code, ErrorCode::NotActivated);
    assert_eq!(b.sale(100).unwrap_err().code, ErrorCode::NotActivated);
    assert_eq!(b.requests_sent(), 0);
}

#[test]
fn r1_wrong_activation_code_and_password_are_bad_credentials() {
    let mut b = Bench::new();
    let e = b
        .run(Command::Activate {
            code: "nope".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadCredentials);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    let e = b
        .run(Command::SignIn {
            operator: OPERATOR.into(),
            password: "wrong".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadCredentials);
    assert_eq!(b.terminal.state(), State::SignedOff);
}

// ----- R2 ---------------------------------------------------------------------------------

#[test]
fn r2_a_second_operation_while_busy_is_refused() {
    let mut b = Bench::signed_in();
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
    assert_eq!(b.terminal.state(), State::Busy);
    let sent = b.requests_sent();
    for cmd in [Command::Settle, void(1), Command::SignOff { settle: false }] {
        assert_eq!(
            b.terminal.begin(cmd, b.now).unwrap_err().code,
            ErrorCode::Busy
        );
    }
    assert_eq!(b.requests_sent(), sent);
    let first = tx(b.drive().unwrap());
    assert_eq!(first.status, TxStatus::Approved);
    assert_eq!(b.terminal.state(), State::SignedIn);
}

// ----- R3 ---------------------------------------------------------------------------------

#[test]
fn r3_invalid_amounts_are_refused_before_sending() {
    let mut b = Bench::signed_in();
    let sent = b.requests_sent();
    for amount in [0, -1, -99, 100_000_000_000, i64::MAX, i64::MIN] {
        assert_eq!(
            b.sale(amount).unwrap_err().code,
            ErrorCode::InvalidAmount,
            "{amount}"
        );
        assert_eq!(
            b.run(refund("000000000001", amount)).unwrap_err().code,
            ErrorCode::InvalidAmount
        );
    }
    assert_eq!(b.requests_sent(), sent);
    assert_eq!(tx(b.sale(99_999_999_999).unwrap()).amount, 99_999_999_999);
}

// ----- R4 ---------------------------------------------------------------------------------

#[test]
fn r4_invalid_cards_are_refused_before_sending() {
    let mut b = Bench::signed_in();
    let sent = b.requests_sent();
    for (pan, expiry) in [
        ("6212345678901233", EXPIRY),
        ("123", EXPIRY),
        (CARD, "10/26"),
        (CARD, "13/30"),
        (CARD, ""),
    ] {
        let e = b
            .run(Command::Sale {
                amount: 100,
                pan: pan.into(),
                expiry: expiry.into(),
                reference: None,
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCard, "{pan} {expiry}");
    }
    assert_eq!(b.requests_sent(), sent);
}

/// Activated and signed in at `now` with a host in Asia/Shanghai (UTC+8), or, with `None`,
/// a host too old to say where it is.
fn signed_in_with_host_offset(offset: Option<i32>, now: Timestamp) -> Bench {
    let mut b = Bench::new();
    b.host.utc_offset_minutes = offset;
    b.now = now;
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    b
}

#[test]
fn r4_expiry_is_checked_against_the_month_on_the_hosts_clock() {
    // 2026-11-30T17:00:00Z: still November in UTC, already 1 December in Shanghai.
    let now = Timestamp(1_796_058_000_000);
    let card = |expiry: &str| Command::Sale {
        amount: 100,
        pan: CARD.into(),
        expiry: expiry.into(),
        reference: None,
    };
    let mut b = signed_in_with_host_offset(Some(480), now);
    let sent = b.requests_sent();
    let e = b.run(card("11/26")).unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidCard,
        "November is over in Shanghai"
    );
    assert_eq!(b.requests_sent(), sent, "refused before sending");
    b.run(card("12/26")).unwrap();
    // The clock is kept with the terminal: after a reload, before any sign-in, the same.
    b.reload().unwrap();
    b.sign_in().unwrap();
    assert_eq!(
        b.run(card("11/26")).unwrap_err().code,
        ErrorCode::InvalidCard
    );
    // A host that does not say where it is leaves the terminal on UTC, as before.
    let mut old = signed_in_with_host_offset(None, now);
    old.run(card("11/26")).unwrap();
}

#[test]
fn r4_no_pan_expiry_or_password_in_any_storage() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.fault(&[Some(Fault::LoseAnswer)]);
    let _ = b.sale(2000);
    b.run(void(1)).unwrap();
    let stored = b.store.snapshot().unwrap().to_json();
    let snapshot = b.terminal.snapshot().to_json();
    for secret in [CARD, EXPIRY, PASSWORD, SUPERVISOR, "token-"] {
        assert!(!stored.contains(secret), "{secret} found in storage");
        assert!(!snapshot.contains(secret), "{secret} found in snapshot");
    }
    assert!(
        stored.contains("621234******1232"),
        "the masked PAN is kept"
    );
}

// ----- R5 ---------------------------------------------------------------------------------

#[test]
fn r5_approved_sale_counts_declined_sale_is_journaled_and_counts_nowhere() {
    let mut b = Bench::signed_in();
    let ok = tx(b.sale(1250).unwrap());
    assert_eq!(
        (ok.status, ok.response_code.as_str()),
        (TxStatus::Approved, "00")
    );
    assert_eq!(ok.masked_pan.as_deref(), Some("621234******1232"));
    let declined = tx(b
        .run(Command::Sale {
            amount: 700,
            pan: DECLINED_CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        })
        .unwrap());
    assert_eq!(declined.status, TxStatus::Declined);
    assert_eq!(declined.response_code, "05");
    let totals = b.terminal.totals();
    assert_eq!((totals.sale.count, totals.sale.amount), (1, 1250));
    let entries = b.terminal.journal().entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].status, EntryStatus::Declined);
    assert_eq!(entries[1].response_code.as_deref(), Some("05"));
}

// ----- R6 ---------------------------------------------------------------------------------

#[test]
fn r6_void_of_an_open_batch_sale_keeps_it_in_sales_and_adds_to_voids() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    let v = tx(b.run(void(sale.trace_no)).unwrap());
    assert_eq!(
        (v.kind, v.status, v.amount),
        (TxKind::Void, TxStatus::Approved, 1000)
    );
    let t = b.terminal.totals();
    assert_eq!((t.sale.count, t.sale.amount), (1, 1000));
    assert_eq!((t.void.count, t.void.amount), (1, 1000));
    assert_eq!(t.net_amount, 0);
    let j = b.terminal.journal();
    assert_eq!(j.current_status(&j.entries()[0]), EntryStatus::Voided);
}

#[test]
fn r6_void_twice_is_already_voided() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.run(void(sale.trace_no)).unwrap();
    let sent = b.requests_sent();
    assert_eq!(
        b.run(void(sale.trace_no)).unwrap_err().code,
        ErrorCode::AlreadyVoided
    );
    assert_eq!(b.requests_sent(), sent);
}

#[test]
fn r6_void_of_an_unknown_trace_is_unknown_transaction() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    assert_eq!(
        b.run(void(42)).unwrap_err().code,
        ErrorCode::UnknownTransaction
    );
    let declined = tx(b
        .run(Command::Sale {
            amount: 5,
            pan: DECLINED_CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        })
        .unwrap());
    assert_eq!(
        b.run(void(declined.trace_no)).unwrap_err().code,
        ErrorCode::UnknownTransaction,
        "a declined sale cannot be voided"
    );
}

#[test]
fn r6_void_after_settlement_is_refused() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.run(Command::Settle).unwrap();
    let e = b.run(void(sale.trace_no)).unwrap_err();
    assert_eq!(e.code, ErrorCode::VoidNotAllowedSettled);
    assert!(e.message.contains("refund"), "{}", e.message);
    assert_eq!(e.code.message_zh(), "原交易已结算，不能撤销，请做退货");
}

#[test]
fn r6_void_needs_the_supervisor_password() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    let sent = b.requests_sent();
    let e = b
        .run(Command::Void {
            trace_no: sale.trace_no,
            supervisor_password: String::new().into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SupervisorRequired);
    assert_eq!(b.requests_sent(), sent);
    let e = b
        .run(Command::Void {
            trace_no: sale.trace_no,
            supervisor_password: "wrong".into(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SupervisorRequired, "the host checks it");
    assert_eq!(b.terminal.totals().void.count, 0);
    assert_eq!(
        b.terminal.meta().in_flight,
        None,
        "a refusal leaves nothing in flight"
    );
}

// ----- R7 ---------------------------------------------------------------------------------

#[test]
fn r7_partial_refunds_up_to_the_original_amount() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    let rrn = sale.rrn.clone().unwrap();
    let r = tx(b.run(refund(&rrn, 600)).unwrap());
    assert_eq!((r.kind, r.status), (TxKind::Refund, TxStatus::Approved));
    let sent = b.requests_sent();
    let e = b.run(refund(&rrn, 401)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RefundExceedsOriginal);
    assert_eq!(b.requests_sent(), sent, "the terminal knows its own batch");
    b.run(refund(&rrn, 400)).unwrap();
    let t = b.terminal.totals();
    assert_eq!(
        (t.refund.count, t.refund.amount, t.net_amount),
        (2, 1000, 0)
    );
}

#[test]
fn r7_refund_limit_of_an_earlier_batch_is_the_hosts() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.run(Command::Settle).unwrap();
    let rrn = sale.rrn.unwrap();
    b.run(refund(&rrn, 700)).unwrap();
    // The refund is in this batch now, so the terminal refuses the rest locally too.
    let e = b.run(refund(&rrn, 301)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RefundExceedsOriginal);
    assert_eq!(b.terminal.journal().len(), 1);
}

#[test]
fn r7_a_voided_sale_cannot_be_refunded() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.run(void(sale.trace_no)).unwrap();
    let e = b.run(refund(&sale.rrn.unwrap(), 100)).unwrap_err();
    assert_eq!(e.code, ErrorCode::AlreadyVoided);
}

#[test]
fn r7_a_sales_lookup_needs_a_session_no_operation_in_flight_and_a_query_the_host_takes() {
    let mut b = Bench::new();
    let code = |b: &Bench, q: &str| b.terminal.sales_lookup(q).map(|_| ()).unwrap_err().code;
    assert_eq!(code(&b, "1234"), ErrorCode::NotSignedIn);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    assert_eq!(code(&b, "1234"), ErrorCode::NotSignedIn);
    b.sign_in().unwrap();
    let lookup = b.terminal.sales_lookup("000000000042").unwrap();
    assert_eq!(lookup.path, "/v1/sales?q=000000000042");
    assert!(matches!(lookup.auth, Auth::Session(_)));
    assert_eq!(b.terminal.sales_lookup("").unwrap().path, "/v1/sales?q=");
    // A card number typed into the search box is refused here and never sent.
    assert_eq!(code(&b, CARD), ErrorCode::BadRequest);
    assert_eq!(code(&b, "12 34"), ErrorCode::BadRequest);
    // R2: not beside an operation in flight.
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
    assert_eq!(code(&b, "1234"), ErrorCode::Busy);
    b.drive().unwrap();
    assert!(b.terminal.sales_lookup("1234").is_ok());
    // It changes nothing in the terminal: nothing to store, nothing sent.
    let sent = b.requests_sent();
    assert!(b.terminal.take_writes().is_empty());
    assert_eq!(b.requests_sent(), sent);
}

// ----- R8 ---------------------------------------------------------------------------------

#[test]
fn r8_a_lost_answer_is_journaled_unknown_and_reversed_before_the_next_operation() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::LoseAnswer)]);
    let e = b.sale(1000).unwrap_err();
    assert_eq!(e.code, ErrorCode::HostUnreachable);
    assert_eq!(b.terminal.pending_reversals(), 1);
    assert_eq!(b.terminal.totals().sale.count, 0, "unknown never counts");
    assert_eq!(
        b.terminal.journal().entries()[0].status,
        EntryStatus::Unknown
    );
    assert_eq!(b.host.totals(1).sale.count, 1, "the host did book it");

    let next = tx(b.sale(300).unwrap());
    assert_eq!(next.status, TxStatus::Approved);
    assert_eq!(b.terminal.pending_reversals(), 0);
    assert_eq!(
        b.host.totals(1).sale.amount,
        300,
        "the host reversed the first sale"
    );
    assert_eq!(b.terminal.totals().sale.amount, 300);
    let kinds: Vec<_> = b
        .terminal
        .journal()
        .entries()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [EntryKind::Sale, EntryKind::Reversal, EntryKind::Sale]
    );
    let settlement = settled(b.run(Command::Settle).unwrap());
    assert_eq!(settlement.outcome, Outcome::Balanced);
}

#[test]
fn r8_an_unreachable_host_blocks_the_next_operation_and_nothing_else_changes() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::Unreachable)]);
    b.sale(1000).unwrap_err();
    let journal_before = b.terminal.journal().len();
    b.fault(&[
        Some(Fault::Unreachable),
        Some(Fault::Unreachable),
        Some(Fault::Unreachable),
    ]);
    let sent = b.sent;
    let e = b.sale(500).unwrap_err();
    assert_eq!(e.code, ErrorCode::HostUnreachable);
    assert_eq!(e.code.message_zh(), "冲正未完成，请重试");
    assert_eq!(
        b.sent - sent,
        3,
        "three tries of the reversal, then the sale is not sent"
    );
    assert_eq!(b.terminal.pending_reversals(), 1, "kept until acknowledged");
    assert_eq!(b.terminal.journal().len(), journal_before);
    // The host never saw the first sale: it acknowledges with reversed=false.
    tx(b.sale(500).unwrap());
    assert_eq!(b.terminal.pending_reversals(), 0);
    assert_eq!(b.terminal.totals().sale.amount, 500);
}

#[test]
fn r8_a_reversed_void_leaves_the_sale_counting_and_voidable() {
    let mut b = Bench::signed_in();
    let sale = tx(b.sale(1000).unwrap());
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.run(void(sale.trace_no)).unwrap_err();
    assert_eq!(b.terminal.totals().void.count, 0);
    let v = tx(b.run(void(sale.trace_no)).unwrap());
    assert_eq!(v.status, TxStatus::Approved);
    let settlement = settled(b.run(Command::Settle).unwrap());
    assert_eq!(settlement.outcome, Outcome::Balanced);
    assert_eq!(settlement.terminal_totals.void.count, 1);
}

// ----- R9 ---------------------------------------------------------------------------------

#[test]
fn r9_every_request_id_is_fresh_and_a_settlement_retry_reuses_its_own() {
    let mut b = Bench::signed_in();
    b.sale(100).unwrap();
    b.sale(200).unwrap();
    b.fault(&[Some(Fault::LoseAnswer)]);
    assert_eq!(
        b.run(Command::Settle).unwrap_err().code,
        ErrorCode::HostUnreachable
    );
    let pending = b
        .terminal
        .meta()
        .settlement
        .clone()
        .expect("kept for the retry");
    // The host settled already; the retry carries the same id, so nothing settles twice.
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(
        (s.batch_no, s.outcome),
        (pending.batch_no, Outcome::Balanced)
    );
    let ids: Vec<String> = b
        .host
        .requests
        .iter()
        .filter_map(|c| match c {
            softpos::terminal::Call::Transaction(t) => Some(t.request_id.to_string()),
            _ => None,
        })
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let settlements: Vec<String> = b
        .host
        .requests
        .iter()
        .filter_map(|c| match c {
            softpos::terminal::Call::Settlement(s) => Some(s.request_id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(settlements.len(), 2);
    assert_eq!(settlements[0], settlements[1]);
    assert_eq!(b.host.open_batch, 2, "the host advanced one batch, not two");
    assert_eq!(b.terminal.batch_no(), Some(2));
}

// ----- R10 --------------------------------------------------------------------------------

#[test]
fn r10_totals_are_the_fold_of_the_journal() {
    let mut b = Bench::signed_in();
    let s1 = tx(b.sale(1000).unwrap());
    b.sale(250).unwrap();
    b.run(void(s1.trace_no)).unwrap();
    let s3 = tx(b.sale(800).unwrap());
    b.run(refund(&s3.rrn.unwrap(), 300)).unwrap();
    let t = b.terminal.totals();
    assert_eq!(
        b.terminal.journal().tally(),
        fold(&ledger_lines(b.terminal.journal().entries())).unwrap()
    );
    assert_eq!((t.sale.count, t.sale.amount), (3, 2050));
    assert_eq!(t.net_amount, 2050 - 1000 - 300);
    assert_eq!(t, b.host.totals(1), "host and terminal count the same way");
}

// ----- R11 --------------------------------------------------------------------------------

#[test]
fn r11_balanced_settlement_closes_the_batch_and_starts_from_zero() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
    assert_eq!(s.terminal_totals, s.host_totals);
    assert!(s.discrepancies.is_empty());
    assert_eq!((s.batch_no, s.next_batch_no), (1, 2));
    assert_eq!(b.terminal.batch_no(), Some(2));
    assert_eq!(b.terminal.totals().sale.count, 0);
    assert!(b.terminal.journal().is_empty());
    assert!(
        b.store.entries.is_empty(),
        "the settled journal leaves storage"
    );
    assert_eq!(b.terminal.last_settlement(), Some(&s));
}

#[test]
fn r11_unbalanced_settlement_uploads_the_journal_and_keeps_every_discrepancy() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.inject_sale(555);
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Unbalanced);
    assert_eq!(s.terminal_totals.sale.amount, 1000);
    assert_eq!(s.host_totals.sale.amount, 1555, "the host's record stands");
    assert_eq!(s.discrepancies.len(), 1);
    assert_eq!(s.discrepancies[0].kind, DiscrepancyKind::MissingOnTerminal);
    assert!(b
        .host
        .requests
        .iter()
        .any(|c| matches!(c, softpos::terminal::Call::Upload(1, u) if u.entries.len() == 1)));
    assert_eq!(b.terminal.batch_no(), Some(2));
    assert_eq!(b.terminal.totals().sale.count, 0);
}

#[test]
fn r11_the_settlement_result_carries_the_acquirers_verdict_as_the_host_gave_it() {
    // An older host says nothing: nothing is shown.
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    assert_eq!(
        settled(b.run(Command::Settle).unwrap()).acquirer_outcome,
        None
    );
    // The acquirer found the host's record different: the terminal's settlement stands.
    b.host.acquirer = Some(AcquirerVerdict::Unbalanced);
    b.sale(1000).unwrap();
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
    assert_eq!(s.acquirer_outcome, Some(AcquirerVerdict::Unbalanced));
    // Unbalanced with the host: the upload's answer carries it.
    b.host.acquirer = Some(AcquirerVerdict::Pending);
    b.sale(1000).unwrap();
    b.host.inject_sale(555);
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Unbalanced);
    assert_eq!(s.acquirer_outcome, Some(AcquirerVerdict::Pending));
    b.reload().unwrap();
    assert_eq!(
        b.terminal.last_settlement(),
        Some(&s),
        "kept across a reload"
    );
}

#[test]
fn r11_a_settlement_cut_off_by_a_reload_is_finished_first() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.inject_sale(1);
    // The settlement answer arrives (unbalanced) but the upload is cut off.
    b.fault(&[None, Some(Fault::Unreachable)]);
    b.run(Command::Settle).unwrap_err();
    b.reload().unwrap();
    let r = b.terminal.recovery().expect("R14 report").clone();
    assert_eq!(r.kind, RecoveryKind::NotSignedOff);
    let signed_in = match b.sign_in().unwrap() {
        Completion::SignedIn(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        signed_in.reconciled.len(),
        1,
        "the upload is finished right after sign-in"
    );
    assert_eq!(signed_in.reconciled[0].outcome, Outcome::Unbalanced);
    assert_eq!(b.terminal.batch_no(), Some(2));
    assert_eq!(b.terminal.meta().settlement, None);
}

#[test]
fn r11_a_journal_longer_than_a_chunk_is_uploaded_in_chunks_and_a_reload_goes_on_where_the_host_is()
{
    let mut b = Bench::signed_in();
    for _ in 0..2500 {
        b.sale(100).unwrap();
    }
    b.host.inject_sale(1);
    // The settlement is answered unbalanced, the first chunk acknowledged, the second cut off.
    b.fault(&[None, None, Some(Fault::Unreachable)]);
    b.run(Command::Settle).unwrap_err();
    let upload = b.store.meta.as_ref().and_then(|m| m.settlement.as_ref());
    let upload = upload
        .and_then(|s| s.upload.as_ref())
        .expect("written ahead");
    assert_eq!(upload.sent, Some(1000), "the acknowledged count is kept");
    b.reload().unwrap();
    let before = b.host.requests.len();
    let signed_in = match b.sign_in().unwrap() {
        Completion::SignedIn(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        uploads(&b.host.requests[before..]),
        [(Some(1000), 1000, Some(true)), (Some(2000), 500, None)],
        "on from the acknowledged count, never the first chunk again"
    );
    let r = &signed_in.reconciled[0];
    assert_eq!(r.outcome, Outcome::Unbalanced);
    assert_eq!(r.discrepancies.len(), 1, "{:?}", r.discrepancies);
    assert_eq!(r.terminal_totals.sale.count, 2500);
    assert_eq!(b.terminal.meta().settlement, None);
}

#[test]
fn r11_the_hosts_count_of_the_journal_stands_and_a_short_journal_goes_whole() {
    let mut b = Bench::signed_in();
    for _ in 0..1500 {
        b.sale(100).unwrap();
    }
    b.host.inject_sale(1);
    // The host answers the last chunk with "I hold none" (as after losing what it held): the
    // terminal goes back to the start; the host then says 1000 and the terminal goes on there.
    let mut lost = false;
    b.terminal.begin(Command::Settle, b.now).unwrap();
    let settled = b
        .drive_scripted(10, |out, host| match &out.call {
            Call::Upload(n, u) if u.from == Some(1000) && !lost => {
                lost = true;
                Reply::UploadProgress(UploadProgress {
                    batch_no: bn(*n),
                    received: 0,
                })
            }
            _ => host.handle(out),
        })
        .unwrap();
    assert_eq!(settled_of(settled).outcome, Outcome::Unbalanced);
    // What reached the host (the answer "none" stood in for it once): the first chunk, again
    // after "none", and after "1000" the last one.
    assert_eq!(
        uploads(&b.host.requests),
        [
            (None, 1000, Some(true)),
            (None, 1000, Some(true)),
            (Some(1000), 500, None)
        ]
    );
    assert!(lost);
    // A journal of one chunk or less goes in one body, without `from` and `more`.
    b.sale(100).unwrap();
    b.host.inject_sale(1);
    b.host.requests.clear();
    b.run(Command::Settle).unwrap();
    assert_eq!(uploads(&b.host.requests), [(None, 1, None)]);
}

/// Each batch upload request: its `from`, its number of entries, its `more`.
fn uploads(requests: &[Call]) -> Vec<(Option<u32>, usize, Option<bool>)> {
    requests
        .iter()
        .filter_map(|c| match c {
            Call::Upload(_, u) => Some((u.from, u.entries.len(), u.more)),
            _ => None,
        })
        .collect()
}

fn settled_of(c: Completion) -> softpos::terminal::SettlementResult {
    match c {
        Completion::Settled(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn r11_a_full_batch_refuses_sales_until_settled() {
    let mut cfg = Config::new(MERCHANT, TERMINAL);
    cfg.max_batch_entries = 3;
    let mut b = Bench::with_config(cfg);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    for _ in 0..3 {
        b.sale(100).unwrap();
    }
    let e = b.sale(100).unwrap_err();
    assert_eq!(e.code, ErrorCode::BatchFull);
    assert_eq!(e.code.message_zh(), "请先结算");
    b.run(Command::Settle).unwrap();
    b.sale(100).unwrap();
}

// ----- R12 --------------------------------------------------------------------------------

#[test]
fn r12_sign_off_settles_first_then_the_session_is_dead() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let off = match b.run(Command::SignOff { settle: true }).unwrap() {
        Completion::SignedOff(o) => o,
        other => panic!("{other:?}"),
    };
    let s = off.settlement.expect("settled first");
    assert_eq!(s.outcome, Outcome::Balanced);
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.terminal.operator(), None);
    assert_eq!(b.host.sessions(), 0, "the host ended the session");
    assert_eq!(b.sale(100).unwrap_err().code, ErrorCode::NotSignedIn);
}

#[test]
fn r12_sign_off_without_settling_keeps_the_batch_open() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let off = match b.run(Command::SignOff { settle: false }).unwrap() {
        Completion::SignedOff(o) => o,
        other => panic!("{other:?}"),
    };
    assert!(off.settlement.is_none());
    assert_eq!(b.terminal.totals().sale.count, 1);
    b.sign_in().unwrap();
    assert_eq!(b.terminal.batch_no(), Some(1), "the same batch goes on");
    b.sale(1).unwrap();
    assert_eq!(b.terminal.totals().sale.count, 2);
}

#[test]
fn r12_queued_reversals_go_before_sign_off() {
    let mut b = Bench::signed_in();
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.sale(1000).unwrap_err();
    b.run(Command::SignOff { settle: true }).unwrap();
    assert_eq!(b.terminal.pending_reversals(), 0);
    let reversal_then_settle: Vec<&str> = b
        .host
        .requests
        .iter()
        .rev()
        .take(3)
        .map(|c| match c {
            softpos::terminal::Call::Reversal(_) => "reversal",
            softpos::terminal::Call::Settlement(_) => "settlement",
            softpos::terminal::Call::SignOff(_) => "sign-off",
            _ => "other",
        })
        .collect();
    assert_eq!(reversal_then_settle, ["sign-off", "settlement", "reversal"]);
}

#[test]
fn r12_a_session_ended_on_the_host_signs_the_terminal_off() {
    let mut b = Bench::signed_in();
    b.host.cutoff();
    let e = b.sale(100).unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.terminal.meta().in_flight, None);
    assert_eq!(
        b.terminal.journal().len(),
        0,
        "a refused sale is not journaled"
    );
}

#[test]
fn r22_signed_off_remotely_signs_the_terminal_off_as_an_ended_session_does() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let totals = b.terminal.totals();
    while b.terminal.poll_event().is_some() {}
    b.host.console_sign_off();
    let e = b.sale(100).unwrap_err();
    assert_eq!(e.code, ErrorCode::SignedOffRemotely);
    assert_eq!(
        ErrorCode::SignedOffRemotely.message_zh(),
        "商户已在管理台将此终端签退，请重新签到"
    );
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.terminal.meta().in_flight, None);
    assert_eq!(
        b.terminal.journal().len(),
        1,
        "the refused sale is not journaled"
    );
    assert_eq!(b.terminal.totals(), totals, "nothing counted changes");
    let mut reasons = Vec::new();
    while let Some(e) = b.terminal.poll_event() {
        if let Event::SignedOff { reason } = e {
            reasons.push(reason);
        }
    }
    assert_eq!(reasons, [SignOffReason::SessionExpired]);
    // Its operator never signed off: the recovery banner says so, with the batch left.
    let left = b.terminal.recovery().cloned().expect("a recovery banner");
    assert_eq!(left.kind, RecoveryKind::NotSignedOff);
    assert_eq!(left.operator.as_deref(), Some("01"));
    assert_eq!(left.totals, totals);
    b.sign_in().unwrap();
    b.sale(100).unwrap();
    assert_eq!(
        b.terminal.totals().sale.count,
        2,
        "it trades again once signed in"
    );
    b.run(Command::SignOff { settle: true }).unwrap();
    assert!(
        b.terminal.recovery().is_none(),
        "settled and signed off: clean again"
    );
}

// ----- R13 --------------------------------------------------------------------------------

#[test]
fn r13_auto_sign_off_after_settle() {
    let mut cfg = config();
    cfg.auto_sign_off_after_settle = true;
    let mut b = Bench::with_config(cfg);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    b.sale(100).unwrap();
    settled(b.run(Command::Settle).unwrap());
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.host.sessions(), 0);
    let mut reasons = Vec::new();
    while let Some(e) = b.terminal.poll_event() {
        if let Event::SignedOff { reason } = e {
            reasons.push(reason);
        }
    }
    assert_eq!(reasons, [SignOffReason::AfterSettle]);
}

#[test]
fn r13_idle_sign_off_without_settling() {
    let mut cfg = config();
    cfg.idle_sign_off_minutes = 5;
    let mut b = Bench::with_config(cfg);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    b.sale(100).unwrap();
    let due = b.terminal.next_timer().expect("a timer while signed in");
    assert!(!b.terminal.handle_timer(Timestamp(due.0 - 1)), "not yet");
    b.now = due;
    assert!(b.terminal.handle_timer(due));
    b.drive().unwrap();
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(
        b.terminal.totals().sale.count,
        1,
        "idle sign-off does not settle"
    );
    assert_eq!(b.terminal.next_timer(), None);
}

// ----- R14 --------------------------------------------------------------------------------

#[test]
fn r14_reload_while_signed_in_reports_not_signed_off() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.reload().unwrap();
    assert_eq!(
        b.terminal.state(),
        State::SignedOff,
        "tokens are not persisted"
    );
    let r = b.terminal.recovery().expect("a report").clone();
    assert_eq!(r.kind, RecoveryKind::NotSignedOff);
    assert_eq!(r.operator.as_deref(), Some(OPERATOR));
    assert_eq!((r.batch_no, r.totals.sale.amount), (1, 1000));
    assert_eq!(r.business_date.as_deref(), Some("2026-11-28"));
    // Sign in, review, settle, sign off: the report clears.
    b.sign_in().unwrap();
    b.run(Command::SignOff { settle: true }).unwrap();
    assert_eq!(b.terminal.recovery(), None);
}

#[test]
fn r14_a_reload_of_the_same_tab_on_the_same_day_keeps_the_session() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    assert!(b.reload_tab().unwrap(), "the tab's session is resumed");
    assert_eq!(b.terminal.state(), State::SignedIn);
    assert_eq!(b.terminal.operator(), Some(OPERATOR));
    assert_eq!(b.terminal.recovery(), None, "a same-day reload is no alarm");
    let sent = b.requests_sent();
    b.sale(500).unwrap();
    assert_eq!(
        b.requests_sent(),
        sent + 1,
        "no new sign-in: the sale alone"
    );
    assert_eq!(b.terminal.totals().sale.amount, 1500);
    assert_eq!(b.host.totals(1).sale.amount, 1500);
}

#[test]
fn r12_r14_a_resumed_session_the_host_ended_signs_the_terminal_off() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    // The host ends every session (its cut-off) while the tab reloads.
    b.host.cutoff();
    assert!(b.reload_tab().unwrap());
    let e = b.sale(100).unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(
        b.terminal.resumable(),
        None,
        "nothing left for the tab to keep"
    );
    assert_eq!(b.terminal.meta().operator, None);
    assert_eq!(b.terminal.meta().in_flight, None);
    assert_eq!(
        b.terminal.totals().sale.amount,
        1000,
        "the refused sale is not journaled"
    );
    // A new sign-in reconciles the batch the host closed, as after any cut-off.
    b.sign_in().unwrap();
    assert_eq!(b.terminal.batch_no(), Some(2));
    assert_eq!(b.terminal.recovery(), None);
}

#[test]
fn r14_r18_a_reload_with_a_sale_in_flight_resumes_and_reverses_it_first() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.sale_sent_then_page_died(700);
    assert!(b.reload_tab().unwrap(), "resumed with a reversal queued");
    assert_eq!(b.terminal.state(), State::SignedIn);
    assert_eq!(b.terminal.pending_reversals(), 1);
    assert_eq!(b.terminal.recovery(), None);
    let before = b.host.requests.len();
    b.sale(200).unwrap();
    let calls: Vec<&str> = b.host.requests[before..]
        .iter()
        .map(|c| match c {
            softpos::terminal::Call::Reversal(_) => "reversal",
            softpos::terminal::Call::Transaction(_) => "sale",
            _ => "other",
        })
        .collect();
    assert_eq!(calls, ["reversal", "sale"], "R8: the reversal goes first");
    assert_eq!(b.terminal.pending_reversals(), 0);
    assert_eq!(b.host.totals(1).sale.amount, 1200);
    assert_eq!(b.terminal.totals().sale.amount, 1200);
}

#[test]
fn r13_r14_a_reload_does_not_restart_the_idle_clock() {
    let mut cfg = config();
    cfg.idle_sign_off_minutes = 5;
    let mut b = Bench::with_config(cfg);
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    b.sale(100).unwrap();
    let due = b.terminal.next_timer().expect("a timer while signed in");
    b.now = Timestamp(b.now.0 + 3 * 60_000);
    assert!(b.reload_tab().unwrap());
    assert_eq!(
        b.terminal.next_timer(),
        Some(due),
        "the clock runs on from the sale"
    );
    b.now = due;
    assert!(b.terminal.handle_timer(due));
    b.drive().unwrap();
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.terminal.resumable(), None);
    assert_eq!(b.host.sessions(), 0, "signed off on the host too");
}

#[test]
fn r14_a_batch_of_an_earlier_day_reports_not_settled() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.run(Command::SignOff { settle: false }).unwrap();
    b.now = Timestamp(T0.0 + 86_400_000);
    b.reload().unwrap();
    let r = b.terminal.recovery().expect("a report");
    assert_eq!(r.kind, RecoveryKind::NotSettled);
    assert_eq!(r.totals.sale.count, 1);
}

#[test]
fn r14_a_batch_of_yesterday_is_not_settled_after_midnight_on_the_hosts_clock() {
    // Signed in at 10:00 on 28 November in Shanghai (02:00 UTC), business date 2026-11-28.
    let mut b = signed_in_with_host_offset(Some(480), T0);
    b.sale(1000).unwrap();
    b.run(Command::SignOff { settle: false }).unwrap();
    // 23:00 in Shanghai: still the batch's day, nothing to report.
    b.now = Timestamp(T0.0 + 13 * 3_600_000);
    b.reload().unwrap();
    assert_eq!(b.terminal.recovery(), None);
    // 01:00 on the 29th in Shanghai is 17:00 UTC on the 28th: in UTC the batch would still
    // look like today's until 08:00 in Shanghai.
    b.now = Timestamp(T0.0 + 15 * 3_600_000);
    b.reload().unwrap();
    let r = b
        .terminal
        .recovery()
        .expect("R14: yesterday's batch is reported");
    assert_eq!(r.kind, RecoveryKind::NotSettled);
    assert_eq!(r.business_date.as_deref(), Some("2026-11-28"));
    assert_eq!(r.totals.sale.amount, 1000);
}

#[test]
fn r14_batches_closed_at_cut_off_are_reconciled_at_sign_in() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.sale(500).unwrap();
    b.host.cutoff();
    b.reload().unwrap();
    let signed_in = match b.sign_in().unwrap() {
        Completion::SignedIn(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(signed_in.reconciled.len(), 1);
    let r = &signed_in.reconciled[0];
    assert_eq!((r.batch_no, r.outcome), (1, Outcome::Balanced));
    assert_eq!(r.terminal_totals.sale.amount, 1500);
    assert_eq!(
        b.terminal.batch_no(),
        Some(2),
        "now in the host's new batch"
    );
    assert!(b.terminal.journal().is_empty());
    tx(b.sale(1).unwrap());
    assert_eq!(b.host.totals(2).sale.count, 1);
}

/// The amount above which a sale asks the cashier first comes with each sign-in and survives
/// a reload; a state record from before the terminal kept it, and a host too old to say, give
/// the default (¥10 000.00).
#[test]
fn r14_the_confirmation_threshold_of_the_last_sign_in_is_kept_across_a_restore() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    assert_eq!(b.terminal.confirm_above(), 1_000_000, "before any sign-in");
    b.host.confirm_above = ConfirmAbove::try_from(50_000).unwrap();
    b.sign_in().unwrap();
    assert_eq!(b.terminal.confirm_above(), 50_000);
    b.reload().unwrap();
    assert_eq!(b.terminal.confirm_above(), 50_000, "kept across a reload");
    b.host.confirm_above = ConfirmAbove::try_from(99_999_999_999).unwrap();
    b.sign_in().unwrap();
    assert_eq!(
        b.terminal.confirm_above(),
        99_999_999_999,
        "each sign-in tells it again"
    );

    let json = b.store.snapshot().unwrap().to_json();
    let old = json.replace(r#","confirm_above":99999999999"#, "");
    assert_ne!(old, json, "the snapshot carries it: {json}");
    let t = Terminal::restore(config(), Snapshot::from_json(&old).unwrap(), b.now).unwrap();
    assert_eq!(
        t.confirm_above(),
        1_000_000,
        "a record written before it was kept"
    );
}

// ----- R18 --------------------------------------------------------------------------------

#[test]
fn r18_a_reload_mid_transaction_turns_it_into_a_queued_reversal() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    // The request leaves, then the page dies before the answer.
    b.sale_sent_then_page_died(700);
    b.reload().unwrap();
    assert_eq!(b.terminal.pending_reversals(), 1);
    assert_eq!(b.terminal.journal().len(), 2);
    assert_eq!(
        b.terminal.totals().sale.amount,
        1000,
        "finished ones stay, the lost one does not count"
    );
    b.sign_in().unwrap();
    assert_eq!(
        b.terminal.pending_reversals(),
        0,
        "reversed right after sign-in"
    );
    assert_eq!(b.host.totals(1).sale.amount, 1000);
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
}

#[test]
fn r18_appending_writes_one_entry_whatever_the_batch_size() {
    let mut b = Bench::signed_in();
    for i in 0..50 {
        let before = b.store.entry_writes;
        b.sale(100 + i).unwrap();
        assert_eq!(b.store.entry_writes - before, 1);
    }
    assert_eq!(b.store.entries.len(), 50);
}

#[test]
fn r18_what_was_persisted_restores_to_the_same_terminal() {
    let mut b = Bench::signed_in();
    let s = tx(b.sale(1000).unwrap());
    b.sale(2000).unwrap();
    b.run(void(s.trace_no)).unwrap();
    assert_eq!(b.store.snapshot().unwrap(), b.terminal.snapshot());
    let before = b.terminal.snapshot();
    b.reload().unwrap();
    let mut after = b.terminal.snapshot();
    assert_eq!(after.entries, before.entries);
    assert_eq!(after.meta.operator, before.meta.operator);
    after.meta.operator = before.meta.operator.clone();
    assert_eq!(after, before);
    assert_eq!(b.terminal.totals(), b.host.totals(1));
}

// ----- R19 --------------------------------------------------------------------------------

#[test]
fn r19_a_tampered_journal_is_refused_on_load() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.sale(2000).unwrap();
    let mut snap = b.terminal.snapshot();
    snap.entries[1].amount = 1;
    let e = Terminal::restore(config(), snap, b.now).unwrap_err();
    assert_eq!(e.code, ErrorCode::JournalTampered);

    let mut snap = b.terminal.snapshot();
    snap.entries.remove(0);
    let e = Terminal::restore(config(), snap, b.now).unwrap_err();
    assert_eq!(e.code, ErrorCode::JournalTampered);

    let mut snap = b.terminal.snapshot();
    snap.entries.pop();
    let e = Terminal::restore(config(), snap, b.now).unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::JournalTampered,
        "a journal cut short is caught too"
    );

    let mut snap = b.terminal.snapshot();
    snap.entries[0].status = EntryStatus::Declined;
    let e = Terminal::restore(config(), snap, b.now).unwrap_err();
    assert_eq!(e.code, ErrorCode::JournalTampered);
}

#[test]
fn r19_a_corrupt_or_foreign_snapshot_is_bad_request() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    let json = b.terminal.snapshot().to_json();
    for cut in [0, 1, json.len() / 2, json.len() - 1] {
        let e = Snapshot::from_json(&json[..cut]).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
    }
    let other = Config::new(MERCHANT, "10000002");
    let e = Terminal::restore(other, b.terminal.snapshot(), b.now).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    let mut snap = b.terminal.snapshot();
    snap.meta.version = 99;
    assert_eq!(
        Terminal::restore(config(), snap, b.now).unwrap_err().code,
        ErrorCode::BadRequest
    );
}

#[test]
fn r12_a_settlement_refused_for_an_ended_session_is_not_left_pending() {
    let mut b = Bench::signed_in();
    b.sale(1000).unwrap();
    b.host.cutoff();
    assert_eq!(
        b.run(Command::Settle).unwrap_err().code,
        ErrorCode::SessionExpired
    );
    assert_eq!(b.terminal.meta().settlement, None);
    assert_eq!(b.terminal.state(), State::SignedOff);
}

// ===== issue 12, money path: R8 dependents, the settle loop, checked restored arithmetic =====
// (kept in one block so parallel additions above do not collide with it)

// ----- R21 --------------------------------------------------------------------------------

/// A Visa card: a foreign card for the split of totals.
const FOREIGN_CARD: &str = "4111111111111111";

fn foreign_sale(b: &mut Bench, amount: i64) -> softpos::terminal::TxResult {
    tx(b.run(Command::Sale {
        amount,
        pan: FOREIGN_CARD.into(),
        expiry: EXPIRY.into(),
        reference: None,
    })
    .unwrap())
}

#[test]
fn r21_totals_are_split_by_card_origin_and_the_halves_sum_to_the_lines() {
    let mut b = Bench::signed_in();
    let domestic = tx(b.sale(1000).unwrap());
    let foreign = foreign_sale(&mut b, 500);
    // A void and a refund name no card: each counts in its sale's half.
    b.run(void(foreign.trace_no)).unwrap();
    b.run(refund(&domestic.rrn.unwrap(), 300)).unwrap();
    let t = b.terminal.totals();
    let (d, f) = (t.domestic.unwrap(), t.foreign.unwrap());
    assert_eq!(
        (d.sale.amount, d.void.count, d.refund.amount),
        (1000, 0, 300)
    );
    assert_eq!(
        (f.sale.amount, f.void.amount, f.refund.count),
        (500, 500, 0)
    );
    assert_eq!((d.net_amount, f.net_amount), (700, 0));
    assert_eq!(t.sale.amount, d.sale.amount + f.sale.amount);
    assert_eq!(t.net_amount, d.net_amount + f.net_amount);
    // The host split them alike.
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
    assert_eq!(s.host_totals.foreign, s.terminal_totals.foreign);
}

#[test]
fn r21_a_refund_of_an_earlier_batchs_sale_counts_in_its_cards_half() {
    let mut b = Bench::signed_in();
    let sale = foreign_sale(&mut b, 800);
    b.run(Command::Settle).unwrap();
    // The terminal's new batch does not hold the sale: the host's answer names its card.
    let r = tx(b.run(refund(&sale.rrn.unwrap(), 200)).unwrap());
    assert_eq!(r.masked_pan.as_deref(), Some("411111******1111"));
    let t = b.terminal.totals();
    assert_eq!(t.foreign.unwrap().refund.amount, 200);
    assert_eq!(t.domestic.unwrap().refund.count, 0);
    let s = settled(b.run(Command::Settle).unwrap());
    assert_eq!(s.outcome, Outcome::Balanced);
}

#[test]
fn r21_a_void_without_an_answer_still_counts_in_its_sales_half() {
    let mut b = Bench::signed_in();
    let sale = foreign_sale(&mut b, 400);
    b.fault(&[Some(Fault::LoseAnswer)]);
    b.run(void(sale.trace_no)).unwrap_err();
    let unknown = b.terminal.journal().entries().last().unwrap().clone();
    assert_eq!(unknown.masked_pan.as_deref(), Some("411111******1111"));
}

// ----- R23 --------------------------------------------------------------------------------

#[test]
fn r23_a_checkout_lane_signs_in_with_its_key_alone_and_sells() {
    let mut b = Bench::new();
    let e = b.run(Command::SignInCheckout).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotActivated);
    assert_eq!(b.requests_sent(), 0, "nothing sent before activation");
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    let before = b.host.requests.len();
    let signed_in = match b.run(Command::SignInCheckout).unwrap() {
        Completion::SignedIn(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(signed_in.operator, "web", "the host's unattended operator");
    let call = &b.host.requests[before];
    assert_eq!(call.path(), "/v1/checkout/sign-in");
    assert_eq!(call.body_json(), "{}", "no operator, no password");
    assert_eq!(b.terminal.state(), State::SignedIn);
    assert_eq!(b.terminal.operator(), Some("web"));
    assert_eq!(tx(b.sale(1250).unwrap()).status, TxStatus::Approved);
    assert_eq!(b.host.totals(1).sale.amount, 1250);
}

#[test]
fn r23_a_checkout_sign_in_is_refused_like_a_sign_in_and_leaves_the_terminal_signed_off() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    // The host's answer to a key that is not a lane's.
    b.terminal.begin(Command::SignInCheckout, b.now).unwrap();
    let e = b
        .drive_scripted(1, |_, _| {
            softpos::terminal::Reply::Refused(ErrorCode::BadCredentials.into())
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadCredentials);
    assert_eq!(b.terminal.state(), State::SignedOff);
    assert_eq!(b.sale(100).unwrap_err().code, ErrorCode::NotSignedIn);
}

#[test]
fn r23_a_sales_reference_goes_to_the_host_and_back_in_its_result() {
    let mut b = Bench::signed_in();
    let sale = |reference: &str| Command::Sale {
        amount: 1250,
        pan: CARD.into(),
        expiry: EXPIRY.into(),
        reference: Some(reference.into()),
    };
    let before = b.host.requests.len();
    let paid = tx(b.run(sale("TEA-2026-0001")).unwrap());
    assert_eq!(paid.reference.as_deref(), Some("TEA-2026-0001"));
    match &b.host.requests[before] {
        softpos::terminal::Call::Transaction(req) => {
            assert_eq!(req.reference.as_deref(), Some("TEA-2026-0001"));
        }
        other => panic!("{other:?}"),
    }
    // One the host would refuse is refused before anything is sent.
    let sent = b.requests_sent();
    for bad in ["", "order 1", "订单", &"R".repeat(65)] {
        assert_eq!(
            b.run(sale(bad)).unwrap_err().code,
            ErrorCode::BadRequest,
            "{bad:?}"
        );
    }
    assert_eq!(b.requests_sent(), sent);
    assert_eq!(
        tx(b.sale(300).unwrap()).reference,
        None,
        "none when none is given"
    );
}

#[test]
fn r8_r18_r23_a_frame_reloaded_mid_sale_reverses_it_at_the_checkout_sign_in() {
    let mut b = Bench::new();
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.run(Command::SignInCheckout).unwrap();
    b.sale_sent_then_page_died(700);
    assert_eq!(b.host.totals(1).sale.amount, 700, "the host booked it");
    // The shop reloads: the frame's terminal comes back from its storage, session and all.
    assert!(b.reload_tab().unwrap());
    assert_eq!(b.terminal.pending_reversals(), 1);
    let before = b.host.requests.len();
    let signed_in = match b.run(Command::SignInCheckout).unwrap() {
        Completion::SignedIn(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(signed_in.pending_reversals, 0);
    let calls: Vec<&str> = b.host.requests[before..]
        .iter()
        .map(|c| match c {
            softpos::terminal::Call::CheckoutSignIn => "sign-in",
            softpos::terminal::Call::Reversal(_) => "reversal",
            _ => "other",
        })
        .collect();
    assert_eq!(
        calls,
        ["sign-in", "reversal"],
        "R8: housekeeping after the sign-in"
    );
    assert_eq!(b.host.totals(1).sale.amount, 0, "the host reversed it");
    assert_eq!(b.terminal.totals().sale.amount, 0);
}

mod money_path {
    use super::support::*;
    use super::{refund, void};
    use softpos::protocol::*;
    use softpos::terminal::journal::{entry_hash, genesis_hash};
    use softpos::terminal::{Command, Config, Event, Reply, Terminal};
    use softpos::{Error, ErrorCode};

    // ----- R8, dependents -------------------------------------------------------------------

    #[test]
    fn r8_dependents_a_sale_refunded_elsewhere_is_not_reversed_and_counts() {
        let mut b = Bench::signed_in();
        b.fault(&[Some(Fault::LoseAnswer)]);
        assert_eq!(b.sale(3000).unwrap_err().code, ErrorCode::HostUnreachable);
        let sale_id = b.terminal.journal().entries()[0].request_id.clone();
        // Another terminal refunds the sale by its RRN before this one's reversal arrives.
        b.host.refund_elsewhere(sale_id.as_str(), 3000);
        while b.terminal.poll_event().is_some() {}

        let next = tx(b.sale(100).unwrap());
        assert_eq!(next.status, TxStatus::Approved);
        assert_eq!(b.terminal.pending_reversals(), 0, "the host answered it");
        let journal = b.terminal.journal();
        let kinds: Vec<_> = journal.entries().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EntryKind::Sale, EntryKind::Reversal, EntryKind::Sale]
        );
        assert_eq!(
            journal.current_status(&journal.entries()[0]),
            EntryStatus::Approved,
            "the unknown sale follows the host's answer"
        );
        assert_eq!(journal.entries()[1].status, EntryStatus::Approved);
        assert!(journal.entries()[1].rrn.is_some());
        let t = b.terminal.totals();
        assert_eq!((t.sale.count, t.sale.amount), (2, 3100), "the sale counts");
        assert_eq!(t, b.host.totals(1), "terminal and host count the same");
        let answered = std::iter::from_fn(|| b.terminal.poll_event()).any(|e| {
            matches!(e, Event::Transaction(r) if r.amount == 3000 && r.status == TxStatus::Approved)
        });
        assert!(answered, "the UI hears the sale's answer");

        b.reload().unwrap();
        assert_eq!(b.terminal.totals(), t, "the resolution survives a reload");
        b.sign_in().unwrap();
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        assert_eq!(s.terminal_totals.sale.amount, 3100);
    }

    #[test]
    fn r8_dependents_a_void_the_host_keeps_voids_the_sale_on_the_terminal_too() {
        let mut b = Bench::signed_in();
        let sale = tx(b.sale(1000).unwrap());
        b.fault(&[Some(Fault::LoseAnswer)]);
        b.run(void(sale.trace_no)).unwrap_err();
        let void_entry = b.terminal.journal().entries()[1].clone();
        assert_eq!(void_entry.status, EntryStatus::Unknown);

        // The host answers the void's reversal with "not reversed": its answer stands.
        let standing = TransactionResponse {
            request_id: void_entry.request_id.clone(),
            status: TxStatus::Approved,
            response_code: "00".into(),
            message: "Approved".into(),
            rrn: Some("000000000077".into()),
            auth_code: Some("A1B2C3".into()),
            batch_no: bn(1),
            trace_no: void_entry.trace_no,
            masked_pan: None,
            host_time: "2026-11-28T02:00:00Z".into(),
            reference: None,
        };
        b.terminal
            .begin(
                Command::Sale {
                    amount: 200,
                    pan: CARD.into(),
                    expiry: EXPIRY.into(),
                    reference: None,
                },
                b.now,
            )
            .unwrap();
        tx(b.drive_scripted(5, |out, host| match &out.call {
            softpos::terminal::Call::Reversal(r) => Reply::Reversal(ReversalResponse {
                request_id: r.request_id.clone(),
                reversed: false,
                transaction: Some(standing.clone()),
            }),
            _ => host.handle(out),
        })
        .unwrap());

        let journal = b.terminal.journal();
        assert_eq!(
            journal.current_status(&journal.entries()[0]),
            EntryStatus::Voided
        );
        assert_eq!(
            journal.current_status(&journal.entries()[1]),
            EntryStatus::Approved
        );
        let t = b.terminal.totals();
        assert_eq!((t.void.count, t.void.amount, t.net_amount), (1, 1000, 200));
        assert_eq!(t, b.host.totals(1));
        let sent = b.requests_sent();
        let e = b.run(void(sale.trace_no)).unwrap_err();
        assert_eq!(e.code, ErrorCode::AlreadyVoided, "known locally now");
        let e = b.run(refund(&sale.rrn.unwrap(), 1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::AlreadyVoided);
        assert_eq!(b.requests_sent(), sent);
        assert_eq!(
            settled(b.run(Command::Settle).unwrap()).outcome,
            Outcome::Balanced
        );
    }

    #[test]
    fn r8_dependents_an_answer_for_another_request_is_not_followed() {
        let mut b = Bench::signed_in();
        b.fault(&[Some(Fault::LoseAnswer)]);
        b.sale(3000).unwrap_err();
        b.terminal.begin(Command::Settle, b.now).unwrap();
        let e = b
            .drive_scripted(5, |out, _| match &out.call {
                softpos::terminal::Call::Reversal(r) => Reply::Reversal(ReversalResponse {
                    request_id: r.request_id.clone(),
                    reversed: false,
                    transaction: Some(TransactionResponse {
                        request_id: rid("00000000-0000-4000-8000-00000000ffff"),
                        status: TxStatus::Approved,
                        response_code: "00".into(),
                        message: "Approved".into(),
                        rrn: Some("000000000001".into()),
                        auth_code: None,
                        batch_no: bn(1),
                        trace_no: tn(1),
                        masked_pan: None,
                        host_time: "2026-11-28T02:00:00Z".into(),
                        reference: None,
                    }),
                }),
                _ => Reply::NoAnswer,
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert_eq!(b.terminal.pending_reversals(), 1, "kept for the next try");
        assert_eq!(b.terminal.totals().sale.count, 0);
    }

    // ----- R11, one settlement per settle ------------------------------------------------------

    #[test]
    fn r11_a_settle_after_a_failed_reconcile_settles_once_and_stops() {
        let mut b = Bench::new();
        b.run(Command::Activate { code: CODE.into() }).unwrap();
        let fresh = b.terminal.snapshot();
        b.sign_in().unwrap();
        b.sale(100).unwrap();
        b.run(Command::Settle).unwrap();
        b.sale(200).unwrap();
        b.run(Command::SignOff { settle: false }).unwrap();
        b.host.cutoff();
        // The browser's storage is lost: the terminal comes back as it was after activation,
        // with batch 1 and no journal, while the host has closed batch 2 and opened batch 3.
        b.terminal = Terminal::restore(config(), fresh.clone(), b.now).unwrap();
        b.store = Store {
            meta: Some(fresh.meta),
            ..Store::default()
        };
        // Sign-in succeeds, but the reconciliation of batch 2 gets no answer.
        b.fault(&[None, Some(Fault::Unreachable)]);
        b.sign_in().unwrap();
        assert_eq!(b.terminal.batch_no(), Some(1));

        let before = b.requests_sent();
        b.terminal.begin(Command::Settle, b.now).unwrap();
        let s = settled(b.drive_scripted(10, |out, host| host.handle(out)).unwrap());
        assert_eq!(
            (s.batch_no, s.outcome),
            (3, Outcome::Balanced),
            "the settle's own batch is the one open once batch 2 is reconciled"
        );
        assert_eq!(
            b.requests_sent() - before,
            3,
            "batch 2 (settlement, upload), then batch 3 once"
        );
        assert_eq!(b.terminal.batch_no(), Some(4));
    }

    // ----- R10, R19: restored data is checked -------------------------------------------------

    /// Chains `entries` as the terminal would, so only their content is forged.
    fn chained(mut entries: Vec<JournalEntry>) -> Vec<JournalEntry> {
        let mut prev = genesis_hash(MERCHANT, TERMINAL, 1);
        for (i, e) in entries.iter_mut().enumerate() {
            e.seq = u32::try_from(i + 1).unwrap();
            e.prev_hash = prev;
            e.hash = entry_hash(e);
            prev = e.hash.clone();
        }
        entries
    }

    /// A snapshot of a signed-in terminal whose journal is `entries`, chained.
    fn restore_with(b: &Bench, entries: Vec<JournalEntry>) -> Result<Terminal, Error> {
        let mut snap = b.terminal.snapshot();
        snap.entries = chained(entries);
        snap.meta.journal_len = u32::try_from(snap.entries.len()).unwrap();
        Terminal::restore(config(), snap, b.now)
    }

    #[test]
    fn r19_a_restored_amount_outside_r3_is_journal_tampered() {
        let mut b = Bench::signed_in();
        b.sale(1000).unwrap();
        b.sale(2000).unwrap();
        let good = b.terminal.snapshot().entries;
        assert!(
            restore_with(&b, good.clone()).is_ok(),
            "rechaining alone is fine"
        );
        for amount in [i64::MAX, 100_000_000_000, 0, -1, i64::MIN] {
            let mut forged = good.clone();
            forged[1].amount = amount;
            let e = restore_with(&b, forged).unwrap_err();
            assert_eq!(e.code, ErrorCode::JournalTampered, "{amount}");
        }
    }

    #[test]
    fn r10_restored_totals_that_would_overflow_are_journal_tampered() {
        let mut b = Bench::signed_in();
        let sale = tx(b.sale(1000).unwrap());
        b.run(refund(&sale.rrn.clone().unwrap(), 400)).unwrap();
        b.run(refund(&sale.rrn.unwrap(), 500)).unwrap();
        let good = b.terminal.snapshot().entries;
        // Never a wrapped or saturated total: the refunds of one sale summed past i64, and
        // sales summed past i64.
        let mut refunds = good.clone();
        refunds[1].amount = i64::MAX;
        refunds[2].amount = i64::MAX;
        let e = restore_with(&b, refunds).unwrap_err();
        assert_eq!(e.code, ErrorCode::JournalTampered);
        let mut sales = good.clone();
        sales.truncate(1);
        sales.push(sales[0].clone());
        sales[0].amount = i64::MAX;
        sales[1].amount = i64::MAX;
        sales[1].request_id =
            softpos::ids::RequestId::parse("00000000-0000-4000-8000-0000000000ff").unwrap();
        sales[1].trace_no = softpos::ids::TraceNo::try_from(9u32).unwrap();
        let e = restore_with(&b, sales).unwrap_err();
        assert_eq!(e.code, ErrorCode::JournalTampered);
    }

    #[test]
    fn r11_max_batch_entries_is_bounded_where_it_is_read() {
        for (max, ok) in [
            (1, true),
            (20_000, true),
            (1_000_000, true),
            (0, false),
            (1_000_001, false),
            (u32::MAX, false),
        ] {
            let mut cfg = Config::new(MERCHANT, TERMINAL);
            cfg.max_batch_entries = max;
            match Terminal::new(cfg.clone(), T0) {
                Ok(_) => assert!(ok, "{max} accepted"),
                Err(e) => {
                    assert!(!ok, "{max} refused");
                    assert_eq!(e.code, ErrorCode::BadRequest);
                    assert!(e.message.contains("maxBatchEntries"), "{}", e.message);
                }
            }
            assert_eq!(cfg.validate().is_ok(), ok);
        }
    }
}

// ----- R20 --------------------------------------------------------------------------------
// (kept in one block at the end so parallel additions above do not collide with it)

mod preauth_rules {
    use super::support::*;
    use softpos::protocol::{CardOrigin, EntryKind, EntryStatus, Outcome, TxKind, TxStatus};
    use softpos::terminal::settlement::fold;
    use softpos::terminal::{Command, TxResult};
    use softpos::ErrorCode;

    /// A hold of `amount`, approved: its RRN and auth code.
    fn hold(b: &mut Bench, amount: i64) -> (String, String) {
        let r = tx(b.run(preauth(amount)).unwrap());
        assert_eq!((r.kind, r.status), (TxKind::Preauth, TxStatus::Approved));
        (r.rrn.unwrap(), r.auth_code.unwrap())
    }

    /// Refused with `code` before anything was sent.
    fn refused_locally(b: &mut Bench, command: Command, code: ErrorCode) -> String {
        let sent = b.requests_sent();
        let e = b.run(command).unwrap_err();
        assert_eq!(e.code, code, "{e:?}");
        assert_eq!(b.requests_sent(), sent, "nothing is sent");
        e.message
    }

    fn completed(b: &mut Bench, rrn: &str, auth: &str, amount: i64) -> TxResult {
        let r = tx(b.run(complete(rrn, auth, amount)).unwrap());
        assert_eq!((r.kind, r.status), (TxKind::Completion, TxStatus::Approved));
        r
    }

    fn assert_totals_are_the_fold(b: &Bench) {
        let journal = b.terminal.journal();
        assert_eq!(journal.tally(), fold(&journal.ledger()).unwrap());
    }

    #[test]
    fn r20_preauth_counts_in_no_total() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        let (rrn2, auth2) = hold(&mut b, 5_000);
        let r = tx(b.run(preauth_void(&rrn2, &auth2, 5_000)).unwrap());
        assert_eq!(
            (r.kind, r.status),
            (TxKind::PreauthVoid, TxStatus::Approved)
        );
        assert_eq!(r.masked_pan.as_deref(), Some("621234******1232"));
        let t = b.terminal.totals();
        assert_eq!(t.sale.count + t.void.count + t.refund.count, 0);
        assert_eq!(t.completion.unwrap().count, 0);
        assert_eq!(t.net_amount, 0);
        assert_totals_are_the_fold(&b);
        // The journal keeps them as their kinds; the released hold shows `voided`.
        let journal = b.terminal.journal();
        let kinds: Vec<EntryKind> = journal.entries().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EntryKind::Preauth,
                EntryKind::Preauth,
                EntryKind::PreauthVoid
            ]
        );
        let status: Vec<EntryStatus> = journal
            .entries()
            .iter()
            .map(|e| journal.current_status(e))
            .collect();
        assert_eq!(
            status,
            [
                EntryStatus::Approved,
                EntryStatus::Voided,
                EntryStatus::Approved
            ]
        );
        assert_eq!(journal.hold_by_rrn(&rrn).map(|e| e.amount), Some(10_000));
        assert_eq!(journal.hold_by_rrn(&rrn).unwrap().auth_code, Some(auth));
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        assert_eq!(s.host_totals.net_amount, 0);
    }

    #[test]
    fn r20_preauth_is_checked_like_a_sale_and_a_decline_counts_nowhere() {
        let mut b = Bench::new();
        b.run(Command::Activate { code: CODE.into() }).unwrap();
        refused_locally(&mut b, preauth(100), ErrorCode::NotSignedIn);
        b.sign_in().unwrap();
        for amount in [0, -1, 100_000_000_000] {
            refused_locally(&mut b, preauth(amount), ErrorCode::InvalidAmount);
        }
        let bad_card = Command::PreAuth {
            amount: 100,
            pan: "6212345678901233".into(),
            expiry: EXPIRY.into(),
        };
        refused_locally(&mut b, bad_card, ErrorCode::InvalidCard);
        let declined = Command::PreAuth {
            amount: 100,
            pan: DECLINED_CARD.into(),
            expiry: EXPIRY.into(),
        };
        let r = tx(b.run(declined).unwrap());
        assert_eq!((r.kind, r.status), (TxKind::Preauth, TxStatus::Declined));
        // A declined hold is no hold.
        assert!(b.terminal.journal().hold_by_rrn(&r.rrn.unwrap()).is_none());
        assert_eq!(b.terminal.totals().net_amount, 0);
    }

    #[test]
    fn r20_completion_over_115_percent_is_refused_before_sending() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        let message = refused_locally(
            &mut b,
            complete(&rrn, &auth, 11_501),
            ErrorCode::InvalidAmount,
        );
        assert!(message.contains("11500"), "the limit is named: {message}");
        completed(&mut b, &rrn, &auth, 11_500);
        // Integer arithmetic, rounded down: 115 % of 999 is 1148.85.
        let (rrn, auth) = hold(&mut b, 999);
        assert_eq!(softpos::terminal::completion_limit(999), 1148);
        refused_locally(
            &mut b,
            complete(&rrn, &auth, 1149),
            ErrorCode::InvalidAmount,
        );
        completed(&mut b, &rrn, &auth, 1148);
    }

    #[test]
    fn r20_completion_counts_in_completion_and_net() {
        let mut b = Bench::signed_in();
        b.sale(2_000).unwrap();
        let (rrn, auth) = hold(&mut b, 10_000);
        let r = completed(&mut b, &rrn, &auth, 11_000);
        assert_eq!(r.masked_pan.as_deref(), Some("621234******1232"));
        let t = b.terminal.totals();
        let c = t.completion.unwrap();
        assert_eq!((c.count, c.amount), (1, 11_000));
        assert_eq!((t.sale.count, t.sale.amount), (1, 2_000));
        assert_eq!(t.net_amount, 13_000);
        assert_eq!(t.domestic.unwrap().completion.amount, 11_000);
        assert_totals_are_the_fold(&b);
        // The entry names its hold's RRN.
        let entry = b.terminal.journal().by_trace(r.trace_no).unwrap().clone();
        assert_eq!(entry.original_rrn.as_deref(), Some(rrn.as_str()));
        assert_eq!(
            b.terminal.journal().current_status(&entry),
            EntryStatus::Approved
        );
    }

    #[test]
    fn r20_a_released_or_completed_hold_is_refused_locally() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        // A release is for the whole hold.
        let message = refused_locally(
            &mut b,
            preauth_void(&rrn, &auth, 9_999),
            ErrorCode::InvalidAmount,
        );
        assert!(message.contains("10000"), "{message}");
        // Another auth code names no hold: RRNs are unique per merchant.
        refused_locally(
            &mut b,
            complete(&rrn, "ZZZZZZ", 100),
            ErrorCode::PreauthNotFound,
        );
        // Not an RRN and an auth code at all.
        refused_locally(&mut b, complete("", "", 100), ErrorCode::PreauthNotFound);
        refused_locally(
            &mut b,
            preauth_void("12345", &auth, 10_000),
            ErrorCode::PreauthNotFound,
        );
        // No supervisor password.
        let no_supervisor = Command::PreAuthVoid {
            rrn: rrn.clone(),
            auth_code: auth.clone(),
            amount: 10_000,
            supervisor_password: "".into(),
        };
        refused_locally(&mut b, no_supervisor, ErrorCode::SupervisorRequired);

        completed(&mut b, &rrn, &auth, 10_000);
        refused_locally(
            &mut b,
            complete(&rrn, &auth, 10_000),
            ErrorCode::PreauthCompleted,
        );
        refused_locally(
            &mut b,
            preauth_void(&rrn, &auth, 10_000),
            ErrorCode::PreauthCompleted,
        );

        let (rrn, auth) = hold(&mut b, 3_000);
        b.run(preauth_void(&rrn, &auth, 3_000)).unwrap();
        refused_locally(
            &mut b,
            complete(&rrn, &auth, 3_000),
            ErrorCode::PreauthNotFound,
        );
        refused_locally(
            &mut b,
            preauth_void(&rrn, &auth, 3_000),
            ErrorCode::PreauthNotFound,
        );
    }

    #[test]
    fn r20_completion_void_needs_the_supervisor_and_the_open_batch() {
        let mut b = Bench::signed_in();
        let sale = tx(b.sale(500).unwrap());
        let (rrn, auth) = hold(&mut b, 10_000);
        let c = completed(&mut b, &rrn, &auth, 10_500);
        let no_supervisor = Command::CompletionVoid {
            trace_no: c.trace_no,
            supervisor_password: "".into(),
        };
        refused_locally(&mut b, no_supervisor, ErrorCode::SupervisorRequired);
        // A completion void voids completions only; a sale's void, sales only.
        refused_locally(
            &mut b,
            completion_void(sale.trace_no),
            ErrorCode::UnknownTransaction,
        );
        refused_locally(&mut b, void(c.trace_no), ErrorCode::UnknownTransaction);
        refused_locally(&mut b, completion_void(999), ErrorCode::UnknownTransaction);
        // The host checks the password too.
        let wrong = Command::CompletionVoid {
            trace_no: c.trace_no,
            supervisor_password: "wrong".into(),
        };
        assert_eq!(
            b.run(wrong).unwrap_err().code,
            ErrorCode::SupervisorRequired
        );

        let v = tx(b.run(completion_void(c.trace_no)).unwrap());
        assert_eq!(
            (v.kind, v.status),
            (TxKind::CompletionVoid, TxStatus::Approved)
        );
        assert_eq!(v.amount, 10_500);
        let t = b.terminal.totals();
        // The completion stays in `completion` and adds to `void`.
        assert_eq!(t.completion.unwrap().count, 1);
        assert_eq!((t.void.count, t.void.amount), (1, 10_500));
        assert_eq!(t.net_amount, 500);
        assert_totals_are_the_fold(&b);
        let entry = b.terminal.journal().by_trace(c.trace_no).unwrap().clone();
        assert_eq!(
            b.terminal.journal().current_status(&entry),
            EntryStatus::Voided
        );
        refused_locally(
            &mut b,
            completion_void(c.trace_no),
            ErrorCode::AlreadyVoided,
        );
        // The void opened the hold again: it completes once more.
        let again = completed(&mut b, &rrn, &auth, 9_000);
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        // Settled: no longer the open batch's to void.
        refused_locally(
            &mut b,
            completion_void(again.trace_no),
            ErrorCode::VoidNotAllowedSettled,
        );
    }

    #[test]
    fn r20_a_lost_completion_answer_is_reversed() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        b.fault(&[Some(Fault::LoseAnswer)]);
        let e = b.run(complete(&rrn, &auth, 10_000)).unwrap_err();
        assert_eq!(e.code, ErrorCode::HostUnreachable);
        assert_eq!(b.terminal.pending_reversals(), 1);
        let lost = b.terminal.journal().entries().last().unwrap().clone();
        assert_eq!(
            (lost.kind, lost.status),
            (EntryKind::Completion, EntryStatus::Unknown)
        );
        // Written ahead with its hold and card (R18): the masked card only (R4).
        assert_eq!(lost.original_rrn.as_deref(), Some(rrn.as_str()));
        assert_eq!(lost.masked_pan.as_deref(), Some("621234******1232"));
        assert_eq!(b.terminal.totals().completion.unwrap().count, 0);
        // An unknown completion does not complete the hold here; the next one reverses it first,
        // and the host, which had completed the hold, opens it again.
        let r = completed(&mut b, &rrn, &auth, 10_000);
        assert_eq!(b.terminal.pending_reversals(), 0);
        let t = b.terminal.totals();
        assert_eq!(t.completion.unwrap().count, 1);
        assert_eq!(t.net_amount, 10_000);
        assert_totals_are_the_fold(&b);
        assert_ne!(r.trace_no, lost.trace_no.get());
        // A lost pre-authorisation and a lost completion void are reversed alike.
        b.fault(&[Some(Fault::LoseAnswer)]);
        b.run(completion_void(r.trace_no)).unwrap_err();
        // The void's reversal goes first and is answered; the hold's answer is lost.
        b.fault(&[None, Some(Fault::LoseAnswer)]);
        b.run(preauth(700)).unwrap_err();
        assert_eq!(b.terminal.pending_reversals(), 1, "the void's went first");
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        assert_eq!(s.terminal_totals.net_amount, 10_000);
    }

    #[test]
    fn r20_a_hold_of_an_earlier_batch_is_the_hosts_to_judge() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        let (old_rrn, old_auth) = hold(&mut b, 2_000);
        b.run(Command::Settle).unwrap();
        // The new batch does not hold them: sent, and the host refuses.
        for (command, code) in [
            (complete(&rrn, &auth, 12_000), ErrorCode::InvalidAmount),
            (complete(&rrn, "ZZZZZZ", 100), ErrorCode::PreauthNotFound),
            // Released only in its own open batch (the host's rule): complete it or let it lapse.
            (
                preauth_void(&rrn, &auth, 10_000),
                ErrorCode::VoidNotAllowedSettled,
            ),
        ] {
            let sent = b.requests_sent();
            assert_eq!(b.run(command).unwrap_err().code, code);
            assert_eq!(b.requests_sent(), sent + 1, "the host decided");
        }
        completed(&mut b, &rrn, &auth, 11_000);
        assert_eq!(
            b.run(complete(&rrn, &auth, 100)).unwrap_err().code,
            ErrorCode::PreauthCompleted
        );
        b.host.age_holds();
        assert_eq!(
            b.run(complete(&old_rrn, &old_auth, 100)).unwrap_err().code,
            ErrorCode::PreauthExpired
        );
        // Nothing refused was journaled; the completion counts in this batch.
        assert_eq!(b.terminal.journal().len(), 1);
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        assert_eq!(s.terminal_totals.completion.unwrap().amount, 11_000);
    }

    #[test]
    fn r20_settlement_with_completions_is_balanced() {
        let mut b = Bench::signed_in();
        b.sale(1_000).unwrap();
        let (rrn, auth) = hold(&mut b, 10_000);
        let c = completed(&mut b, &rrn, &auth, 11_000);
        let (rrn2, auth2) = hold(&mut b, 4_000);
        b.run(preauth_void(&rrn2, &auth2, 4_000)).unwrap();
        // A foreign card's hold and completion count in the foreign half.
        let foreign = Command::PreAuth {
            amount: 3_000,
            pan: "4111111111111111".into(),
            expiry: EXPIRY.into(),
        };
        let f = tx(b.run(foreign).unwrap());
        let fc = Command::Complete {
            rrn: f.rrn.unwrap(),
            auth_code: f.auth_code.unwrap(),
            amount: 3_000,
            pan: "4111111111111111".into(),
            expiry: EXPIRY.into(),
        };
        let fc = tx(b.run(fc).unwrap());
        b.run(completion_void(fc.trace_no)).unwrap();
        let t = b.terminal.totals();
        let (d, fo) = (t.domestic.unwrap(), t.foreign.unwrap());
        assert_eq!((d.completion.amount, d.void.amount), (11_000, 0));
        assert_eq!((fo.completion.amount, fo.void.amount), (3_000, 3_000));
        assert_eq!(t.net_amount, 1_000 + 11_000);
        assert_totals_are_the_fold(&b);
        let lines = b.terminal.journal().ledger();
        assert!(lines
            .iter()
            .any(|l| l.kind == TxKind::CompletionVoid && l.origin == CardOrigin::Foreign));
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Balanced);
        assert_eq!(s.host_totals, s.terminal_totals);
        assert!(s.discrepancies.is_empty());
        let _ = c;
    }

    #[test]
    fn r20_r11_an_unbalanced_batch_with_completions_uploads_and_compares_them() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        completed(&mut b, &rrn, &auth, 10_000);
        b.host.inject_sale(100);
        let s = settled(b.run(Command::Settle).unwrap());
        assert_eq!(s.outcome, Outcome::Unbalanced);
        // Only the injected sale differs: holds and completions compared alike.
        assert_eq!(s.discrepancies.len(), 1);
    }

    #[test]
    fn r20_r18_a_restored_journal_rebuilds_the_holds() {
        let mut b = Bench::signed_in();
        let (rrn, auth) = hold(&mut b, 10_000);
        let c = completed(&mut b, &rrn, &auth, 10_000);
        let (rrn2, auth2) = hold(&mut b, 2_000);
        b.run(preauth_void(&rrn2, &auth2, 2_000)).unwrap();
        let (rrn3, auth3) = hold(&mut b, 3_000);
        let c3 = completed(&mut b, &rrn3, &auth3, 3_000);
        b.run(completion_void(c3.trace_no)).unwrap();
        let before = b.terminal.totals();
        b.reload().unwrap();
        assert!(b.reload_tab().is_ok());
        b.sign_in().unwrap();
        assert_eq!(b.terminal.totals(), before);
        refused_locally(
            &mut b,
            complete(&rrn, &auth, 100),
            ErrorCode::PreauthCompleted,
        );
        refused_locally(
            &mut b,
            complete(&rrn2, &auth2, 100),
            ErrorCode::PreauthNotFound,
        );
        refused_locally(
            &mut b,
            completion_void(c3.trace_no),
            ErrorCode::AlreadyVoided,
        );
        refused_locally(
            &mut b,
            complete(&rrn3, &auth3, 3_451),
            ErrorCode::InvalidAmount,
        );
        completed(&mut b, &rrn3, &auth3, 3_450);
        let _ = c;
    }
}
