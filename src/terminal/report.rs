//! What the terminal reports: the answer each operation finishes with, and the events the UI
//! may show as they happen.

use crate::protocol::{AcquirerVerdict, BatchTotals, Discrepancy, Outcome, TxKind, TxStatus};
use crate::terminal::State;
use serde::{Deserialize, Serialize};

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
    /// The storefront's order reference, as the host's answer echoed it (R23).
    #[serde(default)]
    pub reference: Option<String>,
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
    /// The acquirer's verdict on the host's record of the batch, as the host's answer gave it
    /// (R11's second level; `pending` until the acquirer answers); `None` from a host that
    /// does not say.
    #[serde(default)]
    pub acquirer_outcome: Option<AcquirerVerdict>,
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
