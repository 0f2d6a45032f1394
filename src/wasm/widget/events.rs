//! What the operator's clicks, keys and forms do: one listener per kind of event on the
//! widget's root, dispatched by the `data-action` of the element (event delegation). A form
//! becomes a command for the terminal; its answer (src/wasm/widget/answer.rs) becomes a notice
//! and the next screen.

use super::answer::show;
use super::keys::{focus_amount, keypad, on_key};
use super::paper::Paper;
use super::render::{keypad_amount, render};
use super::text::{scheme_name, tr, T};
use super::{Held, Mode, Notice, Running, Tab, Ui};
use crate::error::{Error, ErrorCode};
use crate::terminal::card::{Expiry, Pan, Scheme};
use crate::terminal::time::UtcOffset;
use crate::terminal::Command;
use crate::wasm::driver::start;
use crate::wasm::scope::now;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement};

pub(super) fn input_value(form: &Element, name: &str) -> String {
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
        "keydown" => on_key(&ui, &e, &target),
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
                let text = match pan.scheme() {
                    Scheme::Other => tr(locale, T::card_ok).to_owned(),
                    s => format!("{} · {}", tr(locale, T::card_ok), scheme_name(locale, s)),
                };
                (true, text)
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

/// Shows `tab` afresh: an amount, a pick, an answer or a print meant for one purpose never
/// carries over to another.
pub(super) fn open_tab(u: &mut Ui, tab: Tab) {
    u.tab = tab;
    u.digits.clear();
    u.picked = None;
    u.result = None;
    u.slip = None;
    u.notice = None;
    u.paper = None;
}

fn click(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    match action {
        "key" => return keypad(ui, arg),
        "tab" => {
            let mut u = ui.borrow_mut();
            open_tab(
                &mut u,
                match arg {
                    "journal" => Tab::Journal,
                    "refund" => Tab::Refund,
                    "preauth" => Tab::PreAuth,
                    "query" => Tab::Query,
                    "totals" => Tab::Totals,
                    _ => Tab::Sale,
                },
            );
            if u.tab == Tab::Totals {
                drop(u);
                super::history::fetch(ui);
            }
        }
        "ask-void" => {
            let mut u = ui.borrow_mut();
            u.void_trace = arg.parse().ok();
            u.notice = None;
        }
        "cancel-void" => ui.borrow_mut().void_trace = None,
        "retry" | "dismiss" => {
            let mut u = ui.borrow_mut();
            u.result = None;
            u.slip = None;
            u.notice = None;
        }
        "confirm-held" => return confirm_held(ui),
        "cancel-held" => return cancel_held(ui),
        "pick" | "unpick" | "refund-from" => return super::refund::click(ui, action, arg),
        "preauth-op" => return super::preauth::click(ui, arg),
        "q-void" | "q-cvoid" | "q-refund" | "q-complete" | "q-reprint" => {
            return super::query::click(ui, action, arg)
        }
        "print" => return print(ui, arg),
        "settle" => return run(ui, Ok(Command::Settle), T::settle),
        "sign-off" => return run(ui, Ok(Command::SignOff { settle: true }), T::sign_off),
        _ => return,
    }
    render(ui);
    focus(ui, action, arg);
}

/// After a re-render, focus what the operator was working on.
pub(super) fn focus(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str) {
    let root = ui.borrow().root.clone();
    let selector = match action {
        "ask-void" => "[data-testid=\"void-supervisor\"]".to_owned(),
        "tab" => format!("[data-arg=\"{arg}\"]"),
        "retry" | "dismiss" | "cancel-held" => return focus_amount(ui),
        _ => return,
    };
    if let Ok(Some(el)) = root.query_selector(&selector) {
        if let Ok(el) = el.dyn_into::<HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// R21: puts the paper asked for in place (hidden on screen) and opens the print dialog:
/// `tx` the last answer's slip, `x` the X report, `slip` the settlement slip shown, `l…`/`h…`
/// a settled batch of the history (src/wasm/widget/history.rs).
fn print(ui: &Rc<RefCell<Ui>>, arg: &str) {
    {
        let mut u = ui.borrow_mut();
        let paper = {
            let Ok(term) = u.term.try_borrow() else {
                return;
            };
            let m = &term.machine;
            match arg {
                "tx" => u
                    .result
                    .as_ref()
                    .and_then(|r| m.slip(Some(r.trace_no)))
                    .map(|s| Paper::Tx(Box::new(s), false)),
                "x" => Some(Paper::XReport(now().local(m.utc_offset()).date_time())),
                "slip" => u
                    .slip
                    .clone()
                    .map(|s| Paper::Settlement(Box::new(s), false)),
                _ => super::history::reprint(&u, m, arg),
            }
        };
        u.paper = paper;
    }
    print_now(ui);
}

/// Renders the paper in place and opens the browser's print dialog.
fn print_now(ui: &Rc<RefCell<Ui>>) {
    render(ui);
    if ui.borrow().paper.is_some() {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    }
}

/// R21: reprint [重打印] the open batch's slip of this trace number, or its last one.
pub(super) fn reprint(ui: &Rc<RefCell<Ui>>, trace: &str) {
    {
        let mut u = ui.borrow_mut();
        let trace = trace.trim();
        let slip = match u.term.try_borrow() {
            Ok(t) if trace.is_empty() => t.machine.slip(None),
            Ok(t) => trace.parse().ok().and_then(|n| t.machine.slip(Some(n))),
            Err(_) => return,
        };
        u.paper = slip.map(|s| Paper::Tx(Box::new(s), true));
        u.notice = if u.paper.is_some() {
            None
        } else {
            Notice::refusal(tr(u.locale, T::no_slip).to_owned())
        };
    }
    print_now(ui);
}

fn submit(ui: &Rc<RefCell<Ui>>, action: &str, arg: &str, form: &Element) {
    if action == "find" {
        let focus = ["[data-action=\"pick\"]", "[data-testid=\"find-query\"]"];
        return super::refund::find(ui, &input_value(form, "q"), &focus);
    }
    if action == "query" {
        return super::query::find(ui, &input_value(form, "q"));
    }
    if action == "reprint" {
        return reprint(ui, &input_value(form, "trace"));
    }
    let command = command_of(&ui.borrow(), action, arg, form);
    let Some((command, doing)) = command else {
        return;
    };
    // A sale above the terminal's threshold waits for the operator to confirm its amount.
    if let Ok(Command::Sale { amount, .. }) = &command {
        let amount = *amount;
        if action == "sale" && amount > confirm_above(&ui.borrow()) {
            if let Ok(command) = command {
                let mut u = ui.borrow_mut();
                u.held = Some(Held { amount, command });
                // The last customer's news is not this one's.
                u.notice = None;
            }
            render(ui);
            return super::keys::focus_first(ui, &["[data-action=\"confirm-held\"]"]);
        }
    }
    let typed = !input_value(form, "supervisor").is_empty();
    run_with(ui, command, doing, typed);
}

/// Above this many minor units a sale asks the operator to confirm its amount.
fn confirm_above(u: &Ui) -> i64 {
    u.term.try_borrow().map_or(0, |t| t.machine.confirm_above())
}

fn confirm_held(ui: &Rc<RefCell<Ui>>) {
    let held = ui.borrow_mut().held.take();
    if let Some(held) = held {
        run(ui, Ok(held.command), T::sale);
    }
}

/// The operator did not confirm: the amount and the card go, nothing was sent.
pub(super) fn cancel_held(ui: &Rc<RefCell<Ui>>) {
    {
        let mut u = ui.borrow_mut();
        u.held = None;
        u.digits.clear();
    }
    render(ui);
    focus_amount(ui);
}

/// The command a form asks for, and what the in-progress screen calls it.
fn command_of(
    u: &Ui,
    action: &str,
    arg: &str,
    form: &Element,
) -> Option<(Result<Command, Error>, T)> {
    let value = |name: &str| input_value(form, name);
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
                reference: None,
            }),
            T::sale,
        ),
        "pay" => {
            let Mode::Checkout { amount, reference } = &u.mode else {
                return None;
            };
            (
                Ok(Command::Sale {
                    amount: *amount,
                    pan: value("pan"),
                    expiry: value("expiry"),
                    // The cart's order number goes to the host with the sale (R23).
                    reference: (!reference.is_empty()).then(|| reference.clone()),
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
        "refund" => (super::refund::command(u, &value("supervisor")), T::refund),
        _ => return super::preauth::command(u, action, form),
    })
}

/// Runs an operation with no supervisor password typed.
pub(super) fn run(ui: &Rc<RefCell<Ui>>, command: Result<Command, Error>, doing: T) {
    run_with(ui, command, doing, false);
}

/// Runs an operation: refusals show at once; otherwise the in-progress screen, then the
/// answer. No borrow of the widget is held while the terminal runs (it calls back).
fn run_with(
    ui: &Rc<RefCell<Ui>>,
    command: Result<Command, Error>,
    doing: T,
    supervisor_typed: bool,
) {
    let term = {
        let mut u = ui.borrow_mut();
        let reversals_before = u
            .term
            .try_borrow()
            .map_or(0, |t| t.machine.pending_reversals());
        u.running = Some(Running {
            doing,
            reversals_before,
            supervisor_typed,
        });
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
