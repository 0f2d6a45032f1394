//! R14: the operator's session, kept for a reload of the same tab.
//!
//! Only in the tab's `sessionStorage`, never IndexedDB or `localStorage`: the browser drops it
//! with the tab and shows it to no other tab, so a reload keeps the operator signed in while a
//! closed tab or browser still leaves `not_signed_off`. Written whenever the terminal's session
//! changes (sign-in, a move to another batch, each operation for the idle clock), removed
//! whenever it has none (sign-off, a session the host ended, the idle sign-off). A
//! `sessionStorage` that throws (disabled, full, or a worker, which has none) means no resume,
//! nothing worse.

use super::scope::{global, Global};
use crate::terminal::time::Timestamp;
use crate::terminal::{ResumedSession, Terminal as Machine};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(method, getter, catch, js_name = sessionStorage)]
    fn session_storage(this: &Global) -> Result<Option<web_sys::Storage>, JsValue>;
}

/// One terminal's kept session in this tab.
pub(crate) struct TabSession {
    storage: web_sys::Storage,
    key: String,
    /// What the tab holds now, so an unchanged session is not written again.
    held: Option<String>,
}

impl TabSession {
    /// Opens the tab's record for this terminal and hands the session it kept to the freshly
    /// restored `machine`, which takes it or not (src/terminal/resume.rs); what the tab holds
    /// then matches the terminal. `None` where the tab has no usable `sessionStorage`.
    pub(crate) fn resume(machine: &mut Machine, now: Timestamp) -> Option<TabSession> {
        let cfg = machine.config();
        let key = format!("softpos:session:{}/{}", cfg.merchant_id, cfg.terminal_id);
        let storage = global().session_storage().ok().flatten()?;
        let held = storage.get_item(&key).ok()?;
        let mut tab = TabSession { storage, key, held };
        if let Some(kept) = tab.held.as_deref().and_then(read) {
            machine.resume(kept, now);
        }
        tab.keep(machine);
        Some(tab)
    }

    /// Keeps the terminal's session, or drops the kept one when it has none.
    pub(crate) fn keep(&mut self, machine: &Machine) {
        let now = machine.resumable().map(|s| write(&s));
        if now == self.held {
            return;
        }
        let stored = match &now {
            Some(text) => self.storage.set_item(&self.key, text),
            None => self.storage.remove_item(&self.key),
        };
        // A storage that refused keeps its old record; the next change tries again.
        if stored.is_ok() {
            self.held = now;
        }
    }
}

/// The step the kept last activity moves in ([`write`]).
const CLOCK_STEP_MS: i64 = 10_000;

/// Fixed-width fields, then the token, which is the host's to shape: the batch (10 digits),
/// the last activity (16), the business date (`YYYY-MM-DD`), the operator (2 digits). Read
/// back by position, with no searching or general number parsing: the module stays small, and
/// a record that does not fit reads as something else, which the terminal refuses to resume.
fn write(s: &ResumedSession) -> String {
    format!(
        "{:010}{:016}{}{}{}",
        s.batch_no,
        // Kept to the 10 seconds below: `sessionStorage` is written synchronously (about
        // 0.17 ms in Chromium), and a sale moves only the last activity, so sales in a row
        // rewrite the record once in 10 s, not each time. A reload then starts the idle
        // sign-off's clock (R13, whole minutes) at most 10 s early, never late.
        s.last_activity.millis() / CLOCK_STEP_MS * CLOCK_STEP_MS,
        s.business_date,
        s.operator,
        s.token
    )
}

/// The kept session; `None` for anything unreadable, which then resumes nothing.
fn read(text: &str) -> Option<ResumedSession> {
    let field = |from: usize, to: usize| text.get(from..to);
    let number = |from: usize, to: usize| {
        field(from, to)?.bytes().try_fold(0u64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    };
    Some(ResumedSession {
        batch_no: u32::try_from(number(0, 10)?).ok()?,
        last_activity: Timestamp(i64::try_from(number(10, 26)?).ok()?),
        business_date: field(26, 36)?.to_owned(),
        operator: field(36, 38)?.to_owned(),
        token: text.get(38..)?.to_owned(),
    })
}
