//! The values of the status and kind columns as Rust enums, and the rows the rules read.
//!
//! A column holding a value no rule writes is a bad row: reading it is an error (logged as
//! `INTERNAL` where it surfaces), never a silent default. The schema's CHECK constraints
//! (migration 0004) list the same values.

use crate::error::{ApiError, ApiResult};
use softpos::ids::{BadId, BatchNo, RequestId, TraceNo};
use softpos::protocol::{CardOrigin, TxKind};
use softpos::terminal::settlement::{LedgerLine, LineStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A value in the database no rule writes: the row is bad, and reading it is an error.
pub fn bad_row(column: &str, value: &str) -> ApiError {
    ApiError::internal(format_args!("bad row: {column} is {value:?}"))
}

/// Declares a column's values: the enum, its text in the database and the parse back.
macro_rules! column_enum {
    ($(#[$doc:meta])* $name:ident in $column:literal {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The column's text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads the column's text; any other value is a bad row. (`answers.scope` is only
            /// ever written.)
            #[allow(dead_code)]
            pub fn parse(text: &str) -> ApiResult<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(bad_row($column, other)),
                }
            }
        }
    };
}

column_enum! {
    /// `transactions.status`.
    TxState in "transactions.status" {
        /// Booked, the issuer still deciding (R8: a reversal may overtake it).
        Pending = "pending",
        /// Counts.
        Approved = "approved",
        /// Answered, counts nowhere.
        Declined = "declined",
        /// Undone by a reversal, counts nowhere.
        Reversed = "reversed",
    }
}

column_enum! {
    /// `batches.status`.
    BatchState in "batches.status" {
        /// Takes transactions; one per terminal.
        Open = "open",
        /// Being settled, inside the settlement's own transaction.
        Settling = "settling",
        /// Settled unbalanced, waiting for the terminal's journal (R11).
        AwaitingUpload = "awaiting_upload",
        /// Done.
        Settled = "settled",
        /// Closed at the cut-off, not yet settled by the terminal (R15).
        ClosedByHost = "closed_by_host",
    }
}

column_enum! {
    /// `sessions.ended_by`.
    SessionEnd in "sessions.ended_by" {
        /// Another sign-in on the terminal.
        SignIn = "sign_in",
        /// The operator signed off (R12).
        SignOff = "sign_off",
        /// The cut-off (R15).
        Cutoff = "cutoff",
        /// The terminal was activated again.
        Activation = "activation",
        /// The merchant signed the terminal off from the console (R22).
        Console = "console",
    }
}

column_enum! {
    /// `answers.scope`: which kind of request an answer is kept for (R9).
    Scope in "answers.scope" {
        /// `POST /v1/transactions`.
        Tx = "tx",
        /// `POST /v1/settlements`.
        Settle = "settle",
        /// `POST /v1/settlements/{batch_no}/upload`.
        Upload = "upload",
        /// `POST /v1/sign-off`.
        SignOff = "sign_off",
    }
}

/// `transactions.kind`, the wire's [`TxKind`].
pub fn tx_kind(text: &str) -> ApiResult<TxKind> {
    match text {
        "sale" => Ok(TxKind::Sale),
        "void" => Ok(TxKind::Void),
        "refund" => Ok(TxKind::Refund),
        "preauth" => Ok(TxKind::Preauth),
        "preauth_void" => Ok(TxKind::PreauthVoid),
        "completion" => Ok(TxKind::Completion),
        "completion_void" => Ok(TxKind::CompletionVoid),
        other => Err(bad_row("transactions.kind", other)),
    }
}

/// A batch or trace number read from the database, checked as `N` ([`TraceNo`] or
/// [`BatchNo`]) checks it: out of range, the row is bad and reading it is an error, never a
/// silent 0.
pub fn number_column<N>(row: &AnyRow, column: &str) -> Result<N, sqlx::Error>
where
    N: TryFrom<i64, Error = BadId>,
{
    let n: i64 = row.try_get(column)?;
    N::try_from(n).map_err(|_| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{n} is not a batch or trace number (1..=999999)").into(),
    })
}

/// A request id read from the database, checked as [`RequestId`] checks it: every one was
/// checked as it came in, so one that does not fit is a bad row.
pub fn request_id_column(row: &AnyRow, column: &str) -> Result<RequestId, sqlx::Error> {
    let text: String = row.try_get(column)?;
    RequestId::try_from(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

/// A 0/1 flag column.
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// A transaction row, reduced to what the rules look at.
#[derive(Debug, Clone)]
pub struct TxRow {
    /// Row id.
    pub id: i64,
    /// What it does.
    pub kind: TxKind,
    /// Minor units.
    pub amount: i64,
    /// Where it stands.
    pub status: TxState,
    /// Voided (sales).
    pub voided: bool,
    /// Sum of approved refunds (sales).
    pub refunded_amount: i64,
    /// Masked PAN.
    pub masked_pan: Option<String>,
    /// The sale a void or refund undoes.
    pub original_id: Option<i64>,
    /// When it was booked.
    pub created_at: i64,
    /// Its terminal.
    pub terminal_ref: i64,
    /// Its batch.
    pub batch_id: i64,
    /// The terminal's trace number.
    pub trace_no: TraceNo,
    /// The acquirer's RRN, once answered.
    pub rrn: Option<String>,
    /// The acquirer's authorisation code, when approved.
    pub auth_code: Option<String>,
    /// The acquirer's settlement date, `MMDD`, when approved and the acquirer gave one.
    pub settlement_date: Option<String>,
    /// A hold (R20): the completion that completed it.
    pub completed_by: Option<i64>,
}

/// The columns `TxRow::from_row` reads.
pub const TX_COLUMNS: &str = "id, kind, amount, status, voided, refunded_amount, masked_pan, \
                              original_id, created_at, terminal_ref, batch_id, trace_no, rrn, \
                              auth_code, settlement_date, completed_by";

impl TxRow {
    /// Reads the [`TX_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> ApiResult<TxRow> {
        Ok(TxRow {
            id: row.try_get("id")?,
            kind: tx_kind(&row.try_get::<String, _>("kind")?)?,
            amount: row.try_get("amount")?,
            status: TxState::parse(&row.try_get::<String, _>("status")?)?,
            voided: flag(row, "voided")?,
            refunded_amount: row.try_get("refunded_amount")?,
            masked_pan: row.try_get("masked_pan")?,
            original_id: row.try_get("original_id")?,
            created_at: row.try_get("created_at")?,
            terminal_ref: row.try_get("terminal_ref")?,
            batch_id: row.try_get("batch_id")?,
            trace_no: number_column::<TraceNo>(row, "trace_no")?,
            rrn: row.try_get("rrn")?,
            auth_code: row.try_get("auth_code")?,
            settlement_date: row.try_get("settlement_date")?,
            completed_by: row.try_get("completed_by")?,
        })
    }
}

/// A batch row.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Row id.
    pub id: i64,
    /// The batch number.
    pub batch_no: BatchNo,
    /// `YYYY-MM-DD`.
    pub business_date: String,
    /// Where it stands.
    pub status: BatchState,
    /// Its number toward the acquirer, when not `batch_no` (`batches.upstream_batch_no`).
    pub upstream_batch_no: Option<BatchNo>,
}

/// The columns `BatchRow::from_row` reads.
pub const BATCH_COLUMNS: &str = "id, batch_no, business_date, status, upstream_batch_no";

impl BatchRow {
    /// Reads the [`BATCH_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> ApiResult<BatchRow> {
        let upstream: Option<i64> = row.try_get("upstream_batch_no")?;
        Ok(BatchRow {
            id: row.try_get("id")?,
            batch_no: number_column::<BatchNo>(row, "batch_no")?,
            business_date: row.try_get("business_date")?,
            status: BatchState::parse(&row.try_get::<String, _>("status")?)?,
            upstream_batch_no: upstream
                .map(|n| {
                    BatchNo::try_from(n)
                        .map_err(|_| bad_row("batches.upstream_batch_no", &n.to_string()))
                })
                .transpose()?,
        })
    }

    /// Its number in the messages to the acquirer (60.2, and 61.1 of what undoes its sales).
    pub fn upstream_no(&self) -> BatchNo {
        self.upstream_batch_no.unwrap_or(self.batch_no)
    }
}

/// A ledger line from `request_id, kind, trace_no, amount, masked_pan` and the transaction's
/// status in column `status`.
pub fn ledger_line(row: &AnyRow, status: &str) -> ApiResult<LedgerLine> {
    let status = match TxState::parse(&row.try_get::<String, _>(status)?)? {
        TxState::Approved => LineStatus::Approved,
        TxState::Declined => LineStatus::Declined,
        // Neither counts anywhere: a pending sale not yet, a reversed one never.
        TxState::Reversed | TxState::Pending => LineStatus::Reversed,
    };
    Ok(LedgerLine {
        request_id: request_id_column(row, "request_id")?,
        kind: tx_kind(&row.try_get::<String, _>("kind")?)?,
        trace_no: number_column::<TraceNo>(row, "trace_no")?,
        amount: row.try_get("amount")?,
        status,
        origin: CardOrigin::of_pan(row.try_get::<Option<String>, _>("masked_pan")?.as_deref()),
    })
}
