//! What the host checks before it touches its database.
//!
//! One place for the shape of every request body, so the host, its fuzz target
//! (fuzz/fuzz_targets/request_bodies.rs) and the OpenAPI schema cannot drift apart. A request
//! that passes is well-formed; whether it is allowed (a live session, an open batch, a sale to
//! void) is the ledger's question. Every refusal is a 4xx code of the contract.

use crate::error::{Error, ErrorCode};
use crate::protocol::{
    ActivateRequest, OriginalRef, ReversalRequest, SettlementRequest, SignInRequest,
    SignOffRequest, TransactionRequest, TxKind, UploadRequest,
};

/// Largest trace and batch number (docs/rules.md, "Identifiers and amounts").
pub const MAX_SEQUENCE: u32 = 999_999;

/// A UUID in its hyphenated form (`8-4-4-4-12` hex digits), the form the terminal sends (R9).
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn check_request_id(id: &str) -> Result<(), Error> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(Error::with_detail(
            ErrorCode::BadRequest,
            "request_id must be a UUID",
        ))
    }
}

fn check_sequence(name: &str, n: u32) -> Result<(), Error> {
    if (1..=MAX_SEQUENCE).contains(&n) {
        Ok(())
    } else {
        Err(Error::with_detail(
            ErrorCode::BadRequest,
            format_args!("{name} must be 1..={MAX_SEQUENCE}"),
        ))
    }
}

/// One of the currencies a terminal can be provisioned with (the schema's `currency` pattern).
fn check_currency(code: &str) -> Result<(), Error> {
    crate::terminal::money::Currency::parse(code).map(|_| ())
}

fn all_bytes(text: &str, len: usize, ok: fn(&u8) -> bool) -> bool {
    text.len() == len && text.as_bytes().iter().all(ok)
}

impl ActivateRequest {
    /// Ids of the wrong shape match no terminal: the same `BAD_CREDENTIALS` as a wrong code,
    /// so the answer tells nothing about which terminals exist. Refusing them before the query
    /// also keeps bytes such as NUL, which PostgreSQL answers with a 500, out of the database.
    pub fn check(&self) -> Result<(), Error> {
        if all_bytes(&self.merchant_id, 15, u8::is_ascii_digit)
            && all_bytes(&self.terminal_id, 8, u8::is_ascii_alphanumeric)
        {
            Ok(())
        } else {
            Err(Error::with_detail(
                ErrorCode::BadCredentials,
                "unknown, used or expired activation code",
            ))
        }
    }
}

impl SignInRequest {
    /// An operator is two digits; anything else is an operator nobody has (R16).
    pub fn check(&self) -> Result<(), Error> {
        if all_bytes(&self.operator, 2, u8::is_ascii_digit) {
            Ok(())
        } else {
            Err(ErrorCode::BadCredentials.into())
        }
    }
}

impl TransactionRequest {
    /// R3, R4 and R9 on the request alone. The expiry is checked for its form only: whether it
    /// is past depends on the clock, and a retried sale must get its stored answer (R9) even
    /// after the card's month ended, so the ledger checks that after the idempotency lookup.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)?;
        check_sequence("trace_no", self.trace_no)?;
        crate::terminal::money::Amount::new(self.amount)?;
        check_currency(&self.currency)?;
        match (self.kind, &self.original) {
            (TxKind::Sale, _) => {
                let card = self.card.as_ref().ok_or_else(|| {
                    Error::with_detail(ErrorCode::InvalidCard, "a sale needs a card")
                })?;
                crate::terminal::card::Pan::parse(&card.pan)?;
                // Timestamp 0 is 1970: no well-formed MM/YY is before it.
                crate::terminal::card::Expiry::parse(
                    &card.expiry,
                    crate::terminal::time::Timestamp(0),
                )?;
            }
            (TxKind::Void, Some(OriginalRef::Trace { trace_no })) => {
                check_sequence("original.trace_no", *trace_no)?;
            }
            (TxKind::Refund, Some(OriginalRef::Rrn { rrn })) => {
                // An RRN is 12 ASCII letters or digits (the host's rrn_of); anything else names
                // no sale, and a NUL, which PostgreSQL answers with a 500, never reaches a query.
                if !all_bytes(rrn, 12, u8::is_ascii_alphanumeric) {
                    return Err(ErrorCode::UnknownTransaction.into());
                }
            }
            _ => {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    "a void names original.trace_no, a refund original.rrn",
                ))
            }
        }
        if self.kind != TxKind::Sale && self.supervisor_password.is_none() {
            return Err(ErrorCode::SupervisorRequired.into());
        }
        Ok(())
    }
}

impl ReversalRequest {
    /// R9: the id of the transaction to reverse.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)
    }
}

impl SettlementRequest {
    /// R9 and R11: a request id and a batch number in range.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)?;
        check_sequence("batch_no", self.batch_no)?;
        check_currency(&self.terminal_totals.currency)
    }
}

impl UploadRequest {
    /// R9; the hash chain (R19) needs the batch's genesis, which the ledger knows.
    pub fn check(&self) -> Result<(), Error> {
        check_request_id(&self.request_id)
    }
}

impl SignOffRequest {
    /// R9: a request id, when one is sent.
    pub fn check(&self) -> Result<(), Error> {
        self.request_id.as_deref().map_or(Ok(()), check_request_id)
    }
}

/// Every route that takes a JSON body (the upload's `{batch_no}` as 1).
pub const BODY_ROUTES: [&str; 7] = [
    "/v1/activate",
    "/v1/sign-in",
    "/v1/transactions",
    "/v1/reversals",
    "/v1/settlements",
    "/v1/settlements/1/upload",
    "/v1/sign-off",
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
        "/v1/activate" => decode::<ActivateRequest>(body)?.check(),
        "/v1/sign-in" => decode::<SignInRequest>(body)?.check(),
        "/v1/transactions" => decode::<TransactionRequest>(body)?.check(),
        "/v1/reversals" => decode::<ReversalRequest>(body)?.check(),
        "/v1/settlements" => decode::<SettlementRequest>(body)?.check(),
        "/v1/sign-off" => decode::<SignOffRequest>(body)?.check(),
        _ => {
            let batch_no = path
                .strip_prefix("/v1/settlements/")
                .and_then(|rest| rest.strip_suffix("/upload"))
                .ok_or_else(|| Error::with_detail(ErrorCode::BadRequest, "no such route"))?;
            check_upload_path(batch_no)?;
            decode::<UploadRequest>(body)?.check()
        }
    }
}

/// The `{batch_no}` of the upload route: a number in 1..=999999.
pub fn check_upload_path(batch_no: &str) -> Result<u32, Error> {
    let n = batch_no
        .parse()
        .map_err(|_| Error::with_detail(ErrorCode::BadRequest, "the batch number is 1..=999999"))?;
    check_sequence("batch_no", n)?;
    Ok(n)
}
