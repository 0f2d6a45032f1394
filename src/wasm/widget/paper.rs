//! R21: what the widget prints, laid out for a thermal roll (58 or 80 mm) or A4: a
//! transaction's slip [签购单] in two copies (merchant, with the signature line, and
//! cardholder), the X report [交易汇总] and a settlement slip [结算单], each marked when it is
//! a reprint. Hidden on screen; a print button puts one here and opens the browser's print
//! dialog (softpos.css, `@media print`). Every totals table is `records::totals_table`.

use super::records::{acquirer_line, discrepancy_list, totals_table};
use super::render::{esc, View};
use super::text::{kind_name, T};
use crate::protocol::{EntryStatus, Outcome, SettledBatch};
use crate::terminal::card::Scheme;
use crate::terminal::{SettlementResult, Slip};
use std::fmt::Write as _;

/// The paper the printer takes (`mountWidget`'s `paper` option).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Size {
    Roll58,
    Roll80,
    A4,
}

impl Size {
    /// From the option: 80 mm unless told otherwise.
    pub(super) fn parse(text: Option<&str>) -> Size {
        match text {
            Some("58mm") => Size::Roll58,
            Some("a4" | "A4") => Size::A4,
            _ => Size::Roll80,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Size::Roll58 => "58mm",
            Size::Roll80 => "80mm",
            Size::A4 => "a4",
        }
    }
}

/// What is on the paper.
pub(super) enum Paper {
    /// A transaction's slip; `true` when reprinted.
    Tx(Box<Slip>, bool),
    /// The open batch's totals, printed at this local time.
    XReport(String),
    /// A settlement this browser kept; `true` when reprinted.
    Settlement(Box<SettlementResult>, bool),
    /// A settlement as the host keeps it (reprinted from its history).
    Settled(Box<SettledBatch>),
}

/// The paper, if one was asked for.
pub(super) fn paper_html(v: &View, h: &mut String) {
    let Some(paper) = &v.ui.paper else {
        return;
    };
    let _ = write!(
        h,
        r#"<div class="sp-paper sp-print" data-paper="{}" data-testid="paper">"#,
        v.ui.paper_size.name()
    );
    match paper {
        Paper::Tx(slip, reprint) => {
            for copy in [T::merchant_copy, T::cardholder_copy] {
                tx_copy(v, slip, *reprint, copy, h);
            }
        }
        Paper::XReport(at) => {
            doc_head(v, T::x_report, "x-report", false, v.operator.as_deref(), h);
            line(v, T::batch, &format!("{:06}", v.totals.batch_no), h);
            line(v, T::printed_at, at, h);
            h.push_str("</dl>");
            totals_table(v, &v.totals, h);
            h.push_str("</article>");
        }
        Paper::Settlement(s, reprint) => settlement(v, s, *reprint, h),
        Paper::Settled(b) => settled(v, b, h),
    }
    h.push_str("</div>");
}

/// The head of every document: its title, the reprint mark, who printed it.
fn doc_head(v: &View, title: T, id: &str, reprint: bool, operator: Option<&str>, h: &mut String) {
    let _ = write!(
        h,
        r#"<article class="sp-doc" data-testid="{id}"><h2>{}</h2>"#,
        v.t(title)
    );
    if reprint {
        let _ = write!(
            h,
            r#"<p class="sp-reprint" data-testid="reprint-mark">{}</p>"#,
            v.t(T::reprint_mark)
        );
    }
    h.push_str("<dl>");
    if let Some(name) = &v.merchant_name {
        line(v, T::merchant_name, name, h);
    }
    line(v, T::merchant_id, &v.merchant_id, h);
    line(v, T::terminal_id, &v.terminal_id, h);
    if let Some(op) = operator {
        line(v, T::operator, op, h);
    }
}

fn line(v: &View, label: T, value: &str, h: &mut String) {
    if !value.is_empty() {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", v.t(label), esc(value));
    }
}

fn scheme_name(v: &View, masked_pan: &str) -> &'static str {
    super::text::scheme_name(v.ui.locale, Scheme::of(masked_pan))
}

/// One copy of a transaction's slip.
fn tx_copy(v: &View, s: &Slip, reprint: bool, copy: T, h: &mut String) {
    let id = if copy == T::merchant_copy {
        "copy-merchant"
    } else {
        "copy-cardholder"
    };
    doc_head(v, T::slip_title, id, reprint, Some(&s.operator), h);
    let card = s.masked_pan.as_deref().unwrap_or("");
    line(v, T::card, card, h);
    if !card.is_empty() {
        line(v, T::scheme, scheme_name(v, card), h);
    }
    let mut kind = kind_name(v.ui.locale, s.kind.as_str()).to_owned();
    if s.status == EntryStatus::Declined {
        let _ = write!(
            kind,
            " · {} {}",
            v.t(T::declined),
            s.response_code.as_deref().unwrap_or("")
        );
    }
    line(v, T::kind, &kind, h);
    line(v, T::batch, &format!("{:06}", s.batch_no), h);
    line(v, T::voucher, &format!("{:06}", s.trace_no), h);
    if let Some(t) = s.original_trace_no {
        line(v, T::original_trace, &format!("{t:06}"), h);
    }
    line(
        v,
        T::original_rrn,
        s.original_rrn.as_deref().unwrap_or(""),
        h,
    );
    line(v, T::auth_code, s.auth_code.as_deref().unwrap_or(""), h);
    line(v, T::rrn, s.rrn.as_deref().unwrap_or(""), h);
    line(v, T::date_time, &v.local_time(&s.at), h);
    let _ = write!(
        h,
        r#"</dl><p class="sp-paper-amount"><span>{}</span> <strong data-testid="slip-amount">{}</strong></p><p class="sp-copy-name" data-testid="copy-name">{}</p>"#,
        v.t(T::amount),
        v.money(s.amount),
        v.t(copy)
    );
    if copy == T::merchant_copy {
        let _ = write!(
            h,
            r#"<p class="sp-sign" data-testid="signature">{}</p><p class="sp-small">{}</p>"#,
            v.t(T::signature),
            v.t(T::acknowledge)
        );
    }
    h.push_str("</article>");
}

fn outcome_line(v: &View, outcome: Outcome, h: &mut String) {
    let (name, text) = match outcome {
        Outcome::Balanced => ("balanced", v.t(T::balanced)),
        Outcome::Unbalanced => ("unbalanced", v.t(T::unbalanced)),
    };
    let _ = write!(
        h,
        r#"<p class="sp-big" data-testid="paper-outcome" data-outcome="{name}">{text}</p>"#
    );
}

/// A settlement slip from the whole record this browser kept.
fn settlement(v: &View, s: &SettlementResult, reprint: bool, h: &mut String) {
    doc_head(v, T::slip, "settlement", reprint, v.operator.as_deref(), h);
    line(v, T::batch, &format!("{:06}", s.batch_no), h);
    line(v, T::date_time, &v.local_time(&s.settled_at), h);
    h.push_str("</dl>");
    outcome_line(v, s.outcome, h);
    let _ = write!(h, "<h3>{}</h3>", v.t(T::terminal_side));
    totals_table(v, &s.terminal_totals, h);
    let _ = write!(h, "<h3>{}</h3>", v.t(T::host_side));
    totals_table(v, &s.host_totals, h);
    discrepancy_list(v, &s.discrepancies, h);
    acquirer_line(v, s, h);
    h.push_str("</article>");
}

/// A settlement slip from the host's record: the discrepancies by number only.
fn settled(v: &View, b: &SettledBatch, h: &mut String) {
    doc_head(v, T::slip, "settlement", true, v.operator.as_deref(), h);
    line(v, T::batch, &format!("{:06}", b.batch_no.get()), h);
    line(v, T::business_date, &b.business_date, h);
    if let Some(at) = &b.settled_at {
        line(v, T::date_time, &v.local_time(at), h);
    }
    line(v, T::discrepancy_count, &b.discrepancy_count.to_string(), h);
    h.push_str("</dl>");
    outcome_line(v, b.outcome, h);
    for (side, totals) in [
        (T::terminal_side, &b.terminal_totals),
        (T::host_side, &b.host_totals),
    ] {
        if let Some(t) = totals {
            let _ = write!(h, "<h3>{}</h3>", v.t(side));
            totals_table(v, t, h);
        }
    }
    h.push_str("</article>");
}

/// R21: reprint [重打印] the last slip, or one of the open batch's by its trace number.
pub(super) fn reprint_form(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<form class="sp-panel sp-inline" data-action="reprint"><label>{} <input name="trace" inputmode="numeric" maxlength="6" pattern="[0-9]{{1,6}}" autocomplete="off" data-testid="reprint-trace"></label><button data-testid="reprint">{}</button></form>"#,
        v.t(T::reprint_hint),
        v.t(T::reprint)
    );
}
