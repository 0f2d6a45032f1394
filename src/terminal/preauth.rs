//! R20 pre-authorisation [预授权]: what `begin` checks before a hold, its release [预授权撤销],
//! its completion [预授权完成] or a completion's void [预授权完成撤销] is sent.
//!
//! A hold of the open batch is checked here as far as the journal tells (released, completed,
//! the amount); a hold of an earlier batch or another terminal is the host's to judge, as it
//! also judges the 30 days. The request, its write-ahead and its reversal are a sale's
//! (src/terminal/tx.rs).

use crate::error::{Error, ErrorCode};
use crate::ids::TraceNo;
use crate::protocol::{EntryKind, JournalEntry, OriginalRef, TxKind};
use crate::secret::Secret;
use crate::terminal::card::{Expiry, Pan};
use crate::terminal::money::Amount;
use crate::terminal::phase::{Goal, TxPlan};
use crate::terminal::plan::require_supervisor;
use crate::terminal::time::Timestamp;
use crate::terminal::Terminal;

/// R20: the most a completion may take of a hold of `held` minor units: 115 %, rounded down
/// (integer arithmetic; `held` is at most R3's maximum, so nothing overflows).
pub fn completion_limit(held: i64) -> i64 {
    held.saturating_mul(115) / 100
}

/// A hold named by RRN and auth code, as typed: 12 and 6 letters or digits (the wire's
/// patterns). Anything else names no hold.
fn hold_ref(rrn: &str, auth_code: &str) -> Result<OriginalRef, Error> {
    let (rrn, auth_code) = (rrn.trim(), auth_code.trim());
    let alnum = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !alnum(rrn, 12) || !alnum(auth_code, 6) {
        return Err(Error::with_detail(
            ErrorCode::PreauthNotFound,
            "enter the pre-authorisation's RRN (12 characters) and auth code (6)",
        ));
    }
    Ok(OriginalRef::Hold {
        rrn: rrn.to_owned(),
        auth_code: auth_code.to_owned(),
    })
}

impl Terminal {
    pub(super) fn plan_preauth(
        &self,
        amount: i64,
        pan: &str,
        expiry: &str,
        now: Timestamp,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let amount = Amount::new(amount)?.get();
        let card = (
            Pan::parse(pan)?,
            Expiry::parse(expiry, now.local(self.meta.utc_offset))?,
        );
        self.require_room()?;
        Ok(tx_goal(
            TxKind::Preauth,
            amount,
            Some(card),
            None,
            None,
            None,
        ))
    }

    pub(super) fn plan_preauth_void(
        &self,
        rrn: &str,
        auth_code: &str,
        amount: i64,
        supervisor_password: Secret,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let amount = Amount::new(amount)?.get();
        let supervisor_password = require_supervisor(supervisor_password)?;
        let original = hold_ref(rrn, auth_code)?;
        let hold = self.open_hold(&original)?;
        if let Some(hold) = hold {
            if amount != hold.amount {
                return Err(Error::with_detail(
                    ErrorCode::InvalidAmount,
                    format_args!(
                        "a pre-auth void releases the whole hold: {} minor units",
                        hold.amount
                    ),
                ));
            }
        }
        self.require_room()?;
        let original_pan = hold.and_then(|h| h.masked_pan.clone());
        Ok(tx_goal(
            TxKind::PreauthVoid,
            amount,
            None,
            Some(original),
            Some(supervisor_password),
            original_pan,
        ))
    }

    pub(super) fn plan_complete(
        &self,
        rrn: &str,
        auth_code: &str,
        amount: i64,
        (pan, expiry): (&str, &str),
        now: Timestamp,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let amount = Amount::new(amount)?.get();
        let original = hold_ref(rrn, auth_code)?;
        let card = (
            Pan::parse(pan)?,
            Expiry::parse(expiry, now.local(self.meta.utc_offset))?,
        );
        let hold = self.open_hold(&original)?;
        if let Some(hold) = hold {
            let limit = completion_limit(hold.amount);
            if amount > limit {
                return Err(Error::with_detail(
                    ErrorCode::InvalidAmount,
                    format_args!(
                        "at most {limit} minor units: 115 % of the {} held",
                        hold.amount
                    ),
                ));
            }
        }
        self.require_room()?;
        let original_pan = hold.and_then(|h| h.masked_pan.clone());
        Ok(tx_goal(
            TxKind::Completion,
            amount,
            Some(card),
            Some(original),
            None,
            original_pan,
        ))
    }

    pub(super) fn plan_completion_void(
        &self,
        trace_no: u32,
        supervisor_password: Secret,
    ) -> Result<Goal, Error> {
        self.require_signed_in()?;
        let supervisor_password = require_supervisor(supervisor_password)?;
        let amount = self.check_void(trace_no, EntryKind::Completion)?;
        // A trace the journal holds is in range; the conversion only types it.
        let trace_no = TraceNo::try_from(trace_no).map_err(|_| ErrorCode::UnknownTransaction)?;
        self.require_room()?;
        let original_pan = self
            .journal
            .by_trace(trace_no.get())
            .and_then(|e| e.masked_pan.clone());
        Ok(tx_goal(
            TxKind::CompletionVoid,
            amount,
            None,
            Some(OriginalRef::Trace { trace_no }),
            Some(supervisor_password),
            original_pan,
        ))
    }

    /// The hold this batch holds under that RRN, still open: `None` when the batch does not
    /// hold it (the host decides); refused when it was released or completed. An RRN the
    /// batch holds with another auth code names no hold: RRNs are unique per merchant.
    fn open_hold(&self, original: &OriginalRef) -> Result<Option<&JournalEntry>, Error> {
        let OriginalRef::Hold { rrn, auth_code } = original else {
            return Ok(None);
        };
        let Some(hold) = self.journal.hold_by_rrn(rrn) else {
            return Ok(None);
        };
        match hold.auth_code.as_deref() {
            // A hold journaled without an answer and kept by the host (R8): its auth code is
            // in the reversal's entry; the host checks it.
            None => return Ok(None),
            Some(code) if code != auth_code => {
                return Err(Error::with_detail(
                    ErrorCode::PreauthNotFound,
                    "the auth code is not this pre-authorisation's",
                ))
            }
            Some(_) => {}
        }
        if self.journal.is_released(rrn) {
            return Err(ErrorCode::PreauthNotFound.into());
        }
        if self.journal.completion_of(rrn).is_some() {
            return Err(ErrorCode::PreauthCompleted.into());
        }
        Ok(Some(hold))
    }
}

fn tx_goal(
    kind: TxKind,
    amount: i64,
    card: Option<(Pan, Expiry)>,
    original: Option<OriginalRef>,
    supervisor_password: Option<Secret>,
    original_pan: Option<String>,
) -> Goal {
    Goal::Tx(Box::new(TxPlan {
        kind,
        amount,
        card,
        original,
        supervisor_password,
        reference: None,
        original_pan,
    }))
}
