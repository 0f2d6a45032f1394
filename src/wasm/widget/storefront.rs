//! The storefront's checkout (R23): the amount due, the card form, and the shopper's answer —
//! the widget's other mode beside the counter (src/wasm/widget/render.rs).

use super::render::{card_fields, esc, View};
use super::text::{response_text, T};
use crate::protocol::TxStatus;
use crate::terminal::{State, TxResult};
use std::fmt::Write as _;

pub(super) fn checkout(v: &View, amount: i64, reference: &str, h: &mut String) {
    let _ = write!(
        h,
        r#"<div class="sp-panel"><p class="sp-due">{} <strong class="sp-big" data-testid="due">{}</strong></p>"#,
        v.t(T::checkout_total),
        v.money(amount)
    );
    if !reference.is_empty() {
        let _ = write!(h, "<p>{} {}</p>", v.t(T::order), esc(reference));
    }
    h.push_str("</div>");
    match (v.state, &v.ui.result) {
        (_, Some(r)) => checkout_receipt(v, r, h),
        (State::SignedIn, None) => {
            h.push_str(r#"<form class="sp-panel" data-action="pay">"#);
            card_fields(v, h);
            let _ = write!(
                h,
                r#"<button class="sp-primary" data-testid="pay">{} {}</button></form>"#,
                v.t(T::pay),
                v.money(amount)
            );
        }
        (State::Busy, None) => {
            let _ = write!(
                h,
                r#"<div class="sp-panel sp-busy" aria-busy="true" data-testid="busy"><span class="sp-spinner" aria-hidden="true"></span> {}</div>"#,
                v.t(T::processing)
            );
        }
        _ => {
            let _ = write!(
                h,
                r#"<p class="sp-panel" data-testid="not-ready">{}</p>"#,
                v.t(T::checkout_not_ready)
            );
        }
    }
}

/// The shopper's answer: paid, or not and a way to try another card.
fn checkout_receipt(v: &View, r: &TxResult, h: &mut String) {
    let approved = r.status == TxStatus::Approved;
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-receipt sp-print {}" data-testid="result" data-status="{}"><h2>{}</h2><p>{} · {} {}</p><p>{} {}</p>{}</section>"#,
        if approved { "sp-ok" } else { "sp-bad" },
        if approved { "approved" } else { "declined" },
        if approved {
            v.t(T::paid)
        } else {
            v.t(T::not_paid)
        },
        v.money(r.amount),
        esc(&r.response_code),
        response_text(v.ui.locale, &r.response_code),
        v.t(T::rrn),
        esc(r.rrn.as_deref().unwrap_or("")),
        if approved {
            String::new()
        } else {
            format!(
                r#"<button type="button" data-action="retry" data-testid="retry">{}</button>"#,
                v.t(T::try_again)
            )
        }
    );
}
