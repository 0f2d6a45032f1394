//! R7: looking up the sales a refund may name (`GET /v1/sales`). A read that changes nothing
//! and needs no write-ahead, so it runs beside the operations rather than as one: the terminal
//! only says whether a lookup may go now and with which credential, and never hands the
//! session token itself to the page.

use crate::error::{Error, ErrorCode};
use crate::protocol::SaleQuery;
use crate::terminal::money::Currency;
use crate::terminal::{Auth, Terminal};

/// A read to send: `GET` this path with this credential; the answer is a
/// [`SalesResponse`](crate::protocol::SalesResponse) or, for [`Terminal::history_lookup`], a
/// [`SettlementsResponse`](crate::protocol::SettlementsResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesLookup {
    /// Path and query under the host URL.
    pub path: String,
    /// The session's credential.
    pub auth: Auth,
}

/// R21: what the transaction query's box asks for (the widget's query and refund tabs read it;
/// the host's lookup takes [`SaleQuery`] only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxQuery {
    /// What the host's sales lookup takes: everything (empty), an RRN, a trace number or the
    /// last four digits ([`SaleQuery`]).
    Sales(SaleQuery),
    /// An amount, typed with its decimal point (`12.50`, `12.5`), in minor units: digits alone
    /// are a trace number or the last four.
    Amount(i64),
    /// Neither: it matches nothing (a card number typed in the box is one).
    Bad,
}

impl TxQuery {
    /// Reads the box in the terminal's currency, exactly (no floats).
    pub fn parse(text: &str, currency: Currency) -> TxQuery {
        let text = text.trim();
        if text.contains('.') {
            currency
                .parse_amount(text)
                .map_or(TxQuery::Bad, TxQuery::Amount)
        } else {
            SaleQuery::parse(text).map_or(TxQuery::Bad, TxQuery::Sales)
        }
    }

    /// Whether a transaction matches: every one for an empty query, by RRN, by trace number,
    /// by the card's last four (4 digits), by amount.
    pub fn hits(&self, rrn: &str, trace_no: u32, masked_pan: &str, amount: i64) -> bool {
        match self {
            TxQuery::Sales(SaleQuery::Newest) => true,
            TxQuery::Sales(SaleQuery::Rrn(r)) => r == rrn,
            TxQuery::Sales(SaleQuery::Digits { trace_no: t, last4 }) => {
                *t == trace_no || last4.as_ref().is_some_and(|l| masked_pan.ends_with(l))
            }
            TxQuery::Amount(a) | TxQuery::Sales(SaleQuery::Amount(a)) => *a == amount,
            TxQuery::Bad => false,
        }
    }
}

impl Terminal {
    /// The lookup for the search box's text `q`, or why none may be sent now, with nothing
    /// sent: `BUSY` while an operation is in flight (R2: one thing at a time, as for every
    /// call), `NOT_SIGNED_IN` without a session (R1), `BAD_REQUEST` for a query the host
    /// would refuse (so a card number typed into the box never leaves in a URL).
    pub fn sales_lookup(&self, q: &str) -> Result<SalesLookup, Error> {
        self.lookup_path(q, format!("/v1/sales?q={q}"))
    }

    /// The host's part of the query box (R21): an amount is asked as `amount=` in minor
    /// units, anything else as [`Terminal::sales_lookup`] asks `text`.
    pub fn tx_lookup(&self, query: &TxQuery, text: &str) -> Result<SalesLookup, Error> {
        match query {
            TxQuery::Amount(a) => self.lookup_path("", format!("/v1/sales?amount={a}")),
            _ => self.sales_lookup(text.trim()),
        }
    }

    /// A lookup of `path` once `q` is one the host takes, refused as [`Terminal::sales_lookup`]
    /// says.
    fn lookup_path(&self, q: &str, path: String) -> Result<SalesLookup, Error> {
        if self.op.is_some() {
            return Err(ErrorCode::Busy.into());
        }
        let auth = self.session_auth().ok_or(ErrorCode::NotSignedIn)?;
        SaleQuery::parse(q)?;
        // Only digits pass the parse: nothing in `q` needs escaping.
        Ok(SalesLookup { path, auth })
    }

    /// R21: the read of the terminal's settled batches from business date `since`
    /// (`YYYY-MM-DD`; the host's last 30 days without it), refused as [`Terminal::sales_lookup`]
    /// is, and `BAD_REQUEST` for what is not a date.
    pub fn history_lookup(&self, since: Option<&str>) -> Result<SalesLookup, Error> {
        if self.op.is_some() {
            return Err(ErrorCode::Busy.into());
        }
        let auth = self.session_auth().ok_or(ErrorCode::NotSignedIn)?;
        let path = match since {
            None | Some("") => "/v1/settlements".to_owned(),
            Some(d) if is_date(d) => format!("/v1/settlements?since={d}"),
            Some(_) => {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    "since is a date, YYYY-MM-DD",
                ))
            }
        };
        Ok(SalesLookup { path, auth })
    }
}

/// `YYYY-MM-DD` in digits (the host checks the calendar).
fn is_date(d: &str) -> bool {
    d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}
