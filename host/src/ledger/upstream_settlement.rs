//! The host settles a batch with its acquirer (two-level reconciliation, docs/rules.md R11):
//! the terminal's settlement with the host stands toward the terminal; this one, the host's
//! totals against the acquirer's record, stands toward the host. The acquirer's verdict is
//! kept with the batch (`acquirer_outcome`), never dropped; on `unbalanced` the host uploads
//! the batch's transactions and closes the upload.

use super::Session;
use crate::acquirer::{
    self, host_trace, Acquirer, AcquirerOutcome, BatchUpload, Request, UploadRecord,
};
use crate::db::BatchRow;
use crate::error::ApiResult;
use crate::store::Store;
use softpos::protocol::{BatchTotals, Totals};

/// Records a batch upload carries at most (0320 field 48).
const RECORDS_PER_UPLOAD: usize = 8;

/// Field 48's halves: debit = sales less their voids, credit = refunds.
fn debit_credit(t: &BatchTotals) -> (Totals, Totals) {
    let debit = Totals {
        count: t.sale.count.saturating_sub(t.void.count),
        amount: t.sale.amount.saturating_sub(t.void.amount),
    };
    (debit, t.refund)
}

impl Store {
    /// Settles a batch the terminal has just settled with the acquirer, and keeps the
    /// verdict. The terminal's answer is given already and stands whatever happens here, so
    /// a failure is logged, not returned; a batch with no verdict kept (no answer came) is
    /// still to be settled with the acquirer.
    pub(super) async fn settle_upstream(
        &self,
        s: &Session,
        batch: &BatchRow,
        totals: &BatchTotals,
        acquirer: &dyn Acquirer,
    ) {
        if let Err(e) = self.try_settle_upstream(s, batch, totals, acquirer).await {
            tracing::warn!(
                batch_no = batch.batch_no.get(),
                error = %e.message,
                "the batch is not settled with the acquirer"
            );
        }
    }

    async fn try_settle_upstream(
        &self,
        s: &Session,
        batch: &BatchRow,
        totals: &BatchTotals,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<()> {
        let (debit, credit) = debit_credit(totals);
        let request = Request::Settlement(acquirer::Settlement {
            terminal: super::upstream::terminal_of(s),
            trace: host_trace(),
            batch: batch.upstream_no(),
            currency: totals.currency.clone(),
            operator: s.operator.clone(),
            debit,
            credit,
        });
        let outcome = match acquirer::exchange(acquirer, request).await {
            acquirer::Answer::Unknown => return Ok(()),
            acquirer::Answer::Answered {
                code,
                outcome: Some(outcome),
                ..
            } if code == "00" => outcome,
            _ => AcquirerOutcome::Error,
        };
        let merchant_id = &s.terminal.merchant_id;
        let mut tx = self.begin().await?;
        tx.record_acquirer_outcome(merchant_id, batch.id, outcome.as_str())
            .await?;
        tx.commit().await?;
        if outcome == AcquirerOutcome::Balanced {
            return Ok(());
        }
        tracing::warn!(
            batch_no = batch.batch_no.get(),
            outcome = outcome.as_str(),
            "the acquirer's record of the batch differs from the host's"
        );
        if outcome == AcquirerOutcome::Unbalanced {
            self.upload_upstream(s, batch, acquirer).await?;
        }
        Ok(())
    }

    /// The batch upload after an unbalanced settlement: the batch's approved transactions,
    /// 8 a message, then the closing message.
    async fn upload_upstream(
        &self,
        s: &Session,
        batch: &BatchRow,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<()> {
        let records = self
            .db()
            .upload_records(&s.terminal.merchant_id, batch.id)
            .await?;
        let chunks = records
            .chunks(RECORDS_PER_UPLOAD)
            .map(<[UploadRecord]>::to_vec);
        for (records, closing) in chunks.map(|c| (c, false)).chain([(Vec::new(), true)]) {
            let request = Request::BatchUpload(BatchUpload {
                terminal: super::upstream::terminal_of(s),
                trace: host_trace(),
                batch: batch.upstream_no(),
                records,
                closing,
            });
            let answer = acquirer::exchange(acquirer, request).await;
            if !answer.approved() {
                tracing::warn!(
                    batch_no = batch.batch_no.get(),
                    ?answer,
                    "batch upload refused"
                );
                break;
            }
        }
        Ok(())
    }
}
