//! Keeps the seed corpus of `fuzz/fuzz_targets/iso8583_decode.rs` meaningful: every seed is a
//! frame the codec accepts and writes back byte for byte, so libFuzzer mutates real frames.
//! `SOFTPOS_WRITE_FUZZ_SEED=1 cargo test -p softpos-iso8583 --test fuzz_corpus` rewrites them.

mod support;

use softpos_iso8583::Spec;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/iso8583_decode");

/// The message types the seeds cover: every composite field and both alignments.
const SEEDS: &[&str] = &[
    "sale-0200",
    "sale-mac-0200",
    "refund-0220",
    "reversal-0400",
    "signin-0800-answer",
    "settle-0500-answer",
    "upload-0320",
];

#[test]
fn every_fuzz_seed_is_a_frame_the_codec_accepts() {
    let spec = Spec::unionpay();
    if std::env::var_os("SOFTPOS_WRITE_FUZZ_SEED").is_some() {
        std::fs::create_dir_all(CORPUS).expect("corpus folder");
        for (name, frame) in support::every_message() {
            if SEEDS.contains(&name.as_str()) {
                let wire = spec.encode(&frame).expect("encode");
                std::fs::write(format!("{CORPUS}/{name}"), wire).expect("seed written");
            }
        }
    }
    let mut seen = 0;
    for file in std::fs::read_dir(CORPUS).expect("the committed corpus") {
        let path = file.expect("an entry").path();
        let wire = std::fs::read(&path).expect("readable");
        let frame = spec
            .decode(&wire)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(spec.encode(&frame).ok(), Some(wire), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= SEEDS.len(), "{seen} seeds");
}
