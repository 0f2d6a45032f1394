//! What the acquirer's answer to a sale, void or refund makes of it: its row's status, code,
//! RRN and authorisation code, and the answer the terminal gets (R9). The RRN and
//! authorisation code are the acquirer's, whichever acquirer it is.

use super::{busy, Answer, Session};
use crate::acquirer::{self, response_message, Acquirer, Request};
use crate::db::{BatchRow, NewTransaction, Tx, TxState};
use crate::error::ApiResult;
use crate::forward::Ahead;
use crate::store::{now_ms, Store};
use softpos::protocol::{TransactionRequest, TransactionResponse, TxStatus};
use softpos::terminal::time::Timestamp;

/// The code a transaction whose outcome is unknown upstream is declined with: the
/// terminal gets a definite decline, so it has nothing to reverse.
pub(super) const NO_ANSWER: &str = "98";

/// The acquirer's decision on a transaction.
#[derive(Debug)]
pub(super) struct Verdict {
    pub(super) status: TxState,
    code: String,
    rrn: Option<String>,
    auth_code: Option<String>,
    /// The acquirer's settlement date (field 15), kept for a refund's 61.3.
    settlement_date: Option<String>,
}

impl Verdict {
    /// Approved on `00`; declined with the acquirer's code on any other; declined `98` when
    /// the outcome is unknown.
    pub(super) fn of(answer: acquirer::Answer) -> Verdict {
        match answer {
            acquirer::Answer::Answered {
                code,
                rrn,
                auth_code,
                settlement_date,
                ..
            } => {
                let approved = code == "00";
                Verdict {
                    status: if approved {
                        TxState::Approved
                    } else {
                        TxState::Declined
                    },
                    code,
                    rrn,
                    // Only an approval has these, whatever a decline carries.
                    auth_code: auth_code.filter(|_| approved),
                    settlement_date: settlement_date.filter(|_| approved),
                }
            }
            acquirer::Answer::Unknown => Verdict {
                status: TxState::Declined,
                code: NO_ANSWER.to_owned(),
                rrn: None,
                auth_code: None,
                settlement_date: None,
            },
        }
    }

    /// Approved.
    pub(super) fn approved(&self) -> bool {
        self.status == TxState::Approved
    }

    /// The transaction's row with the decision in it.
    pub(super) fn row<'a>(&'a self, row: NewTransaction<'a>) -> NewTransaction<'a> {
        NewTransaction {
            status: self.status,
            response_code: Some(&self.code),
            auth_code: self.auth_code.as_deref(),
            settlement_date: self.settlement_date.as_deref(),
            rrn: self.rrn.as_deref(),
            ..row
        }
    }

    /// The answer the terminal gets, and keeps getting for this request (R9).
    pub(super) fn answer(
        &self,
        req: &TransactionRequest,
        batch: &BatchRow,
        masked_pan: Option<&str>,
    ) -> ApiResult<Answer> {
        Answer::ok(&TransactionResponse {
            request_id: req.request_id.clone(),
            status: if self.approved() {
                TxStatus::Approved
            } else {
                TxStatus::Declined
            },
            response_code: self.code.clone(),
            message: response_message(&self.code).to_owned(),
            rrn: self.rrn.clone(),
            auth_code: self.auth_code.clone(),
            batch_no: batch.batch_no,
            trace_no: req.trace_no,
            masked_pan: masked_pan.map(str::to_owned),
            host_time: Timestamp(now_ms()).rfc3339(),
            reference: req.reference.clone(),
        })
    }
}

/// The terminal as the acquirer knows it.
pub(super) fn terminal_of(s: &Session) -> acquirer::Terminal {
    acquirer::Terminal {
        terminal_id: s.terminal.terminal_id.clone(),
        merchant_id: s.terminal.merchant_id.clone(),
    }
}

/// How a sale, void or refund goes upstream.
#[derive(Debug)]
pub(super) enum Route {
    /// Booked with its answer in one transaction: the acquirer decided at once, or the message
    /// was not sent because the terminal's earlier messages owed upstream got no answer
    /// (declined `98`, nothing owed for it: the acquirer never saw it).
    Decided(Verdict),
    /// Booked pending; the answer is awaited outside any transaction and committed after.
    /// `Some`: the acquirer decided at once, yet without a definite answer.
    Pending(Option<acquirer::Answer>),
}

impl Route {
    /// `ahead`: what the terminal still owed upstream came to
    /// ([`Store::forward_terminal`](crate::store::Store::forward_terminal)); anything owed left
    /// is answered before this is called.
    pub(super) fn of(ahead: Ahead, acquirer: &dyn Acquirer, request: &Request) -> Route {
        if ahead != Ahead::Clear {
            return Route::Decided(Verdict::of(acquirer::Answer::Unknown));
        }
        match acquirer.decide_now(request) {
            Some(acquirer::Answer::Unknown) => Route::Pending(Some(acquirer::Answer::Unknown)),
            Some(answer) => Route::Decided(Verdict::of(answer)),
            None => Route::Pending(None),
        }
    }
}

/// The answer to a pending message: the one already known, else the acquirer's, asked now.
pub(super) async fn awaited(
    known: Option<acquirer::Answer>,
    acquirer: &dyn Acquirer,
    request: &Request,
) -> acquirer::Answer {
    match known {
        Some(answer) => answer,
        None => acquirer.ask(request.clone()).await,
    }
}

/// `BUSY` for a new request while the terminal's owed message is being sent elsewhere
/// (`Ahead::Elsewhere` from [`Store::forward_terminal`]), said only once the request's own
/// checks have had their say, so a retry of a request that was reversed or answered still
/// hears that.
fn busy_unless_answered(ahead: Ahead) -> ApiResult<Ahead> {
    match ahead {
        Ahead::Elsewhere => Err(busy()),
        ahead => Ok(ahead),
    }
}

/// A new sale, void or refund of the terminal (a request id not seen before), being booked in
/// `tx`: [`busy_unless_answered`], and the terminal's standby reversals end with it (R8: the
/// terminal reverses before its next operation, so it can no longer reverse what came before).
pub(super) async fn next_operation(
    store: &Store,
    tx: &mut Tx,
    s: &Session,
    ahead: Ahead,
) -> ApiResult<Ahead> {
    let ahead = busy_unless_answered(ahead)?;
    store.end_standby(tx, s.terminal.terminal_ref).await?;
    Ok(ahead)
}
