//! R14: a reload of the same tab on the same business day keeps the operator signed in.
//!
//! The driver keeps the session where only that tab sees it (the browser's `sessionStorage`,
//! src/wasm/tab_session.rs) and hands it back after [`Terminal::restore`]. The terminal takes
//! it only when it is the session its own stored state describes, on today's business day; a
//! session the host has ended since is found out at the next request (`SESSION_EXPIRED` signs
//! the terminal off, R12). Anything else is a session left by a closed tab or browser, which
//! stays `not_signed_off`.

use crate::terminal::session::Session;
use crate::terminal::time::Timestamp;
use crate::terminal::Terminal;
use std::fmt;

/// The operator's session as the driver keeps it for a reload of the same tab.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumedSession {
    /// The host's session token.
    pub token: String,
    /// The operator signed in.
    pub operator: String,
    /// The host's open batch of the session.
    pub batch_no: u32,
    /// The business date of the sign-in.
    pub business_date: String,
    /// The last operation: a reload does not restart the idle sign-off's clock (R13).
    pub last_activity: Timestamp,
}

/// The token stays out of logs and panics.
impl fmt::Debug for ResumedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumedSession")
            .field("token", &"…")
            .field("operator", &self.operator)
            .field("batch_no", &self.batch_no)
            .field("business_date", &self.business_date)
            .field("last_activity", &self.last_activity)
            .finish()
    }
}

impl Terminal {
    /// The session for the driver to keep for [`Terminal::resume`], or `None` when no
    /// operator is signed in (then the driver drops what it kept).
    pub fn resumable(&self) -> Option<ResumedSession> {
        let s = self.session.as_ref()?;
        Some(ResumedSession {
            token: s.token.clone(),
            operator: s.operator.clone(),
            batch_no: s.batch_no,
            business_date: self.meta.business_date.clone()?,
            last_activity: self.last_activity,
        })
    }

    /// Resumes the session a reload of the same tab interrupted; returns whether it did.
    ///
    /// Taken only by a restored terminal at rest, for the operator its stored state has
    /// signed in, its open batch, and a business date not earlier than today's on the host's
    /// clock (the host's date runs a day ahead after its cut-off, R15). Then the terminal is
    /// signed in, and [`Terminal::recovery`] reports only what else is left (a batch of an
    /// earlier day, a settlement cut off): a same-day reload is no alarm. Refused, the
    /// terminal stays as restored (`not_signed_off`).
    pub fn resume(&mut self, session: ResumedSession, now: Timestamp) -> bool {
        if !self.may_resume(&session, now) {
            return false;
        }
        // The idle clock runs on from the last operation, not from the reload (R13).
        self.last_activity = session.last_activity.min(now);
        self.session = Some(Session {
            token: session.token,
            operator: session.operator,
            batch_no: session.batch_no,
        });
        self.recovery = self.compute_recovery(now);
        true
    }

    fn may_resume(&self, s: &ResumedSession, now: Timestamp) -> bool {
        let today = now.local(self.meta.utc_offset).date();
        self.session.is_none()
            && self.op.is_none()
            && self.meta.terminal_key.is_some()
            && self.meta.operator.as_deref() == Some(s.operator.as_str())
            && s.batch_no == self.journal.batch_no()
            && self.meta.business_date.as_deref() == Some(s.business_date.as_str())
            && s.business_date >= today
    }
}
