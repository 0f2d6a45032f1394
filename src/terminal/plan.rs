//! What `begin` checks before an operation starts (R1–R7, R11 full): a command that fails
//! here is refused with nothing sent.

use crate::error::{Error, ErrorCode};
use crate::ids::TraceNo;
use crate::protocol::{check_reference, EntryKind, EntryStatus, OriginalRef, TxKind};
use crate::secret::Secret;
use crate::terminal::card::{Expiry, Pan};
use crate::terminal::money::Amount;
use crate::terminal::phase::{Goal, TxPlan};
use crate::terminal::time::Timestamp;
use crate::terminal::{Command, SignOffReason, Terminal};

impl Terminal {
    /// The goal a command asks for, once it passes the checks the terminal can make alone.
    pub(super) fn plan(&self, command: Command, now: Timestamp) -> Result<Goal, Error> {
        match command {
            Command::Activate { code } => self.plan_activate(&code),
            Command::SignIn { operator, password } => self.plan_sign_in(operator, password),
            Command::SignInCheckout => {
                if self.meta.terminal_key.is_none() {
                    return Err(ErrorCode::NotActivated.into());
                }
                Ok(Goal::SignInCheckout)
            }
            Command::Sale {
                amount,
                pan,
                expiry,
                reference,
            } => self.plan_sale(amount, &pan, &expiry, reference, now),
            Command::Void {
                trace_no,
                supervisor_password,
            } => self.plan_void(trace_no, supervisor_password),
            Command::Refund {
                rrn,
                amount,
                supervisor_password,
            } => self.plan_refund(&rrn, amount, supervisor_password),
            Command::PreAuth {
                amount,
                pan,
                expiry,
            } => self.plan_preauth(amount, &pan, &expiry, now),
            Command::PreAuthVoid {
                rrn,
                auth_code,
                amount,
                supervisor_password,
            } => self.plan_preauth_void(&rrn, &auth_code, amount, supervisor_password),
            Command::Complete {
                rrn,
                auth_code,
                amount,
                pan,
                expiry,
            } => self.plan_complete(&rrn, &auth_code, amount, (&pan, &expiry), now),
            Command::CompletionVoid {
                trace_no,
                supervisor_password,
            } => self.plan_completion_void(trace_no, supervisor_password),
            Command::Settle => {
                self.require_signed_in()?;
                Ok(Goal::Settle {
                    then_sign_off: self.config.auto_sign_off_after_settle,
                })
            }
            Command::SignOff { settle } => {
                self.require_signed_in()?;
                Ok(Goal::SignOff {
                    settle,
                    reason: SignOffReason::Requested,
                })
            }
        }
    }

    fn plan_activate(&self, code: &str) -> Result<Goal, Error> {
        if self.session.is_some() {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "sign off before activating again",
            ));
        }
        let code = code.trim().to_owned();
        if code.is_empty() {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "enter the activation code",
            ));
        }
        Ok(Goal::Activate { code })
    }

    fn plan_sign_in(&self, operator: String, password: Secret) -> Result<Goal, Error> {
        if self.meta.terminal_key.is_none() {
            return Err(ErrorCode::NotActivated.into());
        }
        if operator.len() != 2 || !operator.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "the operator is two digits, 01 to 99 (00 is the supervisor)",
            ));
        }
        if password.is_empty() {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "enter the password",
            ));
        }
        Ok(Goal::SignIn { operator, password })
    }

    fn plan_sale(
        &self,
        amount: i64,
        pan: &str,
        expiry: &str,
        reference: Option<String>,
        now: Timestamp,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let amount = Amount::new(amount)?.get();
        // R23: the host would refuse it; refused here, nothing is sent.
        if let Some(reference) = &reference {
            check_reference(reference)?;
        }
        let card = (
            Pan::parse(pan)?,
            Expiry::parse(expiry, now.local(self.meta.utc_offset))?,
        );
        self.require_room()?;
        Ok(Goal::Tx(Box::new(TxPlan {
            kind: TxKind::Sale,
            amount,
            card: Some(card),
            original: None,
            supervisor_password: None,
            reference,
            original_pan: None,
        })))
    }

    fn plan_void(&self, trace_no: u32, supervisor_password: Secret) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let supervisor_password = require_supervisor(supervisor_password)?;
        let amount = self.check_void(trace_no, EntryKind::Sale)?;
        // A trace the journal holds is in range; the conversion only types it.
        let trace_no = TraceNo::try_from(trace_no).map_err(|_| ErrorCode::UnknownTransaction)?;
        self.require_room()?;
        Ok(Goal::Tx(Box::new(TxPlan {
            kind: TxKind::Void,
            amount,
            card: None,
            original: Some(OriginalRef::Trace { trace_no }),
            supervisor_password: Some(supervisor_password),
            reference: None,
            original_pan: self
                .journal
                .by_trace(trace_no.get())
                .and_then(|e| e.masked_pan.clone()),
        })))
    }

    fn plan_refund(
        &self,
        rrn: &str,
        amount: i64,
        supervisor_password: Secret,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let amount = Amount::new(amount)?.get();
        let supervisor_password = require_supervisor(supervisor_password)?;
        let rrn = rrn.trim().to_owned();
        self.check_refund(&rrn, amount)?;
        self.require_room()?;
        let original_pan = self
            .journal
            .sale_by_rrn(&rrn)
            .and_then(|e| e.masked_pan.clone());
        Ok(Goal::Tx(Box::new(TxPlan {
            kind: TxKind::Refund,
            amount,
            card: None,
            original: Some(OriginalRef::Rrn { rrn }),
            supervisor_password: Some(supervisor_password),
            reference: None,
            original_pan,
        })))
    }

    pub(super) fn require_signed_in(&self) -> Result<(), Error> {
        if self.meta.terminal_key.is_none() {
            return Err(ErrorCode::NotActivated.into());
        }
        if self.session.is_none() {
            return Err(ErrorCode::NotSignedIn.into());
        }
        Ok(())
    }

    /// R11: a full batch takes no more transactions until it is settled.
    pub(super) fn require_room(&self) -> Result<(), Error> {
        let max = usize::try_from(self.config.max_batch_entries).unwrap_or(usize::MAX);
        if self.journal.len() >= max {
            return Err(Error::with_detail(
                ErrorCode::BatchFull,
                format_args!("the batch holds {max} entries"),
            ));
        }
        Ok(())
    }

    /// R6: a void names an approved, unvoided sale of the open batch; R20: a completion void
    /// the same of a completion (`kind`). Returns its amount.
    pub(super) fn check_void(&self, trace_no: u32, kind: EntryKind) -> Result<i64, Error> {
        let what = if kind == EntryKind::Completion {
            "completion"
        } else {
            "sale"
        };
        match self.journal.by_trace(trace_no) {
            Some(e) if e.kind == kind => match self.journal.current_status(e) {
                EntryStatus::Approved => Ok(e.amount),
                EntryStatus::Voided => Err(ErrorCode::AlreadyVoided.into()),
                _ => Err(Error::with_detail(
                    ErrorCode::UnknownTransaction,
                    format_args!("trace {trace_no} is not an approved {what}"),
                )),
            },
            Some(_) => Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                format_args!("trace {trace_no} is not a {what}"),
            )),
            None if self
                .meta
                .recent_settled
                .iter()
                .any(|r| r.contains(trace_no)) =>
            {
                Err(ErrorCode::VoidNotAllowedSettled.into())
            }
            None => Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                format_args!("no trace {trace_no} in batch {}", self.journal.batch_no()),
            )),
        }
    }

    /// R7, as far as the terminal can tell: a sale of the open batch limits its own refunds;
    /// sales of other batches and terminals are the host's to check.
    fn check_refund(&self, rrn: &str, amount: i64) -> Result<(), Error> {
        if rrn.is_empty() {
            return Err(Error::with_detail(
                ErrorCode::UnknownTransaction,
                "enter the original sale's RRN",
            ));
        }
        if let Some(sale) = self.journal.sale_by_rrn(rrn) {
            if self.journal.is_voided(sale.trace_no.get()) {
                return Err(ErrorCode::AlreadyVoided.into());
            }
            let left = sale
                .amount
                .checked_sub(self.journal.refunded(rrn))
                .ok_or_else(|| {
                    Error::with_detail(
                        ErrorCode::JournalTampered,
                        "the refunds of this sale do not add up",
                    )
                })?;
            if amount > left {
                return Err(Error::with_detail(
                    ErrorCode::RefundExceedsOriginal,
                    format_args!("at most {left} minor units are left to refund"),
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn require_supervisor(password: Secret) -> Result<Secret, Error> {
    if password.is_empty() {
        Err(ErrorCode::SupervisorRequired.into())
    } else {
        Ok(password)
    }
}
