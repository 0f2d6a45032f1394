//! R21: the terminal's settled batches (Z reports) under the totals tab, each reprintable: the
//! ones this browser kept (whole, with every discrepancy) and, beside them, the ones only the
//! host still knows (`GET /v1/settlements`), read when the tab opens.

use super::paper::Paper;
use super::render::{esc, render, View};
use super::text::{error_text, T};
use super::Ui;
use crate::protocol::{Outcome, SettlementsResponse};
use crate::terminal::{SettlementResult, Terminal as Machine};
use crate::wasm::client;
use crate::wasm::codec::FromJs;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

/// The totals tab: the X report [交易汇总] and its Print, then the settled batches (`settled`,
/// drawn while the terminal was borrowed).
pub(super) fn totals_tab(v: &View, settled: Option<String>, h: &mut String) {
    let _ = write!(
        h,
        r#"<section class="sp-panel" data-testid="totals"><h2>{}</h2>"#,
        v.t(T::x_report)
    );
    super::records::totals_table(v, &v.totals, h);
    let _ = write!(
        h,
        r#"<button type="button" data-action="print" data-arg="x" data-testid="print-x">{}</button></section>"#,
        v.t(T::print)
    );
    h.push_str(&settled.unwrap_or_default());
}

/// Reads the host's list into the widget, then renders again.
pub(super) fn fetch(ui: &Rc<RefCell<Ui>>) {
    let read = {
        let mut u = ui.borrow_mut();
        u.history = None;
        let term = u.term.try_borrow().ok();
        term.map(|t| {
            (
                t.machine.history_lookup(None),
                t.host_url.clone(),
                t.timeout_ms,
            )
        })
    };
    let Some((Ok(lookup), url, timeout)) = read else {
        // Nothing to ask the host (no session): the list is only the browser's, and done.
        ui.borrow_mut().history = Some(Ok(Vec::new()));
        return;
    };
    let ui = ui.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let answer = client::get(&url, &lookup.path, &lookup.auth, timeout).await;
        {
            let mut u = ui.borrow_mut();
            let locale = u.locale;
            u.history = Some(
                answer
                    .and_then(|json| {
                        SettlementsResponse::from_js(&json)
                            .map_err(|_| crate::error::ErrorCode::HostUnreachable.into())
                    })
                    .map(|r| r.settlements)
                    .map_err(|e| error_text(locale, &e)),
            );
        }
        render(&ui);
    });
}

/// The paper of the `i`th line of the list as last drawn: `l3` is the browser's fourth kept
/// settlement, `h1` the host's second.
pub(super) fn reprint(u: &Ui, machine: &Machine, arg: &str) -> Option<Paper> {
    let (side, i) = arg.split_at_checked(1)?;
    let i: usize = i.parse().ok()?;
    match side {
        "l" => machine
            .settled_history()
            .nth(i)
            .map(|s| Paper::Settlement(Box::new(s.clone()), true)),
        "h" => match &u.history {
            Some(Ok(list)) => list.get(i).map(|b| Paper::Settled(Box::new(b.clone()))),
            _ => None,
        },
        _ => None,
    }
}

/// The list, newest first: the browser's records, then the host's others.
pub(super) fn history_html(v: &View, machine: &Machine, h: &mut String) {
    let _ = write!(
        h,
        r#"<section class="sp-panel" data-testid="history" aria-busy="{}"><h2>{}</h2><ul class="sp-found">"#,
        // Busy while the host's list is on its way: the list is drawn again when it comes.
        v.ui.history.is_none(),
        v.t(T::z_history)
    );
    let kept: Vec<&SettlementResult> = machine.settled_history().collect();
    let mut any = false;
    for (i, s) in kept.iter().enumerate().rev() {
        any = true;
        let at = v.local_time(&s.settled_at);
        row(
            v,
            &format!("l{i}"),
            s.batch_no,
            &at,
            s.outcome,
            s.host_totals.net_amount,
            h,
        );
    }
    match &v.ui.history {
        Some(Ok(list)) => {
            for (i, b) in list.iter().enumerate().rev() {
                let batch_no = b.batch_no.get();
                // The browser's own record says more (every discrepancy).
                if kept.iter().any(|s| s.batch_no == batch_no) {
                    continue;
                }
                any = true;
                let net = b.host_totals.as_ref().map_or(0, |t| t.net_amount);
                row(
                    v,
                    &format!("h{i}"),
                    batch_no,
                    &b.business_date,
                    b.outcome,
                    net,
                    h,
                );
            }
        }
        Some(Err(e)) => {
            let _ = write!(
                h,
                r#"<li class="sp-hint" data-testid="history-error">{} ({})</li>"#,
                v.t(T::history_unreachable),
                esc(e)
            );
        }
        None => {}
    }
    if !any {
        let _ = write!(h, "<li>{}</li>", v.t(T::no_history));
    }
    h.push_str("</ul></section>");
}

fn row(v: &View, arg: &str, batch_no: u32, when: &str, outcome: Outcome, net: i64, h: &mut String) {
    let outcome = match outcome {
        Outcome::Balanced => v.t(T::balanced),
        Outcome::Unbalanced => v.t(T::unbalanced),
    };
    let _ = write!(
        h,
        r#"<li class="sp-sold"><span>{} {batch_no:06}</span><span>{}</span><span>{outcome}</span><strong>{}</strong><button type="button" data-action="print" data-arg="{arg}" data-testid="reprint-z-{batch_no}">{}</button></li>"#,
        v.t(T::batch),
        esc(when),
        v.money(net),
        v.t(T::reprint)
    );
}
