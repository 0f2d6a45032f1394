//! A refund names its sale by picking it, not by typing a 12-digit RRN: the refund tab searches
//! the open batch's journal (at once) and the merchant's earlier sales on the host (R7) by trace
//! number, RRN or the card's last four digits; the amount is then keyed on the same keypad as
//! a sale, in minor units. The query tab (src/wasm/widget/query.rs) shares the search.

use super::render::{esc, keypad_amount, render, View};
use super::text::{error_text, T};
use super::{Found, Sold, Ui};
use crate::error::{Error, ErrorCode};
use crate::protocol::{EntryKind, EntryStatus};
use crate::terminal::journal::Journal;
use crate::terminal::money::Currency;
use crate::terminal::Command;
use crate::terminal::TxQuery as Query;
use crate::wasm::client;
use crate::wasm::js::{field, string_field};
use js_sys::Array;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The open batch's approved sales that match (src/wasm/widget/query.rs reads the query),
/// newest first, with what is left to refund.
pub(super) fn local_sales(journal: &Journal, currency: Currency, query: &str) -> Vec<Sold> {
    let query = Query::parse(query, currency);
    journal
        .entries()
        .iter()
        .rev()
        .filter(|e| e.kind == EntryKind::Sale && journal.current_status(e) == EntryStatus::Approved)
        .filter_map(|e| {
            let rrn = e.rrn.clone()?;
            let left = e.amount - journal.refunded(&rrn);
            Some(Sold {
                trace_no: e.trace_no.get(),
                batch_no: journal.batch_no(),
                amount: e.amount,
                refundable: Some(left),
                masked_pan: e.masked_pan.clone().unwrap_or_default(),
                at: e.at.clone(),
                voided: false,
                rrn,
            })
        })
        .filter(|s| query.hits(&s.rrn, s.trace_no, &s.masked_pan, s.amount))
        .collect()
}

/// A search of the refund tab or the query tab: the journal's matches show at once, the host's
/// history (the merchant's earlier sales, R7) when it answers; then the focus goes to the first
/// of `focus` on screen.
pub(super) fn find(ui: &Rc<RefCell<Ui>>, query: &str, focus: &[&str]) {
    let query = query.trim().to_owned();
    let lookup = {
        let mut u = ui.borrow_mut();
        u.found = Some(Found {
            query: query.clone(),
            history: None,
        });
        u.notice = None;
        let term = u.term.try_borrow().ok();
        term.map(|t| {
            let currency = t.machine.currency().unwrap_or(Currency::Cny);
            (
                t.machine.tx_lookup(&Query::parse(&query, currency), &query),
                t.host_url.clone(),
                t.timeout_ms,
                t.machine.config().terminal_id.clone(),
                t.machine.journal().batch_no(),
            )
        })
    };
    render(ui);
    super::keys::focus_first(ui, focus);
    let Some((lookup, url, timeout, terminal, batch)) = lookup else {
        return;
    };
    let ui = ui.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let history = match lookup {
            Ok(l) => client::get(&url, &l.path, &l.auth, timeout).await,
            Err(e) => Err(e),
        };
        {
            let mut u = ui.borrow_mut();
            let locale = u.locale;
            let Some(found) = u.found.as_mut().filter(|f| f.query == query) else {
                // Another search (or none) since: this answer is stale.
                return;
            };
            found.history = Some(
                history
                    .map(|json| earlier_sales(&json, &terminal, batch))
                    .map_err(|e| error_text(locale, &e)),
            );
        }
        // The list is drawn again: the focus stays where the cashier has it.
        let focused = focused_id(&ui);
        render(&ui);
        if let Some(id) = focused {
            super::keys::focus_first(&ui, &[&format!("[data-testid=\"{id}\"]")]);
        }
    });
}

/// The `data-testid` of the widget's element that has the focus.
fn focused_id(ui: &Rc<RefCell<Ui>>) -> Option<String> {
    let root = ui.borrow().root.clone();
    let active = root.owner_document()?.active_element()?;
    if !root.contains(Some(&active)) {
        return None;
    }
    active.get_attribute("data-testid")
}

/// The host's answer as the merchant's earlier sales, without the open batch's own (listed
/// from the journal above them); the refund tab lists those a refund may still name.
fn earlier_sales(answer: &JsValue, terminal: &str, open_batch: u32) -> Vec<Sold> {
    let sales = field(answer, "sales");
    let number = |v: &JsValue, k: &str| field(v, k).as_f64().unwrap_or(0.0) as i64;
    Array::from(&sales)
        .iter()
        .filter(|s| {
            let ours = string_field(s, "terminal_id").as_deref() == Some(terminal)
                && number(s, "batch_no") == i64::from(open_batch);
            !ours
        })
        .map(|s| Sold {
            rrn: string_field(&s, "rrn").unwrap_or_default(),
            trace_no: u32::try_from(number(&s, "trace_no")).unwrap_or(0),
            batch_no: u32::try_from(number(&s, "batch_no")).unwrap_or(0),
            amount: number(&s, "amount"),
            refundable: Some(number(&s, "refundable")),
            masked_pan: string_field(&s, "masked_pan").unwrap_or_default(),
            at: string_field(&s, "at").unwrap_or_default(),
            voided: field(&s, "voided").as_bool() == Some(true),
        })
        .collect()
}

/// Picking a sale (`l<trace>` from the journal, `h<index>` from the host's history), or
/// choosing another.
pub(super) fn click(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    {
        let mut u = ui.borrow_mut();
        u.digits.clear();
        u.picked = match action {
            "pick" => picked(&u, arg),
            _ => None,
        };
        u.notice = None;
    }
    render(ui);
    super::keys::focus_first(ui, &[".sp-amount", "[data-testid=\"find-query\"]"]);
}

fn picked(u: &Ui, arg: &str) -> Option<Sold> {
    let query = u.found.as_ref().map_or("", |f| f.query.as_str());
    if let Some(trace) = arg.strip_prefix('l') {
        let trace: u32 = trace.parse().ok()?;
        let term = u.term.try_borrow().ok()?;
        let currency = term.machine.currency().unwrap_or(Currency::Cny);
        return local_sales(term.machine.journal(), currency, query)
            .into_iter()
            .find(|s| s.trace_no == trace);
    }
    let i: usize = arg.strip_prefix('h')?.parse().ok()?;
    match u.found.as_ref()?.history.as_ref()? {
        Ok(list) => list.get(i).cloned(),
        Err(_) => None,
    }
}

/// The refund the form asks for: the picked sale, the keypad's amount.
pub(super) fn command(u: &Ui, supervisor: &str) -> Result<Command, Error> {
    let Some(sale) = &u.picked else {
        return Err(ErrorCode::UnknownTransaction.into());
    };
    Ok(Command::Refund {
        rrn: sale.rrn.clone(),
        amount: keypad_amount(u),
        supervisor_password: supervisor.to_owned().into(),
    })
}

/// The refund tab: the search and its matches, or the picked sale and the refund's form.
pub(super) fn refund_tab(v: &View, journal: &Journal, h: &mut String) {
    let Some(sale) = &v.ui.picked else {
        return search(v, journal, h);
    };
    let _ = write!(
        h,
        r#"<section class="sp-panel" data-testid="picked"><h2>{}</h2>"#,
        v.t(T::refund)
    );
    sale_line(v, sale, h);
    let _ = write!(
        h,
        r#"<button type="button" data-action="unpick" data-testid="unpick">{}</button></section><form class="sp-panel sp-sale" data-action="refund">"#,
        v.t(T::change_sale)
    );
    super::render::keypad_html(v, T::refund_amount, h);
    let _ = write!(
        h,
        r#"<label>{} <input name="supervisor" type="password" autocomplete="off" data-testid="refund-supervisor"></label><button class="sp-primary sp-charge" data-testid="refund-submit">{} <span data-charge>{}</span></button></form>"#,
        v.t(T::supervisor_password),
        v.t(T::refund),
        v.money(keypad_amount(v.ui))
    );
}

fn search(v: &View, journal: &Journal, h: &mut String) {
    let query = v.ui.found.as_ref().map_or("", |f| f.query.as_str());
    let _ = write!(
        h,
        r#"<form class="sp-panel sp-find" data-action="find" role="search"><label>{} <input name="q" value="{}" inputmode="numeric" autocomplete="off" aria-describedby="sp-find-hint" data-testid="find-query"></label><span class="sp-hint" id="sp-find-hint">{}</span><button data-testid="find">{}</button></form>"#,
        v.t(T::find_sale),
        esc(query),
        v.t(T::find_hint),
        v.t(T::find)
    );
    let local = local_sales(journal, v.currency, query);
    let _ = write!(
        h,
        r#"<section class="sp-panel" data-testid="found-local"><h2>{}</h2>"#,
        v.t(T::this_batch)
    );
    sale_list(v, local.iter().map(|s| (format!("l{}", s.trace_no), s)), h);
    h.push_str("</section>");
    if let Some(history) = v.ui.found.as_ref().and_then(|f| f.history.as_ref()) {
        let _ = write!(
            h,
            r#"<section class="sp-panel" data-testid="found-history"><h2>{}</h2>"#,
            v.t(T::history)
        );
        match history {
            Ok(list) => sale_list(
                v,
                list.iter()
                    .enumerate()
                    .filter(|(_, s)| s.refundable.unwrap_or(0) > 0 && !s.voided)
                    .map(|(i, s)| (format!("h{i}"), s)),
                h,
            ),
            Err(text) => {
                let _ = write!(h, r#"<p class="sp-error">{}</p>"#, esc(text));
            }
        }
        h.push_str("</section>");
    }
}

fn sale_list<'a>(v: &View, sales: impl Iterator<Item = (String, &'a Sold)>, h: &mut String) {
    let mut any = false;
    h.push_str(r#"<ul class="sp-found">"#);
    for (arg, s) in sales {
        any = true;
        let _ = write!(
            h,
            r#"<li><button type="button" data-action="pick" data-arg="{arg}" data-testid="pick-{}">"#,
            esc(&s.rrn)
        );
        sale_line(v, s, h);
        h.push_str("</button></li>");
    }
    h.push_str("</ul>");
    if !any {
        let _ = write!(h, "<p>{}</p>", v.t(T::no_match));
    }
}

/// One sale as the cashier recognises it: amount, card, when, trace and RRN.
fn sale_line(v: &View, s: &Sold, h: &mut String) {
    let last4 = s.masked_pan.get(s.masked_pan.len().saturating_sub(4)..);
    let _ = write!(
        h,
        r#"<span class="sp-sold"><strong>{}</strong> <span>**** {}</span> <span>{}</span> <span>{} {:06}/{:06}</span> <span>{} {}</span>"#,
        v.money(s.amount),
        esc(last4.unwrap_or("")),
        esc(&v.local_time(&s.at)),
        v.t(T::trace),
        s.batch_no,
        s.trace_no,
        v.t(T::rrn),
        esc(&s.rrn)
    );
    if let Some(left) = s.refundable {
        let _ = write!(
            h,
            r#" <span>{} {}</span>"#,
            v.t(T::refundable),
            v.money(left)
        );
    }
    h.push_str("</span>");
}
