//! The host settles a batch with its acquirer (two-level reconciliation, docs/rules.md R11):
//! the terminal's settlement with the host stands toward the terminal; this one, the host's
//! totals against the acquirer's record, stands toward the host. On `unbalanced` the host
//! uploads the batch's transactions and closes the upload.
//!
//! Never dropped: from the terminal's settlement on, the batch's settlement is owed to the
//! acquirer (`batches.acquirer_due_at`) until the acquirer answers. The terminal's settlement
//! waits a short while for it ([`Forwarding::settle_wait`](crate::forward::Forwarding)); what
//! is not answered by then goes on in the background, and the background task
//! (`crate::forward`) asks again with backoff, across restarts, each time after the
//! terminal's messages owed upstream (R8: a reversal goes before the totals that leave its
//! transaction out). The verdict is kept with the batch and written into every answer given
//! for it, so a retried settlement or upload (R9) shows it.

use super::Session;
use crate::acquirer::{
    self, host_trace, Acquirer, AcquirerOutcome, BatchUpload, Request, UploadRecord,
};
use crate::db::{owed_settlements, AcquirerState, BatchRow, OwedBatch, Scope};
use crate::error::{ApiError, ApiResult};
use crate::forward::{ms, retry_after, Ahead, ROUND};
use crate::store::{now_ms, Store};
use softpos::ids::BatchNo;
use softpos::protocol::{AcquirerVerdict, BatchTotals, SettlementResponse, Totals, UploadResponse};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Records a batch upload carries at most (0320 field 48).
const RECORDS_PER_UPLOAD: usize = 8;

/// Field 48's halves: debit = sales and completions less their voids (a completion void is
/// among the voids, R20), credit = refunds.
fn debit_credit(t: &BatchTotals) -> (Totals, Totals) {
    let completion = t.completion.unwrap_or_default();
    let debit = Totals {
        count: (t.sale.count + completion.count).saturating_sub(t.void.count),
        amount: (t.sale.amount + completion.amount).saturating_sub(t.void.amount),
    };
    (debit, t.refund)
}

/// A batch whose settlement the host owes its acquirer: what its 0500 carries.
#[derive(Debug, Clone)]
pub(super) struct OwedSettlement {
    terminal: acquirer::Terminal,
    terminal_ref: i64,
    batch_id: i64,
    batch_no: BatchNo,
    /// Its number toward the acquirer (60.2): the one the acquirer assigned, else `batch_no`.
    upstream_no: BatchNo,
    operator: String,
    totals: BatchTotals,
    tries: i64,
    /// Its verdict is kept (`unbalanced`) and only the upload is owed.
    upload_only: bool,
}

impl OwedSettlement {
    /// The batch the terminal has just settled, with the host's totals.
    pub(super) fn settled_now(s: &Session, batch: &BatchRow, totals: BatchTotals) -> Self {
        OwedSettlement {
            terminal: super::upstream::terminal_of(s),
            terminal_ref: s.terminal.terminal_ref,
            batch_id: batch.id,
            batch_no: batch.batch_no,
            upstream_no: batch.upstream_no(),
            operator: s.operator.clone(),
            totals,
            tries: 0,
            upload_only: false,
        }
    }

    fn of_row(row: OwedBatch) -> ApiResult<Self> {
        let totals = row
            .host_totals
            .ok_or_else(|| crate::db::bad_row("batches.host_totals", "NULL"))?;
        Ok(OwedSettlement {
            terminal: acquirer::Terminal {
                terminal_id: row.terminal_id,
                merchant_id: row.merchant_id,
            },
            terminal_ref: row.terminal_ref,
            batch_id: row.batch_id,
            batch_no: row.batch_no,
            upstream_no: row.upstream_no,
            // Every batch owed was settled by an operator; the link's own default otherwise.
            operator: row.settled_by.unwrap_or_else(|| "01".into()),
            totals: serde_json::from_str(&totals).map_err(ApiError::internal)?,
            tries: row.tries,
            upload_only: row.outcome.as_deref() == Some("unbalanced"),
        })
    }

    fn merchant_id(&self) -> &str {
        &self.terminal.merchant_id
    }

    fn request(&self) -> Request {
        let (debit, credit) = debit_credit(&self.totals);
        Request::Settlement(acquirer::Settlement {
            terminal: self.terminal.clone(),
            trace: host_trace(),
            batch: self.upstream_no,
            currency: self.totals.currency.clone(),
            operator: self.operator.clone(),
            debit,
            credit,
        })
    }
}

/// The verdict the terminal's answers carry: the one kept, else `pending` while one is owed;
/// `None` for a batch settled before the host kept them.
pub(super) fn verdict_of(state: &AcquirerState) -> ApiResult<Option<AcquirerVerdict>> {
    Ok(match state.outcome.as_deref() {
        Some("balanced") => Some(AcquirerVerdict::Balanced),
        Some("unbalanced") => Some(AcquirerVerdict::Unbalanced),
        Some("error") => Some(AcquirerVerdict::Error),
        Some(other) => return Err(crate::db::bad_row("batches.acquirer_outcome", other)),
        None if state.owed => Some(AcquirerVerdict::Pending),
        None => None,
    })
}

/// A settlement's answer with the acquirer's verdict in it.
pub(super) fn settle_body(body: &str, verdict: AcquirerVerdict) -> ApiResult<String> {
    let mut answer: SettlementResponse = serde_json::from_str(body).map_err(ApiError::internal)?;
    answer.acquirer_outcome = Some(verdict);
    serde_json::to_string(&answer).map_err(ApiError::internal)
}

/// An upload's answer with the acquirer's verdict in it.
fn upload_body(body: &str, verdict: AcquirerVerdict) -> ApiResult<String> {
    let mut answer: UploadResponse = serde_json::from_str(body).map_err(ApiError::internal)?;
    answer.acquirer_outcome = Some(verdict);
    serde_json::to_string(&answer).map_err(ApiError::internal)
}

impl Store {
    /// Settles with the acquirer a batch the terminal has just settled, waiting at most
    /// `settle_wait` for the verdict: `pending` when none came by then. The terminal's answer
    /// stands whatever happens here; the work goes on after the wait.
    pub(super) async fn settle_upstream(
        &self,
        owed: OwedSettlement,
        acquirer: &Arc<dyn Acquirer>,
    ) -> AcquirerVerdict {
        let (told, mut verdict) = oneshot::channel();
        let (store, acquirer) = (self.clone(), Arc::clone(acquirer));
        let work = tokio::spawn(async move {
            if let Err(e) = store
                .settle_owed(&owed, acquirer.as_ref(), Some(told))
                .await
            {
                tracing::warn!(
                    batch_no = owed.batch_no.get(),
                    error = %e.message,
                    "the batch is not settled with the acquirer yet"
                );
            }
        });
        // Dropping the handle when the wait ends leaves the task running.
        let _ = tokio::time::timeout(self.forwarding().settle_wait, work).await;
        verdict.try_recv().unwrap_or(AcquirerVerdict::Pending)
    }

    /// One round of the background task: the batch settlements due, the longest due first,
    /// until one goes unanswered (the acquirer is not answering; the rest wait for the next
    /// round). How many verdicts came.
    pub(crate) async fn settle_due(&self, acquirer: &dyn Acquirer) -> ApiResult<usize> {
        let now = now_ms();
        let mut answered = 0;
        for row in owed_settlements(self.db().reader(), now, ROUND).await? {
            let mut tx = self.begin().await?;
            let leased = tx
                .lease_owed_settlement(
                    &row.merchant_id,
                    row.batch_id,
                    now,
                    now + ms(self.forwarding().lease),
                )
                .await?;
            tx.commit().await?;
            if !leased {
                continue;
            }
            let owed = OwedSettlement::of_row(row)?;
            if self.settle_owed(&owed, acquirer, None).await?.is_none() {
                break;
            }
            answered += 1;
        }
        Ok(answered)
    }

    /// One try of an owed settlement, by the process that holds it: the terminal's messages
    /// owed go first (R8), then the 0500. With an answer the verdict is kept (and told), and on
    /// `unbalanced` the batch uploaded; without one, tried again after the backoff.
    async fn settle_owed(
        &self,
        owed: &OwedSettlement,
        acquirer: &dyn Acquirer,
        told: Option<oneshot::Sender<AcquirerVerdict>>,
    ) -> ApiResult<Option<AcquirerOutcome>> {
        if owed.upload_only {
            // The verdict is kept (`unbalanced`); only its upload is still owed.
            let sent = self.upload_owed(owed, acquirer).await?;
            return Ok(sent.then_some(AcquirerOutcome::Unbalanced));
        }
        let answer = match self.forward_terminal(owed.terminal_ref, acquirer).await? {
            Ahead::Clear => acquirer::exchange(acquirer, owed.request()).await,
            // Not before them; next time.
            Ahead::Unanswered | Ahead::Elsewhere => acquirer::Answer::Unknown,
        };
        let outcome = match answer {
            acquirer::Answer::Unknown => {
                self.owe_again(owed).await?;
                return Ok(None);
            }
            // `A0`: the acquirer found the MAC wrong and asks for a sign-in (fresh keys), which
            // the link makes before its next message; the batch is not settled yet, so ask again.
            acquirer::Answer::Answered { ref code, .. } if code == "A0" => {
                self.owe_again(owed).await?;
                return Ok(None);
            }
            acquirer::Answer::Answered {
                code,
                outcome: Some(outcome),
                ..
            } if code == "00" => outcome,
            acquirer::Answer::Answered { .. } => AcquirerOutcome::Error,
        };
        if !self.keep_verdict(owed, outcome).await? {
            // Another process kept one first, and uploads when it must.
            return Ok(Some(outcome));
        }
        if let Some(told) = told {
            let _ = told.send(outcome.verdict());
        }
        if outcome != AcquirerOutcome::Balanced {
            tracing::warn!(
                batch_no = owed.batch_no.get(),
                outcome = outcome.as_str(),
                "the acquirer's record of the batch differs from the host's"
            );
        }
        if outcome == AcquirerOutcome::Unbalanced && !self.upload_owed(owed, acquirer).await? {
            return Ok(None);
        }
        Ok(Some(outcome))
    }

    /// The upload an `unbalanced` verdict owes the acquirer (held by this process since the
    /// verdict was kept): sent, and no longer owed; or, without an answer, owed again after
    /// the backoff. Whether it went.
    async fn upload_owed(&self, owed: &OwedSettlement, acquirer: &dyn Acquirer) -> ApiResult<bool> {
        if !self.upload_upstream(owed, acquirer).await? {
            self.owe_again(owed).await?;
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        tx.upload_sent(owed.merchant_id(), owed.batch_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// No answer: due again after the backoff.
    async fn owe_again(&self, owed: &OwedSettlement) -> ApiResult<()> {
        let wait = retry_after(self.forwarding().first_retry, owed.tries + 1);
        let mut tx = self.begin().await?;
        tx.retry_owed_settlement_at(owed.merchant_id(), owed.batch_id, now_ms() + ms(wait))
            .await?;
        tx.commit().await?;
        tracing::warn!(
            batch_no = owed.batch_no.get(),
            tries = owed.tries + 1,
            retry_in_ms = ms(wait),
            "no answer from the acquirer to the batch's settlement"
        );
        Ok(())
    }

    /// Keeps the verdict with the batch and writes it into the batch's answers, the stored
    /// ones (R9) with them, in one transaction. Whether it was kept (not one before it).
    async fn keep_verdict(
        &self,
        owed: &OwedSettlement,
        outcome: AcquirerOutcome,
    ) -> ApiResult<bool> {
        let (merchant_id, batch_id) = (owed.merchant_id(), owed.batch_id);
        let verdict = outcome.verdict();
        let mut tx = self.begin().await?;
        if !tx
            .record_acquirer_outcome(
                merchant_id,
                batch_id,
                outcome.as_str(),
                now_ms() + ms(self.forwarding().lease),
            )
            .await?
        {
            tx.commit().await?;
            return Ok(false);
        }
        let (settle, upload) = tx.batch_answers(merchant_id, batch_id).await?;
        if let Some(body) = settle {
            let body = settle_body(&body, verdict)?;
            tx.rewrite_batch_answer(merchant_id, batch_id, Scope::Settle, &body)
                .await?;
        }
        if let Some(body) = upload {
            let body = upload_body(&body, verdict)?;
            tx.rewrite_batch_answer(merchant_id, batch_id, Scope::Upload, &body)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The batch upload after an unbalanced settlement: the batch's approved transactions,
    /// 8 a message, then the closing message. Whether it is over (every message answered, or
    /// one refused); one without an answer leaves it owed, to be sent whole again.
    async fn upload_upstream(
        &self,
        owed: &OwedSettlement,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<bool> {
        let records = self
            .db()
            .upload_records(owed.merchant_id(), owed.batch_id)
            .await?;
        let chunks = records
            .chunks(RECORDS_PER_UPLOAD)
            .map(<[UploadRecord]>::to_vec);
        for (records, closing) in chunks.map(|c| (c, false)).chain([(Vec::new(), true)]) {
            let request = Request::BatchUpload(BatchUpload {
                terminal: owed.terminal.clone(),
                trace: host_trace(),
                batch: owed.upstream_no,
                records,
                closing,
            });
            let answer = acquirer::exchange(acquirer, request).await;
            let unanswered = match &answer {
                acquirer::Answer::Unknown => true,
                acquirer::Answer::Answered { code, .. } => code == "A0",
            };
            if unanswered {
                return Ok(false);
            }
            if !answer.approved() {
                // A refusal is the acquirer's last word on it: sending the same records again
                // would be refused again. The verdict stays `unbalanced` for the merchant.
                tracing::warn!(
                    batch_no = owed.batch_no.get(),
                    ?answer,
                    "batch upload refused"
                );
                break;
            }
        }
        Ok(true)
    }
}
