//! The shop's server (docs/rules.md, R23 "The shop's server"): it learns what became of a
//! payment without trusting the customer's browser, by asking (`GET /v1/merchant/payments`
//! with a merchant API key, `http`) or by being told (signed webhooks, `deliver`).
//!
//! Events are written by the ledger in the database transaction of the change they report
//! ([`approved_sale_event`], [`record_event`]), so none is lost and none is invented; the
//! delivery task posts them until the shop's server answers 2xx. An API key is kept only as its
//! SHA-256 hash; a webhook's signing secret is kept as it is, because the host signs with it.

mod deliver;
pub(crate) mod http;

pub(crate) use deliver::{deliverer, Delivery};

use crate::db::{NewEvent, NewTransaction, PaymentRow, TerminalRow, Tx, TxState};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use softpos::ids::{BatchNo, MerchantId, TraceNo};
use softpos::protocol::{check_reference, TxKind};
use softpos::terminal::time::Timestamp;

/// A payment as the shop's server sees it: one transaction (a sale, or a void or refund of
/// one) of the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Payment {
    /// The shop's reference, given with the sale; null when none was.
    #[schema(required = true)]
    pub reference: Option<String>,
    /// Sale, void or refund.
    pub kind: TxKind,
    /// Where it stands: `approved` is money moved (less what `voided` and `refunded_amount`
    /// say); `reversed` is undone by its terminal, no money moved.
    pub status: PaymentStatus,
    /// Minor units of `currency`.
    #[schema(minimum = 1, maximum = 99_999_999_999i64)]
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// The acquirer's retrieval reference number, once answered.
    #[schema(required = true)]
    pub rrn: Option<String>,
    /// The issuer's authorisation code, when approved.
    #[schema(required = true)]
    pub auth_code: Option<String>,
    /// The terminal (or checkout lane) that took it.
    pub terminal_id: String,
    /// The terminal's trace number.
    #[schema(value_type = u32, minimum = 1, maximum = 999_999)]
    pub trace_no: TraceNo,
    /// The batch it counts in.
    #[schema(value_type = u32, minimum = 1, maximum = 999_999)]
    pub batch_no: BatchNo,
    /// When the host booked it (RFC 3339, UTC).
    pub host_time: String,
    /// A sale voided by an approved void.
    pub voided: bool,
    /// What approved refunds gave back of a sale, minor units.
    pub refunded_amount: i64,
    /// Undone by its terminal (R8): the same as `status` `reversed`.
    pub reversed: bool,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Booked, the issuer still deciding.
    Pending,
    /// Approved.
    Approved,
    /// Declined.
    Declined,
    /// Undone by its terminal's reversal: no money moved.
    Reversed,
}

/// Answer to `GET /v1/merchant/payments`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentsResponse {
    /// Newest first; at most 100.
    pub payments: Vec<Payment>,
}

impl From<PaymentRow> for Payment {
    fn from(row: PaymentRow) -> Payment {
        let status = match row.status {
            TxState::Pending => PaymentStatus::Pending,
            TxState::Approved => PaymentStatus::Approved,
            TxState::Declined => PaymentStatus::Declined,
            TxState::Reversed => PaymentStatus::Reversed,
        };
        Payment {
            reference: row.reference,
            kind: row.kind,
            status,
            amount: row.amount,
            currency: row.currency,
            rrn: row.rrn,
            auth_code: row.auth_code,
            terminal_id: row.terminal_id,
            trace_no: row.trace_no,
            batch_no: row.batch_no,
            host_time: Timestamp(row.created_at).rfc3339(),
            voided: row.voided,
            refunded_amount: row.refunded_amount,
            reversed: status == PaymentStatus::Reversed,
        }
    }
}

/// What an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    /// A sale approved.
    Approved,
    /// An approved void of the sale.
    Voided,
    /// An approved refund of the sale.
    Refunded,
    /// The approved sale reversed by its terminal (R8): the money did not move.
    Reversed,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Approved => "payment.approved",
            EventType::Voided => "payment.voided",
            EventType::Refunded => "payment.refunded",
            EventType::Reversed => "payment.reversed",
        }
    }
}

/// The event `kind` of `payment`, reported under transaction `transaction_id`: its id and the
/// body posted on every try.
fn new_event(
    kind: EventType,
    merchant_id: &str,
    transaction_id: i64,
    payment: PaymentRow,
) -> ApiResult<NewEvent> {
    #[derive(Serialize)]
    struct Body<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        created: i64,
        data: Data,
    }
    #[derive(Serialize)]
    struct Data {
        payment: Payment,
    }
    let event_id = format!("evt_{}", uuid::Uuid::new_v4());
    let created_at = now_ms();
    let body = serde_json::to_string(&Body {
        id: &event_id,
        kind: kind.as_str(),
        created: created_at / 1000,
        data: Data {
            payment: payment.into(),
        },
    })
    .map_err(ApiError::internal)?;
    Ok(NewEvent {
        event_id,
        merchant_id: merchant_id.to_owned(),
        transaction_id,
        kind: kind.as_str(),
        body,
        created_at,
    })
}

/// The `payment.approved` event of a sale being booked as `row` (row id `id`) in batch
/// `batch_no` by `terminal`: built from the row, nothing read back, so it can share the trip
/// that books the sale. `None` unless the row is an approved sale.
pub(crate) fn approved_sale_event(
    row: &NewTransaction<'_>,
    id: i64,
    terminal: &TerminalRow,
    batch_no: BatchNo,
) -> ApiResult<Option<NewEvent>> {
    if row.kind != TxKind::Sale || row.status != TxState::Approved {
        return Ok(None);
    }
    let payment = PaymentRow::booked(row, &terminal.terminal_id, &terminal.currency, batch_no);
    new_event(EventType::Approved, row.merchant_id, id, payment).map(Some)
}

/// Keeps in `tx` the event `kind` of the sale `sale_id` as `tx` sees it now, reported under
/// transaction `transaction_id` (the void or refund, or the sale itself): only when the
/// merchant has a webhook.
pub(crate) async fn record_event(
    tx: &mut Tx,
    kind: EventType,
    merchant_id: &str,
    sale_id: i64,
    transaction_id: i64,
) -> ApiResult<()> {
    let Some(payment) = tx.payment_for_event(merchant_id, sale_id).await? else {
        return Ok(());
    };
    let event = new_event(kind, merchant_id, transaction_id, payment)?;
    tx.insert_event(&event).await
}

/// A webhook URL: `http` or `https`, with a host.
fn check_webhook_url(url: &str) -> ApiResult<String> {
    let bad = || ApiError::bad_request("--webhook-url takes an http:// or https:// URL");
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(parsed.to_string())
}

/// `prefix` and 43 base64url characters of 32 random bytes.
fn random_credential(prefix: &str) -> ApiResult<String> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(secrets::random_bytes::<32>()?)
    ))
}

impl Store {
    /// `apikey add`: a new API key of an existing merchant, kept only hashed; returned once.
    pub async fn add_api_key(&self, merchant_id: &str) -> ApiResult<String> {
        MerchantId::parse(merchant_id).map_err(ApiError::bad_request)?;
        let key = random_credential("sk_")?;
        let mut tx = self.begin().await?;
        if !tx.merchant_exists(merchant_id).await? {
            return Err(unknown_merchant(merchant_id));
        }
        tx.insert_api_key(merchant_id, &secrets::sha256_hex(&key), now_ms())
            .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// `webhook set`: the merchant's webhook URL and a new signing secret, which replaces the
    /// old one at once; returned once.
    pub async fn set_webhook(&self, merchant_id: &str, url: &str) -> ApiResult<String> {
        MerchantId::parse(merchant_id).map_err(ApiError::bad_request)?;
        let url = check_webhook_url(url)?;
        let secret = random_credential("whsec_")?;
        let mut tx = self.begin().await?;
        if !tx.merchant_exists(merchant_id).await? {
            return Err(unknown_merchant(merchant_id));
        }
        tx.set_webhook(merchant_id, &url, &secret, now_ms()).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// The merchant an API key belongs to.
    pub async fn merchant_by_api_key(&self, key: &str) -> ApiResult<Option<String>> {
        self.db()
            .merchant_by_api_key_hash(&secrets::sha256_hex(key))
            .await
    }

    /// `GET /v1/merchant/payments`: the merchant's payments carrying `reference`.
    pub async fn payments(
        &self,
        merchant_id: &str,
        reference: &str,
    ) -> ApiResult<PaymentsResponse> {
        check_reference(reference)?;
        let rows = self
            .db()
            .payments_by_reference(merchant_id, reference)
            .await?;
        Ok(PaymentsResponse {
            payments: rows.into_iter().map(Payment::from).collect(),
        })
    }
}

fn unknown_merchant(merchant_id: &str) -> ApiError {
    ApiError::bad_request(format_args!(
        "merchant {merchant_id} has no terminal yet; add one with `terminal add` first"
    ))
}
