//! The webhooks' outbox (`webhook_events`, migration 0015): an event is written in the
//! transaction of the ledger change it reports, for a merchant with a webhook, and posted by
//! the delivery task of `serve` until the shop's server answers 2xx. Taken with a lease as the
//! jobs owed upstream are (`jobs`), so several hosts on one PostgreSQL never post one at once.

use super::Tx;
use crate::error::ApiResult;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

/// An event to keep.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `evt_` and a UUID: the id the shop deduplicates by.
    pub event_id: String,
    /// The merchant it goes to.
    pub merchant_id: String,
    /// The transaction whose change it reports (one event per transaction and type).
    pub transaction_id: i64,
    /// `payment.approved`, `payment.voided`, `payment.refunded` or `payment.reversed`.
    pub kind: &'static str,
    /// The JSON posted, the same on every try.
    pub body: String,
    /// Now, ms since the epoch; due at once.
    pub created_at: i64,
}

/// The INSERT of a [`NewEvent`], a row only when the merchant has a webhook, and never a second
/// one for a transaction and type. `$m` is the merchant id; the event's own values are
/// `$f`..`$f+4` in [`NewEvent::bind`]'s order.
pub(super) fn insert_event_sql(m: usize, f: usize) -> String {
    format!(
        "INSERT INTO webhook_events (merchant_id, event_id, transaction_id, type, body, \
         created_at, next_at) \
         SELECT merchant_id, ${f}, ${}, ${}, ${}, ${}, ${} FROM merchant_webhooks \
         WHERE merchant_id = ${m} ON CONFLICT DO NOTHING",
        f + 1,
        f + 2,
        f + 3,
        f + 4,
        f + 4
    )
}

impl NewEvent {
    /// Binds the event's values of [`insert_event_sql`], in its order.
    pub(super) fn bind<'q>(
        &'q self,
        q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        q.bind(self.event_id.as_str())
            .bind(self.transaction_id)
            .bind(self.kind)
            .bind(self.body.as_str())
            .bind(self.created_at)
    }
}

/// An event to post, with where and how.
#[derive(Debug, Clone)]
pub struct DueEvent {
    /// Its row.
    pub id: i64,
    /// Its id, sent as `Softpos-Event-Id`.
    pub event_id: String,
    /// Its merchant.
    pub merchant_id: String,
    /// The JSON posted.
    pub body: String,
    /// Tries so far.
    pub attempts: i64,
    /// The merchant's webhook URL now.
    pub url: String,
    /// The merchant's signing secret now.
    pub secret: String,
}

/// Up to `limit` events due at `now` that no process is posting, the longest waiting first.
pub async fn due_events(pool: &AnyPool, now: i64, limit: i64) -> ApiResult<Vec<DueEvent>> {
    let rows = sqlx::query(
        "SELECT e.id, e.event_id, e.merchant_id, e.body, e.attempts, w.url, w.secret \
         FROM webhook_events e JOIN merchant_webhooks w ON w.merchant_id = e.merchant_id \
         WHERE e.delivered_at IS NULL AND e.next_at <= $1 AND e.leased_until <= $1 \
         ORDER BY e.next_at, e.id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DueEvent {
                id: row.try_get("id")?,
                event_id: row.try_get("event_id")?,
                merchant_id: row.try_get("merchant_id")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
            })
        })
        .collect()
}

impl Tx {
    /// Keeps an event, when its merchant has a webhook.
    pub async fn insert_event(&mut self, event: &NewEvent) -> ApiResult<()> {
        let sql = insert_event_sql(1, 2);
        event
            .bind(sqlx::query(&sql).bind(event.merchant_id.as_str()))
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Takes the event for this process until `until`, unless another holds it, it is not
    /// due, or it was delivered meanwhile. Whether it was taken.
    pub async fn lease_event(&mut self, id: i64, now: i64, until: i64) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_events SET leased_until = $3 WHERE id = $1 AND leased_until <= $2 \
             AND next_at <= $2 AND delivered_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(until)
        .execute(&mut **self)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The shop's server answered 2xx: delivered, never posted again.
    pub async fn event_delivered(&mut self, id: i64, now: i64, status: u16) -> ApiResult<()> {
        sqlx::query(
            "UPDATE webhook_events SET delivered_at = $2, attempts = attempts + 1, \
             last_status = $3, leased_until = 0 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(i64::from(status))
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// One more try without a 2xx (`status`: what was answered, if anything): due again at
    /// `next_at`, and free to take.
    pub async fn retry_event_at(
        &mut self,
        id: i64,
        next_at: i64,
        status: Option<u16>,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE webhook_events SET attempts = attempts + 1, next_at = $2, last_status = $3, \
             leased_until = 0 WHERE id = $1",
        )
        .bind(id)
        .bind(next_at)
        .bind(status.map(i64::from))
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
