//! What every operation but activation clears first (R8, R11, R14): the queued reversals,
//! a settlement that was cut off, the batches to reconcile, then the move to the host's
//! open batch.

use crate::error::{Error, ErrorCode};
use crate::ids::RequestId;
use crate::protocol::{
    EntryKind, EntryStatus, ReversalRequest, ReversalResponse, TransactionResponse, TxStatus,
};
use crate::terminal::journal::{tx_kind, EntryDraft};
use crate::terminal::phase::{Chores, Phase, Stage, Wait};
use crate::terminal::time::Timestamp;
use crate::terminal::{Auth, Call, Event, Outgoing, QueuedReversal, Reply, Terminal, TxResult};

/// R8: tries per queued reversal before an operation gives up with `HOST_UNREACHABLE`.
pub const REVERSAL_TRIES: u8 = 3;

impl Terminal {
    /// Leaves `Housekeeping`: the next request it needs, or `Clear` for the goal.
    pub(super) fn housekeeping(&mut self, new_id: &mut dyn FnMut() -> RequestId) -> Chores {
        let Some(session) = self.session.as_ref() else {
            return Chores::Done(Err(ErrorCode::NotSignedIn.into()));
        };
        let auth = Auth::Session(session.token.clone());
        let session_batch = session.batch_no;
        if let Some(rev) = self.meta.reversals.front() {
            let call = Call::Reversal(ReversalRequest {
                request_id: rev.request_id.clone(),
            });
            return Chores::Send(Outgoing { call, auth }, Wait::Reversal);
        }
        if self.meta.settlement.is_some() {
            return self.send_settlement(auth, Stage::Housekeeping).into();
        }
        if let Some(batch_no) = self.meta.reconcile.front().copied() {
            self.start_settlement(batch_no, new_id);
            return self.send_settlement(auth, Stage::Housekeeping).into();
        }
        if session_batch != self.journal.batch_no() && !self.journal.has_transactions() {
            self.switch_batch(session_batch);
        }
        Chores::Clear
    }

    /// `Awaiting(Reversal)` and its reply: back to housekeeping, or the operation fails
    /// once the host refused the reversal or did not answer [`REVERSAL_TRIES`] times.
    pub(super) fn on_reversal(&mut self, reply: Reply, now: Timestamp) -> Phase {
        match reply {
            Reply::Reversal(ack) => self.reversal_acknowledged(ack, now),
            Reply::Refused(e) => self.housekeeping_failed(Error {
                code: ErrorCode::HostUnreachable,
                message: format!(
                    "{} (the host refused the reversal: {})",
                    ErrorCode::HostUnreachable.message_en(),
                    e.message
                ),
            }),
            _ => {
                let Some(op) = self.op.as_mut() else {
                    return Phase::Housekeeping;
                };
                op.reversal_tries += 1;
                if op.reversal_tries >= REVERSAL_TRIES {
                    self.housekeeping_failed(ErrorCode::HostUnreachable.into())
                } else {
                    Phase::Housekeeping
                }
            }
        }
    }

    /// The host acknowledged the queue's head: journal its answer, then dequeue it.
    fn reversal_acknowledged(&mut self, ack: ReversalResponse, now: Timestamp) -> Phase {
        let Some(rev) = self.meta.reversals.front().cloned() else {
            return Phase::Housekeeping;
        };
        let answered = if ack.reversed { None } else { ack.transaction };
        let misfit = if ack.request_id != rev.request_id {
            Some("the host acknowledged another reversal")
        } else if answered
            .as_ref()
            .is_some_and(|a| a.request_id != rev.request_id)
        {
            Some("the host answered for another transaction")
        } else {
            None
        };
        if let Some(misfit) = misfit {
            return self.housekeeping_failed(Error::with_detail(ErrorCode::Internal, misfit));
        }
        // Journaled before it leaves the queue, so a journal that cannot take the answer
        // keeps the reversal for the next try.
        let stands = match self.journal_reversal_answer(&rev, answered.as_ref(), now) {
            Ok(stands) => stands,
            Err(e) => return self.housekeeping_failed(e),
        };
        self.meta.reversals.pop_front();
        self.push_meta();
        if let Some(op) = self.op.as_mut() {
            op.reversal_tries = 0;
        }
        self.events.push_back(match stands {
            Some(result) => Event::Transaction(result),
            None => Event::Reversed {
                request_id: rev.request_id.into(),
            },
        });
        Phase::Housekeeping
    }

    /// R8: journals the host's answer to a reversal in the transaction's batch: `reversed`,
    /// or, when the host kept the transaction (it has an approved void or refund), its final
    /// answer, which the `unknown` entry then counts as. Returns that answer for the UI.
    fn journal_reversal_answer(
        &mut self,
        rev: &QueuedReversal,
        answered: Option<&TransactionResponse>,
        now: Timestamp,
    ) -> Result<Option<TxResult>, Error> {
        if rev.batch_no != self.journal.batch_no() {
            return Ok(None);
        }
        let original = self.journal.by_request(rev.request_id.as_str()).cloned();
        let currency = self.currency_code();
        let (status, response_code, rrn, auth_code) = match answered {
            Some(a) => (
                match a.status {
                    TxStatus::Approved => EntryStatus::Approved,
                    TxStatus::Declined => EntryStatus::Declined,
                },
                Some(a.response_code.clone()),
                a.rrn.clone(),
                a.auth_code.clone(),
            ),
            None => (EntryStatus::Reversed, None, None, None),
        };
        let original_ref = original.as_ref();
        self.append(EntryDraft {
            request_id: rev.request_id.clone(),
            kind: EntryKind::Reversal,
            trace_no: rev.trace_no,
            amount: rev.amount,
            currency: currency.clone(),
            status,
            response_code,
            rrn,
            auth_code,
            masked_pan: original_ref.and_then(|e| e.masked_pan.clone()),
            original_trace_no: None,
            original_rrn: None,
            operator: original_ref.map(|e| e.operator.clone()).unwrap_or_default(),
            at: original_ref.map(|e| e.at.clone()).unwrap_or_default(),
        })?;
        let (Some(a), Some(kind)) = (answered, original_ref.and_then(|e| tx_kind(e.kind))) else {
            return Ok(None);
        };
        Ok(Some(TxResult {
            kind,
            status: a.status,
            response_code: a.response_code.clone(),
            message: a.message.clone(),
            trace_no: rev.trace_no.get(),
            batch_no: rev.batch_no,
            rrn: a.rrn.clone(),
            auth_code: a.auth_code.clone(),
            amount: rev.amount,
            currency,
            masked_pan: original.and_then(|e| e.masked_pan),
            at: now.rfc3339(),
            reference: a.reference.clone(),
        }))
    }
}
