//! The keyboard at the counter: digits typed anywhere on the sale or refund tab go to the
//! amount, Backspace takes one off, Esc starts over, the keypad is one tab stop whose keys the
//! arrows walk, the focus follows typed digits to the amount, and Enter on the amount moves on
//! to what is asked next.

use super::render::keypad_amount;
use super::{Tab, Ui};
use crate::terminal::money::Currency;
use crate::terminal::State;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlElement, KeyboardEvent};

/// The most digits an amount may have: 99 999 999 999 minor units (R3; the core checks too).
const MAX_DIGITS: usize = 11;

/// A key pressed inside the widget, or on the bare page of the counter (`on_page`).
pub(super) fn on_key(ui: &Rc<RefCell<Ui>>, e: &Event, target: &Element) {
    let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    if key.ctrl_key() || key.meta_key() || key.alt_key() {
        return;
    }
    let key = key.key();
    if ui.borrow().held.is_some() {
        if key == "Escape" {
            e.prevent_default();
            super::events::cancel_held(ui);
        }
        return;
    }
    if target.closest(".sp-keypad").ok().flatten().is_some() && walk_keypad(target, &key) {
        e.prevent_default();
        return;
    }
    if !keypad_shown(ui) {
        return;
    }
    let typing = is_text_field(target);
    match key.as_str() {
        "Escape" => {
            e.prevent_default();
            start_over(ui);
        }
        "Enter" if target.class_list().contains("sp-amount") => {
            e.prevent_default();
            focus_first(ui, &["[name=\"pan\"]", "[name=\"supervisor\"]"]);
        }
        "Backspace" | "Delete" if !typing => {
            e.prevent_default();
            keypad(ui, "⌫");
        }
        k if !typing && k.len() == 1 && k.as_bytes()[0].is_ascii_digit() => {
            e.prevent_default();
            keypad(ui, k);
            // The focus follows the digits to the amount (from a tab, a button, the bare page),
            // so the Enter after them moves on to the card rather than pressing that button.
            if !target.class_list().contains("sp-amount")
                && target.closest(".sp-keypad").ok().flatten().is_none()
            {
                focus_first(ui, &[".sp-amount"]);
            }
        }
        _ => {}
    }
}

/// A key pressed while nothing on the page has focus: the counter page is the widget, so the
/// cashier's digits are for the amount wherever the pointer last was.
pub(super) fn on_page(ui: &Rc<RefCell<Ui>>, e: &Event) {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    let root = ui.borrow().root.clone();
    if root.contains(Some(&target)) {
        // The widget's own listener has it.
        return;
    }
    let tag = target.tag_name();
    if tag == "BODY" || tag == "HTML" || tag == "MAIN" {
        on_key(ui, e, &target);
    }
}

/// Whether the amount keypad is on screen: signed in, on the sale or refund tab, or a
/// pre-authorisation form with an amount.
fn keypad_shown(ui: &Rc<RefCell<Ui>>) -> bool {
    let u = ui.borrow();
    let signed_in = u
        .term
        .try_borrow()
        .is_ok_and(|t| t.machine.state() == State::SignedIn);
    signed_in
        && matches!(u.mode, super::Mode::Counter)
        && (u.tab == Tab::Sale
            || (u.tab == Tab::Refund && u.picked.is_some())
            || (u.tab == Tab::PreAuth && u.preauth_op.has_amount()))
}

fn is_text_field(target: &Element) -> bool {
    matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || target.has_attribute("contenteditable")
}

/// Moves focus inside the keypad (one tab stop, arrow keys inside); true when the key was one
/// of the keypad's own.
fn walk_keypad(target: &Element, key: &str) -> bool {
    let Some(pad) = target.closest(".sp-keypad").ok().flatten() else {
        return false;
    };
    let mut keys: Vec<Element> = Vec::new();
    let mut next = pad.first_element_child();
    while let Some(key) = next {
        next = key.next_element_sibling();
        keys.push(key);
    }
    let count = keys.len();
    let Some(here) = keys.iter().position(|k| k == target) else {
        return false;
    };
    let next = match key {
        "ArrowRight" => (here + 1).min(count - 1),
        "ArrowLeft" => here.saturating_sub(1),
        "ArrowDown" if here + 3 < count => here + 3,
        "ArrowUp" => here.checked_sub(3).unwrap_or(here),
        "ArrowDown" => here,
        "Home" => 0,
        "End" => count - 1,
        _ => return false,
    };
    if let (Some(from), Some(to)) = (keys.get(here), keys.get(next).cloned()) {
        let _ = from.set_attribute("tabindex", "-1");
        let _ = to.set_attribute("tabindex", "0");
        if let Ok(to) = to.dyn_into::<HtmlElement>() {
            let _ = to.focus();
        }
    }
    true
}

/// Esc: the amount, the card and a picked refund go, and the cashier starts over.
fn start_over(ui: &Rc<RefCell<Ui>>) {
    {
        let mut u = ui.borrow_mut();
        u.digits.clear();
        u.notice = None;
        u.result = None;
        u.slip = None;
        u.picked = None;
    }
    super::render::render(ui);
    focus_amount(ui);
}

/// One key of the keypad, typed or clicked: the amount is updated in place (no re-render, so
/// the card fields keep what is typed in them).
pub(super) fn keypad(ui: &Rc<RefCell<Ui>>, key: &str) {
    let (text, root, answered) = {
        let mut u = ui.borrow_mut();
        // The next customer's first key puts the last answer away.
        let answered = u.result.take().is_some() | u.slip.take().is_some();
        match key {
            "⌫" => {
                u.digits.pop();
            }
            // Leading zeros add nothing.
            _ if u.digits.len() + key.len() <= MAX_DIGITS
                && !(u.digits.is_empty() && key.starts_with('0')) =>
            {
                u.digits.push_str(key);
            }
            _ => {}
        }
        let currency = u
            .term
            .try_borrow()
            .ok()
            .and_then(|t| t.machine.currency())
            .unwrap_or(Currency::Cny);
        (currency.format(keypad_amount(&u)), u.root.clone(), answered)
    };
    if answered {
        // Taken out of the page rather than re-rendered: the card fields keep what is typed.
        for selector in ["[data-testid=\"result\"]", "[data-testid=\"slip\"]"] {
            if let Ok(Some(el)) = root.query_selector(selector) {
                el.remove();
            }
        }
    }
    for selector in [".sp-amount", "[data-charge]"] {
        if let Ok(Some(el)) = root.query_selector(selector) {
            el.set_text_content(Some(&text));
        }
    }
}

/// Focus on where the cashier goes on: the amount, where the next customer's sale starts, or
/// else the first field of the screen (the card, the refund's search, activation, sign-in).
pub(super) fn focus_amount(ui: &Rc<RefCell<Ui>>) {
    focus_first(
        ui,
        &[
            ".sp-amount",
            "[name=\"pan\"]",
            "[name=\"q\"]",
            "[name=\"code\"]",
            "[name=\"operator\"]",
        ],
    );
}

/// Focuses the first of `selectors` that is on screen.
pub(super) fn focus_first(ui: &Rc<RefCell<Ui>>, selectors: &[&str]) {
    let root = ui.borrow().root.clone();
    for selector in selectors {
        if let Ok(Some(el)) = root.query_selector(selector) {
            if let Ok(el) = el.dyn_into::<HtmlElement>() {
                let _ = el.focus();
                return;
            }
        }
    }
}
