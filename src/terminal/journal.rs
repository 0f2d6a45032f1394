//! The batch journal: append-only, hash-chained (R19), with totals kept as it grows (R10).
//!
//! Entries never change once written. A void or an acknowledged reversal is an entry of its
//! own, and the current status of a sale (voided, reversed) is derived from what follows it;
//! so appending is O(1) and the chain never needs rewriting.
//!
//! The host's answer to a reversal is such an entry too (kind `reversal`): status `reversed`
//! when it undid the transaction; otherwise the transaction stands (R8, dependents), and the
//! entry records its final answer (status `approved` or `declined`, response code, RRN, auth
//! code). The `unknown` transaction it names then counts as that answer says.

use crate::error::{Error, ErrorCode};
use crate::ids::{RequestId, TraceNo};
use crate::protocol::{BatchTotals, CardOrigin, EntryKind, EntryStatus, JournalEntry, TxKind};
use crate::terminal::money::Amount;
use crate::terminal::settlement::{LedgerLine, LineStatus, Tally};
use std::collections::HashMap;

mod chain;

pub use chain::{entry_hash, genesis_hash, verify_chain, verify_links};

/// A journal entry before it is chained: everything but `seq`, `prev_hash` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    /// See [`JournalEntry::request_id`].
    pub request_id: RequestId,
    /// See [`JournalEntry::kind`].
    pub kind: EntryKind,
    /// See [`JournalEntry::trace_no`].
    pub trace_no: TraceNo,
    /// See [`JournalEntry::amount`].
    pub amount: i64,
    /// See [`JournalEntry::currency`].
    pub currency: String,
    /// See [`JournalEntry::status`].
    pub status: EntryStatus,
    /// See [`JournalEntry::response_code`].
    pub response_code: Option<String>,
    /// See [`JournalEntry::rrn`].
    pub rrn: Option<String>,
    /// See [`JournalEntry::auth_code`].
    pub auth_code: Option<String>,
    /// See [`JournalEntry::masked_pan`].
    pub masked_pan: Option<String>,
    /// See [`JournalEntry::original_trace_no`].
    pub original_trace_no: Option<TraceNo>,
    /// See [`JournalEntry::original_rrn`].
    pub original_rrn: Option<String>,
    /// See [`JournalEntry::operator`].
    pub operator: String,
    /// See [`JournalEntry::at`].
    pub at: String,
}

fn tampered_totals(at: usize) -> Error {
    Error::with_detail(
        ErrorCode::JournalTampered,
        format_args!("the refunds of entry {} overflow", at + 1),
    )
}

/// The transaction kind of an entry; `None` for a reversal.
pub(crate) fn tx_kind(k: EntryKind) -> Option<TxKind> {
    match k {
        EntryKind::Sale => Some(TxKind::Sale),
        EntryKind::Void => Some(TxKind::Void),
        EntryKind::Refund => Some(TxKind::Refund),
        EntryKind::Preauth => Some(TxKind::Preauth),
        EntryKind::PreauthVoid => Some(TxKind::PreauthVoid),
        EntryKind::Completion => Some(TxKind::Completion),
        EntryKind::CompletionVoid => Some(TxKind::CompletionVoid),
        EntryKind::Reversal => None,
    }
}

fn line_status(s: EntryStatus) -> LineStatus {
    match s {
        EntryStatus::Approved | EntryStatus::Voided => LineStatus::Approved,
        EntryStatus::Declined => LineStatus::Declined,
        EntryStatus::Unknown | EntryStatus::Reversed => LineStatus::Reversed,
    }
}

/// What a reversal entry says about the transaction it names (R8).
fn reversal_verdict(status: EntryStatus) -> Option<EntryStatus> {
    match status {
        EntryStatus::Reversed => Some(EntryStatus::Reversed),
        // The host kept it: its final answer.
        EntryStatus::Approved | EntryStatus::Declined => Some(status),
        EntryStatus::Unknown | EntryStatus::Voided => None,
    }
}

/// R10 reference: the totals of a list of entries by a full fold, with reversals applied.
/// The journal keeps the same numbers incrementally; tests check the two agree.
pub fn ledger_lines(entries: &[JournalEntry]) -> Vec<LedgerLine> {
    let verdicts: HashMap<&str, EntryStatus> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Reversal)
        .map(|e| {
            let verdict = reversal_verdict(e.status).unwrap_or(EntryStatus::Reversed);
            (e.request_id.as_str(), verdict)
        })
        .collect();
    entries
        .iter()
        .filter_map(|e| {
            let kind = tx_kind(e.kind)?;
            let status = match verdicts.get(e.request_id.as_str()) {
                // Only a transaction without an answer is resolved by its reversal: undone, or
                // standing as the host kept it. `Journal::append` refuses any other reversal.
                Some(&verdict) if e.status == EntryStatus::Unknown => line_status(verdict),
                _ => line_status(e.status),
            };
            Some(LedgerLine {
                request_id: e.request_id.clone(),
                kind,
                trace_no: e.trace_no,
                amount: e.amount,
                status,
                origin: CardOrigin::of_pan(e.masked_pan.as_deref()),
            })
        })
        .collect()
}

/// One open batch's journal with its indexes and running totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    batch_no: u32,
    genesis: String,
    entries: Vec<JournalEntry>,
    tally: Tally,
    /// Transaction entries (not reversals) by trace number.
    by_trace: HashMap<u32, usize>,
    /// Transaction entries by request id.
    by_request: HashMap<String, usize>,
    /// Approved sales by RRN.
    by_rrn: HashMap<String, usize>,
    /// Trace numbers of sales and completions undone by an approved void or completion void
    /// (R6, R20), to the void's entry. (Maps rather than sets: the same two map types as
    /// above, so the browser module carries no extra copy of the hash table code.)
    voided: HashMap<u32, usize>,
    /// R20: approved pre-authorisations [预授权] by RRN (unique per merchant); a lookup also
    /// matches the auth code.
    holds: HashMap<String, usize>,
    /// R20: RRNs of holds released by an approved pre-auth void, to the void's entry.
    released: HashMap<String, usize>,
    /// R20: RRNs of holds with an approved completion, to the newest completion's entry; the
    /// hold is open again once that completion is voided (its trace in `voided`).
    completed: HashMap<String, usize>,
    /// Request ids a reversal entry answered, to that entry: undone (`reversed`), or standing
    /// as the entry's status says (R8, dependents).
    reversed: HashMap<String, usize>,
    /// Sum of approved refunds per original RRN inside this batch.
    refunded: HashMap<String, i64>,
}

impl Journal {
    /// An empty journal for a batch.
    pub fn new(merchant_id: &str, terminal_id: &str, batch_no: u32) -> Journal {
        Journal {
            batch_no,
            genesis: genesis_hash(merchant_id, terminal_id, batch_no),
            entries: Vec::new(),
            tally: Tally::default(),
            by_trace: HashMap::new(),
            by_request: HashMap::new(),
            by_rrn: HashMap::new(),
            voided: HashMap::new(),
            holds: HashMap::new(),
            released: HashMap::new(),
            completed: HashMap::new(),
            reversed: HashMap::new(),
            refunded: HashMap::new(),
        }
    }

    /// Rebuilds a journal from stored entries, checking the chain (R19).
    pub fn restore(
        merchant_id: &str,
        terminal_id: &str,
        batch_no: u32,
        entries: Vec<JournalEntry>,
    ) -> Result<Journal, Error> {
        let mut journal = Journal::new(merchant_id, terminal_id, batch_no);
        verify_chain(&journal.genesis, &entries)?;
        journal.entries.reserve(entries.len());
        for entry in entries {
            journal.index(entry)?;
        }
        Ok(journal)
    }

    /// Chains and appends one entry; O(1) whatever the batch size. An entry that does not fit
    /// (see [`Journal::restore`]) is refused and nothing changes.
    pub fn append(&mut self, draft: EntryDraft) -> Result<&JournalEntry, Error> {
        let prev_hash = self
            .entries
            .last()
            .map_or_else(|| self.genesis.clone(), |e| e.hash.clone());
        let mut entry = JournalEntry {
            seq: u32::try_from(self.entries.len() + 1).unwrap_or(u32::MAX),
            request_id: draft.request_id,
            kind: draft.kind,
            trace_no: draft.trace_no,
            amount: draft.amount,
            currency: draft.currency,
            status: draft.status,
            response_code: draft.response_code,
            rrn: draft.rrn,
            auth_code: draft.auth_code,
            masked_pan: draft.masked_pan,
            original_trace_no: draft.original_trace_no,
            original_rrn: draft.original_rrn,
            operator: draft.operator,
            at: draft.at,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        self.index(entry)?;
        // `index` just pushed it.
        Ok(&self.entries[self.entries.len() - 1])
    }

    /// Indexes and counts one chained entry, then keeps it. What the chain cannot vouch for
    /// is checked here, because stored entries can be rewritten with their hashes (R19): an
    /// amount outside R3, totals past i64, a reversal answer for no unknown transaction, or
    /// a second answer, is `JOURNAL_TAMPERED`. On an error nothing has changed.
    fn index(&mut self, entry: JournalEntry) -> Result<(), Error> {
        let i = self.entries.len();
        let tampered = |what: &str| {
            Error::with_detail(
                ErrorCode::JournalTampered,
                format_args!("entry {}: {what}", i + 1),
            )
        };
        Amount::new(entry.amount).map_err(|_| tampered("the amount is out of range"))?;
        match tx_kind(entry.kind) {
            Some(kind) => {
                self.count(kind, &entry, i)?;
                self.by_trace.insert(entry.trace_no.get(), i);
                self.by_request
                    .insert(entry.request_id.as_str().to_owned(), i);
            }
            None => {
                if self.reversed.contains_key(entry.request_id.as_str()) {
                    return Err(tampered("a transaction answered twice"));
                }
                match reversal_verdict(entry.status) {
                    // Only an unknown transaction is ever reversed, and unknown ones never
                    // counted, so the totals do not move. One the terminal journaled with an
                    // answer was never queued for reversal: such a journal was not written by
                    // a terminal. (A reversal may name no entry: its transaction's `unknown`
                    // entry could not be journaled.)
                    Some(EntryStatus::Reversed) => {
                        let answered = self
                            .by_request
                            .get(entry.request_id.as_str())
                            .is_some_and(|&j| self.entries[j].status != EntryStatus::Unknown);
                        if answered {
                            return Err(tampered("a reversal of an answered transaction"));
                        }
                    }
                    Some(answer) => {
                        // The host kept it (R8, dependents): it counts as its answer says.
                        let original = self
                            .by_request
                            .get(entry.request_id.as_str())
                            .map(|&j| (j, &self.entries[j]))
                            .filter(|(_, o)| o.status == EntryStatus::Unknown)
                            .and_then(|(j, o)| Some((j, tx_kind(o.kind)?, o)))
                            .ok_or_else(|| tampered("an answer for no unknown transaction"))?;
                        let (j, kind, original) = original;
                        let resolved = JournalEntry {
                            status: answer,
                            rrn: entry.rrn.clone(),
                            auth_code: entry.auth_code.clone(),
                            ..original.clone()
                        };
                        self.count(kind, &resolved, j)?;
                    }
                    None => return Err(tampered("a reversal with a transaction's status")),
                }
                self.reversed
                    .insert(entry.request_id.as_str().to_owned(), i);
            }
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Adds a transaction, as it stands, to the totals and to the indexes of what it did to
    /// other transactions; `at` is the entry the indexes point to. All or nothing.
    fn count(&mut self, kind: TxKind, e: &JournalEntry, at: usize) -> Result<(), Error> {
        let mut tally = self.tally;
        let origin = CardOrigin::of_pan(e.masked_pan.as_deref());
        tally.add(kind, e.amount, line_status(e.status), origin)?;
        let approved = e.status == EntryStatus::Approved;
        match (kind, approved) {
            (TxKind::Sale, true) => {
                if let Some(rrn) = &e.rrn {
                    self.by_rrn.insert(rrn.clone(), at);
                }
            }
            (TxKind::Void | TxKind::CompletionVoid, true) => {
                if let Some(t) = e.original_trace_no {
                    self.voided.insert(t.get(), at);
                }
            }
            (TxKind::Preauth, true) => {
                if let Some(rrn) = &e.rrn {
                    self.holds.insert(rrn.clone(), at);
                }
            }
            (TxKind::PreauthVoid, true) => {
                if let Some(rrn) = &e.original_rrn {
                    self.released.insert(rrn.clone(), at);
                }
            }
            (TxKind::Completion, true) => {
                if let Some(rrn) = &e.original_rrn {
                    self.completed.insert(rrn.clone(), at);
                }
            }
            (TxKind::Refund, true) => {
                if let Some(rrn) = &e.original_rrn {
                    let sum = self
                        .refunded(rrn)
                        .checked_add(e.amount)
                        .ok_or_else(|| tampered_totals(at))?;
                    self.refunded.insert(rrn.clone(), sum);
                }
            }
            _ => {}
        }
        self.tally = tally;
        Ok(())
    }

    /// The batch number.
    pub fn batch_no(&self) -> u32 {
        self.batch_no
    }

    /// The hash the first entry chains to.
    pub fn genesis(&self) -> &str {
        &self.genesis
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// Number of entries (transactions and reversals).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any transaction has been journaled (reversals alone do not make a batch).
    pub fn has_transactions(&self) -> bool {
        !self.by_request.is_empty()
    }

    /// The running totals (R10).
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// The running totals in wire form.
    pub fn totals(&self, currency: &str) -> BatchTotals {
        self.tally.to_batch_totals(self.batch_no, currency)
    }

    /// The transaction entry with this trace number.
    pub fn by_trace(&self, trace_no: u32) -> Option<&JournalEntry> {
        self.by_trace.get(&trace_no).map(|&i| &self.entries[i])
    }

    /// The transaction entry with this request id.
    pub fn by_request(&self, request_id: &str) -> Option<&JournalEntry> {
        self.by_request.get(request_id).map(|&i| &self.entries[i])
    }

    /// The approved sale with this RRN.
    pub fn sale_by_rrn(&self, rrn: &str) -> Option<&JournalEntry> {
        self.by_rrn.get(rrn).map(|&i| &self.entries[i])
    }

    /// Whether a trace number is already used in this batch.
    pub fn trace_used(&self, trace_no: u32) -> bool {
        self.by_trace.contains_key(&trace_no)
    }

    /// Whether the sale or completion with this trace number was voided.
    pub fn is_voided(&self, trace_no: u32) -> bool {
        self.voided.contains_key(&trace_no)
    }

    /// R20: the approved pre-authorisation with this RRN, whatever its auth code.
    pub fn hold_by_rrn(&self, rrn: &str) -> Option<&JournalEntry> {
        self.holds.get(rrn).map(|&i| &self.entries[i])
    }

    /// R20: whether the hold with this RRN was released by an approved pre-auth void.
    pub fn is_released(&self, rrn: &str) -> bool {
        self.released.contains_key(rrn)
    }

    /// R20: the approved, unvoided completion of the hold with this RRN: a hold completes once.
    pub fn completion_of(&self, rrn: &str) -> Option<&JournalEntry> {
        self.completed
            .get(rrn)
            .map(|&i| &self.entries[i])
            .filter(|c| !self.is_voided(c.trace_no.get()))
    }

    /// Sum of approved refunds of the sale with this RRN, inside this batch.
    pub fn refunded(&self, rrn: &str) -> i64 {
        self.refunded.get(rrn).copied().unwrap_or(0)
    }

    /// The status of an entry as it stands now: a voided sale or completion and a released
    /// hold show `voided`, a reversed transaction `reversed`, an unknown one the host kept its
    /// final answer (R8). A reversal entry shows what it recorded.
    pub fn current_status(&self, entry: &JournalEntry) -> EntryStatus {
        if entry.kind == EntryKind::Reversal {
            return entry.status;
        }
        let answered = self
            .reversed
            .get(entry.request_id.as_str())
            .map(|&i| self.entries[i].status);
        // `append` lets a reversal entry name only an unknown transaction, so its verdict is
        // the transaction's status.
        let status = answered.unwrap_or(entry.status);
        // Undone: a voided sale or completion, a released hold (R6, R20).
        let undone = match entry.kind {
            EntryKind::Sale | EntryKind::Completion => self.is_voided(entry.trace_no.get()),
            EntryKind::Preauth => entry.rrn.as_deref().is_some_and(|r| self.is_released(r)),
            _ => false,
        };
        if status == EntryStatus::Approved && undone {
            EntryStatus::Voided
        } else {
            status
        }
    }

    /// The batch as settlement compares it.
    pub fn ledger(&self) -> Vec<LedgerLine> {
        ledger_lines(&self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::settlement::fold;

    /// A well-formed request id standing for a short name, the same for the same name.
    fn rid(name: &str) -> RequestId {
        let mut b = [0u8; 16];
        for (x, n) in b.iter_mut().zip(name.bytes()) {
            *x = n;
        }
        RequestId::from_random(b)
    }

    pub(crate) fn draft(
        id: &str,
        kind: EntryKind,
        trace: u32,
        amount: i64,
        status: EntryStatus,
    ) -> EntryDraft {
        EntryDraft {
            request_id: rid(id),
            kind,
            trace_no: TraceNo::try_from(trace).unwrap(),
            amount,
            currency: "CNY".into(),
            status,
            response_code: Some("00".into()),
            rrn: Some(format!("rrn{trace:09}")),
            auth_code: None,
            masked_pan: Some("621234******1232".into()),
            original_trace_no: None,
            original_rrn: None,
            operator: "01".into(),
            at: "2026-11-28T00:00:00.000Z".into(),
        }
    }

    fn sample() -> Journal {
        let mut j = Journal::new("898310048160001", "10000001", 1);
        j.append(draft("a", EntryKind::Sale, 1, 1000, EntryStatus::Approved))
            .unwrap();
        j.append(draft("b", EntryKind::Sale, 2, 500, EntryStatus::Unknown))
            .unwrap();
        j.append(draft(
            "b",
            EntryKind::Reversal,
            2,
            500,
            EntryStatus::Reversed,
        ))
        .unwrap();
        let mut void = draft("c", EntryKind::Void, 3, 1000, EntryStatus::Approved);
        void.original_trace_no = Some(TraceNo::FIRST);
        j.append(void).unwrap();
        j
    }

    #[test]
    fn r19_chain_verifies_and_restores() {
        let j = sample();
        let restored =
            Journal::restore("898310048160001", "10000001", 1, j.entries().to_vec()).unwrap();
        assert_eq!(restored, j);
    }

    #[test]
    fn r19_any_edit_breaks_the_chain() {
        let j = sample();
        let mut edited = j.entries().to_vec();
        edited[0].amount = 1;
        let err = Journal::restore("898310048160001", "10000001", 1, edited).unwrap_err();
        assert_eq!(err.code, ErrorCode::JournalTampered);

        let mut dropped = j.entries().to_vec();
        dropped.remove(1);
        assert!(Journal::restore("898310048160001", "10000001", 1, dropped).is_err());

        // The same entries do not pass as another terminal's or another batch's.
        assert!(Journal::restore("898310048160001", "10000002", 1, j.entries().to_vec()).is_err());
        assert!(Journal::restore("898310048160001", "10000001", 2, j.entries().to_vec()).is_err());
    }

    #[test]
    fn r10_incremental_totals_equal_the_fold() {
        let j = sample();
        assert_eq!(j.tally(), fold(&j.ledger()).unwrap());
        let t = j.totals("CNY");
        assert_eq!((t.sale.count, t.void.count, t.net_amount), (1, 1, 0));
        assert_eq!(j.current_status(&j.entries()[0]), EntryStatus::Voided);
        assert_eq!(j.current_status(&j.entries()[1]), EntryStatus::Reversed);
    }

    fn kept(id: &str, trace: u32, amount: i64, status: EntryStatus) -> EntryDraft {
        let mut d = draft(id, EntryKind::Reversal, trace, amount, status);
        d.rrn = Some("000000000042".into());
        d
    }

    #[test]
    fn r8_a_transaction_the_host_kept_counts_as_its_answer_and_the_fold_agrees() {
        let mut j = Journal::new("898310048160001", "10000001", 1);
        let mut sale = draft("s", EntryKind::Sale, 1, 3000, EntryStatus::Unknown);
        sale.rrn = None;
        j.append(sale).unwrap();
        assert_eq!(j.tally().lines().sale.count, 0);
        j.append(kept("s", 1, 3000, EntryStatus::Approved)).unwrap();
        let t = j.totals("CNY");
        assert_eq!((t.sale.count, t.sale.amount), (1, 3000));
        assert_eq!(j.tally(), fold(&j.ledger()).unwrap());
        assert_eq!(j.current_status(&j.entries()[0]), EntryStatus::Approved);
        assert_eq!(j.current_status(&j.entries()[1]), EntryStatus::Approved);
        assert_eq!(j.sale_by_rrn("000000000042").map(|e| e.seq), Some(1));
        // A refund the host kept limits the sale like any approved refund.
        let mut refund = draft("r", EntryKind::Refund, 2, 1000, EntryStatus::Unknown);
        refund.original_rrn = Some("000000000042".into());
        j.append(refund).unwrap();
        j.append(kept("r", 2, 1000, EntryStatus::Approved)).unwrap();
        assert_eq!(j.refunded("000000000042"), 1000);
        // A declined answer counts nowhere.
        j.append(draft("d", EntryKind::Sale, 3, 500, EntryStatus::Unknown))
            .unwrap();
        j.append(kept("d", 3, 500, EntryStatus::Declined)).unwrap();
        assert_eq!(j.current_status(&j.entries()[4]), EntryStatus::Declined);
        assert_eq!(j.tally(), fold(&j.ledger()).unwrap());
        let t = j.totals("CNY");
        assert_eq!(
            (t.sale.amount, t.refund.amount, t.net_amount),
            (3000, 1000, 2000)
        );
        let restored =
            Journal::restore("898310048160001", "10000001", 1, j.entries().to_vec()).unwrap();
        assert_eq!(restored, j);
    }

    #[test]
    fn r19_a_reversal_answer_that_fits_no_unknown_transaction_is_tampered() {
        let mut j = Journal::new("898310048160001", "10000001", 1);
        j.append(draft("a", EntryKind::Sale, 1, 1000, EntryStatus::Approved))
            .unwrap();
        let before = j.clone();
        // Counting an approved sale twice, a stranger, or an answer twice: refused, unchanged.
        for bad in [
            kept("a", 1, 1000, EntryStatus::Approved),
            kept("nobody", 9, 1000, EntryStatus::Approved),
            kept("a", 1, 1000, EntryStatus::Unknown),
        ] {
            let e = j.append(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::JournalTampered);
            assert_eq!(j, before);
        }
        j.append(draft("u", EntryKind::Sale, 2, 10, EntryStatus::Unknown))
            .unwrap();
        j.append(kept("u", 2, 10, EntryStatus::Approved)).unwrap();
        let e = j
            .append(draft(
                "u",
                EntryKind::Reversal,
                2,
                10,
                EntryStatus::Reversed,
            ))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JournalTampered, "answered twice");
    }
}
