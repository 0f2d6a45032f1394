//! The terminal in the browser: the only code that touches wasm-bindgen, web-sys and js-sys.
//!
//! A sale travels through these rooms (docs/architecture.md draws it):
//!
//! - `api`: the `#[wasm_bindgen]` surface — the `Terminal` class, `errorMessage`, the
//!   `Terminal.open` configuration. Each method converts its arguments and hands a command to
//!   the driver; `api_slips` its slips and settled batches (R21).
//! - `driver`: runs the sans-IO terminal (`src/terminal/`) to the end of an operation —
//!   step, store what it wrote, send what it asks, feed it the answer — and tells the
//!   subscribers its events; arms the idle sign-off timer (R13).
//! - `client`: one `fetch` to the host per request, with its timeout.
//! - `storage`: IndexedDB (or page memory), written before anything leaves (R18).
//! - `tab_lock`: one tab per terminal (a Web Lock, or an IndexedDB lease without one).
//! - `tab_session`: the operator's session kept in the tab's `sessionStorage`, so a reload
//!   of the same tab stays signed in (R14).
//! - `scope`: what the code takes from the global scope (a window's or a worker's): `fetch`,
//!   the clock and its one timer type, random bytes, IndexedDB.
//! - `js`: small helpers between JS values and Rust ones.
//! - [`codec`]: the wire and storage types as plain JS values.
//! - `widget`: `mountWidget`, the terminal's screens in Chinese or English (cargo feature
//!   `widget`, on by default; `make pkg-headless` builds without it).
//!
//! The state lives in an `Rc<RefCell<…>>` that is never borrowed across an `.await`, so a
//! second call while one is pending gets the terminal's `BUSY`, not a borrow panic.

mod api;
mod api_slips;
mod client;
pub mod codec;
mod driver;
mod js;
mod scope;
mod storage;
mod tab_lock;
mod tab_session;
#[cfg(feature = "widget")]
mod widget;

pub use api::{error_message, Terminal};
#[cfg(feature = "widget")]
pub use widget::{mount_widget, mount_widget_error, WidgetHandle};

// The module is single-threaded (no `atomics` target feature), which this allocator needs.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
