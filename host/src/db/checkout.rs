//! Checkout terminals and their lanes (R23, migration 0014).

use super::columns::bad_row;
use super::{Db, TerminalRef, Tx};
use crate::error::ApiResult;
use softpos::terminal::money::ConfirmAbove;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A checkout terminal: what its lanes are made from.
#[derive(Debug, Clone)]
pub struct CheckoutRow {
    /// Row id.
    pub id: i64,
    /// ISO 4217.
    pub currency: String,
    /// The storefront origin it is bound to.
    pub origin: String,
    /// Its lanes' confirmation threshold.
    pub confirm_above: ConfirmAbove,
}

impl CheckoutRow {
    fn from_row(row: &AnyRow) -> ApiResult<CheckoutRow> {
        let minor: i64 = row.try_get("confirm_above")?;
        Ok(CheckoutRow {
            id: row.try_get("id")?,
            currency: row.try_get("currency")?,
            origin: row.try_get("checkout_origin")?,
            confirm_above: ConfirmAbove::try_from(minor)
                .map_err(|_| bad_row("terminals.confirm_above", &minor.to_string()))?,
        })
    }
}

/// A checkout terminal is bound to an origin and is no lane itself.
const CHECKOUT: &str = "SELECT id, currency, checkout_origin, confirm_above FROM terminals \
     WHERE merchant_id = $1 AND terminal_id = $2 AND checkout_origin IS NOT NULL \
     AND lane_of IS NULL";

impl Db {
    /// The checkout terminal of the merchant with this id, if it is one.
    pub async fn checkout_terminal(
        &self,
        merchant_id: &str,
        terminal_id: &str,
    ) -> ApiResult<Option<CheckoutRow>> {
        sqlx::query(CHECKOUT)
            .bind(merchant_id)
            .bind(terminal_id)
            .fetch_optional(self.reader())
            .await?
            .map(|row| CheckoutRow::from_row(&row))
            .transpose()
    }
}

impl Tx {
    /// [`Db::checkout_terminal`] inside the transaction.
    pub async fn checkout_terminal(
        &mut self,
        merchant_id: &str,
        terminal_id: &str,
    ) -> ApiResult<Option<CheckoutRow>> {
        sqlx::query(CHECKOUT)
            .bind(merchant_id)
            .bind(terminal_id)
            .fetch_optional(&mut **self)
            .await?
            .map(|row| CheckoutRow::from_row(&row))
            .transpose()
    }

    /// Binds a terminal to a storefront origin: it becomes a checkout terminal.
    pub async fn set_checkout_origin(&mut self, t: TerminalRef<'_>, origin: &str) -> ApiResult<()> {
        sqlx::query("UPDATE terminals SET checkout_origin = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(origin)
            .bind(t.id)
            .bind(t.merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Makes a terminal a lane of the checkout terminal `checkout` (same merchant).
    pub async fn set_lane_of(&mut self, t: TerminalRef<'_>, checkout: i64) -> ApiResult<()> {
        sqlx::query("UPDATE terminals SET lane_of = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(checkout)
            .bind(t.id)
            .bind(t.merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Whether the terminal is a lane.
    pub async fn is_lane(&mut self, t: TerminalRef<'_>) -> ApiResult<bool> {
        let lane_of: Option<i64> =
            sqlx::query("SELECT lane_of FROM terminals WHERE merchant_id = $2 AND id = $1")
                .bind(t.id)
                .bind(t.merchant_id)
                .fetch_one(&mut **self)
                .await?
                .try_get("lane_of")?;
        Ok(lane_of.is_some())
    }
}
