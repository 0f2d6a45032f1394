//! The terminal itself: pure Rust with no IO, no clock and no randomness.
//!
//! Time, request ids and host answers come in as arguments; requests to send, records to
//! persist and events for the UI come out. The wasm driver (`crate::wasm`) and the native
//! tests drive the same state machine.
//!
//! | module | rules |
//! |---|---|
//! | [`money`] | R3 amounts, currencies and their display |
//! | [`card`] | R4 PAN, Luhn, expiry, masking |
//! | [`journal`] | R10 running totals, R19 hash chain, O(1) append (R18) |
//! | [`settlement`] | R10 fold, R11 outcome and discrepancies (shared with the host) |
//! | [`time`] | instants passed in by the driver |

pub mod card;
pub mod journal;
mod machine;
pub mod money;
pub mod settlement;
pub mod time;

pub use machine::*;
