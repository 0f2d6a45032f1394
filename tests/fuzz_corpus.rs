//! Keeps the fuzz corpus meaningful: the snapshot seed in `fuzz/corpus/snapshot_restore/` is a
//! real terminal's snapshot (approved sales and a queued reversal), so libFuzzer mutates
//! something `Terminal::restore` accepts instead of starting from `{}`.
//! `SOFTPOS_WRITE_FUZZ_SEED=1 cargo test --test fuzz_corpus` rewrites it after a format change.

mod support;

use softpos::terminal::{Snapshot, Terminal};
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

const BODIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/request_bodies");

/// Replays the request-body corpus as `fuzz/fuzz_targets/request_bodies.rs` reads it (first
/// byte: the route), so the seeds stay meaningful on stable: each `ok-*` body passes the host's
/// checks, each `bad-*` one is refused with a 4xx code, and anything else (inputs saved from a
/// fuzz run) at least never panics nor gives a 5xx.
#[test]
fn r17_every_request_body_in_the_fuzz_corpus_is_accepted_or_refused_with_a_4xx() {
    use softpos::protocol::{check_request_body, BODY_ROUTES};
    let mut seen = [0usize; BODY_ROUTES.len()];
    for file in std::fs::read_dir(BODIES).expect("the committed corpus") {
        let file = file.expect("a corpus entry").path();
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let data = std::fs::read(&file).expect("readable");
        let Some((&route, body)) = data.split_first() else {
            continue;
        };
        let route = usize::from(route.wrapping_sub(b'0')) % BODY_ROUTES.len();
        seen[route] += 1;
        let result = check_request_body(BODY_ROUTES[route], body);
        if name.starts_with("ok-") {
            assert_eq!(result, Ok(()), "{name}");
        } else if let Err(e) = result {
            let status = e.code.http_status();
            assert!((400..500).contains(&status), "{name}: {status}");
        } else {
            assert!(!name.starts_with("bad-"), "{name} was accepted");
        }
    }
    assert!(
        seen.iter().all(|n| *n > 0),
        "a seed for every route: {seen:?}"
    );
}

const CODEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/codec_vs_serde");

/// Replays the corpus of `fuzz/fuzz_targets/codec_vs_serde.rs` on stable: every seed (first
/// byte: the type) is read alike by the browser's codec and by serde, and every type the
/// browser reads has a seed.
#[test]
fn r8_r18_the_browser_codec_reads_every_seed_as_serde_does() {
    use softpos::protocol::codec::differential::{compare, TYPES};
    let mut seen = [0usize; TYPES.len()];
    for file in std::fs::read_dir(CODEC).expect("the committed corpus") {
        let file = file.expect("a corpus entry").path();
        let data = std::fs::read(&file).expect("readable");
        if let Some(&pick) = data.first() {
            seen[usize::from(pick.wrapping_sub(b'0')) % TYPES.len()] += 1;
        }
        assert_eq!(compare(&data), Ok(true), "{}", file.display());
    }
    assert!(
        seen.iter().all(|n| *n > 0),
        "a seed for every type: {seen:?}"
    );
}
