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
use js_sys::{Object, Reflect, JSON};
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

fn write(s: &ResumedSession) -> String {
    let o: JsValue = Object::new().into();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &k.into(), &v);
    };
    set("token", s.token.as_str().into());
    set("operator", s.operator.as_str().into());
    set("batchNo", s.batch_no.into());
    set("businessDate", s.business_date.as_str().into());
    // Milliseconds since the epoch: a safe integer.
    set("lastActivity", (s.last_activity.millis() as f64).into());
    JSON::stringify(&o)
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default()
}

/// The kept session; `None` for anything unreadable, which then resumes nothing.
fn read(text: &str) -> Option<ResumedSession> {
    let v = JSON::parse(text).ok()?;
    let get = |k: &str| Reflect::get(&v, &k.into()).ok();
    let text = |k: &str| get(k)?.as_string();
    let int = |k: &str| {
        let n = get(k)?;
        js_sys::Number::is_safe_integer(&n).then(|| n.as_f64().unwrap_or(0.0) as i64)
    };
    Some(ResumedSession {
        token: text("token")?,
        operator: text("operator")?,
        batch_no: u32::try_from(int("batchNo")?).ok()?,
        business_date: text("businessDate")?,
        last_activity: Timestamp(int("lastActivity")?),
    })
}
