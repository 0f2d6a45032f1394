//! What the operator's clicks, keys and forms do: one listener per kind of event on the
//! widget's root, dispatched by the `data-action` of the element (event delegation). A form
//! becomes a command for the terminal; its answer becomes a notice and the next screen.

use super::render::{keypad_amount, render};
use super::text::{error_text, tr, T};
use super::{Mode, Notice, Tab, Ui};
use crate::error::{Error, ErrorCode};
use crate::protocol::{Outcome, TxStatus};
use crate::terminal::card::{Expiry, Pan, Scheme};
use crate::terminal::money::Currency;
use crate::terminal::time::UtcOffset;
use crate::terminal::{Command, Completion, SignInResult, TxResult};
use crate::wasm::driver::start;
use crate::wasm::js::to_js;
use crate::wasm::scope::now;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement, KeyboardEvent};

fn input_value(form: &Element, name: &str) -> String {
    form.query_selector(&format!("[name=\"{name}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The one handler of every event the widget listens to.
pub(super) fn on_event(weak: &Weak<RefCell<Ui>>, e: Event) {
    let Some(ui) = weak.upgrade() else {
        return;
    };
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    match e.type_().as_str() {
        "input" => live_check(&ui, &target),
        "keydown" => {
            let Some(key) = e.dyn_ref::<KeyboardEvent>().map(|k| k.key()) else {
                return;
            };
            if target.class_list().contains("sp-amount") {
                let key = match key.as_str() {
                    "Backspace" | "Delete" => "⌫",
                    k if k.len() == 1 && k.as_bytes()[0].is_ascii_digit() => k,
                    _ => return,
                };
                e.prevent_default();
                keypad(&ui, key);
            }
        }
        "submit" => {
            e.prevent_default();
            let action = target.get_attribute("data-action").unwrap_or_default();
            let arg = target.get_attribute("data-arg").unwrap_or_default();
            submit(&ui, &action, &arg, &target);
        }
        "click" => {
            let Some(button) = target.closest("[data-action]").ok().flatten() else {
                return;
            };
            if button.tag_name() == "FORM" {
                return;
            }
            let action = button.get_attribute("data-action").unwrap_or_default();
            let arg = button.get_attribute("data-arg").unwrap_or_default();
            click(&ui, &action, &arg);
        }
        _ => {}
    }
}

/// The host's clock as the terminal last heard it (UTC while the terminal is mid-update).
fn utc_offset(ui: &Rc<RefCell<Ui>>) -> UtcOffset {
    ui.borrow()
        .term
        .try_borrow()
        .map_or(UtcOffset::UTC, |t| t.machine.utc_offset())
}

/// Live validity of the card fields as they are typed (R4, the core's own checks).
fn live_check(ui: &Rc<RefCell<Ui>>, target: &Element) {
    let Some(input) = target.dyn_ref::<HtmlInputElement>() else {
        return;
    };
    let name = input.name();
    let value = input.value();
    let locale = ui.borrow().locale;
    let (valid, text) = match name.as_str() {
        "pan" => match Pan::parse(&value) {
            Ok(pan) => {
                let scheme = match pan.scheme() {
                    Scheme::UnionPay => " · UnionPay",
                    Scheme::Visa => " · Visa",
                    Scheme::Mastercard => " · Mastercard",
                    Scheme::Amex => " · Amex",
                    Scheme::Jcb => " · JCB",
                    Scheme::Other => "",
                };
                (true, format!("{}{scheme}", tr(locale, T::card_ok)))
            }
            Err(_) => (false, tr(locale, T::card_bad).to_owned()),
        },
        "expiry" => match Expiry::parse(&value, now().local(utc_offset(ui))) {
            Ok(_) => (true, tr(locale, T::expiry_ok).to_owned()),
            Err(_) => (false, tr(locale, T::expiry_bad).to_owned()),
        },
        _ => return,
    };
    let _ = input.set_attribute("aria-invalid", if valid { "false" } else { "true" });
    let root = ui.borrow().root.clone();
    if let Ok(Some(hint)) = root.query_selector(&format!("[data-hint=\"{name}\"]")) {
        hint.set_text_content(if value.is_empty() { None } else { Some(&text) });
        let _ = hint.set_attribute("data-valid", if valid { "true" } else { "false" });
    }
}

fn keypad(ui: &Rc<RefCell<Ui>>, key: &str) {
    let (text, root) = {
        let mut u = ui.borrow_mut();
        match key {
            "⌫" => {
                u.digits.pop();
            }
            // Eleven digits is the largest amount (99 999 999 999); the core checks it too.
            // Leading zeros add nothing.
            _ if u.digits.len() + key.len() <= 11
                && !(u.digits.is_empty() && key.starts_with('0')) =>
            {
                u.digits.push_str(key);
            }
            _ => {}
        }
        let currency = u.term.borrow().machine.currency().unwrap_or(Currency::Cny);
        (currency.format(keypad_amount(&u)), u.root.clone())
    };
    for selector in [".sp-amount", "[data-charge]"] {
        if let Ok(Some(el)) = root.query_selector(selector) {
            el.set_text_content(Some(&text));
        }
    }
}

fn click(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    match action {
        "key" => return keypad(ui, arg),
        "tab" => {
            let mut u = ui.borrow_mut();
            u.tab = match arg {
                "journal" => Tab::Journal,
                "refund" => Tab::Refund,
                "totals" => Tab::Totals,
                _ => Tab::Sale,
            };
            u.result = None;
            u.slip = None;
            u.notice = None;
        }
        "ask-void" => {
            let mut u = ui.borrow_mut();
            u.void_trace = arg.parse().ok();
            u.notice = None;
        }
        "cancel-void" => ui.borrow_mut().void_trace = None,
        "retry" => {
            let mut u = ui.borrow_mut();
            u.result = None;
            u.notice = None;
        }
        "dismiss" => {
            let mut u = ui.borrow_mut();
            u.result = None;
            u.slip = None;
        }
        "print" => {
            if let Some(w) = web_sys::window() {
                let _ = w.print();
            }
            return;
        }
        "settle" => return run(ui, Ok(Command::Settle), T::settle),
        "sign-off" => return run(ui, Ok(Command::SignOff { settle: true }), T::sign_off),
        _ => return,
    }
    render(ui);
    focus(ui, action, arg);
}

/// After a re-render, focus what the operator was working on.
fn focus(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    let root = ui.borrow().root.clone();
    let selector = match action {
        "ask-void" => "[data-testid=\"void-supervisor\"]".to_owned(),
        "tab" => format!("[data-arg=\"{arg}\"]"),
        _ => return,
    };
    if let Ok(Some(el)) = root.query_selector(&selector) {
        if let Ok(el) = el.dyn_into::<HtmlElement>() {
            let _ = el.focus();
        }
    }
}

fn submit(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str, form: &Element) {
    let command = command_of(&ui.borrow(), action, arg, form);
    if let Some((command, doing)) = command {
        run(ui, command, doing);
    }
}

/// The command a form asks for, and what the in-progress screen calls it.
fn command_of(
    u: &Ui,
    action: &str,
    arg: &str,
    form: &Element,
) -> Option<(Result<Command, Error>, T)> {
    let value = |name: &str| input_value(form, name);
    let currency = u.term.borrow().machine.currency().unwrap_or(Currency::Cny);
    Some(match action {
        "activate" => (
            Ok(Command::Activate {
                code: value("code"),
            }),
            T::activate,
        ),
        "sign-in" => (
            Ok(Command::SignIn {
                operator: value("operator").trim().to_owned(),
                password: value("password").into(),
            }),
            T::sign_in,
        ),
        "sale" => (
            Ok(Command::Sale {
                amount: keypad_amount(u),
                pan: value("pan"),
                expiry: value("expiry"),
            }),
            T::sale,
        ),
        "pay" => {
            let Mode::Checkout { amount, .. } = u.mode else {
                return None;
            };
            (
                Ok(Command::Sale {
                    amount,
                    pan: value("pan"),
                    expiry: value("expiry"),
                }),
                T::pay,
            )
        }
        "void" => (
            arg.parse::<u32>()
                .map_err(|_| Error::from(ErrorCode::UnknownTransaction))
                .map(|trace_no| Command::Void {
                    trace_no,
                    supervisor_password: value("supervisor").into(),
                }),
            T::void,
        ),
        "refund" => (
            currency
                .parse_amount(&value("amount"))
                .map(|amount| Command::Refund {
                    rrn: value("rrn"),
                    amount,
                    supervisor_password: value("supervisor").into(),
                }),
            T::refund,
        ),
        _ => return None,
    })
}

/// Runs an operation: refusals show at once; otherwise the in-progress screen, then the
/// answer. No borrow of the widget is held while the terminal runs (it calls back).
fn run(ui: &Rc<RefCell<Ui>>, command: Result<Command, Error>, doing: T) {
    let term = {
        let mut u = ui.borrow_mut();
        u.doing = Some(tr(u.locale, doing));
        u.notice = None;
        u.slip = None;
        if !matches!(u.mode, Mode::Checkout { .. }) {
            u.result = None;
        }
        u.term.clone()
    };
    let future = match start(&term, command) {
        Ok(f) => f,
        Err(e) => {
            show(ui, Err(e));
            return;
        }
    };
    render(ui);
    let ui = ui.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let result = future.await;
        show(&ui, result);
    });
}

/// Shows an operation's answer; a checkout's payment also goes to the page as a
/// `softpos-result` event.
fn show(ui: &Rc<RefCell<Ui>>, result: Result<Completion, Error>) {
    let dispatch = {
        let mut u = ui.borrow_mut();
        u.doing = None;
        let dispatch = match result {
            Err(e) => {
                u.notice = Notice::refusal(error_text(u.locale, &e));
                None
            }
            Ok(done) => took(&mut u, done),
        };
        dispatch.map(|detail| (u.root.clone(), detail))
    };
    render(ui);
    if let Some((root, detail)) = dispatch {
        let init = web_sys::CustomEventInit::new();
        init.set_detail(&detail);
        init.set_bubbles(true);
        if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("softpos-result", &init) {
            let _ = root.dispatch_event(&event);
        }
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
    u.notice = Notice::news(format!(
        "{} {} {}",
        tr(u.locale, if approved { T::approved } else { T::declined }),
        r.response_code,
        r.message
    ));
    u.digits.clear();
    u.void_trace = None;
    let dispatch = matches!(u.mode, Mode::Checkout { .. }).then(|| to_js(&r));
    u.result = Some(r);
    dispatch
}
