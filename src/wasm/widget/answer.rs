//! What an operation's answer puts on the screen: the notice in the operator's language, the
//! receipt or slip, and a clean slate for the next customer. A refusal is worded for what the
//! operator did (a used activation code, a wrong supervisor password, a sale lost on the way),
//! never only for its code.

use super::keys::focus_amount;
use super::render::render;
use super::text::{error_text, response_text, tr, Locale, T};
use super::{Mode, Notice, Running, Tab, Ui};
use crate::error::{Error, ErrorCode};
use crate::protocol::{Outcome, TxStatus};
use crate::terminal::{Completion, SignInResult, TxResult};
use crate::wasm::js::to_js;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Shows an operation's answer; a checkout's payment also goes to the page as a
/// `softpos-result` event.
pub(super) fn show(ui: &Rc<RefCell<Ui>>, result: Result<Completion, Error>) {
    let dispatch = {
        let mut u = ui.borrow_mut();
        let running = u.running.take();
        // Whatever the outcome, the next sale starts from an empty amount: one typed for this
        // customer must never be charged to the next (the card fields go with the re-render).
        u.digits.clear();
        if result.is_ok() {
            // A refused refund keeps its sale, so the cashier only keys the amount again.
            u.picked = None;
            u.found = None;
        }
        let dispatch = match result {
            Err(e) => {
                let reversals_now = u
                    .term
                    .try_borrow()
                    .map_or(0, |t| t.machine.pending_reversals());
                let settling = u
                    .term
                    .try_borrow()
                    .is_ok_and(|t| t.machine.meta().settlement.is_some());
                let text = refusal(u.locale, running.as_ref(), &e, reversals_now, settling);
                u.notice = Notice::refusal(text);
                None
            }
            Ok(done) => took(&mut u, done),
        };
        dispatch.map(|detail| (u.root.clone(), detail))
    };
    render(ui);
    focus_amount(ui);
    if let Some((root, detail)) = dispatch {
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&detail);
        init.set_bubbles(true);
        if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("softpos-result", &init) {
            let _ = root.dispatch_event(&event);
        }
    }
}

/// The words of a refusal: what happened to this operation, in the operator's language.
fn refusal(
    locale: Locale,
    running: Option<&Running>,
    e: &Error,
    reversals_now: usize,
    settling: bool,
) -> String {
    let doing = running.map(|r| r.doing);
    let is = |t: T| doing == Some(t);
    let preauth = doing.is_some_and(super::preauth::is_preauth);
    let transaction = is(T::sale) || is(T::pay) || is(T::void) || is(T::refund) || preauth;
    match e.code {
        ErrorCode::HostUnreachable => {
            let before = running.map_or(0, |r| r.reversals_before);
            if transaction && reversals_now > before {
                // R8: this one was sent and not answered; the terminal queued its reversal.
                let lost = if is(T::sale) || is(T::pay) || is(T::completion) {
                    T::lost_sale
                } else if is(T::preauth) {
                    T::lost_preauth
                } else {
                    T::lost_other
                };
                tr(locale, lost).to_owned()
            } else if is(T::sign_in) || is(T::activate) {
                // Sent before any housekeeping: nothing reached the host.
                tr(locale, T::unreachable).to_owned()
            } else if reversals_now > 0 {
                // Housekeeping could not reverse what is queued, so this one never left.
                format!(
                    "{} ({} {reversals_now})",
                    tr(locale, T::reversal_still_pending),
                    tr(locale, T::pending_reversals)
                )
            } else if settling {
                tr(locale, T::settlement_unanswered).to_owned()
            } else {
                tr(locale, T::unreachable).to_owned()
            }
        }
        // An activation code is the only credential of an activation.
        ErrorCode::BadCredentials if is(T::activate) => tr(locale, T::bad_activation_code).into(),
        ErrorCode::SupervisorRequired if running.is_some_and(|r| r.supervisor_typed) => {
            tr(locale, T::wrong_supervisor).to_owned()
        }
        ErrorCode::SupervisorRequired => tr(locale, T::enter_supervisor).to_owned(),
        _ => error_text(locale, e),
    }
}

/// What a completed operation changes on the screen; the `softpos-result` detail, if any.
fn took(u: &mut Ui, done: Completion) -> Option<JsValue> {
    let locale = u.locale;
    match done {
        Completion::Activated => u.notice = Notice::news(tr(locale, T::activated_done)),
        Completion::SignedIn(r) => signed_in(u, &r),
        Completion::Transaction(r) => return transaction(u, r),
        Completion::Settled(s) => {
            let outcome = if s.outcome == Outcome::Balanced {
                T::balanced
            } else {
                T::unbalanced
            };
            u.notice = Notice::news(tr(locale, outcome));
            u.slip = Some(s);
        }
        Completion::SignedOff(r) => {
            u.notice = Notice::news(tr(locale, T::signed_off_done));
            u.slip = r.settlement;
            u.tab = Tab::Sale;
        }
    }
    None
}

fn signed_in(u: &mut Ui, r: &SignInResult) {
    let locale = u.locale;
    u.tab = Tab::Sale;
    // Batches reconciled at sign-in (R14) show their slip at once.
    u.slip = r.reconciled.last().cloned();
    u.notice = Notice::news(format!(
        "{} · {} {}",
        tr(locale, T::signed_in),
        tr(locale, T::operator),
        r.operator
    ));
}

fn transaction(u: &mut Ui, r: TxResult) -> Option<JsValue> {
    let approved = r.status == TxStatus::Approved;
    // Approved needs no reason; a decline says why, from the terminal's own table.
    u.notice = Notice::news(if approved {
        format!("{} {}", tr(u.locale, T::approved), r.response_code)
    } else {
        format!(
            "{} {} {}",
            tr(u.locale, T::declined),
            r.response_code,
            response_text(u.locale, &r.response_code)
        )
    });
    u.void_trace = None;
    let dispatch = matches!(u.mode, Mode::Checkout { .. }).then(|| to_js(&r));
    u.result = Some(r);
    dispatch
}
