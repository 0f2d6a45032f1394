//! Merchants, terminals, their activation codes and keys, and operators.

use super::columns::bad_row;
use super::{Db, Tx};
use crate::error::ApiResult;
use crate::store::now_ms;
use softpos::terminal::money::ConfirmAbove;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A terminal, as its key or a session finds it.
#[derive(Debug, Clone)]
pub struct TerminalRow {
    /// Row id.
    pub terminal_ref: i64,
    /// 15 digits.
    pub merchant_id: String,
    /// 8 characters.
    pub terminal_id: String,
    /// ISO 4217.
    pub currency: String,
    /// A lane of a checkout terminal (R23): its sessions trade sales only.
    pub lane: bool,
}

/// A terminal of a merchant: the key every merchant's row is found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalRef<'a> {
    /// 15 digits.
    pub merchant_id: &'a str,
    /// The terminal's row id.
    pub id: i64,
}

impl TerminalRow {
    /// Its key.
    pub fn key(&self) -> TerminalRef<'_> {
        TerminalRef {
            merchant_id: &self.merchant_id,
            id: self.terminal_ref,
        }
    }

    /// Reads `id, merchant_id, terminal_id, currency, lane_of`.
    pub fn from_row(row: &AnyRow) -> Result<TerminalRow, sqlx::Error> {
        TerminalRow::read(row, "id")
    }

    /// Reads `merchant_id, terminal_id, currency, lane_of`, and the row id from the column named
    /// `id`.
    pub fn read(row: &AnyRow, id: &str) -> Result<TerminalRow, sqlx::Error> {
        Ok(TerminalRow {
            terminal_ref: row.try_get(id)?,
            merchant_id: row.try_get("merchant_id")?,
            terminal_id: row.try_get("terminal_id")?,
            currency: row.try_get("currency")?,
            lane: row.try_get::<Option<i64>, _>("lane_of")?.is_some(),
        })
    }
}

impl Db {
    /// The terminal whose key hashes to `key_hash`. The key is what tells the merchant, so this
    /// lookup alone (with the session token's) does not name one.
    pub async fn terminal_by_key_hash(&self, key_hash: &str) -> ApiResult<Option<TerminalRow>> {
        let row = sqlx::query(
            "SELECT id, merchant_id, terminal_id, currency, lane_of FROM terminals \
             WHERE key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&self.credentials)
        .await?;
        Ok(row.map(|r| TerminalRow::from_row(&r)).transpose()?)
    }

    /// An operator's password hash.
    pub async fn password_hash(
        &self,
        merchant_id: &str,
        operator: &str,
    ) -> ApiResult<Option<String>> {
        Ok(sqlx::query(
            "SELECT password_hash FROM operators WHERE merchant_id = $1 AND operator = $2",
        )
        .bind(merchant_id)
        .bind(operator)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get::<String, _>("password_hash"))
        .transpose()?)
    }
}

impl Tx {
    /// The terminal a live activation code of `merchant_id`/`terminal_id` belongs to.
    pub async fn terminal_of_code(
        &mut self,
        code_hash: &str,
        merchant_id: &str,
        terminal_id: &str,
        now: i64,
    ) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT t.id FROM activation_codes c \
             JOIN terminals t ON t.merchant_id = c.merchant_id AND t.id = c.terminal_ref \
             WHERE c.merchant_id = $3 AND c.code_hash = $1 AND c.used_at IS NULL \
             AND c.expires_at > $2 AND t.terminal_id = $4",
        )
        .bind(code_hash)
        .bind(now)
        .bind(merchant_id)
        .bind(terminal_id)
        .fetch_optional(&mut **self)
        .await?
        .map(|row| row.try_get("id"))
        .transpose()?)
    }

    /// Marks an activation code used.
    pub async fn use_code(
        &mut self,
        merchant_id: &str,
        code_hash: &str,
        now: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE merchant_id = $3 AND code_hash = $2",
        )
        .bind(now)
        .bind(code_hash)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Gives a terminal a new key.
    pub async fn set_terminal_key(&mut self, t: TerminalRef<'_>, key_hash: &str) -> ApiResult<()> {
        sqlx::query("UPDATE terminals SET key_hash = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(key_hash)
            .bind(t.id)
            .bind(t.merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Makes the merchant unless it is there.
    pub async fn ensure_merchant(&mut self, merchant_id: &str) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO merchants (merchant_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(merchant_id)
        .bind(now_ms())
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Sets the merchant's name as its slips print it (R21).
    pub async fn set_merchant_name(&mut self, merchant_id: &str, name: &str) -> ApiResult<()> {
        sqlx::query("UPDATE merchants SET merchant_name = $1 WHERE merchant_id = $2")
            .bind(name)
            .bind(merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// The merchant's name, when one was given (R21).
    pub async fn merchant_name(&mut self, merchant_id: &str) -> ApiResult<Option<String>> {
        Ok(
            sqlx::query("SELECT merchant_name FROM merchants WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_optional(&mut **self)
                .await?
                .map(|row| row.try_get("merchant_name"))
                .transpose()?
                .flatten(),
        )
    }

    /// A terminal of the merchant: its row id and currency.
    pub async fn find_terminal(
        &mut self,
        merchant_id: &str,
        terminal_id: &str,
    ) -> ApiResult<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT id, currency FROM terminals WHERE merchant_id = $1 AND terminal_id = $2",
        )
        .bind(merchant_id)
        .bind(terminal_id)
        .fetch_optional(&mut **self)
        .await?;
        Ok(row
            .map(|row| -> Result<_, sqlx::Error> {
                Ok((row.try_get("id")?, row.try_get("currency")?))
            })
            .transpose()?)
    }

    /// A terminal's currency.
    pub async fn terminal_currency(&mut self, t: TerminalRef<'_>) -> ApiResult<String> {
        Ok(
            sqlx::query("SELECT currency FROM terminals WHERE merchant_id = $2 AND id = $1")
                .bind(t.id)
                .bind(t.merchant_id)
                .fetch_one(&mut **self)
                .await?
                .try_get("currency")?,
        )
    }

    /// A terminal's confirmation threshold (minor units).
    pub async fn confirm_above(&mut self, t: TerminalRef<'_>) -> ApiResult<ConfirmAbove> {
        let minor: i64 =
            sqlx::query("SELECT confirm_above FROM terminals WHERE merchant_id = $2 AND id = $1")
                .bind(t.id)
                .bind(t.merchant_id)
                .fetch_one(&mut **self)
                .await?
                .try_get("confirm_above")?;
        ConfirmAbove::try_from(minor)
            .map_err(|_| bad_row("terminals.confirm_above", &minor.to_string()))
    }

    /// Sets a terminal's confirmation threshold.
    pub async fn set_confirm_above(
        &mut self,
        t: TerminalRef<'_>,
        threshold: ConfirmAbove,
    ) -> ApiResult<()> {
        sqlx::query("UPDATE terminals SET confirm_above = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(threshold.get())
            .bind(t.id)
            .bind(t.merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Adds a terminal; returns its row id.
    pub async fn insert_terminal(
        &mut self,
        merchant_id: &str,
        terminal_id: &str,
        currency: &str,
        now: i64,
    ) -> ApiResult<i64> {
        Ok(sqlx::query(
            "INSERT INTO terminals (merchant_id, terminal_id, currency, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(merchant_id)
        .bind(terminal_id)
        .bind(currency)
        .bind(now)
        .fetch_one(&mut **self)
        .await?
        .try_get("id")?)
    }

    /// Ends every unused activation code of a terminal, then issues one.
    pub async fn replace_code(
        &mut self,
        t: TerminalRef<'_>,
        code_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE activation_codes SET used_at = $1 \
             WHERE merchant_id = $3 AND terminal_ref = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(t.id)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?;
        sqlx::query(
            "INSERT INTO activation_codes (merchant_id, code_hash, terminal_ref, expires_at) \
             VALUES ($4, $1, $2, $3)",
        )
        .bind(code_hash)
        .bind(t.id)
        .bind(expires_at)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Creates or replaces an operator's password hash.
    pub async fn upsert_operator(
        &mut self,
        merchant_id: &str,
        operator: &str,
        hash: &str,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO operators (merchant_id, operator, password_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id, operator) DO UPDATE \
             SET password_hash = excluded.password_hash",
        )
        .bind(merchant_id)
        .bind(operator)
        .bind(hash)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
