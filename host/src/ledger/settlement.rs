//! R11 settlement \[结算\] and the reconciliation of the uploaded journal \[批上送\] (R14; the
//! upload itself in `upload.rs`); the totals are the fold the terminal makes too
//! (`softpos::terminal::settlement`).

use super::session::batch_totals;
use super::upstream_settlement::{settle_body, verdict_of, OwedSettlement};
use super::{fingerprint, host_totals, Answer, Session};
use crate::acquirer::Acquirer;
use crate::db::{BatchRow, BatchState, Scope, Settlement, Tx};
use crate::error::{ApiError, ApiResult};
use crate::forward::ms;
use crate::store::{now_ms, Store};
use softpos::ids::BatchNo;
use softpos::protocol::{
    AcquirerVerdict, BatchTotals, JournalEntry, Outcome, SettlementRequest, SettlementResponse,
    UploadResponse,
};
use softpos::terminal::journal::ledger_lines;
use softpos::terminal::settlement::{compare, outcome};
use std::sync::Arc;

pub(super) fn no_batch(batch_no: u32) -> ApiError {
    ApiError::bad_request(format_args!("this terminal has no batch {batch_no}"))
}

fn json(value: &impl serde::Serialize) -> ApiResult<String> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

impl Store {
    /// `POST /v1/settlements` (R11, R14): the terminal's totals against the host's, whose
    /// record stands toward the terminal; then the host settles the batch with the acquirer
    /// (`upstream`), whose record stands toward the host.
    pub async fn settle(
        &self,
        s: &Session,
        req: &SettlementRequest,
        acquirer: &Arc<dyn Acquirer>,
    ) -> ApiResult<Answer> {
        let terminal = s.terminal.key();
        let fp = fingerprint(req)?;
        if let Some(a) = self
            .stored_answer(terminal, Scope::Settle, &req.request_id, &fp)
            .await?
        {
            return Ok(a);
        }
        let mut tx = self.begin().await?;
        let open = tx.open_batch(terminal).await?;
        let batch = tx
            .batch_by_no(terminal, req.batch_no)
            .await?
            .ok_or_else(|| no_batch(req.batch_no.get()))?;
        let (answer, host_totals) = match batch.status {
            BatchState::Open | BatchState::ClosedByHost => {
                // R8 upstream: the terminal's reversals went first; what it was answered
                // before stands, and its standby reversals end.
                self.end_standby(&mut tx, s.terminal.terminal_ref).await?;
                let held = now_ms() + ms(self.forwarding().lease);
                let (answer, totals) = settle_batch(&mut tx, s, req, &batch, &open, held).await?;
                (answer, Some(totals))
            }
            _ => {
                // Already settled: the first settlement's answer stands.
                let body = tx.settle_answer(terminal.merchant_id, batch.id).await?;
                let body =
                    body.ok_or_else(|| ApiError::internal("settled batch without answer"))?;
                (Answer { status: 200, body }, None)
            }
        };
        tx.store_batch_answer(
            terminal,
            Scope::Settle,
            &req.request_id,
            &answer.stored(&fp),
            batch.id,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(request_id = %req.request_id, batch_no = req.batch_no.get(), "settlement");
        let Some(totals) = host_totals else {
            return Ok(answer);
        };
        // Stored as `pending`; once the acquirer answers, the stored answers say what it said.
        let owed = OwedSettlement::settled_now(s, &batch, totals);
        match self.settle_upstream(owed, acquirer).await {
            AcquirerVerdict::Pending => Ok(answer),
            verdict => Ok(Answer {
                status: answer.status,
                body: settle_body(&answer.body, verdict)?,
            }),
        }
    }
}

/// Settles a batch open or closed at the cut-off: the host's totals against the terminal's,
/// and the next batch opened when this one was the open one.
async fn settle_batch(
    tx: &mut Tx,
    s: &Session,
    req: &SettlementRequest,
    batch: &BatchRow,
    open: &BatchRow,
    held_until: i64,
) -> ApiResult<(Answer, BatchTotals)> {
    let host_totals = batch_totals(tx, &s.terminal, batch).await?;
    let result = outcome(&req.terminal_totals, &host_totals);
    let next_batch_no = if batch.status == BatchState::Open {
        tx.set_batch_state(&s.terminal.merchant_id, batch.id, BatchState::Settling)
            .await?;
        let date = tx.business_date().await?;
        let next = batch.batch_no.next();
        tx.insert_open_batch(s.terminal.key(), next, &date)
            .await?
            .batch_no
    } else {
        open.batch_no
    };
    let answer = Answer::ok(&SettlementResponse {
        batch_no: batch.batch_no,
        outcome: result,
        host_totals: host_totals.clone(),
        next_batch_no,
        acquirer_outcome: Some(AcquirerVerdict::Pending),
    })?;
    let status = match result {
        Outcome::Balanced => BatchState::Settled,
        Outcome::Unbalanced => BatchState::AwaitingUpload,
    };
    let settlement = Settlement {
        status,
        terminal_totals: &json(&req.terminal_totals)?,
        host_totals: &json(&host_totals)?,
        answer: &answer.body,
        settled_by: &s.operator,
        // Held by this process while it asks the acquirer (`settle_upstream`); the background
        // task's when this process dies first.
        acquirer_due_at: held_until,
    };
    tx.record_settlement(&s.terminal.merchant_id, batch.id, &settlement)
        .await?;
    Ok((answer, host_totals))
}

/// R11: the terminal's journal against the host's rows of a batch settled unbalanced; the
/// batch is settled either way, with the discrepancies in the answer.
pub(super) async fn reconcile(
    tx: &mut Tx,
    s: &Session,
    entries: &[JournalEntry],
    batch: &BatchRow,
    terminal_totals: &BatchTotals,
    next_batch_no: BatchNo,
) -> ApiResult<Answer> {
    let host_lines = tx.ledger_lines(&s.terminal.merchant_id, batch.id).await?;
    let host_totals = host_totals(&host_lines, batch.batch_no, &s.terminal.currency)?;
    let discrepancies = compare(&ledger_lines(entries), &host_lines);
    let acquirer = tx.acquirer_state(&s.terminal.merchant_id, batch.id).await?;
    let result = if discrepancies.is_empty()
        && outcome(terminal_totals, &host_totals) == Outcome::Balanced
    {
        Outcome::Balanced
    } else {
        Outcome::Unbalanced
    };
    let answer = Answer::ok(&UploadResponse {
        batch_no: batch.batch_no,
        outcome: result,
        host_totals,
        discrepancies,
        next_batch_no,
        acquirer_outcome: verdict_of(&acquirer)?,
    })?;
    tx.record_upload(&s.terminal.merchant_id, batch.id, &answer.body)
        .await?;
    Ok(answer)
}
