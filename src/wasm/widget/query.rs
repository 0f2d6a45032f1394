//! R21 at the counter, the transaction query [查询]: one box takes a trace number, a 12-digit
//! RRN, an amount (`12.50`) or the card's last four digits; the open batch's transactions that
//! match are read from the journal, the merchant's earlier sales from the host's sales lookup
//! (R7, `GET /v1/sales`, shared with the refund tab's search). Each row offers what applies to
//! it, and each action opens the form that already does it, filled in: void (journal tab),
//! completion void and completion (pre-authorisation tab), refund (refund tab), reprint.

use super::records::status_label;
use super::render::{esc, render, View};
use super::text::{kind_name, T};
use super::{Sold, Tab, Ui};
use crate::protocol::{EntryKind, EntryStatus, JournalEntry};
use crate::terminal::Terminal as Machine;
use crate::terminal::TxQuery as Query;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

/// A search: the journal's matches at once, the host's when it answers; the first row's first
/// action (or the box) has the focus.
pub(super) fn find(ui: &Rc<RefCell<Ui>>, text: &str) {
    super::refund::find(
        ui,
        text,
        &[
            ".sp-query [data-action^=\"q-\"]",
            "[data-testid=\"query-text\"]",
        ],
    );
}

/// The tab: the box, the open batch's matches, then the earlier batches'.
pub(super) fn tab(v: &View, machine: &Machine, h: &mut String) {
    let text = v.ui.found.as_ref().map_or("", |f| f.query.as_str());
    let query = Query::parse(text, v.currency);
    let _ = write!(
        h,
        r#"<form class="sp-panel sp-find" data-action="query" role="search"><label>{} <input name="q" value="{}" inputmode="decimal" autocomplete="off" aria-describedby="sp-query-hint" data-testid="query-text"></label><span class="sp-hint" id="sp-query-hint">{}</span><button data-testid="query-find">{}</button></form>"#,
        v.t(T::query_label),
        esc(text),
        v.t(T::query_hint),
        v.t(T::query_tab)
    );
    if query == Query::Bad {
        let _ = write!(
            h,
            r#"<p class="sp-error" role="alert" data-testid="query-bad">{}</p>"#,
            v.t(T::query_bad)
        );
        return;
    }
    local_section(v, machine, &query, h);
    let Some(history) = v.ui.found.as_ref().and_then(|f| f.history.as_ref()) else {
        return;
    };
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-journal sp-query" data-testid="query-history"><h2>{}</h2>"#,
        v.t(T::history)
    );
    match history {
        Ok(list) => {
            let mut rows = String::new();
            for (i, s) in list.iter().enumerate() {
                if !query.hits(&s.rrn, s.trace_no, &s.masked_pan, s.amount) {
                    continue;
                }
                history_row(v, i, s, &mut rows);
            }
            table(v, &rows, h);
        }
        Err(text) => {
            let _ = write!(h, r#"<p class="sp-error">{}</p>"#, esc(text));
        }
    }
    h.push_str("</section>");
}

/// The open batch's transactions that match, newest first, from the journal.
fn local_section(v: &View, machine: &Machine, query: &Query, h: &mut String) {
    let journal = machine.journal();
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-journal sp-query" data-testid="query-local"><h2>{}</h2>"#,
        v.t(T::this_batch)
    );
    let mut rows = String::new();
    for e in journal.entries().iter().rev() {
        let rrn = e.rrn.as_deref().unwrap_or("");
        let pan = e.masked_pan.as_deref().unwrap_or("");
        if e.kind == EntryKind::Reversal || !query.hits(rrn, e.trace_no.get(), pan, e.amount) {
            continue;
        }
        let status = journal.current_status(e);
        let row = Row {
            id: format!("l{}", e.trace_no.get()),
            kind: e.kind,
            status,
            batch_no: journal.batch_no(),
            trace_no: e.trace_no.get(),
            rrn,
            amount: e.amount,
            masked_pan: pan,
            at: &e.at,
        };
        row.html(v, &local_actions(machine, e, status), &mut rows);
    }
    table(v, &rows, h);
    h.push_str("</section>");
}

/// What a row of the open batch offers.
fn local_actions(m: &Machine, e: &JournalEntry, status: EntryStatus) -> Vec<(&'static str, T)> {
    let journal = m.journal();
    let trace = e.trace_no.get();
    let mut actions = Vec::new();
    if status == EntryStatus::Approved {
        match e.kind {
            EntryKind::Sale => {
                actions.push(("q-void", T::void));
                let left = e
                    .rrn
                    .as_deref()
                    .map_or(0, |rrn| e.amount - journal.refunded(rrn));
                if left > 0 {
                    actions.push(("q-refund", T::refund));
                }
            }
            EntryKind::Completion => actions.push(("q-cvoid", T::completion_void)),
            EntryKind::Preauth
                if e.auth_code.is_some()
                    && e.rrn
                        .as_deref()
                        .is_some_and(|r| journal.completion_of(r).is_none()) =>
            {
                actions.push(("q-complete", T::complete));
            }
            _ => {}
        }
    }
    if m.slip(Some(trace)).is_some() {
        actions.push(("q-reprint", T::reprint));
    }
    actions
}

/// A sale of an earlier batch, as the host lists it: refund while something is left of it.
fn history_row(v: &View, i: usize, s: &Sold, h: &mut String) {
    let left = s.refundable.unwrap_or(0);
    let actions: &[(&str, T)] = if !s.voided && left > 0 {
        &[("q-refund", T::refund)]
    } else {
        &[]
    };
    let row = Row {
        id: format!("h{i}"),
        kind: EntryKind::Sale,
        status: if s.voided {
            EntryStatus::Voided
        } else {
            EntryStatus::Approved
        },
        batch_no: s.batch_no,
        trace_no: s.trace_no,
        rrn: &s.rrn,
        amount: s.amount,
        masked_pan: &s.masked_pan,
        at: &s.at,
    };
    row.html(v, actions, h);
}

fn table(v: &View, rows: &str, h: &mut String) {
    if rows.is_empty() {
        let _ = write!(h, "<p>{}</p>", v.t(T::no_match));
        return;
    }
    h.push_str(r#"<table class="sp-table"><thead><tr>"#);
    for head in [
        T::kind,
        T::status,
        T::trace,
        T::rrn,
        T::amount,
        T::card,
        T::time,
    ] {
        let _ = write!(h, "<th>{}</th>", v.t(head));
    }
    let _ = write!(h, "<td></td></tr></thead><tbody>{rows}</tbody></table>");
}

/// One transaction found.
struct Row<'a> {
    /// `l<trace>` for the open batch, `h<index>` for the host's list.
    id: String,
    kind: EntryKind,
    status: EntryStatus,
    batch_no: u32,
    trace_no: u32,
    rrn: &'a str,
    amount: i64,
    masked_pan: &'a str,
    at: &'a str,
}

impl Row<'_> {
    fn html(&self, v: &View, actions: &[(&str, T)], h: &mut String) {
        let (trace, rrn, card, time) = (v.t(T::trace), v.t(T::rrn), v.t(T::card), v.t(T::time));
        let _ = write!(
            h,
            r#"<tr data-testid="q-{id}"><td>{}</td><td>{}</td><td data-l="{trace}">{:06}/{:06}</td><td data-l="{rrn}">{}</td><td>{}</td><td data-l="{card}">{}</td><td data-l="{time}">{}</td><td>"#,
            kind_name(v.ui.locale, self.kind.as_str()),
            status_label(v, self.status),
            self.batch_no,
            self.trace_no,
            esc(self.rrn),
            v.money(self.amount),
            esc(self.masked_pan),
            esc(&v.local_time(self.at)),
            id = self.id,
        );
        for (action, label) in actions {
            let _ = write!(
                h,
                r#"<button type="button" data-action="{action}" data-arg="{id}" data-testid="{action}-{id}">{}</button>"#,
                v.t(*label),
                id = self.id
            );
        }
        h.push_str("</td></tr>");
    }
}

/// A row's action: the tab that does it, filled in from the row.
pub(super) fn click(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    let trace: Option<u32> = arg.strip_prefix('l').and_then(|t| t.parse().ok());
    if action == "q-reprint" {
        if let Some(trace) = trace {
            super::events::reprint(ui, &trace.to_string());
        }
        return;
    }
    {
        let mut u = ui.borrow_mut();
        // As a tab's button does: nothing typed for one purpose carries over.
        super::events::open_tab(
            &mut u,
            match action {
                "q-void" => Tab::Journal,
                "q-refund" => Tab::Refund,
                _ => Tab::PreAuth,
            },
        );
        u.void_trace = None;
    }
    match action {
        // The journal's own void, its supervisor password asked.
        "q-void" => {
            ui.borrow_mut().void_trace = trace;
            render(ui);
            super::keys::focus_first(ui, &["[data-testid=\"void-supervisor\"]"]);
        }
        // The refund tab with this sale picked (it reads the same search).
        "q-refund" => super::refund::click(ui, "pick", arg),
        "q-cvoid" => {
            super::preauth::click(ui, "completion-void");
            if let Some(trace) = trace {
                fill(ui, "trace", &trace.to_string());
            }
            super::keys::focus_first(ui, &[".sp-preauth [name=\"supervisor\"]"]);
        }
        "q-complete" => {
            let hold = {
                let u = ui.borrow();
                let term = u.term.try_borrow().ok();
                term.and_then(|t| {
                    let e = t.machine.journal().by_trace(trace?)?;
                    Some((e.rrn.clone()?, e.auth_code.clone()?))
                })
            };
            super::preauth::click(ui, "complete");
            if let Some((rrn, auth)) = hold {
                fill(ui, "rrn", &rrn);
                fill(ui, "auth", &auth);
            }
            super::keys::focus_first(ui, &[".sp-preauth .sp-amount"]);
        }
        _ => render(ui),
    }
}

/// Puts a value in a field of the pre-authorisation form just rendered.
fn fill(ui: &Rc<RefCell<Ui>>, name: &str, value: &str) {
    let root = ui.borrow().root.clone();
    let field = root
        .query_selector(&format!(".sp-preauth [name=\"{name}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok());
    if let Some(field) = field {
        field.set_value(value);
    }
}
