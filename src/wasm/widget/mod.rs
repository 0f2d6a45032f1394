//! `mountWidget`: the terminal's screens, in Chinese or English, for a counter (full soft
//! POS) or a storefront checkout.
//!
//! The widget renders HTML from its state into the element it is given and listens on that
//! element only (event delegation through `data-action`), so it needs no framework and
//! leaves the page alone. Every rule is the core's: the widget asks, shows the answer, and
//! shows each refusal's reason in the operator's language.
//!
//! Its rooms: `text` (every word, zh and en), `render` (state → HTML), `records` (the HTML of
//! what the terminal recorded: journal, totals, receipt, settlement slip), `paper` (what is
//! printed: slips and reports, R21), `history` (the settled batches, R21), `events` (what a
//! click, a key or a form does), `refund` (R7's search), `preauth` (R20's tab), `query` (R21's
//! transaction query) and `storefront` (R23's checkout).

mod answer;
mod events;
mod history;
mod keys;
mod paper;
mod preauth;
mod query;
mod records;
mod refund;
mod render;
mod storefront;
mod text;

use super::driver::Inner;
use super::js::{amount_field, js_error, string_field};
use crate::error::{Error, ErrorCode};
use crate::terminal::money::Amount;
use crate::terminal::{SettlementResult, TxResult};
use render::{esc, render};
use std::cell::RefCell;
use std::rc::Rc;
use text::{error_text, tr, Locale, T};
use wasm_bindgen::prelude::*;
use web_sys::{Event, HtmlElement};

#[derive(Clone, PartialEq, Eq)]
enum Mode {
    Counter,
    Checkout { amount: i64, reference: String },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Sale,
    Journal,
    Refund,
    /// R20: pre-authorisation, its release, completion and completion void.
    PreAuth,
    /// R21: the transaction query [查询], over the open batch and the host's history.
    Query,
    Totals,
}

/// A message for the operator: a refusal, or news.
struct Notice {
    error: bool,
    text: String,
}

impl Notice {
    /// News: what the terminal did.
    fn news(text: impl Into<String>) -> Option<Notice> {
        Some(Notice {
            error: false,
            text: text.into(),
        })
    }

    /// A refusal, as an alert.
    fn refusal(text: String) -> Option<Notice> {
        Some(Notice { error: true, text })
    }
}

/// The widget's own state: where the operator is, and the terminal it drives.
struct Ui {
    root: HtmlElement,
    term: Rc<RefCell<Inner>>,
    locale: Locale,
    mode: Mode,
    tab: Tab,
    /// The amount typed on the keypad, as minor units.
    digits: String,
    notice: Option<Notice>,
    result: Option<TxResult>,
    slip: Option<SettlementResult>,
    /// The journal line asking for the supervisor password.
    void_trace: Option<u32>,
    /// The operation in flight, for the in-progress screen and for the words of its answer.
    running: Option<Running>,
    /// A sale above the terminal's confirmation threshold, held until the operator confirms.
    held: Option<Held>,
    /// The sale a refund gives back to, picked from the journal or the host's history.
    picked: Option<Sold>,
    /// What the refund tab's search found.
    found: Option<Found>,
    /// What is to be printed (R21), hidden on screen.
    paper: Option<paper::Paper>,
    /// The printer's paper.
    paper_size: paper::Size,
    /// The host's settled batches, once read: `None` while not; its refusal in words.
    history: Option<Result<Vec<crate::protocol::SettledBatch>, String>>,
    /// Which form the pre-authorisation tab shows (R20).
    preauth_op: preauth::PreAuthOp,
    handlers: Vec<(&'static str, Handler)>,
    /// Keys typed while nothing in the page has focus (counter only).
    page_keys: Option<Handler>,
    unsubscribe: Option<js_sys::Function>,
}

type Handler = Closure<dyn FnMut(Event)>;

/// The operation in flight.
struct Running {
    /// What the in-progress screen calls it.
    doing: T,
    /// Reversals queued before it began: one more after it means it was lost and is reversed.
    reversals_before: usize,
    /// Whether a supervisor password was typed, for the words of `SUPERVISOR_REQUIRED`.
    supervisor_typed: bool,
}

/// A sale waiting for the operator's confirmation of its amount.
struct Held {
    amount: i64,
    command: crate::terminal::Command,
}

/// A sale a refund may name.
#[derive(Clone)]
struct Sold {
    rrn: String,
    trace_no: u32,
    batch_no: u32,
    amount: i64,
    /// What is left to refund, when known.
    refundable: Option<i64>,
    masked_pan: String,
    at: String,
    /// Voided (the host's history lists voided sales too).
    voided: bool,
}

/// The refund tab's and the query tab's search: the open batch's sales that match are read from the journal at
/// each rendering; the host's history (the merchant's earlier batches) when it answers.
#[derive(Default)]
struct Found {
    query: String,
    /// `None` while the host has not answered; its refusal in the operator's words.
    history: Option<Result<Vec<Sold>, String>>,
}

/// What `mountWidget` returns.
#[wasm_bindgen]
pub struct WidgetHandle {
    ui: Option<Rc<RefCell<Ui>>>,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Removes the widget from its element and stops listening.
    pub fn unmount(&mut self) {
        let Some(ui) = self.ui.take() else {
            return;
        };
        let mut ui = ui.borrow_mut();
        let root = ui.root.clone();
        for (kind, handler) in ui.handlers.drain(..) {
            let _ =
                root.remove_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
        }
        if let (Some(handler), Some(document)) = (ui.page_keys.take(), root.owner_document()) {
            let _ = document
                .remove_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        }
        if let Some(f) = ui.unsubscribe.take() {
            let _ = f.call0(&JsValue::NULL);
        }
        ui.root.set_inner_html("");
    }
}

/// Mounts the terminal's screens into `el`. `opts`: `{locale?: "zh-CN" | "en", mode?:
/// "counter" | "checkout", amount?: number, reference?: string, paper?: "58mm" | "80mm" |
/// "a4"}`; `paper` is the printer's, for slips and reports (R21; default 80 mm); checkout mode takes the
/// amount (minor units) and reference from the cart and dispatches a `softpos-result`
/// event (detail: the `TxResult`) on `el` when the payment is answered.
#[wasm_bindgen(js_name = mountWidget)]
pub fn mount_widget(
    el: HtmlElement,
    terminal: &super::api::Terminal,
    #[wasm_bindgen(
        unchecked_param_type = "{ locale?: \"zh-CN\" | \"en\"; mode?: \"counter\" | \"checkout\"; amount?: number; reference?: string; paper?: \"58mm\" | \"80mm\" | \"a4\" }"
    )]
    opts: JsValue,
) -> Result<WidgetHandle, JsValue> {
    let locale = locale_of(&opts);
    let mode = mode_of(&opts)?;
    let ui = Rc::new(RefCell::new(Ui {
        root: el.clone(),
        term: terminal.inner.clone(),
        locale,
        mode,
        tab: Tab::Sale,
        digits: String::new(),
        notice: None,
        result: None,
        slip: None,
        void_trace: None,
        running: None,
        held: None,
        picked: None,
        found: None,
        paper: None,
        paper_size: paper::Size::parse(string_field(&opts, "paper").as_deref()),
        history: None,
        preauth_op: preauth::PreAuthOp::Hold,
        handlers: Vec::new(),
        page_keys: None,
        unsubscribe: None,
    }));
    let weak = Rc::downgrade(&ui);
    let mut handlers = Vec::new();
    for kind in ["click", "submit", "input", "keydown"] {
        let weak = weak.clone();
        let handler = Closure::<dyn FnMut(Event)>::new(move |e: Event| events::on_event(&weak, e));
        el.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref())?;
        handlers.push((kind, handler));
    }
    let page_keys = listen_to_page(&ui, &el)?;
    // Re-render on the terminal's own events too (idle sign-off, another caller's sale).
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
        if let Some(ui) = weak.upgrade() {
            render(&ui);
        }
    })
    .into_js_value();
    let unsubscribe = terminal.subscribe(listener.unchecked_into());
    {
        let mut u = ui.borrow_mut();
        u.handlers = handlers;
        u.page_keys = page_keys;
        u.unsubscribe = unsubscribe.dyn_into().ok();
    }
    render(&ui);
    // At the counter the widget is the page: the cashier types at once. A storefront's page
    // keeps its own focus.
    if matches!(ui.borrow().mode, Mode::Counter) {
        keys::focus_amount(&ui);
    }
    Ok(WidgetHandle { ui: Some(ui) })
}

/// At the counter the page is the terminal: digits typed with nothing focused are the amount.
fn listen_to_page(ui: &Rc<RefCell<Ui>>, el: &HtmlElement) -> Result<Option<Handler>, JsValue> {
    let (Mode::Counter, Some(document)) = (&ui.borrow().mode, el.owner_document()) else {
        return Ok(None);
    };
    let weak = Rc::downgrade(ui);
    let handler = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        if let Some(ui) = weak.upgrade() {
            keys::on_page(&ui, &e);
        }
    });
    document.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref())?;
    Ok(Some(handler))
}

/// Checkout mode takes the cart's amount and reference; anything else is the counter.
fn mode_of(opts: &JsValue) -> Result<Mode, JsValue> {
    Ok(match string_field(opts, "mode").as_deref() {
        Some("checkout") => {
            let amount = amount_field(opts, "amount")
                .and_then(Amount::new)
                .map_err(|e| js_error(&e))?;
            Mode::Checkout {
                amount: amount.get(),
                reference: string_field(opts, "reference").unwrap_or_default(),
            }
        }
        _ => Mode::Counter,
    })
}

fn locale_of(opts: &JsValue) -> Locale {
    Locale::parse(string_field(opts, "locale").as_deref())
}

/// Shows, in the widget's place and language, why `Terminal.open` rejected (`error`), so the
/// operator or shopper reads a reason instead of an empty box. `opts` as for `mountWidget`
/// (only `locale` is read). The most common case is `BUSY`: the terminal is open in another
/// tab (its Web Lock), where it must be closed first.
#[wasm_bindgen(js_name = mountWidgetError)]
pub fn mount_widget_error(
    el: HtmlElement,
    #[wasm_bindgen(unchecked_param_type = "Error")] error: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ locale?: \"zh-CN\" | \"en\" }")] opts: JsValue,
) {
    let locale = locale_of(&opts);
    let message = string_field(&error, "message").unwrap_or_default();
    let code = string_field(&error, "code");
    let text = match code.as_deref().and_then(ErrorCode::parse) {
        // At open, BUSY can only come from the Web Lock; the table's BUSY text speaks of an
        // operation in progress, which would send the operator waiting for nothing.
        Some(ErrorCode::Busy) => tr(locale, T::open_elsewhere).to_owned(),
        Some(code) => error_text(locale, &Error { code, message }),
        None => message,
    };
    el.set_inner_html(&format!(
        r#"<div class="sp" lang="{}"><p class="sp-error" role="alert" data-testid="open-error">{}</p></div>"#,
        locale.lang(),
        esc(&text)
    ));
}
