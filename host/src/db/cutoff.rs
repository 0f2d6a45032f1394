//! R15: the statements of the cut-off \[日切\], the one query that spans merchants.

use super::columns::{bad_row, number_column};
use super::{SessionEnd, Tx};
use crate::error::ApiResult;
use softpos::ids::BatchNo;
use sqlx::Row;

/// A terminal whose batch the cut-off closed, with the numbers of the batch it gets next.
#[derive(Debug)]
pub struct Successor {
    merchant_id: String,
    terminal_ref: i64,
    batch_no: u32,
    /// Toward the acquirer: the number after the closed batch's, when the acquirer gave that
    /// one (`Tx::insert_open_batch`).
    upstream_batch_no: Option<u32>,
}

impl Tx {
    /// The business date, locked (on PostgreSQL) until the cut-off commits.
    pub async fn lock_business_date(&mut self) -> ApiResult<String> {
        let sql = format!(
            "SELECT business_date FROM host_state WHERE id = 1{}",
            self.lock()
        );
        Ok(sqlx::query(&sql)
            .fetch_one(&mut **self)
            .await?
            .try_get("business_date")?)
    }

    /// Claims the cut-off of a business date; `false` when another process (or an earlier
    /// run) has it.
    pub async fn claim_cutoff(&mut self, business_date: &str, now: i64) -> ApiResult<bool> {
        let claimed = sqlx::query(
            "INSERT INTO cutoffs (business_date, ran_at, closed_batches) VALUES ($1, $2, 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(business_date)
        .bind(now)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(claimed != 0)
    }

    /// Closes every open batch that has transactions (`closed_by_host`).
    ///
    /// Set-based, not a statement per batch: 10 000 open batches close in two statements
    /// plus one insert per 500 new batches. On PostgreSQL the UPDATE waits for any sale
    /// holding a batch's lock and then closes the batch with that sale in it; its re-checked
    /// `status = 'open'` leaves a batch settled meanwhile as it is.
    pub async fn close_open_batches(&mut self, now: i64) -> ApiResult<Vec<Successor>> {
        let rows = sqlx::query(
            "UPDATE batches SET status = 'closed_by_host', closed_at = $1 \
             WHERE status = 'open' \
             AND EXISTS (SELECT 1 FROM transactions t \
               WHERE t.merchant_id = batches.merchant_id AND t.batch_id = batches.id) \
             RETURNING merchant_id, terminal_ref, batch_no, upstream_batch_no",
        )
        .bind(now)
        .fetch_all(&mut **self)
        .await?;
        let mut successors = Vec::with_capacity(rows.len());
        for row in &rows {
            let upstream = row
                .try_get::<Option<i64>, _>("upstream_batch_no")?
                .map(BatchNo::try_from)
                .transpose()
                .map_err(|_| bad_row("batches.upstream_batch_no", "out of range"))?;
            successors.push(Successor {
                merchant_id: row.try_get("merchant_id")?,
                terminal_ref: row.try_get("terminal_ref")?,
                batch_no: number_column::<BatchNo>(row, "batch_no")?.next().get(),
                upstream_batch_no: upstream.map(|n| n.next().get()),
            });
        }
        Ok(successors)
    }

    /// Opens the given batches on `business_date`. The numbers come from the database as
    /// integers, so writing them into the statement is safe (the merchant ids are bound); 500
    /// rows keep it far below either database's limits on statement size and arguments.
    pub async fn open_batches(
        &mut self,
        batches: &[Successor],
        business_date: &str,
        now: i64,
    ) -> ApiResult<()> {
        for chunk in batches.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO batches (merchant_id, terminal_ref, batch_no, business_date, status, \
                 opened_at, upstream_batch_no) VALUES ",
            );
            for (i, b) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let merchant = i + 3;
                let upstream = b
                    .upstream_batch_no
                    .map_or_else(|| "NULL".to_owned(), |n| n.to_string());
                sql.push_str(&format!(
                    "(${merchant}, {}, {}, $1, 'open', $2, {upstream})",
                    b.terminal_ref, b.batch_no
                ));
            }
            // Built fresh per cut-off: not worth a slot in the prepared-statement cache.
            let mut query = sqlx::query(&sql)
                .persistent(false)
                .bind(business_date)
                .bind(now);
            for b in chunk {
                query = query.bind(b.merchant_id.as_str());
            }
            query.execute(&mut **self).await?;
        }
        Ok(())
    }

    /// Moves the open batches left on another date to `business_date`, ends every session
    /// and records the cut-off of `closed_date`.
    pub async fn finish_cutoff(
        &mut self,
        closed_date: &str,
        business_date: &str,
        closed_batches: u64,
        now: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE batches SET business_date = $1 WHERE status = 'open' AND business_date <> $1",
        )
        .bind(business_date)
        .execute(&mut **self)
        .await?;
        sqlx::query("UPDATE sessions SET ended_at = $1, ended_by = $2 WHERE ended_at IS NULL")
            .bind(now)
            .bind(SessionEnd::Cutoff.as_str())
            .execute(&mut **self)
            .await?;
        sqlx::query("UPDATE cutoffs SET closed_batches = $1 WHERE business_date = $2")
            .bind(i64::try_from(closed_batches).unwrap_or(i64::MAX))
            .bind(closed_date)
            .execute(&mut **self)
            .await?;
        sqlx::query("UPDATE host_state SET business_date = $1 WHERE id = 1")
            .bind(business_date)
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}
