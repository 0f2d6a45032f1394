//! Keeps the fuzz corpus meaningful: the snapshot seed in `fuzz/corpus/snapshot_restore/` is a
//! real terminal's snapshot (approved sales and a queued reversal), so libFuzzer mutates
//! something `Terminal::restore` accepts instead of starting from `{}`.
//! `SOFTPOS_WRITE_FUZZ_SEED=1 cargo test --test fuzz_corpus` rewrites it after a format change.

mod support;

use softpos::core::terminal::{Snapshot, Terminal};
use support::*;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fuzz/corpus/snapshot_restore/day"
);

#[test]
fn r18_the_fuzz_seed_is_a_snapshot_the_terminal_restores() {
    if std::env::var_os("SOFTPOS_WRITE_FUZZ_SEED").is_some() {
        let mut b = Bench::signed_in();
        b.sale(1250).expect("sale");
        b.sale(300).expect("sale");
        b.fault(&[Some(Fault::Unreachable)]);
        let _ = b.sale(700);
        let snapshot = b.store.snapshot().expect("stored");
        std::fs::write(SEED, snapshot.to_json()).expect("seed written");
    }
    let json = std::fs::read_to_string(SEED).expect("the committed seed");
    let snapshot = Snapshot::from_json(&json).expect("parses");
    let t = Terminal::restore(config(), snapshot, T0).expect("restores");
    assert_eq!(t.journal().len(), 3);
    assert_eq!(t.pending_reversals(), 1);
}
