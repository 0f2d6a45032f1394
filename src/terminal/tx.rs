//! Sale, void, refund and pre-authorisation (R5–R8, R18, R20): the one request, written
//! ahead, and its answer journaled; a transaction without a definite answer is queued for
//! reversal.

use crate::error::{Error, ErrorCode};
use crate::ids::{RequestId, TraceNo, MAX_SEQUENCE};
use crate::protocol::{
    CardData, EntryStatus, OriginalRef, TransactionRequest, TransactionResponse, TxStatus,
};
use crate::terminal::journal::EntryDraft;
use crate::terminal::phase::{Goal, Next, Op, Phase, TxPlan, Wait};
use crate::terminal::time::Timestamp;
use crate::terminal::{
    Auth, Call, Completion, Event, InFlight, Outgoing, QueuedReversal, Reply, Terminal, TxResult,
};

impl TxPlan {
    /// The transaction's request. The card and the supervisor password leave the plan with
    /// it; what stays is the masked PAN.
    fn request(
        &mut self,
        request_id: RequestId,
        trace_no: TraceNo,
        currency: String,
    ) -> (TransactionRequest, Option<String>) {
        let req = TransactionRequest {
            request_id,
            kind: self.kind,
            trace_no,
            amount: self.amount,
            currency,
            card: self.card.as_ref().map(|(pan, expiry)| CardData {
                pan: pan.digits().to_owned(),
                expiry: expiry.to_mm_yy(),
            }),
            original: self.original.clone(),
            supervisor_password: self.supervisor_password.take(),
            reference: self.reference.take(),
        };
        let masked_pan = match self.card.take() {
            Some((pan, _)) => Some(pan.masked()),
            None => self.original_pan.take(),
        };
        (req, masked_pan)
    }
}

impl Terminal {
    /// The transaction goal: its request, written ahead (R18).
    pub(super) fn send_transaction(
        &mut self,
        auth: Auth,
        now: Timestamp,
        new_id: &mut dyn FnMut() -> RequestId,
    ) -> Next {
        let trace_no = self.allocate_trace();
        let currency = self.currency_code();
        let operator = self.meta.operator.clone().unwrap_or_default();
        let Some(Op {
            goal: Goal::Tx(plan),
            ..
        }) = self.op.as_mut()
        else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        let (req, masked_pan) = plan.request(new_id(), trace_no, currency);
        let (original_trace_no, original_rrn) = match &req.original {
            Some(OriginalRef::Trace { trace_no }) => (Some(*trace_no), None),
            Some(OriginalRef::Rrn { rrn } | OriginalRef::Hold { rrn, .. }) => {
                (None, Some(rrn.clone()))
            }
            None => (None, None),
        };
        // R18: the request id and what it would be journaled as are written before the
        // request leaves (the driver persists `take_writes()` before it sends).
        self.meta.in_flight = Some(InFlight {
            request_id: req.request_id.clone(),
            kind: req.kind,
            trace_no,
            amount: req.amount,
            masked_pan,
            original_trace_no,
            original_rrn,
            operator,
        });
        self.last_activity = now;
        self.push_meta();
        let call = Call::Transaction(req.clone());
        Next::Send(Outgoing { call, auth }, Wait::Transaction(Box::new(req)))
    }

    /// `Awaiting(Transaction)` and its reply, which always ends the operation.
    pub(super) fn on_transaction(
        &mut self,
        sent: TransactionRequest,
        reply: Reply,
        now: Timestamp,
    ) -> Phase {
        let Some(in_flight) = self.meta.in_flight.clone() else {
            return Phase::done(Err(ErrorCode::Internal.into()));
        };
        Phase::done(match reply {
            Reply::Transaction(resp) if resp.request_id == sent.request_id => {
                self.book(sent, in_flight, resp, now)
            }
            Reply::Refused(e) => {
                // 4xx: the host booked nothing, so there is nothing to journal or reverse.
                self.meta.in_flight = None;
                self.push_meta();
                Err(e)
            }
            // No answer, or one that is not for this request: R8.
            _ => self.lose_answer(in_flight, now).and(Err(Error {
                code: ErrorCode::HostUnreachable,
                message: "No answer from the host; the transaction will be reversed".into(),
            })),
        })
    }

    /// Journals the host's answer to the transaction and reports it.
    fn book(
        &mut self,
        sent: TransactionRequest,
        in_flight: InFlight,
        resp: TransactionResponse,
        now: Timestamp,
    ) -> Result<Completion, Error> {
        let status = match resp.status {
            TxStatus::Approved => EntryStatus::Approved,
            TxStatus::Declined => EntryStatus::Declined,
        };
        let at = now.rfc3339();
        // A void or refund of a sale this journal does not hold learns its card from the host.
        let masked_pan = in_flight.masked_pan.clone().or(resp.masked_pan);
        let journaled = self.append(EntryDraft {
            request_id: sent.request_id.clone(),
            kind: sent.kind.into(),
            trace_no: sent.trace_no,
            amount: sent.amount,
            currency: sent.currency.clone(),
            status,
            response_code: Some(resp.response_code.clone()),
            rrn: resp.rrn.clone(),
            auth_code: resp.auth_code.clone(),
            masked_pan: masked_pan.clone(),
            original_trace_no: in_flight.original_trace_no,
            original_rrn: in_flight.original_rrn.clone(),
            operator: in_flight.operator.clone(),
            at: at.clone(),
        });
        if let Err(e) = journaled {
            // The journal's restored totals are forged and cannot count it: it is reversed
            // rather than booked on the host alone.
            let _queued = self.lose_answer(in_flight, now);
            return Err(e);
        }
        self.meta.in_flight = None;
        self.push_meta();
        let result = TxResult {
            kind: sent.kind,
            status: resp.status,
            response_code: resp.response_code,
            message: resp.message,
            trace_no: sent.trace_no.get(),
            batch_no: self.journal.batch_no(),
            rrn: resp.rrn,
            auth_code: resp.auth_code,
            amount: sent.amount,
            currency: sent.currency,
            masked_pan,
            at,
            reference: resp.reference,
        };
        self.events.push_back(Event::Transaction(result.clone()));
        Ok(Completion::Transaction(result))
    }

    /// The next unused trace number of the open batch.
    fn allocate_trace(&mut self) -> TraceNo {
        let mut trace = TraceNo::clamped(self.meta.next_trace_no);
        // Never reuse a trace inside one batch; a batch holds far fewer than 999 999.
        for _ in 0..MAX_SEQUENCE {
            if !self.journal.trace_used(trace.get()) {
                break;
            }
            trace = trace.next();
        }
        self.meta.next_trace_no = trace.next().get();
        trace
    }

    /// R8: the transaction got no definite answer: queue its reversal, journal it `unknown`.
    /// The reversal is queued even when the journal refuses the entry.
    pub(super) fn lose_answer(&mut self, f: InFlight, now: Timestamp) -> Result<(), Error> {
        let currency = self.currency_code();
        self.meta.reversals.push_back(QueuedReversal {
            request_id: f.request_id.clone(),
            batch_no: self.journal.batch_no(),
            trace_no: f.trace_no,
            amount: f.amount,
        });
        self.meta.in_flight = None;
        let journaled = self.append(EntryDraft {
            request_id: f.request_id.clone(),
            kind: f.kind.into(),
            trace_no: f.trace_no,
            amount: f.amount,
            currency,
            status: EntryStatus::Unknown,
            response_code: None,
            rrn: None,
            auth_code: None,
            masked_pan: f.masked_pan,
            original_trace_no: f.original_trace_no,
            original_rrn: f.original_rrn,
            operator: f.operator,
            at: now.rfc3339(),
        });
        self.push_meta();
        self.events.push_back(Event::ReversalQueued {
            request_id: f.request_id.into(),
        });
        journaled
    }
}
