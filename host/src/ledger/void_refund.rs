//! R6 void \[撤销\] and R7 refund \[退货\], authorised by the supervisor.

use super::sale::open_batch_checked;
use super::{auth_code, rrn_of, Answer, Session};
use crate::authorizer::response_message;
use crate::db::{BatchRow, NewTransaction, Scope, TerminalRef, Tx, TxRow, TxState};
use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, Store};
use softpos::ids::TraceNo;
use softpos::protocol::{OriginalRef, TransactionRequest, TransactionResponse, TxKind, TxStatus};
use softpos::secret::Secret;
use softpos::terminal::money::Amount;
use softpos::terminal::time::Timestamp;
use softpos::ErrorCode;

/// R7.
pub(super) const REFUND_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The supervisor: only operator 00 authorises a void or refund.
const SUPERVISOR: &str = "00";

fn misnamed_original() -> ApiError {
    ApiError::bad_request("a void names original.trace_no, a refund original.rrn")
}

impl Store {
    /// R6, R7: a void or refund, in one transaction once the supervisor's password checked.
    pub(super) async fn void_or_refund(
        &self,
        s: &Session,
        req: TransactionRequest,
        amount: Amount,
        fp: &str,
    ) -> ApiResult<Answer> {
        let original = req.original.clone().ok_or_else(misnamed_original)?;
        match (req.kind, &original) {
            (TxKind::Void, OriginalRef::Trace { .. })
            | (TxKind::Refund, OriginalRef::Rrn { .. }) => {}
            _ => return Err(misnamed_original()),
        }
        let Some(password) = req.supervisor_password.as_ref().map(Secret::expose) else {
            return Err(ApiError::new(ErrorCode::SupervisorRequired));
        };
        self.check_operator(
            &s.terminal,
            SUPERVISOR,
            password,
            ErrorCode::SupervisorRequired,
        )
        .await
        .map_err(|e| {
            if e.code == ErrorCode::OperatorLocked {
                ApiError::detail(ErrorCode::SupervisorRequired, e.message)
            } else {
                e
            }
        })?;
        let mut tx = self.begin().await?;
        let (checked, answer) = open_batch_checked(&mut tx, s, &req, fp, false).await?;
        if let Some(answer) = answer {
            tx.commit().await?;
            return Ok(answer);
        }
        let batch = checked.batch;
        let sale = match &original {
            OriginalRef::Trace { trace_no } => {
                void_target(&mut tx, s.terminal.key(), &batch, *trace_no, amount).await?
            }
            OriginalRef::Rrn { rrn } => refund_target(&mut tx, s, rrn, amount).await?,
        };
        let answer = book_undo(&mut tx, s, &req, amount, &batch, &sale, fp).await?;
        tx.commit().await?;
        Ok(answer)
    }
}

/// Books the void or refund of `sale`, approved, with its answer (R9).
async fn book_undo(
    tx: &mut Tx,
    s: &Session,
    req: &TransactionRequest,
    amount: Amount,
    batch: &BatchRow,
    sale: &TxRow,
    fp: &str,
) -> ApiResult<Answer> {
    const APPROVED: &str = "00";
    let id = tx.next_transaction_id().await?;
    let rrn = rrn_of(id);
    let auth_code = auth_code(true)?;
    let row = NewTransaction {
        id: Some(id),
        terminal_ref: s.terminal.terminal_ref,
        merchant_id: &s.terminal.merchant_id,
        batch_id: batch.id,
        request_id: &req.request_id,
        kind: req.kind,
        trace_no: req.trace_no,
        amount: amount.get(),
        status: TxState::Approved,
        response_code: Some(APPROVED),
        auth_code: auth_code.as_deref(),
        rrn: Some(&rrn),
        masked_pan: sale.masked_pan.as_deref(),
        original_id: Some(sale.id),
        operator: &s.operator,
        created_at: now_ms(),
    };
    tx.insert_transaction(&row).await?;
    let answer = Answer::ok(&TransactionResponse {
        request_id: req.request_id.clone(),
        status: TxStatus::Approved,
        response_code: APPROVED.into(),
        message: response_message(APPROVED).into(),
        rrn: Some(rrn.clone()),
        auth_code: auth_code.clone(),
        batch_no: batch.batch_no,
        trace_no: req.trace_no,
        masked_pan: sale.masked_pan.clone(),
        host_time: Timestamp(now_ms()).rfc3339(),
    })?;
    tx.store_answer(
        row.terminal(),
        Scope::Tx,
        row.request_id,
        &answer.stored(fp),
        now_ms(),
    )
    .await?;
    Ok(answer)
}

/// R6: the approved, unvoided sale with this trace number in the open batch, marked voided.
async fn void_target(
    tx: &mut Tx,
    terminal: TerminalRef<'_>,
    batch: &BatchRow,
    trace_no: TraceNo,
    amount: Amount,
) -> ApiResult<TxRow> {
    let Some(sale) = tx
        .sale_in_batch(terminal.merchant_id, batch.id, trace_no)
        .await?
    else {
        return Err(if tx.settled_sale(terminal, trace_no).await? {
            ApiError::new(ErrorCode::VoidNotAllowedSettled)
        } else {
            ApiError::new(ErrorCode::UnknownTransaction)
        });
    };
    if sale.status != TxState::Approved {
        return Err(ApiError::detail(
            ErrorCode::UnknownTransaction,
            format_args!("the sale with trace {} was not approved", trace_no.get()),
        ));
    }
    if sale.voided {
        return Err(ApiError::new(ErrorCode::AlreadyVoided));
    }
    if sale.refunded_amount > 0 {
        return Err(ApiError::bad_request(
            "this sale was partly refunded; refund the rest instead of voiding it",
        ));
    }
    if sale.amount != amount.get() {
        return Err(ApiError::detail(
            ErrorCode::InvalidAmount,
            "a void is for the sale's full amount",
        ));
    }
    if !tx.set_voided(terminal.merchant_id, sale.id, true).await? {
        return Err(ApiError::new(ErrorCode::AlreadyVoided));
    }
    Ok(sale)
}

/// R7: the approved sale with this RRN (any terminal of the merchant, up to 30 days old),
/// with the refund added to what it has refunded. The conditional UPDATE holds the
/// cumulative limit even when two terminals refund the same sale at once.
async fn refund_target(tx: &mut Tx, s: &Session, rrn: &str, amount: Amount) -> ApiResult<TxRow> {
    let sale = tx
        .sale_by_rrn(&s.terminal.merchant_id, rrn)
        .await?
        .filter(|t| t.status == TxState::Approved)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownTransaction))?;
    if sale.created_at < now_ms() - REFUND_WINDOW_MS {
        return Err(ApiError::detail(
            ErrorCode::UnknownTransaction,
            "the sale is more than 30 days old",
        ));
    }
    if sale.voided {
        return Err(ApiError::new(ErrorCode::AlreadyVoided));
    }
    if sale.terminal_ref != s.terminal.terminal_ref
        && tx
            .terminal_currency(TerminalRef {
                merchant_id: &s.terminal.merchant_id,
                id: sale.terminal_ref,
            })
            .await?
            != s.terminal.currency
    {
        return Err(ApiError::bad_request("the sale was in another currency"));
    }
    if tx
        .add_refund(&s.terminal.merchant_id, sale.id, amount.get())
        .await?
    {
        return Ok(sale);
    }
    let now = tx.transaction(&s.terminal.merchant_id, sale.id).await?;
    if now.voided {
        return Err(ApiError::new(ErrorCode::AlreadyVoided));
    }
    if now.status != TxState::Approved {
        // Reversed while we waited for its row (R8).
        return Err(ApiError::detail(
            ErrorCode::UnknownTransaction,
            "the sale was reversed",
        ));
    }
    let left = now.amount - now.refunded_amount;
    Err(ApiError::detail(
        ErrorCode::RefundExceedsOriginal,
        format_args!("at most {left} minor units are left to refund"),
    ))
}
