//! Settlement [结算] as pure functions (R10, R11): the fold that makes batch totals, the
//! comparison of two totals, and the entry-by-entry comparison of a batch upload [批上送].
//! The terminal and the host call these same functions, so they cannot count differently.

use crate::error::{Error, ErrorCode};
use crate::ids::{RequestId, TraceNo};
use crate::protocol::{
    BatchTotals, CardOrigin, Discrepancy, DiscrepancyKind, Outcome, SchemeTotals, Totals, TxKind,
};
use std::collections::BTreeMap;

/// Whether a transaction counts, as each side records it at settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineStatus {
    /// Counts in the totals.
    Approved,
    /// Answered, but counts nowhere.
    Declined,
    /// Never happened as far as money goes: reversed, or never answered.
    Reversed,
}

/// One transaction of a batch, reduced to what settlement compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LedgerLine {
    /// The transaction's request id (the key both sides share).
    pub request_id: RequestId,
    /// Sale, void or refund.
    pub kind: TxKind,
    /// The terminal's trace number.
    pub trace_no: TraceNo,
    /// Minor units.
    pub amount: i64,
    /// Whether it counts.
    pub status: LineStatus,
    /// Which half of the totals it counts in (R21).
    pub origin: CardOrigin,
}

/// Running sums of one batch, by card origin; adding a line is O(1), and the result equals
/// [`fold`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Tally {
    /// Domestic cards' lines (R21).
    pub domestic: Lines,
    /// Foreign cards' lines (R21).
    pub foreign: Lines,
}

/// The lines of one half of a tally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Lines {
    /// Approved sales, voided ones included (R6).
    pub sale: Totals,
    /// Approved completions, voided ones included (R20).
    pub completion: Totals,
    /// Approved voids and completion voids.
    pub void: Totals,
    /// Approved refunds.
    pub refund: Totals,
}

impl Lines {
    fn checked_net(&self) -> Option<i64> {
        self.sale
            .amount
            .checked_add(self.completion.amount)?
            .checked_sub(self.void.amount)?
            .checked_sub(self.refund.amount)
    }

    fn checked_sum(&self, other: &Lines) -> Option<Lines> {
        let add = |a: Totals, b: Totals| {
            Some(Totals {
                count: a.count.checked_add(b.count)?,
                amount: a.amount.checked_add(b.amount)?,
            })
        };
        Some(Lines {
            sale: add(self.sale, other.sale)?,
            completion: add(self.completion, other.completion)?,
            void: add(self.void, other.void)?,
            refund: add(self.refund, other.refund)?,
        })
    }

    /// `sale + completion − void − refund`. Exact for every tally [`Tally::add`] built; one
    /// built by hand past i64 saturates.
    pub fn net_amount(&self) -> i64 {
        self.sale
            .amount
            .saturating_add(self.completion.amount)
            .saturating_sub(self.void.amount)
            .saturating_sub(self.refund.amount)
    }

    fn to_scheme_totals(self) -> SchemeTotals {
        SchemeTotals {
            sale: self.sale,
            completion: self.completion,
            void: self.void,
            refund: self.refund,
            net_amount: self.net_amount(),
        }
    }
}

impl Tally {
    /// Counts one transaction if it is approved. Amounts are at most 99 999 999 999 and a
    /// batch at most a million entries, far from i64's 9.2e18, so only a forged journal or
    /// database row gets here with sums past it: that is `JOURNAL_TAMPERED`, and the tally is
    /// left as it was, never wrapped or saturated (R10).
    pub fn add(
        &mut self,
        kind: TxKind,
        amount: i64,
        status: LineStatus,
        origin: CardOrigin,
    ) -> Result<(), Error> {
        if status != LineStatus::Approved {
            return Ok(());
        }
        self.add_group(kind, 1, amount, origin)
    }

    /// `count` approved lines of one kind and origin summing to `amount`, added at once: the
    /// host folds its rows grouped in SQL (one statement per batch). Amounts are positive
    /// (R1), so the result is the one [`Tally::add`] reaches line by line, and a group whose
    /// sums pass i64 is refused as there.
    pub fn add_group(
        &mut self,
        kind: TxKind,
        count: u64,
        amount: i64,
        origin: CardOrigin,
    ) -> Result<(), Error> {
        let mut next = *self;
        let half = match origin {
            CardOrigin::Domestic => &mut next.domestic,
            CardOrigin::Foreign => &mut next.foreign,
        };
        let bucket = match kind {
            TxKind::Sale => &mut half.sale,
            TxKind::Completion => &mut half.completion,
            // R20: a completion void undoes a completion as a void undoes a sale.
            TxKind::Void | TxKind::CompletionVoid => &mut half.void,
            TxKind::Refund => &mut half.refund,
            // R20: a hold and its release count in no total.
            TxKind::Preauth | TxKind::PreauthVoid => return Ok(()),
        };
        bucket.count = bucket.count.checked_add(count).ok_or_else(overflow)?;
        bucket.amount = bucket.amount.checked_add(amount).ok_or_else(overflow)?;
        half.checked_net().ok_or_else(overflow)?;
        next.sum()
            .and_then(|all| all.checked_net())
            .ok_or_else(overflow)?;
        *self = next;
        Ok(())
    }

    fn sum(&self) -> Option<Lines> {
        self.domestic.checked_sum(&self.foreign)
    }

    /// Both halves summed: the batch's lines. Exact for every tally [`Tally::add`] built.
    pub fn lines(&self) -> Lines {
        self.sum().unwrap_or_default()
    }

    /// `sale + completion − void − refund` over both halves.
    pub fn net_amount(&self) -> i64 {
        self.lines().net_amount()
    }

    /// The wire form for one batch.
    pub fn to_batch_totals(&self, batch_no: u32, currency: &str) -> BatchTotals {
        let all = self.lines();
        BatchTotals {
            batch_no,
            currency: currency.to_owned(),
            sale: all.sale,
            void: all.void,
            refund: all.refund,
            net_amount: all.net_amount(),
            completion: Some(all.completion),
            domestic: Some(Box::new(self.domestic.to_scheme_totals())),
            foreign: Some(Box::new(self.foreign.to_scheme_totals())),
        }
    }
}

fn overflow() -> Error {
    Error::with_detail(
        ErrorCode::JournalTampered,
        "the totals overflow: an amount was changed",
    )
}

/// R10: the totals of a batch as a fold over its lines; sums past i64 are `JOURNAL_TAMPERED`.
pub fn fold<'a>(lines: impl IntoIterator<Item = &'a LedgerLine>) -> Result<Tally, Error> {
    let mut tally = Tally::default();
    for line in lines {
        tally.add(line.kind, line.amount, line.status, line.origin)?;
    }
    Ok(tally)
}

/// R11: balanced when both sides counted the same sales, completions, voids and refunds, and
/// split them alike between domestic and foreign cards (R21). Totals recorded before the split
/// carry no halves; then the sums alone decide.
pub fn outcome(terminal: &BatchTotals, host: &BatchTotals) -> Outcome {
    let halves_agree = match (
        (&terminal.domestic, &terminal.foreign),
        (&host.domestic, &host.foreign),
    ) {
        ((Some(td), Some(tf)), (Some(hd), Some(hf))) => td == hd && tf == hf,
        _ => true,
    };
    let same = terminal.sale == host.sale
        && terminal.completion.unwrap_or_default() == host.completion.unwrap_or_default()
        && terminal.void == host.void
        && terminal.refund == host.refund
        && terminal.net_amount == host.net_amount
        && terminal.currency == host.currency
        && halves_agree;
    if same {
        Outcome::Balanced
    } else {
        Outcome::Unbalanced
    }
}

/// R11: every difference between the terminal's and the host's record of one batch, matched
/// by request id, ordered by trace number.
///
/// A line that counts nowhere on one side (reversed, or never answered) and is absent on the
/// other is no discrepancy: for both sides it never happened.
pub fn compare(terminal: &[LedgerLine], host: &[LedgerLine]) -> Vec<Discrepancy> {
    let host_by_id: BTreeMap<&str, &LedgerLine> =
        host.iter().map(|l| (l.request_id.as_str(), l)).collect();
    let terminal_by_id: BTreeMap<&str, &LedgerLine> = terminal
        .iter()
        .map(|l| (l.request_id.as_str(), l))
        .collect();
    let mut out = Vec::new();
    let mut push = |line: &LedgerLine, kind| {
        out.push(Discrepancy {
            request_id: line.request_id.clone(),
            trace_no: line.trace_no,
            kind,
        })
    };
    for (id, t) in &terminal_by_id {
        match host_by_id.get(id) {
            None if t.status != LineStatus::Reversed => push(t, DiscrepancyKind::MissingOnHost),
            None => {}
            Some(h) if h.status != t.status => push(t, DiscrepancyKind::StatusMismatch),
            // A line counted in the other half of the totals (R21) is a misplaced amount.
            Some(h) if h.amount != t.amount || h.kind != t.kind || h.origin != t.origin => {
                push(t, DiscrepancyKind::AmountMismatch)
            }
            Some(_) => {}
        }
    }
    for (id, h) in &host_by_id {
        if !terminal_by_id.contains_key(id) && h.status != LineStatus::Reversed {
            push(h, DiscrepancyKind::MissingOnTerminal);
        }
    }
    out.sort_by(|a, b| {
        (a.trace_no, &a.request_id, a.kind as u8).cmp(&(b.trace_no, &b.request_id, b.kind as u8))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, kind: TxKind, trace_no: u32, amount: i64, status: LineStatus) -> LedgerLine {
        // A well-formed request id standing for the name, the same for the same name.
        let mut name = [0u8; 16];
        for (x, n) in name.iter_mut().zip(id.bytes()) {
            *x = n;
        }
        LedgerLine {
            request_id: RequestId::from_random(name),
            kind,
            trace_no: TraceNo::try_from(trace_no).unwrap(),
            amount,
            status,
            origin: CardOrigin::Domestic,
        }
    }

    #[test]
    fn r10_fold_counts_only_approved_and_nets() {
        use LineStatus::*;
        use TxKind::*;
        let lines = [
            line("a", Sale, 1, 1000, Approved),
            line("b", Sale, 2, 500, Declined),
            line("c", Sale, 3, 700, Reversed),
            line("d", Void, 4, 1000, Approved),
            line("e", Refund, 5, 200, Approved),
            line("f", Sale, 6, 300, Approved),
        ];
        let t = fold(&lines).unwrap().to_batch_totals(1, "CNY");
        assert_eq!(
            t.sale,
            Totals {
                count: 2,
                amount: 1300
            }
        );
        assert_eq!(
            t.void,
            Totals {
                count: 1,
                amount: 1000
            }
        );
        assert_eq!(
            t.refund,
            Totals {
                count: 1,
                amount: 200
            }
        );
        assert_eq!(t.net_amount, 100);
    }

    #[test]
    fn r11_equal_totals_are_balanced() {
        let a = fold(&[line("a", TxKind::Sale, 1, 10, LineStatus::Approved)]).unwrap();
        let t = a.to_batch_totals(3, "CNY");
        assert_eq!(outcome(&t, &t.clone()), Outcome::Balanced);
        let empty = Tally::default().to_batch_totals(3, "CNY");
        assert_eq!(outcome(&t, &empty), Outcome::Unbalanced);
    }

    #[test]
    fn r11_compare_lists_each_kind_of_discrepancy() {
        use LineStatus::*;
        use TxKind::*;
        let terminal = [
            line("same", Sale, 1, 100, Approved),
            line("only-t", Sale, 2, 100, Approved),
            line("amount", Sale, 3, 100, Approved),
            line("status", Sale, 4, 100, Declined),
            line("rev-t", Sale, 6, 100, Reversed),
        ];
        let host = [
            line("same", Sale, 1, 100, Approved),
            line("amount", Sale, 3, 150, Approved),
            line("status", Sale, 4, 100, Approved),
            line("only-h", Sale, 5, 100, Approved),
            line("rev-h", Sale, 7, 100, Reversed),
        ];
        let d = compare(&terminal, &host);
        let got: Vec<_> = d.iter().map(|d| (d.trace_no.get(), d.kind)).collect();
        assert_eq!(
            got,
            vec![
                (2, DiscrepancyKind::MissingOnHost),
                (3, DiscrepancyKind::AmountMismatch),
                (4, DiscrepancyKind::StatusMismatch),
                (5, DiscrepancyKind::MissingOnTerminal),
            ]
        );
        assert!(compare(&terminal, &terminal).is_empty());
    }

    #[test]
    fn r10_a_total_past_i64_is_journal_tampered_and_the_tally_stays() {
        use LineStatus::Approved;
        let mut t = Tally::default();
        t.add(TxKind::Sale, i64::MAX, Approved, CardOrigin::Domestic)
            .unwrap();
        let before = t;
        let e = t
            .add(TxKind::Sale, 1, Approved, CardOrigin::Domestic)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JournalTampered);
        assert_eq!(t, before, "never wrapped, never saturated");
        // Each part fits, but the net would not: sale 0 − void MAX − refund MAX.
        let mut t = Tally::default();
        t.add(TxKind::Void, i64::MAX, Approved, CardOrigin::Domestic)
            .unwrap();
        let e = t
            .add(TxKind::Refund, i64::MAX, Approved, CardOrigin::Domestic)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JournalTampered);
        let lines = [
            line("a", TxKind::Refund, 1, i64::MAX, Approved),
            line("b", TxKind::Refund, 2, i64::MAX, Approved),
        ];
        assert_eq!(fold(&lines).unwrap_err().code, ErrorCode::JournalTampered);
    }

    fn foreign(mut l: LedgerLine) -> LedgerLine {
        l.origin = CardOrigin::Foreign;
        l
    }

    #[test]
    fn r20_completions_count_in_their_line_and_their_voids_in_void() {
        use LineStatus::*;
        use TxKind::*;
        let lines = [
            line("hold", Preauth, 1, 10_000, Approved),
            line("c", Completion, 2, 11_000, Approved),
            line("cv", CompletionVoid, 3, 11_000, Approved),
            line("c2", Completion, 4, 9_000, Approved),
            line("release", PreauthVoid, 5, 5_000, Approved),
            line("declined", Completion, 6, 1, Declined),
        ];
        let t = fold(&lines).unwrap().to_batch_totals(1, "CNY");
        assert_eq!(
            t.completion,
            Some(Totals {
                count: 2,
                amount: 20_000
            })
        );
        assert_eq!(
            t.void,
            Totals {
                count: 1,
                amount: 11_000
            }
        );
        assert_eq!(t.sale, Totals::default(), "a hold is no sale");
        assert_eq!(t.net_amount, 9_000);
    }

    #[test]
    fn r21_the_halves_sum_to_the_lines() {
        use LineStatus::*;
        use TxKind::*;
        let lines = [
            line("d", Sale, 1, 1_000, Approved),
            foreign(line("f", Sale, 2, 700, Approved)),
            foreign(line("fv", Void, 3, 700, Approved)),
            foreign(line("fc", Completion, 4, 50, Approved)),
            line("dr", Refund, 5, 100, Approved),
        ];
        let t = fold(&lines).unwrap().to_batch_totals(1, "CNY");
        let (d, f) = (t.domestic.unwrap(), t.foreign.unwrap());
        assert_eq!(
            (d.sale.amount, d.refund.amount, d.net_amount),
            (1_000, 100, 900)
        );
        assert_eq!((f.sale.amount, f.void.amount, f.net_amount), (700, 700, 50));
        assert_eq!(t.net_amount, d.net_amount + f.net_amount);
        assert_eq!(t.sale.count, d.sale.count + f.sale.count);
    }

    #[test]
    fn r21_same_sums_in_other_halves_are_unbalanced_and_listed() {
        let terminal = [line("a", TxKind::Sale, 1, 10, LineStatus::Approved)];
        let host = [foreign(line(
            "a",
            TxKind::Sale,
            1,
            10,
            LineStatus::Approved,
        ))];
        let (t, h) = (
            fold(&terminal).unwrap().to_batch_totals(1, "CNY"),
            fold(&host).unwrap().to_batch_totals(1, "CNY"),
        );
        assert_eq!((t.sale, t.net_amount), (h.sale, h.net_amount));
        assert_eq!(outcome(&t, &h), Outcome::Unbalanced);
        let d = compare(&terminal, &host);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DiscrepancyKind::AmountMismatch);
        // Totals recorded before the split carry no halves: the sums alone decide.
        let old = BatchTotals {
            domestic: None,
            foreign: None,
            ..h.clone()
        };
        assert_eq!(outcome(&t, &old), Outcome::Balanced);
    }

    #[test]
    fn r21_a_card_is_domestic_by_its_unionpay_bin() {
        assert_eq!(
            CardOrigin::of_pan(Some("621234******1232")),
            CardOrigin::Domestic
        );
        for foreign in ["411111******1111", "550000******0004", "353011******0000"] {
            assert_eq!(CardOrigin::of_pan(Some(foreign)), CardOrigin::Foreign);
        }
        assert_eq!(CardOrigin::of_pan(None), CardOrigin::Domestic);
    }
}
