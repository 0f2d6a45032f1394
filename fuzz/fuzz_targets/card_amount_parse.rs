//! What an operator types as a PAN, an expiry or an amount is accepted or refused with an
//! error, never a panic; what is accepted is in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::{Amount, Currency};
use softpos::terminal::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 {
        let n = i64::from_le_bytes(data[..8].try_into().expect("eight bytes"));
        if Amount::new(n).is_ok() {
            assert!((1..=99_999_999_999).contains(&n), "R3 range: {n}");
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Pan::parse(text);
    let _ = Expiry::parse(text, Timestamp(1_800_000_000_000));
    for code in ["CNY", "JPY", "USD", "KWD"] {
        if let Ok(c) = Currency::parse(code) {
            if let Ok(minor) = c.parse_amount(text) {
                assert!((1..=99_999_999_999).contains(&minor), "R3 range: {minor}");
            }
        }
    }
});
