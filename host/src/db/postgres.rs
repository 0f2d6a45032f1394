//! What is PostgreSQL's own: a pool shared by many host processes, row locks, and the
//! transaction ids drawn from the table's sequence.

use super::fresh::{owes_jobs, Checked, Fresh, FRESH_COLUMNS};
use super::{TerminalRef, Tx};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use std::time::Duration;

/// The id of a new transaction row: NULL draws the next one from the sequence.
pub const NEW_ID: &str = "COALESCE($1, nextval(pg_get_serial_sequence('transactions', 'id')))";

/// Draws the id the next transaction row will have.
pub const NEXT_ID: &str = "SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id";

/// Opens the pool and migrates the schema.
pub async fn open(url: &str) -> Result<AnyPool, String> {
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(60))
        .connect(url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    Ok(pool)
}

/// [`Tx::open_batch_checked`]: the batch's row lock first, then the questions in a statement
/// of their own (only a new statement sees what the lock's holder committed). With `draw_id`
/// the same statement draws the new row's id, only when the request is new, so a refused
/// request uses up no id.
pub async fn open_batch_checked(
    tx: &mut Tx,
    t: TerminalRef<'_>,
    request_id: &RequestId,
    trace_no: TraceNo,
    draw_id: bool,
) -> ApiResult<Checked> {
    let batch = tx.open_batch(t).await?;
    let sql = if draw_id {
        format!(
            "SELECT f.tomb, f.existing, f.used, f.job, \
             CASE WHEN f.tomb IS NULL AND f.existing IS NULL AND f.used IS NULL \
             THEN nextval(pg_get_serial_sequence('transactions', 'id')) END AS next_id \
             FROM (SELECT {FRESH_COLUMNS} FROM batches b WHERE b.merchant_id = $4 AND b.id = $5) f"
        )
    } else {
        format!("SELECT {FRESH_COLUMNS} FROM batches b WHERE b.merchant_id = $4 AND b.id = $5")
    };
    let row = sqlx::query(&sql)
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(i64::from(trace_no.get()))
        .bind(t.merchant_id)
        .bind(batch.id)
        .fetch_one(&mut **tx)
        .await?;
    let fresh = Fresh::from_row(&row)?;
    let next_id = if draw_id {
        row.try_get::<Option<i64>, _>("next_id")?
    } else {
        None
    };
    Ok(Checked {
        batch,
        fresh,
        next_id,
        jobs: owes_jobs(&row)?,
    })
}
