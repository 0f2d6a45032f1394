//! Sessions (an operator signed in on a terminal) and the R16 password lockout.

use super::{number_column, Db, SessionEnd, TerminalRef, TerminalRow, Tx};
use crate::error::ApiResult;
use softpos::ids::TraceNo;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::sync::LazyLock;

/// A session as stored.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Its terminal.
    pub terminal: TerminalRow,
    /// `"00"`..`"99"`.
    pub operator: String,
    /// When it runs out.
    pub expires_at: i64,
    /// Why it ended, if it did.
    pub ended_by: Option<SessionEnd>,
    /// Whether it ended.
    pub ended: bool,
}

/// A session's columns and its terminal's, from `sessions s JOIN terminals t`
/// ([`SESSION_JOIN`]); the terminal's row id as `terminal_ref`.
pub(super) const SESSION_COLUMNS: &str = "s.operator, s.expires_at, s.ended_at, s.ended_by, \
     t.id AS terminal_ref, t.merchant_id AS merchant_id, t.terminal_id, t.currency, t.lane_of";

/// A session with its terminal; the one asked for is `WHERE s.token_hash = $1`.
pub(super) const SESSION_JOIN: &str = "sessions s \
     JOIN terminals t ON t.merchant_id = s.merchant_id AND t.id = s.terminal_ref";

/// The session behind the token `$1`, with its terminal. Written once: every request with a
/// session asks it.
pub(super) static SESSION_BY_TOKEN: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SESSION_COLUMNS} FROM {SESSION_JOIN} WHERE s.token_hash = $1")
});

impl SessionRow {
    /// Reads the [`SESSION_COLUMNS`].
    pub(super) fn from_row(row: &AnyRow) -> ApiResult<SessionRow> {
        let ended_by = row.try_get::<Option<String>, _>("ended_by")?;
        Ok(SessionRow {
            terminal: TerminalRow::read(row, "terminal_ref")?,
            operator: row.try_get("operator")?,
            expires_at: row.try_get("expires_at")?,
            ended_by: ended_by.as_deref().map(SessionEnd::parse).transpose()?,
            ended: row.try_get::<Option<i64>, _>("ended_at")?.is_some(),
        })
    }
}

impl Db {
    /// The session whose token hashes to `token_hash`. The token is what tells the merchant, so
    /// this lookup alone (with the terminal key's) does not name one.
    pub async fn session(&self, token_hash: &str) -> ApiResult<Option<SessionRow>> {
        sqlx::query(&SESSION_BY_TOKEN)
            .bind(token_hash)
            .fetch_optional(&self.credentials)
            .await?
            .as_ref()
            .map(SessionRow::from_row)
            .transpose()
    }

    /// When an operator's lock on a terminal runs out, if it has a row.
    pub async fn locked_until(&self, t: TerminalRef<'_>, operator: &str) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT locked_until FROM operator_locks \
             WHERE merchant_id = $3 AND terminal_ref = $1 AND operator = $2",
        )
        .bind(t.id)
        .bind(operator)
        .bind(t.merchant_id)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get("locked_until"))
        .transpose()?)
    }
}

impl Tx {
    /// Ends the terminal's live sessions; how many there were.
    pub async fn end_sessions(
        &mut self,
        t: TerminalRef<'_>,
        by: SessionEnd,
        now: i64,
    ) -> ApiResult<u64> {
        Ok(sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = $2 \
             WHERE merchant_id = $4 AND terminal_ref = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(by.as_str())
        .bind(t.id)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?
        .rows_affected())
    }

    /// Ends one session of the merchant if it is live; whether it was.
    pub async fn end_session(
        &mut self,
        merchant_id: &str,
        token_hash: &str,
        by: SessionEnd,
        now: i64,
    ) -> ApiResult<bool> {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = $2 \
             WHERE merchant_id = $4 AND token_hash = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(by.as_str())
        .bind(token_hash)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(ended == 1)
    }

    /// Starts a session.
    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        t: TerminalRef<'_>,
        operator: &str,
        now: i64,
        expires_at: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO sessions (merchant_id, token_hash, terminal_ref, operator, created_at, \
             expires_at) VALUES ($6, $1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(t.id)
        .bind(operator)
        .bind(now)
        .bind(expires_at)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The trace number of the terminal's newest transaction.
    pub async fn last_trace_no(&mut self, t: TerminalRef<'_>) -> ApiResult<Option<TraceNo>> {
        Ok(sqlx::query(
            "SELECT trace_no FROM transactions WHERE merchant_id = $2 AND terminal_ref = $1 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(t.id)
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?
        .map(|r| number_column::<TraceNo>(&r, "trace_no"))
        .transpose()?)
    }

    /// Counts a password attempt of `operator` on a terminal, in one statement, so concurrent
    /// attempts in one process or several on one PostgreSQL are counted one by one. Returns
    /// the attempt's number since the last right password, or `None` while the operator is
    /// locked there. Attempt `lock_after` sets the lock until `lock_until`; a lock that has run
    /// out starts the count again.
    pub async fn take_attempt(
        &mut self,
        t: TerminalRef<'_>,
        operator: &str,
        now: i64,
        lock_after: i64,
        lock_until: i64,
    ) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "INSERT INTO operator_locks (merchant_id, terminal_ref, operator, attempts, \
             locked_until) VALUES ($6, $1, $2, 1, 0) \
             ON CONFLICT (merchant_id, terminal_ref, operator) DO UPDATE SET \
             attempts = CASE WHEN operator_locks.locked_until <> 0 THEN 1 \
               ELSE operator_locks.attempts + 1 END, \
             locked_until = CASE WHEN operator_locks.locked_until = 0 \
               AND operator_locks.attempts + 1 >= $4 THEN $5 ELSE 0 END \
             WHERE operator_locks.locked_until <= $3 \
             AND (operator_locks.locked_until <> 0 OR operator_locks.attempts < $4) \
             RETURNING attempts",
        )
        .bind(t.id)
        .bind(operator)
        .bind(now)
        .bind(lock_after)
        .bind(lock_until)
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?
        .map(|row| row.try_get::<i64, _>("attempts"))
        .transpose()?)
    }

    /// A right password: the operator's count on the terminal starts again.
    pub async fn clear_attempts(&mut self, t: TerminalRef<'_>, operator: &str) -> ApiResult<()> {
        sqlx::query(
            "UPDATE operator_locks SET attempts = 0, locked_until = 0 \
             WHERE merchant_id = $3 AND terminal_ref = $1 AND operator = $2",
        )
        .bind(t.id)
        .bind(operator)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Lifts an operator's locks on one terminal of the merchant, or on all of them; how many
    /// rows it cleared.
    pub async fn delete_locks(
        &mut self,
        merchant_id: &str,
        operator: &str,
        terminal_id: Option<&str>,
    ) -> ApiResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM operator_locks WHERE merchant_id = $2 AND operator = $1 \
             AND terminal_ref IN (SELECT id FROM terminals WHERE merchant_id = $2 \
              AND ($3 IS NULL OR terminal_id = $3))",
        )
        .bind(operator)
        .bind(merchant_id)
        .bind(terminal_id)
        .execute(&mut **self)
        .await?
        .rows_affected())
    }
}
