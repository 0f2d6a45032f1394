//! Where an operation stands, as one value to match on.
//!
//! An operation is a goal (what was asked for) and a [`Phase`] (how far it got). The driver
//! moves it on by two inputs only: [`Terminal::step`](super::Terminal::step) leaves the
//! phases that send (`Opening`, `Housekeeping`, `Goal`) for `Awaiting` or ends the operation,
//! and [`Terminal::handle_reply`](super::Terminal::handle_reply) matches the awaited reply
//! with the reply that came and returns the next phase. Each request is one transition:
//!
//! ```text
//! Opening ──send──▶ Awaiting(Activation | SignIn) ──reply──▶ Done | Housekeeping
//! Housekeeping ──send──▶ Awaiting(Reversal | Settlement(Housekeeping)) ──reply──▶ Housekeeping | Goal | Done
//! Housekeeping ──nothing left──▶ Goal
//! Goal ──send──▶ Awaiting(Transaction | Settlement(Goal) | SignOff) ──reply──▶ Goal | Done
//! Done ──step──▶ the operation's answer
//! ```
//!
//! Within one `step` a phase only moves forward (Opening, Housekeeping, Goal, then a request
//! or the answer): the types of the functions that leave each phase ([`Next`], [`Chores`])
//! have no way back, so the driver loop cannot spin.

use crate::error::{Error, ErrorCode};
use crate::ids::RequestId;
use crate::protocol::{OriginalRef, SignInResponse, TransactionRequest, TxKind};
use crate::secret::Secret;
use crate::terminal::card::{Expiry, Pan};
use crate::terminal::time::Timestamp;
use crate::terminal::{
    Auth, Completion, Outgoing, Reply, SettlementResult, SignInResult, SignOffReason, Terminal,
};

/// The operation in flight.
#[derive(Debug)]
pub(super) struct Op {
    /// What was asked for.
    pub(super) goal: Goal,
    /// How far it got.
    pub(super) phase: Phase,
    /// The settlement a settle or sign-off asked for.
    pub(super) own: OwnSettlement,
    /// Reversal tries spent on the queue's head during this operation (R8).
    pub(super) reversal_tries: u8,
    /// Settlements finished during this operation (reconciliations included).
    pub(super) settled: Vec<SettlementResult>,
}

/// What an operation is for, with what its requests and its answer need.
#[derive(Debug)]
pub(super) enum Goal {
    Activate {
        code: String,
    },
    SignIn {
        operator: String,
        password: Secret,
    },
    /// A lane of a checkout terminal signs in with its key alone (R23).
    SignInCheckout,
    /// The host accepted the operator (the password is spent): housekeeping, then the answer.
    SignedIn(Box<SignInResponse>),
    Tx(Box<TxPlan>),
    Settle {
        /// R13 `autoSignOffAfterSettle`, as configured when the settle began.
        then_sign_off: bool,
    },
    SignOff {
        settle: bool,
        reason: SignOffReason,
    },
}

/// A validated transaction, with the secrets it needs for its one request.
#[derive(Debug)]
pub(super) struct TxPlan {
    pub(super) kind: TxKind,
    pub(super) amount: i64,
    pub(super) card: Option<(Pan, Expiry)>,
    pub(super) original: Option<OriginalRef>,
    pub(super) supervisor_password: Option<Secret>,
    /// A storefront's order reference, sent with a sale (R23).
    pub(super) reference: Option<String>,
    /// The masked card of the transaction it undoes, when the journal holds it: a void or
    /// refund journaled without an answer still counts in its sale's half (R21).
    pub(super) original_pan: Option<String>,
}

/// How far an operation got.
#[derive(Debug)]
pub(super) enum Phase {
    /// Activate and sign-in: their request, which needs no session, has not left.
    Opening,
    /// Before the goal (R8, R11, R14): queued reversals, a settlement cut off, batches to
    /// reconcile, then the move to the host's open batch.
    Housekeeping,
    /// The goal's own requests.
    Goal,
    /// A request is out; only its reply moves the operation on.
    Awaiting(Wait),
    /// The operation's answer, which the next step returns.
    Done(Box<Result<Completion, Error>>),
}

/// The reply an operation waits for.
#[derive(Debug)]
pub(super) enum Wait {
    Activation,
    SignIn,
    Reversal,
    /// A settlement or its batch upload, sent in this stage (where its reply returns to).
    Settlement(Stage),
    /// The one request of a transaction: sent exactly once, its reply ends the operation.
    Transaction(Box<TransactionRequest>),
    SignOff,
}

/// The part of an operation a settlement is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Housekeeping,
    Goal,
}

impl Stage {
    /// Where the operation goes on once the settlement's reply is handled.
    pub(super) fn resume(self) -> Phase {
        match self {
            Stage::Housekeeping => Phase::Housekeeping,
            Stage::Goal => Phase::Goal,
        }
    }
}

/// What leaving a phase in [`Terminal::step`](super::Terminal::step) leads to: a request
/// (then the phase is `Awaiting`), or the operation's answer.
#[derive(Debug)]
pub(super) enum Next {
    Send(Outgoing, Wait),
    Done(Result<Completion, Error>),
}

/// What housekeeping found to do.
#[derive(Debug)]
pub(super) enum Chores {
    /// A request to send.
    Send(Outgoing, Wait),
    /// The operation ends.
    Done(Result<Completion, Error>),
    /// Nothing left: the goal's turn.
    Clear,
}

impl From<Next> for Chores {
    fn from(next: Next) -> Chores {
        match next {
            Next::Send(out, wait) => Chores::Send(out, wait),
            Next::Done(result) => Chores::Done(result),
        }
    }
}

impl Phase {
    /// The operation ends with this answer at the next step.
    pub(super) fn done(result: Result<Completion, Error>) -> Phase {
        Phase::Done(Box::new(result))
    }
}

/// Where the settlement a settle or sign-off asked for stands (R11). The goal starts one at
/// most once per operation, and only the answer for the batch it started finishes it, so
/// housekeeping moving to another batch can never make it settle batch after batch.
#[derive(Debug)]
pub(super) enum OwnSettlement {
    /// Not started by the goal. Settling the batch that was open when the operation began,
    /// even as housekeeping (a settlement cut off earlier), is what was asked for.
    Due { open_at_begin: u32 },
    /// Started by the goal for this batch.
    Started { batch_no: u32 },
    /// Finished.
    Done(Box<SettlementResult>),
}

impl OwnSettlement {
    pub(super) fn done(&self) -> Option<&SettlementResult> {
        match self {
            OwnSettlement::Done(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    /// Whether a settlement of `batch_no` that just finished is this one.
    pub(super) fn is_for(&self, batch_no: u32) -> bool {
        match *self {
            OwnSettlement::Due { open_at_begin: b } | OwnSettlement::Started { batch_no: b } => {
                b == batch_no
            }
            OwnSettlement::Done(_) => false,
        }
    }
}

impl Op {
    /// A new operation: activate and sign-in open with their request, the others with
    /// housekeeping.
    pub(super) fn new(goal: Goal, open_batch: u32) -> Op {
        let phase = match goal {
            Goal::Activate { .. } | Goal::SignIn { .. } | Goal::SignInCheckout => Phase::Opening,
            _ => Phase::Housekeeping,
        };
        Op {
            goal,
            phase,
            own: OwnSettlement::Due {
                open_at_begin: open_batch,
            },
            reversal_tries: 0,
            settled: Vec::new(),
        }
    }

    /// Takes the phase out to move it on; the caller puts the next one back. Until then the
    /// operation reads as housekeeping, which nothing in between looks at.
    pub(super) fn take_phase(&mut self) -> Phase {
        std::mem::replace(&mut self.phase, Phase::Housekeeping)
    }
}

impl Terminal {
    /// Leaves `Goal`: the goal's next request, or its answer.
    pub(super) fn pursue(&mut self, now: Timestamp, new_id: &mut dyn FnMut() -> RequestId) -> Next {
        let Some(auth) = self.session_auth() else {
            return Next::Done(Err(ErrorCode::NotSignedIn.into()));
        };
        let Some(op) = self.op.as_ref() else {
            return Next::Done(Err(ErrorCode::Internal.into()));
        };
        match &op.goal {
            // These send from `Opening` and never reach their goal unanswered.
            Goal::Activate { .. } | Goal::SignIn { .. } | Goal::SignInCheckout => {
                Next::Done(Err(ErrorCode::Internal.into()))
            }
            Goal::SignedIn(resp) => Next::Done(Ok(Completion::SignedIn(SignInResult {
                operator: resp.operator.clone(),
                business_date: resp.business_date.clone(),
                batch_no: self.journal.batch_no(),
                currency: resp.currency.clone(),
                reconciled: op.settled.clone(),
                pending_reversals: self.meta.reversals.len(),
            }))),
            Goal::Tx(_) => self.send_transaction(auth, now, new_id),
            Goal::Settle { then_sign_off } => self.pursue_settle(auth, *then_sign_off, new_id),
            Goal::SignOff { settle, .. } => self.pursue_sign_off(auth, *settle, new_id),
        }
    }

    /// The `Authorization` of the session, if one is open.
    pub(super) fn session_auth(&self) -> Option<Auth> {
        self.session
            .as_ref()
            .map(|s| Auth::Session(s.token.clone()))
    }

    /// Housekeeping could not finish. A sign-in still succeeds (the host accepted the
    /// operator; what is left is tried before the next operation); anything else fails.
    pub(super) fn housekeeping_failed(&self, error: Error) -> Phase {
        match self.op.as_ref().map(|op| &op.goal) {
            Some(Goal::SignedIn(_)) => Phase::Goal,
            _ => Phase::done(Err(error)),
        }
    }
}

/// What a reply that is not the awaited request's answer means for the operation.
pub(super) fn unexpected(reply: Reply) -> Error {
    match reply {
        Reply::Refused(e) => e,
        Reply::NoAnswer => Error::with_detail(
            ErrorCode::HostUnreachable,
            "the host did not answer; try again",
        ),
        _ => Error::with_detail(ErrorCode::Internal, "the host answered another request"),
    }
}
