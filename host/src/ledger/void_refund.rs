//! R6 void \[撤销\] and R7 refund \[退货\], authorised by the supervisor; and the same way,
//! R20's pre-auth void \[预授权撤销\] (of a hold) and completion void \[预授权完成撤销\] (of a
//! completion, as a void of a sale).

use super::preauth::release_target;
use super::sale::open_batch_checked;
use super::upstream::{awaited, next_operation, terminal_of, Route, Verdict};
use super::{refused_reversed, Answer, Session};
use crate::acquirer::{self, Acquirer, Request};
use crate::db::{BatchRow, NewTransaction, Scope, TerminalRef, Tx, TxRow, TxState};
use crate::error::{ApiError, ApiResult};
use crate::merchant::{self, EventType};
use crate::store::{now_ms, Store};
use softpos::ids::TraceNo;
use softpos::protocol::{OriginalRef, TransactionRequest, TxKind};
use softpos::secret::Secret;
use softpos::terminal::money::Amount;
use softpos::terminal::time::{Timestamp, UtcOffset};
use softpos::ErrorCode;

/// R7.
pub(super) const REFUND_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The supervisor: only operator 00 authorises a void or refund.
const SUPERVISOR: &str = "00";

fn misnamed_original() -> ApiError {
    ApiError::bad_request(
        "a void or completion void names original.trace_no, a refund original.rrn, a pre-auth \
         void original.rrn and original.auth_code",
    )
}

/// A void or refund being booked: the request, and the sale it undoes.
struct Undoing<'a> {
    s: &'a Session,
    req: &'a TransactionRequest,
    amount: Amount,
    /// The request's fingerprint (R9).
    fp: &'a str,
    sale: TxRow,
}

impl<'a> Undoing<'a> {
    /// Its row as booked before the acquirer answers.
    fn row(&'a self, id: i64, batch_id: i64) -> NewTransaction<'a> {
        NewTransaction {
            id: Some(id),
            terminal_ref: self.s.terminal.terminal_ref,
            merchant_id: &self.s.terminal.merchant_id,
            batch_id,
            request_id: &self.req.request_id,
            kind: self.req.kind,
            trace_no: self.req.trace_no,
            amount: self.amount.get(),
            status: TxState::Pending,
            response_code: None,
            auth_code: None,
            settlement_date: None,
            rrn: None,
            masked_pan: self.sale.masked_pan.as_deref(),
            original_id: Some(self.sale.id),
            operator: &self.s.operator,
            created_at: now_ms(),
            reference: self.req.reference.as_deref(),
        }
    }

    /// Gives the sale back what booking this took from it (its void mark, the amount
    /// refunded, a hold's release), when the acquirer did not approve.
    async fn release(&self, tx: &mut Tx) -> ApiResult<()> {
        let merchant_id = &self.s.terminal.merchant_id;
        match self.req.kind {
            TxKind::Refund => {
                tx.take_refund_back(merchant_id, self.sale.id, self.amount.get())
                    .await?;
            }
            _ => {
                tx.set_voided(merchant_id, self.sale.id, false).await?;
            }
        }
        Ok(())
    }

    /// What only an approval does: a completion voided opens its hold for completion again
    /// (R20). Not while the void is pending, so no other completion takes the hold before the
    /// acquirer has said yes.
    async fn approved(&self, tx: &mut Tx, id: i64) -> ApiResult<()> {
        if let (TxKind::CompletionVoid, Some(hold)) = (self.req.kind, self.sale.original_id) {
            tx.reopen_hold(&self.s.terminal.merchant_id, hold, self.sale.id)
                .await?;
        }
        self.record_event(tx, id).await
    }

    /// Books it with the acquirer's decision and its answer (R9); a decline gives the sale
    /// back what booking it took.
    async fn book(
        &self,
        tx: &mut Tx,
        row: NewTransaction<'_>,
        batch: &BatchRow,
        verdict: &Verdict,
    ) -> ApiResult<Answer> {
        if !verdict.approved() {
            self.release(tx).await?;
        }
        let answer = verdict.answer(self.req, batch, self.sale.masked_pan.as_deref())?;
        let row = verdict.row(row);
        let id = tx.insert_transaction(&row).await?;
        tx.store_answer(
            row.terminal(),
            Scope::Tx,
            row.request_id,
            &answer.stored(self.fp),
            now_ms(),
        )
        .await?;
        if verdict.approved() {
            self.approved(tx, id).await?;
        }
        Ok(answer)
    }

    /// The merchant's `payment.voided` or `payment.refunded` event for the approved void or
    /// refund `id`, showing the sale as it now stands (R23).
    /// R20's kinds tell the shop nothing: a checkout lane trades sales only.
    async fn record_event(&self, tx: &mut Tx, id: i64) -> ApiResult<()> {
        let kind = match self.req.kind {
            TxKind::Void => EventType::Voided,
            TxKind::Refund => EventType::Refunded,
            _ => return Ok(()),
        };
        merchant::record_event(tx, kind, &self.s.terminal.merchant_id, self.sale.id, id).await
    }
}

impl Store {
    /// R6, R7: a void or refund, once the supervisor's password checked, asked of the
    /// acquirer as a sale is ([`Store::sale`]): its effect on the sale (voided, refunded) and
    /// its row go in with the answer in one transaction when the acquirer decides at once;
    /// otherwise pending, with the effect already taken so no other void or refund can take
    /// it meanwhile, and given back when the acquirer declines or a reversal overtakes it.
    pub(super) async fn void_or_refund(
        &self,
        s: &Session,
        req: TransactionRequest,
        amount: Amount,
        fp: &str,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Answer> {
        let original = self.supervised(s, &req).await?;
        // R8 upstream: what the terminal still owes the acquirer goes first.
        let ahead = self
            .forward_terminal(s.terminal.terminal_ref, acquirer)
            .await?;
        let mut tx = self.begin().await?;
        let (checked, answer) = open_batch_checked(&mut tx, s, &req, fp, false).await?;
        if let Some(answer) = answer {
            tx.commit().await?;
            return Ok(answer);
        }
        let ahead = match next_operation(self, &mut tx, s, ahead).await {
            Ok(ahead) => ahead,
            Err(e) => {
                tx.rollback().await.ok();
                return Err(e);
            }
        };
        let batch = checked.batch;
        let sale = match &original {
            OriginalRef::Trace { trace_no } => {
                // A completion void voids a completion as a void does a sale (R20).
                let of = match req.kind {
                    TxKind::CompletionVoid => TxKind::Completion,
                    _ => TxKind::Sale,
                };
                void_target(&mut tx, s.terminal.key(), &batch, *trace_no, amount, of).await?
            }
            OriginalRef::Rrn { rrn } => refund_target(&mut tx, s, rrn, amount).await?,
            OriginalRef::Hold { rrn, auth_code } => {
                release_target(&mut tx, s, &batch, rrn, auth_code, amount).await?
            }
        };
        let id = tx.next_transaction_id().await?;
        let request = self
            .request(&mut tx, s, &req, amount, &batch, &sale, id)
            .await?;
        let undoing = Undoing {
            s,
            req: &req,
            amount,
            fp,
            sale,
        };
        let known = match Route::of(ahead, acquirer, &request) {
            Route::Decided(verdict) => {
                let row = undoing.row(id, batch.id);
                let answer = undoing.book(&mut tx, row, &batch, &verdict).await?;
                tx.commit().await?;
                return Ok(answer);
            }
            Route::Pending(known) => known,
        };
        tx.insert_transaction(&undoing.row(id, batch.id)).await?;
        self.arm(&mut tx, s.terminal.key(), id, &request).await?;
        tx.commit().await?;
        let answer = awaited(known, acquirer, &request).await;
        self.answer_pending_undo(&undoing, id, answer, &request)
            .await
    }

    /// The original a void or refund names, once the supervisor's password checked (R6, R7).
    async fn supervised(&self, s: &Session, req: &TransactionRequest) -> ApiResult<OriginalRef> {
        let original = req.original.clone().ok_or_else(misnamed_original)?;
        match (req.kind, &original) {
            (TxKind::Void | TxKind::CompletionVoid, OriginalRef::Trace { .. })
            | (TxKind::Refund, OriginalRef::Rrn { .. })
            | (TxKind::PreauthVoid, OriginalRef::Hold { .. }) => {}
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
        Ok(original)
    }

    /// What the acquirer is asked: the void or refund, with its sale as the acquirer knows it.
    #[allow(clippy::too_many_arguments)]
    async fn request(
        &self,
        tx: &mut Tx,
        s: &Session,
        req: &TransactionRequest,
        amount: Amount,
        batch: &BatchRow,
        sale: &TxRow,
        id: i64,
    ) -> ApiResult<Request> {
        let undo = acquirer::Undo {
            terminal: terminal_of(s),
            trace: req.trace_no,
            batch: batch.upstream_no(),
            amount,
            currency: req.currency.clone(),
            original: self
                .original(tx, &s.terminal.merchant_id, batch, sale)
                .await?,
            reference: id,
        };
        Ok(match req.kind {
            TxKind::Void => Request::Void(undo),
            TxKind::PreauthVoid => Request::PreauthVoid(undo),
            TxKind::CompletionVoid => Request::CompletionVoid(undo),
            _ => Request::Refund(undo),
        })
    }

    /// A transaction another one names, as the acquirer knows it (37, 38, 61): a void's sale
    /// is in the open batch `batch`; a refund's sale or a completion's hold may be in any
    /// batch. The batch's number upstream, the settlement date upstream.
    pub(super) async fn original(
        &self,
        tx: &mut Tx,
        merchant_id: &str,
        batch: &BatchRow,
        sale: &TxRow,
    ) -> ApiResult<acquirer::Original> {
        let sale_batch = if sale.batch_id == batch.id {
            batch.upstream_no()
        } else {
            tx.upstream_batch_no_of(merchant_id, sale.batch_id).await?
        };
        let date = sale.settlement_date.clone().unwrap_or_else(|| {
            // An acquirer that gave none (the simulator), or a row from before it was kept.
            let offset = UtcOffset::from_minutes(self.wall_clock().1).unwrap_or(UtcOffset::UTC);
            acquirer::mmdd(&Timestamp(sale.created_at).local(offset).date())
        });
        Ok(acquirer::Original {
            rrn: sale.rrn.clone(),
            auth_code: sale.auth_code.clone(),
            batch: sale_batch,
            trace: sale.trace_no,
            date,
        })
    }

    /// Commits the acquirer's answer to a pending void or refund, unless a reversal came
    /// meanwhile (which gave the sale back what the void or refund took); with what it leaves
    /// owed upstream (R8 upstream): a reversal of a void, an advice of a refund, when the outcome
    /// is unknown; a reversal when the acquirer approved what the terminal reversed meanwhile.
    async fn answer_pending_undo(
        &self,
        undoing: &Undoing<'_>,
        id: i64,
        answer: acquirer::Answer,
        request: &Request,
    ) -> ApiResult<Answer> {
        let mut tx = self.begin().await?;
        // The lock order of a sale's answer (`sale.rs`): open batch, then rows.
        let terminal = undoing.s.terminal.key();
        let open = tx.open_batch(terminal).await?;
        let kept = tx.lock_transaction(terminal.merchant_id, id).await?.status == TxState::Pending;
        self.owed_after(&mut tx, terminal, id, request, &answer, kept)
            .await?;
        if !kept {
            tx.commit().await?;
            return Err(refused_reversed());
        }
        let verdict = Verdict::of(answer);
        if !verdict.approved() {
            undoing.release(&mut tx).await?;
        }
        let answer = verdict.answer(undoing.req, &open, undoing.sale.masked_pan.as_deref())?;
        // As a sale's late answer: into the batch open now, counted exactly once.
        let row = verdict.row(undoing.row(id, open.id));
        tx.answer_sale(id, &row).await?;
        tx.store_answer(
            terminal,
            Scope::Tx,
            row.request_id,
            &answer.stored(undoing.fp),
            now_ms(),
        )
        .await?;
        if verdict.approved() {
            undoing.approved(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}

/// R6: the approved, unvoided sale (R20: completion, `kind`) with this trace number in the
/// open batch, marked voided.
async fn void_target(
    tx: &mut Tx,
    terminal: TerminalRef<'_>,
    batch: &BatchRow,
    trace_no: TraceNo,
    amount: Amount,
    kind: TxKind,
) -> ApiResult<TxRow> {
    let Some(sale) = tx
        .sale_in_batch(terminal.merchant_id, batch.id, trace_no, kind)
        .await?
    else {
        return Err(if tx.settled_sale(terminal, trace_no, kind).await? {
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
