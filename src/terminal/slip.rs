//! R21: what a transaction's slip [签购单] prints, read from the open batch's journal, so a
//! slip printed at once and one reprinted later by trace number say the same. The widget
//! lays it out (src/wasm/widget/paper.rs); the JS API hands it out (`slip`).

use crate::protocol::{EntryKind, EntryStatus, JournalEntry};
use crate::terminal::Terminal;

/// One transaction's slip: who, what, how much, and the host's and issuer's references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slip {
    /// The merchant's name, when the host told one (`terminal add --merchant-name`).
    pub merchant_name: Option<String>,
    /// 15 digits.
    pub merchant_id: String,
    /// 8 characters.
    pub terminal_id: String,
    /// The operator who made it.
    pub operator: String,
    /// `sale`, `void`, `refund` (and whatever kind the journal records next).
    pub kind: EntryKind,
    /// Approved or declined.
    pub status: EntryStatus,
    /// The issuer's response code.
    pub response_code: Option<String>,
    /// First 6 and last 4 digits.
    pub masked_pan: Option<String>,
    /// The batch.
    pub batch_no: u32,
    /// The trace number [凭证号].
    pub trace_no: u32,
    /// The issuer's authorisation code.
    pub auth_code: Option<String>,
    /// The host's reference.
    pub rrn: Option<String>,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// When it was recorded (RFC 3339, UTC); the widget prints it on the host's clock.
    pub at: String,
    /// A void's sale, by trace number.
    pub original_trace_no: Option<u32>,
    /// A refund's sale, by RRN.
    pub original_rrn: Option<String>,
}

impl Terminal {
    /// The slip of the open batch's transaction with this trace number, or of its last
    /// transaction; `None` when there is none, or it has no answer to print (a transaction
    /// lost on the way and reversed never had a slip).
    pub fn slip(&self, trace_no: Option<u32>) -> Option<Slip> {
        let printable = |e: &&JournalEntry| {
            e.kind != EntryKind::Reversal
                && matches!(e.status, EntryStatus::Approved | EntryStatus::Declined)
        };
        let entries = self.journal.entries();
        let entry = match trace_no {
            Some(t) => entries
                .iter()
                .filter(printable)
                .find(|e| e.trace_no.get() == t)?,
            None => entries.iter().rev().find(printable)?,
        };
        Some(Slip {
            merchant_name: self.meta.merchant_name.clone(),
            merchant_id: self.meta.merchant_id.clone(),
            terminal_id: self.meta.terminal_id.clone(),
            operator: entry.operator.clone(),
            kind: entry.kind,
            status: entry.status,
            response_code: entry.response_code.clone(),
            masked_pan: entry.masked_pan.clone(),
            batch_no: self.journal.batch_no(),
            trace_no: entry.trace_no.get(),
            auth_code: entry.auth_code.clone(),
            rrn: entry.rrn.clone(),
            amount: entry.amount,
            currency: entry.currency.clone(),
            at: entry.at.clone(),
            original_trace_no: entry.original_trace_no.map(|t| t.get()),
            original_rrn: entry.original_rrn.clone(),
        })
    }
}
