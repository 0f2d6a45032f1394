//! The terminal itself: pure Rust with no IO, no clock and no randomness (R1–R14, R18, R19).
//!
//! Time, request ids and host answers come in as arguments; requests to send, records to
//! persist and events for the UI come out. The wasm driver (`crate::wasm`) and the native
//! tests run every operation the same way:
//!
//! ```text
//! terminal.begin(command, now)?;               // refusals (R1–R7, R11 full) happen here; nothing is sent
//! loop {
//!     let step = terminal.step(now, &mut new_id);
//!     persist(terminal.take_writes());          // write-ahead (R18): before anything is sent
//!     match step {
//!         Step::Send(out) => terminal.handle_reply(send(out).await, now),
//!         Step::Done(result) => break result,
//!         Step::Idle => break,
//!     }
//! }
//! ```
//!
//! | module | rules |
//! |---|---|
//! | [`money`] | R3 amounts, currencies and their display |
//! | [`card`] | R4 PAN, Luhn, expiry, masking |
//! | [`journal`] | R10 running totals, R19 hash chain, O(1) append (R18) |
//! | [`settlement`] | R10 fold, R11 outcome and discrepancies (shared with the host) |
//! | [`time`] | instants passed in by the driver |
//! | [`words`] | an amount in words (大写金额, English) for the cashier's confirmation |
//! | [`response`] | every response code's text in Chinese and English, the terminal's own |
//! | `mod.rs` | [`Terminal`]: the driver's surface (`begin`, `step`, `take_writes`, `handle_reply`, `poll_event`) and what the UI reads |
//! | `command.rs` | [`Config`], [`State`], [`Command`] |
//! | `call.rs` | [`Call`], [`Outgoing`], [`Reply`], [`Step`]: requests out, replies in |
//! | `report.rs` | [`Completion`], the results and [`Event`]s |
//! | `persist.rs` | R14, R18, R19: [`Meta`], [`Snapshot`], [`Write`], restore |
//! | `phase.rs` | where an operation stands: its goal and its phase, one value to match on |
//! | `plan.rs` | R1–R7, R11 full: the checks before anything is sent |
//! | `session.rs` | R1, R13, R17: activation, sign-in, sign-off, the idle timer |
//! | `resume.rs` | R14: the session a reload of the same tab resumes |
//! | `housekeeping.rs` | R8, R11, R14: reversals, a settlement cut off, reconciliation |
//! | `lookup.rs` | R7: the lookup of the sales a refund may name, beside the operations |
//! | `preauth.rs` | R20: the checks before a hold, its release, completion or completion void |
//! | `tx.rs` | R5–R8, R18, R20: sale, void, refund, pre-authorisation, and a lost answer's reversal |
//! | `settle.rs` | R6, R10–R12: settlement and batch upload |
//! | `slip.rs` | R21: what a transaction's slip prints, from the journal |

pub mod card;
pub mod journal;
pub mod money;
pub mod response;
pub mod settlement;
pub mod time;
pub mod words;

mod call;
mod command;
mod housekeeping;
mod lookup;
mod persist;
mod phase;
mod plan;
pub mod preauth;
mod report;
mod resume;
mod session;
mod settle;
mod slip;
mod tx;

pub use call::{Auth, Call, Outgoing, Reply, Step};
pub use command::{Command, Config, State, DEFAULT_MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES};
pub use housekeeping::REVERSAL_TRIES;
pub use lookup::{SalesLookup, TxQuery};
pub use persist::{
    InFlight, Meta, PendingSettlement, PendingUpload, QueuedReversal, Recovery, RecoveryKind,
    SettledHistory, SettledRange, Snapshot, Write, SNAPSHOT_VERSION,
};
pub use preauth::completion_limit;
pub use report::{
    Completion, Event, SettlementResult, SignInResult, SignOffReason, SignOffResult, TxResult,
};
pub use resume::ResumedSession;
pub use slip::Slip;

use crate::error::{Error, ErrorCode};
use crate::ids::RequestId;
use crate::protocol::BatchTotals;
use journal::Journal;
use money::Currency;
use phase::{Chores, Goal, Next, Op, Phase, Wait};
use session::Session;
use std::collections::VecDeque;
use time::{Timestamp, UtcOffset};

/// The terminal.
#[derive(Debug)]
pub struct Terminal {
    config: Config,
    meta: Meta,
    journal: Journal,
    session: Option<Session>,
    op: Option<Op>,
    recovery: Option<Recovery>,
    last_activity: Timestamp,
    writes: Vec<Write>,
    events: VecDeque<Event>,
}

impl Terminal {
    /// A new, unactivated terminal.
    pub fn new(config: Config, now: Timestamp) -> Result<Terminal, Error> {
        config.validate()?;
        let meta = Meta::new(&config);
        let journal = Journal::new(&config.merchant_id, &config.terminal_id, meta.batch_no);
        Ok(Terminal::with(config, meta, journal, now))
    }

    /// A terminal at rest with this state: no session, nothing in flight.
    fn with(config: Config, meta: Meta, journal: Journal, now: Timestamp) -> Terminal {
        Terminal {
            config,
            meta,
            journal,
            session: None,
            op: None,
            recovery: None,
            last_activity: now,
            writes: Vec::new(),
            events: VecDeque::new(),
        }
    }

    // ----- what the UI reads ------------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Unactivated, signed off, signed in or busy.
    pub fn state(&self) -> State {
        if self.op.is_some() {
            State::Busy
        } else if self.meta.terminal_key.is_none() {
            State::Unactivated
        } else if self.session.is_some() {
            State::SignedIn
        } else {
            State::SignedOff
        }
    }

    /// The operator signed in.
    pub fn operator(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.operator.as_str())
    }

    /// The open batch, once the terminal has been activated.
    pub fn batch_no(&self) -> Option<u32> {
        self.meta
            .terminal_key
            .as_ref()
            .map(|_| self.journal.batch_no())
    }

    /// Reversals waiting for the host (R8).
    pub fn pending_reversals(&self) -> usize {
        self.meta.reversals.len()
    }

    /// The currency, once the host has told it.
    pub fn currency(&self) -> Option<Currency> {
        self.meta
            .currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
    }

    fn currency_code(&self) -> String {
        self.meta.currency.clone().unwrap_or_default()
    }

    /// The open batch's totals (R10).
    pub fn totals(&self) -> BatchTotals {
        self.journal.totals(&self.currency_code())
    }

    /// The open batch's journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// What was left open when the terminal was restored (R14), until it is cleaned up; its
    /// figures are the open batch's as of now while it is that batch.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.recovery.as_ref()
    }

    /// The last settlement finished.
    pub fn last_settlement(&self) -> Option<&SettlementResult> {
        self.meta.last_settlement.as_ref()
    }

    /// The settlements kept for reprinting, oldest first (R21).
    pub fn settled_history(&self) -> impl DoubleEndedIterator<Item = &SettlementResult> {
        self.meta.history.0.iter()
    }

    /// The merchant's name for its slips, as the host told it at the last sign-in (R21).
    pub fn merchant_name(&self) -> Option<&str> {
        self.meta.merchant_name.as_deref()
    }

    /// The host's offset from UTC, as of the last sign-in: show dates on this clock.
    pub fn utc_offset(&self) -> UtcOffset {
        self.meta.utc_offset
    }

    /// Minor units above which a sale is confirmed by the cashier (with the amount in words)
    /// before it is sent, as the host set it at the last sign-in.
    pub fn confirm_above(&self) -> i64 {
        self.meta.confirm_above.get()
    }

    /// The persisted state record.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Records to persist, in order, before the next request leaves (R18).
    pub fn take_writes(&mut self) -> Vec<Write> {
        std::mem::take(&mut self.writes)
    }

    /// Events for the UI, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- the driver loop -------------------------------------------------------------------

    /// Starts an operation, or refuses it with nothing sent (R1–R7, R11 full).
    pub fn begin(&mut self, command: Command, now: Timestamp) -> Result<(), Error> {
        if self.op.is_some() {
            return Err(ErrorCode::Busy.into());
        }
        let goal = self.plan(command, now)?;
        self.last_activity = now;
        self.start_op(goal);
        Ok(())
    }

    fn start_op(&mut self, goal: Goal) {
        self.op = Some(Op::new(goal, self.journal.batch_no()));
        self.events.push_back(Event::State(State::Busy));
    }

    /// What to do next: send a request, or the operation is done.
    ///
    /// Each phase is left once: `Opening` and `Goal` for a request or the answer,
    /// `Housekeeping` for a request, the answer or (nothing left) the goal.
    pub fn step(&mut self, now: Timestamp, new_id: &mut dyn FnMut() -> RequestId) -> Step {
        let Some(op) = self.op.as_mut() else {
            return Step::Idle;
        };
        let next = match op.take_phase() {
            Phase::Opening => self.opening(),
            Phase::Housekeeping => match self.housekeeping(new_id) {
                Chores::Send(out, wait) => Next::Send(out, wait),
                Chores::Done(result) => Next::Done(result),
                Chores::Clear => self.pursue(now, new_id),
            },
            Phase::Goal => self.pursue(now, new_id),
            // A reply was due. Asking again is a driver bug; failing the operation is safer
            // than sending anything twice.
            Phase::Awaiting(_) => Next::Done(Err(Error::with_detail(
                ErrorCode::Internal,
                "step() called while a reply was due",
            ))),
            Phase::Done(result) => Next::Done(*result),
        };
        match next {
            Next::Send(out, wait) => {
                if let Some(op) = self.op.as_mut() {
                    op.phase = Phase::Awaiting(wait);
                }
                Step::Send(out)
            }
            Next::Done(result) => {
                self.op = None;
                self.last_activity = now;
                self.events.push_back(Event::State(self.state()));
                Step::Done(result)
            }
        }
    }

    /// Feeds the answer to the request last returned by [`Terminal::step`]: the awaited
    /// reply and the one that came decide the next phase.
    pub fn handle_reply(&mut self, reply: Reply, now: Timestamp) {
        let Some(op) = self.op.as_mut() else {
            return;
        };
        let wait = match op.take_phase() {
            Phase::Awaiting(wait) => wait,
            // Nothing is out: there is no request this could answer.
            other => {
                op.phase = other;
                return;
            }
        };
        let next = match (wait, reply) {
            // Any refusal of a sign-in is its own answer; there is no session yet to expire.
            (Wait::SignIn, reply) => self.on_sign_in(reply),
            // R22: a sign-off from the merchant's console ends the session the same way.
            (wait, Reply::Refused(e)) if e.code.ends_session() => self.session_expired(&wait, e),
            (Wait::Activation, reply) => self.on_activation(reply),
            (Wait::Reversal, reply) => self.on_reversal(reply, now),
            (Wait::Settlement(stage), reply) => self.on_settlement(stage, reply, now),
            (Wait::Transaction(sent), reply) => self.on_transaction(*sent, reply, now),
            (Wait::SignOff, reply) => self.on_sign_off(reply),
        };
        if let Some(op) = self.op.as_mut() {
            op.phase = next;
        }
    }
}
