//! The HTML of what the terminal recorded: the journal with its void buttons (R6), a batch's
//! totals (R10), a transaction's receipt and a settlement slip (R11) — the panels an operator
//! reads back or prints.

use super::render::{esc, View};
use super::text::{kind_name, T};
use crate::protocol::{
    AcquirerVerdict, BatchTotals, Discrepancy, DiscrepancyKind, EntryKind, EntryStatus, Outcome,
    SchemeTotals, TxStatus,
};
use crate::terminal::{SettlementResult, Terminal as Machine, TxResult};
use std::fmt::Write as _;

fn kind_label<'a>(v: &View, kind: EntryKind) -> &'a str {
    kind_name(v.ui.locale, kind.as_str())
}

pub(super) fn status_label(v: &View, status: EntryStatus) -> &'static str {
    match status {
        EntryStatus::Approved => v.t(T::approved),
        EntryStatus::Declined => v.t(T::declined),
        EntryStatus::Unknown => v.t(T::unknown),
        EntryStatus::Reversed => v.t(T::reversed),
        EntryStatus::Voided => v.t(T::voided),
    }
}

pub(super) fn journal_html(v: &View, machine: &Machine) -> String {
    let journal = machine.journal();
    let mut h = String::from(r#"<section class="sp-panel sp-journal" data-testid="journal">"#);
    if journal.is_empty() {
        let _ = write!(h, "<p>{}</p></section>", v.t(T::empty_journal));
        return h;
    }
    h.push_str(r#"<table class="sp-table"><thead><tr>"#);
    for head in [T::trace, T::kind, T::amount, T::status, T::rrn, T::time] {
        let _ = write!(h, "<th>{}</th>", v.t(head));
    }
    h.push_str("<td></td></tr></thead><tbody>");
    // Each line's trace, time and RRN carry their names for a phone, where the lines are cards
    // without the column heads (softpos.css).
    let (trace, time, rrn) = (v.t(T::trace), v.t(T::time), v.t(T::rrn));
    for e in journal.entries() {
        let status = journal.current_status(e);
        // A reversal the host answered by keeping the transaction (R8, dependents).
        let status_text = if e.kind == EntryKind::Reversal && status != EntryStatus::Reversed {
            v.t(T::not_reversed)
        } else {
            status_label(v, status)
        };
        let _ = write!(
            h,
            r#"<tr data-trace="{}"><td data-l="{trace}">{:06}</td><td>{}</td><td>{}</td><td>{}</td><td data-l="{rrn}">{}</td><td data-l="{time}" data-testid="at-{}">{}</td><td>"#,
            e.trace_no.get(),
            e.trace_no.get(),
            kind_label(v, e.kind),
            v.money(e.amount),
            status_text,
            esc(e.rrn.as_deref().unwrap_or("")),
            e.trace_no.get(),
            esc(&v.local_time(&e.at))
        );
        if e.kind == EntryKind::Sale && status == EntryStatus::Approved {
            void_cell(v, e.trace_no.get(), &mut h);
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</tbody></table></section>");
    h
}

/// An approved sale's void: its button, or the supervisor's password once asked (R6).
fn void_cell(v: &View, trace_no: u32, h: &mut String) {
    if v.ui.void_trace == Some(trace_no) {
        let _ = write!(
            h,
            r#"<form data-action="void" data-arg="{trace_no}" class="sp-inline"><label>{} <input name="supervisor" type="password" required data-testid="void-supervisor"></label><button class="sp-danger" data-testid="void-confirm">{}</button><button type="button" data-action="cancel-void">{}</button></form>"#,
            v.t(T::supervisor_password),
            v.t(T::confirm),
            v.t(T::cancel)
        );
    } else {
        let _ = write!(
            h,
            r#"<button type="button" data-action="ask-void" data-arg="{trace_no}" data-testid="void-{trace_no}">{}</button>"#,
            v.t(T::void)
        );
    }
}

/// A batch's totals as a bank POS prints them (R10, R21): the lines summed, then the domestic
/// (UnionPay) and the foreign cards' halves, one section under the other so that a 58 mm roll
/// holds them. Totals recorded before the split print their sums alone.
pub(super) fn totals_table(v: &View, t: &BatchTotals, h: &mut String) {
    let _ = write!(
        h,
        r#"<table class="sp-table sp-totals"><thead><tr><td></td><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        v.t(T::count),
        v.t(T::amount)
    );
    let sums = SchemeTotals {
        sale: t.sale,
        completion: t.completion.unwrap_or_default(),
        void: t.void,
        refund: t.refund,
        net_amount: t.net_amount,
    };
    totals_rows(v, &sums, "", h);
    for (half, title, prefix) in [
        (&t.domestic, T::domestic_cards, "domestic-"),
        (&t.foreign, T::foreign_cards, "foreign-"),
    ] {
        if let Some(half) = half {
            let _ = write!(
                h,
                r#"<tr class="sp-half" data-half="{prefix}"><th colspan="3">{}</th></tr>"#,
                v.t(title)
            );
            totals_rows(v, half, prefix, h);
        }
    }
    h.push_str("</tbody></table>");
}

fn totals_rows(v: &View, t: &SchemeTotals, prefix: &str, h: &mut String) {
    for (totals, name) in [
        (t.sale, "sale"),
        (t.completion, "completion"),
        (t.void, "void"),
        (t.refund, "refund"),
    ] {
        let _ = write!(
            h,
            r#"<tr data-row="{prefix}{name}"><th>{}</th><td data-testid="{prefix}{name}-count">{}</td><td data-testid="{prefix}{name}-amount">{}</td></tr>"#,
            kind_name(v.ui.locale, name),
            totals.count,
            v.money(totals.amount)
        );
    }
    let _ = write!(
        h,
        r#"<tr class="sp-net"><th>{}</th><td></td><td data-testid="{prefix}net-amount">{}</td></tr>"#,
        v.t(T::net),
        v.money(t.net_amount)
    );
}

pub(super) fn result_panel(v: &View, r: &TxResult, h: &mut String) {
    let approved = r.status == TxStatus::Approved;
    let (class, title) = if approved {
        ("sp-ok", v.t(T::approved))
    } else {
        ("sp-bad", v.t(T::declined))
    };
    let kind = kind_name(v.ui.locale, r.kind.as_str());
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-receipt {class}" data-testid="result" data-status="{}"><h2>{kind} · {title}</h2><p class="sp-big">{}</p><dl><dt>{}</dt><dd>{} {}</dd>"#,
        if approved { "approved" } else { "declined" },
        v.money(r.amount),
        v.t(T::status),
        esc(&r.response_code),
        super::text::response_text(v.ui.locale, &r.response_code)
    );
    let mut row = |label: T, value: &str, id: &str| {
        if !value.is_empty() {
            let _ = write!(
                h,
                r#"<dt>{}</dt><dd data-testid="{id}">{}</dd>"#,
                v.t(label),
                esc(value)
            );
        }
    };
    row(T::card, r.masked_pan.as_deref().unwrap_or(""), "masked-pan");
    row(T::trace, &format!("{:06}", r.trace_no), "trace");
    row(T::batch, &format!("{:06}", r.batch_no), "batch");
    row(T::rrn, r.rrn.as_deref().unwrap_or(""), "rrn");
    row(
        T::auth_code,
        r.auth_code.as_deref().unwrap_or(""),
        "auth-code",
    );
    let _ = write!(
        h,
        r#"<dt></dt><dd data-testid="at">{}</dd></dl><button type="button" data-action="print" data-arg="tx" data-testid="print-slip">{}</button><button type="button" class="sp-close" data-action="dismiss" data-testid="dismiss" aria-label="{}">×</button></section>"#,
        esc(&v.local_time(&r.at)),
        v.t(T::print),
        v.t(T::close)
    );
}

pub(super) fn slip(v: &View, s: &SettlementResult, h: &mut String) {
    let (class, outcome) = match s.outcome {
        Outcome::Balanced => ("sp-ok", v.t(T::balanced)),
        Outcome::Unbalanced => ("sp-bad", v.t(T::unbalanced)),
    };
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-slip {class}" data-testid="slip" data-outcome="{}"><h2>{} · {} {:06}</h2><p class="sp-big">{outcome}</p><div class="sp-columns"><div><h3>{}</h3>"#,
        if s.outcome == Outcome::Balanced {
            "balanced"
        } else {
            "unbalanced"
        },
        v.t(T::slip),
        v.t(T::batch),
        s.batch_no,
        v.t(T::terminal_side)
    );
    totals_table(v, &s.terminal_totals, h);
    let _ = write!(h, "</div><div><h3>{}</h3>", v.t(T::host_side));
    totals_table(v, &s.host_totals, h);
    h.push_str("</div></div>");
    discrepancy_list(v, &s.discrepancies, h);
    acquirer_line(v, s, h);
    let _ = write!(
        h,
        r#"<p>{} {:06} · <span data-testid="settled-at">{}</span></p><button type="button" data-action="print" data-arg="slip" data-testid="print-settlement">{}</button></section>"#,
        v.t(T::next_batch),
        s.next_batch_no,
        esc(&v.local_time(&s.settled_at)),
        v.t(T::print)
    );
}

/// Every discrepancy of a settlement, by trace number (R11), on screen and on paper.
pub(super) fn discrepancy_list(v: &View, list: &[Discrepancy], h: &mut String) {
    if list.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h3>{}</h3><ul data-testid=\"discrepancies\">",
        v.t(T::discrepancies)
    );
    for d in list {
        let kind = match d.kind {
            DiscrepancyKind::MissingOnTerminal => v.t(T::missing_on_terminal),
            DiscrepancyKind::MissingOnHost => v.t(T::missing_on_host),
            DiscrepancyKind::AmountMismatch => v.t(T::amount_mismatch),
            DiscrepancyKind::StatusMismatch => v.t(T::status_mismatch),
        };
        let _ = write!(
            h,
            "<li>{} {:06} · {kind}</li>",
            v.t(T::trace),
            d.trace_no.get()
        );
    }
    h.push_str("</ul>");
}

/// R11's second level, when the host's answer told it: the acquirer's verdict on the host's
/// record of the batch, one line (softpos.css marks a mismatch by its `data-acquirer`).
pub(super) fn acquirer_line(v: &View, s: &SettlementResult, h: &mut String) {
    let Some(verdict) = s.acquirer_outcome else {
        return;
    };
    let text = v.t(match verdict {
        AcquirerVerdict::Balanced => T::acquirer_balanced,
        AcquirerVerdict::Unbalanced => T::acquirer_unbalanced,
        AcquirerVerdict::Error => T::acquirer_error,
        AcquirerVerdict::Pending => T::acquirer_pending,
    });
    let _ = write!(
        h,
        r#"<p data-testid="acquirer-outcome" data-acquirer="{}">{text}</p>"#,
        verdict.as_str()
    );
}
