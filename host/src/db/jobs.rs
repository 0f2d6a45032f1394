//! The messages owed to the acquirer (`upstream_jobs`, migration 0009): store-and-forward of
//! reversals and refund advices (docs/rules.md, R8 "Upstream"). A job whose `next_at` is
//! [`STANDBY`] is a reversal kept in case the terminal reverses a transaction the acquirer
//! approved: never due, seen by no sender, until [`Tx::wake_standby`] makes it due.

use super::Tx;
use crate::error::ApiResult;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// The `next_at` of a standby job: never due (no query of a due or owed job sees it).
pub const STANDBY: i64 = i64::MAX;

/// A job as queued.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    /// The transaction's merchant.
    pub merchant_id: &'a str,
    /// Its terminal's row id.
    pub terminal_ref: i64,
    /// The transaction's row id.
    pub transaction_id: i64,
    /// `reversal` or `advice`.
    pub kind: &'a str,
    /// A reversal's field 39: `98` or `06`.
    pub reason: Option<&'a str>,
    /// The original message without card data (JSON).
    pub request: &'a str,
    /// When it is first due.
    pub next_at: i64,
    /// Held by this process until then (0: free to send).
    pub leased_until: i64,
    /// Now.
    pub created_at: i64,
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Its id.
    pub id: i64,
    /// The transaction's merchant.
    pub merchant_id: String,
    /// Its terminal's row id.
    pub terminal_ref: i64,
    /// The transaction's row id.
    pub transaction_id: i64,
    /// `reversal` or `advice`.
    pub kind: String,
    /// A reversal's field 39.
    pub reason: Option<String>,
    /// The original message without card data (JSON).
    pub request: String,
    /// The sealed card, when there is one.
    pub card: Option<String>,
    /// Tries so far.
    pub tries: i64,
}

const COLUMNS: &str =
    "id, merchant_id, terminal_ref, transaction_id, kind, reason, request, card, tries";

fn job_row(row: &AnyRow) -> ApiResult<JobRow> {
    Ok(JobRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        terminal_ref: row.try_get("terminal_ref")?,
        transaction_id: row.try_get("transaction_id")?,
        kind: row.try_get("kind")?,
        reason: row.try_get("reason")?,
        request: row.try_get("request")?,
        card: row.try_get("card")?,
        tries: row.try_get("tries")?,
    })
}

/// The terminal's jobs owed at `now`, oldest first: due, or tried before (a job waiting to be
/// tried again is owed all the same). Not one queued with a message still being asked, whose
/// first due time is the end of its hold.
pub async fn terminal_jobs(pool: &AnyPool, terminal_ref: i64, now: i64) -> ApiResult<Vec<JobRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM upstream_jobs WHERE terminal_ref = $1 \
         AND (next_at <= $2 OR tries > 0) ORDER BY id"
    ))
    .bind(terminal_ref)
    .bind(now)
    .fetch_all(pool)
    .await?;
    rows.iter().map(job_row).collect()
}

/// Up to `limit` jobs due at `now` that no process is sending, oldest first.
pub async fn due_jobs(pool: &AnyPool, now: i64, limit: i64) -> ApiResult<Vec<JobRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM upstream_jobs WHERE next_at <= $1 AND leased_until <= $1 \
         ORDER BY id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(job_row).collect()
}

impl Tx {
    /// Queues a job; its id.
    pub async fn insert_job(&mut self, job: &NewJob<'_>) -> ApiResult<i64> {
        Ok(sqlx::query(
            "INSERT INTO upstream_jobs (merchant_id, terminal_ref, transaction_id, kind, reason, \
             request, next_at, leased_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(job.merchant_id)
        .bind(job.terminal_ref)
        .bind(job.transaction_id)
        .bind(job.kind)
        .bind(job.reason)
        .bind(job.request)
        .bind(job.next_at)
        .bind(job.leased_until)
        .bind(job.created_at)
        .fetch_one(&mut **self)
        .await?
        .try_get("id")?)
    }

    /// The jobs of a transaction are gone.
    pub async fn delete_jobs_of(
        &mut self,
        merchant_id: &str,
        transaction_id: i64,
    ) -> ApiResult<()> {
        sqlx::query("DELETE FROM upstream_jobs WHERE merchant_id = $1 AND transaction_id = $2")
            .bind(merchant_id)
            .bind(transaction_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// The terminal reversed the transaction: its standby job, if any, is due now (and free
    /// to take). Whether there was one.
    pub async fn wake_standby(
        &mut self,
        merchant_id: &str,
        transaction_id: i64,
        now: i64,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE upstream_jobs SET next_at = $3, leased_until = 0 \
             WHERE merchant_id = $1 AND transaction_id = $2 AND next_at = $4",
        )
        .bind(merchant_id)
        .bind(transaction_id)
        .bind(now)
        .bind(STANDBY)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The terminal can no longer reverse what it was answered: its standby jobs, and their
    /// sealed cards, are gone. How many there were.
    pub async fn end_standby(&mut self, terminal_ref: i64) -> ApiResult<u64> {
        let done =
            sqlx::query("DELETE FROM upstream_jobs WHERE terminal_ref = $1 AND next_at = $2")
                .bind(terminal_ref)
                .bind(STANDBY)
                .execute(&mut **self)
                .await?;
        Ok(done.rows_affected())
    }

    /// Keeps the job's sealed card.
    pub async fn set_job_card(&mut self, id: i64, card: &str) -> ApiResult<()> {
        sqlx::query("UPDATE upstream_jobs SET card = $2 WHERE id = $1")
            .bind(id)
            .bind(card)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Takes the job for this process until `until`, unless another process holds it; with
    /// `due_only`, only when it is due too. Whether it was taken.
    pub async fn lease_job(
        &mut self,
        id: i64,
        now: i64,
        until: i64,
        due_only: bool,
    ) -> ApiResult<bool> {
        let due = if due_only { " AND next_at <= $2" } else { "" };
        let done = sqlx::query(&format!(
            "UPDATE upstream_jobs SET leased_until = $3 WHERE id = $1 AND leased_until <= $2{due}"
        ))
        .bind(id)
        .bind(now)
        .bind(until)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One more try without an answer: due again at `next_at`, and free to take.
    pub async fn retry_job_at(&mut self, id: i64, next_at: i64) -> ApiResult<()> {
        sqlx::query(
            "UPDATE upstream_jobs SET tries = tries + 1, next_at = $2, leased_until = 0 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(next_at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The acquirer answered: the job, and its sealed card with it, are gone.
    pub async fn delete_job(&mut self, id: i64) -> ApiResult<()> {
        sqlx::query("DELETE FROM upstream_jobs WHERE id = $1")
            .bind(id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}
