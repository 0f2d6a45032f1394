//! R8 reversal \[冲正\]: undoes a transaction whose answer the terminal never got.

use super::Session;
use crate::db::{BatchState, TerminalRef, Tx, TxRow, TxState};
use crate::error::{ApiError, ApiResult};
use crate::merchant::{self, EventType};
use crate::store::{now_ms, Store};
use softpos::ids::RequestId;
use softpos::protocol::{ReversalRequest, ReversalResponse, TransactionResponse, TxKind};

impl Store {
    /// `POST /v1/reversals` (R8): undoes a transaction of this terminal, or leaves a tombstone
    /// for a request id never seen so a late original is refused. Idempotent.
    ///
    /// A transaction with approved dependents (a sale with an approved void or refund, from any
    /// terminal) is not undone: the sale would leave the totals while its void or refund kept
    /// counting. The answer is `reversed: false` with the transaction's own answer, which
    /// stands. The check and the undo hold the transaction's row lock, which a void or refund
    /// of the same sale also needs, so neither can slip in between.
    pub async fn reversal(
        &self,
        s: &Session,
        req: &ReversalRequest,
    ) -> ApiResult<ReversalResponse> {
        let terminal = s.terminal.key();
        let request_id = &req.request_id;
        let mut tx = self.begin().await?;
        // Waits for a sale of this terminal that is being booked right now, so its pending
        // row is seen below and never slips past a tombstone.
        tx.open_batch(terminal).await?;
        if let Some(reversed) = tx.earlier_reversal(terminal, request_id).await? {
            let transaction = if reversed {
                None
            } else {
                standing_answer(&mut tx, terminal, request_id).await?
            };
            tx.commit().await?;
            return Ok(ReversalResponse {
                request_id: req.request_id.clone(),
                reversed,
                transaction,
            });
        }
        let (reversed, transaction) = match tx.batch_of_request(terminal, request_id).await? {
            Some(batch_id) => reverse(&mut tx, terminal, request_id, batch_id).await?,
            None => (false, None),
        };
        tx.insert_reversal(terminal, request_id, reversed, now_ms())
            .await?;
        tx.commit().await?;
        tracing::info!(request_id = %req.request_id, reversed, "reversal");
        Ok(ReversalResponse {
            request_id: req.request_id.clone(),
            reversed,
            transaction,
        })
    }
}

/// Reverses the terminal's transaction booked under `request_id` in batch `batch_id`, unless
/// its batch was settled or it has approved dependents; then its answer stands.
async fn reverse(
    tx: &mut Tx,
    terminal: TerminalRef<'_>,
    request_id: &RequestId,
    batch_id: i64,
) -> ApiResult<(bool, Option<TransactionResponse>)> {
    let batch = tx.batch_state(terminal.merchant_id, batch_id).await?;
    let t = tx
        .transaction_by_request(terminal, request_id)
        .await?
        .ok_or_else(|| ApiError::internal("a booked transaction went missing"))?;
    // Money in a batch the terminal already settled stays as settled; a batch the host closed
    // at cut-off is not reconciled yet, so a reversal still applies there.
    let open = matches!(batch, BatchState::Open | BatchState::ClosedByHost);
    if !open || has_approved_dependents(tx, terminal.merchant_id, &t).await? {
        let standing = standing_answer(tx, terminal, request_id).await?;
        return Ok((false, standing));
    }
    if t.status != TxState::Reversed {
        tx.set_tx_state(terminal.merchant_id, t.id, TxState::Reversed)
            .await?;
        // A pending void or refund already took its effect on the sale (`void_refund`).
        if matches!(t.status, TxState::Approved | TxState::Pending) {
            undo_effect_on_original(tx, terminal.merchant_id, &t).await?;
        }
        // R23: the shop learns that an approved sale's money did not move.
        if t.status == TxState::Approved && t.kind == TxKind::Sale {
            merchant::record_event(tx, EventType::Reversed, terminal.merchant_id, t.id, t.id)
                .await?;
        }
        // R8 upstream: what the acquirer approved goes back to it too, with the reversal kept
        // on standby for it (a pending one is reversed upstream when its answer comes).
        if t.status == TxState::Approved
            && tx
                .wake_standby(terminal.merchant_id, t.id, now_ms())
                .await?
        {
            tracing::info!(
                transaction_id = t.id,
                "owed upstream: the terminal reversed it"
            );
        }
    }
    Ok((true, None))
}

/// R8, dependents: whether undoing `t` (row-locked by the caller) would leave an approved
/// void or refund counting without what it undid. A sale's dependents are its void and
/// refunds. Undoing a void brings its sale back, so the void's dependents are the sale's
/// refunds since (none while the void stands: a voided sale cannot be refunded; checked
/// all the same). A refund has none: it only lowers what its sale has refunded.
///
/// R20: a hold's dependents are its release and its completion; a completion's, its void. A
/// completion void opened its hold again, so its dependents are what was done to the hold
/// since (completed again, or released): undone, the completion would count against a hold
/// that moved on. A pre-auth void has none: a released hold takes nothing.
async fn has_approved_dependents(tx: &mut Tx, merchant_id: &str, t: &TxRow) -> ApiResult<bool> {
    if t.status != TxState::Approved {
        return Ok(false);
    }
    match (t.kind, t.original_id) {
        (TxKind::Sale | TxKind::Completion, _) => Ok(t.voided || t.refunded_amount > 0),
        (TxKind::Preauth, _) => Ok(t.voided || t.completed_by.is_some()),
        (TxKind::CompletionVoid, Some(completion)) => {
            let completion = tx.transaction(merchant_id, completion).await?;
            let Some(hold) = completion.original_id else {
                return Ok(false);
            };
            let hold = tx.lock_transaction(merchant_id, hold).await?;
            Ok(hold.voided || hold.completed_by.is_some())
        }
        (TxKind::Void, Some(sale)) => Ok(tx
            .lock_transaction(merchant_id, sale)
            .await?
            .refunded_amount
            > 0),
        _ => Ok(false),
    }
}

/// The answer given to a transaction that stands (booked, answered, not reversed): what a
/// reversal answers with when it undoes nothing (R8).
async fn standing_answer(
    tx: &mut Tx,
    terminal: TerminalRef<'_>,
    request_id: &RequestId,
) -> ApiResult<Option<TransactionResponse>> {
    let Some(body) = tx.standing_answer(terminal, request_id).await? else {
        return Ok(None);
    };
    serde_json::from_str(&body)
        .map(Some)
        .map_err(ApiError::internal)
}

/// What `t` (approved, or pending with its effect already taken) did to what it names, undone:
/// a void's sale and a pre-auth void's hold are no longer voided or released; a refund's sale
/// gets the amount back; a completion's hold is open for completion again; a completion void's
/// completion stands again and, when the void was approved (which opened the hold), completes
/// its hold again. A reversed sale or hold is simply gone (its status).
async fn undo_effect_on_original(tx: &mut Tx, merchant_id: &str, t: &TxRow) -> ApiResult<()> {
    let Some(original) = t.original_id else {
        return Ok(());
    };
    match t.kind {
        TxKind::Void | TxKind::PreauthVoid => {
            tx.set_voided(merchant_id, original, false).await?;
        }
        TxKind::Refund => tx.take_refund_back(merchant_id, original, t.amount).await?,
        TxKind::Completion => tx.reopen_hold(merchant_id, original, t.id).await?,
        TxKind::CompletionVoid => {
            tx.set_voided(merchant_id, original, false).await?;
            let completion = tx.transaction(merchant_id, original).await?;
            if let (TxState::Approved, Some(hold)) = (t.status, completion.original_id) {
                // No dependents (checked by the caller): the hold is still open.
                tx.complete_hold(merchant_id, hold, original).await?;
            }
        }
        TxKind::Sale | TxKind::Preauth => {}
    }
    Ok(())
}
