//! Whatever body arrives at any of the host's routes, decoding and checking it (what the host
//! does before it touches its database) accepts it or refuses it with a 4xx code of the
//! contract: never a panic, never a 5xx.
//!
//! The first byte picks the route (`'0'` activate … `'6'` sign-off, `'7'` checkout lane, `'8'`
//! checkout sign-in, as in `BODY_ROUTES`), so libFuzzer keeps each body's shape apart; the
//! seeds in fuzz/corpus/request_bodies are valid and invalid bodies per route. `tests/fuzz_corpus.rs` replays them on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos::protocol::{check_request_body, check_upload_path, BODY_ROUTES};

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    let path = BODY_ROUTES[usize::from(route.wrapping_sub(b'0')) % BODY_ROUTES.len()];
    let refused = [
        check_request_body(path, body).err(),
        // The upload's path parameter is the one other thing a caller writes.
        std::str::from_utf8(body)
            .ok()
            .and_then(|text| check_upload_path(text).err()),
    ];
    for e in refused.into_iter().flatten() {
        let status = e.code.http_status();
        assert!((400..500).contains(&status), "{path}: {} is {status}", e.code);
    }
});
