//! What is SQLite's own: one writer connection beside a pool of readers, migrations with
//! foreign keys off, the next row id from `sqlite_sequence`, and statements that share a trip
//! to sqlx's worker thread with `BEGIN` and `COMMIT`.

use super::answers::{StoredAnswer, INSERT_ANSWER};
use super::fresh::{booking, fresh_columns, owes_jobs, Checked, Fresh, BOOKED_ANSWER};
use super::outbox::{insert_event_sql, NewEvent};
use super::sessions::{SessionRow, SESSION_COLUMNS, SESSION_JOIN};
use super::transactions::insert_sql;
use super::writer::{connect_writer, Writer};
use super::{BatchRow, NewTransaction, TerminalRef, Tx};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Row};
use std::sync::LazyLock;
use std::time::Duration;

/// The id of a new transaction row: NULL draws the next one.
pub const NEW_ID: &str = "$1";

/// The id the next transaction row will get. AUTOINCREMENT never reuses an id, so it is one
/// past the table's counter; the writer lock held since `BEGIN IMMEDIATE` keeps any other
/// writer from taking it before we commit.
pub const NEXT_ID: &str =
    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'transactions'), 0) + 1 AS id";

/// Opens the writer (migrating the schema on it), the readers, and the credential readers
/// ([`Db`](super::Db)'s `credentials`).
pub async fn open(url: &str) -> Result<(AnyPool, AnyPool, Writer), String> {
    // `mode=rwc` creates the file on first use.
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = if url.contains("mode=") {
        url.to_owned()
    } else {
        format!("{url}{sep}mode=rwc")
    };
    let mut conn = connect_writer(&url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    migrate(&mut conn)
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    let readers = |n| {
        AnyPoolOptions::new()
            .max_connections(n)
            .acquire_timeout(Duration::from_secs(60))
            // sqlx pings every connection before lending it out: for a connection that lives
            // in this process and cannot break, a trip to its worker thread for nothing.
            .test_before_acquire(false)
            .connect(&url)
    };
    let pool = readers(4)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let credentials = readers(2)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let writer = Writer::new(conn, url);
    Ok((pool, credentials, writer))
}

/// Brings an SQLite database's schema up to date. A migration that rebuilds a table (to add a
/// CHECK, the only way SQLite can) must run with foreign keys off, and that can only be set
/// outside a transaction, so here around the migrator, which runs each migration in one; the
/// keys are checked before they are turned back on (SQLite's documented procedure).
async fn migrate(conn: &mut AnyConnection) -> Result<(), String> {
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    let migrated = sqlx::migrate!("./migrations/sqlite")
        .run(&mut *conn)
        .await
        .map_err(|e| e.to_string());
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    migrated?;
    if !broken.is_empty() {
        return Err(format!("{} rows break a foreign key", broken.len()));
    }
    Ok(())
}

/// The open batch `b`'s columns, the freshness questions on it ([`fresh_columns`] of the
/// terminal `terminal` of merchant `merchant`) and the row id the last transaction got (the
/// next is one past it, [`NEXT_ID`]).
fn checked_columns(terminal: &str, merchant: &str) -> String {
    format!(
        "b.id AS id, b.batch_no AS batch_no, b.business_date AS business_date, \
         b.status AS status, b.upstream_batch_no AS upstream_batch_no, {}, \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'transactions'), 0) AS last_id",
        fresh_columns(terminal, merchant)
    )
}

/// The terminal's open batch, [`fresh_columns`] on it, and the id the next transaction
/// row will get, in one statement: the writer lock taken at `BEGIN IMMEDIATE` orders it after
/// every other write. Binds `$1` terminal ref, `$2` request id, `$3` trace number, `$4`
/// merchant id. Written once: every sale asks it.
static BATCH_CHECKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM batches b \
         WHERE b.merchant_id = $4 AND b.terminal_ref = $1 AND b.status = 'open'",
        checked_columns("$1", "$4")
    )
});

/// The session behind the token `$1` and its terminal, and [`BATCH_CHECKED`]'s answers on
/// the terminal's open batch when it has one (`$2` request id, `$3` trace number). Written
/// once: every sale asks it.
static SESSION_CHECKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS}, {} FROM {SESSION_JOIN} \
         LEFT JOIN batches b \
           ON b.merchant_id = t.merchant_id AND b.terminal_ref = t.id AND b.status = 'open' \
         WHERE s.token_hash = $1",
        checked_columns("t.id", "t.merchant_id")
    )
});

/// [`Checked`] from a row of [`checked_columns`], `None` when the terminal had no open batch
/// (the columns of an outer join left empty).
fn checked_of(row: &sqlx::any::AnyRow) -> ApiResult<Option<Checked>> {
    if row.try_get::<Option<i64>, _>("id")?.is_none() {
        return Ok(None);
    }
    Ok(Some(Checked {
        batch: BatchRow::from_row(row)?,
        fresh: Fresh::from_row(row)?,
        next_id: Some(row.try_get::<i64, _>("last_id")? + 1),
        jobs: owes_jobs(row)?,
    }))
}

/// [`Tx::session_checked`](super::Tx::session_checked) in one trip, `BEGIN IMMEDIATE`
/// included ([`SESSION_CHECKED`]).
pub async fn session_checked(
    tx: &mut Tx,
    token_hash: &str,
    request_id: &RequestId,
    trace_no: TraceNo,
) -> ApiResult<Option<(SessionRow, Option<Checked>)>> {
    let sql = format!("{}{}", tx.begin_prefix(), *SESSION_CHECKED);
    let rows = sqlx::query(&sql)
        .bind(token_hash)
        .bind(request_id.as_str())
        .bind(i64::from(trace_no.get()))
        .fetch_all(&mut **tx)
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some((SessionRow::from_row(row)?, checked_of(row)?)))
}

/// [`Tx::open_batch_checked`] in one trip, `BEGIN IMMEDIATE` included on a transaction begun
/// by hand.
pub async fn open_batch_checked(
    tx: &mut Tx,
    t: TerminalRef<'_>,
    request_id: &RequestId,
    trace_no: TraceNo,
) -> ApiResult<Checked> {
    let checked: &str = &BATCH_CHECKED;
    let first = format!("{}{checked}", tx.begin_prefix());
    let rows = sqlx::query(&first)
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(i64::from(trace_no.get()))
        .bind(t.merchant_id)
        .fetch_all(&mut **tx)
        .await?;
    let row = match rows.into_iter().next() {
        Some(row) => row,
        None => {
            // No open batch: `open_batch` repairs that (rare, so a few more trips).
            tx.open_batch(t).await?;
            sqlx::query(checked)
                .bind(t.id)
                .bind(request_id.as_str())
                .bind(i64::from(trace_no.get()))
                .bind(t.merchant_id)
                .fetch_one(&mut **tx)
                .await?
        }
    };
    checked_of(&row)?.ok_or_else(|| super::bad_row("batches", "no open batch"))
}

/// One string, so one trip: the transaction row, its answer (R9), its webhook event if any
/// ([`booking`](super::fresh::booking)), `COMMIT`. The worker stops at the first statement
/// that fails, so `COMMIT` runs only when every insert did.
pub async fn book_and_commit(
    tx: &mut Tx,
    row: &NewTransaction<'_>,
    answer: &StoredAnswer,
    event: Option<&NewEvent>,
) -> ApiResult<()> {
    let mut sql = format!("{}; {INSERT_ANSWER} {BOOKED_ANSWER}", insert_sql(NEW_ID));
    if event.is_some() {
        sql = format!("{sql}; {}", insert_event_sql(3, 23));
    }
    // `COMMIT`, or what leaves the sale for its group's commit (docs/architecture.md).
    let end = tx.end_sql();
    if !end.is_empty() {
        sql = format!("{sql}; {end}");
    }
    booking(&sql, row, answer, event).execute(&mut **tx).await?;
    Ok(())
}
