//! The delivery task of `serve`: posts the webhook events due (`webhook_events`), each taken
//! with a lease so that several hosts on one PostgreSQL never post one at once, signed with
//! the merchant's secret. A 2xx answer delivers it; anything else, or no answer within the
//! timeout, tries it again after 5 s, 10 s, 20 s … up to an hour. An event is posted at least
//! once (a host that dies between the 2xx and its record posts it again): the shop's server
//! deduplicates by its id, which never changes.

use crate::db::{due_events, DueEvent};
use crate::error::{ApiError, ApiResult};
use crate::forward::ms;
use crate::store::{now_ms, Store};
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;
use std::time::Duration;

/// Events taken in one round.
const ROUND: i64 = 32;
/// Longest wait between two rounds: an event is due at most this late.
const POLL_MAX: Duration = Duration::from_secs(1);

/// How events are posted.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    /// The wait after the first try without a 2xx; it doubles after each further one.
    pub(crate) first_retry: Duration,
    /// The longest wait between two tries.
    pub(crate) retry_max: Duration,
    /// How long a post may take, answer included.
    pub(crate) timeout: Duration,
    /// How long a process holds an event it is posting: longer than any post.
    pub(crate) lease: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            first_retry: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
        }
    }
}

impl Delivery {
    /// The wait after try `attempts + 1` went without a 2xx: min(first × 2^attempts, max).
    fn retry_after(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
        self.first_retry
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_max)
    }
}

/// `Softpos-Signature`: `t=<unix s>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`, the key being
/// the secret's text as `webhook set` printed it.
pub(crate) fn signature(secret: &str, t: i64, body: &str) -> ApiResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(ApiError::internal)?;
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    let v1 = crate::secrets::hex(&mac.finalize().into_bytes());
    Ok(format!("t={t},v1={v1}"))
}

/// Posts the events due, round after round, for as long as the host serves. Each event's
/// own wait is kept in its row, so a restarted host goes on where the last one stopped.
pub(crate) async fn deliverer(store: Store, delivery: Delivery) {
    let client = match reqwest::Client::builder()
        .timeout(delivery.timeout)
        // A redirect is not a 2xx: the event is tried again at the URL the merchant set.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("softpos-host/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot make the webhooks' HTTP client; no webhook is posted");
            return;
        }
    };
    let poll = delivery.first_retry.min(POLL_MAX);
    loop {
        if let Err(e) = deliver_due(&store, &client, &delivery).await {
            tracing::error!(code = %e.code, message = %e.message, "posting webhooks failed");
        }
        tokio::time::sleep(poll).await;
    }
}

/// One round: the events due, posted at once (one slow shop does not hold up the others).
async fn deliver_due(
    store: &Store,
    client: &reqwest::Client,
    delivery: &Delivery,
) -> ApiResult<()> {
    let mut posting = tokio::task::JoinSet::new();
    for event in due_events(store.db().reader(), now_ms(), ROUND).await? {
        let (store, client, delivery) = (store.clone(), client.clone(), delivery.clone());
        posting.spawn(async move { deliver(&store, &client, &delivery, event).await });
    }
    while let Some(done) = posting.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(code = %e.code, message = %e.message, "posting a webhook failed")
            }
            Err(e) => tracing::error!(error = %e, "posting a webhook panicked"),
        }
    }
    Ok(())
}

/// Posts one event unless another process holds it, and records what came of it.
async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    delivery: &Delivery,
    event: DueEvent,
) -> ApiResult<()> {
    let now = now_ms();
    let mut tx = store.begin().await?;
    let leased = tx
        .lease_event(event.id, now, now + ms(delivery.lease))
        .await?;
    tx.commit().await?;
    if !leased {
        return Ok(());
    }
    let sent = client
        .post(&event.url)
        .header(CONTENT_TYPE, "application/json")
        .header("Softpos-Event-Id", &event.event_id)
        .header(
            "Softpos-Signature",
            signature(&event.secret, now_ms() / 1000, &event.body)?,
        )
        .body(event.body.clone())
        .send()
        .await;
    // The URL stays out of the log: a shop may put a token in it.
    let (status, error) = match &sent {
        Ok(answer) => (Some(answer.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string().replace(event.url.as_str(), "…"))),
    };
    let mut tx = store.begin().await?;
    if status.is_some_and(|s| (200..300).contains(&s)) {
        tx.event_delivered(event.id, now_ms(), status.unwrap_or(200))
            .await?;
        tx.commit().await?;
        tracing::info!(event_id = %event.event_id, merchant = %event.merchant_id, status, "webhook delivered");
        return Ok(());
    }
    let wait = delivery.retry_after(event.attempts);
    tx.retry_event_at(event.id, now_ms() + ms(wait), status)
        .await?;
    tx.commit().await?;
    tracing::warn!(
        event_id = %event.event_id,
        merchant = %event.merchant_id,
        status,
        error,
        attempts = event.attempts + 1,
        retry_in_ms = ms(wait),
        "webhook not delivered"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r23_webhook_retries_double_from_5_s_up_to_an_hour() {
        let d = Delivery::default();
        let waits: Vec<u64> = (0..4).map(|n| d.retry_after(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40]);
        assert_eq!(d.retry_after(10), Duration::from_secs(3600));
        assert_eq!(d.retry_after(i64::MAX), Duration::from_secs(3600));
        assert!(d.lease > d.timeout * 2, "a post ends long before its lease");
    }

    #[test]
    fn r23_webhook_signature_is_hmac_sha256_of_time_dot_body() {
        // Pinned against Python's hmac module:
        // hmac.new(b"whsec_test", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
        let sig = signature("whsec_test", 1_700_000_000, r#"{"id":"evt_1"}"#).unwrap();
        assert_eq!(
            sig,
            "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
        );
        assert_ne!(
            sig,
            signature("whsec_test", 1_700_000_001, r#"{"id":"evt_1"}"#).unwrap()
        );
    }
}
