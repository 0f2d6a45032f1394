//! The wire types of the host's HTTP API (CONTRACT.md section 4), one definition for the
//! terminal and the host so the two sides cannot drift.
//!
//! Everything is JSON with snake_case names. Amounts are integers of the currency's minor
//! unit. Secrets (PAN, expiry, passwords, tokens) have a `Debug` that redacts them, so a
//! `tracing` line or a panic message can never carry one.

use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `POST /v1/activate`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// 15-digit merchant id.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[0-9]{15}$", example = "898310048160001")
    )]
    pub merchant_id: String,
    /// 8-character terminal id.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[0-9A-Za-z]{8}$", example = "10000001")
    )]
    pub terminal_id: String,
    /// The single-use code printed by `softpos-host terminal add`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub activation_code: String,
}

/// Answer to `POST /v1/activate`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivateResponse {
    /// The terminal's long-lived credential for `POST /v1/sign-in`.
    pub terminal_key: String,
}

/// `POST /v1/sign-in`, authorised with the terminal key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// `"01"`..`"99"`, or `"00"` for the supervisor.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{2}$", example = "01"))]
    pub operator: String,
    /// The operator's password.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

/// A batch the host closed at cut-off since the terminal last settled (R14, R15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosedBatch {
    /// The batch number.
    pub batch_no: u32,
    /// Its business date, `YYYY-MM-DD`.
    pub business_date: String,
    /// What the host counted in it.
    pub host_totals: BatchTotals,
}

/// Answer to `POST /v1/sign-in`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    /// Bearer token for every session call; never persisted by the terminal.
    pub session_token: String,
    /// When the session ends at the latest (RFC 3339).
    pub expires_at: String,
    /// The operator signed in.
    pub operator: String,
    /// The host's business date, `YYYY-MM-DD`.
    pub business_date: String,
    /// The terminal's open batch on the host.
    pub batch_no: u32,
    /// The next trace number the host expects from this terminal.
    pub next_trace_no: u32,
    /// The terminal's currency (ISO 4217).
    pub currency: String,
    /// Batches the host closed at cut-off since the last settlement.
    pub closed_batches: Vec<ClosedBatch>,
    /// The host's time zone (IANA name, `Asia/Shanghai`), where its business day runs.
    /// Absent from hosts before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Asia/Shanghai"))]
    pub timezone: Option<String>,
    /// That zone's offset from UTC now, in minutes east (`480` for UTC+8): every date the
    /// terminal shows or compares is on this clock (R4, R14, R21). Absent from older hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -1080, maximum = 1080, example = 480))]
    pub utc_offset_minutes: Option<i32>,
}

/// What a transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    /// 消费
    Sale,
    /// 撤销
    Void,
    /// 退货
    Refund,
}

impl TxKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Sale => "sale",
            TxKind::Void => "void",
            TxKind::Refund => "refund",
        }
    }
}

/// Card data as keyed in. Only ever in flight: never stored, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardData {
    /// The full card number, digits only (13 to 19, passing the Luhn check).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[0-9]{13,19}$", example = "4111111111111111")
    )]
    pub pan: String,
    /// `MM/YY`, not in the past.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(0[1-9]|1[0-2])/[0-9]{2}$", example = "12/30")
    )]
    pub expiry: String,
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardData { .. }")
    }
}

/// The transaction a void or refund refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OriginalRef {
    /// A void names the sale by its trace number in the open batch.
    Trace {
        /// The sale's trace number.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999_999))]
        trace_no: u32,
    },
    /// A refund names the sale by its RRN.
    Rrn {
        /// The sale's RRN.
        #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9A-Za-z]{12}$"))]
        rrn: String,
    },
}

/// `POST /v1/transactions`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransactionRequest {
    /// UUID v4, persisted by the terminal before sending (R9, R18).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub request_id: String,
    /// Sale, void or refund.
    pub kind: TxKind,
    /// The terminal's trace number for this transaction.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999_999))]
    pub trace_no: u32,
    /// Minor units (R3).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99_999_999_999_i64))]
    pub amount: i64,
    /// ISO 4217 code; must be the terminal's.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(CNY|HKD|USD|EUR|GBP|JPY|KRW|KWD)$", example = "CNY")
    )]
    pub currency: String,
    /// For a sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardData>,
    /// For a void or refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<OriginalRef>,
    /// For a void or refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub supervisor_password: Option<String>,
}

impl fmt::Debug for TransactionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionRequest")
            .field("request_id", &self.request_id)
            .field("kind", &self.kind)
            .field("trace_no", &self.trace_no)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("original", &self.original)
            .finish_non_exhaustive()
    }
}

/// Whether the issuer approved a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// Response code `00`.
    Approved,
    /// Any other response code.
    Declined,
}

/// Answer to `POST /v1/transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransactionResponse {
    /// Echo of the request's id.
    pub request_id: String,
    /// Approved or declined.
    pub status: TxStatus,
    /// ISO 8583 response code, `00` when approved.
    pub response_code: String,
    /// The response code's meaning.
    pub message: String,
    /// Retrieval reference number, unique per merchant.
    pub rrn: Option<String>,
    /// Issuer's authorisation code when approved.
    pub auth_code: Option<String>,
    /// The batch the host booked it in.
    pub batch_no: u32,
    /// Echo of the trace number.
    pub trace_no: u32,
    /// First 6 and last 4 digits of the card.
    pub masked_pan: Option<String>,
    /// The host's clock (RFC 3339).
    pub host_time: String,
}

/// `POST /v1/reversals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    /// The request id of the transaction to reverse.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub request_id: String,
}

/// Answer to `POST /v1/reversals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReversalResponse {
    /// Echo.
    pub request_id: String,
    /// `true`: the transaction is undone. `false`: nothing was undone, either because the host
    /// never saw the transaction, or because it stands (see `transaction`).
    pub reversed: bool,
    /// When `reversed` is `false` and the host booked the transaction: its answer, which
    /// stands (R8: a transaction with an approved void or refund is not reversed; its batch
    /// may also be settled already). The terminal journals and counts it as this answer says.
    /// Absent from hosts that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionResponse>,
}

/// A count and a sum of minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    /// How many.
    pub count: u64,
    /// Sum, minor units.
    pub amount: i64,
}

/// The totals of one batch (R10).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Approved voids.
    pub void: Totals,
    /// Approved refunds.
    pub refund: Totals,
    /// `sale − void − refund`.
    pub net_amount: i64,
}

/// Where a batch is on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Taking transactions.
    Open,
    /// Settled unbalanced; the host waits for the terminal's journal.
    AwaitingUpload,
    /// Settled by the terminal.
    Settled,
    /// Closed by the host at cut-off, not yet reconciled by the terminal.
    ClosedByHost,
}

/// Answer to `GET /v1/batches/current`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentBatchResponse {
    /// The open batch.
    pub batch_no: u32,
    /// Its business date.
    pub business_date: String,
    /// Its state.
    pub status: BatchStatus,
    /// What the host counted in it.
    pub host_totals: BatchTotals,
}

/// `POST /v1/settlements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettlementRequest {
    /// UUID v4 (R9): a retried settlement answers what the first one did.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub request_id: String,
    /// The batch to settle.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999_999))]
    pub batch_no: u32,
    /// What the terminal counted.
    pub terminal_totals: BatchTotals,
}

/// Balanced [对账平] or not [对账不平] (R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Both sides counted the same.
    Balanced,
    /// They did not; the batch upload says where.
    Unbalanced,
}

/// Answer to `POST /v1/settlements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettlementResponse {
    /// The batch settled.
    pub batch_no: u32,
    /// Balanced or not; when unbalanced the terminal uploads its journal next.
    pub outcome: Outcome,
    /// What the host counted.
    pub host_totals: BatchTotals,
    /// The terminal's next batch.
    pub next_batch_no: u32,
}

/// What a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// 消费
    Sale,
    /// 撤销
    Void,
    /// 退货
    Refund,
    /// 冲正 acknowledged by the host; `request_id` names the transaction it undid.
    Reversal,
}

impl From<TxKind> for EntryKind {
    fn from(kind: TxKind) -> Self {
        match kind {
            TxKind::Sale => EntryKind::Sale,
            TxKind::Void => EntryKind::Void,
            TxKind::Refund => EntryKind::Refund,
        }
    }
}

/// The status a journal entry was written with.
///
/// Entries are immutable once hashed (R19): a later void or reversal is an entry of its own,
/// and the current status of a sale (`voided`, `reversed`) is derived from the entries after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Approved by the issuer; counts in the totals.
    Approved,
    /// Declined; counts nowhere.
    Declined,
    /// No definite answer; a reversal is queued; counts nowhere.
    Unknown,
    /// Undone by a reversal; counts nowhere.
    Reversed,
    /// A sale undone by an approved void (derived, never written).
    Voided,
}

/// One line of the batch journal, as stored by the terminal and uploaded in a batch upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// Position in the batch, from 1.
    pub seq: u32,
    /// The request id of the transaction (for a reversal: of the transaction undone).
    pub request_id: String,
    /// What happened.
    pub kind: EntryKind,
    /// The transaction's trace number.
    pub trace_no: u32,
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
    pub original_trace_no: Option<u32>,
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

/// `POST /v1/settlements/{batch_no}/upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// UUID v4 (R9).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub request_id: String,
    /// The whole batch journal, oldest first, with hashes.
    pub entries: Vec<JournalEntry>,
}

/// How the two records of one transaction differ (R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// The host booked it; the terminal has no record.
    MissingOnTerminal,
    /// The terminal has it; the host has no record.
    MissingOnHost,
    /// Both have it with different amounts.
    AmountMismatch,
    /// Both have it; one counts it and the other does not.
    StatusMismatch,
}

/// One difference found by the batch upload; the host's record is the one that stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discrepancy {
    /// The transaction's request id.
    pub request_id: String,
    /// Its trace number.
    pub trace_no: u32,
    /// How the records differ.
    pub kind: DiscrepancyKind,
}

/// Answer to the batch upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    /// The batch.
    pub batch_no: u32,
    /// Always `unbalanced` when an upload was needed, unless the journal proved both equal.
    pub outcome: Outcome,
    /// What the host counted; this stands.
    pub host_totals: BatchTotals,
    /// Every difference.
    pub discrepancies: Vec<Discrepancy>,
    /// The terminal's next batch.
    pub next_batch_no: u32,
}

/// `POST /v1/sign-off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignOffRequest {
    /// UUID v4 (R9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub request_id: Option<String>,
    /// `false`: the batch stays open until cut-off. `true`: the host refuses while the open
    /// batch has unsettled transactions (the terminal settles first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle: Option<bool>,
}

/// Answer to `POST /v1/sign-off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOffResponse {
    /// When the session ended (RFC 3339).
    pub signed_off_at: String,
}

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A code of the contract and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// One of the contract's codes.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

/// Answer to `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `true` when the host answers.
    pub ok: bool,
}

// ----- what the host checks before it touches its database --------------------------------
//
// One place for the shape of every request body, so the host, its fuzz target
// (fuzz/fuzz_targets/request_bodies.rs) and the OpenAPI schema above cannot drift apart. A
// request that passes is well-formed; whether it is allowed (a live session, an open batch, a
// sale to void) is the ledger's question. Every refusal is a 4xx code of the contract.

/// Largest trace and batch number (CONTRACT.md section 1).
pub const MAX_SEQUENCE: u32 = 999_999;

/// A UUID in its hyphenated form (`8-4-4-4-12` hex digits), the form the terminal sends (R9).
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn check_request_id(id: &str) -> Result<(), Error> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(Error::with_detail(
            ErrorCode::BadRequest,
            "request_id must be a UUID",
        ))
    }
}

fn check_sequence(name: &str, n: u32) -> Result<(), Error> {
    if (1..=MAX_SEQUENCE).contains(&n) {
        Ok(())
    } else {
        Err(Error::with_detail(
            ErrorCode::BadRequest,
            format_args!("{name} must be 1..={MAX_SEQUENCE}"),
        ))
    }
}

/// One of the currencies a terminal can be provisioned with (the schema's `currency` pattern).
fn check_currency(code: &str) -> Result<(), Error> {
    crate::terminal::money::Currency::parse(code).map(|_| ())
}

fn all_bytes(text: &str, len: usize, ok: fn(&u8) -> bool) -> bool {
    text.len() == len && text.as_bytes().iter().all(ok)
}

impl ActivateRequest {
    /// Ids of the wrong shape match no terminal: the same `BAD_CREDENTIALS` as a wrong code,
    /// so the answer tells nothing about which terminals exist. Refusing them before the query
    /// also keeps bytes such as NUL, which PostgreSQL answers with a 500, out of the database.
    pub fn check(&self) -> Result<(), Error> {
        if all_bytes(&self.merchant_id, 15, u8::is_ascii_digit)
            && all_bytes(&self.terminal_id, 8, u8::is_ascii_alphanumeric)
        {
            Ok(())
        } else {
            Err(Error::with_detail(
                ErrorCode::BadCredentials,
                "unknown, used or expired activation code",
            ))
        }
    }
}

impl SignInRequest {
    /// An operator is two digits; anything else is an operator nobody has (R16).
    pub fn check(&self) -> Result<(), Error> {
        if all_bytes(&self.operator, 2, u8::is_ascii_digit) {
            Ok(())
        } else {
            Err(ErrorCode::BadCredentials.into())
        }
    }
}

impl TransactionRequest {
    /// R3, R4 and R9 on the request alone. The expiry is checked for its form only: whether it
    /// is past depends on the clock, and a retried sale must get its stored answer (R9) even
    /// after the card's month ended, so the ledger checks that after the idempotency lookup.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)?;
        check_sequence("trace_no", self.trace_no)?;
        crate::terminal::money::Amount::new(self.amount)?;
        check_currency(&self.currency)?;
        match (self.kind, &self.original) {
            (TxKind::Sale, _) => {
                let card = self.card.as_ref().ok_or_else(|| {
                    Error::with_detail(ErrorCode::InvalidCard, "a sale needs a card")
                })?;
                crate::terminal::card::Pan::parse(&card.pan)?;
                // Timestamp 0 is 1970: no well-formed MM/YY is before it.
                crate::terminal::card::Expiry::parse(
                    &card.expiry,
                    crate::terminal::time::Timestamp(0),
                )?;
            }
            (TxKind::Void, Some(OriginalRef::Trace { trace_no })) => {
                check_sequence("original.trace_no", *trace_no)?;
            }
            (TxKind::Refund, Some(OriginalRef::Rrn { rrn })) => {
                // An RRN is 12 ASCII letters or digits (the host's rrn_of); anything else names
                // no sale, and a NUL, which PostgreSQL answers with a 500, never reaches a query.
                if !all_bytes(rrn, 12, u8::is_ascii_alphanumeric) {
                    return Err(ErrorCode::UnknownTransaction.into());
                }
            }
            _ => {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    "a void names original.trace_no, a refund original.rrn",
                ))
            }
        }
        if self.kind != TxKind::Sale && self.supervisor_password.is_none() {
            return Err(ErrorCode::SupervisorRequired.into());
        }
        Ok(())
    }
}

impl ReversalRequest {
    /// R9: the id of the transaction to reverse.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)
    }
}

impl SettlementRequest {
    /// R9 and R11: a request id and a batch number in range.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)?;
        check_sequence("batch_no", self.batch_no)?;
        check_currency(&self.terminal_totals.currency)
    }
}

impl UploadRequest {
    /// R9; the hash chain (R19) needs the batch's genesis, which the ledger knows.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)
    }
}

impl SignOffRequest {
    /// R9: a request id, when one is sent.
    pub fn check(&self) -> Result<(), Error> {
        self.request_id.as_deref().map_or(Ok(()), check_request_id)
    }
}

/// Every route that takes a JSON body (the upload's `{batch_no}` as 1).
pub const BODY_ROUTES: [&str; 7] = [
    "/v1/activate",
    "/v1/sign-in",
    "/v1/transactions",
    "/v1/reversals",
    "/v1/settlements",
    "/v1/settlements/1/upload",
    "/v1/sign-off",
];

/// Decodes a request body as the host does (`serde_json`, unknown fields refused) and checks
/// it: what the host does with a body before it touches its database. `path` is the route
/// (`/v1/settlements/{batch_no}/upload` with its number). For the fuzz target and its corpus
/// test; an unknown path is `BAD_REQUEST`.
pub fn check_request_body(path: &str, body: &[u8]) -> Result<(), Error> {
    fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(body)
            .map_err(|_| Error::with_detail(ErrorCode::BadRequest, "malformed JSON body"))
    }
    match path {
        "/v1/activate" => decode::<ActivateRequest>(body)?.check(),
        "/v1/sign-in" => decode::<SignInRequest>(body)?.check(),
        "/v1/transactions" => decode::<TransactionRequest>(body)?.check(),
        "/v1/reversals" => decode::<ReversalRequest>(body)?.check(),
        "/v1/settlements" => decode::<SettlementRequest>(body)?.check(),
        "/v1/sign-off" => decode::<SignOffRequest>(body)?.check(),
        _ => {
            let batch_no = path
                .strip_prefix("/v1/settlements/")
                .and_then(|rest| rest.strip_suffix("/upload"))
                .ok_or_else(|| Error::with_detail(ErrorCode::BadRequest, "no such route"))?;
            check_upload_path(batch_no)?;
            decode::<UploadRequest>(body)?.check()
        }
    }
}

/// The `{batch_no}` of the upload route: a number in 1..=999999.
pub fn check_upload_path(batch_no: &str) -> Result<u32, Error> {
    let n = batch_no
        .parse()
        .map_err(|_| Error::with_detail(ErrorCode::BadRequest, "the batch number is 1..=999999"))?;
    check_sequence("batch_no", n)?;
    Ok(n)
}

macro_rules! redacted_debug {
    ($($ty:ident { $($shown:ident),* })*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    .finish_non_exhaustive()
            }
        }
    )*};
}

redacted_debug! {
    ActivateRequest { merchant_id, terminal_id }
    ActivateResponse {}
    SignInRequest { operator }
    SignInResponse { operator, business_date, batch_no, next_trace_no, currency, closed_batches }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_debug_never_shows_card_or_password() {
        let req = TransactionRequest {
            request_id: "r".into(),
            kind: TxKind::Sale,
            trace_no: 1,
            amount: 100,
            currency: "CNY".into(),
            card: Some(CardData {
                pan: "6212345678901232".into(),
                expiry: "12/30".into(),
            }),
            original: None,
            supervisor_password: Some("s3cret".into()),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("6212345678901232"), "{shown}");
        assert!(!shown.contains("12/30"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let sign_in = SignInRequest {
            operator: "01".into(),
            password: "pw123456".into(),
        };
        assert!(!format!("{sign_in:?}").contains("pw123456"));
    }

    #[test]
    fn original_ref_is_either_form() {
        let t: OriginalRef = serde_json::from_str(r#"{"trace_no": 7}"#).unwrap();
        assert_eq!(t, OriginalRef::Trace { trace_no: 7 });
        let r: OriginalRef = serde_json::from_str(r#"{"rrn": "000000000001"}"#).unwrap();
        assert_eq!(
            r,
            OriginalRef::Rrn {
                rrn: "000000000001".into()
            }
        );
    }
}
