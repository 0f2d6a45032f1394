//! # softpos
//!
//! A browser payment terminal. The terminal's rules live in [`terminal`], a sans-IO state
//! machine; [`protocol`] holds the wire types it shares with the reference acquirer host
//! (`host/`); the WebAssembly build adds the JavaScript API over both.
//!
//! | module | what |
//! |---|---|
//! | [`terminal`] | the terminal: rules R1–R14, R18, R19, pure and deterministic |
//! | [`protocol`] | the host's HTTP API as serde types (docs/api.md) |
//! | [`error`] | the error codes with English and Chinese messages |
//! | `wasm` | (wasm32 only) the JavaScript API: fetch, IndexedDB, timers, the widget |
#![deny(missing_docs)]
// Functions stay short enough to read whole (docs/architecture.md, "Code shape").
#![warn(clippy::too_many_lines)]

pub mod error;
pub mod ids;
pub mod protocol;
pub mod secret;
pub mod terminal;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, ErrorCode};
