//! Whatever the browser's storage hands back (a corrupt, truncated or hostile snapshot), the
//! terminal restores it or refuses it with an error: it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos::terminal::{Config, Snapshot, Terminal};
use softpos::terminal::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(snapshot) = Snapshot::from_json(json) else {
        return;
    };
    let config = Config::new("898310048160001", "10000001");
    if let Ok(t) = Terminal::restore(config, snapshot, Timestamp(1_800_000_000_000)) {
        // A restored terminal must be able to answer its read-only questions.
        let _ = t.journal();
        let _ = t.batch_no();
        let _ = t.pending_reversals();
    }
});
