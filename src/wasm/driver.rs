//! The loop that runs the sans-IO terminal (`src/terminal/`) in the browser: the terminal
//! decides, this awaits. Per turn: `step` → `take_writes` → store them (R18: before anything
//! leaves) → `fetch` what the step asks → `handle_reply`, until the operation is done. Between
//! turns it hands the terminal's events to the subscribers and keeps the tab's copy of the
//! session up to date (R14), and after an operation it arms the idle sign-off timer (R13).

use super::client;
use super::js::event_to_js;
use super::scope::{self, now, Timeout};
use super::storage::Storage;
use super::tab_session::TabSession;
use crate::error::{Error, ErrorCode};
use crate::ids::RequestId;
use crate::terminal::{Command, Completion, Reply, Step, Terminal as Machine};
use js_sys::Function;
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// A terminal in the browser: the state machine and what it needs to run. Shared (in an
/// `Rc<RefCell<…>>`) by the JS `Terminal`, its widget and its timer; never borrowed across an
/// `.await`.
pub(crate) struct Inner {
    /// The sans-IO terminal: every rule, no IO.
    pub(crate) machine: Machine,
    pub(crate) host_url: String,
    pub(crate) timeout_ms: u32,
    pub(crate) storage: Rc<Storage>,
    /// The session kept for a reload of this tab (R14); `None` on memory storage.
    tab_session: Option<TabSession>,
    listeners: Vec<(u32, Function)>,
    next_listener: u32,
    /// R13's timer; dropping it cancels it.
    idle_timer: Option<Timeout>,
}

impl Inner {
    pub(crate) fn new(
        machine: Machine,
        host_url: String,
        timeout_ms: u32,
        storage: Rc<Storage>,
        tab_session: Option<TabSession>,
    ) -> Inner {
        Inner {
            machine,
            host_url,
            timeout_ms,
            storage,
            tab_session,
            listeners: Vec::new(),
            next_listener: 0,
            idle_timer: None,
        }
    }

    /// Adds a subscriber; the id removes it.
    pub(crate) fn subscribe(&mut self, listener: Function) -> u32 {
        self.next_listener += 1;
        self.listeners.push((self.next_listener, listener));
        self.next_listener
    }

    pub(crate) fn unsubscribe(&mut self, id: u32) {
        self.listeners.retain(|(i, _)| *i != id);
    }

    /// Brings the tab's copy of the session in line with the terminal's.
    fn keep_session(&mut self) {
        if let Some(tab) = self.tab_session.as_mut() {
            tab.keep(&self.machine);
        }
    }
}

fn new_request_id() -> RequestId {
    // Called with the state borrowed: it must not throw, as `crypto.randomUUID` does where the
    // page is not a secure context.
    scope::new_uuid()
}

/// Hands the terminal's events to the listeners, with no borrow held while they run (a
/// listener may call back into the terminal).
fn flush_events(inner: &Rc<RefCell<Inner>>) {
    let (events, listeners, state) = {
        let mut i = inner.borrow_mut();
        let mut events = Vec::new();
        while let Some(e) = i.machine.poll_event() {
            events.push(e);
        }
        let listeners: Vec<Function> = i.listeners.iter().map(|(_, f)| f.clone()).collect();
        (events, listeners, i.machine.state())
    };
    if listeners.is_empty() {
        // Nobody to tell: skip building the JS objects (a sale's result would be built twice).
        return;
    }
    for event in &events {
        let js = event_to_js(event, state);
        for f in &listeners {
            // A listener that throws must not stop the terminal or the other listeners.
            let _ = f.call1(&JsValue::NULL, &js);
        }
    }
}

/// Runs the operation in flight to its end: persist, send, feed the answer, repeat.
async fn drive(inner: Rc<RefCell<Inner>>) -> Result<Completion, Error> {
    loop {
        let (step, writes, storage, merchant, terminal) = {
            let mut i = inner.borrow_mut();
            let step = i.machine.step(now(), &mut new_request_id);
            let writes = i.machine.take_writes();
            // Each step may sign in, move batch or end the session; a reload may come next.
            i.keep_session();
            let cfg = i.machine.config();
            let (m, t) = (cfg.merchant_id.clone(), cfg.terminal_id.clone());
            (step, writes, i.storage.clone(), m, t)
        };
        // R18: nothing leaves before what it belongs to is stored.
        if let Err(e) = storage.apply(&merchant, &terminal, &writes).await {
            if let Step::Send(_) = step {
                inner
                    .borrow_mut()
                    .machine
                    .handle_reply(Reply::Refused(e), now());
                flush_events(&inner);
                continue;
            }
            flush_events(&inner);
            return Err(e);
        }
        flush_events(&inner);
        match step {
            Step::Send(out) => {
                let (url, timeout) = {
                    let i = inner.borrow();
                    (i.host_url.clone(), i.timeout_ms)
                };
                let reply = client::send(&url, &out, timeout).await;
                inner.borrow_mut().machine.handle_reply(reply, now());
            }
            Step::Done(result) => {
                schedule_idle(&inner);
                return result;
            }
            Step::Idle => return Err(ErrorCode::Internal.into()),
        }
    }
}

/// Starts an operation now (refusals are immediate, as R1–R4 want: nothing is sent) and
/// returns the future that runs it to its end.
pub(crate) fn start(
    inner: &Rc<RefCell<Inner>>,
    command: Result<Command, Error>,
) -> Result<impl Future<Output = Result<Completion, Error>>, Error> {
    command.and_then(|c| inner.borrow_mut().machine.begin(c, now()))?;
    flush_events(inner);
    let inner = inner.clone();
    Ok(async move {
        let result = drive(inner.clone()).await;
        flush_events(&inner);
        result
    })
}

/// R13: arms a timer for the idle sign-off, replacing the previous one.
pub(crate) fn schedule_idle(inner: &Rc<RefCell<Inner>>) {
    let mut i = inner.borrow_mut();
    i.idle_timer = None;
    let Some(at) = i.machine.next_timer() else {
        return;
    };
    let weak: Weak<RefCell<Inner>> = Rc::downgrade(inner);
    let fire = move || {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let started = inner.borrow_mut().machine.handle_timer(now());
        if started {
            flush_events(&inner);
            wasm_bindgen_futures::spawn_local(async move {
                let _ = drive(inner.clone()).await;
                flush_events(&inner);
            });
        } else {
            // Busy, or activity moved the deadline: look again later.
            schedule_idle(&inner);
        }
    };
    i.idle_timer = Timeout::new(at.millis() - now().millis(), fire);
}
