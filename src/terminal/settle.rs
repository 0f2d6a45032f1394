//! Settlement (R10, R11): the settle and sign-off goals, each settlement's write-ahead, its
//! request and batch upload, and closing the batch on the host's answer.

use crate::error::{Error, ErrorCode};
use crate::ids::{BatchNo, RequestId};
use crate::protocol::{
    AcquirerVerdict, BatchTotals, Discrepancy, EntryKind, Outcome, SettlementRequest, UploadRequest,
};
use crate::terminal::phase::{Goal, Next, OwnSettlement, Phase, Stage, Wait};
use crate::terminal::session::sign_off_call;
use crate::terminal::settlement::Tally;
use crate::terminal::time::Timestamp;
use crate::terminal::{
    Auth, Call, Completion, Event, Outgoing, PendingSettlement, PendingUpload, RecoveryKind, Reply,
    SettledRange, SettlementResult, Terminal,
};

/// Settled batches remembered so a void of their sales says "refund instead" (R6).
const RECENT_SETTLED: usize = 10;

/// Journal entries a batch upload sends in one request (R11). About 0.5 MB of JSON: a round
/// trip well inside the request timeout on a slow counter link, so a dropped connection costs
/// one chunk rather than the whole journal, while a full batch (20 000) takes 20 round trips.
/// A journal this long or shorter goes in one body, as the whole journal.
pub const UPLOAD_CHUNK: usize = 1_000;

impl Terminal {
    /// The settle goal: its own settlement, then the automatic sign-off if configured (R13).
    pub(super) fn pursue_settle(
        &mut self,
        auth: Auth,
        then_sign_off: bool,
        new_id: &mut dyn FnMut() -> RequestId,
    ) -> Next {
        if self.meta.settlement.is_some() {
            return self.send_settlement(auth, Stage::Goal);
        }
        let Some(op) = self.op.as_ref() else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        match &op.own {
            OwnSettlement::Due { .. } => self.start_own_settlement(auth, new_id),
            OwnSettlement::Started { .. } => own_settlement_lost(),
            OwnSettlement::Done(_) if then_sign_off => {
                Next::Send(sign_off_call(auth, new_id), Wait::SignOff)
            }
            OwnSettlement::Done(r) => Next::Done(Ok(Completion::Settled(r.as_ref().clone()))),
        }
    }

    /// The sign-off goal: its own settlement when asked for and the batch has transactions
    /// (R12), then the sign-off.
    pub(super) fn pursue_sign_off(
        &mut self,
        auth: Auth,
        settle: bool,
        new_id: &mut dyn FnMut() -> RequestId,
    ) -> Next {
        if self.meta.settlement.is_some() {
            return self.send_settlement(auth, Stage::Goal);
        }
        let Some(op) = self.op.as_ref() else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        match &op.own {
            OwnSettlement::Due { .. } if settle && self.journal.has_transactions() => {
                self.start_own_settlement(auth, new_id)
            }
            OwnSettlement::Started { .. } => own_settlement_lost(),
            _ => Next::Send(sign_off_call(auth, new_id), Wait::SignOff),
        }
    }

    /// R11: the settle's or sign-off's own settlement, of the batch open now; once.
    fn start_own_settlement(&mut self, auth: Auth, new_id: &mut dyn FnMut() -> RequestId) -> Next {
        let batch_no = self.journal.batch_no();
        if let Some(op) = self.op.as_mut() {
            op.own = OwnSettlement::Started { batch_no };
        }
        self.start_settlement(batch_no, new_id);
        self.send_settlement(auth, Stage::Goal)
    }

    /// R11: writes the settlement ahead; [`Terminal::send_settlement`] sends it.
    pub(super) fn start_settlement(
        &mut self,
        batch_no: u32,
        new_id: &mut dyn FnMut() -> RequestId,
    ) {
        let currency = self.currency_code();
        let terminal_totals = if batch_no == self.journal.batch_no() {
            self.journal.totals(&currency)
        } else {
            // A batch the terminal holds no journal for (closed at cut-off after the
            // browser's storage was lost): the terminal counted nothing it can show.
            Tally::default().to_batch_totals(batch_no, &currency)
        };
        self.meta.settlement = Some(PendingSettlement {
            batch_no,
            terminal_totals,
            request_id: new_id(),
            upload_request_id: new_id(),
            upload: None,
        });
        self.meta.reconcile.retain(|b| *b != batch_no);
        self.push_meta();
    }

    /// The next request of the settlement under way: the settlement, or its batch upload
    /// once the host said unbalanced.
    pub(super) fn send_settlement(&self, auth: Auth, stage: Stage) -> Next {
        let Some(s) = self.meta.settlement.as_ref() else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        // The batch numbers the terminal keeps came from the host, which numbers from 1.
        let Ok(batch_no) = BatchNo::try_from(s.batch_no) else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        let call = match &s.upload {
            None => Call::Settlement(SettlementRequest {
                request_id: s.request_id.clone(),
                batch_no,
                terminal_totals: s.terminal_totals.clone(),
            }),
            Some(u) => {
                let all = if s.batch_no == self.journal.batch_no() {
                    self.journal.entries()
                } else {
                    &[]
                };
                // From where the host said it holds the journal up to, one chunk (R11).
                let from = u.sent.unwrap_or(0);
                let rest = all.get(from as usize..).unwrap_or_default();
                Call::Upload(
                    s.batch_no,
                    UploadRequest {
                        request_id: s.upload_request_id.clone(),
                        entries: rest.get(..UPLOAD_CHUNK).unwrap_or(rest).to_vec(),
                        from: Some(from).filter(|f| *f > 0),
                        more: (rest.len() > UPLOAD_CHUNK).then_some(true),
                    },
                )
            }
        };
        Next::Send(Outgoing { call, auth }, Wait::Settlement(stage))
    }

    /// `Awaiting(Settlement)` and its reply: back to the stage it was sent in (an upload may
    /// follow), or the operation fails (see [`Terminal::housekeeping_failed`]).
    pub(super) fn on_settlement(&mut self, stage: Stage, reply: Reply, now: Timestamp) -> Phase {
        let Some(pending) = self.meta.settlement.clone() else {
            return stage.resume();
        };
        match reply {
            Reply::Settlement(resp) if resp.batch_no == pending.batch_no => {
                if resp.outcome == Outcome::Balanced {
                    let answer = Settled {
                        outcome: Outcome::Balanced,
                        host_totals: resp.host_totals,
                        discrepancies: Vec::new(),
                        next_batch_no: resp.next_batch_no.get(),
                        acquirer_outcome: resp.acquirer_outcome,
                    };
                    self.close_settlement(answer.result(pending, now));
                } else {
                    // 对账不平: the batch upload goes at once; written ahead so a reload
                    // finishes it first.
                    self.meta.settlement = Some(PendingSettlement {
                        upload: Some(PendingUpload {
                            host_totals: resp.host_totals,
                            next_batch_no: resp.next_batch_no.get(),
                            sent: None,
                        }),
                        ..pending
                    });
                    self.push_meta();
                }
                stage.resume()
            }
            Reply::UploadProgress(p) if p.batch_no.get() == pending.batch_no => {
                self.on_chunk_taken(stage, p.received)
            }
            Reply::Upload(resp) if resp.batch_no == pending.batch_no => {
                // The upload's answer is the later one: its verdict is the newer.
                let answer = Settled {
                    outcome: resp.outcome,
                    host_totals: resp.host_totals,
                    discrepancies: resp.discrepancies,
                    next_batch_no: resp.next_batch_no.get(),
                    acquirer_outcome: resp.acquirer_outcome,
                };
                self.close_settlement(answer.result(pending, now));
                stage.resume()
            }
            Reply::Refused(e) => {
                // A definite no: the same request would be refused again, so it is dropped
                // and the operator sees why. Settling again starts afresh.
                self.meta.settlement = None;
                self.push_meta();
                self.housekeeping_failed(e)
            }
            // Kept: the next operation finishes it first, with the same request id (R9).
            Reply::NoAnswer => self.housekeeping_failed(ErrorCode::HostUnreachable.into()),
            _ => self.housekeeping_failed(Error::with_detail(
                ErrorCode::Internal,
                "the host answered another batch",
            )),
        }
    }

    /// R11: the host holds the journal up to `received`; the next chunk goes on from there.
    fn on_chunk_taken(&mut self, stage: Stage, received: u32) -> Phase {
        let upload = self
            .meta
            .settlement
            .as_mut()
            .and_then(|s| s.upload.as_mut());
        if let Some(u) = upload {
            if u.sent == Some(received) {
                // The host took nothing of the chunk and would be asked the same again: a loop.
                return self.housekeeping_failed(ErrorCode::Internal.into());
            }
            // Written before the next chunk goes, so a reload goes on from here; the host's
            // count is the one that stands, less than what was sent or not.
            u.sent = Some(received);
            self.push_meta();
        }
        stage.resume()
    }

    /// The host settled the batch: it leaves the terminal's hands, and the open one moves on.
    fn close_settlement(&mut self, result: SettlementResult) {
        self.meta.settlement = None;
        self.meta.reconcile.retain(|b| *b != result.batch_no);
        if result.batch_no == self.journal.batch_no() {
            self.remember_settled(result.batch_no);
            // The batch's reversals went first (housekeeping), so none is left for it.
            self.switch_batch(result.next_batch_no);
            if self
                .recovery
                .as_ref()
                .is_some_and(|r| r.kind == RecoveryKind::NotSettled)
            {
                self.recovery = None;
            }
        }
        self.meta.last_settlement = Some(result.clone());
        self.meta.history.keep(&result);
        self.push_meta();
        self.events.push_back(Event::Settled(result.clone()));
        if let Some(op) = self.op.as_mut() {
            if op.own.is_for(result.batch_no)
                && matches!(op.goal, Goal::Settle { .. } | Goal::SignOff { .. })
            {
                op.own = OwnSettlement::Done(Box::new(result.clone()));
            }
            op.settled.push(result);
        }
    }

    /// R6: the open batch's range of trace numbers, so a void of its sales after the
    /// settlement says "refund instead".
    fn remember_settled(&mut self, batch_no: u32) {
        let mut traces = self
            .journal
            .entries()
            .iter()
            .filter(|e| e.kind != EntryKind::Reversal)
            .map(|e| e.trace_no.get());
        let Some(first_trace) = traces.next() else {
            return;
        };
        let last_trace = traces.next_back().unwrap_or(first_trace);
        self.meta.recent_settled.push(SettledRange {
            batch_no,
            first_trace,
            last_trace,
        });
        let excess = self
            .meta
            .recent_settled
            .len()
            .saturating_sub(RECENT_SETTLED);
        self.meta.recent_settled.drain(..excess);
    }
}

/// What the host's last answer of a settlement says.
struct Settled {
    outcome: Outcome,
    host_totals: BatchTotals,
    discrepancies: Vec<Discrepancy>,
    next_batch_no: u32,
    acquirer_outcome: Option<AcquirerVerdict>,
}

impl Settled {
    /// The settlement's result as the host answered it.
    fn result(self, pending: PendingSettlement, now: Timestamp) -> SettlementResult {
        SettlementResult {
            batch_no: pending.batch_no,
            outcome: self.outcome,
            terminal_totals: pending.terminal_totals,
            host_totals: self.host_totals,
            discrepancies: self.discrepancies,
            next_batch_no: self.next_batch_no,
            settled_at: now.rfc3339(),
            acquirer_outcome: self.acquirer_outcome,
        }
    }
}

/// The own settlement is neither pending nor finished, and no answer failed the operation:
/// it is not started again, whatever happened.
fn own_settlement_lost() -> Next {
    Next::Done(Err(Error::with_detail(
        ErrorCode::Internal,
        "the settlement ended without an answer",
    )))
}
