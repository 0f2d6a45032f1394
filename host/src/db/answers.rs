//! R9: the first answer to each request id, kept with the request's effects.

use super::{bad_row, Scope, TerminalRef, Tx};
use crate::error::ApiResult;
use crate::store::now_ms;
use softpos::ids::RequestId;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// An answer kept for a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The fingerprint of the request it answered.
    pub fingerprint: String,
    /// HTTP status.
    pub status: u16,
    /// JSON text.
    pub body: String,
}

/// Where an answer is kept, and its columns. The values follow in each use.
pub const INSERT_ANSWER: &str =
    "INSERT INTO answers (merchant_id, terminal_ref, scope, request_id, fingerprint, status, body, \
     at)";

/// The HTTP status of a stored answer; out of range, the row is bad.
fn answer_status(row: &AnyRow) -> ApiResult<u16> {
    let status: i64 = row.try_get("status")?;
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| bad_row("answers.status", &status.to_string()))
}

/// The answer kept for a request id, on a reader or inside a transaction.
pub async fn stored_answer<'c>(
    conn: impl Executor<'c, Database = Any>,
    t: TerminalRef<'_>,
    scope: Scope,
    request_id: &RequestId,
) -> ApiResult<Option<StoredAnswer>> {
    let row = sqlx::query(
        "SELECT fingerprint, status, body FROM answers \
         WHERE merchant_id = $4 AND terminal_ref = $1 AND scope = $2 AND request_id = $3",
    )
    .bind(t.id)
    .bind(scope.as_str())
    .bind(request_id.as_str())
    .bind(t.merchant_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| -> ApiResult<StoredAnswer> {
        Ok(StoredAnswer {
            fingerprint: row.try_get("fingerprint")?,
            status: answer_status(&row)?,
            body: row.try_get("body")?,
        })
    })
    .transpose()
}

impl Tx {
    /// The answer kept for a request id, seen from inside this transaction.
    pub async fn stored_answer(
        &mut self,
        t: TerminalRef<'_>,
        scope: Scope,
        request_id: &RequestId,
    ) -> ApiResult<Option<StoredAnswer>> {
        stored_answer(&mut **self, t, scope, request_id).await
    }

    /// Keeps the answer to a request id, committed with its effects.
    pub async fn store_answer(
        &mut self,
        t: TerminalRef<'_>,
        scope: Scope,
        request_id: &RequestId,
        answer: &StoredAnswer,
        at: i64,
    ) -> ApiResult<()> {
        self.insert_answer(t, scope, request_id, answer, at, None)
            .await
    }

    /// Keeps the answer to a settlement or upload request id, tied to the batch it tells of,
    /// so the acquirer's verdict on the batch reaches it once known (R11).
    pub async fn store_batch_answer(
        &mut self,
        t: TerminalRef<'_>,
        scope: Scope,
        request_id: &RequestId,
        answer: &StoredAnswer,
        batch_id: i64,
    ) -> ApiResult<()> {
        self.insert_answer(t, scope, request_id, answer, now_ms(), Some(batch_id))
            .await
    }

    async fn insert_answer(
        &mut self,
        t: TerminalRef<'_>,
        scope: Scope,
        request_id: &RequestId,
        answer: &StoredAnswer,
        at: i64,
        batch_id: Option<i64>,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO answers (merchant_id, terminal_ref, scope, request_id, fingerprint, \
             status, body, at, batch_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .bind(scope.as_str())
        .bind(request_id.as_str())
        .bind(&answer.fingerprint)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
        .bind(at)
        .bind(batch_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The answer body given to a transaction that stands (booked, answered, not reversed)
    /// with status 200.
    pub async fn standing_answer(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
    ) -> ApiResult<Option<String>> {
        let row = sqlx::query(
            "SELECT a.status AS status, a.body AS body FROM answers a \
             JOIN transactions t ON t.merchant_id = a.merchant_id \
             AND t.terminal_ref = a.terminal_ref AND t.request_id = a.request_id \
             WHERE a.merchant_id = $3 AND a.terminal_ref = $1 AND a.scope = 'tx' \
             AND a.request_id = $2 AND t.status IN ('approved', 'declined')",
        )
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("status")? != 200 {
            return Ok(None);
        }
        Ok(Some(row.try_get("body")?))
    }
}

impl Tx {
    /// The key of the card's part of idempotency fingerprints, as hex: `fresh` is kept unless
    /// a key is there already. The insert-if-absent lets several hosts on one PostgreSQL start
    /// together and agree on one key.
    pub async fn fingerprint_key(&mut self, fresh: &str) -> ApiResult<String> {
        sqlx::query(
            "INSERT INTO host_secrets (name, value) VALUES ('fingerprint_key', $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(fresh)
        .execute(&mut **self)
        .await?;
        Ok(
            sqlx::query("SELECT value FROM host_secrets WHERE name = 'fingerprint_key'")
                .fetch_one(&mut **self)
                .await?
                .try_get("value")?,
        )
    }
}
