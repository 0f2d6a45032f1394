//! What the host checks before it touches its database.
//!
//! One place for the shape of every request body, so the host, its fuzz target
//! (fuzz/fuzz_targets/request_bodies.rs) and the OpenAPI schema cannot drift apart. A request
//! that passes is well-formed; whether it is allowed (a live session, an open batch, a sale to
//! void) is the ledger's question. Every refusal is a 4xx code of the contract.

use crate::error::{Error, ErrorCode};
use crate::ids::{BatchNo, MerchantId, OperatorId, TerminalId};
use crate::protocol::{
    ActivateRequest, CheckoutSignInRequest, LaneRequest, OriginalRef, ReversalRequest,
    SettlementRequest, SignInRequest, SignOffRequest, TransactionRequest, TxKind, UploadRequest,
};

/// One of the currencies a terminal can be provisioned with (the schema's `currency` pattern).
fn check_currency(code: &str) -> Result<(), Error> {
    crate::terminal::money::Currency::parse(code).map(|_| ())
}

/// A merchant and terminal id pair that names a terminal, or the caller's refusal when either
/// is of the wrong shape: the same answer as an unknown terminal, so it tells nothing about
/// which terminals exist.
fn terminal_ids(
    merchant_id: &str,
    terminal_id: &str,
    refusal: ErrorCode,
    detail: &str,
) -> Result<(MerchantId, TerminalId), Error> {
    match (
        MerchantId::parse(merchant_id),
        TerminalId::parse(terminal_id),
    ) {
        (Ok(merchant), Ok(terminal)) => Ok((merchant, terminal)),
        _ => Err(Error::with_detail(refusal, detail)),
    }
}

impl ActivateRequest {
    /// Ids of the wrong shape match no terminal: the same `BAD_CREDENTIALS` as a wrong code,
    /// so the answer tells nothing about which terminals exist. Refusing them before the query
    /// also keeps bytes such as NUL, which PostgreSQL answers with a 500, out of the database.
    /// The two ids stay strings on the wire and are parsed here, not by serde: a shape error
    /// there is `BAD_REQUEST`, which would tell a malformed id from an unknown one.
    pub fn check(&self) -> Result<(MerchantId, TerminalId), Error> {
        terminal_ids(
            &self.merchant_id,
            &self.terminal_id,
            ErrorCode::BadCredentials,
            "unknown, used or expired activation code",
        )
    }
}

/// A storefront's order reference (R23): 1 to 64 of `A-Z a-z 0-9 . _ : / # -`, so it can sit in
/// a URL query and a log line as it is. Anything else is `BAD_REQUEST`, and the message does
/// not repeat it.
pub fn check_reference(reference: &str) -> Result<(), Error> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._:/#-".contains(&b);
    if (1..=64).contains(&reference.len()) && reference.bytes().all(allowed) {
        Ok(())
    } else {
        Err(Error::with_detail(
            ErrorCode::BadRequest,
            "reference: 1 to 64 of A-Z a-z 0-9 . _ : / # -",
        ))
    }
}

impl LaneRequest {
    /// Ids of the wrong shape name no checkout terminal: `NOT_ACTIVATED`, as an unknown one.
    pub fn check(&self) -> Result<(MerchantId, TerminalId), Error> {
        terminal_ids(
            &self.merchant_id,
            &self.terminal_id,
            ErrorCode::NotActivated,
            "no such checkout terminal",
        )
    }
}

impl SignInRequest {
    /// An operator is two digits; anything else is an operator nobody has (R16), so it is
    /// parsed here rather than by serde, whose refusal would be `BAD_REQUEST`.
    pub fn check(&self) -> Result<OperatorId, Error> {
        OperatorId::parse(&self.operator).map_err(|_| ErrorCode::BadCredentials.into())
    }
}

/// `n` ASCII letters or digits: the form of an RRN (12) and an auth code (6).
fn is_code(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// R20: a hold is named by its RRN and auth code; any other form names none (and a NUL never
/// reaches a query).
fn check_hold(rrn: &str, auth_code: &str) -> Result<(), Error> {
    if is_code(rrn, 12) && is_code(auth_code, 6) {
        Ok(())
    } else {
        Err(ErrorCode::PreauthNotFound.into())
    }
}

impl TransactionRequest {
    /// R3 and R4 on the request alone (its ids, R9, were checked as it was read). The expiry is checked for its form only: whether it
    /// is past depends on the clock, and a retried sale must get its stored answer (R9) even
    /// after the card's month ended, so the ledger checks that after the idempotency lookup.
    pub fn check(&self) -> Result<(), Error> {
        crate::terminal::money::Amount::new(self.amount)?;
        check_currency(&self.currency)?;
        match (self.kind, &self.original) {
            // A sale and a hold take a card; so does a completion, with the hold it completes.
            (TxKind::Sale | TxKind::Preauth, _)
            | (TxKind::Completion, Some(OriginalRef::Hold { .. })) => {
                let card = self.card.as_ref().ok_or_else(|| {
                    Error::with_detail(ErrorCode::InvalidCard, "a sale needs a card")
                })?;
                crate::terminal::card::Pan::parse(&card.pan)?;
                // Timestamp 0 is 1970: no well-formed MM/YY is before it.
                crate::terminal::card::Expiry::parse(
                    &card.expiry,
                    crate::terminal::time::Timestamp(0),
                )?;
                if let Some(OriginalRef::Hold { rrn, auth_code }) = &self.original {
                    check_hold(rrn, auth_code)?;
                }
            }
            (TxKind::Void | TxKind::CompletionVoid, Some(OriginalRef::Trace { .. })) => {}
            (TxKind::PreauthVoid, Some(OriginalRef::Hold { rrn, auth_code })) => {
                check_hold(rrn, auth_code)?;
            }
            (TxKind::Refund, Some(OriginalRef::Rrn { rrn })) => {
                // An RRN is 12 ASCII letters or digits (the host's rrn_of); anything else names
                // no sale, and a NUL, which PostgreSQL answers with a 500, never reaches a query.
                if !is_code(rrn, 12) {
                    return Err(ErrorCode::UnknownTransaction.into());
                }
            }
            _ => {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    "a void or completion void names original.trace_no, a refund original.rrn, \
                     a pre-auth void or completion original.rrn and original.auth_code",
                ))
            }
        }
        if let Some(reference) = &self.reference {
            check_reference(reference)?;
        }
        if self.kind.needs_supervisor() && self.supervisor_password.is_none() {
            return Err(ErrorCode::SupervisorRequired.into());
        }
        Ok(())
    }
}

impl SettlementRequest {
    /// R11: the terminal's currency is one the host knows (the ids were checked as it was read).
    pub fn check(&self) -> Result<(), Error> {
        check_currency(&self.terminal_totals.currency)
    }
}

/// Every route that takes a JSON body (the upload's `{batch_no}` as 1).
pub const BODY_ROUTES: [&str; 9] = [
    "/v1/activate",
    "/v1/sign-in",
    "/v1/transactions",
    "/v1/reversals",
    "/v1/settlements",
    "/v1/settlements/1/upload",
    "/v1/sign-off",
    "/v1/checkout/lanes",
    "/v1/checkout/sign-in",
];

/// Decodes a request body as the host does (`serde_json`, unknown fields refused) and checks
/// it: what the host does with a body before it touches its database. `path` is the route
/// (`/v1/settlements/{batch_no}/upload` with its number). For the fuzz target and its corpus
/// test; an unknown path is `BAD_REQUEST`.
pub fn check_request_body(path: &str, body: &[u8]) -> Result<(), Error> {
    fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(body)
            .map_err(|_| Error::with_detail(ErrorCode::BadRequest, "malformed JSON body"))
    }
    match path {
        "/v1/activate" => decode::<ActivateRequest>(body)?.check().map(|_| ()),
        "/v1/sign-in" => decode::<SignInRequest>(body)?.check().map(|_| ()),
        "/v1/transactions" => decode::<TransactionRequest>(body)?.check(),
        "/v1/reversals" => decode::<ReversalRequest>(body).map(|_| ()),
        "/v1/settlements" => decode::<SettlementRequest>(body)?.check(),
        "/v1/sign-off" => decode::<SignOffRequest>(body).map(|_| ()),
        "/v1/checkout/lanes" => decode::<LaneRequest>(body)?.check().map(|_| ()),
        "/v1/checkout/sign-in" => decode::<CheckoutSignInRequest>(body).map(|_| ()),
        _ => {
            let batch_no = path
                .strip_prefix("/v1/settlements/")
                .and_then(|rest| rest.strip_suffix("/upload"))
                .ok_or_else(|| Error::with_detail(ErrorCode::BadRequest, "no such route"))?;
            check_upload_path(batch_no)?;
            decode::<UploadRequest>(body).map(|_| ())
        }
    }
}

/// The `{batch_no}` of the upload route: a number in 1..=999999.
pub fn check_upload_path(batch_no: &str) -> Result<BatchNo, Error> {
    let n: u32 = batch_no
        .parse()
        .map_err(|_| Error::with_detail(ErrorCode::BadRequest, "the batch number is 1..=999999"))?;
    Ok(BatchNo::try_from(n)?)
}
