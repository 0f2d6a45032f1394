//! The host's side of the terminal rules (docs/rules.md), one room each: sign-in and sessions
//! (R12, R16: `session`, `operator`), sales (R5: `sale`), voids and refunds (R6, R7:
//! `void_refund`), pre-authorisation (R20: `preauth`, its holds; booked by `sale` and
//! `void_refund`), the sales a refund may name (R7: `lookup`), reversals (R8: `reversal`),
//! settlement and batch upload (R10, R11: `settlement`), the cut-off (R15: `cutoff`) and the
//! operator's commands (`admin`), and the merchant's console (R22: `console`). What the acquirer's answer makes of a sale, void or refund is
//! `upstream`; the batch settled with the acquirer, `upstream_settlement`. The SQL is in
//! `crate::db`; here are only the rules.
//!
//! Every request's effects and its stored answer commit in one database transaction, so a
//! crash never leaves half a sale, and a retry finds either nothing or the whole answer (R9).
//!
//! Each request arrives here already checked for its shape (`check()` in
//! `softpos::protocol`, called by the handlers in `api`): ids, numbers and amounts in range.

mod admin;
mod checkout;
mod console;
mod console_charts;
mod cutoff;
mod history;
mod lookup;
mod one_trip;
mod operator;
mod preauth;
mod reversal;
mod sale;
mod session;
mod settlement;
mod upload;
mod upstream;
mod upstream_settlement;
mod void_refund;

pub use one_trip::Known;

use crate::acquirer::Acquirer;
use crate::db::{Scope, StoredAnswer, TerminalRef};
use crate::error::{ApiError, ApiResult};
use crate::secrets::{self, FingerprintKey};
use crate::store::Store;
use serde::Serialize;
use softpos::ids::{BatchNo, RequestId};
use softpos::protocol::{BatchTotals, OriginalRef, TransactionRequest, TxKind};
use softpos::terminal::card::Pan;
use softpos::terminal::money::Amount;
use softpos::terminal::settlement::{fold, LedgerLine};
use softpos::ErrorCode;

pub use crate::db::TerminalRow as TerminalAuth;
pub use checkout::parse_origin;
pub use console::ConsoleSession;
pub use session::Session;

/// A stored or fresh answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON text.
    pub body: String,
}

impl Answer {
    fn ok(value: &impl Serialize) -> ApiResult<Answer> {
        Ok(Answer {
            status: 200,
            body: serde_json::to_string(value).map_err(ApiError::internal)?,
        })
    }

    /// The answer as kept for a request with this fingerprint (R9).
    fn stored(&self, fingerprint: &str) -> StoredAnswer {
        StoredAnswer {
            fingerprint: fingerprint.to_owned(),
            status: self.status,
            body: self.body.clone(),
        }
    }
}

/// R9: a kept answer is given again only to the same request; the same id with another
/// request is a conflict.
fn replay(stored: StoredAnswer, fingerprint: &str) -> ApiResult<Answer> {
    if stored.fingerprint != fingerprint {
        return Err(ApiError::new(ErrorCode::IdempotencyConflict));
    }
    Ok(Answer {
        status: stored.status,
        body: stored.body,
    })
}

/// R9: SHA-256 of a request with its secrets taken out (the card replaced by its masked PAN
/// and a keyed MAC, passwords dropped), so the stored fingerprint can never reveal them.
fn fingerprint(value: &impl Serialize) -> ApiResult<String> {
    Ok(secrets::sha256_hex(
        serde_json::to_vec(value).map_err(ApiError::internal)?,
    ))
}

/// The card enters as an HMAC of its number and expiry under the host's key: another card
/// with the same first 6 and last 4 digits under a reused request id is a conflict, and
/// without the key the stored fingerprint cannot be matched against guessed cards.
fn tx_fingerprint(key: &FingerprintKey, req: &TransactionRequest) -> ApiResult<String> {
    #[derive(Serialize)]
    struct Shape<'a> {
        request_id: &'a str,
        kind: TxKind,
        trace_no: u32,
        amount: i64,
        currency: &'a str,
        masked_pan: Option<String>,
        card_mac: Option<String>,
        original: &'a Option<OriginalRef>,
        // Left out when absent, so a request without one keeps the fingerprint it had before
        // references were kept (R23): the same request id with another reference conflicts.
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
    }
    fingerprint(&Shape {
        request_id: req.request_id.as_str(),
        kind: req.kind,
        trace_no: req.trace_no.get(),
        amount: req.amount,
        currency: &req.currency,
        masked_pan: req
            .card
            .as_ref()
            .map(|c| Pan::parse(&c.pan).map_or_else(|_| "invalid".to_owned(), |p| p.masked())),
        card_mac: req
            .card
            .as_ref()
            .map(|c| key.card_mac(&c.pan, &c.expiry))
            .transpose()?,
        original: &req.original,
        reference: req.reference.as_deref(),
    })
}

fn refused_reversed() -> ApiError {
    ApiError::bad_request("this request was reversed [冲正]; it is not booked").with_status(409)
}

fn busy() -> ApiError {
    ApiError::detail(
        ErrorCode::Busy,
        "this request is still being processed; ask again later",
    )
}

/// What only the session can tell about a transaction request (its shape was checked by
/// `TransactionRequest::check` in the handler): the amount as money and the terminal's currency.
fn check_transaction(s: &Session, req: &TransactionRequest) -> ApiResult<Amount> {
    let amount = Amount::new(req.amount)?;
    if req.currency != s.terminal.currency {
        return Err(ApiError::bad_request(format_args!(
            "this terminal takes {} only",
            s.terminal.currency
        )));
    }
    Ok(amount)
}

/// R10 on the host's rows. Rows summed past i64 are a broken database, not the terminal's
/// error.
fn host_totals(lines: &[LedgerLine], batch_no: BatchNo, currency: &str) -> ApiResult<BatchTotals> {
    Ok(fold(lines)
        .map_err(ApiError::internal)?
        .to_batch_totals(batch_no.get(), currency))
}

impl Store {
    /// The answer kept for a request id (R9), looked up on a reader.
    async fn stored_answer(
        &self,
        terminal: TerminalRef<'_>,
        scope: Scope,
        request_id: &RequestId,
        fp: &str,
    ) -> ApiResult<Option<Answer>> {
        crate::db::stored_answer(self.db().reader(), terminal, scope, request_id)
            .await?
            .map(|stored| replay(stored, fp))
            .transpose()
    }

    /// `POST /v1/transactions`.
    pub async fn transaction(
        &self,
        s: &Session,
        req: TransactionRequest,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Answer> {
        if req.kind.needs_supervisor() {
            let fp = tx_fingerprint(self.fingerprint_key(), &req)?;
            let terminal = s.terminal.key();
            // Looked up first so a retried void or refund skips the supervisor's Argon2 check.
            if let Some(a) = self
                .stored_answer(terminal, Scope::Tx, &req.request_id, &fp)
                .await?
            {
                return Ok(a);
            }
            let amount = check_transaction(s, &req)?;
            return self.void_or_refund(s, req, amount, &fp, acquirer).await;
        }
        self.sale_of(s, req, acquirer, None).await
    }

    /// `POST /v1/transactions` for a sale whose bearer token is not checked yet: the session
    /// is checked in the sale's first trip (docs/architecture.md, "Scale") and, when it is not
    /// live, refused as [`Store::session`] refuses it.
    pub async fn sale_by_token(
        &self,
        token: &str,
        req: TransactionRequest,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Answer> {
        let token_hash = secrets::sha256_hex(token);
        let one_trip = self.one_trip_applies(&req);
        if one_trip {
            if let Some(answer) = self.sale_in_one_trip(&token_hash, &req, acquirer).await? {
                return Ok(answer);
            }
        }
        let mut tx = self.db().begin_fused().await?;
        let found = async {
            let found = tx
                .session_checked(&token_hash, &req.request_id, req.trace_no)
                .await?;
            if let (true, Some((row, Some(checked)))) = (one_trip, &found) {
                self.known().learn(&token_hash, row, &checked.batch);
            }
            let (row, checked) = found.map_or((None, None), |(row, c)| (Some(row), c));
            Ok::<_, ApiError>((Session::judge(row, token_hash, false)?, checked))
        }
        .await;
        let (s, first) = match found {
            Ok((s, Some(checked))) => (s, Some((tx, checked))),
            Ok((s, None)) => {
                // No open batch to lock: the long way repairs that.
                tx.rollback().await.ok();
                (s, None)
            }
            Err(e) => {
                tx.rollback().await.ok();
                return Err(e);
            }
        };
        self.sale_of(&s, req, acquirer, first).await
    }

    /// A sale (so a hold and a completion, R20): it takes the write transaction anyway, and
    /// the freshness check finds a stored answer inside it, so no read goes ahead of it. When
    /// the sale is refused the stored answer is looked up after all: a retry gets the first
    /// answer (R9) even when its card has expired since or the sale was reversed after it was
    /// answered.
    async fn sale_of(
        &self,
        s: &Session,
        req: TransactionRequest,
        acquirer: &dyn Acquirer,
        first: sale::FirstTrip,
    ) -> ApiResult<Answer> {
        let fp = match tx_fingerprint(self.fingerprint_key(), &req) {
            Ok(fp) => fp,
            Err(e) => {
                sale::drop_first(first).await;
                return Err(e);
            }
        };
        let request_id = req.request_id.clone();
        let asked = check_transaction(s, &req).and_then(|amount| {
            let (pan, expiry) = self.card(&req)?;
            Ok((amount, pan, expiry))
        });
        let result = match asked {
            Ok(asked) => self.sale(s, req, asked, &fp, acquirer, first).await,
            Err(e) => {
                sale::drop_first(first).await;
                Err(e)
            }
        };
        match result {
            Err(e) => Ok(self
                .stored_answer(s.terminal.key(), Scope::Tx, &request_id, &fp)
                .await?
                .ok_or(e)?),
            answered => answered,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_acquirer;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_forward;
#[cfg(test)]
mod tests_forward_restart;
#[cfg(test)]
mod tests_one_trip;
#[cfg(test)]
mod tests_preauth;
#[cfg(test)]
mod tests_rrn;
#[cfg(test)]
mod tests_settlement_owed;
#[cfg(test)]
mod tests_standby;
#[cfg(test)]
mod tests_upstream_batch;
#[cfg(test)]
mod tests_upstream_settlement;
