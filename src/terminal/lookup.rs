//! R7: looking up the sales a refund may name (`GET /v1/sales`). A read that changes nothing
//! and needs no write-ahead, so it runs beside the operations rather than as one: the terminal
//! only says whether a lookup may go now and with which credential, and never hands the
//! session token itself to the page.

use crate::error::{Error, ErrorCode};
use crate::protocol::SaleQuery;
use crate::terminal::{Auth, Terminal};

/// A lookup to send: `GET` this path with this credential; the answer is a
/// [`SalesResponse`](crate::protocol::SalesResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesLookup {
    /// Path and query under the host URL.
    pub path: String,
    /// The session's credential.
    pub auth: Auth,
}

impl Terminal {
    /// The lookup for the search box's text `q`, or why none may be sent now, with nothing
    /// sent: `BUSY` while an operation is in flight (R2: one thing at a time, as for every
    /// call), `NOT_SIGNED_IN` without a session (R1), `BAD_REQUEST` for a query the host
    /// would refuse (so a card number typed into the box never leaves in a URL).
    pub fn sales_lookup(&self, q: &str) -> Result<SalesLookup, Error> {
        if self.op.is_some() {
            return Err(ErrorCode::Busy.into());
        }
        let auth = self.session_auth().ok_or(ErrorCode::NotSignedIn)?;
        SaleQuery::parse(q)?;
        // Only digits pass the parse: nothing in `q` needs escaping.
        Ok(SalesLookup {
            path: format!("/v1/sales?q={q}"),
            auth,
        })
    }
}
