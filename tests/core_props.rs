//! Invariants that hold over any sequence of operations, faults and reloads.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use proptest::prelude::*;
use softpos::protocol::Outcome;
use softpos::terminal::journal::ledger_lines;
use softpos::terminal::settlement::{fold, LineStatus};
use softpos::terminal::{Command, Completion, State, Terminal};
use softpos::ErrorCode;
use support::*;

#[derive(Debug, Clone)]
enum Op {
    Sale { amount: i64, declined: bool },
    Void { pick: usize },
    Refund { pick: usize, amount: i64 },
    Settle,
    SignOff { settle: bool },
    SignIn,
    Reload,
    Cutoff,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1i64..50_000, prop::bool::weighted(0.2))
            .prop_map(|(amount, declined)| Op::Sale { amount, declined }),
        2 => any::<usize>().prop_map(|pick| Op::Void { pick }),
        2 => (any::<usize>(), 1i64..30_000).prop_map(|(pick, amount)| Op::Refund { pick, amount }),
        1 => Just(Op::Settle),
        1 => any::<bool>().prop_map(|settle| Op::SignOff { settle }),
        2 => Just(Op::SignIn),
        1 => Just(Op::Reload),
        1 => Just(Op::Cutoff),
    ]
}

fn fault() -> impl Strategy<Value = Option<Fault>> {
    prop_oneof![
        8 => Just(None),
        1 => Just(Some(Fault::Unreachable)),
        1 => Just(Some(Fault::LoseAnswer)),
    ]
}

/// Approved sales the terminal knows of: (trace, rrn, amount).
fn sales(b: &Bench) -> Vec<(u32, String, i64)> {
    let j = b.terminal.journal();
    j.entries()
        .iter()
        .filter(|e| e.kind == softpos::protocol::EntryKind::Sale && e.rrn.is_some())
        .map(|e| {
            (
                e.trace_no.get(),
                e.rrn.clone().unwrap_or_default(),
                e.amount,
            )
        })
        .collect()
}

fn command(b: &Bench, op: &Op) -> Option<Command> {
    let known = sales(b);
    Some(match op {
        Op::Sale { amount, declined } => Command::Sale {
            amount: *amount,
            pan: if *declined { DECLINED_CARD } else { CARD }.into(),
            expiry: EXPIRY.into(),
            reference: None,
        },
        Op::Void { pick } => Command::Void {
            trace_no: known.get(pick % known.len().max(1)).map_or(7, |s| s.0),
            supervisor_password: SUPERVISOR.into(),
        },
        Op::Refund { pick, amount } => Command::Refund {
            rrn: known
                .get(pick % known.len().max(1))
                .map_or_else(|| "000000000099".into(), |s| s.1.clone()),
            amount: *amount,
            supervisor_password: SUPERVISOR.into(),
        },
        Op::Settle => Command::Settle,
        Op::SignOff { settle } => Command::SignOff { settle: *settle },
        Op::SignIn => Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        },
        Op::Reload | Op::Cutoff => return None,
    })
}

fn check_invariants(b: &Bench) -> Result<(), TestCaseError> {
    let j = b.terminal.journal();
    let lines = ledger_lines(j.entries());
    // R10: the running totals are the fold of the journal.
    prop_assert_eq!(j.tally(), fold(&lines).unwrap());
    let t = b.terminal.totals();
    prop_assert_eq!(
        t.net_amount,
        t.sale.amount - t.void.amount - t.refund.amount
    );
    // R8: a transaction waiting for its reversal never counts.
    for rev in &b.terminal.meta().reversals {
        if let Some(line) = lines.iter().find(|l| l.request_id == rev.request_id) {
            prop_assert_eq!(line.status, LineStatus::Reversed);
        }
    }
    // R18: what was persisted is the terminal, and it restores to the same state.
    let snap = b.terminal.snapshot();
    prop_assert_eq!(b.store.snapshot(), Some(snap.clone()));
    let restored = Terminal::restore(config(), snap.clone(), b.now)
        .map_err(|e| TestCaseError::fail(format!("restore failed: {e}")))?;
    prop_assert_eq!(restored.snapshot(), snap);
    prop_assert_eq!(restored.totals(), b.terminal.totals());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// R8, R9, R10, R11, R18: whatever happens, once the terminal can reach the host again
    /// and settles, nothing is lost and nothing counted twice: the batch is balanced.
    #[test]
    fn any_sequence_keeps_totals_folded_and_settles_balanced(
        steps in prop::collection::vec((op(), fault(), fault()), 1..40)
    ) {
        let mut b = Bench::signed_in();
        for (op, f1, f2) in &steps {
            match op {
                Op::Reload => b.reload().map_err(|e| TestCaseError::fail(e.to_string()))?,
                Op::Cutoff => b.host.cutoff(),
                _ => {
                    let Some(cmd) = command(&b, op) else { continue };
                    b.fault(&[*f1, *f2]);
                    let _ = b.run(cmd);
                    b.faults.clear();
                }
            }
            prop_assert_ne!(b.terminal.state(), State::Busy);
            check_invariants(&b)?;
        }
        // Back to a clean state with a reachable host.
        if b.terminal.state() == State::SignedIn {
            if let Err(e) = b.run(Command::SignOff { settle: false }) {
                prop_assert!(matches!(e.code, ErrorCode::SessionExpired | ErrorCode::HostUnreachable), "{e}");
            }
        }
        if b.terminal.state() != State::SignedIn {
            b.sign_in().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let settled = match b.run(Command::Settle) {
            Ok(Completion::Settled(s)) => s,
            other => return Err(TestCaseError::fail(format!("settle: {other:?}"))),
        };
        prop_assert_eq!(b.terminal.pending_reversals(), 0);
        prop_assert_eq!(settled.outcome, Outcome::Balanced, "{:?}", settled);
        prop_assert_eq!(&settled.terminal_totals, &settled.host_totals);
    }

    /// R1: while signed off, no operation changes anything or sends anything.
    #[test]
    fn nothing_changes_while_signed_off(ops in prop::collection::vec(op(), 1..20)) {
        let mut b = Bench::signed_in();
        b.sale(1234).map_err(|e| TestCaseError::fail(e.to_string()))?;
        b.run(Command::SignOff { settle: false }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let before = b.terminal.snapshot();
        let sent = b.requests_sent();
        for op in &ops {
            if matches!(op, Op::SignIn | Op::Reload | Op::Cutoff) {
                continue;
            }
            if let Some(cmd) = command(&b, op) {
                let e = b.run(cmd).expect_err("refused while signed off");
                prop_assert_eq!(e.code, ErrorCode::NotSignedIn);
            }
        }
        prop_assert_eq!(b.terminal.snapshot(), before);
        prop_assert_eq!(b.requests_sent(), sent);
    }

    /// R19: any single-field edit of a stored entry is caught on load.
    #[test]
    fn any_edit_of_a_stored_entry_is_journal_tampered(
        n in 1usize..8, which in any::<usize>(), field in 0u8..5, delta in 1i64..1000
    ) {
        let mut b = Bench::signed_in();
        for i in 0..n {
            b.sale(100 + i as i64).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let mut snap = b.terminal.snapshot();
        let i = which % snap.entries.len();
        let e = &mut snap.entries[i];
        match field {
            0 => e.amount += delta,
            1 => e.trace_no = e.trace_no.next(),
            2 => e.status = softpos::protocol::EntryStatus::Declined,
            3 => e.masked_pan = Some("400000******0002".into()),
            _ => e.at.push('Z'),
        }
        let err = Terminal::restore(config(), snap, b.now).expect_err("tampering is caught");
        prop_assert_eq!(err.code, ErrorCode::JournalTampered);
    }
}
