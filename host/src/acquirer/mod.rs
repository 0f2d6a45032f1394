//! The acquirer behind the host: every operation the host forwards upstream, as a trait, so
//! the built-in simulator (`simulator`) and a link to a real acquirer answer the same
//! questions. The requests carry what the ISO 8583 messages of the acquirer's POS dialect
//! need (docs/architecture.md, "The acquirer"); card data only inside [`Pan`] and [`Expiry`],
//! whose `Debug` masks them.
//!
//! Trace numbers (field 11): a sale, void or refund carries its terminal's own `trace_no`, and a
//! reversal its original's, so the acquirer can match them to the terminal's journal. The
//! messages the host makes on its own account (sign-in, settlement, batch upload, sign-off,
//! echo) carry [`host_trace`], one counter for the whole host: they are never reversed nor
//! matched to a journal, so only messages in flight at once need different numbers.

// The simulator reads little of a request (a sale's card number, a transaction's reference);
// the ISO 8583 link reads every field, and sends reversals and echoes. Until it is in, much of
// this room is read by nothing but `Debug`.
#![allow(dead_code)]

mod iso;
mod simulator;

pub use iso::{DesKey, IsoAcquirer, LinkMode, MacMode};
pub use simulator::AcquirerSimulator;

use softpos::ids::{BatchNo, TraceNo, MAX_SEQUENCE};
use softpos::protocol::{AcquirerVerdict, Totals, TxKind};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::Amount;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

/// The terminal a message is for, as the acquirer knows it (fields 41 and 42).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    /// 8 characters.
    pub terminal_id: String,
    /// 15 characters.
    pub merchant_id: String,
}

/// A sale (0200).
#[derive(Debug, Clone)]
pub struct Sale {
    /// Its terminal.
    pub terminal: Terminal,
    /// The terminal's trace number.
    pub trace: TraceNo,
    /// The batch it is booked in, as the acquirer knows it (60.2): the number the acquirer
    /// assigned the batch at sign-in, else the host's own (docs/architecture.md, "Batch
    /// numbers upstream"). So for every batch number of these requests.
    pub batch: BatchNo,
    /// Minor units.
    pub amount: Amount,
    /// ISO 4217 alphabetic (`CNY`); the link writes it numeric.
    pub currency: String,
    /// The card.
    pub pan: Pan,
    /// The card's expiry.
    pub expiry: Expiry,
    /// The host's number of the transaction (its row id): unique across the host's database
    /// for good. The acquirer's answer is matched by trace, not by this; the simulator makes
    /// its RRN of it (`simulator`).
    pub reference: i64,
}

/// The sale a void or refund undoes, as the acquirer answered it (fields 37, 38, 61).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Its RRN.
    pub rrn: Option<String>,
    /// Its authorisation code.
    pub auth_code: Option<String>,
    /// Its batch, as the acquirer knows it ([`Sale::batch`]).
    pub batch: BatchNo,
    /// Its trace number.
    pub trace: TraceNo,
    /// 61.3, `MMDD`: the acquirer's settlement date of it (field 15 of its answer); when the
    /// acquirer gave none, the day it was booked on the host's wall clock.
    pub date: String,
}

/// A void (0200, processing code 200000) or a refund (0220).
#[derive(Debug, Clone)]
pub struct Undo {
    /// Its terminal.
    pub terminal: Terminal,
    /// The terminal's trace number of the void or refund.
    pub trace: TraceNo,
    /// The batch it is booked in.
    pub batch: BatchNo,
    /// Minor units.
    pub amount: Amount,
    /// ISO 4217 alphabetic.
    pub currency: String,
    /// The sale it undoes.
    pub original: Original,
    /// The host's number of the void or refund, as for [`Sale::reference`].
    pub reference: i64,
}

/// A completion of a pre-authorisation (0200, 60.1 `20`): the card presented again, and the
/// hold it completes (38 and 61), which may be another terminal's of the same merchant (R20).
#[derive(Debug, Clone)]
pub struct Completion {
    /// The completion itself, as a sale is sent.
    pub sale: Sale,
    /// The pre-authorisation it completes.
    pub hold: Original,
}

/// Why a message is reversed (field 39 of the 0400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversalReason {
    /// `98`: no answer came.
    NoAnswer,
    /// `06`: any other reason.
    Other,
}

/// A reversal (0400) of a sale, void or refund whose outcome is unknown.
#[derive(Debug, Clone)]
pub struct Reversal {
    /// The message reversed.
    pub original: Box<Request>,
    /// Why.
    pub reason: ReversalReason,
}

/// Sign-in, sign-off or echo (0800 / 0820).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Management {
    /// Its terminal.
    pub terminal: Terminal,
    /// [`host_trace`].
    pub trace: TraceNo,
    /// The terminal's open batch as the acquirer knows it ([`Sale::batch`]); `None` when it
    /// has none yet (the host opens one with the sign-in).
    pub batch: Option<BatchNo>,
    /// The operator signing in or off (63.1); none for an echo.
    pub operator: Option<String>,
}

/// A settlement (0500): the host's totals of one batch (field 48).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Its terminal.
    pub terminal: Terminal,
    /// [`host_trace`].
    pub trace: TraceNo,
    /// The batch settled.
    pub batch: BatchNo,
    /// ISO 4217 alphabetic.
    pub currency: String,
    /// The operator who settled.
    pub operator: String,
    /// Sales less their voids.
    pub debit: Totals,
    /// Refunds.
    pub credit: Totals,
}

/// One transaction of a batch upload (0320 field 48). No card data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// Sale, void or refund.
    pub kind: TxKind,
    /// The terminal's trace number.
    pub trace: TraceNo,
    /// Minor units.
    pub amount: i64,
    /// The acquirer's RRN.
    pub rrn: String,
}

/// A batch upload (0320) after an unbalanced settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchUpload {
    /// Its terminal.
    pub terminal: Terminal,
    /// [`host_trace`].
    pub trace: TraceNo,
    /// The batch.
    pub batch: BatchNo,
    /// Up to 8 a message.
    pub records: Vec<UploadRecord>,
    /// The closing message of the upload (60.3 `202`), with no records.
    pub closing: bool,
}

/// What the host asks the acquirer.
#[derive(Debug, Clone)]
pub enum Request {
    /// An operator signs in on a terminal.
    SignIn(Management),
    /// A sale.
    Sale(Sale),
    /// A void.
    Void(Undo),
    /// A refund.
    Refund(Undo),
    /// A pre-authorisation (0100, R20).
    Preauth(Sale),
    /// A pre-authorisation void (0100), naming its hold.
    PreauthVoid(Undo),
    /// A completion (0200) of a hold.
    Completion(Completion),
    /// A completion void (0200), naming its completion.
    CompletionVoid(Undo),
    /// A reversal.
    Reversal(Reversal),
    /// A batch's totals.
    Settlement(Settlement),
    /// A batch's transactions, after an unbalanced settlement.
    BatchUpload(BatchUpload),
    /// An operator signs off.
    SignOff(Management),
    /// Whether the link is alive.
    Echo(Management),
}

impl Request {
    /// The card-present part of a sale, a pre-authorisation or a completion.
    pub fn with_card(&self) -> Option<&Sale> {
        match self {
            Request::Sale(s) | Request::Preauth(s) => Some(s),
            Request::Completion(c) => Some(&c.sale),
            _ => None,
        }
    }

    /// A void, refund, pre-auth void or completion void: what names its original.
    pub fn undo(&self) -> Option<&Undo> {
        match self {
            Request::Void(u)
            | Request::Refund(u)
            | Request::PreauthVoid(u)
            | Request::CompletionVoid(u) => Some(u),
            _ => None,
        }
    }
}

/// The acquirer's verdict on the host's totals of a batch (0510 field 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquirerOutcome {
    /// `1`: the acquirer's totals are the host's.
    Balanced,
    /// `2`: they differ; the batch upload follows.
    Unbalanced,
    /// `3`: the acquirer could not settle.
    Error,
}

impl AcquirerOutcome {
    /// As stored with the batch.
    pub fn as_str(self) -> &'static str {
        match self {
            AcquirerOutcome::Balanced => "balanced",
            AcquirerOutcome::Unbalanced => "unbalanced",
            AcquirerOutcome::Error => "error",
        }
    }

    /// As the terminal's settlement answers say it.
    pub fn verdict(self) -> AcquirerVerdict {
        match self {
            AcquirerOutcome::Balanced => AcquirerVerdict::Balanced,
            AcquirerOutcome::Unbalanced => AcquirerVerdict::Unbalanced,
            AcquirerOutcome::Error => AcquirerVerdict::Error,
        }
    }
}

/// The acquirer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It answered; what an operation has no use for is `None`.
    Answered {
        /// The response code (field 39), `00` when approved.
        code: String,
        /// The retrieval reference number (37).
        rrn: Option<String>,
        /// The authorisation code (38).
        auth_code: Option<String>,
        /// The acquirer's settlement date, `MMDD` (15).
        settlement_date: Option<String>,
        /// The batch number the acquirer assigns the terminal (60.2 of a sign-in's answer).
        batch: Option<BatchNo>,
        /// A settlement's verdict on the host's totals (48).
        outcome: Option<AcquirerOutcome>,
    },
    /// No answer, or one that leaves the outcome unknown: a timeout, a dropped connection,
    /// `94` or `98`.
    Unknown,
}

impl Answer {
    /// An answer with this code and nothing else.
    pub fn code(code: &str) -> Answer {
        Answer::Answered {
            code: code.to_owned(),
            rrn: None,
            auth_code: None,
            settlement_date: None,
            batch: None,
            outcome: None,
        }
    }

    /// Answered `00`.
    pub fn approved(&self) -> bool {
        matches!(self, Answer::Answered { code, .. } if code == "00")
    }
}

/// `MMDD` of a day written `YYYY-MM-DD` (61.3); a day written `MMDD` stays as it is.
pub fn mmdd(day: &str) -> String {
    let digits: Vec<char> = day.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// The meaning of a response code, for the answer's `message`.
pub fn response_message(code: &str) -> &'static str {
    match code {
        "00" => "Approved",
        "05" => "Do not honour",
        "51" => "Insufficient funds",
        "54" => "Expired card",
        "98" => "No answer from the acquirer",
        _ => "Declined",
    }
}

/// A boxed future, so the trait stays object safe.
pub type AnswerFuture<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// The acquirer: answers every operation the host forwards.
pub trait Acquirer: Send + Sync + 'static {
    /// Asks the acquirer; may take long, and must never block the thread it runs on. A link
    /// that gets no answer in time answers [`Answer::Unknown`].
    fn ask(&self, request: Request) -> AnswerFuture<'_>;

    /// The answer, when the acquirer gives it without waiting on anything (no network, no
    /// timer).
    ///
    /// `Some` lets the host book a sale, void or refund and its answer in one database
    /// transaction (one commit); the host calls it inside that transaction, so it must be
    /// quick. `None`, the default, means the answer may be slow: the host then books the
    /// transaction pending, asks [`Acquirer::ask`] outside any transaction and commits the
    /// answer after, so a slow acquirer holds no lock and a reversal can overtake it (R8). A
    /// real acquirer link answers `None`.
    fn decide_now(&self, request: &Request) -> Option<Answer> {
        let _ = request;
        None
    }
}

/// [`Acquirer::decide_now`], else [`Acquirer::ask`]: for a message the host sends outside
/// any database transaction.
pub async fn exchange(acquirer: &dyn Acquirer, request: Request) -> Answer {
    match acquirer.decide_now(&request) {
        Some(answer) => answer,
        None => acquirer.ask(request).await,
    }
}

/// The trace number of the next message the host sends on its own account: 1 to 999 999,
/// round and round.
pub fn host_trace() -> TraceNo {
    static SENT: AtomicU32 = AtomicU32::new(0);
    let n = SENT.fetch_add(1, Ordering::Relaxed);
    TraceNo::clamped(n % MAX_SEQUENCE + 1)
}
