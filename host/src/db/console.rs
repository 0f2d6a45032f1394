//! R22: the SQL of the merchant's console: merchant users, their lockout and sessions, and
//! the reads the console's pages are made of. Every statement names the merchant, so a console
//! session can never read another merchant's row.

use super::columns::{bad_row, number_column};
use super::{Db, SessionEnd, TerminalRef, Tx, STANDBY};
use crate::error::ApiResult;
use softpos::ids::BatchNo;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A console session as stored.
#[derive(Debug, Clone)]
pub struct ConsoleSessionRow {
    /// Its merchant: the only one it sees.
    pub merchant_id: String,
    /// The merchant user signed in.
    pub user_name: String,
    /// When it runs out.
    pub expires_at: i64,
}

/// A terminal of the merchant as the console lists it.
#[derive(Debug, Clone)]
pub struct ConsoleTerminalRow {
    /// Row id.
    pub id: i64,
    /// 8 characters.
    pub terminal_id: String,
    /// ISO 4217.
    pub currency: String,
    /// Whether it has a terminal key.
    pub activated: bool,
    /// A checkout terminal (R23): the storefront origin it is bound to.
    pub checkout_origin: Option<String>,
}

/// A terminal's newest session.
#[derive(Debug, Clone)]
pub struct NewestSession {
    /// `"00"`..`"99"`.
    pub operator: String,
    /// When it began.
    pub created_at: i64,
    /// When it runs out.
    pub expires_at: i64,
    /// When it ended, if it did.
    pub ended_at: Option<i64>,
    /// Why it ended, if it did.
    pub ended_by: Option<SessionEnd>,
}

/// A batch the terminal has settled with the host: what the console's history shows.
#[derive(Debug, Clone)]
pub struct SettledBatchRow {
    /// Its terminal.
    pub terminal_id: String,
    /// The batch number.
    pub batch_no: BatchNo,
    /// `YYYY-MM-DD`.
    pub business_date: String,
    /// `settled` or `awaiting_upload`.
    pub status: String,
    /// When the terminal settled it (the close for batches settled before this was kept).
    pub settled_at: Option<i64>,
    /// The terminal's totals (JSON).
    pub terminal_totals: Option<String>,
    /// The host's totals (JSON).
    pub host_totals: Option<String>,
    /// The settlement's answer (JSON).
    pub settle_answer: String,
    /// The upload's answer (JSON), when the terminal uploaded.
    pub upload_answer: Option<String>,
    /// The acquirer's verdict, once it answered.
    pub acquirer_outcome: Option<String>,
}

const SETTLED_COLUMNS: &str = "t.terminal_id, b.batch_no, b.business_date, b.status, \
     COALESCE(b.settled_at, b.closed_at) AS settled_at, b.terminal_totals, b.host_totals, \
     b.settle_answer, b.upload_answer, b.acquirer_outcome";

impl SettledBatchRow {
    fn from_row(row: &AnyRow) -> ApiResult<SettledBatchRow> {
        Ok(SettledBatchRow {
            terminal_id: row.try_get("terminal_id")?,
            batch_no: number_column::<BatchNo>(row, "batch_no")?,
            business_date: row.try_get("business_date")?,
            status: row.try_get("status")?,
            settled_at: row.try_get("settled_at")?,
            terminal_totals: row.try_get("terminal_totals")?,
            host_totals: row.try_get("host_totals")?,
            settle_answer: row.try_get("settle_answer")?,
            upload_answer: row.try_get("upload_answer")?,
            acquirer_outcome: row.try_get("acquirer_outcome")?,
        })
    }
}

/// A cut-off the host ran.
#[derive(Debug, Clone)]
pub struct CutoffRow {
    /// The business date it closed.
    pub business_date: String,
    /// When.
    pub ran_at: i64,
    /// Batches it closed.
    pub closed_batches: i64,
}

impl Db {
    /// A merchant user's password hash.
    pub async fn merchant_user_hash(
        &self,
        merchant_id: &str,
        user: &str,
    ) -> ApiResult<Option<String>> {
        Ok(sqlx::query(
            "SELECT password_hash FROM merchant_users WHERE merchant_id = $1 AND user_name = $2",
        )
        .bind(merchant_id)
        .bind(user)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get::<String, _>("password_hash"))
        .transpose()?)
    }

    /// When a merchant user's console lock runs out, if it has a row.
    pub async fn console_locked_until(
        &self,
        merchant_id: &str,
        user: &str,
    ) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT locked_until FROM console_locks WHERE merchant_id = $1 AND user_name = $2",
        )
        .bind(merchant_id)
        .bind(user)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get("locked_until"))
        .transpose()?)
    }

    /// The console session whose token hashes to `token_hash`.
    pub async fn console_session(&self, token_hash: &str) -> ApiResult<Option<ConsoleSessionRow>> {
        let row = sqlx::query(
            "SELECT merchant_id, user_name, expires_at FROM console_sessions \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ConsoleSessionRow {
            merchant_id: row.try_get("merchant_id")?,
            user_name: row.try_get("user_name")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// The merchant's terminals, by terminal id; a checkout terminal's lanes (R23), one per
    /// customer browser, are not among them: the console shows the checkout terminal instead.
    pub async fn merchant_terminals(
        &self,
        merchant_id: &str,
    ) -> ApiResult<Vec<ConsoleTerminalRow>> {
        let rows = sqlx::query(
            "SELECT id, terminal_id, currency, \
             CAST(CASE WHEN key_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS activated, \
             checkout_origin \
             FROM terminals WHERE merchant_id = $1 AND lane_of IS NULL ORDER BY terminal_id",
        )
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConsoleTerminalRow {
                    id: row.try_get("id")?,
                    terminal_id: row.try_get("terminal_id")?,
                    currency: row.try_get("currency")?,
                    activated: row.try_get::<i64, _>("activated")? != 0,
                    checkout_origin: row.try_get("checkout_origin")?,
                })
            })
            .collect()
    }

    /// The terminal's newest session, live or ended.
    pub async fn newest_session(&self, t: TerminalRef<'_>) -> ApiResult<Option<NewestSession>> {
        let row = sqlx::query(
            "SELECT operator, created_at, expires_at, ended_at, ended_by FROM sessions \
             WHERE merchant_id = $1 AND terminal_ref = $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let ended_by = row.try_get::<Option<String>, _>("ended_by")?;
        Ok(Some(NewestSession {
            operator: row.try_get("operator")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            ended_at: row.try_get("ended_at")?,
            ended_by: ended_by.as_deref().map(SessionEnd::parse).transpose()?,
        }))
    }

    /// When the terminal's newest transaction was booked.
    pub async fn newest_transaction_at(&self, t: TerminalRef<'_>) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT created_at FROM transactions WHERE merchant_id = $1 AND terminal_ref = $2 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get("created_at"))
        .transpose()?)
    }

    /// When the newest transaction of any lane of the checkout terminal was booked (R23).
    pub async fn newest_lane_transaction_at(&self, t: TerminalRef<'_>) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT x.created_at FROM transactions x \
             JOIN terminals l ON l.merchant_id = x.merchant_id AND l.id = x.terminal_ref \
             WHERE x.merchant_id = $1 AND l.lane_of = $2 ORDER BY x.id DESC LIMIT 1",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get("created_at"))
        .transpose()?)
    }

    /// The terminal's batches closed at a cut-off and not yet settled by it (R15).
    pub async fn closed_by_host_count(&self, t: TerminalRef<'_>) -> ApiResult<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM batches WHERE merchant_id = $1 AND terminal_ref = $2 \
             AND status = 'closed_by_host'",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .fetch_one(self.reader())
        .await?
        .try_get("n")?)
    }

    /// Reversals of the terminal's transactions the host still owes the acquirer (R8
    /// upstream): due ones, not the standby ones kept in case the terminal asks.
    pub async fn owed_reversal_count(&self, t: TerminalRef<'_>) -> ApiResult<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM upstream_jobs WHERE merchant_id = $1 \
             AND terminal_ref = $2 AND kind = 'reversal' AND next_at < $3",
        )
        .bind(t.merchant_id)
        .bind(t.id)
        .bind(STANDBY)
        .fetch_one(self.reader())
        .await?
        .try_get("n")?)
    }

    /// The terminal's batch settled last.
    pub async fn last_settled_batch(
        &self,
        t: TerminalRef<'_>,
    ) -> ApiResult<Option<SettledBatchRow>> {
        let sql = format!(
            "SELECT {SETTLED_COLUMNS} FROM batches b \
             JOIN terminals t ON t.merchant_id = b.merchant_id AND t.id = b.terminal_ref \
             WHERE b.merchant_id = $1 AND b.terminal_ref = $2 AND b.settle_answer IS NOT NULL \
             ORDER BY COALESCE(b.settled_at, b.closed_at) DESC, b.id DESC LIMIT 1"
        );
        sqlx::query(&sql)
            .bind(t.merchant_id)
            .bind(t.id)
            .fetch_optional(self.reader())
            .await?
            .map(|row| SettledBatchRow::from_row(&row))
            .transpose()
    }

    /// The merchant's settled batches of business dates `from..=to`, of one terminal or all.
    pub async fn settled_batches(
        &self,
        merchant_id: &str,
        from: &str,
        to: &str,
        terminal_id: Option<&str>,
    ) -> ApiResult<Vec<SettledBatchRow>> {
        let sql = format!(
            "SELECT {SETTLED_COLUMNS} FROM batches b \
             JOIN terminals t ON t.merchant_id = b.merchant_id AND t.id = b.terminal_ref \
             WHERE b.merchant_id = $1 AND b.settle_answer IS NOT NULL \
             AND b.business_date >= $2 AND b.business_date <= $3 \
             AND ($4 IS NULL OR t.terminal_id = $4) \
             ORDER BY b.business_date, t.terminal_id, b.batch_no"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(from)
            .bind(to)
            .bind(terminal_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(SettledBatchRow::from_row).collect()
    }

    /// The host's cut-offs of business dates `from..=to`.
    pub async fn cutoffs_between(&self, from: &str, to: &str) -> ApiResult<Vec<CutoffRow>> {
        let rows = sqlx::query(
            "SELECT business_date, ran_at, closed_batches FROM cutoffs \
             WHERE business_date >= $1 AND business_date <= $2 ORDER BY business_date",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CutoffRow {
                    business_date: row.try_get("business_date")?,
                    ran_at: row.try_get("ran_at")?,
                    closed_batches: row.try_get("closed_batches")?,
                })
            })
            .collect()
    }

    /// When the host last ran a cut-off.
    pub async fn last_cutoff_at(&self) -> ApiResult<Option<i64>> {
        Ok(sqlx::query("SELECT MAX(ran_at) AS at FROM cutoffs")
            .fetch_one(self.reader())
            .await?
            .try_get("at")?)
    }
}

impl Tx {
    /// Creates a merchant user or replaces its password.
    pub async fn upsert_merchant_user(
        &mut self,
        merchant_id: &str,
        user: &str,
        hash: &str,
        now: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO merchant_users (merchant_id, user_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, user_name) DO UPDATE \
             SET password_hash = excluded.password_hash",
        )
        .bind(merchant_id)
        .bind(user)
        .bind(hash)
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Forgets a merchant user's wrong passwords and lock.
    pub async fn delete_console_lock(&mut self, merchant_id: &str, user: &str) -> ApiResult<()> {
        sqlx::query("DELETE FROM console_locks WHERE merchant_id = $1 AND user_name = $2")
            .bind(merchant_id)
            .bind(user)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Counts a console password attempt, as [`Tx::take_attempt`] counts an operator's: the
    /// attempt's number since the last right password, or `None` while the user is locked.
    pub async fn take_console_attempt(
        &mut self,
        merchant_id: &str,
        user: &str,
        now: i64,
        lock_after: i64,
        lock_until: i64,
    ) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "INSERT INTO console_locks (merchant_id, user_name, attempts, locked_until) \
             VALUES ($1, $2, 1, 0) \
             ON CONFLICT (merchant_id, user_name) DO UPDATE SET \
             attempts = CASE WHEN console_locks.locked_until <> 0 THEN 1 \
               ELSE console_locks.attempts + 1 END, \
             locked_until = CASE WHEN console_locks.locked_until = 0 \
               AND console_locks.attempts + 1 >= $4 THEN $5 ELSE 0 END \
             WHERE console_locks.locked_until <= $3 \
             AND (console_locks.locked_until <> 0 OR console_locks.attempts < $4) \
             RETURNING attempts",
        )
        .bind(merchant_id)
        .bind(user)
        .bind(now)
        .bind(lock_after)
        .bind(lock_until)
        .fetch_optional(&mut **self)
        .await?
        .map(|row| row.try_get::<i64, _>("attempts"))
        .transpose()?)
    }

    /// Starts a console session (and forgets the merchant's console sessions that ran out).
    pub async fn insert_console_session(
        &mut self,
        merchant_id: &str,
        token_hash: &str,
        user: &str,
        now: i64,
        expires_at: i64,
    ) -> ApiResult<()> {
        sqlx::query("DELETE FROM console_sessions WHERE merchant_id = $1 AND expires_at <= $2")
            .bind(merchant_id)
            .bind(now)
            .execute(&mut **self)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (merchant_id, token_hash, user_name, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(merchant_id)
        .bind(token_hash)
        .bind(user)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The console's sign-off of a terminal: its live sessions end, and its newest session,
    /// when the cut-off ended it, is marked as the console's too (the terminal has not been
    /// told yet, and its operator never signed off). How many sessions it marked.
    pub async fn console_end_sessions(&mut self, t: TerminalRef<'_>, now: i64) -> ApiResult<u64> {
        let live = self.end_sessions(t, SessionEnd::Console, now).await?;
        let over_cutoff = sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = $2 \
             WHERE merchant_id = $3 AND terminal_ref = $4 AND ended_by = $5 \
             AND created_at = (SELECT MAX(created_at) FROM sessions \
               WHERE merchant_id = $3 AND terminal_ref = $4)",
        )
        .bind(now)
        .bind(SessionEnd::Console.as_str())
        .bind(t.merchant_id)
        .bind(t.id)
        .bind(SessionEnd::Cutoff.as_str())
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(live + over_cutoff)
    }
}

/// A stored settlement status the console does not know is a bad row.
pub fn settled_status(status: &str) -> ApiResult<&'static str> {
    match status {
        "settled" => Ok("settled"),
        "awaiting_upload" => Ok("awaiting_upload"),
        other => Err(bad_row("batches.status", other)),
    }
}
