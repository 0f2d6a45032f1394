//! What is PostgreSQL's own: a pool shared by many host processes, row locks, and the
//! transaction ids drawn from the table's sequence.

use super::answers::{StoredAnswer, INSERT_ANSWER};
use super::fresh::{booking, fresh_columns, owes_jobs, Checked, Fresh, BOOKED_ANSWER};
use super::outbox::{insert_event_sql, NewEvent};
use super::sessions::{SessionRow, SESSION_BY_TOKEN, SESSION_COLUMNS, SESSION_JOIN};
use super::transactions::insert_sql;
use super::{BatchRow, NewTransaction, TerminalRef, Tx};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use std::sync::LazyLock;
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
    checked_on(tx, t, batch, request_id, trace_no, draw_id).await
}

/// [`fresh_columns`] on the batch `$5` of the terminal `$1` of merchant `$4`. Written once:
/// every void and refund asks it.
static CHECKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM batches b WHERE b.merchant_id = $4 AND b.id = $5",
        fresh_columns("$1", "$4")
    )
});

/// [`CHECKED`], and the new row's id drawn when the request is new. Written once: every sale
/// asks it.
static CHECKED_DRAWING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT f.tomb, f.existing, f.used, f.job, \
         CASE WHEN f.tomb IS NULL AND f.existing IS NULL AND f.used IS NULL \
         THEN nextval(pg_get_serial_sequence('transactions', 'id')) END AS next_id \
         FROM ({}) f",
        *CHECKED
    )
});

/// The session behind the token `$1`, its terminal and the terminal's open batch, locked.
/// The batch's columns are `BatchRow::from_row`'s (`BATCH_COLUMNS` of `b`).
static SESSION_LOCKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS}, \
         b.id, b.batch_no, b.business_date, b.status, b.upstream_batch_no FROM {SESSION_JOIN} \
         JOIN batches b \
           ON b.merchant_id = t.merchant_id AND b.terminal_ref = t.id AND b.status = 'open' \
         WHERE s.token_hash = $1 FOR UPDATE OF b"
    )
});

/// The questions of [`open_batch_checked`] on `batch`, locked already.
async fn checked_on(
    tx: &mut Tx,
    t: TerminalRef<'_>,
    batch: BatchRow,
    request_id: &RequestId,
    trace_no: TraceNo,
    draw_id: bool,
) -> ApiResult<Checked> {
    let sql: &str = if draw_id { &CHECKED_DRAWING } else { &CHECKED };
    let row = sqlx::query(sql)
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

/// [`Tx::session_checked`](super::Tx::session_checked): the session behind the token, its
/// terminal and the terminal's open batch, locked, in one statement; then
/// [`open_batch_checked`]'s questions, with the new row's id drawn. A session whose terminal
/// has no open batch, or whose batch closed while we waited for its lock, comes back without
/// [`Checked`].
pub async fn session_checked(
    tx: &mut Tx,
    token_hash: &str,
    request_id: &RequestId,
    trace_no: TraceNo,
) -> ApiResult<Option<(SessionRow, Option<Checked>)>> {
    let locked = sqlx::query(&SESSION_LOCKED)
        .bind(token_hash)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = locked else {
        let row = sqlx::query(&SESSION_BY_TOKEN)
            .bind(token_hash)
            .fetch_optional(&mut **tx)
            .await?;
        return row
            .map(|row| Ok((SessionRow::from_row(&row)?, None)))
            .transpose();
    };
    let session = SessionRow::from_row(&row)?;
    let batch = BatchRow::from_row(&row)?;
    let checked = checked_on(
        tx,
        session.terminal.key(),
        batch,
        request_id,
        trace_no,
        true,
    )
    .await?;
    Ok(Some((session, Some(checked))))
}

/// [`book`]'s statement without an event. Written once: every sale makes it.
static BOOK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH booked AS ({}) {INSERT_ANSWER} {BOOKED_ANSWER}",
        insert_sql(NEW_ID)
    )
});

/// [`book`]'s statement with the merchant's webhook event.
static BOOK_WITH_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH booked AS ({}), answered AS ({INSERT_ANSWER} {BOOKED_ANSWER}) {}",
        insert_sql(NEW_ID),
        insert_event_sql(3, 23)
    )
});

/// The transaction row, its answer (R9) and its webhook event if any
/// ([`booking`](super::fresh::booking)) in one statement, so one trip: the first two as
/// data-modifying `WITH` parts, which run to completion whether read or not. The event's
/// foreign key to the row is checked at the statement's end, when the row is there.
pub async fn book(
    tx: &mut Tx,
    row: &NewTransaction<'_>,
    answer: &StoredAnswer,
    event: Option<&NewEvent>,
) -> ApiResult<()> {
    let sql: &str = if event.is_some() {
        &BOOK_WITH_EVENT
    } else {
        &BOOK
    };
    booking(sql, row, answer, event).execute(&mut **tx).await?;
    Ok(())
}
