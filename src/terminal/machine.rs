//! The terminal state machine (R1–R14, R18).
//!
//! The driver (the wasm layer, or a test) runs every operation the same way:
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
//! The core never does IO, never reads a clock and never draws a random number: `now` and
//! fresh request ids are arguments.

use crate::error::{Error, ErrorCode};
use crate::protocol::{
    ActivateRequest, ActivateResponse, BatchTotals, CardData, Discrepancy, EntryKind, EntryStatus,
    JournalEntry, OriginalRef, Outcome, ReversalRequest, ReversalResponse, SettlementRequest,
    SettlementResponse, SignInRequest, SignInResponse, SignOffRequest, SignOffResponse,
    TransactionRequest, TransactionResponse, TxKind, TxStatus, UploadRequest, UploadResponse,
};
use crate::terminal::card::{Expiry, Pan};
use crate::terminal::journal::{tx_kind, EntryDraft, Journal};
use crate::terminal::money::{Amount, Currency};
use crate::terminal::settlement::Tally;
use crate::terminal::time::{Timestamp, UtcOffset};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Default for [`Config::max_batch_entries`].
pub const DEFAULT_MAX_BATCH_ENTRIES: u32 = 20_000;
/// The most [`Config::max_batch_entries`] may be: a batch never holds more transactions than
/// there are trace numbers (999 999), and a million entries of the largest amount stay far
/// inside i64, so the totals cannot overflow (R10).
pub const MAX_BATCH_ENTRIES: u32 = 1_000_000;
/// R8: tries per queued reversal before an operation gives up with `HOST_UNREACHABLE`.
pub const REVERSAL_TRIES: u8 = 3;
/// Settled batches remembered so a void of their sales says "refund instead" (R6).
const RECENT_SETTLED: usize = 10;
/// The highest trace and batch number; both wrap to 1.
pub const MAX_SEQUENCE: u32 = 999_999;

/// How a terminal is set up by its merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// 15 digits.
    pub merchant_id: String,
    /// 8 ASCII letters or digits.
    pub terminal_id: String,
    /// R13: sign off right after every settlement.
    pub auto_sign_off_after_settle: bool,
    /// R13: sign off after this many minutes without an operation; 0 = never.
    pub idle_sign_off_minutes: u32,
    /// R11: entries a batch may hold before sales fail with `BATCH_FULL`.
    pub max_batch_entries: u32,
}

impl Config {
    /// A configuration with the contract's defaults.
    pub fn new(merchant_id: &str, terminal_id: &str) -> Config {
        Config {
            merchant_id: merchant_id.to_owned(),
            terminal_id: terminal_id.to_owned(),
            auto_sign_off_after_settle: false,
            idle_sign_off_minutes: 0,
            max_batch_entries: DEFAULT_MAX_BATCH_ENTRIES,
        }
    }

    /// Checks the identifiers of CONTRACT.md section 1.
    pub fn validate(&self) -> Result<(), Error> {
        if self.merchant_id.len() != 15 || !self.merchant_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "merchantId must be 15 digits",
            ));
        }
        if self.terminal_id.len() != 8
            || !self.terminal_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "terminalId must be 8 letters or digits",
            ));
        }
        if !(1..=MAX_BATCH_ENTRIES).contains(&self.max_batch_entries) {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                format_args!("maxBatchEntries must be 1 to {MAX_BATCH_ENTRIES}"),
            ));
        }
        Ok(())
    }
}

/// What the terminal can do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No terminal key yet: only `activate`.
    Unactivated,
    /// Activated, nobody signed in: only `signIn`.
    SignedOff,
    /// An operator may transact.
    SignedIn,
    /// An operation is in flight (R2).
    Busy,
}

/// An operation a person asks for. Secrets in it live only until the request is built.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    /// Exchange a single-use activation code for the terminal key (R17).
    Activate {
        /// As printed by `softpos-host terminal add`.
        code: String,
    },
    /// 签到.
    SignIn {
        /// `"01"`..`"99"`, `"00"` for the supervisor.
        operator: String,
        /// Never stored.
        password: String,
    },
    /// 消费.
    Sale {
        /// Minor units, already known to be an integer.
        amount: i64,
        /// As typed.
        pan: String,
        /// `MM/YY`.
        expiry: String,
    },
    /// 撤销.
    Void {
        /// The sale's trace number in the open batch.
        trace_no: u32,
        /// Never stored.
        supervisor_password: String,
    },
    /// 退货.
    Refund {
        /// The sale's RRN.
        rrn: String,
        /// Minor units.
        amount: i64,
        /// Never stored.
        supervisor_password: String,
    },
    /// 结算.
    Settle,
    /// 签退.
    SignOff {
        /// Settle the open batch first when it has transactions (default `true`).
        settle: bool,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Activate { .. } => f.write_str("Activate"),
            Command::SignIn { operator, .. } => write!(f, "SignIn({operator})"),
            Command::Sale { amount, .. } => write!(f, "Sale({amount})"),
            Command::Void { trace_no, .. } => write!(f, "Void({trace_no})"),
            Command::Refund { rrn, amount, .. } => write!(f, "Refund({rrn}, {amount})"),
            Command::Settle => f.write_str("Settle"),
            Command::SignOff { settle } => write!(f, "SignOff(settle: {settle})"),
        }
    }
}

/// Which credential a request carries as `Authorization: Bearer`.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `POST /v1/activate`.
    None,
    /// The terminal key, for sign-in.
    TerminalKey(String),
    /// The session token.
    Session(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::TerminalKey(_) => "TerminalKey(..)",
            Auth::Session(_) => "Session(..)",
        })
    }
}

/// A request for the host, with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `POST /v1/activate`
    Activate(ActivateRequest),
    /// `POST /v1/sign-in`
    SignIn(SignInRequest),
    /// `POST /v1/transactions`
    Transaction(TransactionRequest),
    /// `POST /v1/reversals`
    Reversal(ReversalRequest),
    /// `POST /v1/settlements`
    Settlement(SettlementRequest),
    /// `POST /v1/settlements/{batch_no}/upload`
    Upload(u32, UploadRequest),
    /// `POST /v1/sign-off`
    SignOff(SignOffRequest),
}

impl Call {
    /// The path under the host URL.
    pub fn path(&self) -> String {
        match self {
            Call::Activate(_) => "/v1/activate".into(),
            Call::SignIn(_) => "/v1/sign-in".into(),
            Call::Transaction(_) => "/v1/transactions".into(),
            Call::Reversal(_) => "/v1/reversals".into(),
            Call::Settlement(_) => "/v1/settlements".into(),
            Call::Upload(batch_no, _) => format!("/v1/settlements/{batch_no}/upload"),
            Call::SignOff(_) => "/v1/sign-off".into(),
        }
    }

    /// The JSON body.
    pub fn body_json(&self) -> String {
        // Plain structs of strings and integers: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the host's 2xx answer to this call from JSON text.
    pub fn parse_answer(&self, json: &str) -> Reply {
        self.answer_from(&mut serde_json::Deserializer::from_str(json))
    }

    /// Reads the host's 2xx answer to this call from any serde format (the wasm driver
    /// reads what the browser's `JSON.parse` made). One we cannot read is as good as no
    /// answer: the host may have acted on the request (R8).
    pub fn answer_from<'de, D: serde::Deserializer<'de>>(&self, d: D) -> Reply {
        fn read<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
            d: D,
            wrap: fn(T) -> Reply,
        ) -> Reply {
            T::deserialize(d).map_or(Reply::NoAnswer, wrap)
        }
        match self {
            Call::Activate(_) => read(d, Reply::Activated),
            Call::SignIn(_) => read(d, Reply::SignedIn),
            Call::Transaction(_) => read(d, Reply::Transaction),
            Call::Reversal(_) => read(d, Reply::Reversal),
            Call::Settlement(_) => read(d, Reply::Settlement),
            Call::Upload(..) => read(d, Reply::Upload),
            Call::SignOff(_) => read(d, Reply::SignedOff),
        }
    }
}

/// A call serialises as its body.
impl Serialize for Call {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Call::Activate(b) => b.serialize(s),
            Call::SignIn(b) => b.serialize(s),
            Call::Transaction(b) => b.serialize(s),
            Call::Reversal(b) => b.serialize(s),
            Call::Settlement(b) => b.serialize(s),
            Call::Upload(_, b) => b.serialize(s),
            Call::SignOff(b) => b.serialize(s),
        }
    }
}

/// A request to send: the call and its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// What to send.
    pub call: Call,
    /// `Authorization: Bearer` value.
    pub auth: Auth,
}

/// What came back for the last [`Outgoing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 2xx to activate.
    Activated(ActivateResponse),
    /// 2xx to sign-in.
    SignedIn(SignInResponse),
    /// 2xx to a transaction.
    Transaction(TransactionResponse),
    /// 2xx to a reversal.
    Reversal(ReversalResponse),
    /// 2xx to a settlement.
    Settlement(SettlementResponse),
    /// 2xx to a batch upload.
    Upload(UploadResponse),
    /// 2xx to a sign-off.
    SignedOff(SignOffResponse),
    /// A 4xx with the contract's error: a definite "no"; nothing happened on the host.
    Refused(Error),
    /// Network error, timeout or 5xx: the outcome is unknown (R8).
    NoAnswer,
}

/// The answer to a sale, void or refund (the JS `TxResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResult {
    /// Sale, void or refund.
    pub kind: TxKind,
    /// Approved or declined.
    pub status: TxStatus,
    /// `00` when approved.
    pub response_code: String,
    /// The response code's meaning.
    pub message: String,
    /// The terminal's trace number.
    pub trace_no: u32,
    /// The batch it counts in.
    pub batch_no: u32,
    /// The host's reference.
    pub rrn: Option<String>,
    /// The issuer's authorisation code.
    pub auth_code: Option<String>,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// First 6 and last 4 digits.
    pub masked_pan: Option<String>,
    /// When it completed (RFC 3339).
    pub at: String,
}

/// A finished settlement, kept whole (R11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementResult {
    /// The batch settled.
    pub batch_no: u32,
    /// 对账平 / 对账不平.
    pub outcome: Outcome,
    /// What the terminal counted.
    pub terminal_totals: BatchTotals,
    /// What the host counted; this stands.
    pub host_totals: BatchTotals,
    /// Every difference found by the batch upload.
    pub discrepancies: Vec<Discrepancy>,
    /// The batch now open.
    pub next_batch_no: u32,
    /// When it finished (RFC 3339).
    pub settled_at: String,
}

/// The answer to a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInResult {
    /// Who signed in.
    pub operator: String,
    /// The host's business date.
    pub business_date: String,
    /// The open batch.
    pub batch_no: u32,
    /// The terminal's currency.
    pub currency: String,
    /// Batches reconciled right after sign-in (R14): left open earlier, or closed at cut-off.
    pub reconciled: Vec<SettlementResult>,
    /// Reversals still queued (the host could not take them yet).
    pub pending_reversals: usize,
}

/// The answer to a sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffResult {
    /// When the host ended the session.
    pub signed_off_at: String,
    /// The settlement done first, if any (R12).
    pub settlement: Option<SettlementResult>,
}

/// What an operation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The terminal key is stored.
    Activated,
    /// An operator is signed in.
    SignedIn(SignInResult),
    /// A sale, void or refund was answered.
    Transaction(TxResult),
    /// A settlement finished.
    Settled(SettlementResult),
    /// The operator is signed off.
    SignedOff(SignOffResult),
}

/// What `recovery()` reports when a terminal opens with a day left open (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryKind {
    /// The browser closed while an operator was signed in.
    NotSignedOff,
    /// A batch from an earlier business day, or a settlement cut off, is waiting.
    NotSettled,
}

/// What was left when the terminal opened (R14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// What kind of leftover.
    pub kind: RecoveryKind,
    /// The batch left open.
    pub batch_no: u32,
    /// Its business date, when known.
    pub business_date: Option<String>,
    /// The operator who never signed off.
    pub operator: Option<String>,
    /// The batch's totals.
    pub totals: BatchTotals,
    /// Reversals waiting for the host.
    pub pending_reversals: usize,
}

/// Something the UI may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The state changed.
    State(State),
    /// A transaction was answered (approved or declined).
    Transaction(TxResult),
    /// A transaction got no answer and is queued for reversal.
    ReversalQueued {
        /// Its request id.
        request_id: String,
    },
    /// The host acknowledged a reversal.
    Reversed {
        /// The reversed transaction's request id.
        request_id: String,
    },
    /// A settlement finished (the operator's, or a reconciliation).
    Settled(SettlementResult),
    /// The operator was signed off (by request, after settlement, or when idle).
    SignedOff {
        /// Why.
        reason: SignOffReason,
    },
}

/// Why a sign-off happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOffReason {
    /// `signOff()`.
    Requested,
    /// R13 `autoSignOffAfterSettle`.
    AfterSettle,
    /// R13 `idleSignOffMinutes`.
    Idle,
    /// The host ended the session (sign-off elsewhere, cut-off, expiry).
    SessionExpired,
}

/// One step of the driver loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Persist [`Terminal::take_writes`], then send this, then call [`Terminal::handle_reply`].
    Send(Outgoing),
    /// The operation finished.
    Done(Result<Completion, Error>),
    /// Nothing in flight.
    Idle,
}

/// A record for the driver to persist, in order, before it sends the next request (R18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Replace the terminal's small state record.
    Meta(Box<Meta>),
    /// Add one journal entry (never rewrite the others).
    Append {
        /// The batch it belongs to.
        batch_no: u32,
        /// The entry, chained.
        entry: Box<JournalEntry>,
    },
    /// The batch is settled: its entries may go.
    ClearJournal {
        /// The batch settled.
        batch_no: u32,
    },
}

/// A transaction whose request may have left: persisted before sending (R18), so a reload
/// turns it into a queued reversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// Its request id.
    pub request_id: String,
    /// What it would be journaled as (masked PAN only).
    pub kind: TxKind,
    /// Trace number.
    pub trace_no: u32,
    /// Minor units.
    pub amount: i64,
    /// Masked PAN, for a sale.
    pub masked_pan: Option<String>,
    /// For a void.
    pub original_trace_no: Option<u32>,
    /// For a refund.
    pub original_rrn: Option<String>,
    /// The operator.
    pub operator: String,
}

/// A transaction with no definite answer, waiting for the host to acknowledge its reversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedReversal {
    /// The transaction's request id.
    pub request_id: String,
    /// Its batch: the reversal entry goes into that batch's journal.
    pub batch_no: u32,
    /// Its trace number.
    pub trace_no: u32,
    /// Its amount.
    pub amount: i64,
}

/// Where a settlement stands; persisted before each of its requests (R11, R18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSettlement {
    /// The batch being settled.
    pub batch_no: u32,
    /// What the terminal counted.
    pub terminal_totals: BatchTotals,
    /// Request id of `POST /v1/settlements`.
    pub request_id: String,
    /// Request id of the batch upload, should the host say unbalanced.
    pub upload_request_id: String,
    /// Set once the host said unbalanced: the upload still to do.
    pub upload: Option<PendingUpload>,
}

/// The batch upload after an unbalanced settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The host's totals from the settlement answer.
    pub host_totals: BatchTotals,
    /// The host's next batch.
    pub next_batch_no: u32,
}

/// A batch settled recently, by its range of trace numbers (R6: "refund instead").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledRange {
    /// The batch.
    pub batch_no: u32,
    /// First trace number used in it.
    pub first_trace: u32,
    /// Last trace number used in it.
    pub last_trace: u32,
}

impl SettledRange {
    fn contains(&self, trace: u32) -> bool {
        if self.first_trace <= self.last_trace {
            (self.first_trace..=self.last_trace).contains(&trace)
        } else {
            // The trace counter wrapped inside the batch.
            trace >= self.first_trace || trace <= self.last_trace
        }
    }
}

/// The terminal's state apart from the journal: small, rewritten whole on each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Snapshot format.
    pub version: u32,
    /// Whose terminal.
    pub merchant_id: String,
    /// Which terminal.
    pub terminal_id: String,
    /// The credential from activation; `None` before.
    pub terminal_key: Option<String>,
    /// Set by the host at the first sign-in.
    pub currency: Option<String>,
    /// The open batch.
    pub batch_no: u32,
    /// Its business date, when known.
    pub business_date: Option<String>,
    /// The next trace number to use.
    pub next_trace_no: u32,
    /// Who is signed in: persisted so a reload can say "not signed off" (R14). The token is not.
    pub operator: Option<String>,
    /// R8.
    pub reversals: VecDeque<QueuedReversal>,
    /// R18.
    pub in_flight: Option<InFlight>,
    /// R11: a settlement to finish before anything else.
    pub settlement: Option<PendingSettlement>,
    /// R14: batches to reconcile with the host, oldest first.
    pub reconcile: VecDeque<u32>,
    /// R6.
    pub recent_settled: Vec<SettledRange>,
    /// The last settlement, for the slip.
    pub last_settlement: Option<SettlementResult>,
    /// Entries in the open batch's journal, written with each append: a journal cut short
    /// (its newest entries deleted) still chains, so the count is what catches it (R19).
    pub journal_len: u32,
    /// The host's offset from UTC at the last sign-in: the clock of every date the terminal
    /// shows or compares. UTC in snapshots written before it was kept.
    #[serde(default)]
    pub utc_offset: UtcOffset,
}

/// Everything needed to bring a terminal back after a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The small state record.
    pub meta: Meta,
    /// The open batch's journal, oldest first.
    pub entries: Vec<JournalEntry>,
}

/// Snapshot format written by this version.
pub const SNAPSHOT_VERSION: u32 = 1;

impl Snapshot {
    /// The versioned JSON form.
    pub fn to_json(&self) -> String {
        // Plain data: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON form; anything unreadable is `BAD_REQUEST`.
    pub fn from_json(json: &str) -> Result<Snapshot, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::with_detail(
                ErrorCode::BadRequest,
                format_args!("unreadable snapshot: {e}"),
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    token: String,
    operator: String,
    batch_no: u32,
}

/// Which answer the operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Activate,
    SignIn,
    Reversal,
    Settlement,
    Transaction,
    SignOff,
}

impl Expect {
    fn of(call: &Call) -> Expect {
        match call {
            Call::Activate(_) => Expect::Activate,
            Call::SignIn(_) => Expect::SignIn,
            Call::Reversal(_) => Expect::Reversal,
            Call::Settlement(_) | Call::Upload(..) => Expect::Settlement,
            Call::Transaction(_) => Expect::Transaction,
            Call::SignOff(_) => Expect::SignOff,
        }
    }
}

/// The operation in flight and how far it got.
#[derive(Debug)]
struct Op {
    goal: Goal,
    /// The settlement a settle or sign-off asked for.
    own: OwnSettlement,
    /// Reversal tries spent on the queue's head during this operation (R8).
    reversal_tries: u8,
    /// Housekeeping is done; the goal itself is under way.
    main: bool,
    /// The answer the operation waits for, if a request is out.
    awaiting: Option<Expect>,
    /// Settlements finished during this operation (reconciliations included).
    settled: Vec<SettlementResult>,
    result: Option<Result<Completion, Error>>,
}

/// Where the settlement a settle or sign-off asked for stands (R11). The goal starts one at
/// most once per operation, and only the answer for the batch it started finishes it, so
/// housekeeping moving to another batch can never make it settle batch after batch.
#[derive(Debug)]
enum OwnSettlement {
    /// Not started by the goal. Settling the batch that was open when the operation began,
    /// even as housekeeping (a settlement cut off earlier), is what was asked for.
    Due { open_at_begin: u32 },
    /// Started by the goal for this batch.
    Started { batch_no: u32 },
    /// Finished.
    Done(Box<SettlementResult>),
}

impl OwnSettlement {
    fn done(&self) -> Option<&SettlementResult> {
        match self {
            OwnSettlement::Done(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    /// Whether a settlement of `batch_no` that just finished is this one.
    fn is_for(&self, batch_no: u32) -> bool {
        match *self {
            OwnSettlement::Due { open_at_begin: b } | OwnSettlement::Started { batch_no: b } => {
                b == batch_no
            }
            OwnSettlement::Done(_) => false,
        }
    }
}

#[derive(Debug)]
enum Goal {
    Activate {
        code: String,
    },
    SignIn {
        operator: String,
        password: String,
        /// Set once the host accepted; housekeeping follows.
        response: Option<Box<SignInResponse>>,
    },
    Tx(Box<TxPlan>),
    Settle {
        then_sign_off: bool,
        signed_off: bool,
    },
    SignOff {
        settle: bool,
        reason: SignOffReason,
    },
}

/// A validated transaction, with the secrets it needs for its one request.
#[derive(Debug)]
struct TxPlan {
    kind: TxKind,
    amount: i64,
    card: Option<(Pan, Expiry)>,
    original: Option<OriginalRef>,
    supervisor_password: Option<String>,
    /// Set once the request is built and written ahead; it is sent exactly once.
    sent: Option<TransactionRequest>,
}

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

enum Action {
    Send(Outgoing),
    Continue,
}

impl Terminal {
    /// A new, unactivated terminal.
    pub fn new(config: Config, now: Timestamp) -> Result<Terminal, Error> {
        config.validate()?;
        let meta = Meta {
            version: SNAPSHOT_VERSION,
            merchant_id: config.merchant_id.clone(),
            terminal_id: config.terminal_id.clone(),
            terminal_key: None,
            currency: None,
            batch_no: 1,
            business_date: None,
            next_trace_no: 1,
            operator: None,
            reversals: VecDeque::new(),
            in_flight: None,
            settlement: None,
            reconcile: VecDeque::new(),
            recent_settled: Vec::new(),
            last_settlement: None,
            journal_len: 0,
            utc_offset: UtcOffset::UTC,
        };
        let journal = Journal::new(&config.merchant_id, &config.terminal_id, meta.batch_no);
        Ok(Terminal {
            config,
            meta,
            journal,
            session: None,
            op: None,
            recovery: None,
            last_activity: now,
            writes: Vec::new(),
            events: VecDeque::new(),
        })
    }

    /// Brings a terminal back from its snapshot (R14, R18, R19).
    ///
    /// A broken hash chain is `JOURNAL_TAMPERED`; a snapshot of another terminal or another
    /// format is `BAD_REQUEST`. A transaction that was in flight becomes an `unknown` entry
    /// with a queued reversal. No session survives: the token was never stored.
    pub fn restore(config: Config, snapshot: Snapshot, now: Timestamp) -> Result<Terminal, Error> {
        config.validate()?;
        let Snapshot { meta, entries } = snapshot;
        if meta.version != SNAPSHOT_VERSION {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                format_args!(
                    "snapshot version {} is not {SNAPSHOT_VERSION}",
                    meta.version
                ),
            ));
        }
        if meta.merchant_id != config.merchant_id || meta.terminal_id != config.terminal_id {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "the stored terminal is another merchant's or terminal's",
            ));
        }
        if usize::try_from(meta.journal_len).ok() != Some(entries.len()) {
            return Err(Error::with_detail(
                ErrorCode::JournalTampered,
                format_args!(
                    "the journal holds {} entries where {} were written",
                    entries.len(),
                    meta.journal_len
                ),
            ));
        }
        let journal =
            Journal::restore(&meta.merchant_id, &meta.terminal_id, meta.batch_no, entries)?;
        let mut t = Terminal {
            config,
            meta,
            journal,
            session: None,
            op: None,
            recovery: None,
            last_activity: now,
            writes: Vec::new(),
            events: VecDeque::new(),
        };
        if let Some(in_flight) = t.meta.in_flight.take() {
            t.lose_answer(in_flight, now)?;
        }
        t.recovery = t.compute_recovery(now);
        Ok(t)
    }

    /// The whole state to persist (the driver normally persists [`Write`]s instead).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            meta: self.meta.clone(),
            entries: self.journal.entries().to_vec(),
        }
    }

    fn compute_recovery(&self, now: Timestamp) -> Option<Recovery> {
        let kind = if self.meta.operator.is_some() {
            RecoveryKind::NotSignedOff
        } else if self.meta.settlement.is_some() || !self.meta.reconcile.is_empty() {
            RecoveryKind::NotSettled
        } else if self.journal.has_transactions() {
            // A batch from an earlier business day: its date is before today's on the host's
            // clock (in UTC, yesterday's batch would pass for today's until UTC midnight).
            let today = now.local(self.meta.utc_offset).date();
            match &self.meta.business_date {
                Some(date) if today > *date => RecoveryKind::NotSettled,
                _ => return None,
            }
        } else {
            return None;
        };
        Some(Recovery {
            kind,
            batch_no: self.journal.batch_no(),
            business_date: self.meta.business_date.clone(),
            operator: self.meta.operator.clone(),
            totals: self.totals(),
            pending_reversals: self.meta.reversals.len(),
        })
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

    /// What was left open when the terminal was restored (R14), until it is cleaned up.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.recovery.as_ref()
    }

    /// The last settlement finished.
    pub fn last_settlement(&self) -> Option<&SettlementResult> {
        self.meta.last_settlement.as_ref()
    }

    /// The host's offset from UTC, as of the last sign-in: show dates on this clock.
    pub fn utc_offset(&self) -> UtcOffset {
        self.meta.utc_offset
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

    // ----- starting an operation -----------------------------------------------------------

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
        self.op = Some(Op {
            goal,
            own: OwnSettlement::Due {
                open_at_begin: self.journal.batch_no(),
            },
            reversal_tries: 0,
            main: false,
            awaiting: None,
            settled: Vec::new(),
            result: None,
        });
        self.events.push_back(Event::State(State::Busy));
    }

    fn plan(&self, command: Command, now: Timestamp) -> Result<Goal, Error> {
        match command {
            Command::Activate { code } => {
                if self.session.is_some() {
                    return Err(Error::with_detail(
                        ErrorCode::BadRequest,
                        "sign off before activating again",
                    ));
                }
                let code = code.trim().to_owned();
                if code.is_empty() {
                    return Err(Error::with_detail(
                        ErrorCode::BadRequest,
                        "enter the activation code",
                    ));
                }
                Ok(Goal::Activate { code })
            }
            Command::SignIn { operator, password } => {
                if self.meta.terminal_key.is_none() {
                    return Err(ErrorCode::NotActivated.into());
                }
                if operator.len() != 2 || !operator.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::with_detail(
                        ErrorCode::BadRequest,
                        "the operator is two digits, 01 to 99 (00 is the supervisor)",
                    ));
                }
                if password.is_empty() {
                    return Err(Error::with_detail(
                        ErrorCode::BadRequest,
                        "enter the password",
                    ));
                }
                Ok(Goal::SignIn {
                    operator,
                    password,
                    response: None,
                })
            }
            Command::Sale {
                amount,
                pan,
                expiry,
            } => {
                self.require_signed_in()?;
                let amount = Amount::new(amount)?.get();
                let card = (
                    Pan::parse(&pan)?,
                    Expiry::parse(&expiry, now.local(self.meta.utc_offset))?,
                );
                self.require_room()?;
                Ok(Goal::Tx(Box::new(TxPlan {
                    kind: TxKind::Sale,
                    amount,
                    card: Some(card),
                    original: None,
                    supervisor_password: None,
                    sent: None,
                })))
            }
            Command::Void {
                trace_no,
                supervisor_password,
            } => {
                self.require_signed_in()?;
                let supervisor_password = require_supervisor(supervisor_password)?;
                let amount = self.check_void(trace_no)?;
                self.require_room()?;
                Ok(Goal::Tx(Box::new(TxPlan {
                    kind: TxKind::Void,
                    amount,
                    card: None,
                    original: Some(OriginalRef::Trace { trace_no }),
                    supervisor_password: Some(supervisor_password),
                    sent: None,
                })))
            }
            Command::Refund {
                rrn,
                amount,
                supervisor_password,
            } => {
                self.require_signed_in()?;
                let amount = Amount::new(amount)?.get();
                let supervisor_password = require_supervisor(supervisor_password)?;
                let rrn = rrn.trim().to_owned();
                self.check_refund(&rrn, amount)?;
                self.require_room()?;
                Ok(Goal::Tx(Box::new(TxPlan {
                    kind: TxKind::Refund,
                    amount,
                    card: None,
                    original: Some(OriginalRef::Rrn { rrn }),
                    supervisor_password: Some(supervisor_password),
                    sent: None,
                })))
            }
            Command::Settle => {
                self.require_signed_in()?;
                Ok(Goal::Settle {
                    then_sign_off: self.config.auto_sign_off_after_settle,
                    signed_off: false,
                })
            }
            Command::SignOff { settle } => {
                self.require_signed_in()?;
                Ok(Goal::SignOff {
                    settle,
                    reason: SignOffReason::Requested,
                })
            }
        }
    }

    fn require_signed_in(&self) -> Result<(), Error> {
        if self.meta.terminal_key.is_none() {
            return Err(ErrorCode::NotActivated.into());
        }
        if self.session.is_none() {
            return Err(ErrorCode::NotSignedIn.into());
        }
        Ok(())
    }

    fn require_room(&self) -> Result<(), Error> {
        let max = usize::try_from(self.config.max_batch_entries).unwrap_or(usize::MAX);
        if self.journal.len() >= max {
            return Err(Error::with_detail(
                ErrorCode::BatchFull,
                format_args!("the batch holds {max} entries"),
            ));
        }
        Ok(())
    }

    /// R6: a void names an approved, unvoided sale of the open batch; returns its amount.
    fn check_void(&self, trace_no: u32) -> Result<i64, Error> {
        match self.journal.by_trace(trace_no) {
            Some(e) if e.kind == EntryKind::Sale => match self.journal.current_status(e) {
                EntryStatus::Approved => Ok(e.amount),
                EntryStatus::Voided => Err(ErrorCode::AlreadyVoided.into()),
                _ => Err(Error::with_detail(
                    ErrorCode::UnknownTransaction,
                    format_args!("trace {trace_no} is not an approved sale"),
                )),
            },
            Some(_) => Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                format_args!("trace {trace_no} is not a sale"),
            )),
            None if self
                .meta
                .recent_settled
                .iter()
                .any(|r| r.contains(trace_no)) =>
            {
                Err(ErrorCode::VoidNotAllowedSettled.into())
            }
            None => Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                format_args!("no trace {trace_no} in batch {}", self.journal.batch_no()),
            )),
        }
    }

    /// R7, as far as the terminal can tell: a sale of the open batch limits its own refunds;
    /// sales of other batches and terminals are the host's to check.
    fn check_refund(&self, rrn: &str, amount: i64) -> Result<(), Error> {
        if rrn.is_empty() {
            return Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                "enter the original sale's RRN",
            ));
        }
        if let Some(sale) = self.journal.sale_by_rrn(rrn) {
            if self.journal.is_voided(sale.trace_no) {
                return Err(ErrorCode::AlreadyVoided.into());
            }
            let left = sale
                .amount
                .checked_sub(self.journal.refunded(rrn))
                .ok_or_else(|| {
                    Error::with_detail(
                        ErrorCode::JournalTampered,
                        "the refunds of this sale do not add up",
                    )
                })?;
            if amount > left {
                return Err(Error::with_detail(
                    ErrorCode::RefundExceedsOriginal,
                    format_args!("at most {left} minor units are left to refund"),
                ));
            }
        }
        Ok(())
    }

    // ----- timers ----------------------------------------------------------------------------

    /// When [`Terminal::handle_timer`] should next be called (R13), if ever.
    pub fn next_timer(&self) -> Option<Timestamp> {
        if self.config.idle_sign_off_minutes == 0 || self.session.is_none() {
            return None;
        }
        Some(
            self.last_activity
                .plus_minutes(self.config.idle_sign_off_minutes),
        )
    }

    /// R13: starts an idle sign-off (without settling) when it is due; returns whether it
    /// did. The driver then runs the loop as for any operation.
    pub fn handle_timer(&mut self, now: Timestamp) -> bool {
        let due = self.next_timer().is_some_and(|at| now >= at);
        if !due || self.op.is_some() {
            return false;
        }
        self.start_op(Goal::SignOff {
            settle: false,
            reason: SignOffReason::Idle,
        });
        true
    }

    // ----- the driver loop -------------------------------------------------------------------

    /// What to do next: send a request, or the operation is done.
    pub fn step(&mut self, now: Timestamp, new_id: &mut dyn FnMut() -> String) -> Step {
        if let Some(op) = self.op.as_mut() {
            if op.awaiting.take().is_some() {
                // A reply was due. Asking again is a driver bug; failing the operation is
                // safer than sending anything twice.
                op.result = Some(Err(Error::with_detail(
                    ErrorCode::Internal,
                    "step() called while a reply was due",
                )));
            }
        }
        loop {
            let Some(op) = self.op.as_mut() else {
                return Step::Idle;
            };
            if let Some(result) = op.result.take() {
                self.op = None;
                self.last_activity = now;
                self.events.push_back(Event::State(self.state()));
                return Step::Done(result);
            }
            if let Action::Send(out) = self.next_action(now, new_id) {
                if let Some(op) = self.op.as_mut() {
                    op.awaiting = Some(Expect::of(&out.call));
                }
                return Step::Send(out);
            }
        }
    }

    fn finish(&mut self, result: Result<Completion, Error>) {
        if let Some(op) = self.op.as_mut() {
            op.result = Some(result);
        }
    }

    /// Housekeeping could not finish. A sign-in still succeeds (the host accepted the
    /// operator; what is left is tried before the next operation); anything else fails.
    fn housekeeping_failed(&mut self, error: Error) {
        let Some(op) = self.op.as_mut() else {
            return;
        };
        if matches!(op.goal, Goal::SignIn { .. }) {
            op.main = true;
        } else {
            op.result = Some(Err(error));
        }
    }

    fn next_action(&mut self, now: Timestamp, new_id: &mut dyn FnMut() -> String) -> Action {
        let Some(op) = self.op.as_ref() else {
            return Action::Continue;
        };
        // Calls that need no session.
        match &op.goal {
            Goal::Activate { code } => {
                let call = Call::Activate(ActivateRequest {
                    merchant_id: self.config.merchant_id.clone(),
                    terminal_id: self.config.terminal_id.clone(),
                    activation_code: code.clone(),
                });
                return Action::Send(Outgoing {
                    call,
                    auth: Auth::None,
                });
            }
            Goal::SignIn {
                operator,
                password,
                response: None,
            } => {
                let Some(key) = self.meta.terminal_key.clone() else {
                    self.finish(Err(ErrorCode::NotActivated.into()));
                    return Action::Continue;
                };
                let call = Call::SignIn(SignInRequest {
                    operator: operator.clone(),
                    password: password.clone(),
                });
                return Action::Send(Outgoing {
                    call,
                    auth: Auth::TerminalKey(key),
                });
            }
            _ => {}
        }
        if let Goal::Settle {
            signed_off: true, ..
        } = op.goal
        {
            // Signed off automatically after the settlement (R13): the settlement is the answer.
            let result = op
                .own
                .done()
                .cloned()
                .ok_or_else(|| ErrorCode::Internal.into());
            self.finish(result.map(Completion::Settled));
            return Action::Continue;
        }
        let Some(session) = self.session.as_ref() else {
            self.finish(Err(ErrorCode::NotSignedIn.into()));
            return Action::Continue;
        };
        let auth = Auth::Session(session.token.clone());
        let session_batch = session.batch_no;
        if !op.main {
            return self.housekeeping(auth, session_batch, new_id);
        }
        let settles = matches!(op.goal, Goal::Settle { .. } | Goal::SignOff { .. });
        if settles {
            if let Some(out) = self.settlement_request(auth.clone()) {
                return Action::Send(out);
            }
        }
        match &op.goal {
            Goal::Activate { .. } => Action::Continue,
            Goal::SignIn { response, .. } => {
                let result = response.as_ref().map(|resp| SignInResult {
                    operator: resp.operator.clone(),
                    business_date: resp.business_date.clone(),
                    batch_no: self.journal.batch_no(),
                    currency: resp.currency.clone(),
                    reconciled: op.settled.clone(),
                    pending_reversals: self.meta.reversals.len(),
                });
                match result {
                    Some(r) => self.finish(Ok(Completion::SignedIn(r))),
                    None => self.finish(Err(ErrorCode::Internal.into())),
                }
                Action::Continue
            }
            Goal::Tx(_) => self.send_transaction(auth, now, new_id),
            Goal::Settle {
                then_sign_off,
                signed_off,
            } => match &op.own {
                OwnSettlement::Due { .. } => {
                    self.start_own_settlement(new_id);
                    Action::Continue
                }
                OwnSettlement::Started { .. } => {
                    self.own_settlement_lost();
                    Action::Continue
                }
                OwnSettlement::Done(_) if *then_sign_off && !*signed_off => {
                    Action::Send(sign_off_call(auth, new_id))
                }
                OwnSettlement::Done(r) => {
                    let r = r.as_ref().clone();
                    self.finish(Ok(Completion::Settled(r)));
                    Action::Continue
                }
            },
            Goal::SignOff { settle, .. } => match &op.own {
                OwnSettlement::Due { .. } if *settle && self.journal.has_transactions() => {
                    self.start_own_settlement(new_id);
                    Action::Continue
                }
                OwnSettlement::Started { .. } => {
                    self.own_settlement_lost();
                    Action::Continue
                }
                _ => Action::Send(sign_off_call(auth, new_id)),
            },
        }
    }

    /// R11: the settle's or sign-off's own settlement, of the batch open now; once.
    fn start_own_settlement(&mut self, new_id: &mut dyn FnMut() -> String) {
        let batch_no = self.journal.batch_no();
        if let Some(op) = self.op.as_mut() {
            op.own = OwnSettlement::Started { batch_no };
        }
        self.start_settlement(batch_no, new_id);
    }

    /// The own settlement is neither pending nor finished, and no answer failed the
    /// operation: it is not started again, whatever happened.
    fn own_settlement_lost(&mut self) {
        self.finish(Err(Error::with_detail(
            ErrorCode::Internal,
            "the settlement ended without an answer",
        )));
    }

    /// Before any operation (R8, R11, R14): queued reversals, then a settlement that was cut
    /// off, then batches to reconcile, then move to the host's open batch.
    fn housekeeping(
        &mut self,
        auth: Auth,
        session_batch: u32,
        new_id: &mut dyn FnMut() -> String,
    ) -> Action {
        if let Some(rev) = self.meta.reversals.front() {
            let call = Call::Reversal(ReversalRequest {
                request_id: rev.request_id.clone(),
            });
            return Action::Send(Outgoing { call, auth });
        }
        if let Some(out) = self.settlement_request(auth) {
            return Action::Send(out);
        }
        if let Some(batch_no) = self.meta.reconcile.front().copied() {
            self.start_settlement(batch_no, new_id);
            return Action::Continue;
        }
        if session_batch != self.journal.batch_no() && !self.journal.has_transactions() {
            self.switch_batch(session_batch);
        }
        if let Some(op) = self.op.as_mut() {
            op.main = true;
        }
        Action::Continue
    }

    fn send_transaction(
        &mut self,
        auth: Auth,
        now: Timestamp,
        new_id: &mut dyn FnMut() -> String,
    ) -> Action {
        let trace_no = self.allocate_trace();
        let currency = self.currency_code();
        let operator = self.meta.operator.clone().unwrap_or_default();
        let Some(Op {
            goal: Goal::Tx(plan),
            ..
        }) = self.op.as_mut()
        else {
            return Action::Continue;
        };
        if plan.sent.is_some() {
            // A transaction is sent exactly once; its reply always finishes the operation.
            self.finish(Err(ErrorCode::Internal.into()));
            return Action::Continue;
        }
        let request_id = new_id();
        let (original_trace_no, original_rrn) = match &plan.original {
            Some(OriginalRef::Trace { trace_no }) => (Some(*trace_no), None),
            Some(OriginalRef::Rrn { rrn }) => (None, Some(rrn.clone())),
            None => (None, None),
        };
        let req = TransactionRequest {
            request_id: request_id.clone(),
            kind: plan.kind,
            trace_no,
            amount: plan.amount,
            currency,
            card: plan.card.as_ref().map(|(pan, expiry)| CardData {
                pan: pan.digits().to_owned(),
                expiry: expiry.to_mm_yy(),
            }),
            original: plan.original.clone(),
            supervisor_password: plan.supervisor_password.take(),
        };
        let masked_pan = plan.card.take().map(|(pan, _)| pan.masked());
        plan.sent = Some(req.clone());
        // R18: the request id and what it would be journaled as are written before the
        // request leaves (the driver persists `take_writes()` before it sends).
        self.meta.in_flight = Some(InFlight {
            request_id,
            kind: req.kind,
            trace_no,
            amount: req.amount,
            masked_pan,
            original_trace_no,
            original_rrn,
            operator,
        });
        self.last_activity = now;
        self.push_meta();
        Action::Send(Outgoing {
            call: Call::Transaction(req),
            auth,
        })
    }

    /// The next request of a settlement under way, if one is.
    fn settlement_request(&self, auth: Auth) -> Option<Outgoing> {
        let s = self.meta.settlement.as_ref()?;
        let call = match &s.upload {
            None => Call::Settlement(SettlementRequest {
                request_id: s.request_id.clone(),
                batch_no: s.batch_no,
                terminal_totals: s.terminal_totals.clone(),
            }),
            Some(_) => {
                let entries = if s.batch_no == self.journal.batch_no() {
                    self.journal.entries().to_vec()
                } else {
                    Vec::new()
                };
                Call::Upload(
                    s.batch_no,
                    UploadRequest {
                        request_id: s.upload_request_id.clone(),
                        entries,
                    },
                )
            }
        };
        Some(Outgoing { call, auth })
    }

    /// R11: writes the settlement ahead; the next step sends it.
    fn start_settlement(&mut self, batch_no: u32, new_id: &mut dyn FnMut() -> String) {
        let currency = self.currency_code();
        let terminal_totals = if batch_no == self.journal.batch_no() {
            self.journal.totals(&currency)
        } else {
            // A batch the terminal holds no journal for (closed at cut-off after the
            // browser's storage was lost): the terminal counted nothing it can show.
            Tally::default().to_batch_totals(batch_no, &currency)
        };
        self.meta.settlement = Some(PendingSettlement {
            batch_no,
            terminal_totals,
            request_id: new_id(),
            upload_request_id: new_id(),
            upload: None,
        });
        self.meta.reconcile.retain(|b| *b != batch_no);
        self.push_meta();
    }

    fn allocate_trace(&mut self) -> u32 {
        let mut trace = self.meta.next_trace_no.clamp(1, MAX_SEQUENCE);
        // Never reuse a trace inside one batch; a batch holds far fewer than 999 999.
        for _ in 0..MAX_SEQUENCE {
            if !self.journal.trace_used(trace) {
                break;
            }
            trace = next_sequence(trace);
        }
        self.meta.next_trace_no = next_sequence(trace);
        trace
    }

    fn switch_batch(&mut self, batch_no: u32) {
        let old = self.journal.batch_no();
        if !self.journal.is_empty() {
            self.writes.push(Write::ClearJournal { batch_no: old });
        }
        self.journal = Journal::new(&self.config.merchant_id, &self.config.terminal_id, batch_no);
        self.meta.batch_no = batch_no;
        self.meta.journal_len = 0;
        if let Some(s) = self.session.as_mut() {
            s.batch_no = batch_no;
        }
        self.push_meta();
    }

    fn push_meta(&mut self) {
        self.writes.push(Write::Meta(Box::new(self.meta.clone())));
    }

    /// Journals one entry. It fails only on a journal whose restored totals are forged
    /// (`JOURNAL_TAMPERED`); then nothing is written.
    fn append(&mut self, draft: EntryDraft) -> Result<(), Error> {
        let entry = self.journal.append(draft)?.clone();
        self.meta.journal_len = entry.seq;
        self.writes.push(Write::Append {
            batch_no: self.journal.batch_no(),
            entry: Box::new(entry),
        });
        Ok(())
    }

    /// R8: the transaction got no definite answer: queue its reversal, journal it `unknown`.
    /// The reversal is queued even when the journal refuses the entry.
    fn lose_answer(&mut self, f: InFlight, now: Timestamp) -> Result<(), Error> {
        let currency = self.currency_code();
        self.meta.reversals.push_back(QueuedReversal {
            request_id: f.request_id.clone(),
            batch_no: self.journal.batch_no(),
            trace_no: f.trace_no,
            amount: f.amount,
        });
        self.meta.in_flight = None;
        let journaled = self.append(EntryDraft {
            request_id: f.request_id.clone(),
            kind: f.kind.into(),
            trace_no: f.trace_no,
            amount: f.amount,
            currency,
            status: EntryStatus::Unknown,
            response_code: None,
            rrn: None,
            auth_code: None,
            masked_pan: f.masked_pan,
            original_trace_no: f.original_trace_no,
            original_rrn: f.original_rrn,
            operator: f.operator,
            at: now.rfc3339(),
        });
        self.push_meta();
        self.events.push_back(Event::ReversalQueued {
            request_id: f.request_id,
        });
        journaled
    }

    // ----- replies -----------------------------------------------------------------------------

    /// Feeds the answer to the request last returned by [`Terminal::step`].
    pub fn handle_reply(&mut self, reply: Reply, now: Timestamp) {
        let Some(expect) = self.op.as_mut().and_then(|op| op.awaiting.take()) else {
            return;
        };
        if let Reply::Refused(e) = &reply {
            if e.code == ErrorCode::SessionExpired && expect != Expect::SignIn {
                // The host ended the session (sign-off elsewhere, cut-off, expiry). A
                // transaction refused this way was never booked: nothing to journal.
                if expect == Expect::Transaction {
                    self.meta.in_flight = None;
                }
                // A settlement refused before the host acted on it is dropped, so the next
                // settle starts afresh; one past its first answer (upload due) is kept.
                if expect == Expect::Settlement
                    && self
                        .meta
                        .settlement
                        .as_ref()
                        .is_some_and(|s| s.upload.is_none())
                {
                    self.meta.settlement = None;
                }
                self.end_session(SignOffReason::SessionExpired);
                self.finish(Err(e.clone()));
                return;
            }
        }
        match expect {
            Expect::Activate => match reply {
                Reply::Activated(resp) => {
                    self.meta.terminal_key = Some(resp.terminal_key);
                    self.push_meta();
                    self.finish(Ok(Completion::Activated));
                }
                other => self.fail_with(other),
            },
            Expect::SignIn => match reply {
                Reply::SignedIn(resp) => {
                    if let Err(e) = self.accept_sign_in(&resp) {
                        self.finish(Err(e));
                        return;
                    }
                    if let Some(Op {
                        goal: Goal::SignIn { response, .. },
                        ..
                    }) = self.op.as_mut()
                    {
                        *response = Some(Box::new(resp));
                    }
                }
                other => self.fail_with(other),
            },
            Expect::Reversal => self.handle_reversal_reply(reply, now),
            Expect::Settlement => self.handle_settlement_reply(reply, now),
            Expect::Transaction => self.handle_tx_reply(reply, now),
            Expect::SignOff => self.handle_sign_off_reply(reply),
        }
    }

    fn fail_with(&mut self, reply: Reply) {
        let error = match reply {
            Reply::Refused(e) => e,
            Reply::NoAnswer => Error::with_detail(
                ErrorCode::HostUnreachable,
                "the host did not answer; try again",
            ),
            _ => Error::with_detail(ErrorCode::Internal, "the host answered another request"),
        };
        self.finish(Err(error));
    }

    fn accept_sign_in(&mut self, resp: &SignInResponse) -> Result<(), Error> {
        let currency = Currency::parse(&resp.currency)?;
        if let Some(known) = &self.meta.currency {
            if known != currency.code() {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    format_args!("the host says {currency}, this terminal counts in {known}"),
                ));
            }
        }
        self.meta.currency = Some(currency.code().to_owned());
        self.meta.business_date = Some(resp.business_date.clone());
        // An older host says nothing: keep the clock we had (UTC on a new terminal).
        if let Some(offset) = resp.utc_offset_minutes.and_then(UtcOffset::from_minutes) {
            self.meta.utc_offset = offset;
        }
        self.meta.operator = Some(resp.operator.clone());
        self.meta.next_trace_no = resp.next_trace_no.clamp(1, MAX_SEQUENCE);
        // R14: batches closed at cut-off, and a leftover local batch the host has moved
        // past, are reconciled before anything else.
        let settling = self.meta.settlement.as_ref().map(|s| s.batch_no);
        for closed in &resp.closed_batches {
            if !self.meta.reconcile.contains(&closed.batch_no) && settling != Some(closed.batch_no)
            {
                self.meta.reconcile.push_back(closed.batch_no);
            }
        }
        let local = self.journal.batch_no();
        if local != resp.batch_no
            && self.journal.has_transactions()
            && !self.meta.reconcile.contains(&local)
            && settling != Some(local)
        {
            self.meta.reconcile.push_front(local);
        }
        self.session = Some(Session {
            token: resp.session_token.clone(),
            operator: resp.operator.clone(),
            batch_no: resp.batch_no,
        });
        self.push_meta();
        Ok(())
    }

    fn handle_reversal_reply(&mut self, reply: Reply, now: Timestamp) {
        match reply {
            Reply::Reversal(ack) => {
                let Some(rev) = self.meta.reversals.front().cloned() else {
                    return;
                };
                let answered = if ack.reversed { None } else { ack.transaction };
                let misfit = if ack.request_id != rev.request_id {
                    Some("the host acknowledged another reversal")
                } else if answered
                    .as_ref()
                    .is_some_and(|a| a.request_id != rev.request_id)
                {
                    Some("the host answered for another transaction")
                } else {
                    None
                };
                if let Some(misfit) = misfit {
                    self.housekeeping_failed(Error::with_detail(ErrorCode::Internal, misfit));
                    return;
                }
                // Journaled before it leaves the queue, so a journal that cannot take the
                // answer keeps the reversal for the next try.
                let stands = match self.journal_reversal_answer(&rev, answered.as_ref(), now) {
                    Ok(stands) => stands,
                    Err(e) => {
                        self.housekeeping_failed(e);
                        return;
                    }
                };
                self.meta.reversals.pop_front();
                self.push_meta();
                if let Some(op) = self.op.as_mut() {
                    op.reversal_tries = 0;
                }
                self.events.push_back(match stands {
                    Some(result) => Event::Transaction(result),
                    None => Event::Reversed {
                        request_id: rev.request_id,
                    },
                });
            }
            Reply::Refused(e) => self.housekeeping_failed(Error {
                code: ErrorCode::HostUnreachable,
                message: format!(
                    "{} (the host refused the reversal: {})",
                    ErrorCode::HostUnreachable.message_en(),
                    e.message
                ),
            }),
            _ => {
                let Some(op) = self.op.as_mut() else {
                    return;
                };
                op.reversal_tries += 1;
                if op.reversal_tries >= REVERSAL_TRIES {
                    self.housekeeping_failed(ErrorCode::HostUnreachable.into());
                }
            }
        }
    }

    /// R8: journals the host's answer to a reversal in the transaction's batch: `reversed`,
    /// or, when the host kept the transaction (it has an approved void or refund), its final
    /// answer, which the `unknown` entry then counts as. Returns that answer for the UI.
    fn journal_reversal_answer(
        &mut self,
        rev: &QueuedReversal,
        answered: Option<&TransactionResponse>,
        now: Timestamp,
    ) -> Result<Option<TxResult>, Error> {
        if rev.batch_no != self.journal.batch_no() {
            return Ok(None);
        }
        let original = self.journal.by_request(&rev.request_id).cloned();
        let currency = self.currency_code();
        let (status, response_code, rrn, auth_code) = match answered {
            Some(a) => (
                match a.status {
                    TxStatus::Approved => EntryStatus::Approved,
                    TxStatus::Declined => EntryStatus::Declined,
                },
                Some(a.response_code.clone()),
                a.rrn.clone(),
                a.auth_code.clone(),
            ),
            None => (EntryStatus::Reversed, None, None, None),
        };
        self.append(EntryDraft {
            request_id: rev.request_id.clone(),
            kind: EntryKind::Reversal,
            trace_no: rev.trace_no,
            amount: rev.amount,
            currency: currency.clone(),
            status,
            response_code,
            rrn,
            auth_code,
            masked_pan: original.as_ref().and_then(|e| e.masked_pan.clone()),
            original_trace_no: None,
            original_rrn: None,
            operator: original
                .as_ref()
                .map(|e| e.operator.clone())
                .unwrap_or_default(),
            at: original.as_ref().map(|e| e.at.clone()).unwrap_or_default(),
        })?;
        let (Some(a), Some(kind)) = (answered, original.as_ref().and_then(|e| tx_kind(e.kind)))
        else {
            return Ok(None);
        };
        Ok(Some(TxResult {
            kind,
            status: a.status,
            response_code: a.response_code.clone(),
            message: a.message.clone(),
            trace_no: rev.trace_no,
            batch_no: rev.batch_no,
            rrn: a.rrn.clone(),
            auth_code: a.auth_code.clone(),
            amount: rev.amount,
            currency,
            masked_pan: original.and_then(|e| e.masked_pan),
            at: now.rfc3339(),
        }))
    }

    fn handle_settlement_reply(&mut self, reply: Reply, now: Timestamp) {
        let Some(pending) = self.meta.settlement.clone() else {
            return;
        };
        match reply {
            Reply::Settlement(resp) if resp.batch_no == pending.batch_no => {
                if resp.outcome == Outcome::Balanced {
                    self.close_settlement(
                        pending,
                        Outcome::Balanced,
                        resp.host_totals,
                        Vec::new(),
                        resp.next_batch_no,
                        now,
                    );
                } else {
                    // 对账不平: the batch upload goes at once; written ahead so a reload
                    // finishes it first.
                    self.meta.settlement = Some(PendingSettlement {
                        upload: Some(PendingUpload {
                            host_totals: resp.host_totals,
                            next_batch_no: resp.next_batch_no,
                        }),
                        ..pending
                    });
                    self.push_meta();
                }
            }
            Reply::Upload(resp) if resp.batch_no == pending.batch_no => {
                self.close_settlement(
                    pending,
                    resp.outcome,
                    resp.host_totals,
                    resp.discrepancies,
                    resp.next_batch_no,
                    now,
                );
            }
            Reply::Refused(e) => {
                // A definite no: the same request would be refused again, so it is dropped
                // and the operator sees why. Settling again starts afresh.
                self.meta.settlement = None;
                self.push_meta();
                self.housekeeping_failed(e.clone());
                self.finish_if_main(Err(e));
            }
            Reply::NoAnswer => {
                // Kept: the next operation finishes it first, with the same request id (R9).
                let e = Error::from(ErrorCode::HostUnreachable);
                self.housekeeping_failed(e.clone());
                self.finish_if_main(Err(e));
            }
            _ => {
                let e = Error::with_detail(ErrorCode::Internal, "the host answered another batch");
                self.housekeeping_failed(e.clone());
                self.finish_if_main(Err(e));
            }
        }
    }

    /// Fails the operation only if its goal (not housekeeping) was under way.
    fn finish_if_main(&mut self, result: Result<Completion, Error>) {
        if let Some(op) = self.op.as_mut() {
            if op.main && op.result.is_none() && !matches!(op.goal, Goal::SignIn { .. }) {
                op.result = Some(result);
            }
        }
    }

    fn close_settlement(
        &mut self,
        pending: PendingSettlement,
        outcome: Outcome,
        host_totals: BatchTotals,
        discrepancies: Vec<Discrepancy>,
        next_batch_no: u32,
        now: Timestamp,
    ) {
        let result = SettlementResult {
            batch_no: pending.batch_no,
            outcome,
            terminal_totals: pending.terminal_totals,
            host_totals,
            discrepancies,
            next_batch_no,
            settled_at: now.rfc3339(),
        };
        self.meta.settlement = None;
        self.meta.reconcile.retain(|b| *b != pending.batch_no);
        if pending.batch_no == self.journal.batch_no() {
            let mut traces = self
                .journal
                .entries()
                .iter()
                .filter(|e| e.kind != EntryKind::Reversal)
                .map(|e| e.trace_no);
            if let Some(first_trace) = traces.next() {
                let last_trace = traces.next_back().unwrap_or(first_trace);
                self.meta.recent_settled.push(SettledRange {
                    batch_no: pending.batch_no,
                    first_trace,
                    last_trace,
                });
                let excess = self
                    .meta
                    .recent_settled
                    .len()
                    .saturating_sub(RECENT_SETTLED);
                self.meta.recent_settled.drain(..excess);
            }
            // The batch's reversals went first (housekeeping), so none is left for it.
            self.switch_batch(next_batch_no);
            if self
                .recovery
                .as_ref()
                .is_some_and(|r| r.kind == RecoveryKind::NotSettled)
            {
                self.recovery = None;
            }
        }
        self.meta.last_settlement = Some(result.clone());
        self.push_meta();
        self.events.push_back(Event::Settled(result.clone()));
        if let Some(op) = self.op.as_mut() {
            if op.own.is_for(result.batch_no)
                && matches!(op.goal, Goal::Settle { .. } | Goal::SignOff { .. })
            {
                op.own = OwnSettlement::Done(Box::new(result.clone()));
            }
            op.settled.push(result);
        }
    }

    fn handle_tx_reply(&mut self, reply: Reply, now: Timestamp) {
        let sent = match self.op.as_mut() {
            Some(Op {
                goal: Goal::Tx(plan),
                ..
            }) => plan.sent.clone(),
            _ => None,
        };
        let (Some(sent), Some(in_flight)) = (sent, self.meta.in_flight.clone()) else {
            self.finish(Err(ErrorCode::Internal.into()));
            return;
        };
        match reply {
            Reply::Transaction(resp) if resp.request_id == sent.request_id => {
                let status = match resp.status {
                    TxStatus::Approved => EntryStatus::Approved,
                    TxStatus::Declined => EntryStatus::Declined,
                };
                let at = now.rfc3339();
                let journaled = self.append(EntryDraft {
                    request_id: sent.request_id.clone(),
                    kind: sent.kind.into(),
                    trace_no: sent.trace_no,
                    amount: sent.amount,
                    currency: sent.currency.clone(),
                    status,
                    response_code: Some(resp.response_code.clone()),
                    rrn: resp.rrn.clone(),
                    auth_code: resp.auth_code.clone(),
                    masked_pan: in_flight.masked_pan.clone(),
                    original_trace_no: in_flight.original_trace_no,
                    original_rrn: in_flight.original_rrn.clone(),
                    operator: in_flight.operator.clone(),
                    at: at.clone(),
                });
                if let Err(e) = journaled {
                    // The journal's restored totals are forged and cannot count it: it is
                    // reversed rather than booked on the host alone.
                    let _queued = self.lose_answer(in_flight, now);
                    self.finish(Err(e));
                    return;
                }
                self.meta.in_flight = None;
                self.push_meta();
                let result = TxResult {
                    kind: sent.kind,
                    status: resp.status,
                    response_code: resp.response_code,
                    message: resp.message,
                    trace_no: sent.trace_no,
                    batch_no: self.journal.batch_no(),
                    rrn: resp.rrn,
                    auth_code: resp.auth_code,
                    amount: sent.amount,
                    currency: sent.currency,
                    masked_pan: in_flight.masked_pan,
                    at,
                };
                self.events.push_back(Event::Transaction(result.clone()));
                self.finish(Ok(Completion::Transaction(result)));
            }
            Reply::Refused(e) => {
                // 4xx: the host booked nothing, so there is nothing to journal or reverse.
                self.meta.in_flight = None;
                self.push_meta();
                self.finish(Err(e));
            }
            _ => {
                // No answer, or one that is not for this request: R8.
                if let Err(e) = self.lose_answer(in_flight, now) {
                    self.finish(Err(e));
                    return;
                }
                self.finish(Err(Error {
                    code: ErrorCode::HostUnreachable,
                    message: "No answer from the host; the transaction will be reversed".into(),
                }));
            }
        }
    }

    fn handle_sign_off_reply(&mut self, reply: Reply) {
        let Some(op) = self.op.as_mut() else {
            return;
        };
        match (&mut op.goal, reply) {
            (Goal::SignOff { reason, .. }, Reply::SignedOff(resp)) => {
                let reason = *reason;
                let settlement = op.own.done().cloned();
                self.end_session(reason);
                self.recovery = None;
                self.finish(Ok(Completion::SignedOff(SignOffResult {
                    signed_off_at: resp.signed_off_at,
                    settlement,
                })));
            }
            (Goal::Settle { signed_off, .. }, Reply::SignedOff(_)) => {
                *signed_off = true;
                self.end_session(SignOffReason::AfterSettle);
                self.recovery = None;
            }
            (Goal::Settle { then_sign_off, .. }, _) => {
                // The settlement stands; only the automatic sign-off failed. The operator
                // stays signed in and can sign off by hand.
                *then_sign_off = false;
            }
            (_, other) => self.fail_with(other),
        }
    }

    fn end_session(&mut self, reason: SignOffReason) {
        let had_session = self.session.take().is_some();
        if had_session || self.meta.operator.is_some() {
            self.meta.operator = None;
            self.push_meta();
            self.events.push_back(Event::SignedOff { reason });
        }
    }
}

fn sign_off_call(auth: Auth, new_id: &mut dyn FnMut() -> String) -> Outgoing {
    Outgoing {
        call: Call::SignOff(SignOffRequest {
            request_id: Some(new_id()),
            // The terminal settles through `POST /v1/settlements` itself, first.
            settle: Some(false),
        }),
        auth,
    }
}

fn require_supervisor(password: String) -> Result<String, Error> {
    if password.is_empty() {
        Err(ErrorCode::SupervisorRequired.into())
    } else {
        Ok(password)
    }
}

/// The next trace or batch number: 1..=999 999, wrapping to 1.
pub fn next_sequence(n: u32) -> u32 {
    if n >= MAX_SEQUENCE {
        1
    } else {
        n + 1
    }
}
