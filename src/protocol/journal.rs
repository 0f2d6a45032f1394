//! What both sides count and keep: kinds, totals, the journal entry and the reconciliation's
//! findings.

use crate::ids::{RequestId, TraceNo};
use crate::protocol::shape::wire;

wire! {
    /// What a transaction does.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TxKind {
        /// 消费
        Sale = "sale",
        /// 撤销
        Void = "void",
        /// 退货
        Refund = "refund",
        /// 预授权 (R20): a hold; counts in no total.
        Preauth = "preauth",
        /// 预授权撤销 (R20): releases a hold; counts in no total.
        PreauthVoid = "preauth_void",
        /// 预授权完成 (R20): turns a hold into a sale; counts in `completion`.
        Completion = "completion",
        /// 预授权完成撤销 (R20): voids a completion; counts in `void`.
        CompletionVoid = "completion_void",
    }

    /// Whether the issuer approved a transaction.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TxStatus {
        /// Response code `00`.
        Approved = "approved",
        /// Any other response code.
        Declined = "declined",
    }

    /// A count and a sum of minor units.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub struct Totals {
        /// How many.
        pub count: u64,
        /// Sum, minor units.
        pub amount: i64,
    }

    /// The totals of one batch (R10).
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct BatchTotals {
        /// The batch.
        pub batch_no: u32,
        /// ISO 4217 code.
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = r"^(CNY|HKD|USD|EUR|GBP|JPY|KRW|KWD)$")
        )]
        pub currency: String,
        /// Approved sales, voided ones included.
        pub sale: Totals,
        /// Approved voids, completion voids included (R20).
        pub void: Totals,
        /// Approved refunds.
        pub refund: Totals,
        /// `sale + completion − void − refund`.
        pub net_amount: i64;
        /// Approved pre-authorisation completions, voided ones included (R20). Absent only in
        /// totals recorded before completions existed, and then zero.
        pub completion: Option<Totals>,
        /// The same lines for domestic cards (UnionPay, BIN 62) (R21). Absent only in totals
        /// recorded before the split, and then not compared.
        pub domestic: Option<Box<SchemeTotals>>,
        /// The same lines for foreign cards (Visa, Mastercard, Amex, JCB, any other) (R21).
        pub foreign: Option<Box<SchemeTotals>>,
    }

    /// One half of a batch's totals, by where the card comes from (R21); the two halves sum to
    /// the batch's lines.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub struct SchemeTotals {
        /// Approved sales, voided ones included.
        pub sale: Totals,
        /// Approved completions, voided ones included.
        pub completion: Totals,
        /// Approved voids and completion voids.
        pub void: Totals,
        /// Approved refunds.
        pub refund: Totals,
        /// `sale + completion − void − refund`.
        pub net_amount: i64,
    }

    /// Where a card comes from, for the split of totals a bank POS prints (R21).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum CardOrigin {
        /// UnionPay, BIN 62 [内卡].
        #[default]
        Domestic = "domestic",
        /// Visa, Mastercard, Amex, JCB and any other [外卡].
        Foreign = "foreign",
    }

    /// Where a batch is on the host.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BatchStatus {
        /// Taking transactions.
        Open = "open",
        /// Settled unbalanced; the host waits for the terminal's journal.
        AwaitingUpload = "awaiting_upload",
        /// Settled by the terminal.
        Settled = "settled",
        /// Closed by the host at cut-off, not yet reconciled by the terminal.
        ClosedByHost = "closed_by_host",
    }

    /// Balanced [对账平] or not [对账不平] (R11).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Outcome {
        /// Both sides counted the same.
        Balanced = "balanced",
        /// They did not; the batch upload says where.
        Unbalanced = "unbalanced",
    }

    /// The acquirer's verdict on the host's record of a batch: the second level of
    /// reconciliation (R11), the host against its acquirer, whose record stands toward the
    /// host. It changes nothing the terminal counted.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AcquirerVerdict {
        /// The acquirer counted what the host counted.
        Balanced = "balanced",
        /// It did not; the host has uploaded the batch's transactions to it.
        Unbalanced = "unbalanced",
        /// The acquirer answered that it could not settle the batch.
        Error = "error",
        /// No answer from the acquirer yet; the host keeps asking.
        Pending = "pending",
    }

    /// What a journal entry records.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EntryKind {
        /// 消费
        Sale = "sale",
        /// 撤销
        Void = "void",
        /// 退货
        Refund = "refund",
        /// 预授权 (R20).
        Preauth = "preauth",
        /// 预授权撤销 (R20).
        PreauthVoid = "preauth_void",
        /// 预授权完成 (R20).
        Completion = "completion",
        /// 预授权完成撤销 (R20).
        CompletionVoid = "completion_void",
        /// 冲正 acknowledged by the host; `request_id` names the transaction it undid.
        Reversal = "reversal",
    }

    /// The status a journal entry was written with.
    ///
    /// Entries are immutable once hashed (R19): a later void or reversal is an entry of its own,
    /// and the current status of a sale (`voided`, `reversed`) is derived from the entries after it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EntryStatus {
        /// Approved by the issuer; counts in the totals.
        Approved = "approved",
        /// Declined; counts nowhere.
        Declined = "declined",
        /// No definite answer; a reversal is queued; counts nowhere.
        Unknown = "unknown",
        /// Undone by a reversal; counts nowhere.
        Reversed = "reversed",
        /// A sale undone by an approved void (derived, never written).
        Voided = "voided",
    }

    /// One line of the batch journal, as stored by the terminal and uploaded in a batch upload.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    pub struct JournalEntry {
        /// Position in the batch, from 1.
        pub seq: u32,
        /// The request id of the transaction (for a reversal: of the transaction undone).
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// What happened.
        pub kind: EntryKind,
        /// The transaction's trace number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub trace_no: TraceNo,
        /// Minor units.
        pub amount: i64,
        /// ISO 4217.
        pub currency: String,
        /// The status when written.
        pub status: EntryStatus,
        /// Response code, when the host answered.
        pub response_code: Option<String>,
        /// RRN, when the host assigned one.
        pub rrn: Option<String>,
        /// Authorisation code, when approved.
        pub auth_code: Option<String>,
        /// First 6 and last 4 digits, never the full PAN (R4).
        pub masked_pan: Option<String>,
        /// For a void: the sale's trace number.
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = Option<u32>, minimum = 1, maximum = 999_999)
        )]
        pub original_trace_no: Option<TraceNo>,
        /// For a refund: the sale's RRN.
        pub original_rrn: Option<String>,
        /// The operator signed in.
        pub operator: String,
        /// When the entry was written (RFC 3339, UTC).
        pub at: String,
        /// The previous entry's hash (the batch's genesis hash for the first), hex.
        pub prev_hash: String,
        /// SHA-256 over the canonical bytes of this entry and `prev_hash`, hex (R19).
        pub hash: String,
    }

    /// How the two records of one transaction differ (R11).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DiscrepancyKind {
        /// The host booked it; the terminal has no record.
        MissingOnTerminal = "missing_on_terminal",
        /// The terminal has it; the host has no record.
        MissingOnHost = "missing_on_host",
        /// Both have it with different amounts.
        AmountMismatch = "amount_mismatch",
        /// Both have it; one counts it and the other does not.
        StatusMismatch = "status_mismatch",
    }

    /// One difference found by the batch upload; the host's record is the one that stands.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Discrepancy {
        /// The transaction's request id.
        #[cfg_attr(
            feature = "openapi",
            schema(
                value_type = String,
                pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            )
        )]
        pub request_id: RequestId,
        /// Its trace number.
        #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 999_999))]
        pub trace_no: TraceNo,
        /// How the records differ.
        pub kind: DiscrepancyKind,
    }
}

impl CardOrigin {
    /// From a card number, whole or masked (its first digits are kept): `62…` is domestic,
    /// any other number foreign. A line without a card (a void or refund journaled before the
    /// host named the card) counts as domestic, on both sides alike (docs/rules.md, R21).
    pub fn of_pan(pan: Option<&str>) -> CardOrigin {
        match pan {
            Some(p) if !p.starts_with("62") && !p.is_empty() => CardOrigin::Foreign,
            _ => CardOrigin::Domestic,
        }
    }
}

impl From<TxKind> for EntryKind {
    fn from(kind: TxKind) -> Self {
        match kind {
            TxKind::Sale => EntryKind::Sale,
            TxKind::Void => EntryKind::Void,
            TxKind::Refund => EntryKind::Refund,
            TxKind::Preauth => EntryKind::Preauth,
            TxKind::PreauthVoid => EntryKind::PreauthVoid,
            TxKind::Completion => EntryKind::Completion,
            TxKind::CompletionVoid => EntryKind::CompletionVoid,
        }
    }
}

impl TxKind {
    /// R6, R7, R20: a void, a refund, a pre-auth void and a completion void are authorised
    /// with the supervisor's password; a sale, a hold and a completion are not.
    pub fn needs_supervisor(self) -> bool {
        matches!(
            self,
            TxKind::Void | TxKind::Refund | TxKind::PreauthVoid | TxKind::CompletionVoid
        )
    }
}
