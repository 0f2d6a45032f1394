//! PostgreSQL: a sale the acquirer decided at once, booked in one round trip by the function
//! of migration 0020 (docs/architecture.md, "A sale's trips to the database").

use super::answers::StoredAnswer;
use super::fresh::tx_answer;
use super::{BatchRow, Db, Dialect, NewEvent, NewTransaction};
use crate::error::{ApiError, ApiResult};
use sqlx::Row;
use std::sync::atomic::Ordering;

/// Ids drawn from the transactions' sequence in one trip ([`Db::draw_ids`]): enough that a
/// busy host draws once every so many sales, few enough that a restart loses few.
const ID_BLOCK: i64 = 32;

/// The call: `$1`..`$4` the state the host took for granted, `$5`..`$22` the row (in
/// `insert_sql`'s order), `$23`..`$26` its answer, `$27`..`$30` its event or NULLs.
const BOOK_DECIDED: &str = "SELECT book_decided_sale($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, \
     $29, $30) AS verdict";

/// What [`Db::book_decided`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTrip {
    /// Booked with its answer (and event), committed.
    Booked,
    /// Nothing booked: the state the host took for granted no longer holds, or the request is
    /// not new. The long way decides it.
    Stale,
}

impl Db {
    /// [`ID_BLOCK`] ids for new transaction rows, drawn together. PostgreSQL only.
    pub async fn draw_ids(&self) -> ApiResult<Vec<i64>> {
        if self.dialect() != Dialect::Postgres {
            return Err(ApiError::internal("ids are drawn ahead on PostgreSQL only"));
        }
        let rows = sqlx::query(
            "SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id \
             FROM generate_series(1, $1)",
        )
        .bind(ID_BLOCK)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(ApiError::from))
            .collect()
    }

    /// Books `row` (a sale of the session whose token hashes to `token_hash`, on its open
    /// batch `batch`), its answer and its event, in one statement and its own transaction:
    /// only when the session is still live at `now`, `batch` is still the terminal's open
    /// batch and the request is new. PostgreSQL only.
    pub async fn book_decided(
        &self,
        token_hash: &str,
        now: i64,
        batch: &BatchRow,
        booking: (&NewTransaction<'_>, &StoredAnswer, Option<&NewEvent>),
    ) -> ApiResult<OneTrip> {
        let (row, answer, event) = booking;
        if self.dialect() != Dialect::Postgres {
            return Err(ApiError::internal("a sale in one trip is for PostgreSQL"));
        }
        // A write transaction, as a test counting them sees it.
        self.writes.fetch_add(1, Ordering::Relaxed);
        let query = sqlx::query(BOOK_DECIDED)
            .bind(token_hash)
            .bind(now)
            .bind(i64::from(batch.batch_no.get()))
            .bind(batch.upstream_batch_no.map(|n| i64::from(n.get())));
        let query = tx_answer(row.bind(query), answer)
            .bind(event.map(|e| e.event_id.as_str()))
            .bind(event.map(|e| e.kind))
            .bind(event.map(|e| e.body.as_str()))
            .bind(event.map(|e| e.created_at));
        let verdict: String = query.fetch_one(&self.pool).await?.try_get("verdict")?;
        if verdict == "booked" {
            return Ok(OneTrip::Booked);
        }
        // `batch` or `request`: which of the function's checks sent it the long way.
        tracing::debug!(%verdict, "a sale goes the long way");
        Ok(OneTrip::Stale)
    }
}
