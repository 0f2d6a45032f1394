//! What the terminal keeps in storage: the small state record ([`Meta`]) with what it
//! carries (an in-flight transaction, queued reversals, a pending settlement), the journal's
//! records, the snapshot that brings a terminal back after a reload (R14, R18, R19), and
//! what a restored terminal reports as left open. Their serde shape is the stored format.

use crate::error::{Error, ErrorCode};
use crate::ids::{RequestId, TraceNo};
use crate::protocol::{BatchTotals, JournalEntry, TxKind};
use crate::terminal::journal::{EntryDraft, Journal};
use crate::terminal::money::ConfirmAbove;
use crate::terminal::time::{Timestamp, UtcOffset};
use crate::terminal::{Config, SettlementResult, Terminal};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What `recovery()` reports when a terminal opens with a day left open (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryKind {
    /// The browser closed while an operator was signed in.
    NotSignedOff,
    /// A batch from an earlier business day, or a settlement cut off, is waiting.
    NotSettled,
}

/// What was left when the terminal opened (R14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// What kind of leftover.
    pub kind: RecoveryKind,
    /// The batch left open.
    pub batch_no: u32,
    /// Its business date, when known.
    pub business_date: Option<String>,
    /// The operator who never signed off.
    pub operator: Option<String>,
    /// The batch's totals.
    pub totals: BatchTotals,
    /// Reversals waiting for the host.
    pub pending_reversals: usize,
}

/// A record for the driver to persist, in order, before it sends the next request (R18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Replace the terminal's small state record.
    Meta(Box<Meta>),
    /// Add one journal entry (never rewrite the others).
    Append {
        /// The batch it belongs to.
        batch_no: u32,
        /// The entry, chained.
        entry: Box<JournalEntry>,
    },
    /// The batch is settled: its entries may go.
    ClearJournal {
        /// The batch settled.
        batch_no: u32,
    },
}

/// A transaction whose request may have left: persisted before sending (R18), so a reload
/// turns it into a queued reversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// Its request id.
    pub request_id: RequestId,
    /// What it would be journaled as (masked PAN only).
    pub kind: TxKind,
    /// Trace number.
    pub trace_no: TraceNo,
    /// Minor units.
    pub amount: i64,
    /// Masked PAN, for a sale.
    pub masked_pan: Option<String>,
    /// For a void.
    pub original_trace_no: Option<TraceNo>,
    /// For a refund.
    pub original_rrn: Option<String>,
    /// The operator.
    pub operator: String,
}

/// A transaction with no definite answer, waiting for the host to acknowledge its reversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedReversal {
    /// The transaction's request id.
    pub request_id: RequestId,
    /// Its batch: the reversal entry goes into that batch's journal.
    pub batch_no: u32,
    /// Its trace number.
    pub trace_no: TraceNo,
    /// Its amount.
    pub amount: i64,
}

/// Where a settlement stands; persisted before each of its requests (R11, R18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSettlement {
    /// The batch being settled.
    pub batch_no: u32,
    /// What the terminal counted.
    pub terminal_totals: BatchTotals,
    /// Request id of `POST /v1/settlements`.
    pub request_id: RequestId,
    /// Request id of the batch upload, should the host say unbalanced.
    pub upload_request_id: RequestId,
    /// Set once the host said unbalanced: the upload still to do.
    pub upload: Option<PendingUpload>,
}

/// The batch upload after an unbalanced settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The host's totals from the settlement answer.
    pub host_totals: BatchTotals,
    /// The host's next batch.
    pub next_batch_no: u32,
    /// Entries of the journal the host acknowledged holding, as its last chunk answer said
    /// (R11): the next chunk starts there. Absent until one was acknowledged, and in records
    /// stored before the upload went in chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<u32>,
}

/// A batch settled recently, by its range of trace numbers (R6: "refund instead").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledRange {
    /// The batch.
    pub batch_no: u32,
    /// First trace number used in it.
    pub first_trace: u32,
    /// Last trace number used in it.
    pub last_trace: u32,
}

impl SettledRange {
    pub(super) fn contains(&self, trace: u32) -> bool {
        if self.first_trace <= self.last_trace {
            (self.first_trace..=self.last_trace).contains(&trace)
        } else {
            // The trace counter wrapped inside the batch.
            trace >= self.first_trace || trace <= self.last_trace
        }
    }
}

/// The terminal's state apart from the journal: small, rewritten whole on each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Snapshot format.
    pub version: u32,
    /// Whose terminal.
    pub merchant_id: String,
    /// Which terminal.
    pub terminal_id: String,
    /// The credential from activation; `None` before.
    pub terminal_key: Option<String>,
    /// Set by the host at the first sign-in.
    pub currency: Option<String>,
    /// The open batch.
    pub batch_no: u32,
    /// Its business date, when known.
    pub business_date: Option<String>,
    /// The next trace number to use.
    pub next_trace_no: u32,
    /// Who is signed in: persisted so a reload can say "not signed off" (R14). The token is
    /// not: only the tab that signed in keeps it (src/terminal/resume.rs).
    pub operator: Option<String>,
    /// R8.
    pub reversals: VecDeque<QueuedReversal>,
    /// R18.
    pub in_flight: Option<InFlight>,
    /// R11: a settlement to finish before anything else.
    pub settlement: Option<PendingSettlement>,
    /// R14: batches to reconcile with the host, oldest first.
    pub reconcile: VecDeque<u32>,
    /// R6.
    pub recent_settled: Vec<SettledRange>,
    /// The last settlement, for the slip.
    pub last_settlement: Option<SettlementResult>,
    /// Entries in the open batch's journal, written with each append: a journal cut short
    /// (its newest entries deleted) still chains, so the count is what catches it (R19).
    pub journal_len: u32,
    /// The host's offset from UTC at the last sign-in: the clock of every date the terminal
    /// shows or compares. UTC in snapshots written before it was kept.
    #[serde(default)]
    pub utc_offset: UtcOffset,
    /// Minor units above which a sale asks the cashier first, as of the last sign-in. The
    /// default (¥10 000.00) in snapshots written before it was kept.
    #[serde(default)]
    pub confirm_above: ConfirmAbove,
    /// The merchant's name as its slips print it, as the host told it at the last sign-in
    /// (R21); `None` when the host has none.
    #[serde(default)]
    pub merchant_name: Option<String>,
    /// The last settlements, oldest first, whole, for reprinting their slips (R21).
    #[serde(default)]
    pub history: SettledHistory,
}

/// The settlements a terminal keeps for reprinting (R21): the last [`SettledHistory::KEPT`],
/// oldest first. Bounded, so the state record rewritten at each change stays small (R18).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SettledHistory(pub VecDeque<SettlementResult>);

impl SettledHistory {
    /// How many settlements are kept.
    pub const KEPT: usize = 10;

    /// Keeps `result`, replacing an earlier record of its batch (a reconciliation again).
    pub(super) fn keep(&mut self, result: &SettlementResult) {
        self.0
            .retain(|r| !(r.batch_no == result.batch_no && r.settled_at == result.settled_at));
        self.0.push_back(result.clone());
        while self.0.len() > Self::KEPT {
            self.0.pop_front();
        }
    }
}

/// Everything needed to bring a terminal back after a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The small state record.
    pub meta: Meta,
    /// The open batch's journal, oldest first.
    pub entries: Vec<JournalEntry>,
}

/// Snapshot format written by this version.
pub const SNAPSHOT_VERSION: u32 = 1;

impl Snapshot {
    /// The versioned JSON form.
    pub fn to_json(&self) -> String {
        // Plain data: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON form; anything unreadable is `BAD_REQUEST`.
    pub fn from_json(json: &str) -> Result<Snapshot, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::with_detail(
                ErrorCode::BadRequest,
                format_args!("unreadable snapshot: {e}"),
            )
        })
    }
}

impl Meta {
    /// The record of a terminal never activated.
    pub(super) fn new(config: &Config) -> Meta {
        Meta {
            version: SNAPSHOT_VERSION,
            merchant_id: config.merchant_id.clone(),
            terminal_id: config.terminal_id.clone(),
            terminal_key: None,
            currency: None,
            batch_no: 1,
            business_date: None,
            next_trace_no: 1,
            operator: None,
            reversals: VecDeque::new(),
            in_flight: None,
            settlement: None,
            reconcile: VecDeque::new(),
            recent_settled: Vec::new(),
            last_settlement: None,
            journal_len: 0,
            utc_offset: UtcOffset::UTC,
            confirm_above: ConfirmAbove::DEFAULT,
            merchant_name: None,
            history: SettledHistory::default(),
        }
    }

    /// Checks that a stored record is this version's and this terminal's, and that the
    /// journal stored with it holds as many entries as were written.
    fn check(&self, config: &Config, entries: usize) -> Result<(), Error> {
        if self.version != SNAPSHOT_VERSION {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                format_args!(
                    "snapshot version {} is not {SNAPSHOT_VERSION}",
                    self.version
                ),
            ));
        }
        if self.merchant_id != config.merchant_id || self.terminal_id != config.terminal_id {
            return Err(Error::with_detail(
                ErrorCode::BadRequest,
                "the stored terminal is another merchant's or terminal's",
            ));
        }
        if usize::try_from(self.journal_len).ok() != Some(entries) {
            return Err(Error::with_detail(
                ErrorCode::JournalTampered,
                format_args!(
                    "the journal holds {entries} entries where {} were written",
                    self.journal_len
                ),
            ));
        }
        Ok(())
    }
}

impl Terminal {
    /// Brings a terminal back from its snapshot (R14, R18, R19).
    ///
    /// A broken hash chain is `JOURNAL_TAMPERED`; a snapshot of another terminal or another
    /// format is `BAD_REQUEST`. A transaction that was in flight becomes an `unknown` entry
    /// with a queued reversal. No session survives here: the token is not in the snapshot,
    /// and a reload of the same tab brings it back through [`Terminal::resume`].
    pub fn restore(config: Config, snapshot: Snapshot, now: Timestamp) -> Result<Terminal, Error> {
        config.validate()?;
        let Snapshot { meta, entries } = snapshot;
        meta.check(&config, entries.len())?;
        let journal =
            Journal::restore(&meta.merchant_id, &meta.terminal_id, meta.batch_no, entries)?;
        let mut t = Terminal::with(config, meta, journal, now);
        if let Some(in_flight) = t.meta.in_flight.take() {
            t.lose_answer(in_flight, now)?;
        }
        t.recovery = t.compute_recovery(now);
        Ok(t)
    }

    /// The whole state to persist (the driver normally persists [`Write`]s instead).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            meta: self.meta.clone(),
            entries: self.journal.entries().to_vec(),
        }
    }

    /// What is left over, with the open batch's figures as of now.
    pub(super) fn compute_recovery(&self, now: Timestamp) -> Option<Recovery> {
        // A session resumed by a reload of the same tab was signed off by nobody.
        let kind = if self.meta.operator.is_some() && self.session.is_none() {
            RecoveryKind::NotSignedOff
        } else if self.meta.settlement.is_some() || !self.meta.reconcile.is_empty() {
            RecoveryKind::NotSettled
        } else if self.journal.has_transactions() {
            // A batch from an earlier business day: its date is before today's on the host's
            // clock (in UTC, yesterday's batch would pass for today's until UTC midnight).
            let today = now.local(self.meta.utc_offset).date();
            match &self.meta.business_date {
                Some(date) if today > *date => RecoveryKind::NotSettled,
                _ => return None,
            }
        } else {
            return None;
        };
        Some(self.leftover(kind))
    }

    /// The batch of a session its operator never signed off (R22: ended from the console).
    pub(super) fn left_signed_in(&self) -> Recovery {
        self.leftover(RecoveryKind::NotSignedOff)
    }

    fn leftover(&self, kind: RecoveryKind) -> Recovery {
        Recovery {
            kind,
            batch_no: self.journal.batch_no(),
            business_date: self.meta.business_date.clone(),
            operator: self.meta.operator.clone(),
            totals: self.totals(),
            pending_reversals: self.meta.reversals.len(),
        }
    }

    /// Writes the state record ahead (R18).
    pub(super) fn push_meta(&mut self) {
        self.writes.push(Write::Meta(Box::new(self.meta.clone())));
        self.refresh_recovery();
    }

    /// The recovery report's figures follow its batch while it is the open one, and the
    /// reversal queue always: the operator reviews what is there now, not at the reload.
    fn refresh_recovery(&mut self) {
        let Some(r) = &self.recovery else {
            return;
        };
        let totals = (r.batch_no == self.journal.batch_no()).then(|| self.totals());
        let reversals = self.meta.reversals.len();
        if let Some(r) = self.recovery.as_mut() {
            if let Some(totals) = totals {
                r.totals = totals;
            }
            r.pending_reversals = reversals;
        }
    }

    /// Journals one entry. It fails only on a journal whose restored totals are forged
    /// (`JOURNAL_TAMPERED`); then nothing is written.
    pub(super) fn append(&mut self, draft: EntryDraft) -> Result<(), Error> {
        let entry = self.journal.append(draft)?.clone();
        self.meta.journal_len = entry.seq;
        self.writes.push(Write::Append {
            batch_no: self.journal.batch_no(),
            entry: Box::new(entry),
        });
        self.refresh_recovery();
        Ok(())
    }

    /// Moves to another batch: the settled one's journal may go, the new one starts empty.
    pub(super) fn switch_batch(&mut self, batch_no: u32) {
        let old = self.journal.batch_no();
        if !self.journal.is_empty() {
            self.writes.push(Write::ClearJournal { batch_no: old });
        }
        self.journal = Journal::new(&self.config.merchant_id, &self.config.terminal_id, batch_no);
        self.meta.batch_no = batch_no;
        self.meta.journal_len = 0;
        if let Some(s) = self.session.as_mut() {
            s.batch_no = batch_no;
        }
        self.push_meta();
    }
}
