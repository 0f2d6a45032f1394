//! The batches whose settlement the host owes its acquirer (migration 0011): settled by the
//! terminal, no verdict from the acquirer kept yet (docs/rules.md R11, the second level), and
//! the acquirer's verdict kept with the batch and in every answer given for it.

use super::columns::number_column;
use super::{Scope, Tx};
use crate::error::ApiResult;
use softpos::ids::BatchNo;
use sqlx::{AnyPool, Row};

/// A batch whose settlement is owed to the acquirer, as stored.
#[derive(Debug, Clone)]
pub struct OwedBatch {
    /// The batch's row id.
    pub batch_id: i64,
    /// Its merchant.
    pub merchant_id: String,
    /// Its terminal's row id.
    pub terminal_ref: i64,
    /// Its terminal's id (field 41).
    pub terminal_id: String,
    /// Its number.
    pub batch_no: BatchNo,
    /// Its number toward the acquirer: the one the acquirer assigned, else `batch_no`.
    pub upstream_no: BatchNo,
    /// The host's totals as the terminal's settlement fixed them (JSON).
    pub host_totals: Option<String>,
    /// The operator whose settlement it was.
    pub settled_by: Option<String>,
    /// Tries without an answer so far.
    pub tries: i64,
    /// The verdict kept, when only its upload is still owed (`unbalanced`).
    pub outcome: Option<String>,
}

/// Up to `limit` batches whose settlement is due at `now` and held by no process, the longest
/// due first.
pub async fn owed_settlements(pool: &AnyPool, now: i64, limit: i64) -> ApiResult<Vec<OwedBatch>> {
    let rows = sqlx::query(
        "SELECT b.id, b.merchant_id, b.terminal_ref, t.terminal_id, b.batch_no, \
         COALESCE(b.upstream_batch_no, b.batch_no) AS upstream_no, b.host_totals, \
         b.settled_by, b.acquirer_tries, b.acquirer_outcome FROM batches b \
         JOIN terminals t ON t.merchant_id = b.merchant_id AND t.id = b.terminal_ref \
         WHERE b.acquirer_due_at IS NOT NULL AND b.acquirer_due_at <= $1 \
         ORDER BY b.acquirer_due_at, b.id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OwedBatch {
                batch_id: row.try_get("id")?,
                merchant_id: row.try_get("merchant_id")?,
                terminal_ref: row.try_get("terminal_ref")?,
                terminal_id: row.try_get("terminal_id")?,
                batch_no: number_column::<BatchNo>(row, "batch_no")?,
                upstream_no: number_column::<BatchNo>(row, "upstream_no")?,
                host_totals: row.try_get("host_totals")?,
                settled_by: row.try_get("settled_by")?,
                tries: row.try_get("acquirer_tries")?,
                outcome: row.try_get("acquirer_outcome")?,
            })
        })
        .collect()
}

/// What the acquirer has said of a batch: its verdict as kept, and whether one is still owed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcquirerState {
    /// `balanced`, `unbalanced` or `error`; `None` while none is kept.
    pub outcome: Option<String>,
    /// The host still owes the acquirer this batch's settlement.
    pub owed: bool,
}

impl Tx {
    /// What the acquirer has said of a batch.
    pub async fn acquirer_state(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<AcquirerState> {
        let row = sqlx::query(
            "SELECT acquirer_outcome, acquirer_due_at FROM batches \
             WHERE merchant_id = $2 AND id = $1",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?;
        Ok(AcquirerState {
            outcome: row.try_get("acquirer_outcome")?,
            owed: row.try_get::<Option<i64>, _>("acquirer_due_at")?.is_some(),
        })
    }

    /// Takes an owed batch settlement for this process until `until`, unless it is not due or
    /// another process holds it. Whether it was taken.
    pub async fn lease_owed_settlement(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        now: i64,
        until: i64,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE batches SET acquirer_due_at = $3 WHERE merchant_id = $4 AND id = $1 \
             AND acquirer_due_at IS NOT NULL AND acquirer_due_at <= $2",
        )
        .bind(batch_id)
        .bind(now)
        .bind(until)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One more try without an answer: due again at `at`, and free to take. A verdict kept
    /// meanwhile by another process stays (an `unbalanced` one owes its upload until sent).
    pub async fn retry_owed_settlement_at(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        at: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE batches SET acquirer_tries = acquirer_tries + 1, acquirer_due_at = $2 \
             WHERE merchant_id = $3 AND id = $1 \
             AND (acquirer_outcome IS NULL OR acquirer_outcome = 'unbalanced')",
        )
        .bind(batch_id)
        .bind(at)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Keeps the acquirer's verdict on the host's totals of a batch (`balanced`, `unbalanced`
    /// or `error`) unless one is kept already; whether this one was. It ends what is owed,
    /// but for `unbalanced`, which owes the batch upload, held by this process until
    /// `upload_held_until`.
    pub async fn record_acquirer_outcome(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        outcome: &str,
        upload_held_until: i64,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE batches SET acquirer_outcome = $1, \
             acquirer_due_at = CASE WHEN $1 = 'unbalanced' THEN $4 ELSE NULL END \
             WHERE merchant_id = $3 AND id = $2 AND acquirer_outcome IS NULL",
        )
        .bind(outcome)
        .bind(batch_id)
        .bind(merchant_id)
        .bind(upload_held_until)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The batch upload an `unbalanced` verdict owed has gone: nothing more is owed.
    pub async fn upload_sent(&mut self, merchant_id: &str, batch_id: i64) -> ApiResult<()> {
        sqlx::query(
            "UPDATE batches SET acquirer_due_at = NULL \
             WHERE merchant_id = $2 AND id = $1 AND acquirer_outcome = 'unbalanced'",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The answers kept on a batch: its settlement's and its upload's.
    pub async fn batch_answers(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<(Option<String>, Option<String>)> {
        let row = sqlx::query(
            "SELECT settle_answer, upload_answer FROM batches WHERE merchant_id = $2 AND id = $1",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?;
        Ok((row.try_get("settle_answer")?, row.try_get("upload_answer")?))
    }

    /// Replaces the answer of a batch's settlement or upload, on the batch and in every
    /// stored answer (R9) given with it.
    pub async fn rewrite_batch_answer(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        scope: Scope,
        body: &str,
    ) -> ApiResult<()> {
        let column = match scope {
            Scope::Upload => "upload_answer",
            _ => "settle_answer",
        };
        sqlx::query(&format!(
            "UPDATE batches SET {column} = $1 WHERE merchant_id = $3 AND id = $2"
        ))
        .bind(body)
        .bind(batch_id)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        sqlx::query(
            "UPDATE answers SET body = $1 \
             WHERE merchant_id = $3 AND batch_id = $2 AND scope = $4 AND status = 200",
        )
        .bind(body)
        .bind(batch_id)
        .bind(merchant_id)
        .bind(scope.as_str())
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
