//! Activation and the operator's session (R1, R13, R17): the requests that open an
//! operation without a session, the sign-in's answer, sign-off, the idle timer, and a
//! session the host ended.

use crate::error::{Error, ErrorCode};
use crate::ids::RequestId;
use crate::protocol::{ActivateRequest, SignInRequest, SignInResponse, SignOffRequest};
use crate::terminal::money::Currency;
use crate::terminal::phase::{unexpected, Goal, Next, Phase, Wait};
use crate::terminal::time::{Timestamp, UtcOffset};
use crate::terminal::{
    Auth, Call, Completion, Event, Outgoing, Reply, SettlementResult, SignOffReason, SignOffResult,
    Terminal,
};

/// The operator's session with the host. The token is not in the terminal's stored state;
/// only the tab that signed in keeps it, for a reload (src/terminal/resume.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Session {
    pub(super) token: String,
    pub(super) operator: String,
    pub(super) batch_no: u32,
}

impl Terminal {
    /// Leaves `Opening`: the activation or sign-in request.
    pub(super) fn opening(&self) -> Next {
        match self.op.as_ref().map(|op| &op.goal) {
            Some(Goal::Activate { code }) => {
                let call = Call::Activate(ActivateRequest {
                    merchant_id: self.config.merchant_id.clone(),
                    terminal_id: self.config.terminal_id.clone(),
                    activation_code: code.clone(),
                });
                Next::Send(
                    Outgoing {
                        call,
                        auth: Auth::None,
                    },
                    Wait::Activation,
                )
            }
            Some(Goal::SignIn { operator, password }) => {
                let Some(key) = self.meta.terminal_key.clone() else {
                    return Next::Done(Err(ErrorCode::NotActivated.into()));
                };
                let call = Call::SignIn(SignInRequest {
                    operator: operator.clone(),
                    password: password.clone(),
                });
                Next::Send(
                    Outgoing {
                        call,
                        auth: Auth::TerminalKey(key),
                    },
                    Wait::SignIn,
                )
            }
            Some(Goal::SignInCheckout) => {
                let Some(key) = self.meta.terminal_key.clone() else {
                    return Next::Done(Err(ErrorCode::NotActivated.into()));
                };
                Next::Send(
                    Outgoing {
                        call: Call::CheckoutSignIn,
                        auth: Auth::TerminalKey(key),
                    },
                    Wait::SignIn,
                )
            }
            // The other goals open with housekeeping.
            _ => Next::Done(Err(ErrorCode::Internal.into())),
        }
    }

    /// `Awaiting(Activation)` and its reply: the key is stored, or the activation failed.
    pub(super) fn on_activation(&mut self, reply: Reply) -> Phase {
        match reply {
            Reply::Activated(resp) => {
                self.meta.terminal_key = Some(resp.terminal_key);
                self.push_meta();
                Phase::done(Ok(Completion::Activated))
            }
            other => Phase::done(Err(unexpected(other))),
        }
    }

    /// `Awaiting(SignIn)` and its reply: housekeeping follows an accepted sign-in.
    pub(super) fn on_sign_in(&mut self, reply: Reply) -> Phase {
        match reply {
            Reply::SignedIn(resp) => {
                if let Err(e) = self.accept_sign_in(&resp) {
                    return Phase::done(Err(e));
                }
                if let Some(op) = self.op.as_mut() {
                    op.goal = Goal::SignedIn(Box::new(resp));
                }
                Phase::Housekeeping
            }
            other => Phase::done(Err(unexpected(other))),
        }
    }

    fn accept_sign_in(&mut self, resp: &SignInResponse) -> Result<(), Error> {
        let currency = Currency::parse(&resp.currency)?;
        if let Some(known) = &self.meta.currency {
            if known != currency.code() {
                return Err(Error::with_detail(
                    ErrorCode::BadRequest,
                    format_args!("the host says {currency}, this terminal counts in {known}"),
                ));
            }
        }
        self.meta.currency = Some(currency.code().to_owned());
        self.meta.business_date = Some(resp.business_date.clone());
        // An older host says nothing: keep the clock we had (UTC on a new terminal).
        if let Some(offset) = resp.utc_offset_minutes.and_then(UtcOffset::from_minutes) {
            self.meta.utc_offset = offset;
        }
        self.meta.confirm_above = resp.confirm_above;
        self.meta.merchant_name = resp.merchant_name.clone();
        self.meta.operator = Some(resp.operator.clone());
        self.meta.next_trace_no = resp.next_trace_no.get();
        self.queue_reconciliations(resp);
        self.session = Some(Session {
            token: resp.session_token.clone(),
            operator: resp.operator.clone(),
            batch_no: resp.batch_no.get(),
        });
        self.push_meta();
        Ok(())
    }

    /// R14: batches closed at cut-off, and a leftover local batch the host has moved past,
    /// are reconciled before anything else.
    fn queue_reconciliations(&mut self, resp: &SignInResponse) {
        let settling = self.meta.settlement.as_ref().map(|s| s.batch_no);
        for closed in &resp.closed_batches {
            let batch_no = closed.batch_no.get();
            if !self.meta.reconcile.contains(&batch_no) && settling != Some(batch_no) {
                self.meta.reconcile.push_back(batch_no);
            }
        }
        let local = self.journal.batch_no();
        if local != resp.batch_no
            && self.journal.has_transactions()
            && !self.meta.reconcile.contains(&local)
            && settling != Some(local)
        {
            self.meta.reconcile.push_front(local);
        }
    }

    /// `Awaiting(SignOff)` and its reply. A settle's automatic sign-off (R13) ends with the
    /// settlement whether or not it went through: the settlement stands, and an operator
    /// still signed in can sign off by hand.
    pub(super) fn on_sign_off(&mut self, reply: Reply) -> Phase {
        let Some(op) = self.op.as_ref() else {
            return Phase::done(Err(ErrorCode::Internal.into()));
        };
        let own = op.own.done().cloned();
        match (&op.goal, reply) {
            (Goal::SignOff { reason, .. }, Reply::SignedOff(resp)) => {
                let reason = *reason;
                self.end_session(reason);
                self.recovery = None;
                Phase::done(Ok(Completion::SignedOff(SignOffResult {
                    signed_off_at: resp.signed_off_at,
                    settlement: own,
                })))
            }
            (Goal::Settle { .. }, Reply::SignedOff(_)) => {
                self.end_session(SignOffReason::AfterSettle);
                self.recovery = None;
                settled(own)
            }
            // The settlement stands; only the automatic sign-off failed.
            (Goal::Settle { .. }, _) => settled(own),
            (_, other) => Phase::done(Err(unexpected(other))),
        }
    }

    /// A refusal with `SESSION_EXPIRED` to anything but a sign-in: the host ended the session
    /// (sign-off elsewhere, cut-off, expiry), and the operation ends with it.
    pub(super) fn session_expired(&mut self, wait: &Wait, error: Error) -> Phase {
        match wait {
            // A transaction refused this way was never booked: nothing to journal.
            Wait::Transaction(_) => self.meta.in_flight = None,
            // A settlement refused before the host acted on it is dropped, so the next
            // settle starts afresh; one past its first answer (upload due) is kept.
            Wait::Settlement(_)
                if self
                    .meta
                    .settlement
                    .as_ref()
                    .is_some_and(|s| s.upload.is_none()) =>
            {
                self.meta.settlement = None;
            }
            _ => {}
        }
        // R22: the merchant closed the terminal from the console; its operator never signed
        // off, so the recovery banner leads the way back (sign in, settle, sign off).
        let left = (error.code == ErrorCode::SignedOffRemotely
            && self.recovery.is_none()
            && self.journal.has_transactions())
        .then(|| self.left_signed_in());
        self.end_session(SignOffReason::SessionExpired);
        if left.is_some() {
            self.recovery = left;
        }
        Phase::done(Err(error))
    }

    pub(super) fn end_session(&mut self, reason: SignOffReason) {
        let had_session = self.session.take().is_some();
        if had_session || self.meta.operator.is_some() {
            self.meta.operator = None;
            self.push_meta();
            self.events.push_back(Event::SignedOff { reason });
        }
    }

    /// When [`Terminal::handle_timer`] should next be called (R13), if ever.
    pub fn next_timer(&self) -> Option<Timestamp> {
        if self.config.idle_sign_off_minutes == 0 || self.session.is_none() {
            return None;
        }
        Some(
            self.last_activity
                .plus_minutes(self.config.idle_sign_off_minutes),
        )
    }

    /// R13: starts an idle sign-off (without settling) when it is due; returns whether it
    /// did. The driver then runs the loop as for any operation.
    pub fn handle_timer(&mut self, now: Timestamp) -> bool {
        let due = self.next_timer().is_some_and(|at| now >= at);
        if !due || self.op.is_some() {
            return false;
        }
        self.start_op(Goal::SignOff {
            settle: false,
            reason: SignOffReason::Idle,
        });
        true
    }
}

/// A settle ends with its own settlement, whatever became of the sign-off after it.
fn settled(own: Option<SettlementResult>) -> Phase {
    Phase::done(
        own.map(Completion::Settled)
            .ok_or_else(|| ErrorCode::Internal.into()),
    )
}

pub(super) fn sign_off_call(auth: Auth, new_id: &mut dyn FnMut() -> RequestId) -> Outgoing {
    Outgoing {
        call: Call::SignOff(SignOffRequest {
            request_id: Some(new_id()),
            // The terminal settles through `POST /v1/settlements` itself, first.
            settle: Some(false),
        }),
        auth,
    }
}
