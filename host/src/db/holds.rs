//! R20 holds [预授权]: a hold is its `preauth` row (migration 0017). Released: `voided` = 1,
//! by an approved pre-auth void. Completed: `completed_by` names its completion. Each change
//! is one conditional UPDATE, so two terminals completing or releasing the same hold at once
//! cannot both succeed, on either database.

use super::columns::TX_COLUMNS;
use super::{Tx, TxRow};
use crate::error::ApiResult;

impl Tx {
    /// The merchant's pre-authorisation with this RRN and auth code, locked (on PostgreSQL):
    /// the newest approved one when there are several, else the newest.
    pub async fn hold(
        &mut self,
        merchant_id: &str,
        rrn: &str,
        auth_code: &str,
    ) -> ApiResult<Option<TxRow>> {
        let sql = format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE merchant_id = $1 AND rrn = $2 \
             AND auth_code = $3 AND kind = 'preauth' \
             ORDER BY CASE WHEN status = 'approved' THEN 0 ELSE 1 END, id DESC LIMIT 1{}",
            self.lock()
        );
        let row = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(rrn)
            .bind(auth_code)
            .fetch_optional(&mut **self)
            .await?;
        row.map(|r| TxRow::from_row(&r)).transpose()
    }

    /// Marks an approved, unreleased, uncompleted hold completed by `completion`; whether it did.
    pub async fn complete_hold(
        &mut self,
        merchant_id: &str,
        hold: i64,
        completion: i64,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE transactions SET completed_by = $1 WHERE merchant_id = $3 AND id = $2 \
             AND kind = 'preauth' AND status = 'approved' AND voided = 0 \
             AND completed_by IS NULL",
        )
        .bind(completion)
        .bind(hold)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Opens a hold for completion again, if `completion` is what completed it.
    pub async fn reopen_hold(
        &mut self,
        merchant_id: &str,
        hold: i64,
        completion: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE transactions SET completed_by = NULL WHERE merchant_id = $3 AND id = $2 \
             AND completed_by = $1",
        )
        .bind(completion)
        .bind(hold)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Releases an approved, unreleased, uncompleted hold; whether it did. (A release is
    /// taken back with [`Tx::set_voided`].)
    pub async fn release_hold(&mut self, merchant_id: &str, hold: i64) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE transactions SET voided = 1 WHERE merchant_id = $2 AND id = $1 \
             AND kind = 'preauth' AND status = 'approved' AND voided = 0 \
             AND completed_by IS NULL",
        )
        .bind(hold)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(done == 1)
    }
}
