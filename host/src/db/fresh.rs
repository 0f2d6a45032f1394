//! The questions every transaction request asks before it is booked (R8, R9), and the booking
//! of a sale the issuer decided at once: in as few trips as each database allows.

use super::answers::StoredAnswer;
use super::sessions::SessionRow;
use super::{
    postgres, sqlite, BatchRow, Dialect, NewEvent, NewTransaction, Scope, TerminalRef, Tx, TxState,
};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;
use sqlx::Row;

/// Was the request id reversed (`tomb`), is it booked already (`existing`), is its trace
/// number used in the batch `b` (`used`), does the terminal owe the acquirer anything
/// (`job`), in one round trip; `terminal` and `merchant` are the SQL of the terminal's row id
/// and merchant id (binds, or columns of a join). Binds `$2` request id, `$3` trace number.
/// Each sub-select is a lookup on a unique or covering index; text columns keep the result's
/// types the same on both databases.
pub(super) fn fresh_columns(terminal: &str, merchant: &str) -> String {
    format!(
        "(SELECT request_id FROM reversals \
          WHERE merchant_id = {merchant} AND terminal_ref = {terminal} AND request_id = $2) AS tomb, \
        (SELECT status FROM transactions \
          WHERE merchant_id = {merchant} AND terminal_ref = {terminal} AND request_id = $2) AS existing, \
        (SELECT request_id FROM transactions \
          WHERE merchant_id = {merchant} AND batch_id = b.id AND trace_no = $3 LIMIT 1) AS used, \
        (SELECT MIN(id) FROM upstream_jobs WHERE terminal_ref = {terminal}) AS job"
    )
}

/// What the store knows of a transaction request, in the order the rules ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fresh {
    /// Its request id was reversed: it is never booked (R8).
    Reversed,
    /// Booked and the issuer still deciding.
    Pending,
    /// Booked and answered: the stored answer stands (R9).
    Booked,
    /// Its trace number is used in the batch.
    TraceUsed,
    /// None of these: book it.
    New,
}

impl Fresh {
    /// Reads the [`fresh_columns`].
    pub(super) fn from_row(row: &AnyRow) -> ApiResult<Fresh> {
        if row.try_get::<Option<String>, _>("tomb")?.is_some() {
            return Ok(Fresh::Reversed);
        }
        if let Some(status) = row.try_get::<Option<String>, _>("existing")? {
            return Ok(match TxState::parse(&status)? {
                TxState::Pending => Fresh::Pending,
                _ => Fresh::Booked,
            });
        }
        if row.try_get::<Option<String>, _>("used")?.is_some() {
            return Ok(Fresh::TraceUsed);
        }
        Ok(Fresh::New)
    }
}

/// The terminal's open batch, locked, and what is known of the request on it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The open batch.
    pub batch: BatchRow,
    /// What is known of the request.
    pub fresh: Fresh,
    /// The id the transaction will have, when asked for and [`Fresh::New`].
    pub next_id: Option<i64>,
    /// The terminal has jobs queued for the acquirer (R8 upstream), due or not: a sale must
    /// let them go first (`Store::forward_terminal`). Asked here so that a terminal owing
    /// nothing, nearly always, costs no trip of its own.
    pub jobs: bool,
}

/// Reads the [`fresh_columns`]' `job`: whether the terminal owes the acquirer anything.
pub(super) fn owes_jobs(row: &AnyRow) -> ApiResult<bool> {
    Ok(row.try_get::<Option<i64>, _>("job")?.is_some())
}

impl Tx {
    /// The terminal's open batch, locked (R15: a cut-off waits for us), and what is known of
    /// the request on it; with `draw_id`, also the id its row will have.
    pub async fn open_batch_checked(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
        trace_no: TraceNo,
        draw_id: bool,
    ) -> ApiResult<Checked> {
        match self.dialect() {
            Dialect::Sqlite => sqlite::open_batch_checked(self, t, request_id, trace_no).await,
            Dialect::Postgres => {
                postgres::open_batch_checked(self, t, request_id, trace_no, draw_id).await
            }
        }
    }

    /// The session whose token hashes to `token_hash` and its terminal, and
    /// [`Tx::open_batch_checked`]'s answers on the terminal's open batch with the new row's id
    /// drawn: the first trip of a sale asked for with a bearer token (docs/architecture.md,
    /// "Scale"), the session checked inside it rather than in a trip of its own. `None` when
    /// no session has the token; no [`Checked`] when the terminal has no open batch to lock
    /// (the caller goes the long way, which repairs it). The session is not judged here: the
    /// caller rolls back when it is not live.
    pub async fn session_checked(
        &mut self,
        token_hash: &str,
        request_id: &RequestId,
        trace_no: TraceNo,
    ) -> ApiResult<Option<(SessionRow, Option<Checked>)>> {
        match self.dialect() {
            Dialect::Sqlite => {
                sqlite::session_checked(self, token_hash, request_id, trace_no).await
            }
            Dialect::Postgres => {
                postgres::session_checked(self, token_hash, request_id, trace_no).await
            }
        }
    }

    /// Books a transaction, the answer to it (R9) and the event it makes for the merchant's
    /// webhook, if any, and commits: in one trip with the commit on a transaction begun by hand
    /// (SQLite), in one statement and the commit on PostgreSQL. On an error the transaction is
    /// rolled back.
    pub async fn book_and_commit(
        mut self,
        row: &NewTransaction<'_>,
        answer: &StoredAnswer,
        event: Option<&NewEvent>,
    ) -> ApiResult<()> {
        if self.by_hand() {
            return match sqlite::book_and_commit(&mut self, row, answer, event).await {
                Ok(()) => Ok(self.committed().await?),
                Err(e) => {
                    // A ROLLBACK that fails leaves the writer marked as inside a transaction,
                    // and whoever takes it next cleans up.
                    self.rollback().await.ok();
                    Err(e)
                }
            };
        }
        match self.dialect() {
            Dialect::Postgres => postgres::book(&mut self, row, answer, event).await?,
            Dialect::Sqlite => {
                self.insert_transaction(row).await?;
                self.store_answer(
                    row.terminal(),
                    Scope::Tx,
                    row.request_id,
                    answer,
                    row.created_at,
                )
                .await?;
                if let Some(event) = event {
                    self.insert_event(event).await?;
                }
            }
        }
        self.commit().await?;
        Ok(())
    }
}

/// The answer's values in a booking: the row's `$3` merchant, `$2` terminal, `$5` request id
/// and `$17` time ([`insert_sql`](super::transactions::insert_sql)'s), then its own `$19`
/// scope, `$20` fingerprint, `$21` status, `$22` body.
pub(super) const BOOKED_ANSWER: &str = "VALUES ($3, $2, $19, $5, $20, $21, $22, $17)";

/// Binds a transaction's stored answer (R9) after its row: scope, fingerprint, status, body
/// ([`BOOKED_ANSWER`]'s `$19`..`$22`).
pub(super) fn tx_answer<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    answer: &'q StoredAnswer,
) -> Query<'q, Any, AnyArguments<'q>> {
    query
        .bind(Scope::Tx.as_str())
        .bind(&answer.fingerprint)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
}

/// Binds a booking's `sql`: the row's `$1`..`$18`, the answer's `$19`..`$22`
/// ([`BOOKED_ANSWER`]), the event's from `$23` (`insert_event_sql(3, 23)`, which takes the
/// row's `$3` merchant).
pub(super) fn booking<'q>(
    sql: &'q str,
    row: &'q NewTransaction<'_>,
    answer: &'q StoredAnswer,
    event: Option<&'q NewEvent>,
) -> Query<'q, Any, AnyArguments<'q>> {
    let query = tx_answer(row.bind(sqlx::query(sql)), answer);
    match event {
        Some(event) => event.bind(query),
        None => query,
    }
}
